//! The OpenAPI 3 document served at `/api` (utoipa), generated from the
//! handlers' annotations so it cannot drift from the routes.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use utoipa::openapi::server::Server;
use utoipa::OpenApi;

use crate::base_url::base_url;
use crate::routes::{admin, catalog, health, land, land_area, logistics, ogc, reports, tiles, web};
use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "geokho", description = "Shared GIS base map and spatial data warehouse for Vietnamese provinces: vector tiles, OGC API - Features, land officers' queries."),
    paths(
        catalog::catalog, health::health, health::ready, admin::purge, admin::seed, admin::revoke_key, tiles::tilejson, tiles::tile,
        ogc::landing, ogc::conformance, ogc::collections, ogc::collection, ogc::queryables, ogc::items, ogc::item,
        land::by_key, land::at_point, land::planning, land_area::statistics, land_area::statistics_in_polygon, land_area::parcels_near, logistics::warehouses_near, logistics::warehouses_reachable, logistics::route, logistics::route_to_nearest_warehouse, reports::create, reports::set_status, web::styles, web::style,
    ),
    modifiers(&KeySecurity),
    tags((name = "tiles"), (name = "features"), (name = "land"), (name = "logistics"), (name = "citizens"), (name = "maps"), (name = "operations"))
)]
pub struct ApiDoc;

/// API keys: `Authorization: Bearer <key>` or `?key=<key>`. Without a key a
/// caller sees public layers and fields; with one, what its scopes grant.
struct KeySecurity;

impl utoipa::Modify for KeySecurity {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        c.add_security_scheme(
            "api_key_query",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("key"))),
        );
    }
}

/// `GET /api`: the document, with this server's URL.
pub async fn api(State(s): State<AppState>, headers: HeaderMap) -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.servers = Some(vec![Server::new(base_url(
        s.public_url.as_deref(),
        &headers,
    ))]);
    Json(doc)
}
