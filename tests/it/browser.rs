//! The map viewer as a person sees it: the sample province imported into a
//! fresh PostGIS, the server started in-process, and `web/test/viewer.test.mjs`
//! driving Debian's headless Chromium (playwright-core) through `/`: parcels
//! drawn, a click opens a popup with the parcel's address and no owner, a
//! screenshot is saved. Also: every style's land-use colours are those of
//! `geokho.land_use_codes`, tile sources are absolute for the caller's host,
//! and an unknown style is a 404 problem+json.
//!
//! Needs node, `web/node_modules` and /usr/bin/chromium: `make test` installs
//! them (GEOKHO_BROWSER=1 scripts/install-deps.sh, scripts/web-deps.sh).

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{import_samples, start_server};
use serde_json::Value;
use testkit::{repo_root, temp_dir, TestDb};

const STYLES: [&str; 4] = ["base", "cadastral", "planning", "logistics"];

/// Fails (never skips) when a browser-test prerequisite is missing.
fn require_browser_tools() {
    let hint = "run the tests with `make test`, which installs Chromium (GEOKHO_BROWSER=1 scripts/install-deps.sh) and the npm packages (scripts/web-deps.sh)";
    let node = std::process::Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "node not found: {hint}"
    );
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "/usr/bin/chromium not found: {hint}"
    );
    for p in ["playwright-core", "maplibre-gl"] {
        let dir = repo_root().join("web/node_modules").join(p);
        assert!(dir.is_dir(), "{} missing: {hint}", dir.display());
    }
}

#[tokio::test]
async fn viewer_draws_parcels_and_shows_a_popup_in_headless_chromium() {
    require_browser_tools();
    let db = TestDb::new("browser").await;
    import_samples(&db).await;
    let base = start_server(&db).await;

    let r = reqwest::get(format!("{base}/web/maplibre-gl.js"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "MapLibre GL JS is served locally");
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));

    let shot = temp_dir("browser").join("viewer.png");
    let started = Instant::now();
    let run = tokio::process::Command::new("node")
        .arg(repo_root().join("web/test/viewer.test.mjs"))
        .arg(&base)
        .arg(&shot)
        .current_dir(repo_root())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(90), run)
        .await
        .expect("the viewer test finishes within 90 s")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "viewer test failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    eprintln!(
        "viewer test took {:.1} s: {stdout}",
        started.elapsed().as_secs_f64()
    );
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .expect("a JSON result line");
    let res: Value = serde_json::from_str(line).expect("JSON result");

    assert!(res["parcels"].as_u64().unwrap_or(0) > 0, "{res}");
    let png = std::fs::metadata(&shot).expect("screenshot written");
    assert!(png.len() > 10_000, "screenshot is {} bytes", png.len());
    assert_eq!(res["screenshot"].as_str(), shot.to_str());

    let popup = res["popup"].as_str().expect("popup text");
    let addresses: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT dia_chi FROM geokho_data.thua_dat")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert!(
        addresses.iter().any(|a| popup.contains(a.as_str())),
        "popup shows no parcel's address: {popup}"
    );
    let owners: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT ten_chu FROM geokho_data.thua_dat WHERE length(ten_chu) >= 5",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert!(
        !popup.contains("ten_chu") && !owners.iter().any(|o| popup.contains(o.as_str())),
        "popup shows an owner: {popup}"
    );
}

/// (code, colour) of every `match` on a land-use field in `v` that yields
/// colours (a `match` in a filter yields booleans).
fn land_use_colours(v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Array(a) => {
            let on_land_use = a.len() > 3
                && a[0] == "match"
                && (a[1] == serde_json::json!(["get", "loai_dat"])
                    || a[1] == serde_json::json!(["get", "ma_loai_dat_qh"]));
            if on_land_use {
                for pair in a[2..a.len() - 1].chunks(2) {
                    let Some(colour) = pair[1].as_str().filter(|c| c.starts_with('#')) else {
                        continue;
                    };
                    let codes = match &pair[0] {
                        Value::Array(cs) => cs.clone(),
                        c => vec![c.clone()],
                    };
                    for c in codes {
                        out.push((c.as_str().unwrap().into(), colour.into()));
                    }
                }
            }
            a.iter().for_each(|x| land_use_colours(x, out));
        }
        Value::Object(o) => o.values().for_each(|x| land_use_colours(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn styles_use_the_legend_colours_and_absolute_tile_urls() {
    let db = TestDb::new("styles").await;
    let base = start_server(&db).await;
    let legend: BTreeMap<String, String> =
        sqlx::query_as::<_, (String, String)>("SELECT code, color FROM geokho.land_use_codes")
            .fetch_all(&db.pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    assert!(legend.len() > 10);

    let list: Value = reqwest::get(format!("{base}/styles"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["styles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, STYLES);

    let client = reqwest::Client::new();
    for name in STYLES {
        for (host, expect) in [
            (None, base.clone()),
            (
                Some("ban-do.tiengiang.example:8443"),
                "http://ban-do.tiengiang.example:8443".into(),
            ),
        ] {
            let mut req = client.get(format!("{base}/styles/{name}.json"));
            if let Some(h) = host {
                req = req.header("host", h);
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), 200, "{name}");
            assert_eq!(r.headers()["content-type"], "application/json");
            let style: Value = r.json().await.unwrap();
            assert_eq!(style["version"], 8);
            for (id, src) in style["sources"].as_object().unwrap() {
                assert_eq!(
                    src["url"].as_str().unwrap(),
                    format!("{expect}/tiles/{id}.json"),
                    "{name}: source {id}"
                );
            }
            let mut pairs = Vec::new();
            land_use_colours(&style, &mut pairs);
            assert!(!pairs.is_empty(), "{name} colours no land use");
            for (code, colour) in &pairs {
                assert_eq!(legend.get(code), Some(colour), "{name}: colour of {code}");
            }
            if name == "cadastral" || name == "planning" {
                let codes: BTreeMap<String, String> = pairs.into_iter().collect();
                assert_eq!(codes, legend, "{name} covers the whole legend");
            }
        }
    }

    for bad in ["khong_co.json", "cadastral", "..%2Fcadastral.json"] {
        let r = reqwest::get(format!("{base}/styles/{bad}")).await.unwrap();
        assert_eq!(r.status(), 404, "{bad}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["status"], 404);
    }

    // The viewer loads nothing from the internet.
    let page = reqwest::get(format!("{base}/")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("web/maplibre-gl.js") && html.contains("web/viewer.js"));
    for asset in ["", "web/viewer.js", "web/viewer.css"] {
        let text = reqwest::get(format!("{base}/{asset}"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!text.contains("://"), "/{asset} links outside the server");
    }
}
