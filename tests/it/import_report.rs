//! `geokho import` through the real binary, on what the library tests do
//! not reach:
//! - files split into many record ranges (workers reading from the middle
//!   of a `.shp` and a `.dbf`, numbering features across ranges) load
//!   exactly what one range loads;
//! - the rejects report is a CSV that a standard parser (Python's `csv`)
//!   reads back as file, record, imported and reason, whatever the folder's
//!   name, and lists every row when every row has a bad value;
//! - `--dry-run` reports CRS, encoding, columns and problems and writes
//!   nothing;
//! - a second import of a layer being imported is refused in one line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use testkit::{repo_root, temp_dir, TestDb};

/// `geokho ARGS` on the test database, warnings only on stderr.
fn command(db: &TestDb, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_geokho"));
    c.args(args)
        .env("DATABASE_URL", &db.url)
        .env("GEOKHO_LOG", "warn")
        .current_dir(repo_root());
    c
}

/// Runs `geokho ARGS` with the importer's debug log and `env`; it must succeed.
fn geokho(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = command(db, args)
        .env("GEOKHO_LOG", "importer=debug")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    testkit::assert_success(&out, &format!("geokho {args:?}"));
    out
}

/// The rejects report in `dir` of the live version of `layer`.
async fn rejects_csv(db: &TestDb, dir: &Path, layer: &str) -> PathBuf {
    let version: i64 = sqlx::query_scalar("SELECT version FROM geokho.layers WHERE name = $1")
        .bind(layer)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    dir.join(format!("{layer}-v{version}.csv"))
}

/// The `work_items=N` geokho logged when it split the layer.
fn work_items(out: &Output) -> usize {
    let log = String::from_utf8_lossy(&out.stderr);
    let line = log
        .lines()
        .find(|l| l.contains("split into record ranges"))
        .unwrap_or_else(|| panic!("no split line in: {log}"));
    let n = line.split("work_items=").nth(1).expect("work_items field");
    n.chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn small_ranges_load_exactly_what_one_range_loads() {
    let db = TestDb::new("import_ranges").await;
    let import = |layer: &'static str| {
        [
            "import",
            "data-samples/thua_dat",
            "--layer",
            layer,
            "--kind",
            "parcels",
        ]
    };
    let one = geokho(&db, &import("one_range"), &[]);
    // About 28 records per range: some 190 ranges over the four files.
    let many = geokho(
        &db,
        &import("many_ranges"),
        &[("GEOKHO_RANGE_BYTES", "20000")],
    );
    assert_eq!(work_items(&one), 4, "one range per file by default");
    assert!(work_items(&many) > 150, "{}", work_items(&many));

    // Including the five spiked parcels PostGIS repairs (reached by fid).
    let (rows, invalid): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE NOT ST_IsValid(geom)) FROM geokho_data.many_ranges",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        (rows, invalid),
        (5358, 0),
        "every record of the four files, valid"
    );
    // Every column of every row, geometry included (hex EWKB in the row text).
    let differ: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM geokho_data.one_range a FULL JOIN geokho_data.many_ranges b USING (fid) \
         WHERE a::text IS DISTINCT FROM b::text",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(differ, 0);
    let fids: (i64, i64, i64) = sqlx::query_as(
        "SELECT min(fid), max(fid), count(DISTINCT fid) FROM geokho_data.many_ranges",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(fids, (1, 5358, 5358), "fids 1..n across ranges");
}

