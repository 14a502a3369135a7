//! Errors of an import; each names the file, record, layer or option at fault.

use std::path::PathBuf;

use crate::shapefile::ShapefileError;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Shapefile(#[from] ShapefileError),
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("layer {layer}: {reason}")]
    Layer { layer: String, reason: String },
    #[error("{0}")]
    Input(String),
    #[error("layer {layer}: another import of this layer is running")]
    Busy { layer: String },
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Catalog(#[from] catalog::CatalogError),
    #[error("manifest {path}: {reason}")]
    Manifest { path: PathBuf, reason: String },
}

impl ImportError {
    pub(crate) fn file(path: &std::path::Path, reason: impl Into<String>) -> Self {
        ImportError::File {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
    pub(crate) fn layer(layer: &str, reason: impl Into<String>) -> Self {
        ImportError::Layer {
            layer: layer.to_string(),
            reason: reason.into(),
        }
    }
}
