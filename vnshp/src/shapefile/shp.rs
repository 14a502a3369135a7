//! The `.shp` main file: header, record index (from `.shx`, or rebuilt by
//! scanning when it is missing) and raw record content by record number.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::ShapefileError;

/// Coordinate dimensions stored by a shape type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dims {
    Xy,
    Xym,
    Xyz,
}

/// The shapefile shape types (ESRI whitepaper, 1998).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeType {
    Null,
    Point(Dims),
    PolyLine(Dims),
    Polygon(Dims),
    MultiPoint(Dims),
    MultiPatch,
}

impl ShapeType {
    /// Decodes the numeric code, `None` for an unknown one.
    pub fn from_code(code: i32) -> Option<ShapeType> {
        use Dims::*;
        Some(match code {
            0 => ShapeType::Null,
            1 => ShapeType::Point(Xy),
            3 => ShapeType::PolyLine(Xy),
            5 => ShapeType::Polygon(Xy),
            8 => ShapeType::MultiPoint(Xy),
            11 => ShapeType::Point(Xyz),
            13 => ShapeType::PolyLine(Xyz),
            15 => ShapeType::Polygon(Xyz),
            18 => ShapeType::MultiPoint(Xyz),
            21 => ShapeType::Point(Xym),
            23 => ShapeType::PolyLine(Xym),
            25 => ShapeType::Polygon(Xym),
            28 => ShapeType::MultiPoint(Xym),
            31 => ShapeType::MultiPatch,
            _ => return None,
        })
    }

    /// The numeric code.
    pub fn code(self) -> i32 {
        match self {
            ShapeType::Null => 0,
            ShapeType::Point(d) => [1, 21, 11][d as usize],
            ShapeType::PolyLine(d) => [3, 23, 13][d as usize],
            ShapeType::Polygon(d) => [5, 25, 15][d as usize],
            ShapeType::MultiPoint(d) => [8, 28, 18][d as usize],
            ShapeType::MultiPatch => 31,
        }
    }

    /// PostGIS geometry type the importer stores this shape type as
    /// (lines and polygons promoted to multi types; points kept as points).
    pub fn postgis_type(self) -> Option<String> {
        let (base, dims) = match self {
            ShapeType::Null | ShapeType::MultiPatch => return None,
            ShapeType::Point(d) => ("Point", d),
            ShapeType::MultiPoint(d) => ("MultiPoint", d),
            ShapeType::PolyLine(d) => ("MultiLineString", d),
            ShapeType::Polygon(d) => ("MultiPolygon", d),
        };
        Some(match dims {
            Dims::Xy => base.to_string(),
            Dims::Xyz => format!("{base}Z"),
            Dims::Xym => format!("{base}M"),
        })
    }
}

/// The 100-byte header of a `.shp` file.
#[derive(Debug, Clone, Copy)]
pub struct ShpHeader {
    pub shape_type: ShapeType,
    /// xmin, ymin, xmax, ymax.
    pub bbox: [f64; 4],
    /// Length in bytes that the header declares.
    pub declared_len: u64,
}

/// Byte offset and content length of one record.
#[derive(Debug, Clone, Copy)]
struct Entry {
    offset: u64,
    len: u32,
}

/// An opened `.shp` with its record index.
#[derive(Debug)]
pub struct ShpReader {
    path: PathBuf,
    pub header: ShpHeader,
    index: Vec<Entry>,
    /// True when the index was rebuilt by scanning because `.shx` was missing.
    pub index_rebuilt: bool,
}

fn be_i32(b: &[u8]) -> i32 {
    i32::from_be_bytes([b[0], b[1], b[2], b[3]])
}
fn le_i32(b: &[u8]) -> i32 {
    i32::from_le_bytes([b[0], b[1], b[2], b[3]])
}
fn le_f64(b: &[u8]) -> f64 {
    f64::from_le_bytes(b[..8].try_into().expect("8 bytes"))
}

fn read_header(path: &Path, b: &[u8]) -> Result<ShpHeader, ShapefileError> {
    if b.len() < 100 {
        return Err(ShapefileError::bad(
            path,
            "shorter than the 100-byte shapefile header (empty or truncated file)",
        ));
    }
    if be_i32(&b[0..4]) != 9994 {
        return Err(ShapefileError::bad(
            path,
            "not a shapefile (file code is not 9994)",
        ));
    }
    let code = le_i32(&b[32..36]);
    let shape_type = ShapeType::from_code(code)
        .ok_or_else(|| ShapefileError::bad(path, format!("unknown shape type {code}")))?;
    Ok(ShpHeader {
        shape_type,
        bbox: [
            le_f64(&b[36..]),
            le_f64(&b[44..]),
            le_f64(&b[52..]),
            le_f64(&b[60..]),
        ],
        declared_len: u64::from(be_i32(&b[24..28]) as u32) * 2,
    })
}

