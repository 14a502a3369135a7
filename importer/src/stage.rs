//! SQL of the staging area: the stage table (the COPY target, finished in
//! place by `crate::finish`) and the parallel COPY writers.
//! Every name here comes from the plan (validated layer names, sanitised
//! columns), quoted; values are bound parameters.

use std::sync::Arc;

use catalog::{quote_ident, versioned_table, GEOM_3857_COLUMN, GEOM_COLUMN, STAGE_SCHEMA};
use futures::future::try_join_all;
use sqlx::postgres::{PgCopyIn, PgPoolCopyExt};
use sqlx::PgPool;
use tokio::sync::{mpsc, Mutex};

use crate::copy::{COPY_HEADER, COPY_TRAILER};
use crate::error::ImportError;
use crate::plan::Plan;

/// `geokho_stage."<layer>_v<version>"`.
pub struct StageNames {
    /// `<layer>_v<version>`, unquoted.
    pub base: String,
    pub table: String,
}

impl StageNames {
    pub fn new(layer: &str, version: i64) -> Self {
        let t = versioned_table(layer, version);
        StageNames {
            base: t.clone(),
            table: format!("{}.{}", quote_ident(STAGE_SCHEMA), quote_ident(&t)),
        }
    }

    /// The staged companion table `<layer>_v<version><suffix>`, quoted.
    pub fn companion(&self, suffix: &str) -> String {
        format!(
            "{}.{}",
            quote_ident(STAGE_SCHEMA),
            quote_ident(&format!("{}{suffix}", self.base))
        )
    }
}

/// Drops what interrupted imports of *other* layers left in the stage
/// schema (a `kill -9`, a lost connection): a layer's leftovers go only
/// while this session holds that layer's import lock, so a running import
/// of it keeps its tables. Returns how many tables were dropped.
pub async fn drop_abandoned(pool: &PgPool, own_layer: &str) -> Result<usize, ImportError> {
    let layers: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT substring(tablename FROM '^(.*)_v[0-9]+(?:_raw|__edges)?$') AS layer \
         FROM pg_tables WHERE schemaname = $1 AND tablename ~ '_v[0-9]+(_raw|__edges)?$' ORDER BY 1",
    )
    .bind(STAGE_SCHEMA)
    .fetch_all(pool)
    .await?;
    let mut conn = pool.acquire().await?;
    let mut dropped = 0;
    for layer in layers.iter().filter(|l| l.as_str() != own_layer) {
        let key = catalog::import_lock_key(layer);
        let free: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
        if !free {
            continue; // an import of that layer is running
        }
        let r = drop_leftovers(pool, layer).await;
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(key)
            .execute(&mut *conn)
            .await?;
        dropped += r?;
    }
    Ok(dropped)
}

/// Drops what earlier, interrupted imports of `layer` left in the stage schema.
/// The caller holds the layer's advisory lock, so nothing else uses them.
pub async fn drop_leftovers(pool: &PgPool, layer: &str) -> Result<usize, ImportError> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename ~ ('^' || $2 || '_v[0-9]+(_raw|__edges)?$')",
    )
    .bind(STAGE_SCHEMA)
    .bind(layer)
    .fetch_all(pool)
    .await?;
    for t in &tables {
        sqlx::query(&format!(
            "DROP TABLE IF EXISTS {}.{}",
            quote_ident(STAGE_SCHEMA),
            quote_ident(t)
        ))
        .execute(pool)
        .await?;
    }
    Ok(tables.len())
}

