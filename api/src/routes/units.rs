//! `GET /units?q=[&generation=]`: an administrative unit (commune or
//! province) by code or name, in both generations (before and from 1 July
//! 2025) unless one is asked for, each with what it became or was formed
//! from. Public: these are published facts.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::params::Q;
use crate::{AppState, Problem};

/// `?q=` and `?generation=`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct UnitsQuery {
    q: Option<String>,
    generation: Option<String>,
}

#[utoipa::path(get, path = "/units", tag = "land",
    params(("q" = String, Query, description = "a commune's or province's code or name, with or without tones (\"28273\", \"Tân Mỹ Chánh\", \"tan my chanh\", \"P.9\")"),
           ("generation" = Option<String>, Query, description = "pre2025 (until 30 June 2025) or 2025; default both: a code alone does not say which")),
    responses((status = 200, description = "matching units, each with its generation and its counterparts in the other one (became / formed_from, whole = false for a split commune)", content_type = "application/json"),
              (status = 400, description = "q missing or generation unknown (problem+json naming it)", content_type = "application/problem+json"),
              (status = 404, description = "no unit with this code or name", content_type = "application/problem+json")))]
pub async fn units(State(s): State<AppState>, q: Q<UnitsQuery>) -> Result<Json<Value>, Problem> {
    let text =
        q.q.as_deref()
            .ok_or_else(|| Problem::bad_request("q", "q (a unit's code or name) is required"))?;
    let found = features::find_units(s.read(), text, q.generation.as_deref()).await?;
    Ok(Json(json!({ "units": found })))
}
