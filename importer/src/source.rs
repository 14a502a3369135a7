//! One source of an import, opened and understood before anything is
//! written: readers, record count, fields, geometry type, text encoding
//! (with the reason it was chosen), CRS, plausibility of coordinates, and
//! the files it reads. A source is a shapefile (our own reader, [`open`]) or one
//! layer of a dataset GDAL reads ([`crate::ogr::open`]).

use std::path::{Path, PathBuf};

use catalog::FieldType;

use crate::encoding::{self, TextEncoding};
use crate::error::ImportError;
use crate::ogr::OgrLayer;
use crate::schema;
use crate::shapefile::{DbfReader, FileSet, ShapeType, ShpReader};
use crate::srs;

/// How a source's text encoding or CRS was decided.
#[derive(Debug, Clone)]
pub struct Decided<T> {
    pub value: T,
    pub how: String,
}

/// The parts of a shapefile and their readers.
#[derive(Debug)]
pub struct Shapefile {
    pub files: FileSet,
    pub shp: ShpReader,
    pub dbf: Option<DbfReader>,
}

/// How a source's records are read.
#[derive(Debug)]
pub enum Reader {
    Shapefile(Shapefile),
    Ogr(OgrLayer),
}

/// One attribute field of a source.
#[derive(Debug, Clone)]
pub struct SourceField {
    /// The name as the source spells it (for the catalog's `source`).
    pub name: String,
    /// The sanitised column name it becomes (before renames).
    pub column: String,
    pub field_type: FieldType,
}

/// An opened source.
#[derive(Debug)]
pub struct Source {
    /// What reports name: the `.shp`, or the dataset (`FILE:LAYER` when it
    /// holds several layers).
    pub path: PathBuf,
    pub reader: Reader,
    pub records: u64,
    /// PostGIS geometry type (`MultiPolygon`, `PointZ`, ...); `None` when the
    /// source has no typed geometry (null shapefile).
    pub geometry_type: Option<String>,
    pub fields: Vec<SourceField>,
    pub encoding: Decided<TextEncoding>,
    pub srid: Decided<i32>,
    /// Every file the source reads (their sha256 are taken by
    /// `crate::checksum`, off the load's critical path).
    pub files: Vec<PathBuf>,
    /// Warnings for the report (e.g. the `.shx` was rebuilt).
    pub notes: Vec<String>,
    pub index_rebuilt: bool,
}

