//! Planning an import of one layer: expand the inputs into shapefiles, open
//! each, check they agree (CRS, geometry type), build the layer schema and
//! the fingerprint that tells whether anything changed since the live version.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::encoding::TextEncoding;
use crate::error::ImportError;
use crate::kind::LayerKind;
use crate::schema::{self, LayerSchema, SchemaOptions};
use crate::source::{self, Source};

/// Everything decided before writing.
#[derive(Debug)]
pub struct Plan {
    pub layer: String,
    pub kind: LayerKind,
    pub sources: Vec<Source>,
    pub schema: LayerSchema,
    pub srid: i32,
    /// PostGIS type, e.g. `MultiPolygon`; `None` when every file is empty/null-typed.
    pub geometry_type: String,
    pub fingerprint: String,
    pub records: u64,
}

/// Expands files and directories into `.shp` paths (sorted, de-duplicated).
pub fn expand_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, ImportError> {
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found).map_err(|e| ImportError::file(p, e.to_string()))?;
            if found.is_empty() {
                return Err(ImportError::file(p, "directory holds no .shp file"));
            }
            out.extend(found);
        } else if p.is_file() {
            let is_shp = p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("shp"));
            if !is_shp {
                return Err(ImportError::file(
                    p,
                    "not a .shp file (other formats arrive with GDAL support)",
                ));
            }
            out.push(p.clone());
        } else {
            return Err(ImportError::file(p, "no such file or directory"));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("shp"))
        {
            out.push(p);
        }
    }
    Ok(())
}

/// Options that shape a plan.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub layer: String,
    pub kind: LayerKind,
    pub srs: Option<i32>,
    pub encoding: Option<TextEncoding>,
    pub schema: SchemaOptions,
}

/// Opens every input and checks that they form one layer.
pub fn plan(inputs: &[PathBuf], opts: &PlanOptions) -> Result<Plan, ImportError> {
    if !catalog::valid_layer_name(&opts.layer) {
        return Err(ImportError::Input(format!(
            "--layer '{}': use 1-40 characters a-z, 0-9, _ starting with a letter",
            opts.layer
        )));
    }
    let shps = expand_inputs(inputs)?;
    if shps.is_empty() {
        return Err(ImportError::layer(&opts.layer, "no input files"));
    }
    let sources = shps
        .iter()
        .map(|p| source::open(p, opts.encoding, opts.srs))
        .collect::<Result<Vec<_>, _>>()?;
    let srid = sources[0].srid.value;
    if let Some(other) = sources.iter().find(|s| s.srid.value != srid) {
        return Err(ImportError::layer(
            &opts.layer,
            format!(
                "{} is in EPSG:{srid} but {} is in EPSG:{}: import files of different CRSs as separate layers",
                sources[0].files.shp.display(),
                other.files.shp.display(),
                other.srid.value
            ),
        ));
    }
    let mut geometry_type: Option<String> = None;
    for s in &sources {
        let Some(t) = s.shp.header.shape_type.postgis_type() else {
            if s.shp.header.shape_type == crate::shapefile::ShapeType::MultiPatch {
                return Err(ImportError::file(
                    &s.files.shp,
                    "MultiPatch shapefiles are not supported",
                ));
            }
            continue;
        };
        match &geometry_type {
            None => geometry_type = Some(t),
            Some(g) if *g == t => {}
            Some(g) => {
                return Err(ImportError::layer(
                    &opts.layer,
                    format!(
                        "mixed geometry types: {} is {t} but earlier files are {g}",
                        s.files.shp.display()
                    ),
                ))
            }
        }
    }
    let dbf_fields: Vec<_> = sources
        .iter()
        .map(|s| {
            s.dbf
                .as_ref()
                .map(|d| d.header.fields.clone())
                .unwrap_or_default()
        })
        .collect();
    let schema = schema::build(&dbf_fields, opts.kind.default_restricted(), &opts.schema);
    let fingerprint = fingerprint(&sources, opts);
    let records = sources.iter().map(|s| s.shp.len()).sum();
    Ok(Plan {
        layer: opts.layer.clone(),
        kind: opts.kind,
        sources,
        schema,
        srid,
        geometry_type: geometry_type.unwrap_or_else(|| "Geometry".into()),
        fingerprint,
        records,
    })
}

fn fingerprint(sources: &[Source], opts: &PlanOptions) -> String {
    let mut h = Sha256::new();
    for s in sources {
        for (_, sum) in &s.checksums {
            h.update(sum.as_bytes());
        }
        h.update(s.encoding.value.name().as_bytes());
        h.update(s.srid.value.to_le_bytes());
    }
    h.update(opts.kind.name().as_bytes());
    let mut renames: Vec<_> = opts.schema.renames.iter().collect();
    renames.sort();
    h.update(format!("{renames:?}{:?}", opts.schema.restricted).as_bytes());
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    // Layout of the stored layer table: bump when stage.rs changes what it builds,
    // so `--if-changed` re-imports data stored in an older layout.
    h.update(b"layout-2");
    hex::encode(h.finalize())
}
