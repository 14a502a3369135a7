//! Operations: /health and /ready, Prometheus /metrics, request ids, rate
//! limits per address and per key (429 + Retry-After), listening on IPv4
//! and IPv6 at once (also through `make run`'s script, whose busy-port check
//! covers every address), a clean exit on SIGTERM, and a database a newer
//! build migrated still opening (deploys can be rolled back).

use crate::common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{import_samples, start_server};
use testkit::TestDb;

#[tokio::test]
async fn health_ready_metrics_and_request_ids() {
    let db = TestDb::new("ops").await;
    import_samples(&db).await;
    let base = start_server(&db).await;
    let c = reqwest::Client::new();
    assert_eq!(
        c.get(format!("{base}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let ready = c.get(format!("{base}/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let id = ready.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(!id.is_empty());
    let r = c
        .get(format!("{base}/health"))
        .header("x-request-id", "client-chose-this")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "client-chose-this");

    for _ in 0..3 {
        c.get(format!("{base}/tiles/thua_dat/14/13031/7718.mvt"))
            .send()
            .await
            .unwrap();
    }
    for _ in 0..2 {
        let r = c
            .get(format!("{base}/land/parcels/at?lon=106.357&lat=10.348"))
            .send()
            .await
            .unwrap();
        assert!([200, 404].contains(&r.status().as_u16()));
    }
    let text = c
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let has = |needle: &str| {
        text.lines()
            .any(|l| l.starts_with("geokho") && l.contains(needle))
    };
    assert!(
        has("geokho_http_request_duration_seconds_bucket{")
            && has("route=\"/tiles/{layers}/{z}/{x}/{y}\""),
        "latency histogram per route:\n{text}"
    );
    assert!(
        has("geokho_tile_cache_total{result=\"hit\"}"),
        "cache hits counted"
    );
    assert!(has("geokho_tile_cache_total{result=\"miss\"}"));
    // Two look-ups one after the other: two statements, no batch.
    assert!(has("geokho_land_lookups_total 2"), "{text}");
    assert!(has("geokho_land_lookup_statements_total 2"), "{text}");
    // The road graph was built at start: no request had to load it.
    assert!(has("geokho_road_graph_loads_total 0"), "{text}");
    assert!(has("geokho_land_lookups_narrowed_total "), "{text}");
    let n: i64 =
        sqlx::query_scalar("SELECT feature_count FROM geokho.layers WHERE name = 'thua_dat'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(has(&format!(
        "geokho_layer_features{{layer=\"thua_dat\"}} {n}"
    )));
    assert!(has("geokho_db_pool_connections"));
    assert!(has("geokho_layer_imports{layer=\"thua_dat\"} 1"));
}

