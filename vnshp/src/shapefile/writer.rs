//! A small shapefile writer (`.shp`, `.shx`, `.dbf`) for the sample generator
//! and tests. Text values are written as given bytes, so callers choose the
//! encoding (UTF-8, or TCVN3 as legacy cadastral software writes it).
//! Point, PolyLine and Polygon files in XY, XYZ(M) and XYM, and Null-typed files.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{Dims, ShapeType};

/// A shape to write (its Z/M ordinates, if any, go to [`ShapefileWriter::write_zm`]).
#[derive(Debug, Clone)]
pub enum Shape {
    Null,
    Point(f64, f64),
    /// Parts of a polyline.
    PolyLine(Vec<Vec<(f64, f64)>>),
    /// Rings of one polygon: the first is the outer ring, the rest holes.
    /// Orientation is fixed by the writer (outer clockwise); rings are
    /// written as given otherwise (an invalid ring stays invalid).
    Polygon(Vec<Vec<(f64, f64)>>),
}

/// A DBF field to create.
#[derive(Debug, Clone)]
pub struct WriteField {
    /// At most 10 ASCII characters.
    pub name: String,
    /// `C`, `N`, `F`, `D` or `L`.
    pub kind: u8,
    pub length: u8,
    pub decimals: u8,
}

impl WriteField {
    pub fn text(name: &str, length: u8) -> Self {
        WriteField {
            name: name.into(),
            kind: b'C',
            length,
            decimals: 0,
        }
    }
    pub fn int(name: &str, length: u8) -> Self {
        WriteField {
            name: name.into(),
            kind: b'N',
            length,
            decimals: 0,
        }
    }
    pub fn float(name: &str, length: u8, decimals: u8) -> Self {
        WriteField {
            name: name.into(),
            kind: b'N',
            length,
            decimals,
        }
    }
    pub fn date(name: &str) -> Self {
        WriteField {
            name: name.into(),
            kind: b'D',
            length: 8,
            decimals: 0,
        }
    }
    pub fn logical(name: &str) -> Self {
        WriteField {
            name: name.into(),
            kind: b'L',
            length: 1,
            decimals: 0,
        }
    }
}

/// A DBF value.
#[derive(Debug, Clone)]
pub enum WriteValue {
    Null,
    /// Already encoded text bytes.
    Text(Vec<u8>),
    Int(i64),
    Float(f64),
    /// (year, month, day)
    Date(u16, u8, u8),
    Bool(bool),
}

/// Writes one shapefile; call [`ShapefileWriter::finish`] at the end.
pub struct ShapefileWriter {
    shp: BufWriter<File>,
    shx: BufWriter<File>,
    dbf: BufWriter<File>,
    shape_type: ShapeType,
    fields: Vec<WriteField>,
    records: u32,
    shp_len: u64,
    bbox: [f64; 4],
    base: PathBuf,
}

fn create(base: &Path, ext: &str) -> std::io::Result<BufWriter<File>> {
    Ok(BufWriter::new(File::create(base.with_extension(ext))?))
}

fn shp_header(
    w: &mut impl Write,
    t: ShapeType,
    len_bytes: u64,
    bbox: [f64; 4],
) -> std::io::Result<()> {
    w.write_all(&9994i32.to_be_bytes())?;
    w.write_all(&[0u8; 20])?;
    w.write_all(&((len_bytes / 2) as i32).to_be_bytes())?;
    w.write_all(&1000i32.to_le_bytes())?;
    w.write_all(&t.code().to_le_bytes())?;
    for v in bbox {
        w.write_all(&v.to_le_bytes())?;
    }
    w.write_all(&[0u8; 32])
}

/// M "no data" (any value below -1e38, per the ESRI specification).
const NO_DATA: f64 = -1e39;

fn dims_of(t: ShapeType) -> Dims {
    match t {
        ShapeType::Point(d)
        | ShapeType::PolyLine(d)
        | ShapeType::Polygon(d)
        | ShapeType::MultiPoint(d) => d,
        ShapeType::Null | ShapeType::MultiPatch => Dims::Xy,
    }
}

fn signed_area(r: &[(f64, f64)]) -> f64 {
    r.windows(2)
        .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
        .sum::<f64>()
        / 2.0
}

