//! `GET /tiles/{layers}.json` (TileJSON) and `GET /tiles/{layers}/{z}/{x}/{y}.mvt`
//! for one layer or several, comma-separated (a composite tile), with
//! `?properties=a,b` and `?filter=<CQL2 text>`; ETag/If-None-Match, cached.
//!
//! The cache holds tiles gzip-compressed once (see [`tiles::CachedTile`]):
//! a client accepting gzip gets those bytes as they are; any other gets the
//! tile decompressed, which the server's compression layer then encodes as
//! it accepts (brotli) or leaves as it is (identity).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use catalog::Layer;
use tiles::{CachedTile, TileCoord, TileJsonOptions, TileRequest};

use crate::base_url::base_url;
use crate::caller::Caller;
use crate::params::non_negative_int;
use crate::{AppState, Problem};

/// At most this many layers in one composite request.
const MAX_LAYERS: usize = 16;
/// The layers named in `list` ("a,b,c") that the caller may read, or a
/// problem naming the first it may not (404: unknown and forbidden look alike).
async fn load_layers(
    s: &AppState,
    who: &Caller,
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
            Some(l) if who.0.can_read(&l) => out.push(l),
            _ => return Err(Problem::not_found(format!("no layer named '{shown}'"))),
        }
    }
    // A client asking for a newer version than we know: the NOTIFY may still be on its way.
    if let Some(v) = want_version {
        if v != versions(&out) {
            crate::layer_sync::sync(s)
                .await
                .map_err(|e| Problem::internal_dyn(e.as_ref()))?;
            return Box::pin(load_layers(s, who, list, None)).await;
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
    who: Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let Some(list) = name.strip_suffix(".json") else {
        return Err(Problem::not_found(format!(
            "no resource /tiles/{}: use /tiles/<layer>.json",
            name.chars().take(64).collect::<String>()
        )));
    };
    let layers = load_layers(&s, &who, list, None).await?;
    let base = base_url(s.public_url.as_deref(), &headers);
    let with_fields: Vec<_> = layers
        .iter()
        .map(|l| (l.as_ref(), who.visible(l)))
        .collect();
    let doc = tiles::tilejson(&with_fields, &TileJsonOptions { base_url: &base });
    let mut r = Json(doc).into_response();
    let shared = shareable(&layers, &who);
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if shared {
            "public, max-age=10"
        } else {
            "private, max-age=10"
        }),
    );
    Ok(r)
}

/// Whether a response may sit in shared caches (a CDN, a proxy): only what
/// an anonymous caller would get. Restricted fields and non-public layers
/// are `private`, so a CDN never hands them to someone without the key.
fn shareable(layers: &[Arc<Layer>], who: &Caller) -> bool {
    layers
        .iter()
        .all(|l| l.public && who.0.tier(l) == tiles::PUBLIC_TIER)
}

/// `?properties=`, `?filter=`, `?filter-lang=` and `?v=` of a tile.
#[derive(Debug, Default, serde::Deserialize)]
pub struct TileQuery {
    properties: Option<String>,
    filter: Option<String>,
    #[serde(rename = "filter-lang")]
    filter_lang: Option<String>,
    v: Option<String>,
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
    who: Caller,
    Path((list, z, x, y_ext)): Path<(String, String, String, String)>,
    q: crate::params::Q<TileQuery>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let c = coord(&z, &x, &y_ext)?;
    let layers = load_layers(&s, &who, &list, q.v.as_deref()).await?;
    let readable = layers
        .iter()
        .map(|l| tiles::Readable {
            layer: l,
            visible: who.visible(l),
            tier: who.0.tier(l),
        })
        .collect();
    let lang = crate::params::filter_lang(q.filter_lang.as_deref())?;
    let req = TileRequest::new(
        readable,
        c,
        q.properties.as_deref(),
        q.filter.as_deref(),
        lang,
    )
    .map_err(|e| Problem::bad_request(e.0, e.1))?;
    for t in req.tile_layers() {
        let at = Some(format!("{}/{}/{}", c.z, c.x, c.y));
        who.audit(&s, "tile", t.layer, &t.fields, at).await?;
    }
    let (etag, immutable) = (req.etag(), q.v.as_deref() == Some(req.versions().as_str()));
    let cache_control = cache_control(shareable(&layers, &who), immutable);
    if not_modified(&headers, &etag) {
        let r = StatusCode::NOT_MODIFIED.into_response();
        return Ok(with_headers(r, &etag, cache_control, None));
    }
    let from_store = std::sync::atomic::AtomicBool::new(false);
    let (r, stored) = (&req, &from_store);
    let fetch = s.read_with(|p| async move {
        let (tile, from) = r.produce(&p).await?;
        stored.store(from, std::sync::atomic::Ordering::Relaxed);
        Ok::<_, tiles::TileError>(tile)
    });
    let (tile, hit) = s
        .cache
        .get_or_render(req.key(), fetch)
        .await
        .map_err(|e| Problem::from_tile_error(e.as_ref()))?;
    let source = match (hit, from_store.into_inner()) {
        (true, _) => "hit",
        (false, true) => "store",
        (false, false) => "miss",
    };
    let r = tile_body(&tile, &headers).map_err(Problem::internal)?;
    Ok(with_headers(r, &etag, cache_control, Some(source)))
}

