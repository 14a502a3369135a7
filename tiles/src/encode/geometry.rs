//! One feature's geometry, from Web Mercator WKB to MVT commands in one
//! pass over the WKB: move each ring, line or point into tile coordinates
//! (y down), clip it to the tile plus its buffer, snap to the integer grid,
//! drop repeated points and rings that collapse, orient rings as MVT 2.1
//! wants (exterior: positive area by the surveyor's formula in tile
//! coordinates; holes: negative), and write the command integers. The
//! buffers live in a [`GeomEncoder`] reused for every feature of a tile, so
//! a feature costs no allocation once the buffers have grown.

use super::pbf::zigzag;

type Pt = (f64, f64);

/// MVT geometry types.
pub const POINT: u32 = 1;
pub const LINESTRING: u32 = 2;
pub const POLYGON: u32 = 3;

/// Turns WKB geometries into MVT command integers, reusing its buffers.
#[derive(Default)]
pub struct GeomEncoder {
    /// The part being read, in tile coordinates.
    tile: Vec<Pt>,
    /// Clipping's output and its scratch pass.
    clipped: Vec<Pt>,
    pass: Vec<Pt>,
    snapped: Vec<(i32, i32)>,
    /// The commands of the last geometry encoded.
    cmds: Vec<u32>,
    cur: (i32, i32),
    kind: Option<u32>,
}

impl GeomEncoder {
    /// Encodes (E)WKB (points, lines, polygons, their multi forms and
    /// collections of one kind; Z and M ordinates are skipped) into
    /// commands for `frame`: the MVT type and the commands, or None when
    /// the bytes are not WKB, mix kinds, or leave nothing in the tile.
    pub fn encode(&mut self, wkb: &[u8], frame: &TileFrame) -> Option<(u32, &[u32])> {
        self.cmds.clear();
        self.cur = (0, 0);
        self.kind = None;
        self.snapped.clear();
        let mut r = Reader { b: wkb, pos: 0 };
        r.geometry(self, frame)?;
        // All points of a (multi)point share one MoveTo.
        self.flush_points();
        let kind = self.kind?;
        (!self.cmds.is_empty()).then_some((kind, self.cmds.as_slice()))
    }

    /// Records the kind of a part; false when it differs from earlier parts.
    fn kind_is(&mut self, kind: u32) -> bool {
        *self.kind.get_or_insert(kind) == kind
    }

    fn point(&mut self, frame: &TileFrame, p: Pt) {
        let [x0, y0, x1, y1] = frame.clip_box();
        let (x, y) = snap(frame.tile_point(p));
        let (fx, fy) = (f64::from(x), f64::from(y));
        if fx >= x0 && fy >= y0 && fx <= x1 && fy <= y1 {
            self.snapped.push((x, y));
        }
    }

    /// Writes the points gathered in `snapped` as one MoveTo.
    fn flush_points(&mut self) {
        if self.kind != Some(POINT) || self.snapped.is_empty() {
            return;
        }
        self.cmds.push(command(1, self.snapped.len()));
        for i in 0..self.snapped.len() {
            let p = self.snapped[i];
            delta(&mut self.cmds, &mut self.cur, p);
        }
        self.snapped.clear();
    }

    /// The part in `tile` snapped to the grid without repeated points and
    /// points on straight runs, as PostGIS prepares it before clipping;
    /// left in `clipped` as grid coordinates.
    fn snap_part(&mut self) {
        snap_dedup(&self.tile, &mut self.snapped);
        drop_straight_run_points(&mut self.snapped);
        self.clipped.clear();
        (self.clipped).extend(
            self.snapped
                .iter()
                .map(|&(x, y)| (f64::from(x), f64::from(y))),
        );
    }

    /// The line in `tile`, clipped into parts, each written unless it
    /// collapses or only runs along the clip border.
    fn line(&mut self, frame: &TileFrame) {
        self.snap_part();
        let bx = frame.clip_box();
        let line = std::mem::take(&mut self.clipped);
        self.pass.clear();
        for i in 1..line.len() {
            match clip_segment(line[i - 1], line[i], bx) {
                Some((a, b)) => {
                    if self.pass.last() != Some(&a) {
                        self.line_part(frame);
                        self.pass.push(a);
                    }
                    self.pass.push(b);
                }
                None => self.line_part(frame),
            }
        }
        self.line_part(frame);
        self.clipped = line;
    }

