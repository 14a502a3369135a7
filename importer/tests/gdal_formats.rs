//! Formats GDAL reads, against the shapefile import of the same data: the
//! sample layers are converted with `ogr2ogr` at test time (GeoPackage with
//! several layers, GeoJSON, MapInfo TAB, DGN v7, FileGDB), imported, and
//! compared with the shapefile import in the same database: feature count,
//! the attribute values each format keeps, geometries within a tolerance
//! (Hausdorff distance: TAB and DGN store coordinates on a grid), and
//! Vietnamese text intact (equal to the shapefile's, no U+FFFD), TCVN3 bytes
//! in a TAB included. Then bad inputs: a damaged GeoPackage (the live layer
//! stays as it was), a layer selector naming no layer, a dataset of several
//! layers without one, mixed geometry types, no SRS.

use std::path::{Path, PathBuf};
use std::process::Command;

use importer::encoding::TextEncoding;
use importer::plan::PlanOptions;
use importer::{import_layer, ImportOptions, ImportReport, LayerKind};
use sqlx::PgPool;
use testkit::{repo_root, temp_dir, TestDb};

fn opts(layer: &str, kind: LayerKind, srs: Option<i32>) -> ImportOptions {
    ImportOptions {
        plan: PlanOptions {
            layer: layer.into(),
            kind,
            srs,
            encoding: None,
            schema: Default::default(),
        },
        title: None,
        zoom: None,
        public: true,
        dry_run: false,
        if_changed: false,
        connections: 2,
        append: false,
    }
}

fn sample(rel: &str) -> PathBuf {
    repo_root().join("data-samples").join(rel)
}

