//! Logistics queries: warehouses nearest a point (from the in-memory
//! R-tree of a layer version, or SQL), and warehouses reached by road.

pub(crate) mod near;
pub(crate) mod reach;
pub(crate) mod warehouse_index;
