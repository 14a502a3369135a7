//! One tile request once access is decided: the layers, the fields each
//! caller may see narrowed by `?properties=`, the filter, and the caller's
//! access tier per layer. It owns the chain tier -> variant -> cache key
//! (and ETag) -> tile store or render, so the rule that keeps restricted
//! fields out of shared cache entries is one function: [`TileRequest::tier`].

use std::sync::Arc;

use catalog::{Field, Layer};
use sqlx::PgPool;

use sqlfilter::{compile_filter, FilterLang, SpatialTarget};

use crate::{
    default_variant, layers_key, render, store, variant, TileCoord, TileError, TileKey, TileLayer,
    FIRST_FILTER_PARAM, PUBLIC_TIER, TILE_BUDGET,
};

/// A request parameter the tile request refuses: (parameter, reason).
#[derive(Debug, thiserror::Error)]
#[error("{0}: {1}")]
pub struct BadTileParameter(pub &'static str, pub String);

/// One layer of a request as the caller may read it.
pub struct Readable<'a> {
    pub layer: &'a Arc<Layer>,
    /// The fields the caller may see.
    pub visible: Vec<&'a Field>,
    /// The caller's access tier on it (`keys::Access::tier`): `public`, or a
    /// name for what else it sees.
    pub tier: &'static str,
}

/// A tile of one or more layers for one caller.
pub struct TileRequest<'a> {
    layers: Vec<Arc<Layer>>,
    tile_layers: Vec<TileLayer<'a>>,
    tiers: Vec<&'static str>,
    coord: TileCoord,
    /// [`Self::variant`], computed once: the key, the ETag and the store
    /// look-up all need it.
    variant: u64,
    /// `layer@version,...` of the cache key and the tile store.
    layers_key: String,
}

impl<'a> TileRequest<'a> {
    /// Checks `properties` (names the caller may see, comma-separated) and
    /// `filter` (CQL2, one layer only) against `readable`, and compiles it.
    pub fn new(
        readable: Vec<Readable<'a>>,
        coord: TileCoord,
        properties: Option<&'a str>,
        filter: Option<&'a str>,
        lang: FilterLang,
    ) -> Result<Self, BadTileParameter> {
        let properties: Option<Vec<&str>> =
            properties.map(|p| p.split(',').filter(|n| !n.is_empty()).collect());
        if let Some(bad) = properties.iter().flatten().find(|n| {
            !readable
                .iter()
                .any(|r| r.visible.iter().any(|f| f.name == **n))
        }) {
            return Err(BadTileParameter(
                "properties",
                format!(
                    "unknown field '{}'",
                    bad.chars().take(64).collect::<String>()
                ),
            ));
        }
        let filter = filter.filter(|f| !f.trim().is_empty());
        if filter.is_some() && readable.len() > 1 {
            return Err(BadTileParameter(
                "filter",
                "a filter applies to one layer: request the layers separately".into(),
            ));
        }
        let mut tile_layers = Vec::with_capacity(readable.len());
        for r in &readable {
            let fields = r
                .visible
                .iter()
                .copied()
                .filter(|f| {
                    properties
                        .as_ref()
                        .is_none_or(|p| p.contains(&f.name.as_str()))
                })
                .collect();
            let filter = match filter {
                Some(t) => Some(
                    compile_filter(
                        t,
                        lang,
                        &r.visible,
                        FIRST_FILTER_PARAM,
                        SpatialTarget::WEB_MERCATOR,
                    )
                    .map_err(|e| BadTileParameter("filter", e.to_string()))?,
                ),
                None => None,
            };
            tile_layers.push(TileLayer {
                layer: r.layer.as_ref(),
                fields,
                filter,
            });
        }
        let layers: Vec<Arc<Layer>> = readable.iter().map(|r| r.layer.clone()).collect();
        let tiers: Vec<&'static str> = readable.iter().map(|r| r.tier).collect();
        let variant = variant(
            properties.as_deref().unwrap_or_default(),
            filter.unwrap_or(""),
            &tier_of(&tiers),
        );
        Ok(TileRequest {
            layers_key: layers_key(&layers),
            layers,
            tiers,
            tile_layers,
            coord,
            variant,
        })
    }

    /// The layers with the fields each tile will carry.
    pub fn tile_layers(&self) -> &[TileLayer<'a>] {
        &self.tile_layers
    }

    /// The access part of the cache key. Callers who see the same fields
    /// share cached and seeded tiles: `public` when every layer is read at
    /// the public tier, else every layer's tier, so a tile holding
    /// restricted fields never lands in an entry an anonymous caller reads.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use catalog::{Layer, LayerKind};
    /// # let layer = Arc::new(Layer { name: "thua_dat".into(), kind: LayerKind::Parcels, title: String::new(), description: None,
    /// #     geometry_type: "MultiPolygon".into(), srid: 9210, version: 1, feature_count: 0, bounds: None, minzoom: 0,
    /// #     maxzoom: 22, public: true, fields: vec![], updated_at: chrono::Utc::now() });
    /// use sqlfilter::FilterLang;
    /// use tiles::{Readable, TileCoord, TileRequest};
    /// let at = |tier| TileRequest::new(vec![Readable { layer: &layer, visible: vec![], tier }],
    ///     TileCoord::new(14, 13031, 7718).unwrap(), None, None, FilterLang::Cql2Text).unwrap();
    /// assert_eq!(at("public").tier(), "public");
    /// assert_eq!(at("restricted").tier(), "restricted");
    /// assert_ne!(at("public").key(), at("restricted").key());
    /// ```
    pub fn tier(&self) -> String {
        tier_of(&self.tiers)
    }

    /// What varies the tile besides layers and coordinates: properties,
    /// filter text and [`Self::tier`].
    pub fn variant(&self) -> u64 {
        self.variant
    }

    /// The layers' data versions, `-`-joined (as in TileJSON tile URLs).
    pub fn versions(&self) -> String {
        self.layers
            .iter()
            .map(|l| l.version.to_string())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// The ETag: versions and variant, the same on every server.
    pub fn etag(&self) -> String {
        format!("\"{}-{:x}\"", self.versions(), self.variant())
    }

    /// The in-memory cache key.
    pub fn key(&self) -> TileKey {
        TileKey {
            layers: self.layers_key.as_str().into(),
            coord: self.coord,
            variant: self.variant,
        }
    }

    /// The tile from the tile store when seeded (the default variant only:
    /// no properties, no filter, public tier; a composite is assembled from
    /// its layers' stored tiles), else rendered. The flag says it came
    /// from the store.
    pub async fn produce(&self, pool: &PgPool) -> Result<(Vec<u8>, bool), TileError> {
        let variant = self.variant;
        if variant == default_variant() {
            let stored = match store::get(pool, &self.layers_key, variant, self.coord).await? {
                None if self.layers.len() > 1 => {
                    store::get_composite(pool, &self.layers, self.coord, TILE_BUDGET).await?
                }
                t => t,
            };
            if let Some(t) = stored {
                return Ok((t, true));
            }
        }
        Ok((
            render(pool, &self.tile_layers, self.coord, TILE_BUDGET).await?,
            false,
        ))
    }
}

/// See [`TileRequest::tier`].
fn tier_of(tiers: &[&str]) -> String {
    if tiers.iter().all(|t| *t == PUBLIC_TIER) {
        PUBLIC_TIER.to_string()
    } else {
        tiers.join(",")
    }
}
