//! Finishing the stage table after the COPY: the rows the workers flagged
//! `_check` (not proven valid, Z/M, a CRS PROJ does not know by code, ...;
//! see `crate::mercator`) are completed in PostGIS on several connections
//! at once, over `ctid` ranges (validity check, `ST_MakeValid` repair, Web
//! Mercator copy, generalised columns, `zmin`), returning their counts and
//! extent; the table is analysed, and the key and the GiST indexes are
//! built concurrently on separate connections. A handful of such rows are
//! completed after the indexes, through the key (see [`finish`]). The
//! result is the table the tile server expects (see `catalog::GENERALIZED`).

use catalog::{quote_ident, versioned_table, GEOM_3857_COLUMN, GEOM_COLUMN};
use futures::stream::{self, StreamExt, TryStreamExt};
use sqlx::{PgPool, Row};

use crate::append::Appending;
use crate::error::ImportError;
use crate::plan::Plan;
use crate::produce::{union_bounds, Stats};
use crate::stage::{StageNames, CHECK_COLUMN};

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

impl Finished {
    /// Adds what completing the `_check` rows found (their extent is in
    /// Web Mercator, as the workers' until the end of [`finish`]).
    fn add_checked(&mut self, c: Finished) {
        self.repaired += c.repaired;
        self.null_geometries += c.null_geometries;
        self.bounds = union_bounds(self.bounds, c.bounds);
    }
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

/// Which `_check` rows one `UPDATE` completes.
#[derive(Debug, Clone, Copy)]
enum Rows {
    /// Those of the block range `[start, end)` (a TID range scan).
    Blocks(i64, Option<i64>),
    /// Those whose fid is in the array bound as `$1` (through the key).
    Fids,
}

/// `UPDATE` completing `_check` rows in PostGIS; `_check` becomes "was
/// valid". Returns one row: count, repaired, NULL geometries, Web Mercator
/// extent.
fn check_sql(plan: &Plan, n: &StageNames, rows: Rows) -> String {
    let q = quote_ident;
    let generalize = catalog::generalizes(&plan.geometry_type);
    let typ = format!("geometry({}, {})", plan.geometry_type, plan.srid);
    let mut cols = vec![q(GEOM_COLUMN), q(GEOM_3857_COLUMN)];
    let mut sel = vec!["g.geom".to_string(), "m.m".to_string()];
    // Smallest zoom at which the feature's bounding-box diagonal spans a
    // pixel (as `crate::mercator::zmin`).
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
        // last zoom (tiles::mvt): others get NULL, as do bands that kept
        // every vertex (read as `geom_3857`, see `catalog::GENERALIZED`).
        for (z, col) in catalog::GENERALIZED {
            cols.push(q(col));
            sel.push(format!(
                "CASE WHEN z.zmin <= {z} THEN (SELECT CASE WHEN ST_NPoints(s.s) <> ST_NPoints(m.m) THEN s.s END \
                 FROM (SELECT ST_SimplifyPreserveTopology(m.m, {}) AS s) s) END",
                catalog::tolerance(*z)
            ));
        }
    }
    cols.push(q(catalog::MINZOOM_COLUMN));
    sel.push("z.zmin".into());
    cols.push(q(CHECK_COLUMN));
    sel.push("v.ok".into());
    let repaired = format!(
        "(SELECT CASE WHEN ST_IsEmpty(x) THEN NULL ELSE x END FROM (SELECT {} AS x) e)",
        repair_sql(&plan.geometry_type)
    );
    let which = match rows {
        Rows::Blocks(start, end) => format!(
            "t.ctid >= '({start},0)'::tid{}",
            end.map_or(String::new(), |e| format!(" AND t.ctid < '({e},0)'::tid"))
        ),
        Rows::Fids => "t.fid = ANY($1)".to_string(),
    };
    format!(
        "WITH upd AS (UPDATE {table} AS t SET ({cols}) = (SELECT {sel} FROM \
         (SELECT t.{g} AS geom_raw) r, \
         LATERAL (SELECT r.geom_raw IS NULL OR ST_IsValid(r.geom_raw) AS ok) v, \
         LATERAL (SELECT (CASE WHEN v.ok THEN r.geom_raw ELSE {repaired} END)::{typ} AS geom) g, \
         LATERAL (SELECT ST_Transform(g.geom, 3857) AS m) m, \
         LATERAL (SELECT ({zmin})::smallint AS zmin) z) \
         WHERE t.{check} AND {which} \
         RETURNING NOT t.{check} AS rep, t.{g} IS NULL AS nul, box2d(t.{g3857}) AS b) \
         SELECT count(*)::int8, (count(*) FILTER (WHERE rep))::int8, (count(*) FILTER (WHERE nul))::int8, \
         min(ST_XMin(b)), min(ST_YMin(b)), max(ST_XMax(b)), max(ST_YMax(b)) FROM upd",
        table = n.table,
        cols = cols.join(", "),
        sel = sel.join(", "),
        g = q(GEOM_COLUMN),
        g3857 = q(GEOM_3857_COLUMN),
        check = q(CHECK_COLUMN),
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

/// Block ranges `[start, end)` splitting `table` in `parts` (the last one open).
async fn block_ranges(
    pool: &PgPool,
    table: &str,
    parts: usize,
) -> Result<Vec<(i64, Option<i64>)>, ImportError> {
    let blocks: i64 = sqlx::query_scalar(
        "SELECT (pg_relation_size($1::regclass) / current_setting('block_size')::int)::int8",
    )
    .bind(table)
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

/// Completes the `_check` rows: those of `fids` through the key when
/// given, else every block range on `workers` connections; their counts.
async fn complete_checks(
    pool: &PgPool,
    plan: &Plan,
    n: &StageNames,
    workers: usize,
    fids: Option<&[i64]>,
) -> Result<Finished, ImportError> {
    let jobs: Vec<Rows> = match fids {
        Some(_) => vec![Rows::Fids],
        None => block_ranges(pool, &n.table, workers)
            .await?
            .into_iter()
            .map(|(s, e)| Rows::Blocks(s, e))
            .collect(),
    };
    let parts: Vec<Finished> = stream::iter(jobs)
        .map(|rows| {
            let sql = check_sql(plan, n, rows);
            async move {
                let mut query = sqlx::query(&sql);
                if let Some(f) = fids {
                    query = query.bind(f);
                }
                let r = query
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
        fin.bounds = union_bounds(fin.bounds, p.bounds);
    }
    Ok(fin)
}

/// Finishes the stage table the workers' COPY filled (`stats` are theirs)
/// with `workers` connections, analyses and indexes it.
pub async fn finish(
    pool: &PgPool,
    plan: &Plan,
    n: &StageNames,
    version: i64,
    workers: usize,
    stats: &Stats,
    appending: Option<&Appending>,
) -> Result<Finished, ImportError> {
    let mut fin = Finished {
        features: stats.rows as i64,
        repaired: 0,
        null_geometries: stats.null_geometries as i64,
        bounds: stats.bounds,
    };
    let t0 = std::time::Instant::now();
    let lap = |what: &str| tracing::debug!(seconds = t0.elapsed().as_secs_f64(), "finish: {what}");
    let checks = stats.check_fids.len() as u64;
    // A few rows: reach them through the key once it is built with the
    // other indexes (a scan of the freshly loaded table would cost as much
    // as an index build; the GiST builds take the raw geometry of these
    // rows, and their UPDATE adds the finished one). Many: scan block
    // ranges in parallel before anything is indexed.
    let by_fid = checks > 0 && checks * 10 <= stats.rows;
    if checks > 0 && !by_fid {
        let c = complete_checks(pool, plan, n, workers, None).await?;
        fin.add_checked(c);
        lap("rows left to PostGIS completed");
    }
    // Rows PostGIS rewrote leave dead versions: reclaim them when many.
    if checks * 4 > stats.rows {
        sqlx::query(&format!("VACUUM {}", n.table))
            .execute(pool)
            .await?;
    }
    let mut band_rows: Vec<u64> = catalog::GENERALIZED
        .iter()
        .map(|(z, _)| stats.zmin[..=*z as usize].iter().sum::<u64>() + checks)
        .collect();
    let mut total = stats.rows;
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
        // Unknown band sizes of the live rows: count them in every band.
        band_rows.iter_mut().for_each(|b| *b += added);
        total += added;
    }
    // Band columns are only ever selected, never filtered on: no statistics
    // (their geometry statistics were a third of ANALYZE's time).
    if catalog::generalizes(&plan.geometry_type) {
        let cols: Vec<String> = catalog::GENERALIZED
            .iter()
            .map(|(_, c)| format!("ALTER COLUMN {} SET STATISTICS 0", quote_ident(c)))
            .collect();
        sqlx::query(&format!("ALTER TABLE {} {}", n.table, cols.join(", ")))
            .execute(pool)
            .await?;
    }
    sqlx::query(&format!("ANALYZE {}", n.table))
        .execute(pool)
        .await?;
    lap("analysed");
    let bands = band_indexes(&band_rows, total);
    build_indexes(pool, plan, n, version, workers, &bands).await?;
    lap("indexed");
    if by_fid {
        let c = complete_checks(pool, plan, n, workers, Some(&stats.check_fids)).await?;
        fin.add_checked(c);
        lap("rows left to PostGIS completed");
    }
    sqlx::query(&format!(
        "ALTER TABLE {} DROP COLUMN {}",
        n.table,
        quote_ident(CHECK_COLUMN)
    ))
    .execute(pool)
    .await?;
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
    // The live rows an append kept: their extent is in WGS 84 already.
    fin.bounds = union_bounds(fin.bounds, appending.and_then(|a| a.live.bounds));
    Ok(fin)
}

/// The bands worth a partial GiST index: those holding at most half the
/// rows (a band holding more is served as well by the full `geom_3857`
/// index with a `zmin` filter, and its build costs as much).
fn band_indexes(band_rows: &[u64], total: u64) -> Vec<u8> {
    catalog::GENERALIZED
        .iter()
        .zip(band_rows)
        .filter(|(_, &rows)| rows * 2 <= total)
        .map(|((z, _), _)| *z)
        .collect()
}

/// The primary key and GiST indexes, built concurrently (CREATE INDEX takes
/// a SHARE lock: builds on one table do not block each other).
async fn build_indexes(
    pool: &PgPool,
    plan: &Plan,
    n: &StageNames,
    version: i64,
    workers: usize,
    bands: &[u8],
) -> Result<(), ImportError> {
    let q = quote_ident;
    let base = versioned_table(&plan.layer, version);
    let mut builds = vec![
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
        for z in bands {
            builds.push(format!(
                "CREATE INDEX {} ON {} USING gist ({}) WHERE {} <= {z}",
                q(&format!("{base}_z{z}")),
                n.table,
                q(GEOM_3857_COLUMN),
                q(catalog::MINZOOM_COLUMN)
            ));
        }
    }
    builds.insert(0, key_sql(plan, n, version));
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
    promote_key(pool, plan, n, version).await
}

fn key_name(plan: &Plan, version: i64) -> String {
    format!("{}_pkey", versioned_table(&plan.layer, version))
}

fn key_sql(plan: &Plan, n: &StageNames, version: i64) -> String {
    format!(
        "CREATE UNIQUE INDEX {} ON {} (fid)",
        quote_ident(&key_name(plan, version)),
        n.table
    )
}

/// The unique index on `fid` becomes the primary key (instant).
async fn promote_key(
    pool: &PgPool,
    plan: &Plan,
    n: &StageNames,
    version: i64,
) -> Result<(), ImportError> {
    let k = quote_ident(&key_name(plan, version));
    sqlx::query(&format!(
        "ALTER TABLE {} ADD CONSTRAINT {k} PRIMARY KEY USING INDEX {k}",
        n.table
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
