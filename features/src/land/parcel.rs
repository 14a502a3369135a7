//! Queries for land officers over the parcels layer (kind `parcels`) and the
//! planning and land-fund layers: a parcel by commune + map sheet + parcel
//! number, the parcel at a point, and the planning report of a parcel with
//! overlap areas computed in the parcel's own projection (VN-2000 legal
//! areas, never Web Mercator).

use catalog::{quote_ident, Field, FieldType, Layer, FID_COLUMN, GEOM_3857_COLUMN, GEOM_COLUMN};
use serde::Serialize;
use serde_json::value::RawValue;
use sqlx::PgPool;

use crate::sql::{bind_all, Bind};
use crate::FeaturesError;

/// The fields naming a parcel.
pub const PARCEL_KEY: [&str; 3] = ["ma_xa", "so_to", "so_thua"];

fn table(l: &Layer) -> String {
    catalog::live_table(&l.name)
}

fn props(fields: &[&Field], alias: &str) -> String {
    crate::sql::jsonb_properties(fields, Some(alias))
}

/// A parcel: its public properties, WGS 84 geometry and legal area (in
/// the native projection).
///
/// The WGS 84 coordinates are taken from the Web Mercator column, which the
/// importer derived from the native geometry with PROJ: Web Mercator to WGS
/// 84 is a closed formula, while VN-2000 to WGS 84 is a datum shift and a
/// Transverse Mercator inverse per vertex. Both give the same coordinates
/// at the 8 decimals (1 mm) sent (tests/land.rs checks every sample
/// parcel), and the database spends 11-25 % less CPU per look-up.
pub(crate) fn parcel_select(l: &Layer, visible: &[&Field]) -> String {
    format!(
        "SELECT p.{fid}, ({props})::text, ST_AsGeoJSON(ST_Transform(p.{g3857}, 4326), 8, 0), ST_Area(p.{g}) FROM {t} p",
        fid = quote_ident(FID_COLUMN),
        props = props(visible, "p"),
        g3857 = quote_ident(GEOM_3857_COLUMN),
        g = quote_ident(GEOM_COLUMN),
        t = table(l)
    )
}

pub(crate) type ParcelRow = (i64, String, Option<String>, Option<f64>);

/// JSON text PostgreSQL produced (`jsonb::text`, `ST_AsGeoJSON`), passed
/// into the response as it is (checked, never parsed into a tree).
pub(crate) fn raw(text: String) -> Result<Box<RawValue>, FeaturesError> {
    RawValue::from_string(text).map_err(|e| FeaturesError::Db(sqlx::Error::Decode(Box::new(e))))
}

/// A parcel as a GeoJSON feature with its legal area.
#[derive(Debug, Serialize)]
pub struct Parcel {
    #[serde(rename = "type")]
    kind: &'static str,
    id: i64,
    geometry: Option<Box<RawValue>>,
    properties: Box<RawValue>,
    legal_area_m2: Option<f64>,
    area_srid: i32,
    layer: String,
}

impl Parcel {
    /// The feature id.
    pub fn id(&self) -> i64 {
        self.id
    }
}