/// The tile of path segments `z`, `x` and `<y>.mvt` (or `.pbf`).
fn coord(z: &str, x: &str, y_ext: &str) -> Result<TileCoord, Problem> {
    let y = y_ext
        .strip_suffix(".mvt")
        .or_else(|| y_ext.strip_suffix(".pbf"))
        .ok_or_else(|| Problem::not_found("tile URLs end in .mvt"))?;
    Ok(TileCoord::new(
        non_negative_int("z", z)?,
        non_negative_int("x", x)?,
        non_negative_int("y", y)?,
    )?)
}

/// Cache-Control of a tile: shared caches only for what anyone may see;
/// a day and `immutable` when the URL names the data version.
fn cache_control(shareable: bool, immutable: bool) -> &'static str {
    match (shareable, immutable) {
        (true, true) => "public, max-age=86400, immutable",
        (true, false) => "public, max-age=30",
        (false, true) => "private, max-age=86400, immutable",
        (false, false) => "private, max-age=30",
    }
}

/// Whether `If-None-Match` names `etag`.
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
}

/// The tile in the encoding the client takes: the stored gzip bytes when it
/// accepts gzip at least as much as brotli, the tile decompressed otherwise
/// (the compression layer then brotli-encodes it for clients preferring br).
fn tile_body(tile: &CachedTile, headers: &HeaderMap) -> std::io::Result<Response> {
    let mut r = match tile.gzip() {
        Some(gz) if takes_stored_gzip(headers) => {
            let mut r = gz.clone().into_response();
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            r
        }
        _ => tile.identity()?.into_response(),
    };
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.mapbox-vector-tile"),
    );
    Ok(r)
}

/// Whether `Accept-Encoding` accepts gzip (or `*`) and prefers no encoding
/// the server also offers (brotli) to it. No header: identity.
fn takes_stored_gzip(headers: &HeaderMap) -> bool {
    let (mut gzip, mut br, mut any) = (None, None, None);
    for v in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(v) = v.to_str() else { continue };
        for item in v.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    k.trim().eq_ignore_ascii_case("q").then(|| v.trim())
                })
                .next()
                .map_or(1.0, |q| q.parse::<f32>().unwrap_or(0.0));
            if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(q);
            } else if name.eq_ignore_ascii_case("br") {
                br = Some(q);
            } else if name == "*" {
                any = Some(q);
            }
        }
    }
    let gzip = gzip.or(any).unwrap_or(0.0);
    let br = br.or(any).unwrap_or(0.0);
    gzip > 0.0 && gzip >= br
}

