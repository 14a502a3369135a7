//! OGC API - Features under `/ogc`: landing page, conformance, collections,
//! items (bbox, crs, bbox-crs, limit/offset paging, properties, CQL2 text
//! or JSON filter), one item, queryables. Thin: parsing here, queries in the
//! `features` crate.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use catalog::{Field, Layer};
use features::{Crs, FeaturesError, ItemsQuery, MAX_LIMIT};
use serde_json::{json, Value};

use crate::base_url::base_url;
use crate::caller::Caller;
use crate::params::non_negative_int;
use crate::params::{filter_lang, numbers, Q};
use crate::{AppState, Problem};

fn root(s: &AppState, headers: &HeaderMap) -> String {
    format!("{}/ogc", base_url(s.public_url.as_deref(), headers))
}

/// A feature query's error, blaming `parameter` when the caller's values
/// made the database refuse it.
pub(crate) fn features_error_at(e: FeaturesError, parameter: &str) -> Problem {
    match e {
        FeaturesError::Db(db) => Problem::from_db_at(db, parameter),
        other => other.into(),
    }
}

impl From<FeaturesError> for Problem {
    fn from(e: FeaturesError) -> Self {
        match e {
            FeaturesError::BadParameter(p, reason) => Problem::bad_request(p, reason),
            FeaturesError::NotFound(detail) => Problem::not_found(detail),
            // A filter is the caller's free-form input; bbox and points are
            // checked before they reach SQL.
            FeaturesError::Db(db) => Problem::from_db_at(db, "filter"),
        }
    }
}

#[utoipa::path(get, path = "/ogc", tag = "features", responses((status = 200, description = "OGC API landing page", content_type = "application/json")))]
pub async fn landing(State(s): State<AppState>, headers: HeaderMap) -> Json<Value> {
    let r = root(&s, &headers);
    let base = base_url(s.public_url.as_deref(), &headers);
    Json(json!({
        "title": "geokho",
        "description": "Shared GIS base map and spatial data warehouse: OGC API - Features",
        "links": [
            {"href": r, "rel": "self", "type": "application/json", "title": "this document"},
            {"href": format!("{base}/api"), "rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.0", "title": "the API definition"},
            {"href": format!("{r}/conformance"), "rel": "conformance", "type": "application/json", "title": "conformance classes"},
            {"href": format!("{r}/collections"), "rel": "data", "type": "application/json", "title": "collections"},
        ],
    }))
}

#[utoipa::path(get, path = "/ogc/conformance", tag = "features", responses((status = 200, description = "conformance classes", content_type = "application/json")))]
pub async fn conformance() -> Json<Value> {
    Json(json!({ "conformsTo": features::CONFORMANCE }))
}

fn visible_layer(s: &AppState, who: &Caller, id: &str) -> Result<Arc<Layer>, Problem> {
    match s.layers.get(id) {
        Some(l) if who.0.can_read(&l) && catalog::valid_layer_name(id) => Ok(l),
        _ => Err(Problem::not_found(format!(
            "no collection '{}'",
            id.chars().take(64).collect::<String>()
        ))),
    }
}

#[utoipa::path(get, path = "/ogc/collections", tag = "features", responses((status = 200, description = "collections", content_type = "application/json")))]
pub async fn collections(
    State(s): State<AppState>,
    who: Caller,
    headers: HeaderMap,
) -> Json<Value> {
    let r = root(&s, &headers);
    let list: Vec<Value> = who
        .readable(&s)
        .iter()
        .map(|l| features::collection(l, &r))
        .collect();
    Json(json!({
        "links": [{"href": format!("{r}/collections"), "rel": "self", "type": "application/json"}],
        "collections": list,
    }))
}

#[utoipa::path(get, path = "/ogc/collections/{id}", tag = "features", params(("id" = String, Path)),
    responses((status = 200, description = "one collection", content_type = "application/json"), (status = 404, description = "unknown layer or resource (problem+json)", content_type = "application/problem+json")))]
pub async fn collection(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, Problem> {
    let l = visible_layer(&s, &who, &id)?;
    Ok(Json(features::collection(&l, &root(&s, &headers))))
}

#[utoipa::path(get, path = "/ogc/collections/{id}/queryables", tag = "features", params(("id" = String, Path)),
    responses((status = 200, description = "JSON Schema of the queryable properties", content_type = "application/schema+json"), (status = 404, description = "unknown layer or resource (problem+json)", content_type = "application/problem+json")))]
pub async fn queryables(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let l = visible_layer(&s, &who, &id)?;
    let visible: Vec<&Field> = who.visible(&l);
    let mut r = Json(features::queryables(&l, &visible, &root(&s, &headers))).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/schema+json"),
    );
    Ok(r)
}

