//! Land officers' look-ups under `/land`: a parcel by commune, map sheet and
//! parcel number; the parcel at a point (WGS 84 lon/lat or VN-2000 x/y); the
//! planning report of a parcel (overlapping planning zones and land-fund
//! areas, with areas in the parcel's own projection).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use catalog::{Field, Layer, LayerKind};
use features::{Parcel, PlanningReport};

use crate::caller::Caller;
use crate::params::{Int, Num, Q};
use crate::routes::ogc::features_error_at as at;
use crate::{AppState, Problem};

/// The query of the land routes: which layers, where, how far, how many.
#[derive(Debug, Default, serde::Deserialize)]
pub struct LandQuery {
    /// The parcels layer (default: the first readable).
    pub layer: Option<String>,
    pub lon: Option<Num>,
    pub lat: Option<Num>,
    pub x: Option<Num>,
    pub y: Option<Num>,
    /// CRS of x/y (default: the layer's).
    pub srid: Option<Int>,
    pub ma_xa: Option<String>,
    pub area_layer: Option<String>,
    pub fid: Option<Int>,
    pub of: Option<String>,
    pub distance_m: Option<Num>,
    pub limit: Option<Int>,
}

/// The readable layer of `kind` named by `?layer=`, or the first of that kind.
pub(crate) fn layer_of_kind(
    s: &AppState,
    who: &Caller,
    kind: LayerKind,
    name: Option<&String>,
) -> Result<Arc<Layer>, Problem> {
    let found = who
        .readable(s)
        .into_iter()
        .find(|l| l.kind == kind && name.is_none_or(|n| *n == l.name));
    found.ok_or_else(|| {
        Problem::not_found(format!(
            "no published {kind} layer{}",
            name.map(|n| format!(" named '{}'", n.chars().take(64).collect::<String>()))
                .unwrap_or_default()
        ))
    })
}

#[utoipa::path(get, path = "/land/parcels/{key}/{so_to}/{so_thua}", tag = "land",
    params(("key" = String, Path, description = "ma_xa: commune code"), ("so_to" = String, Path, description = "map sheet number"),
           ("so_thua" = String, Path, description = "parcel number"), ("layer" = Option<String>, Query)),
    responses((status = 200, description = "the parcel with its legal area (m², VN-2000)", content_type = "application/json"), (status = 400, description = "a parameter is invalid (problem+json naming it)", content_type = "application/problem+json"), (status = 404, description = "unknown layer or resource (problem+json)", content_type = "application/problem+json")))]
pub async fn by_key(
    State(s): State<AppState>,
    who: Caller,
    Path((ma_xa, so_to, so_thua)): Path<(String, String, String)>,
    q: Q<LandQuery>,
) -> Result<Json<Parcel>, Problem> {
    let l = layer_of_kind(&s, &who, LayerKind::Parcels, q.layer.as_ref())?;
    let visible: Vec<&Field> = who.visible(&l);
    let found = features::parcel_by_key(s.read(), &l, &visible, [&ma_xa, &so_to, &so_thua])
        .await
        .map_err(|e| at(e, "key"))?;
    if found.is_some() {
        let what = format!("{ma_xa}/{so_to}/{so_thua}");
        who.audit(&s, "parcel by key", &l, &visible, Some(what))
            .await?;
    }
    found.map(Json).ok_or_else(|| {
        Problem::not_found(format!(
            "no parcel {so_thua} on sheet {so_to} in commune {}",
            ma_xa.chars().take(16).collect::<String>()
        ))
    })
}

#[utoipa::path(get, path = "/land/parcels/at", tag = "land",
    params(("lon" = Option<f64>, Query), ("lat" = Option<f64>, Query), ("x" = Option<f64>, Query), ("y" = Option<f64>, Query),
           ("srid" = Option<i32>, Query, description = "CRS of x/y, default the layer's"), ("layer" = Option<String>, Query)),
    responses((status = 200, description = "the parcel at the point", content_type = "application/json"), (status = 400, description = "a parameter is invalid (problem+json naming it)", content_type = "application/problem+json"), (status = 404, description = "unknown layer or resource (problem+json)", content_type = "application/problem+json")))]
pub async fn at_point(
    State(s): State<AppState>,
    who: Caller,
    q: Q<LandQuery>,
) -> Result<Json<Parcel>, Problem> {
    let l = layer_of_kind(&s, &who, LayerKind::Parcels, q.layer.as_ref())?;
    let (x, y, srid) = match (q.lon, q.lat, q.x, q.y) {
        (Some(Num(lon)), Some(Num(lat)), None, None) => {
            let (lon, lat) = crate::params::check_lon_lat("lon/lat", lon, lat)?;
            (lon, lat, 4326)
        }
        (None, None, Some(Num(x)), Some(Num(y))) => {
            let srid = match q.srid {
                Some(Int(v)) => i32::try_from(v)
                    .map_err(|_| Problem::bad_request("srid", "srid must be an EPSG code"))?,
                None => l.srid,
            };
            if !features::supported_crs(l.srid)
                .iter()
                .any(|u| u.ends_with(&format!("/{srid}")))
            {
                return Err(Problem::bad_request(
                    "srid",
                    format!("EPSG:{srid} is not offered"),
                ));
            }
            (x, y, srid)
        }
        _ => return Err(Problem::bad_request(
            "lon/lat",
            "give lon and lat (WGS 84), or x and y (with srid, default the layer's VN-2000 zone)",
        )),
    };
    let visible: Vec<&Field> = who.visible(&l);
    let param = if srid == 4326 { "lon/lat" } else { "x/y" };
    let found = s
        .land
        .parcel_at(
            s.read_lookups(),
            &l,
            &visible,
            (x, y),
            srid,
            s.memory.parcels.get(&l.name, l.version).as_deref(),
        )
        .await
        .map_err(|e| at(e, param))?;
    if found.is_some() {
        let what = format!("x {x} y {y} srid {srid}");
        who.audit(&s, "parcel at point", &l, &visible, Some(what))
            .await?;
    }
    found
        .map(Json)
        .ok_or_else(|| Problem::not_found("no parcel at this point"))
}

#[utoipa::path(get, path = "/land/parcels/{key}/planning", tag = "land",
    params(("key" = String, Path, description = "parcel feature id"), ("layer" = Option<String>, Query)),
    responses((status = 200, description = "overlapping planning zones and land-fund areas with overlap m² and share %", content_type = "application/json"), (status = 400, description = "a parameter is invalid (problem+json naming it)", content_type = "application/problem+json"), (status = 404, description = "unknown layer or resource (problem+json)", content_type = "application/problem+json")))]
pub async fn planning(
    State(s): State<AppState>,
    who: Caller,
    Path(fid): Path<String>,
    q: Q<LandQuery>,
) -> Result<Json<PlanningReport>, Problem> {
    let l = layer_of_kind(&s, &who, LayerKind::Parcels, q.layer.as_ref())?;
    let fid: i64 = fid
        .parse()
        .map_err(|_| Problem::bad_request("fid", "the parcel id must be an integer"))?;
    let zones: Vec<Arc<Layer>> = who
        .readable(&s)
        .into_iter()
        .filter(|z| matches!(z.kind, LayerKind::Planning | LayerKind::LandFund))
        .collect();
    let with_fields: Vec<(&Layer, Vec<&Field>)> =
        zones.iter().map(|z| (z.as_ref(), who.visible(z))).collect();
    s.land
        .planning_report(s.read_lookups(), &l, fid, &with_fields)
        .await?
        .map(Json)
        .ok_or_else(|| Problem::not_found(format!("no parcel {fid}")))
}
