//! The warehouses of one layer version held in memory: "warehouses near a
//! point" answered from an R-tree, with no database round trip (the SQL path
//! of `logistics::warehouses_near` costs ~0.5 ms of PostgreSQL CPU per
//! search; this one a few microseconds).
//!
//! An index is built only when it answers exactly what the SQL would:
//! every row is one non-empty point (POINT, or MULTIPOINT of one) in a
//! projected CRS, distances are planar in that CRS as `ST_Distance`'s, and
//! PROJ transforms lon/lat into the CRS as PostGIS does (checked on build
//! against PostGIS's own `ST_Transform` of the layer's points). Otherwise,
//! or above [`MAX_INDEXED`] rows, the SQL path serves the layer.

use std::collections::HashMap;

use catalog::{quote_ident, Field, Layer, FID_COLUMN, GEOM_COLUMN};
use rstar::primitives::GeomWithData;
use rstar::RTree;
use serde_json::value::RawValue;
use sqlx::{Postgres, Transaction};

use crate::by_version::{Indexes, PerVersion};
use crate::land::parcel::raw;
use crate::logistics::near::{dm, Warehouse, WarehouseFilter, MAX_NEAR};
use crate::native::{authority, from_lon_lat, proj_agrees};
use crate::FeaturesError;

/// Largest warehouses layer kept in memory (~1 KB per row).
pub const MAX_INDEXED: i64 = 200_000;

/// One warehouse as the index keeps it.
struct Row {
    fid: i64,
    geometry: Box<RawValue>,
    /// Every field's JSON value as `jsonb` renders it, in `fields` order.
    values: Vec<Option<Box<RawValue>>>,
    loai_kho: Option<String>,
    suc_chua: Option<f64>,
    /// `lower(dich_vu)`, as PostgreSQL lowers it.
    dich_vu: Option<String>,
}

/// The warehouses of `layer` at `version`.
pub struct WarehouseIndex {
    pub layer: String,
    pub version: i64,
    /// `AUTH:CODE` of the layer's SRID for PROJ.
    auth: String,
    tree: RTree<GeomWithData<[f64; 2], u32>>,
    rows: Vec<Row>,
    /// The layer's field names (the order of `Row::values`).
    fields: Vec<String>,
}

type BuildRow = (
    i64,
    String,
    String,
    f64,
    f64,
    Option<String>,
    Option<f64>,
    Option<String>,
);

/// The text value of optional field `name` as SQL, or NULL when the layer
/// lacks it (the filter on it is then refused before the index is asked).
fn column(l: &Layer, name: &str, cast: &str) -> String {
    match l.fields.iter().find(|f| f.name == name) {
        Some(f) => format!("w.{}::{cast}", quote_ident(&f.name)),
        None => format!("NULL::{cast}"),
    }
}

impl WarehouseIndex {
    /// Reads the layer in `tx` (which then holds its table until it ends);
    /// `Ok(None)` when the layer is not one the index can answer for.
    pub async fn load(
        tx: &mut Transaction<'_, Postgres>,
        l: &Layer,
        version: i64,
    ) -> Result<Option<WarehouseIndex>, FeaturesError> {
        if matches!(l.srid, 4326 | 4756) || l.srid <= 0 {
            return Ok(None); // geodesic distances: the SQL path
        }
        let Some(auth) = authority(tx, l.srid).await? else {
            return Ok(None);
        };
        let g = format!("w.{}", quote_ident(GEOM_COLUMN));
        let t = format!("{} w", catalog::live_table(&l.name));
        let (count, odd): (i64, i64) = sqlx::query_as(&format!(
            "SELECT count(*), count(*) FILTER (WHERE GeometryType({g}) NOT IN ('POINT', 'MULTIPOINT') \
             OR ST_NumGeometries({g}) <> 1 OR ST_IsEmpty({g})) FROM {t} WHERE {g} IS NOT NULL"
        ))
        .fetch_one(&mut **tx)
        .await?;
        if odd > 0 || count > MAX_INDEXED {
            return Ok(None);
        }
        let all: Vec<&Field> = l.fields.iter().collect();
        let sql = format!(
            "SELECT w.{fid}, {props}, ST_AsGeoJSON(ST_Transform({g}, 4326), 8, 0), \
             ST_X(ST_GeometryN({g}, 1)), ST_Y(ST_GeometryN({g}, 1)), {k}, {s}, lower({d}) \
             FROM {t} WHERE {g} IS NOT NULL",
            fid = quote_ident(FID_COLUMN),
            props = crate::logistics::near::properties_sql(&all),
            k = column(l, "loai_kho", "text"),
            s = column(l, "suc_chua", "float8"),
            d = column(l, "dich_vu", "text"),
        );
        let found: Vec<BuildRow> = sqlx::query_as(&sql).fetch_all(&mut **tx).await?;
        let mut rows = Vec::with_capacity(found.len());
        let mut points = Vec::with_capacity(found.len());
        for (i, (fid, props, geojson, x, y, loai_kho, suc_chua, dich_vu)) in
            found.into_iter().enumerate()
        {
            let mut by_name: HashMap<String, Box<RawValue>> = serde_json::from_str(&props)
                .map_err(|e| FeaturesError::Db(sqlx::Error::Decode(Box::new(e))))?;
            let values = l.fields.iter().map(|f| by_name.remove(&f.name)).collect();
            points.push(GeomWithData::new([x, y], i as u32));
            rows.push(Row {
                fid,
                geometry: raw(geojson)?,
                values,
                loai_kho,
                suc_chua,
                dich_vu,
            });
        }
        if !proj_agrees(tx, l, &auth).await? {
            return Ok(None);
        }
        Ok(Some(WarehouseIndex {
            layer: l.name.clone(),
            version,
            auth,
            tree: RTree::bulk_load(points),
            rows,
            fields: l.fields.iter().map(|f| f.name.clone()).collect(),
        }))
    }

