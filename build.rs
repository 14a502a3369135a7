//! Link setting of the geokho binary and its tests.
//!
//! `tiles` links a bundled SQLite (rusqlite, for MBTiles) while GDAL, used by
//! the importer for GeoPackage and other formats, links the system SQLite.
//! GNU ld exports the executable's copy of every symbol a shared library
//! needs, so GDAL would call the bundled SQLite with handles of its own and
//! crash (seen in sqlite3_close on a GeoPackage). Symbols of static archives
//! stay private to the executable instead.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg=-Wl,--exclude-libs,ALL");
    }
}
