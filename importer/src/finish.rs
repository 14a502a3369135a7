//! Turning the raw COPY table into the finished layer table, in parallel:
//! the table is created empty, then several connections each `INSERT ...
//! SELECT` one block range of the raw table (validity check, `ST_MakeValid`
//! repair, typed geometry, Web Mercator copy, generalised columns, `zmin`),
//! returning their counts and extent; then the key and the GiST indexes are
//! built concurrently on separate connections, and the table is analysed.
//! The result is the table the tile server expects (see `catalog::GENERALIZED`).

use catalog::{quote_ident, versioned_table, GEOM_3857_COLUMN, GEOM_COLUMN};
use futures::stream::{self, StreamExt, TryStreamExt};
use sqlx::{PgPool, Row};

use crate::append::Appending;
use crate::error::ImportError;
use crate::plan::Plan;
use crate::stage::StageNames;

/// Memory for each index build (per connection, for the build only).
const INDEX_MEMORY: &str = "256MB";

/// Counts measured while finishing the stage table.
#[derive(Debug, Clone, Copy, Default)]
pub struct Finished {
    pub features: i64,
    pub repaired: i64,
    pub null_geometries: i64,
    /// West, south, east, north in WGS 84.
    pub bounds: Option<[f64; 4]>,
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

/// `CREATE TABLE` of the finished table and the `SELECT` feeding it from `raw r`.
fn table_sql(plan: &Plan, n: &StageNames) -> (String, String) {
    let q = quote_ident;
    let generalize = catalog::generalizes(&plan.geometry_type);
    let typ = format!("geometry({}, {})", plan.geometry_type, plan.srid);
    let mut cols = vec!["fid bigint NOT NULL".to_string()];
    let mut sel = vec!["r.fid".to_string()];
    for f in &plan.schema.fields {
        cols.push(format!("{} {}", q(&f.name), f.field_type.sql()));
        sel.push(format!("r.{}", q(&f.name)));
    }
    cols.push(format!("{} {typ}", q(GEOM_COLUMN)));
    sel.push("g.geom".into());
    cols.push(format!("{} geometry", q(GEOM_3857_COLUMN)));
    sel.push("m.m".into());
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
    if generalize {
        // A band column is read only for features with zmin <= the band's
        // last zoom (tiles::mvt): others get NULL instead of a simplification
        // nobody serves (for parcels, two of the three bands).
        for (z, col) in catalog::GENERALIZED {
            cols.push(format!("{} geometry", q(col)));
            sel.push(format!(
                "CASE WHEN z.zmin <= {z} THEN ST_SimplifyPreserveTopology(m.m, {}) END",
                catalog::tolerance(*z)
            ));
        }
    }
    cols.push(format!("{} smallint", q(catalog::MINZOOM_COLUMN)));
    sel.push("z.zmin".into());
    cols.push("_repaired boolean".into());
    sel.push("NOT v.ok".into());
    let repaired = format!(
        "(SELECT CASE WHEN ST_IsEmpty(x) THEN NULL ELSE x END FROM (SELECT {} AS x) e)",
        repair_sql(&plan.geometry_type)
    );
    let select = format!(
        "SELECT {} FROM {raw} r, \
         LATERAL (SELECT r.geom_raw IS NULL OR ST_IsValid(r.geom_raw) AS ok) v, \
         LATERAL (SELECT (CASE WHEN v.ok THEN r.geom_raw ELSE {repaired} END)::{typ} AS geom) g, \
         LATERAL (SELECT ST_Transform(g.geom, 3857) AS m) m, \
         LATERAL (SELECT ({zmin})::smallint AS zmin) z",
        sel.join(", "),
        raw = n.raw
    );
    (
        format!("CREATE TABLE {} ({})", n.table, cols.join(", ")),
        select,
    )
}

/// Columns of the finished table, quoted, in order.
fn finished_columns(plan: &Plan) -> Vec<String> {
    let q = quote_ident;
    let mut cols = vec![q("fid")];
    cols.extend(plan.schema.fields.iter().map(|f| q(&f.name)));
    cols.push(q(GEOM_COLUMN));
    cols.push(q(GEOM_3857_COLUMN));
    if catalog::generalizes(&plan.geometry_type) {
        cols.extend(catalog::GENERALIZED.iter().map(|(_, c)| q(c)));
    }
    cols.push(q(catalog::MINZOOM_COLUMN));
    cols
}

/// Block ranges `[start, end)` splitting `raw` in `parts` (the last one open).
async fn block_ranges(
    pool: &PgPool,
    n: &StageNames,
    parts: usize,
) -> Result<Vec<(i64, Option<i64>)>, ImportError> {
    let blocks: i64 = sqlx::query_scalar(&format!(
        "SELECT (pg_relation_size('{}'::regclass) / current_setting('block_size')::int)::int8",
        n.raw.replace('\'', "''")
    ))
    .fetch_one(pool)
    .await?;
    let parts = (parts.max(1) as i64).min(blocks.max(1));
    Ok((0..parts)
        .map(|i| {
            let start = blocks * i / parts;
            let end = (i + 1 < parts).then(|| blocks * (i + 1) / parts);
            (start, end)
        })
        .collect())
}

/// Builds the finished stage table from the raw one with `workers` connections,
/// then indexes and analyses it.
pub async fn finish(
    pool: &PgPool,
    plan: &Plan,
    n: &StageNames,
    version: i64,
    workers: usize,
    appending: Option<&Appending>,
) -> Result<Finished, ImportError> {
    let (create, select) = table_sql(plan, n);
    sqlx::query(&create)
        .execute(pool)
        .await
        .map_err(|e| crs_error(plan, e))?;
    let ranges = block_ranges(pool, n, workers).await?;
    let parts: Vec<Finished> = stream::iter(ranges)
        .map(|(start, end)| {
            let end = end.map_or(String::new(), |e| {
                format!(" AND r.ctid < '({e},0)'::tid")
            });
            let sql = format!(
                "WITH ins AS (INSERT INTO {t} {select} WHERE r.ctid >= '({start},0)'::tid{end} \
                 RETURNING _repaired, {g} IS NULL AS nul, box2d({g3857}) AS b) \
                 SELECT count(*)::int8, (count(*) FILTER (WHERE _repaired))::int8, (count(*) FILTER (WHERE nul))::int8, \
                 min(ST_XMin(b)), min(ST_YMin(b)), max(ST_XMax(b)), max(ST_YMax(b)) FROM ins",
                t = n.table,
                g = quote_ident(GEOM_COLUMN),
                g3857 = quote_ident(GEOM_3857_COLUMN),
            );
            async move {
                let r = sqlx::query(&sql)
                    .fetch_one(pool)
                    .await
                    .map_err(|e| crs_error(plan, e))?;
                let b: [Option<f64>; 4] =
                    [r.try_get(3)?, r.try_get(4)?, r.try_get(5)?, r.try_get(6)?];
                Ok::<_, ImportError>(Finished {
                    features: r.try_get(0)?,
                    repaired: r.try_get(1)?,
                    null_geometries: r.try_get(2)?,
                    bounds: match b {
                        [Some(w), Some(s), Some(e), Some(n)] => Some([w, s, e, n]),
                        _ => None,
                    },
                })
            }
        })
        .buffer_unordered(workers.max(1))
        .try_collect()
        .await?;
    let mut fin = Finished::default();
    for p in parts {
        fin.features += p.features;
        fin.repaired += p.repaired;
        fin.null_geometries += p.null_geometries;
        fin.bounds = match (fin.bounds, p.bounds) {
            (Some(a), Some(b)) => Some([
                a[0].min(b[0]),
                a[1].min(b[1]),
                a[2].max(b[2]),
                a[3].max(b[3]),
            ]),
            (a, b) => a.or(b),
        };
    }
    if let Some([w, s, e, nn]) = fin.bounds {
        let r = sqlx::query(
            "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) \
             FROM (SELECT ST_Transform(ST_MakeEnvelope($1, $2, $3, $4, 3857), 4326) AS b) x",
        )
        .bind(w)
        .bind(s)
        .bind(e)
        .bind(nn)
        .fetch_one(pool)
        .await?;
        fin.bounds = Some([r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?]);
    }
    for sql in [
        format!("ALTER TABLE {} DROP COLUMN _repaired", n.table),
        format!("DROP TABLE {}", n.raw),
    ] {
        sqlx::query(&sql).execute(pool).await?;
    }
    if let Some(a) = appending {
        let cols = finished_columns(plan).join(", ");
        let added = sqlx::query(&format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {}",
            n.table, a.table
        ))
        .execute(pool)
        .await?
        .rows_affected();
        fin.features += added as i64;
        fin.bounds = match (fin.bounds, a.live.bounds) {
            (Some(x), Some(y)) => Some([
                x[0].min(y[0]),
                x[1].min(y[1]),
                x[2].max(y[2]),
                x[3].max(y[3]),
            ]),
            (x, y) => x.or(y),
        };
    }
    sqlx::query(&format!("ANALYZE {}", n.table))
        .execute(pool)
        .await?;
    build_indexes(pool, plan, n, version, workers).await?;
    Ok(fin)
}

