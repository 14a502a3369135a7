//! What an opened GDAL layer is: its geometry type (declared, or found by a
//! pass over the features), the EPSG code of its SRS, and the encoding of
//! its text (from the driver, or detected on sampled strings).

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::path::Path;

use gdal::spatial_ref::SpatialRef;
use gdal::vector::{Layer, LayerAccess};

use crate::encoding::{self, TextEncoding};
use crate::error::ImportError;
use crate::source::Decided;
use crate::srs;

use super::geom::{Family, Target};
use super::values::{self, Kind, TextMode};

/// Features sampled for encoding detection and datetime columns.
pub(super) const SAMPLE_FEATURES: u64 = 5000;

/// The family of a geometry type, after linearisation; `None` for types
/// that do not say (unknown, collections) or cannot be stored.
pub(super) fn family(t: gdal_sys::OGRwkbGeometryType::Type) -> Option<Family> {
    use gdal_sys::OGRwkbGeometryType::*;
    // SAFETY: pure functions on a type code.
    let flat = unsafe { gdal_sys::OGR_GT_GetLinear(gdal_sys::OGR_GT_Flatten(t)) };
    match flat {
        x if x == wkbPoint => Some(Family::Point),
        x if x == wkbMultiPoint => Some(Family::MultiPoint),
        x if x == wkbLineString || x == wkbMultiLineString => Some(Family::Line),
        x if x == wkbPolygon || x == wkbMultiPolygon => Some(Family::Polygon),
        _ => None,
    }
}

fn has_z(t: gdal_sys::OGRwkbGeometryType::Type) -> bool {
    // SAFETY: pure function on a type code.
    unsafe { gdal_sys::OGR_GT_HasZ(t) != 0 }
}

fn has_m(t: gdal_sys::OGRwkbGeometryType::Type) -> bool {
    // SAFETY: pure function on a type code.
    unsafe { gdal_sys::OGR_GT_HasM(t) != 0 }
}

/// What a pass over the features found.
#[derive(Default)]
pub(super) struct Scan {
    /// Features per geometry family (collections count per member family).
    pub(super) families: BTreeMap<Family, u64>,
    pub(super) other: BTreeMap<String, u64>,
    pub(super) z: bool,
    pub(super) m: bool,
    pub(super) samples: Vec<Vec<u8>>,
    /// Datetime fields (GDAL index) with a sampled value not at midnight.
    pub(super) timed: std::collections::BTreeSet<usize>,
}

/// # Safety
/// `g` must be a live geometry.
unsafe fn scan_geometry(g: gdal_sys::OGRGeometryH, s: &mut Scan, depth: u32) {
    if g.is_null() || gdal_sys::OGR_G_IsEmpty(g) != 0 || depth > 32 {
        return;
    }
    let t = gdal_sys::OGR_G_GetGeometryType(g);
    s.z |= has_z(t);
    s.m |= has_m(t);
    if let Some(f) = family(t) {
        *s.families.entry(f).or_default() += 1;
    } else if gdal_sys::OGR_GT_Flatten(t) == gdal_sys::OGRwkbGeometryType::wkbGeometryCollection {
        for i in 0..gdal_sys::OGR_G_GetGeometryCount(g) {
            scan_geometry(gdal_sys::OGR_G_GetGeometryRef(g, i), s, depth + 1);
        }
    } else {
        let name = CStr::from_ptr(gdal_sys::OGRGeometryTypeToName(t))
            .to_string_lossy()
            .into_owned();
        *s.other.entry(name).or_default() += 1;
    }
}

/// Reads geometry types (when `geometries`) and text samples (the first
/// [`SAMPLE_FEATURES`] features, when `text`) in one pass.
pub(super) fn scan(
    layer: &mut Layer<'_>,
    fields: &[(usize, Kind)],
    geometries: bool,
    text: bool,
) -> Scan {
    let mut s = Scan::default();
    let datetimes: Vec<i32> = fields
        .iter()
        .filter(|(_, k)| *k == Kind::DateTime)
        .map(|(i, _)| *i as i32)
        .collect();
    if !geometries && !text && datetimes.is_empty() {
        return s;
    }
    let text_fields: Vec<i32> = fields
        .iter()
        .filter(|(_, k)| *k == Kind::Text)
        .map(|(i, _)| *i as i32)
        .collect();
    // SAFETY: the layer lives for the loop; each feature is destroyed after use.
    unsafe {
        let h = layer.c_layer();
        gdal_sys::OGR_L_ResetReading(h);
        let mut n = 0u64;
        loop {
            if !geometries && n >= SAMPLE_FEATURES {
                break;
            }
            let f = gdal_sys::OGR_L_GetNextFeature(h);
            if f.is_null() {
                break;
            }
            if geometries {
                scan_geometry(gdal_sys::OGR_F_GetGeometryRef(f), &mut s, 0);
            }
            if n < SAMPLE_FEATURES {
                for &i in &datetimes {
                    if gdal_sys::OGR_F_IsFieldSetAndNotNull(f, i) != 0 {
                        if let Some(dt) = values::date_time(f, i) {
                            if (dt.3, dt.4, dt.5) != (0, 0, 0.0) {
                                s.timed.insert(i as usize);
                            }
                        }
                    }
                }
            }
            if text && n < SAMPLE_FEATURES {
                for &i in &text_fields {
                    if gdal_sys::OGR_F_IsFieldSetAndNotNull(f, i) != 0 {
                        let b = values::raw_string(f, i);
                        if !b.is_empty() {
                            s.samples.push(b.to_vec());
                        }
                    }
                }
            }
            gdal_sys::OGR_F_Destroy(f);
            n += 1;
        }
        gdal_sys::OGR_L_ResetReading(h);
    }
    s
}

