//! Warehouses near a point: nearest first, filters honoured, distances equal
//! PostGIS's in the layer's projection, bad input refused.

use crate::common;

use common::{get_json, import_samples, start_server};
use testkit::TestDb;

#[tokio::test]
async fn warehouses_near_a_point() {
    let db = TestDb::new("logistics").await;
    import_samples(&db).await;
    let base = start_server(&db).await;
    let (lon, lat) = (106.357, 10.348);
    let near = format!("{base}/logistics/warehouses/near?lon={lon}&lat={lat}");

    let all = get_json(&format!("{near}&limit=10")).await;
    let f = all["features"].as_array().unwrap();
    assert_eq!(f.len(), 10);
    let d: Vec<f64> = f
        .iter()
        .map(|x| x["distance_m"].as_f64().unwrap())
        .collect();
    assert!(d.windows(2).all(|w| w[0] <= w[1]), "nearest first: {d:?}");
    let want: Vec<f64> = sqlx::query_scalar(
        "SELECT ST_Distance(geom, ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 4326), 9210)) \
         FROM geokho_data.kho_bai ORDER BY 1 LIMIT 10",
    )
    .bind(lon)
    .bind(lat)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(d.len(), want.len());
    assert!(
        d.iter().zip(&want).all(|(a, b)| (a - b).abs() <= 0.051),
        "{d:?} vs {want:?}"
    );

    let cold = get_json(&format!("{near}&loai_kho=Kho%20l%E1%BA%A1nh&min_suc_chua=5000&dich_vu=b%E1%BB%91c%20x%E1%BA%BFp&limit=100")).await;
    let rows = cold["features"].as_array().unwrap();
    let expected: i64 = sqlx::query_scalar("SELECT count(*) FROM geokho_data.kho_bai WHERE loai_kho = 'Kho lạnh' AND suc_chua >= 5000 AND dich_vu LIKE '%bốc xếp%'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(expected > 0);
    assert_eq!(rows.len() as i64, expected);
    for r in rows {
        assert_eq!(r["properties"]["loai_kho"], "Kho lạnh");
        assert!(r["properties"]["suc_chua"].as_f64().unwrap() >= 5000.0);
        assert!(r["properties"]["dich_vu"]
            .as_str()
            .unwrap()
            .contains("bốc xếp"));
    }

    for q in [
        "",
        "?lon=x&lat=1",
        "?lon=200&lat=1",
        "?lon=106&lat=10&limit=0",
        "?lon=106&lat=10&limit=1000",
        "?lon=106&lat=10&min_suc_chua=abc",
    ] {
        let r = reqwest::get(format!("{base}/logistics/warehouses/near{q}"))
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{q}");
    }
}
