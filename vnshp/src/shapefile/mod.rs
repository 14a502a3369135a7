//! Shapefile access at the byte level: the `.shp` geometry records (converted
//! straight to EWKB), the `.shx` index (rebuilt by scanning when missing), the
//! `.dbf` attribute table with raw field bytes (so text encodings can be
//! detected before decoding), and a writer used by the sample generator.
//!
//! Written here rather than taken from a crate because the importer needs
//! record ranges for parallel workers, raw DBF bytes for encoding detection
//! and precise errors on damaged files (truncated, wrong counts, junk bytes).

mod dbf;
mod files;
mod shp;
mod wkb;
mod writer;

pub use dbf::{DbfField, DbfHeader, DbfReader};
pub use files::{FileSet, ShapefileError};
pub use shp::{Dims, ShapeType, ShpHeader, ShpReader};
pub use wkb::{shape_to_ewkb, ShapeOutcome};
pub use writer::{Shape, ShapefileWriter, WriteField, WriteValue};