/// The primary key and GiST indexes, built concurrently (CREATE INDEX takes
/// a SHARE lock: builds on one table do not block each other).
async fn build_indexes(
    pool: &PgPool,
    plan: &Plan,
    n: &StageNames,
    version: i64,
    workers: usize,
) -> Result<(), ImportError> {
    let q = quote_ident;
    let base = versioned_table(&plan.layer, version);
    let pkey = format!("{base}_pkey");
    let mut builds = vec![
        format!("CREATE UNIQUE INDEX {} ON {} (fid)", q(&pkey), n.table),
        format!(
            "CREATE INDEX {} ON {} USING gist ({})",
            q(&format!("{base}_geom")),
            n.table,
            q(GEOM_COLUMN)
        ),
        format!(
            "CREATE INDEX {} ON {} USING gist ({})",
            q(&format!("{base}_geom_3857")),
            n.table,
            q(GEOM_3857_COLUMN)
        ),
    ];
    // Partial indexes let low-zoom tiles skip features smaller than a pixel.
    if catalog::generalizes(&plan.geometry_type) {
        for (z, _) in catalog::GENERALIZED {
            builds.push(format!(
                "CREATE INDEX {} ON {} USING gist ({}) WHERE {} <= {z}",
                q(&format!("{base}_z{z}")),
                n.table,
                q(GEOM_3857_COLUMN),
                q(catalog::MINZOOM_COLUMN)
            ));
        }
    }
    stream::iter(builds)
        .map(|sql| async move {
            let mut tx = pool.begin().await?;
            sqlx::query(&format!(
                "SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'"
            ))
            .execute(&mut *tx)
            .await?;
            sqlx::query(&sql).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok::<_, ImportError>(())
        })
        .buffer_unordered(workers.max(1))
        .try_collect::<Vec<()>>()
        .await?;
    sqlx::query(&format!(
        "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}",
        n.table,
        q(&pkey),
        q(&pkey)
    ))
    .execute(pool)
    .await?;
    Ok(())
}

/// Turns PROJ/SRID failures into one line naming the layer and the CRS;
/// other errors pass through.
fn crs_error(plan: &Plan, e: sqlx::Error) -> ImportError {
    let msg = match &e {
        sqlx::Error::Database(d) => d.message().to_string(),
        _ => return e.into(),
    };
    let reason = if msg.contains("transform") {
        format!(
            "coordinates cannot be transformed from EPSG:{} to Web Mercator (PROJ: {msg}): the .prj or --srs does not describe this data",
            plan.srid
        )
    } else if msg.contains("Cannot find SRID") || msg.contains("spatial_ref_sys") {
        format!(
            "EPSG:{} is unknown to this PostGIS (not in spatial_ref_sys): check --srs",
            plan.srid
        )
    } else {
        return e.into();
    };
    ImportError::Layer {
        layer: plan.layer.clone(),
        reason,
    }
}
