//! Property tests ("fuzzing" with a CI-sized budget; `make fuzz` runs a
//! longer one through PROPTEST_CASES): damaged shapefiles, random bytes for
//! the encoding detector and decoders. Reading must end in a result or a
//! one-line error naming the file, never a panic.

use std::path::{Path, PathBuf};

use importer::encoding::{detect, TextEncoding};
use importer::plan::{plan, PlanOptions};
use importer::schema::SchemaOptions;
use importer::{produce, LayerKind};
use proptest::prelude::*;

fn sample(layer: &str) -> PathBuf {
    testkit::repo_root().join("data-samples").join(layer)
}

/// Copies `<dir>/<name>.*` into a fresh folder; returns the new `.shp`.
fn copy(dir: &Path, name: &str) -> PathBuf {
    let out = testkit::temp_dir("fuzz");
    for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
        let from = dir.join(format!("{name}.{ext}"));
        if from.exists() {
            std::fs::copy(&from, out.join(format!("{name}.{ext}"))).unwrap();
        }
    }
    out.join(format!("{name}.shp"))
}

#[derive(Debug, Clone)]
enum Damage {
    /// Overwrite bytes at a position (a fraction of the file length).
    Poke { ext: usize, at: f64, bytes: Vec<u8> },
    /// Cut the file at a fraction of its length.
    Truncate { ext: usize, at: f64 },
    /// Remove a companion file.
    Remove { ext: usize },
}

const EXTS: [&str; 4] = ["shp", "shx", "dbf", "cpg"];

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        6 => (0..3usize, 0.0..1.0f64, prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(ext, at, bytes)| Damage::Poke { ext, at, bytes }),
        2 => (0..3usize, 0.0..1.0f64).prop_map(|(ext, at)| Damage::Truncate { ext, at }),
        1 => (1..4usize).prop_map(|ext| Damage::Remove { ext }),
    ]
}

fn apply(shp: &Path, d: &Damage) {
    let path = |ext: usize| shp.with_extension(EXTS[ext]);
    match d {
        Damage::Poke { ext, at, bytes } => {
            if let Ok(mut b) = std::fs::read(path(*ext)) {
                if b.is_empty() {
                    return;
                }
                let start = ((b.len() as f64) * at) as usize % b.len();
                for (i, v) in bytes.iter().enumerate() {
                    if let Some(x) = b.get_mut(start + i) {
                        *x = *v;
                    }
                }
                std::fs::write(path(*ext), b).unwrap();
            }
        }
        Damage::Truncate { ext, at } => {
            if let Ok(b) = std::fs::read(path(*ext)) {
                let n = ((b.len() as f64) * at) as usize;
                std::fs::write(path(*ext), &b[..n]).unwrap();
            }
        }
        Damage::Remove { ext } => {
            let _ = std::fs::remove_file(path(*ext));
        }
    }
}

/// Plans and reads every record (no database): Ok or Err, never a panic.
fn read_all(shp: &Path, kind: LayerKind) -> Result<u64, String> {
    let opts = PlanOptions {
        layer: "fuzz".into(),
        kind,
        srs: Some(9210),
        srs_override: false,
        encoding: None,
        schema: SchemaOptions::default(),
        presentation: String::new(),
    };
    let p = plan(&[shp.to_path_buf()], &opts).map_err(|e| e.to_string())?;
    let mut rows = 0;
    // The workers' derived columns too (Web Mercator, validity, bands).
    let d = importer::mercator::Derive::new(&importer::mercator::Target {
        authority: Some("EPSG:9210".into()),
        generalize: catalog::generalizes(&p.geometry_type),
    });
    for w in produce::split(&p) {
        let st = produce::produce(&p, &d, w, &mut |_, _| Ok(())).map_err(|e| e.to_string())?;
        rows += st.rows;
    }
    Ok(rows)
}

/// 64 cases in `make test`; PROPTEST_CASES sets more (`make fuzz`).
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn damaged_roads_never_panic(ds in prop::collection::vec(damage(), 1..4)) {
        let shp = copy(&sample("duong_bo"), "duong_bo");
        for d in &ds {
            apply(&shp, d);
        }
        if let Err(e) = read_all(&shp, LayerKind::Roads) {
            prop_assert!(!e.contains('\n'), "one line: {e}");
            prop_assert!(!e.is_empty());
        }
        let _ = std::fs::remove_dir_all(shp.parent().unwrap());
    }

    #[test]
    fn damaged_warehouses_never_panic(ds in prop::collection::vec(damage(), 1..4)) {
        let shp = copy(&sample("kho_bai"), "kho_bai");
        for d in &ds {
            apply(&shp, d);
        }
        if let Err(e) = read_all(&shp, LayerKind::Warehouses) {
            prop_assert!(!e.contains('\n'), "one line: {e}");
        }
        let _ = std::fs::remove_dir_all(shp.parent().unwrap());
    }

    #[test]
    fn any_bytes_detect_and_decode(samples in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..8)) {
        let refs: Vec<&[u8]> = samples.iter().map(Vec::as_slice).collect();
        let _ = detect(&refs);
        for enc in [TextEncoding::Utf8, TextEncoding::Cp1258, TextEncoding::Tcvn3, TextEncoding::Vni, TextEncoding::Latin1] {
            for s in &samples {
                let text = enc.decode(s);
                // What decodes re-encodes, or fails cleanly.
                let _ = enc.encode(&text);
            }
        }
    }

    #[test]
    fn vietnamese_text_round_trips(s in "[a-zA-ZàáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđĐ ,.0-9]{0,60}") {
        for enc in [TextEncoding::Utf8, TextEncoding::Cp1258, TextEncoding::Tcvn3, TextEncoding::Vni] {
            let bytes = enc.encode(&s).expect("Vietnamese letters encode");
            prop_assert_eq!(enc.decode(&bytes), s.clone(), "{:?}", enc);
        }
    }
}
