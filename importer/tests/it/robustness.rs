//! Damaged and unusual inputs, generated from the samples: each either fails
//! with one line naming the file (never a panic, nothing staged, the live
//! layer untouched) or succeeds as docs/importer.md says; and Z/M shapefiles
//! round-trip through the importer with the documented dimensions.

use crate::common;

use std::path::{Path, PathBuf};

use importer::shapefile::{Dims, Shape, ShapeType, ShapefileWriter, WriteField, WriteValue};
use importer::{import_layer, ImportOptions, LayerKind};
use testkit::{repo_root, temp_dir, TestDb};

fn opts(layer: &str, srs: Option<i32>) -> ImportOptions {
    common::opts(layer, LayerKind::Generic, srs)
}

/// Copies the files of sample `name` (e.g. `cau`) into a fresh folder.
fn sample_copy(name: &str) -> PathBuf {
    let dir = temp_dir(&format!("robust-{name}"));
    for e in std::fs::read_dir(repo_root().join("data-samples").join(name)).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    dir.join(format!("{name}.shp"))
}

async fn plan_error(inputs: &[PathBuf]) -> String {
    match importer::import::dry_run(inputs, &opts("robust", None), None).await {
        Ok(r) => panic!(
            "{inputs:?} planned fine ({} records): expected an error",
            r.records
        ),
        Err(e) => e.to_string(),
    }
}

fn assert_one_line(err: &str, file: &str, words: &str) {
    assert!(
        !err.contains('\n') && err.contains(file) && err.contains(words) && !err.contains("panick"),
        "want one line naming {file} saying '{words}', got: {err}"
    );
}

fn edit(p: &Path, f: impl FnOnce(&mut Vec<u8>)) {
    let mut b = std::fs::read(p).unwrap();
    f(&mut b);
    std::fs::write(p, b).unwrap();
}

#[tokio::test]
async fn damaged_files_fail_with_one_line_errors_naming_the_file() {
    // Truncated .shp: the header (and .shx) promise more bytes than there are.
    let shp = sample_copy("duong_bo");
    edit(&shp, |b| b.truncate(b.len() / 2));
    assert_one_line(&plan_error(&[shp]).await, "duong_bo.shp", "truncated");

    // Truncated .shp whose header was rewritten to match: the .shx betrays it.
    let shp = sample_copy("duong_bo");
    edit(&shp, |b| {
        b.truncate(b.len() / 2);
        let words = (b.len() / 2) as i32;
        b[24..28].copy_from_slice(&words.to_be_bytes());
    });
    assert_one_line(&plan_error(&[shp]).await, "duong_bo.shp", "past the end");

    // Truncated .shp without .shx: the scan finds the cut record.
    let shp = sample_copy("duong_bo");
    edit(&shp, |b| {
        b.truncate(b.len() - 7);
        let words = (b.len() / 2) as i32;
        b[24..28].copy_from_slice(&words.to_be_bytes());
    });
    std::fs::remove_file(shp.with_extension("shx")).unwrap();
    assert_one_line(&plan_error(&[shp]).await, "duong_bo.shp", "truncated");

    // DBF record count that does not match the .shp.
    let shp = sample_copy("cau");
    edit(&shp.with_extension("dbf"), |b| {
        let n = u32::from_le_bytes(b[4..8].try_into().unwrap());
        b[4..8].copy_from_slice(&(n - 1).to_le_bytes());
    });
    assert_one_line(
        &plan_error(&[shp]).await,
        "cau.dbf",
        "records but the .shp has",
    );

    // Garbage instead of each part.
    for (ext, words) in [
        ("shp", "not a shapefile"),
        ("shx", "not a shapefile"),
        ("dbf", "impossible"),
    ] {
        let shp = sample_copy("cau");
        edit(&shp.with_extension(ext), |b| {
            b.iter_mut().for_each(|x| *x = 0xff)
        });
        assert_one_line(&plan_error(&[shp]).await, &format!("cau.{ext}"), words);
    }

    // Empty files: 0 bytes, and a header with no record.
    let shp = sample_copy("cau");
    std::fs::write(&shp, b"").unwrap();
    assert_one_line(&plan_error(&[shp]).await, "cau.shp", "100-byte");
    let dir = temp_dir("robust-empty");
    let empty = ShapefileWriter::create(&dir.join("empty"), ShapeType::Point(Dims::Xy), vec![])
        .unwrap()
        .finish()
        .unwrap();
    std::fs::write(empty.with_extension("prj"), "GEOGCS[\"GCS_WGS_1984\",DATUM[\"D_WGS_1984\",SPHEROID[\"WGS_1984\",6378137.0,298.257223563]]]").unwrap();
    assert_one_line(&plan_error(&[empty]).await, "empty.shp", "no records");

    // Mixed geometry types in one layer.
    let (roads, bridges) = (sample_copy("duong_bo"), sample_copy("cau"));
    let err = plan_error(&[roads, bridges]).await;
    assert!(
        err.contains("mixed geometry types")
            && err.contains("cau.shp")
            && err.contains("duong_bo.shp")
            && !err.contains('\n'),
        "{err}"
    );

    // A .dbf without its .shp; a .dbf with its .shp is that shapefile.
    let shp = sample_copy("cau");
    let dbf = shp.with_extension("dbf");
    let ok = importer::import::dry_run(std::slice::from_ref(&dbf), &opts("robust", None), None)
        .await
        .expect("a .dbf beside its .shp stands for it");
    assert_eq!(ok.files[0].path, shp);
    std::fs::remove_file(&shp).unwrap();
    assert_one_line(&plan_error(&[dbf]).await, "cau.dbf", "no .shp beside");

    // A .shp without its .dbf: the attributes are missing, refused.
    let shp = sample_copy("cau");
    std::fs::remove_file(shp.with_extension("dbf")).unwrap();
    assert_one_line(&plan_error(&[shp]).await, "cau.shp", "no .dbf beside it");
}

