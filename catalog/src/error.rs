//! Errors of the catalog crate.

/// What can go wrong when reading or changing the catalog.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("layer '{0}' does not exist")]
    NoSuchLayer(String),
    #[error("layer '{0}' has no previous version to roll back to")]
    NoPreviousVersion(String),
    #[error("invalid layer name '{0}': use 1-40 characters a-z, 0-9, _ starting with a letter")]
    BadLayerName(String),
    #[error("catalog row for layer '{layer}' is corrupt: {reason}")]
    Corrupt { layer: String, reason: String },
}
