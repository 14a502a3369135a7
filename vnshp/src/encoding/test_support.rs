//! Test data shared by the encoding tests: every Vietnamese letter, a corpus
//! of realistic DBF strings (names, addresses, land-use classes, parcel
//! notes) and a tiny pseudo-random generator (no extra crates).

use unicode_normalization::UnicodeNormalization;

/// The 12 vowels, written as base + combining modifier (decomposed).
const VOWELS: [&str; 12] = [
    "a", "a\u{306}", "a\u{302}", "e", "e\u{302}", "i", "o", "o\u{302}", "o\u{31B}", "u",
    "u\u{31B}", "y",
];

/// No tone, then grave, acute, hook above, tilde, dot below.
const TONES: [&str; 6] = ["", "\u{300}", "\u{301}", "\u{309}", "\u{303}", "\u{323}"];

/// Every non-ASCII letter of the Vietnamese alphabet: 67 lower case then
/// their 67 upper-case forms, built from Unicode composition (NFC of base +
/// combining marks) so that nothing is missed.
pub(crate) fn vietnamese_letters() -> Vec<char> {
    let mut lower = Vec::new();
    for vowel in VOWELS {
        for tone in TONES {
            let composed: String = format!("{vowel}{tone}").nfc().collect();
            let mut chars = composed.chars();
            let c = chars.next().expect("one char");
            assert_eq!(chars.next(), None, "{vowel}{tone} did not compose");
            if !c.is_ascii() {
                lower.push(c);
            }
        }
    }
    lower.push('đ');
    let upper: Vec<char> = lower
        .iter()
        .map(|c| {
            let mut u = c.to_uppercase();
            let up = u.next().expect("upper");
            assert_eq!(u.next(), None);
            up
        })
        .collect();
    lower.into_iter().chain(upper).collect()
}

/// A small linear congruential generator (Knuth's MMIX constants).
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.next_u32() as usize % n.max(1)
    }

    pub(crate) fn bytes(&mut self, max_len: usize) -> Vec<u8> {
        let len = self.below(max_len + 1);
        (0..len).map(|_| self.next_u32() as u8).collect()
    }
}

const FAMILY: [&str; 20] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trương", "Lương", "Tạ",
];
const MIDDLE: [&str; 10] = [
    "Văn", "Thị", "Đức", "Minh", "Hữu", "Ngọc", "Thanh", "Quốc", "Xuân", "Thành",
];
const GIVEN: [&str; 24] = [
    "Đức", "Hùng", "Lan", "Hương", "Tuấn", "Dũng", "Phương", "Thảo", "Nguyệt", "Quyết", "Hải",
    "Cường", "Thủy", "Hạnh", "Khánh", "Tường", "Vy", "Yến", "Toàn", "Lộc", "Tám", "Bảy", "Sáu",
    "Nở",
];
const COMMUNES: [&str; 16] = [
    "Xã Tân Mỹ Chánh",
    "Phường Bến Nghé",
    "Xã Long Bình Điền",
    "Thị trấn Chợ Gạo",
    "Xã Hòa Định",
    "Phường Điện Biên",
    "Xã Nghĩa Trung",
    "Xã Quỳnh Lâm",
    "Phường Mỹ Phước",
    "Xã Đông Hòa",
    "Xã Tân Thuận Đông",
    "Phường Cầu Kho",
    "Xã Hưng Thạnh",
    "Xã Phú Kiết",
    "Xã Vĩnh Kim",
    "Phường Trúc Bạch",
];
const DISTRICTS: [&str; 12] = [
    "huyện Chợ Gạo",
    "thành phố Mỹ Tho",
    "quận Hoàn Kiếm",
    "huyện Đông Anh",
    "huyện Quỳnh Lưu",
    "thị xã Gò Công",
    "huyện Cái Bè",
    "quận Ninh Kiều",
    "huyện Krông Pắc",
    "huyện Củ Chi",
    "quận Ba Đình",
    "huyện Nghĩa Hành",
];
const PROVINCES: [&str; 14] = [
    "tỉnh Tiền Giang",
    "Hà Nội",
    "tỉnh Nghệ An",
    "tỉnh Bắc Ninh",
    "thành phố Cần Thơ",
    "tỉnh Đắk Lắk",
    "tỉnh Thừa Thiên Huế",
    "tỉnh Bà Rịa - Vũng Tàu",
    "tỉnh Quảng Ngãi",
    "tỉnh Khánh Hòa",
    "tỉnh Lâm Đồng",
    "tỉnh Sóc Trăng",
    "thành phố Hồ Chí Minh",
    "tỉnh Thanh Hóa",
];
const LAND_USE: [&str; 32] = [
    "Đất trồng lúa",
    "Đất chuyên trồng lúa nước",
    "Đất trồng lúa nước còn lại",
    "Đất ở tại nông thôn",
    "Đất ở tại đô thị",
    "Đất trồng cây hằng năm khác",
    "Đất trồng cây lâu năm",
    "Đất nuôi trồng thủy sản",
    "Đất rừng sản xuất",
    "Đất rừng phòng hộ",
    "Đất rừng đặc dụng",
    "Đất làm muối",
    "Đất nông nghiệp khác",
    "Đất xây dựng trụ sở cơ quan",
    "Đất quốc phòng",
    "Đất an ninh",
    "Đất cơ sở sản xuất phi nông nghiệp",
    "Đất thương mại, dịch vụ",
    "Đất giao thông",
    "Đất thủy lợi",
    "Đất công trình năng lượng",
    "Đất chợ",
    "Đất cơ sở tôn giáo",
    "Đất làm nghĩa trang, nghĩa địa, nhà tang lễ",
    "Đất sông, ngòi, kênh, rạch, suối",
    "Đất có mặt nước chuyên dùng",
    "Đất bằng chưa sử dụng",
    "Đất đồi núi chưa sử dụng",
    "Núi đá không có rừng cây",
    "Đất xây dựng cơ sở giáo dục và đào tạo",
    "Đất sinh hoạt cộng đồng",
    "Đất khu vui chơi, giải trí công cộng",
];
const STREETS: [&str; 10] = [
    "Lê Lợi",
    "Nguyễn Huệ",
    "Trần Hưng Đạo",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Điện Biên Phủ",
    "Võ Thị Sáu",
    "Phan Đình Phùng",
    "Quang Trung",
    "Nguyễn Thị Minh Khai",
];
const HAMLETS: [&str; 8] = [
    "Ấp Tân Hòa",
    "Ấp Bình Phú",
    "Thôn Đông",
    "Thôn Thượng",
    "Khu phố 3",
    "Tổ dân phố số 5",
    "Xóm Mới",
    "Bản Mường",
];

