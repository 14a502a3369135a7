//! The persistent tile store (`geokho.tile_store`): tiles pre-rendered by
//! `geokho seed`, shared by every server and kept across restarts. Keys hold
//! layer versions like the memory cache, so stale rows are unreachable; they
//! are deleted when a new version is announced.

use std::sync::Arc;

use catalog::Layer;
use sqlx::PgPool;

use crate::{TileCoord, TileError};

/// `layer@version[,...]`: the layer part of every cache and store key.
pub fn layers_key(layers: &[Arc<Layer>]) -> String {
    layers
        .iter()
        .map(|l| format!("{}@{}", l.name, l.version))
        .collect::<Vec<_>>()
        .join(",")
}

/// A hash of what varies a tile besides layers and coordinates: chosen
/// properties (sorted), filter text and access tier. FNV-1a, so it is the
/// same in every process (ETags must agree across servers).
///
/// ```
/// assert_eq!(tiles::variant(&[], "", "public"), tiles::variant(&[], "", "public"));
/// assert_ne!(tiles::variant(&["a"], "", "public"), tiles::variant(&[], "", "public"));
/// ```
pub fn variant(properties: &[&str], filter: &str, tier: &str) -> u64 {
    let mut props = properties.to_vec();
    props.sort_unstable();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [props.join(",").as_str(), filter, tier] {
        for b in part.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// A stored tile.
pub async fn get(
    pool: &PgPool,
    layers: &str,
    variant: u64,
    c: TileCoord,
) -> Result<Option<Vec<u8>>, TileError> {
    Ok(sqlx::query_scalar("SELECT data FROM geokho.tile_store WHERE layers = $1 AND variant = $2 AND z = $3 AND x = $4 AND y = $5")
        .bind(layers)
        .bind(variant as i64)
        .bind(i16::from(c.z))
        .bind(c.x as i32)
        .bind(c.y as i32)
        .fetch_optional(pool)
        .await?)
}

/// A composite tile (several layers, the default variant) made of the
/// stored tiles of its layers, when each layer in its zoom range has one
/// within its share of `budget`: an MVT tile is a sequence of layer
/// messages, so the composite is their concatenation in request order. None
/// when any is missing or over its share (the caller renders instead).
pub async fn get_composite(
    pool: &PgPool,
    layers: &[Arc<Layer>],
    c: TileCoord,
    budget: usize,
) -> Result<Option<Vec<u8>>, TileError> {
    let z = i32::from(c.z);
    let wanted: Vec<String> = layers
        .iter()
        .filter(|l| (l.minzoom..=l.maxzoom).contains(&z))
        .map(|l| layers_key(std::slice::from_ref(l)))
        .collect();
    if wanted.is_empty() {
        return Ok(None);
    }
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT layers, data FROM geokho.tile_store WHERE layers = ANY($1) AND variant = $2 AND z = $3 AND x = $4 AND y = $5",
    )
    .bind(&wanted)
    .bind(crate::default_variant() as i64)
    .bind(i16::from(c.z))
    .bind(c.x as i32)
    .bind(c.y as i32)
    .fetch_all(pool)
    .await?;
    let share = budget / layers.len().max(1);
    let mut out = Vec::new();
    for key in &wanted {
        match rows.iter().find(|(k, _)| k == key) {
            Some((_, data)) if data.len() <= share => out.extend_from_slice(data),
            _ => return Ok(None),
        }
    }
    Ok(Some(out))
}

/// Stores a tile (replacing one with the same key).
pub async fn put(
    pool: &PgPool,
    layers: &str,
    variant: u64,
    c: TileCoord,
    data: &[u8],
) -> Result<(), TileError> {
    sqlx::query(
        "INSERT INTO geokho.tile_store (layers, variant, z, x, y, data) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (layers, variant, z, x, y) DO UPDATE SET data = EXCLUDED.data, created_at = now()",
    )
    .bind(layers)
    .bind(variant as i64)
    .bind(i16::from(c.z))
    .bind(c.x as i32)
    .bind(c.y as i32)
    .bind(data)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes stored tiles holding `layer` at any version but `version`.
pub async fn purge_stale(pool: &PgPool, layer: &str, version: i64) -> Result<u64, TileError> {
    let r = sqlx::query(
        "DELETE FROM geokho.tile_store WHERE EXISTS (SELECT 1 FROM unnest(string_to_array(layers, ',')) lv \
         WHERE split_part(lv, '@', 1) = $1 AND split_part(lv, '@', 2) <> $2)",
    )
    .bind(layer)
    .bind(version.to_string())
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}

/// Deletes every stored tile holding `layer` (an administrator's purge).
pub async fn purge_layer(pool: &PgPool, layer: &str) -> Result<u64, TileError> {
    let r = sqlx::query(
        "DELETE FROM geokho.tile_store WHERE EXISTS (SELECT 1 FROM unnest(string_to_array(layers, ',')) lv \
         WHERE split_part(lv, '@', 1) = $1)",
    )
    .bind(layer)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}
