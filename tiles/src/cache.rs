//! The in-memory tile cache: a byte budget, request coalescing (one render
//! for simultaneous requests of one tile), and keys that hold each layer's
//! data version, the tile, and a hash of the variant (properties, filter,
//! access tier) — so a new version or a different caller never sees a tile
//! rendered for another.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
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

/// A shared cache of rendered tiles.
#[derive(Clone)]
pub struct TileCache {
    inner: Cache<TileKey, Bytes>,
}

impl TileCache {
    /// A cache holding at most `max_bytes` of tiles.
    pub fn new(max_bytes: u64) -> Self {
        let inner = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|k: &TileKey, v: &Bytes| {
                (v.len() + k.layers.len() + 64).min(u32::MAX as usize) as u32
            })
            .support_invalidation_closures()
            .build();
        TileCache { inner }
    }

    /// The cached tile, or `render`'s result (cached), with concurrent
    /// requests for one key waiting on a single render. Returns whether it was a hit.
    pub async fn get_or_render<F>(
        &self,
        key: TileKey,
        render: F,
    ) -> Result<(Bytes, bool), Arc<TileError>>
    where
        F: Future<Output = Result<Vec<u8>, TileError>>,
    {
        let mut rendered = false;
        let v = self
            .inner
            .try_get_with(key, async {
                rendered = true;
                render.await.map(Bytes::from)
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
}
