//! Identifies the CRS described by a `.prj` (ESRI WKT1) as an EPSG code.
//!
//! Handles what Vietnamese agencies deliver: VN-2000 TM-3 and UTM zones
//! (by datum name, projection and central meridian, or by a WGS 84
//! ellipsoid carrying VN-2000's `TOWGS84` shift, as QGIS, MapInfo and many
//! converters write a custom VN-2000 CRS), WGS 84 geographic and UTM, and
//! any WKT carrying a top-level `AUTHORITY["EPSG", n]`. A datum with any
//! other non-zero `TOWGS84` is not WGS 84: refused, never read as WGS 84.

use super::vn2000::TM3_ZONES;

/// VN-2000 to WGS 84 (EPSG:6960, the operation PROJ and PostGIS use) as a
/// WKT1 `TOWGS84` writes it: translations (m), rotations (arc-seconds,
/// position-vector convention) and scale (ppm).
const VN2000_TOWGS84: [f64; 7] = [
    -191.90441429,
    -39.30318279,
    -111.45032835,
    0.00928836,
    -0.01975479,
    0.00427372,
    0.252906278,
];

/// An identified CRS, and what the reader should know about how.
#[derive(Debug, Clone, PartialEq)]
pub struct Identified {
    pub code: i32,
    /// e.g. which convention the file's own `TOWGS84` rotations follow.
    pub note: Option<String>,
}

/// The datum shift a WKT declares (`TOWGS84[...]`, 3 or 7 numbers), if
/// any; `lower`: the WKT in lower case (signs kept).
fn towgs84(lower: &str) -> Option<Vec<f64>> {
    let at = lower.find("towgs84[")? + "towgs84[".len();
    let end = lower[at..].find(']')? + at;
    let v: Vec<f64> = lower[at..end]
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    (v.len() == 3 || v.len() == 7).then_some(v)
}

/// What a declared datum shift says: `Ok(None)` none (or all zero: WGS 84
/// itself), `Ok(Some(note))` VN-2000's, `Err` another datum.
fn datum_shift(lower: &str) -> Result<Option<String>, String> {
    let Some(t) = towgs84(lower) else {
        return Ok(None);
    };
    if t.iter().all(|x| x.abs() < 1e-9) {
        return Ok(None);
    }
    let near = |a: &[f64], b: &[f64], tol: f64| a.iter().zip(b).all(|(x, y)| (x - y).abs() < tol);
    if !near(&t[..3], &VN2000_TOWGS84[..3], 0.01) {
        return Err(format!(
            "the datum declares TOWGS84[{}]: not WGS 84 and not VN-2000's published shift",
            t.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(",")
        ));
    }
    let rot = if t.len() == 3 {
        "3 parameters (translations only)"
    } else if near(&t[3..], &VN2000_TOWGS84[3..], 1e-6) {
        "the same 7 parameters as EPSG:6960"
    } else {
        let flipped: Vec<f64> = VN2000_TOWGS84[3..6].iter().map(|x| -x).collect();
        if near(&t[3..6], &flipped, 1e-6) && (t[6] - VN2000_TOWGS84[6]).abs() < 1e-6 {
            "its rotations in the other sign convention (the set circulating on Vietnamese sites, about 0.5 m from EPSG:6960)"
        } else {
            "rotations of its own"
        }
    };
    Ok(Some(format!(
        "datum identified as VN-2000 by its TOWGS84 ({rot}); transformed with EPSG:6960 as PostGIS does"
    )))
}

/// Whether a WKT declares a non-zero datum shift that is not VN-2000's:
/// such a CRS must never be taken for WGS 84 by any identification.
pub fn foreign_datum_shift(wkt: &str) -> bool {
    datum_shift(&wkt.to_ascii_lowercase()).is_err()
}

/// Returns the EPSG code of the CRS in `wkt`, or why it cannot be identified.
///
/// ```
/// let prj = r#"PROJCS["VN_2000_TM3_105_45",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.75],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
/// assert_eq!(importer::srs::identify_prj(prj), Ok(9210));
/// ```
pub fn identify_prj(wkt: &str) -> Result<i32, String> {
    identify_prj_noted(wkt).map(|i| i.code)
}

