//! One feature's geometry, from Web Mercator WKB to MVT commands: read the
//! WKB, move it into tile coordinates (y down), clip it to the tile plus
//! its buffer, snap to the integer grid, drop repeated points and rings
//! that collapse, orient rings as MVT 2.1 wants (exterior: positive area by
//! the surveyor's formula in tile coordinates; holes: negative), and write
//! the command integers.

use super::pbf::zigzag;

type Pt = (f64, f64);

/// A geometry read from WKB, in source coordinates.
#[derive(Debug, PartialEq)]
pub enum Geom {
    Points(Vec<Pt>),
    Lines(Vec<Vec<Pt>>),
    Polygons(Vec<Vec<Vec<Pt>>>),
}

/// MVT geometry types.
pub const POINT: u32 = 1;
pub const LINESTRING: u32 = 2;
pub const POLYGON: u32 = 3;

/// Reads (E)WKB: points, lines, polygons, their multi forms and
/// collections of one kind; Z and M ordinates are skipped. None when the
/// bytes are not WKB or mix kinds.
pub fn read_wkb(b: &[u8]) -> Option<Geom> {
    let mut r = Reader { b, pos: 0 };
    let mut g = None;
    r.geometry(&mut g)?;
    g
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
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

    fn coords(&mut self, le: bool, dims: usize) -> Option<Vec<Pt>> {
        let n = self.u32(le)? as usize;
        if n > self.b.len() / 16 + 1 {
            return None;
        }
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let x = self.f64(le)?;
            let y = self.f64(le)?;
            for _ in 2..dims {
                self.f64(le)?;
            }
            v.push((x, y));
        }
        Some(v)
    }

    /// Reads one geometry into `acc` (merging parts of the same kind).
    fn geometry(&mut self, acc: &mut Option<Geom>) -> Option<()> {
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
                    push(acc, Geom::Points(vec![(x, y)]))?;
                }
            }
            2 => push(acc, Geom::Lines(vec![self.coords(le, dims)?]))?,
            3 => {
                let n = self.u32(le)? as usize;
                let mut rings = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    rings.push(self.coords(le, dims)?);
                }
                push(acc, Geom::Polygons(vec![rings]))?;
            }
            4..=7 => {
                let n = self.u32(le)?;
                for _ in 0..n {
                    self.geometry(acc)?;
                }
            }
            _ => return None,
        }
        Some(())
    }
}

fn push(acc: &mut Option<Geom>, g: Geom) -> Option<()> {
    match (acc.as_mut(), g) {
        (None, g) => *acc = Some(g),
        (Some(Geom::Points(a)), Geom::Points(b)) => a.extend(b),
        (Some(Geom::Lines(a)), Geom::Lines(b)) => a.extend(b),
        (Some(Geom::Polygons(a)), Geom::Polygons(b)) => a.extend(b),
        _ => return None,
    }
    Some(())
}

/// Where a tile lies in Web Mercator and how it is quantised.
#[derive(Clone, Copy, Debug)]
pub struct TileFrame {
    /// west, south, east, north in EPSG:3857 metres.
    pub bounds: [f64; 4],
    pub extent: u32,
    /// Clip margin in tile units.
    pub buffer: u32,
}

impl TileFrame {
    fn tile_point(&self, (x, y): Pt) -> Pt {
        let [w, s, e, n] = self.bounds;
        let ext = f64::from(self.extent);
        ((x - w) / (e - w) * ext, (n - y) / (n - s) * ext)
    }

    fn clip_box(&self) -> [f64; 4] {
        let b = f64::from(self.buffer);
        let e = f64::from(self.extent);
        [-b, -b, e + b, e + b]
    }
}

/// The MVT type and command integers of `g` in `frame`; None when nothing
/// of it is left in the tile.
pub fn commands(g: &Geom, frame: &TileFrame) -> Option<(u32, Vec<u32>)> {
    let bx = frame.clip_box();
    let mut out = Vec::new();
    let mut cur = (0i32, 0i32);
    match g {
        Geom::Points(pts) => {
            let inside: Vec<(i32, i32)> = pts
                .iter()
                .map(|p| frame.tile_point(*p))
                .filter(|&(x, y)| x >= bx[0] && y >= bx[1] && x <= bx[2] && y <= bx[3])
                .map(snap)
                .collect();
            if inside.is_empty() {
                return None;
            }
            out.push(command(1, inside.len()));
            for p in inside {
                delta(&mut out, &mut cur, p);
            }
            Some((POINT, out))
        }
        Geom::Lines(lines) => {
            for l in lines {
                let t: Vec<Pt> = l.iter().map(|p| frame.tile_point(*p)).collect();
                for part in clip_line(&t, bx) {
                    let part = dedup(part.into_iter().map(snap));
                    if part.len() < 2 || on_border(&part, frame) {
                        continue;
                    }
                    out.push(command(1, 1));
                    delta(&mut out, &mut cur, part[0]);
                    out.push(command(2, part.len() - 1));
                    for p in &part[1..] {
                        delta(&mut out, &mut cur, *p);
                    }
                }
            }
            (!out.is_empty()).then_some((LINESTRING, out))
        }
        Geom::Polygons(polys) => {
            for rings in polys {
                let mut first = true;
                for ring in rings {
                    let t: Vec<Pt> = ring.iter().map(|p| frame.tile_point(*p)).collect();
                    let mut r = dedup(clip_ring(&t, bx).into_iter().map(snap));
                    if r.len() > 1 && r.first() == r.last() {
                        r.pop();
                    }
                    let area = signed_area(&r);
                    if r.len() < 3 || area == 0 {
                        if first {
                            break; // no exterior: its holes go too
                        }
                        continue;
                    }
                    // Exterior positive, holes negative (MVT 2.1, 4.3.4.4).
                    if (area > 0) != first {
                        r.reverse();
                    }
                    first = false;
                    out.push(command(1, 1));
                    delta(&mut out, &mut cur, r[0]);
                    out.push(command(2, r.len() - 1));
                    for p in &r[1..] {
                        delta(&mut out, &mut cur, *p);
                    }
                    out.push(command(7, 1));
                }
            }
            (!out.is_empty()).then_some((POLYGON, out))
        }
    }
}

