//! Progress of an import, reported to whoever shows it (the CLI draws bars):
//! the files and their record counts, records read per file as rayon workers
//! finish ranges, then the finishing phases. Called from worker threads.

use std::path::PathBuf;

/// Receives progress events; every method has a no-op default.
pub trait Progress: Send + Sync {
    /// Reading starts: every source file with its record count, in plan order.
    fn start(&self, _files: &[(PathBuf, u64)]) {}
    /// `records` more records of file `file` (index into `start`'s list) were read.
    fn advance(&self, _file: usize, _records: u64) {}
    /// A phase after reading began (e.g. validating, indexing).
    fn phase(&self, _what: &str) {}
    /// The import ended (published, or failed).
    fn finish(&self) {}
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {}