#[tokio::test]
async fn missing_shx_is_rebuilt_with_a_note_and_garbage_records_are_rejected() {
    let db = TestDb::new("robust_shx").await;
    let shp = sample_copy("duong_bo");
    let with = import_layer(
        &db.pool,
        std::slice::from_ref(&shp),
        &opts("with_shx", None),
    )
    .await
    .unwrap();
    std::fs::remove_file(shp.with_extension("shx")).unwrap();
    let without = import_layer(&db.pool, std::slice::from_ref(&shp), &opts("no_shx", None))
        .await
        .unwrap();
    assert!(!with.files[0].index_rebuilt && without.files[0].index_rebuilt);
    assert!(
        without.files[0].notes.iter().any(|n| n.contains("no .shx")),
        "{:?}",
        without.files[0].notes
    );
    assert_eq!(with.features, without.features);
    let differ: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM geokho_data.with_shx a FULL JOIN geokho_data.no_shx b USING (fid) \
         WHERE NOT coalesce(ST_OrderingEquals(a.geom, b.geom), false)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(differ, 0);

    // Record 3's shape type overwritten with junk: that record alone is rejected.
    edit(&shp, |b| {
        let mut at = 100usize;
        for _ in 0..2 {
            at += 8 + 2 * i32::from_be_bytes(b[at + 4..at + 8].try_into().unwrap()) as usize;
        }
        b[at + 8..at + 12].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    });
    let r = import_layer(&db.pool, std::slice::from_ref(&shp), &opts("junk", None))
        .await
        .unwrap();
    assert_eq!(r.features, with.features - 1);
    assert_eq!(
        (r.rejects.rejected, r.rejects.nulled),
        (1, 0),
        "{:?}",
        r.rejects
    );
    let rej = &r.rejects.sample[0];
    assert!(
        rej.record == 3 && !rej.kept && rej.reason.contains("shape type"),
        "{rej:?}"
    );
}

#[tokio::test]
async fn untransformable_coordinates_fail_in_one_line_and_leave_the_live_layer() {
    let db = TestDb::new("robust_crs").await;
    let dir = temp_dir("robust-crs");
    let write = |name: &str, x: f64| {
        let mut w = ShapefileWriter::create(
            &dir.join(name),
            ShapeType::Point(Dims::Xy),
            vec![WriteField::int("n", 4)],
        )
        .unwrap();
        w.write(&Shape::Point(x, x), &[WriteValue::Int(1)]).unwrap();
        w.finish().unwrap()
    };
    let good = write("good", 600_000.0);
    let bad = write("bad", 1e9);
    import_layer(&db.pool, &[good], &opts("pts", Some(2260)))
        .await
        .unwrap();
    let err = import_layer(&db.pool, &[bad], &opts("pts", Some(2260)))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("layer pts:")
            && err.contains("EPSG:2260")
            && err.contains("Web Mercator")
            && !err.contains('\n'),
        "{err}"
    );
    let live: f64 = sqlx::query_scalar("SELECT ST_X(geom) FROM geokho_data.pts")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(live, 600_000.0, "the live layer is untouched");
    let staged: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'geokho_stage'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(staged, 0);
    let unknown = import_layer(
        &db.pool,
        &[write("unknown", 5.0)],
        &opts("unk", Some(12_345)),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        unknown.contains("EPSG:12345") && unknown.contains("spatial_ref_sys"),
        "{unknown}"
    );
}

