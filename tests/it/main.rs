//! Every integration test of the workspace's binary and HTTP service, in
//! one test binary: each module was a test file of its own, and each
//! linked the whole workspace. Run one module with `cargo test --test it
//! access::` (module path prefix).

mod common;

mod access;
mod bad_input;
mod browser;
mod faults;
mod import_cli;
mod import_report;
mod injection;
mod land;
mod land_area;
mod logistics;
mod mvt_encoding;
mod ogc;
mod openapi;
mod ops;
mod parcel_batch;
mod reports;
mod route_graph;
mod routing;
mod samples_committed;
mod scaling;
mod thin_slice;
mod tiles_served;
mod tileset;
mod units;
mod warehouse_index;
