//! `GET /tiles/{layers}.json` (TileJSON) and `GET /tiles/{layers}/{z}/{x}/{y}.mvt`
//! for one layer or several, comma-separated (a composite tile), with
//! `?properties=a,b` and `?filter=<CQL2 text>`; ETag/If-None-Match, cached.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use catalog::{Field, Layer};
use tiles::{TileCoord, TileJsonOptions, TileKey, TileLayer};

use crate::base_url::base_url;
use crate::params::non_negative_int;
use crate::{AppState, Problem};

/// At most this many layers in one composite request.
const MAX_LAYERS: usize = 16;
/// Access tier of the caller (only anonymous exists until API keys arrive).
const TIER: &str = tiles::PUBLIC_TIER;

/// The public layers named in `list` ("a,b,c"), or a problem naming the bad one.
async fn load_layers(
    s: &AppState,
    list: &str,
    want_version: Option<&str>,
) -> Result<Vec<Arc<Layer>>, Problem> {
    let names: Vec<&str> = list.split(',').collect();
    if names.len() > MAX_LAYERS {
        return Err(Problem::bad_request(
            "layers",
            format!("at most {MAX_LAYERS} layers per request"),
        ));
    }
    let mut out = Vec::with_capacity(names.len());
    for n in &names {
        let shown: String = n.chars().take(64).collect();
        let layer = if catalog::valid_layer_name(n) {
            s.layers.get(n)
        } else {
            None
        };
        match layer {
            Some(l) if l.public => out.push(l),
            _ => return Err(Problem::not_found(format!("no layer named '{shown}'"))),
        }
    }
    // A client asking for a newer version than we know: the NOTIFY may still be on its way.
    if let Some(v) = want_version {
        if v != versions(&out) {
            for n in &names {
                s.layers.refresh(&s.pool, n).await?;
            }
            return Box::pin(load_layers(s, list, None)).await;
        }
    }
    Ok(out)
}

fn versions(layers: &[Arc<Layer>]) -> String {
    layers
        .iter()
        .map(|l| l.version.to_string())
        .collect::<Vec<_>>()
        .join("-")
}

/// `/tiles/{name}`: `name` is `<layers>.json`.
#[utoipa::path(get, path = "/tiles/{name}", tag = "tiles",
    params(("name" = String, Path, description = "`<layer>[,<layer>...].json`")),
    responses((status = 200, description = "TileJSON 3.0.0", content_type = "application/json"), (status = 404, description = "unknown layer or resource (problem+json)", content_type = "application/problem+json"), (status = 503, description = "the database is unavailable (problem+json, Retry-After)", content_type = "application/problem+json")))]
pub async fn tilejson(
    State(s): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let Some(list) = name.strip_suffix(".json") else {
        return Err(Problem::not_found(format!(
            "no resource /tiles/{}: use /tiles/<layer>.json",
            name.chars().take(64).collect::<String>()
        )));
    };
    let layers = load_layers(&s, list, None).await?;
    let base = base_url(s.public_url.as_deref(), &headers);
    let with_fields: Vec<_> = layers
        .iter()
        .map(|l| (l.as_ref(), l.public_fields().collect::<Vec<_>>()))
        .collect();
    let doc = tiles::tilejson(&with_fields, &TileJsonOptions { base_url: &base });
    let mut r = Json(doc).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=10"),
    );
    Ok(r)
}

/// The fields of `layer` to include: the visible ones, narrowed by `?properties=`.
fn choose_fields<'a>(layer: &'a Layer, props: Option<&[&str]>) -> Vec<&'a Field> {
    layer
        .public_fields()
        .filter(|f| props.is_none_or(|p| p.contains(&f.name.as_str())))
        .collect()
}

/// `/tiles/{layers}/{z}/{x}/{y}.mvt`
#[utoipa::path(get, path = "/tiles/{layers}/{z}/{x}/{y}", tag = "tiles",
    params(("layers" = String, Path, description = "layer names, comma-separated"),
           ("z" = u32, Path, description = "zoom 0-24"), ("x" = u32, Path), ("y" = String, Path, description = "`<y>.mvt`"),
           ("properties" = Option<String>, Query, description = "fields to include, comma-separated"),
           ("filter" = Option<String>, Query, description = "CQL2 filter (one layer only)"),
           ("filter-lang" = Option<String>, Query, description = "cql2-text (default) or cql2-json"),
           ("v" = Option<String>, Query, description = "data version from the TileJSON URL")),
    responses((status = 200, description = "Mapbox Vector Tile", content_type = "application/vnd.mapbox-vector-tile"),
              (status = 304, description = "not modified (If-None-Match)"), (status = 400, description = "a parameter is invalid (problem+json naming it)", content_type = "application/problem+json"), (status = 404, description = "unknown layer or resource (problem+json)", content_type = "application/problem+json"), (status = 503, description = "the database is unavailable (problem+json, Retry-After)", content_type = "application/problem+json")))]
