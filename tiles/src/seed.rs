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

/// Highest zoom of a layer's overview (the tiles pre-rendered when a
/// version is published).
pub const OVERVIEW_MAXZOOM: u8 = 12;
/// Most tiles in one layer's overview: for a province that reaches z12; for
/// a country the overview stops at a lower zoom.
pub const OVERVIEW_TILES: u64 = 2_000;

/// The zooms of `layer`'s overview: from its minzoom up to z12 or as far as
/// [`OVERVIEW_TILES`] allows. None for an empty layer or one starting above z12.
///
/// The low zooms are where rendering costs most (many features, each
/// simplified and measured) and where every map view starts, so a map's
/// first screens come from the store, never from a cold render.
pub fn overview_zooms(layer: &Layer) -> Option<(u8, u8)> {
    let b = layer.bounds?;
    let minz = layer.minzoom.clamp(0, 24) as u8;
    let top = OVERVIEW_MAXZOOM.min(layer.maxzoom.clamp(0, 24) as u8);
    (minz..=top)
        .rev()
        .find(|&z| crate::count_tiles(b, minz, z) <= OVERVIEW_TILES)
        .map(|z| (minz, z))
}

/// Seeds `layer`'s overview unless the store holds it already or another
/// server is seeding it (a session advisory lock on the layer and version).
/// Returns what was rendered, None when nothing had to be.
pub async fn seed_overview(
    pool: &PgPool,
    layer: Arc<Layer>,
    concurrency: usize,
) -> Result<Option<SeedReport>, TileError> {
    let (Some((minz, maxz)), Some(b)) = (overview_zooms(&layer), layer.bounds) else {
        return Ok(None);
    };
    let key = store::layers_key(std::slice::from_ref(&layer));
    let want = crate::count_tiles(b, minz, maxz) as i64;
    let have: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM geokho.tile_store WHERE layers = $1 AND variant = $2 AND z BETWEEN $3 AND $4",
    )
    .bind(&key)
    .bind(default_variant() as i64)
    .bind(i16::from(minz))
    .bind(i16::from(maxz))
    .fetch_one(pool)
    .await?;
    if have >= want {
        return Ok(None);
    }
    let mut lock = pool.acquire().await?;
    let got: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext('geokho overview ' || $1))")
            .bind(&key)
            .fetch_one(&mut *lock)
            .await?;
    if !got {
        return Ok(None);
    }
    let r = seed(pool, layer, (minz, maxz), None, concurrency, || {}).await;
    sqlx::query("SELECT pg_advisory_unlock(hashtext('geokho overview ' || $1))")
        .bind(&key)
        .execute(&mut *lock)
        .await?;
    r.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(bounds: [f64; 4], minzoom: i32) -> Layer {
        Layer {
            name: "duong_bo".into(),
            kind: catalog::LayerKind::Roads,
            title: String::new(),
            description: None,
            geometry_type: "MultiLineString".into(),
            srid: 9210,
            version: 1,
            feature_count: 10,
            bounds: Some(bounds),
            minzoom,
            maxzoom: 22,
            public: true,
            fields: Vec::new(),
            updated_at: Default::default(),
        }
    }

    #[test]
    fn overviews_reach_z12_for_a_province_and_stop_lower_for_a_country() {
        // Tiền Giang (0.36 x 0.27 degrees): a few dozen tiles up to z12.
        let province = layer([106.2, 10.2, 106.56, 10.47], 0);
        assert_eq!(overview_zooms(&province), Some((0, 12)));
        // Viet Nam: z12 would be tens of thousands of tiles.
        let country = layer([102.1, 8.4, 109.5, 23.4], 0);
        let (_, top) = overview_zooms(&country).unwrap();
        assert!((8..12).contains(&top), "{top}");
        assert!(crate::count_tiles([102.1, 8.4, 109.5, 23.4], 0, top) <= OVERVIEW_TILES);
        // A layer starting at z14 has no overview.
        assert_eq!(
            overview_zooms(&layer([106.2, 10.2, 106.56, 10.47], 14)),
            None
        );
    }
}