/// About 330 realistic Vietnamese strings as they appear in cadastral and
/// administrative DBF attributes.
pub(crate) fn corpus() -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..120 {
        let family = FAMILY[i % FAMILY.len()];
        let middle = MIDDLE[(i * 7 + i / 20) % MIDDLE.len()];
        let given = GIVEN[(i * 11 + 3) % GIVEN.len()];
        let name = format!("{family} {middle} {given}");
        out.push(if i % 6 == 5 {
            name.to_uppercase()
        } else {
            name
        });
    }
    for i in 0..70 {
        let commune = COMMUNES[i % COMMUNES.len()];
        let district = DISTRICTS[(i * 5) % DISTRICTS.len()];
        let province = PROVINCES[(i * 3) % PROVINCES.len()];
        out.push(match i % 3 {
            0 => format!("{commune}, {district}, {province}"),
            1 => format!("{commune}, {district}"),
            _ => format!("{}, {}", HAMLETS[i % HAMLETS.len()], commune.to_lowercase()),
        });
    }
    out.extend(LAND_USE.iter().map(|s| s.to_string()));
    for i in 0..40 {
        out.push(match i % 4 {
            0 => format!("Thửa đất số {}, tờ bản đồ số {}", 100 + i * 7, 3 + i % 9),
            1 => format!("Giấy chứng nhận quyền sử dụng đất số {}", 5000 + i),
            2 => format!("Số {} đường {}", 2 + i, STREETS[i % STREETS.len()]),
            _ => format!("Chủ sử dụng: {}", STREETS[(i + 3) % STREETS.len()]),
        });
    }
    for p in PROVINCES {
        out.push(p.to_string());
    }
    out.extend(DISTRICTS.iter().map(|d| d.to_string()));
    for c in COMMUNES {
        out.push(c.to_string());
        out.push(format!("Trụ sở Ủy ban nhân dân {}", c.to_lowercase()));
    }
    out.push("Huyện Chợ Gạo, tỉnh Tiền Giang".to_string());
    out
}

/// Two-syllable phrases of less common words, none of them in the detector's
/// lexicon of common syllables: a held-out check that detection does not
/// depend on it.
pub(crate) const RARE: [&str; 64] = [
    "khúc khuỷu",
    "ngoằn ngoèo",
    "lẩm bẩm",
    "nguệch ngoạc",
    "xuềnh xoàng",
    "loằng ngoằng",
    "thuở xưa",
    "chiêm nghiệm",
    "rượu nếp",
    "khuya khoắt",
    "lởm chởm",
    "gập ghềnh",
    "khấp khểnh",
    "lủng củng",
    "bướng bỉnh",
    "nhễ nhại",
    "ướt sũng",
    "nghễnh ngãng",
    "khệnh khạng",
    "lóng ngóng",
    "bập bềnh",
    "lững thững",
    "nhõng nhẽo",
    "tủm tỉm",
    "thoăn thoắt",
    "khuềnh khoàng",
    "ngượng nghịu",
    "thướt tha",
    "trễ nải",
    "rộn ràng",
    "mượt mà",
    "dửng dưng",
    "chập chững",
    "lấp lửng",
    "rả rích",
    "tí tách",
    "lộp độp",
    "ríu rít",
    "thủ thỉ",
    "lặng lẽ",
    "vội vã",
    "nặng nề",
    "mỏng manh",
    "ngỡ ngàng",
    "bỡ ngỡ",
    "gượng gạo",
    "xôn xao",
    "náo nức",
    "bồi hồi",
    "ngẩn ngơ",
    "thẫn thờ",
    "đủng đỉnh",
    "lúng túng",
    "ấm áp",
    "êm đềm",
    "ủ rũ",
    "ỉu xìu",
    "ướt át",
    "óng ả",
    "ẻo lả",
    "bãi bồi ven sông",
    "đầm lầy ngập mặn",
    "rừng tràm",
    "nương rẫy",
];
