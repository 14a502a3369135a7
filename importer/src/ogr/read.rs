//! Reading one GDAL layer into binary COPY rows (`fid, <attributes>,
//! geom` and the columns `crate::mercator` derives from it), in one sequential pass on a rayon worker that opens its own
//! dataset handle (GDAL handles are not shared between threads), handing
//! rows to the sink every [`RANGE`] features so memory stays flat.

use std::ffi::c_int;

use crate::copy::RowBuf;
use crate::error::ImportError;
use crate::mercator::Derive;
use crate::plan::Plan;
use crate::produce::{Reject, Sink, Stats, Work, RANGE};

use super::geom::{self, Outcome};
use gdal::vector::LayerAccess;

use super::{open_dataset, values, OgrLayer};

/// The ISO WKB of a feature's geometry, curves linearised; `None` when the
/// feature has no geometry or an empty one.
///
/// # Safety
/// `f` must be a live feature.
unsafe fn geometry_wkb(f: gdal_sys::OGRFeatureH, buf: &mut Vec<u8>) -> Option<()> {
    let g = gdal_sys::OGR_F_GetGeometryRef(f);
    if g.is_null() || gdal_sys::OGR_G_IsEmpty(g) != 0 {
        return None;
    }
    let (g, owned) = if gdal_sys::OGR_G_HasCurveGeometry(g, 1) != 0 {
        let l = gdal_sys::OGR_G_GetLinearGeometry(g, 0.0, std::ptr::null_mut());
        if l.is_null() {
            return None;
        }
        (l, true)
    } else {
        (g, false)
    };
    let n = gdal_sys::OGR_G_WkbSizeEx(g);
    buf.clear();
    buf.resize(n, 0);
    let rv = gdal_sys::OGR_G_ExportToIsoWkb(g, gdal_sys::OGRwkbByteOrder::wkbNDR, buf.as_mut_ptr());
    if owned {
        gdal_sys::OGR_G_DestroyGeometry(g);
    }
    if rv != gdal_sys::OGRErr::OGRERR_NONE {
        buf.clear();
    }
    Some(())
}

/// Encodes every feature of the layer as COPY rows.
pub fn produce(
    plan: &Plan,
    d: &Derive,
    l: &OgrLayer,
    w: Work,
    sink: &mut Sink<'_>,
) -> Result<Stats, ImportError> {
    let src = &plan.sources[w.source];
    let map = &plan.schema.mapping[w.source];
    let ncols = 2 + plan.schema.fields.len() + d.columns();
    let ds = open_dataset(&l.dataset)?;
    let layer = super::pick_layer(&ds, &l.dataset, Some(&l.layer))?;
    let mut out = RowBuf::reused(1 << 20);
    let mut st = Stats::default();
    let mut wkb = Vec::new();
    let mut pending = 0u64;
    let mut i = 0u64;
    // SAFETY: the layer handle lives as long as `ds`; each feature is
    // destroyed right after use.
    unsafe {
        let h = layer.c_layer();
        gdal_sys::OGR_L_ResetReading(h);
        loop {
            let f = gdal_sys::OGR_L_GetNextFeature(h);
            if f.is_null() {
                break;
            }
            if i >= w.end {
                gdal_sys::OGR_F_Destroy(f);
                st.rejects.push(Reject {
                    file: src.path.clone(),
                    record: i + 1,
                    reason: format!(
                        "the layer holds more features than the {} it counted when planned: the rest were not read",
                        w.end
                    ),
                    kept: false,
                });
                break;
            }
            let row_start = out.buf.len();
            out.begin_row(ncols as u16);
            out.i64(w.fid_base + i as i64 + 1);
            for (col, fd) in plan.schema.fields.iter().enumerate() {
                let Some(fi) = map[col] else {
                    out.null();
                    continue;
                };
                let (gi, kind) = l.fields[fi];
                if let Some(note) =
                    values::write(&mut out, f, gi as c_int, kind, fd.field_type, &l.text)
                {
                    st.rejects.push(Reject {
                        file: src.path.clone(),
                        record: i + 1,
                        reason: format!("field {}: {note}", fd.name),
                        kept: true,
                    });
                }
            }
            let at = out.begin_value();
            let outcome = match (&l.target, geometry_wkb(f, &mut wkb)) {
                (_, None) | (None, _) => Outcome::Null,
                (Some(_), Some(())) if wkb.is_empty() => {
                    Outcome::Rejected("GDAL could not export the geometry".into())
                }
                (Some(t), Some(())) => geom::to_ewkb(&wkb, t, plan.srid, &mut out.buf),
            };
            gdal_sys::OGR_F_Destroy(f);
            match outcome {
                Outcome::Written { fixes } => {
                    out.end_value(at);
                    if d.append(&mut out, Some(at), &mut st) {
                        st.check_fids.push(w.fid_base + i as i64 + 1);
                    }
                    st.fixes += u64::from(fixes);
                    st.rows += 1;
                }
                Outcome::Null => {
                    out.cancel_value(at);
                    d.append(&mut out, None, &mut st);
                    st.null_geometries += 1;
                    st.rows += 1;
                }
                Outcome::Rejected(reason) => {
                    out.buf.truncate(row_start);
                    st.rejects.push(Reject {
                        file: src.path.clone(),
                        record: i + 1,
                        reason,
                        kept: false,
                    });
                }
            }
            i += 1;
            pending += 1;
            if pending == RANGE {
                let full = std::mem::replace(&mut out.buf, crate::copy::take_buffer(1 << 20));
                sink(full, pending)?;
                pending = 0;
            }
        }
    }
    sink(out.buf, pending + (w.end - w.start).saturating_sub(i))?;
    Ok(st)
}
