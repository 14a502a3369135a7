//! The sources' sha256 and the layer's fingerprint (the checksums, each
//! source's encoding and CRS, and the plan's options digest): recorded in
//! the catalog with every version, and compared by `--if-changed`.
//!
//! Hashing reads every byte of the sources once more (0.4 s for a 670 MB
//! province on one core), so `crate::import` takes the checksums while
//! PostgreSQL finishes the stage table on one connection, unless
//! `--if-changed` needs the fingerprint before anything is written.

use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::ImportError;
use crate::plan::Plan;
use crate::source::Reader;

/// sha256 of every file of every source, and the fingerprint they give.
#[derive(Debug, Clone)]
pub struct Checksums {
    /// Per source (in plan order): each file it reads with its sha256.
    pub per_source: Vec<Vec<(PathBuf, String)>>,
    pub fingerprint: String,
}

/// Hashes the plan's source files (several at once) and derives the
/// fingerprint.
pub fn compute(plan: &Plan) -> Result<Checksums, ImportError> {
    let per_source = plan
        .sources
        .iter()
        .map(|s| {
            s.files
                .par_iter()
                .map(|p| Ok((p.clone(), sha256_file(p)?)))
                .collect::<Result<Vec<_>, ImportError>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut h = Sha256::new();
    for (s, sums) in plan.sources.iter().zip(&per_source) {
        for (_, sum) in sums {
            h.update(sum.as_bytes());
        }
        h.update(s.encoding.value.name().as_bytes());
        h.update(s.srid.value.to_le_bytes());
        // Another layer of the same dataset is another source.
        if let Reader::Ogr(l) = &s.reader {
            h.update(l.layer.as_bytes());
        }
    }
    h.update(plan.options_digest.as_bytes());
    Ok(Checksums {
        per_source,
        fingerprint: hex::encode(h.finalize()),
    })
}

/// sha256 of a file, as lower-case hex.
fn sha256_file(p: &Path) -> Result<String, ImportError> {
    let mut f = std::fs::File::open(p).map_err(|e| ImportError::file(p, e.to_string()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| ImportError::file(p, e.to_string()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_a_file_is_the_standard_digest() {
        let dir = std::env::temp_dir().join(format!("geokho-sha-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("abc.txt");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let err = sha256_file(&dir.join("missing.dbf")).unwrap_err();
        assert!(err.to_string().contains("missing.dbf"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
