//! OGC API - Features (Part 1 Core, Part 2 CRS by reference, Part 3
//! filtering) over the catalog's layers, apart from HTTP: which CRSs a layer
//! offers and how their URIs map to SRIDs and axis orders, the SQL of items
//! and of one item (names from the catalog, values bound), and the JSON of
//! collections and queryables; land officers' and logistics queries, truck
//! routing. The `api` crate turns these into responses.

mod batch;
mod by_version;
mod collection;
mod crs;
mod error;
mod graph;
mod items;
mod land;
mod land_batch;
mod logistics;
mod native;
mod network;
mod parcel_index;
mod reach;
mod routing;
mod snap;
mod sql;
mod stats;
mod warehouse_index;

pub use batch::MAX_BATCH;
pub use by_version::ByVersion;
pub use collection::{collection, queryables, CONFORMANCE};
pub use crs::{supported_crs, Crs, CRS84};
pub use error::FeaturesError;
pub use graph::{Closed, EdgeRow, Graphs, RoadGraph, Tree};
pub use items::{fetch_item, fetch_items, ItemsQuery, Page, MAX_LIMIT};
pub use land::{
    parcel_at, parcel_by_key, planning_report, Overlap, Parcel, PlanningReport, PARCEL_KEY,
};
pub use land_batch::LandLookups;
pub use logistics::{warehouses_near, Warehouse, WarehouseFilter, MAX_NEAR};
pub use network::{closed_edges, Cost, RoadNetwork};
pub use parcel_index::{ParcelIndex, ParcelIndexes, MAX_PARCELS_INDEXED};
pub use reach::{route_to_nearest_warehouse, warehouses_reachable, MAX_REACH_M};
pub use routing::{route, Leg, Route};
/// JSON text passed into responses as it is (GeoJSON from PostGIS).
pub use serde_json::value::RawValue;
pub use snap::{Snap, MAX_SNAP_M};
pub use stats::{
    land_use_statistics, parcels_near_feature, Area, UseArea, MAX_BUFFER_M, MAX_NEAR_PARCELS,
};
pub use warehouse_index::{WarehouseIndex, WarehouseIndexes, MAX_INDEXED};
