//! The files that make one shapefile, found beside the `.shp`, and the errors
//! of reading them.

use std::path::{Path, PathBuf};

/// Errors reading a shapefile; each names the file (and record when known).
#[derive(Debug, thiserror::Error)]
pub enum ShapefileError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Bad { path: PathBuf, reason: String },
    #[error("{path}: record {record}: {reason}")]
    BadRecord {
        path: PathBuf,
        record: u64,
        reason: String,
    },
}

impl ShapefileError {
    pub(crate) fn bad(path: &Path, reason: impl Into<String>) -> Self {
        ShapefileError::Bad {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        ShapefileError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Paths of the parts of one shapefile. Extensions are matched in any case.
#[derive(Debug, Clone)]
pub struct FileSet {
    pub shp: PathBuf,
    pub shx: Option<PathBuf>,
    pub dbf: Option<PathBuf>,
    pub prj: Option<PathBuf>,
    pub cpg: Option<PathBuf>,
}

impl FileSet {
    /// Finds the sibling files of `shp`.
    pub fn find(shp: &Path) -> Result<FileSet, ShapefileError> {
        if !shp.is_file() {
            return Err(ShapefileError::bad(shp, "no such file"));
        }
        Ok(FileSet {
            shp: shp.to_path_buf(),
            shx: sibling(shp, "shx"),
            dbf: sibling(shp, "dbf"),
            prj: sibling(shp, "prj"),
            cpg: sibling(shp, "cpg"),
        })
    }

    /// Every existing part, for checksums.
    pub fn parts(&self) -> Vec<&Path> {
        let mut v = vec![self.shp.as_path()];
        for p in [&self.shx, &self.dbf, &self.prj, &self.cpg]
            .into_iter()
            .flatten()
        {
            v.push(p.as_path());
        }
        v
    }
}

fn sibling(shp: &Path, ext: &str) -> Option<PathBuf> {
    let dir = shp.parent()?;
    let stem = shp.file_stem()?.to_str()?;
    for e in [ext.to_string(), ext.to_uppercase()] {
        let p = dir.join(format!("{stem}.{e}"));
        if p.is_file() {
            return Some(p);
        }
    }
    // Other mixed cases, e.g. `.Dbf`.
    std::fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    })
    .ok()?
    .filter_map(|e| e.ok())
    .map(|e| e.path())
    .find(|p| {
        p.file_stem().and_then(|s| s.to_str()) == Some(stem)
            && p.extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| x.eq_ignore_ascii_case(ext))
    })
}
