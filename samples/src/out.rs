//! Writing one sample layer: the shapefile in a chosen text encoding, its
//! `.prj` (ESRI WKT as agency software writes it, or none) and `.cpg`.

use std::path::{Path, PathBuf};

use vnshp::encoding::TextEncoding;
use vnshp::shapefile::{Shape, ShapeType, ShapefileWriter, WriteField, WriteValue};

use crate::SampleError;

/// ESRI WKT of VN-2000 / TM-3 105°45' (Tiền Giang), as ArcGIS-based
/// cadastral software writes it: no EPSG authority.
pub const PRJ_TIEN_GIANG: &str = r#"PROJCS["VN_2000_TM3_Tien_Giang",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.75],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

/// A value before encoding.
pub enum V {
    Null,
    S(String),
    I(i64),
    F(f64),
    D(u16, u8, u8),
    B(bool),
}

/// How a layer's files are written.
pub struct LayerOut<'a> {
    pub dir: &'a Path,
    pub name: &'a str,
    pub shape_type: ShapeType,
    pub fields: Vec<WriteField>,
    pub encoding: TextEncoding,
    /// Write a `.cpg` naming the encoding (legacy TCVN3 files have none).
    pub cpg: bool,
    pub prj: bool,
}

/// Writes `records` as `<dir>/<name>.shp` (+ .shx .dbf, .prj, .cpg).
pub fn write_layer(
    l: &LayerOut<'_>,
    records: impl IntoIterator<Item = (Shape, Vec<V>)>,
) -> Result<PathBuf, SampleError> {
    std::fs::create_dir_all(l.dir).map_err(|e| SampleError::io(l.dir, e))?;
    let base = l.dir.join(l.name);
    let io = |e| SampleError::io(&base, e);
    let mut w = ShapefileWriter::create(&base, l.shape_type, l.fields.clone()).map_err(io)?;
    for (shape, values) in records {
        let vals = values
            .into_iter()
            .map(|v| {
                Ok(match v {
                    V::Null => WriteValue::Null,
                    V::S(s) => WriteValue::Text(
                        l.encoding
                            .encode(&s)
                            .map_err(|e| SampleError::Encode(e.to_string()))?,
                    ),
                    V::I(i) => WriteValue::Int(i),
                    V::F(f) => WriteValue::Float(f),
                    V::D(y, m, d) => WriteValue::Date(y, m, d),
                    V::B(b) => WriteValue::Bool(b),
                })
            })
            .collect::<Result<Vec<_>, SampleError>>()?;
        w.write(&shape, &vals).map_err(io)?;
    }
    let shp = w.finish().map_err(io)?;
    if l.prj {
        std::fs::write(base.with_extension("prj"), PRJ_TIEN_GIANG).map_err(io)?;
    }
    if l.cpg {
        let name = match l.encoding {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Cp1258 => "1258",
            _ => {
                return Err(SampleError::Encode(
                    "no .cpg name exists for TCVN3/VNI".into(),
                ))
            }
        };
        std::fs::write(base.with_extension("cpg"), name).map_err(io)?;
    }
    Ok(shp)
}
