//! `geokho export`: a tileset file for offline use or static hosting behind a
//! CDN, as PMTiles v3 (the `pmtiles` crate) or MBTiles 1.3 (SQLite), with
//! gzip-compressed MVT and TileJSON-style `vector_layers` metadata.

use std::path::Path;
use std::sync::Arc;

use catalog::Layer;
use futures::{stream, StreamExt};
use pmtiles::{Compression, PmTilesWriter, TileId, TileType};
use sqlx::PgPool;

use crate::{
    render, tilejson, tiles_in, TileCoord, TileError, TileJsonOptions, TileLayer, TILE_BUDGET,
};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    PmTiles,
    MbTiles,
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportReport {
    pub tiles: u64,
    pub bytes: u64,
}

/// Errors of an export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Tile(#[from] TileError),
    #[error("{0}: {1}")]
    Write(String, String),
    #[error("nothing to export: the layers have no bounds (empty?)")]
    Empty,
}

/// The composite tiles of `layers` over zooms `minz..=maxz` and `bounds`,
/// written to `out`, rendered `concurrency` at a time in PMTiles order.
pub async fn export(
    pool: &PgPool,
    layers: &[Arc<Layer>],
    (minz, maxz): (u8, u8),
    bounds: Option<[f64; 4]>,
    format: Format,
    out: &Path,
    concurrency: usize,
) -> Result<ExportReport, ExportError> {
    let b = bounds
        .or_else(|| {
            layers.iter().filter_map(|l| l.bounds).reduce(|a, c| {
                [
                    a[0].min(c[0]),
                    a[1].min(c[1]),
                    a[2].max(c[2]),
                    a[3].max(c[3]),
                ]
            })
        })
        .ok_or(ExportError::Empty)?;
    let mut coords: Vec<TileCoord> = (minz..=maxz).flat_map(|z| tiles_in(b, z)).collect();
    coords.sort_by_key(|c| tile_id(*c));
    let tl: Vec<TileLayer<'_>> = layers
        .iter()
        .map(|l| TileLayer {
            layer: l,
            fields: l.public_fields().collect(),
            filter: None,
        })
        .collect();
    let tl = &tl;
    let mut rendered = stream::iter(coords)
        .map(|c| async move { render(pool, tl, c, TILE_BUDGET).await.map(|d| (c, d)) })
        .buffered(concurrency.max(1));
    let with_fields: Vec<_> = layers
        .iter()
        .map(|l| (l.as_ref(), l.public_fields().collect::<Vec<_>>()))
        .collect();
    let meta = tilejson(&with_fields, &TileJsonOptions { base_url: "" });
    let err =
        |e: &dyn std::fmt::Display| ExportError::Write(out.display().to_string(), e.to_string());
    let mut report = ExportReport::default();
    match format {
        Format::PmTiles => {
            let file = std::fs::File::create(out).map_err(|e| err(&e))?;
            let mut w = PmTilesWriter::new(TileType::Mvt)
                .tile_compression(Compression::Gzip)
                .min_zoom(minz)
                .max_zoom(maxz)
                .bounds(b[0], b[1], b[2], b[3])
                .center((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0)
                .center_zoom(minz.max(maxz.saturating_sub(2)))
                .metadata(&meta.to_string())
                .create(std::io::BufWriter::new(file))
                .map_err(|e| err(&e))?;
            while let Some(r) = rendered.next().await {
                let (c, data) = r?;
                if data.is_empty() {
                    continue;
                }
                w.add_tile(
                    pmtiles::TileCoord::new(c.z, c.x, c.y).map_err(|e| err(&e))?,
                    &data,
                )
                .map_err(|e| err(&e))?;
                report.tiles += 1;
                report.bytes += data.len() as u64;
            }
            w.finalize().map_err(|e| err(&e))?;
        }
        Format::MbTiles => {
            let _ = std::fs::remove_file(out);
            let db = rusqlite::Connection::open(out).map_err(|e| err(&e))?;
            mbtiles_schema(&db, &meta, b, (minz, maxz)).map_err(|e| err(&e))?;
            db.execute_batch("BEGIN").map_err(|e| err(&e))?;
            while let Some(r) = rendered.next().await {
                let (c, data) = r?;
                if data.is_empty() {
                    continue;
                }
                // flate2's default level: files are written once, read many times.
                let gz = crate::cache::gzip_at(&data, flate2::Compression::default().level());
                // MBTiles rows count from the south (TMS).
                let row = (1u32 << c.z) - 1 - c.y;
                db.execute("INSERT INTO tiles (zoom_level, tile_column, tile_row, tile_data) VALUES (?1, ?2, ?3, ?4)", rusqlite::params![c.z, c.x, row, gz])
                    .map_err(|e| err(&e))?;
                report.tiles += 1;
                report.bytes += data.len() as u64;
            }
            db.execute_batch("COMMIT").map_err(|e| err(&e))?;
        }
    }
    Ok(report)
}

fn tile_id(c: TileCoord) -> u64 {
    pmtiles::TileCoord::new(c.z, c.x, c.y)
        .map(|t| TileId::from(t).value())
        .unwrap_or(u64::MAX)
}

fn mbtiles_schema(
    db: &rusqlite::Connection,
    meta: &serde_json::Value,
    b: [f64; 4],
    (minz, maxz): (u8, u8),
) -> rusqlite::Result<()> {
    db.execute_batch(
        "CREATE TABLE metadata (name text, value text);\
         CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob);\
         CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);",
    )?;
    let json = serde_json::json!({ "vector_layers": meta["vector_layers"] }).to_string();
    let rows = [
        (
            "name",
            meta["name"].as_str().unwrap_or("geokho").to_string(),
        ),
        (
            "description",
            meta["description"].as_str().unwrap_or("").to_string(),
        ),
        ("format", "pbf".into()),
        ("type", "overlay".into()),
        ("version", "1.0.0".into()),
        ("attribution", "geokho".into()),
        ("bounds", format!("{},{},{},{}", b[0], b[1], b[2], b[3])),
        (
            "center",
            format!(
                "{},{},{}",
                (b[0] + b[2]) / 2.0,
                (b[1] + b[3]) / 2.0,
                maxz.saturating_sub(2).max(minz)
            ),
        ),
        ("minzoom", minz.to_string()),
        ("maxzoom", maxz.to_string()),
        ("json", json),
    ];
    for (k, v) in rows {
        db.execute(
            "INSERT INTO metadata (name, value) VALUES (?1, ?2)",
            [k, v.as_str()],
        )?;
    }
    Ok(())
}
