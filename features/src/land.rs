//! Queries for land officers over the parcels layer (kind `parcels`) and the
//! planning and land-fund layers: a parcel by commune + map sheet + parcel
//! number, the parcel at a point, and the planning report of a parcel with
//! overlap areas computed in the parcel's own projection (VN-2000 legal
//! areas, never Web Mercator).

use catalog::{quote_ident, Field, FieldType, Layer, DATA_SCHEMA, FID_COLUMN, GEOM_COLUMN};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::sql::{bind_all, Bind};
use crate::FeaturesError;

/// The fields naming a parcel.
pub const PARCEL_KEY: [&str; 3] = ["ma_xa", "so_to", "so_thua"];

fn table(l: &Layer) -> String {
    format!("{}.{}", quote_ident(DATA_SCHEMA), quote_ident(&l.name))
}

fn props(fields: &[&Field], alias: &str) -> String {
    if fields.is_empty() {
        return "'{}'::jsonb".into();
    }
    let pairs: Vec<String> = fields
        .iter()
        .map(|f| format!("'{}', {alias}.{}", f.name, quote_ident(&f.name)))
        .collect();
    format!("jsonb_build_object({})", pairs.join(", "))
}

/// A parcel: its public properties, WGS 84 geometry and legal area.
fn parcel_select(l: &Layer, visible: &[&Field]) -> String {
    format!(
        "SELECT p.{fid}, ({props})::text, ST_AsGeoJSON(ST_Transform(p.{g}, 4326), 8, 0), ST_Area(p.{g}) FROM {t} p",
        fid = quote_ident(FID_COLUMN),
        props = props(visible, "p"),
        g = quote_ident(GEOM_COLUMN),
        t = table(l)
    )
}

type ParcelRow = (i64, String, Option<String>, Option<f64>);

fn parcel_json(l: &Layer, r: ParcelRow) -> Value {
    json!({
        "type": "Feature",
        "id": r.0,
        "geometry": r.2.and_then(|g| serde_json::from_str::<Value>(&g).ok()),
        "properties": serde_json::from_str::<Value>(&r.1).unwrap_or(json!({})),
        "legal_area_m2": r.3.map(|a| (a * 10.0).round() / 10.0),
        "area_srid": l.srid,
        "layer": l.name,
    })
}

/// Binds a key value as the column's type (a 400 when a number is expected and not given).
fn key_bind(f: &Field, v: &str) -> Result<(Bind, &'static str), FeaturesError> {
    match f.field_type {
        FieldType::Int4 | FieldType::Int8 => v
            .trim()
            .parse::<i64>()
            .map(|i| (Bind::Int(i), "bigint"))
            .map_err(|_| {
                FeaturesError::BadParameter(
                    param_name(&f.name),
                    format!("{} must be an integer", f.name),
                )
            }),
        _ => Ok((Bind::Text(v.trim().to_string()), "text")),
    }
}

fn param_name(n: &str) -> &'static str {
    PARCEL_KEY
        .iter()
        .copied()
        .find(|k| *k == n)
        .unwrap_or("key")
}

/// The parcel with `ma_xa`, `so_to`, `so_thua`, if any.
pub async fn parcel_by_key(
    pool: &PgPool,
    l: &Layer,
    visible: &[&Field],
    key: [&str; 3],
) -> Result<Option<Value>, FeaturesError> {
    let mut binds = Vec::new();
    let mut conds = Vec::new();
    for (name, v) in PARCEL_KEY.iter().zip(key) {
        let f = l.fields.iter().find(|f| f.name == *name).ok_or_else(|| {
            FeaturesError::BadParameter("layer", format!("layer {} has no field {name}", l.name))
        })?;
        let (b, cast) = key_bind(f, v)?;
        binds.push(b);
        conds.push(format!(
            "p.{} = ${}::{cast}",
            quote_ident(name),
            binds.len()
        ));
    }
    let sql = format!(
        "{} WHERE {} ORDER BY p.{} LIMIT 1",
        parcel_select(l, visible),
        conds.join(" AND "),
        quote_ident(FID_COLUMN)
    );
    let row: Option<ParcelRow> = bind_all(sqlx::query_as(&sql), &binds)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|r| parcel_json(l, r)))
}

/// The parcel containing point (`x`, `y`) of `srid` (lon/lat for 4326).
pub async fn parcel_at(
    pool: &PgPool,
    l: &Layer,
    visible: &[&Field],
    x: f64,
    y: f64,
    srid: i32,
) -> Result<Option<Value>, FeaturesError> {
    let sql = format!(
        "{} WHERE ST_Intersects(p.{g}, ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), $3), {srid})) ORDER BY p.{fid} LIMIT 1",
        parcel_select(l, visible),
        g = quote_ident(GEOM_COLUMN),
        srid = l.srid,
        fid = quote_ident(FID_COLUMN),
    );
    let row: Option<ParcelRow> = sqlx::query_as(&sql)
        .bind(x)
        .bind(y)
        .bind(srid)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|r| parcel_json(l, r)))
}

/// Every zone of `zones` (planning or land-fund layers) overlapping parcel
/// `fid` of `parcels`: the zone's public properties, overlap area (m², in
/// the parcel's projection) and share of the parcel (%), largest first.
pub async fn planning_report(
    pool: &PgPool,
    parcels: &Layer,
    fid: i64,
    zones: &[(&Layer, Vec<&Field>)],
) -> Result<Option<Value>, FeaturesError> {
    let g = quote_ident(GEOM_COLUMN);
    let fidc = quote_ident(FID_COLUMN);
    let area: Option<(f64,)> = sqlx::query_as(&format!(
        "SELECT ST_Area({g}) FROM {} WHERE {fidc} = $1",
        table(parcels)
    ))
    .bind(fid)
    .fetch_optional(pool)
    .await?;
    let Some((parcel_area,)) = area else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for (z, fields) in zones {
        // Zones in another CRS are brought into the parcel's projection.
        let zg = if z.srid == parcels.srid {
            format!("z.{g}")
        } else {
            format!("ST_Transform(z.{g}, {})", parcels.srid)
        };
        let sql = format!(
            "SELECT z.{fidc}, ({props})::text, ST_Area(ST_Intersection({zg}, p.{g})) AS a \
             FROM {pt} p JOIN {zt} z ON ST_Intersects(z.{g}, {pg}) WHERE p.{fidc} = $1 ORDER BY a DESC",
            props = props(fields, "z"),
            pt = table(parcels),
            zt = table(z),
            pg = if z.srid == parcels.srid { format!("p.{g}") } else { format!("ST_Transform(p.{g}, {})", z.srid) },
        );
        let rows: Vec<(i64, String, f64)> = sqlx::query_as(&sql).bind(fid).fetch_all(pool).await?;
        for (zfid, p, a) in rows.into_iter().filter(|r| r.2 > 0.005) {
            out.push(json!({
                "layer": z.name,
                "kind": z.kind,
                "id": zfid,
                "properties": serde_json::from_str::<Value>(&p).unwrap_or(json!({})),
                "overlap_m2": (a * 10.0).round() / 10.0,
                "share_pct": (a / parcel_area * 10_000.0).round() / 100.0,
            }));
        }
    }
    Ok(Some(json!({
        "parcel": { "layer": parcels.name, "id": fid, "legal_area_m2": (parcel_area * 10.0).round() / 10.0, "area_srid": parcels.srid },
        "overlaps": out,
    })))
}