/// Adds ETag, Cache-Control, `Vary: Accept-Encoding` and `x-geokho-cache`
/// (hit, store or miss).
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
    // The body depends on Accept-Encoding, also when this server sends the
    // stored gzip itself (the compression layer only adds Vary when it compresses).
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(source) = source {
        h.insert("x-geokho-cache", HeaderValue::from_static(source));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    use axum::routing::get;
    use axum::Router;
    use tower_http::compression::CompressionLayer;

    /// Bytes shaped like an MVT (a repeated `layer` message), ~60 KB.
    fn mvt_like() -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..3000u32 {
            v.extend_from_slice(&[0x1a, 0x12, 0x0a, 0x08]);
            v.extend_from_slice(b"thua_dat");
            v.extend_from_slice(&[0x12, 0x06, 0x08]);
            v.extend_from_slice(&i.to_le_bytes()[..2]);
            v.extend_from_slice(&[0x18, 0x03, 0x22]);
        }
        v
    }

    /// A response of `tile_body` + `with_headers` behind the same compression
    /// layer as the server's router, over a real socket; returns status,
    /// lower-cased headers and the body as sent.
    async fn get_with(
        tile: CachedTile,
        accept_encoding: Option<&'static str>,
    ) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let app = Router::new()
            .route(
                "/t",
                get(move |h: HeaderMap| {
                    let tile = tile.clone();
                    async move {
                        let r = tile_body(&tile, &h).unwrap();
                        with_headers(r, "\"1-2\"", "public, max-age=30", Some("hit"))
                    }
                }),
            )
            .layer(CompressionLayer::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let raw = tokio::task::spawn_blocking(move || {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            let ae = accept_encoding
                .map(|v| format!("Accept-Encoding: {v}\r\n"))
                .unwrap_or_default();
            write!(
                s,
                "GET /t HTTP/1.1\r\nHost: x\r\n{ae}Connection: close\r\n\r\n"
            )
            .unwrap();
            let mut raw = Vec::new();
            s.read_to_end(&mut raw).unwrap();
            raw
        })
        .await
        .unwrap();
        server.abort();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8(raw[..split].to_vec()).unwrap();
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap()[9..12].parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let mut body = raw[split + 4..].to_vec();
        if headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v == "chunked")
        {
            body = dechunk(&body);
        }
        (status, headers, body)
    }

    fn dechunk(mut b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let eol = b.windows(2).position(|w| w == b"\r\n").unwrap();
            let size_hex = std::str::from_utf8(&b[..eol]).unwrap();
            let n = usize::from_str_radix(size_hex.split(';').next().unwrap().trim(), 16).unwrap();
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
            b = &b[eol + 2 + n + 2..];
        }
    }

    fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
        h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    #[tokio::test]
    async fn each_client_gets_its_encoding_from_one_stored_gzip() {
        let raw = mvt_like();
        let tile = CachedTile::new(raw.clone());
        let stored = tile.gzip().expect("stored compressed").clone();

        // gzip (curl, tools): the stored bytes as they are, which decode to the tile.
        let (st, h, gz) = get_with(tile.clone(), Some("gzip")).await;
        assert_eq!(st, 200);
        assert_eq!(header(&h, "content-encoding"), Some("gzip"));
        assert_eq!(
            header(&h, "content-type"),
            Some("application/vnd.mapbox-vector-tile")
        );
        assert_eq!(header(&h, "vary"), Some("accept-encoding"));
        assert_eq!(header(&h, "etag"), Some("\"1-2\""));
        assert_eq!(
            header(&h, "content-length"),
            Some(stored.len().to_string().as_str())
        );
        assert_eq!(gz, stored);
        assert_eq!(tiles::gunzip(&gz).unwrap(), raw);

        // A browser (gzip, deflate, br, zstd at equal weight): the stored gzip too.
        let (_, h, b) = get_with(tile.clone(), Some("gzip, deflate, br, zstd")).await;
        assert_eq!(header(&h, "content-encoding"), Some("gzip"));
        assert_eq!(b, stored);

        // No Accept-Encoding, or identity only: the MVT itself.
        for ae in [None, Some("identity"), Some("gzip;q=0"), Some("deflate")] {
            let (st, h, b) = get_with(tile.clone(), ae).await;
            assert_eq!(st, 200);
            assert_eq!(header(&h, "content-encoding"), None, "{ae:?}");
            assert_eq!(header(&h, "vary"), Some("accept-encoding"), "{ae:?}");
            assert_eq!(b, raw, "{ae:?}");
        }

        // brotli only, or brotli preferred: brotli by the compression layer.
        for ae in ["br", "gzip;q=0.5, br;q=1"] {
            let (st, h, b) = get_with(tile.clone(), Some(ae)).await;
            assert_eq!(st, 200);
            assert_eq!(header(&h, "content-encoding"), Some("br"), "{ae}");
            assert_eq!(
                h.iter().filter(|(k, _)| k == "vary").count(),
                1,
                "one Vary: {h:?}"
            );
            assert!(!b.is_empty() && b.len() < raw.len() && b[..2] != [0x1f, 0x8b]);
        }

        // An empty tile stays empty, whatever the client accepts.
        for ae in [None, Some("gzip"), Some("br")] {
            let (st, h, b) = get_with(CachedTile::new(Vec::new()), ae).await;
            assert_eq!(st, 200);
            assert_eq!(header(&h, "content-encoding"), None);
            assert!(b.is_empty());
        }
    }

    #[test]
    fn accept_encoding_negotiation() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            m
        };
        assert!(!takes_stored_gzip(&HeaderMap::new()));
        for yes in [
            "gzip",
            "GZIP",
            "x-gzip",
            "gzip, br",
            "br, gzip",
            "*",
            "gzip;q=0.8, br;q=0.8",
            "br;q=0.1, gzip",
            "deflate, gzip;Q=1.0",
        ] {
            assert!(takes_stored_gzip(&h(yes)), "{yes}");
        }
        for no in [
            "identity",
            "br",
            "gzip;q=0",
            "gzip;q=0.5, br",
            "deflate",
            "*;q=0",
            "gzip;q=x",
        ] {
            assert!(!takes_stored_gzip(&h(no)), "{no}");
        }
    }
}
