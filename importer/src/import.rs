//! One layer import from start to finish: plan, lock, stage, parallel COPY,
//! finish, publish (atomic swap), clean up. A failure at any step, or the
//! process being killed, leaves the live layer untouched: everything before
//! [`catalog::publish`] happens in the stage schema, and leftovers are dropped
//! by the next import of the layer.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use catalog::{Field, LayerKind, LiveLayer, NewVersion, SourceFile, VersionChanges};
use sqlx::PgPool;

use crate::append;
use crate::checksum::{self, Checksums};
use crate::encoding::TextEncoding;
use crate::error::ImportError;
use crate::finish;
use crate::mercator::Target;
use crate::network;
use crate::plan::{plan, Plan, PlanOptions};
use crate::produce;
use crate::progress::{NoProgress, Progress};
use crate::rejects::{RejectLog, Rejects};
use crate::settings::{self, Resolved, SettingsRequest};
use crate::stage::{self, StageNames};

/// Statements run at once when finishing the stage table, whatever the
/// COPY connections: index builds take a SHARE lock and run side by side.
pub const FINISH_CONNECTIONS: usize = 4;

/// COPY connections by default: half the cores, at least one (so a 2-core
/// machine loads through one frozen COPY, which measured faster there and
/// leaves nothing for autovacuum to rewrite: docs/benchmarks/import.md).
pub fn default_connections() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get() / 2)
        .max(1)
}

/// Options of one layer import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The layer's name.
    pub layer: String,
    /// The CRS of files without a usable `.prj` (EPSG code).
    pub srs: Option<i32>,
    /// `--srs-override`: `srs` replaces a `.prj` that says otherwise.
    pub srs_override: bool,
    /// The DBF text encoding; `None`: detected per file.
    pub encoding: Option<TextEncoding>,
    /// Kind, title, visibility, renames ...: what is not given is kept
    /// from the live version ([`crate::settings`]).
    pub settings: SettingsRequest,
    /// Only plan and report; write nothing.
    pub dry_run: bool,
    /// Skip when sources and options equal those of the live version.
    pub if_changed: bool,
    /// COPY connections. 1: one transaction creates the stage table and
    /// fills it with `COPY ... FREEZE`; more: parallel streams into a table
    /// created beforehand (rows then get hint bits and are frozen later, by
    /// the index builds and autovacuum). The finishing statements (rows
    /// left to PostGIS, index builds) use at least [`FINISH_CONNECTIONS`].
    pub connections: usize,
    /// Add to the live layer (a new version holding old and new features)
    /// instead of replacing it.
    pub append: bool,
    /// Folder of the rejects report (`<layer>-v<version>.csv`, or
    /// `<layer>-dry-run.csv`), written while reading; `None`: counts and
    /// the first [`crate::rejects::SAMPLE`] only.
    pub rejects_dir: Option<PathBuf>,
}

impl ImportOptions {
    /// A plain import of `layer` (replace, no dry run) with the settings
    /// in `settings`, over the default COPY connections.
    pub fn new(layer: impl Into<String>, settings: SettingsRequest) -> Self {
        ImportOptions {
            layer: layer.into(),
            srs: None,
            srs_override: false,
            encoding: None,
            settings,
            dry_run: false,
            if_changed: false,
            connections: default_connections(),
            append: false,
            rejects_dir: None,
        }
    }
}

/// The rejects report of `layer`'s version `version` (`None`: a dry run).
fn rejects_csv(opts: &ImportOptions, layer: &str, version: Option<i64>) -> Option<PathBuf> {
    opts.rejects_dir.as_ref().map(|d| match version {
        Some(v) => d.join(format!("{layer}-v{v}.csv")),
        None => d.join(format!("{layer}-dry-run.csv")),
    })
}

