//! The in-memory tile cache: a byte budget, request coalescing (one render
//! for simultaneous requests of one tile), and keys that hold each layer's
//! data version, the tile, and a hash of the variant (properties, filter,
//! access tier) — so a new version or a different caller never sees a tile
//! rendered for another.
//!
//! Tiles are stored gzip-compressed, compressed once when rendered (inside
//! the coalesced render), so the many clients that accept gzip (every
//! browser) are served the stored bytes without compressing per request;
//! the few that do not get them decompressed. The byte budget counts the
//! stored (compressed) bytes.

use std::future::Future;
use std::io::{Read, Write};
use std::sync::Arc;

use bytes::Bytes;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use moka::future::Cache;

use crate::{TileCoord, TileError};

/// What identifies a rendered tile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TileKey {
    /// `layer@version` for each layer, comma-separated.
    pub layers: Arc<str>,
    pub coord: TileCoord,
    /// Hash of properties, filter and access tier.
    pub variant: u64,
}

impl TileKey {
    /// Whether this tile includes `layer`.
    pub fn has_layer(&self, layer: &str) -> bool {
        self.layers
            .split(',')
            .any(|lv| lv.split('@').next() == Some(layer))
    }
}

/// Tiles smaller than this many bytes are stored as they are (tower-http's
/// compression layer leaves responses of 32 bytes or less uncompressed too).
pub const MIN_GZIP: usize = 33;

/// gzip level of stored tiles. Measured on 101 parcel tiles z14-z18 (87 KB
/// raw on average) with this flate2 (zlib-rs): level 6 (the default) 34.0 %
/// of raw at 6.5 ms per tile, level 4 34.6 % at 2.4 ms, level 1 40.3 % at
/// 1.3 ms. Level 4: 2 % more bytes for a third of the CPU, which is a
/// quarter of a cold z14+ tile's cost in the server (docs/benchmarks.md).
const GZIP_LEVEL: u32 = 4;

/// A tile as the cache holds it: gzip-compressed (when that is smaller) or
/// as rendered. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedTile {
    data: Bytes,
    gzip: bool,
}

impl CachedTile {
    /// Stores `raw` (an MVT as rendered): gzip-compressed unless it is tiny or
    /// compression would not make it smaller.
    pub fn new(raw: Vec<u8>) -> CachedTile {
        if raw.len() >= MIN_GZIP {
            let z = gzip_at(&raw, GZIP_LEVEL);
            if z.len() < raw.len() {
                return CachedTile {
                    data: Bytes::from(z),
                    gzip: true,
                };
            }
        }
        CachedTile {
            data: Bytes::from(raw),
            gzip: false,
        }
    }

    /// The stored gzip encoding (a complete gzip member), if stored compressed.
    pub fn gzip(&self) -> Option<&Bytes> {
        self.gzip.then_some(&self.data)
    }

    /// The tile without content encoding (decompressed when stored compressed).
    pub fn identity(&self) -> std::io::Result<Bytes> {
        if !self.gzip {
            return Ok(self.data.clone());
        }
        gunzip(&self.data).map(Bytes::from)
    }

    /// Bytes held by the cache for this tile.
    pub fn stored_len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tile has no features (no layer with data).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// Decompresses gzip bytes (a stored tile, or a gzip-encoded response body).
pub fn gunzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() * 4);
    GzDecoder::new(data).read_to_end(&mut out)?;
    Ok(out)
}

/// Compresses `raw` with gzip at `level` (0-9); the levels the cache and
/// exports use were measured (docs/benchmarks/tiles.md).
pub fn gzip_at(raw: &[u8], level: u32) -> Vec<u8> {
    let mut e = GzEncoder::new(
        Vec::with_capacity(raw.len() / 2 + 64),
        flate2::Compression::new(level),
    );
    // Writing into a Vec cannot fail.
    e.write_all(raw).expect("gzip into memory");
    e.finish().expect("gzip into memory")
}

/// A shared cache of rendered tiles.
#[derive(Clone)]
pub struct TileCache {
    inner: Cache<TileKey, CachedTile>,
}

