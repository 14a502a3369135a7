//! The map viewer and its styles: `GET /` (the viewer page), `GET /web/{file}`
//! (its script and stylesheet, and MapLibre GL JS from `web/node_modules`),
//! `GET /styles` (the style names) and `GET /styles/{name}.json` (a MapLibre
//! style whose relative `/tiles/...` sources are made absolute for the caller).
//!
//! The viewer and the styles are compiled in, so the binary runs from any
//! folder; MapLibre is read at run time from `$GEOKHO_WEB_DIR`, else `./web`,
//! else the `web/` folder of the source tree this binary was built from.

use std::borrow::Cow;
use std::path::PathBuf;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::base_url::base_url;
use crate::styles::STYLES;
use crate::{AppState, Problem};

const INDEX_HTML: &str = include_str!("../../../web/index.html");
const VIEWER_JS: &str = include_str!("../../../web/viewer.js");
const VIEWER_CSS: &str = include_str!("../../../web/viewer.css");

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Where MapLibre's build lives inside the web folder.
const MAPLIBRE_DIST: &str = "node_modules/maplibre-gl/dist";

/// `GET /`: the viewer.
pub async fn index() -> Response {
    ([(header::CACHE_CONTROL, "no-cache")], Html(INDEX_HTML)).into_response()
}

/// The web folder holding `node_modules/maplibre-gl`.
fn web_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("GEOKHO_WEB_DIR") {
        return PathBuf::from(d);
    }
    let here = PathBuf::from("web");
    if here.join(MAPLIBRE_DIST).is_dir() {
        return here;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../web"))
}

/// `GET /web/{file}`: the viewer's own script and stylesheet, and MapLibre GL JS.
pub async fn asset(Path(file): Path<String>) -> Result<Response, Problem> {
    const LONG: &str = "public, max-age=3600";
    let (kind, cache, body): (&str, &str, Cow<'static, [u8]>) = match file.as_str() {
        "viewer.js" => (JS, "no-cache", VIEWER_JS.as_bytes().into()),
        "viewer.css" => (CSS, "no-cache", VIEWER_CSS.as_bytes().into()),
        "maplibre-gl.js" => (JS, LONG, maplibre(&file).await?.into()),
        "maplibre-gl.css" => (CSS, LONG, maplibre(&file).await?.into()),
        "maplibre-gl.js.map" => ("application/json", LONG, maplibre(&file).await?.into()),
        _ => {
            let name: String = file.chars().take(64).collect();
            return Err(Problem::not_found(format!("no file /web/{name}")));
        }
    };
    Ok((
        [(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, cache)],
        body,
    )
        .into_response())
}

/// A file of MapLibre's build, or a 404 saying how to install it.
async fn maplibre(file: &str) -> Result<Vec<u8>, Problem> {
    let path = web_dir().join(MAPLIBRE_DIST).join(file);
    tokio::fs::read(&path).await.map_err(|e| {
        tracing::warn!(path = %path.display(), error = %e, "MapLibre GL JS missing");
        Problem::not_found(format!(
            "{file} is not installed: run `npm ci --prefix web` (make run does it) or set GEOKHO_WEB_DIR"
        ))
    })
}

/// `GET /styles`: the styles with their titles and URLs.
#[utoipa::path(get, path = "/styles", tag = "maps", responses((status = 200, description = "style names", content_type = "application/json")))]
pub async fn styles(State(s): State<AppState>, headers: HeaderMap) -> Json<Value> {
    let base = base_url(s.public_url.as_deref(), &headers);
    let items: Vec<Value> = STYLES
        .iter()
        .map(|(name, text)| {
            let doc: Value = serde_json::from_str(text).unwrap_or_default();
            json!({
                "id": name,
                "title": doc["metadata"]["geokho:title"],
                "url": format!("{base}/styles/{name}.json"),
            })
        })
        .collect();
    Json(json!({ "styles": items }))
}

/// `GET /styles/{name}.json`: the style, tile sources absolute for this caller.
#[utoipa::path(get, path = "/styles/{name}", tag = "maps", params(("name" = String, Path, description = "`<style>.json`")),
    responses((status = 200, description = "MapLibre style with absolute tile URLs", content_type = "application/json"), (status = 404, description = "unknown layer or resource (problem+json)", content_type = "application/problem+json")))]
pub async fn style(
    State(s): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let text = file
        .strip_suffix(".json")
        .and_then(|name| STYLES.iter().find(|(n, _)| *n == name))
        .map(|(_, text)| *text)
        .ok_or_else(|| {
            Problem::not_found(format!(
                "no style '{}': see /styles",
                file.trim_end_matches(".json")
                    .chars()
                    .take(64)
                    .collect::<String>()
            ))
        })?;
    let mut doc: Value = serde_json::from_str(text).map_err(Problem::internal)?;
    absolutize(&mut doc, &base_url(s.public_url.as_deref(), &headers));
    Ok(([(header::CACHE_CONTROL, "no-cache")], Json(doc)).into_response())
}

/// Prefixes `base` to every source `url` and `tiles` entry that starts with `/`.
fn absolutize(style: &mut Value, base: &str) {
    let Some(sources) = style.get_mut("sources").and_then(Value::as_object_mut) else {
        return;
    };
    let fix = |v: &mut Value| {
        if let Some(u) = v.as_str().filter(|u| u.starts_with('/')) {
            *v = Value::String(format!("{base}{u}"));
        }
    };
    for src in sources.values_mut() {
        if let Some(u) = src.get_mut("url") {
            fix(u);
        }
        if let Some(tiles) = src.get_mut("tiles").and_then(Value::as_array_mut) {
            tiles.iter_mut().for_each(fix);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_style_parses_and_only_relative_sources_change() {
        for (name, text) in STYLES {
            let mut doc: Value = serde_json::from_str(text).expect(name);
            assert_eq!(doc["version"], 8, "{name}");
            assert_eq!(doc["name"], name);
            absolutize(&mut doc, "http://h:1");
            for (id, src) in doc["sources"].as_object().unwrap() {
                assert_eq!(src["url"], format!("http://h:1/tiles/{id}.json"), "{name}");
            }
        }
        let mut doc =
            json!({"sources": {"a": {"url": "https://x/y.json"}, "b": {"tiles": ["/t/{z}"]}}});
        absolutize(&mut doc, "http://h");
        assert_eq!(doc["sources"]["a"]["url"], "https://x/y.json");
        assert_eq!(doc["sources"]["b"]["tiles"][0], "http://h/t/{z}");
    }
}
