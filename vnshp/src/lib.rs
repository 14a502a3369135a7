//! Shapefiles as Vietnamese agencies deliver them, at the byte level: the
//! `.shp`/`.shx`/`.dbf` reader and writer (`shapefile`) and the DBF text
//! encodings (`encoding`: UTF-8, Windows-1258, TCVN3, VNI-Windows, Latin-1,
//! decoded to NFC, with detection).
//!
//! A leaf crate: no database, GDAL or PROJ, so the sample generator and
//! the fuzzers use it without the importer.

pub mod encoding;
pub mod shapefile;
