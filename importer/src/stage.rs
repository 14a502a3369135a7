//! SQL of the staging area: the stage table (the COPY target, finished in
//! place by `crate::finish`) and the parallel COPY writers.
//! Every name here comes from the plan (validated layer names, sanitised
//! columns), quoted; values are bound parameters.

use std::sync::Arc;

use catalog::{quote_ident, versioned_table, GEOM_3857_COLUMN, GEOM_COLUMN, STAGE_SCHEMA};
use futures::future::try_join_all;
use sqlx::postgres::PgPoolCopyExt;
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

/// Creates the stage table (for writers that do not create it themselves).
pub async fn create_table(pool: &PgPool, plan: &Plan, n: &StageNames) -> Result<(), ImportError> {
    sqlx::query(&create_sql(plan, n)).execute(pool).await?;
    Ok(())
}

/// One COPY writer that creates the stage table in its own transaction and
/// loads it with `FREEZE`: rows are written frozen and all-visible, so
/// nothing (ANALYZE, the index builds, autovacuum after publishing) rewrites
/// the pages to set hint bits or freeze them, and a writer killed midway
/// leaves no table behind. The join handle yields the number of rows.
pub fn spawn_freezing_writer(
    pool: &PgPool,
    plan: &Plan,
    n: &StageNames,
) -> (
    mpsc::Sender<Vec<u8>>,
    tokio::task::JoinHandle<Result<u64, ImportError>>,
) {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(4);
    let create = create_sql(plan, n);
    let sql = format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary, FREEZE)",
        n.table,
        column_list(plan)
    );
    let pool = pool.clone();
    let handle = tokio::spawn(async move {
        let mut conn = pool.acquire().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        sqlx::query(&create).execute(&mut *tx).await?;
        let mut copy = tx.copy_in_raw(&sql).await?;
        copy.send(COPY_HEADER).await?;
        while let Some(c) = rx.recv().await {
            copy.send(c.as_slice()).await?;
            crate::copy::give_buffer(c);
        }
        copy.send(COPY_TRAILER).await?;
        let rows = copy.finish().await?;
        tx.commit().await?;
        Ok(rows)
    });
    (tx, handle)
}

/// Starts `connections` COPY writers fed by the returned sender; the join
/// handle yields the number of rows written.
pub fn spawn_writers(
    pool: &PgPool,
    plan: &Plan,
    n: &StageNames,
    connections: usize,
) -> (
    mpsc::Sender<Vec<u8>>,
    tokio::task::JoinHandle<Result<u64, ImportError>>,
) {
    let (tx, rx) = mpsc::channel::<Vec<u8>>(connections * 2);
    let rx = Arc::new(Mutex::new(rx));
    let sql = format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        n.table,
        column_list(plan)
    );
    let pool = pool.clone();
    let handle = tokio::spawn(async move {
        let writers = (0..connections.max(1)).map(|_| {
            let (pool, rx, sql) = (pool.clone(), rx.clone(), sql.clone());
            async move {
                let mut copy = pool.copy_in_raw(&sql).await?;
                copy.send(COPY_HEADER).await?;
                loop {
                    let chunk = rx.lock().await.recv().await;
                    match chunk {
                        Some(c) => {
                            copy.send(c.as_slice()).await?;
                            crate::copy::give_buffer(c);
                        }
                        None => break,
                    };
                }
                copy.send(COPY_TRAILER).await?;
                Ok::<u64, ImportError>(copy.finish().await?)
            }
        });
        Ok(try_join_all(writers).await?.into_iter().sum())
    });
    (tx, handle)
}