/// Writes one record of `t` with Z and/or M ordinates and imports it.
async fn round_trip(
    db: &TestDb,
    t: ShapeType,
    shape: Shape,
    z: &[f64],
    m: &[f64],
) -> (String, String) {
    let layer = format!("zm_{}", t.code());
    let dir = temp_dir(&layer);
    let mut w =
        ShapefileWriter::create(&dir.join(&layer), t, vec![WriteField::int("n", 4)]).unwrap();
    w.write_zm(&shape, z, m, &[WriteValue::Int(7)]).unwrap();
    let shp = w.finish().unwrap();
    let r = import_layer(&db.pool, &[shp], &opts(&layer, Some(4326)))
        .await
        .unwrap();
    let wkt: String =
        sqlx::query_scalar(&format!("SELECT ST_AsText(geom) FROM geokho_data.{layer}"))
            .fetch_one(&db.pool)
            .await
            .unwrap();
    (r.geometry_type, wkt)
}

#[tokio::test]
async fn z_and_m_shapefiles_round_trip() {
    let db = TestDb::new("robust_zm").await;
    let (t, wkt) = round_trip(
        &db,
        ShapeType::Point(Dims::Xyz),
        Shape::Point(1.0, 2.0),
        &[3.0],
        &[4.0],
    )
    .await;
    assert_eq!(
        (t.as_str(), wkt.as_str()),
        ("PointZ", "POINT Z (1 2 3)"),
        "Z kept, M dropped"
    );
    let ring = vec![(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0), (0.0, 0.0)];
    let (t, wkt) = round_trip(
        &db,
        ShapeType::Polygon(Dims::Xyz),
        Shape::Polygon(vec![ring]),
        &[5.0, 6.0, 7.0, 8.0, 5.0],
        &[],
    )
    .await;
    assert_eq!(t, "MultiPolygonZ");
    assert_eq!(wkt, "MULTIPOLYGON Z (((0 0 5,0 1 6,1 1 7,1 0 8,0 0 5)))");
    let line = vec![
        vec![(0.0, 0.0), (2.0, 0.0)],
        vec![(5.0, 5.0), (6.0, 6.0), (7.0, 5.0)],
    ];
    let (t, wkt) = round_trip(
        &db,
        ShapeType::PolyLine(Dims::Xym),
        Shape::PolyLine(line),
        &[],
        &[0.0, 2.0, 10.0, 11.5, 13.0],
    )
    .await;
    assert_eq!(t, "MultiLineStringM");
    assert_eq!(
        wkt,
        "MULTILINESTRING M ((0 0 0,2 0 2),(5 5 10,6 6 11.5,7 5 13))"
    );
    // A counter-clockwise outer ring is re-oriented by the writer with its Z values.
    let ccw = vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)];
    let (_, wkt) = round_trip(
        &db,
        ShapeType::Polygon(Dims::Xym),
        Shape::Polygon(vec![ccw]),
        &[],
        &[1.0, 2.0, 3.0, 1.0],
    )
    .await;
    assert_eq!(wkt, "MULTIPOLYGON M (((0 0 1,1 1 3,1 0 2,0 0 1)))");
}

/// Rewrites every point of the Point shapefile `shp` (and its header's
/// bounding box) with `f`.
fn move_points(shp: &Path, f: impl Fn(f64, f64) -> (f64, f64)) {
    edit(shp, |b| {
        let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
        let mut at = 100usize;
        while at + 8 <= b.len() {
            let len = 2 * i32::from_be_bytes(b[at + 4..at + 8].try_into().unwrap()) as usize;
            let c = at + 8;
            assert_eq!(
                i32::from_le_bytes(b[c..c + 4].try_into().unwrap()),
                1,
                "Point records"
            );
            let x = f64::from_le_bytes(b[c + 4..c + 12].try_into().unwrap());
            let y = f64::from_le_bytes(b[c + 12..c + 20].try_into().unwrap());
            let (x, y) = f(x, y);
            b[c + 4..c + 12].copy_from_slice(&x.to_le_bytes());
            b[c + 12..c + 20].copy_from_slice(&y.to_le_bytes());
            bbox = [
                bbox[0].min(x),
                bbox[1].min(y),
                bbox[2].max(x),
                bbox[3].max(y),
            ];
            at = c + len;
        }
        for (i, v) in bbox.iter().enumerate() {
            b[36 + 8 * i..44 + 8 * i].copy_from_slice(&v.to_le_bytes());
        }
    });
}

