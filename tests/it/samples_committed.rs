//! data-samples/ is exactly what the deterministic generator writes.

use std::path::Path;

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn committed_samples_equal_generator_output() {
    let root = testkit::repo_root();
    let out = testkit::temp_dir("samples");
    samples::generate(&out, &samples::SampleOptions::default()).expect("generates");
    let committed = root.join("data-samples");
    let generated = files(&out);
    assert!(generated.len() > 40);
    for g in &generated {
        let rel = g.strip_prefix(&out).unwrap();
        let c = committed.join(rel);
        let a = std::fs::read(g).unwrap();
        let b = std::fs::read(&c).unwrap_or_else(|_| {
            panic!(
                "{} missing from data-samples (run `make samples`)",
                rel.display()
            )
        });
        assert!(
            a == b,
            "{} differs from the generator's output (run `make samples`)",
            rel.display()
        );
    }
    let size: u64 = files(&committed)
        .iter()
        .map(|p| p.metadata().unwrap().len())
        .sum();
    assert!(
        size < 5 * 1024 * 1024,
        "samples must stay under 5 MB, are {size} bytes"
    );
}
