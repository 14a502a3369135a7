//! The boxes of one parcels layer version held in memory, so that a parcel
//! at a point costs PostgreSQL primary-key reads of the few parcels whose
//! box holds the point instead of a GiST search: on the 1M-parcel benchmark
//! province the search was two thirds of the database's CPU per look-up.
//!
//! The index only narrows; PostGIS still decides (`ST_Intersects` with its
//! own transform of the point) on the candidates, and a point no candidate
//! contains is asked of the plain statement (a point outside every parcel,
//! or a table newer than the index for the moment before the server learns
//! of a new version). Boxes are widened by [`PAD`] and the index is built
//! only when PROJ places lon/lat in the layer's CRS as PostGIS does (within
//! 1 mm, checked on build), so every parcel that contains a point is a
//! candidate. A layer of more than [`MAX_PARCELS_INDEXED`] parcels is
//! searched in SQL only.

use catalog::{quote_ident, Layer, FID_COLUMN, GEOM_COLUMN};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use sqlx::{Postgres, Transaction};

use crate::by_version::{Indexes, PerVersion};
use crate::native::{authority, from_lon_lat, proj_agrees};
use crate::FeaturesError;

/// Most parcels a layer may have to be indexed (~40 bytes each).
pub const MAX_PARCELS_INDEXED: i64 = 5_000_000;

/// How far each box is widened, in the layer's units (metres for VN-2000):
/// far more than the 1 mm PROJ may differ from PostGIS.
pub const PAD: f64 = 0.01;

type Entry = GeomWithData<Rectangle<[f64; 2]>, i64>;

/// One parcels layer version's boxes.
pub struct ParcelIndex {
    pub version: i64,
    srid: i32,
    auth: String,
    tree: RTree<Entry>,
}

impl ParcelIndex {
    /// Reads the boxes in `tx`; `Ok(None)` when the layer is not one the
    /// index can narrow for (too large, no known CRS, PROJ disagrees).
    async fn load(
        tx: &mut Transaction<'_, Postgres>,
        l: &Layer,
    ) -> Result<Option<ParcelIndex>, FeaturesError> {
        if l.srid <= 0 || l.feature_count > MAX_PARCELS_INDEXED {
            return Ok(None);
        }
        let Some(auth) = authority(tx, l.srid).await? else {
            return Ok(None);
        };
        if !proj_agrees(tx, l, &auth).await? {
            return Ok(None);
        }
        let g = format!("p.{}", quote_ident(GEOM_COLUMN));
        let rows: Vec<(i64, f64, f64, f64, f64)> = sqlx::query_as(&format!(
            "SELECT p.{fid}, ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) \
             FROM {} p, Box2D({g}) b WHERE {g} IS NOT NULL AND NOT ST_IsEmpty({g})",
            catalog::live_table(&l.name),
            fid = quote_ident(FID_COLUMN),
        ))
        .fetch_all(&mut **tx)
        .await?;
        if rows.len() as i64 > MAX_PARCELS_INDEXED {
            return Ok(None);
        }
        let entries = rows
            .into_iter()
            .map(|(fid, x0, y0, x1, y1)| {
                let r = Rectangle::from_corners([x0 - PAD, y0 - PAD], [x1 + PAD, y1 + PAD]);
                GeomWithData::new(r, fid)
            })
            .collect();
        Ok(Some(ParcelIndex {
            version: 0,
            srid: l.srid,
            auth,
            tree: RTree::bulk_load(entries),
        }))
    }

    /// Number of parcels held.
    pub fn len(&self) -> usize {
        self.tree.size()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The ids of the parcels whose (widened) box holds (`x`, `y`) of
    /// `srid` (lon/lat for 4326, else the layer's own CRS), smallest first;
    /// `None` when the point cannot be placed here (another CRS, or PROJ
    /// has no image of it).
    pub fn candidates(&self, x: f64, y: f64, srid: i32) -> Option<Vec<i64>> {
        let (x, y) = match srid {
            4326 => from_lon_lat(&self.auth, x, y)?,
            s if s == self.srid && x.is_finite() && y.is_finite() => (x, y),
            _ => return None,
        };
        let mut fids: Vec<i64> = self
            .tree
            .locate_in_envelope_intersecting(&AABB::from_point([x, y]))
            .map(|e| e.data)
            .collect();
        fids.sort_unstable();
        Some(fids)
    }
}

/// The parcel indexes of this server, by layer and version (the newest two
/// versions of each layer are kept).
pub type ParcelIndexes = Indexes<ParcelIndex>;

impl PerVersion for ParcelIndex {
    async fn read(
        tx: &mut Transaction<'static, Postgres>,
        l: &Layer,
    ) -> Result<Option<Self>, FeaturesError> {
        ParcelIndex::load(tx, l).await
    }

    fn set_version(&mut self, version: i64) {
        self.version = version;
    }
}
