//! `geokho import` through the real binary:
//! - on a multi-layer dataset: with no `--layer` each layer of a GeoPackage
//!   becomes its own geokho layer; with `FILE:LAYER` one is picked; an
//!   unknown selector fails in one line naming the file and its layers, and
//!   changes nothing;
//! - a routine re-import that repeats no option keeps the layer's kind,
//!   title, visibility, renames and restricted fields, and anonymous tiles,
//!   TileJSON and items never show owners; widening exposure and changing
//!   the kind need their confirmation; rollback restores the visibility.

use crate::common;

use std::process::Command;

use serde_json::Value;
use testkit::{repo_root, temp_dir, TestDb};

fn ogr2ogr(args: &[&str]) {
    let st = Command::new("ogr2ogr").args(args).status().unwrap();
    assert!(st.success(), "ogr2ogr {args:?}");
}

fn geokho(db: &TestDb, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_geokho"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("GEOKHO_LOG", "warn")
        .current_dir(repo_root())
        .output()
        .unwrap()
}

async fn layers(db: &TestDb) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT name, feature_count FROM geokho.layers WHERE kind <> 'reports' ORDER BY name",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_geopackage_imports_layer_by_layer() {
    let db = TestDb::new("import_cli").await;
    let dir = temp_dir("import-cli");
    let gpkg = dir.join("province.gpkg");
    let g = gpkg.to_str().unwrap();
    let root = repo_root();
    let src = |p: &str| root.join(p).to_str().unwrap().to_string();
    ogr2ogr(&[
        "-f",
        "GPKG",
        g,
        &src("data-samples/cang_ben"),
        "-nln",
        "cang_ben",
    ]);
    ogr2ogr(&["-update", g, &src("data-samples/cau"), "-nln", "cau"]);

    // An unknown selector: one line naming the file and its layers, nothing imported.
    let bad = format!("{g}:nope");
    let out = geokho(&db, &["import", &bad, "--kind", "ports"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err.lines().find(|l| l.contains("nope")).unwrap_or_default();
    assert!(
        line.contains("province.gpkg") && line.contains("cang_ben") && line.contains("cau"),
        "{err}"
    );
    assert!(layers(&db).await.is_empty());

    // FILE:LAYER picks one.
    let one = format!("{g}:cau");
    let out = geokho(
        &db,
        &["import", &one, "--layer", "cau_chon", "--kind", "bridges"],
    );
    testkit::assert_success(&out, "geokho import FILE:LAYER");
    let shp_bridges: i64 = {
        let ds = Command::new("ogrinfo")
            .args(["-ro", "-so", "-al"])
            .arg(root.join("data-samples/cau"))
            .output()
            .unwrap();
        let t = String::from_utf8(ds.stdout).unwrap();
        t.lines()
            .find_map(|l| l.strip_prefix("Feature Count: "))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    assert_eq!(
        layers(&db).await,
        vec![("cau_chon".to_string(), shp_bridges)]
    );

    // No --layer: every layer, under its own name.
    let out = geokho(&db, &["import", g, "--kind", "generic"]);
    testkit::assert_success(&out, "geokho import of every layer");
    let names: Vec<String> = layers(&db).await.into_iter().map(|l| l.0).collect();
    assert_eq!(names, ["cang_ben", "cau", "cau_chon"]);
}

/// Output piped into a reader that stops early (`geokho layers | head -0`)
/// ends the command quietly: no panic on the closed pipe. The read end is
/// closed before the command has connected to the database, so its first
/// line meets a closed pipe.
#[tokio::test]
async fn a_closed_pipe_is_not_a_panic() {
    use std::io::Read;
    use std::process::Stdio;
    let db = TestDb::new("import_cli_pipe").await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_geokho"))
        .arg("layers")
        .env("DATABASE_URL", &db.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let st = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert!(!st.success(), "stopped by the closed pipe");
}

/// `geokho ARGS` that must succeed; its stdout.
fn ok(db: &TestDb, args: &[&str]) -> String {
    let out = geokho(db, args);
    testkit::assert_success(&out, &format!("geokho {args:?}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `geokho ARGS` that must fail; the line of its error that holds `word`.
fn refused(db: &TestDb, args: &[&str], word: &str) -> String {
    let out = geokho(db, args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "geokho {args:?} succeeded");
    assert!(!err.contains("panicked"), "{err}");
    err.lines()
        .find(|l| l.contains(word))
        .unwrap_or_else(|| panic!("no line with '{word}' in: {err}"))
        .to_string()
}

/// The sample parcel files, as a shell would expand `thua_dat/*.shp`.
fn parcel_files() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(repo_root().join("data-samples/thua_dat"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "shp"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// (kind, title, public, version, restricted columns, all columns) of `layer`.
async fn settings_of(
    db: &TestDb,
    layer: &str,
) -> (String, String, bool, i64, Vec<String>, Vec<String>) {
    let l = catalog::get_layer(&db.pool, layer)
        .await
        .unwrap()
        .expect(layer);
    let restricted = l
        .fields
        .iter()
        .filter(|f| f.restricted)
        .map(|f| f.name.clone())
        .collect();
    let all = l.fields.iter().map(|f| f.name.clone()).collect();
    (
        l.kind.to_string(),
        l.title,
        l.public,
        l.version,
        restricted,
        all,
    )
}

/// The server's /catalog entry of `thua_dat`, once the server has heard of
/// the live version (NOTIFY reaches it moments after the command ends).
async fn served_entry(base: &str, db: &TestDb) -> Value {
    let live = catalog::get_layer(&db.pool, "thua_dat")
        .await
        .unwrap()
        .unwrap()
        .version;
    for _ in 0..200 {
        let cat = common::get_json(&format!("{base}/catalog")).await;
        let entry = cat["layers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == "thua_dat")
            .cloned();
        if let Some(e) = entry.filter(|e| e["version"] == live) {
            return e;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the server never served version {live} of thua_dat");
}

/// What an anonymous client reads of `thua_dat` over HTTP: TileJSON field
/// names, a decoded tile's text and the items' properties.
async fn anonymous_view(base: &str, db: &TestDb) -> (Vec<String>, String, Vec<Value>) {
    served_entry(base, db).await;
    let tj = common::get_json(&format!("{base}/tiles/thua_dat.json")).await;
    let fields = tj["vector_layers"][0]["fields"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let (lon, lat): (f64, f64) = sqlx::query_as(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) AS p \
         FROM geokho_data.thua_dat WHERE ten_chu IS NOT NULL ORDER BY fid LIMIT 1) x",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let t = tiles::TileCoord::containing(lon, lat, 16);
    let url = format!("{base}/tiles/thua_dat/{}/{}/{}.mvt", t.z, t.x, t.y);
    let (_, _, tile) = common::fetch_tile(&url, u32::from(t.z), t.x, t.y).await;
    let items = common::get_json(&format!("{base}/ogc/collections/thua_dat/items?limit=100")).await;
    let props = items["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"].clone())
        .collect();
    (fields, tile.text, props)
}

fn shows_owners(view: &(Vec<String>, String, Vec<Value>)) -> [bool; 3] {
    let (fields, tile, items) = view;
    [
        fields.iter().any(|f| f == "ten_chu" || f == "so_gcn"),
        tile.contains("ten_chu") || tile.contains("so_gcn"),
        items
            .iter()
            .any(|p| p.get("ten_chu").is_some() || p.get("so_gcn").is_some()),
    ]
}

// Multi-threaded: the commands run blocking while the in-process server
// must go on (its index builds hold a read lock that publishing waits for).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_routine_reimport_keeps_the_layer_settings_and_never_publishes_owners() {
    let db = TestDb::new("reimport_settings").await;
    ok(&db, &["import", "--manifest", "data-samples/layers.toml"]);
    let base = common::start_server(&db).await;
    let first = settings_of(&db, "thua_dat").await;
    assert_eq!(
        (first.0.as_str(), first.1.as_str(), first.2),
        ("parcels", "Thửa đất", true)
    );
    assert_eq!(first.4, ["ten_chu", "so_gcn"]);
    assert!(first.5.contains(&"tinh_trang_gcn".to_string()));
    assert_eq!(shows_owners(&anonymous_view(&base, &db).await), [false; 3]);

    // The operator's routine refresh: no --kind, no manifest.
    let files = parcel_files();
    let refresh: Vec<&str> = ["import"]
        .into_iter()
        .chain(files.iter().map(String::as_str))
        .chain(["--layer", "thua_dat", "--replace"])
        .collect();
    let out = ok(&db, &refresh);
    let second = settings_of(&db, "thua_dat").await;
    assert!(second.3 > first.3, "a new version is published");
    assert_eq!(
        (&second.0, &second.1, second.2, &second.4, &second.5),
        (&first.0, &first.1, first.2, &first.4, &first.5),
        "kind, title, visibility, restricted fields and renamed columns kept:\n{out}"
    );
    assert!(!out.contains("schema change"), "{out}");
    let view = anonymous_view(&base, &db).await;
    assert_eq!(shows_owners(&view), [false; 3], "{:?}", view.0);

    // A description given once sticks through the next refresh.
    let mut described = refresh.clone();
    described.extend(["--description", "Bản đồ địa chính đo đạc 2024"]);
    ok(&db, &described);
    ok(&db, &refresh);
    let entry = served_entry(&base, &db).await;
    assert_eq!(entry["description"], "Bản đồ địa chính đo đạc 2024");
    assert_eq!(entry["title"], "Thửa đất");

    // --if-changed skips the same files and settings, not a new title.
    let mut same = refresh.clone();
    same.push("--if-changed");
    assert!(ok(&db, &same).contains("unchanged"));
    same.extend(["--title", "Thửa đất (đo đạc 2024)"]);
    assert!(ok(&db, &same).contains("published"));
    assert_eq!(
        settings_of(&db, "thua_dat").await.1,
        "Thửa đất (đo đạc 2024)"
    );

    // A generic layer with owner columns keeps them restricted.
    let generic: Vec<&str> = ["import"]
        .into_iter()
        .chain(files.iter().map(String::as_str))
        .chain(["--layer", "thua_chung"])
        .collect();
    ok(&db, &generic);
    let g = settings_of(&db, "thua_chung").await;
    assert_eq!(g.0, "generic");
    assert_eq!(g.4, ["ten_chu", "so_gcn"]);

    // Bad input: a kind change without its confirmation, an unknown field.
    let mut change = refresh.clone();
    change.extend(["--kind", "generic"]);
    let line = refused(&db, &change, "--change-kind");
    assert!(
        line.contains("parcels") && line.contains("generic"),
        "{line}"
    );
    let mut typo = refresh.clone();
    typo.extend(["--public-fields", "ten_chuu"]);
    let line = refused(&db, &typo, "ten_chuu");
    assert!(
        line.contains("--public-fields") && line.contains("no column"),
        "{line}"
    );

    // Widening without the confirmation: refused in one line, live version served.
    let served = settings_of(&db, "thua_dat").await.3;
    let mut widen = refresh.clone();
    widen.extend(["--public-fields", "ten_chu"]);
    let line = refused(&db, &widen, "widen exposure");
    assert!(
        line.contains("ten_chu") && line.contains("--widen-exposure"),
        "{line}"
    );
    assert_eq!(settings_of(&db, "thua_dat").await.3, served);
    assert_eq!(shows_owners(&anonymous_view(&base, &db).await), [false; 3]);

    // A private layer stays private through a routine refresh; making it
    // public again is a widening.
    let mut private = refresh.clone();
    private.push("--private");
    ok(&db, &private);
    ok(&db, &refresh);
    assert!(!settings_of(&db, "thua_dat").await.2, "still private");
    let mut public = refresh.clone();
    public.push("--public");
    let line = refused(&db, &public, "widen exposure");
    assert!(line.contains("private and would be public"), "{line}");
    public.push("--widen-exposure");
    ok(&db, &public);
    assert!(settings_of(&db, "thua_dat").await.2);

    // With the confirmation: published, and the version records it.
    widen.push("--widen-exposure");
    let out = ok(&db, &widen);
    assert!(out.contains("exposure widened"), "{out}");
    let widened = settings_of(&db, "thua_dat").await;
    assert_eq!(widened.4, ["so_gcn"]);
    let changes: Value = sqlx::query_scalar(
        "SELECT changes FROM geokho.layer_versions WHERE layer = 'thua_dat' AND version = $1",
    )
    .bind(widened.3)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        changes["widened"],
        serde_json::json!(["field ten_chu is restricted and would be public"])
    );
    let view = anonymous_view(&base, &db).await;
    assert_eq!(shows_owners(&view), [true; 3], "the owners are now public");

    // Rollback restores the previous visibility.
    ok(&db, &["rollback", "thua_dat"]);
    let back = settings_of(&db, "thua_dat").await;
    assert_eq!(
        back.4,
        ["ten_chu", "so_gcn"],
        "rollback restores the restriction"
    );
    assert_eq!(shows_owners(&anonymous_view(&base, &db).await), [false; 3]);

    // A province preset that spans two zones since the 2025 mergers is
    // refused in one line naming both; the former province by name works.
    let kho = repo_root().join("data-samples/kho_bai/kho_bai.shp");
    let kho = kho.to_str().unwrap();
    let line = refused(
        &db,
        &[
            "import",
            kho,
            "--layer",
            "kho_thu",
            "--srs",
            "vn2000:Đồng Tháp",
            "--dry-run",
        ],
        "spans several VN-2000 zones",
    );
    assert!(
        line.contains("105°00'") && line.contains("105°45'"),
        "{line}"
    );
    ok(
        &db,
        &[
            "import",
            kho,
            "--layer",
            "kho_thu",
            "--srs",
            "vn2000:Tiền Giang",
            "--dry-run",
        ],
    );

    // A dry run shows a schema change against the live layer, and the
    // shipped style that reads the field it loses.
    let mut dry = refresh.clone();
    dry.extend(["--rename", "LOAI_DAT=loai", "--dry-run"]);
    let out = ok(&db, &dry);
    assert!(out.contains("schema change: field loai_dat lost"), "{out}");
    assert!(
        out.contains("schema change: field tinh_trang_gcn lost"),
        "{out}"
    );
    assert!(
        out.contains("style cadastral reads field loai_dat"),
        "{out}"
    );
}
