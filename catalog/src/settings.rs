//! Layer settings that stick from version to version, and what a version
//! changed that the operator had to confirm.
//!
//! A re-import that does not repeat an option keeps the live version's value
//! (the importer resolves them: `importer::settings`). Both are stored per
//! version in `geokho.layer_versions`, so a rollback restores them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::{get_layer, CatalogError, Layer};

/// Options of a layer version as the operator gave them (kind, title, zoom
/// range and visibility are columns of the layer itself).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Source field -> column name.
    #[serde(default)]
    pub renames: BTreeMap<String, String>,
    /// Columns restricted besides personal data.
    #[serde(default)]
    pub restricted: Vec<String>,
    /// Personal-data columns published on purpose, by name.
    #[serde(default)]
    pub public_fields: Vec<String>,
}

/// What a version changed against the one it replaced that needed the
/// operator's explicit confirmation, or that clients should know about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionChanges {
    /// The previous kind, when `--change-kind` changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind_from: Option<String>,
    /// Exposure widened with `--widen-exposure`, one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub widened: Vec<String>,
    /// Schema changes against the previous version, one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schema: Vec<String>,
}

impl VersionChanges {
    pub fn is_empty(&self) -> bool {
        self.kind_from.is_none() && self.widened.is_empty() && self.schema.is_empty()
    }
}

/// The live version of a layer with the settings it was published with
/// (`None` for versions recorded before settings were kept).
#[derive(Debug, Clone)]
pub struct LiveLayer {
    pub layer: Layer,
    pub settings: Option<LayerSettings>,
}

/// The live version of `name` and its settings, or `None`.
pub async fn live_layer(pool: &PgPool, name: &str) -> Result<Option<LiveLayer>, CatalogError> {
    let Some(layer) = get_layer(pool, name).await? else {
        return Ok(None);
    };
    let raw: Option<Option<serde_json::Value>> = sqlx::query_scalar(
        "SELECT settings FROM geokho.layer_versions WHERE layer = $1 AND version = $2",
    )
    .bind(name)
    .bind(layer.version)
    .fetch_optional(pool)
    .await?;
    let settings = match raw.flatten() {
        None => None,
        Some(v) => Some(
            serde_json::from_value(v).map_err(|e| CatalogError::Corrupt {
                layer: name.to_string(),
                reason: format!("settings: {e}"),
            })?,
        ),
    };
    Ok(Some(LiveLayer { layer, settings }))
}
