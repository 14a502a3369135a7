//! Errors of feature queries: a bad parameter (400), nothing found
//! (404) or the database.

#[derive(Debug, thiserror::Error)]
pub enum FeaturesError {
    /// A request parameter is invalid: (parameter, reason).
    #[error("{0}: {1}")]
    BadParameter(&'static str, String),
    /// Nothing to answer with: no network, no route (404).
    #[error("{0}")]
    NotFound(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

impl From<catalog::CatalogError> for FeaturesError {
    fn from(e: catalog::CatalogError) -> Self {
        match e {
            catalog::CatalogError::Db(db) => FeaturesError::Db(db),
            other => FeaturesError::NotFound(other.to_string()),
        }
    }
}
