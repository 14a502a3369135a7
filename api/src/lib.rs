//! The HTTP service (axum): the layer catalog, TileJSON and vector tiles,
//! OGC API Features, land and logistics queries, field reports. Handlers are
//! thin: they parse, learn the caller's access (`caller`), call
//! `tiles`/`features`/`catalog`/`keys`, and map errors to RFC 9457
//! problem+json responses.

mod base_url;
mod caller;
mod layer_sync;
mod limits;
mod listener;
mod memory;
mod metrics;
mod openapi;
mod overview;
mod params;
mod problem;
mod registry;
mod replicas;
mod routes;
mod server;
mod state;
pub mod styles;

pub use limits::RateLimits;
pub use openapi::ApiDoc;
pub use problem::Problem;
pub use registry::Registry;
pub use replicas::{ReplicaState, Replicas};
pub use server::{router, serve, ServeConfig};
pub use state::{AppState, DEFAULT_CACHE_BYTES};
