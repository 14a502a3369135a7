//! The importer: shapefiles from Vietnamese agencies into PostGIS, safely.
//!
//! Data flows `plan` (open files, decide CRS and encoding, build the schema)
//! -> `produce` (rayon workers turn record ranges into binary COPY rows; `mercator`
//! adds the Web Mercator copy, generalised columns and `zmin`, validity pre-checked)
//! -> `stage` (parallel COPY straight into the stage table)
//! -> `finish` (rows the workers could not finish with certainty through PostGIS:
//! validity, repair, transform; with `--append`, the live rows; indexes, ANALYZE)
//! -> `network` (roads only: the routing edges, `<table>__edges`)
//! -> `catalog::publish` (atomic swap into the live schema, NOTIFY).

pub mod append;
pub mod archive;
pub mod checksum;
pub mod copy;
pub mod error;
pub mod finish;
pub mod import;
pub mod manifest;
pub mod mercator;
pub mod network;
pub mod ogr;
pub mod plan;
pub mod produce;
pub mod progress;
pub mod rejects;
pub mod schema;
pub mod settings;
pub mod source;
pub mod srs;
pub mod stage;

pub use catalog::LayerKind;
/// The shapefile reader and the DBF encodings live in the leaf crate `vnshp`.
pub use vnshp::{encoding, shapefile};

pub use error::ImportError;
pub use import::{
    import_layer, import_layer_with_progress, FileSummary, ImportOptions, ImportReport,
};
pub use progress::{NoProgress, Progress};
pub use settings::SettingsRequest;
