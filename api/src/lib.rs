//! The HTTP service (axum): the layer catalog, TileJSON and vector tiles.
//! Handlers are thin: they parse, call `tiles`/`catalog`, and map errors to
//! RFC 9457 problem+json responses.

mod base_url;
mod listener;
mod openapi;
mod params;
mod problem;
mod registry;
mod routes;
mod server;
mod state;

pub use openapi::ApiDoc;
pub use problem::Problem;
pub use registry::Registry;
pub use server::{router, serve, ServeConfig};
pub use state::{AppState, DEFAULT_CACHE_BYTES};
