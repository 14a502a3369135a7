//! The importer against a real PostGIS: sample layers land intact (geometry,
//! Vietnamese text from UTF-8 and TCVN3 files, legal areas), re-imports are
//! versioned and skippable, rollback restores, and a failing import leaves
//! the live layer untouched with nothing left in the stage schema.

use std::path::PathBuf;

use importer::manifest;
use importer::{import_layer, ImportError, ImportOptions};
use sqlx::PgPool;
use testkit::{repo_root, temp_dir, TestDb};

fn sample_layer(name: &str) -> (Vec<PathBuf>, ImportOptions) {
    let layers = manifest::load(&repo_root().join("data-samples/layers.toml"))
        .expect("sample manifest loads");
    let l = layers
        .into_iter()
        .find(|l| l.layer == name)
        .expect("layer in manifest");
    l.into_import(3)
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM geokho_data.{table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn stage_tables(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'geokho_stage'")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn parcels_land_with_text_geometry_and_areas_intact() {
    let db = TestDb::new("parcels").await;
    let (files, opts) = sample_layer("thua_dat");
    let r = import_layer(&db.pool, &files, &opts)
        .await
        .expect("import succeeds");
    let enc: Vec<_> = r.files.iter().map(|f| f.encoding.as_str()).collect();
    assert_eq!(
        enc,
        ["utf8", "utf8", "tcvn3", "utf8"],
        "one commune's DBF is TCVN3 without .cpg"
    );
    assert_eq!(r.files[2].encoding_how.split(' ').next(), Some("detected"));
    assert_eq!(count(&db.pool, "thua_dat").await as u64, r.records);
    assert_eq!(r.repaired, 5, "the five spiked parcels are repaired");
    let invalid: i64 =
        sqlx::query_scalar("SELECT count(*) FROM geokho_data.thua_dat WHERE NOT ST_IsValid(geom)")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(invalid, 0);
    // TCVN3 text decoded: commune 28267's file.
    let addr: String = sqlx::query_scalar(
        "SELECT dia_chi FROM geokho_data.thua_dat WHERE ma_xa = '28267' ORDER BY fid LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(
        addr.contains("Xã Tân Mỹ Chánh, thành phố Mỹ Tho, tỉnh Tiền Giang"),
        "{addr}"
    );
    // Legal area in VN-2000 equals the recorded dien_tich; Web Mercator would be ~3% larger here.
    let worst: f64 =
        sqlx::query_scalar("SELECT max(abs(ST_Area(geom) - dien_tich)) FROM geokho_data.thua_dat")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(worst < 0.06, "area mismatch {worst}");
    let srid: i32 = sqlx::query_scalar("SELECT ST_SRID(geom) FROM geokho_data.thua_dat LIMIT 1")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(srid, 9210);
    let layer = catalog::get_layer(&db.pool, "thua_dat")
        .await
        .unwrap()
        .expect("in catalog");
    let restricted: Vec<_> = layer
        .fields
        .iter()
        .filter(|f| f.restricted)
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(restricted, ["ten_chu", "so_gcn"]);
    assert!(
        layer.fields.iter().any(|f| f.name == "tinh_trang_gcn"),
        "manifest rename applied"
    );
    let b = layer.bounds.expect("bounds");
    assert!(
        b[0] > 106.3 && b[2] < 106.4 && b[1] > 10.3 && b[3] < 10.4,
        "Mỹ Tho bounds: {b:?}"
    );
    // GiST on both geometry columns, the key on fid, all valid; the planner
    // takes the source-SRID index for a bounding-box query.
    let defs: Vec<String> = sqlx::query_scalar(
        "SELECT regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', '') \
         FROM pg_index i WHERE i.indrelid = 'geokho_data.thua_dat'::regclass AND i.indisvalid \
         AND (i.indpred IS NULL) ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(defs, ["btree (fid)", "gist (geom)", "gist (geom_3857)"]);
    let mut tx = db.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL enable_seqscan = off")
        .execute(&mut *tx)
        .await
        .unwrap();
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT count(*) FROM geokho_data.thua_dat \
         WHERE geom && ST_MakeEnvelope(590000, 1140000, 591000, 1141000, 9210)",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert!(
        plan.iter()
            .any(|l| l.contains("thua_dat_v") && l.contains("_geom ")),
        "{plan:?}"
    );
}

#[tokio::test]
async fn versions_skip_rollback_and_failed_imports_leave_live_data_alone() {
    let db = TestDb::new("versions").await;
    let (files, mut opts) = sample_layer("duong_bo");
    let v1 = import_layer(&db.pool, &files, &opts)
        .await
        .unwrap()
        .version
        .unwrap();
    let n1 = count(&db.pool, "duong_bo").await;
    // The catalog records each file's sha256 (taken while PostgreSQL
    // finished the table): as sha256sum computes it, for every part.
    let sources: Vec<(String, String)> = sqlx::query_as(
        "SELECT s->>'path', s->>'sha256' FROM geokho.layer_versions, jsonb_array_elements(sources) s \
         WHERE layer = 'duong_bo' AND version = $1",
    )
    .bind(v1)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let exts: Vec<&str> = sources
        .iter()
        .filter_map(|(p, _)| p.rsplit('.').next())
        .collect();
    for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
        assert!(exts.contains(&ext), "{ext} recorded in {sources:?}");
    }
    for (path, sum) in &sources {
        let out = std::process::Command::new("sha256sum")
            .arg(path)
            .output()
            .unwrap();
        let want = String::from_utf8_lossy(&out.stdout);
        assert_eq!(Some(sum.as_str()), want.split_whitespace().next(), "{path}");
    }

    // --if-changed hashes before loading; the fingerprint it finds is the
    // one the first import recorded after loading.
    opts.if_changed = true;
    let again = import_layer(&db.pool, &files, &opts).await.unwrap();
    assert!(again.skipped_unchanged && again.version.is_none());

    // A damaged copy of the same layer: truncated .shp.
    let bad = temp_dir("bad-roads");
    for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
        std::fs::copy(
            files[0].with_extension(ext),
            bad.join(format!("duong_bo.{ext}")),
        )
        .unwrap();
    }
    let shp = bad.join("duong_bo.shp");
    let bytes = std::fs::read(&shp).unwrap();
    std::fs::write(&shp, &bytes[..bytes.len() - 40]).unwrap();
    let err = import_layer(&db.pool, std::slice::from_ref(&shp), &opts)
        .await
        .unwrap_err();
    assert!(matches!(err, ImportError::Shapefile(_)), "{err}");
    assert!(
        err.to_string().contains("duong_bo.shp") && err.to_string().contains("truncated"),
        "{err}"
    );
    assert_eq!(
        catalog::get_layer(&db.pool, "duong_bo")
            .await
            .unwrap()
            .unwrap()
            .version,
        v1
    );
    assert_eq!(count(&db.pool, "duong_bo").await, n1);

    // A file whose DBF belongs to another shapefile: fails after nothing was staged.
    std::fs::copy(files[0].with_extension("shp"), &shp).unwrap();
    std::fs::copy(
        repo_root().join("data-samples/cau/cau.dbf"),
        bad.join("duong_bo.dbf"),
    )
    .unwrap();
    let err = import_layer(&db.pool, std::slice::from_ref(&shp), &opts)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("duong_bo.dbf") && err.to_string().contains("records"),
        "{err}"
    );
    assert_eq!(stage_tables(&db.pool).await, 0);

    // A second version (7 roads, another title, zoom range and hidden),
    // then rollback to the first: data and presentation come back, and
    // each change is announced as `layer:version`.
    let before = catalog::get_layer(&db.pool, "duong_bo")
        .await
        .unwrap()
        .unwrap();
    let mut listener = sqlx::postgres::PgListener::connect_with(&db.pool)
        .await
        .unwrap();
    listener.listen(catalog::NOTIFY_CHANNEL).await.unwrap();
    let mut second = opts.clone();
    second.if_changed = false;
    second.settings.title = Some("Đường bộ (bản thử)".into());
    (second.settings.minzoom, second.settings.maxzoom) = (Some(9), Some(15));
    second.settings.public = Some(false);
    let seven = first_records(&files[0], "duong_bo", 7);
    let v2 = import_layer(&db.pool, &[seven], &second)
        .await
        .unwrap()
        .version
        .unwrap();
    assert!(v2 > v1);
    let heard = |n: sqlx::postgres::PgNotification| n.payload().to_string();
    assert_eq!(
        heard(listener.recv().await.unwrap()),
        format!("duong_bo:{v2}")
    );
    let l2 = catalog::get_layer(&db.pool, "duong_bo")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            count(&db.pool, "duong_bo").await,
            l2.minzoom,
            l2.maxzoom,
            l2.public
        ),
        (7, 9, 15, false)
    );
    let restored = catalog::rollback(&db.pool, "duong_bo").await.unwrap();
    assert!(restored > v2, "rollback publishes a newer version number");
    assert_eq!(
        heard(listener.recv().await.unwrap()),
        format!("duong_bo:{restored}")
    );
    assert_eq!(count(&db.pool, "duong_bo").await, n1);
    let back = catalog::get_layer(&db.pool, "duong_bo")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            &back.title,
            back.minzoom,
            back.maxzoom,
            back.public,
            back.feature_count
        ),
        (
            &before.title,
            before.minzoom,
            before.maxzoom,
            before.public,
            n1
        )
    );
    let states: Vec<(i64, String)> = sqlx::query_as("SELECT version, state FROM geokho.layer_versions WHERE layer = 'duong_bo' ORDER BY version")
        .fetch_all(&db.pool).await.unwrap();
    assert_eq!(
        states,
        vec![(v2, "previous".to_string()), (restored, "live".to_string())]
    );
    assert_eq!(stage_tables(&db.pool).await, 0);
}

