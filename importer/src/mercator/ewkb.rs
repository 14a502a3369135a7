//! The little-endian EWKB the readers write (`shapefile::wkb`, `ogr::geom`),
//! read back into coordinates and written again in Web Mercator. Only 2-D
//! geometries are handled here: anything else (Z, M, big-endian, other
//! types) is `None`, and the row is finished by PostGIS instead.

/// One coordinate.
pub type Pt = [f64; 2];

/// A 2-D geometry of the types the importer stores.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Point(Pt),
    MultiPoint(Vec<Pt>),
    /// LineString (`single`) or MultiLineString.
    Lines {
        single: bool,
        lines: Vec<Vec<Pt>>,
    },
    /// Polygon (`single`) or MultiPolygon: polygons of rings, shell first.
    Polygons {
        single: bool,
        polygons: Vec<Vec<Vec<Pt>>>,
    },
}

const Z_FLAG: u32 = 0x8000_0000;
const M_FLAG: u32 = 0x4000_0000;
const SRID_FLAG: u32 = 0x2000_0000;

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn u32(&mut self) -> Option<u32> {
        let v = u32::from_le_bytes(self.b.get(self.at..self.at + 4)?.try_into().ok()?);
        self.at += 4;
        Some(v)
    }
    fn f64(&mut self) -> Option<f64> {
        let v = f64::from_le_bytes(self.b.get(self.at..self.at + 8)?.try_into().ok()?);
        self.at += 8;
        Some(v)
    }
    fn pt(&mut self) -> Option<Pt> {
        Some([self.f64()?, self.f64()?])
    }
    fn count(&mut self) -> Option<usize> {
        let n = self.u32()? as usize;
        // Every element takes at least 4 bytes: a count beyond that is corrupt.
        (n <= (self.b.len() - self.at) / 4).then_some(n)
    }
    fn points(&mut self) -> Option<Vec<Pt>> {
        let n = self.count()?;
        (0..n).map(|_| self.pt()).collect()
    }
    /// Byte order and type of a (sub-)geometry; `None` unless 2-D little-endian.
    fn header(&mut self) -> Option<u32> {
        if *self.b.get(self.at)? != 1 {
            return None;
        }
        self.at += 1;
        let t = self.u32()?;
        if t & (Z_FLAG | M_FLAG) != 0 {
            return None;
        }
        if t & SRID_FLAG != 0 {
            self.u32()?;
        }
        Some(t & 0xff)
    }
    fn ring_list(&mut self) -> Option<Vec<Vec<Pt>>> {
        let n = self.count()?;
        (0..n).map(|_| self.points()).collect()
    }
    fn sub(&mut self, want: u32) -> Option<()> {
        (self.header()? == want).then_some(())
    }
}

/// Reads a 2-D EWKB geometry.
pub fn parse(b: &[u8]) -> Option<Shape> {
    let mut r = Reader { b, at: 0 };
    let s = match r.header()? {
        1 => Shape::Point(r.pt()?),
        2 => Shape::Lines {
            single: true,
            lines: vec![r.points()?],
        },
        3 => Shape::Polygons {
            single: true,
            polygons: vec![r.ring_list()?],
        },
        4 => {
            let n = r.count()?;
            let pts = (0..n)
                .map(|_| {
                    r.sub(1)?;
                    r.pt()
                })
                .collect::<Option<_>>()?;
            Shape::MultiPoint(pts)
        }
        5 => {
            let n = r.count()?;
            let lines = (0..n)
                .map(|_| {
                    r.sub(2)?;
                    r.points()
                })
                .collect::<Option<_>>()?;
            Shape::Lines {
                single: false,
                lines,
            }
        }
        6 => {
            let n = r.count()?;
            let polygons = (0..n)
                .map(|_| {
                    r.sub(3)?;
                    r.ring_list()
                })
                .collect::<Option<_>>()?;
            Shape::Polygons {
                single: false,
                polygons,
            }
        }
        _ => return None,
    };
    (r.at == b.len()).then_some(s)
}

impl Shape {
    /// Every coordinate, mutably, in order.
    pub fn for_each_mut(&mut self, mut f: impl FnMut(&mut Pt)) {
        match self {
            Shape::Point(p) => f(p),
            Shape::MultiPoint(ps) => ps.iter_mut().for_each(f),
            Shape::Lines { lines, .. } => lines.iter_mut().flatten().for_each(f),
            Shape::Polygons { polygons, .. } => polygons.iter_mut().flatten().flatten().for_each(f),
        }
    }