impl ShapefileWriter {
    /// Creates `<base>.shp/.shx/.dbf`.
    pub fn create(
        base: &Path,
        shape_type: ShapeType,
        fields: Vec<WriteField>,
    ) -> std::io::Result<Self> {
        let mut w = ShapefileWriter {
            shp: create(base, "shp")?,
            shx: create(base, "shx")?,
            dbf: create(base, "dbf")?,
            shape_type,
            fields,
            records: 0,
            shp_len: 100,
            bbox: [f64::MAX, f64::MAX, f64::MIN, f64::MIN],
            base: base.to_path_buf(),
        };
        shp_header(&mut w.shp, shape_type, 100, [0.0; 4])?;
        shp_header(&mut w.shx, shape_type, 100, [0.0; 4])?;
        w.write_dbf_header()?;
        Ok(w)
    }

    fn write_dbf_header(&mut self) -> std::io::Result<()> {
        let n = self.fields.len();
        let header_len = 32 + 32 * n as u16 + 1;
        let record_len = 1 + self.fields.iter().map(|f| u16::from(f.length)).sum::<u16>();
        let d = &mut self.dbf;
        d.write_all(&[0x03, 126, 1, 1])?;
        d.write_all(&self.records.to_le_bytes())?;
        d.write_all(&header_len.to_le_bytes())?;
        d.write_all(&record_len.to_le_bytes())?;
        d.write_all(&[0u8; 20])?;
        for f in &self.fields {
            let mut name = [0u8; 11];
            let b = f.name.as_bytes();
            name[..b.len().min(10)].copy_from_slice(&b[..b.len().min(10)]);
            d.write_all(&name)?;
            d.write_all(&[f.kind, 0, 0, 0, 0, f.length, f.decimals])?;
            d.write_all(&[0u8; 14])?;
        }
        d.write_all(&[0x0D])
    }

    fn grow(&mut self, x: f64, y: f64) {
        self.bbox = [
            self.bbox[0].min(x),
            self.bbox[1].min(y),
            self.bbox[2].max(x),
            self.bbox[3].max(y),
        ];
    }

