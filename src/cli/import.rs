//! `geokho import`: one layer from files (shapefiles or any vector dataset
//! GDAL reads; `FILE:LAYER` picks a layer), folders or ZIP archives, every
//! layer of a multi-layer dataset, or every layer of a manifest; progress bars per file on a terminal (features/s,
//! ETA; hidden when stderr is not a terminal, so CI logs stay clean), a
//! summary table at the end and a rejects report when records were refused.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use anyhow::{bail, Context};
use clap::Args;
use importer::manifest::{self, parse_encoding};
use importer::plan::PlanOptions;
use importer::schema::SchemaOptions;
use importer::{ImportOptions, ImportReport, LayerKind, Progress};

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Shapefiles, datasets GDAL reads (.gpkg .geojson .json .tab .mif .dgn,
    /// .gdb folders, ...), folders or ZIP archives of them, forming one
    /// layer. `FILE:LAYER` picks one layer of a dataset; a dataset of several
    /// layers given alone without --layer imports each to its own layer.
    pub inputs: Vec<PathBuf>,
    /// Layer name (a-z, 0-9, _); default: the first file's name.
    #[arg(long)]
    pub layer: Option<String>,
    /// parcels, planning, land_fund, roads, bridges, warehouses, ports, admin, generic.
    #[arg(long, default_value = "generic")]
    pub kind: String,
    /// CRS when there is no .prj: EPSG:<code> or vn2000:<province>.
    #[arg(long)]
    pub srs: Option<String>,
    /// auto, utf8, cp1258, tcvn3, vni, latin1.
    #[arg(long, default_value = "auto")]
    pub encoding: String,
    /// A layers.toml manifest instead of inputs.
    #[arg(long, conflicts_with_all = ["inputs", "layer"])]
    pub manifest: Option<PathBuf>,
    /// Show CRS, encoding, counts and schema; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Skip layers whose files and options equal the live version's.
    #[arg(long)]
    pub if_changed: bool,
    /// COPY connections (default: half the cores). With 1, the stage table is
    /// created and filled in one transaction with COPY FREEZE (rows written
    /// frozen: nothing rewrites them afterwards); with more, rows stream over
    /// parallel connections.
    #[arg(long, default_value_t = importer::import::default_connections())]
    pub connections: usize,
    /// Replace the live layer with the files (the default).
    #[arg(long, conflicts_with = "append")]
    pub replace: bool,
    /// Add the files' features to the live layer (same fields and CRS), as a new version.
    #[arg(long)]
    pub append: bool,
    /// Folder for rejects reports.
    #[arg(long, default_value = "geokho-rejects")]
    pub rejects_dir: PathBuf,
}

fn jobs(a: &ImportArgs) -> anyhow::Result<Vec<(Vec<PathBuf>, ImportOptions)>> {
    let base = |plan: PlanOptions, title, zoom, public| ImportOptions {
        plan,
        title,
        zoom,
        public,
        dry_run: a.dry_run,
        if_changed: a.if_changed,
        connections: a.connections.max(1),
        append: a.append,
        rejects_dir: Some(a.rejects_dir.clone()),
    };
    if let Some(m) = &a.manifest {
        let layers = manifest::load(m)?;
        return Ok(layers
            .into_iter()
            .map(|l| (l.files, base(l.plan, l.title, l.zoom, l.public)))
            .collect());
    }
    if a.inputs.is_empty() {
        bail!("nothing to import: give shapefiles, other vector files or folders, or --manifest layers.toml");
    }
    let kind: LayerKind = a
        .kind
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--kind: {e}"))?;
    let layer = match &a.layer {
        Some(l) => l.clone(),
        None => match importer::ogr::split_selector(&a.inputs[0]) {
            (_, Some(source_layer)) => importer::ogr::column_name(&source_layer),
            (p, None) => importer::schema::sanitize_name(
                p.file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("layer")
                    .as_bytes(),
            ),
        },
    };
    let srs = a
        .srs
        .as_deref()
        .map(importer::srs::parse_srs)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let encoding = parse_encoding(&a.encoding).map_err(|e| anyhow::anyhow!("--encoding: {e}"))?;
    let plan = PlanOptions {
        layer,
        kind,
        srs,
        encoding,
        schema: SchemaOptions::default(),
    };
    // One dataset of several layers (GeoPackage, FileGDB) and no --layer:
    // each layer with geometry becomes its own geokho layer.
    if let (None, [input]) = (&a.layer, a.inputs.as_slice()) {
        if let Some(layers) = dataset_layers(input)? {
            return Ok(layers
                .into_iter()
                .map(|name| {
                    let plan = PlanOptions {
                        layer: importer::ogr::column_name(&name),
                        ..plan.clone()
                    };
                    let sel = PathBuf::from(format!("{}:{name}", input.display()));
                    (vec![sel], base(plan, None, None, true))
                })
                .collect());
        }
    }
    Ok(vec![(a.inputs.clone(), base(plan, None, None, true))])
}

