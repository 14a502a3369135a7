//! Geometries from GDAL to the EWKB the raw COPY table takes, following the
//! shapefile path's policy: points stay points, lines and polygons become
//! MultiLineString / MultiPolygon, Z is kept (the M of ZM geometries is
//! dropped), M-only geometries stay XYM; curves are linearised by GDAL
//! first; null and empty geometries become NULL. Unclosed rings are closed
//! and rings or parts with too few points dropped (counted as fixes), so
//! PostGIS never refuses a row of the COPY.
//!
//! Input is GDAL's ISO WKB; a geometry of another type than the layer's
//! (a point in a polygon layer) is rejected with a reason.

use std::fmt;

const Z_FLAG: u32 = 0x8000_0000;
const M_FLAG: u32 = 0x4000_0000;
const SRID_FLAG: u32 = 0x2000_0000;

/// The geometry families a layer can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    Point,
    MultiPoint,
    Line,
    Polygon,
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Point => "Point",
            Family::MultiPoint => "MultiPoint",
            Family::Line => "LineString",
            Family::Polygon => "Polygon",
        })
    }
}

/// The geometry type a layer's rows are written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub family: Family,
    pub z: bool,
    /// Kept only without Z (as the shapefile path does).
    pub m: bool,
}

impl Target {
    /// The PostGIS type name, e.g. `MultiPolygonZ`.
    pub fn postgis_type(&self) -> String {
        let base = match self.family {
            Family::Point => "Point",
            Family::MultiPoint => "MultiPoint",
            Family::Line => "MultiLineString",
            Family::Polygon => "MultiPolygon",
        };
        format!(
            "{base}{}",
            if self.z {
                "Z"
            } else if self.m {
                "M"
            } else {
                ""
            }
        )
    }
}

/// What became of one feature's geometry.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Written { fixes: u32 },
    Null,
    Rejected(String),
}

type Pt = [f64; 4];

#[derive(Debug)]
enum G {
    Point(Option<Pt>),
    Line(Vec<Pt>),
    Polygon(Vec<Vec<Pt>>),
    /// Multi types and collections: (ISO base code, members).
    Multi(u32, Vec<G>),
}

struct Rd<'a> {
    b: &'a [u8],
    at: usize,
}

impl Rd<'_> {
    fn u32(&mut self, le: bool) -> Result<u32, String> {
        let s = self.b.get(self.at..self.at + 4).ok_or("WKB too short")?;
        self.at += 4;
        let a: [u8; 4] = s.try_into().expect("4 bytes");
        Ok(if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    }
    fn f64(&mut self, le: bool) -> Result<f64, String> {
        let s = self.b.get(self.at..self.at + 8).ok_or("WKB too short")?;
        self.at += 8;
        let a: [u8; 8] = s.try_into().expect("8 bytes");
        Ok(if le {
            f64::from_le_bytes(a)
        } else {
            f64::from_be_bytes(a)
        })
    }
    fn count(&mut self, le: bool) -> Result<usize, String> {
        let n = self.u32(le)? as usize;
        // Each element takes at least 8 bytes: refuse counts the data cannot hold.
        if n > (self.b.len() - self.at) / 8 + 1 {
            return Err(format!("WKB count {n} exceeds the data"));
        }
        Ok(n)
    }
    fn point(&mut self, le: bool, z: bool, m: bool) -> Result<Pt, String> {
        let x = self.f64(le)?;
        let y = self.f64(le)?;
        let zv = if z { self.f64(le)? } else { 0.0 };
        let mv = if m { self.f64(le)? } else { f64::NAN };
        Ok([x, y, zv, mv])
    }
    fn points(&mut self, le: bool, z: bool, m: bool) -> Result<Vec<Pt>, String> {
        let n = self.count(le)?;
        (0..n).map(|_| self.point(le, z, m)).collect()
    }
    fn geometry(&mut self, depth: u32) -> Result<G, String> {
        if depth > 32 {
            return Err("geometry nested too deeply".into());
        }
        let le = match self.b.get(self.at) {
            Some(0) => false,
            Some(1) => true,
            _ => return Err("bad WKB byte order".into()),
        };
        self.at += 1;
        let raw = self.u32(le)?;
        let (mut z, mut m) = (raw & Z_FLAG != 0, raw & M_FLAG != 0);
        let code = raw & 0x0fff_ffff;
        let base = code % 1000;
        match code / 1000 {
            1 => z = true,
            2 => m = true,
            3 => (z, m) = (true, true),
            _ => {}
        }
        Ok(match base {
            1 => {
                let p = self.point(le, z, m)?;
                G::Point((!p[0].is_nan() && !p[1].is_nan()).then_some(p))
            }
            2 => G::Line(self.points(le, z, m)?),
            3 => {
                let n = self.count(le)?;
                G::Polygon(
                    (0..n)
                        .map(|_| self.points(le, z, m))
                        .collect::<Result<_, _>>()?,
                )
            }
            4..=7 => {
                let n = self.count(le)?;
                G::Multi(
                    base,
                    (0..n)
                        .map(|_| self.geometry(depth + 1))
                        .collect::<Result<_, _>>()?,
                )
            }
            _ => return Err(format!("unsupported geometry type (WKB code {code})")),
        })
    }
}