impl TileCache {
    /// A cache holding at most `max_bytes` of stored (compressed) tiles.
    pub fn new(max_bytes: u64) -> Self {
        let inner = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|k: &TileKey, v: &CachedTile| {
                (v.stored_len() + k.layers.len() + 64).min(u32::MAX as usize) as u32
            })
            .support_invalidation_closures()
            .build();
        TileCache { inner }
    }

    /// The cached tile, or `render`'s result (compressed once and cached),
    /// with concurrent requests for one key waiting on a single render and
    /// compression. Returns whether it was a hit.
    pub async fn get_or_render<F>(
        &self,
        key: TileKey,
        render: F,
    ) -> Result<(CachedTile, bool), Arc<TileError>>
    where
        F: Future<Output = Result<Vec<u8>, TileError>>,
    {
        let mut rendered = false;
        let v = self
            .inner
            .try_get_with(key, async {
                rendered = true;
                render.await.map(CachedTile::new)
            })
            .await?;
        Ok((v, !rendered))
    }

    /// Drops every tile of `layer` (old versions can no longer be requested).
    pub fn purge_layer(&self, layer: &str) {
        let layer = layer.to_string();
        // Only fails when invalidation closures are unsupported, which `new` enables.
        let _ = self
            .inner
            .invalidate_entries_if(move |k, _| k.has_layer(&layer));
    }

    /// Number of cached tiles (approximate).
    pub fn entry_count(&self) -> u64 {
        self.inner.entry_count()
    }

    /// Bytes held, as the budget counts them (approximate until pending
    /// maintenance has run).
    pub fn weighted_size(&self) -> u64 {
        self.inner.weighted_size()
    }

    /// Runs pending maintenance (evictions, invalidations); for tests and stats.
    pub async fn sync(&self) {
        self.inner.run_pending_tasks().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tile-like payload: repetitive protobuf-ish bytes that compress well.
    fn payload(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8 ^ (i / 97) as u8).collect()
    }

    fn key(layers: &str, z: u8) -> TileKey {
        TileKey {
            layers: layers.into(),
            coord: TileCoord::new(u32::from(z), 0, 0).unwrap(),
            variant: 7,
        }
    }

    #[test]
    fn stored_gzip_decodes_to_the_rendered_tile() {
        let raw = payload(70_000);
        let t = CachedTile::new(raw.clone());
        let z = t.gzip().expect("a 70 KB tile is stored compressed");
        assert!(z.len() < raw.len());
        assert_eq!(&z[..2], &[0x1f, 0x8b], "a gzip member");
        let mut plain = Vec::new();
        GzDecoder::new(&z[..]).read_to_end(&mut plain).unwrap();
        assert_eq!(plain, raw);
        assert_eq!(t.identity().unwrap(), raw);
        assert_eq!(t.stored_len(), z.len());
    }

    #[test]
    fn tiny_and_empty_tiles_are_stored_as_they_are() {
        for raw in [Vec::new(), payload(20)] {
            let t = CachedTile::new(raw.clone());
            assert!(t.gzip().is_none());
            assert_eq!(t.identity().unwrap(), raw);
            assert_eq!(t.is_empty(), raw.is_empty());
        }
        // Incompressible bytes are not stored bigger than they are.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let t = CachedTile::new(noise.clone());
        assert!(t.gzip().is_none());
        assert_eq!(t.stored_len(), noise.len());
    }

    #[test]
    fn renders_once_compresses_once_and_counts_stored_bytes() {
        futures::executor::block_on(renders_once());
    }

    async fn renders_once() {
        let cache = TileCache::new(1 << 30);
        let raw = payload(100_000);
        let (t, hit) = cache
            .get_or_render(key("a@1", 3), async { Ok(raw.clone()) })
            .await
            .unwrap();
        assert!(!hit);
        let (t2, hit) = cache
            .get_or_render(key("a@1", 3), async { panic!("rendered twice") })
            .await
            .unwrap();
        assert!(hit);
        assert_eq!(t, t2);
        assert_eq!(t2.identity().unwrap(), raw);
        cache.sync().await;
        let stored = t.stored_len() as u64;
        assert!(stored < raw.len() as u64 / 2);
        assert_eq!(cache.weighted_size(), stored + "a@1".len() as u64 + 64);
    }

    #[test]
    fn purge_drops_the_layers_tiles_only() {
        futures::executor::block_on(purge());
    }

    async fn purge() {
        let cache = TileCache::new(1 << 30);
        for layers in ["a@1", "b@2", "a@1,b@2"] {
            cache
                .get_or_render(key(layers, 5), async { Ok(payload(1000)) })
                .await
                .unwrap();
        }
        cache.purge_layer("a");
        cache.sync().await;
        assert_eq!(cache.entry_count(), 1);
        let (_, hit) = cache
            .get_or_render(key("b@2", 5), async { panic!("b was purged") })
            .await
            .unwrap();
        assert!(hit);
    }
}
