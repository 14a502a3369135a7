//! Reading layers from the catalog.

use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::{CatalogError, LayerKind};

/// PostgreSQL type of an attribute column, as the importer created it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Int4,
    Int8,
    Float8,
    Bool,
    Date,
}

impl FieldType {
    /// SQL type name.
    pub fn sql(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Int4 => "integer",
            FieldType::Int8 => "bigint",
            FieldType::Float8 => "double precision",
            FieldType::Bool => "boolean",
            FieldType::Date => "date",
        }
    }

    /// TileJSON `vector_layers.fields` type word.
    pub fn tilejson(self) -> &'static str {
        match self {
            FieldType::Text | FieldType::Date => "String",
            FieldType::Int4 | FieldType::Int8 | FieldType::Float8 => "Number",
            FieldType::Bool => "Boolean",
        }
    }
}

/// One attribute column of a layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Column name (lower-case, sanitised).
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Personal or otherwise restricted data: never served without a scope.
    #[serde(default)]
    pub restricted: bool,
    /// The name in the source file, when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A published layer, as served.
#[derive(Debug, Clone, Serialize)]
pub struct Layer {
    pub name: String,
    pub kind: LayerKind,
    pub title: String,
    /// A paragraph about the layer (source, date, coverage), when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub geometry_type: String,
    pub srid: i32,
    pub version: i64,
    pub feature_count: i64,
    /// West, south, east, north in WGS 84.
    pub bounds: Option<[f64; 4]>,
    pub minzoom: i32,
    pub maxzoom: i32,
    pub public: bool,
    pub fields: Vec<Field>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl Layer {
    /// Fields anyone may see.
    pub fn public_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| !f.restricted)
    }
}

type LayerRow = (
    String,
    String,
    String,
    String,
    i32,
    i64,
    i64,
    Option<Vec<f64>>,
    i32,
    i32,
    bool,
    serde_json::Value,
    chrono::DateTime<chrono::Utc>,
    Option<String>,
);

const SELECT_LAYER: &str =
    "SELECT name, kind, title, geometry_type, srid, version, feature_count, \
     bounds, minzoom, maxzoom, public, fields, updated_at, description FROM geokho.layers";

fn from_row(r: LayerRow) -> Result<Layer, CatalogError> {
    let corrupt = |reason: String| CatalogError::Corrupt {
        layer: r.0.clone(),
        reason,
    };
    let fields: Vec<Field> =
        serde_json::from_value(r.11.clone()).map_err(|e| corrupt(format!("fields: {e}")))?;
    let bounds = match &r.7 {
        None => None,
        Some(b) if b.len() == 4 => Some([b[0], b[1], b[2], b[3]]),
        Some(b) => return Err(corrupt(format!("bounds has {} numbers", b.len()))),
    };
    // A kind this build does not know (a newer build wrote it) serves as generic.
    let kind = r.1.parse().unwrap_or_else(|e| {
        tracing::warn!(layer = %r.0, "{e}: served as generic");
        LayerKind::Generic
    });
    Ok(Layer {
        name: r.0,
        kind,
        title: r.2,
        description: r.13,
        geometry_type: r.3,
        srid: r.4,
        version: r.5,
        feature_count: r.6,
        bounds,
        minzoom: r.8,
        maxzoom: r.9,
        public: r.10,
        fields,
        updated_at: r.12,
    })
}

/// Every published layer, by name.
pub async fn list_layers(pool: &PgPool) -> Result<Vec<Layer>, CatalogError> {
    let rows: Vec<LayerRow> = sqlx::query_as(&format!("{SELECT_LAYER} ORDER BY name"))
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(from_row).collect()
}

/// One published layer, or `None`.
pub async fn get_layer(pool: &PgPool, name: &str) -> Result<Option<Layer>, CatalogError> {
    let row: Option<LayerRow> = sqlx::query_as(&format!("{SELECT_LAYER} WHERE name = $1"))
        .bind(name)
        .fetch_optional(pool)
        .await?;
    row.map(from_row).transpose()
}
