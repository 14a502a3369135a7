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

use crate::common;

use std::process::Command;

use common::{import, ogr2ogr, opts, s, sample, scalar_i64, selector};
use importer::encoding::TextEncoding;
use importer::{import_layer, LayerKind};
use testkit::{temp_dir, TestDb};

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
    testkit::assert_success(&out, "ogr2ogr to a MapInfo TAB");
    let r = import(&db, &tab3, &opts("tab_td3", LayerKind::Parcels, Some(9210))).await;
    assert_eq!(r.files[0].encoding, "tcvn3", "{}", r.files[0].encoding_how);
    same_as(&db, "ref_td3", "tab_td3", PARCEL_FIELDS, 0.05).await;
    let mut forced = opts("tab_td3f", LayerKind::Parcels, Some(9210));
    forced.encoding = Some(TextEncoding::Tcvn3);
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
    o.settings = layers[0].settings.clone();
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