/// Opens `shp` and decides its encoding and CRS (`encoding`/`srs` override).
pub fn open(
    shp: &Path,
    encoding: Option<TextEncoding>,
    srs: Option<srs::Forced>,
) -> Result<Source, ImportError> {
    let files = FileSet::find(shp)?;
    let shp_reader = ShpReader::open(&files.shp, files.shx.as_deref())?;
    let mut notes = Vec::new();
    if shp_reader.index_rebuilt {
        notes.push(format!(
            "no .shx: the record index was rebuilt by scanning {}",
            files.shp.display()
        ));
    }
    // Without its .dbf a shapefile has lost its attributes: publishing it
    // would replace a layer's data by bare shapes.
    let Some(dbf_path) = files.dbf.as_deref() else {
        return Err(ImportError::file(
            &files.shp,
            "no .dbf beside it: the attributes are missing; send the .dbf with the .shp",
        ));
    };
    let mut dbf = Some(DbfReader::open(dbf_path)?);
    // A .dbf with no field at all (some writers emit one for geometry-only
    // data, with 0 records) carries nothing: import the geometry alone.
    if dbf
        .as_ref()
        .is_some_and(|d| d.header.fields.is_empty() && d.header.records == 0)
    {
        notes.push("the .dbf defines no field: geometry only, no attributes".into());
        dbf = None;
    }
    if let Some(d) = &dbf {
        if d.header.records != shp_reader.len() {
            return Err(ImportError::file(
                d.path(),
                format!(
                    "has {} records but the .shp has {}: the files do not belong together",
                    d.header.records,
                    shp_reader.len()
                ),
            ));
        }
    }
    let encoding = decide_encoding(&files, dbf.as_ref(), encoding)?;
    let srid = decide_srid(&files, srs)?;
    if !shp_reader.is_empty() {
        srs::check_plausible(srid.value, shp_reader.header.bbox)
            .map_err(|e| ImportError::file(&files.shp, e))?;
    }
    let read = files.parts().into_iter().map(Path::to_path_buf).collect();
    if shp_reader.header.shape_type == ShapeType::MultiPatch {
        return Err(ImportError::file(
            &files.shp,
            "MultiPatch shapefiles are not supported",
        ));
    }
    let fields = dbf
        .as_ref()
        .map(|d| {
            d.header
                .fields
                .iter()
                .map(|f| SourceField {
                    name: String::from_utf8_lossy(&f.name).into_owned(),
                    column: schema::sanitize_name(&f.name),
                    field_type: schema::field_type(f),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Source {
        path: files.shp.clone(),
        records: shp_reader.len(),
        geometry_type: shp_reader.header.shape_type.postgis_type(),
        index_rebuilt: shp_reader.index_rebuilt,
        fields,
        reader: Reader::Shapefile(Shapefile {
            files,
            shp: shp_reader,
            dbf,
        }),
        encoding,
        srid,
        files: read,
        notes,
    })
}

fn decide_srid(files: &FileSet, forced: Option<srs::Forced>) -> Result<Decided<i32>, ImportError> {
    if let Some(f) = forced {
        let own = match &files.prj {
            Some(prj) => std::fs::read(prj)
                .ok()
                .and_then(|t| srs::identify_prj(&String::from_utf8_lossy(&t)).ok()),
            None => None,
        };
        let at = files.prj.as_deref().unwrap_or(&files.shp);
        let (value, how) = f.against(own).map_err(|e| ImportError::file(at, e))?;
        return Ok(Decided {
            value,
            how: how.into(),
        });
    }
    let Some(prj) = &files.prj else {
        return Err(ImportError::file(
            &files.shp,
            "no .prj and no --srs: the coordinate system is unknown; pass --srs EPSG:<code> or vn2000:<province> (e.g. vn2000:tien-giang)",
        ));
    };
    let text = std::fs::read(prj).map_err(|e| ImportError::file(prj, e.to_string()))?;
    let wkt = String::from_utf8_lossy(&text);
    let id = srs::identify_prj_noted(&wkt).map_err(|e| {
        ImportError::file(
            prj,
            format!("cannot identify the CRS ({e}); pass --srs EPSG:<code>"),
        )
    })?;
    Ok(Decided {
        value: id.code,
        how: match id.note {
            Some(n) => format!(".prj; {n}"),
            None => ".prj".into(),
        },
    })
}

/// Samples of text field bytes from the first records, for detection.
fn text_samples(dbf: &DbfReader, max_records: u64) -> Result<Vec<Vec<u8>>, ImportError> {
    let text_fields: Vec<_> = dbf
        .header
        .fields
        .iter()
        .filter(|f| f.kind == b'C')
        .cloned()
        .collect();
    let mut out = Vec::new();
    if text_fields.is_empty() {
        return Ok(out);
    }
    dbf.for_each_in(0, max_records, |_, rec| {
        for f in &text_fields {
            if let Some(v) = rec.get(f.offset..f.offset + f.length) {
                let t: Vec<u8> = v
                    .iter()
                    .copied()
                    .rev()
                    .skip_while(|&c| c == b' ' || c == 0)
                    .collect();
                if !t.is_empty() {
                    out.push(t.into_iter().rev().collect());
                }
            }
        }
        Ok(())
    })?;
    Ok(out)
}

fn decide_encoding(
    files: &FileSet,
    dbf: Option<&DbfReader>,
    forced: Option<TextEncoding>,
) -> Result<Decided<TextEncoding>, ImportError> {
    if let Some(e) = forced {
        return Ok(Decided {
            value: e,
            how: "--encoding".into(),
        });
    }
    if let Some(cpg) = &files.cpg {
        let text = std::fs::read(cpg).map_err(|e| ImportError::file(cpg, e.to_string()))?;
        if let Some(e) = encoding::from_cpg(&String::from_utf8_lossy(&text)) {
            return Ok(Decided {
                value: e,
                how: ".cpg".into(),
            });
        }
    }
    let Some(dbf) = dbf else {
        return Ok(Decided {
            value: TextEncoding::Utf8,
            how: "no .dbf".into(),
        });
    };
    if let Some(e) = encoding::from_ldid(dbf.header.ldid) {
        return Ok(Decided {
            value: e,
            how: format!("DBF language driver 0x{:02x}", dbf.header.ldid),
        });
    }
    let samples = text_samples(dbf, 5000)?;
    let refs: Vec<&[u8]> = samples.iter().map(|s| s.as_slice()).collect();
    let d = encoding::detect(&refs);
    Ok(Decided {
        value: d.encoding,
        how: format!("detected ({}, confidence {:.2})", d.reason, d.confidence),
    })
}