pub(super) fn decide_target(
    declared: gdal_sys::OGRwkbGeometryType::Type,
    scan: &Scan,
    path: &Path,
) -> Result<Option<Target>, ImportError> {
    let family = match family(declared) {
        Some(f) => f,
        None => {
            let mut fams: Vec<Family> = scan.families.keys().copied().collect();
            if fams == [Family::Point, Family::MultiPoint] {
                fams = vec![Family::MultiPoint];
            }
            if !scan.other.is_empty() || fams.len() > 1 {
                let mut what: Vec<String> = scan
                    .families
                    .iter()
                    .map(|(f, n)| format!("{n} {f}"))
                    .collect();
                what.extend(scan.other.iter().map(|(t, n)| format!("{n} {t}")));
                return Err(ImportError::file(
                    path,
                    format!(
                        "mixed geometry types ({}): a layer holds one type; split the file by type (e.g. ogr2ogr -where \"OGR_GEOMETRY='POLYGON'\") and import the parts as separate layers",
                        what.join(", ")
                    ),
                ));
            }
            match fams.first() {
                Some(f) => *f,
                None => return Ok(None),
            }
        }
    };
    let z = has_z(declared) || scan.z;
    let m = (has_m(declared) || scan.m) && !z;
    Ok(Some(Target { family, z, m }))
}

/// The EPSG code of a layer's SRS (or `--srs`).
pub(super) fn decide_srid(
    sr: Option<SpatialRef>,
    forced: Option<srs::Forced>,
    path: &Path,
) -> Result<Decided<i32>, ImportError> {
    if let Some(f) = forced {
        let own = sr.as_ref().and_then(|sr| {
            let wkt = sr.to_wkt().ok()?;
            srs::identify_prj(&wkt).ok()
        });
        let (value, how) = f.against(own).map_err(|e| ImportError::file(path, e))?;
        return Ok(Decided {
            value,
            how: how.into(),
        });
    }
    // GeoPackage's "undefined" SRSs (srs_id 0 and -1) say nothing.
    let sr = sr.filter(|sr| {
        !sr.name().is_some_and(|n| {
            n.starts_with("Undefined geographic SRS") || n.starts_with("Undefined Cartesian SRS")
        })
    });
    let Some(mut sr) = sr else {
        return Err(ImportError::file(
            path,
            "has no coordinate system and no --srs was given: pass --srs EPSG:<code> or vn2000:<province> (e.g. vn2000:tien-giang)",
        ));
    };
    let wkt = sr.to_wkt().unwrap_or_default();
    if sr.auth_name().as_deref() == Some("EPSG") && !srs::foreign_datum_shift(&wkt) {
        if let Ok(code) = sr.auth_code() {
            return Ok(Decided {
                value: code,
                how: "layer SRS (EPSG)".into(),
            });
        }
    }
    let first = match srs::identify_prj_noted(&wkt) {
        Ok(id) => {
            return Ok(Decided {
                value: id.code,
                how: match id.note {
                    Some(n) => format!("layer SRS (identified; {n})"),
                    None => "layer SRS (identified)".into(),
                },
            })
        }
        Err(e) => e,
    };
    // GDAL's own identification ignores a datum shift: never for those.
    if !srs::foreign_datum_shift(&wkt) && sr.auto_identify_epsg().is_ok() {
        if let (Some("EPSG"), Ok(code)) = (sr.auth_name().as_deref(), sr.auth_code()) {
            return Ok(Decided {
                value: code,
                how: "layer SRS (GDAL identified)".into(),
            });
        }
    }
    Err(ImportError::file(
        path,
        format!(
            "cannot identify the coordinate system '{}' ({first}); pass --srs EPSG:<code> or vn2000:<province>",
            sr.name().unwrap_or_default()
        ),
    ))
}

pub(super) fn decide_text(
    forced: Option<TextEncoding>,
    utf8_driver: bool,
    samples: &[Vec<u8>],
    driver: &str,
) -> (Decided<TextEncoding>, TextMode) {
    let mode = |e, undo| TextMode {
        encoding: e,
        undo_recoding: undo,
    };
    if let Some(e) = forced {
        if utf8_driver && e != TextEncoding::Utf8 {
            return (
                Decided {
                    value: e,
                    how: format!("--encoding (GDAL {driver} recoded to UTF-8: its Latin-1/cp1252 bytes re-read as {})", e.name()),
                },
                mode(e, true),
            );
        }
        return (
            Decided {
                value: e,
                how: "--encoding".into(),
            },
            mode(e, false),
        );
    }
    let texts: Option<Vec<&str>> = samples
        .iter()
        .map(|s| std::str::from_utf8(s).ok())
        .collect();
    if let (true, Some(texts)) = (utf8_driver, texts) {
        // Legacy bytes GDAL recoded from a Western charset (a TAB declared
        // WindowsLatin1 holding TCVN3): undo the recoding, then decode.
        if let Some(d) = encoding::detect_recoded(&texts) {
            return (
                Decided {
                    value: d.encoding,
                    how: format!(
                        "detected in GDAL {driver}'s recoded text ({}, confidence {:.2})",
                        d.reason, d.confidence
                    ),
                },
                mode(d.encoding, true),
            );
        }
        return (
            Decided {
                value: TextEncoding::Utf8,
                how: format!("GDAL {driver} gives UTF-8"),
            },
            mode(TextEncoding::Utf8, false),
        );
    }
    let refs: Vec<&[u8]> = samples.iter().map(|s| s.as_slice()).collect();
    let d = encoding::detect(&refs);
    (
        Decided {
            value: d.encoding,
            how: format!("detected ({}, confidence {:.2})", d.reason, d.confidence),
        },
        mode(d.encoding, false),
    )
}
