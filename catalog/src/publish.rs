//! Publishing a staged layer version (the atomic swap) and rolling back.
//!
//! An import builds `geokho_stage.<layer>_v<version>` completely (indexes,
//! ANALYZE) before calling [`publish`], which in one transaction moves the
//! live table to `geokho_history`, moves the staged table in, updates the
//! catalog and NOTIFYs. Readers see either the old or the new version.
//! Companion tables derived from a layer (its road network) travel with it.

use serde::Serialize;
use sqlx::{PgPool, Postgres, Transaction};

use crate::{
    quote_ident, CatalogError, Field, LayerKind, LayerSettings, VersionChanges, COMPANIONS,
    DATA_SCHEMA, HISTORY_SCHEMA, STAGE_SCHEMA,
};

/// A source file of an import, recorded in the catalog.
#[derive(Debug, Clone, Serialize)]
pub struct SourceFile {
    pub path: String,
    pub sha256: String,
    pub encoding: String,
    pub records: u64,
}

/// Everything the catalog records about a new layer version.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub layer: String,
    pub version: i64,
    pub kind: LayerKind,
    pub title: String,
    pub geometry_type: String,
    pub srid: i32,
    pub feature_count: i64,
    pub bounds: Option<[f64; 4]>,
    pub minzoom: i32,
    pub maxzoom: i32,
    pub public: bool,
    pub fields: Vec<Field>,
    /// The options it was published with, kept for the next import.
    pub settings: LayerSettings,
    /// What it changed that the operator confirmed or should know.
    pub changes: VersionChanges,
    pub sources: Vec<SourceFile>,
    pub fingerprint: String,
    pub repaired: i64,
    pub null_geometries: i64,
    pub rejected: i64,
}

/// Table name of version `version` of `layer` in the stage and history schemas.
pub fn versioned_table(layer: &str, version: i64) -> String {
    format!("{layer}_v{version}")
}

/// Advisory-lock key serialising publications and rollbacks of one layer
/// (taken per transaction).
pub fn layer_lock_key(layer: &str) -> i64 {
    fnv(b"geokho-layer:", layer)
}

/// Advisory-lock key an import holds for its whole run (per session), so two
/// imports of one layer never overlap and a killed import releases it.
pub fn import_lock_key(layer: &str) -> i64 {
    fnv(b"geokho-import:", layer)
}

fn fnv(prefix: &[u8], layer: &str) -> i64 {
    // FNV-1a: stable across builds and processes.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in prefix.iter().chain(layer.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// A new data version number, larger than every earlier one.
pub async fn next_version(pool: &PgPool) -> Result<i64, CatalogError> {
    Ok(sqlx::query_scalar("SELECT nextval('geokho.data_version')")
        .fetch_one(pool)
        .await?)
}

/// Fingerprint (sources and options) of the live version of `layer`, if any.
pub async fn live_fingerprint(pool: &PgPool, layer: &str) -> Result<Option<String>, CatalogError> {
    Ok(sqlx::query_scalar(
        "SELECT fingerprint FROM geokho.layer_versions WHERE layer = $1 AND state = 'live'",
    )
    .bind(layer)
    .fetch_optional(pool)
    .await?)
}

async fn lock(tx: &mut Transaction<'_, Postgres>, layer: &str) -> Result<(), CatalogError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(layer_lock_key(layer))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn exec(tx: &mut Transaction<'_, Postgres>, sql: &str) -> Result<(), CatalogError> {
    sqlx::query(sql).execute(&mut **tx).await?;
    Ok(())
}

/// Moves table `from_schema.from_name` to `to_schema.to_name`, with its
/// companion tables (see [`COMPANIONS`]) when they exist.
async fn move_table(
    tx: &mut Transaction<'_, Postgres>,
    (from_schema, from_name): (&str, &str),
    (to_schema, to_name): (&str, &str),
) -> Result<(), CatalogError> {
    move_one(tx, (from_schema, from_name), (to_schema, to_name)).await?;
    for suffix in COMPANIONS {
        let (from, to) = (format!("{from_name}{suffix}"), format!("{to_name}{suffix}"));
        if table_exists(tx, from_schema, &from).await? {
            move_one(tx, (from_schema, &from), (to_schema, &to)).await?;
        }
    }
    Ok(())
}

async fn table_exists(
    tx: &mut Transaction<'_, Postgres>,
    schema: &str,
    name: &str,
) -> Result<bool, CatalogError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2)",
    )
    .bind(schema)
    .bind(name)
    .fetch_one(&mut **tx)
    .await?)
}

