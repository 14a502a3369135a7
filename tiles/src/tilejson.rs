//! TileJSON 3.0.0 documents for one or several layers.

use catalog::{Field, Layer};
use serde_json::{json, Map, Value};

/// Where tiles are served from.
#[derive(Debug, Clone)]
pub struct TileJsonOptions<'a> {
    /// Absolute base URL of the service, e.g. `http://127.0.0.1:8080`.
    pub base_url: &'a str,
}

/// TileJSON for `layers` (composite when more than one) with `fields[i]`
/// being the fields of `layers[i]` the caller may see.
pub fn tilejson(layers: &[(&Layer, Vec<&Field>)], o: &TileJsonOptions<'_>) -> Value {
    let ids: Vec<&str> = layers.iter().map(|(l, _)| l.name.as_str()).collect();
    let id = ids.join(",");
    // The data versions in the URL make every published version a new URL (safe to cache forever).
    let version: Vec<String> = layers.iter().map(|(l, _)| l.version.to_string()).collect();
    let minzoom = layers.iter().map(|(l, _)| l.minzoom).min().unwrap_or(0);
    let maxzoom = layers.iter().map(|(l, _)| l.maxzoom).max().unwrap_or(22);
    let bounds = layers.iter().filter_map(|(l, _)| l.bounds).reduce(|a, b| {
        [
            a[0].min(b[0]),
            a[1].min(b[1]),
            a[2].max(b[2]),
            a[3].max(b[3]),
        ]
    });
    let vector_layers: Vec<Value> = layers
        .iter()
        .map(|(l, fields)| {
            let f: Map<String, Value> = fields
                .iter()
                .map(|f| {
                    (
                        f.name.clone(),
                        Value::String(f.field_type.tilejson().into()),
                    )
                })
                .collect();
            json!({
                "id": l.name,
                "description": l.title,
                "minzoom": l.minzoom,
                "maxzoom": l.maxzoom,
                "fields": f,
            })
        })
        .collect();
    let mut doc = json!({
        "tilejson": "3.0.0",
        "name": id,
        "description": layers.iter().map(|(l, _)| l.title.as_str()).collect::<Vec<_>>().join(", "),
        "version": "1.0.0",
        "attribution": "geokho",
        "scheme": "xyz",
        "tiles": [format!("{}/tiles/{id}/{{z}}/{{x}}/{{y}}.mvt?v={}", o.base_url.trim_end_matches('/'), version.join("-"))],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "vector_layers": vector_layers,
    });
    if let Some(b) = bounds {
        let z = (minzoom.max(0) + 2).min(maxzoom);
        doc["bounds"] = json!(b);
        doc["center"] = json!([(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, z]);
    }
    doc
}
