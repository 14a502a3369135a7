//! Work on the tile's integer grid: snapping, dropping repeated points and
//! points on straight runs, ring area, and clipping to the buffered tile
//! with crossing points rounded to the grid (the order PostGIS's
//! `ST_AsMVTGeom` follows: snap, simplify with tolerance 0, clip).

pub(super) type Pt = (f64, f64);

pub(super) fn snap((x, y): Pt) -> (i32, i32) {
    (x.round() as i32, y.round() as i32)
}

/// Removes the inner points of straight runs (a point on the segment
/// between its kept neighbours), keeping both ends: what PostGIS's
/// simplification with tolerance 0 does before clipping.
pub(super) fn drop_straight_run_points(pts: &mut Vec<(i32, i32)>) {
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

/// `pts` snapped to the grid into `out`, without repeated points.
pub(super) fn snap_dedup(pts: &[Pt], out: &mut Vec<(i32, i32)>) {
    out.clear();
    for p in pts {
        let p = snap(*p);
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
}

/// Twice the signed area (surveyor's formula), in tile units.
pub(super) fn signed_area(r: &[(i32, i32)]) -> i64 {
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
pub(super) fn clip_ring(pts: &mut Vec<Pt>, [x0, y0, x1, y1]: [f64; 4], pass: &mut Vec<Pt>) {
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
pub(super) fn clip_segment(a: Pt, b: Pt, [x0, y0, x1, y1]: [f64; 4]) -> Option<(Pt, Pt)> {
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
    fn segments_are_cut_at_the_box_with_ends_on_the_grid() {
        let bx = [0.0, 0.0, 10.0, 10.0];
        assert_eq!(
            clip_segment((-5.0, 0.0), (5.0, 3.0), bx),
            Some(((0.0, 2.0), (5.0, 3.0)))
        );
        assert_eq!(clip_segment((-5.0, -5.0), (-1.0, 20.0), bx), None);
    }
}