fn crs_param(name: &'static str, v: Option<&String>, native: i32) -> Result<Crs, Problem> {
    match v {
        None => Ok(Crs::crs84()),
        Some(u) => Crs::parse(u, native).map_err(|e| Problem::bad_request(name, e)),
    }
}

/// The query of `/items` (its `crs` serves one item too). Other
/// parameters (a key given as `?key=`) are kept for the paging links.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct ItemsParams {
    limit: Option<String>,
    offset: Option<String>,
    bbox: Option<String>,
    #[serde(rename = "bbox-crs")]
    bbox_crs: Option<String>,
    crs: Option<String>,
    properties: Option<String>,
    filter: Option<String>,
    #[serde(rename = "filter-lang")]
    filter_lang: Option<String>,
    #[serde(rename = "filter-crs")]
    filter_crs: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, String>,
}

impl ItemsParams {
    /// Every parameter given, by name (sorted), as the links repeat them.
    fn pairs(&self) -> BTreeMap<String, String> {
        let mut m = self.other.clone();
        for (k, v) in [
            ("limit", &self.limit),
            ("offset", &self.offset),
            ("bbox", &self.bbox),
            ("bbox-crs", &self.bbox_crs),
            ("crs", &self.crs),
            ("properties", &self.properties),
            ("filter", &self.filter),
            ("filter-lang", &self.filter_lang),
            ("filter-crs", &self.filter_crs),
        ] {
            if let Some(v) = v {
                m.insert(k.to_string(), v.clone());
            }
        }
        m
    }
}

fn parse_items_query(q: &ItemsParams, layer: &Layer) -> Result<ItemsQuery, Problem> {
    let limit: u32 = q
        .limit
        .as_ref()
        .map(|v| non_negative_int("limit", v))
        .transpose()?
        .unwrap_or(10);
    if limit == 0 {
        return Err(Problem::bad_request("limit", "limit must be at least 1"));
    }
    let offset: u64 = q
        .offset
        .as_ref()
        .map(|v| non_negative_int("offset", v))
        .transpose()?
        .unwrap_or(0);
    let bbox = match &q.bbox {
        None => None,
        Some(v) => match numbers("bbox", v)?[..] {
            [a, b, c, d] if a <= c && b <= d => Some([a, b, c, d]),
            [_, _, _, _] => {
                return Err(Problem::bad_request(
                    "bbox",
                    "bbox needs min <= max on both axes",
                ))
            }
            _ => return Err(Problem::bad_request("bbox", "bbox needs 4 numbers (2D)")),
        },
    };
    if let Some(fc) = &q.filter_crs {
        if Crs::parse(fc, layer.srid)
            .map(|c| c.srid != 4326 || c.lat_lon)
            .unwrap_or(true)
        {
            return Err(Problem::bad_request(
                "filter-crs",
                format!("filter geometries are in {}", features::CRS84),
            ));
        }
    }
    let lang = filter_lang(q.filter_lang.as_deref())?;
    let bbox_crs = crs_param("bbox-crs", q.bbox_crs.as_ref(), layer.srid)?;
    if let (Some(b), 4326) = (bbox, bbox_crs.srid) {
        let (lon, lat) = if bbox_crs.lat_lon {
            ([b[1], b[3]], [b[0], b[2]])
        } else {
            ([b[0], b[2]], [b[1], b[3]])
        };
        if lon.iter().any(|v| v.abs() > 180.0) || lat.iter().any(|v| v.abs() > 90.0) {
            return Err(Problem::bad_request(
                "bbox",
                format!(
                    "bbox in {} needs longitudes within ±180 and latitudes within ±90{}",
                    bbox_crs.uri,
                    if bbox_crs.lat_lon {
                        " (latitude first in EPSG:4326)"
                    } else {
                        ""
                    }
                ),
            ));
        }
    }
    Ok(ItemsQuery {
        bbox,
        bbox_crs,
        crs: crs_param("crs", q.crs.as_ref(), layer.srid)?,
        limit: limit.min(MAX_LIMIT),
        offset,
        properties: q.properties.as_ref().map(|p| {
            p.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        }),
        filter: q
            .filter
            .as_ref()
            .filter(|f| !f.trim().is_empty())
            .map(|f| (f.clone(), lang)),
    })
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn page_link(href: &str, q: &ItemsParams, offset: u64, limit: u32) -> String {
    let mut q = q.pairs();
    q.insert("offset".into(), offset.to_string());
    q.insert("limit".into(), limit.to_string());
    let qs: Vec<String> = q
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    format!("{href}?{}", qs.join("&"))
}

fn geojson(body: Value, crs: &Crs) -> Response {
    let mut r = Json(body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("<{}>", crs.uri)) {
        h.insert("content-crs", v);
    }
    r
}

#[utoipa::path(get, path = "/ogc/collections/{id}/items", tag = "features",
    params(("id" = String, Path),
           ("limit" = Option<u32>, Query, description = "1-10000, default 10"), ("offset" = Option<u64>, Query),
           ("bbox" = Option<String>, Query, description = "minx,miny,maxx,maxy in bbox-crs"),
           ("bbox-crs" = Option<String>, Query), ("crs" = Option<String>, Query),
           ("properties" = Option<String>, Query), ("filter" = Option<String>, Query),
           ("filter-lang" = Option<String>, Query), ("filter-crs" = Option<String>, Query)),
    responses((status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 400, description = "a parameter is invalid (problem+json naming it)", content_type = "application/problem+json"), (status = 404, description = "unknown layer or resource (problem+json)", content_type = "application/problem+json"), (status = 503, description = "the database is unavailable (problem+json, Retry-After)", content_type = "application/problem+json")))]
