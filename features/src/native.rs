//! Placing lon/lat points in a layer's native CRS in geokho, with PROJ,
//! only where PROJ has been seen to agree with PostGIS's `ST_Transform`
//! (the in-memory warehouse and parcel indexes).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use catalog::{quote_ident, Layer, FID_COLUMN, GEOM_COLUMN};
use proj::Proj;
use sqlx::{Postgres, Transaction};

use crate::FeaturesError;

thread_local! {
    /// lon/lat -> layer CRS transformations of this thread, by authority
    /// code (`Proj` is neither `Send` nor `Sync`; creating one takes ms).
    static PROJ: RefCell<HashMap<String, Option<Rc<Proj>>>> = RefCell::new(HashMap::new());
}

/// (`lon`, `lat`) in the CRS `auth`, as PROJ computes it; `None` when PROJ
/// does not know the CRS or the point has no image.
pub(crate) fn from_lon_lat(auth: &str, lon: f64, lat: f64) -> Option<(f64, f64)> {
    let p = PROJ.with(|m| {
        m.borrow_mut()
            .entry(auth.to_string())
            .or_insert_with(|| {
                Proj::new_known_crs("EPSG:4326", auth, None)
                    .ok()
                    .map(Rc::new)
            })
            .clone()
    })?;
    p.convert((lon, lat))
        .ok()
        .filter(|(x, y): &(f64, f64)| x.is_finite() && y.is_finite())
}

/// The authority code (`EPSG:9210`) of `srid`, if PostGIS knows one.
pub(crate) async fn authority(
    tx: &mut Transaction<'_, Postgres>,
    srid: i32,
) -> Result<Option<String>, FeaturesError> {
    Ok(sqlx::query_scalar(
        "SELECT auth_name || ':' || auth_srid FROM spatial_ref_sys WHERE srid = $1",
    )
    .bind(srid)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Whether PROJ maps lon/lat into the layer's CRS as PostGIS does (within
/// 1 mm), on a point of each of 16 of the layer's features (PostGIS's
/// lon/lat of it, back into the CRS).
pub(crate) async fn proj_agrees(
    tx: &mut Transaction<'_, Postgres>,
    l: &Layer,
    auth: &str,
) -> Result<bool, FeaturesError> {
    let g = format!("ST_PointOnSurface(w.{})", quote_ident(GEOM_COLUMN));
    let sql = format!(
        "SELECT ST_X(ll), ST_Y(ll), ST_X(b), ST_Y(b) FROM (SELECT ST_Transform({g}, 4326) AS ll FROM {} w \
         WHERE w.{c} IS NOT NULL AND NOT ST_IsEmpty(w.{c}) ORDER BY w.{fid} LIMIT 16) s, ST_Transform(ll, {srid}) AS b",
        catalog::live_table(&l.name),
        c = quote_ident(GEOM_COLUMN),
        fid = quote_ident(FID_COLUMN),
        srid = l.srid,
    );
    let pts: Vec<(f64, f64, f64, f64)> = sqlx::query_as(&sql).fetch_all(&mut **tx).await?;
    Ok(pts.iter().all(|&(lon, lat, bx, by)| {
        from_lon_lat(auth, lon, lat)
            .is_some_and(|(x, y)| (x - bx).abs() < 1e-3 && (y - by).abs() < 1e-3)
    }))
}
