//! Per-zoom generalisation shared by the importer (which prepares it) and the
//! tile server (which uses it): simplified Web Mercator columns for zoom
//! bands, and each feature's smallest zoom at which it spans a pixel.

/// Simplified Web Mercator columns: (deepest zoom served from it, column).
/// Zooms deeper than the last band use [`crate::GEOM_3857_COLUMN`]. A band
/// is NULL where the feature is not served at its zooms (`zmin` above it)
/// and where simplifying removed no vertex: readers take
/// [`band_or_full`], which falls back to the full geometry.
pub const GENERALIZED: &[(u8, &str)] = &[
    (9, "geom_3857_z9"),
    (11, "geom_3857_z11"),
    (13, "geom_3857_z13"),
];

/// Column holding the smallest zoom at which a feature spans at least one pixel.
pub const MINZOOM_COLUMN: &str = "zmin";

/// Metres per pixel of a 256-pixel tile at the equator, zoom 0.
pub const PIXEL_Z0: f64 = 156_543.033_928;

/// Simplification tolerance (metres, Web Mercator) for a band ending at zoom
/// `z`: half a pixel there.
///
/// ```
/// assert!((catalog::tolerance(13) - 9.55).abs() < 0.01);
/// ```
pub fn tolerance(z: u8) -> f64 {
    PIXEL_Z0 / f64::from(1u32 << z) / 2.0
}

/// SQL reading band column `col` (a catalog constant, quoted by the
/// caller): the band where it is stored, else the full geometry.
///
/// ```
/// assert_eq!(
///     catalog::band_or_full("\"geom_3857_z13\""),
///     "coalesce(\"geom_3857_z13\", \"geom_3857\")"
/// );
/// ```
pub fn band_or_full(col: &str) -> String {
    format!(
        "coalesce({col}, {})",
        crate::quote_ident(crate::GEOM_3857_COLUMN)
    )
}

/// The band serving zoom `z`: its deepest zoom and column, or `None` for full detail.
///
/// ```
/// assert_eq!(catalog::band_for_zoom(7), Some((9, "geom_3857_z9")));
/// assert_eq!(catalog::band_for_zoom(12), Some((13, "geom_3857_z13")));
/// assert_eq!(catalog::band_for_zoom(14), None);
/// ```
pub fn band_for_zoom(z: u8) -> Option<(u8, &'static str)> {
    GENERALIZED.iter().copied().find(|(max, _)| z <= *max)
}

/// Whether a PostGIS geometry type gets generalised columns (points do not).
pub fn generalizes(geometry_type: &str) -> bool {
    !geometry_type.contains("Point") && geometry_type != "Geometry"
}
