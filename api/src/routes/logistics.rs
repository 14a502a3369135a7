//! Logistics firms' searches under `/logistics`: warehouses near a point (in
//! a straight line or by road), truck routes between two points and to the
//! nearest matching warehouse. Route queries run in one read-only
//! transaction (their settings are transaction-local).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use catalog::{Field, Layer, LayerKind};
use features::{RawValue, RoadNetwork, Route, Snap, Warehouse, WarehouseFilter};
use serde::Serialize;
use sqlx::{Postgres, Transaction};

use crate::caller::Caller;
use crate::params::{check_lon_lat, Int, Num, Q};
use crate::routes::ogc::features_error_at as at;
use crate::{AppState, Problem};

#[utoipa::path(get, path = "/logistics/warehouses/near", tag = "logistics",
    params(("lon" = f64, Query), ("lat" = f64, Query),
           ("loai_kho" = Option<String>, Query, description = "warehouse type, e.g. Kho lạnh"),
           ("min_suc_chua" = Option<f64>, Query, description = "minimum capacity"),
           ("dich_vu" = Option<String>, Query, description = "a service the warehouse offers"),
           ("limit" = Option<u32>, Query, description = "1-100, default 10"),
           ("layer" = Option<String>, Query)),
    responses((status = 200, description = "warehouses, nearest first, with distance_m", content_type = "application/geo+json"),
              (status = 400, description = "a parameter is invalid", content_type = "application/problem+json"),
              (status = 404, description = "no warehouses layer", content_type = "application/problem+json")))]
pub async fn warehouses_near(
    State(s): State<AppState>,
    who: Caller,
    q: Q<LogisticsQuery>,
) -> Result<Json<Collection<'static>>, Problem> {
    let layer = warehouses_layer(&s, &who, &q)?;
    let (lon, lat) = lon_lat(&q)?;
    let limit = limit(&q)?;
    let filter = warehouse_filter(&q)?;
    let visible: Vec<&Field> = who.visible(&layer);
    // The version's in-memory index when built; the SQL otherwise.
    let from_memory = s
        .memory
        .warehouses
        .get(&layer.name, layer.version)
        .and_then(|ix| ix.near(&visible, (lon, lat), &filter, limit));
    let found = match from_memory {
        Some(found) => found,
        None => {
            features::warehouses_near(s.read(), &layer, &visible, (lon, lat), &filter, limit).await
        }
    }
    .map_err(|e| at(e, "lon/lat"))?;
    Ok(Json(Collection {
        kind: "FeatureCollection",
        number_returned: found.len(),
        from: None,
        network: None,
        features: found,
    }))
}

/// A GeoJSON FeatureCollection of warehouses (serialised once, straight
/// from the features' JSON text).
#[derive(Serialize)]
pub struct Collection<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "numberReturned")]
    number_returned: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<Snap>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network: Option<&'a str>,
    features: Vec<Warehouse>,
}

/// The query of the logistics routes.
#[derive(Debug, Default, serde::Deserialize)]
pub struct LogisticsQuery {
    /// The warehouses layer (default: the first readable).
    layer: Option<String>,
    /// The roads layer (default: the first readable).
    network: Option<String>,
    lon: Option<Num>,
    lat: Option<Num>,
    /// `lon,lat` of a route's ends.
    from: Option<String>,
    to: Option<String>,
    /// Truck weight, tonnes.
    weight: Option<Num>,
    distance_m: Option<Num>,
    limit: Option<Int>,
    loai_kho: Option<String>,
    min_suc_chua: Option<Num>,
    dich_vu: Option<String>,
}

fn warehouses_layer(s: &AppState, who: &Caller, q: &LogisticsQuery) -> Result<Arc<Layer>, Problem> {
    who.readable(s)
        .into_iter()
        .find(|l| l.kind == LayerKind::Warehouses && q.layer.as_ref().is_none_or(|n| *n == l.name))
        .ok_or_else(|| Problem::not_found("no published warehouses layer"))
}

/// The roads layer `?network=` (or the first public one) and every bridges layer.
fn road_network(s: &AppState, who: &Caller, q: &LogisticsQuery) -> Result<RoadNetwork, Problem> {
    let all = s.layers.all();
    let roads = all
        .iter()
        .find(|l| {
            who.0.can_read(l)
                && l.kind == LayerKind::Roads
                && q.network.as_ref().is_none_or(|n| *n == l.name)
        })
        .cloned()
        .ok_or_else(|| match &q.network {
            Some(n) => Problem::bad_request(
                "network",
                format!(
                    "no published roads layer named '{}'",
                    n.chars().take(40).collect::<String>()
                ),
            ),
            None => Problem::not_found("no published roads layer"),
        })?;
    let bridges = all
        .iter()
        .filter(|l| l.kind == LayerKind::Bridges)
        .map(|l| Layer::clone(l))
        .collect();
    Ok(RoadNetwork::new(Layer::clone(&roads), bridges))
}

