//! SQL of the staging area: the raw COPY target, the parallel COPY writers,
//! and turning the raw table into the finished layer table (validated and
//! repaired geometry, Web Mercator copy, key, GiST indexes, statistics).
//! Every name here comes from the plan (validated layer names, sanitised
//! columns), quoted; values are bound parameters.

use std::sync::Arc;

use catalog::{quote_ident, versioned_table, GEOM_3857_COLUMN, GEOM_COLUMN, STAGE_SCHEMA};
use futures::future::try_join_all;
use sqlx::postgres::PgPoolCopyExt;
use sqlx::{PgPool, Row};
use tokio::sync::{mpsc, Mutex};

use crate::copy::{COPY_HEADER, COPY_TRAILER};
use crate::error::ImportError;
use crate::plan::Plan;

/// `geokho_stage."<layer>_v<version>"` and its raw twin.
pub struct StageNames {
    pub table: String,
    pub raw: String,
}

impl StageNames {
    pub fn new(layer: &str, version: i64) -> Self {
        let t = versioned_table(layer, version);
        StageNames {
            raw: format!(
                "{}.{}",
                quote_ident(STAGE_SCHEMA),
                quote_ident(&format!("{t}_raw"))
            ),
            table: format!("{}.{}", quote_ident(STAGE_SCHEMA), quote_ident(&t)),
        }
    }
}

/// Drops what earlier, interrupted imports of `layer` left in the stage schema.
/// The caller holds the layer's advisory lock, so nothing else uses them.
pub async fn drop_leftovers(pool: &PgPool, layer: &str) -> Result<usize, ImportError> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename ~ ('^' || $2 || '_v[0-9]+(_raw)?$')",
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

fn column_list(plan: &Plan) -> String {
    let mut cols = vec![quote_ident("fid")];
    cols.extend(plan.schema.fields.iter().map(|f| quote_ident(&f.name)));
    cols.push(quote_ident("geom_raw"));
    cols.join(", ")
}

/// Creates the UNLOGGED raw table COPY writes into.
pub async fn create_raw(pool: &PgPool, plan: &Plan, n: &StageNames) -> Result<(), ImportError> {
    let mut cols = vec!["fid bigint NOT NULL".to_string()];
    cols.extend(
        plan.schema
            .fields
            .iter()
            .map(|f| format!("{} {}", quote_ident(&f.name), f.field_type.sql())),
    );
    cols.push("geom_raw geometry".into());
    sqlx::query(&format!(
        "CREATE UNLOGGED TABLE {} ({})",
        n.raw,
        cols.join(", ")
    ))
    .execute(pool)
    .await?;
    Ok(())
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
        n.raw,
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
                        Some(c) => copy.send(c).await?,
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

/// Expression repairing an invalid `geom_raw` for the layer's geometry type
/// (NULL when a repair cannot keep the type, e.g. non-finite points).
fn repair_sql(geometry_type: &str) -> &'static str {
    if geometry_type.starts_with("MultiPolygon") {
        "ST_Multi(ST_CollectionExtract(ST_MakeValid(r.geom_raw), 3))"
    } else if geometry_type.starts_with("MultiLineString") {
        "ST_Multi(ST_CollectionExtract(ST_MakeValid(r.geom_raw), 2))"
    } else {
        "NULL::geometry"
    }
}

/// Turns PROJ/SRID failures of the finishing query into one line naming the
/// layer and the CRS; other errors pass through.
fn crs_error(plan: &Plan, e: sqlx::Error) -> ImportError {
    let msg = match &e {
        sqlx::Error::Database(d) => d.message().to_string(),
        _ => return e.into(),
    };
    if msg.contains("transform") {
        ImportError::Layer {
            layer: plan.layer.clone(),
            reason: format!(
                "coordinates cannot be transformed from EPSG:{} to Web Mercator (PROJ: {msg}): the .prj or --srs does not describe this data",
                plan.srid
            ),
        }
    } else if msg.contains("Cannot find SRID") || msg.contains("spatial_ref_sys") {
        ImportError::Layer {
            layer: plan.layer.clone(),
            reason: format!(
                "EPSG:{} is unknown to this PostGIS (not in spatial_ref_sys): check --srs",
                plan.srid
            ),
        }
    } else {
        e.into()
    }
}

/// Counts measured while finishing the stage table.
#[derive(Debug, Clone, Copy, Default)]
pub struct Finished {
    pub features: i64,
    pub repaired: i64,
    pub null_geometries: i64,
    pub bounds: Option<[f64; 4]>,
}

