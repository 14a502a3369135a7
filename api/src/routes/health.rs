//! `/health`: the process is alive and the database answers.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::{AppState, Problem};

#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "alive and the database answers", content_type = "application/json"), (status = 503, description = "the database is unavailable (problem+json, Retry-After)", content_type = "application/problem+json")))]
pub async fn health(State(s): State<AppState>) -> Result<Json<Value>, Problem> {
    sqlx::query("SELECT 1")
        .execute(&s.pool)
        .await
        .map_err(Problem::internal)?;
    Ok(Json(json!({"status": "ok"})))
}
