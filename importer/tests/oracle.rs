//! The outside oracle (`make oracle`): every shapefile of PostGIS's own
//! loader regression suite and pyshp's edge cases, imported by geokho and by
//! `shp2pgsql -D` into one database and compared record by record: counts,
//! geometry (ST_OrderingEquals after our Z/M policy), every attribute value.
//! Files geokho refuses must fail with a one-line error naming the file.
//! Differences with shp2pgsql are asserted as documented in docs/importer.md,
//! never skipped. Needs GEOKHO_CORPUS (set by scripts/oracle.sh) and the test
//! cluster; built only with `--features oracle`.

#[path = "oracle/support.rs"]
mod support;

use std::path::{Path, PathBuf};

use importer::shapefile::{Dims, ShapeType};
use importer::{import_layer, ImportOptions, LayerKind, SettingsRequest};
use support::{compare, corpus, shape_type, shp2pgsql, with_null_shapes};
use testkit::{temp_dir, TestDb};

/// What the oracle expects of one corpus file.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Same records, geometry and attributes as shp2pgsql.
    Same,
    /// A lone `.dbf`: geokho refuses it (one line, naming it); beside a
    /// `.shp` of null shapes its attributes equal shp2pgsql's `-n` load.
    DbfOnly,
    /// No `.shx`: geokho rebuilds the index (and says so); shp2pgsql cannot
    /// open the `.shp`, so it loads a copy whose `.shx` GDAL restored.
    ShxMissing,
    /// A Null-typed file with records: shp2pgsql refuses the type ("Unknown
    /// geometry type: 0"); geokho loads NULL geometries and the attributes,
    /// which must equal shp2pgsql's attribute-only (-n) load.
    NullType,
    /// Refused with a one-line error naming the file and containing this.
    Refused(&'static str),
}

struct Case {
    /// Path under the corpus's x/.
    path: &'static str,
    /// `--srs` (the regression files have no .prj): what shp2pgsql gets with -s.
    srid: i32,
    /// `--encoding` for geokho; `-W` for shp2pgsql when not "auto".
    encoding: &'static str,
    expect: Expect,
}

const fn c(path: &'static str, srid: i32, encoding: &'static str, expect: Expect) -> Case {
    Case {
        path,
        srid,
        encoding,
        expect,
    }
}

use Expect::*;
/// NJ State Plane (feet), what the suite's ReprojectPts*.opts say (-s 2260).
const NJ: i32 = 2260;
/// Small abstract coordinates (0..10): read as degrees, the only reading
/// that places them anywhere; shp2pgsql gets the same SRID.
const DEG: i32 = 4326;

