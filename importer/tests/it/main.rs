//! The importer's integration tests in one test binary (each module was a
//! test file of its own, each linking the importer, GDAL and PROJ). Run one
//! module with `cargo test -p importer --test it safety::`. The outside
//! oracle (`oracle.rs`, `make oracle`) stays a binary of its own.

mod common;

mod derived;
mod encodings;
mod fuzz;
mod gdal_bad_inputs;
mod gdal_formats;
mod manifest_fields;
mod robustness;
mod safety;
mod zip_input;
