//! Coordinate reference systems of source files: `--srs` values
//! (`EPSG:n`, `vn2000:<province>`), identification of a `.prj` to an EPSG
//! code, and plausibility checks of coordinates against the CRS.

mod prj;
mod range;
mod vn2000;

pub use prj::{foreign_datum_shift, identify_prj, identify_prj_noted, Identified};
pub use range::check_plausible;
pub use vn2000::{province_preset, province_srid, Province, PROVINCES, TM3_ZONES};

/// A CRS given with `--srs`: for files without a `.prj`, or whose `.prj`
/// cannot be identified. `over_prj` (`--srs-override`) lets it replace a
/// `.prj` that says otherwise; without it that disagreement is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forced {
    pub code: i32,
    pub over_prj: bool,
}

impl Forced {
    /// The code a file is read in, given what its own CRS says
    /// (`Some(code)`: identified), or a refusal naming both.
    pub fn against(self, own: Option<i32>) -> Result<(i32, &'static str), String> {
        match own {
            Some(c) if c != self.code && !self.over_prj => Err(format!(
                "its coordinate system is EPSG:{c} but --srs says EPSG:{}: drop --srs (it is for files \
                 without a usable .prj), or pass --srs-override to read the file in EPSG:{} anyway",
                self.code, self.code
            )),
            Some(c) if c != self.code => Ok((self.code, "--srs (--srs-override: the file's own CRS ignored)")),
            _ => Ok((self.code, "--srs")),
        }
    }
}

/// Parses a `--srs` value: `EPSG:9210`, `9210` or `vn2000:<province>` (see
/// [`province_preset`]: a name with or without tones, or a GSO code with its
/// generation when the reform reused it).
///
/// ```
/// assert_eq!(importer::srs::parse_srs("EPSG:9210"), Ok(9210));
/// assert_eq!(importer::srs::parse_srs("vn2000:tien-giang"), Ok(9210));
/// assert_eq!(importer::srs::parse_srs("vn2000:Tiền Giang"), Ok(9210));
/// assert_eq!(importer::srs::parse_srs("vn2000:pre2025:91"), Ok(9207)); // the former Kiên Giang
/// assert!(importer::srs::parse_srs("vn2000:91").is_err()); // now An Giang: two zones
/// assert!(importer::srs::parse_srs("vn2000:atlantis").is_err());
/// ```
pub fn parse_srs(s: &str) -> Result<i32, String> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("vn2000:") {
        // "vn2000:" is ASCII: the rest starts at the same byte in `t`.
        return province_preset(&t["vn2000:".len()..]).map_err(|e| format!("--srs {t}: {e}"));
    }
    let code = lower.strip_prefix("epsg:").unwrap_or(&lower);
    match code.parse::<i32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "--srs {t}: expected EPSG:<code> or vn2000:<province>"
        )),
    }
}
