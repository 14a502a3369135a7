//! The shipped MapLibre styles (`styles/*.json`, compiled in) and which
//! fields of which layer each reads, so an import that loses a field can
//! name the styles it breaks.

use serde_json::Value;

/// The styles in `styles/`, by name.
pub const STYLES: [(&str, &str); 4] = [
    ("base", include_str!("../../styles/base.json")),
    ("cadastral", include_str!("../../styles/cadastral.json")),
    ("planning", include_str!("../../styles/planning.json")),
    ("logistics", include_str!("../../styles/logistics.json")),
];

/// (style, field) for every shipped style that reads one of `fields` of
/// `layer` (`["get", f]` or `["has", f]` in a style layer whose
/// `source-layer` is `layer`, or `{f}` in a text template).
///
/// ```
/// let hits = api::styles::reading("thua_dat", &["loai_dat".to_string(), "ghi_chu".to_string()]);
/// assert!(hits.contains(&("cadastral", "loai_dat".to_string())));
/// assert!(!hits.iter().any(|(_, f)| f == "ghi_chu"));
/// ```
pub fn reading(layer: &str, fields: &[String]) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (name, text) in STYLES {
        let Ok(doc) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        let mut read = Vec::new();
        for l in doc["layers"].as_array().into_iter().flatten() {
            if l["source-layer"] == layer {
                collect_reads(l, &mut read);
            }
        }
        for f in fields {
            if read.contains(f) && !out.contains(&(name, f.clone())) {
                out.push((name, f.clone()));
            }
        }
    }
    out
}

fn collect_reads(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Array(a) => {
            if let (Some(Value::String(op)), Some(Value::String(f))) = (a.first(), a.get(1)) {
                if op == "get" || op == "has" {
                    out.push(f.clone());
                }
            }
            a.iter().for_each(|x| collect_reads(x, out));
        }
        Value::Object(o) => o.values().for_each(|x| collect_reads(x, out)),
        Value::String(s) => {
            // Text templates: "{so_thua}".
            let mut rest = s.as_str();
            while let Some(i) = rest.find('{') {
                let Some(j) = rest[i..].find('}') else { break };
                out.push(rest[i + 1..i + j].to_string());
                rest = &rest[i + j..];
            }
        }
        _ => {}
    }
}
