//! Faults, with the real binary and a private PostgreSQL cluster per test
//! (loopback only, bounded in time):
//! - the database stops while serving: 503 with Retry-After, no crash, and
//!   service again within 5 s of the database coming back, no restart;
//! - `kill -9` of an import while reading, copying and indexing: the live
//!   layer (version, features) is unchanged and served; the next import
//!   succeeds and removes what killed imports of any layer left (stage
//!   tables, ZIP extraction folders), sparing those of running imports;
//! - an import landing under tile load: no errors, and the new version is
//!   served at once.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::cluster::{status, Cluster, Server};

const BIN: &str = env!("CARGO_BIN_EXE_geokho");

fn geokho(c: &Cluster, args: &[&str]) -> Command {
    testkit::cluster::command(BIN, &c.url(), args)
}

fn import(c: &Cluster, args: &[&str]) {
    testkit::cluster::import(BIN, &c.url(), args)
}

async fn layer_state(base: &str, layer: &str) -> (i64, i64) {
    let v: Value = reqwest::get(format!("{base}/catalog"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let l = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == layer)
        .unwrap()
        .clone();
    (
        l["version"].as_i64().unwrap(),
        l["feature_count"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn database_outage_gives_503_then_service_resumes() {
    let c = Cluster::start("outage");
    import(&c, &["--manifest", "data-samples/layers.toml"]);
    let mut srv = Server::start(BIN, &c.url(), &[]).await;
    let items = format!("{}/ogc/collections/thua_dat/items?limit=5", srv.base);
    assert_eq!(status(&items).await, 200);

    c.stop();
    let r = reqwest::get(format!("{items}&offset=7")).await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert_eq!(status(&format!("{}/health", srv.base)).await, 200, "alive");
    assert_eq!(status(&format!("{}/ready", srv.base)).await, 503);
    assert!(srv.is_running(), "no crash");

    c.restart();
    let back = Instant::now();
    while status(&items).await != 200 {
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "not serving 5 s after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status(&format!("{}/ready", srv.base)).await, 200);
    assert!(srv.is_running(), "same process");
}

/// Waits until `query` (an SQL pattern of `pg_stat_activity.query`) runs
/// for the import `child`, then kills it with SIGKILL. Panics when the
/// import ends before that moment is seen.
async fn kill_during(pool: &sqlx::PgPool, child: &mut std::process::Child, query: &str) {
    loop {
        let seen: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query ILIKE $1)",
        )
        .bind(query)
        .fetch_one(pool)
        .await
        .unwrap();
        if seen {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before '{query}' was seen"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    kill_9(child);
}

fn kill_9(child: &mut std::process::Child) {
    use std::os::unix::process::ExitStatusExt;
    let _ = Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status();
    let st = child.wait().unwrap();
    assert_eq!(st.signal(), Some(9), "killed, not ended: {st:?}");
}

#[tokio::test]
async fn kill_9_of_an_import_leaves_the_live_layer_alone() {
    let c = Cluster::start("kill9");
    let parcels = [
        "data-samples/thua_dat",
        "--layer",
        "thua_dat",
        "--kind",
        "parcels",
    ];
    import(&c, &parcels);
    let srv = Server::start(BIN, &c.url(), &[]).await;
    let pool = sqlx::PgPool::connect(&c.url()).await.unwrap();
    let before = layer_state(&srv.base, "thua_dat").await;
    let tile = format!("{}/tiles/thua_dat/14/13031/7718.mvt", srv.base);
    let tile_status = status(&tile).await;
    assert!(tile_status == 200 || tile_status == 204);
    let stage = |pattern: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'geokho_stage' AND tablename LIKE $1",
            )
            .bind(pattern)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };

    // Kill while reading, during the COPY, while indexing.
    let moments = [
        ("reading", None),
        ("COPY", Some("COPY %thua_dat%")),
        ("indexing", Some("CREATE %INDEX %thua_dat%")),
    ];
    for (moment, query) in moments {
        let rejects = testkit::temp_dir("kill9-rejects");
        let mut a = vec!["import", "--rejects-dir", rejects.to_str().unwrap()];
        a.extend_from_slice(&parcels);
        let mut child = geokho(&c, &a).stderr(Stdio::null()).spawn().unwrap();
        match query {
            Some(q) => kill_during(&pool, &mut child, q).await,
            None => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                kill_9(&mut child);
            }
        }
        assert_eq!(
            layer_state(&srv.base, "thua_dat").await,
            before,
            "version and features after a kill while {moment}"
        );
        assert_eq!(
            status(&tile).await,
            tile_status,
            "still served after a kill while {moment}"
        );
        let items = format!("{}/ogc/collections/thua_dat/items?limit=1", srv.base);
        assert_eq!(status(&items).await, 200);
    }
    // The COPY had committed when the last kill came: its table is left over.
    assert!(
        stage("thua\\_dat\\_v%").await >= 1,
        "the indexing kill left its stage table"
    );

    // Leftovers of other layers: an abandoned one, and one whose import is
    // running (its lock held here), which must stay.
    sqlx::query("CREATE TABLE geokho_stage.cho_v3 (fid bigint)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE geokho_stage.ben_v4 (fid bigint)")
        .execute(&pool)
        .await
        .unwrap();
    let mut running = pool.acquire().await.unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(catalog::import_lock_key("ben"))
        .execute(&mut *running)
        .await
        .unwrap();
    // ZIP extraction folders of a killed import and of a running one.
    let tmp = testkit::temp_dir("kill9-tmp");
    let folder = |n: &str| tmp.join(format!("{}{n}", importer::archive::FOLDER_PREFIX));
    for n in ["4000001-0", "4000002-0"] {
        std::fs::create_dir_all(folder(n).join("x.zip")).unwrap();
        std::fs::write(folder(n).join(importer::archive::LOCK_FILE), b"").unwrap();
    }
    let held = std::fs::File::open(folder("4000002-0").join(importer::archive::LOCK_FILE)).unwrap();
    held.try_lock().unwrap();

    // The next import succeeds and cleans what the killed ones left.
    let out = geokho(&c, &[&["import"][..], &parcels].concat())
        .env("TMPDIR", &tmp)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    testkit::assert_success(&out, "geokho");
    let after = layer_state(&srv.base, "thua_dat").await;
    assert_eq!(after.1, before.1);
    assert!(after.0 > before.0, "a new version: {after:?} vs {before:?}");
    assert_eq!(stage("thua\\_dat%").await, 0, "the layer's own leftovers");
    assert_eq!(stage("cho\\_v3").await, 0, "an abandoned layer's leftovers");
    assert_eq!(
        stage("ben\\_v4").await,
        1,
        "a running import's table is kept"
    );
    assert!(
        !folder("4000001-0").exists(),
        "a killed import's ZIP folder"
    );
    assert!(
        folder("4000002-0").exists(),
        "a running import's ZIP folder"
    );
    drop(held);
}

#[tokio::test]
async fn an_import_lands_under_tile_load() {
    let c = Cluster::start("underload");
    let roads = [
        "data-samples/duong_bo",
        "--layer",
        "duong_bo",
        "--kind",
        "roads",
    ];
    import(&c, &roads);
    // Four clients on one address as fast as tiles come: the per-address
    // rate limit (tests/access.rs) is lifted, what is under test is the import.
    let srv = Server::start(BIN, &c.url(), &["--rate-ip", "1000000"]).await;
    let (v0, _) = layer_state(&srv.base, "duong_bo").await;
    let urls: Vec<String> = (0..4)
        .flat_map(|dx| (0..4).map(move |dy| (dx, dy)))
        .map(|(dx, dy)| {
            format!(
                "{}/tiles/duong_bo/14/{}/{}.mvt",
                srv.base,
                13028 + dx,
                7716 + dy
            )
        })
        .collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for w in 0..4 {
        let (urls, stop) = (urls.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let c = reqwest::Client::new();
            let (mut ok, mut bad) = (0u32, Vec::new());
            let mut i = w;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let u = &urls[i % urls.len()];
                match c.get(u).send().await {
                    Ok(r) if r.status().is_success() => ok += 1,
                    Ok(r) => bad.push(format!("{u}: {}", r.status())),
                    Err(e) => bad.push(format!("{u}: {e}")),
                }
                i += 1;
            }
            (ok, bad)
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    import(&c, &roads);
    // The new version is announced at once (NOTIFY) and tiles carry it.
    let t0 = Instant::now();
    let v1 = loop {
        let (v, _) = layer_state(&srv.base, "duong_bo").await;
        if v > v0 {
            break v;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(2),
            "new version not announced"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let r = reqwest::get(&urls[0]).await.unwrap();
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert!(
        etag.contains(&v1.to_string()),
        "etag {etag} of version {v1}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for h in load {
        let (ok, bad) = h.await.unwrap();
        assert!(bad.is_empty(), "errors under load: {bad:?}");
        total += ok;
    }
    assert!(total > 20, "load ran: {total} tiles");
}
