//! Truck routing: a roads layer's network (one-way roads, bridge load
//! limits), its graph held in memory per version, snapping points to the
//! nearest road, and the route itself.

pub(crate) mod graph;
pub(crate) mod network;
pub(crate) mod route;
pub(crate) mod snap;
