//! The one owner of geokho's layer catalog: which layers exist, their data
//! version, SRID, fields and visibility. Also the database connection and the
//! migrations in `seeds/migrations`, which every subcommand applies on start.
//!
//! Other crates read and publish layers only through this crate, so names of
//! schemas, tables and columns come from here and never from user text.

mod db;
mod error;
mod generalize;
mod ident;
mod kind;
mod layer;
mod live;
pub mod personal;
mod publish;
pub mod reference;
mod settings;
mod tables;

pub use db::{connect, connect_lazy, generic_plan_pool, migrate, pending_migrations, DbOptions};
pub use error::CatalogError;
pub use generalize::{
    band_for_zoom, band_or_full, generalizes, tolerance, GENERALIZED, MINZOOM_COLUMN, PIXEL_Z0,
};
pub use ident::{quote_ident, valid_layer_name};
pub use kind::LayerKind;
pub use layer::{get_layer, list_layers, Field, FieldType, Layer};
pub use live::republish;
pub use personal::is_personal;
pub use publish::{
    drop_stale_history, import_lock_key, layer_lock_key, live_fingerprint, next_version, publish,
    rollback, versioned_table, NewVersion, SourceFile,
};
pub use settings::{live_layer, LayerSettings, LiveLayer, VersionChanges};
pub use tables::{live_table, live_version, notify_layer};

/// Schema holding the live, served layer tables.
pub const DATA_SCHEMA: &str = "geokho_data";
/// Schema holding tables of imports in progress.
pub const STAGE_SCHEMA: &str = "geokho_stage";
/// Schema holding previous versions kept for rollback.
pub const HISTORY_SCHEMA: &str = "geokho_history";
/// NOTIFY channel announcing `layer:version` when a layer version is published.
pub const NOTIFY_CHANNEL: &str = "geokho_layer_changed";
/// Name of the feature id column of every layer table.
pub const FID_COLUMN: &str = "fid";
/// Geometry column in the layer's source SRID (legal areas are computed on it).
pub const GEOM_COLUMN: &str = "geom";
/// Suffix of a roads layer's routing network table (`<table>__edges`), built
/// by the importer and moved with the layer on publish, rollback and pruning.
pub const EDGES_SUFFIX: &str = "__edges";
/// Suffixes of the tables that belong to a layer table.
pub const COMPANIONS: &[&str] = &[EDGES_SUFFIX];
/// Web Mercator copy of the geometry, for tiles.
pub const GEOM_3857_COLUMN: &str = "geom_3857";
