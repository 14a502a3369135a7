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

use std::collections::HashMap;

use anyhow::{bail, Context};
use clap::Args;
use importer::manifest::{self, parse_encoding};
use importer::{ImportOptions, ImportReport, LayerKind, Progress, SettingsRequest};

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
    /// parcels, planning, land_fund, roads, bridges, warehouses, ports, admin,
    /// generic. Default: the live layer's kind (generic for a new layer).
    #[arg(long)]
    pub kind: Option<String>,
    /// Confirms that --kind changes the kind of an existing layer.
    #[arg(long)]
    pub change_kind: bool,
    /// CRS of files without a usable .prj: EPSG:<code> or vn2000:<province>.
    /// A .prj that says otherwise is refused unless --srs-override.
    #[arg(long)]
    pub srs: Option<String>,
    /// Read the files in --srs even where their own .prj says otherwise.
    #[arg(long, requires = "srs")]
    pub srs_override: bool,
    /// auto, utf8, cp1258, tcvn3, vni, latin1.
    #[arg(long, default_value = "auto")]
    pub encoding: String,
    /// The layer's title (default: the live layer's, or the kind's).
    #[arg(long)]
    pub title: Option<String>,
    /// A paragraph about the layer: source, date, coverage.
    #[arg(long)]
    pub description: Option<String>,
    /// Lowest zoom served (default: the live layer's, or the kind's).
    #[arg(long)]
    pub minzoom: Option<i32>,
    /// Highest zoom served (default: the live layer's, or the kind's).
    #[arg(long)]
    pub maxzoom: Option<i32>,
    /// Make the layer readable without a key (default: as the live layer; new layers are public).
    #[arg(long, conflicts_with = "private")]
    pub public: bool,
    /// Make the layer readable only with a `layers:` scope.
    #[arg(long)]
    pub private: bool,
    /// Rename source fields: FROM=TO[,FROM=TO...] (default: the live layer's renames).
    #[arg(long, value_delimiter = ',')]
    pub rename: Option<Vec<String>>,
    /// Fields restricted besides personal data: a,b (default: the live layer's).
    #[arg(long, value_delimiter = ',')]
    pub restricted: Option<Vec<String>>,
    /// Personal-data fields to publish anyway, by name: a,b (default: the live layer's).
    #[arg(long, value_delimiter = ',')]
    pub public_fields: Option<Vec<String>>,
    /// Confirms an import that widens exposure: a restricted field made
    /// public, a private layer made public, personal data published.
    #[arg(long)]
    pub widen_exposure: bool,
    /// A layers.toml manifest instead of inputs.
    #[arg(long, conflicts_with_all = ["inputs", "layer", "kind", "title", "description", "minzoom", "maxzoom", "public", "private", "rename", "restricted", "public_fields", "srs"])]
    pub manifest: Option<PathBuf>,
    /// Show CRS, encoding, counts, schema and the changes against the live
    /// layer; write nothing.
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

/// `FROM=TO` pairs of `--rename`.
fn renames(pairs: &[String]) -> anyhow::Result<HashMap<String, String>> {
    pairs
        .iter()
        .map(|p| match p.split_once('=') {
            Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
                Ok((a.trim().to_string(), b.trim().to_string()))
            }
            _ => bail!("--rename '{p}': write FROM=TO, e.g. --rename TT_GCN=tinh_trang_gcn"),
        })
        .collect()
}

