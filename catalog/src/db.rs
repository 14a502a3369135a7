//! Connecting to PostgreSQL and applying the migrations in `seeds/migrations`.

use std::borrow::Cow;
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::CatalogError;

/// Pool settings.
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub max_connections: u32,
    /// statement_timeout for every session, in milliseconds (0: none).
    pub statement_timeout_ms: u64,
    pub application_name: &'static str,
    /// Many short queries (tile serving): no JIT compilation (it cost more
    /// than the heavy low-zoom tile queries themselves) and no parallel
    /// workers per query (the server already runs many queries at once).
    pub short_queries: bool,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            statement_timeout_ms: 0,
            application_name: "geokho",
            short_queries: false,
        }
    }
}

/// Opens a pool on `url` (`postgres://user@host:port/db`).
pub async fn connect(url: &str, opts: &DbOptions) -> Result<PgPool, CatalogError> {
    let (pool, connect) = pool_options(url, opts, Duration::from_secs(10))?;
    Ok(pool.connect_with(connect).await?)
}

/// A pool on `url` that connects on first use, with a short checkout wait:
/// for read replicas, which may be down when the server starts and are
/// health-checked rather than trusted.
pub fn connect_lazy(
    url: &str,
    opts: &DbOptions,
    acquire_timeout: Duration,
) -> Result<PgPool, CatalogError> {
    let (pool, connect) = pool_options(url, opts, acquire_timeout)?;
    Ok(pool.connect_lazy_with(connect))
}

fn pool_options(
    url: &str,
    opts: &DbOptions,
    acquire_timeout: Duration,
) -> Result<(PgPoolOptions, PgConnectOptions), CatalogError> {
    let mut connect: PgConnectOptions = url.parse()?;
    connect = connect.application_name(opts.application_name);
    if opts.statement_timeout_ms > 0 {
        connect = connect.options([("statement_timeout", opts.statement_timeout_ms.to_string())]);
    }
    if opts.short_queries {
        connect = connect.options([("jit", "off"), ("max_parallel_workers_per_gather", "0")]);
    }
    // No ping before every checkout: a dead connection fails its query,
    // which callers map to 503, and the pool replaces it.
    let pool = PgPoolOptions::new()
        .max_connections(opts.max_connections)
        .test_before_acquire(false)
        .acquire_timeout(acquire_timeout);
    Ok((pool, connect))
}

/// A pool of up to `max_connections` on `pool`'s database, with its session
/// settings, whose sessions always run a prepared statement's generic plan
/// (`plan_cache_mode=force_generic_plan`): for small look-ups whose best
/// plan never depends on the values bound (a point, an id). By default
/// PostgreSQL plans such statements again for every execution, because the
/// generic plan's estimate (made without the values) looks dearer than the
/// custom plans'; for a parcel at a point, planning (PostGIS reading the
/// column's statistics for the selectivity of `&&`) cost more CPU than
/// running the plan. Kept off the main pool: an items page over a bbox is
/// a statement whose plan rightly depends on the box.
pub fn generic_plan_pool(pool: &PgPool, max_connections: u32) -> PgPool {
    let connect = pool
        .connect_options()
        .as_ref()
        .clone()
        .options([("plan_cache_mode", "force_generic_plan")]);
    PgPoolOptions::new()
        .max_connections(max_connections.max(1))
        .test_before_acquire(false)
        .acquire_timeout(pool.options().get_acquire_timeout())
        .connect_lazy_with(connect)
}

/// The migrations, embedded in the binary so it runs from any folder.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "catalog",
        include_str!("../../seeds/migrations/0001_catalog.sql"),
    ),
    (
        2,
        "vn2000 srs",
        include_str!("../../seeds/migrations/0002_vn2000_srs.sql"),
    ),
    (
        3,
        "land use codes",
        include_str!("../../seeds/migrations/0003_land_use_codes.sql"),
    ),
    (
        4,
        "pgrouting",
        include_str!("../../seeds/migrations/0004_pgrouting.sql"),
    ),
    (
        5,
        "tile store",
        include_str!("../../seeds/migrations/0005_tile_store.sql"),
    ),
    (
        6,
        "field reports",
        include_str!("../../seeds/migrations/0006_field_reports.sql"),
    ),
    (
        7,
        "api keys and audit log",
        include_str!("../../seeds/migrations/0007_api_keys.sql"),
    ),
    (
        8,
        "title, zoom range and visibility per layer version",
        include_str!("../../seeds/migrations/0008_version_presentation.sql"),
    ),
    (
        9,
        "layer settings and confirmed changes per version",
        include_str!("../../seeds/migrations/0009_layer_settings.sql"),
    ),
    (
        10,
        "administrative units before and after 1 July 2025",
        include_str!("../../seeds/migrations/0010_admin_units.sql"),
    ),
];

/// Applies every migration not yet applied (idempotent; safe with several
/// processes starting at once: sqlx takes an advisory lock).
pub async fn migrate(pool: &PgPool) -> Result<(), CatalogError> {
    let migrations = MIGRATIONS
        .iter()
        .map(|(v, name, sql)| {
            Migration::new(
                *v,
                Cow::Borrowed(*name),
                MigrationType::Simple,
                Cow::Borrowed(*sql),
                false,
            )
        })
        .collect::<Vec<_>>();
    // Every migration only adds (tables, columns, rows): an older build can
    // run on a database a newer build migrated, so a deploy can be rolled
    // back. sqlx would refuse migrations it does not know.
    let migrator = Migrator {
        migrations: Cow::Owned(migrations),
        ignore_missing: true,
        ..Migrator::DEFAULT
    };
    migrator.run(pool).await?;
    crate::reference::load_reference(pool).await
}

/// Migrations of this build not applied (successfully) to the database.
pub async fn pending_migrations(pool: &PgPool) -> Result<usize, CatalogError> {
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await?;
    Ok(MIGRATIONS
        .iter()
        .filter(|(v, _, _)| !applied.contains(v))
        .count())
}
