//! The router and the server loop (graceful shutdown on Ctrl-C / SIGTERM).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};

/// Bodies above this size are gzipped at level 4, smaller ones (from 1 KiB)
/// at the fastest level.
const LARGE_BODY: u16 = 16 * 1024;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::routes;
use crate::{AppState, Problem};

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Addresses to listen on (e.g. 127.0.0.1 and ::1, or 0.0.0.0 and ::).
    pub addrs: Vec<SocketAddr>,
    pub public_url: Option<String>,
}

/// Every documented route, registered once: `routes!` adds each handler to
/// the router and its `#[utoipa::path]` to the OpenAPI document.
pub(crate) fn documented() -> OpenApiRouter<AppState> {
    use routes::{
        admin, catalog, health, land, land_area, logistics, ogc, reports, tiles, units, web,
    };
    // A field report's body: at most 16 KiB.
    let small_bodies = || axum::extract::DefaultBodyLimit::max(16 * 1024);
    OpenApiRouter::with_openapi(crate::openapi::ApiDoc::openapi())
        .routes(routes!(catalog::catalog))
        .routes(routes!(health::health))
        .routes(routes!(health::ready))
        .routes(routes!(admin::purge))
        .routes(routes!(admin::seed))
        .routes(routes!(admin::revoke_key))
        .routes(routes!(tiles::tilejson))
        .routes(routes!(tiles::tile))
        .routes(routes!(ogc::landing))
        .routes(routes!(ogc::conformance))
        .routes(routes!(ogc::collections))
        .routes(routes!(ogc::collection))
        .routes(routes!(ogc::queryables))
        .routes(routes!(ogc::items))
        .routes(routes!(ogc::item))
        .routes(routes!(land::by_key))
        .routes(routes!(land::at_point))
        .routes(routes!(land::planning))
        .routes(routes!(
            land_area::statistics,
            land_area::statistics_in_polygon
        ))
        .routes(routes!(land_area::parcels_near))
        .routes(routes!(units::units))
        .routes(routes!(logistics::warehouses_near))
        .routes(routes!(logistics::warehouses_reachable))
        .routes(routes!(logistics::route))
        .routes(routes!(logistics::route_to_nearest_warehouse))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(reports::create))
                .routes(routes!(reports::set_status))
                .layer(small_bodies()),
        )
        .routes(routes!(web::styles))
        .routes(routes!(web::style))
}

/// All routes: the documented ones, and `/api`, `/metrics` and the viewer's
/// page and files.
pub fn router(state: AppState) -> Router {
    let (documented, _) = documented().split_for_parts();
    documented
        .route("/api", get(crate::openapi::api))
        .route("/metrics", get(crate::metrics::render))
        .route("/", get(routes::web::index))
        .route("/web/{file}", get(routes::web::asset))
        .fallback(|| async { Problem::not_found("no such resource") })
        .layer(axum::middleware::from_fn(refuse_nul))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::limits::limit,
        ))
        .route_layer(axum::middleware::from_fn(crate::metrics::track))
        // Answers over 16 KiB (feature pages, large tiles): gzip level 4,
        // not the default 6: 6 costs about three times as much for ~2 %
        // fewer bytes (docs/benchmarks.md). Stored tiles use the same level
        // (tiles::cache).
        .layer(
            CompressionLayer::new()
                .quality(tower_http::CompressionLevel::Precise(4))
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(LARGE_BODY))),
        )
        // Answers of 1-16 KiB (look-ups): the fastest level. On a 4.7 KB
        // nearest-10 answer it gives 1,175 bytes instead of 1,100, and level
        // 4 was the largest share of the server's CPU for such searches.
        // Under 1 KiB nothing is gained. Answers already encoded by the
        // layer above pass through.
        .layer(
            CompressionLayer::new()
                .quality(tower_http::CompressionLevel::Fastest)
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(1024))),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                // One access-log line per request, at info, inside the
                // request's span (so with its id).
                .on_response(
                    tower_http::trace::DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(tower_http::LatencyUnit::Micros),
                ),
        )
        .layer(SetRequestIdLayer::x_request_id(RequestIds::default()))
        .with_state(state)
}

/// Request ids: a per-process random prefix and a counter, unless the
/// client (or the proxy) sent `x-request-id`.
#[derive(Clone)]
struct RequestIds {
    prefix: String,
    next: Arc<AtomicU64>,
}

impl Default for RequestIds {
    fn default() -> Self {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        RequestIds {
            prefix: format!("{:x}{:x}", t.as_secs() & 0xffff_ffff, std::process::id()),
            next: Arc::default(),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        axum::http::HeaderValue::from_str(&format!("{}-{n}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

/// The span of one request, carrying its id into every log line.
fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", method = %req.method(), uri = %req.uri().path(), request_id = %id)
}

/// PostgreSQL text cannot hold U+0000: a URL carrying one is refused here
/// with a 400 rather than failing deep in a query.
async fn refuse_nul(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let has_nul = |s: &str| s.as_bytes().windows(3).any(|w| w == b"%00");
    if has_nul(req.uri().path()) || req.uri().query().is_some_and(has_nul) {
        return Problem::bad_request("url", "the URL holds a NUL character (%00)").into_response();
    }
    next.run(req).await
}

/// Opens every connection of the pool and loads PostGIS in each (a backend
/// loads the library on its first spatial call: 10-50 ms), so the first
/// requests after a start do not pay for it. Failures only log: the
/// database may come later, and requests then answer 503.
async fn warm_up(pool: &sqlx::PgPool) {
    let n = pool.options().get_max_connections() as usize;
    let t0 = std::time::Instant::now();
    let conns = futures::future::join_all((0..n).map(|_| pool.acquire())).await;
    let mut warmed = 0;
    for mut c in conns.into_iter().flatten() {
        if sqlx::query("SELECT postgis_lib_version()")
            .execute(&mut *c)
            .await
            .is_ok()
        {
            warmed += 1;
        }
    }
    tracing::info!(
        connections = warmed,
        ms = t0.elapsed().as_millis() as u64,
        "database pool warmed up"
    );
}

/// Binds every address of `cfg` (IPv4 and IPv6) and serves until a
/// shutdown signal, finishing requests in flight. An IPv6 address this host
/// cannot bind is skipped with a warning when another address is bound.
pub async fn serve(state: AppState, cfg: &ServeConfig) -> anyhow::Result<()> {
    let mut listeners = Vec::new();
    for addr in &cfg.addrs {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => listeners.push(l),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => anyhow::bail!(
                "{addr} is already in use: stop the other server or pass --port/GEOKHO_PORT"
            ),
            Err(e) if addr.is_ipv6() && cfg.addrs.len() > 1 => {
                tracing::warn!(%addr, error = %e, "IPv6 address not available; serving the others")
            }
            Err(e) => anyhow::bail!("cannot listen on {addr}: {e}"),
        }
    }
    warm_up(&state.pool).await;
    let follower = state.follow_changes();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let servers: Vec<_> = listeners
        .into_iter()
        .map(|l| {
            let mut rx = stop_rx.clone();
            let app = app.clone();
            tokio::spawn(async move {
                axum::serve(l, app)
                    .with_graceful_shutdown(async move {
                        let _ = rx.wait_for(|s| *s).await;
                    })
                    .await
            })
        })
        .collect();
    shutdown().await;
    tracing::info!("shutting down: finishing requests in flight");
    let _ = stop_tx.send(true);
    for s in servers {
        s.await??;
    }
    follower.abort();
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
