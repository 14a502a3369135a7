//! The thin slice end to end: the sample province imported into a real
//! PostGIS, served over HTTP; /catalog lists every layer, each TileJSON is
//! linked, and a tile from the TileJSON URL decodes with an independent
//! decoder (GDAL's MVT driver, via ogrinfo) to PostGIS's feature count with
//! Vietnamese text intact and restricted fields absent.

use std::process::Command;

use importer::{import_layer, manifest, ImportOptions};
use serde_json::Value;
use testkit::{repo_root, temp_dir, TestDb};

async fn import_samples(db: &TestDb) {
    for l in manifest::load(&repo_root().join("data-samples/layers.toml")).expect("manifest") {
        let opts = ImportOptions {
            plan: l.plan,
            title: l.title,
            zoom: l.zoom,
            public: l.public,
            dry_run: false,
            if_changed: false,
            connections: 2,
        };
        import_layer(&db.pool, &l.files, &opts)
            .await
            .expect("sample layer imports");
    }
}

async fn start_server(db: &TestDb) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = api::router(api::AppState {
        pool: db.pool.clone(),
        public_url: None,
    });
    tokio::spawn(async move { axum_serve(listener, app).await });
    format!("http://{addr}")
}

async fn axum_serve(listener: tokio::net::TcpListener, app: axum::Router) {
    axum::serve(listener, app).await.unwrap();
}

async fn get_json(url: &str) -> Value {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    r.json().await.unwrap()
}

/// Decodes an MVT with ogrinfo: (layer name, feature count, full text dump).
fn ogr_decode(path: &std::path::Path, z: u32, x: u32, y: u32) -> (String, usize, String) {
    let out = Command::new("ogrinfo")
        .args([
            "-ro",
            "-al",
            "-oo",
            &format!("Z={z}"),
            "-oo",
            &format!("X={x}"),
            "-oo",
            &format!("Y={y}"),
        ])
        .arg(format!("MVT:{}", path.display()))
        .output()
        .expect("ogrinfo (gdal-bin) runs");
    assert!(
        out.status.success(),
        "ogrinfo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("ogrinfo prints UTF-8");
    let layer = text
        .lines()
        .find_map(|l| l.strip_prefix("Layer name: "))
        .unwrap_or_default()
        .to_string();
    let count = text
        .lines()
        .find_map(|l| l.strip_prefix("Feature Count: "))
        .map(|n| n.trim().parse().unwrap())
        .unwrap_or(0);
    (layer, count, text)
}

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
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.mapbox-vector-tile"
    );
    let body = r.bytes().await.unwrap();
    let file = temp_dir("tile").join("tile.mvt");
    std::fs::write(&file, &body).unwrap();

    let (layer, n, text) = ogr_decode(&file, 16, c.x, c.y);
    assert_eq!(layer, "thua_dat");
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
    assert!(n > 0);
    assert_eq!(n as i64, expected, "features in the tile vs PostGIS");
    assert!(
        text.contains(&format!("dia_chi (String) = {addr}")),
        "address '{addr}' intact in the decoded tile"
    );
    assert!(addr.contains("Tân Mỹ Chánh"));
    assert!(
        !text.contains("ten_chu"),
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