/// Per-file facts for the summary.
#[derive(Debug, Clone)]
pub struct FileSummary {
    pub path: PathBuf,
    pub records: u64,
    pub encoding: String,
    pub encoding_how: String,
    pub srid: i32,
    pub srid_how: String,
    pub index_rebuilt: bool,
    /// Warnings about the file (rebuilt index, ignored empty .dbf, ...).
    pub notes: Vec<String>,
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub layer: String,
    pub kind: String,
    /// What this version changes against the live one: kind, exposure
    /// (confirmed), schema.
    pub changes: VersionChanges,
    /// Fields of the live version the new one lacks.
    pub lost_fields: Vec<String>,
    /// Whether a live version was compared (false: a new layer, or a dry
    /// run without a database).
    pub compared_with_live: bool,
    /// The published version; `None` for a dry run or an unchanged skip.
    pub version: Option<i64>,
    pub skipped_unchanged: bool,
    pub dry_run: bool,
    pub files: Vec<FileSummary>,
    pub srid: i32,
    pub geometry_type: String,
    pub fields: Vec<Field>,
    pub records: u64,
    pub features: u64,
    pub null_geometries: u64,
    /// Rings/parts closed or dropped while reading.
    pub ring_fixes: u64,
    /// Geometries repaired by ST_MakeValid.
    pub repaired: u64,
    /// Rows the workers left to PostGIS to finish (not proven valid, Z/M,
    /// CRS unknown to PROJ by code, simplification not certified).
    pub postgis_rows: u64,
    pub deleted: u64,
    /// Records refused or imported with a value set to NULL.
    pub rejects: Rejects,
    /// The routing network built for a roads layer.
    pub network: Option<network::Network>,
    pub elapsed: Duration,
}

impl ImportReport {
    fn from_plan(p: &Plan, dry_run: bool) -> Self {
        ImportReport {
            layer: p.layer.clone(),
            kind: p.kind.name().into(),
            changes: VersionChanges::default(),
            lost_fields: Vec::new(),
            compared_with_live: false,
            version: None,
            skipped_unchanged: false,
            dry_run,
            files: p
                .sources
                .iter()
                .map(|s| FileSummary {
                    path: s.path.clone(),
                    records: s.records,
                    encoding: s.encoding.value.name().into(),
                    encoding_how: s.encoding.how.clone(),
                    srid: s.srid.value,
                    srid_how: s.srid.how.clone(),
                    index_rebuilt: s.index_rebuilt,
                    notes: s.notes.clone(),
                })
                .collect(),
            srid: p.srid,
            geometry_type: p.geometry_type.clone(),
            fields: p.schema.fields.clone(),
            records: p.records,
            features: 0,
            null_geometries: 0,
            ring_fixes: 0,
            repaired: 0,
            postgis_rows: 0,
            deleted: 0,
            rejects: Rejects::default(),
            network: None,
            elapsed: Duration::ZERO,
        }
    }
}

/// Plans on a blocking thread (it reads files and hashes them).
async fn plan_off_thread(inputs: &[PathBuf], plan_opts: PlanOptions) -> Result<Plan, ImportError> {
    let inputs = inputs.to_vec();
    tokio::task::spawn_blocking(move || plan(&inputs, &plan_opts))
        .await
        .map_err(|e| ImportError::Input(format!("planning panicked: {e}")))?
}

/// Hashes the sources on a blocking thread.
async fn checksums_off_thread(plan: Arc<Plan>) -> Result<Checksums, ImportError> {
    tokio::task::spawn_blocking(move || checksum::compute(&plan))
        .await
        .map_err(|e| ImportError::Input(format!("hashing panicked: {e}")))?
}

