//! One feature's geometry, from Web Mercator WKB to MVT commands in one
//! pass over the WKB (`wkb.rs`): move each ring, line or point into tile
//! coordinates (y down), snap to the integer grid, drop repeated points and
//! points on straight runs, clip on the grid to the tile plus its buffer
//! (`grid.rs`), drop rings that collapse, orient rings as MVT 2.1
//! wants (exterior: positive area by the surveyor's formula in tile
//! coordinates; holes: negative), and write the command integers. The
//! buffers live in a [`GeomEncoder`] reused for every feature of a tile, so
//! a feature costs no allocation once the buffers have grown.

use super::grid::{
    clip_ring, clip_segment, drop_straight_run_points, signed_area, snap, snap_dedup, Pt,
};
use super::pbf::zigzag;
use super::wkb::Reader;

/// MVT geometry types.
pub const POINT: u32 = 1;
pub const LINESTRING: u32 = 2;
pub const POLYGON: u32 = 3;

/// Turns WKB geometries into MVT command integers, reusing its buffers.
#[derive(Default)]
pub struct GeomEncoder {
    /// The part being read, in tile coordinates (filled by the WKB reader).
    pub(super) tile: Vec<Pt>,
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
        let mut r = Reader::new(wkb);
        r.geometry(self, frame)?;
        // All points of a (multi)point share one MoveTo.
        self.flush_points();
        let kind = self.kind?;
        (!self.cmds.is_empty()).then_some((kind, self.cmds.as_slice()))
    }

    /// Records the kind of a part; false when it differs from earlier parts.
    pub(super) fn kind_is(&mut self, kind: u32) -> bool {
        *self.kind.get_or_insert(kind) == kind
    }

    pub(super) fn point(&mut self, frame: &TileFrame, p: Pt) {
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
    pub(super) fn line(&mut self, frame: &TileFrame) {
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
    pub(super) fn ring(&mut self, frame: &TileFrame, exterior: bool) -> bool {
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
    pub(super) fn tile_point(&self, (x, y): Pt) -> Pt {
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

fn command(id: u32, count: usize) -> u32 {
    (id & 7) | ((count as u32) << 3)
}

fn delta(out: &mut Vec<u32>, cur: &mut (i32, i32), p: (i32, i32)) {
    out.push(zigzag(p.0 - cur.0));
    out.push(zigzag(p.1 - cur.1));
    *cur = p;
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