    /// Writes the part in `pass` (if it has two points) and empties it.
    fn line_part(&mut self, frame: &TileFrame) {
        if self.pass.len() > 1 {
            snap_dedup(&self.pass, &mut self.snapped);
            let part = &self.snapped;
            if part.len() >= 2 && !on_border(part, frame) {
                self.cmds.push(command(1, 1));
                delta(&mut self.cmds, &mut self.cur, part[0]);
                self.cmds.push(command(2, part.len() - 1));
                for p in &part[1..] {
                    delta(&mut self.cmds, &mut self.cur, *p);
                }
            }
        }
        self.pass.clear();
    }

    /// The ring in `tile`: snapped, clipped, oriented and written; false
    /// when nothing of it is left.
    fn ring(&mut self, frame: &TileFrame, exterior: bool) -> bool {
        self.snap_part();
        if self.snapped.len() < 4 {
            return false;
        }
        clip_ring(&mut self.clipped, frame.clip_box(), &mut self.pass);
        snap_dedup(&self.clipped, &mut self.snapped);
        let r = &mut self.snapped;
        if r.len() > 1 && r.first() == r.last() {
            r.pop();
        }
        let area = signed_area(r);
        if r.len() < 3 || area == 0 {
            return false;
        }
        // Exterior positive, holes negative (MVT 2.1, 4.3.4.4).
        if (area > 0) != exterior {
            r.reverse();
        }
        self.cmds.push(command(1, 1));
        delta(&mut self.cmds, &mut self.cur, r[0]);
        self.cmds.push(command(2, r.len() - 1));
        for p in &r[1..] {
            delta(&mut self.cmds, &mut self.cur, *p);
        }
        self.cmds.push(command(7, 1));
        true
    }
}

/// Removes the inner points of straight runs (a point on the segment
/// between its kept neighbours), keeping both ends: what PostGIS's
/// simplification with tolerance 0 does before clipping.
fn drop_straight_run_points(pts: &mut Vec<(i32, i32)>) {
    if pts.len() < 3 {
        return;
    }
    let mut kept = 1;
    for i in 1..pts.len() {
        let p = pts[i];
        // pts[kept - 1] is the last kept point, pts[kept] a candidate.
        if kept >= 2 && on_segment(pts[kept - 2], pts[kept - 1], p) {
            pts[kept - 1] = p;
        } else {
            pts[kept] = p;
            kept += 1;
        }
    }
    pts.truncate(kept);
}

