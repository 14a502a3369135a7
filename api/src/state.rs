//! Explicit state shared by handlers.

use sqlx::PgPool;

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    /// Public base URL for links (e.g. behind a proxy); derived from the
    /// request's Host header when `None`.
    pub public_url: Option<String>,
}
