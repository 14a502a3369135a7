//! Identifies the CRS described by a `.prj` (ESRI WKT1) as an EPSG code.
//!
//! Handles what Vietnamese agencies deliver: VN-2000 TM-3 and UTM zones
//! (by datum name, projection and central meridian), WGS 84 geographic and
//! UTM, and any WKT carrying a top-level `AUTHORITY["EPSG", n]`.

use super::vn2000::TM3_ZONES;

/// Returns the EPSG code of the CRS in `wkt`, or why it cannot be identified.
///
/// ```
/// let prj = r#"PROJCS["VN_2000_TM3_105_45",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.75],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
/// assert_eq!(importer::srs::identify_prj(prj), Ok(9210));
/// ```
pub fn identify_prj(wkt: &str) -> Result<i32, String> {
    let w = wkt.trim().trim_start_matches('\u{feff}');
    if w.is_empty() {
        return Err("the .prj is empty".into());
    }
    if let Some(code) = top_authority(w) {
        return Ok(code);
    }
    let norm = w.to_ascii_lowercase().replace([' ', '-'], "_");
    let vn2000 =
        norm.contains("vn_2000") || norm.contains("vietnam_2000") || norm.contains("vn2000");
    let wgs84 = norm.contains("wgs_1984") || norm.contains("wgs_84") || norm.contains("wgs84");
    if norm.starts_with("geogcs") {
        return match (vn2000, wgs84) {
            (true, _) => Ok(4756),
            (false, true) => Ok(4326),
            _ => Err("geographic CRS with an unknown datum".into()),
        };
    }
    if !norm.starts_with("projcs") {
        return Err("not an ESRI/WKT1 PROJCS or GEOGCS".into());
    }
    if !norm.contains("transverse_mercator") {
        return Err("projection is not Transverse Mercator; pass --srs EPSG:<code>".into());
    }
    let cm = param(&norm, "central_meridian").ok_or("no Central_Meridian parameter")?;
    let k = param(&norm, "scale_factor").unwrap_or(1.0);
    let fe = param(&norm, "false_easting").unwrap_or(0.0);
    let fnorth = param(&norm, "false_northing").unwrap_or(0.0);
    if (fe - 500_000.0).abs() > 1e-6 || fnorth.abs() > 1e-6 {
        return Err(format!(
            "false easting/northing {fe}/{fnorth} is neither TM-3 nor UTM"
        ));
    }
    let utm_zone = ((cm + 183.0) / 6.0).round();
    let is_utm_cm = ((utm_zone * 6.0 - 183.0) - cm).abs() < 1e-9;
    if vn2000 {
        if (k - 0.9999).abs() < 1e-9 {
            return TM3_ZONES
                .iter()
                .find(|(m, _)| (m - cm).abs() < 1e-6)
                .map(|(_, c)| *c)
                .ok_or_else(|| {
                    format!("VN-2000 TM-3 with central meridian {cm} has no EPSG code")
                });
        }
        if (k - 0.9996).abs() < 1e-9 && is_utm_cm {
            return match utm_zone as i32 {
                48 => Ok(3405),
                49 => Ok(3406),
                z => Err(format!("VN-2000 UTM zone {z} has no EPSG code")),
            };
        }
        return Err(format!(
            "VN-2000 Transverse Mercator with scale {k} is neither TM-3 nor UTM"
        ));
    }
    if wgs84 && (k - 0.9996).abs() < 1e-9 && is_utm_cm {
        return Ok(32600 + utm_zone as i32);
    }
    Err("unknown datum for a Transverse Mercator projection; pass --srs".into())
}

/// The last `AUTHORITY["EPSG","n"]` closing the outermost node, if any.
fn top_authority(w: &str) -> Option<i32> {
    let body = w.trim_end().strip_suffix(']')?;
    let at = body.rfind("AUTHORITY[")?;
    let tail = &body[at..];
    // The authority must belong to the top node: nothing may follow it.
    if !tail.trim_end().ends_with(']') || tail.matches(']').count() != 1 {
        return None;
    }
    let inner = tail.trim_start_matches("AUTHORITY[").trim_end_matches(']');
    let mut parts = inner.split(',').map(|p| p.trim().trim_matches('"'));
    if !parts.next()?.eq_ignore_ascii_case("epsg") {
        return None;
    }
    parts.next()?.parse().ok()
}

fn param(norm: &str, name: &str) -> Option<f64> {
    let key = format!("parameter[\"{name}\",");
    let at = norm.find(&key)? + key.len();
    let end = norm[at..].find(']')? + at;
    norm[at..end].trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifies_wkt_with_top_authority() {
        let w = r#"PROJCS["VN-2000 / TM-3 105-45",GEOGCS["VN-2000",DATUM["Vietnam_2000",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6756"]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["central_meridian",105.75],UNIT["metre",1],AUTHORITY["EPSG","9210"]]"#;
        assert_eq!(identify_prj(w), Ok(9210));
    }

    #[test]
    fn identifies_esri_vn2000_zones_and_wgs84() {
        let mk = |cm: f64, k: f64, datum: &str| {
            format!(
                r#"PROJCS["x",GEOGCS["g",DATUM["{datum}",SPHEROID["WGS_1984",6378137.0,298.257223563]]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",{cm}],PARAMETER["Scale_Factor",{k}],UNIT["Meter",1.0]]"#
            )
        };
        assert_eq!(identify_prj(&mk(104.5, 0.9999, "D_Vietnam_2000")), Ok(9207));
        assert_eq!(
            identify_prj(&mk(108.25, 0.9999, "D_Vietnam_2000")),
            Ok(9217)
        );
        assert_eq!(identify_prj(&mk(105.0, 0.9996, "D_Vietnam_2000")), Ok(3405));
        assert_eq!(identify_prj(&mk(105.0, 0.9996, "D_WGS_1984")), Ok(32648));
        assert!(identify_prj(&mk(105.1, 0.9999, "D_Vietnam_2000")).is_err());
        assert_eq!(
            identify_prj(
                r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]]]"#
            ),
            Ok(4326)
        );
        assert!(identify_prj("").is_err());
        assert!(identify_prj("garbage").is_err());
    }
}