fn ogr2ogr(args: &[&str]) {
    let out = Command::new("ogr2ogr")
        .args(args)
        .output()
        .expect("ogr2ogr runs (gdal-bin)");
    assert!(
        out.status.success(),
        "ogr2ogr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn selector(p: &Path, layer: &str) -> PathBuf {
    PathBuf::from(format!("{}:{layer}", p.display()))
}

async fn import(db: &TestDb, input: &Path, o: &ImportOptions) -> ImportReport {
    import_layer(&db.pool, &[input.to_path_buf()], o)
        .await
        .unwrap_or_else(|e| panic!("{} imports: {e}", input.display()))
}

async fn scalar_i64(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Compares layer `got` with the shapefile import `want`, feature by feature.
async fn same_as(db: &TestDb, want: &str, got: &str, fields: &[&str], tolerance: f64) {
    let pool = &db.pool;
    let (a, b) = (format!("geokho_data.{want}"), format!("geokho_data.{got}"));
    let n_want = scalar_i64(pool, &format!("SELECT count(*) FROM {a}")).await;
    let n_got = scalar_i64(pool, &format!("SELECT count(*) FROM {b}")).await;
    assert!(n_want > 0);
    assert_eq!(n_got, n_want, "{got}: feature count");
    let far: f64 = sqlx::query_scalar(&format!(
        "SELECT coalesce(max(ST_HausdorffDistance(a.geom, b.geom)), 1e9) FROM {a} a JOIN {b} b USING (fid)"
    ))
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(
        far <= tolerance,
        "{got}: geometries {far} m apart (tolerance {tolerance})"
    );
    let types = scalar_i64(
        pool,
        &format!(
            "SELECT count(*) FROM {a} a JOIN {b} b USING (fid) WHERE GeometryType(a.geom) <> GeometryType(b.geom) \
             OR ST_SRID(a.geom) <> ST_SRID(b.geom)"
        ),
    )
    .await;
    assert_eq!(types, 0, "{got}: geometry types and SRIDs equal");
    for f in fields {
        let differ = scalar_i64(
            pool,
            &format!(
                "SELECT count(*) FROM {a} a JOIN {b} b USING (fid) WHERE a.{f}::text IS DISTINCT FROM b.{f}::text"
            ),
        )
        .await;
        assert_eq!(differ, 0, "{got}.{f}: values differ from the shapefile's");
    }
    let replaced = scalar_i64(
        pool,
        &format!("SELECT count(*) FROM {b} b WHERE strpos(row_to_json(b)::text, chr(65533)) > 0"),
    )
    .await;
    assert_eq!(replaced, 0, "{got}: no U+FFFD in any value");
}

const PARCEL_FIELDS: &[&str] = &[
    "ma_xa",
    "so_to",
    "so_thua",
    "dien_tich",
    "loai_dat",
    "dia_chi",
    "ten_chu",
    "so_gcn",
    "tt_gcn",
    "ngay_cap",
];
const ROAD_FIELDS: &[&str] = &[
    "ten_duong",
    "cap_ql",
    "so_lan",
    "be_rong",
    "ket_cau",
    "toc_do",
];
const WAREHOUSE_FIELDS: &[&str] = &[
    "ten",
    "dia_chi",
    "loai_kho",
    "dt_m2",
    "suc_chua",
    "dich_vu",
    "dv_kt",
    "ma_so_thue",
];

#[tokio::test]
async fn every_format_imports_like_the_shapefile() {
    let db = TestDb::new("gdal_formats").await;
    let dir = temp_dir("gdal-formats");
    let td = sample("thua_dat/thua_dat_28261.shp");
    let td_tcvn3 = sample("thua_dat/thua_dat_28267.shp");
    let roads = sample("duong_bo/duong_bo.shp");
    let kho = sample("kho_bai/kho_bai.shp");

    // The shapefile imports everything is compared with.
    import(&db, &td, &opts("ref_td", LayerKind::Parcels, None)).await;
    let r = import(&db, &td_tcvn3, &opts("ref_td3", LayerKind::Parcels, None)).await;
    assert_eq!(r.files[0].encoding, "tcvn3");
    import(&db, &roads, &opts("ref_roads", LayerKind::Roads, None)).await;
    import(
        &db,
        &kho,
        &opts("ref_kho", LayerKind::Warehouses, Some(9210)),
    )
    .await;

    // GeoPackage of three layers; the layer is picked with FILE:LAYER.
    let gpkg = dir.join("tien_giang.gpkg");
    ogr2ogr(&["-f", "GPKG", s(&gpkg), s(&td), "-nln", "thua_dat"]);
    ogr2ogr(&["-update", s(&gpkg), s(&roads), "-nln", "duong_bo"]);
    ogr2ogr(&[
        "-update",
        s(&gpkg),
        s(&kho),
        "-nln",
        "kho_bai",
        "-a_srs",
        "EPSG:9210",
    ]);
    let r = import(
        &db,
        &selector(&gpkg, "thua_dat"),
        &opts("gpkg_td", LayerKind::Parcels, None),
    )
    .await;
    assert_eq!((r.srid, r.geometry_type.as_str()), (9210, "MultiPolygon"));
    assert!(r.files[0].path.ends_with("tien_giang.gpkg:thua_dat"));
    same_as(&db, "ref_td", "gpkg_td", PARCEL_FIELDS, 1e-9).await;
    import(
        &db,
        &selector(&gpkg, "duong_bo"),
        &opts("gpkg_roads", LayerKind::Roads, None),
    )
    .await;
    same_as(&db, "ref_roads", "gpkg_roads", ROAD_FIELDS, 1e-9).await;
    let r = import(
        &db,
        &selector(&gpkg, "kho_bai"),
        &opts("gpkg_kho", LayerKind::Warehouses, None),
    )
    .await;
    assert_eq!(r.geometry_type, "Point");
    same_as(&db, "ref_kho", "gpkg_kho", WAREHOUSE_FIELDS, 1e-9).await;
    // The restricted defaults of the kind apply as for shapefiles.
    let restricted: Vec<String> = r
        .fields
        .iter()
        .filter(|f| f.restricted)
        .map(|f| f.name.clone())
        .collect();
    let want: Vec<String> = import(
        &db,
        &kho,
        &opts("ref_kho2", LayerKind::Warehouses, Some(9210)),
    )
    .await
    .fields
    .iter()
    .filter(|f| f.restricted)
    .map(|f| f.name.clone())
    .collect();
    assert_eq!(restricted, want);

    // GeoJSON (the SRS travels as an EPSG code).
    let geojson = dir.join("kho_bai.geojson");
    ogr2ogr(&["-f", "GeoJSON", s(&geojson), s(&kho), "-a_srs", "EPSG:9210"]);
    import(
        &db,
        &geojson,
        &opts("json_kho", LayerKind::Warehouses, None),
    )
    .await;
    same_as(&db, "ref_kho", "json_kho", WAREHOUSE_FIELDS, 1e-9).await;

    // MapInfo TAB: GDAL 3.6 writes no VN-2000 datum, so --srs; coordinates on a grid.
    let tab = dir.join("thua_dat.tab");
    ogr2ogr(&["-f", "MapInfo File", s(&tab), s(&td)]);
    import(&db, &tab, &opts("tab_td", LayerKind::Parcels, Some(9210))).await;
    same_as(&db, "ref_td", "tab_td", PARCEL_FIELDS, 0.05).await;
    // A TAB holding the TCVN3 bytes of a legacy DBF (charset Neutral): detected, not mangled.
    let tab3 = dir.join("thua_dat_tcvn3.tab");
    let out = Command::new("ogr2ogr")
        .args([
            "--config",
            "SHAPE_ENCODING",
            "",
            "-f",
            "MapInfo File",
            s(&tab3),
            s(&td_tcvn3),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = import(&db, &tab3, &opts("tab_td3", LayerKind::Parcels, Some(9210))).await;
    assert_eq!(r.files[0].encoding, "tcvn3", "{}", r.files[0].encoding_how);
    same_as(&db, "ref_td3", "tab_td3", PARCEL_FIELDS, 0.05).await;
    let mut forced = opts("tab_td3f", LayerKind::Parcels, Some(9210));
    forced.plan.encoding = Some(TextEncoding::Tcvn3);
    import(&db, &tab3, &forced).await;
    same_as(&db, "ref_td3", "tab_td3f", PARCEL_FIELDS, 0.05).await;

    // The same bytes in a TAB that declares a Western charset (as agency files
    // often do): GDAL recodes them to UTF-8 mojibake; the detector undoes it.
    let tab3l = dir.join("thua_dat_latin1.tab");
    for ext in ["dat", "map", "id"] {
        std::fs::copy(tab3.with_extension(ext), tab3l.with_extension(ext)).unwrap();
    }
    let header = std::fs::read(&tab3).unwrap();
    let header =
        String::from_utf8_lossy(&header).replace("!charset Neutral", "!charset WindowsLatin1");
    assert!(header.contains("WindowsLatin1"));
    std::fs::write(&tab3l, header).unwrap();
    let r = import(
        &db,
        &tab3l,
        &opts("tab_td3l", LayerKind::Parcels, Some(9210)),
    )
    .await;
    assert_eq!(r.files[0].encoding, "tcvn3", "{}", r.files[0].encoding_how);
    same_as(&db, "ref_td3", "tab_td3l", PARCEL_FIELDS, 0.05).await;

    // DGN v7: no SRS and fixed DGN attributes (type, level, ...): geometry only.
    let dgn = dir.join("duong_bo.dgn");
    ogr2ogr(&["-f", "DGN", s(&dgn), s(&roads)]);
    let r = import(
        &db,
        &dgn,
        &opts("dgn_roads", LayerKind::Generic, Some(9210)),
    )
    .await;
    assert_eq!(r.geometry_type, "MultiLineString");
    same_as(&db, "ref_roads", "dgn_roads", &[], 0.05).await;

    // FileGDB (a folder) of two layers: coordinates on its 0.1 mm grid, dates
    // stored as datetimes at midnight.
    let gdb = dir.join("tien_giang.gdb");
    ogr2ogr(&["-f", "OpenFileGDB", s(&gdb), s(&td), "-nln", "thua_dat"]);
    ogr2ogr(&[
        "-f",
        "OpenFileGDB",
        "-update",
        s(&gdb),
        s(&roads),
        "-nln",
        "duong_bo",
    ]);
    let r = import(
        &db,
        &selector(&gdb, "thua_dat"),
        &opts("gdb_td", LayerKind::Parcels, None),
    )
    .await;
    let ngay = r.fields.iter().find(|f| f.name == "ngay_cap").unwrap();
    assert_eq!(ngay.field_type, catalog::FieldType::Date);
    same_as(&db, "ref_td", "gdb_td", PARCEL_FIELDS, 1e-3).await;
    import(
        &db,
        &selector(&gdb, "duong_bo"),
        &opts("gdb_roads", LayerKind::Roads, None),
    )
    .await;
    same_as(&db, "ref_roads", "gdb_roads", ROAD_FIELDS, 1e-3).await;
}

fn assert_one_line(err: &str, names: &str, words: &str) {
    assert!(
        err.contains(names) && err.contains(words) && !err.contains('\n'),
        "expected one line naming {names} with '{words}': {err}"
    );
}

#[tokio::test]
async fn bad_inputs_fail_in_one_line_and_leave_the_live_layer() {
    let db = TestDb::new("gdal_bad").await;
    let dir = temp_dir("gdal-bad");
    let kho = sample("kho_bai/kho_bai.shp");
    let live = import(&db, &kho, &opts("kho", LayerKind::Warehouses, Some(9210))).await;
    let before = live.version;

    // A damaged GeoPackage: the first 3000 bytes of a real one, and junk.
    let good = dir.join("good.gpkg");
    ogr2ogr(&["-f", "GPKG", s(&good), s(&kho), "-a_srs", "EPSG:9210"]);
    let cut = dir.join("cut.gpkg");
    std::fs::write(&cut, &std::fs::read(&good).unwrap()[..3000]).unwrap();
    let junk = dir.join("junk.gpkg");
    std::fs::write(&junk, b"SQLite format 3\0 but not really, just junk bytes").unwrap();
    for bad in [&cut, &junk] {
        let err = import_layer(
            &db.pool,
            std::slice::from_ref(bad),
            &opts("kho", LayerKind::Warehouses, None),
        )
        .await
        .unwrap_err()
        .to_string();
        let name = bad.file_name().unwrap().to_str().unwrap();
        assert!(err.contains(name) && !err.contains('\n'), "{err}");
    }
    let now = catalog::get_layer(&db.pool, "kho").await.unwrap().unwrap();
    assert_eq!(Some(now.version), before, "the live layer is untouched");
    let n = scalar_i64(&db.pool, "SELECT count(*) FROM geokho_data.kho").await;
    assert_eq!(n as u64, live.features);

    // Several layers: a selector naming no layer, and no selector at all.
    let multi = dir.join("multi.gpkg");
    ogr2ogr(&[
        "-f",
        "GPKG",
        s(&multi),
        s(&kho),
        "-nln",
        "kho_bai",
        "-a_srs",
        "EPSG:9210",
    ]);
    ogr2ogr(&[
        "-update",
        s(&multi),
        s(&sample("cau/cau.shp")),
        "-nln",
        "cau",
    ]);
    let err = import_layer(
        &db.pool,
        &[selector(&multi, "nope")],
        &opts("x", LayerKind::Generic, None),
    )
    .await
    .unwrap_err()
    .to_string();
    assert_one_line(
        &err,
        "multi.gpkg",
        "has no layer 'nope'; its layers: kho_bai, cau",
    );
    let err = import_layer(
        &db.pool,
        std::slice::from_ref(&multi),
        &opts("x", LayerKind::Generic, None),
    )
    .await
    .unwrap_err()
    .to_string();
    assert_one_line(
        &err,
        "multi.gpkg",
        "holds 2 layers (kho_bai, cau): name one as",
    );

    // Mixed geometry types for a polygon kind.
    let mixed = dir.join("mixed.geojson");
    std::fs::write(
        &mixed,
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"so_thua":1},"geometry":{"type":"Polygon","coordinates":[[[106.3,10.3],[106.31,10.3],[106.31,10.31],[106.3,10.3]]]}},
{"type":"Feature","properties":{"so_thua":2},"geometry":{"type":"Point","coordinates":[106.3,10.3]}}]}"#,
    )
    .unwrap();
    let err = import_layer(&db.pool, &[mixed], &opts("x", LayerKind::Parcels, None))
        .await
        .unwrap_err()
        .to_string();
    assert_one_line(
        &err,
        "mixed.geojson",
        "mixed geometry types (1 Point, 1 Polygon)",
    );

    // No SRS in the file and no --srs.
    let no_srs = dir.join("no_srs.gpkg");
    ogr2ogr(&["-f", "GPKG", s(&no_srs), s(&kho)]);
    let err = import_layer(&db.pool, &[no_srs], &opts("x", LayerKind::Warehouses, None))
        .await
        .unwrap_err()
        .to_string();
    assert_one_line(&err, "no_srs.gpkg", "has no coordinate system and no --srs");

    // Not a vector dataset at all.
    let text = dir.join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let err = import_layer(&db.pool, &[text], &opts("x", LayerKind::Generic, None))
        .await
        .unwrap_err()
        .to_string();
    assert_one_line(&err, "notes.txt", "cannot be read as a vector dataset");
    let n = scalar_i64(&db.pool, "SELECT count(*) FROM geokho_data.kho").await;
    assert_eq!(n as u64, live.features, "the live layer still serves");
}