/// What the command line asks of the layer's settings; what it leaves out
/// is kept from the live version.
fn settings(a: &ImportArgs) -> anyhow::Result<SettingsRequest> {
    let kind = a
        .kind
        .as_deref()
        .map(str::parse::<LayerKind>)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--kind: {e}"))?;
    let list = |v: &Option<Vec<String>>| {
        v.as_ref().map(|v| {
            v.iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
    };
    Ok(SettingsRequest {
        kind,
        title: a.title.clone(),
        description: a.description.clone(),
        minzoom: a.minzoom,
        maxzoom: a.maxzoom,
        public: match (a.public, a.private) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        renames: a.rename.as_deref().map(renames).transpose()?,
        restricted: list(&a.restricted),
        public_fields: list(&a.public_fields),
        change_kind: a.change_kind,
        widen_exposure: a.widen_exposure,
    })
}

fn jobs(a: &ImportArgs) -> anyhow::Result<Vec<(Vec<PathBuf>, ImportOptions)>> {
    let finish = |mut o: ImportOptions| {
        o.dry_run = a.dry_run;
        o.if_changed = a.if_changed;
        o.connections = a.connections.max(1);
        o.append = a.append;
        o.rejects_dir = Some(a.rejects_dir.clone());
        o.settings.change_kind = a.change_kind;
        o.settings.widen_exposure = a.widen_exposure;
        o
    };
    if let Some(m) = &a.manifest {
        let layers = manifest::load(m)?;
        return Ok(layers
            .into_iter()
            .map(|l| {
                let (files, o) = l.into_import(1);
                (files, finish(o))
            })
            .collect());
    }
    if a.inputs.is_empty() {
        bail!("nothing to import: give shapefiles, other vector files or folders, or --manifest layers.toml");
    }
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
    let mut base = ImportOptions::new(layer, settings(a)?);
    base.srs = a
        .srs
        .as_deref()
        .map(importer::srs::parse_srs)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    base.srs_override = a.srs_override;
    base.encoding = parse_encoding(&a.encoding).map_err(|e| anyhow::anyhow!("--encoding: {e}"))?;
    // One dataset of several layers (GeoPackage, FileGDB) and no --layer:
    // each layer with geometry becomes its own geokho layer.
    if let (None, [input]) = (&a.layer, a.inputs.as_slice()) {
        if let Some(layers) = dataset_layers(input)? {
            return Ok(layers
                .into_iter()
                .map(|name| {
                    let o = ImportOptions {
                        layer: importer::ogr::column_name(&name),
                        ..base.clone()
                    };
                    let sel = PathBuf::from(format!("{}:{name}", input.display()));
                    (vec![sel], finish(o))
                })
                .collect());
        }
    }
    Ok(vec![(a.inputs.clone(), finish(base))])
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
    // A dry run compares with the live layers when the database answers,
    // and writes nothing there (no migrations either).
    let reader = match &pool {
        Some(_) => None,
        None => match catalog::connect_lazy(url, &Default::default(), Duration::from_secs(3)) {
            Ok(p) => Some(p),
            Err(e) => {
                println!("  note: {e}: not compared with the live layers");
                None
            }
        },
    };
    let mut reports = Vec::new();
    for (files, opts) in &jobs {
        let r = match (&pool, &reader) {
            (Some(p), _) => {
                importer::import_layer_with_progress(p, files, opts, Arc::new(Bars::new())).await
            }
            (None, Some(db)) => match catalog::live_layer(db, &opts.layer).await {
                Ok(live) => {
                    if live.is_none() {
                        println!(
                            "  {}: a new layer (no live version to compare with)",
                            opts.layer
                        );
                    }
                    importer::import::dry_run(files, opts, live.as_ref()).await
                }
                Err(e) => {
                    println!(
                        "  note: {}: not compared with the live layer ({e})",
                        opts.layer
                    );
                    importer::import::dry_run(files, opts, None).await
                }
            },
            (None, None) => importer::import::dry_run(files, opts, None).await,
        }
        .with_context(|| format!("importing layer {}", opts.layer))?;
        print_files(&r);
        print_changes(&r);
        report_rejects(&r);
        reports.push(r);
    }
    print_summary(&reports);
    Ok(())
}

/// The changes against the live layer, and the shipped styles that read a
/// field the new version lacks.
fn print_changes(r: &ImportReport) {
    let c = &r.changes;
    if let Some(from) = &c.kind_from {
        println!(
            "  {}: kind changed from {from} to {} (--change-kind)",
            r.layer, r.kind
        );
    }
    for w in &c.widened {
        println!("  {}: exposure widened (--widen-exposure): {w}", r.layer);
    }
    for s in &c.schema {
        println!("  {}: schema change: {s}", r.layer);
    }
    for (style, field) in api::styles::reading(&r.layer, &r.lost_fields) {
        println!(
            "  {}: style {style} reads field {field}, which this version lacks",
            r.layer
        );
    }
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