async fn move_one(
    tx: &mut Transaction<'_, Postgres>,
    (from_schema, from_name): (&str, &str),
    (to_schema, to_name): (&str, &str),
) -> Result<(), CatalogError> {
    if from_name != to_name {
        exec(
            tx,
            &format!(
                "ALTER TABLE {}.{} RENAME TO {}",
                quote_ident(from_schema),
                quote_ident(from_name),
                quote_ident(to_name)
            ),
        )
        .await?;
    }
    exec(
        tx,
        &format!(
            "ALTER TABLE {}.{} SET SCHEMA {}",
            quote_ident(from_schema),
            quote_ident(to_name),
            quote_ident(to_schema)
        ),
    )
    .await
}

/// Moves the live table of `layer` (if any) to history; returns its version.
async fn retire_live(
    tx: &mut Transaction<'_, Postgres>,
    layer: &str,
) -> Result<Option<i64>, CatalogError> {
    let live: Option<i64> =
        sqlx::query_scalar("SELECT version FROM geokho.layers WHERE name = $1 FOR UPDATE")
            .bind(layer)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(old) = live else { return Ok(None) };
    let hist = versioned_table(layer, old);
    move_table(tx, (DATA_SCHEMA, layer), (HISTORY_SCHEMA, &hist)).await?;
    sqlx::query(
        "UPDATE geokho.layer_versions SET state = 'previous', table_name = $3 \
         WHERE layer = $1 AND version = $2",
    )
    .bind(layer)
    .bind(old)
    .bind(&hist)
    .execute(&mut **tx)
    .await?;
    Ok(Some(old))
}

async fn notify(
    tx: &mut Transaction<'_, Postgres>,
    layer: &str,
    v: i64,
) -> Result<(), CatalogError> {
    crate::notify_layer(&mut **tx, layer, v).await
}

async fn upsert_layer(
    tx: &mut Transaction<'_, Postgres>,
    v: &NewVersion,
) -> Result<(), CatalogError> {
    let fields = serde_json::to_value(&v.fields).expect("fields serialise");
    sqlx::query(
        "INSERT INTO geokho.layers (name, kind, title, geometry_type, srid, version, feature_count, \
         bounds, minzoom, maxzoom, public, fields, updated_at, description) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12, now(), $13) \
         ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, title = EXCLUDED.title, \
         geometry_type = EXCLUDED.geometry_type, srid = EXCLUDED.srid, version = EXCLUDED.version, \
         feature_count = EXCLUDED.feature_count, bounds = EXCLUDED.bounds, minzoom = EXCLUDED.minzoom, \
         maxzoom = EXCLUDED.maxzoom, public = EXCLUDED.public, fields = EXCLUDED.fields, updated_at = now(), \
         description = EXCLUDED.description",
    )
    .bind(&v.layer)
    .bind(v.kind.name())
    .bind(&v.title)
    .bind(&v.geometry_type)
    .bind(v.srid)
    .bind(v.version)
    .bind(v.feature_count)
    .bind(v.bounds.map(|b| b.to_vec()))
    .bind(v.minzoom)
    .bind(v.maxzoom)
    .bind(v.public)
    .bind(fields)
    .bind(&v.settings.description)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Swaps the staged table of `v` in as the live layer, in one transaction.
pub async fn publish(pool: &PgPool, v: &NewVersion) -> Result<(), CatalogError> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, &v.layer).await?;
    retire_live(&mut tx, &v.layer).await?;
    let staged = versioned_table(&v.layer, v.version);
    move_table(&mut tx, (STAGE_SCHEMA, &staged), (DATA_SCHEMA, &v.layer)).await?;
    upsert_layer(&mut tx, v).await?;
    sqlx::query(
        "INSERT INTO geokho.layer_versions (layer, version, state, table_name, kind, geometry_type, \
         srid, feature_count, bounds, fields, sources, fingerprint, repaired, null_geometries, rejected, \
         title, minzoom, maxzoom, public, description, settings, changes) \
         VALUES ($1,$2,'live',$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21)",
    )
    .bind(&v.layer)
    .bind(v.version)
    .bind(&v.layer)
    .bind(v.kind.name())
    .bind(&v.geometry_type)
    .bind(v.srid)
    .bind(v.feature_count)
    .bind(v.bounds.map(|b| b.to_vec()))
    .bind(serde_json::to_value(&v.fields).expect("fields serialise"))
    .bind(serde_json::to_value(&v.sources).expect("sources serialise"))
    .bind(&v.fingerprint)
    .bind(v.repaired)
    .bind(v.null_geometries)
    .bind(v.rejected)
    .bind(&v.title)
    .bind(v.minzoom)
    .bind(v.maxzoom)
    .bind(v.public)
    .bind(&v.settings.description)
    .bind(serde_json::to_value(&v.settings).expect("settings serialise"))
    .bind((!v.changes.is_empty()).then(|| serde_json::to_value(&v.changes).expect("changes serialise")))
    .execute(&mut *tx)
    .await?;
    notify(&mut tx, &v.layer, v.version).await?;
    tx.commit().await?;
    Ok(())
}

