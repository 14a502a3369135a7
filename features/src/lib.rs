//! The queries behind geokho's APIs, apart from HTTP, grouped by domain:
//! - `ogc`: OGC API - Features over the catalog's layers (names from the
//!   catalog, values bound);
//! - `land`: land officers' look-ups, planning reports and statistics;
//! - `logistics`: warehouses near a point or reached by road;
//! - `routing`: road networks, their in-memory graphs and truck routes;
//! - `units`: administrative units before and from 1 July 2025.
//!
//! Shared below them: `batch` (look-ups that arrive together run as one
//! statement), `by_version` (what is kept per layer version), `native`
//! (whether PROJ places points as PostGIS does), `sql` (numbered
//! parameters). The `api` crate turns these into responses.

mod batch;
mod by_version;
mod error;
mod land;
mod logistics;
mod native;
mod ogc;
mod routing;
mod sql;
mod units;

pub use batch::MAX_BATCH;
pub use by_version::{ByVersion, Indexes, PerVersion};
pub use error::FeaturesError;
pub use land::lookups::LandLookups;
pub use land::parcel::{
    parcel_at, parcel_by_key, planning_report, Overlap, Parcel, PlanningReport, PARCEL_KEY,
};
pub use land::parcel_index::{ParcelIndex, ParcelIndexes, MAX_PARCELS_INDEXED};
pub use land::stats::{
    land_use_statistics, parcels_near_feature, Area, UseArea, MAX_BUFFER_M, MAX_NEAR_PARCELS,
};
pub use logistics::near::{warehouses_near, Warehouse, WarehouseFilter, MAX_NEAR};
pub use logistics::reach::{route_to_nearest_warehouse, warehouses_reachable, ByRoad, MAX_REACH_M};
pub use logistics::warehouse_index::{WarehouseIndex, WarehouseIndexes, MAX_INDEXED};
pub use ogc::collection::{collection, queryables, CONFORMANCE};
pub use ogc::crs::{supported_crs, Crs, CRS84};
pub use ogc::items::{fetch_item, fetch_items, ItemsQuery, Page, MAX_LIMIT};
pub use routing::graph::{Closed, EdgeRow, Graphs, RoadGraph, Tree};
pub use routing::network::{closed_edges, Cost, RoadNetwork};
pub use routing::route::{route, Leg, Route};
pub use routing::snap::{Snap, MAX_SNAP_M};
/// JSON text passed into responses as it is (GeoJSON from PostGIS).
pub use serde_json::value::RawValue;
pub use units::{find_units, Unit, GENERATIONS, MAX_UNITS};