#[tokio::test]
async fn implausible_coordinates_are_refused_naming_the_likely_cause() {
    // The bridges are in VN-2000 / Tiền Giang's TM-3 zone (EPSG:9210).
    type Move = fn(f64, f64) -> (f64, f64);
    let cases: [(&str, Move); 3] = [
        ("X/Y are swapped", |x, y| (y, x)),
        // Lon/lat written into a file whose .prj says VN-2000.
        ("look like degrees", |x, y| {
            (
                106.0 + (x - 566_000.0) / 1e5,
                10.3 + (y - 1_143_000.0) / 1e5,
            )
        }),
        // Eastings 3 000 km east: another zone's or another CRS's numbers.
        ("outside Vietnam for EPSG:9210", |x, y| (x + 3.0e6, y)),
    ];
    for (words, f) in cases {
        let shp = sample_copy("cau");
        move_points(&shp, f);
        assert_one_line(
            &plan_error(std::slice::from_ref(&shp)).await,
            "cau.shp",
            words,
        );
        // The same points through GDAL (a GeoPackage keeps the VN-2000 CRS).
        let gpkg = shp.with_extension("gpkg");
        common::ogr2ogr(&["-f", "GPKG", common::s(&gpkg), common::s(&shp)]);
        assert_one_line(&plan_error(&[gpkg]).await, "cau.gpkg", words);
    }
}

/// A custom VN-2000 TM-3 as QGIS, MapInfo and converters export it: the
/// WGS 84 ellipsoid and datum name with VN-2000's TOWGS84 (`rotations`: the
/// last four numbers), Central_Meridian 105°45'.
fn custom_vn2000_prj(towgs: &str) -> String {
    format!(
        r#"PROJCS["VN-2000 / TM-3 Tien Giang (custom)",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137,298.257223563],TOWGS84[{towgs}]],PRIMEM["Greenwich",0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000],PARAMETER["False_Northing",0],PARAMETER["Central_Meridian",105.75],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0],UNIT["Meter",1]]"#
    )
}

#[tokio::test]
async fn a_datum_shift_in_the_prj_is_never_read_as_wgs84() {
    let db = TestDb::new("robust_towgs84").await;
    // The set circulating on Vietnamese sites (rotation signs of the other convention).
    let shp = sample_copy("cau");
    std::fs::write(
        shp.with_extension("prj"),
        custom_vn2000_prj("-191.90441429,-39.30318279,-111.45032835,-0.00928836,0.01975479,-0.00427372,0.252906278"),
    )
    .unwrap();
    let r = common::import(&db, &shp, &opts("cau_custom", None)).await;
    assert_eq!(r.srid, 9210, "{}", r.files[0].srid_how);
    assert!(
        r.files[0].srid_how.contains("VN-2000")
            && r.files[0].srid_how.contains("other sign convention"),
        "{}",
        r.files[0].srid_how
    );
    // Where the points land: exactly where the sample's own .prj puts them
    // (PostGIS's transformation of EPSG:9210), within a millimetre.
    common::import(&db, &common::sample("cau/cau.shp"), &opts("cau_ref", None)).await;
    let off = common::scalar_f64(
        &db.pool,
        "SELECT max(ST_Distance(a.geom_3857, b.geom_3857)) FROM geokho_data.cau_custom a \
         JOIN geokho_data.cau_ref b USING (fid)",
    )
    .await;
    assert!(off < 0.001, "{off} m apart");

    // Another datum's shift on a WGS 84 ellipsoid: refused in one line
    // naming the .prj; nothing is published.
    std::fs::write(
        shp.with_extension("prj"),
        custom_vn2000_prj("198,881,317,0,0,0,0"),
    )
    .unwrap();
    let err = importer::import_layer(
        &db.pool,
        std::slice::from_ref(&shp),
        &opts("cau_other", None),
    )
    .await
    .unwrap_err()
    .to_string();
    assert_one_line(&err, "cau.prj", "not WGS 84");
    let published = common::scalar_i64(
        &db.pool,
        "SELECT count(*) FROM geokho.layers WHERE name = 'cau_other'",
    )
    .await;
    assert_eq!(published, 0);
}

#[tokio::test]
async fn srs_beside_a_prj_that_disagrees_is_refused_unless_overridden() {
    let shp = sample_copy("cau"); // its .prj says EPSG:9210
    let mut o = opts("cau_srs", Some(9209));
    let err = importer::import::dry_run(std::slice::from_ref(&shp), &o, None)
        .await
        .unwrap_err()
        .to_string();
    assert_one_line(&err, "cau.prj", "EPSG:9210 but --srs says EPSG:9209");
    assert!(err.contains("--srs-override"), "{err}");
    // The same code as the .prj: fine.
    let same = importer::import::dry_run(
        std::slice::from_ref(&shp),
        &opts("cau_srs", Some(9210)),
        None,
    )
    .await
    .unwrap();
    assert_eq!(same.srid, 9210);
    // Overridden on purpose: read in --srs, and the summary says so.
    o.srs_override = true;
    let r = importer::import::dry_run(std::slice::from_ref(&shp), &o, None)
        .await
        .unwrap();
    assert_eq!(r.srid, 9209);
    assert!(
        r.files[0].srid_how.contains("--srs-override"),
        "{}",
        r.files[0].srid_how
    );
}