pub async fn tile(
    State(s): State<AppState>,
    Path((list, z, x, y_ext)): Path<(String, String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let y = y_ext
        .strip_suffix(".mvt")
        .or_else(|| y_ext.strip_suffix(".pbf"))
        .ok_or_else(|| Problem::not_found("tile URLs end in .mvt"))?;
    let c = TileCoord::new(
        non_negative_int("z", &z)?,
        non_negative_int("x", &x)?,
        non_negative_int("y", y)?,
    )?;
    let layers = load_layers(&s, &list, q.get("v").map(String::as_str)).await?;

    let props: Option<Vec<&str>> = q
        .get("properties")
        .map(|p| p.split(',').filter(|n| !n.is_empty()).collect());
    if let Some(p) = &props {
        if let Some(bad) = p.iter().find(|n| {
            !layers
                .iter()
                .any(|l| l.public_fields().any(|f| f.name == **n))
        }) {
            return Err(Problem::bad_request(
                "properties",
                format!(
                    "unknown field '{}'",
                    bad.chars().take(64).collect::<String>()
                ),
            ));
        }
    }
    let filter_text = q
        .get("filter")
        .map(String::as_str)
        .filter(|f| !f.trim().is_empty());
    let lang = crate::params::filter_lang(q.get("filter-lang").map(String::as_str))?;
    if filter_text.is_some() && layers.len() > 1 {
        return Err(Problem::bad_request(
            "filter",
            "a filter applies to one layer: request the layers separately",
        ));
    }
    let mut tile_layers = Vec::with_capacity(layers.len());
    for l in &layers {
        let fields = choose_fields(l, props.as_deref());
        let filter = match filter_text {
            Some(t) => {
                let visible: Vec<&Field> = l.public_fields().collect();
                Some(
                    tiles::compile_filter(
                        t,
                        lang,
                        &visible,
                        tiles::FIRST_FILTER_PARAM,
                        tiles::SpatialTarget::WEB_MERCATOR,
                    )
                    .map_err(|e| Problem::bad_request("filter", e.to_string()))?,
                )
            }
            None => None,
        };
        tile_layers.push(TileLayer {
            layer: l,
            fields,
            filter,
        });
    }

    let variant = tiles::variant(
        props.as_deref().unwrap_or_default(),
        filter_text.unwrap_or(""),
        TIER,
    );
    let vers = versions(&layers);
    let etag = format!("\"{vers}-{variant:x}\"");
    let immutable = q.get("v").is_some_and(|v| *v == vers);
    let cache_control = if immutable {
        "public, max-age=86400, immutable"
    } else {
        "public, max-age=30"
    };
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok(with_headers(
            StatusCode::NOT_MODIFIED.into_response(),
            &etag,
            cache_control,
            None,
        ));
    }
    let layers_key = tiles::layers_key(&layers);
    let key = TileKey {
        layers: layers_key.as_str().into(),
        coord: c,
        variant,
    };
    // Seeded tiles exist for the default variant only; look there before rendering.
    let seeded = props.is_none() && filter_text.is_none();
    let mut from_store = false;
    let fetch = async {
        if seeded {
            if let Some(t) = tiles::tile_store::get(&s.pool, &layers_key, variant, c).await? {
                from_store = true;
                return Ok(t);
            }
        }
        tiles::render(&s.pool, &tile_layers, c, tiles::TILE_BUDGET).await
    };
    let (body, hit) = s
        .cache
        .get_or_render(key, fetch)
        .await
        .map_err(|e| Problem::internal(e.as_ref()))?;
    let source = if hit {
        "hit"
    } else if from_store {
        "store"
    } else {
        "miss"
    };
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.mapbox-vector-tile"),
    );
    Ok(with_headers(r, &etag, cache_control, Some(source)))
}

/// Adds ETag, Cache-Control and `x-geokho-cache` (hit, store or miss).
fn with_headers(
    mut r: Response,
    etag: &str,
    cache_control: &'static str,
    source: Option<&'static str>,
) -> Response {
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    if let Some(source) = source {
        h.insert("x-geokho-cache", HeaderValue::from_static(source));
    }
    r
}