fn name(g: &G) -> &'static str {
    match g {
        G::Point(_) => "Point",
        G::Line(_) => "LineString",
        G::Polygon(_) => "Polygon",
        G::Multi(4, _) => "MultiPoint",
        G::Multi(5, _) => "MultiLineString",
        G::Multi(6, _) => "MultiPolygon",
        G::Multi(..) => "GeometryCollection",
    }
}

/// Collects the members of `g` that belong to `family` into `out`
/// (points, lines or polygons); anything else is an error.
fn collect(g: G, family: Family, out: &mut Vec<G>) -> Result<(), String> {
    let ok = matches!(
        (&g, family),
        (G::Point(_), Family::Point | Family::MultiPoint)
            | (G::Line(_), Family::Line)
            | (G::Polygon(_), Family::Polygon)
    );
    match g {
        G::Multi(_, members) => {
            for m in members {
                collect(m, family, out)?;
            }
            Ok(())
        }
        g if ok => {
            out.push(g);
            Ok(())
        }
        g => Err(format!("{} in a {family} layer", name(&g))),
    }
}

/// Drops unusable parts; returns the number of fixes made.
fn clean(parts: &mut Vec<G>) -> u32 {
    let mut fixes = 0;
    parts.retain_mut(|g| match g {
        G::Point(p) => p.is_some(),
        G::Line(pts) => {
            if pts.len() < 2 {
                fixes += u32::from(!pts.is_empty());
                return false;
            }
            true
        }
        G::Polygon(rings) => {
            let before = rings.len();
            let mut keep_outer = true;
            for (i, r) in rings.iter_mut().enumerate() {
                if r.len() >= 3 && r.first().map(|p| (p[0], p[1])) != r.last().map(|p| (p[0], p[1]))
                {
                    let first = r[0];
                    r.push(first);
                    fixes += 1;
                }
                if r.len() < 4 && i == 0 {
                    keep_outer = false;
                }
            }
            rings.retain(|r| r.len() >= 4);
            fixes += (before - rings.len()) as u32;
            keep_outer && !rings.is_empty()
        }
        G::Multi(..) => false,
    });
    fixes
}

fn put_header(out: &mut Vec<u8>, code: u32, t: &Target, srid: Option<i32>) {
    out.push(1);
    let mut c = code;
    if t.z {
        c |= Z_FLAG;
    } else if t.m {
        c |= M_FLAG;
    }
    if srid.is_some() {
        c |= SRID_FLAG;
    }
    out.extend_from_slice(&c.to_le_bytes());
    if let Some(s) = srid {
        out.extend_from_slice(&s.to_le_bytes());
    }
}

fn put_points(out: &mut Vec<u8>, pts: &[Pt], t: &Target) {
    for p in pts {
        out.extend_from_slice(&p[0].to_le_bytes());
        out.extend_from_slice(&p[1].to_le_bytes());
        if t.z {
            out.extend_from_slice(&p[2].to_le_bytes());
        } else if t.m {
            out.extend_from_slice(&p[3].to_le_bytes());
        }
    }
}

fn put(out: &mut Vec<u8>, g: &G, t: &Target) {
    match g {
        G::Point(Some(p)) => {
            put_header(out, 1, t, None);
            put_points(out, std::slice::from_ref(p), t);
        }
        G::Line(pts) => {
            put_header(out, 2, t, None);
            out.extend_from_slice(&(pts.len() as u32).to_le_bytes());
            put_points(out, pts, t);
        }
        G::Polygon(rings) => {
            put_header(out, 3, t, None);
            out.extend_from_slice(&(rings.len() as u32).to_le_bytes());
            for r in rings {
                out.extend_from_slice(&(r.len() as u32).to_le_bytes());
                put_points(out, r, t);
            }
        }
        G::Point(None) | G::Multi(..) => unreachable!("cleaned before writing"),
    }
}

