//! The router and the server loop (graceful shutdown on Ctrl-C / SIGTERM).

use std::net::SocketAddr;

use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use crate::routes;
use crate::{AppState, Problem};

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    pub public_url: Option<String>,
}

/// All routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api", get(crate::openapi::api))
        .route("/catalog", get(routes::catalog::catalog))
        .route("/land/parcels/at", get(routes::land::at_point))
        .route("/land/parcels/near", get(routes::land_area::parcels_near))
        .route(
            "/land/statistics",
            get(routes::land_area::statistics).post(routes::land_area::statistics_in_polygon),
        )
        .route("/land/parcels/{key}/planning", get(routes::land::planning))
        .route(
            "/land/parcels/{key}/{so_to}/{so_thua}",
            get(routes::land::by_key),
        )
        .route(
            "/logistics/warehouses/near",
            get(routes::logistics::warehouses_near),
        )
        .route(
            "/logistics/warehouses/reachable",
            get(routes::logistics::warehouses_reachable),
        )
        .route("/logistics/route", get(routes::logistics::route))
        .route(
            "/logistics/route/nearest-warehouse",
            get(routes::logistics::route_to_nearest_warehouse),
        )
        .route(
            "/reports",
            axum::routing::post(routes::reports::create)
                .layer(axum::extract::DefaultBodyLimit::max(16 * 1024)),
        )
        .route(
            "/reports/{id}",
            axum::routing::patch(routes::reports::set_status)
                .layer(axum::extract::DefaultBodyLimit::max(16 * 1024)),
        )
        .route("/ogc", get(routes::ogc::landing))
        .route("/ogc/conformance", get(routes::ogc::conformance))
        .route("/ogc/collections", get(routes::ogc::collections))
        .route("/ogc/collections/{id}", get(routes::ogc::collection))
        .route("/ogc/collections/{id}/items", get(routes::ogc::items))
        .route("/ogc/collections/{id}/items/{fid}", get(routes::ogc::item))
        .route(
            "/ogc/collections/{id}/queryables",
            get(routes::ogc::queryables),
        )
        .route("/health", get(routes::health::health))
        .route("/tiles/{name}", get(routes::tiles::tilejson))
        .route("/tiles/{layers}/{z}/{x}/{y}", get(routes::tiles::tile))
        .route("/", get(routes::web::index))
        .route("/web/{file}", get(routes::web::asset))
        .route("/styles", get(routes::web::styles))
        .route("/styles/{name}", get(routes::web::style))
        .fallback(|| async { Problem::not_found("no such resource") })
        .layer(axum::middleware::from_fn(refuse_nul))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
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

/// Binds `cfg.addr` and serves until a shutdown signal.
pub async fn serve(state: AppState, cfg: &ServeConfig) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(cfg.addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!(
                "{} is already in use: stop the other server or pass --port/GEOKHO_PORT",
                cfg.addr
            )
        } else {
            anyhow::anyhow!("cannot listen on {}: {e}", cfg.addr)
        }
    })?;
    let follower = state.follow_changes();
    let r = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await;
    follower.abort();
    Ok(r?)
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
