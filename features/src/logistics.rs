//! Queries for logistics firms: warehouses near a point, nearest first (a
//! KNN index scan), filtered by type, minimum capacity and a service, with
//! the straight-line distance in metres.

use catalog::{quote_ident, Field, Layer, DATA_SCHEMA, FID_COLUMN, GEOM_COLUMN};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::sql::{bind_all, Bind, Where};
use crate::FeaturesError;

/// Most warehouses one request returns.
pub const MAX_NEAR: u32 = 100;

/// Filters of a warehouse search.
#[derive(Debug, Clone, Default)]
pub struct WarehouseFilter {
    /// Exact `loai_kho`.
    pub loai_kho: Option<String>,
    /// Minimum `suc_chua`.
    pub min_suc_chua: Option<f64>,
    /// A service `dich_vu` must mention (case-insensitive).
    pub dich_vu: Option<String>,
}

fn need<'a>(visible: &[&'a Field], name: &'static str) -> Result<&'a Field, FeaturesError> {
    visible
        .iter()
        .copied()
        .find(|f| f.name == name)
        .ok_or_else(|| FeaturesError::BadParameter(name, format!("this layer has no field {name}")))
}

/// Up to `limit` warehouses of `l` nearest to WGS 84 (`lon`, `lat`).
pub async fn warehouses_near(
    pool: &PgPool,
    l: &Layer,
    visible: &[&Field],
    (lon, lat): (f64, f64),
    f: &WarehouseFilter,
    limit: u32,
) -> Result<Vec<Value>, FeaturesError> {
    let g = quote_ident(GEOM_COLUMN);
    let mut w = Where::default();
    let (x, y) = (w.bind(Bind::Float(lon)), w.bind(Bind::Float(lat)));
    let point = format!(
        "ST_Transform(ST_SetSRID(ST_MakePoint({x}, {y}), 4326), {})",
        l.srid
    );
    if let Some(k) = &f.loai_kho {
        let c = quote_ident(&need(visible, "loai_kho")?.name);
        let p = w.bind(Bind::Text(k.clone()));
        w.conds.push(format!("{c} = {p}"));
    }
    if let Some(m) = f.min_suc_chua {
        let c = quote_ident(&need(visible, "suc_chua")?.name);
        let p = w.bind(Bind::Float(m));
        w.conds.push(format!("{c} >= {p}"));
    }
    if let Some(s) = &f.dich_vu {
        let c = quote_ident(&need(visible, "dich_vu")?.name);
        let p = w.bind(Bind::Text(s.clone()));
        w.conds.push(format!("strpos(lower({c}), lower({p})) > 0"));
    }
    w.conds.push(format!("{g} IS NOT NULL"));
    let lim = w.bind(Bind::Int(i64::from(limit.clamp(1, MAX_NEAR))));
    let props: Vec<String> = visible
        .iter()
        .map(|fl| format!("'{}', {}", fl.name, quote_ident(&fl.name)))
        .collect();
    // Geographic layers measure on the spheroid; projected ones in their metres.
    let dist = if matches!(l.srid, 4326 | 4756) {
        format!("ST_Distance({g}::geography, {point}::geography)")
    } else {
        format!("ST_Distance({g}, {point})")
    };
    let sql = format!(
        "SELECT {fid}, jsonb_build_object({props})::text, ST_AsGeoJSON(ST_Transform({g}, 4326), 8, 0), {dist} \
         FROM {schema}.{table}{clause} ORDER BY {g} <-> {point} LIMIT {lim}",
        fid = quote_ident(FID_COLUMN),
        props = if props.is_empty() { "".into() } else { props.join(", ") },
        schema = quote_ident(DATA_SCHEMA),
        table = quote_ident(&l.name),
        clause = w.clause(),
    );
    let rows: Vec<(i64, String, Option<String>, f64)> = bind_all(sqlx::query_as(&sql), &w.binds)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(fid, p, g, d)| {
            json!({
                "type": "Feature",
                "id": fid,
                "geometry": g.and_then(|g| serde_json::from_str::<Value>(&g).ok()),
                "properties": serde_json::from_str::<Value>(&p).unwrap_or(json!({})),
                "distance_m": (d * 10.0).round() / 10.0,
            })
        })
        .collect())
}