const CASES: &[Case] = &[
    c("postgis-loader/Arc.shp", DEG, "auto", Same),
    c("postgis-loader/ArcM.shp", DEG, "auto", Same),
    c("postgis-loader/ArcZ.shp", DEG, "auto", Same),
    c("postgis-loader/MultiPoint.shp", DEG, "auto", Same),
    c("postgis-loader/MultiPointM.shp", DEG, "auto", Same),
    c("postgis-loader/MultiPointZ.shp", DEG, "auto", Same),
    c("postgis-loader/MultiToSinglePoint.shp", NJ, "auto", Same),
    c("postgis-loader/NoTransPoint.shp", DEG, "auto", Same),
    c("postgis-loader/NotReallyMultiPoint.shp", NJ, "auto", Same),
    c("postgis-loader/Point.shp", DEG, "auto", Same),
    c("postgis-loader/PointM.shp", DEG, "auto", Same),
    c("postgis-loader/PointWithSchema.shp", DEG, "auto", Same),
    c("postgis-loader/PointZ.shp", DEG, "auto", Same),
    c("postgis-loader/Polygon.shp", DEG, "auto", Same),
    c("postgis-loader/PolygonM.shp", DEG, "auto", Same),
    c("postgis-loader/PolygonZ.shp", DEG, "auto", Same),
    c("postgis-loader/ReprojectPts.shp", NJ, "auto", Same),
    c("postgis-loader/ReprojectPtsD.shp", NJ, "auto", Same),
    c("postgis-loader/ReprojectPtsGeog.shp", NJ, "auto", Same),
    c("postgis-loader/ReprojectPtsGeogD.shp", NJ, "auto", Same),
    c("postgis-loader/TSIPolygon.shp", DEG, "auto", Same),
    c("postgis-loader/TSTIPolygon.shp", DEG, "auto", Same),
    c("postgis-loader/TSTPolygon.shp", DEG, "auto", Same),
    c("postgis-loader/TestANALYZE.shp", DEG, "auto", Same),
    c("postgis-loader/TestSkipANALYZE.shp", DEG, "auto", Same),
    c("postgis-loader/CharNoWidth.dbf", DEG, "auto", DbfOnly),
    c("postgis-loader/Latin1.dbf", DEG, "latin1", DbfOnly),
    c("postgis-loader/Latin1-implicit.dbf", DEG, "auto", DbfOnly),
    c("postgis-loader/mfile.dbf", DEG, "auto", DbfOnly),
    c("pyshp/blockgroups.shp", DEG, "auto", Same),
    c("pyshp/test/MyPolyZ.shp", DEG, "auto", Same),
    c("pyshp/test/NullTest.shp", DEG, "auto", Same),
    c("pyshp/test/balancing.shp", DEG, "auto", Same),
    c(
        "pyshp/test/contextwriter.shp",
        DEG,
        "auto",
        Refused("no records"),
    ),
    c("pyshp/test/corrupt_too_long.shp", DEG, "auto", Same),
    c("pyshp/test/dtype.shp", DEG, "auto", NullType),
    c("pyshp/test/edit.shp", DEG, "auto", Same),
    c("pyshp/test/latin1.shp", DEG, "latin1", ShxMissing),
    c("pyshp/test/line.shp", DEG, "auto", Same),
    c("pyshp/test/linem.shp", DEG, "auto", Same),
    c("pyshp/test/linez.shp", DEG, "auto", Same),
    c("pyshp/test/merge.shp", DEG, "auto", Same),
    c(
        "pyshp/test/multipatch.shp",
        DEG,
        "auto",
        Refused("MultiPatch"),
    ),
    c("pyshp/test/multipoint.shp", DEG, "auto", Same),
    c("pyshp/test/point.shp", DEG, "auto", Same),
    c("pyshp/test/polygon.shp", DEG, "auto", Same),
    c(
        "pyshp/test/shapetype.shp",
        DEG,
        "auto",
        Refused("no records"),
    ),
    c(
        "pyshp/test/testfile.shp",
        DEG,
        "auto",
        Refused("no records"),
    ),
    c("pyshp/test/onlydbf.dbf", DEG, "auto", DbfOnly),
];

fn layer_name(path: &str) -> String {
    let prefix = if path.starts_with("pyshp") {
        "ps"
    } else {
        "pl"
    };
    let stem = Path::new(path).file_stem().unwrap().to_string_lossy();
    format!(
        "{prefix}_{}",
        importer::schema::sanitize_name(stem.as_bytes())
    )
}

fn options(case: &Case, layer: &str) -> ImportOptions {
    let mut o = ImportOptions::new(layer, SettingsRequest::of_kind(LayerKind::Generic));
    o.srs = Some(case.srid);
    o.encoding = importer::manifest::parse_encoding(case.encoding).unwrap();
    o.connections = 2;
    o
}

fn w_flag(case: &Case) -> Vec<&'static str> {
    match case.encoding {
        "latin1" => vec!["-W", "LATIN1"],
        _ => vec![],
    }
}

/// An error must be one line, name the file and never come from a panic.
fn check_error(msg: &str, file: &Path, want: &str) -> Result<(), String> {
    let name = file.file_name().unwrap().to_string_lossy();
    if msg.contains('\n')
        || !msg.contains(name.as_ref())
        || !msg.contains(want)
        || msg.contains("panick")
    {
        return Err(format!(
            "error should be one line naming {name} and saying '{want}': {msg:?}"
        ));
    }
    Ok(())
}

