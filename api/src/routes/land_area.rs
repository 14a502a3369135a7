//! Land officers' area questions under `/land`: land-use statistics inside
//! a commune, a feature or a drawn polygon, and the parcels within N metres
//! of a feature (areas in the parcels' VN-2000 projection).

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use catalog::{Field, Layer, LayerKind, FID_COLUMN};
use features::Area;
use serde_json::{json, Value};

use crate::caller::Caller;
use crate::params::{Int, Num, Q};
use crate::routes::land::{layer_of_kind, LandQuery};
use crate::{AppState, Problem};

/// A layer the caller may read, by name (`param` names the parameter in errors).
fn readable_layer(
    s: &AppState,
    who: &Caller,
    name: &str,
    param: &'static str,
) -> Result<Layer, Problem> {
    who.readable(s)
        .into_iter()
        .find(|l| l.name == name)
        .map(|l| Layer::clone(&l))
        .ok_or_else(|| {
            Problem::bad_request(
                param,
                format!(
                    "no published layer '{}'",
                    name.chars().take(40).collect::<String>()
                ),
            )
        })
}

async fn statistics_json(
    s: &AppState,
    parcels: &Layer,
    area: Area,
) -> Result<Json<Value>, Problem> {
    let (rows, total) = features::land_use_statistics(s.read(), parcels, &area).await?;
    let covered: f64 = rows.iter().map(|r| r.area_m2).sum();
    Ok(Json(json!({
        "layer": parcels.name,
        "version": parcels.version,
        "area_srid": parcels.srid,
        "area_m2": total,
        "parcels_area_m2": (covered * 10.0).round() / 10.0,
        "land_use": rows,
    })))
}

#[utoipa::path(get, path = "/land/statistics", tag = "land",
    params(("ma_xa" = Option<String>, Query, description = "commune code (ma_dvhc of the admin layer)"),
           ("area_layer" = Option<String>, Query, description = "a layer whose feature bounds the area (with fid)"),
           ("fid" = Option<i64>, Query, description = "feature id in area_layer"),
           ("layer" = Option<String>, Query, description = "parcels layer")),
    responses((status = 200, description = "area by loai_dat (m², VN-2000) with parcel counts and shares", content_type = "application/json"),
              (status = 400, description = "a parameter is invalid (problem+json naming it)", content_type = "application/problem+json"),
              (status = 404, description = "no parcels layer, commune or feature", content_type = "application/problem+json")))]
pub async fn statistics(
    State(s): State<AppState>,
    who: Caller,
    q: Q<LandQuery>,
) -> Result<Json<Value>, Problem> {
    let parcels = layer_of_kind(&s, &who, LayerKind::Parcels, q.layer.as_ref())?;
    let area = match (&q.ma_xa, &q.area_layer, q.fid) {
        (Some(code), None, None) => {
            let admin = layer_of_kind(&s, &who, LayerKind::Admin, None)?;
            if !admin.fields.iter().any(|f| f.name == "ma_dvhc") {
                return Err(Problem::not_found(format!(
                    "admin layer {} has no ma_dvhc field",
                    admin.name
                )));
            }
            Area::Feature {
                layer: Box::new(Layer::clone(&admin)),
                column: "ma_dvhc".into(),
                value: code.trim().to_string(),
            }
        }
        (None, Some(l), Some(Int(fid))) => {
            Area::Feature {
                layer: Box::new(readable_layer(&s, &who, l, "area_layer")?),
                column: FID_COLUMN.into(),
                value: fid.to_string(),
            }
        }
        _ => {
            return Err(Problem::bad_request(
                "ma_xa",
                "give ma_xa (a commune code), or area_layer and fid; POST a GeoJSON polygon for any other area",
            ))
        }
    };
    statistics_json(&s, &parcels, area).await
}

