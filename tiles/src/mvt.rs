//! The SQL of one table layer's tile and the rendering of (composite) tiles.
//!
//! Like martin: one prepared `ST_AsMVT` query per layer over its Web Mercator
//! column, clipped to the tile envelope with a 64-pixel buffer; feature ids
//! from `fid`. Names come from the catalog (quoted), tile numbers are bound.

use catalog::{quote_ident, Field, FieldType, Layer, DATA_SCHEMA, FID_COLUMN, GEOM_3857_COLUMN};
use sqlx::PgPool;

use crate::{TileCoord, TileError};

/// Tile extent and buffer in tile units.
pub const EXTENT: i32 = 4096;
pub const BUFFER: i32 = 64;

/// One layer of a tile: the catalog layer and the fields to include.
#[derive(Debug, Clone)]
pub struct TileLayer<'a> {
    pub layer: &'a Layer,
    pub fields: Vec<&'a Field>,
}

fn column(f: &Field) -> String {
    let q = quote_ident(&f.name);
    match f.field_type {
        // ST_AsMVT encodes text, numbers and booleans; dates travel as ISO text.
        FieldType::Date => format!("{q}::text AS {q}"),
        _ => q,
    }
}

/// The SQL of one layer's tile; `$1..$3` = z, x, y.
pub fn layer_tile(t: &TileLayer<'_>) -> String {
    let mut cols: Vec<String> = vec![quote_ident(FID_COLUMN)];
    cols.extend(t.fields.iter().map(|f| column(f)));
    let g = quote_ident(GEOM_3857_COLUMN);
    format!(
        "SELECT ST_AsMVT(q, {name}, {EXTENT}, 'geom', {fid}) FROM (\
           SELECT {cols}, ST_AsMVTGeom({g}, ST_TileEnvelope($1, $2, $3), {EXTENT}, {BUFFER}, true) AS geom \
           FROM {schema}.{table} \
           WHERE {g} && ST_TileEnvelope($1, $2, $3, margin => {margin})\
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

/// Renders the tile `c` of `layers`, concatenating each layer's MVT bytes
/// (protobuf messages of repeated layers concatenate into one tile).
pub async fn render(
    pool: &PgPool,
    layers: &[TileLayer<'_>],
    c: TileCoord,
) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::new();
    for t in layers {
        if i32::from(c.z) < t.layer.minzoom || i32::from(c.z) > t.layer.maxzoom {
            continue;
        }
        let sql = layer_tile(t);
        let bytes: Option<Vec<u8>> = sqlx::query_scalar(&sql)
            .bind(i32::from(c.z))
            .bind(c.x as i32)
            .bind(c.y as i32)
            .fetch_one(pool)
            .await?;
        out.extend(bytes.unwrap_or_default());
    }
    Ok(out)
}
