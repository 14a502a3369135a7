//! Queries for logistics firms: warehouses near a point, nearest first (a
//! KNN index scan), filtered by type, minimum capacity and a service, with
//! the straight-line distance in metres.

use catalog::{quote_ident, Field, Layer, FID_COLUMN, GEOM_COLUMN};
use serde::Serialize;
use serde_json::value::RawValue;
use sqlx::PgPool;

use crate::land::parcel::raw;
use crate::routing::snap::Snap;

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

pub(crate) fn need<'a>(
    visible: &[&'a Field],
    name: &'static str,
) -> Result<&'a Field, FeaturesError> {
    visible
        .iter()
        .copied()
        .find(|f| f.name == name)
        .ok_or_else(|| FeaturesError::BadParameter(name, format!("this layer has no field {name}")))
}

/// Adds the conditions of `f` on warehouse table alias `w` to `wh`.
pub(crate) fn filter_conditions(
    wh: &mut Where,
    visible: &[&Field],
    f: &WarehouseFilter,
) -> Result<(), FeaturesError> {
    if let Some(k) = &f.loai_kho {
        let c = quote_ident(&need(visible, "loai_kho")?.name);
        let p = wh.bind(Bind::Text(k.clone()));
        wh.conds.push(format!("w.{c} = {p}"));
    }
    if let Some(m) = f.min_suc_chua {
        let c = quote_ident(&need(visible, "suc_chua")?.name);
        let p = wh.bind(Bind::Float(m));
        wh.conds.push(format!("w.{c} >= {p}"));
    }
    if let Some(s) = &f.dich_vu {
        let c = quote_ident(&need(visible, "dich_vu")?.name);
        let p = wh.bind(Bind::Text(s.clone()));
        wh.conds
            .push(format!("strpos(lower(w.{c}), lower({p})) > 0"));
    }
    wh.conds
        .push(format!("w.{} IS NOT NULL", quote_ident(GEOM_COLUMN)));
    Ok(())
}

/// `jsonb_build_object(...)::text` of the visible fields of alias `w`.
pub(crate) fn properties_sql(visible: &[&Field]) -> String {
    format!("{}::text", crate::sql::jsonb_properties(visible, Some("w")))
}

/// `geokho_data."<layer>" w`.
pub(crate) fn table(l: &Layer) -> String {
    format!("{} w", catalog::live_table(&l.name))
}

/// A warehouse as a GeoJSON feature with the distances of the search that
/// found it (members absent when not measured).
#[derive(Debug, Serialize)]
pub struct Warehouse {
    #[serde(rename = "type")]
    kind: &'static str,
    id: i64,
    geometry: Option<Box<RawValue>>,
    properties: Box<RawValue>,
    /// Straight-line distance in the layer's projection (near).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
    /// Distance by road (reachable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_m: Option<f64>,
    /// Geodesic straight-line distance (reachable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub straight_m: Option<f64>,
    /// Where the warehouse meets the road network (route to the nearest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub road: Option<Snap>,
}

/// A warehouse from its id, properties (`jsonb::text`) and GeoJSON.
pub(crate) fn feature(
    fid: i64,
    props: String,
    geom: Option<String>,
) -> Result<Warehouse, FeaturesError> {
    Ok(feature_raw(fid, raw(props)?, geom.map(raw).transpose()?))
}

/// A warehouse from its id and JSON already checked.
pub(crate) fn feature_raw(
    fid: i64,
    properties: Box<RawValue>,
    geometry: Option<Box<RawValue>>,
) -> Warehouse {
    Warehouse {
        kind: "Feature",
        id: fid,
        geometry,
        properties,
        distance_m: None,
        network_m: None,
        straight_m: None,
        road: None,
    }
}

/// Metres rounded to 0.1.
pub(crate) fn dm(m: f64) -> f64 {
    (m * 10.0).round() / 10.0
}

/// Up to `limit` warehouses of `l` nearest to WGS 84 (`lon`, `lat`).
pub async fn warehouses_near(
    pool: &PgPool,
    l: &Layer,
    visible: &[&Field],
    (lon, lat): (f64, f64),
    f: &WarehouseFilter,
    limit: u32,
) -> Result<Vec<Warehouse>, FeaturesError> {
    let g = format!("w.{}", quote_ident(GEOM_COLUMN));
    let mut w = Where::default();
    let (x, y) = (w.bind(Bind::Float(lon)), w.bind(Bind::Float(lat)));
    let point = format!(
        "ST_Transform(ST_SetSRID(ST_MakePoint({x}, {y}), 4326), {})",
        l.srid
    );
    filter_conditions(&mut w, visible, f)?;
    let lim = w.bind(Bind::Int(i64::from(limit.clamp(1, MAX_NEAR))));
    // Geographic layers measure on the spheroid; projected ones in their metres.
    let dist = if matches!(l.srid, 4326 | 4756) {
        format!("ST_Distance({g}::geography, {point}::geography)")
    } else {
        format!("ST_Distance({g}, {point})")
    };
    let sql = format!(
        "SELECT w.{fid}, {props}, ST_AsGeoJSON(ST_Transform({g}, 4326), 8, 0), {dist} \
         FROM {table}{clause} ORDER BY {g} <-> {point} LIMIT {lim}",
        fid = quote_ident(FID_COLUMN),
        props = properties_sql(visible),
        table = table(l),
        clause = w.clause(),
    );
    let rows: Vec<(i64, String, Option<String>, f64)> = bind_all(sqlx::query_as(&sql), &w.binds)
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|(fid, p, g, d)| {
            let mut w = feature(fid, p, g)?;
            w.distance_m = Some(dm(d));
            Ok(w)
        })
        .collect()
}