/// Settings, plan and the changes against `live`: what an import and a dry
/// run decide before reading a record. Refuses a kind change or a widening
/// of exposure the options do not confirm.
async fn prepare(
    inputs: &[PathBuf],
    opts: &ImportOptions,
    live: Option<&LiveLayer>,
) -> Result<(Resolved, Plan, VersionChanges, Vec<String>), ImportError> {
    let resolved = settings::resolve(&opts.layer, &opts.settings, live)?;
    let plan_opts = PlanOptions {
        layer: opts.layer.clone(),
        kind: resolved.kind,
        srs: opts.srs,
        srs_override: opts.srs_override,
        encoding: opts.encoding,
        schema: resolved.schema.clone(),
        presentation: format!(
            "{}\u{1f}{:?}\u{1f}{:?}\u{1f}{}",
            resolved.title, resolved.settings.description, resolved.zoom, resolved.public
        ),
    };
    let plan = plan_off_thread(inputs, plan_opts).await?;
    let widened = settings::widening(live, &plan.schema.fields, resolved.public);
    if !widened.is_empty() && !opts.settings.widen_exposure {
        return Err(ImportError::layer(
            &plan.layer,
            format!(
                "this import would widen exposure: {}; pass --widen-exposure to publish that, \
                 or name the fields in --restricted (nothing was changed)",
                widened.join("; ")
            ),
        ));
    }
    // A new layer has no schema to change.
    let live_fields = live.map_or(&[][..], |l| l.layer.fields.as_slice());
    let changes = VersionChanges {
        kind_from: resolved.kind_from.map(|k| k.name().to_string()),
        widened,
        schema: match live {
            Some(_) => settings::schema_changes(live_fields, &plan.schema.fields),
            None => Vec::new(),
        },
    };
    let lost = settings::lost_fields(live_fields, &plan.schema.fields);
    Ok((resolved, plan, changes, lost))
}

/// Plans an import and reports what it would do, compared with `live` (the
/// live version of the layer, when a database was reachable), writing nothing.
pub async fn dry_run(
    inputs: &[PathBuf],
    opts: &ImportOptions,
    live: Option<&LiveLayer>,
) -> Result<ImportReport, ImportError> {
    let t0 = Instant::now();
    let (_, plan, changes, lost) = prepare(inputs, opts, live).await?;
    let plan = Arc::new(plan);
    let mut report = ImportReport::from_plan(&plan, true);
    report.changes = changes;
    report.lost_fields = lost;
    report.compared_with_live = live.is_some();
    // Every record read, checked and converted as the import would, the
    // rows dropped: the problems show without a database. Web Mercator
    // through PROJ by the EPSG code (the import asks PostGIS which code).
    let target = Target {
        authority: Some(format!("EPSG:{}", plan.srid)),
        generalize: catalog::generalizes(&plan.geometry_type),
    };
    let p = plan.clone();
    let log = RejectLog::new(rejects_csv(opts, &plan.layer, None));
    let (stats, rejects) = tokio::task::spawn_blocking(move || {
        produce::read_all(&p, &target, produce::split(&p), log, |_, _, _| Ok(()))
    })
    .await
    .map_err(|e| ImportError::Input(format!("reading panicked: {e}")))??;
    report.features = stats.rows;
    report.null_geometries = stats.null_geometries;
    report.ring_fixes = stats.fixes;
    report.deleted = stats.deleted;
    report.postgis_rows = stats.check_fids.len() as u64;
    report.rejects = rejects;
    report.elapsed = t0.elapsed();
    Ok(report)
}

/// Imports `inputs` as one layer into the database behind `pool`.
pub async fn import_layer(
    pool: &PgPool,
    inputs: &[PathBuf],
    opts: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    import_layer_with_progress(pool, inputs, opts, Arc::new(NoProgress)).await
}

