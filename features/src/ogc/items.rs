//! Items of a collection as GeoJSON features, in the requested CRS, with
//! bbox (in `bbox-crs`), CQL2 filter, chosen properties and paging.

use catalog::{quote_ident, Field, Layer, FID_COLUMN, GEOM_COLUMN};
use serde_json::{json, Value};
use sqlfilter::{SpatialTarget, SqlFilter};
use sqlx::PgPool;

use crate::sql::{bind_all, Bind, Where};
use crate::{Crs, FeaturesError};

/// Most items one page may hold.
pub const MAX_LIMIT: u32 = 10_000;

/// A validated items request.
#[derive(Debug, Clone)]
pub struct ItemsQuery {
    /// In `bbox_crs` axis order: minx, miny, maxx, maxy.
    pub bbox: Option<[f64; 4]>,
    pub bbox_crs: Crs,
    pub crs: Crs,
    pub limit: u32,
    pub offset: u64,
    /// `None`: every visible field.
    pub properties: Option<Vec<String>>,
    /// CQL2 text or JSON and its language.
    pub filter: Option<(String, sqlfilter::FilterLang)>,
}

/// One page of features.
#[derive(Debug)]
pub struct Page {
    pub features: Vec<Value>,
    pub matched: i64,
}

fn geometry_sql(layer: &Layer, crs: &Crs) -> String {
    let g = quote_ident(GEOM_COLUMN);
    let mut e = if crs.srid == layer.srid {
        g
    } else {
        format!("ST_Transform({g}, {})", crs.srid)
    };
    if crs.lat_lon {
        e = format!("ST_FlipCoordinates({e})");
    }
    let decimals = if crs.geographic() { 8 } else { 3 };
    // Options 0: no "crs" member (RFC 7946); the CRS travels in Content-Crs.
    format!("ST_AsGeoJSON({e}, {decimals}, 0)")
}

fn properties_sql(fields: &[&Field]) -> String {
    crate::sql::jsonb_properties(fields, None)
}

fn chosen<'a>(
    visible: &[&'a Field],
    props: Option<&[String]>,
) -> Result<Vec<&'a Field>, FeaturesError> {
    let Some(p) = props else {
        return Ok(visible.to_vec());
    };
    if let Some(bad) = p.iter().find(|n| !visible.iter().any(|f| &f.name == *n)) {
        return Err(FeaturesError::BadParameter(
            "properties",
            format!(
                "unknown property '{}'",
                bad.chars().take(64).collect::<String>()
            ),
        ));
    }
    Ok(visible
        .iter()
        .copied()
        .filter(|f| p.contains(&f.name))
        .collect())
}

fn conditions(layer: &Layer, visible: &[&Field], q: &ItemsQuery) -> Result<Where, FeaturesError> {
    let mut w = Where::default();
    if let Some(b) = q.bbox {
        // bbox-crs axis order to x/y.
        let [x0, y0, x1, y1] = if q.bbox_crs.lat_lon {
            [b[1], b[0], b[3], b[2]]
        } else {
            b
        };
        let p: Vec<String> = [x0, y0, x1, y1]
            .into_iter()
            .map(|v| w.bind(Bind::Float(v)))
            .collect();
        let env = format!(
            "ST_MakeEnvelope({}, {}, {}, {}, {})",
            p[0], p[1], p[2], p[3], q.bbox_crs.srid
        );
        // Only the part of the bbox around the layer's data is transformed:
        // a world-wide or far-away bbox is valid, but PROJ cannot carry it
        // into a VN-2000 zone.
        let clipped = match layer.bounds {
            Some([bw, bs, be, bn]) => format!(
                "ST_Intersection({env}, ST_Transform(ST_MakeEnvelope({}, {}, {}, {}, 4326), {}))",
                bw - 0.05,
                bs - 0.05,
                be + 0.05,
                bn + 0.05,
                q.bbox_crs.srid
            ),
            None => env,
        };
        w.conds.push(format!(
            "{} && ST_Transform({clipped}, {})",
            quote_ident(GEOM_COLUMN),
            layer.srid
        ));
    }
    if let Some((text, lang)) = &q.filter {
        let target = SpatialTarget {
            column: GEOM_COLUMN,
            srid: layer.srid,
        };
        let f: SqlFilter = sqlfilter::compile_filter(text, *lang, visible, w.next_param(), target)
            .map_err(|e| FeaturesError::BadParameter("filter", e.to_string()))?;
        w.add_filter(f);
    }
    Ok(w)
}

fn feature(fid: i64, props: &str, geom: Option<&str>) -> Value {
    let geometry = geom
        .and_then(|g| serde_json::from_str::<Value>(g).ok())
        .unwrap_or(Value::Null);
    let properties = serde_json::from_str::<Value>(props).unwrap_or_else(|_| json!({}));
    json!({ "type": "Feature", "id": fid, "geometry": geometry, "properties": properties })
}

/// A page of items of `layer` that the caller may see (`visible` fields).
pub async fn fetch_items(
    pool: &PgPool,
    layer: &Layer,
    visible: &[&Field],
    q: &ItemsQuery,
) -> Result<Page, FeaturesError> {
    let fields = chosen(visible, q.properties.as_deref())?;
    let mut w = conditions(layer, visible, q)?;
    let table = catalog::live_table(&layer.name);
    let count_sql = format!("SELECT count(*) FROM {table}{}", w.clause());
    let (matched,): (i64,) = bind_all(sqlx::query_as(&count_sql), &w.binds)
        .fetch_one(pool)
        .await?;
    let limit = w.bind(Bind::Int(i64::from(q.limit.min(MAX_LIMIT))));
    let offset = w.bind(Bind::Int(q.offset.min(i64::MAX as u64) as i64));
    let sql = format!(
        "SELECT {fid}, ({props})::text, ({geom})::text FROM {table}{clause} ORDER BY {fid} LIMIT {limit} OFFSET {offset}",
        fid = quote_ident(FID_COLUMN),
        props = properties_sql(&fields),
        geom = geometry_sql(layer, &q.crs),
        clause = w.clause(),
    );
    let rows: Vec<(i64, String, Option<String>)> = bind_all(sqlx::query_as(&sql), &w.binds)
        .fetch_all(pool)
        .await?;
    Ok(Page {
        features: rows
            .iter()
            .map(|(f, p, g)| feature(*f, p, g.as_deref()))
            .collect(),
        matched,
    })
}

/// One item by feature id, or `None`.
pub async fn fetch_item(
    pool: &PgPool,
    layer: &Layer,
    visible: &[&Field],
    fid: i64,
    crs: &Crs,
) -> Result<Option<Value>, FeaturesError> {
    let sql = format!(
        "SELECT {fid}, ({props})::text, ({geom})::text FROM {table} WHERE {fid} = $1",
        fid = quote_ident(FID_COLUMN),
        props = properties_sql(visible),
        geom = geometry_sql(layer, crs),
        table = catalog::live_table(&layer.name),
    );
    let row: Option<(i64, String, Option<String>)> =
        sqlx::query_as(&sql).bind(fid).fetch_optional(pool).await?;
    Ok(row.map(|(f, p, g)| feature(f, &p, g.as_deref())))
}
