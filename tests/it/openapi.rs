//! `/api` serves an OpenAPI 3 document that describes what the server really
//! does: every documented operation, called with example values, answers
//! with a documented status and content type.

use crate::common;

use common::{get_json, import_samples, start_server};
use serde_json::Value;
use testkit::TestDb;

/// Concrete URLs for each documented path (with valid and invalid values).
fn examples(path: &str, fid: i64) -> Vec<String> {
    match path {
        "/tiles/{name}" => vec!["/tiles/thua_dat.json".into(), "/tiles/khong_co.json".into()],
        "/tiles/{layers}/{z}/{x}/{y}" => vec![
            "/tiles/thua_dat/15/26064/15437.mvt".into(),
            "/tiles/thua_dat/3/99/0.mvt".into(),
            "/tiles/thua_dat/15/26064/15437.mvt?filter=x%3D".into(),
        ],
        "/ogc/collections/{id}" => vec![
            "/ogc/collections/thua_dat".into(),
            "/ogc/collections/khong_co".into(),
        ],
        "/ogc/collections/{id}/queryables" => vec!["/ogc/collections/duong_bo/queryables".into()],
        "/ogc/collections/{id}/items" => vec![
            "/ogc/collections/kho_bai/items?limit=3".into(),
            "/ogc/collections/kho_bai/items?bbox=1,2".into(),
        ],
        "/ogc/collections/{id}/items/{fid}" => vec![
            "/ogc/collections/kho_bai/items/3".into(),
            "/ogc/collections/kho_bai/items/0".into(),
        ],
        "/land/parcels/{key}/{so_to}/{so_thua}" => vec![
            "/land/parcels/28261/1/1".into(),
            "/land/parcels/28261/x/1".into(),
        ],
        "/land/parcels/at" => vec![
            "/land/parcels/at?lon=106.35&lat=10.345".into(),
            "/land/parcels/at?lon=999&lat=0".into(),
        ],
        "/land/parcels/{key}/planning" => vec![format!("/land/parcels/{fid}/planning")],
        "/styles/{name}" => vec![
            "/styles/cadastral.json".into(),
            "/styles/khong_co.json".into(),
        ],
        p => vec![p.to_string()],
    }
}

#[tokio::test]
async fn every_documented_operation_answers_as_documented() {
    let db = TestDb::new("openapi").await;
    import_samples(&db).await;
    let base = start_server(&db).await;
    let doc = get_json(&format!("{base}/api")).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["servers"][0]["url"].as_str(), Some(base.as_str()));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/catalog",
        "/tiles/{layers}/{z}/{x}/{y}",
        "/ogc/collections/{id}/items",
        "/land/parcels/at",
        "/health",
    ] {
        assert!(paths.contains_key(p), "{p} documented");
    }
    let fid: i64 = sqlx::query_scalar("SELECT min(fid) FROM geokho_data.thua_dat")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let mut calls = 0;
    for (path, item) in paths {
        // POST /reports has its own test (tests/reports.rs).
        let Some(responses) = item.get("get").and_then(|g| g["responses"].as_object()) else {
            continue;
        };
        for url in examples(path, fid) {
            let r = reqwest::get(format!("{base}{url}")).await.unwrap();
            let status = r.status().as_u16().to_string();
            let declared: &Value = responses
                .get(&status)
                .unwrap_or_else(|| panic!("{url}: status {status} not documented"));
            let ct = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            if let Some(content) = declared.get("content").and_then(Value::as_object) {
                assert!(
                    content.keys().any(|k| ct.starts_with(k.as_str())),
                    "{url}: content-type {ct} not in {:?}",
                    content.keys().collect::<Vec<_>>()
                );
            }
            calls += 1;
        }
    }
    assert!(calls >= 25, "{calls} calls");
}
