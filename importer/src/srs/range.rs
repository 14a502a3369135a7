//! Plausibility of a file's coordinates for its CRS: catches swapped X/Y
//! (surveyors write X = northing), a wrong zone, or degrees in a projected file.

/// Checks the bounding box `[xmin, ymin, xmax, ymax]` of a file against `srid`.
/// Returns a one-line explanation naming the likely cause when implausible.
///
/// ```
/// use importer::srs::check_plausible;
/// assert!(check_plausible(9210, [566000.0, 1145000.0, 569000.0, 1148000.0]).is_ok());
/// assert!(check_plausible(9210, [1145000.0, 566000.0, 1148000.0, 569000.0]).unwrap_err().contains("swapped"));
/// assert!(check_plausible(9210, [106.3, 10.3, 106.4, 10.4]).unwrap_err().contains("degrees"));
/// ```
pub fn check_plausible(srid: i32, b: [f64; 4]) -> Result<(), String> {
    if b.iter().any(|v| !v.is_finite()) {
        return Err("bounding box has non-finite coordinates".into());
    }
    let geographic = matches!(srid, 4326 | 4756 | 4019 | 4269);
    let degrees = b[0] >= -180.0 && b[2] <= 180.0 && b[1] >= -90.0 && b[3] <= 90.0;
    if geographic {
        if !degrees {
            return Err(format!(
                "coordinates {:.0},{:.0} are not degrees but EPSG:{srid} is geographic: projected data? pass --srs EPSG:<code> --srs-override",
                b[0], b[1]
            ));
        }
        return Ok(());
    }
    let vn_projected = (9205..=9218).contains(&srid)
        || (5896..=5899).contains(&srid)
        || matches!(srid, 3405 | 3406);
    if !vn_projected {
        return Ok(());
    }
    if degrees {
        return Err(format!(
            "coordinates look like degrees ({:.4}, {:.4}) in projected EPSG:{srid}: the data is lon/lat: pass --srs EPSG:4326 --srs-override",
            b[0], b[1]
        ));
    }
    // Vietnam spans about 8.3-23.5 N (northing 0.9-2.6 Mm); a TM-3 zone's eastings
    // stay within ~250 km of 500 000 for a province, UTM within ~400 km.
    let east_ok = |lo: f64, hi: f64| lo > 100_000.0 && hi < 900_000.0;
    let north_ok = |lo: f64, hi: f64| lo > 850_000.0 && hi < 2_650_000.0;
    if east_ok(b[0], b[2]) && north_ok(b[1], b[3]) {
        return Ok(());
    }
    if east_ok(b[1], b[3]) && north_ok(b[0], b[2]) {
        return Err(format!(
            "X looks like a northing ({:.0}) and Y like an easting ({:.0}) for EPSG:{srid}: X/Y are swapped",
            b[0], b[1]
        ));
    }
    Err(format!(
        "coordinates ({:.0}, {:.0})-({:.0}, {:.0}) are outside Vietnam for EPSG:{srid}: wrong zone or wrong CRS? pass the right one with --srs EPSG:<code> --srs-override",
        b[0], b[1], b[2], b[3]
    ))
}