/// Drops history tables of `layer` beyond the `keep` most recent previous versions.
pub async fn drop_stale_history(
    pool: &PgPool,
    layer: &str,
    keep: usize,
) -> Result<(), CatalogError> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, layer).await?;
    let stale: Vec<(i64, String)> = sqlx::query_as(
        "SELECT version, table_name FROM geokho.layer_versions \
         WHERE layer = $1 AND state = 'previous' ORDER BY version DESC OFFSET $2",
    )
    .bind(layer)
    .bind(keep as i64)
    .fetch_all(&mut *tx)
    .await?;
    for (version, table) in stale {
        let companions = COMPANIONS.iter().map(|s| format!("{table}{s}"));
        for t in std::iter::once(table.clone()).chain(companions) {
            exec(
                &mut tx,
                &format!(
                    "DROP TABLE IF EXISTS {}.{}",
                    quote_ident(HISTORY_SCHEMA),
                    quote_ident(&t)
                ),
            )
            .await?;
        }
        sqlx::query(
            "UPDATE geokho.layer_versions SET state = 'dropped' WHERE layer = $1 AND version = $2",
        )
        .bind(layer)
        .bind(version)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

type VersionRow = (
    i64,
    String,
    String,
    String,
    i32,
    i64,
    Option<Vec<f64>>,
    serde_json::Value,
    // title, minzoom, maxzoom, public: NULL for versions older than migration 0008.
    Option<String>,
    Option<i32>,
    Option<i32>,
    Option<bool>,
    // description and settings: NULL for versions older than migration 0009.
    Option<String>,
    Option<serde_json::Value>,
);

/// Restores the most recent previous version of `layer` as live, under a new
/// (larger) data version so caches keyed on versions never serve stale tiles.
/// The version it replaces becomes the previous one. Returns the new version.
pub async fn rollback(pool: &PgPool, layer: &str) -> Result<i64, CatalogError> {
    let new_version = next_version(pool).await?;
    let mut tx = pool.begin().await?;
    lock(&mut tx, layer).await?;
    let prev: Option<VersionRow> = sqlx::query_as(
        "SELECT version, table_name, kind, geometry_type, srid, feature_count, bounds, fields, \
         title, minzoom, maxzoom, public, description, settings \
         FROM geokho.layer_versions WHERE layer = $1 AND state = 'previous' \
         ORDER BY version DESC LIMIT 1",
    )
    .bind(layer)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((
        old_version,
        table,
        kind,
        geometry_type,
        srid,
        count,
        bounds,
        fields,
        title,
        minzoom,
        maxzoom,
        public,
        description,
        settings,
    )) = prev
    else {
        return Err(CatalogError::NoPreviousVersion(layer.to_string()));
    };
    if retire_live(&mut tx, layer).await?.is_none() {
        return Err(CatalogError::NoSuchLayer(layer.to_string()));
    }
    move_table(&mut tx, (HISTORY_SCHEMA, &table), (DATA_SCHEMA, layer)).await?;
    // The restored row takes the new version number.
    sqlx::query(
        "UPDATE geokho.layer_versions SET version = $3, state = 'live', table_name = $1, \
         imported_at = imported_at WHERE layer = $1 AND version = $2",
    )
    .bind(layer)
    .bind(old_version)
    .bind(new_version)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE geokho.layers SET version = $2, kind = $3, geometry_type = $4, srid = $5, \
         feature_count = $6, bounds = $7, fields = $8, title = coalesce($9, title), \
         minzoom = coalesce($10, minzoom), maxzoom = coalesce($11, maxzoom), \
         public = coalesce($12, public), updated_at = now(), \
         description = CASE WHEN $14 THEN $13 ELSE description END WHERE name = $1",
    )
    .bind(layer)
    .bind(new_version)
    .bind(kind)
    .bind(geometry_type)
    .bind(srid)
    .bind(count)
    .bind(bounds)
    .bind(fields)
    .bind(title)
    .bind(minzoom)
    .bind(maxzoom)
    .bind(public)
    .bind(description)
    // Versions recorded with settings carry their description (NULL: none).
    .bind(settings.is_some())
    .execute(&mut *tx)
    .await?;
    notify(&mut tx, layer, new_version).await?;
    tx.commit().await?;
    Ok(new_version)
}