fn lon_lat(q: &LogisticsQuery) -> Result<(f64, f64), Problem> {
    let (Some(Num(lon)), Some(Num(lat))) = (q.lon, q.lat) else {
        return Err(Problem::bad_request(
            "lon/lat",
            "lon and lat (WGS 84) are required",
        ));
    };
    check_lon_lat("lon/lat", lon, lat)
}

/// `from=lon,lat` style point parameter.
fn point_param(v: Option<&String>, name: &'static str) -> Result<(f64, f64), Problem> {
    let v = v.ok_or_else(|| {
        Problem::bad_request(name, format!("{name}=lon,lat (WGS 84) is required"))
    })?;
    match crate::params::numbers(name, v)?.as_slice() {
        [lon, lat] => check_lon_lat(name, *lon, *lat),
        _ => Err(Problem::bad_request(
            name,
            format!("{name} must be lon,lat (two numbers)"),
        )),
    }
}

fn limit(q: &LogisticsQuery) -> Result<u32, Problem> {
    crate::params::limit_in(q.limit, features::MAX_NEAR, 10)
}

fn warehouse_filter(q: &LogisticsQuery) -> Result<WarehouseFilter, Problem> {
    Ok(WarehouseFilter {
        loai_kho: q.loai_kho.clone(),
        min_suc_chua: q.min_suc_chua.map(|n| n.0),
        dich_vu: q.dich_vu.clone().filter(|d| !d.trim().is_empty()),
    })
}

/// `weight` in tonnes: 0-200.
fn weight(q: &LogisticsQuery) -> Result<Option<f64>, Problem> {
    match q.weight.map(|n| n.0) {
        Some(w) if !(0.0..=200.0).contains(&w) => Err(Problem::bad_request(
            "weight",
            "weight (tonnes) must be 0-200",
        )),
        w => Ok(w),
    }
}

/// A search by road over this server's road graphs.
fn by_road<'a>(
    s: &'a AppState,
    net: &'a RoadNetwork,
    layer: &'a Layer,
    visible: &'a [&'a Field],
    filter: &'a WarehouseFilter,
    from: (f64, f64),
    weight_t: Option<f64>,
) -> features::ByRoad<'a> {
    features::ByRoad {
        graphs: &s.memory.graphs,
        net,
        layer,
        visible,
        filter,
        from,
        weight_t,
    }
}

async fn read_only(s: &AppState) -> Result<Transaction<'static, Postgres>, Problem> {
    s.read()
        .begin_with("BEGIN READ ONLY")
        .await
        .map_err(Problem::internal)
}

/// A route as a GeoJSON Feature (serialised once; the geometry is
/// PostGIS's GeoJSON text as it is).
#[derive(Serialize)]
pub struct RouteFeature<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    geometry: &'a Option<Box<RawValue>>,
    properties: RouteProperties<'a, T>,
}

#[derive(Serialize)]
pub struct RouteProperties<'a, T: Serialize> {
    length_m: f64,
    duration_s: f64,
    weight_t: Option<f64>,
    closed_bridges: i64,
    network: &'a str,
    network_version: i64,
    from: &'a Snap,
    to: T,
    legs: &'a [features::Leg],
}

/// `route.network_version` is the version the route was found on (the
/// one its transaction saw).
fn route_response<T: Serialize>(
    net: &RoadNetwork,
    route: &Route,
    from: &Snap,
    to: T,
    weight: Option<f64>,
    closed: i64,
) -> Response {
    Json(RouteFeature {
        kind: "Feature",
        geometry: &route.geometry,
        properties: RouteProperties {
            length_m: route.length_m,
            duration_s: route.duration_s,
            weight_t: weight,
            closed_bridges: closed,
            network: &net.roads.name,
            network_version: route.network_version,
            from,
            to,
            legs: &route.legs,
        },
    })
    .into_response()
}

#[utoipa::path(get, path = "/logistics/route", tag = "logistics",
    params(("from" = String, Query, description = "start as lon,lat (WGS 84)"),
           ("to" = String, Query, description = "end as lon,lat (WGS 84)"),
           ("weight" = Option<f64>, Query, description = "truck weight in tonnes: bridges with a lower tai_trong are avoided"),
           ("network" = Option<String>, Query, description = "roads layer (default: the first published)")),
    responses((status = 200, description = "the fastest route: LineString, length_m, duration_s, legs (roads in order)", content_type = "application/geo+json"),
              (status = 400, description = "a parameter is invalid, or a point is far from every road", content_type = "application/problem+json"),
              (status = 404, description = "no roads layer, or no route (one-way roads, bridge limits)", content_type = "application/problem+json")))]