/// Copies the sample bridges into `dir`, then spoils record 3's shape type
/// and record 5's first numeric value.
fn spoiled_bridges(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    for e in std::fs::read_dir(repo_root().join("data-samples/cau")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    let shp = dir.join("cau.shp");
    let mut b = std::fs::read(&shp).unwrap();
    let mut at = 100usize;
    for _ in 0..2 {
        at += 8 + 2 * i32::from_be_bytes(b[at + 4..at + 8].try_into().unwrap()) as usize;
    }
    b[at + 8..at + 12].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    std::fs::write(&shp, b).unwrap();

    let dbf = dir.join("cau.dbf");
    let mut d = std::fs::read(&dbf).unwrap();
    let header = u16::from_le_bytes([d[8], d[9]]) as usize;
    let row = u16::from_le_bytes([d[10], d[11]]) as usize;
    let (mut f, mut offset) = (32, 1);
    while d[f + 11] != b'N' {
        offset += d[f + 16] as usize;
        f += 32;
    }
    let width = d[f + 16] as usize;
    let at = header + 4 * row + offset;
    d[at..at + width].copy_from_slice(&format!("{:>width$}", "4x2").into_bytes());
    std::fs::write(&dbf, d).unwrap();
    shp
}

#[tokio::test]
async fn the_rejects_report_is_a_csv_of_file_record_imported_and_reason() {
    let db = TestDb::new("import_rejects").await;
    let base = temp_dir("import-rejects");
    let shp = spoiled_bridges(&base.join("cầu \"mới\", 2026"));
    let reports = base.join("rejects");
    geokho(
        &db,
        &[
            "import",
            shp.to_str().unwrap(),
            "--layer",
            "cau",
            "--kind",
            "bridges",
            "--rejects-dir",
            reports.to_str().unwrap(),
        ],
        &[],
    );
    let csv = rejects_csv(&db, &reports, "cau").await;
    let parsed = Command::new("python3")
        .args([
            "-c",
            "import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline='')))))",
            csv.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    testkit::assert_success(&parsed, "the rejects CSV read by Python");
    let rows: Vec<Vec<String>> = serde_json::from_slice(&parsed.stdout).unwrap();
    assert_eq!(rows[0], ["file", "record", "imported", "reason"]);
    assert_eq!(rows.len(), 3, "{rows:?}");
    let mut body = rows[1..].to_vec();
    body.sort_by(|a, b| a[1].cmp(&b[1]));
    // The broken shape is the .shp's; the value that became NULL, the .dbf's.
    assert_eq!(body[0][..3], [shp.to_str().unwrap(), "3", "false"]);
    assert!(body[0][3].contains("shape type"), "{:?}", body[0]);
    let dbf = shp.with_extension("dbf");
    assert_eq!(body[1][..3], [dbf.to_str().unwrap(), "5", "true"]);
    assert!(
        body[1][3].contains("'4x2' is not a number; stored NULL"),
        "{:?}",
        body[1]
    );
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM geokho_data.cau")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(kept, 4, "the record with the broken shape is not imported");
}

#[tokio::test]
async fn a_dry_run_reports_crs_encoding_schema_and_problems_and_writes_nothing() {
    let db = TestDb::new("import_dry_run").await;
    let base = temp_dir("import-dry-run");
    let shp = spoiled_bridges(&base.join("cau"));
    let reports = base.join("rejects");
    let tables = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT (SELECT count(*) FROM pg_tables WHERE schemaname LIKE 'geokho%') \
             + (SELECT count(*) FROM geokho.layers) + (SELECT count(*) FROM geokho.layer_versions)",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap()
    };
    let before = tables().await;
    let out = geokho(
        &db,
        &[
            "import",
            shp.to_str().unwrap(),
            "--layer",
            "cau",
            "--kind",
            "bridges",
            "--dry-run",
            "--rejects-dir",
            reports.to_str().unwrap(),
        ],
        &[],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "5 rec  utf8    (.cpg)  EPSG:9210 (.prj)",
        "cau: Point EPSG:9210; columns: ten_cau text, tuyen text, tai_trong double precision",
        "would import 4 features: 1 records rejected, 1 values stored NULL, 0 null shapes",
        "cau.shp record 3: ",
        "cau.dbf record 5: field TAI_TRONG: '4x2' is not a number; stored NULL (imported)",
        "dry-run",
    ] {
        assert!(text.contains(want), "missing '{want}' in:\n{text}");
    }
    let csv = std::fs::read_to_string(reports.join("cau-dry-run.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert_eq!(tables().await, before, "a dry run writes nothing");
}

#[tokio::test]
async fn a_bad_value_in_every_row_is_listed_in_full_on_disk() {
    use importer::shapefile::{Dims, Shape, ShapeType, ShapefileWriter, WriteField, WriteValue};
    let db = TestDb::new("import_many_rejects").await;
    let base = temp_dir("import-many-rejects");
    // A date column written as dd/mm/yyyy in every row (a common slip).
    let mut w = ShapefileWriter::create(
        &base.join("kho"),
        ShapeType::Point(Dims::Xy),
        vec![WriteField {
            name: "ngay_lap".into(),
            kind: b'D',
            length: 8,
            decimals: 0,
        }],
    )
    .unwrap();
    let n = 3000u64;
    for i in 0..n {
        w.write(
            &Shape::Point(106.3 + i as f64 * 1e-5, 10.35),
            &[WriteValue::Text(b"1/2/2024".to_vec())],
        )
        .unwrap();
    }
    let shp = w.finish().unwrap();
    let reports = base.join("rejects");
    let out = geokho(
        &db,
        &[
            "import",
            shp.to_str().unwrap(),
            "--layer",
            "kho",
            "--kind",
            "warehouses",
            "--srs",
            "EPSG:4326",
            "--rejects-dir",
            reports.to_str().unwrap(),
        ],
        &[],
    );
    let csv = rejects_csv(&db, &reports, "kho").await;
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count() as u64, n + 1, "every row listed");
    assert!(text
        .lines()
        .all(|l| l.starts_with("file,") || l.contains("is not a YYYYMMDD date")));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "{n} rejected or altered records listed in {}",
            csv.display()
        )),
        "{stdout}"
    );
    let (rows, nulls): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE ngay_lap IS NULL) FROM geokho_data.kho",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((rows, nulls), (n as i64, n as i64), "kept, the value NULL");
}

