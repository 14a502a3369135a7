//! The derived columns of a row, computed in the rayon workers right after
//! the geometry is encoded: `geom_3857` (PROJ through the `proj` crate, the
//! same operation PostGIS's `ST_Transform` picks: both ask PROJ for
//! `AUTH:CODE` to `EPSG:3857`), the generalised band columns
//! (`ST_SimplifyPreserveTopology`, see [`simplify`]), `zmin`, and `_check`.
//!
//! `_check` is set when the worker could not finish the row with certainty:
//! a geometry not proven valid ([`valid`]), a transform PROJ refused, Z/M
//! coordinates, a simplification it cannot certify, or a CRS PROJ does not
//! know by its authority code. Such rows carry the source geometry and NULL
//! derived columns; `crate::finish` completes them in PostGIS exactly as
//! before (`ST_IsValid`, `ST_MakeValid`, `ST_Transform`, ...), so PostGIS
//! stays the reference for repairs and the repair count stays exact.

pub mod ewkb;
pub mod point_cache;
pub mod simplify;
pub mod valid;

use std::cell::RefCell;
use std::rc::Rc;

use proj::Proj;

use crate::copy::RowBuf;
use crate::produce::Stats;
use ewkb::Shape;
use point_cache::PointCache;

/// What the workers need to know about the layer.
#[derive(Debug, Clone)]
pub struct Target {
    /// `AUTH:CODE` of the layer's SRID as PostGIS's `spatial_ref_sys` names
    /// it; `None`: every row is finished by PostGIS.
    pub authority: Option<String>,
    /// Whether the layer has band columns (`catalog::generalizes`).
    pub generalize: bool,
}

thread_local! {
    /// The transformation of this thread, by source authority code:
    /// creating one queries PROJ's database (milliseconds), and rayon may
    /// call `map_init` once per stolen work item.
    static PROJ: RefCell<Option<(String, Option<Rc<Proj>>)>> = const { RefCell::new(None) };
}

/// This thread's `Proj` from `auth` to Web Mercator (`None`: PROJ refused).
fn thread_proj(auth: &str) -> Option<Rc<Proj>> {
    PROJ.with(|c| {
        let mut c = c.borrow_mut();
        match &*c {
            Some((a, p)) if a == auth => p.clone(),
            _ => {
                let p = Proj::new_known_crs(auth, "EPSG:3857", None)
                    .ok()
                    .map(Rc::new);
                *c = Some((auth.to_string(), p.clone()));
                p
            }
        }
    })
}

/// Per-worker state (`Proj` is neither `Sync` nor `Send`: one per thread).
pub struct Derive {
    proj: Option<Rc<Proj>>,
    identity: bool,
    generalize: bool,
    scratch: RefCell<Scratch>,
}

/// What [`Derive::to_3857`] reuses from one geometry to the next.
#[derive(Default)]
struct Scratch {
    /// Points PROJ transformed lately in this worker.
    cache: PointCache,
    /// The geometry's points, then their Web Mercator coordinates.
    pts: Vec<(f64, f64)>,
    /// Per point: the cached answer, or `None` (PROJ transforms it).
    known: Vec<Option<[f64; 2]>>,
    /// The points the cache did not hold, transformed in one PROJ call.
    misses: Vec<(f64, f64)>,
}

impl Derive {
    pub fn new(t: &Target) -> Self {
        let identity = t.authority.as_deref() == Some("EPSG:3857");
        let proj = match &t.authority {
            Some(a) if !identity => thread_proj(a),
            _ => None,
        };
        Derive {
            proj,
            identity,
            generalize: t.generalize,
            scratch: RefCell::default(),
        }
    }

