//! Vietnamese names and words for the sample province, with full diacritics.

pub const HO: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Phan", "Trương", "Bùi", "Đặng", "Đỗ", "Ngô",
    "Hồ", "Dương", "Đinh", "Lương", "Tạ", "Châu", "Lâm", "Quách",
];
pub const DEM: &[&str] = &[
    "Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Quốc", "Kim", "Thành", "Hoàng",
];
pub const TEN: &[&str] = &[
    "An", "Bình", "Cường", "Dũng", "Hạnh", "Hòa", "Hương", "Khánh", "Lộc", "Mỹ", "Nga", "Phúc",
    "Quý", "Sơn", "Tâm", "Thảo", "Tuấn", "Việt", "Xuân", "Yến", "Đức", "Ánh", "Ơn", "Út", "Lựu",
    "Nhẫn", "Thuỷ", "Trí", "Nghĩa", "Hiếu", "Ẩn", "Ưng",
];

/// Communes of the sample (names of communes around Mỹ Tho; codes illustrative).
pub const COMMUNES: &[(&str, &str, &str)] = &[
    ("28261", "Xã Đạo Thạnh", "Xã"),
    ("28264", "Xã Mỹ Phong", "Xã"),
    ("28267", "Xã Tân Mỹ Chánh", "Xã"),
    ("28270", "Xã Trung An", "Xã"),
    ("28249", "Phường 1", "Phường"),
    ("28252", "Phường 4", "Phường"),
    ("28255", "Phường 5", "Phường"),
    ("28258", "Phường 6", "Phường"),
    ("28273", "Xã Thới Sơn", "Xã"),
    ("28276", "Xã Phước Thạnh", "Xã"),
];

pub const AP: &[&str] = &[
    "Ấp Mỹ Lợi",
    "Ấp Bình Thành",
    "Ấp Tân Hòa",
    "Ấp Hội Gia",
    "Ấp Phong Thuận",
    "Ấp Đông Hòa",
    "Khu phố 3",
    "Khu phố Trung Lương",
    "Ấp Thạnh Hòa",
    "Ấp Qui Chánh",
];

pub const STREETS: &[&str] = &[
    "Đường Ấp Bắc",
    "Đường Lê Văn Phẩm",
    "Đường Nguyễn Trãi",
    "Đường Trần Hưng Đạo",
    "Đường Lý Thường Kiệt",
    "Đường Học Lạc",
    "Đường Nam Kỳ Khởi Nghĩa",
    "Đường Hùng Vương",
    "Đường Đinh Bộ Lĩnh",
    "Đường Thủ Khoa Huân",
    "Đường Trưng Trắc",
    "Đường Võ Tánh",
    "Đường Phan Thanh Giản",
    "Đường Tết Mậu Thân",
    "Đường Lê Thị Hồng Gấm",
];

pub const WAREHOUSE_TYPES: &[&str] = &[
    "Kho thường",
    "Kho lạnh",
    "Kho ngoại quan",
    "Bãi container (ICD)",
];
pub const SERVICES: &[&str] = &[
    "bốc xếp",
    "đóng gói",
    "vận chuyển",
    "bảo quản lạnh",
    "thủ tục hải quan",
    "phân phối",
    "dán nhãn",
    "kiểm đếm",
];
pub const OPERATORS: &[&str] = &[
    "Công ty TNHH Logistics Mỹ Tho",
    "Công ty CP Kho vận Tiền Giang",
    "Công ty TNHH Thủy sản Việt Phú",
    "HTX Trái cây Cái Bè",
    "Công ty CP Cảng Mỹ Tho",
    "Công ty TNHH Lạnh Đồng Bằng",
];
pub const FRUITS: &[&str] = &[
    "Vú sữa Lò Rèn",
    "Sầu riêng Ngũ Lạc",
    "Xoài cát Hòa Lộc",
    "Khóm Tân Lập",
    "Thanh long Chợ Gạo",
];