/// Converts ISO WKB to EWKB of the layer's type with `srid`, appended to `out`.
pub fn to_ewkb(wkb: &[u8], t: &Target, srid: i32, out: &mut Vec<u8>) -> Outcome {
    let g = match (Rd { b: wkb, at: 0 }).geometry(0) {
        Ok(g) => g,
        Err(e) => return Outcome::Rejected(e),
    };
    let single_point = matches!(g, G::Point(_));
    let mut parts = Vec::new();
    if let Err(e) = collect(g, t.family, &mut parts) {
        return Outcome::Rejected(e);
    }
    let fixes = clean(&mut parts);
    if parts.is_empty() {
        return Outcome::Null;
    }
    match t.family {
        Family::Point => {
            if parts.len() > 1 || !single_point {
                return Outcome::Rejected(format!(
                    "MultiPoint of {} points in a Point layer",
                    parts.len()
                ));
            }
            let G::Point(Some(p)) = &parts[0] else {
                unreachable!("cleaned")
            };
            put_header(out, 1, t, Some(srid));
            put_points(out, std::slice::from_ref(p), t);
        }
        f => {
            let code = match f {
                Family::MultiPoint => 4,
                Family::Line => 5,
                _ => 6,
            };
            put_header(out, code, t, Some(srid));
            out.extend_from_slice(&(parts.len() as u32).to_le_bytes());
            for p in &parts {
                put(out, p, t);
            }
        }
    }
    Outcome::Written { fixes }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso_polygon(rings: &[&[(f64, f64)]]) -> Vec<u8> {
        let mut b = vec![1];
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&(rings.len() as u32).to_le_bytes());
        for r in rings {
            b.extend_from_slice(&(r.len() as u32).to_le_bytes());
            for (x, y) in *r {
                b.extend_from_slice(&x.to_le_bytes());
                b.extend_from_slice(&y.to_le_bytes());
            }
        }
        b
    }

    const POLY: Target = Target {
        family: Family::Polygon,
        z: false,
        m: false,
    };

    #[test]
    fn polygon_becomes_multipolygon_with_srid_and_unclosed_rings_close() {
        let wkb = iso_polygon(&[&[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)]]);
        let mut out = Vec::new();
        assert_eq!(
            to_ewkb(&wkb, &POLY, 9210, &mut out),
            Outcome::Written { fixes: 1 }
        );
        assert_eq!(out[0], 1);
        assert_eq!(
            u32::from_le_bytes(out[1..5].try_into().unwrap()),
            6 | SRID_FLAG
        );
        assert_eq!(i32::from_le_bytes(out[5..9].try_into().unwrap()), 9210);
        // 1 polygon, 1 ring of 4 points.
        assert_eq!(out.len(), 9 + 4 + 9 + 4 + 4 * 16);
    }

    #[test]
    fn wrong_family_is_rejected_and_empty_is_null() {
        let mut point = vec![1];
        point.extend_from_slice(&1u32.to_le_bytes());
        point.extend_from_slice(&1.0f64.to_le_bytes());
        point.extend_from_slice(&2.0f64.to_le_bytes());
        let mut out = Vec::new();
        assert_eq!(
            to_ewkb(&point, &POLY, 4326, &mut out),
            Outcome::Rejected("Point in a Polygon layer".into())
        );
        let empty = iso_polygon(&[]);
        assert_eq!(to_ewkb(&empty, &POLY, 4326, &mut out), Outcome::Null);
        assert!(matches!(
            to_ewkb(&[1, 2, 3], &POLY, 4326, &mut out),
            Outcome::Rejected(_)
        ));
    }

    proptest::proptest! {
        /// Random or damaged WKB gives a result, never a panic.
        #[test]
        fn damaged_wkb_never_panics(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            flips in proptest::collection::vec((0usize..200, proptest::num::u8::ANY), 0..6),
            family in 0u8..4,
        ) {
            let t = Target {
                family: [Family::Point, Family::MultiPoint, Family::Line, Family::Polygon][family as usize],
                z: family % 2 == 0,
                m: false,
            };
            let mut out = Vec::new();
            let _ = to_ewkb(&bytes, &t, 4326, &mut out);
            let mut good = iso_polygon(&[&[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]]);
            for (at, b) in flips {
                let n = good.len();
                good[at % n] = b;
            }
            let _ = to_ewkb(&good, &t, 4326, &mut out);
        }
    }

    #[test]
    fn zm_keeps_z_and_drops_m() {
        // ISO PointZM (3001).
        let mut b = vec![1];
        b.extend_from_slice(&3001u32.to_le_bytes());
        for v in [1.0f64, 2.0, 3.0, 4.0] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        let t = Target {
            family: Family::Point,
            z: true,
            m: false,
        };
        let mut out = Vec::new();
        assert_eq!(
            to_ewkb(&b, &t, 4326, &mut out),
            Outcome::Written { fixes: 0 }
        );
        assert_eq!(out.len(), 9 + 24);
        assert_eq!(
            u32::from_le_bytes(out[1..5].try_into().unwrap()),
            1 | Z_FLAG | SRID_FLAG
        );
    }
}
