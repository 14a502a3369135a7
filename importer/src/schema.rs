//! From DBF fields to the layer's columns: sanitised unique names, PostgreSQL
//! types (widened when files of one layer disagree), restricted flags, and
//! the conversion of raw DBF values into binary COPY values.

use std::collections::HashMap;

use catalog::{Field, FieldType};

use crate::copy::RowBuf;
use crate::encoding::TextEncoding;
use crate::shapefile::DbfField;
use crate::source::SourceField;

/// Column names the importer itself uses.
const RESERVED: &[&str] = &["fid", "geom", "geom_3857", "geom_raw", "_repaired", "zmin"];

fn reserved(name: &str) -> bool {
    RESERVED.contains(&name) || catalog::GENERALIZED.iter().any(|(_, c)| *c == name)
}

/// Turns a DBF field name into a lower-case SQL-safe column name.
///
/// ```
/// assert_eq!(importer::schema::sanitize_name(b"SO_THUA"), "so_thua");
/// assert_eq!(importer::schema::sanitize_name(b"Dien tich"), "dien_tich");
/// assert_eq!(importer::schema::sanitize_name(b"1abc"), "f_1abc");
/// assert_eq!(importer::schema::sanitize_name(b"GEOM"), "geom_src");
/// ```
pub fn sanitize_name(raw: &[u8]) -> String {
    let mut s: String = raw
        .iter()
        .map(|&b| {
            let c = (b as char).to_ascii_lowercase();
            if c.is_ascii_alphanumeric() {
                c
            } else {
                '_'
            }
        })
        .collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let mut s = s.trim_matches('_').to_string();
    if s.is_empty() {
        s = "field".into();
    }
    if s.as_bytes()[0].is_ascii_digit() {
        s = format!("f_{s}");
    }
    if reserved(&s) {
        s.push_str("_src");
    }
    s
}

/// PostgreSQL type for a DBF field.
pub fn field_type(f: &DbfField) -> FieldType {
    match f.kind {
        b'N' | b'F' if f.decimals == 0 && f.length <= 9 => FieldType::Int4,
        b'N' | b'F' if f.decimals == 0 && f.length <= 18 => FieldType::Int8,
        b'N' | b'F' | b'O' => FieldType::Float8,
        b'I' => FieldType::Int4,
        b'L' => FieldType::Bool,
        b'D' => FieldType::Date,
        _ => FieldType::Text,
    }
}

/// The wider of two types, so every file's values fit.
fn widen(a: FieldType, b: FieldType) -> FieldType {
    use FieldType::*;
    match (a, b) {
        (x, y) if x == y => x,
        (Int4, Int8) | (Int8, Int4) => Int8,
        (Int4 | Int8 | Float8, Int4 | Int8 | Float8) => Float8,
        _ => Text,
    }
}

/// The layer's columns and, per source, which source field feeds each.
#[derive(Debug, Clone)]
pub struct LayerSchema {
    pub fields: Vec<Field>,
    /// `mapping[source][column]` = index of the source's field, if it has it.
    pub mapping: Vec<Vec<Option<usize>>>,
}

/// Options shaping the schema (`renames`, `restricted`, `public_fields` of a
/// manifest or the command line). Names may be spelled as in the DBF
/// (`SOTHUA`) or as columns (`sothua`); a name given that matches no field
/// is an error, so that a typo cannot leave personal data public. Names
/// inherited from the live version that match no field any more are
/// dropped (the lost field shows in the import's schema changes).
#[derive(Debug, Clone, Default)]
pub struct SchemaOptions {
    /// Source field -> new column name.
    pub renames: HashMap<String, String>,
    /// Columns restricted in addition to personal data.
    pub restricted: Vec<String>,
    /// Personal-data columns published by name.
    pub public: Vec<String>,
    /// Which of the three came from the live version rather than the operator.
    pub inherited: Inherited,
}

/// Which [`SchemaOptions`] lists were inherited from the live version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Inherited {
    pub renames: bool,
    pub restricted: bool,
    pub public: bool,
}

