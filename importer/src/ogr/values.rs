//! Attribute values of GDAL features as binary COPY values, with the same
//! column types the shapefile path produces: integer -> `integer`, 64-bit
//! integer -> `bigint`, real -> `double precision`, boolean -> `boolean`,
//! date -> `date`, string -> `text`. A datetime whose sampled values are all
//! at midnight is a date in a format without a date type (FileGDB stores
//! every date as a datetime): `date`. Other datetimes, times and lists have
//! no shapefile counterpart: ISO 8601 / GDAL's `text`.
//!
//! Empty strings are NULL, as in the shapefile path. Text is read as the raw bytes GDAL hands out and decoded by the source's
//! [`TextMode`], so legacy bytes (a MapInfo TAB in TCVN3 with no charset)
//! are decoded like a DBF's, never replaced by U+FFFD.

use std::ffi::{c_int, CStr};

use catalog::FieldType;
use gdal_sys::{OGRFeatureH, OGRFieldSubType, OGRFieldType};

use crate::copy::RowBuf;
use crate::encoding::TextEncoding;
use crate::schema::write_number;

/// How a GDAL field is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Int64,
    Real,
    Bool,
    Date,
    /// DateTime: ISO 8601 text.
    DateTime,
    /// DateTime holding dates (midnight): a date column.
    DateTimeAsDate,
    /// Time: `hh:mm:ss` text.
    Time,
    /// Strings, lists, anything else GDAL formats as a string.
    Text,
    /// Binary fields: not imported.
    Skip,
}

impl Kind {
    pub fn of(t: OGRFieldType::Type, sub: OGRFieldSubType::Type) -> Kind {
        match t {
            OGRFieldType::OFTInteger if sub == OGRFieldSubType::OFSTBoolean => Kind::Bool,
            OGRFieldType::OFTInteger => Kind::Int,
            OGRFieldType::OFTInteger64 => Kind::Int64,
            OGRFieldType::OFTReal => Kind::Real,
            OGRFieldType::OFTDate => Kind::Date,
            OGRFieldType::OFTDateTime => Kind::DateTime,
            OGRFieldType::OFTTime => Kind::Time,
            OGRFieldType::OFTBinary => Kind::Skip,
            _ => Kind::Text,
        }
    }

    /// The column type (before widening across sources).
    pub fn field_type(self) -> FieldType {
        match self {
            Kind::Int => FieldType::Int4,
            Kind::Int64 => FieldType::Int8,
            Kind::Real => FieldType::Float8,
            Kind::Bool => FieldType::Bool,
            Kind::Date | Kind::DateTimeAsDate => FieldType::Date,
            Kind::DateTime | Kind::Time | Kind::Text | Kind::Skip => FieldType::Text,
        }
    }
}

/// How the bytes of GDAL's strings become text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextMode {
    pub encoding: TextEncoding,
    /// GDAL recoded the source's bytes to UTF-8 from a Western charset but
    /// `--encoding` says they are Vietnamese legacy bytes: turn the text back
    /// into those bytes (Latin-1 / cp1252) and decode them as `encoding`.
    pub undo_recoding: bool,
}

impl TextMode {
    pub fn decode(&self, raw: &[u8]) -> String {
        if self.undo_recoding {
            if let Some(bytes) = std::str::from_utf8(raw)
                .ok()
                .and_then(crate::encoding::one_byte_form)
            {
                return self.encoding.decode(&bytes);
            }
        }
        self.encoding.decode(raw)
    }
}

/// The raw bytes of a string field (or of any field as GDAL formats it).
///
/// # Safety
/// `f` must be a live feature and `i` one of its field indexes.
pub unsafe fn raw_string<'a>(f: OGRFeatureH, i: c_int) -> &'a [u8] {
    let p = gdal_sys::OGR_F_GetFieldAsString(f, i);
    if p.is_null() {
        &[]
    } else {
        CStr::from_ptr(p).to_bytes()
    }
}

pub(crate) fn date_time(f: OGRFeatureH, i: c_int) -> Option<(i32, i32, i32, i32, i32, f32, i32)> {
    let (mut y, mut mo, mut d, mut h, mut mi, mut s, mut tz) = (0, 0, 0, 0, 0, 0f32, 0);
    // SAFETY: the caller passes a live feature and a valid index; GDAL writes the outputs.
    let ok = unsafe {
        gdal_sys::OGR_F_GetFieldAsDateTimeEx(
            f, i, &mut y, &mut mo, &mut d, &mut h, &mut mi, &mut s, &mut tz,
        )
    };
    (ok != 0).then_some((y, mo, d, h, mi, s, tz))
}

