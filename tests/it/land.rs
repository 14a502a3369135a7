//! Land officers' look-ups against PostGIS: a parcel by its legal key and at
//! a point (lon/lat and VN-2000 x/y) is the right parcel with its legal area
//! in VN-2000; the planning report's overlaps sum to the parcel where the
//! plan covers it and equal PostGIS intersections in the native projection.

use crate::common;

use common::{get_json, import_samples, start_server};
use testkit::TestDb;

#[tokio::test]
async fn parcel_lookups_and_planning_report() {
    let db = TestDb::new("land").await;
    import_samples(&db).await;
    let base = start_server(&db).await;

    let (fid, ma_xa, so_to, so_thua, area, x, y, lon, lat): (i64, String, i32, i32, f64, f64, f64, f64, f64) = sqlx::query_as(
        "SELECT fid, ma_xa, so_to, so_thua, ST_Area(geom), ST_X(p), ST_Y(p), ST_X(ST_Transform(p, 4326)), ST_Y(ST_Transform(p, 4326)) \
         FROM (SELECT *, ST_PointOnSurface(geom) p FROM geokho_data.thua_dat WHERE ma_xa = '28267' ORDER BY fid OFFSET 321 LIMIT 1) s",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();

    let p = get_json(&format!("{base}/land/parcels/{ma_xa}/{so_to}/{so_thua}")).await;
    assert_eq!(p["id"].as_i64(), Some(fid));
    assert!((p["legal_area_m2"].as_f64().unwrap() - area).abs() < 0.06);
    assert_eq!(p["area_srid"], 9210);
    assert!(p["properties"].get("ten_chu").is_none());
    assert!(p["properties"]["dia_chi"]
        .as_str()
        .unwrap()
        .contains("Tân Mỹ Chánh"));

    let at = get_json(&format!("{base}/land/parcels/at?lon={lon}&lat={lat}")).await;
    assert_eq!(at["id"].as_i64(), Some(fid));
    let at = get_json(&format!("{base}/land/parcels/at?x={x}&y={y}")).await;
    assert_eq!(at["id"].as_i64(), Some(fid), "VN-2000 x/y");

    let r = get_json(&format!("{base}/land/parcels/{fid}/planning")).await;
    assert!((r["parcel"]["legal_area_m2"].as_f64().unwrap() - area).abs() < 0.06);
    let overlaps = r["overlaps"].as_array().unwrap();
    let planning: Vec<_> = overlaps
        .iter()
        .filter(|o| o["kind"] == "planning")
        .collect();
    assert!(!planning.is_empty());
    // Planning zones tile the whole sample: their overlaps sum to the parcel.
    let sum: f64 = planning
        .iter()
        .map(|o| o["share_pct"].as_f64().unwrap())
        .sum();
    assert!((sum - 100.0).abs() < 0.1, "planning shares sum to {sum}");
    let first = planning[0];
    let want: f64 = sqlx::query_scalar(
        "SELECT ST_Area(ST_Intersection(z.geom, p.geom)) FROM geokho_data.thua_dat p, geokho_data.quy_hoach_sdd z WHERE p.fid = $1 AND z.fid = $2",
    )
    .bind(fid)
    .bind(first["id"].as_i64().unwrap())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!((first["overlap_m2"].as_f64().unwrap() - want).abs() < 0.06);
    assert!(first["properties"]["ky_quy_hoach"] == "2021-2030");

    // Bad input and misses.
    for (q, status) in [
        ("/land/parcels/at?lon=500&lat=10", 400),
        ("/land/parcels/at?lon=abc&lat=10", 400),
        ("/land/parcels/at?x=1&y=2&srid=2154", 400),
        ("/land/parcels/at?lon=106.0&lat=10.0", 404),
        ("/land/parcels/28267/x/1", 400),
        ("/land/parcels/28267/1/999999", 404),
        ("/land/parcels/abc/planning", 400),
        ("/land/parcels/99999999/planning", 404),
    ] {
        let resp = reqwest::get(format!("{base}{q}")).await.unwrap();
        assert_eq!(resp.status(), status, "{q}");
        assert_eq!(
            resp.headers()["content-type"],
            "application/problem+json",
            "{q}"
        );
    }
}

/// Coordinates of a GeoJSON geometry, in order.
fn coords(v: &serde_json::Value, out: &mut Vec<f64>) {
    match v {
        serde_json::Value::Array(a) => a.iter().for_each(|x| coords(x, out)),
        serde_json::Value::Number(n) => out.push(n.as_f64().unwrap()),
        serde_json::Value::Object(o) => coords(&o["coordinates"], out),
        _ => panic!("not a geometry: {v}"),
    }
}

/// A parcel's WGS 84 geometry is taken from the Web Mercator column (a
/// cheaper transform for the database): for every sample parcel it equals
/// PostGIS's transform of the native VN-2000 geometry at the 8 decimals
/// sent (within one unit of the last decimal, for rounding ties).
#[tokio::test]
async fn parcel_geometry_equals_the_native_transform() {
    let db = TestDb::new("land_geometry").await;
    import_samples(&db).await;
    let pool = &db.pool;
    let l = catalog::list_layers(pool)
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.name == "thua_dat")
        .unwrap();
    let visible: Vec<&catalog::Field> = l.fields.iter().filter(|f| !f.restricted).collect();
    let rows: Vec<(i64, String, String, String, String)> = sqlx::query_as(
        "SELECT fid, ma_xa, so_to::text, so_thua::text, ST_AsGeoJSON(ST_Transform(geom, 4326), 8, 0) \
         FROM geokho_data.thua_dat ORDER BY fid",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(rows.len() > 1000, "{} parcels", rows.len());
    let (mut worst, mut differ) = (0f64, 0);
    for (fid, ma_xa, so_to, so_thua, native) in &rows {
        let p = features::parcel_by_key(pool, &l, &visible, [ma_xa, so_to, so_thua])
            .await
            .unwrap()
            .expect("the parcel by its key");
        let p = serde_json::to_value(&p).unwrap();
        assert_eq!(p["id"].as_i64(), Some(*fid));
        let (mut got, mut want) = (Vec::new(), Vec::new());
        coords(&p["geometry"], &mut got);
        coords(&serde_json::from_str(native).unwrap(), &mut want);
        assert_eq!(got.len(), want.len(), "parcel {fid}: vertices");
        for (a, b) in got.iter().zip(&want) {
            let d = (a - b).abs();
            worst = worst.max(d);
            differ += usize::from(d > 0.0);
            assert!(d <= 1.01e-8, "parcel {fid}: {a} vs {b}");
        }
    }
    eprintln!(
        "{} parcels: {differ} coordinates differ in the last decimal, largest difference {worst:e} degrees",
        rows.len()
    );
}
