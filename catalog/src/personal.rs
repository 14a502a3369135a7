//! Personal data: the column names that hold a person's identity, whatever
//! the layer's kind. A column matching these rules is restricted (served
//! only with a `restricted:` scope) unless the operator publishes it by
//! name (`public_fields` / `--public-fields`).
//!
//! Agencies spell these fields many ways (`TEN_CHU`, `TENCHU`, `CHUSUDUNG1`,
//! `HO_TEN`, `SOGCN` ...): a name is compared without `_` and trailing digits.

/// Personal-data field names, without `_` (see [`is_personal`]).
pub const PERSONAL_FIELDS: &[&str] = &[
    // The holder: name, birth, identity papers, contact.
    "tenchu",
    "chusudung",
    "tenchusudung",
    "tenchusd",
    "chusd",
    "nguoisudung",
    "tennguoisudung",
    "hoten",
    "hotenchu",
    "diachichu",
    "diachithuongtru",
    "ngaysinh",
    "namsinh",
    "cmnd",
    "socmnd",
    "cmt",
    "cccd",
    "socccd",
    "sodienthoai",
    "dienthoai",
    "sdt",
    "email",
    // A person's tax code (a business's `ma_so_thue` is public record).
    "masothuecanhan",
    "mstcanhan",
    // The certificate and what burdens the land.
    "sogcn",
    "magcn",
    "sogiaycn",
    "sogiaychungnhan",
    "soseri",
    "sovaoso",
    "thechap",
    "tranhchap",
];

/// Whether a column name holds personal data, in any kind of layer.
///
/// ```
/// use catalog::is_personal;
/// assert!(is_personal("ten_chu") && is_personal("TENCHU2") && is_personal("so_giay_cn"));
/// assert!(is_personal("cccd") && is_personal("ho_ten"));
/// assert!(!is_personal("so_thua") && !is_personal("ma_so_thue") && !is_personal("ten_duong"));
/// ```
pub fn is_personal(column: &str) -> bool {
    let compact: String = column
        .chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let stem = compact.trim_end_matches(|c: char| c.is_ascii_digit());
    PERSONAL_FIELDS.contains(&stem)
}