fn iso(t: (i32, i32, i32, i32, i32, f32, i32), kind_time_only: bool) -> String {
    let (y, mo, d, h, mi, s, tz) = t;
    let secs = if s.fract() == 0.0 {
        format!("{:02}", s as i32)
    } else {
        format!("{:06.3}", s)
    };
    let mut out = if kind_time_only {
        format!("{h:02}:{mi:02}:{secs}")
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{secs}")
    };
    // GDAL: 0 unknown, 1 local, 100 UTC, 100 +/- n * 15 minutes.
    if tz >= 100 {
        let off = (tz - 100) * 15;
        if off == 0 {
            out.push('Z');
        } else {
            let sign = if off < 0 { '-' } else { '+' };
            out.push_str(&format!(
                "{sign}{:02}:{:02}",
                off.abs() / 60,
                off.abs() % 60
            ));
        }
    }
    out
}

/// Writes field `i` of feature `f`, read as `kind`, as a column of type `t`.
/// Returns a note when a value could not be converted (stored NULL).
///
/// # Safety
/// `f` must be a live feature and `i` one of its field indexes.
pub unsafe fn write(
    out: &mut RowBuf,
    f: OGRFeatureH,
    i: c_int,
    kind: Kind,
    t: FieldType,
    text: &TextMode,
) -> Option<String> {
    if gdal_sys::OGR_F_IsFieldSetAndNotNull(f, i) == 0 {
        out.null();
        return None;
    }
    match kind {
        Kind::Int | Kind::Int64 | Kind::Bool => {
            let v = gdal_sys::OGR_F_GetFieldAsInteger64(f, i);
            if t == FieldType::Bool {
                out.bool(v != 0);
                None
            } else {
                write_number(out, t, v as f64, Some(v))
            }
        }
        Kind::Real => write_number(out, t, gdal_sys::OGR_F_GetFieldAsDouble(f, i), None),
        Kind::Date | Kind::DateTime | Kind::DateTimeAsDate | Kind::Time => {
            let Some(dt) = date_time(f, i) else {
                out.null();
                return Some("unreadable date; stored NULL".into());
            };
            if t == FieldType::Date {
                let note = (kind == Kind::DateTimeAsDate && (dt.3, dt.4, dt.5) != (0, 0, 0.0))
                    .then(|| {
                        format!(
                            "time {:02}:{:02}:{:02} of a date column dropped",
                            dt.3, dt.4, dt.5 as i32
                        )
                    });
                let days = chrono::NaiveDate::from_ymd_opt(dt.0, dt.1 as u32, dt.2 as u32)
                    .zip(chrono::NaiveDate::from_ymd_opt(2000, 1, 1))
                    .map(|(d, e)| (d - e).num_days() as i32);
                match days {
                    Some(n) => {
                        out.date_days(n);
                        return note;
                    }
                    None => {
                        out.null();
                        return Some(format!(
                            "date {}-{}-{} does not exist; stored NULL",
                            dt.0, dt.1, dt.2
                        ));
                    }
                }
            } else {
                let s = if kind == Kind::Date {
                    format!("{:04}-{:02}-{:02}", dt.0, dt.1, dt.2)
                } else {
                    iso(dt, kind == Kind::Time)
                };
                out.bytes(s.as_bytes());
            }
            None
        }
        Kind::Text | Kind::Skip => {
            // Empty text is NULL, as in the shapefile path (MapInfo and DGN
            // have no NULL strings).
            let raw = raw_string(f, i);
            if raw.is_empty() {
                out.null();
            } else {
                out.bytes(text.decode(raw).as_bytes());
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recoded_latin1_text_is_turned_back_into_tcvn3() {
        // "Tiền Giang" in TCVN3 bytes, as GDAL hands it after a Latin-1 -> UTF-8 recoding.
        let tcvn3 = TextEncoding::Tcvn3.encode("Tiền Giang").unwrap();
        let recoded: String = tcvn3.iter().map(|&b| char::from(b)).collect();
        let m = TextMode {
            encoding: TextEncoding::Tcvn3,
            undo_recoding: true,
        };
        assert_eq!(m.decode(recoded.as_bytes()), "Tiền Giang");
    }

    #[test]
    fn datetimes_are_iso_8601() {
        assert_eq!(
            iso((2024, 3, 1, 8, 5, 9.0, 100 + 28), false),
            "2024-03-01T08:05:09+07:00"
        );
        assert_eq!(
            iso((2024, 3, 1, 8, 5, 9.5, 0), false),
            "2024-03-01T08:05:09.500"
        );
    }
}