pub(crate) fn parcel(l: &Layer, r: ParcelRow) -> Result<Parcel, FeaturesError> {
    Ok(Parcel {
        kind: "Feature",
        id: r.0,
        geometry: r.2.map(raw).transpose()?,
        properties: raw(r.1)?,
        legal_area_m2: r.3.map(|a| (a * 10.0).round() / 10.0),
        area_srid: l.srid,
        layer: l.name.clone(),
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
) -> Result<Option<Parcel>, FeaturesError> {
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
    row.map(|r| parcel(l, r)).transpose()
}

/// The parcel containing point (`x`, `y`) of `srid` (lon/lat for 4326).
pub async fn parcel_at(
    pool: &PgPool,
    l: &Layer,
    visible: &[&Field],
    x: f64,
    y: f64,
    srid: i32,
) -> Result<Option<Parcel>, FeaturesError> {
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
    row.map(|r| parcel(l, r)).transpose()
}

/// One overlap of a planning report.
#[derive(Debug, Serialize)]
pub struct Overlap {
    layer: String,
    kind: catalog::LayerKind,
    id: i64,
    properties: Box<RawValue>,
    overlap_m2: f64,
    share_pct: f64,
}

#[derive(Debug, Serialize)]
struct ReportParcel {
    layer: String,
    id: i64,
    legal_area_m2: f64,
    area_srid: i32,
}

/// The planning report of a parcel.
#[derive(Debug, Serialize)]
pub struct PlanningReport {
    parcel: ReportParcel,
    overlaps: Vec<Overlap>,
}

/// Every zone of `zones` (planning or land-fund layers) overlapping parcel
/// `fid` of `parcels`: the zone's public properties, overlap area (m², in
/// the parcel's projection) and share of the parcel (%), largest first
/// within each layer, layers in the order given. One statement: the parcel
/// is read once, its area is the row with zone 0.
pub async fn planning_report(
    pool: &PgPool,
    parcels: &Layer,
    fid: i64,
    zones: &[(&Layer, Vec<&Field>)],
) -> Result<Option<PlanningReport>, FeaturesError> {
    let sql = planning_sql(parcels, zones, false);
    let rows: Vec<ReportRow> = sqlx::query_as(&sql).bind(fid).fetch_all(pool).await?;
    planning_of(parcels, zones, fid, rows)
}

/// A row of the planning statement: zone layer (0: the parcel itself), zone
/// id, properties and area.
pub(crate) type ReportRow = (i32, Option<i64>, Option<String>, f64);

/// The planning statement of one parcel (`$1` its id) or, `batched`, of the
/// parcels `$1::int8[]`, every row led by the parcel's position in that
/// array (from 1) and ordered by it.
pub(crate) fn planning_sql(
    parcels: &Layer,
    zones: &[(&Layer, Vec<&Field>)],
    batched: bool,
) -> String {
    let g = quote_ident(GEOM_COLUMN);
    let fidc = quote_ident(FID_COLUMN);
    let i = if batched { "p.i, " } else { "" };
    let mut parts = vec![format!(
        "SELECT {i}0 AS k, NULL::int8 AS fid, NULL::text AS props, ST_Area(p.geom) AS a FROM p"
    )];
    for (n, (z, fields)) in zones.iter().enumerate() {
        // Zones in another CRS are brought into the parcel's projection.
        let zg = if z.srid == parcels.srid {
            format!("z.{g}")
        } else {
            format!("ST_Transform(z.{g}, {})", parcels.srid)
        };
        let pg = if z.srid == parcels.srid {
            "p.geom".to_string()
        } else {
            format!("ST_Transform(p.geom, {})", z.srid)
        };
        parts.push(format!(
            "SELECT {i}{k}, z.{fidc}, ({props})::text, ST_Area(ST_Intersection({zg}, p.geom)) \
             FROM p JOIN {zt} z ON ST_Intersects(z.{g}, {pg})",
            k = n + 1,
            props = props(fields, "z"),
            zt = table(z),
        ));
    }
    let p = if batched {
        format!(
            "SELECT q.i, t.{g} AS geom FROM unnest($1::int8[]) WITH ORDINALITY AS q(fid, i) \
             JOIN {pt} t ON t.{fidc} = q.fid",
            pt = table(parcels)
        )
    } else {
        format!(
            "SELECT {g} AS geom FROM {pt} WHERE {fidc} = $1",
            pt = table(parcels)
        )
    };
    let order = if batched { "i, k, a DESC" } else { "k, a DESC" };
    format!(
        "WITH p AS MATERIALIZED ({p}) {} ORDER BY {order}",
        parts.join(" UNION ALL ")
    )
}

/// The report of parcel `fid` from its rows of the planning statement
/// (`None`: no such parcel).
pub(crate) fn planning_of(
    parcels: &Layer,
    zones: &[(&Layer, Vec<&Field>)],
    fid: i64,
    rows: Vec<ReportRow>,
) -> Result<Option<PlanningReport>, FeaturesError> {
    let Some(parcel_area) = rows.first().filter(|r| r.0 == 0).map(|r| r.3) else {
        return Ok(None);
    };
    let mut overlaps = Vec::new();
    for (k, zfid, p, a) in rows.into_iter().skip(1) {
        let (Some(zfid), Some(p)) = (zfid, p) else {
            continue;
        };
        if a <= 0.005 {
            continue;
        }
        let z = zones[k as usize - 1].0;
        overlaps.push(Overlap {
            layer: z.name.clone(),
            kind: z.kind,
            id: zfid,
            properties: raw(p)?,
            overlap_m2: (a * 10.0).round() / 10.0,
            share_pct: (a / parcel_area * 10_000.0).round() / 100.0,
        });
    }
    Ok(Some(PlanningReport {
        parcel: ReportParcel {
            layer: parcels.name.clone(),
            id: fid,
            legal_area_m2: (parcel_area * 10.0).round() / 10.0,
            area_srid: parcels.srid,
        },
        overlaps,
    }))
}
