//! Planning an import of one layer: expand the inputs into shapefiles and
//! datasets GDAL reads (`FILE:LAYER` picks one layer of a dataset), open
//! each, check they agree (CRS, geometry type), build the layer schema and
//! what the options add to the fingerprint (`crate::checksum`).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::archive::{self, Extracted};
use crate::encoding::TextEncoding;
use crate::error::ImportError;
use crate::schema::{self, LayerSchema, SchemaOptions};
use crate::source::{self, Source};
use catalog::LayerKind;

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
    /// What the fingerprint takes from the options (kind, renames,
    /// restrictions, program version, table layout); `crate::checksum`
    /// adds the sources' checksums.
    pub options_digest: String,
    pub records: u64,
    /// Folders of extracted ZIP inputs, deleted when the plan is dropped.
    pub extracted: Vec<Extracted>,
}

/// One input of a layer: a shapefile (our reader) or a dataset GDAL opens,
/// with the layer chosen by a `FILE:LAYER` selector.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Input {
    Shapefile(PathBuf),
    Ogr {
        path: PathBuf,
        layer: Option<String>,
    },
}

/// Expands files and directories into inputs (sorted, de-duplicated):
/// `.shp` files, datasets of the formats GDAL reads, `FILE:LAYER` selectors.
/// ZIP archives are refused here: [`plan`] extracts them first.
pub fn expand_inputs(inputs: &[PathBuf]) -> Result<Vec<Input>, ImportError> {
    let mut out = Vec::new();
    for p in inputs {
        let (path, selector) = crate::ogr::split_selector(p);
        if let Some(layer) = selector {
            out.push(Input::Ogr {
                path,
                layer: Some(layer),
            });
        } else if p.is_dir() && !crate::ogr::is_dataset_dir(p) {
            let mut found = Vec::new();
            walk(p, &mut found).map_err(|e| ImportError::file(p, e.to_string()))?;
            if found.is_empty() {
                return Err(ImportError::file(
                    p,
                    "directory holds no .shp file nor any other vector dataset (.gpkg .geojson .tab .mif .dgn .gdb)",
                ));
            }
            out.extend(found);
        } else if p.is_dir() {
            out.push(Input::Ogr {
                path: p.clone(),
                layer: None,
            });
        } else if p.is_file() {
            out.push(input_of(p)?);
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

/// The input a file given on the command line stands for: a `.shp`, the
/// `.shp` beside a `.dbf`/`.shx`/`.prj`/`.cpg` that was named instead, or
/// (any other file) a dataset for GDAL.
fn input_of(p: &Path) -> Result<Input, ImportError> {
    if has_ext(p, "shp") {
        return Ok(Input::Shapefile(p.to_path_buf()));
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
        return shp.map(Input::Shapefile).ok_or_else(|| {
            ImportError::file(
                p,
                format!(
                    "no .shp beside this .{ext}: a shapefile's geometry is in its .shp; give that file (a lone .dbf holds attributes only)"
                ),
            )
        });
    }
    Ok(Input::Ogr {
        path: p.to_path_buf(),
        layer: None,
    })
}

/// Finds shapefiles and datasets of the other formats under `dir` (a `.gdb`
/// folder is one dataset, not searched).
fn walk(dir: &Path, out: &mut Vec<Input>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            if crate::ogr::is_dataset_dir(&p) {
                out.push(Input::Ogr {
                    path: p,
                    layer: None,
                });
            } else {
                walk(&p, out)?;
            }
        } else if has_ext(&p, "shp") {
            out.push(Input::Shapefile(p));
        } else if crate::ogr::FOUND_IN_FOLDERS.iter().any(|e| has_ext(&p, e)) {
            out.push(Input::Ogr {
                path: p,
                layer: None,
            });
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
    /// `--srs-override`: `srs` replaces a `.prj` that says otherwise.
    pub srs_override: bool,
    pub encoding: Option<TextEncoding>,
    pub schema: SchemaOptions,
    /// The published settings besides the schema (title, description, zoom
    /// range, visibility), so `--if-changed` does not skip a change of them.
    pub presentation: String,
}

/// Opens every input and checks that they form one layer.
pub fn plan(inputs: &[PathBuf], opts: &PlanOptions) -> Result<Plan, ImportError> {
    if !catalog::valid_layer_name(&opts.layer) {
        return Err(ImportError::Input(format!(
            "--layer '{}': use 1-40 characters a-z, 0-9, _ starting with a letter, without \"__\"",
            opts.layer
        )));
    }
    let (found, extracted) = gather(inputs)?;
    if found.is_empty() {
        return Err(ImportError::layer(&opts.layer, "no input files"));
    }
    let forced = opts.srs.map(|code| crate::srs::Forced {
        code,
        over_prj: opts.srs_override,
    });
    let sources = found
        .iter()
        .map(|i| match i {
            Input::Shapefile(p) => source::open(p, opts.encoding, forced),
            Input::Ogr { path, layer } => {
                crate::ogr::open(path, layer.as_deref(), opts.encoding, forced)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let srid = sources[0].srid.value;
    if let Some(other) = sources.iter().find(|s| s.srid.value != srid) {
        return Err(ImportError::layer(
            &opts.layer,
            format!(
                "{} is in EPSG:{srid} but {} is in EPSG:{}: import files of different CRSs as separate layers",
                sources[0].path.display(),
                other.path.display(),
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
        let Some(t) = s.geometry_type.clone() else {
            continue;
        };
        match &geometry_type {
            None => geometry_type = Some((t, s.path.clone())),
            Some((g, _)) if *g == t => {}
            Some((g, first)) => {
                return Err(ImportError::layer(
                    &opts.layer,
                    format!(
                    "mixed geometry types: {} is {t} but {} is {g}: import them as separate layers",
                    s.path.display(),
                    first.display()
                ),
                ))
            }
        }
    }
    let fields: Vec<_> = sources.iter().map(|s| s.fields.clone()).collect();
    let schema = schema::build(&fields, &opts.schema)
        .map_err(|reason| ImportError::layer(&opts.layer, reason))?;
    let records: u64 = sources.iter().map(|s| s.records).sum();
    if records == 0 {
        // Publishing nothing would replace a live layer by an empty one.
        return Err(match sources.as_slice() {
            [one] => ImportError::file(
                &one.path,
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
        options_digest: options_digest(opts),
        records,
        extracted,
    })
}

/// Extracts ZIP archives and expands the other inputs.
fn gather(inputs: &[PathBuf]) -> Result<(Vec<Input>, Vec<Extracted>), ImportError> {
    let swept = archive::sweep_abandoned();
    if swept > 0 {
        tracing::info!(
            folders = swept,
            "removed what killed imports extracted from ZIP archives"
        );
    }
    let mut extracted = Vec::new();
    let mut found = Vec::new();
    let mut plain = Vec::new();
    for p in inputs {
        if p.is_file() && archive::is_zip(p) {
            let x = archive::extract(p)?;
            let mut inside = Vec::new();
            walk(&x.dir, &mut inside).map_err(|e| ImportError::file(p, e.to_string()))?;
            if inside.is_empty() {
                return Err(ImportError::file(
                    p,
                    "the archive holds no .shp file nor any other vector dataset",
                ));
            }
            found.extend(inside);
            extracted.push(x);
        } else {
            plain.push(p.clone());
        }
    }
    if !plain.is_empty() {
        found.extend(expand_inputs(&plain)?);
    }
    found.sort();
    found.dedup();
    Ok((found, extracted))
}

fn options_digest(opts: &PlanOptions) -> String {
    let mut h = Sha256::new();
    h.update(opts.kind.name().as_bytes());
    let mut renames: Vec<_> = opts.schema.renames.iter().collect();
    renames.sort();
    h.update(
        format!(
            "{renames:?}{:?}{:?}",
            opts.schema.restricted, opts.schema.public
        )
        .as_bytes(),
    );
    h.update(opts.presentation.as_bytes());
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    // Layout of the stored layer table: bump when stage.rs changes what it builds,
    // so `--if-changed` re-imports data stored in an older layout.
    h.update(b"layout-3");
    hex::encode(h.finalize())
}
