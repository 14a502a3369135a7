//! `ST_SimplifyPreserveTopology` (GEOS 3.11's `TopologyPreservingSimplifier`)
//! computed in the workers, for the generalised band columns.
//!
//! GEOS runs Douglas-Peucker over each line and ring (rings keep at least 4
//! points, lines 2; point-to-segment distances as GEOS computes them), and
//! refuses to flatten a section when the new segment would cross another
//! segment of the geometry. Here the same recursion runs without that
//! refusal, and its result is then checked: when no flattened segment meets
//! any input segment outside its section or any other output segment
//! (except at shared end points), GEOS would have flattened the same
//! sections and the results are identical. Otherwise, or for geometries too
//! big for the quadratic check, [`simplify`] returns `None` and PostGIS
//! computes the band.

use super::ewkb::{Pt, Shape};
use super::valid::{apart, orient};

/// Input segments beyond which PostGIS simplifies instead.
const MAX_SEGMENTS: usize = 4096;

fn dist(p: Pt, a: Pt) -> f64 {
    let (dx, dy) = (p[0] - a[0], p[1] - a[1]);
    (dx * dx + dy * dy).sqrt()
}

/// GEOS `Distance::pointToSegment`.
fn point_segment(p: Pt, a: Pt, b: Pt) -> f64 {
    if a == b {
        return dist(p, a);
    }
    let len2 = (b[0] - a[0]) * (b[0] - a[0]) + (b[1] - a[1]) * (b[1] - a[1]);
    let r = ((p[0] - a[0]) * (b[0] - a[0]) + (p[1] - a[1]) * (b[1] - a[1])) / len2;
    if r <= 0.0 {
        return dist(p, a);
    }
    if r >= 1.0 {
        return dist(p, b);
    }
    let s = ((a[1] - p[1]) * (b[0] - a[0]) - (a[0] - p[0]) * (b[1] - a[1])) / len2;
    s.abs() * len2.sqrt()
}

/// Douglas-Peucker of one line as GEOS's `TaggedLineStringSimplifier` runs
/// it: the kept sections `(i, j)`, in order.
struct Line<'a> {
    pts: &'a [Pt],
    tol: f64,
    min_size: usize,
    out: Vec<(usize, usize)>,
}

impl Line<'_> {
    fn result_size(&self) -> usize {
        if self.out.is_empty() {
            0
        } else {
            self.out.len() + 1
        }
    }

    fn section(&mut self, i: usize, j: usize, depth: usize) {
        let depth = depth + 1;
        if i + 1 == j {
            self.out.push((i, j));
            return;
        }
        let mut ok = true;
        if self.result_size() < self.min_size && depth + 1 < self.min_size {
            ok = false;
        }
        let (mut far, mut max) = (i, -1.0);
        for k in i + 1..j {
            let d = point_segment(self.pts[k], self.pts[i], self.pts[j]);
            if d > max {
                max = d;
                far = k;
            }
        }
        if max > self.tol {
            ok = false;
        }
        if ok {
            self.out.push((i, j));
            return;
        }
        self.section(i, far, depth);
        self.section(far, j, depth);
    }
}

/// The segment `a`-`b` and `p`-`q` meet at most at an end point they share
/// (GEOS's "no interior intersection"), certainly.
fn only_ends(a: Pt, b: Pt, p: Pt, q: Pt) -> bool {
    let shared = [(a, p), (a, q), (b, p), (b, q)]
        .iter()
        .filter(|(x, y)| x == y)
        .count();
    match shared {
        0 => apart(a, b, p, q),
        // Meeting at the shared point only: the other end is off the line.
        1 => {
            let other = if p == a || p == b { q } else { p };
            orient(a, b, other) != 0.0 && a != b && p != q
        }
        _ => false,
    }
}