async fn run_case(db: &TestDb, x: &Path, case: &Case) -> Result<(), String> {
    let file = x.join(case.path);
    let layer = layer_name(case.path);
    let opts = options(case, &layer);
    let mut input = file.clone();
    if let Refused(want) = case.expect {
        return match import_layer(&db.pool, std::slice::from_ref(&file), &opts).await {
            Ok(r) => Err(format!(
                "imported {} records; expected a refusal",
                r.features
            )),
            Err(e) => check_error(&e.to_string(), &file, want),
        };
    }
    if let DbfOnly = case.expect {
        let e = import_layer(&db.pool, std::slice::from_ref(&file), &opts)
            .await
            .err()
            .ok_or("a lone .dbf was imported")?;
        check_error(&e.to_string(), &file, "no .shp")?;
        let records = u32::from_le_bytes(std::fs::read(&file).unwrap()[4..8].try_into().unwrap());
        if records == 0 {
            return Ok(());
        }
        input = with_null_shapes(&file, &temp_dir(&layer));
    }
    let report = import_layer(&db.pool, &[input], &opts)
        .await
        .map_err(|e| format!("geokho: {e}"))?;
    let f = &report.files[0];
    let rebuilt_noted = f.notes.iter().any(|n| n.contains(".shx"));
    if matches!(case.expect, ShxMissing) != (f.index_rebuilt && rebuilt_noted) {
        return Err(format!(
            "index_rebuilt = {}, notes {:?}",
            f.index_rebuilt, f.notes
        ));
    }
    let mut extra = w_flag(case);
    let mut theirs_file = file.clone();
    match case.expect {
        DbfOnly | NullType => extra.push("-n"),
        ShxMissing => theirs_file = restored_copy(&file, &layer)?,
        _ => {}
    }
    shp2pgsql(&db.url, &theirs_file, &layer, case.srid, &extra)?;
    let dims = match (case.expect, shape_type(&file)) {
        (Same | ShxMissing, Some(t)) => Some(match t {
            ShapeType::Point(d)
            | ShapeType::PolyLine(d)
            | ShapeType::Polygon(d)
            | ShapeType::MultiPoint(d) => d,
            _ => Dims::Xy,
        }),
        _ => None,
    };
    let diffs = compare(&db.pool, &layer, &layer, dims).await;
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(diffs.join("; "))
    }
}

/// A copy of `shp` (and its siblings) whose `.shx` GDAL rebuilt.
fn restored_copy(shp: &Path, tag: &str) -> Result<PathBuf, String> {
    let dir = temp_dir(tag);
    let stem = shp.file_stem().unwrap();
    for e in std::fs::read_dir(shp.parent().unwrap()).unwrap() {
        let p = e.unwrap().path();
        if p.file_stem() == Some(stem) {
            std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
    }
    let copy = dir.join(shp.file_name().unwrap());
    let ok = std::process::Command::new("ogrinfo")
        .args(["--config", "SHAPE_RESTORE_SHX", "YES", "-q"])
        .arg(&copy)
        .output()
        .map_err(|e| format!("ogrinfo: {e} (install gdal-bin)"))?;
    if !copy.with_extension("shx").exists() {
        return Err(format!(
            "GDAL did not restore the .shx: {}",
            String::from_utf8_lossy(&ok.stderr)
        ));
    }
    Ok(copy)
}

#[tokio::test]
async fn every_corpus_file_matches_shp2pgsql_or_is_refused_in_one_line() {
    let x = corpus();
    let db = TestDb::new("oracle").await;
    sqlx::query("CREATE SCHEMA oracle")
        .execute(&db.pool)
        .await
        .unwrap();
    let mut failures = Vec::new();
    for case in CASES {
        if let Err(e) = run_case(&db, &x, case).await {
            failures.push(format!("{}: {e}", case.path));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus files differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn every_shapefile_and_lone_dbf_of_the_corpus_has_a_case() {
    let x = corpus();
    let mut files = Vec::new();
    for d in ["postgis-loader", "pyshp"] {
        walk(&x.join(d), &mut files);
    }
    let ext = |p: &Path, e: &str| p.extension().is_some_and(|x| x.eq_ignore_ascii_case(e));
    let wanted: Vec<String> = files
        .iter()
        .filter(|p| ext(p, "shp") || (ext(p, "dbf") && !p.with_extension("shp").exists()))
        .map(|p| p.strip_prefix(&x).unwrap().to_string_lossy().to_string())
        .collect();
    assert!(wanted.len() >= 45, "corpus looks incomplete: {wanted:?}");
    let missing: Vec<_> = wanted
        .iter()
        .filter(|w| !CASES.iter().any(|c| c.path == w.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "corpus files without an oracle case: {missing:?}"
    );
    let stale: Vec<_> = CASES
        .iter()
        .filter(|c| !wanted.iter().any(|w| w == c.path))
        .map(|c| c.path)
        .collect();
    assert!(
        stale.is_empty(),
        "cases whose file is not in the corpus: {stale:?}"
    );
}
