//! Bad inputs through GDAL fail in one line naming the file (and layer)
//! and leave the live layer as it was: a damaged GeoPackage, a layer
//! selector naming no layer, a dataset of several layers without one,
//! mixed geometry types, no SRS.

use crate::common;

use common::{import, ogr2ogr, opts, s, sample, scalar_i64, selector};
use importer::{import_layer, LayerKind};
use testkit::{temp_dir, TestDb};

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
