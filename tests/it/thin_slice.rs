//! The thin slice end to end: the sample province imported into a real
//! PostGIS, served over HTTP; /catalog lists every layer, each TileJSON is
//! linked, and a tile from the TileJSON URL decodes with an independent
//! decoder (GDAL's MVT driver, via ogrinfo) to PostGIS's feature count with
//! Vietnamese text intact and restricted fields absent.

use crate::common;

use common::{fetch_tile, get_json, import_samples, start_server};
use testkit::TestDb;

#[tokio::test]
async fn catalog_tilejson_and_tiles_serve_the_sample_province() {
    let db = TestDb::new("slice").await;
    import_samples(&db).await;
    let base = start_server(&db).await;

    let cat = get_json(&format!("{base}/catalog")).await;
    let ids: Vec<&str> = cat["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "cang_ben",
            "cau",
            "duong_bo",
            "kho_bai",
            "phan_anh",
            "quy_dat",
            "quy_hoach_sdd",
            "ranh_gioi",
            "thua_dat"
        ]
    );
    for l in cat["layers"].as_array().unwrap() {
        let tj = get_json(l["tilejson"].as_str().unwrap()).await;
        assert_eq!(tj["tilejson"], "3.0.0");
        assert_eq!(tj["vector_layers"][0]["id"], l["id"]);
    }
    let parcels = cat["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "thua_dat")
        .unwrap();
    let names: Vec<&str> = parcels["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"dia_chi") && !names.contains(&"ten_chu") && !names.contains(&"so_gcn"),
        "{names:?}"
    );

    // No text was cut inside a UTF-8 character anywhere (U+FFFD would show it).
    for l in &ids {
        let broken: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM geokho_data.{l} t WHERE t::text LIKE '%' || chr(65533) || '%'"
        ))
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert_eq!(broken, 0, "{l} has replacement characters");
    }

    let tj = get_json(parcels["tilejson"].as_str().unwrap()).await;
    assert!(tj["vector_layers"][0]["fields"].get("ten_chu").is_none());
    let template = tj["tiles"][0].as_str().unwrap();

    // The z16 tile holding a parcel of the TCVN3 commune, and that parcel's address.
    let (lon, lat, addr): (f64, f64, String) = sqlx::query_as(
        "SELECT ST_X(p), ST_Y(p), dia_chi FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) p, dia_chi \
         FROM geokho_data.thua_dat WHERE ma_xa = '28267' ORDER BY fid LIMIT 1 OFFSET 40) s",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let c = tiles::TileCoord::containing(lon, lat, 16);
    let url = template
        .replace("{z}", "16")
        .replace("{x}", &c.x.to_string())
        .replace("{y}", &c.y.to_string());
    let (headers, _, decoded) = fetch_tile(&url, 16, c.x, c.y).await;
    assert_eq!(
        headers["content-type"],
        "application/vnd.mapbox-vector-tile"
    );
    let expected: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM geokho_data.thua_dat \
         WHERE ST_Intersects(geom_3857, ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096))",
    )
    .bind(16)
    .bind(c.x as i32)
    .bind(c.y as i32)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(expected > 0);
    assert_eq!(
        decoded.layers,
        vec![("thua_dat".to_string(), expected as usize)],
        "features in the tile vs PostGIS"
    );
    assert!(
        decoded.text.contains(&format!("dia_chi (String) = {addr}")),
        "address '{addr}' intact in the decoded tile"
    );
    assert!(addr.contains("Tân Mỹ Chánh"));
    assert!(
        !decoded.text.contains("ten_chu"),
        "restricted field leaked into a tile"
    );

    // Errors are problem+json.
    let r = reqwest::get(format!("{base}/tiles/thua_dat/3/9/0.mvt"))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = reqwest::get(format!("{base}/tiles/khong_co/3/1/1.mvt"))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
