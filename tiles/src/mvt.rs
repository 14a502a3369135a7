//! The SQL of one table layer's tile and the rendering of (composite) tiles.
//!
//! Like martin: one prepared `ST_AsMVT` query per layer and zoom band over the
//! Web Mercator column, clipped to the tile with a 64-pixel buffer; feature
//! ids from `fid`. Unlike martin: below zoom 14 the query reads a geometry
//! simplified for the band (prepared at import) and skips features smaller
//! than a pixel (`zmin`), and a tile over its byte budget is rendered again
//! with a stricter size threshold. Names come from the catalog (quoted);
//! tile numbers and filter values are bound parameters.

use catalog::{
    quote_ident, Field, FieldType, Layer, DATA_SCHEMA, FID_COLUMN, GEOM_3857_COLUMN, MINZOOM_COLUMN,
};
use sqlx::PgPool;

use crate::filter::{Param, SqlFilter};
use crate::{TileCoord, TileError};

/// Tile extent and buffer in tile units.
pub const EXTENT: i32 = 4096;
pub const BUFFER: i32 = 64;
/// Bytes a tile may have; a bigger one is rendered again with fewer features.
pub const TILE_BUDGET: usize = 500 * 1024;
/// Number of the first filter parameter ($1..$4 are z, x, y and the size threshold).
pub const FIRST_FILTER_PARAM: usize = 5;

/// One layer of a tile: the catalog layer, the fields to include, a filter.
#[derive(Debug, Clone)]
pub struct TileLayer<'a> {
    pub layer: &'a Layer,
    pub fields: Vec<&'a Field>,
    pub filter: Option<SqlFilter>,
}

fn column(f: &Field) -> String {
    let q = quote_ident(&f.name);
    match f.field_type {
        // ST_AsMVT encodes text, numbers and booleans; dates travel as ISO text.
        FieldType::Date => format!("{q}::text AS {q}"),
        _ => q,
    }
}

/// The SQL of one layer's tile at zoom `z`; `$1..$3` = z, x, y, `$4` = the
/// largest `zmin` (feature size threshold) to include, then filter values.
/// With `limit`, only that many features, largest first.
pub fn layer_tile_sql(t: &TileLayer<'_>, z: u8, limit: Option<u32>) -> String {
    let mut cols: Vec<String> = vec![quote_ident(FID_COLUMN)];
    cols.extend(t.fields.iter().map(|f| column(f)));
    let full = quote_ident(GEOM_3857_COLUMN);
    let zmin = quote_ident(MINZOOM_COLUMN);
    let (geom, band_cond) = match catalog::band_for_zoom(z) {
        Some((max, col)) if catalog::generalizes(&t.layer.geometry_type) => {
            // The literal bound lets the planner use the band's partial index.
            (quote_ident(col), format!(" AND {zmin} <= {max}"))
        }
        _ => (full.clone(), String::new()),
    };
    let filter = t
        .filter
        .as_ref()
        .map(|f| format!(" AND {}", f.sql))
        .unwrap_or_default();
    let limit = limit
        .map(|n| format!(" ORDER BY {zmin}, {} LIMIT {n}", quote_ident(FID_COLUMN)))
        .unwrap_or_default();
    format!(
        "SELECT ST_AsMVT(q, {name}, {EXTENT}, 'geom', {fid}), count(*) FROM (\
           SELECT {cols}, ST_AsMVTGeom({geom}, ST_TileEnvelope($1, $2, $3), {EXTENT}, {BUFFER}, true) AS geom \
           FROM {schema}.{table} \
           WHERE {full} && ST_TileEnvelope($1, $2, $3, margin => {margin}){band_cond} AND {zmin} <= $4{filter}{limit}\
         ) q WHERE q.geom IS NOT NULL",
        name = sql_literal(&t.layer.name),
        fid = sql_literal(FID_COLUMN),
        cols = cols.join(", "),
        schema = quote_ident(DATA_SCHEMA),
        table = quote_ident(&t.layer.name),
        margin = f64::from(BUFFER) / f64::from(EXTENT),
    )
}

/// A literal for a catalog name (already `[a-z0-9_]`); never for user text.
fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

async fn render_layer(
    pool: &PgPool,
    t: &TileLayer<'_>,
    c: TileCoord,
    max_zmin: i32,
    limit: Option<u32>,
) -> Result<(Vec<u8>, i64), TileError> {
    let sql = layer_tile_sql(t, c.z, limit);
    let mut q = sqlx::query_as::<_, (Option<Vec<u8>>, i64)>(&sql)
        .bind(i32::from(c.z))
        .bind(c.x as i32)
        .bind(c.y as i32)
        .bind(max_zmin);
    for p in t.filter.iter().flat_map(|f| f.params.iter()) {
        q = match p {
            Param::Text(s) => q.bind(s.clone()),
            Param::Float(x) => q.bind(*x),
            Param::Bool(b) => q.bind(*b),
        };
    }
    let (bytes, n) = q.fetch_one(pool).await?;
    Ok((bytes.unwrap_or_default(), n))
}

/// Renders tile `c` of `layers`, concatenating each layer's MVT bytes
/// (protobuf messages of repeated layers concatenate into one tile). Each
/// layer gets an equal share of `budget` bytes (normally [`TILE_BUDGET`]);
/// over it, the layer is rendered again with only its largest features, as
/// many as the share should hold (estimated from bytes per feature), until
/// it fits. Features smaller than a pixel were already left out by `zmin`.
pub async fn render(
    pool: &PgPool,
    layers: &[TileLayer<'_>],
    c: TileCoord,
    budget: usize,
) -> Result<Vec<u8>, TileError> {
    let share = budget / layers.len().max(1);
    let mut out = Vec::new();
    for t in layers {
        if i32::from(c.z) < t.layer.minzoom || i32::from(c.z) > t.layer.maxzoom {
            continue;
        }
        let cap = i32::from(c.z);
        let (mut bytes, mut n) = render_layer(pool, t, c, cap, None).await?;
        for _ in 0..6 {
            if bytes.len() <= share || n <= 1 {
                break;
            }
            // Keep a proportional share of the features, with a margin.
            let keep = ((n as f64) * (share as f64) / (bytes.len() as f64) * 0.9)
                .floor()
                .max(1.0) as u32;
            let keep = keep.min(n as u32 - 1);
            tracing::debug!(layer = %t.layer.name, z = c.z, x = c.x, y = c.y, size = bytes.len(), features = n, keep, "tile over budget");
            (bytes, n) = render_layer(pool, t, c, cap, Some(keep)).await?;
        }
        if bytes.len() > share {
            bytes.clear();
        }
        out.extend(bytes);
    }
    Ok(out)
}
