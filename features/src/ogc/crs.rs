//! CRS URIs of OGC API - Features Part 2: which a layer offers, their SRIDs
//! and axis orders (EPSG:4326 and VN-2000 geographic are latitude first;
//! CRS84 and projected CRSs are x/easting first).

/// OGC's WGS 84 longitude/latitude, the default CRS.
pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
const EPSG_PREFIX: &str = "http://www.opengis.net/def/crs/EPSG/0/";

/// A CRS a request asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Crs {
    pub srid: i32,
    pub uri: String,
    /// Coordinates are (latitude, longitude) in this CRS.
    pub lat_lon: bool,
}

impl Crs {
    pub fn crs84() -> Crs {
        Crs {
            srid: 4326,
            uri: CRS84.into(),
            lat_lon: false,
        }
    }

    /// Whether coordinates are degrees (more decimals are meaningful).
    pub fn geographic(&self) -> bool {
        matches!(self.srid, 4326 | 4756)
    }

    /// Parses a CRS URI (or `EPSG:n` shorthand) among those offered for a layer in `native_srid`.
    ///
    /// ```
    /// use features::Crs;
    /// assert_eq!(Crs::parse("http://www.opengis.net/def/crs/EPSG/0/4326", 9210).unwrap().lat_lon, true);
    /// assert_eq!(Crs::parse("http://www.opengis.net/def/crs/EPSG/0/9210", 9210).unwrap().srid, 9210);
    /// assert!(Crs::parse("http://www.opengis.net/def/crs/EPSG/0/2154", 9210).is_err());
    /// ```
    pub fn parse(uri: &str, native_srid: i32) -> Result<Crs, String> {
        let u = uri.trim().trim_start_matches('[').trim_end_matches(']');
        if u == CRS84 || u.eq_ignore_ascii_case("CRS84") || u.eq_ignore_ascii_case("OGC:CRS84") {
            return Ok(Crs::crs84());
        }
        let code = u
            .strip_prefix(EPSG_PREFIX)
            .or_else(|| u.strip_prefix("EPSG:"))
            .or_else(|| u.strip_prefix("epsg:"))
            .and_then(|c| c.parse::<i32>().ok())
            .ok_or_else(|| {
                format!(
                    "'{}' is not a CRS URI",
                    u.chars().take(80).collect::<String>()
                )
            })?;
        if !offered(native_srid).contains(&code) {
            return Err(format!(
                "EPSG:{code} is not offered; see the collection's crs list"
            ));
        }
        Ok(Crs {
            srid: code,
            uri: format!("{EPSG_PREFIX}{code}"),
            lat_lon: matches!(code, 4326 | 4756),
        })
    }
}

/// SRIDs offered for a layer stored in `native`: WGS 84, Web Mercator,
/// VN-2000 geographic, every VN-2000 TM-3 and UTM zone, and the native one.
fn offered(native: i32) -> Vec<i32> {
    let mut v = vec![4326, 3857, 4756, 3405, 3406, 5896, 5897, 5898, 5899];
    v.extend(9205..=9218);
    if !v.contains(&native) {
        v.push(native);
    }
    v
}

/// The `crs` list of a collection: CRS84 first, then EPSG URIs.
pub fn supported_crs(native: i32) -> Vec<String> {
    std::iter::once(CRS84.to_string())
        .chain(
            offered(native)
                .into_iter()
                .map(|c| format!("{EPSG_PREFIX}{c}")),
        )
        .collect()
}
