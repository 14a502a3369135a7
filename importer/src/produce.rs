//! Turns record ranges of source files into binary COPY rows, on rayon
//! workers: `fid, <attribute columns>, geom, geom_3857, <bands>, zmin, _check`
//! per record (the columns after `geom` by `crate::mercator`).

use std::path::PathBuf;
use std::sync::Mutex;

use crate::copy::RowBuf;
use crate::error::ImportError;
use crate::mercator::{Derive, Target};
use crate::plan::Plan;
use crate::rejects::{RejectLog, Rejects};
use crate::schema;
use crate::shapefile::{shape_to_ewkb, ShapeOutcome};
use crate::source::{Reader, Shapefile};

/// Records per work item at most: big enough to amortise, small enough to
/// spread over the workers.
pub const RANGE: u64 = 25_000;

/// Source bytes (`.shp` records and `.dbf` rows) per work item at most, so
/// that a work item's memory stays bounded whatever the records' width (a
/// DBF row can be 4 kB, a polygon's record megabytes). `GEOKHO_RANGE_BYTES`
/// overrides it (tuning; the tests split small files with it).
pub const RANGE_BYTES: u64 = 16 << 20;

fn range_bytes() -> u64 {
    std::env::var("GEOKHO_RANGE_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&b| b > 0)
        .unwrap_or(RANGE_BYTES)
}

/// A range of records of one source.
#[derive(Debug, Clone, Copy)]
pub struct Work {
    pub source: usize,
    pub start: u64,
    pub end: u64,
    /// fid of record 0 of this source minus one.
    pub fid_base: i64,
}

/// A record that was not imported, or imported with a value set to NULL.
#[derive(Debug, Clone)]
pub struct Reject {
    pub file: PathBuf,
    /// 1-based record number in the file.
    pub record: u64,
    pub reason: String,
    /// True when the record was imported anyway (a value became NULL).
    pub kept: bool,
}

/// Counts of one chunk.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub rows: u64,
    pub null_geometries: u64,
    pub fixes: u64,
    pub deleted: u64,
    pub rejects: Vec<Reject>,
    /// fids of the rows left for PostGIS to finish (`_check`).
    pub check_fids: Vec<i64>,
    /// Web Mercator extent of the rows finished in the workers.
    pub bounds: Option<[f64; 4]>,
    /// Rows finished in the workers, by `zmin`.
    pub zmin: [u64; 25],
}

/// The box holding both boxes (either may be missing).
pub(crate) fn union_bounds(a: Option<[f64; 4]>, b: Option<[f64; 4]>) -> Option<[f64; 4]> {
    match (a, b) {
        (Some(a), Some(b)) => Some([
            a[0].min(b[0]),
            a[1].min(b[1]),
            a[2].max(b[2]),
            a[3].max(b[3]),
        ]),
        (a, b) => a.or(b),
    }
}

impl Stats {
    pub fn add(&mut self, o: Stats) {
        self.rows += o.rows;
        self.null_geometries += o.null_geometries;
        self.fixes += o.fixes;
        self.deleted += o.deleted;
        self.rejects.extend(o.rejects);
        self.check_fids.extend(o.check_fids);
        self.bounds = union_bounds(self.bounds, o.bounds);
        for (a, b) in self.zmin.iter_mut().zip(o.zmin) {
            *a += b;
        }
    }
}

/// Receives the COPY rows of a work item as they are made, with the number
/// of records they cover (for progress).
pub type Sink<'a> = dyn FnMut(Vec<u8>, u64) -> Result<(), ImportError> + 'a;

/// Splits every source into ranges of at most [`RANGE`] records and
/// [`RANGE_BYTES`] bytes, at least one record each (a GDAL layer is read in
/// one pass: one work item, emitted in chunks).
pub fn split(plan: &Plan) -> Vec<Work> {
    split_after(plan, 0)
}

/// [`split`], numbering features from `first_base + 1` (appends continue
/// after the live layer's largest fid).
pub fn split_after(plan: &Plan, first_base: i64) -> Vec<Work> {
    let mut out = Vec::new();
    let mut base = first_base;
    for (i, s) in plan.sources.iter().enumerate() {
        let n = s.records;
        let mut start = 0;
        if matches!(s.reader, Reader::Ogr(_)) && n > 0 {
            out.push(Work {
                source: i,
                start: 0,
                end: n,
                fid_base: base,
            });
            start = n;
        }
        let budget = range_bytes();
        while start < n {
            let end = match &s.reader {
                Reader::Shapefile(f) => {
                    let row = f.dbf.as_ref().map_or(0, |d| d.header.record_len as u64);
                    let mut end = start;
                    let mut bytes = 0;
                    while end < n && end - start < RANGE {
                        bytes += f.shp.record_bytes(end) + row;
                        if bytes > budget && end > start {
                            break;
                        }
                        end += 1;
                    }
                    end
                }
                Reader::Ogr(_) => (start + RANGE).min(n),
            };
            out.push(Work {
                source: i,
                start,
                end,
                fid_base: base,
            });
            start = end;
        }
        base += n as i64;
    }
    out
}

