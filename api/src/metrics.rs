//! Prometheus metrics at `/metrics`: request latency histograms per route,
//! tile cache results, rate-limited requests (recorded as requests pass the
//! middleware), and, read when scraped, the database pool and the catalog
//! (version, features and imports per layer: imports run in other
//! processes, so the catalog is where they are counted).

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::{AppState, Problem};

/// Latency buckets (seconds): tiles and look-ups are milliseconds, routes
/// and cold low-zoom tiles hundreds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide recorder (installed once, shared by every server of the process).
fn handle() -> &'static PrometheusHandle {
    static H: OnceLock<PrometheusHandle> = OnceLock::new();
    H.get_or_init(|| {
        let b = PrometheusBuilder::new()
            .set_buckets(BUCKETS)
            .expect("buckets are not empty");
        let recorder = b.build_recorder();
        let h = recorder.handle();
        // Another recorder installed first (a test harness): ours still renders.
        let _ = metrics::set_global_recorder(recorder);
        h
    })
}

/// Records every request's latency by route template, method and status.
pub async fn track(req: Request, next: Next) -> Response {
    let _ = handle();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().to_string();
    let t0 = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::histogram!("geokho_http_request_duration_seconds",
        "route" => route, "method" => method, "status" => status)
    .record(t0.elapsed().as_secs_f64());
    if let Some(src) = resp
        .headers()
        .get("x-geokho-cache")
        .and_then(|v| v.to_str().ok())
    {
        metrics::counter!("geokho_tile_cache_total", "result" => src.to_string()).increment(1);
    }
    resp
}

/// `GET /metrics` in the Prometheus text format.
pub async fn render(State(s): State<AppState>) -> Result<Response, Problem> {
    metrics::gauge!("geokho_db_pool_connections").set(f64::from(s.pool.size()));
    metrics::gauge!("geokho_db_pool_idle").set(s.pool.num_idle() as f64);
    // Land look-ups and the statements that answered them: their ratio is
    // the mean batch (features::LandLookups).
    metrics::counter!("geokho_land_lookups_total").absolute(s.land.lookups());
    metrics::counter!("geokho_land_lookup_statements_total").absolute(s.land.statements());
    // Parcel-at-point look-ups narrowed by the parcel boxes held in memory.
    metrics::counter!("geokho_land_lookups_narrowed_total").absolute(s.land.narrowed());
    // Road graphs a request found missing and loaded (once per version,
    // however many requests found it missing).
    metrics::counter!("geokho_road_graph_loads_total").absolute(s.memory.graphs.loads());
    for r in s.replicas.members() {
        let in_sync = r.state() == crate::ReplicaState::InSync;
        metrics::gauge!("geokho_replica_in_sync", "replica" => r.label.clone()).set(if in_sync {
            1.0
        } else {
            0.0
        });
    }
    for l in s.layers.all() {
        metrics::gauge!("geokho_layer_version", "layer" => l.name.clone()).set(l.version as f64);
        metrics::gauge!("geokho_layer_features", "layer" => l.name.clone())
            .set(l.feature_count as f64);
    }
    let imports: Vec<(String, i64)> =
        sqlx::query_as("SELECT layer, count(*) FROM geokho.layer_versions GROUP BY layer")
            .fetch_all(&s.pool)
            .await
            .map_err(Problem::internal)?;
    for (layer, n) in imports {
        metrics::gauge!("geokho_layer_imports", "layer" => layer).set(n as f64);
    }
    let mut r = handle().render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    Ok(r)
}
