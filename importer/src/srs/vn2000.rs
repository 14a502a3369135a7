//! VN-2000 presets: the TM-3 zones in EPSG and the central meridian of every
//! province as it was before the 2025 mergers (Circular 973/2001/TT-TCĐC).
//! A merged province holds datasets of several meridians, so a dataset's CRS
//! is chosen per file, never per tenant.

/// Central meridian (degrees) to EPSG code of the VN-2000 / TM-3 zone.
pub const TM3_ZONES: &[(f64, i32)] = &[
    (102.0, 5896),
    (103.0, 9205),
    (104.0, 9206),
    (104.5, 9207),
    (104.75, 9208),
    (105.0, 5897),
    (105.5, 9209),
    (105.75, 9210),
    (106.0, 9211),
    (106.25, 9212),
    (106.5, 9213),
    (107.0, 9214),
    (107.25, 9215),
    (107.5, 9216),
    (107.75, 5899),
    (108.0, 5898),
    (108.25, 9217),
    (108.5, 9218),
];

/// A province (pre-2025) and its TM-3 central meridian.
#[derive(Debug, Clone, Copy)]
pub struct Province {
    /// ASCII slug, e.g. `tien-giang`.
    pub slug: &'static str,
    pub name: &'static str,
    /// GSO code.
    pub gso: u8,
    pub central_meridian: f64,
}

macro_rules! p {
    ($slug:expr, $name:expr, $gso:expr, $cm:expr) => {
        Province {
            slug: $slug,
            name: $name,
            gso: $gso,
            central_meridian: $cm,
        }
    };
}

/// Every province with its central meridian.
pub const PROVINCES: &[Province] = &[
    p!("ha-noi", "Hà Nội", 1, 105.0),
    p!("ha-giang", "Hà Giang", 2, 105.5),
    p!("cao-bang", "Cao Bằng", 4, 105.75),
    p!("bac-kan", "Bắc Kạn", 6, 106.5),
    p!("tuyen-quang", "Tuyên Quang", 8, 106.0),
    p!("lao-cai", "Lào Cai", 10, 104.75),
    p!("dien-bien", "Điện Biên", 11, 103.0),
    p!("lai-chau", "Lai Châu", 12, 103.0),
    p!("son-la", "Sơn La", 14, 104.0),
    p!("yen-bai", "Yên Bái", 15, 104.75),
    p!("hoa-binh", "Hòa Bình", 17, 106.0),
    p!("thai-nguyen", "Thái Nguyên", 19, 106.5),
    p!("lang-son", "Lạng Sơn", 20, 107.25),
    p!("quang-ninh", "Quảng Ninh", 22, 107.75),
    p!("bac-giang", "Bắc Giang", 24, 107.0),
    p!("phu-tho", "Phú Thọ", 25, 104.75),
    p!("vinh-phuc", "Vĩnh Phúc", 26, 105.0),
    p!("bac-ninh", "Bắc Ninh", 27, 105.5),
    p!("hai-duong", "Hải Dương", 30, 105.5),
    p!("hai-phong", "Hải Phòng", 31, 105.75),
    p!("hung-yen", "Hưng Yên", 33, 105.5),
    p!("thai-binh", "Thái Bình", 34, 105.5),
    p!("ha-nam", "Hà Nam", 35, 105.0),
    p!("nam-dinh", "Nam Định", 36, 105.5),
    p!("ninh-binh", "Ninh Bình", 37, 105.0),
    p!("thanh-hoa", "Thanh Hóa", 38, 105.0),
    p!("nghe-an", "Nghệ An", 40, 104.75),
    p!("ha-tinh", "Hà Tĩnh", 42, 105.5),
    p!("quang-binh", "Quảng Bình", 44, 106.0),
    p!("quang-tri", "Quảng Trị", 45, 106.25),
    p!("thua-thien-hue", "Thừa Thiên Huế", 46, 107.0),
    p!("da-nang", "Đà Nẵng", 48, 107.75),
    p!("quang-nam", "Quảng Nam", 49, 107.75),
    p!("quang-ngai", "Quảng Ngãi", 51, 108.0),
    p!("binh-dinh", "Bình Định", 52, 108.25),
    p!("phu-yen", "Phú Yên", 54, 108.5),
    p!("khanh-hoa", "Khánh Hòa", 56, 108.25),
    p!("ninh-thuan", "Ninh Thuận", 58, 108.25),
    p!("binh-thuan", "Bình Thuận", 60, 108.5),
    p!("kon-tum", "Kon Tum", 62, 107.5),
    p!("gia-lai", "Gia Lai", 64, 108.5),
    p!("dak-lak", "Đắk Lắk", 66, 108.5),
    p!("dak-nong", "Đắk Nông", 67, 108.5),
    p!("lam-dong", "Lâm Đồng", 68, 107.75),
    p!("binh-phuoc", "Bình Phước", 70, 106.25),
    p!("tay-ninh", "Tây Ninh", 72, 105.5),
    p!("binh-duong", "Bình Dương", 74, 105.75),
    p!("dong-nai", "Đồng Nai", 75, 107.75),
    p!("ba-ria-vung-tau", "Bà Rịa - Vũng Tàu", 77, 107.75),
    p!("ho-chi-minh", "Hồ Chí Minh", 79, 105.75),
    p!("long-an", "Long An", 80, 105.75),
    p!("tien-giang", "Tiền Giang", 82, 105.75),
    p!("ben-tre", "Bến Tre", 83, 105.75),
    p!("tra-vinh", "Trà Vinh", 84, 105.5),
    p!("vinh-long", "Vĩnh Long", 86, 105.5),
    p!("dong-thap", "Đồng Tháp", 87, 105.0),
    p!("an-giang", "An Giang", 89, 104.75),
    p!("kien-giang", "Kiên Giang", 91, 104.5),
    p!("can-tho", "Cần Thơ", 92, 105.0),
    p!("hau-giang", "Hậu Giang", 93, 105.0),
    p!("soc-trang", "Sóc Trăng", 94, 105.5),
    p!("bac-lieu", "Bạc Liêu", 95, 105.0),
    p!("ca-mau", "Cà Mau", 96, 104.5),
];