/// [`import_layer`], reporting progress to `progress`.
pub async fn import_layer_with_progress(
    pool: &PgPool,
    inputs: &[PathBuf],
    opts: &ImportOptions,
    progress: Arc<dyn Progress>,
) -> Result<ImportReport, ImportError> {
    let live = catalog::live_layer(pool, &opts.layer).await?;
    if opts.dry_run {
        return dry_run(inputs, opts, live.as_ref()).await;
    }
    let t0 = Instant::now();
    let (resolved, plan, changes, lost) = prepare(inputs, opts, live.as_ref()).await?;
    let plan = Arc::new(plan);
    let mut report = ImportReport::from_plan(&plan, false);
    report.changes = changes;
    report.lost_fields = lost;
    report.compared_with_live = live.is_some();
    // Without --if-changed the sources are hashed later, beside PostgreSQL's
    // single-connection work (crate::checksum).
    let mut sums = None;
    if opts.if_changed {
        let c = checksums_off_thread(plan.clone()).await?;
        if catalog::live_fingerprint(pool, &plan.layer)
            .await?
            .as_deref()
            == Some(c.fingerprint.as_str())
        {
            report.skipped_unchanged = true;
            report.elapsed = t0.elapsed();
            return Ok(report);
        }
        sums = Some(c);
    }
    // The session lock lives as long as this connection: a killed import releases it.
    let mut lock_conn = pool.acquire().await?;
    let key = catalog::import_lock_key(&plan.layer);
    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(&mut *lock_conn)
        .await?;
    if !got {
        return Err(ImportError::Busy {
            layer: plan.layer.clone(),
        });
    }
    // Settings and changes were decided against the live version read
    // before the lock: another import may have published since.
    let now = catalog::get_layer(pool, &plan.layer)
        .await?
        .map(|l| l.version);
    let result = if now != live.as_ref().map(|l| l.layer.version) {
        Err(ImportError::layer(
            &plan.layer,
            "another import published a new version while this one was planned: run it again",
        ))
    } else {
        staged_import(pool, plan, sums, opts, &resolved, &mut report, &progress).await
    };
    progress.finish();
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut *lock_conn)
        .await;
    result?;
    report.elapsed = t0.elapsed();
    Ok(report)
}

async fn staged_import(
    pool: &PgPool,
    plan: Arc<Plan>,
    sums: Option<Checksums>,
    opts: &ImportOptions,
    resolved: &Resolved,
    report: &mut ImportReport,
    progress: &Arc<dyn Progress>,
) -> Result<(), ImportError> {
    let dropped = stage::drop_leftovers(pool, &plan.layer).await?
        + stage::drop_abandoned(pool, &plan.layer).await?;
    if dropped > 0 {
        tracing::info!(
            tables = dropped,
            "dropped what interrupted imports left in the stage schema"
        );
    }
    let version = catalog::next_version(pool).await?;
    let r = load_and_publish(
        pool,
        plan.clone(),
        sums,
        (opts, resolved),
        version,
        report,
        progress,
    )
    .await;
    if r.is_err() {
        // Best effort; the next import drops whatever remains.
        let _ = stage::drop_leftovers(pool, &plan.layer).await;
        // The rejects report names a version that was never published.
        if let Some(csv) = rejects_csv(opts, &plan.layer, Some(version)) {
            let _ = std::fs::remove_file(csv);
        }
    }
    r
}

/// What the workers need to compute the derived columns: the layer SRID's
/// authority code as this PostGIS's `spatial_ref_sys` records it (PostGIS
/// resolves `AUTH:CODE` through PROJ, so the workers use the same CRS).
async fn mercator_target(pool: &PgPool, plan: &Plan) -> Result<Target, ImportError> {
    let auth: Option<(Option<String>, Option<i32>)> =
        sqlx::query_as("SELECT auth_name::text, auth_srid FROM spatial_ref_sys WHERE srid = $1")
            .bind(plan.srid)
            .fetch_optional(pool)
            .await?;
    Ok(Target {
        authority: match auth {
            Some((Some(a), Some(c))) if !a.is_empty() => Some(format!("{a}:{c}")),
            _ => None,
        },
        generalize: catalog::generalizes(&plan.geometry_type),
    })
}

