//! `geokho seed`: pre-render a layer's tiles over a zoom range into the
//! persistent store, many at a time.

use std::sync::Arc;

use catalog::Layer;
use futures::{stream, StreamExt, TryStreamExt};
use sqlx::PgPool;

use crate::{render, store, tiles_in, TileError, TileLayer, TILE_BUDGET};

/// What a seed run did.
#[derive(Debug, Clone, Copy, Default)]
pub struct SeedReport {
    pub tiles: u64,
    pub empty: u64,
    pub bytes: u64,
}

/// The variant of tiles served without `?properties` or `?filter` to anonymous callers.
pub fn default_variant() -> u64 {
    store::variant(&[], "", crate::PUBLIC_TIER)
}

/// Renders and stores every tile of `layer` in `minz..=maxz` over `bounds`
/// (the layer's bounds when `None`), `concurrency` at a time; `progress`
/// is called once per tile.
pub async fn seed(
    pool: &PgPool,
    layer: Arc<Layer>,
    (minz, maxz): (u8, u8),
    bounds: Option<[f64; 4]>,
    concurrency: usize,
    progress: impl Fn() + Sync,
) -> Result<SeedReport, TileError> {
    let Some(b) = bounds.or(layer.bounds) else {
        return Ok(SeedReport::default());
    };
    let key = store::layers_key(std::slice::from_ref(&layer));
    let variant = default_variant();
    store::purge_stale(pool, &layer.name, layer.version).await?;
    let minz = minz.max(layer.minzoom.clamp(0, 24) as u8);
    let maxz = maxz.min(layer.maxzoom.clamp(0, 24) as u8);
    let coords = (minz..=maxz).flat_map(|z| tiles_in(b, z));
    let t = TileLayer {
        layer: &layer,
        fields: layer.public_fields().collect(),
        filter: None,
    };
    let (t, key, progress) = (&t, &key, &progress);
    stream::iter(coords)
        .map(|c| async move {
            let data = render(pool, std::slice::from_ref(t), c, TILE_BUDGET).await?;
            store::put(pool, key, variant, c, &data).await?;
            progress();
            Ok::<_, TileError>(data.len())
        })
        .buffer_unordered(concurrency.max(1))
        .try_fold(SeedReport::default(), |mut r, n| async move {
            r.tiles += 1;
            r.empty += u64::from(n == 0);
            r.bytes += n as u64;
            Ok(r)
        })
        .await
}
