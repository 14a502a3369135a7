//! Seeding into the shared tile store (served after a restart, purged when a
//! new version lands) and exporting PMTiles / MBTiles that other readers open:
//! the protomaps Python reader for PMTiles and GDAL for MBTiles.

use crate::common;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::{fetch_tile, import_samples, sample_layer, start_server};
use testkit::{temp_dir, TestDb};
use tiles::{Format, TileCoord};

async fn layer(db: &TestDb, name: &str) -> Arc<catalog::Layer> {
    Arc::new(catalog::get_layer(&db.pool, name).await.unwrap().unwrap())
}

/// Each layer with its public fields, unfiltered: what anonymous tiles hold.
fn public_tile_layers(ls: &[Arc<catalog::Layer>]) -> Vec<tiles::TileLayer<'_>> {
    ls.iter()
        .map(|l| tiles::TileLayer {
            layer: l,
            fields: l.public_fields().collect(),
            filter: None,
        })
        .collect()
}

/// tests/tools/pmtiles_read.py on a file or an http:// URL, with tile `c`
/// (run off the runtime's thread: a test may serve the URL on it).
async fn pmtiles_read(target: &std::ffi::OsStr, c: TileCoord) -> serde_json::Value {
    let out = tokio::process::Command::new("python3")
        .arg(testkit::repo_root().join("tests/tools/pmtiles_read.py"))
        .arg(target)
        .args([c.z.to_string(), c.x.to_string(), c.y.to_string()])
        .output()
        .await
        .expect("python3 runs");
    testkit::assert_success(&out, "pmtiles reader (pip pmtiles, installed by make test)");
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn stored(db: &TestDb, like: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM geokho.tile_store WHERE layers LIKE $1")
        .bind(like)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn seeded_tiles_survive_a_restart_and_are_purged_by_a_new_version() {
    let db = TestDb::new("seed").await;
    import_samples(&db).await;
    let parcels = layer(&db, "thua_dat").await;
    let b = parcels.bounds.unwrap();
    let rep = tiles::seed(&db.pool, parcels.clone(), (13, 15), None, 4, || {})
        .await
        .unwrap();
    assert_eq!(rep.tiles, tiles::count_tiles(b, 13, 15));
    assert!(rep.tiles > 10 && rep.bytes > 100_000, "{rep:?}");
    let key = format!("thua_dat@{}", parcels.version);
    assert_eq!(stored(&db, &key).await as u64, rep.tiles);

    // A server started after seeding serves the stored tile without rendering.
    let base = start_server(&db).await;
    let c = tiles::tiles_in(b, 15).nth(3).unwrap();
    let (h, body, d) = fetch_tile(
        &format!("{base}/tiles/thua_dat/15/{}/{}.mvt", c.x, c.y),
        15,
        c.x,
        c.y,
    )
    .await;
    assert_eq!(h["x-geokho-cache"], "store");
    let row: Vec<u8> = sqlx::query_scalar(
        "SELECT data FROM geokho.tile_store WHERE layers = $1 AND z = 15 AND x = $2 AND y = $3",
    )
    .bind(&key)
    .bind(c.x as i32)
    .bind(c.y as i32)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(body, row);
    assert_eq!(
        d.layers.first().map(|l| l.0.as_str()),
        if body.is_empty() {
            None
        } else {
            Some("thua_dat")
        }
    );

    // A new version: the running server purges the old version's stored tiles.
    let (files, opts) = sample_layer("thua_dat");
    importer::import_layer(&db.pool, &files, &opts)
        .await
        .unwrap();
    let mut left = -1;
    for _ in 0..50 {
        left = stored(&db, &key).await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "stale stored tiles deleted");
    let (h, _, _) = fetch_tile(
        &format!("{base}/tiles/thua_dat/15/{}/{}.mvt", c.x, c.y),
        15,
        c.x,
        c.y,
    )
    .await;
    assert_eq!(h["x-geokho-cache"], "miss");
}

#[tokio::test]
async fn exports_open_in_other_readers() {
    let db = TestDb::new("export").await;
    import_samples(&db).await;
    let ls = vec![layer(&db, "thua_dat").await, layer(&db, "duong_bo").await];
    let dir = temp_dir("export");

    let pm = dir.join("province.pmtiles");
    let rep = tiles::export(&db.pool, &ls, (12, 15), None, Format::PmTiles, &pm, 4)
        .await
        .unwrap();
    assert!(rep.tiles > 10);
    let c: TileCoord = tiles::tiles_in(ls[0].bounds.unwrap(), 15).nth(2).unwrap();
    let v = pmtiles_read(pm.as_os_str(), c).await;
    assert_eq!(v["tile_type"], "TileType.MVT");
    assert_eq!(v["compression"], "Compression.GZIP");
    assert_eq!(
        (v["min_zoom"].as_u64(), v["max_zoom"].as_u64()),
        (Some(12), Some(15))
    );
    assert_eq!(v["tiles"].as_u64(), Some(rep.tiles));
    assert_eq!(
        v["vector_layers"],
        serde_json::json!(["thua_dat", "duong_bo"])
    );
    let tl = public_tile_layers(&ls);
    let direct = tiles::render(&db.pool, &tl, c, tiles::TILE_BUDGET)
        .await
        .unwrap();
    let hex: String = direct.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        v["tile"].as_str(),
        Some(hex.as_str()),
        "the stored tile equals a fresh render"
    );

    // Static storage / CDN read path: any server answering HTTP Range
    // requests (here tower-http's file service, as nginx or object storage
    // would) serves the same file to a reader fetching only byte ranges.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let files = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(&dir));
    tokio::spawn(async move { axum::serve(listener, files).await.unwrap() });
    let url = format!("http://{addr}/province.pmtiles");
    let mut over_http = pmtiles_read(url.as_ref(), c).await;
    assert!(over_http["requests"].as_u64().unwrap() >= 3);
    over_http.as_object_mut().unwrap().remove("requests");
    over_http.as_object_mut().unwrap().remove("bytes");
    assert_eq!(over_http, v, "the same answers by byte ranges over HTTP");

    let mb = dir.join("province.mbtiles");
    let rep2 = tiles::export(&db.pool, &ls, (12, 15), None, Format::MbTiles, &mb, 4)
        .await
        .unwrap();
    assert_eq!(rep2.tiles, rep.tiles);
    let out = Command::new("ogrinfo")
        .args(["-ro", "-al", "-oo", "ZOOM_LEVEL=15"])
        .arg(&mb)
        .output()
        .expect("ogrinfo runs");
    testkit::assert_success(&out, "ogrinfo of the MBTiles export");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Layer name: thua_dat") && text.contains("Layer name: duong_bo"));
    assert!(
        text.contains("thành phố Mỹ Tho"),
        "Vietnamese text intact in the MBTiles"
    );
    assert!(!text.contains("ten_chu"));

    // The CLI names each export by data version, for CDN caching forever.
    let out = Command::new(env!("CARGO_BIN_EXE_geokho"))
        .args([
            "export",
            "--layers",
            "duong_bo",
            "--minzoom",
            "12",
            "--maxzoom",
            "13",
        ])
        .args(["--format", "pmtiles", "--out"])
        .arg(dir.join("roads-v{version}.pmtiles"))
        .env("DATABASE_URL", &db.url)
        .env("GEOKHO_LOG", "warn")
        .output()
        .unwrap();
    testkit::assert_success(&out, "geokho export");
    let want = dir.join(format!("roads-v{}.pmtiles", ls[1].version));
    assert!(want.is_file(), "{} written", want.display());
}

/// Overviews: a server keeping them stores every layer's tiles up to z12 at
/// start, serves composites of those layers from the store (the layers'
/// stored tiles concatenated, the same features as a fresh composite
/// render), and stores the overview of a new version when it is announced.
#[tokio::test]
async fn overviews_are_stored_at_start_and_for_each_new_version() {
    let db = TestDb::new("overview").await;
    import_samples(&db).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = api::AppState::new(db.pool.clone(), None, 64 << 20)
        .await
        .unwrap()
        .with_overviews(true);
    state.follow_changes();
    let app = api::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let complete = |l: Arc<catalog::Layer>| {
        let db = &db;
        async move {
            let (minz, maxz) = tiles::overview_zooms(&l).unwrap();
            let want = tiles::count_tiles(l.bounds.unwrap(), minz, maxz) as i64;
            let key = format!("{}@{}", l.name, l.version);
            for _ in 0..600 {
                if stored(db, &key).await == want {
                    return (minz, maxz);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!(
                "overview of {key} not stored: {} of {want}",
                stored(db, &key).await
            );
        }
    };
    let roads = layer(&db, "duong_bo").await;
    let communes = layer(&db, "ranh_gioi").await;
    assert_eq!(complete(roads.clone()).await.1, 12);
    assert_eq!(complete(communes.clone()).await.1, 12);

    // A composite at z11 comes from the stored tiles, with the features a
    // composite render has.
    let c = tiles::tiles_in(roads.bounds.unwrap(), 11).next().unwrap();
    let url = format!("{base}/tiles/duong_bo,ranh_gioi/11/{}/{}.mvt", c.x, c.y);
    let (h, body, d) = fetch_tile(&url, 11, c.x, c.y).await;
    assert_eq!(h["x-geokho-cache"], "store");
    let ls = [roads.clone(), communes.clone()];
    let tl = public_tile_layers(&ls);
    let fresh = tiles::render(&db.pool, &tl, c, tiles::TILE_BUDGET)
        .await
        .unwrap();
    let file = temp_dir("overview").join("fresh.mvt");
    std::fs::write(&file, &fresh).unwrap();
    let want = common::ogr_decode(&file, 11, c.x, c.y);
    assert!(want.layers.len() == 2 && want.layers.iter().all(|l| l.1 > 0));
    assert_eq!(
        d.layers, want.layers,
        "same layers and features as a render"
    );
    assert!(!body.is_empty());

    // A new version of the roads: its overview is stored, the old one deleted.
    let (files, opts) = sample_layer("duong_bo");
    importer::import_layer(&db.pool, &files, &opts)
        .await
        .unwrap();
    let newer = layer(&db, "duong_bo").await;
    assert!(newer.version > roads.version);
    complete(newer).await;
    assert_eq!(stored(&db, &format!("duong_bo@{}", roads.version)).await, 0);
}
