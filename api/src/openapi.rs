//! The OpenAPI 3 document served at `/api` (utoipa): the information and
//! security schemes here, the paths from the handlers' annotations as the
//! router registers them (`server::documented`), so it cannot drift from
//! the routes.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use utoipa::openapi::server::Server;
use utoipa::OpenApi;

use crate::base_url::base_url;
use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "geokho", description = "Shared GIS base map and spatial data warehouse for Vietnamese provinces: vector tiles, OGC API - Features, land officers' queries."),
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
    let mut doc = document().clone();
    doc.servers = Some(vec![Server::new(base_url(
        s.public_url.as_deref(),
        &headers,
    ))]);
    Json(doc)
}

/// The whole document, built once from the documented routes.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOC.get_or_init(|| crate::server::documented().into_openapi())
}