#[tokio::test]
async fn curves_collections_empty_geometries_and_zm_follow_the_shapefile_policy() {
    let db = TestDb::new("gdal_geom").await;
    let dir = temp_dir("gdal-geom");
    let curves = dir.join("curves.csv");
    std::fs::write(
        &curves,
        "id,WKT\n\
         1,\"CURVEPOLYGON(CIRCULARSTRING(566000 1145000,566100 1145100,566200 1145000,566100 1144900,566000 1145000))\"\n\
         2,\"POLYGON((566300 1145000,566400 1145000,566400 1145100))\"\n\
         3,\"GEOMETRYCOLLECTION(POLYGON((566500 1145000,566600 1145000,566600 1145100,566500 1145000)),MULTIPOLYGON(((566700 1145000,566800 1145000,566800 1145100,566700 1145000))))\"\n\
         4,\"POLYGON EMPTY\"\n\
         5,\n",
    )
    .unwrap();
    let zm = dir.join("zm.csv");
    std::fs::write(
        &zm,
        "id,WKT\n1,\"POINT ZM (566000 1145000 5 7)\"\n2,\"POINT Z (566001 1145001 6)\"\n",
    )
    .unwrap();
    let gpkg = dir.join("geom.gpkg");
    ogr2ogr(&[
        "-f",
        "GPKG",
        s(&gpkg),
        s(&curves),
        "-a_srs",
        "EPSG:9210",
        "-nln",
        "curves",
    ]);
    ogr2ogr(&[
        "-update",
        s(&gpkg),
        s(&zm),
        "-a_srs",
        "EPSG:9210",
        "-nln",
        "zm",
    ]);

    let r = import(
        &db,
        &selector(&gpkg, "curves"),
        &opts("curves", LayerKind::Planning, None),
    )
    .await;
    assert_eq!(r.geometry_type, "MultiPolygon");
    assert_eq!(
        (r.features, r.null_geometries),
        (5, 2),
        "empty and missing geometries are NULL rows"
    );
    assert_eq!(r.ring_fixes, 1, "the unclosed ring of feature 2 was closed");
    let row = |id: &str| format!("SELECT {{}} FROM geokho_data.curves WHERE id = '{id}'");
    let circle: (i32, f64) =
        sqlx::query_as(&row("1").replace("{}", "ST_NPoints(geom), ST_Area(geom)"))
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(
        circle.0 > 20,
        "the circular arc is linearised: {} points",
        circle.0
    );
    let pi_r2 = std::f64::consts::PI * 100.0 * 100.0;
    assert!(
        (circle.1 - pi_r2).abs() / pi_r2 < 0.01,
        "area {} ~ {pi_r2}",
        circle.1
    );
    let parts: i32 = sqlx::query_scalar(&row("3").replace("{}", "ST_NumGeometries(geom)"))
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(parts, 2, "the collection's polygons form one MultiPolygon");

    let r = import(
        &db,
        &selector(&gpkg, "zm"),
        &opts("zm", LayerKind::Generic, None),
    )
    .await;
    assert_eq!(r.geometry_type, "PointZ", "Z kept, the M of ZM dropped");
    let z: Vec<(f64, Option<f64>)> =
        sqlx::query_as("SELECT ST_Z(geom), ST_M(geom) FROM geokho_data.zm ORDER BY fid")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(z, vec![(5.0, None), (6.0, None)]);
}