#[tokio::test]
async fn rate_limits_per_address_and_per_key() {
    let db = TestDb::new("ops_limits").await;
    let (_, key) = keys::create(
        &db.pool,
        "bursty agency",
        &[keys::Scope::Layers(keys::Target::All)],
    )
    .await
    .unwrap();
    let state = api::AppState::new(db.pool.clone(), None, 1 << 20)
        .await
        .unwrap()
        .with_limits(api::RateLimits {
            per_ip: 5,
            per_key: 3,
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = api::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let c = reqwest::Client::new();

    // Per key: a burst of 6 passes, then 429 with Retry-After.
    let mut codes = Vec::new();
    for _ in 0..9 {
        let r = c
            .get(format!("{base}/health"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            let wait: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=2).contains(&wait), "{wait}");
            assert_eq!(r.headers()["content-type"], "application/problem+json");
        }
        codes.push(r.status().as_u16());
    }
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 6, "{codes:?}");
    assert_eq!(codes[8], 429);

    // Per address: the same client without a key has its own budget of 10
    // (it already spent 9 above).
    let mut limited = false;
    for _ in 0..5 {
        if c.get(format!("{base}/health"))
            .send()
            .await
            .unwrap()
            .status()
            == 429
        {
            limited = true;
        }
    }
    assert!(limited, "the address budget applies too");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        c.get(format!("{base}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "budget refills"
    );
}

#[tokio::test]
async fn serves_ipv4_and_ipv6_and_stops_on_sigterm() {
    let db = TestDb::new("ops_dual").await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = testkit::temp_dir("ops_log").join("serve.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_geokho"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1,::1",
            "--port",
            &port.to_string(),
        ])
        .env("DATABASE_URL", &db.url)
        .env_remove("GEOKHO_LOG_FORMAT")
        .env_remove("GEOKHO_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    for host in ["127.0.0.1", "[::1]"] {
        let url = format!("http://{host}:{port}/ready");
        loop {
            if let Ok(r) = reqwest::get(&url).await {
                assert_eq!(r.status(), 200, "{url}");
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "{url} never answered"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let r = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/catalog"))
        .header("x-request-id", "soat-xet-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let t1 = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "clean exit on SIGTERM: {st}");
            break;
        }
        assert!(
            t1.elapsed() < Duration::from_secs(10),
            "did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The server logs JSON lines; the request's line carries its id.
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["request_id"] == "soat-xet-42"
                && l["span"]["uri"] == "/catalog"
                && l["fields"]["status"] == 200),
        "{text}"
    );
}

/// A query cancelled by statement_timeout is a 503 problem with
/// Retry-After, not a 500; the same request succeeds once the database is
/// quick again. The delay is made certain by holding a lock on the parcels
/// table (statement_timeout counts lock waits).
#[tokio::test]
async fn statement_timeout_is_a_503_problem() {
    let db = TestDb::new("ops_timeout").await;
    import_samples(&db).await;
    let pool = catalog::connect(
        &db.url,
        &catalog::DbOptions {
            max_connections: 4,
            statement_timeout_ms: 300,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let state = api::AppState::new(pool, None, 1 << 20).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = api::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let url = format!("http://{addr}/land/statistics?ma_xa=28267");

    let mut blocker = db.pool.begin().await.unwrap();
    sqlx::query(&format!(
        "LOCK TABLE {}.thua_dat IN ACCESS EXCLUSIVE MODE",
        catalog::DATA_SCHEMA
    ))
    .execute(&mut *blocker)
    .await
    .unwrap();
    let started = Instant::now();
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), 503, "a cancelled statement is 503");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered at the timeout"
    );
    assert_eq!(r.headers()["retry-after"], "5");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], 503);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("statement_timeout"),
        "{body}"
    );
    // Land look-ups run on connections of their own, with the same timeout.
    let at = format!("http://{addr}/land/parcels/at?lon=106.5&lat=10.45");
    let r = tokio::time::timeout(Duration::from_secs(5), reqwest::get(&at))
        .await
        .expect("a look-up answered at the timeout")
        .unwrap();
    assert_eq!(r.status(), 503, "a cancelled look-up is 503");
    blocker.rollback().await.unwrap();

    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), 200, "served again once the lock is gone");
}

/// A database a newer geokho migrated (a migration this build does not
/// know) still opens: rolling a deploy back must not stop the server.
#[tokio::test]
async fn migrations_of_a_newer_build_do_not_stop_this_one() {
    let db = TestDb::new("newer_migrations").await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9001, 'from a newer build', true, '\\x00', 1)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    catalog::migrate(&db.pool)
        .await
        .expect("an unknown applied migration is tolerated");
    let out = Command::new(env!("CARGO_BIN_EXE_geokho"))
        .arg("migrate")
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    testkit::assert_success(&out, "geokho migrate");
}

/// A port free on both loopback addresses.
fn free_port() -> u16 {
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("::1", port)).is_ok() {
            return port;
        }
    }
}

/// `make run`'s script (scripts/run.sh) with this build's binary, on `db`.
fn run_sh(db: &TestDb, port: u16) -> Command {
    let mut c = Command::new(testkit::repo_root().join("scripts/run.sh"));
    c.env("GEOKHO_BIN", env!("CARGO_BIN_EXE_geokho"))
        .env("DATABASE_URL", &db.url)
        .env("GEOKHO_PORT", port.to_string())
        .env("GEOKHO_LOG", "warn")
        .env_remove("GEOKHO_ADDR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

#[tokio::test]
async fn make_run_listens_on_ipv4_and_ipv6_loopback_and_checks_both_for_a_busy_port() {
    let db = TestDb::new("make_run").await;
    // Busy on ::1 only: refused in one line naming the address.
    let port = free_port();
    let busy = std::net::TcpListener::bind(("::1", port)).unwrap();
    let out = run_sh(&db, port).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains(&format!("port {port} on ::1 is already in use")),
        "{err}"
    );
    drop(busy);

    let port = free_port();
    let mut child = run_sh(&db, port).spawn().unwrap();
    let c = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut answered = Vec::new();
    while answered.len() < 2 && Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            let mut e = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut e).unwrap();
            panic!("make run's script stopped ({status}): {e}");
        }
        answered.clear();
        for host in ["127.0.0.1", "[::1]"] {
            let url = format!("http://{host}:{port}/catalog");
            if let Ok(r) = c.get(&url).send().await {
                if r.status() == 200 {
                    let body: serde_json::Value = r.json().await.unwrap();
                    answered.push((host, body["layers"].as_array().map_or(0, Vec::len)));
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        answered.len(),
        2,
        "both loopback addresses answer: {answered:?}"
    );
    // The samples were imported by the script before serving.
    assert!(answered.iter().all(|(_, n)| *n >= 8), "{answered:?}");
}
