//! Tile coordinates in the XYZ scheme (Web Mercator, y down from the north).

use crate::TileError;

/// Deepest zoom served.
pub const MAX_ZOOM: u8 = 24;

/// A tile address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileCoord {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

impl TileCoord {
    /// Validates `z/x/y`.
    ///
    /// ```
    /// use tiles::TileCoord;
    /// assert!(TileCoord::new(14, 13141, 7698).is_ok());
    /// assert!(TileCoord::new(2, 4, 0).is_err());
    /// assert!(TileCoord::new(25, 0, 0).is_err());
    /// ```
    pub fn new(z: u32, x: u32, y: u32) -> Result<TileCoord, TileError> {
        let name = format!("{z}/{x}/{y}");
        if z > u32::from(MAX_ZOOM) {
            return Err(TileError::BadCoord(
                name,
                format!("zoom must be 0-{MAX_ZOOM}"),
            ));
        }
        let n = 1u64 << z;
        if u64::from(x) >= n || u64::from(y) >= n {
            return Err(TileError::BadCoord(
                name,
                format!("x and y must be below {n} at zoom {z}"),
            ));
        }
        Ok(TileCoord { z: z as u8, x, y })
    }

    /// West, south, east, north of the tile in WGS 84 degrees.
    ///
    /// ```
    /// let [w, s, e, n] = tiles::TileCoord::new(1, 1, 0).unwrap().bounds();
    /// assert_eq!((w, e), (0.0, 180.0));
    /// assert!(s.abs() < 1e-9 && (n - 85.0511).abs() < 1e-4);
    /// ```
    /// West, south, east, north in Web Mercator metres (EPSG:3857), as
    /// `ST_TileEnvelope` gives them.
    pub fn bounds_3857(&self) -> [f64; 4] {
        const HALF: f64 = 20_037_508.342_789_244;
        let size = 2.0 * HALF / f64::from(1u32 << self.z);
        let (x, y) = (f64::from(self.x), f64::from(self.y));
        let w = -HALF + x * size;
        let n = HALF - y * size;
        [w, n - size, w + size, n]
    }

    pub fn bounds(&self) -> [f64; 4] {
        let n = f64::from(1u32 << self.z);
        let lon = |x: f64| x / n * 360.0 - 180.0;
        let lat = |y: f64| {
            (std::f64::consts::PI * (1.0 - 2.0 * y / n))
                .sinh()
                .atan()
                .to_degrees()
        };
        let (x, y) = (f64::from(self.x), f64::from(self.y));
        [lon(x), lat(y + 1.0), lon(x + 1.0), lat(y)]
    }

    /// The tile containing WGS 84 `lon`, `lat` at zoom `z`.
    ///
    /// ```
    /// let t = tiles::TileCoord::containing(106.36, 10.35, 14);
    /// assert_eq!((t.x, t.y), (13032, 7718));
    /// ```
    pub fn containing(lon: f64, lat: f64, z: u8) -> TileCoord {
        let n = f64::from(1u32 << z);
        let x = ((lon + 180.0) / 360.0 * n).floor();
        let lat_r = lat.to_radians();
        let y = ((1.0 - (lat_r.tan() + 1.0 / lat_r.cos()).ln() / std::f64::consts::PI) / 2.0 * n)
            .floor();
        TileCoord {
            z,
            x: x.clamp(0.0, n - 1.0) as u32,
            y: y.clamp(0.0, n - 1.0) as u32,
        }
    }
}
