-- National land-use codes (Thông tư 08/2024/TT-BTNMT and earlier lists) with the
-- legend colours used on land-use planning maps; styles/ and reports read them.
CREATE TABLE IF NOT EXISTS geokho.land_use_codes (
    code     text PRIMARY KEY,
    name_vi  text NOT NULL,
    name_en  text NOT NULL,
    grp      text NOT NULL CHECK (grp IN ('nong_nghiep', 'phi_nong_nghiep', 'chua_su_dung')),
    color    text NOT NULL CHECK (color ~ '^#[0-9a-f]{6}$')
);

INSERT INTO geokho.land_use_codes (code, name_vi, name_en, grp, color) VALUES
 ('LUC', 'Đất chuyên trồng lúa nước', 'Paddy rice land', 'nong_nghiep', '#fcfc64'),
 ('LUK', 'Đất trồng lúa nước còn lại', 'Other paddy land', 'nong_nghiep', '#fcfc96'),
 ('HNK', 'Đất trồng cây hằng năm khác', 'Other annual crops', 'nong_nghiep', '#fff0b4'),
 ('CLN', 'Đất trồng cây lâu năm', 'Perennial crops', 'nong_nghiep', '#ffd2a0'),
 ('RSX', 'Đất rừng sản xuất', 'Production forest', 'nong_nghiep', '#b4ffb4'),
 ('RPH', 'Đất rừng phòng hộ', 'Protection forest', 'nong_nghiep', '#be96ff'),
 ('NTS', 'Đất nuôi trồng thủy sản', 'Aquaculture', 'nong_nghiep', '#aaffff'),
 ('ONT', 'Đất ở tại nông thôn', 'Rural residential', 'phi_nong_nghiep', '#ffd0ff'),
 ('ODT', 'Đất ở tại đô thị', 'Urban residential', 'phi_nong_nghiep', '#ffa0ff'),
 ('TSC', 'Đất xây dựng trụ sở cơ quan', 'Agency offices', 'phi_nong_nghiep', '#ff64b4'),
 ('DGD', 'Đất xây dựng cơ sở giáo dục và đào tạo', 'Schools', 'phi_nong_nghiep', '#ffa0aa'),
 ('DYT', 'Đất xây dựng cơ sở y tế', 'Health facilities', 'phi_nong_nghiep', '#ffa0aa'),
 ('SKK', 'Đất khu công nghiệp', 'Industrial zones', 'phi_nong_nghiep', '#fa0aaa'),
 ('SKC', 'Đất cơ sở sản xuất phi nông nghiệp', 'Industrial/business land', 'phi_nong_nghiep', '#fa3ca0'),
 ('TMD', 'Đất thương mại, dịch vụ', 'Commercial and services', 'phi_nong_nghiep', '#fa80a0'),
 ('DGT', 'Đất giao thông', 'Transport', 'phi_nong_nghiep', '#ffaa32'),
 ('DTL', 'Đất công trình thủy lợi', 'Irrigation works', 'phi_nong_nghiep', '#aaffff'),
 ('SON', 'Đất sông, ngòi, kênh, rạch, suối', 'Rivers and canals', 'phi_nong_nghiep', '#a0ffff'),
 ('MNC', 'Đất có mặt nước chuyên dùng', 'Special-use water surface', 'phi_nong_nghiep', '#b4ffff'),
 ('NTD', 'Đất nghĩa trang, nhà tang lễ, cơ sở hỏa táng', 'Cemeteries', 'phi_nong_nghiep', '#d2d2d2'),
 ('BCS', 'Đất bằng chưa sử dụng', 'Unused flat land', 'chua_su_dung', '#fffffe')
ON CONFLICT (code) DO UPDATE SET name_vi = EXCLUDED.name_vi, name_en = EXCLUDED.name_en,
    grp = EXCLUDED.grp, color = EXCLUDED.color;
