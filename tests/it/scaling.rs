//! Scale-out with the real binary (loopback only, bounded in time): a
//! primary cluster, a streaming standby of it, and two `geokho serve`
//! processes reading from the standby. Proves that
//! - reads go to the standby once it holds the announced versions;
//! - an import on the primary becomes visible through both servers;
//! - a lagging standby never serves an older version's rows under the newer
//!   announcement: the new version waits for it (up to --replica-max-wait),
//!   then is served from the primary until the standby catches up;
//! - a key revoked through one server is refused by the other;
//! - the standby going down leaves service on the primary, without a
//!   failed request (reads that fail on it are retried on the primary).
//!
//! The figures it prints (`scale:` lines, run with --nocapture) are the
//! ones recorded in docs/scaling.md.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::cluster::{command, import, status, Cluster, Server};

const BIN: &str = env!("CARGO_BIN_EXE_geokho");

fn warehouses(file: &str) -> Vec<&str> {
    vec![
        "--layer",
        "kho_bai",
        "--kind",
        "warehouses",
        "--srs",
        "vn2000:tien-giang",
        file,
    ]
}

async fn json(url: &str, key: Option<&str>) -> (u16, Value) {
    let mut r = reqwest::Client::new().get(url);
    if let Some(k) = key {
        r = r.bearer_auth(k);
    }
    let r = r.send().await.unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap_or(Value::Null))
}

/// The standby's state as a server reports it on /ready.
async fn replica_state(srv: &Server) -> String {
    let (_, v) = json(&format!("{}/ready", srv.base), None).await;
    v["replicas"][0]["state"]
        .as_str()
        .unwrap_or("?")
        .to_string()
}

/// (version, feature_count) of kho_bai as the server announces it.
async fn announced(srv: &Server) -> (i64, i64) {
    let (_, v) = json(&format!("{}/catalog", srv.base), None).await;
    let l = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "kho_bai")
        .unwrap()
        .clone();
    (
        l["version"].as_i64().unwrap(),
        l["feature_count"].as_i64().unwrap(),
    )
}

/// Rows of kho_bai in the database the server reads from.
async fn served_rows(srv: &Server) -> i64 {
    let url = format!("{}/ogc/collections/kho_bai/items?limit=1", srv.base);
    let (code, v) = json(&url, None).await;
    assert_eq!(code, 200, "{url}: {v}");
    v["numberMatched"].as_i64().unwrap()
}

/// (announced version, its feature count, rows read), with the
/// announcement unchanged around the read.
async fn observe(srv: &Server) -> (i64, i64, i64) {
    loop {
        let before = announced(srv).await;
        let rows = served_rows(srv).await;
        if announced(srv).await == before {
            return (before.0, before.1, rows);
        }
    }
}

/// Never older rows under a newer announcement: the rows read are the
/// announced version's, or the next version's (`next`: its row count) while
/// the server has not yet learned of it, the window a single primary has
/// between an import's commit and its NOTIFY.
async fn consistent(srv: &Server, next: Option<i64>) -> (i64, i64) {
    let (v, n, rows) = observe(srv).await;
    assert!(
        rows == n || Some(rows) == next,
        "{}: announces version {v} with {n} features but reads {rows} rows",
        srv.base
    );
    (v, n)
}

/// The rows read are exactly the announced version's.
async fn exact(srv: &Server) -> (i64, i64) {
    consistent(srv, None).await
}

