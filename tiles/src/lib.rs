//! Vector tiles from the catalog's layers: tile coordinates, the ST_AsMVT SQL
//! of a layer (one builder for table layers, martin-style, with per-zoom
//! generalisation), CQL2 filters, the in-memory tile cache and TileJSON 3.0.0.
//! HTTP lives in the `api` crate.

mod cache;
mod coord;
mod error;
mod filter;
mod mvt;
mod tilejson;

pub use cache::{TileCache, TileKey};
pub use coord::TileCoord;
pub use error::TileError;
pub use filter::{compile_filter, FilterError, Param, SqlFilter};
pub use mvt::{layer_tile_sql, render, TileLayer, FIRST_FILTER_PARAM, TILE_BUDGET};
pub use tilejson::{tilejson, TileJsonOptions};