/// Builds the finished stage table from the raw one, then indexes and analyses it.
pub async fn finish(
    pool: &PgPool,
    plan: &Plan,
    n: &StageNames,
    version: i64,
) -> Result<Finished, ImportError> {
    let attrs: String = plan
        .schema
        .fields
        .iter()
        .map(|f| format!("r.{}, ", quote_ident(&f.name)))
        .collect();
    let typ = format!("geometry({}, {})", plan.geometry_type, plan.srid);
    let generalize = catalog::generalizes(&plan.geometry_type);
    let gen_cols: String = if generalize {
        catalog::GENERALIZED
            .iter()
            .map(|(z, col)| {
                format!(
                    "ST_SimplifyPreserveTopology(m.m, {}) AS {}, ",
                    catalog::tolerance(*z),
                    quote_ident(col)
                )
            })
            .collect()
    } else {
        String::new()
    };
    // Smallest zoom at which the feature's bounding-box diagonal spans a pixel.
    let zmin = if generalize {
        format!(
            "CASE WHEN m.m IS NULL THEN 24 ELSE LEAST(24, GREATEST(0, ceil(ln({px} / GREATEST(\
             sqrt((ST_XMax(m.m) - ST_XMin(m.m)) ^ 2 + (ST_YMax(m.m) - ST_YMin(m.m)) ^ 2), 1e-6)) / ln(2)))) END",
            px = catalog::PIXEL_Z0
        )
    } else {
        "0".to_string()
    };
    let create = format!(
        "CREATE TABLE {table} AS SELECT r.fid, {attrs}g.geom AS {geom}, m.m AS {g3857}, {gen_cols}\
         ({zmin})::smallint AS {zmin_col}, NOT v.ok AS _repaired \
         FROM {raw} r, LATERAL (SELECT r.geom_raw IS NULL OR ST_IsValid(r.geom_raw) AS ok) v, \
         LATERAL (SELECT (CASE WHEN v.ok THEN r.geom_raw ELSE NULLIF_EMPTY END)::{typ} AS geom) g, \
         LATERAL (SELECT ST_Transform(g.geom, 3857) AS m) m",
        table = n.table,
        raw = n.raw,
        geom = quote_ident(GEOM_COLUMN),
        g3857 = quote_ident(GEOM_3857_COLUMN),
        zmin_col = quote_ident(catalog::MINZOOM_COLUMN),
    )
    .replace(
        "NULLIF_EMPTY",
        &format!(
            "(SELECT CASE WHEN ST_IsEmpty(x) THEN NULL ELSE x END FROM (SELECT {} AS x) e)",
            repair_sql(&plan.geometry_type)
        ),
    );
    sqlx::query(&create)
        .execute(pool)
        .await
        .map_err(|e| crs_error(plan, e))?;
    let r = sqlx::query(&format!(
        "WITH s AS (SELECT count(*) AS n, count(*) FILTER (WHERE _repaired) AS rep, \
         count(*) FILTER (WHERE {g} IS NULL) AS nul, ST_SetSRID(ST_Extent({g3857})::geometry, 3857) AS ext FROM {t}) \
         SELECT n, rep, nul, ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) \
         FROM s, LATERAL (SELECT ST_Transform(ext, 4326) AS b) x",
        g = quote_ident(GEOM_COLUMN),
        g3857 = quote_ident(GEOM_3857_COLUMN),
        t = n.table
    ))
    .fetch_one(pool)
    .await?;
    let b: [Option<f64>; 4] = [r.try_get(3)?, r.try_get(4)?, r.try_get(5)?, r.try_get(6)?];
    let fin = Finished {
        features: r.try_get(0)?,
        repaired: r.try_get(1)?,
        null_geometries: r.try_get(2)?,
        bounds: match b {
            [Some(w), Some(s), Some(e), Some(n)] => Some([w, s, e, n]),
            _ => None,
        },
    };
    let base = versioned_table(&plan.layer, version);
    for sql in [
        format!("ALTER TABLE {} DROP COLUMN _repaired", n.table),
        format!(
            "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY (fid)",
            n.table,
            quote_ident(&format!("{base}_pkey"))
        ),
        format!(
            "CREATE INDEX {} ON {} USING gist ({})",
            quote_ident(&format!("{base}_geom")),
            n.table,
            quote_ident(GEOM_COLUMN)
        ),
        format!(
            "CREATE INDEX {} ON {} USING gist ({})",
            quote_ident(&format!("{base}_geom_3857")),
            n.table,
            quote_ident(GEOM_3857_COLUMN)
        ),
        format!("DROP TABLE {}", n.raw),
    ] {
        sqlx::query(&sql).execute(pool).await?;
    }
    // Partial indexes let low-zoom tiles skip features smaller than a pixel.
    if generalize {
        for (z, _) in catalog::GENERALIZED {
            sqlx::query(&format!(
                "CREATE INDEX {} ON {} USING gist ({}) WHERE {} <= {z}",
                quote_ident(&format!("{base}_z{z}")),
                n.table,
                quote_ident(GEOM_3857_COLUMN),
                quote_ident(catalog::MINZOOM_COLUMN)
            ))
            .execute(pool)
            .await?;
        }
    }
    sqlx::query(&format!("ANALYZE {}", n.table))
        .execute(pool)
        .await?;
    Ok(fin)
}
