//! Errors of tile rendering.

#[derive(Debug, thiserror::Error)]
pub enum TileError {
    #[error("tile {0}: {1}")]
    BadCoord(String, String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}
