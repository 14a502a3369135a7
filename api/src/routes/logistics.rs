//! Logistics firms' searches under `/logistics`: warehouses near a point.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use catalog::Field;
use features::WarehouseFilter;
use serde_json::{json, Value};

use crate::params::optional_number as num;
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
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, Problem> {
    let layer = s
        .layers
        .all()
        .into_iter()
        .find(|l| l.public && l.kind == "warehouses" && q.get("layer").is_none_or(|n| *n == l.name))
        .ok_or_else(|| Problem::not_found("no published warehouses layer"))?;
    let (Some(lon), Some(lat)) = (num(&q, "lon")?, num(&q, "lat")?) else {
        return Err(Problem::bad_request(
            "lon/lat",
            "lon and lat (WGS 84) are required",
        ));
    };
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(Problem::bad_request(
            "lon/lat",
            "lon must be within ±180 and lat within ±90",
        ));
    }
    let limit = match q.get("limit") {
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=features::MAX_NEAR).contains(n))
            .ok_or_else(|| {
                Problem::bad_request("limit", format!("limit must be 1-{}", features::MAX_NEAR))
            })?,
        None => 10,
    };
    let filter = WarehouseFilter {
        loai_kho: q.get("loai_kho").cloned(),
        min_suc_chua: num(&q, "min_suc_chua")?,
        dich_vu: q.get("dich_vu").cloned().filter(|d| !d.trim().is_empty()),
    };
    let visible: Vec<&Field> = layer.public_fields().collect();
    let found =
        features::warehouses_near(&s.pool, &layer, &visible, (lon, lat), &filter, limit).await?;
    Ok(Json(
        json!({ "type": "FeatureCollection", "numberReturned": found.len(), "features": found }),
    ))
}
