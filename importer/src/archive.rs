//! ZIP inputs: agencies often mail a shapefile as a `.zip`. Its entries are
//! extracted into a private folder under the system temp dir (named after the
//! archive, so messages still say which archive a file came from) and removed
//! when the import ends. Entry names that would escape the folder are
//! refused; macOS resource forks (`__MACOSX/`, `._x.shp`) are skipped.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::ImportError;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A folder of extracted entries, deleted on drop.
#[derive(Debug)]
pub struct Extracted {
    /// The folder that holds the archive's entries.
    pub dir: PathBuf,
    root: PathBuf,
}

impl Drop for Extracted {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Whether `p` names a ZIP archive (by extension).
pub fn is_zip(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

fn skipped(name: &Path) -> bool {
    name.components().any(|c| c.as_os_str() == "__MACOSX")
        || name
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("._"))
}

/// Extracts every file of `zip` into a new folder under the system temp dir.
pub fn extract(zip: &Path) -> Result<Extracted, ImportError> {
    let err = |reason: String| ImportError::File {
        path: zip.to_path_buf(),
        reason,
    };
    let f = File::open(zip).map_err(|e| err(e.to_string()))?;
    let mut archive =
        zip::ZipArchive::new(f).map_err(|e| err(format!("not a readable ZIP archive: {e}")))?;
    let root = std::env::temp_dir().join(format!(
        "geokho-zip-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let name = zip
        .file_name()
        .map_or("archive.zip".into(), |n| n.to_owned());
    let out = Extracted {
        dir: root.join(name),
        root,
    };
    std::fs::create_dir_all(&out.dir).map_err(|e| err(format!("temp folder: {e}")))?;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| err(format!("entry {}: {e}", i + 1)))?;
        if entry.is_dir() {
            continue;
        }
        let Some(rel) = entry.enclosed_name() else {
            return Err(err(format!(
                "entry '{}' would be written outside the extraction folder: refused",
                entry.name().map(|n| n.to_string()).unwrap_or_default()
            )));
        };
        if skipped(&rel) {
            continue;
        }
        let target = out.dir.join(&rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| err(format!("temp folder: {e}")))?;
        }
        let mut w = File::create(&target).map_err(|e| err(format!("{}: {e}", rel.display())))?;
        std::io::copy(&mut entry, &mut w)
            .map_err(|e| err(format!("entry {}: cannot extract: {e}", rel.display())))?;
    }
    Ok(out)
}
