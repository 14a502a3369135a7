//! Requests that once made the server fail (found by schemathesis against
//! /api): each must now be a 4xx problem+json naming the parameter, and the
//! server must keep answering. Also a world-wide bbox finds the data.

use crate::common;

use common::{get_json, import_samples, start_server};
use serde_json::{json, Value};
use testkit::TestDb;

#[tokio::test]
async fn hostile_values_are_client_errors() {
    let db = TestDb::new("bad_input").await;
    import_samples(&db).await;
    let base = start_server(&db).await;
    let c = reqwest::Client::new();
    let items = "/ogc/collections/thua_dat/items";
    let tile = "/tiles/thua_dat/14/13031/7718.mvt";
    let cases: Vec<(String, &str)> = vec![
        // Points PROJ cannot carry into VN-2000.
        ("/logistics/warehouses/near?lon=10&lat=0".into(), "lon/lat"),
        ("/logistics/warehouses/near?lon=-159&lat=0".into(), "lon/lat"),
        ("/land/parcels/at?lon=10&lat=0".into(), "lon/lat"),
        ("/land/parcels/at?x=565014.18&y=1143360&srid=4326".into(), "lon/lat"),
        ("/logistics/route?from=10,0&to=106.35,10.34".into(), "from/to"),
        // Metres given as degrees; lat/lon order swapped.
        (format!("{items}?bbox=565000,1143000,567000,1145000"), "bbox"),
        (
            format!("{items}?bbox=106.3,10.3,106.4,10.4&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326"),
            "bbox",
        ),
        // Filters: far-away or broken geometry, bad date, LIKE escape, overflow.
        (format!("{items}?filter=S_INTERSECTS(geometry,%20POINT(10%200))"), "filter"),
        (format!("{items}?filter=S_INTERSECTS(geometry,%20POINT(200%20100))"), "filter"),
        (format!("{items}?filter=S_INTERSECTS(geometry,%20POLYGON((0%200,%201%201,%200%200)))"), "filter"),
        (format!("{items}?filter=ngay_cap%20%3E%20DATE(%272020-13-45%27)"), "filter"),
        (format!("{items}?filter=dia_chi%20LIKE%20%27%25%5C%27"), "filter"),
        (format!("{items}?filter=so_to%20%3D%201e400"), "filter"),
        (format!("{tile}?filter=so_to%20%3D%201e400"), "filter"),
        (format!("{tile}?filter=ngay_cap%20%3E%20DATE(%272020-13-45%27)"), "filter"),
        (format!("{tile}?filter=dia_chi%20LIKE%20%27%25%5C%27"), "filter"),
        (format!("{tile}?filter=S_INTERSECTS(geometry,%20POINT(200%20100))"), "filter"),
        // Typed query parameters: the one that does not parse is named.
        ("/land/parcels/at?lon=abc&lat=10.3".into(), "lon"),
        ("/land/parcels/at?x=565014&y=1e999".into(), "y"),
        ("/logistics/warehouses/near?lon=106.3&lat=x".into(), "lat"),
        ("/land/parcels/near?of=duong_bo&fid=1.5&distance_m=10".into(), "fid"),
        ("/land/statistics?area_layer=quy_dat&fid=x".into(), "fid"),
        ("/logistics/route?from=106.3,10.3&to=106.35,10.34&weight=heavy".into(), "weight"),
        ("/logistics/warehouses/near?lon=106.3&lat=10.3&limit=-1".into(), "limit"),
        // NUL bytes cannot be stored in PostgreSQL text.
        ("/logistics/warehouses/near?lon=106.3&lat=10.3&loai_kho=a%00b".into(), "url"),
        ("/land/parcels/a%00b/1/1".into(), "url"),
        (format!("{items}?filter=dia_chi%20%3D%20%27a%00b%27"), "url"),
    ];
    for (path, param) in &cases {
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        let status = r.status();
        assert!(status.is_client_error(), "{path}: {status}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["parameter"], *param, "{path}: {body}");
    }

    // Field reports: a NUL in the text, a point outside Viet Nam.
    for (body, param) in [
        (
            json!({"lon": 106.3454, "lat": 10.3385, "loai": "dat_dai", "noi_dung": "a\u{0}b"}),
            "noi_dung",
        ),
        (
            json!({"lon": 10.0, "lat": 0.0, "loai": "dat_dai", "noi_dung": "x"}),
            "lon/lat",
        ),
    ] {
        let r = c
            .post(format!("{base}/reports"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["parameter"], param);
    }

    // A world-wide bbox is valid and finds every parcel.
    let all = get_json(&format!("{base}{items}?bbox=-180,-90,180,90&limit=1")).await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM geokho_data.thua_dat")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(all["numberMatched"].as_i64().unwrap(), n);
    // ... and the server is still fine.
    get_json(&format!("{base}/health")).await;
}
