//! ZIP inputs: agencies often mail a shapefile as a `.zip`. Its entries are
//! extracted into a private folder under the system temp dir (named after the
//! archive, so messages still say which archive a file came from) and removed
//! when the import ends. Entry names that would escape the folder are
//! refused; macOS resource forks (`__MACOSX/`, `._x.shp`) are skipped.
//!
//! A killed import cannot remove its folder: each folder holds a lock file
//! its import keeps locked, and every import sweeps the folders whose lock
//! is free ([`sweep_abandoned`]).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::ImportError;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Extraction folders under the system temp dir: `geokho-zip-<pid>-<n>`.
pub const FOLDER_PREFIX: &str = "geokho-zip-";
/// Folders being set up (renamed to their final name once locked).
const SETUP_PREFIX: &str = ".geokho-zip-setup-";
/// The file inside a folder that its import keeps locked.
pub const LOCK_FILE: &str = ".geokho-lock";
/// A folder still being set up is left alone this long.
const SETUP_GRACE: std::time::Duration = std::time::Duration::from_secs(600);

/// A folder of extracted entries, deleted on drop.
#[derive(Debug)]
pub struct Extracted {
    /// The folder that holds the archive's entries.
    pub dir: PathBuf,
    root: PathBuf,
    /// The archive the entries came from, as given.
    archive: PathBuf,
    /// Locked while this import runs (released by the OS if it is killed).
    _lock: File,
}

impl Extracted {
    /// `p` as the user knows it: an extracted file becomes
    /// `<archive>/<entry>` (GDAL's `/vsizip/` naming without the prefix);
    /// other paths are `None`.
    pub fn origin(&self, p: &Path) -> Option<PathBuf> {
        p.strip_prefix(&self.dir)
            .ok()
            .map(|rel| self.archive.join(rel))
    }
}

/// Removes the extraction folders of imports that are gone (their lock
/// file is not locked) from the system temp dir; returns how many. Errors
/// are ignored: a folder that cannot be removed now is tried next time.
pub fn sweep_abandoned() -> usize {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let path = e.path();
        let abandoned = if name.starts_with(FOLDER_PREFIX) {
            match File::open(path.join(LOCK_FILE)) {
                Ok(f) => f.try_lock().is_ok(),
                // No lock file: made by an older geokho, or not ours.
                Err(_) => false,
            }
        } else if name.starts_with(SETUP_PREFIX) {
            e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > SETUP_GRACE)
        } else {
            false
        };
        if abandoned && path.is_dir() && std::fs::remove_dir_all(&path).is_ok() {
            removed += 1;
        }
    }
    removed
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
    // Set up under a temporary name, locked, then renamed: a sweep never
    // sees a final-named folder whose lock is not held yet.
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let tmp = std::env::temp_dir();
    let setup = tmp.join(format!("{SETUP_PREFIX}{}-{n}", std::process::id()));
    let root = tmp.join(format!("{FOLDER_PREFIX}{}-{n}", std::process::id()));
    let folder = |e: std::io::Error| err(format!("temp folder {}: {e}", tmp.display()));
    std::fs::create_dir_all(&setup).map_err(folder)?;
    let lock = File::create(setup.join(LOCK_FILE)).map_err(folder)?;
    lock.try_lock()
        .map_err(|e| err(format!("temp folder lock: {e}")))?;
    std::fs::rename(&setup, &root).map_err(folder)?;
    let name = zip
        .file_name()
        .map_or("archive.zip".into(), |n| n.to_owned());
    let out = Extracted {
        dir: root.join(name),
        root,
        archive: zip.to_path_buf(),
        _lock: lock,
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