async fn wait_for<F, Fut>(what: &str, limit: Duration, mut ok: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let t0 = Instant::now();
    while !ok().await {
        assert!(t0.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    t0.elapsed()
}

fn psql(c: &Cluster, sql: &str) -> String {
    let out = std::process::Command::new("psql")
        .args(["-X", "-qtA", &c.url(), "-c", sql])
        .output()
        .unwrap();
    assert!(out.status.success(), "{sql}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn create_key(c: &Cluster, name: &str) -> (i64, String) {
    let out = command(
        BIN,
        &c.url(),
        &["keys", "create", "--name", name, "--scopes", "admin"],
    )
    .stdout(Stdio::piped())
    .output()
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    // "key {id} for {name}: {secret}"
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text.lines().next().unwrap();
    let id = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let secret = line.rsplit(' ').next().unwrap().to_string();
    (id, secret)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_standby_and_two_servers() {
    let primary = Cluster::start("scale-primary");
    import(
        BIN,
        &primary.url(),
        &warehouses("data-samples/kho_bai/kho_bai.shp"),
    );
    // A smaller second version of the same layer, to tell versions apart.
    let tmp = testkit::temp_dir("scale-subset");
    let subset = tmp.join("kho_bai.shp");
    let st = std::process::Command::new("ogr2ogr")
        .args(["-limit", "50"])
        .arg(&subset)
        .arg(testkit::repo_root().join("data-samples/kho_bai/kho_bai.shp"))
        .status()
        .unwrap();
    assert!(st.success(), "ogr2ogr subset");
    let subset = subset.to_str().unwrap().to_string();

    let standby = Cluster::standby("scale-standby", &primary);
    let (standby_label, standby_url) = (format!("127.0.0.1:{}", standby.port), standby.url());
    // The checks below poll in tight loops: no rate limit may answer them.
    let args = [
        "--replica",
        &standby_url,
        "--replica-max-wait",
        "4",
        "--rate-ip",
        "1000000",
    ];
    let a = Server::start(BIN, &primary.url(), &args).await;
    let b = Server::start(BIN, &primary.url(), &args).await;
    let both = [&a, &b];

    // 1. Reads go to the standby once it is in sync.
    for s in both {
        wait_for("standby in sync", Duration::from_secs(10), || async {
            replica_state(s).await == "in_sync"
        })
        .await;
        for _ in 0..5 {
            assert_eq!(exact(s).await.1, 200);
        }
        let m = reqwest::get(format!("{}/metrics", s.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let needle = format!("geokho_db_reads_total{{target=\"{standby_label}\"}}");
        let reads: f64 = m
            .lines()
            .find_map(|l| l.strip_prefix(&needle))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0);
        assert!(reads >= 5.0, "reads counted on the standby: {reads}\n{m}");
    }

    // 2. An import on the primary becomes visible through both servers.
    let (v1, _) = announced(&a).await;
    import(BIN, &primary.url(), &warehouses(&subset));
    let t = Instant::now();
    for s in both {
        wait_for(
            "new version on both servers",
            Duration::from_secs(5),
            || async { consistent(s, Some(50)).await == (v1 + 1, 50) },
        )
        .await;
    }
    eprintln!(
        "scale: import visible through both servers (from the standby) {} ms after the import ended",
        t.elapsed().as_millis()
    );
    for s in both {
        assert_eq!(replica_state(s).await, "in_sync");
    }

    // 3. A lagging standby: the new version waits for it, rows and
    //    announcement always agree, then the primary serves it.
    psql(&standby, "SELECT pg_wal_replay_pause()");
    import(
        BIN,
        &primary.url(),
        &warehouses("data-samples/kho_bai/kho_bai.shp"),
    );
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(2500) {
        for s in both {
            assert_eq!(exact(s).await, (v1 + 1, 50), "waits for the standby");
        }
    }
    for s in both {
        wait_for(
            "announced after max wait",
            Duration::from_secs(8),
            || async { consistent(s, Some(200)).await == (v1 + 2, 200) },
        )
        .await;
        assert_eq!(replica_state(s).await, "behind");
    }
    eprintln!(
        "scale: with replay paused, the new version was announced (served by the primary) after {} ms (--replica-max-wait 4)",
        t.elapsed().as_millis()
    );
    psql(&standby, "SELECT pg_wal_replay_resume()");
    let t = Instant::now();
    for s in both {
        wait_for("standby back in sync", Duration::from_secs(5), || async {
            replica_state(s).await == "in_sync"
        })
        .await;
        assert_eq!(exact(s).await, (v1 + 2, 200));
    }
    eprintln!(
        "scale: standby re-admitted {} ms after replay resumed",
        t.elapsed().as_millis()
    );

    // 4. A key revoked through one server is refused by the other.
    let (_, admin) = create_key(&primary, "scale admin");
    let (victim_id, victim) = create_key(&primary, "scale victim");
    for s in both {
        assert_eq!(
            json(&format!("{}/catalog", s.base), Some(&victim)).await.0,
            200
        );
    }
    let r = reqwest::Client::new()
        .delete(format!("{}/admin/keys/{victim_id}", a.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let took = wait_for(
        "revocation on the other server",
        Duration::from_secs(5),
        || async { json(&format!("{}/catalog", b.base), Some(&victim)).await.0 == 401 },
    )
    .await;
    eprintln!(
        "scale: key revoked through server A refused by server B after {} ms",
        took.as_millis()
    );

    // 5. The standby goes down: service stays on the primary.
    standby.stop();
    let t = Instant::now();
    let failed = std::cell::Cell::new(0);
    for s in both {
        wait_for("standby seen down", Duration::from_secs(8), || async {
            if status(&format!("{}/ogc/collections/kho_bai/items?limit=1", s.base)).await != 200 {
                failed.set(failed.get() + 1);
            }
            replica_state(s).await == "down"
        })
        .await;
    }
    eprintln!(
        "scale: standby stopped; both servers saw it down after {} ms, {} requests failed meanwhile",
        t.elapsed().as_millis(),
        failed.get()
    );
    assert_eq!(
        failed.get(),
        0,
        "reads that fail on the stopped standby are retried on the primary"
    );
    for s in both {
        for _ in 0..20 {
            assert_eq!(exact(s).await, (v1 + 2, 200));
        }
        assert_eq!(status(&format!("{}/ready", s.base)).await, 200);
    }
    let _ = std::fs::remove_dir_all(tmp);
}
