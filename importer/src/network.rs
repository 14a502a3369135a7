//! The routing network of a roads layer, built in the stage schema right
//! after the layer table and published with it (`<table>__edges`, see
//! `catalog::EDGES_SUFFIX`).
//!
//! One edge per line part (multi-part roads are split, never merged, so a
//! one-way part keeps its digitised direction). End points closer than
//! [`SNAP_M`] become one vertex (ST_ClusterDBSCAN), so files whose segments
//! meet "almost" at the same point still connect; lines that cross without a
//! shared end point (overpasses, bridges over roads) stay unconnected, as in
//! reality. Costs are seconds: length in the layer's own metres (geodesic
//! for geographic CRSs) over the speed (`toc_do`, else a default by
//! `cap_quan_ly`, else 30 km/h); a one-way road (`mot_chieu`) gets a negative
//! reverse cost, which pgRouting reads as "no edge".

use catalog::{quote_ident, FieldType, EDGES_SUFFIX, GEOM_COLUMN};
use sqlx::PgPool;

use crate::error::ImportError;
use crate::plan::Plan;
use crate::stage::StageNames;

/// End points nearer than this (metres) are one vertex.
pub const SNAP_M: f64 = 0.5;

/// Speed (km/h) by the first letters of `cap_quan_ly` when `toc_do` is missing.
const DEFAULT_SPEEDS: &[(&str, u32)] = &[
    ("ql", 60),
    ("đt", 50),
    ("dt", 50),
    ("đh", 40),
    ("dh", 40),
    ("đô", 30),
    ("do", 30),
    ("xã", 25),
    ("xa", 25),
];
const FALLBACK_SPEED: u32 = 30;

/// Size of the network built for a roads layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Network {
    pub edges: u64,
    pub vertices: u64,
    /// Edges that are one-way.
    pub one_way: u64,
}

fn field_type(plan: &Plan, name: &str) -> Option<FieldType> {
    plan.schema
        .fields
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.field_type)
}

/// Speed expression over the layer row `r`.
fn speed_sql(plan: &Plan) -> String {
    let by_class = match field_type(plan, "cap_quan_ly") {
        Some(FieldType::Text) => {
            let arms: Vec<String> = DEFAULT_SPEEDS
                .iter()
                .map(|(p, v)| format!("WHEN lower(btrim(r.\"cap_quan_ly\")) LIKE '{p}%' THEN {v}"))
                .collect();
            format!("CASE {} END", arms.join(" "))
        }
        _ => "NULL".into(),
    };
    let given = match field_type(plan, "toc_do") {
        Some(FieldType::Int4 | FieldType::Int8 | FieldType::Float8) => {
            "CASE WHEN r.\"toc_do\" > 0 AND r.\"toc_do\" <= 200 THEN r.\"toc_do\"::float8 END"
        }
        _ => "NULL",
    };
    format!("COALESCE({given}, {by_class}, {FALLBACK_SPEED})::float8")
}

/// One-way expression over the layer row `r` (true, false).
fn one_way_sql(plan: &Plan) -> &'static str {
    match field_type(plan, "mot_chieu") {
        Some(FieldType::Bool) => "COALESCE(r.\"mot_chieu\", false)",
        Some(FieldType::Int4 | FieldType::Int8 | FieldType::Float8) => {
            "COALESCE(r.\"mot_chieu\" <> 0, false)"
        }
        Some(FieldType::Text) => {
            "COALESCE(lower(btrim(r.\"mot_chieu\")) IN ('1', 't', 'true', 'y', 'yes', 'x', 'c', 'có', 'co'), false)"
        }
        _ => "false",
    }
}