pub async fn items(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    q: Q<ItemsParams>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let l = visible_layer(&s, &who, &id)?;
    let iq = parse_items_query(&q, &l)?;
    let visible: Vec<&Field> = who.visible(&l);
    let (lr, vr, iqr) = (&l, &visible, &iq);
    let page = s
        .read_with(|p| async move { features::fetch_items(&p, lr, vr, iqr).await })
        .await?;
    who.audit(
        &s,
        "ogc items",
        &l,
        &visible,
        Some(format!("{} features", page.features.len())),
    )
    .await?;
    let href = format!("{}/collections/{}/items", root(&s, &headers), l.name);
    let returned = page.features.len() as u64;
    let mut links = vec![
        json!({"href": page_link(&href, &q, iq.offset, iq.limit), "rel": "self", "type": "application/geo+json"}),
        json!({"href": format!("{}/collections/{}", root(&s, &headers), l.name), "rel": "collection", "type": "application/json"}),
    ];
    if iq.offset + returned < page.matched.max(0) as u64 {
        links.push(json!({"href": page_link(&href, &q, iq.offset + returned, iq.limit), "rel": "next", "type": "application/geo+json"}));
    }
    if iq.offset > 0 {
        links.push(json!({"href": page_link(&href, &q, iq.offset.saturating_sub(u64::from(iq.limit)), iq.limit), "rel": "prev", "type": "application/geo+json"}));
    }
    let body = json!({
        "type": "FeatureCollection",
        "numberMatched": page.matched,
        "numberReturned": returned,
        "timeStamp": chrono_now(),
        "links": links,
        "features": page.features,
    });
    Ok(geojson(body, &iq.crs))
}

fn chrono_now() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    // RFC 3339 in UTC without a date library: days since epoch to civil date.
    let secs = d.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let (y, m, dd) = civil(days);
    format!(
        "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[utoipa::path(get, path = "/ogc/collections/{id}/items/{fid}", tag = "features",
    params(("id" = String, Path), ("fid" = String, Path), ("crs" = Option<String>, Query)),
    responses((status = 200, description = "GeoJSON Feature", content_type = "application/geo+json"), (status = 400, description = "a parameter is invalid (problem+json naming it)", content_type = "application/problem+json"), (status = 404, description = "unknown layer or resource (problem+json)", content_type = "application/problem+json")))]
pub async fn item(
    State(s): State<AppState>,
    who: Caller,
    Path((id, fid)): Path<(String, String)>,
    q: Q<ItemsParams>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let l = visible_layer(&s, &who, &id)?;
    let fid: i64 = fid.parse().map_err(|_| {
        Problem::not_found(format!(
            "no feature '{}'",
            fid.chars().take(32).collect::<String>()
        ))
    })?;
    let crs = crs_param("crs", q.crs.as_ref(), l.srid)?;
    let visible: Vec<&Field> = who.visible(&l);
    let (lr, vr, cr) = (&l, &visible, &crs);
    let found = s
        .read_with(|p| async move { features::fetch_item(&p, lr, vr, fid, cr).await })
        .await?;
    let Some(mut f) = found else {
        return Err(Problem::not_found(format!(
            "no feature {fid} in {}",
            l.name
        )));
    };
    who.audit(&s, "ogc item", &l, &visible, Some(format!("fid {fid}")))
        .await?;
    let href = format!("{}/collections/{}", root(&s, &headers), l.name);
    f["links"] = json!([
        {"href": format!("{href}/items/{fid}"), "rel": "self", "type": "application/geo+json"},
        {"href": href, "rel": "collection", "type": "application/json"},
    ]);
    Ok(geojson(f, &crs))
}