    /// Every coordinate, in order.
    pub fn for_each(&self, mut f: impl FnMut(Pt)) {
        match self {
            Shape::Point(p) => f(*p),
            Shape::MultiPoint(ps) => ps.iter().for_each(|p| f(*p)),
            Shape::Lines { lines, .. } => lines.iter().flatten().for_each(|p| f(*p)),
            Shape::Polygons { polygons, .. } => {
                polygons.iter().flatten().flatten().for_each(|p| f(*p))
            }
        }
    }

    /// How many coordinates.
    pub fn points(&self) -> usize {
        match self {
            Shape::Point(_) => 1,
            Shape::MultiPoint(ps) => ps.len(),
            Shape::Lines { lines, .. } => lines.iter().map(Vec::len).sum(),
            Shape::Polygons { polygons, .. } => polygons.iter().flatten().map(Vec::len).sum(),
        }
    }

    /// West, south, east, north; `None` when there is no coordinate.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        let mut b: Option<[f64; 4]> = None;
        self.for_each(|[x, y]| {
            b = Some(match b {
                None => [x, y, x, y],
                Some([w, so, e, n]) => [w.min(x), so.min(y), e.max(x), n.max(y)],
            });
        });
        b
    }
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_pts(out: &mut Vec<u8>, pts: &[Pt]) {
    put_u32(out, pts.len() as u32);
    for p in pts {
        out.extend_from_slice(&p[0].to_le_bytes());
        out.extend_from_slice(&p[1].to_le_bytes());
    }
}

fn put_rings(out: &mut Vec<u8>, rings: &[Vec<Pt>]) {
    put_u32(out, rings.len() as u32);
    for r in rings {
        put_pts(out, r);
    }
}

fn head(out: &mut Vec<u8>, t: u32, srid: Option<i32>) {
    out.push(1);
    match srid {
        Some(s) => {
            put_u32(out, t | SRID_FLAG);
            put_u32(out, s as u32);
        }
        None => put_u32(out, t),
    }
}

/// Writes `s` as EWKB with `srid`. With `unwrap_single`, a multi geometry
/// of one member is written as that member (as GEOS returns simplified
/// geometries).
pub fn write(s: &Shape, srid: i32, unwrap_single: bool, out: &mut Vec<u8>) {
    let srid = Some(srid);
    match s {
        Shape::Point(p) => {
            head(out, 1, srid);
            out.extend_from_slice(&p[0].to_le_bytes());
            out.extend_from_slice(&p[1].to_le_bytes());
        }
        Shape::MultiPoint(ps) => {
            head(out, 4, srid);
            put_u32(out, ps.len() as u32);
            for p in ps {
                head(out, 1, None);
                out.extend_from_slice(&p[0].to_le_bytes());
                out.extend_from_slice(&p[1].to_le_bytes());
            }
        }
        Shape::Lines { single, lines } => {
            if *single || (unwrap_single && lines.len() == 1) {
                head(out, 2, srid);
                put_pts(out, &lines[0]);
            } else {
                head(out, 5, srid);
                put_u32(out, lines.len() as u32);
                for l in lines {
                    head(out, 2, None);
                    put_pts(out, l);
                }
            }
        }
        Shape::Polygons { single, polygons } => {
            if *single || (unwrap_single && polygons.len() == 1) {
                head(out, 3, srid);
                put_rings(out, &polygons[0]);
            } else {
                head(out, 6, srid);
                put_u32(out, polygons.len() as u32);
                for p in polygons {
                    head(out, 3, None);
                    put_rings(out, p);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let s = Shape::Polygons {
            single: false,
            polygons: vec![vec![vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]],
        };
        let mut b = Vec::new();
        write(&s, 9210, false, &mut b);
        assert_eq!(parse(&b), Some(s.clone()));
        let mut one = Vec::new();
        write(&s, 3857, true, &mut one);
        assert!(matches!(
            parse(&one),
            Some(Shape::Polygons { single: true, .. })
        ));
        // Z flag, truncation, trailing bytes, big-endian: not handled here.
        let mut z = b.clone();
        z[4] |= 0x80;
        assert_eq!(parse(&z), None);
        assert_eq!(parse(&b[..b.len() - 1]), None);
        let mut extra = b.clone();
        extra.push(0);
        assert_eq!(parse(&extra), None);
        let mut be = b.clone();
        be[0] = 0;
        assert_eq!(parse(&be), None);
        assert_eq!(parse(&[]), None);
    }
}