    /// Number of warehouses held.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the layer has no located warehouse.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Up to `limit` warehouses nearest to WGS 84 (`lon`, `lat`) matching
    /// `f`, as `logistics::warehouses_near` returns them (ties by id);
    /// `None` when the point has no image in the layer's CRS (the SQL path
    /// then gives the error).
    pub fn near(
        &self,
        visible: &[&Field],
        (lon, lat): (f64, f64),
        f: &WarehouseFilter,
        limit: u32,
    ) -> Option<Result<Vec<Warehouse>, FeaturesError>> {
        // The same refusals as the SQL path: a filter on a field the caller
        // cannot see (or the layer lacks) is a bad parameter.
        for (on, name) in [
            (f.loai_kho.is_some(), "loai_kho"),
            (f.min_suc_chua.is_some(), "suc_chua"),
            (f.dich_vu.is_some(), "dich_vu"),
        ] {
            if on {
                if let Err(e) = crate::logistics::near::need(visible, name) {
                    return Some(Err(e));
                }
            }
        }
        let (x, y) = from_lon_lat(&self.auth, lon, lat)?;
        let limit = limit.clamp(1, MAX_NEAR) as usize;
        let want_dv = f.dich_vu.as_ref().map(|s| s.to_lowercase());
        let keep = |r: &Row| {
            f.loai_kho
                .as_ref()
                .is_none_or(|k| r.loai_kho.as_ref() == Some(k))
                && f.min_suc_chua
                    .is_none_or(|m| r.suc_chua.is_some_and(|s| s >= m))
                && want_dv
                    .as_ref()
                    .is_none_or(|d| r.dich_vu.as_ref().is_some_and(|v| v.contains(d.as_str())))
        };
        let keys = self.keys(visible);
        let mut hits: Vec<(f64, &Row)> = Vec::with_capacity(limit + 1);
        for (p, d2) in self.tree.nearest_neighbor_iter_with_distance_2(&[x, y]) {
            let r = &self.rows[p.data as usize];
            if !keep(r) {
                continue;
            }
            // Equal distances are ordered by id: read past the limit while
            // the distance stays that of the last kept row.
            if hits.len() >= limit && hits.last().is_some_and(|(d, _)| *d < d2) {
                break;
            }
            hits.push((d2, r));
        }
        hits.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.fid.cmp(&b.1.fid)));
        hits.truncate(limit);
        Some(
            hits.into_iter()
                .map(|(d2, r)| {
                    let mut w = crate::logistics::near::feature_raw(
                        r.fid,
                        raw(properties(r, &keys))?,
                        Some(r.geometry.clone()),
                    );
                    w.distance_m = Some(dm(d2.sqrt()));
                    Ok(w)
                })
                .collect(),
        )
    }

    /// The visible fields as (position in `fields`, `"name": `), in the
    /// order `jsonb` prints keys (shorter first, then bytewise), so both
    /// paths print the same properties text.
    fn keys(&self, visible: &[&Field]) -> Vec<(usize, String)> {
        let mut k: Vec<(usize, String)> = self
            .fields
            .iter()
            .enumerate()
            .filter(|(_, n)| visible.iter().any(|f| f.name == **n))
            // Names are sanitised identifiers (catalog); serde quotes them
            // correctly all the same.
            .map(|(i, n)| (i, format!("{}: ", serde_json::Value::from(n.as_str()))))
            .collect();
        k.sort_by(|a, b| {
            let (x, y) = (&self.fields[a.0], &self.fields[b.0]);
            x.len().cmp(&y.len()).then(x.cmp(y))
        });
        k
    }
}

/// `jsonb::text` of `r`'s fields `keys` (from [`WarehouseIndex::keys`]).
fn properties(r: &Row, keys: &[(usize, String)]) -> String {
    let mut s = String::with_capacity(48 * keys.len() + 2);
    s.push('{');
    for (i, (at, key)) in keys.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(key);
        s.push_str(r.values[*at].as_ref().map_or("null", |v| v.get()));
    }
    s.push('}');
    s
}

/// The warehouse indexes of this server, by layer and version (the newest
/// two versions of each layer are kept, as for road graphs).
pub type WarehouseIndexes = Indexes<WarehouseIndex>;

impl PerVersion for WarehouseIndex {
    async fn read(
        tx: &mut Transaction<'static, Postgres>,
        l: &Layer,
    ) -> Result<Option<Self>, FeaturesError> {
        WarehouseIndex::load(tx, l, 0).await
    }

    fn set_version(&mut self, version: i64) {
        self.version = version;
    }
}
