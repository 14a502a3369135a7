//! Administrators' operations (keys with scope `admin`): revoke an API key, purge a layer's
//! tiles on every server and in the shared store, and seed the store.
//! Imports stay a command (`geokho import`): files live where the
//! administrator runs it, not on the web server.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use keys::Access;

use crate::caller::Caller;
use crate::params::{Int, Q};
use crate::{AppState, Problem};

/// Most tiles one seed request may render.
const MAX_SEED_TILES: u64 = 200_000;

fn require_admin(who: &Caller) -> Result<(), Problem> {
    who.require(Access::is_admin, "admin", "this operation")
}

fn layer(s: &AppState, name: &str) -> Result<std::sync::Arc<catalog::Layer>, Problem> {
    s.layers.get(name).ok_or_else(|| {
        Problem::not_found(format!(
            "no layer named '{}'",
            name.chars().take(64).collect::<String>()
        ))
    })
}

#[utoipa::path(post, path = "/admin/layers/{layer}/purge", tag = "operations",
    params(("layer" = String, Path)), security(("api_key" = [])),
    responses((status = 200, description = "cached tiles dropped on every server and in the store", content_type = "application/json"),
              (status = 401, description = "no key, or an unknown or revoked key", content_type = "application/problem+json"),
              (status = 403, description = "the key lacks the admin scope", content_type = "application/problem+json"),
              (status = 404, description = "no such layer", content_type = "application/problem+json")))]
pub async fn purge(
    State(s): State<AppState>,
    who: Caller,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, Problem> {
    require_admin(&who)?;
    let l = layer(&s, &name)?;
    let stored = tiles::tile_store::purge_layer(&s.pool, &l.name).await?;
    s.cache.purge_layer(&l.name);
    // Every other server drops its memory cache of the layer too.
    catalog::notify_layer(&s.pool, &l.name, l.version)
        .await
        .map_err(Problem::internal)?;
    tracing::info!(layer = %l.name, stored, "tiles purged by an administrator");
    Ok(Json(
        json!({"layer": l.name, "version": l.version, "store_tiles_deleted": stored}),
    ))
}

/// `?minzoom=&maxzoom=` of a seed.
#[derive(Debug, Default, serde::Deserialize)]
pub struct SeedQuery {
    minzoom: Option<Int>,
    maxzoom: Option<Int>,
}

#[utoipa::path(post, path = "/admin/layers/{layer}/seed", tag = "operations",
    params(("layer" = String, Path), ("minzoom" = Option<u8>, Query), ("maxzoom" = Option<u8>, Query)),
    security(("api_key" = [])),
    responses((status = 202, description = "seeding started in the background", content_type = "application/json"),
              (status = 400, description = "zoom range invalid or too many tiles", content_type = "application/problem+json"),
              (status = 401, description = "no key, or an unknown or revoked key", content_type = "application/problem+json"),
              (status = 403, description = "the key lacks the admin scope", content_type = "application/problem+json"),
              (status = 404, description = "no such layer", content_type = "application/problem+json")))]
pub async fn seed(
    State(s): State<AppState>,
    who: Caller,
    Path(name): Path<String>,
    q: Q<SeedQuery>,
) -> Result<Response, Problem> {
    require_admin(&who)?;
    let l = layer(&s, &name)?;
    let zoom = |k: &'static str, v: Option<Int>, d: u8| -> Result<u8, Problem> {
        v.map_or(Ok(d), |Int(z)| {
            u8::try_from(z)
                .ok()
                .filter(|z| *z <= 22)
                .ok_or_else(|| Problem::bad_request(k, format!("{k} must be 0-22")))
        })
    };
    let (minz, maxz) = (
        zoom("minzoom", q.minzoom, l.minzoom.clamp(0, 22) as u8)?,
        zoom("maxzoom", q.maxzoom, 14)?,
    );
    if minz > maxz {
        return Err(Problem::bad_request(
            "minzoom",
            "minzoom must be <= maxzoom",
        ));
    }
    let Some(bounds) = l.bounds else {
        return Err(Problem::bad_request("layer", "the layer is empty"));
    };
    let n = tiles::count_tiles(bounds, minz, maxz);
    if n > MAX_SEED_TILES {
        return Err(Problem::bad_request(
            "maxzoom",
            format!("{n} tiles: at most {MAX_SEED_TILES} per request (use `geokho seed` for more)"),
        ));
    }
    let pool = s.pool.clone();
    tokio::spawn(async move {
        match tiles::seed(&pool, l.clone(), (minz, maxz), None, 4, || {}).await {
            Ok(r) => tracing::info!(layer = %l.name, tiles = r.tiles, "seeded"),
            Err(e) => tracing::warn!(layer = %l.name, error = %e, "seeding failed"),
        }
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"layer": name, "tiles": n, "minzoom": minz, "maxzoom": maxz})),
    )
        .into_response())
}

#[utoipa::path(delete, path = "/admin/keys/{id}", tag = "operations",
    params(("id" = i64, Path, description = "the key's id (from `geokho keys list`)")), security(("api_key" = [])),
    responses((status = 200, description = "revoked; every server refuses the key from now on", content_type = "application/json"),
              (status = 400, description = "id is not a number", content_type = "application/problem+json"),
              (status = 401, description = "no key, or an unknown or revoked key", content_type = "application/problem+json"),
              (status = 403, description = "the key lacks the admin scope", content_type = "application/problem+json"),
              (status = 404, description = "no such key", content_type = "application/problem+json")))]
pub async fn revoke_key(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, Problem> {
    require_admin(&who)?;
    let id: i64 = id
        .parse()
        .map_err(|_| Problem::bad_request("id", "id must be a key's number"))?;
    // On the primary; its NOTIFY reaches every other server.
    match keys::revoke(&s.pool, &id.to_string()).await {
        Ok(id) => {
            s.keys.invalidate_all();
            tracing::info!(key = id, "API key revoked by an administrator");
            Ok(Json(json!({"id": id, "revoked": true})))
        }
        Err(keys::KeyError::NotFound(_)) => Err(Problem::not_found(format!("no key {id}"))),
        Err(e) => Err(Problem::internal(e)),
    }
}