#[tokio::test]
async fn append_and_manifests_take_gdal_sources() {
    let db = TestDb::new("gdal_append").await;
    let dir = temp_dir("gdal-append");
    let kho = sample("kho_bai/kho_bai.shp");
    let first = import(&db, &kho, &opts("kho", LayerKind::Warehouses, Some(9210))).await;
    let geojson = dir.join("kho_bai.geojson");
    ogr2ogr(&["-f", "GeoJSON", s(&geojson), s(&kho), "-a_srs", "EPSG:9210"]);
    let mut o = opts("kho", LayerKind::Warehouses, None);
    o.append = true;
    let r = import(&db, &geojson, &o).await;
    let n = scalar_i64(&db.pool, "SELECT count(*) FROM geokho_data.kho").await;
    assert_eq!(n as u64, 2 * first.features, "appended");
    assert!(r.version > first.version);
    let fids = scalar_i64(&db.pool, "SELECT count(DISTINCT fid) FROM geokho_data.kho").await;
    assert_eq!(fids, n, "fids continue after the live layer's");

    // A manifest names a layer of a dataset with FILE:LAYER (no glob).
    let gpkg = dir.join("tg.gpkg");
    ogr2ogr(&[
        "-f",
        "GPKG",
        s(&gpkg),
        s(&kho),
        "-nln",
        "kho_bai",
        "-a_srs",
        "EPSG:9210",
    ]);
    ogr2ogr(&[
        "-update",
        s(&gpkg),
        s(&sample("cau/cau.shp")),
        "-nln",
        "cau",
    ]);
    let m = dir.join("layers.toml");
    std::fs::write(
        &m,
        "[[layer]]\nname = \"cau_gpkg\"\nkind = \"bridges\"\nfiles = [\"tg.gpkg:cau\"]\n",
    )
    .unwrap();
    let layers = importer::manifest::load(&m).unwrap();
    assert_eq!(layers[0].files, vec![selector(&gpkg, "cau")]);
    let mut o = opts("cau_gpkg", LayerKind::Bridges, None);
    o.plan = layers[0].plan.clone();
    let r = import_layer(&db.pool, &layers[0].files, &o).await.unwrap();
    import(
        &db,
        &sample("cau/cau.shp"),
        &opts("cau", LayerKind::Bridges, None),
    )
    .await;
    assert!(r.features > 0);
    same_as(&db, "cau", "cau_gpkg", &["ten_cau", "tai_trong"], 1e-9).await;
}