/// The TM-3 zone (EPSG code) of a central meridian.
fn zone_of(cm: f64) -> Option<i32> {
    TM3_ZONES
        .iter()
        .find(|(m, _)| (m - cm).abs() < 1e-9)
        .map(|(_, c)| *c)
}

/// `105°45'` for 105.75.
pub(crate) fn dms(cm: f64) -> String {
    let minutes = ((cm - cm.floor()) * 60.0).round() as i32;
    format!("{}°{minutes:02}'", cm.floor() as i32)
}

/// The TM-3 zone of a province preset (`vn2000:<province>`): a province
/// by name (with or without tones, "Tiền Giang", "tien-giang") or GSO code,
/// of either generation; `pre2025:` or `2025:` before it says which. A
/// name or code that means provinces of different meridians (a province
/// merged in 2025 from provinces of several zones, or a code reused by the
/// reform) is refused, listing the former provinces and their zones.
///
/// ```
/// use importer::srs::province_preset;
/// assert_eq!(province_preset("tien-giang"), Ok(9210));
/// assert_eq!(province_preset("Tiền Giang"), Ok(9210));
/// assert_eq!(province_preset("pre2025:87"), Ok(5897)); // the former Đồng Tháp
/// let e = province_preset("Đồng Tháp").unwrap_err(); // now with the former Tiền Giang
/// assert!(e.contains("105°00'") && e.contains("105°45'") && e.contains("pre2025:"));
/// assert!(province_preset("82").is_err()); // Tiền Giang before, Đồng Tháp after
/// assert_eq!(province_preset("ha-noi"), Ok(5897)); // one zone in both generations
/// ```
pub fn province_preset(key: &str) -> Result<i32, String> {
    use catalog::reference::{fold_name, provinces_2025};
    let key = key.trim();
    let (generation, rest) = match key.split_once(':') {
        Some((g @ ("pre2025" | "2025"), r)) => (Some(g), r.trim()),
        _ => (None, key),
    };
    let digits = !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit());
    let folded = fold_name(rest);
    let code: Option<u32> = digits.then(|| rest.parse().ok()).flatten();
    // (label, zones) of each province the key may mean.
    let mut meanings: Vec<(String, Vec<(String, f64)>)> = Vec::new();
    if generation != Some("2025") {
        for p in PROVINCES.iter().filter(|p| {
            code.is_some_and(|c| u32::from(p.gso) == c)
                || (!digits && (fold_name(p.name) == folded || fold_name(p.slug) == folded))
        }) {
            meanings.push((
                format!("{} before July 2025 (vn2000:pre2025:{})", p.name, p.slug),
                vec![(p.name.to_string(), p.central_meridian)],
            ));
        }
    }
    if generation != Some("pre2025") {
        for n in provinces_2025().iter().filter(|n| {
            code.is_some_and(|c| n.code.parse::<u32>().ok() == Some(c))
                || (!digits && fold_name(&n.name) == folded)
        }) {
            let former: Vec<(String, f64)> = n
                .former
                .iter()
                .filter_map(|f| {
                    PROVINCES
                        .iter()
                        .find(|p| Some(u32::from(p.gso)) == f.parse().ok())
                })
                .map(|p| (p.name.to_string(), p.central_meridian))
                .collect();
            meanings.push((format!("{} from July 2025", n.name), former));
        }
    }
    if meanings.is_empty() {
        return Err(format!(
            "unknown province '{rest}': use a name (Tiền Giang, tien-giang) or a GSO code, \
             with pre2025: or 2025: before a code the reform reused"
        ));
    }
    let mut zones: Vec<f64> = meanings
        .iter()
        .flat_map(|(_, f)| f.iter().map(|x| x.1))
        .collect();
    zones.sort_by(f64::total_cmp);
    zones.dedup();
    if let [cm] = zones.as_slice() {
        return zone_of(*cm).ok_or_else(|| format!("central meridian {cm} has no EPSG code"));
    }
    let listed: Vec<String> = meanings
        .iter()
        .map(|(label, former)| {
            let parts: Vec<String> = former
                .iter()
                .map(|(name, cm)| {
                    format!("{name} {} (EPSG:{})", dms(*cm), zone_of(*cm).unwrap_or(0))
                })
                .collect();
            format!("{label}: {}", parts.join(", "))
        })
        .collect();
    Err(format!(
        "'{rest}' spans several VN-2000 zones ({}): name the former province (vn2000:pre2025:<province>) \
         whose meridian the data uses, or give --srs EPSG:<code>",
        listed.join("; ")
    ))
}

/// EPSG code of the TM-3 zone of a province given by slug or GSO code.
pub fn province_srid(key: &str) -> Option<i32> {
    let key = key.trim().to_ascii_lowercase().replace([' ', '_'], "-");
    let p = match key.parse::<u8>() {
        Ok(code) => PROVINCES.iter().find(|p| p.gso == code)?,
        Err(_) => PROVINCES.iter().find(|p| p.slug == key)?,
    };
    TM3_ZONES
        .iter()
        .find(|(cm, _)| (cm - p.central_meridian).abs() < 1e-9)
        .map(|(_, c)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_province_has_a_zone_and_the_documented_ones_match() {
        assert_eq!(PROVINCES.len(), 63);
        for p in PROVINCES {
            assert!(province_srid(p.slug).is_some(), "{}", p.slug);
            assert_eq!(province_srid(&p.gso.to_string()), province_srid(p.slug));
        }
        assert_eq!(province_srid("tien-giang"), Some(9210));
        assert_eq!(province_srid("kien-giang"), Some(9207));
        assert_eq!(province_srid("vinh-long"), Some(9209));
        assert_eq!(province_srid("tay-ninh"), Some(9209));
        assert_eq!(province_srid("binh-dinh"), Some(9217));
    }
}