    fn to_3857(&self, s: &mut Shape) -> Option<()> {
        if self.identity {
            return Some(());
        }
        let proj = self.proj.as_ref()?;
        // A closed ring's last point is its first: transformed once.
        let closed = |r: &Vec<ewkb::Pt>| r.len() > 1 && r[0] == r[r.len() - 1];
        let mut scratch = self.scratch.borrow_mut();
        let Scratch {
            cache,
            pts,
            known,
            misses,
        } = &mut *scratch;
        pts.clear();
        match s {
            Shape::Polygons { polygons, .. } => {
                for r in polygons.iter().flatten() {
                    let n = r.len() - usize::from(closed(r));
                    pts.extend(r[..n].iter().map(|p| (p[0], p[1])));
                }
            }
            _ => s.for_each(|p| pts.push((p[0], p[1]))),
        }
        // Shared corners were transformed a few records earlier: PROJ
        // transforms only the points the cache does not hold.
        known.clear();
        known.extend(pts.iter().map(|p| cache.get([p.0, p.1])));
        misses.clear();
        misses.extend(
            pts.iter()
                .zip(known.iter())
                .filter(|(_, k)| k.is_none())
                .map(|(p, _)| *p),
        );
        if !misses.is_empty() {
            proj.convert_array(misses).ok()?;
            if !misses.iter().all(|p| p.0.is_finite() && p.1.is_finite()) {
                return None;
            }
        }
        let mut fresh = misses.iter();
        for (p, k) in pts.iter_mut().zip(known.iter()) {
            let q = match k {
                Some(q) => (q[0], q[1]),
                None => {
                    let q = *fresh.next().expect("one answer per miss");
                    cache.put([p.0, p.1], [q.0, q.1]);
                    q
                }
            };
            *p = q;
        }
        let mut it = pts.iter().copied();
        match s {
            Shape::Polygons { polygons, .. } => {
                for r in polygons.iter_mut().flatten() {
                    let c = closed(r);
                    let n = r.len() - usize::from(c);
                    for p in &mut r[..n] {
                        let (x, y) = it.next().expect("same count");
                        *p = [x, y];
                    }
                    if c {
                        r[n] = r[0];
                    }
                }
            }
            _ => s.for_each_mut(|p| {
                let (x, y) = it.next().expect("same count");
                *p = [x, y];
            }),
        }
        Some(())
    }

    /// Columns [`Derive::append`] writes after `geom`.
    pub fn columns(&self) -> usize {
        3 + if self.generalize {
            catalog::GENERALIZED.len()
        } else {
            0
        }
    }

    /// Appends `geom_3857`, the band columns, `zmin` and `_check` for a row
    /// whose `geom` value starts at `geom_at` in `out` (the position
    /// `RowBuf::begin_value` returned; `None`: a NULL geometry). True when
    /// the row is left to PostGIS (`_check`).
    pub fn append(&self, out: &mut RowBuf, geom_at: Option<usize>, st: &mut Stats) -> bool {
        let Some(at) = geom_at else {
            out.null();
            self.null_bands(out);
            out.i16(if self.generalize { 24 } else { 0 });
            out.bool(false);
            return false;
        };
        match self.derive(&out.buf[at + 4..]) {
            Some(d) => {
                out.bytes(&d.geom);
                for b in &d.bands {
                    match b {
                        Some(b) => out.bytes(b),
                        None => out.null(),
                    }
                }
                out.i16(d.zmin);
                out.bool(false);
                st.zmin[d.zmin as usize] += 1;
                st.bounds = crate::produce::union_bounds(st.bounds, Some(d.bbox));
                false
            }
            None => {
                out.null();
                self.null_bands(out);
                out.null();
                out.bool(true);
                true
            }
        }
    }

    fn null_bands(&self, out: &mut RowBuf) {
        if self.generalize {
            for _ in catalog::GENERALIZED {
                out.null();
            }
        }
    }

