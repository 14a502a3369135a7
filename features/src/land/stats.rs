//! Land officers' area questions over the parcels layer, measured in the
//! parcels' own projection (VN-2000 legal areas): land-use statistics (area
//! by `loai_dat`) inside an area, and the parcels within N metres of a
//! feature of any layer (e.g. a planned road).

use catalog::{quote_ident, Field, Layer, FID_COLUMN, GEOM_COLUMN};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::FeaturesError;

/// Most parcels one `parcels_near` request returns.
pub const MAX_NEAR_PARCELS: u32 = 1000;
/// Largest buffer distance (metres).
pub const MAX_BUFFER_M: f64 = 5_000.0;

fn table(l: &Layer) -> String {
    catalog::live_table(&l.name)
}

/// The area statistics are taken over.
#[derive(Debug, Clone)]
pub enum Area {
    /// The features of `layer` whose `column` (a catalog name) reads
    /// `value`: a commune of the admin layer by `ma_dvhc`, a zone by `fid`.
    Feature {
        layer: Box<Layer>,
        column: String,
        value: String,
    },
    /// A GeoJSON (Multi)Polygon in WGS 84.
    GeoJson(String),
}

/// Area of one land-use code inside the area.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UseArea {
    pub loai_dat: Option<String>,
    pub name_vi: Option<String>,
    pub parcels: i64,
    pub area_m2: f64,
    pub share_pct: f64,
}

/// SQL of the area's geometry in `srid` with its bound value.
fn area_sql(a: &Area, srid: i32) -> (String, String, bool) {
    match a {
        Area::Feature {
            layer,
            column,
            value,
        } => (
            format!(
                "(SELECT ST_Transform(ST_Union(x.{g}), {srid}) FROM {t} x WHERE x.{c}::text = $1)",
                g = quote_ident(GEOM_COLUMN),
                t = table(layer),
                c = quote_ident(column),
            ),
            value.clone(),
            true,
        ),
        Area::GeoJson(g) => (
            format!("ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON($1::text), 4326), {srid})"),
            g.clone(),
            false,
        ),
    }
}

/// Land use by `loai_dat` of the parcels of `parcels` inside `area`: each
/// parcel counts with the part of it inside (legal m²), largest first.
/// Returns the rows and the area's own size in m².
pub async fn land_use_statistics(
    pool: &PgPool,
    parcels: &Layer,
    area: &Area,
) -> Result<(Vec<UseArea>, f64), FeaturesError> {
    if !parcels.fields.iter().any(|f| f.name == "loai_dat") {
        return Err(FeaturesError::NotFound(format!(
            "layer {} has no loai_dat field",
            parcels.name
        )));
    }
    let (geom, value, is_fid) = area_sql(area, parcels.srid);
    let g = quote_ident(GEOM_COLUMN);
    let sql = format!(
        "WITH a AS MATERIALIZED (SELECT {geom} AS a), \
         v AS (SELECT a, ST_IsValid(a) AS ok, GeometryType(a) AS t FROM a), \
         p AS (SELECT p.\"loai_dat\"::text AS loai_dat, \
                 CASE WHEN ST_CoveredBy(p.{g}, v.a) THEN ST_Area(p.{g}) \
                      ELSE ST_Area(ST_Intersection(p.{g}, v.a)) END AS m2 \
               FROM {t} p, v WHERE v.ok AND ST_Intersects(p.{g}, v.a)) \
         SELECT (SELECT t FROM v), (SELECT ok FROM v), (SELECT ST_Area(a) FROM v), \
                (SELECT json_agg(json_build_array(p.loai_dat, c.name_vi, p.n, p.m2) ORDER BY p.m2 DESC, p.loai_dat) \
                 FROM (SELECT loai_dat, count(*) AS n, sum(m2) AS m2 FROM p WHERE m2 > 0 GROUP BY loai_dat) p \
                 LEFT JOIN geokho.land_use_codes c ON c.code = p.loai_dat)::text",
        t = table(parcels),
    );
    let row: (Option<String>, Option<bool>, Option<f64>, Option<String>) = sqlx::query_as(&sql)
        .bind(&value)
        .fetch_one(pool)
        .await
        .map_err(|e| geometry_error(e, is_fid))?;
    match row {
        (None, _, _, _) if is_fid => return Err(FeaturesError::NotFound("no such area".into())),
        (Some(t), _, _, _) if !t.contains("POLYGON") => {
            return Err(FeaturesError::BadParameter(
                "geometry",
                format!("the area must be a Polygon or MultiPolygon, not {t}"),
            ))
        }
        (_, Some(false), _, _) => {
            return Err(FeaturesError::BadParameter(
                "geometry",
                "the polygon is not valid (self-intersecting or badly closed)".into(),
            ))
        }
        _ => {}
    }
    let total = row.2.unwrap_or(0.0);
    let rows: Vec<(Option<String>, Option<String>, i64, f64)> = match row.3 {
        Some(r) => serde_json::from_str(&r)
            .map_err(|e| FeaturesError::Db(sqlx::Error::Decode(Box::new(e))))?,
        None => Vec::new(),
    };
    Ok((
        rows.into_iter()
            .map(|(loai_dat, name_vi, parcels, m2)| UseArea {
                loai_dat,
                name_vi,
                parcels,
                area_m2: (m2 * 10.0).round() / 10.0,
                share_pct: if total > 0.0 {
                    (m2 / total * 10_000.0).round() / 100.0
                } else {
                    0.0
                },
            })
            .collect(),
        (total * 10.0).round() / 10.0,
    ))
}