#[tokio::test]
async fn a_file_without_prj_or_srs_is_refused_with_the_fix() {
    let (files, mut opts) = sample_layer("kho_bai");
    opts.srs = None;
    let err = importer::import::dry_run(&files, &opts, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("kho_bai.shp") && err.contains("--srs"),
        "{err}"
    );
}

#[tokio::test]
async fn the_field_reports_layer_is_not_replaced_by_an_import() {
    let db = TestDb::new("managed_layer").await;
    let (files, mut opts) = sample_layer("cang_ben");
    opts.layer = "phan_anh".into();
    let before: i64 =
        sqlx::query_scalar("SELECT version FROM geokho.layers WHERE name = 'phan_anh'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let err = importer::import_layer(&db.pool, &files, &opts)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("phan_anh") && err.contains("API"), "{err}");
    let (after, kind): (i64, String) =
        sqlx::query_as("SELECT version, kind FROM geokho.layers WHERE name = 'phan_anh'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!((after, kind.as_str()), (before, "reports"));
    let cols: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'geokho_data' AND table_name = 'phan_anh' AND column_name = 'trang_thai'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(cols, 1, "the reports table is still the API's");
}

/// `<dir>/<name>.shp` holding the first `n` records of `src` (cut by GDAL).
fn first_records(src: &std::path::Path, name: &str, n: u32) -> PathBuf {
    let out = temp_dir("append").join(format!("{name}.shp"));
    let st = std::process::Command::new("ogr2ogr")
        .args(["-limit", &n.to_string(), "-lco", "ENCODING=UTF-8"])
        .arg(&out)
        .arg(src)
        .status()
        .unwrap();
    assert!(st.success());
    out
}

#[tokio::test]
async fn append_adds_a_version_with_old_and_new_features() {
    let db = TestDb::new("append").await;
    let (files, opts) = sample_layer("kho_bai");
    import_layer(&db.pool, &files, &opts).await.unwrap();
    let before = count(&db.pool, "kho_bai").await;
    let v1: i64 = sqlx::query_scalar("SELECT version FROM geokho.layers WHERE name = 'kho_bai'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let extra = first_records(&files[0], "kho_bai", 10);
    let mut app = opts.clone();
    app.append = true;
    let r = import_layer(&db.pool, &[extra], &app).await.unwrap();
    assert_eq!(r.features as i64, before + 10);
    assert_eq!(count(&db.pool, "kho_bai").await, before + 10);
    let (distinct, max, v2, in_catalog): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT count(DISTINCT fid), max(fid), (SELECT version FROM geokho.layers WHERE name = 'kho_bai'), \
         (SELECT feature_count FROM geokho.layers WHERE name = 'kho_bai') FROM geokho_data.kho_bai",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(distinct, before + 10, "fids stay unique");
    assert_eq!(max, before + 10);
    assert!(v2 > v1);
    assert_eq!(in_catalog, before + 10);
    // The appended copies equal their originals (text, geometry).
    let same: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM geokho_data.kho_bai a JOIN geokho_data.kho_bai b ON b.fid = a.fid + $1 \
         WHERE a.fid <= 10 AND a.ten = b.ten AND ST_Equals(a.geom, b.geom) AND a.geom_3857 IS NOT NULL",
    )
    .bind(before)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(same, 10);
    catalog::rollback(&db.pool, "kho_bai").await.unwrap();
    assert_eq!(
        count(&db.pool, "kho_bai").await,
        before,
        "rollback undoes the append"
    );

    // Different fields: refused, naming them; nothing changes.
    let (ports, _) = sample_layer("cang_ben");
    let mut wrong = app.clone();
    wrong.settings.renames = Some(Default::default()); // the warehouses' renames are not in these files
    let err = import_layer(&db.pool, &ports, &wrong)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("--append") && err.contains("loai_kho"),
        "{err}"
    );
    assert_eq!(count(&db.pool, "kho_bai").await, before);
    assert_eq!(stage_tables(&db.pool).await, 0);
    // Nothing to append to.
    let mut none = app.clone();
    none.layer = "kho_moi".into();
    let err = import_layer(&db.pool, &files, &none)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no live layer"), "{err}");
}
