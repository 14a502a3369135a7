//! `GET /catalog`: every layer with its TileJSON URL, zoom range, bounds and
//! the fields the caller may see.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};

use crate::base_url::base_url;
use crate::caller::Caller;
use crate::{AppState, Problem};

#[utoipa::path(get, path = "/catalog", tag = "tiles",
    responses((status = 200, description = "every layer the caller may read with its TileJSON URL, zoom range, bounds and the fields it may see", content_type = "application/json"), (status = 503, description = "the database is unavailable (problem+json, Retry-After)", content_type = "application/problem+json")))]
pub async fn catalog(
    State(s): State<AppState>,
    who: Caller,
    headers: HeaderMap,
) -> Result<Json<Value>, Problem> {
    let base = base_url(s.public_url.as_deref(), &headers);
    let layers = who.readable(&s);
    let items: Vec<Value> = layers
        .iter()
        .map(|l| {
            let fields: Vec<Value> = who
                .visible(l)
                .into_iter()
                .map(|f| json!({"name": f.name, "type": f.field_type, "tilejson_type": f.field_type.tilejson()}))
                .collect();
            json!({
                "id": l.name,
                "title": l.title,
                "description": l.description,
                "kind": l.kind,
                "geometry_type": l.geometry_type,
                "srid": l.srid,
                "version": l.version,
                "feature_count": l.feature_count,
                "bounds": l.bounds,
                "minzoom": l.minzoom,
                "maxzoom": l.maxzoom,
                "updated_at": l.updated_at,
                "fields": fields,
                "tilejson": format!("{base}/tiles/{}.json", l.name),
            })
        })
        .collect();
    Ok(Json(json!({ "layers": items })))
}
