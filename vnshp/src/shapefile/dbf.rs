//! The `.dbf` attribute table (dBASE III/IV as shapefiles use it): header,
//! field descriptors and raw record bytes by record number.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::ShapefileError;

/// One field descriptor.
#[derive(Debug, Clone)]
pub struct DbfField {
    /// Raw name bytes up to the first NUL (usually ASCII).
    pub name: Vec<u8>,
    /// Type letter: C, N, F, L, D, I, O, M, ...
    pub kind: u8,
    pub length: usize,
    pub decimals: u8,
    /// Offset of the field inside a record (after the deletion flag).
    pub offset: usize,
}

/// The header of a `.dbf`.
#[derive(Debug, Clone)]
pub struct DbfHeader {
    pub records: u64,
    pub header_len: u64,
    pub record_len: usize,
    /// Language driver id (byte 29).
    pub ldid: u8,
    pub fields: Vec<DbfField>,
}

/// An opened `.dbf`.
#[derive(Debug)]
pub struct DbfReader {
    path: PathBuf,
    pub header: DbfHeader,
}

impl DbfReader {
    /// Opens and validates the header of `path`.
    pub fn open(path: &Path) -> Result<DbfReader, ShapefileError> {
        let mut f = File::open(path).map_err(|e| ShapefileError::io(path, e))?;
        let size = f.metadata().map_err(|e| ShapefileError::io(path, e))?.len();
        let mut head = [0u8; 32];
        f.read_exact(&mut head).map_err(|_| {
            ShapefileError::bad(
                path,
                "shorter than the 32-byte dBASE header (empty or truncated)",
            )
        })?;
        let records = u64::from(u32::from_le_bytes(head[4..8].try_into().expect("4")));
        let header_len = u64::from(u16::from_le_bytes([head[8], head[9]]));
        let record_len = usize::from(u16::from_le_bytes([head[10], head[11]]));
        if header_len < 33 || header_len > size {
            return Err(ShapefileError::bad(
                path,
                format!("header length {header_len} is impossible (not a .dbf?)"),
            ));
        }
        let mut desc = vec![0u8; header_len as usize - 32];
        f.read_exact(&mut desc)
            .map_err(|e| ShapefileError::io(path, e))?;
        let fields = parse_fields(path, &desc)?;
        let used: usize = 1 + fields.iter().map(|f| f.length).sum::<usize>();
        if used > record_len {
            return Err(ShapefileError::bad(
                path,
                format!("fields need {used} bytes per record but the header says {record_len}"),
            ));
        }
        let available = (size - header_len) / record_len.max(1) as u64;
        if available < records {
            return Err(ShapefileError::bad(
                path,
                format!("truncated: header says {records} records but the file holds {available}"),
            ));
        }
        Ok(DbfReader {
            path: path.to_path_buf(),
            header: DbfHeader {
                records,
                header_len,
                record_len,
                ldid: head[29],
                fields,
            },
        })
    }

    /// Path of the file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends the bytes of records `start..end` (0-based) to `out`, back
    /// to back, read straight into it (no buffer in between: 520 MB of
    /// records for a 1M-parcel file). A short read is reported with the
    /// record it stopped in, as [`DbfReader::for_each_in`] reports it.
    pub fn read_range(
        &self,
        start: u64,
        end: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), ShapefileError> {
        let end = end.min(self.header.records);
        if end <= start {
            return Ok(());
        }
        let want = (end - start) * self.header.record_len as u64;
        let mut file = File::open(&self.path).map_err(|e| ShapefileError::io(&self.path, e))?;
        file.seek(SeekFrom::Start(
            self.header.header_len + start * self.header.record_len as u64,
        ))
        .map_err(|e| ShapefileError::io(&self.path, e))?;
        let at = out.len();
        let got = file
            .take(want)
            .read_to_end(out)
            .map_err(|e| ShapefileError::io(&self.path, e))?;
        if got as u64 != want {
            out.truncate(at);
            // Find the record the file ends in, for the message.
            self.for_each_in(start, end, |_, _| Ok(()))?;
            return Err(ShapefileError::bad(&self.path, "ends inside a record"));
        }
        Ok(())
    }

    /// Calls `f(record_number, record_bytes)` for records `start..end`
    /// (0-based); `record_bytes[0]` is the deletion flag (`*` = deleted).
    pub fn for_each_in<F>(&self, start: u64, end: u64, mut f: F) -> Result<(), ShapefileError>
    where
        F: FnMut(u64, &[u8]) -> Result<(), ShapefileError>,
    {
        let file = File::open(&self.path).map_err(|e| ShapefileError::io(&self.path, e))?;
        let mut r = BufReader::with_capacity(1 << 20, file);
        let rl = self.header.record_len;
        r.seek(SeekFrom::Start(self.header.header_len + start * rl as u64))
            .map_err(|e| ShapefileError::io(&self.path, e))?;
        let mut buf = vec![0u8; rl];
        for i in start..end.min(self.header.records) {
            r.read_exact(&mut buf)
                .map_err(|e| ShapefileError::BadRecord {
                    path: self.path.clone(),
                    record: i + 1,
                    reason: format!("cannot read: {e}"),
                })?;
            f(i, &buf)?;
        }
        Ok(())
    }
}

fn parse_fields(path: &Path, desc: &[u8]) -> Result<Vec<DbfField>, ShapefileError> {
    let mut fields = Vec::new();
    let mut offset = 1;
    for d in desc.chunks_exact(32) {
        if d[0] == 0x0D {
            break;
        }
        let name: Vec<u8> = d[..11].iter().copied().take_while(|&b| b != 0).collect();
        if name.is_empty() {
            return Err(ShapefileError::bad(
                path,
                format!("field {} has an empty name", fields.len() + 1),
            ));
        }
        let length = usize::from(d[16]);
        fields.push(DbfField {
            name,
            kind: d[11],
            length,
            decimals: d[17],
            offset,
        });
        offset += length;
    }
    Ok(fields)
}
