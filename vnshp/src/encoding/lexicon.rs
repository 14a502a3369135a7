//! The most common Vietnamese syllables in DBF attributes: frequent words of
//! the language, personal names, administrative, cadastral and land-use
//! vocabulary, place names. Only syllables with a non-ASCII letter are
//! listed (lower case, NFC, both tone placements where they differ: `hòa`
//! and `hoà`). The detector uses it to break ties between decodings that
//! both read as valid syllables (TCVN3 `Lý` vs cp1258 `Lư` from the same
//! bytes); it decides nothing when the structure of syllables already does.

/// Sorted by bytes, so that [`is_common`] can binary-search.
#[rustfmt::skip]
const COMMON: [&str; 486] = [
    "biên", "biến", "biết", "biển", "buôn", "bà", "bác", "bái", "bãi", "bè", "bên", "bình", "bích",
    "bông", "bùi", "bưu", "bạc", "bản", "bảo", "bảy", "bắc", "bằng", "bến", "bệnh", "bị", "bốn",
    "bộ", "bớt", "bởi", "chiến", "chuyên", "chuyển", "cháu", "châu", "chè", "chí", "chính", "chú",
    "chúng", "chăn", "chơi", "chưa", "chấp", "chậm", "chỉ", "chị", "chợ", "chủ", "chứng", "cà",
    "các", "cái", "cây", "còn", "có", "cô", "công", "cùng", "cúc", "cũ", "cũng", "cơ", "cường",
    "cạnh", "cả", "cảng", "cấp", "cần", "cầu", "cỏ", "cống", "cộng", "cụ", "củ", "của", "diện",
    "diệp", "dài", "dân", "dùng", "dũng", "dương", "dưới", "dịch", "dục", "dụng", "dừa", "dựng",
    "giáo", "giả", "giải", "giấy", "giới", "giữa", "gì", "gò", "gòn", "gạo", "gần", "hiếu", "hiền",
    "hiển", "hiệp", "hoà", "hoài", "hoàn", "hoàng", "hoá", "hoạt", "hoặc", "huyện", "huế", "huệ",
    "huỳnh", "hà", "hàng", "hòa", "hóa", "hùng", "hơn", "hưng", "hương", "hường", "hạ", "hạn",
    "hạnh", "hải", "hậu", "hằng", "hẻm", "hết", "họ", "học", "hồ", "hồi", "hồng", "hộ", "hội",
    "hợp", "hữu", "khác", "khánh", "khóm", "khôi", "không", "khải", "khối", "kiên", "kiếm", "kiều",
    "kiệt", "kè", "kênh", "kế", "kỹ", "liên", "liêu", "loại", "luân", "là", "làm", "làng", "lào",
    "lâm", "lâu", "lê", "lên", "lô", "lúa", "lý", "lưu", "lương", "lượng", "lượt", "lạch", "lại",
    "lạng", "lần", "lắk", "lễ", "lịch", "lộc", "lớn", "lợi", "lực", "muối", "muốn", "mà", "màu",
    "mía", "môi", "mương", "mạc", "mại", "mạnh", "mầm", "mẫn", "mặt", "mến", "mốc", "mỗi", "một",
    "mới", "mục", "mỹ", "nghiệp", "nghĩa", "nghệ", "ngoài", "nguyên", "nguyễn", "nguyệt", "ngành",
    "ngày", "ngách", "ngân", "ngãi", "ngòi", "ngô", "ngõ", "người", "ngưỡng", "ngọc", "nhiều",
    "nhà", "nhàn", "nhân", "như", "nhượng", "nhận", "nhật", "nhỏ", "những", "nuôi", "nào", "này",
    "nên", "nói", "nông", "núi", "năm", "năng", "nước", "nẵng", "nếu", "nội", "nữa", "phá", "phát",
    "phê", "phòng", "phùng", "phú", "phúc", "phương", "phường", "phượng", "phạm", "phải", "phần",
    "phố", "phụ", "phủ", "pắc", "quyết", "quyền", "quách", "quân", "quý", "quả", "quảng", "quận",
    "quốc", "riêng", "ruộng", "rạch", "rất", "rịa", "rộng", "rừng", "siêu", "suối", "sài", "sáu",
    "sân", "sóc", "sông", "sơ", "sơn", "sương", "sạch", "sản", "sẽ", "số", "sở", "sử", "sự",
    "thiện", "thuê", "thuý", "thuận", "thuật", "thuỷ", "thành", "thái", "tháp", "thêm", "thì",
    "thôn", "thông", "thúy", "thơ", "thương", "thượng", "thảo", "thấp", "thấy", "thật", "thắm",
    "thắng", "thế", "thể", "thị", "thịnh", "thủy", "thừa", "thửa", "tiên", "tiêu", "tiến", "tiền",
    "tiểu", "toàn", "toạ", "toản", "triển", "triệu", "trà", "trâm", "trên", "trí", "trúc", "trăng",
    "trương", "trước", "trường", "trưởng", "trạm", "trấn", "trần", "trị", "trịnh", "trọng",
    "trồng", "trụ", "tuyên", "tuyết", "tuấn", "tài", "tàu", "tác", "tám", "tâm", "tân", "tây",
    "tình", "tích", "tín", "tô", "tôi", "tôn", "tùng", "tú", "tăng", "tĩnh", "tư", "tường", "tạ",
    "tại", "tạo", "tải", "tấn", "tất", "tặng", "tế", "tỉnh", "tọa", "tốt", "tổ", "tộc", "tờ", "từ",
    "uyên", "uỷ", "viên", "viễn", "việc", "viện", "việt", "và", "vào", "vân", "vì", "võ", "văn",
    "vĩ", "vĩnh", "vũ", "vũng", "vương", "vườn", "vạn", "vẫn", "vận", "về", "với", "vụ", "vừa",
    "xuyến", "xuân", "xuất", "xuống", "xây", "xã", "xóm", "xấu", "yên", "yến", "ánh", "ông", "ý",
    "ăn", "đang", "đi", "đinh", "điều", "điện", "điệp", "đo", "đoàn", "đà", "đàm", "đào", "đá",
    "đây", "đã", "đê", "đích", "đó", "đô", "đông", "đúng", "đường", "được", "đạc", "đại", "đạt",
    "đảng", "đảo", "đất", "đầm", "đập", "đắk", "đẳng", "đặc", "đặng", "đẹp", "đến", "đều", "để",
    "địa", "định", "đồ", "đồi", "đồng", "đỗ", "độ", "đội", "động", "đức", "ước", "ấn", "ấp", "ấy",
    "ở", "ủy",
];

/// Whether `word` (lower case, NFC) is one of the common syllables.
pub(crate) fn is_common(word: &str) -> bool {
    COMMON.binary_search(&word).is_ok()
}

#[cfg(test)]
mod tests {
    use super::super::syllable;
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    #[test]
    fn sorted_lower_case_nfc_and_valid_syllables() {
        assert!(COMMON.windows(2).all(|w| w[0] < w[1]));
        for w in COMMON {
            assert_eq!(w.nfc().collect::<String>(), w);
            assert_eq!(w.to_lowercase(), w);
            assert!(!w.is_ascii(), "{w}");
        }
        let invalid: Vec<&str> = COMMON
            .into_iter()
            .filter(|w| !syllable::is_valid(w))
            .collect();
        assert!(invalid.is_empty(), "{invalid:?}");
        assert!(is_common("nguyễn") && is_common("đất") && !is_common("vón"));
    }
}
