//! Vector tiles from the catalog's layers: tile coordinates, the ST_AsMVT SQL
//! of a layer (one builder for table layers, martin-style), composite tiles
//! and TileJSON 3.0.0 documents. HTTP lives in the `api` crate.

mod coord;
mod error;
mod mvt;
mod tilejson;

pub use coord::TileCoord;
pub use error::TileError;
pub use mvt::{layer_tile, render, TileLayer};
pub use tilejson::{tilejson, TileJsonOptions};