/// Builds the schema of a layer from the fields of each of its sources.
/// A column is restricted when its name or its source field's name is
/// personal data ([`catalog::is_personal`], whatever the layer's kind;
/// renaming does not publish it) or `opts.restricted` names it, unless
/// `opts.public` names it. The error names the option and the field.
pub fn build(files: &[Vec<SourceField>], opts: &SchemaOptions) -> Result<LayerSchema, String> {
    let renames: HashMap<String, (&String, &String)> = opts
        .renames
        .iter()
        .map(|(from, to)| (sanitize_name(from.as_bytes()), (from, to)))
        .collect();
    let mut renamed = std::collections::HashSet::new();
    let mut fields: Vec<Field> = Vec::new();
    // Per column: the source columns feeding it (for the personal-data check).
    let mut origins: Vec<Vec<String>> = Vec::new();
    let mut mapping = Vec::with_capacity(files.len());
    for dbf in files {
        let mut used = HashMap::new();
        let mut map: Vec<Option<usize>> = vec![None; fields.len()];
        for (i, f) in dbf.iter().enumerate() {
            let mut name = f.column.clone();
            if let Some((from, to)) = renames.get(&name) {
                renamed.insert(*from);
                name = sanitize_name(to.as_bytes());
            }
            // Same name twice in one file: suffix it.
            let n = used.entry(name.clone()).or_insert(0u32);
            *n += 1;
            if *n > 1 {
                name = format!("{name}_{n}");
            }
            let t = f.field_type;
            let col = match fields.iter().position(|x| x.name == name) {
                Some(c) => {
                    fields[c].field_type = widen(fields[c].field_type, t);
                    c
                }
                None => {
                    let source = f.name.clone();
                    fields.push(Field {
                        source: (source != name).then_some(source),
                        name: name.clone(),
                        field_type: t,
                        restricted: false,
                    });
                    origins.push(Vec::new());
                    map.push(None);
                    fields.len() - 1
                }
            };
            origins[col].push(f.column.clone());
            map[col] = Some(i);
        }
        mapping.push(map);
    }
    for m in &mut mapping {
        m.resize(fields.len(), None);
    }
    let listing = || {
        let mut names: Vec<&str> = files.iter().flatten().map(|f| f.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names.join(", ")
    };
    let mut unused: Vec<&String> = opts
        .renames
        .keys()
        .filter(|k| !renamed.contains(k))
        .collect();
    unused.sort();
    if let (Some(k), false) = (unused.first(), opts.inherited.renames) {
        return Err(format!(
            "renames (--rename): no field '{k}' in the source files (fields: {})",
            listing()
        ));
    }
    // Each name given must match a column; inherited ones may have gone.
    let columns_of = |option: &str, names: &[String], inherited: bool| {
        let mut out = Vec::new();
        for name in names {
            let wanted = sanitize_name(name.as_bytes());
            match fields.iter().position(|f| f.name == wanted) {
                Some(c) => out.push(c),
                None if inherited => {}
                None => {
                    let cols: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                    return Err(format!(
                        "{option}: no column '{name}' in this layer (columns: {})",
                        cols.join(", ")
                    ));
                }
            }
        }
        Ok(out)
    };
    let restricted = columns_of(
        "restricted (--restricted)",
        &opts.restricted,
        opts.inherited.restricted,
    )?;
    let public = columns_of(
        "public_fields (--public-fields)",
        &opts.public,
        opts.inherited.public,
    )?;
    if let Some(c) = restricted.iter().find(|c| public.contains(c)) {
        return Err(format!(
            "column '{}' is both in restricted and in public_fields",
            fields[*c].name
        ));
    }
    for (c, f) in fields.iter_mut().enumerate() {
        let personal =
            catalog::is_personal(&f.name) || origins[c].iter().any(|o| catalog::is_personal(o));
        f.restricted = restricted.contains(&c) || (personal && !public.contains(&c));
    }
    Ok(LayerSchema { fields, mapping })
}

/// Trims DBF padding (spaces and NULs) on both ends.
/// `b` without leading and trailing spaces and NULs (`c & 0xDF == 0`
/// holds for those two bytes only). Text fields are padded to their width
/// (an address of 87 bytes in a 254-byte field): the padding is skipped
/// eight bytes at a time.
fn trim(b: &[u8]) -> &[u8] {
    const PAD: u64 = 0xDFDF_DFDF_DFDF_DFDF;
    let mut end = b.len();
    while let Some(w) = end.checked_sub(8).map(|s| &b[s..end]) {
        if u64::from_le_bytes(w.try_into().expect("8 bytes")) & PAD != 0 {
            break;
        }
        end -= 8;
    }
    while end > 0 && b[end - 1] & 0xDF == 0 {
        end -= 1;
    }
    let start = b[..end].iter().position(|&c| c & 0xDF != 0).unwrap_or(end);
    &b[start..end]
}

fn days_since_2000(y: i32, m: u32, d: u32) -> Option<i32> {
    let date = chrono::NaiveDate::from_ymd_opt(y, m, d)?;
    let epoch = chrono::NaiveDate::from_ymd_opt(2000, 1, 1)?;
    Some((date - epoch).num_days() as i32)
}

fn parse_ascii<T: std::str::FromStr>(b: &[u8]) -> Option<T> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Writes one value of DBF field `f` (bytes `raw`) as a column of type `t`.
/// Returns a note when a non-empty value could not be converted (stored NULL).
pub fn write_value(
    out: &mut RowBuf,
    f: &DbfField,
    raw: &[u8],
    t: FieldType,
    enc: TextEncoding,
) -> Option<String> {
    // Binary-typed DBF fields first (not text on disk).
    match f.kind {
        b'I' if raw.len() == 4 => {
            let v = i32::from_le_bytes(raw.try_into().expect("4"));
            return write_number(out, t, v as f64, Some(i64::from(v)));
        }
        b'O' if raw.len() == 8 => {
            let v = f64::from_le_bytes(raw.try_into().expect("8"));
            return write_number(out, t, v, None);
        }
        _ => {}
    }
    let v = trim(raw);
    if v.is_empty() || (matches!(f.kind, b'N' | b'F') && v.iter().all(|&c| c == b'*')) {
        out.null();
        return None;
    }
    match t {
        FieldType::Text => {
            let s = enc.decode_cow(v);
            out.bytes(s.as_bytes());
            None
        }
        FieldType::Int4 | FieldType::Int8 | FieldType::Float8 => {
            let int = parse_ascii::<i64>(v);
            match int.map(|i| i as f64).or_else(|| parse_ascii::<f64>(v)) {
                Some(x) => write_number(out, t, x, int),
                None => bad(out, f, v, "is not a number"),
            }
        }
        FieldType::Bool => match v[0] {
            b'T' | b't' | b'Y' | b'y' => {
                out.bool(true);
                None
            }
            b'F' | b'f' | b'N' | b'n' => {
                out.bool(false);
                None
            }
            b'?' => {
                out.null();
                None
            }
            _ => bad(out, f, v, "is not a logical value"),
        },
        FieldType::Date => {
            let d = (v.len() == 8)
                .then(|| {
                    Some((
                        parse_ascii::<i32>(&v[0..4])?,
                        parse_ascii::<u32>(&v[4..6])?,
                        parse_ascii::<u32>(&v[6..8])?,
                    ))
                })
                .flatten()
                .and_then(|(y, m, d)| days_since_2000(y, m, d));
            match d {
                Some(days) => {
                    out.date_days(days);
                    None
                }
                None if v.iter().all(|&c| c == b'0') => {
                    out.null();
                    None
                }
                None => bad(out, f, v, "is not a YYYYMMDD date"),
            }
        }
    }
}

pub(crate) fn write_number(
    out: &mut RowBuf,
    t: FieldType,
    x: f64,
    int: Option<i64>,
) -> Option<String> {
    match t {
        FieldType::Int4 => match int.and_then(|i| i32::try_from(i).ok()) {
            Some(i) => out.i32(i),
            None => {
                out.null();
                return Some(format!("{x} does not fit a 32-bit integer"));
            }
        },
        FieldType::Int8 => match int {
            Some(i) => out.i64(i),
            None if x.fract() == 0.0 && x.abs() < 9.0e18 => out.i64(x as i64),
            None => {
                out.null();
                return Some(format!("{x} is not an integer"));
            }
        },
        FieldType::Float8 => out.f64(x),
        FieldType::Text => out.bytes(int.map_or(x.to_string(), |i| i.to_string()).as_bytes()),
        FieldType::Bool | FieldType::Date => {
            out.null();
            return Some(format!("number {x} in a non-numeric column"));
        }
    }
    None
}

fn bad(out: &mut RowBuf, f: &DbfField, v: &[u8], what: &str) -> Option<String> {
    out.null();
    Some(format!(
        "field {}: '{}' {what}; stored NULL",
        String::from_utf8_lossy(&f.name),
        String::from_utf8_lossy(v)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, kind: u8, length: usize, decimals: u8) -> DbfField {
        DbfField {
            name: name.as_bytes().to_vec(),
            kind,
            length,
            decimals,
            offset: 1,
        }
    }

    #[test]
    fn trim_drops_spaces_and_nuls_at_both_ends_only() {
        // Against the byte-by-byte definition, on every mix of padding,
        // text bytes that share bits with a space (0x00, 0x20, 0x40, 0x60,
        // 0xA0, 0xE0 ...) and lengths around the 8-byte steps.
        let naive = |b: &[u8]| -> Vec<u8> {
            let pad = |c: &u8| *c == b' ' || *c == 0;
            let s = b.iter().position(|c| !pad(c)).unwrap_or(b.len());
            let e = b.iter().rposition(|c| !pad(c)).map_or(s, |e| e + 1);
            b[s..e].to_vec()
        };
        let alphabet = [b' ', 0, b'@', b'`', 0xA0, 0xE0, b'a', 0xC3];
        let mut x: u64 = 7;
        for len in 0..40 {
            for _ in 0..300 {
                let b: Vec<u8> = (0..len)
                    .map(|_| {
                        x = x
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        // Mostly padding, so long runs of it occur.
                        let r = (x >> 33) as usize;
                        if !r.is_multiple_of(3) {
                            [b' ', 0][r % 2]
                        } else {
                            alphabet[r % alphabet.len()]
                        }
                    })
                    .collect();
                assert_eq!(trim(&b), naive(&b).as_slice(), "{b:02X?}");
            }
        }
    }

    #[test]
    fn schema_merges_files_and_widens_types() {
        let a = vec![field("SO_THUA", b'N', 6, 0), field("TEN_CHU", b'C', 50, 0)];
        let b = vec![
            field("so_thua", b'N', 12, 0),
            field("DIEN_TICH", b'N', 12, 2),
        ];
        let src = |v: Vec<DbfField>| -> Vec<SourceField> {
            v.iter()
                .map(|f| SourceField {
                    name: String::from_utf8_lossy(&f.name).into_owned(),
                    column: sanitize_name(&f.name),
                    field_type: field_type(f),
                })
                .collect()
        };
        let s = build(&[src(a), src(b)], &SchemaOptions::default()).unwrap();
        let names: Vec<_> = s.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["so_thua", "ten_chu", "dien_tich"]);
        assert_eq!(s.fields[0].field_type, FieldType::Int8);
        assert!(s.fields[1].restricted);
        assert_eq!(s.mapping[0], vec![Some(0), Some(1), None]);
        assert_eq!(s.mapping[1], vec![Some(0), None, Some(1)]);
    }

    #[test]
    fn values_convert_and_bad_ones_become_null_with_a_note() {
        let mut out = RowBuf::with_capacity(64);
        let n = field("N", b'N', 8, 0);
        assert!(write_value(
            &mut out,
            &n,
            b"   42   ",
            FieldType::Int4,
            TextEncoding::Utf8
        )
        .is_none());
        assert_eq!(&out.buf[..], &[0, 0, 0, 4, 0, 0, 0, 42]);
        out.buf.clear();
        let note = write_value(&mut out, &n, b"  4x2", FieldType::Int4, TextEncoding::Utf8);
        assert!(note.unwrap().contains("'4x2' is not a number"));
        assert_eq!(&out.buf[..], &(-1i32).to_be_bytes());
        out.buf.clear();
        let d = field("D", b'D', 8, 0);
        assert!(write_value(
            &mut out,
            &d,
            b"20000102",
            FieldType::Date,
            TextEncoding::Utf8
        )
        .is_none());
        assert_eq!(&out.buf[..], &[0, 0, 0, 4, 0, 0, 0, 1]);
    }
}