/// Whether a line part runs along one side of the clip box only (what is
/// left of a line that grazes the buffer): PostGIS drops such parts too.
fn on_border(part: &[(i32, i32)], frame: &TileFrame) -> bool {
    let (lo, hi) = (-(frame.buffer as i32), (frame.extent + frame.buffer) as i32);
    [lo, hi]
        .iter()
        .any(|&e| part.iter().all(|p| p.0 == e) || part.iter().all(|p| p.1 == e))
}

fn snap((x, y): Pt) -> (i32, i32) {
    (x.round() as i32, y.round() as i32)
}

fn command(id: u32, count: usize) -> u32 {
    (id & 7) | ((count as u32) << 3)
}

fn delta(out: &mut Vec<u32>, cur: &mut (i32, i32), p: (i32, i32)) {
    out.push(zigzag(p.0 - cur.0));
    out.push(zigzag(p.1 - cur.1));
    *cur = p;
}

fn dedup(pts: impl Iterator<Item = (i32, i32)>) -> Vec<(i32, i32)> {
    let mut v: Vec<(i32, i32)> = Vec::new();
    for p in pts {
        if v.last() != Some(&p) {
            v.push(p);
        }
    }
    v
}

/// Twice the signed area (surveyor's formula), in tile units.
fn signed_area(r: &[(i32, i32)]) -> i64 {
    let n = r.len();
    (0..n)
        .map(|i| {
            let (a, b) = (r[i], r[(i + 1) % n]);
            i64::from(a.0) * i64::from(b.1) - i64::from(b.0) * i64::from(a.1)
        })
        .sum()
}

/// Sutherland-Hodgman: the ring clipped to the box (edges along the box
/// where the ring leaves it, outside the visible tile since the box has a
/// buffer).
fn clip_ring(ring: &[Pt], [x0, y0, x1, y1]: [f64; 4]) -> Vec<Pt> {
    let (minx, miny, maxx, maxy) = ring.iter().fold(
        (f64::MAX, f64::MAX, f64::MIN, f64::MIN),
        |(a, b, c, d), &(x, y)| (a.min(x), b.min(y), c.max(x), d.max(y)),
    );
    if minx >= x0 && miny >= y0 && maxx <= x1 && maxy <= y1 {
        return ring.to_vec();
    }
    let mut pts = ring.to_vec();
    type Edge = (fn(Pt, f64) -> bool, fn(Pt, Pt, f64) -> Pt, f64);
    let edges: [Edge; 4] = [
        (|p, v| p.0 >= v, |a, b, v| at_x(a, b, v), x0),
        (|p, v| p.0 <= v, |a, b, v| at_x(a, b, v), x1),
        (|p, v| p.1 >= v, |a, b, v| at_y(a, b, v), y0),
        (|p, v| p.1 <= v, |a, b, v| at_y(a, b, v), y1),
    ];
    for (inside, cross, v) in edges {
        if pts.is_empty() {
            break;
        }
        let mut next = Vec::with_capacity(pts.len() + 4);
        for i in 0..pts.len() {
            let (a, b) = (pts[i], pts[(i + 1) % pts.len()]);
            match (inside(a, v), inside(b, v)) {
                (true, true) => next.push(b),
                (true, false) => next.push(cross(a, b, v)),
                (false, true) => {
                    next.push(cross(a, b, v));
                    next.push(b);
                }
                (false, false) => {}
            }
        }
        pts = next;
    }
    if let Some(&f) = pts.first() {
        pts.push(f);
    }
    pts
}

fn at_x(a: Pt, b: Pt, x: f64) -> Pt {
    let t = (x - a.0) / (b.0 - a.0);
    (x, a.1 + t * (b.1 - a.1))
}

fn at_y(a: Pt, b: Pt, y: f64) -> Pt {
    let t = (y - a.1) / (b.1 - a.1);
    (a.0 + t * (b.0 - a.0), y)
}