pub async fn route(
    State(s): State<AppState>,
    who: Caller,
    q: Q<LogisticsQuery>,
) -> Result<Response, Problem> {
    let from = point_param(q.from.as_ref(), "from")?;
    let to = point_param(q.to.as_ref(), "to")?;
    let weight = weight(&q)?;
    let net = road_network(&s, &who, &q)?;
    let mut tx = read_only(&s).await?;
    let (a, b, closed, r) = features::route(&mut tx, &s.memory.graphs, &net, from, to, weight)
        .await
        .map_err(|e| at(e, "from/to"))?;
    Ok(route_response(&net, &r, &a, b, weight, closed))
}

#[utoipa::path(get, path = "/logistics/warehouses/reachable", tag = "logistics",
    params(("lon" = f64, Query), ("lat" = f64, Query),
           ("distance_m" = f64, Query, description = "largest distance by road, metres (up to 100000)"),
           ("weight" = Option<f64>, Query, description = "truck weight in tonnes"),
           ("loai_kho" = Option<String>, Query), ("min_suc_chua" = Option<f64>, Query),
           ("dich_vu" = Option<String>, Query),
           ("limit" = Option<u32>, Query, description = "1-100, default 10"),
           ("layer" = Option<String>, Query), ("network" = Option<String>, Query)),
    responses((status = 200, description = "warehouses within distance_m by road, nearest by road first, with network_m and straight_m", content_type = "application/geo+json"),
              (status = 400, description = "a parameter is invalid", content_type = "application/problem+json"),
              (status = 404, description = "no warehouses or roads layer", content_type = "application/problem+json")))]
pub async fn warehouses_reachable(
    State(s): State<AppState>,
    who: Caller,
    q: Q<LogisticsQuery>,
) -> Result<Response, Problem> {
    let layer = warehouses_layer(&s, &who, &q)?;
    let from = lon_lat(&q)?;
    let max_m = match q.distance_m.map(|n| n.0) {
        Some(d) if d > 0.0 && d <= features::MAX_REACH_M => d,
        _ => {
            return Err(Problem::bad_request(
                "distance_m",
                format!(
                    "distance_m (metres by road) is required: more than 0, at most {}",
                    features::MAX_REACH_M
                ),
            ))
        }
    };
    let (filter, weight, limit) = (warehouse_filter(&q)?, weight(&q)?, limit(&q)?);
    let net = road_network(&s, &who, &q)?;
    let visible: Vec<&Field> = who.visible(&layer);
    let search = by_road(&s, &net, &layer, &visible, &filter, from, weight);
    let mut tx = read_only(&s).await?;
    let (start, found) = features::warehouses_reachable(&mut tx, &search, max_m, limit)
        .await
        .map_err(|e| at(e, "lon/lat"))?;
    Ok(Json(Collection {
        kind: "FeatureCollection",
        number_returned: found.len(),
        from: Some(start),
        network: Some(&net.roads.name),
        features: found,
    })
    .into_response())
}

#[utoipa::path(get, path = "/logistics/route/nearest-warehouse", tag = "logistics",
    params(("lon" = f64, Query), ("lat" = f64, Query),
           ("weight" = Option<f64>, Query, description = "truck weight in tonnes"),
           ("loai_kho" = Option<String>, Query), ("min_suc_chua" = Option<f64>, Query),
           ("dich_vu" = Option<String>, Query),
           ("layer" = Option<String>, Query), ("network" = Option<String>, Query)),
    responses((status = 200, description = "the route to the matching warehouse reached first by road; the warehouse in properties.to", content_type = "application/geo+json"),
              (status = 400, description = "a parameter is invalid", content_type = "application/problem+json"),
              (status = 404, description = "no matching warehouse, no layer, or no route", content_type = "application/problem+json")))]
pub async fn route_to_nearest_warehouse(
    State(s): State<AppState>,
    who: Caller,
    q: Q<LogisticsQuery>,
) -> Result<Response, Problem> {
    let layer = warehouses_layer(&s, &who, &q)?;
    let from = lon_lat(&q)?;
    let (filter, weight) = (warehouse_filter(&q)?, weight(&q)?);
    let net = road_network(&s, &who, &q)?;
    let visible: Vec<&Field> = who.visible(&layer);
    let search = by_road(&s, &net, &layer, &visible, &filter, from, weight);
    let mut tx = read_only(&s).await?;
    let (a, closed, warehouse, r) = features::route_to_nearest_warehouse(&mut tx, &search)
        .await
        .map_err(|e| at(e, "lon/lat"))?;
    Ok(route_response(&net, &r, &a, warehouse, weight, closed))
}