/// [`identify_prj`], with a note when the datum was recognised by its shift.
///
/// ```
/// // A custom VN-2000 as QGIS writes it: WGS 84's ellipsoid and VN-2000's TOWGS84.
/// let prj = r#"GEOGCS["unknown",DATUM["unknown",SPHEROID["WGS84",6378137,298.257223563],TOWGS84[-191.90441429,-39.30318279,-111.45032835,-0.00928836,0.01975479,-0.00427372,0.252906278]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]"#;
/// let id = importer::srs::identify_prj_noted(prj).unwrap();
/// assert_eq!(id.code, 4756);
/// assert!(id.note.unwrap().contains("other sign convention"));
/// ```
pub fn identify_prj_noted(wkt: &str) -> Result<Identified, String> {
    let w = wkt.trim().trim_start_matches('\u{feff}');
    if w.is_empty() {
        return Err("the .prj is empty".into());
    }
    let lower = w.to_ascii_lowercase();
    let shift = datum_shift(&lower)?;
    let norm = lower.replace([' ', '-'], "_");
    // Some tools write the central meridian or a made-up number there:
    // only a code PROJ knows is trusted; otherwise the body decides.
    if let (Some(code), None) = (top_authority(w).filter(|c| known_to_proj(*c)), &shift) {
        return Ok(Identified { code, note: None });
    }
    let code = identify_body(&norm, shift.is_some())?;
    Ok(Identified { code, note: shift })
}

/// The EPSG code of a WKT body (lower case, `_` for spaces and dashes);
/// `vn2000_shift`: its TOWGS84 is VN-2000's, whatever the datum's name.
fn identify_body(norm: &str, vn2000_shift: bool) -> Result<i32, String> {
    let norm = norm.to_string();
    let vn2000 = vn2000_shift
        || norm.contains("vn_2000")
        || norm.contains("vietnam_2000")
        || norm.contains("vn2000");
    let wgs84 = !vn2000_shift
        && (norm.contains("wgs_1984") || norm.contains("wgs_84") || norm.contains("wgs84"));
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
        return Err("the projection is not Transverse Mercator".into());
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
    let hint = if (k - 0.9999).abs() < 1e-9 {
        TM3_ZONES
            .iter()
            .find(|(m, _)| (m - cm).abs() < 1e-6)
            .map(|(m, c)| {
                format!(
                    ": central meridian {}, scale 0.9999 are VN-2000 / TM-3's (EPSG:{c}) if the data is VN-2000",
                    super::vn2000::dms(*m)
                )
            })
    } else if (k - 0.9996).abs() < 1e-9 && is_utm_cm {
        let z = utm_zone as i32;
        Some(format!(
            ": UTM zone {z}: EPSG:326{z:02} if WGS 84{}",
            match z {
                48 => ", EPSG:3405 if VN-2000",
                49 => ", EPSG:3406 if VN-2000",
                _ => "",
            }
        ))
    } else {
        None
    };
    Err(format!(
        "unknown datum for a Transverse Mercator projection{}",
        hint.unwrap_or_default()
    ))
}

