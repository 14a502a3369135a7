//! ZIP inputs: a shapefile inside a `.zip` (in a subfolder, beside macOS
//! junk) imports like the bare files and its extraction folder is removed;
//! an archive without a `.shp`, a damaged archive and an entry escaping the
//! folder fail with one line naming the archive.

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};

use importer::{import_layer, ImportOptions, LayerKind};
use testkit::{repo_root, temp_dir, TestDb};
use zip::write::SimpleFileOptions;

fn opts(layer: &str) -> ImportOptions {
    common::opts(layer, LayerKind::Bridges, None)
}

/// Writes `entries` (name, bytes) into `<dir>/<name>`.
fn make_zip(dir: &Path, name: &str, entries: &[(String, Vec<u8>)]) -> PathBuf {
    let path = dir.join(name);
    let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    for (n, b) in entries {
        z.start_file(n.as_str(), SimpleFileOptions::default())
            .unwrap();
        z.write_all(b).unwrap();
    }
    z.finish().unwrap();
    path
}

fn cau_entries(prefix: &str) -> Vec<(String, Vec<u8>)> {
    let dir = repo_root().join("data-samples/cau");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let n = p.file_name().unwrap().to_string_lossy().to_string();
            (format!("{prefix}{n}"), std::fs::read(&p).unwrap())
        })
        .collect();
    v.sort();
    v
}

fn leftovers() -> usize {
    let mine = format!("geokho-zip-{}-", std::process::id());
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().starts_with(&mine))
        })
        .count()
}

#[tokio::test]
async fn zipped_shapefiles_import_and_bad_archives_fail_in_one_line() {
    let db = TestDb::new("zip_input").await;
    let dir = temp_dir("zip-input");
    let bare = import_layer(
        &db.pool,
        &[repo_root().join("data-samples/cau/cau.shp")],
        &opts("cau_bare"),
    )
    .await
    .unwrap();

    let mut entries = cau_entries("giao_thong/cau/");
    entries.push(("__MACOSX/giao_thong/cau/._cau.shp".into(), vec![0; 10]));
    entries.push(("giao_thong/README.txt".into(), b"hello".to_vec()));
    let zip = make_zip(&dir, "cau.zip", &entries);
    let r = import_layer(&db.pool, std::slice::from_ref(&zip), &opts("cau_zip"))
        .await
        .expect("zipped shapefile imports");
    assert_eq!(r.files.len(), 1, "the macOS resource fork is skipped");
    assert!(
        r.files[0].path.ends_with("cau.zip/giao_thong/cau/cau.shp"),
        "{:?}",
        r.files[0].path
    );
    assert_eq!((r.features, r.srid), (bare.features, bare.srid));
    assert!(r.features > 0);
    let differ: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM geokho_data.cau_bare a FULL JOIN geokho_data.cau_zip b USING (fid) \
         WHERE NOT coalesce(ST_OrderingEquals(a.geom, b.geom) AND a.ten_cau = b.ten_cau, false)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(differ, 0);
    assert_eq!(leftovers(), 0, "extraction folder removed after the import");
    // The catalog names the entries by the archive, not the temp folder.
    let recorded: Vec<String> = sqlx::query_scalar(
        "SELECT s->>'path' FROM geokho.layer_versions, jsonb_array_elements(sources) s \
         WHERE layer = 'cau_zip' ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let want: Vec<String> = ["cpg", "dbf", "prj", "shp", "shx"]
        .iter()
        .map(|e| format!("{}/giao_thong/cau/cau.{e}", zip.display()))
        .collect();
    assert_eq!(recorded, want);

    let cases: Vec<(PathBuf, &str)> = vec![
        (
            make_zip(&dir, "docs.zip", &[("a.txt".into(), b"x".to_vec())]),
            "holds no .shp",
        ),
        (
            {
                let p = dir.join("fake.zip");
                std::fs::write(&p, b"this is not a zip").unwrap();
                p
            },
            "not a readable ZIP",
        ),
        (
            make_zip(
                &dir,
                "evil.zip",
                &[("../../evil.shp".into(), b"x".to_vec())],
            ),
            "outside the extraction folder",
        ),
    ];
    for (zip, words) in cases {
        let err = import_layer(&db.pool, std::slice::from_ref(&zip), &opts("bad_zip"))
            .await
            .unwrap_err()
            .to_string();
        let name = zip.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            err.contains(&name) && err.contains(words) && !err.contains('\n'),
            "{name}: {err}"
        );
    }
    assert_eq!(leftovers(), 0, "extraction folders removed after failures");
}
