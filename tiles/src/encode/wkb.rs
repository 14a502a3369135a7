//! Walks (E)WKB (points, lines, polygons, their multi forms and
//! collections; Z and M ordinates skipped) and hands each point, line and
//! ring to the [`GeomEncoder`] in tile coordinates, without building a
//! geometry in memory.

use super::geometry::{GeomEncoder, TileFrame, LINESTRING, POINT, POLYGON};
use super::grid::Pt;

pub(super) struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(b: &'a [u8]) -> Self {
        Reader { b, pos: 0 }
    }
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let s = self.b.get(self.pos..self.pos + N)?;
        self.pos += N;
        s.try_into().ok()
    }

    fn u32(&mut self, le: bool) -> Option<u32> {
        let a = self.take::<4>()?;
        Some(if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    }

    fn f64(&mut self, le: bool) -> Option<f64> {
        let a = self.take::<8>()?;
        Some(if le {
            f64::from_le_bytes(a)
        } else {
            f64::from_be_bytes(a)
        })
    }

    /// Reads a point sequence into `out`, in tile coordinates.
    fn coords(
        &mut self,
        le: bool,
        dims: usize,
        frame: &TileFrame,
        out: &mut Vec<Pt>,
    ) -> Option<()> {
        let n = self.u32(le)? as usize;
        if n > self.b.len() / 16 + 1 {
            return None;
        }
        out.clear();
        out.reserve(n);
        for _ in 0..n {
            let x = self.f64(le)?;
            let y = self.f64(le)?;
            for _ in 2..dims {
                self.f64(le)?;
            }
            out.push(frame.tile_point((x, y)));
        }
        Some(())
    }

    /// Reads one geometry and writes its commands into `enc`.
    pub(super) fn geometry(&mut self, enc: &mut GeomEncoder, frame: &TileFrame) -> Option<()> {
        let le = self.take::<1>()?[0] == 1;
        let raw = self.u32(le)?;
        // EWKB flags, then ISO dimension thousands.
        let (z, m, srid) = (
            raw & 0x8000_0000 != 0,
            raw & 0x4000_0000 != 0,
            raw & 0x2000_0000 != 0,
        );
        let iso = raw & 0x0fff_ffff;
        let (kind, iso_dims) = (iso % 1000, iso / 1000);
        let dims = 2
            + usize::from(z || iso_dims == 1 || iso_dims == 3)
            + usize::from(m || iso_dims == 2 || iso_dims == 3);
        if srid {
            self.u32(le)?;
        }
        match kind {
            1 => {
                let x = self.f64(le)?;
                let y = self.f64(le)?;
                for _ in 2..dims {
                    self.f64(le)?;
                }
                // POINT EMPTY is NaN, NaN.
                if !x.is_nan() {
                    if !enc.kind_is(POINT) {
                        return None;
                    }
                    enc.point(frame, (x, y));
                }
            }
            2 => {
                if !enc.kind_is(LINESTRING) {
                    return None;
                }
                let mut t = std::mem::take(&mut enc.tile);
                self.coords(le, dims, frame, &mut t)?;
                enc.tile = t;
                enc.line(frame);
            }
            3 => {
                if !enc.kind_is(POLYGON) {
                    return None;
                }
                let n = self.u32(le)?;
                // Holes go with their exterior when it collapses.
                let mut kept = true;
                for i in 0..n {
                    let mut t = std::mem::take(&mut enc.tile);
                    self.coords(le, dims, frame, &mut t)?;
                    enc.tile = t;
                    if i == 0 {
                        kept = enc.ring(frame, true);
                    } else if kept {
                        enc.ring(frame, false);
                    }
                }
            }
            4..=7 => {
                let n = self.u32(le)?;
                for _ in 0..n {
                    self.geometry(enc, frame)?;
                }
            }
            _ => return None,
        }
        Some(())
    }
}