/// Reads every work item on the rayon pool, each worker with its own
/// [`Derive`] for `target`, handing each chunk of COPY rows and its record
/// count to `sink(work, rows, records)`; returns the summed counts and the
/// rejects, which go to `log` as each work item ends (on failure its CSV is
/// removed). The import sends the rows to COPY; a dry run drops them.
pub fn read_all<F>(
    plan: &Plan,
    target: &Target,
    work: Vec<Work>,
    log: RejectLog,
    sink: F,
) -> Result<(Stats, Rejects), ImportError>
where
    F: Fn(&Work, Vec<u8>, u64) -> Result<(), ImportError> + Sync,
{
    use rayon::prelude::*;
    let log = Mutex::new(log);
    let stats = work
        .into_par_iter()
        .map_init(
            || Derive::new(target),
            |d, w| {
                let mut st = produce(plan, d, w, &mut |buf, records| sink(&w, buf, records))?;
                log.lock()
                    .map_err(|_| ImportError::Input("a reader panicked".into()))?
                    .add(std::mem::take(&mut st.rejects))?;
                Ok(st)
            },
        )
        .try_reduce(Stats::default, |mut a, b| {
            a.add(b);
            Ok(a)
        });
    let log = log
        .into_inner()
        .map_err(|_| ImportError::Input("a reader panicked".into()))?;
    match stats {
        Ok(stats) => Ok((stats, log.finish()?)),
        Err(e) => {
            log.discard();
            Err(e)
        }
    }
}

/// Encodes the records of `w` as COPY rows (no COPY header), handing them
/// to `sink`.
pub fn produce(
    plan: &Plan,
    d: &Derive,
    w: Work,
    sink: &mut Sink<'_>,
) -> Result<Stats, ImportError> {
    match &plan.sources[w.source].reader {
        Reader::Shapefile(shp) => {
            let (buf, st) = produce_shapefile(plan, d, shp, w)?;
            sink(buf, w.end - w.start)?;
            Ok(st)
        }
        Reader::Ogr(l) => crate::ogr::produce(plan, d, l, w, sink),
    }
}

fn produce_shapefile(
    plan: &Plan,
    d: &Derive,
    shp: &Shapefile,
    w: Work,
) -> Result<(Vec<u8>, Stats), ImportError> {
    let src = &plan.sources[w.source];
    let map = &plan.schema.mapping[w.source];
    let enc = src.encoding.value;
    let ncols = 2 + plan.schema.fields.len() + d.columns();
    // Attributes of the whole range, read sequentially.
    let rl = shp.dbf.as_ref().map_or(0, |d| d.header.record_len);
    let mut dbf_rows = crate::copy::take_buffer(rl * (w.end - w.start) as usize);
    if let Some(dbf) = &shp.dbf {
        dbf.read_range(w.start, w.end, &mut dbf_rows)?;
    }
    let fields = shp.dbf.as_ref().map(|d| &d.header.fields);
    let file_type = shp.shp.header.shape_type;
    let mut out = RowBuf::reused(((w.end - w.start) as usize) * (rl + 200));
    let mut st = Stats::default();
    shp.shp.for_each_in(w.start, w.end, |i, content| {
        let rec = &dbf_rows[((i - w.start) as usize) * rl..((i - w.start) as usize + 1) * rl];
        if rl > 0 && rec[0] == b'*' {
            st.deleted += 1;
            return Ok(());
        }
        let row_start = out.buf.len();
        out.begin_row(ncols as u16);
        out.i64(w.fid_base + i as i64 + 1);
        for (col, f) in plan.schema.fields.iter().enumerate() {
            let Some(fi) = map[col] else {
                out.null();
                continue;
            };
            let df = &fields.expect("mapping implies a dbf")[fi];
            let raw = rec.get(df.offset..df.offset + df.length).unwrap_or(&[]);
            if let Some(note) = schema::write_value(&mut out, df, raw, f.field_type, enc) {
                st.rejects.push(Reject {
                    file: shp.files.dbf.clone().unwrap_or_default(),
                    record: i + 1,
                    reason: note,
                    kept: true,
                });
            }
        }
        let at = out.begin_value();
        match shape_to_ewkb(content, file_type, plan.srid, &mut out.buf) {
            ShapeOutcome::Written { fixes } => {
                out.end_value(at);
                if d.append(&mut out, Some(at), &mut st) {
                    st.check_fids.push(w.fid_base + i as i64 + 1);
                }
                st.fixes += u64::from(fixes);
            }
            ShapeOutcome::Null => {
                out.cancel_value(at);
                d.append(&mut out, None, &mut st);
                st.null_geometries += 1;
            }
            ShapeOutcome::Rejected(reason) => {
                out.buf.truncate(row_start);
                st.rejects.push(Reject {
                    file: shp.files.shp.clone(),
                    record: i + 1,
                    reason,
                    kept: false,
                });
                return Ok(());
            }
        }
        st.rows += 1;
        Ok(())
    })?;
    crate::copy::give_buffer(dbf_rows);
    Ok((out.buf, st))
}
