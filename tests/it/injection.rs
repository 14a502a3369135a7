//! SQL injection attempts through layer names, field names (properties),
//! filters and sort keys get 4xx (or are ignored) and change nothing; and
//! random bbox / filter / layer strings over HTTP never get a 5xx.

use crate::common;

use common::{import_samples, start_server};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use testkit::TestDb;

const ATTACKS: &[&str] = &[
    "thua_dat; DROP TABLE geokho.layers; --",
    "thua_dat\" ; DROP TABLE geokho.layers; --",
    "x' OR '1'='1",
    "geokho_data.thua_dat",
    "../../etc/passwd",
    "thua_dat/**/UNION/**/SELECT/**/1",
    "pg_sleep(10)",
];

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn tables(db: &TestDb) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_tables WHERE schemaname IN ('geokho', 'geokho_data')",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn injection_attempts_change_nothing() {
    let db = TestDb::new("injection").await;
    import_samples(&db).await;
    let base = start_server(&db).await;
    let before = tables(&db).await;
    let parcels: i64 = sqlx::query_scalar("SELECT count(*) FROM geokho_data.thua_dat")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let c = reqwest::Client::new();
    for a in ATTACKS {
        let e = enc(a);
        let urls = [
            format!("{base}/tiles/{e}/14/13031/7718.mvt"),
            format!("{base}/tiles/thua_dat,{e}/14/13031/7718.mvt"),
            format!("{base}/tiles/{e}.json"),
            format!("{base}/ogc/collections/{e}/items"),
            format!("{base}/ogc/collections/thua_dat/items?properties={e}"),
            format!("{base}/ogc/collections/thua_dat/items?filter={e}"),
            format!("{base}/tiles/thua_dat/14/13031/7718.mvt?properties={e}"),
            format!("{base}/tiles/thua_dat/14/13031/7718.mvt?filter={e}"),
            format!("{base}/land/statistics?area_layer={e}&fid=1"),
            format!("{base}/land/parcels/near?of={e}&fid=1&distance_m=10"),
            format!("{base}/logistics/route?from=106.35,10.34&to=106.36,10.34&network={e}"),
            format!("{base}/logistics/warehouses/near?lon=106.35&lat=10.34&layer={e}"),
        ];
        for u in urls {
            let s = c.get(&u).send().await.unwrap().status();
            assert!(s.is_client_error(), "{u}: {s}");
        }
        // Sort keys are not a feature: the parameter is ignored, never SQL.
        let u = format!("{base}/ogc/collections/thua_dat/items?sortby={e}&limit=1");
        let s = c.get(&u).send().await.unwrap().status();
        assert!(s == 200 || s.is_client_error(), "{u}: {s}");
        // A literal is data: it matches nothing and harms nothing.
        let u = format!("{base}/ogc/collections/thua_dat/items?filter=loai_dat%20%3D%20%27{e}%27");
        let r = c.get(&u).send().await.unwrap();
        if r.status() == 200 {
            let v: serde_json::Value = r.json().await.unwrap();
            assert_eq!(v["numberMatched"], 0, "{u}");
        } else {
            assert!(r.status().is_client_error(), "{u}");
        }
        let u = format!("{base}/land/parcels/{e}/1/1");
        let s = c.get(&u).send().await.unwrap().status();
        assert!(s.is_client_error(), "{u}: {s}");
    }
    assert_eq!(tables(&db).await, before, "no table dropped or created");
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM geokho_data.thua_dat")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(after, parcels);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_query_strings_never_get_a_server_error() {
    let db = TestDb::new("fuzz_http").await;
    import_samples(&db).await;
    let base = start_server(&db).await;
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let number = prop_oneof![
        Just("1e400".to_string()),
        Just("NaN".to_string()),
        Just("-0".to_string()),
        "-?[0-9]{1,7}(\\.[0-9]{1,6})?",
        "[a-z,]{0,3}",
    ];
    let bbox = prop::collection::vec(number, 0..6).prop_map(|v| v.join(","));
    let text = "\\PC{0,40}";
    let strategy = (bbox, text, text, 0..4usize);
    let c = reqwest::Client::new();
    let rt = tokio::runtime::Handle::current();
    let result = tokio::task::block_in_place(|| {
        runner.run(&strategy, |(bbox, filter, layer, which)| {
            let url = match which {
                0 => format!("{base}/ogc/collections/thua_dat/items?bbox={}", enc(&bbox)),
                1 => format!(
                    "{base}/ogc/collections/thua_dat/items?filter={}",
                    enc(&filter)
                ),
                2 => format!(
                    "{base}/tiles/thua_dat/14/13031/7718.mvt?filter={}",
                    enc(&filter)
                ),
                _ => format!(
                    "{base}/ogc/collections/{}/items?bbox={}",
                    enc(&layer),
                    enc(&bbox)
                ),
            };
            let s = rt.block_on(async { c.get(&url).send().await.map(|r| r.status()) });
            let s = s.map_err(|e| TestCaseError::fail(format!("{url}: {e}")))?;
            prop_assert!(!s.is_server_error(), "{}: {}", url, s);
            Ok(())
        })
    });
    result.unwrap();
}
