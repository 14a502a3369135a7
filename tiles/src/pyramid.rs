//! Which tiles cover an area: for seeding and exporting.

use crate::TileCoord;

/// Web Mercator's latitude limit.
const MAX_LAT: f64 = 85.051_128_779_806_59;

/// Tiles of zoom `z` covering `bounds` (west, south, east, north, WGS 84).
///
/// ```
/// let t: Vec<_> = tiles::tiles_in([106.35, 10.34, 106.36, 10.35], 12).collect();
/// assert_eq!(t.len(), 1);
/// assert_eq!((t[0].x, t[0].y), (3258, 1929));
/// ```
pub fn tiles_in(bounds: [f64; 4], z: u8) -> impl Iterator<Item = TileCoord> {
    let [w, s, e, n] = bounds;
    let nw = TileCoord::containing(w.clamp(-180.0, 180.0), n.clamp(-MAX_LAT, MAX_LAT), z);
    let se = TileCoord::containing(e.clamp(-180.0, 180.0), s.clamp(-MAX_LAT, MAX_LAT), z);
    (nw.y..=se.y).flat_map(move |y| (nw.x..=se.x).map(move |x| TileCoord { z, x, y }))
}

/// Number of tiles of zooms `minz..=maxz` covering `bounds`.
pub fn count_tiles(bounds: [f64; 4], minz: u8, maxz: u8) -> u64 {
    (minz..=maxz)
        .map(|z| tiles_in(bounds, z).count() as u64)
        .sum()
}