/// Simplifies `s` (Web Mercator, already proven valid) with `tol`, as
/// `ST_SimplifyPreserveTopology` does; `None` when that cannot be certified.
pub fn simplify(s: &Shape, tol: f64) -> Option<Shape> {
    let (lines, ring): (Vec<&Vec<Pt>>, bool) = match s {
        Shape::Point(_) | Shape::MultiPoint(_) => return Some(s.clone()),
        Shape::Lines { lines, .. } => (lines.iter().collect(), false),
        Shape::Polygons { polygons, .. } => (polygons.iter().flatten().collect(), true),
    };
    let total: usize = lines.iter().map(|l| l.len().saturating_sub(1)).sum();
    if total > MAX_SEGMENTS || lines.iter().any(|l| l.len() < 2) {
        return None;
    }
    let kept: Vec<Vec<(usize, usize)>> = lines
        .iter()
        .map(|l| {
            let mut line = Line {
                pts: l,
                tol,
                min_size: if ring { 4 } else { 2 },
                out: Vec::new(),
            };
            line.section(0, l.len() - 1, 0);
            line.out
        })
        .collect();
    // Certify every flattened section against the input and the output.
    for (li, sections) in kept.iter().enumerate() {
        for &(i, j) in sections.iter().filter(|(i, j)| j - i > 1) {
            let (a, b) = (lines[li][i], lines[li][j]);
            for (lk, l) in lines.iter().enumerate() {
                for k in 0..l.len() - 1 {
                    let inside = lk == li && k >= i && k < j;
                    if !inside && !only_ends(a, b, l[k], l[k + 1]) {
                        return None;
                    }
                }
                for &(x, y) in &kept[lk] {
                    if (lk, x, y) != (li, i, j) && !only_ends(a, b, l[x], l[y]) {
                        return None;
                    }
                }
            }
        }
    }
    let simplified: Vec<Vec<Pt>> = lines
        .iter()
        .zip(&kept)
        .map(|(l, sections)| {
            let mut v: Vec<Pt> = sections.iter().map(|&(i, _)| l[i]).collect();
            v.push(l[sections.last().map_or(0, |s| s.1)]);
            v
        })
        .collect();
    let mut it = simplified.into_iter();
    Some(match s {
        Shape::Lines { single, lines } => Shape::Lines {
            single: *single,
            lines: lines
                .iter()
                .map(|_| it.next().expect("one per line"))
                .collect(),
        },
        Shape::Polygons { single, polygons } => Shape::Polygons {
            single: *single,
            polygons: polygons
                .iter()
                .map(|p| p.iter().map(|_| it.next().expect("one per ring")).collect())
                .collect(),
        },
        Shape::Point(_) | Shape::MultiPoint(_) => unreachable!("returned above"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(s: &Shape) -> Vec<Pt> {
        match s {
            Shape::Polygons { polygons, .. } => polygons[0][0].clone(),
            _ => panic!("not a polygon"),
        }
    }

    #[test]
    fn small_detail_goes_rings_keep_four_points() {
        let sq = Shape::Polygons {
            single: false,
            polygons: vec![vec![vec![
                [0.0, 0.0],
                [10.0, 0.0],
                [10.0, 0.1],
                [10.0, 10.0],
                [0.0, 10.0],
                [0.0, 0.0],
            ]]],
        };
        // What PostGIS 3.3 / GEOS 3.11 return for these tolerances.
        let r = simplify(&sq, 1.0).unwrap();
        assert_eq!(
            ring(&r),
            vec![
                [0.0, 0.0],
                [10.0, 0.0],
                [10.0, 10.0],
                [0.0, 10.0],
                [0.0, 0.0]
            ]
        );
        let r = simplify(&sq, 100.0).unwrap();
        assert_eq!(ring(&r).len(), 5);
        let line = Shape::Lines {
            single: false,
            lines: vec![vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]]],
        };
        let Some(Shape::Lines { lines, .. }) = simplify(&line, 100.0) else {
            panic!("a line");
        };
        assert_eq!(lines[0], vec![[0.0, 0.0], [0.0, 10.0]]);
    }
}
