//! `/health` (the process is alive: for restarts) and `/ready` (the
//! primary database answers and every migration of this build is applied:
//! for load balancers deciding where to send traffic; it also lists each
//! read replica's state, which never makes the server unready since reads
//! fall back to the primary).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::{AppState, Problem};

#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "the process is alive", content_type = "application/json")))]
pub async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, description = "the database answers and the schema is current", content_type = "application/json"),
              (status = 503, description = "the database is unavailable or migrations are missing (problem+json, Retry-After)", content_type = "application/problem+json")))]
pub async fn ready(State(s): State<AppState>) -> Result<Json<Value>, Problem> {
    let pending = catalog::pending_migrations(&s.pool)
        .await
        .map_err(|e| Problem::unavailable(format!("the database is unavailable: {e}")))?;
    if pending > 0 {
        return Err(Problem::unavailable(format!(
            "{pending} migrations are not applied: run `geokho migrate`"
        )));
    }
    let replicas: Vec<Value> = s
        .replicas
        .members()
        .iter()
        .map(|r| json!({"replica": r.label, "state": r.state().as_str()}))
        .collect();
    Ok(Json(
        json!({"status": "ready", "layers": s.layers.all().len(), "replicas": replicas}),
    ))
}
