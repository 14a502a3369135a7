//! Tiles beyond the thin slice: attribute choice, CQL2 filters, composite
//! tiles, conditional requests and the cache, per-zoom generalisation and
//! the size budget, and purge on import across two running servers. Every
//! tile is decoded with GDAL and compared with PostGIS's own count.

use crate::common;

use common::{fetch_tile, get_json, import_samples, sample_layer, start_server};
use importer::import_layer;
use testkit::TestDb;
use tiles::TileCoord;

/// The z/x/y tile holding the first parcel of commune `ma_xa`.
async fn parcel_tile(db: &TestDb, ma_xa: &str, z: u8) -> TileCoord {
    let (lon, lat): (f64, f64) = sqlx::query_as(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) p FROM geokho_data.thua_dat \
         WHERE ma_xa = $1 ORDER BY fid LIMIT 1 OFFSET 100) s",
    )
    .bind(ma_xa)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    TileCoord::containing(lon, lat, z)
}

async fn count_in_tile(db: &TestDb, table: &str, c: TileCoord, cond: &str) -> usize {
    let n: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM geokho_data.{table} WHERE ST_Intersects(geom_3857, ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096)) AND {cond}"
    ))
    .bind(i32::from(c.z))
    .bind(c.x as i32)
    .bind(c.y as i32)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    n as usize
}

fn url(base: &str, layers: &str, c: TileCoord, query: &str) -> String {
    format!("{base}/tiles/{layers}/{}/{}/{}.mvt{query}", c.z, c.x, c.y)
}

