//! OGC API - Features against real clients and PostGIS: GDAL's OAPIF driver
//! lists the collections and copies one out with every feature; items in
//! CRS84, EPSG:4326 (latitude first) and the native VN-2000 zone equal
//! PostGIS's own coordinates; bbox and CQL2 filters count like SQL; bad
//! parameters get 400 problem+json naming them; restricted fields never leak.

use crate::common;

use common::{get_json, import_samples, start_server};
use serde_json::Value;
use testkit::{temp_dir, TestDb};
use tokio::process::Command;

fn coords_close(a: &Value, b: &Value, tol: f64) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| coords_close(p, q, tol))
        }
        (Value::Number(p), Value::Number(q)) => {
            (p.as_f64().unwrap() - q.as_f64().unwrap()).abs() <= tol
        }
        _ => false,
    }
}

async fn sql_geojson(db: &TestDb, expr: &str, fid: i64) -> Value {
    let s: String = sqlx::query_scalar(&format!(
        "SELECT ST_AsGeoJSON({expr}, 9, 0) FROM geokho_data.thua_dat WHERE fid = $1"
    ))
    .bind(fid)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    serde_json::from_str::<Value>(&s).unwrap()["coordinates"].clone()
}

#[tokio::test]
async fn gdal_reads_and_copies_collections_equal_to_postgis() {
    let db = TestDb::new("ogc_gdal").await;
    import_samples(&db).await;
    let base = start_server(&db).await;
    let url = format!("OAPIF:{base}/ogc");

    // tokio's Command: the server answers GDAL on this same runtime.
    let out = Command::new("ogrinfo")
        .args(["-ro", &url])
        .output()
        .await
        .expect("ogrinfo runs");
    testkit::assert_success(&out, "ogrinfo");
    let text = String::from_utf8(out.stdout).unwrap();
    for l in [
        "cang_ben",
        "cau",
        "duong_bo",
        "kho_bai",
        "quy_dat",
        "quy_hoach_sdd",
        "ranh_gioi",
        "thua_dat",
    ] {
        assert!(
            text.contains(&format!(": {l} (title:")),
            "{l} listed: {text}"
        );
    }

    let gpkg = temp_dir("ogc").join("roads.gpkg");
    let out = Command::new("ogr2ogr")
        .args(["-f", "GPKG"])
        .arg(&gpkg)
        .args([&url, "duong_bo"])
        .output()
        .await
        .expect("ogr2ogr runs");
    testkit::assert_success(&out, "ogr2ogr");
    let out = Command::new("ogrinfo")
        .args(["-ro", "-al"])
        .arg(&gpkg)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM geokho_data.duong_bo")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(
        text.contains(&format!("Feature Count: {n}")),
        "copied {n} roads: {}",
        &text[..600.min(text.len())]
    );
    let name: String = sqlx::query_scalar(
        "SELECT ten_duong FROM geokho_data.duong_bo WHERE cap_quan_ly = 'QL' LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(
        text.contains(&format!("ten_duong (String) = {name}")),
        "{name} intact"
    );
}

#[tokio::test]
async fn items_in_each_crs_with_bbox_filter_and_errors() {
    let db = TestDb::new("ogc_items").await;
    import_samples(&db).await;
    let base = start_server(&db).await;
    let items = format!("{base}/ogc/collections/thua_dat/items");

    // One item in three CRSs, equal to PostGIS.
    let f = get_json(&format!(
        "{items}/100?crs=http://www.opengis.net/def/crs/EPSG/0/9210"
    ))
    .await;
    assert!(coords_close(
        &f["geometry"]["coordinates"],
        &sql_geojson(&db, "geom", 100).await,
        0.001
    ));
    let f = get_json(&format!("{items}/100")).await;
    assert!(coords_close(
        &f["geometry"]["coordinates"],
        &sql_geojson(&db, "ST_Transform(geom, 4326)", 100).await,
        1e-8
    ));
    let r = reqwest::get(format!(
        "{items}/100?crs=http://www.opengis.net/def/crs/EPSG/0/4326"
    ))
    .await
    .unwrap();
    assert_eq!(
        r.headers()["content-crs"],
        "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    );
    let f: Value = r.json().await.unwrap();
    assert!(coords_close(
        &f["geometry"]["coordinates"],
        &sql_geojson(&db, "ST_FlipCoordinates(ST_Transform(geom, 4326))", 100).await,
        1e-8
    ));
    assert!(f["properties"]["dia_chi"]
        .as_str()
        .unwrap()
        .contains("thành phố Mỹ Tho"));
    assert!(f["properties"].get("ten_chu").is_none() && f["properties"].get("so_gcn").is_none());

    // bbox (CRS84) + CQL2 text filter: numberMatched equals SQL; paging links.
    let (w, s, e, n) = (106.35, 10.34, 106.36, 10.35);
    let q = format!("{items}?bbox={w},{s},{e},{n}&filter=loai_dat%20IN%20('LUC','CLN')&limit=7");
    let page = get_json(&q).await;
    let want: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM geokho_data.thua_dat WHERE geom && ST_Transform(ST_MakeEnvelope($1, $2, $3, $4, 4326), 9210) AND loai_dat IN ('LUC','CLN')",
    )
    .bind(w)
    .bind(s)
    .bind(e)
    .bind(n)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(want > 7);
    assert_eq!(page["numberMatched"].as_i64(), Some(want));
    assert_eq!(page["numberReturned"].as_i64(), Some(7));
    let next = page["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .expect("next link");
    let page2 = get_json(next["href"].as_str().unwrap()).await;
    assert_ne!(page2["features"][0]["id"], page["features"][0]["id"]);
    assert!(page2["links"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["rel"] == "prev"));
    // The same filter in CQL2 JSON.
    let json_filter = r#"{"op":"in","args":[{"property":"loai_dat"},["LUC","CLN"]]}"#;
    let page = get_json(&format!(
        "{items}?bbox={w},{s},{e},{n}&filter-lang=cql2-json&filter={}&limit=1",
        urlencode(json_filter)
    ))
    .await;
    assert_eq!(page["numberMatched"].as_i64(), Some(want));

    // Queryables: public fields only.
    let qa = get_json(&format!("{base}/ogc/collections/thua_dat/queryables")).await;
    assert!(
        qa["properties"].get("loai_dat").is_some() && qa["properties"].get("ten_chu").is_none()
    );

    // Bad input: 400 naming the parameter; unknown things: 404.
    for (q, param) in [
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("crs=http://www.opengis.net/def/crs/EPSG/0/2154", "crs"),
        ("bbox-crs=nonsense", "bbox-crs"),
        ("filter=ten_chu%3D'x'", "filter"),
        ("filter-lang=sql", "filter-lang"),
        ("limit=0", "limit"),
        ("limit=-5", "limit"),
        ("properties=ten_chu", "properties"),
    ] {
        let r = reqwest::get(format!("{items}?{q}")).await.unwrap();
        assert_eq!(r.status(), 400, "{q}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        assert_eq!(r.json::<Value>().await.unwrap()["parameter"], param, "{q}");
    }
    assert_eq!(
        reqwest::get(format!("{items}/99999999"))
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        reqwest::get(format!("{base}/ogc/collections/khong_co/items"))
            .await
            .unwrap()
            .status(),
        404
    );
    let big = get_json(&format!("{items}?limit=100000")).await;
    assert_eq!(
        big["numberReturned"].as_u64(),
        Some(features::MAX_LIMIT.min(5358) as u64)
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