/// Whether PROJ's database defines EPSG:`code`, asked quietly (PROJ would
/// print "crs not found" on stderr for every unknown code).
fn known_to_proj(code: i32) -> bool {
    let Ok(def) = std::ffi::CString::new(format!("EPSG:{code}")) else {
        return false;
    };
    // SAFETY: a context of our own, logging off, used on this thread only;
    // the object and the context are destroyed before returning.
    unsafe {
        let ctx = proj_sys::proj_context_create();
        if ctx.is_null() {
            return false;
        }
        proj_sys::proj_log_level(ctx, proj_sys::PJ_LOG_LEVEL_PJ_LOG_NONE);
        let pj = proj_sys::proj_create(ctx, def.as_ptr());
        let known = !pj.is_null();
        if known {
            proj_sys::proj_destroy(pj);
        }
        proj_sys::proj_context_destroy(ctx);
        known
    }
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

#[cfg(test)]
mod shift_tests {
    use super::*;

    const VN_EPSG: &str =
        "-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278";
    const VN_SITES: &str =
        "-191.90441429,-39.30318279,-111.45032835,-0.00928836,0.01975479,-0.00427372,0.252906278";

    fn geog(towgs: &str) -> String {
        format!(
            r#"GEOGCS["unknown",DATUM["unknown",SPHEROID["WGS84",6378137,298.257223563],TOWGS84[{towgs}]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]"#
        )
    }

    fn tm(towgs: &str, cm: f64, k: f64, authority: &str) -> String {
        format!(
            r#"PROJCS["custom",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137,298.257223563],TOWGS84[{towgs}]],PRIMEM["Greenwich",0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000],PARAMETER["False_Northing",0],PARAMETER["Central_Meridian",{cm}],PARAMETER["Scale_Factor",{k}],PARAMETER["Latitude_Of_Origin",0],UNIT["Meter",1]{authority}]"#
        )
    }

    #[test]
    fn a_wgs84_ellipsoid_with_vn2000_towgs84_is_vn2000_never_wgs84() {
        // (prj, expected EPSG code, words of the note)
        let cases: Vec<(String, i32, &str)> = vec![
            (geog(VN_SITES), 4756, "other sign convention"),
            (geog(VN_EPSG), 4756, "same 7 parameters"),
            (
                geog("-191.90441429,-39.30318279,-111.45032835"),
                4756,
                "3 parameters",
            ),
            (
                tm(VN_SITES, 105.0, 0.9996, ""),
                3405,
                "other sign convention",
            ),
            (tm(VN_SITES, 111.0, 0.9996, ""), 3406, "VN-2000"),
            (tm(VN_EPSG, 105.75, 0.9999, ""), 9210, "EPSG:6960"),
            (tm(VN_SITES, 104.5, 0.9999, ""), 9207, "VN-2000"),
            // A top-level authority of WGS 84 UTM does not beat the shift.
            (
                tm(VN_SITES, 105.0, 0.9996, r#",AUTHORITY["EPSG","32648"]"#),
                3405,
                "VN-2000",
            ),
        ];
        for (prj, code, words) in cases {
            let id = identify_prj_noted(&prj).unwrap_or_else(|e| panic!("{prj}: {e}"));
            assert_eq!(id.code, code, "{prj}");
            assert!(
                id.note.as_deref().unwrap_or("").contains(words),
                "{prj}: {id:?}"
            );
        }
    }

    #[test]
    fn zero_shift_is_wgs84_and_another_shift_is_refused() {
        assert_eq!(identify_prj(&geog("0,0,0,0,0,0,0")), Ok(4326));
        assert_eq!(identify_prj(&tm("0,0,0", 105.0, 0.9996, "")), Ok(32648));
        // Indian 1960's shift on a WGS 84 ellipsoid: neither WGS 84 nor VN-2000.
        for prj in [
            geog("198,881,317"),
            tm("198,881,317,0,0,0,0", 105.0, 0.9996, ""),
        ] {
            let e = identify_prj(&prj).unwrap_err();
            assert!(e.contains("not WGS 84") && !e.contains("--srs"), "{e}");
            assert!(foreign_datum_shift(&prj));
        }
        assert!(!foreign_datum_shift(&geog(VN_SITES)));
    }

    #[test]
    fn an_unknown_datum_names_the_zone_its_parameters_match() {
        let odd = |cm: f64, k: f64| {
            format!(
                r#"PROJCS["x",GEOGCS["g",DATUM["D_Local",SPHEROID["Krassovsky",6378245,298.3]]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000],PARAMETER["False_Northing",0],PARAMETER["Central_Meridian",{cm}],PARAMETER["Scale_Factor",{k}],UNIT["Meter",1]]"#
            )
        };
        let e = identify_prj(&odd(105.75, 0.9999)).unwrap_err();
        assert!(e.contains("105°45'") && e.contains("EPSG:9210"), "{e}");
        let e = identify_prj(&odd(105.0, 0.9996)).unwrap_err();
        assert!(e.contains("EPSG:32648") && e.contains("EPSG:3405"), "{e}");
    }

    #[test]
    fn an_authority_proj_does_not_know_leaves_the_body_to_decide() {
        // Some tools write a made-up number there.
        let prj = r#"PROJCS["VN_2000_TM3",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.75],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0],AUTHORITY["EPSG","1057599"]]"#;
        assert_eq!(identify_prj(prj), Ok(9210));
    }
}