/// A line clipped to the box: the parts inside (Liang-Barsky per segment).
fn clip_line(line: &[Pt], bx: [f64; 4]) -> Vec<Vec<Pt>> {
    let mut parts: Vec<Vec<Pt>> = Vec::new();
    let mut cur: Vec<Pt> = Vec::new();
    for w in line.windows(2) {
        match clip_segment(w[0], w[1], bx) {
            Some((a, b)) => {
                if cur.last() != Some(&a) {
                    if cur.len() > 1 {
                        parts.push(std::mem::take(&mut cur));
                    }
                    cur.clear();
                    cur.push(a);
                }
                cur.push(b);
            }
            None => {
                if cur.len() > 1 {
                    parts.push(std::mem::take(&mut cur));
                }
                cur.clear();
            }
        }
    }
    if cur.len() > 1 {
        parts.push(cur);
    }
    parts
}

fn clip_segment(a: Pt, b: Pt, [x0, y0, x1, y1]: [f64; 4]) -> Option<(Pt, Pt)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - x0),
        (dx, x1 - a.0),
        (-dy, a.1 - y0),
        (dy, y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
            if t0 > t1 {
                return None;
            }
        }
    }
    let at = |t: f64| (a.0 + t * dx, a.1 + t * dy);
    Some((
        if t0 > 0.0 { at(t0) } else { a },
        if t1 < 1.0 { at(t1) } else { b },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wkb_polygon(rings: &[&[Pt]]) -> Vec<u8> {
        let mut b = vec![1u8];
        b.extend(3u32.to_le_bytes());
        b.extend((rings.len() as u32).to_le_bytes());
        for r in rings {
            b.extend((r.len() as u32).to_le_bytes());
            for (x, y) in r.iter() {
                b.extend(x.to_le_bytes());
                b.extend(y.to_le_bytes());
            }
        }
        b
    }

    const FRAME: TileFrame = TileFrame {
        bounds: [0.0, 0.0, 4096.0, 4096.0],
        extent: 4096,
        buffer: 64,
    };

    #[test]
    fn a_square_becomes_one_clockwise_ring_in_tile_coordinates() {
        // Counter-clockwise in y-up source coordinates.
        let w = wkb_polygon(&[&[
            (10.0, 10.0),
            (20.0, 10.0),
            (20.0, 20.0),
            (10.0, 20.0),
            (10.0, 10.0),
        ]]);
        let g = read_wkb(&w).unwrap();
        let (t, c) = commands(&g, &FRAME).unwrap();
        assert_eq!(t, POLYGON);
        // MoveTo(1), LineTo(3), ClosePath.
        assert_eq!(c[0], command(1, 1));
        assert_eq!(c[3], command(2, 3));
        assert_eq!(*c.last().unwrap(), command(7, 1));
        let un = |v: u32| ((v >> 1) as i32) ^ -((v & 1) as i32);
        let mut cur = (un(c[1]), un(c[2]));
        let mut decoded = vec![cur];
        for pair in c[4..c.len() - 1].chunks(2) {
            cur = (cur.0 + un(pair[0]), cur.1 + un(pair[1]));
            decoded.push(cur);
        }
        let mut want = vec![(10, 4086), (20, 4086), (20, 4076), (10, 4076)];
        want.sort_unstable();
        let mut got = decoded.clone();
        got.sort_unstable();
        assert_eq!(got, want, "the square's corners, y down");
        // Whatever the source orientation, the exterior comes out positive.
        assert!(signed_area(&decoded) > 0, "{decoded:?}");
    }

    #[test]
    fn clipping_keeps_the_part_inside_the_buffered_tile() {
        let w = wkb_polygon(&[&[
            (-1000.0, 100.0),
            (100.0, 100.0),
            (100.0, 200.0),
            (-1000.0, 200.0),
            (-1000.0, 100.0),
        ]]);
        let g = read_wkb(&w).unwrap();
        let Geom::Polygons(p) = &g else { panic!() };
        let t: Vec<Pt> = p[0][0].iter().map(|q| FRAME.tile_point(*q)).collect();
        let clipped = clip_ring(&t, FRAME.clip_box());
        assert!(clipped.iter().all(|&(x, _)| x >= -64.0));
        assert!(clipped.iter().any(|&(x, _)| x == -64.0));
        // Wholly outside: nothing.
        let far = wkb_polygon(&[&[(9000.0, 0.0), (9100.0, 0.0), (9100.0, 100.0), (9000.0, 0.0)]]);
        assert!(commands(&read_wkb(&far).unwrap(), &FRAME).is_none());
    }

    #[test]
    fn lines_split_where_they_leave_the_tile() {
        let line: Vec<Pt> = vec![
            (-100.0, 10.0),
            (100.0, 10.0),
            (100.0, -500.0),
            (200.0, 10.0),
        ];
        let parts = clip_line(
            &line
                .iter()
                .map(|p| FRAME.tile_point(*p))
                .collect::<Vec<_>>(),
            FRAME.clip_box(),
        );
        assert_eq!(parts.len(), 2, "{parts:?}");
    }

    #[test]
    fn garbage_is_not_wkb() {
        assert!(read_wkb(&[1, 3, 0]).is_none());
        assert!(read_wkb(&[]).is_none());
    }
}