/// Whether `m` lies on the segment from `a` to `b` (exactly, on the grid).
fn on_segment(a: (i32, i32), m: (i32, i32), b: (i32, i32)) -> bool {
    let (ax, ay, mx, my, bx, by) = (
        i64::from(a.0),
        i64::from(a.1),
        i64::from(m.0),
        i64::from(m.1),
        i64::from(b.0),
        i64::from(b.1),
    );
    (mx - ax) * (by - ay) == (my - ay) * (bx - ax)
        && (mx - ax) * (bx - mx) >= 0
        && (my - ay) * (by - my) >= 0
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
    fn geometry(&mut self, enc: &mut GeomEncoder, frame: &TileFrame) -> Option<()> {
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

/// `pts` snapped to the grid into `out`, without repeated points.
fn snap_dedup(pts: &[Pt], out: &mut Vec<(i32, i32)>) {
    out.clear();
    for p in pts {
        let p = snap(*p);
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
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

/// Sutherland-Hodgman: the ring (grid coordinates) clipped to the box in
/// place, with the points where it crosses the box rounded to the grid as
/// PostGIS's clipper does; edges run along the box where the ring leaves
/// it, outside the visible tile since the box has a buffer. `pass` is
/// scratch space.
fn clip_ring(pts: &mut Vec<Pt>, [x0, y0, x1, y1]: [f64; 4], pass: &mut Vec<Pt>) {
    let (minx, miny, maxx, maxy) = pts.iter().fold(
        (f64::MAX, f64::MAX, f64::MIN, f64::MIN),
        |(a, b, c, d), &(x, y)| (a.min(x), b.min(y), c.max(x), d.max(y)),
    );
    if minx >= x0 && miny >= y0 && maxx <= x1 && maxy <= y1 {
        return;
    }
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
        pass.clear();
        let n = pts.len();
        for i in 0..n {
            let (a, b) = (pts[i], pts[(i + 1) % n]);
            match (inside(a, v), inside(b, v)) {
                (true, true) => pass.push(b),
                (true, false) => pass.push(cross(a, b, v)),
                (false, true) => {
                    pass.push(cross(a, b, v));
                    pass.push(b);
                }
                (false, false) => {}
            }
        }
        std::mem::swap(pts, pass);
    }
    if let Some(&f) = pts.first() {
        pts.push(f);
    }
}

fn at_x(a: Pt, b: Pt, x: f64) -> Pt {
    let t = (x - a.0) / (b.0 - a.0);
    (x, (a.1 + t * (b.1 - a.1)).round())
}

fn at_y(a: Pt, b: Pt, y: f64) -> Pt {
    let t = (y - a.1) / (b.1 - a.1);
    ((a.0 + t * (b.0 - a.0)).round(), y)
}

/// Liang-Barsky: the part of segment a-b inside the box, its ends rounded
/// to the grid where they were cut.
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
    let at = |t: f64| ((a.0 + t * dx).round(), (a.1 + t * dy).round());
    Some((
        if t0 > 0.0 { at(t0) } else { a },
        if t1 < 1.0 { at(t1) } else { b },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wkb_header(kind: u32) -> Vec<u8> {
        let mut b = vec![1u8];
        b.extend(kind.to_le_bytes());
        b
    }

    fn wkb_points(b: &mut Vec<u8>, pts: &[Pt]) {
        b.extend((pts.len() as u32).to_le_bytes());
        for (x, y) in pts {
            b.extend(x.to_le_bytes());
            b.extend(y.to_le_bytes());
        }
    }

    fn wkb_polygon(rings: &[&[Pt]]) -> Vec<u8> {
        let mut b = wkb_header(3);
        b.extend((rings.len() as u32).to_le_bytes());
        for r in rings {
            wkb_points(&mut b, r);
        }
        b
    }

    fn wkb_line(pts: &[Pt]) -> Vec<u8> {
        let mut b = wkb_header(2);
        wkb_points(&mut b, pts);
        b
    }

    fn wkb_point((x, y): Pt) -> Vec<u8> {
        let mut b = wkb_header(1);
        b.extend(x.to_le_bytes());
        b.extend(y.to_le_bytes());
        b
    }

    /// A multi geometry or collection (kind 4-7) of `parts`.
    fn wkb_multi(kind: u32, parts: &[Vec<u8>]) -> Vec<u8> {
        let mut b = wkb_header(kind);
        b.extend((parts.len() as u32).to_le_bytes());
        for p in parts {
            b.extend(p);
        }
        b
    }

    const FRAME: TileFrame = TileFrame {
        bounds: [0.0, 0.0, 4096.0, 4096.0],
        extent: 4096,
        buffer: 64,
    };

    fn encode(wkb: &[u8]) -> Option<(u32, Vec<u32>)> {
        let mut e = GeomEncoder::default();
        e.encode(wkb, &FRAME).map(|(k, c)| (k, c.to_vec()))
    }

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
        let (t, c) = encode(&w).unwrap();
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

    /// The rings of polygon commands, decoded to tile coordinates.
    fn rings(c: &[u32]) -> Vec<Vec<(i32, i32)>> {
        let un = |v: u32| ((v >> 1) as i32) ^ -((v & 1) as i32);
        let (mut out, mut cur, mut i) = (Vec::new(), (0, 0), 0);
        while i < c.len() {
            let (id, n) = (c[i] & 7, (c[i] >> 3) as usize);
            i += 1;
            match id {
                1 => {
                    cur = (cur.0 + un(c[i]), cur.1 + un(c[i + 1]));
                    out.push(vec![cur]);
                    i += 2;
                }
                2 => {
                    for _ in 0..n {
                        cur = (cur.0 + un(c[i]), cur.1 + un(c[i + 1]));
                        out.last_mut().unwrap().push(cur);
                        i += 2;
                    }
                }
                _ => {}
            }
        }
        out
    }

    #[test]
    fn exteriors_come_out_positive_and_holes_negative_whatever_the_source_orientation() {
        let outer: Vec<Pt> = vec![
            (0.0, 0.0),
            (100.0, 0.0),
            (100.0, 100.0),
            (0.0, 100.0),
            (0.0, 0.0),
        ];
        let hole: Vec<Pt> = vec![
            (20.0, 20.0),
            (20.0, 40.0),
            (40.0, 40.0),
            (40.0, 20.0),
            (20.0, 20.0),
        ];
        let rev = |v: &[Pt]| v.iter().rev().copied().collect::<Vec<_>>();
        for (o, h) in [
            (outer.clone(), hole.clone()),
            (rev(&outer), rev(&hole)),
            (outer.clone(), rev(&hole)),
        ] {
            let (_, c) = encode(&wkb_polygon(&[&o, &h])).unwrap();
            let r = rings(&c);
            assert_eq!(r.len(), 2);
            assert!(signed_area(&r[0]) > 0, "exterior {:?}", r[0]);
            assert!(signed_area(&r[1]) < 0, "hole {:?}", r[1]);
        }
    }

    #[test]
    fn clipping_keeps_the_part_inside_the_buffered_tile() {
        let ring = [
            (-1000.0, 100.0),
            (100.0, 100.0),
            (100.0, 200.0),
            (-1000.0, 200.0),
            (-1000.0, 100.0),
        ];
        let mut clipped: Vec<Pt> = ring.iter().map(|q| FRAME.tile_point(*q)).collect();
        clip_ring(&mut clipped, FRAME.clip_box(), &mut Vec::new());
        assert!(clipped.iter().all(|&(x, _)| x >= -64.0));
        assert!(clipped.iter().any(|&(x, _)| x == -64.0));
        assert_eq!(clipped.first(), clipped.last(), "closed");
        // Wholly outside: nothing.
        let far = wkb_polygon(&[&[(9000.0, 0.0), (9100.0, 0.0), (9100.0, 100.0), (9000.0, 0.0)]]);
        assert!(encode(&far).is_none());
    }

    #[test]
    fn lines_split_where_they_leave_the_tile() {
        let line = wkb_line(&[
            (-100.0, 10.0),
            (100.0, 10.0),
            (100.0, -500.0),
            (200.0, 10.0),
        ]);
        let (t, c) = encode(&line).unwrap();
        assert_eq!(t, LINESTRING);
        let move_tos = c.iter().filter(|&&v| v == command(1, 1)).count();
        assert_eq!(move_tos, 2, "two parts: {c:?}");
    }

    #[test]
    fn points_on_straight_runs_are_dropped_and_spikes_kept() {
        let mut v = vec![(0, 0), (1, 0), (2, 0), (3, 0), (3, 3), (3, 1), (3, 5)];
        drop_straight_run_points(&mut v);
        // (3, 1) turns back: not on the segment (3, 3)-(3, 5), kept.
        assert_eq!(v, [(0, 0), (3, 0), (3, 3), (3, 1), (3, 5)]);
        let mut closed = vec![(0, 0), (2, 0), (4, 0), (4, 4), (0, 4), (0, 2), (0, 0)];
        drop_straight_run_points(&mut closed);
        assert_eq!(closed, [(0, 0), (4, 0), (4, 4), (0, 4), (0, 0)]);
    }

    #[test]
    fn the_points_of_a_multipoint_share_one_move_to() {
        let mp = wkb_multi(
            4,
            &[
                wkb_point((1.0, 1.0)),
                wkb_point((2.0, 2.0)),
                wkb_point((9e9, 0.0)),
            ],
        );
        let (t, c) = encode(&mp).unwrap();
        assert_eq!(t, POINT);
        // The third point is outside the tile.
        assert_eq!(c.len(), 5, "{c:?}");
        assert_eq!(c[0], command(1, 2));
    }

    #[test]
    fn a_collection_mixing_kinds_or_garbage_is_refused() {
        let mixed = wkb_multi(
            7,
            &[wkb_point((1.0, 1.0)), wkb_line(&[(0.0, 0.0), (5.0, 5.0)])],
        );
        assert!(encode(&mixed).is_none());
        assert!(encode(&[1, 3, 0]).is_none());
        assert!(encode(&[]).is_none());
        // The encoder is reusable after a refusal.
        let mut e = GeomEncoder::default();
        assert!(e.encode(&mixed, &FRAME).is_none());
        assert!(e.encode(&wkb_point((1.0, 1.0)), &FRAME).is_some());
    }
}
