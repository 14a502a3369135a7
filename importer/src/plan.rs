//! Planning an import of one layer: expand the inputs into shapefiles, open
//! each, check they agree (CRS, geometry type), build the layer schema and
//! the fingerprint that tells whether anything changed since the live version.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::archive::{self, Extracted};
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
    /// Folders of extracted ZIP inputs, deleted when the plan is dropped.
    pub extracted: Vec<Extracted>,
}

/// Expands files and directories into `.shp` paths (sorted, de-duplicated).
/// ZIP archives are refused here: [`plan`] extracts them first.
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
            out.push(shp_of(p)?);
        } else {
            return Err(ImportError::file(p, "no such file or directory"));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn has_ext(p: &Path, ext: &str) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// The `.shp` a file given on the command line stands for: itself, or the
/// `.shp` beside a `.dbf`/`.shx`/`.prj`/`.cpg` that was named instead.
fn shp_of(p: &Path) -> Result<PathBuf, ImportError> {
    if has_ext(p, "shp") {
        return Ok(p.to_path_buf());
    }
    let part = ["dbf", "shx", "prj", "cpg"].iter().find(|e| has_ext(p, e));
    if let Some(ext) = part {
        let dir = p.parent().unwrap_or(Path::new("."));
        let stem = p.file_stem().unwrap_or_default();
        let shp = std::fs::read_dir(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
        .map_err(|e| ImportError::file(p, e.to_string()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|x| x.file_stem() == Some(stem) && has_ext(x, "shp"));
        return shp.ok_or_else(|| {
            ImportError::file(
                p,
                format!(
                    "no .shp beside this .{ext}: a shapefile's geometry is in its .shp; give that file (a lone .dbf holds attributes only)"
                ),
            )
        });
    }
    Err(ImportError::file(
        p,
        "not a shapefile (.shp) or a folder of them (other formats arrive with GDAL support)",
    ))
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
            "--layer '{}': use 1-40 characters a-z, 0-9, _ starting with a letter, without \"__\"",
            opts.layer
        )));
    }
    let mut extracted = Vec::new();
    let mut shps = Vec::new();
    let mut plain = Vec::new();
    for p in inputs {
        if p.is_file() && archive::is_zip(p) {
            let x = archive::extract(p)?;
            let mut found = Vec::new();
            walk(&x.dir, &mut found).map_err(|e| ImportError::file(p, e.to_string()))?;
            if found.is_empty() {
                return Err(ImportError::file(p, "the archive holds no .shp file"));
            }
            shps.extend(found);
            extracted.push(x);
        } else {
            plain.push(p.clone());
        }
    }
    if !plain.is_empty() {
        shps.extend(expand_inputs(&plain)?);
    }
    shps.sort();
    shps.dedup();
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
    if !(1..=998_999).contains(&srid) {
        return Err(ImportError::layer(
            &opts.layer,
            format!("EPSG:{srid} is outside PostGIS's SRID range 1-998999: check --srs"),
        ));
    }
    // (PostGIS type, the first file of that type)
    let mut geometry_type: Option<(String, PathBuf)> = None;
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
            None => geometry_type = Some((t, s.files.shp.clone())),
            Some((g, _)) if *g == t => {}
            Some((g, first)) => {
                return Err(ImportError::layer(
                    &opts.layer,
                    format!(
                    "mixed geometry types: {} is {t} but {} is {g}: import them as separate layers",
                    s.files.shp.display(),
                    first.display()
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
    let records: u64 = sources.iter().map(|s| s.shp.len()).sum();
    if records == 0 {
        // Publishing nothing would replace a live layer by an empty one.
        return Err(match sources.as_slice() {
            [one] => ImportError::file(
                &one.files.shp,
                "holds no records (header only): refusing to publish an empty layer",
            ),
            many => ImportError::layer(
                &opts.layer,
                format!(
                    "none of the {} files holds a record: refusing to publish an empty layer",
                    many.len()
                ),
            ),
        });
    }
    Ok(Plan {
        layer: opts.layer.clone(),
        kind: opts.kind,
        sources,
        schema,
        srid,
        geometry_type: geometry_type.map_or_else(|| "Geometry".into(), |(t, _)| t),
        fingerprint,
        records,
        extracted,
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
