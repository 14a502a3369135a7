//! The rejects report: every record an import refused, or imported with a
//! value set to NULL (file, 1-based record number, reason). A file with a
//! bad date in every row must not grow memory with the file, so the workers
//! hand each work item's rejects to one [`RejectLog`] that writes them to
//! the CSV at once and keeps only the first [`SAMPLE`] for the summary.
//!
//! The CSV (RFC 4180, UTF-8): `file,record,imported,reason`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::ImportError;
use crate::produce::Reject;

/// Rejects kept in memory for the report (the CSV holds them all).
pub const SAMPLE: usize = 1000;

/// What a finished log reports.
#[derive(Debug, Clone, Default)]
pub struct Rejects {
    /// The first [`SAMPLE`] rejects, in the order the workers reported them.
    pub sample: Vec<Reject>,
    /// Records not imported.
    pub rejected: u64,
    /// Records imported with a value set to NULL.
    pub nulled: u64,
    /// The CSV listing all of them, when there was any and a folder was given.
    pub csv: Option<PathBuf>,
}

impl Rejects {
    /// Every reject counted.
    pub fn total(&self) -> u64 {
        self.rejected + self.nulled
    }
}

/// Collects rejects; writes them to `csv` (created on the first one).
#[derive(Debug)]
pub struct RejectLog {
    done: Rejects,
    path: Option<PathBuf>,
    out: Option<BufWriter<File>>,
}

impl RejectLog {
    /// A log writing to `csv` (`None`: counts and the sample only).
    pub fn new(csv: Option<PathBuf>) -> Self {
        RejectLog {
            done: Rejects::default(),
            path: csv,
            out: None,
        }
    }

    /// Adds a work item's rejects.
    pub fn add(&mut self, rejects: Vec<Reject>) -> Result<(), ImportError> {
        for r in rejects {
            if r.kept {
                self.done.nulled += 1;
            } else {
                self.done.rejected += 1;
            }
            if let Some(path) = &self.path {
                if self.out.is_none() {
                    self.out = Some(create(path)?);
                }
                let out = self.out.as_mut().expect("opened above");
                writeln!(
                    out,
                    "{},{},{},{}",
                    csv_text(&r.file.display().to_string()),
                    r.record,
                    r.kept,
                    csv_text(&r.reason)
                )
                .map_err(|e| ImportError::file(path, format!("writing the rejects report: {e}")))?;
            }
            if self.done.sample.len() < SAMPLE {
                self.done.sample.push(r);
            }
        }
        Ok(())
    }

    /// Flushes the CSV and returns what was logged.
    pub fn finish(mut self) -> Result<Rejects, ImportError> {
        if let (Some(path), Some(mut out)) = (self.path.take(), self.out.take()) {
            out.flush().map_err(|e| {
                ImportError::file(&path, format!("writing the rejects report: {e}"))
            })?;
            self.done.csv = Some(path);
        }
        Ok(self.done)
    }

    /// Removes the CSV (the import failed: the version it names never existed).
    pub fn discard(mut self) {
        if let (Some(path), Some(out)) = (self.path.take(), self.out.take()) {
            drop(out);
            let _ = std::fs::remove_file(path);
        }
    }
}

fn create(path: &Path) -> Result<BufWriter<File>, ImportError> {
    let err =
        |e: std::io::Error| ImportError::file(path, format!("creating the rejects report: {e}"));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut out = BufWriter::new(File::create(path).map_err(err)?);
    writeln!(out, "file,record,imported,reason").map_err(err)?;
    Ok(out)
}

/// A CSV text field (RFC 4180): quoted, inner quotes doubled.
///
/// ```
/// assert_eq!(importer::rejects::csv_text(r#"a "b", c"#), r#""a ""b"", c""#);
/// ```
pub fn csv_text(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reject(record: u64, kept: bool) -> Reject {
        Reject {
            file: PathBuf::from("/d/a.dbf"),
            record,
            reason: format!("reason {record}"),
            kept,
        }
    }

    #[test]
    fn all_go_to_the_csv_and_a_sample_stays_in_memory() {
        let dir = std::env::temp_dir().join(format!("geokho-rejects-test-{}", std::process::id()));
        let csv = dir.join("x-v1.csv");
        let mut log = RejectLog::new(Some(csv.clone()));
        let n = SAMPLE as u64 + 500;
        log.add((1..=n).map(|i| reject(i, i % 2 == 0)).collect())
            .unwrap();
        let done = log.finish().unwrap();
        assert_eq!(done.sample.len(), SAMPLE);
        assert_eq!((done.rejected, done.nulled), (n - n / 2, n / 2));
        assert_eq!(done.csv.as_deref(), Some(csv.as_path()));
        let text = std::fs::read_to_string(&csv).unwrap();
        assert_eq!(text.lines().count() as u64, n + 1);
        assert_eq!(text.lines().nth(2), Some(r#""/d/a.dbf",2,true,"reason 2""#));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn no_reject_no_file_and_a_discarded_log_leaves_none() {
        let dir = std::env::temp_dir().join(format!("geokho-rejects-none-{}", std::process::id()));
        let csv = dir.join("y-v1.csv");
        let done = RejectLog::new(Some(csv.clone())).finish().unwrap();
        assert!(done.csv.is_none() && !csv.exists());
        let mut log = RejectLog::new(Some(csv.clone()));
        log.add(vec![reject(1, false)]).unwrap();
        log.discard();
        assert!(!csv.exists());
        let _ = std::fs::remove_dir_all(dir);
    }
}
