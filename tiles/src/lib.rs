//! Vector tiles from the catalog's layers: tile coordinates, the ST_AsMVT SQL
//! of a layer (one builder for table layers, martin-style, with per-zoom
//! generalisation) with CQL2 filters from `sqlfilter`, the in-memory tile
//! cache, one request's tier, key and source (`TileRequest`) and TileJSON
//! 3.0.0.
//! HTTP lives in the `api` crate.

mod cache;
mod coord;
pub mod encode;
mod error;
mod export;
mod mvt;
mod pyramid;
mod request;
mod seed;
mod store;
mod tilejson;

pub use cache::{gunzip, CachedTile, TileCache, TileKey};
pub use coord::TileCoord;
pub use error::TileError;
pub use export::{export, ExportError, ExportReport, Format};
pub use mvt::{layer_tile_sql, render, TileLayer, FIRST_FILTER_PARAM, TILE_BUDGET};
pub use pyramid::{count_tiles, tiles_in};
pub use request::{BadTileParameter, Readable, TileRequest};
pub use seed::{
    default_variant, overview_zooms, seed, seed_overview, SeedReport, OVERVIEW_MAXZOOM,
    OVERVIEW_TILES,
};
pub use store::{layers_key, variant};
pub use tilejson::{tilejson, TileJsonOptions};

/// Persistent tile store operations.
pub mod tile_store {
    pub use crate::store::{get, get_composite, purge_layer, purge_stale, put};
}

/// Access tier of anonymous callers.
pub const PUBLIC_TIER: &str = "public";
