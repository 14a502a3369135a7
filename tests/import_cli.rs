//! `geokho import` on a multi-layer dataset, through the real binary: with no
//! `--layer` each layer of a GeoPackage becomes its own geokho layer; with
//! `FILE:LAYER` one is picked; an unknown selector fails in one line naming
//! the file and its layers, and changes nothing.

use std::process::Command;

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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