#[tokio::test]
async fn properties_filters_composites_and_conditional_requests() {
    let db = TestDb::new("tiles").await;
    import_samples(&db).await;
    let base = start_server(&db).await;
    let c = parcel_tile(&db, "28261", 15).await;

    // ?properties narrows the attributes.
    let (_, _, d) = fetch_tile(
        &url(&base, "thua_dat", c, "?properties=loai_dat,so_thua"),
        15,
        c.x,
        c.y,
    )
    .await;
    assert!(
        d.text.contains("loai_dat (String)") && d.text.contains("so_thua (Integer"),
        "{}",
        &d.text[..400.min(d.text.len())]
    );
    assert!(!d.text.contains("dia_chi"));

    // ?filter in CQL2 text: same count as PostGIS with the same condition.
    let f = "loai_dat IN ('LUC','CLN') AND dien_tich > 800";
    let q = format!("?filter={}", urlencode(f));
    let (_, _, d) = fetch_tile(&url(&base, "thua_dat", c, &q), 15, c.x, c.y).await;
    let want = count_in_tile(
        &db,
        "thua_dat",
        c,
        "loai_dat IN ('LUC','CLN') AND dien_tich > 800",
    )
    .await;
    assert!(want > 0);
    assert_eq!(d.layers, vec![("thua_dat".into(), want)]);

    // Bad requests name the parameter.
    for (q, param) in [
        ("?properties=ten_chu", "properties"),
        ("?filter=ten_chu%20%3D%20%27a%27", "filter"),
        ("?filter=loai_dat%20%3D", "filter"),
        (
            "?filter=so_to%20%3D%20%27x%27%3B%20DROP%20TABLE%20x",
            "filter",
        ),
    ] {
        let r = reqwest::get(url(&base, "thua_dat", c, q)).await.unwrap();
        assert_eq!(r.status(), 400, "{q}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["parameter"], param, "{q}");
    }
    let deep = (0..80)
        .map(|i| format!("so_thua = {i}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let r = reqwest::get(url(
        &base,
        "thua_dat",
        c,
        &format!("?filter={}", urlencode(&deep)),
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 400, "over-complex filter");

    // A composite tile holds both layers, each with PostGIS's count.
    let (_, _, d) = fetch_tile(&url(&base, "thua_dat,duong_bo", c, ""), 15, c.x, c.y).await;
    let roads = count_in_tile(&db, "duong_bo", c, "true").await;
    let parcels = count_in_tile(&db, "thua_dat", c, "true").await;
    assert_eq!(
        d.layers,
        vec![("thua_dat".into(), parcels), ("duong_bo".into(), roads)]
    );

    // ETag, 304, cache hit.
    let u = url(&base, "thua_dat", c, "");
    let client = reqwest::Client::new();
    let r1 = client.get(&u).send().await.unwrap();
    let etag = r1.headers()["etag"].to_str().unwrap().to_string();
    let r2 = client.get(&u).send().await.unwrap();
    assert_eq!(r2.headers()["x-geokho-cache"], "hit");
    let r3 = client
        .get(&u)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r3.status(), 304);
    assert!(r3.bytes().await.unwrap().is_empty());
    // Compressed when the client asks.
    let r4 = client
        .get(&u)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r4.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn low_zooms_are_generalised_and_tiles_keep_to_the_budget() {
    let db = TestDb::new("general").await;
    import_samples(&db).await;
    let base = start_server(&db).await;
    // Simplified columns have fewer vertices than the full geometry.
    let (full, z11): (i64, i64) = sqlx::query_as("SELECT sum(ST_NPoints(geom_3857)), sum(ST_NPoints(geom_3857_z11)) FROM geokho_data.ranh_gioi")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(z11 * 2 < full, "z11 band keeps {z11} of {full} vertices");
    // At z8 roads shorter than a pixel are left out: exactly those with zmin <= 8.
    let (lon, lat): (f64, f64) = sqlx::query_as("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_Centroid(ST_Collect(geom)), 4326) p FROM geokho_data.duong_bo) s")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let c = TileCoord::containing(lon, lat, 8);
    let all = count_in_tile(&db, "duong_bo", c, "true").await;
    let visible = count_in_tile(&db, "duong_bo", c, "zmin <= 8").await;
    assert!(visible < all, "some road segments are below a pixel at z8");
    let (_, body, d) = fetch_tile(&url(&base, "duong_bo", c, ""), 8, c.x, c.y).await;
    let got = d.layers.first().map_or(0, |l| l.1);
    assert_eq!(got, visible, "{} bytes", body.len());
    // Parcels keep every corner at z13, so their band is not stored (NULL):
    // the z13 tile still holds every parcel there, read from geom_3857.
    let c13 = parcel_tile(&db, "28264", 13).await;
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(geom_3857_z13) FROM geokho_data.thua_dat WHERE ma_xa = '28264'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let parcels = count_in_tile(&db, "thua_dat", c13, "zmin <= 13").await;
    let (_, body, d) = fetch_tile(&url(&base, "thua_dat", c13, ""), 13, c13.x, c13.y).await;
    let got = d.layers.first().map_or(0, |l| l.1);
    assert!(
        parcels > 50 && (stored as usize) < parcels,
        "{stored} bands for {parcels} parcels"
    );
    assert_eq!(got, parcels, "z13 parcels tile, {} bytes", body.len());

    // A tiny budget drops features until the tile fits (or nothing is left).
    let layer = catalog::get_layer(&db.pool, "thua_dat")
        .await
        .unwrap()
        .unwrap();
    let t = tiles::TileLayer {
        layer: &layer,
        fields: layer.public_fields().collect(),
        filter: None,
    };
    let c12 = parcel_tile(&db, "28264", 12).await;
    let big = tiles::render(&db.pool, std::slice::from_ref(&t), c12, tiles::TILE_BUDGET)
        .await
        .unwrap();
    let small = tiles::render(&db.pool, std::slice::from_ref(&t), c12, big.len() / 4)
        .await
        .unwrap();
    assert!(
        big.len() > 20_000,
        "z12 parcels tile is {} bytes",
        big.len()
    );
    assert!(
        small.len() <= big.len() / 4,
        "budgeted tile {} bytes",
        small.len()
    );
    // Thinned in proportion, not emptied: about a quarter of the features remain.
    let count = |bytes: &[u8], name: &str| {
        let f = testkit::temp_dir(name).join("t.mvt");
        std::fs::write(&f, bytes).unwrap();
        common::ogr_decode(&f, 12, c12.x, c12.y)
            .layers
            .first()
            .map_or(0, |l| l.1)
    };
    let (nb, ns) = (count(&big, "big"), count(&small, "small"));
    assert!(ns * 8 >= nb && ns < nb, "{ns} of {nb} features kept");

    // Points cannot be thinned by size: the largest-first limit keeps the tile in budget, not empty.
    let wh = catalog::get_layer(&db.pool, "kho_bai")
        .await
        .unwrap()
        .unwrap();
    let t = tiles::TileLayer {
        layer: &wh,
        fields: wh.public_fields().collect(),
        filter: None,
    };
    let c10 = TileCoord::containing(
        (wh.bounds.unwrap()[0] + wh.bounds.unwrap()[2]) / 2.0,
        (wh.bounds.unwrap()[1] + wh.bounds.unwrap()[3]) / 2.0,
        10,
    );
    let full = tiles::render(&db.pool, std::slice::from_ref(&t), c10, tiles::TILE_BUDGET)
        .await
        .unwrap();
    let cut = tiles::render(&db.pool, std::slice::from_ref(&t), c10, full.len() / 5)
        .await
        .unwrap();
    assert!(full.len() > 10_000, "warehouse tile {} bytes", full.len());
    assert!(
        !cut.is_empty() && cut.len() <= full.len() / 5,
        "{} of {} bytes",
        cut.len(),
        full.len()
    );
}

#[tokio::test]
async fn an_import_purges_stale_tiles_on_every_running_server() {
    let db = TestDb::new("purge").await;
    import_samples(&db).await;
    let (a, b) = (start_server(&db).await, start_server(&db).await);
    let c = parcel_tile(&db, "28261", 15).await;
    let before = count_in_tile(&db, "thua_dat", c, "true").await;
    assert!(before > 0);
    for base in [&a, &b] {
        let (_, _, d) = fetch_tile(&url(base, "thua_dat", c, ""), 15, c.x, c.y).await;
        assert_eq!(d.layers[0].1, before);
        let (h, _, _) = fetch_tile(&url(base, "thua_dat", c, ""), 15, c.x, c.y).await;
        assert_eq!(h["x-geokho-cache"], "hit");
    }
    let v0 = get_json(&format!("{a}/catalog")).await["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "thua_dat")
        .unwrap()["version"]
        .as_i64()
        .unwrap();

    // A new version without commune 28261's parcels.
    let (files, opts) = sample_layer("thua_dat");
    let rest: Vec<_> = files
        .into_iter()
        .filter(|f| !f.to_string_lossy().contains("28261"))
        .collect();
    import_layer(&db.pool, &rest, &opts).await.unwrap();

    for base in [&a, &b] {
        let mut v = v0;
        for _ in 0..50 {
            let cat = get_json(&format!("{base}/catalog")).await;
            v = cat["layers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["id"] == "thua_dat")
                .unwrap()["version"]
                .as_i64()
                .unwrap();
            if v != v0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(v > v0, "{base} saw the new version");
        let (h, _, d) = fetch_tile(&url(base, "thua_dat", c, ""), 15, c.x, c.y).await;
        assert_eq!(h["x-geokho-cache"], "miss", "{base} rendered afresh");
        let now = count_in_tile(&db, "thua_dat", c, "true").await;
        assert!(now < before);
        assert_eq!(
            d.layers.first().map_or(0, |l| l.1),
            now,
            "{base} serves the new version"
        );
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