#[utoipa::path(post, path = "/land/statistics", tag = "land",
    params(("layer" = Option<String>, Query, description = "parcels layer")),
    request_body(content = String, description = "a GeoJSON Polygon or MultiPolygon in WGS 84 (a geometry or a Feature)", content_type = "application/geo+json"),
    responses((status = 200, description = "area by loai_dat (m², VN-2000) with parcel counts and shares", content_type = "application/json"),
              (status = 400, description = "the body is not a valid polygon (problem+json)", content_type = "application/problem+json"),
              (status = 404, description = "no parcels layer", content_type = "application/problem+json")))]
pub async fn statistics_in_polygon(
    State(s): State<AppState>,
    who: Caller,
    q: Q<LandQuery>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    let parcels = layer_of_kind(&s, &who, LayerKind::Parcels, q.layer.as_ref())?;
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| Problem::bad_request("geometry", format!("the body is not JSON: {e}")))?;
    let geometry = match v.get("type").and_then(Value::as_str) {
        Some("Feature") => v.get("geometry").cloned().unwrap_or(Value::Null),
        Some("Polygon" | "MultiPolygon") => v,
        _ => {
            return Err(Problem::bad_request(
                "geometry",
                "send a GeoJSON Polygon, MultiPolygon or a Feature holding one",
            ))
        }
    };
    if !matches!(
        geometry.get("type").and_then(Value::as_str),
        Some("Polygon" | "MultiPolygon")
    ) {
        return Err(Problem::bad_request(
            "geometry",
            "the geometry must be a Polygon or MultiPolygon",
        ));
    }
    statistics_json(&s, &parcels, Area::GeoJson(geometry.to_string())).await
}

#[utoipa::path(get, path = "/land/parcels/near", tag = "land",
    params(("of" = String, Query, description = "layer of the feature, e.g. a planned road"),
           ("fid" = i64, Query, description = "feature id in that layer"),
           ("distance_m" = f64, Query, description = "0-5000 metres"),
           ("limit" = Option<u32>, Query, description = "1-1000, default 100"),
           ("layer" = Option<String>, Query, description = "parcels layer")),
    responses((status = 200, description = "parcels within distance_m, nearest first, with legal_area_m2 and distance_m; numberMatched counts all", content_type = "application/geo+json"),
              (status = 400, description = "a parameter is invalid (problem+json naming it)", content_type = "application/problem+json"),
              (status = 404, description = "no parcels layer or no such feature", content_type = "application/problem+json")))]
pub async fn parcels_near(
    State(s): State<AppState>,
    who: Caller,
    q: Q<LandQuery>,
) -> Result<Json<Value>, Problem> {
    let parcels = layer_of_kind(&s, &who, LayerKind::Parcels, q.layer.as_ref())?;
    let of_name = q
        .of
        .as_ref()
        .ok_or_else(|| Problem::bad_request("of", "of (the layer of the feature) is required"))?;
    let of = readable_layer(&s, &who, of_name, "of")?;
    let Some(Int(fid)) = q.fid else {
        return Err(Problem::bad_request(
            "fid",
            "fid (an integer feature id) is required",
        ));
    };
    let distance = match q.distance_m {
        Some(Num(d)) if (0.0..=features::MAX_BUFFER_M).contains(&d) => d,
        _ => {
            return Err(Problem::bad_request(
                "distance_m",
                format!("distance_m must be 0-{} metres", features::MAX_BUFFER_M),
            ))
        }
    };
    let limit = crate::params::limit_in(q.limit, features::MAX_NEAR_PARCELS, 100)?;
    let visible: Vec<&Field> = who.visible(&parcels);
    let (matched, found) =
        features::parcels_near_feature(s.read(), &parcels, &visible, &of, fid, distance, limit)
            .await?;
    let what = format!("{} fid {fid} within {distance} m", of.name);
    who.audit(&s, "parcels near", &parcels, &visible, Some(what))
        .await?;
    Ok(Json(json!({
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": found.len(),
        "of": { "layer": of.name, "fid": fid },
        "distance_m": distance,
        "features": found,
    })))
}