/// Loads, finishes and publishes version `version` of the plan's layer;
/// `sums` are the sources' checksums when taken already (`--if-changed`).
async fn load_and_publish(
    pool: &PgPool,
    plan: Arc<Plan>,
    sums: Option<Checksums>,
    (opts, resolved): (&ImportOptions, &Resolved),
    version: i64,
    report: &mut ImportReport,
    progress: &Arc<dyn Progress>,
) -> Result<(), ImportError> {
    let names = &StageNames::new(&plan.layer, version);
    let appending = if opts.append {
        Some(append::check(pool, &plan).await?)
    } else {
        None
    };
    let t_copy = Instant::now();
    let target = mercator_target(pool, &plan).await?;
    let files: Vec<_> = plan
        .sources
        .iter()
        .map(|s| (s.path.clone(), s.records))
        .collect();
    progress.start(&files);
    let prog = progress.clone();
    let (tx, writers) = stage::spawn_writers(pool, &plan, names, opts.connections);
    let p = plan.clone();
    let fid_base = appending.as_ref().map_or(0, |a| a.max_fid);
    let work = produce::split_after(&p, fid_base);
    tracing::debug!(layer = %plan.layer, work_items = work.len(), "split into record ranges");
    let log = RejectLog::new(rejects_csv(opts, &plan.layer, Some(version)));
    // The report is complete once every record is read (the CSV of a
    // version that fails later is removed by `staged_import`).
    let produced = tokio::task::spawn_blocking(move || {
        produce::read_all(&p, &target, work, log, |w, buf, records| {
            prog.advance(w.source, records);
            if !buf.is_empty() {
                tx.blocking_send(buf)
                    .map_err(|_| ImportError::Input("COPY writers stopped".into()))?;
            }
            Ok(())
        })
    });
    let stats = produced
        .await
        .map_err(|e| ImportError::Input(format!("reading panicked: {e}")));
    let copied = writers
        .await
        .map_err(|e| ImportError::Input(format!("COPY writer panicked: {e}")))?;
    // A writer error explains a producer's "writers stopped": report it first.
    let copied = copied?;
    let (stats, rejects) = stats??;
    debug_assert_eq!(copied, stats.rows);
    tracing::debug!(layer = %plan.layer, rows = stats.rows, left_to_postgis = stats.check_fids.len(),
        seconds = t_copy.elapsed().as_secs_f64(), "read, derived and copied");
    // The rows are in: hash the sources while PostgreSQL finishes the table
    // (its first steps run on one connection, leaving a core free).
    let hashing = match sums {
        Some(c) => tokio::spawn(async move { Ok(c) }),
        None => tokio::spawn(checksums_off_thread(plan.clone())),
    };
    progress.phase("rows left to PostGIS, indexes, ANALYZE");
    let fin = finish::finish(
        pool,
        &plan,
        names,
        version,
        opts.connections.max(FINISH_CONNECTIONS),
        &stats,
        appending.as_ref(),
    )
    .await?;
    if plan.kind == LayerKind::Roads {
        progress.phase("routing network");
        report.network = network::build(pool, &plan, names).await?;
    }
    let sums = hashing
        .await
        .map_err(|e| ImportError::Input(format!("hashing panicked: {e}")))??;
    let (minzoom, maxzoom) = resolved.zoom;
    let nv = NewVersion {
        layer: plan.layer.clone(),
        version,
        kind: plan.kind,
        title: resolved.title.clone(),
        geometry_type: plan.geometry_type.clone(),
        srid: plan.srid,
        feature_count: fin.features,
        bounds: fin.bounds,
        minzoom,
        maxzoom,
        public: resolved.public,
        fields: plan.schema.fields.clone(),
        settings: resolved.settings.clone(),
        changes: report.changes.clone(),
        sources: plan
            .sources
            .iter()
            .zip(&sums.per_source)
            .flat_map(|(s, files)| {
                files.iter().map(|(p, sum)| SourceFile {
                    // A ZIP's entries by the archive's name, not the temp folder's.
                    path: plan
                        .extracted
                        .iter()
                        .find_map(|x| x.origin(p))
                        .unwrap_or_else(|| p.clone())
                        .display()
                        .to_string(),
                    sha256: sum.clone(),
                    encoding: s.encoding.value.name().into(),
                    records: s.records,
                })
            })
            .collect(),
        fingerprint: sums.fingerprint.clone(),
        repaired: fin.repaired,
        null_geometries: fin.null_geometries,
        rejected: rejects.rejected as i64,
    };
    catalog::publish(pool, &nv).await?;
    catalog::drop_stale_history(pool, &plan.layer, 2).await?;
    report.version = Some(version);
    report.features = fin.features as u64;
    report.null_geometries = fin.null_geometries as u64;
    report.repaired = fin.repaired as u64;
    report.ring_fixes = stats.fixes;
    report.postgis_rows = stats.check_fids.len() as u64;
    report.deleted = stats.deleted;
    report.rejects = rejects;
    Ok(())
}
