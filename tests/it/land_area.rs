//! Land-use statistics (commune, feature, drawn polygon) and parcels within
//! N metres of a feature, checked against PostGIS in VN-2000; bad input
//! refused with the parameter named.

use crate::common;

use std::collections::HashMap;

use common::{get_json, import_samples, start_server};
use serde_json::{json, Value};
use testkit::TestDb;

fn by_code(v: &Value) -> HashMap<String, (i64, f64)> {
    v["land_use"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["loai_dat"].as_str().unwrap().to_string(),
                (
                    r["parcels"].as_i64().unwrap(),
                    r["area_m2"].as_f64().unwrap(),
                ),
            )
        })
        .collect()
}

#[tokio::test]
async fn land_use_statistics() {
    let db = TestDb::new("land_stats").await;
    import_samples(&db).await;
    let base = start_server(&db).await;
    let pool = &db.pool;

    // A commune: the sample's parcels tile it exactly, so each code's area
    // is the sum of that commune's parcels' legal areas.
    let code = "28267";
    let st = get_json(&format!("{base}/land/statistics?ma_xa={code}")).await;
    let want: Vec<(String, i64, f64)> = sqlx::query_as(
        "SELECT loai_dat, count(*), sum(ST_Area(geom)) FROM geokho_data.thua_dat WHERE ma_xa = $1 GROUP BY 1",
    )
    .bind(code)
    .fetch_all(pool)
    .await
    .unwrap();
    let got = by_code(&st);
    assert_eq!(got.len(), want.len(), "{st}");
    for (c, n, a) in &want {
        let (gn, ga) = got[c];
        assert_eq!(gn, *n, "{c}");
        assert!((ga - a).abs() <= 0.5 + a * 1e-6, "{c}: {ga} vs {a}");
    }
    let commune: f64 =
        sqlx::query_scalar("SELECT ST_Area(geom) FROM geokho_data.ranh_gioi WHERE ma_dvhc = $1")
            .bind(code)
            .fetch_one(pool)
            .await
            .unwrap();
    assert!((st["area_m2"].as_f64().unwrap() - commune).abs() < 1.0);
    let shares: f64 = st["land_use"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["share_pct"].as_f64().unwrap())
        .sum();
    assert!((shares - 100.0).abs() < 0.1, "{shares}");
    assert_eq!(st["area_srid"], 9210);
    assert!(st["land_use"][0]["name_vi"]
        .as_str()
        .unwrap()
        .starts_with("Đất"));

    // A drawn polygon cutting parcels: parts inside count.
    let poly = json!({"type": "Polygon", "coordinates": [[[106.35, 10.34], [106.355, 10.34], [106.355, 10.345], [106.35, 10.345], [106.35, 10.34]]]});
    let c = reqwest::Client::new();
    let r = c
        .post(format!("{base}/land/statistics"))
        .body(json!({"type": "Feature", "properties": {}, "geometry": poly}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let drawn: Value = r.json().await.unwrap();
    let want: Vec<(String, f64)> = sqlx::query_as(
        "WITH a AS (SELECT ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON($1), 4326), 9210) AS a) \
         SELECT loai_dat, sum(ST_Area(ST_Intersection(geom, a))) FROM geokho_data.thua_dat, a \
         WHERE ST_Intersects(geom, a) GROUP BY 1 HAVING sum(ST_Area(ST_Intersection(geom, a))) > 0",
    )
    .bind(poly.to_string())
    .fetch_all(pool)
    .await
    .unwrap();
    let got = by_code(&drawn);
    assert_eq!(got.len(), want.len());
    for (c, a) in &want {
        assert!((got[c].1 - a).abs() <= 0.5, "{c}: {} vs {a}", got[c].1);
    }

    // A planning zone as the area.
    let zone = get_json(&format!(
        "{base}/land/statistics?area_layer=quy_hoach_sdd&fid=1"
    ))
    .await;
    assert!(!zone["land_use"].as_array().unwrap().is_empty());

    for body in [
        "not json",
        r#"{"type":"LineString","coordinates":[[106.35,10.34],[106.36,10.35]]}"#,
        r#"{"type":"Polygon","coordinates":[[[106.35,10.34],[106.355]]]}"#,
        // A bow tie: self-intersecting.
        r#"{"type":"Polygon","coordinates":[[[106.35,10.34],[106.355,10.345],[106.355,10.34],[106.35,10.345],[106.35,10.34]]]}"#,
    ] {
        let r = c
            .post(format!("{base}/land/statistics"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["parameter"], "geometry", "{body}: {p}");
    }
    for (q, status) in [
        ("", 400),
        ("?area_layer=quy_hoach_sdd", 400),
        ("?area_layer=quy_hoach_sdd&fid=x", 400),
        ("?area_layer=nope&fid=1", 400),
        ("?area_layer=quy_hoach_sdd&fid=99999", 404),
        ("?ma_xa=00000", 404),
    ] {
        let r = reqwest::get(format!("{base}/land/statistics{q}"))
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{q}");
    }
}

#[tokio::test]
async fn parcels_within_distance_of_a_feature() {
    let db = TestDb::new("land_near").await;
    import_samples(&db).await;
    let base = start_server(&db).await;
    let pool = &db.pool;
    let road: i64 =
        sqlx::query_scalar("SELECT fid FROM geokho_data.duong_bo ORDER BY fid LIMIT 1 OFFSET 11")
            .fetch_one(pool)
            .await
            .unwrap();
    let d = 30.0;
    let near = get_json(&format!(
        "{base}/land/parcels/near?of=duong_bo&fid={road}&distance_m={d}&limit=1000"
    ))
    .await;
    let want: Vec<i64> = sqlx::query_scalar(
        "SELECT p.fid FROM geokho_data.thua_dat p, geokho_data.duong_bo r \
         WHERE r.fid = $1 AND ST_DWithin(p.geom, r.geom, $2) ORDER BY ST_Distance(p.geom, r.geom), p.fid",
    )
    .bind(road)
    .bind(d)
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(!want.is_empty());
    assert_eq!(near["numberMatched"].as_i64().unwrap(), want.len() as i64);
    let got: Vec<i64> = near["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, want);
    for f in near["features"].as_array().unwrap() {
        assert!(f["distance_m"].as_f64().unwrap() <= d);
        assert!(f["legal_area_m2"].as_f64().unwrap() > 0.0);
        let props = f["properties"].as_object().unwrap();
        assert!(props.contains_key("loai_dat"));
        assert!(!props.contains_key("ten_chu"), "restricted field served");
    }
    let page = get_json(&format!(
        "{base}/land/parcels/near?of=duong_bo&fid={road}&distance_m={d}&limit=3"
    ))
    .await;
    assert_eq!(page["numberReturned"], 3);
    assert_eq!(page["numberMatched"].as_i64().unwrap(), want.len() as i64);

    for (q, status, param) in [
        ("?fid=1&distance_m=10", 400, Some("of")),
        ("?of=nope&fid=1&distance_m=10", 400, Some("of")),
        ("?of=duong_bo&distance_m=10", 400, Some("fid")),
        (
            "?of=duong_bo&fid=1&distance_m=99999",
            400,
            Some("distance_m"),
        ),
        (
            "?of=duong_bo&fid=1&distance_m=10&limit=0",
            400,
            Some("limit"),
        ),
        ("?of=duong_bo&fid=999999&distance_m=10", 404, None),
    ] {
        let r = reqwest::get(format!("{base}/land/parcels/near{q}"))
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{q}");
        if let Some(p) = param {
            let b: Value = r.json().await.unwrap();
            assert_eq!(b["parameter"], p, "{q}");
        }
    }
}