/// A GeoJSON that PostGIS cannot read is the caller's fault.
fn geometry_error(e: sqlx::Error, is_fid: bool) -> FeaturesError {
    match &e {
        sqlx::Error::Database(d)
            if !is_fid
                && d.code()
                    .is_some_and(|c| c == "XX000" || c.starts_with("22")) =>
        {
            FeaturesError::BadParameter(
                "geometry",
                format!("not a GeoJSON geometry: {}", d.message()),
            )
        }
        _ => FeaturesError::Db(e),
    }
}

/// Parcels of `parcels` within `distance_m` of feature `fid` of `of`,
/// nearest first, with their legal area and distance; and how many match.
pub async fn parcels_near_feature(
    pool: &PgPool,
    parcels: &Layer,
    visible: &[&Field],
    of: &Layer,
    fid: i64,
    distance_m: f64,
    limit: u32,
) -> Result<(i64, Vec<Value>), FeaturesError> {
    let g = quote_ident(GEOM_COLUMN);
    let f = quote_ident(FID_COLUMN);
    let props = crate::sql::jsonb_properties(visible, Some("p"));
    let sql = format!(
        "WITH x AS MATERIALIZED (SELECT ST_Transform(x.{g}, {srid}) AS g FROM {of} x WHERE x.{f} = $1), \
         m AS (SELECT p.{f} AS fid, p.{g} AS geom, ST_Distance(p.{g}, x.g) AS d FROM {t} p, x \
               WHERE ST_DWithin(p.{g}, x.g, $2)) \
         SELECT (SELECT count(*) FROM x), (SELECT count(*) FROM m), \
                (SELECT json_agg(json_build_array(fid, props, gj, area, d) ORDER BY d, fid) FROM ( \
                   SELECT m.fid, {props} AS props, \
                          ST_AsGeoJSON(ST_Transform(m.geom, 4326), 8, 0)::json AS gj, ST_Area(m.geom) AS area, m.d \
                   FROM m JOIN {t} p ON p.{f} = m.fid ORDER BY m.d, m.fid LIMIT $3) r)::text",
        srid = parcels.srid,
        of = table(of),
        t = table(parcels),
    );
    let (found, matched, rows): (i64, i64, Option<String>) = sqlx::query_as(&sql)
        .bind(fid)
        .bind(distance_m)
        .bind(i64::from(limit.clamp(1, MAX_NEAR_PARCELS)))
        .fetch_one(pool)
        .await?;
    if found == 0 {
        return Err(FeaturesError::NotFound(format!(
            "layer {} has no feature {fid}",
            of.name
        )));
    }
    let rows: Vec<(i64, Value, Value, f64, f64)> = match rows {
        Some(r) => serde_json::from_str(&r)
            .map_err(|e| FeaturesError::Db(sqlx::Error::Decode(Box::new(e))))?,
        None => Vec::new(),
    };
    Ok((
        matched,
        rows.into_iter()
            .map(|(fid, props, geom, area, d)| {
                json!({
                    "type": "Feature",
                    "id": fid,
                    "geometry": geom,
                    "properties": props,
                    "legal_area_m2": (area * 10.0).round() / 10.0,
                    "distance_m": (d * 10.0).round() / 10.0,
                })
            })
            .collect(),
    ))
}