    fn content(&mut self, shape: &Shape, z: &[f64], m: &[f64]) -> Vec<u8> {
        let mut c = Vec::new();
        let dims = dims_of(self.shape_type);
        match shape {
            Shape::Null => c.extend_from_slice(&0i32.to_le_bytes()),
            Shape::Point(x, y) => {
                self.grow(*x, *y);
                c.extend_from_slice(&ShapeType::Point(dims).code().to_le_bytes());
                c.extend_from_slice(&x.to_le_bytes());
                c.extend_from_slice(&y.to_le_bytes());
                // PointZ: x y z m; PointM: x y m.
                if dims == Dims::Xyz {
                    c.extend_from_slice(&z[0].to_le_bytes());
                }
                if dims != Dims::Xy {
                    c.extend_from_slice(&m.first().copied().unwrap_or(NO_DATA).to_le_bytes());
                }
            }
            Shape::PolyLine(parts) => {
                let code = ShapeType::PolyLine(dims).code();
                self.parts(&mut c, code, parts.clone(), z.to_vec(), m.to_vec())
            }
            Shape::Polygon(rings) => {
                let (mut z, mut m) = (z.to_vec(), m.to_vec());
                let mut at = 0;
                let oriented = rings
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let cw = signed_area(r) < 0.0;
                        let want_cw = i == 0;
                        let mut r = r.clone();
                        let span = at..at + r.len();
                        at += r.len();
                        if cw != want_cw {
                            r.reverse();
                            for o in [&mut z, &mut m] {
                                if let Some(s) = o.get_mut(span.clone()) {
                                    s.reverse();
                                }
                            }
                        }
                        r
                    })
                    .collect();
                let code = ShapeType::Polygon(dims).code();
                self.parts(&mut c, code, oriented, z, m)
            }
        }
        c
    }

    fn parts(
        &mut self,
        c: &mut Vec<u8>,
        code: i32,
        parts: Vec<Vec<(f64, f64)>>,
        z: Vec<f64>,
        m: Vec<f64>,
    ) {
        let pts: Vec<(f64, f64)> = parts.iter().flatten().copied().collect();
        let mut bb = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
        for &(x, y) in &pts {
            bb = [bb[0].min(x), bb[1].min(y), bb[2].max(x), bb[3].max(y)];
            self.grow(x, y);
        }
        c.extend_from_slice(&code.to_le_bytes());
        for v in bb {
            c.extend_from_slice(&v.to_le_bytes());
        }
        c.extend_from_slice(&(parts.len() as i32).to_le_bytes());
        c.extend_from_slice(&(pts.len() as i32).to_le_bytes());
        let mut at = 0i32;
        for p in &parts {
            c.extend_from_slice(&at.to_le_bytes());
            at += p.len() as i32;
        }
        for (x, y) in pts {
            c.extend_from_slice(&x.to_le_bytes());
            c.extend_from_slice(&y.to_le_bytes());
        }
        // Z types: [zmin zmax][z...] then optionally [mmin mmax][m...]; M types: the M block.
        for o in [z, m] {
            if o.is_empty() {
                continue;
            }
            let lo = o.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = o.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            for v in [lo, hi].into_iter().chain(o) {
                c.extend_from_slice(&v.to_le_bytes());
            }
        }
    }

    /// Appends one record of a 2-D file (or a Null-typed file).
    pub fn write(&mut self, shape: &Shape, values: &[WriteValue]) -> std::io::Result<()> {
        self.write_zm(shape, &[], &[], values)
    }

    /// Appends one record with Z and/or M ordinates, one per point in the
    /// order the shape lists its points: `z` for Z files (required), `m` for
    /// M files (required) and Z files (optional). Rings are re-oriented with
    /// their ordinates. A count that does not match is an `InvalidInput` error.
    pub fn write_zm(
        &mut self,
        shape: &Shape,
        z: &[f64],
        m: &[f64],
        values: &[WriteValue],
    ) -> std::io::Result<()> {
        assert_eq!(values.len(), self.fields.len(), "one value per field");
        let n = match shape {
            Shape::Null => 0,
            Shape::Point(..) => 1,
            Shape::PolyLine(p) | Shape::Polygon(p) => p.iter().map(Vec::len).sum(),
        };
        let dims = dims_of(self.shape_type);
        let ok = match (shape, dims) {
            (Shape::Null, _) => true,
            _ if self.shape_type == ShapeType::Null => false,
            (_, Dims::Xy) => z.is_empty() && m.is_empty(),
            (_, Dims::Xyz) => z.len() == n && (m.is_empty() || m.len() == n),
            (_, Dims::Xym) => z.is_empty() && m.len() == n,
        };
        if !ok {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "{} values for a {n}-point shape in a file of type {}",
                    z.len() + m.len(),
                    self.shape_type.code()
                ),
            ));
        }
        // Refuse a text wider than its field before writing anything: cutting
        // bytes could split a UTF-8 character.
        for (f, v) in self.fields.iter().zip(values) {
            if let WriteValue::Text(b) = v {
                if b.len() > usize::from(f.length) {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!(
                            "{} bytes do not fit field {} of {} bytes",
                            b.len(),
                            f.name,
                            f.length
                        ),
                    ));
                }
            }
        }
        let c = self.content(shape, z, m);
        self.records += 1;
        self.shx
            .write_all(&((self.shp_len / 2) as i32).to_be_bytes())?;
        self.shx.write_all(&((c.len() / 2) as i32).to_be_bytes())?;
        self.shp.write_all(&(self.records as i32).to_be_bytes())?;
        self.shp.write_all(&((c.len() / 2) as i32).to_be_bytes())?;
        self.shp.write_all(&c)?;
        self.shp_len += 8 + c.len() as u64;
        self.dbf.write_all(b" ")?;
        for (f, v) in self.fields.iter().zip(values) {
            let w = usize::from(f.length);
            let text = match v {
                WriteValue::Null => vec![b' '; w],
                WriteValue::Text(b) => {
                    let mut b = b.clone();
                    b.truncate(w);
                    b.resize(w, b' ');
                    b
                }
                WriteValue::Int(i) => format!("{i:>w$}").into_bytes(),
                WriteValue::Float(x) => {
                    format!("{x:>w$.p$}", p = usize::from(f.decimals)).into_bytes()
                }
                WriteValue::Date(y, m, d) => format!("{y:04}{m:02}{d:02}").into_bytes(),
                WriteValue::Bool(b) => vec![if *b { b'T' } else { b'F' }],
            };
            assert_eq!(text.len(), w, "value too wide for field {}", f.name);
            self.dbf.write_all(&text)?;
        }
        Ok(())
    }

    /// Writes the final headers and closes the files.
    pub fn finish(mut self) -> std::io::Result<PathBuf> {
        let bbox = if self.records == 0 {
            [0.0; 4]
        } else {
            self.bbox
        };
        self.dbf.write_all(&[0x1A])?;
        self.dbf.seek(SeekFrom::Start(0))?;
        self.write_dbf_header()?;
        self.dbf.flush()?;
        let shx_len = 100 + 8 * u64::from(self.records);
        self.shp.seek(SeekFrom::Start(0))?;
        shp_header(&mut self.shp, self.shape_type, self.shp_len, bbox)?;
        self.shp.flush()?;
        self.shx.seek(SeekFrom::Start(0))?;
        shp_header(&mut self.shx, self.shape_type, shx_len, bbox)?;
        self.shx.flush()?;
        Ok(self.base.with_extension("shp"))
    }
}