/// Two imports of one layer at once: the second stops at once with one
/// line and changes nothing; the first publishes. Another layer imports
/// beside them. The test holds the catalog's version table so that both
/// first imports wait at publishing, holding their layer's lock.
#[tokio::test]
async fn a_second_import_of_a_layer_being_imported_is_refused() {
    let db = TestDb::new("import_busy").await;
    let spawn = |args: [&str; 6]| {
        command(&db, &args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let thua = [
        "import",
        "data-samples/thua_dat",
        "--layer",
        "thua",
        "--kind",
        "parcels",
    ];
    let cau = [
        "import",
        "data-samples/cau",
        "--layer",
        "cau",
        "--kind",
        "bridges",
    ];
    let waiting = |n: i64| {
        let pool = db.pool.clone();
        async move {
            loop {
                let w: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                     AND query ILIKE 'INSERT INTO geokho.layer_versions%'",
                )
                .fetch_one(&pool)
                .await
                .unwrap();
                if w >= n {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
    };
    let mut hold = db.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE geokho.layer_versions IN EXCLUSIVE MODE")
        .execute(&mut *hold)
        .await
        .unwrap();
    let first = spawn(thua);
    tokio::time::timeout(std::time::Duration::from_secs(60), waiting(1))
        .await
        .expect("the first import reaches publishing");

    let second = command(&db, &thua).output().unwrap();
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.trim_end().lines().count() == 1
            && err.contains("layer thua: another import of this layer is running"),
        "{err}"
    );
    // Another layer meanwhile gets as far as publishing too.
    let other = spawn(cau);
    tokio::time::timeout(std::time::Duration::from_secs(60), waiting(2))
        .await
        .expect("the other layer's import reaches publishing");
    hold.commit().await.unwrap();
    for child in [first, other] {
        let out = child.wait_with_output().unwrap();
        testkit::assert_success(&out, "geokho import");
    }
    let versions: Vec<(String, i64)> = sqlx::query_as(
        "SELECT layer, count(*) FROM geokho.layer_versions GROUP BY layer ORDER BY layer",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        versions,
        [("cau".to_string(), 1), ("thua".to_string(), 1)],
        "one version each: the refused import published nothing"
    );
}

/// A dry run of a new layer whose `.prj` carries an authority code PROJ
/// does not know: the WKT decides (EPSG:9210), nothing of PROJ's own
/// logging reaches the terminal, and no schema change is listed (there is
/// no live layer to change).
#[tokio::test]
async fn a_dry_run_prints_no_proj_noise_and_no_changes_for_a_new_layer() {
    let db = TestDb::new("import_dry_run_quiet").await;
    let dir = temp_dir("import-dry-run-quiet");
    for e in std::fs::read_dir(repo_root().join("data-samples/cau")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        dir.join("cau.prj"),
        r#"PROJCS["VN_2000_TM3",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.75],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0],AUTHORITY["EPSG","1057599"]]"#,
    )
    .unwrap();
    let shp = dir.join("cau.shp");
    let out = command(
        &db,
        &[
            "import",
            shp.to_str().unwrap(),
            "--layer",
            "cau_moi",
            "--kind",
            "bridges",
            "--dry-run",
        ],
    )
    .output()
    .unwrap();
    testkit::assert_success(&out, "geokho import --dry-run");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stdout.contains("EPSG:9210 (.prj)"), "{stdout}");
    assert!(stdout.contains("cau_moi: a new layer"), "{stdout}");
    assert!(!stdout.contains("schema change"), "{stdout}");
    assert!(!stderr.contains("proj_"), "{stderr}");
}