/// The layers with geometry of `input` when it is a dataset of several
/// layers for GDAL (not a shapefile, archive, selector or plain folder).
fn dataset_layers(input: &std::path::Path) -> anyhow::Result<Option<Vec<String>>> {
    let ext = input
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let candidate = importer::ogr::is_dataset_dir(input)
        || (input.is_file()
            && !["shp", "dbf", "shx", "prj", "cpg", "zip"].contains(&ext.as_str())
            && !importer::archive::is_zip(input));
    if !candidate {
        return Ok(None);
    }
    let all = importer::ogr::layers(input)?;
    if all.len() < 2 {
        return Ok(None);
    }
    let (with, without): (Vec<_>, Vec<_>) = all.into_iter().partition(|l| l.has_geometry);
    for l in &without {
        println!(
            "  {}:{} has no geometry column: skipped",
            input.display(),
            l.name
        );
    }
    if with.is_empty() {
        bail!("{}: none of its layers has geometry", input.display());
    }
    Ok(Some(with.into_iter().map(|l| l.name).collect()))
}

pub async fn run(url: &str, a: ImportArgs) -> anyhow::Result<()> {
    let jobs = jobs(&a)?;
    let pool = if a.dry_run {
        None
    } else {
        let opts = catalog::DbOptions {
            max_connections: (a.connections.max(importer::import::FINISH_CONNECTIONS) as u32) + 2,
            ..Default::default()
        };
        Some(super::open_db(url, &opts).await?)
    };
    let mut reports = Vec::new();
    for (files, opts) in &jobs {
        let r = match &pool {
            Some(p) => {
                importer::import_layer_with_progress(p, files, opts, Arc::new(Bars::new())).await
            }
            None => importer::import::dry_run(files, opts).await,
        }
        .with_context(|| format!("importing layer {}", opts.plan.layer))?;
        print_files(&r);
        report_rejects(&r);
        reports.push(r);
    }
    print_summary(&reports);
    Ok(())
}

fn print_files(r: &ImportReport) {
    for f in &r.files {
        println!(
            "  {:<48} {:>8} rec  {:<7} ({})  EPSG:{} ({}){}",
            f.path.display(),
            f.records,
            f.encoding,
            f.encoding_how,
            f.srid,
            f.srid_how,
            if f.index_rebuilt {
                "  .shx rebuilt"
            } else {
                ""
            }
        );
        for n in &f.notes {
            println!("      note: {n}");
        }
    }
    if r.dry_run {
        let fields: Vec<String> = r
            .fields
            .iter()
            .map(|f| {
                format!(
                    "{} {}{}",
                    f.name,
                    f.field_type.sql(),
                    if f.restricted { " (restricted)" } else { "" }
                )
            })
            .collect();
        println!(
            "  {}: {} EPSG:{}; columns: {}",
            r.layer,
            r.geometry_type,
            r.srid,
            fields.join(", ")
        );
        println!(
            "  would import {} features: {} records rejected, {} values stored NULL, {} null shapes, \
             {} rings closed or dropped, {} deleted DBF records skipped, {} geometries for PostGIS \
             to validate (and repair if invalid)",
            r.features,
            r.rejects.rejected,
            r.rejects.nulled,
            r.null_geometries,
            r.ring_fixes,
            r.deleted,
            r.postgis_rows
        );
        const SHOWN: usize = 10;
        for x in r.rejects.sample.iter().take(SHOWN) {
            println!(
                "      {} record {}: {}{}",
                x.file.display(),
                x.record,
                x.reason,
                if x.kept { " (imported)" } else { " (rejected)" }
            );
        }
        if r.rejects.total() > SHOWN as u64 {
            println!(
                "      ... {} more in the rejects report",
                r.rejects.total() - SHOWN as u64
            );
        }
    }
}