    fn derive(&self, g: &[u8]) -> Option<Derived> {
        let mut s = ewkb::parse(g)?;
        if !valid::certainly_valid(&s) {
            return None;
        }
        self.to_3857(&mut s)?;
        let bbox = s.bbox()?;
        let zmin = if self.generalize { zmin(bbox) } else { 0 };
        let mut geom = Vec::with_capacity(g.len());
        ewkb::write(&s, 3857, false, &mut geom);
        let mut bands = Vec::new();
        if self.generalize {
            for (z, _) in catalog::GENERALIZED {
                if i16::from(*z) < zmin {
                    bands.push(None);
                    continue;
                }
                let simple = simplify::simplify(&s, catalog::tolerance(*z))?;
                // Simplifying only drops vertices: as many left means the
                // band equals `geom_3857`, which the tiles then read
                // (`catalog::GENERALIZED`): no second copy to store.
                if simple.points() == s.points() {
                    bands.push(None);
                    continue;
                }
                let mut b = Vec::with_capacity(geom.len());
                ewkb::write(&simple, 3857, true, &mut b);
                bands.push(Some(b));
            }
        }
        Some(Derived {
            geom,
            bands,
            zmin,
            bbox,
        })
    }
}

struct Derived {
    geom: Vec<u8>,
    bands: Vec<Option<Vec<u8>>>,
    zmin: i16,
    bbox: [f64; 4],
}

/// Smallest zoom at which the box's diagonal spans a pixel (0..=24), as
/// `crate::finish` computes it in SQL for the rows PostGIS finishes.
pub fn zmin(b: [f64; 4]) -> i16 {
    let diag = ((b[2] - b[0]).powi(2) + (b[3] - b[1]).powi(2)).sqrt();
    let z = (catalog::PIXEL_Z0 / diag.max(1e-6)).ln() / 2f64.ln();
    z.ceil().clamp(0.0, 24.0) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zmin_of_sizes() {
        assert_eq!(zmin([0.0, 0.0, 0.0, 0.0]), 24);
        assert_eq!(zmin([0.0, 0.0, 30.0, 0.0]), 13);
        assert_eq!(zmin([0.0, 0.0, 1e9, 0.0]), 0);
    }

    #[test]
    fn shared_corners_from_the_cache_equal_a_fresh_transform() {
        let t = Target {
            authority: Some("EPSG:9210".into()),
            generalize: false,
        };
        let square = |x: f64| {
            let r = vec![
                [x, 1_147_000.0],
                [x + 10.0, 1_147_000.0],
                [x + 10.0, 1_147_010.0],
                [x, 1_147_010.0],
                [x, 1_147_000.0],
            ];
            Shape::Polygons {
                single: false,
                polygons: vec![vec![r]],
            }
        };
        // One worker transforms a row of squares sharing their sides ...
        let warm = Derive::new(&t);
        for i in 0..50 {
            let mut a = square(588_000.0 + 10.0 * f64::from(i));
            warm.to_3857(&mut a).unwrap();
            // ... and every answer equals that of a worker that never saw
            // the shared corners.
            let mut b = square(588_000.0 + 10.0 * f64::from(i));
            Derive::new(&t).to_3857(&mut b).unwrap();
            assert_eq!(a, b);
        }
    }

    #[test]
    fn vn2000_to_web_mercator_and_unknown_crs() {
        let d = Derive::new(&Target {
            authority: Some("EPSG:9210".into()),
            generalize: true,
        });
        let mut s = Shape::Point([588_000.0, 1_147_000.0]);
        d.to_3857(&mut s).expect("PROJ knows EPSG:9210");
        let Shape::Point([x, y]) = s else { panic!() };
        // Tien Giang: about 106.56 E, 10.37 N.
        assert!((11_860_000.0..11_870_000.0).contains(&x), "{x}");
        assert!((1_160_000.0..1_170_000.0).contains(&y), "{y}");
        let none = Derive::new(&Target {
            authority: Some("EPSG:0".into()),
            generalize: false,
        });
        assert!(none.to_3857(&mut Shape::Point([0.0, 0.0])).is_none());
    }
}