/// The stage table's columns and SQL types, in COPY order: `fid`, the
/// attributes, `geom` (typed), `geom_3857`, the band columns (lines and
/// polygons), `zmin`, and `_check` (rows `crate::finish` completes in
/// PostGIS; dropped once they are).
fn columns(plan: &Plan) -> Vec<(String, String)> {
    let mut cols = vec![("fid".to_string(), "bigint NOT NULL".to_string())];
    for f in &plan.schema.fields {
        cols.push((f.name.clone(), f.field_type.sql().to_string()));
    }
    cols.push((
        GEOM_COLUMN.into(),
        format!("geometry({}, {})", plan.geometry_type, plan.srid),
    ));
    cols.push((GEOM_3857_COLUMN.into(), "geometry".into()));
    if catalog::generalizes(&plan.geometry_type) {
        for (_, c) in catalog::GENERALIZED {
            cols.push(((*c).into(), "geometry".into()));
        }
    }
    cols.push((catalog::MINZOOM_COLUMN.into(), "smallint".into()));
    cols.push((CHECK_COLUMN.into(), "boolean".into()));
    cols
}

/// Flags rows the workers left to PostGIS (see `crate::mercator`).
pub const CHECK_COLUMN: &str = "_check";

fn column_list(plan: &Plan) -> String {
    columns(plan)
        .iter()
        .map(|(c, _)| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `CREATE TABLE` of the stage table COPY writes into (a logged table: it
/// is published as it is).
fn create_sql(plan: &Plan, n: &StageNames) -> String {
    let cols: Vec<String> = columns(plan)
        .iter()
        .map(|(c, t)| format!("{} {t}", quote_ident(c)))
        .collect();
    format!("CREATE TABLE {} ({})", n.table, cols.join(", "))
}

/// Creates the stage table and starts the COPY writers fed by the returned
/// sender; the join handle yields the number of rows written.
///
/// One connection: it creates the table in its own transaction and loads it
/// with `FREEZE`: rows are written frozen and all-visible, so nothing
/// (ANALYZE, the index builds, autovacuum after publishing) rewrites the
/// pages to set hint bits or freeze them, and a writer killed midway leaves
/// no table behind. More: the table is created first, then `connections`
/// plain COPY streams share the rows (they cannot freeze: the table must be
/// created in the writing transaction).
pub fn spawn_writers(
    pool: &PgPool,
    plan: &Plan,
    n: &StageNames,
    connections: usize,
) -> (
    mpsc::Sender<Vec<u8>>,
    tokio::task::JoinHandle<Result<u64, ImportError>>,
) {
    let freeze = connections <= 1;
    let (tx, rx) = mpsc::channel::<Vec<u8>>(connections.max(2) * 2);
    let rx = Arc::new(Mutex::new(rx));
    let create = create_sql(plan, n);
    let sql = format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary{})",
        n.table,
        column_list(plan),
        if freeze { ", FREEZE" } else { "" }
    );
    let pool = pool.clone();
    let handle = tokio::spawn(async move {
        if freeze {
            let mut conn = pool.acquire().await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            sqlx::query(&create).execute(&mut *tx).await?;
            let rows = stream_rows(tx.copy_in_raw(&sql).await?, &rx).await?;
            tx.commit().await?;
            return Ok(rows);
        }
        sqlx::query(&create).execute(&pool).await?;
        let writers = (0..connections).map(|_| {
            let (pool, rx, sql) = (pool.clone(), rx.clone(), sql.clone());
            async move { stream_rows(pool.copy_in_raw(&sql).await?, &rx).await }
        });
        Ok(try_join_all(writers).await?.into_iter().sum())
    });
    (tx, handle)
}

/// Sends the header, every chunk `rx` yields (its buffer then goes back to
/// the producers) and the trailer; the number of rows written.
async fn stream_rows<C>(
    mut copy: PgCopyIn<C>,
    rx: &Mutex<mpsc::Receiver<Vec<u8>>>,
) -> Result<u64, ImportError>
where
    C: std::ops::DerefMut<Target = sqlx::PgConnection>,
{
    copy.send(COPY_HEADER).await?;
    loop {
        let chunk = rx.lock().await.recv().await;
        let Some(c) = chunk else { break };
        copy.send(c.as_slice()).await?;
        crate::copy::give_buffer(c);
    }
    copy.send(COPY_TRAILER).await?;
    Ok(copy.finish().await?)
}
