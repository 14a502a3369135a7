//! `/health`: the process is alive and the database answers.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::{AppState, Problem};

pub async fn health(State(s): State<AppState>) -> Result<Json<Value>, Problem> {
    sqlx::query("SELECT 1")
        .execute(&s.pool)
        .await
        .map_err(Problem::internal)?;
    Ok(Json(json!({"status": "ok"})))
}