impl ShpReader {
    /// Opens `shp`, reading its index from `shx` or scanning when `shx` is `None`.
    pub fn open(shp: &Path, shx: Option<&Path>) -> Result<ShpReader, ShapefileError> {
        let mut f = File::open(shp).map_err(|e| ShapefileError::io(shp, e))?;
        let size = f.metadata().map_err(|e| ShapefileError::io(shp, e))?.len();
        let mut head = vec![0u8; 100.min(size as usize)];
        f.read_exact(&mut head)
            .map_err(|e| ShapefileError::io(shp, e))?;
        let header = read_header(shp, &head)?;
        if size < header.declared_len {
            return Err(ShapefileError::bad(
                shp,
                format!(
                    "truncated: header declares {} bytes but the file has {size}",
                    header.declared_len
                ),
            ));
        }
        let (index, index_rebuilt) = match shx {
            Some(shx) => (read_shx(shx, shp, size)?, false),
            None => (
                scan(shp, &mut f, size.min(header.declared_len.max(100)))?,
                true,
            ),
        };
        Ok(ShpReader {
            path: shp.to_path_buf(),
            header,
            index,
            index_rebuilt,
        })
    }

    /// Number of records.
    pub fn len(&self) -> u64 {
        self.index.len() as u64
    }

    /// Bytes of record `i` in the `.shp` (content and its 8-byte header);
    /// 0 past the end.
    pub fn record_bytes(&self, i: u64) -> u64 {
        self.index
            .get(i as usize)
            .map_or(0, |e| u64::from(e.len) + 8)
    }

    /// Whether the file holds no records.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Path of the `.shp`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Calls `f(record_number, content)` for records `start..end` (0-based),
    /// reading sequentially with one buffered handle.
    pub fn for_each_in<F>(&self, start: u64, end: u64, mut f: F) -> Result<(), ShapefileError>
    where
        F: FnMut(u64, &[u8]) -> Result<(), ShapefileError>,
    {
        let file = File::open(&self.path).map_err(|e| ShapefileError::io(&self.path, e))?;
        let mut r = BufReader::with_capacity(1 << 20, file);
        let mut pos = 0u64;
        let mut buf = Vec::new();
        for i in start..end.min(self.len()) {
            let e = self.index[i as usize];
            let content = e.offset + 8;
            // Records are usually back to back (8-byte record headers between
            // contents): skip forward inside the buffer; a real seek would
            // discard it and re-read 1 MiB per record.
            if content != pos {
                let gap = content as i64 - pos as i64;
                if pos > 0 && (0..1 << 16).contains(&gap) {
                    r.seek_relative(gap)
                } else {
                    r.seek(SeekFrom::Start(content)).map(|_| ())
                }
                .map_err(|x| ShapefileError::io(&self.path, x))?;
            }
            buf.resize(e.len as usize, 0);
            r.read_exact(&mut buf)
                .map_err(|x| ShapefileError::BadRecord {
                    path: self.path.clone(),
                    record: i + 1,
                    reason: format!("cannot read content: {x}"),
                })?;
            pos = content + u64::from(e.len);
            f(i, &buf)?;
        }
        Ok(())
    }
}

fn read_shx(shx: &Path, shp: &Path, shp_size: u64) -> Result<Vec<Entry>, ShapefileError> {
    let b = std::fs::read(shx).map_err(|e| ShapefileError::io(shx, e))?;
    read_header(shx, &b)?;
    if (b.len() - 100) % 8 != 0 {
        return Err(ShapefileError::bad(
            shx,
            format!("length {} is not 100 + 8 x records (truncated?)", b.len()),
        ));
    }
    let mut out = Vec::with_capacity((b.len() - 100) / 8);
    for (i, rec) in b[100..].chunks_exact(8).enumerate() {
        let offset = u64::from(be_i32(&rec[0..4]) as u32) * 2;
        let len = (be_i32(&rec[4..8]) as u32).saturating_mul(2);
        if offset < 100 || offset + 8 + u64::from(len) > shp_size {
            return Err(ShapefileError::BadRecord {
                path: shp.to_path_buf(),
                record: i as u64 + 1,
                reason: format!("the .shx points past the end of the .shp ({shp_size} bytes): truncated .shp or wrong .shx"),
            });
        }
        out.push(Entry { offset, len });
    }
    Ok(out)
}

/// Rebuilds the index by walking the record headers of the `.shp`.
fn scan(shp: &Path, f: &mut File, end: u64) -> Result<Vec<Entry>, ShapefileError> {
    f.seek(SeekFrom::Start(100))
        .map_err(|e| ShapefileError::io(shp, e))?;
    let mut r = BufReader::with_capacity(1 << 20, f);
    let mut out = Vec::new();
    let mut pos = 100u64;
    let mut head = [0u8; 8];
    while pos + 8 <= end {
        r.read_exact(&mut head)
            .map_err(|e| ShapefileError::io(shp, e))?;
        let len = (be_i32(&head[4..8]) as u32).saturating_mul(2);
        if pos + 8 + u64::from(len) > end {
            return Err(ShapefileError::BadRecord {
                path: shp.to_path_buf(),
                record: out.len() as u64 + 1,
                reason: "record runs past the end of the file (truncated .shp)".into(),
            });
        }
        out.push(Entry { offset: pos, len });
        r.seek_relative(i64::from(len))
            .map_err(|e| ShapefileError::io(shp, e))?;
        pos += 8 + u64::from(len);
    }
    Ok(out)
}
