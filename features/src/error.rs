//! Errors of feature queries: a bad parameter (400) or the database.

#[derive(Debug, thiserror::Error)]
pub enum FeaturesError {
    /// A request parameter is invalid: (parameter, reason).
    #[error("{0}: {1}")]
    BadParameter(&'static str, String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}
