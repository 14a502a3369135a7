//! JSON of a collection (one layer), its queryables, and the conformance classes.

use catalog::{Field, FieldType, Layer};
use serde_json::{json, Map, Value};

use crate::{supported_crs, CRS84};

/// Conformance classes implemented.
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
];

/// The collection document of `layer`; `base` is the OGC API root URL.
pub fn collection(layer: &Layer, base: &str) -> Value {
    let href = format!("{base}/collections/{}", layer.name);
    let mut c = json!({
        "id": layer.name,
        "title": layer.title,
        "description": match &layer.description {
            Some(d) => format!("{d} ({}, {} features, version {})", layer.kind, layer.feature_count, layer.version),
            None => format!("{} ({}), {} features, version {}", layer.title, layer.kind, layer.feature_count, layer.version),
        },
        "itemType": "feature",
        "crs": supported_crs(layer.srid),
        "storageCrs": format!("http://www.opengis.net/def/crs/EPSG/0/{}", layer.srid),
        "links": [
            {"href": href, "rel": "self", "type": "application/json", "title": "this collection"},
            {"href": format!("{href}/items"), "rel": "items", "type": "application/geo+json", "title": "items"},
            {"href": format!("{href}/queryables"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables", "type": "application/schema+json", "title": "queryables"},
        ],
    });
    if let Some(b) = layer.bounds {
        c["extent"] = json!({"spatial": {"bbox": [b], "crs": CRS84}});
    }
    c
}

fn json_type(t: FieldType) -> Value {
    match t {
        FieldType::Text => json!({"type": "string"}),
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::Int4 | FieldType::Int8 => json!({"type": "integer"}),
        FieldType::Float8 => json!({"type": "number"}),
        FieldType::Bool => json!({"type": "boolean"}),
    }
}

/// JSON Schema of the fields a caller may filter on, plus the geometry.
pub fn queryables(layer: &Layer, visible: &[&Field], base: &str) -> Value {
    let mut props: Map<String, Value> = visible
        .iter()
        .map(|f| (f.name.clone(), json_type(f.field_type)))
        .collect();
    props.insert(
        "geometry".into(),
        json!({"format": format!("geometry-{}", layer.geometry_type.to_lowercase())}),
    );
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{base}/collections/{}/queryables", layer.name),
        "type": "object",
        "title": layer.title,
        "properties": props,
        "additionalProperties": false,
    })
}
