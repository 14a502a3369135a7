//! `GET /tiles/{layers}.json` (TileJSON) and `GET /tiles/{layers}/{z}/{x}/{y}.mvt`
//! for one layer or several, comma-separated (a composite tile).

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use catalog::Layer;
use tiles::{TileCoord, TileJsonOptions, TileLayer};

use crate::base_url::base_url;
use crate::{AppState, Problem};

/// At most this many layers in one composite request.
const MAX_LAYERS: usize = 16;

/// Loads the public layers named in `list` ("a,b,c"), or a problem naming the bad one.
async fn load_layers(s: &AppState, list: &str) -> Result<Vec<Layer>, Problem> {
    let names: Vec<&str> = list.split(',').collect();
    if names.len() > MAX_LAYERS {
        return Err(Problem::bad_request(
            "layers",
            format!("at most {MAX_LAYERS} layers per request"),
        ));
    }
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        if !catalog::valid_layer_name(n) {
            return Err(Problem::not_found(format!(
                "no layer named '{}'",
                n.chars().take(64).collect::<String>()
            )));
        }
        match catalog::get_layer(&s.pool, n).await? {
            Some(l) if l.public => out.push(l),
            _ => return Err(Problem::not_found(format!("no layer named '{n}'"))),
        }
    }
    Ok(out)
}

/// `/tiles/{name}`: `name` is `<layers>.json`.
pub async fn tilejson(
    State(s): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let Some(list) = name.strip_suffix(".json") else {
        return Err(Problem::not_found(format!(
            "no resource /tiles/{name}: use /tiles/<layer>.json"
        )));
    };
    let layers = load_layers(&s, list).await?;
    let base = base_url(s.public_url.as_deref(), &headers);
    let with_fields: Vec<_> = layers
        .iter()
        .map(|l| (l, l.public_fields().collect::<Vec<_>>()))
        .collect();
    let doc = tiles::tilejson(&with_fields, &TileJsonOptions { base_url: &base });
    Ok(Json(doc).into_response())
}

fn parse_num(name: &str, v: &str) -> Result<u32, Problem> {
    v.parse().map_err(|_| {
        Problem::bad_request(
            name,
            format!(
                "{name} must be a non-negative integer, got '{}'",
                v.chars().take(32).collect::<String>()
            ),
        )
    })
}

/// `/tiles/{layers}/{z}/{x}/{y}.mvt`
pub async fn tile(
    State(s): State<AppState>,
    Path((list, z, x, y_ext)): Path<(String, String, String, String)>,
) -> Result<Response, Problem> {
    let y = y_ext
        .strip_suffix(".mvt")
        .or_else(|| y_ext.strip_suffix(".pbf"))
        .ok_or_else(|| Problem::not_found("tile URLs end in .mvt"))?;
    let c = TileCoord::new(parse_num("z", &z)?, parse_num("x", &x)?, parse_num("y", y)?)?;
    let layers = load_layers(&s, &list).await?;
    let tl: Vec<TileLayer<'_>> = layers
        .iter()
        .map(|l| TileLayer {
            layer: l,
            fields: l.public_fields().collect(),
        })
        .collect();
    let body = tiles::render(&s.pool, &tl, c).await?;
    let etag = format!(
        "\"{}\"",
        layers
            .iter()
            .map(|l| l.version.to_string())
            .collect::<Vec<_>>()
            .join("-")
    );
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.mapbox-vector-tile"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    Ok(r)
}
