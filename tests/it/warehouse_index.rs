//! Warehouses held in memory against the SQL they replace: for many points,
//! filters, limits and visible field sets the index returns exactly what
//! `features::warehouses_near` returns from PostGIS (ids, order, distances,
//! properties and geometry text); the server answers near searches from it
//! even while the table is locked; and after a new import it answers from
//! the new version.

use crate::common;

use std::time::Duration;

use catalog::{Field, Layer};
use common::{import_samples, sample_layer, start_server};
use features::{WarehouseFilter, WarehouseIndexes};
use serde_json::Value;
use sqlx::PgPool;
use testkit::TestDb;

async fn layer(pool: &PgPool, name: &str) -> Layer {
    catalog::list_layers(pool)
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.name == name)
        .unwrap()
}

/// The answer as JSON texts, in (distance, id) order: SQL orders equal
/// distances as it likes, the index by id.
fn texts(found: Vec<features::Warehouse>) -> Vec<(f64, i64, String)> {
    let mut v: Vec<(f64, i64, String)> = found
        .iter()
        .map(|w| {
            let j = serde_json::to_value(w).unwrap();
            (
                j["distance_m"].as_f64().unwrap(),
                j["id"].as_i64().unwrap(),
                serde_json::to_string(w).unwrap(),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    v
}

#[tokio::test]
async fn in_memory_near_equals_sql() {
    let db = TestDb::new("warehouse_index").await;
    import_samples(&db).await;
    let pool = &db.pool;
    let l = layer(pool, "kho_bai").await;
    let ix = WarehouseIndexes::default()
        .build(pool, &l)
        .await
        .unwrap()
        .expect("the sample warehouses (points, VN-2000) are indexed");
    assert_eq!(ix.version, l.version);
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM geokho_data.kho_bai WHERE geom IS NOT NULL")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(ix.len() as i64, n);

    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT loai_kho FROM geokho_data.kho_bai WHERE loai_kho IS NOT NULL ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(kinds.len() >= 2, "{kinds:?}");
    let filters = [
        WarehouseFilter::default(),
        WarehouseFilter {
            loai_kho: Some(kinds[0].clone()),
            ..Default::default()
        },
        WarehouseFilter {
            min_suc_chua: Some(5000.0),
            ..Default::default()
        },
        // Upper case: both sides lower the text.
        WarehouseFilter {
            dich_vu: Some("BỐC XẾP".into()),
            ..Default::default()
        },
        WarehouseFilter {
            loai_kho: Some(kinds[1].clone()),
            min_suc_chua: Some(2000.0),
            dich_vu: Some("kho".into()),
        },
        WarehouseFilter {
            loai_kho: Some("no such type".into()),
            ..Default::default()
        },
    ];
    let all: Vec<&Field> = l.fields.iter().collect();
    let some: Vec<&Field> = l
        .fields
        .iter()
        .filter(|f| f.name != "dich_vu")
        .step_by(2)
        .collect();
    let [w, s, e, n] = l.bounds.unwrap();
    let (mut compared, mut nonempty) = (0, 0);
    for i in 0..12 {
        for j in 0..12 {
            // A grid over the layer's bounds and a margin around them.
            let lon = w + (e - w) * (i as f64 / 11.0 * 1.4 - 0.2);
            let lat = s + (n - s) * (j as f64 / 11.0 * 1.4 - 0.2);
            let f = &filters[(i + j) % filters.len()];
            let visible = if (i + j) % 2 == 0 { &all } else { &some };
            let limit = [1, 10, 100][(i * 12 + j) % 3];
            if f.dich_vu.is_some() && !visible.iter().any(|x| x.name == "dich_vu") {
                continue;
            }
            let sql = features::warehouses_near(pool, &l, visible, (lon, lat), f, limit)
                .await
                .unwrap();
            let mem = ix.near(visible, (lon, lat), f, limit).unwrap().unwrap();
            nonempty += usize::from(!sql.is_empty());
            assert_eq!(texts(mem), texts(sql), "{lon} {lat} {f:?} limit {limit}");
            compared += 1;
        }
    }
    assert!(compared > 100 && nonempty > 60, "{compared} {nonempty}");

    // A filter on a field the caller cannot see: refused by both.
    let hidden = WarehouseFilter {
        dich_vu: Some("kho".into()),
        ..Default::default()
    };
    assert!(
        features::warehouses_near(pool, &l, &some, (w, s), &hidden, 5)
            .await
            .is_err()
    );
    assert!(ix.near(&some, (w, s), &hidden, 5).unwrap().is_err());
}

const NEAR: &str = "/logistics/warehouses/near?lon=106.357&lat=10.348&limit=100";

/// The server's near answer, `None` when none came within `wait`.
async fn near(base: &str, wait: Duration) -> Option<(u16, Value)> {
    let c = reqwest::Client::builder().timeout(wait).build().unwrap();
    let r = c.get(format!("{base}{NEAR}")).send().await.ok()?;
    Some((r.status().as_u16(), r.json().await.ok()?))
}

fn ids(v: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

/// The server's near answer while another transaction holds the warehouses
/// table exclusively: only an answer from memory can come back in time.
async fn near_while_locked(pool: &PgPool, base: &str, wait: Duration) -> Option<(u16, Value)> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE geokho_data.kho_bai IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .unwrap();
    let answer = near(base, wait).await;
    tx.rollback().await.unwrap();
    answer
}

#[tokio::test]
async fn the_server_answers_from_memory_and_follows_new_imports() {
    let db = TestDb::new("warehouse_index_server").await;
    import_samples(&db).await;
    let pool = &db.pool;
    let base = start_server(&db).await;
    let (st, v1) = near_while_locked(pool, &base, Duration::from_secs(3))
        .await
        .expect("answered within 3 s");
    assert_eq!(st, 200, "{v1}");
    assert!(ids(&v1).len() > 10, "{v1}");

    // Version 2: every other warehouse.
    let (files, opts) = sample_layer("kho_bai");
    let dir = testkit::temp_dir("warehouse_index_server");
    let out = dir.join("kho_bai.shp");
    let ok = std::process::Command::new("ogr2ogr")
        .args(["-lco", "ENCODING=UTF-8", "-dialect", "SQLite", "-sql"])
        .arg("SELECT * FROM kho_bai WHERE rowid % 2 = 0")
        .arg(&out)
        .arg(&files[0])
        .status()
        .unwrap();
    assert!(ok.success());
    for ext in ["prj", "cpg"] {
        let from = files[0].with_extension(ext);
        if from.exists() {
            std::fs::copy(from, out.with_extension(ext)).unwrap();
        }
    }
    importer::import_layer(pool, &[out], &opts).await.unwrap();
    let want: Vec<i64> = {
        let r: Vec<i64> = sqlx::query_scalar(
            "SELECT fid FROM geokho_data.kho_bai ORDER BY geom <-> \
             ST_Transform(ST_SetSRID(ST_MakePoint(106.357, 10.348), 4326), 9210) LIMIT 100",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let mut r = r;
        r.sort_unstable();
        r
    };
    assert!(want.len() > 10 && want != ids(&v1), "{want:?}");
    // The server learns of version 2 (NOTIFY) and builds its index.
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen = ids(&near(&base, Duration::from_secs(3))
            .await
            .expect("answered")
            .1);
        if seen == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, want);
    let mut v2 = Vec::new();
    for _ in 0..50 {
        if let Some((200, v)) = near_while_locked(pool, &base, Duration::from_millis(1500)).await {
            v2 = ids(&v);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(v2, want, "version 2 answered from memory");
}