fn report_rejects(r: &ImportReport) {
    if let Some(csv) = &r.rejects.csv {
        println!(
            "  {} rejected or altered records listed in {}",
            r.rejects.total(),
            csv.display()
        );
    }
}

fn print_summary(reports: &[ImportReport]) {
    println!(
        "\n{:<16} {:<11} {:>9} {:>9} {:>6} {:>8} {:>8} {:>7} {:>8} {:>8} {:>8}",
        "layer",
        "kind",
        "records",
        "features",
        "nulls",
        "repaired",
        "rejected",
        "deleted",
        "version",
        "seconds",
        "status"
    );
    for r in reports {
        let status = if r.dry_run {
            "dry-run"
        } else if r.skipped_unchanged {
            "unchanged"
        } else {
            "published"
        };
        println!(
            "{:<16} {:<11} {:>9} {:>9} {:>6} {:>8} {:>8} {:>7} {:>8} {:>8.2} {:>8}",
            r.layer,
            r.kind,
            r.records,
            r.features,
            r.null_geometries,
            r.repaired + r.ring_fixes,
            r.rejects.rejected,
            r.deleted,
            r.version.map_or("-".into(), |v| v.to_string()),
            r.elapsed.as_secs_f64(),
            status
        );
    }
    for r in reports {
        if let Some(n) = r.network {
            println!(
                "{}: routing network of {} edges ({} one-way) and {} vertices",
                r.layer, n.edges, n.one_way, n.vertices
            );
        }
    }
}

/// Progress bars on stderr: one per file while reading, then a spinner for
/// the finishing phase. Drawn only when stderr is a terminal.
struct Bars {
    multi: MultiProgress,
    bars: Mutex<Vec<ProgressBar>>,
    spinner: Mutex<Option<ProgressBar>>,
}

impl Bars {
    fn new() -> Self {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Bars {
            multi: MultiProgress::with_draw_target(target),
            bars: Mutex::new(Vec::new()),
            spinner: Mutex::new(None),
        }
    }
}

impl Progress for Bars {
    fn start(&self, files: &[(PathBuf, u64)]) {
        let style = ProgressStyle::with_template(
            "{prefix:<28!} [{bar:30}] {human_pos:>9}/{human_len:9} features {per_sec:>14} ETA {eta}",
        )
        .expect("valid template")
        .progress_chars("=> ");
        let mut bars = self.bars.lock().expect("bars");
        for (path, n) in files {
            let b = self.multi.add(ProgressBar::new(*n));
            b.set_style(style.clone());
            b.set_prefix(
                path.file_name()
                    .map_or(String::new(), |f| f.to_string_lossy().into_owned()),
            );
            bars.push(b);
        }
    }

    fn advance(&self, file: usize, records: u64) {
        if let Some(b) = self.bars.lock().expect("bars").get(file) {
            b.inc(records);
        }
    }

    fn phase(&self, what: &str) {
        for b in self.bars.lock().expect("bars").iter() {
            b.finish();
        }
        let s = self.multi.add(ProgressBar::new_spinner());
        s.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"),
        );
        s.set_message(what.to_string());
        s.enable_steady_tick(Duration::from_millis(120));
        if let Some(old) = self.spinner.lock().expect("spinner").replace(s) {
            old.finish_and_clear();
        }
    }

    fn finish(&self) {
        if let Some(s) = self.spinner.lock().expect("spinner").take() {
            s.finish_and_clear();
        }
        for b in self.bars.lock().expect("bars").iter() {
            b.abandon();
        }
    }
}
