//! Shared by the HTTP integration tests: import the sample province into a
//! fresh database, serve it in-process on loopback, decode tiles with GDAL.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use importer::{import_layer, manifest, ImportOptions};
use serde_json::Value;
use testkit::{repo_root, TestDb};

/// Import options for layer `name` of the sample manifest, and its files.
pub fn sample_layer(name: &str) -> (Vec<PathBuf>, ImportOptions) {
    let l = manifest::load(&repo_root().join("data-samples/layers.toml"))
        .expect("manifest")
        .into_iter()
        .find(|l| l.layer == name)
        .expect("layer in manifest");
    l.into_import(2)
}

/// Imports every sample layer.
pub async fn import_samples(db: &TestDb) {
    for l in manifest::load(&repo_root().join("data-samples/layers.toml")).expect("manifest") {
        let (files, opts) = sample_layer(&l.layer);
        import_layer(&db.pool, &files, &opts)
            .await
            .expect("sample layer imports");
    }
}

/// Serves `db` on 127.0.0.1:<free port>; returns the base URL.
pub async fn start_server(db: &TestDb) -> String {
    let state = api::AppState::new(db.pool.clone(), None, 64 << 20)
        .await
        .unwrap();
    serve(state).await
}

/// Serves `state` (following layer changes) on 127.0.0.1:<free port>;
/// returns the base URL.
pub async fn serve(state: api::AppState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    state.follow_changes();
    let app = api::router(state);
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

pub async fn get_json(url: &str) -> Value {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    r.json().await.unwrap()
}

/// One decoded MVT layer: name, feature count and ogrinfo's text for it.
pub struct Decoded {
    pub layers: Vec<(String, usize)>,
    pub text: String,
}

/// Decodes an MVT file with ogrinfo (GDAL's MVT driver), an independent decoder.
pub fn ogr_decode(path: &Path, z: u32, x: u32, y: u32) -> Decoded {
    ogr_decode_with(path, z, x, y, &[])
}

/// [`ogr_decode`] with more open options of GDAL's MVT driver (e.g.
/// `CLIP=NO`: geometries as encoded, buffer included, not cut at the tile's edge).
pub fn ogr_decode_with(path: &Path, z: u32, x: u32, y: u32, options: &[&str]) -> Decoded {
    let out = Command::new("ogrinfo")
        .args(options.iter().flat_map(|o| ["-oo", o]))
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
        .expect("ogrinfo (gdal-bin, installed by make test) runs");
    assert!(
        out.status.success(),
        "ogrinfo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("ogrinfo prints UTF-8");
    let mut layers = Vec::new();
    let mut name = None;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("Layer name: ") {
            name = Some(n.to_string());
        }
        if let (Some(n), Some(c)) = (&name, line.strip_prefix("Feature Count: ")) {
            layers.push((n.clone(), c.trim().parse().unwrap()));
            name = None;
        }
    }
    Decoded { layers, text }
}

/// Fetches a tile and decodes it; returns the HTTP response headers too.
pub async fn fetch_tile(
    url: &str,
    z: u32,
    x: u32,
    y: u32,
) -> (reqwest::header::HeaderMap, Vec<u8>, Decoded) {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    let headers = r.headers().clone();
    let body = r.bytes().await.unwrap().to_vec();
    let file = testkit::temp_dir("tile").join("tile.mvt");
    std::fs::write(&file, &body).unwrap();
    let d = if body.is_empty() {
        Decoded {
            layers: vec![],
            text: String::new(),
        }
    } else {
        ogr_decode(&file, z, x, y)
    };
    (headers, body, d)
}