/// Builds `<stage table>__edges` for a roads layer whose stage table is
/// finished; returns its size. Lines only: other geometry types give `None`.
pub async fn build(
    pool: &PgPool,
    plan: &Plan,
    n: &StageNames,
) -> Result<Option<Network>, ImportError> {
    if !plan.geometry_type.contains("LineString") {
        return Ok(None);
    }
    let geographic: bool = sqlx::query_scalar(
        "SELECT COALESCE((SELECT proj4text LIKE '%+proj=longlat%' FROM spatial_ref_sys WHERE srid = $1), false)",
    )
    .bind(plan.srid)
    .fetch_one(pool)
    .await?;
    // Metres to the layer's units for the snapping distance.
    let snap = if geographic {
        SNAP_M / 111_000.0
    } else {
        SNAP_M
    };
    let length = if geographic {
        "ST_Length(p.geom::geography)"
    } else {
        "ST_Length(p.geom)"
    };
    let edges = n.companion(EDGES_SUFFIX);
    // Travel time in seconds; pgRouting reads a negative cost as "no edge".
    let g = quote_ident(GEOM_COLUMN);
    let srid = plan.srid;
    let sql = format!(
        "CREATE TABLE {edges} AS \
         WITH p AS ( \
           SELECT row_number() OVER (ORDER BY r.fid, d.path) AS id, r.fid, COALESCE(d.path[1], 1) AS part, \
                  d.geom::geometry(LineString, {srid}) AS geom, {speed} AS speed_kmh, {one_way} AS one_way \
           FROM {table} r, LATERAL ST_Dump(r.{g}) d \
           WHERE r.{g} IS NOT NULL AND ST_NPoints(d.geom) >= 2 AND NOT ST_IsEmpty(d.geom)), \
         ends AS ( \
           SELECT id, true AS first, ST_StartPoint(geom) AS pt FROM p \
           UNION ALL SELECT id, false, ST_EndPoint(geom) FROM p), \
         clustered AS ( \
           SELECT id, first, ST_ClusterDBSCAN(pt, eps := {snap}, minpoints := 1) OVER () AS c FROM ends), \
         ids AS ( \
           SELECT id, (max(c) FILTER (WHERE first) + 1)::int8 AS source, \
                  (max(c) FILTER (WHERE NOT first) + 1)::int8 AS target FROM clustered GROUP BY id), \
         m AS (SELECT p.*, {length} AS length_m FROM p) \
         SELECT m.id, m.fid, m.part, ids.source, ids.target, m.length_m, m.speed_kmh, m.one_way, \
                m.length_m / (m.speed_kmh / 3.6) AS cost_s, \
                CASE WHEN m.one_way THEN -1 ELSE m.length_m / (m.speed_kmh / 3.6) END AS reverse_cost_s, \
                m.geom \
         FROM m JOIN ids USING (id)",
        speed = speed_sql(plan),
        one_way = one_way_sql(plan),
        table = n.table,
    );
    sqlx::query(&sql).execute(pool).await?;
    let base = format!("{}{EDGES_SUFFIX}", n.base);
    let q = quote_ident;
    for s in [
        format!(
            "ALTER TABLE {edges} ADD CONSTRAINT {} PRIMARY KEY (id)",
            q(&format!("{base}_pkey"))
        ),
        format!(
            "CREATE INDEX {} ON {edges} USING gist (geom)",
            q(&format!("{base}_geom"))
        ),
        format!(
            "CREATE INDEX {} ON {edges} (source)",
            q(&format!("{base}_source"))
        ),
        format!(
            "CREATE INDEX {} ON {edges} (target)",
            q(&format!("{base}_target"))
        ),
        format!("ANALYZE {edges}"),
    ] {
        sqlx::query(&s).execute(pool).await?;
    }
    let (e, v, o): (i64, i64, i64) = sqlx::query_as(&format!(
        "SELECT count(*), (SELECT count(*) FROM (SELECT source FROM {edges} UNION SELECT target FROM {edges}) x), \
         count(*) FILTER (WHERE one_way) FROM {edges}"
    ))
    .fetch_one(pool)
    .await?;
    Ok(Some(Network {
        edges: e as u64,
        vertices: v as u64,
        one_way: o as u64,
    }))
}
