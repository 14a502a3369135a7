//! A cheap validity pre-check with exact predicates (`robust::orient2d`):
//! `true` only for geometries that are certainly valid in the sense of
//! GEOS's `IsValidOp` (what `ST_IsValid` answers). Anything it cannot prove
//! cheaply (holes, touching or near-degenerate configurations, repeated
//! points, rings of more than [`MAX_RING`] points, polygons whose boxes
//! meet) is left to PostGIS, which stays the reference for repairs: a
//! `false` here is "ask PostGIS", never "invalid".

use robust::{orient2d, Coord};

use super::ewkb::{Pt, Shape};

/// Rings longer than this are checked by PostGIS (the test here is quadratic).
pub const MAX_RING: usize = 512;

fn c(p: Pt) -> Coord<f64> {
    Coord { x: p[0], y: p[1] }
}

/// Exact orientation of `r` relative to the line `p`-`q`: its sign only.
pub fn orient(p: Pt, q: Pt, r: Pt) -> f64 {
    orient2d(c(p), c(q), c(r))
}

fn boxes_apart(a: Pt, b: Pt, p: Pt, q: Pt) -> bool {
    a[0].max(b[0]) < p[0].min(q[0])
        || p[0].max(q[0]) < a[0].min(b[0])
        || a[1].max(b[1]) < p[1].min(q[1])
        || p[1].max(q[1]) < a[1].min(b[1])
}

/// Segments `a`-`b` and `p`-`q` certainly have no point in common.
pub fn apart(a: Pt, b: Pt, p: Pt, q: Pt) -> bool {
    if boxes_apart(a, b, p, q) {
        return true;
    }
    let (o1, o2) = (orient(a, b, p), orient(a, b, q));
    let (o3, o4) = (orient(p, q, a), orient(p, q, b));
    if o1 == 0.0 || o2 == 0.0 || o3 == 0.0 || o4 == 0.0 {
        return false;
    }
    (o1 > 0.0) == (o2 > 0.0) || (o3 > 0.0) == (o4 > 0.0)
}

fn finite(p: Pt) -> bool {
    p[0].is_finite() && p[1].is_finite()
}

/// A closed ring without repeated points whose edges meet only at shared
/// vertices of consecutive edges (a simple ring: valid as a polygon shell).
fn simple_ring(r: &[Pt]) -> bool {
    let n = r.len();
    if !(4..=MAX_RING).contains(&n) || r[0] != r[n - 1] || !r.iter().all(|&p| finite(p)) {
        return false;
    }
    if r.windows(2).any(|w| w[0] == w[1]) {
        return false;
    }
    let m = n - 1; // edges: i -> i + 1
    for i in 0..m {
        // Consecutive edges meet at one vertex: not collinear, so no overlap.
        let (u, v, w) = (r[i], r[i + 1], r[(i + 2) % m]);
        if orient(u, v, w) == 0.0 {
            return false;
        }
        for j in i + 2..m {
            if i == 0 && j == m - 1 {
                continue; // the closing edge, consecutive to edge 0
            }
            if !apart(r[i], r[i + 1], r[j], r[j + 1]) {
                return false;
            }
        }
    }
    true
}

fn bbox(pts: &[Pt]) -> [f64; 4] {
    pts.iter().fold(
        [f64::INFINITY, f64::INFINITY, -f64::INFINITY, -f64::INFINITY],
        |b, p| {
            [
                b[0].min(p[0]),
                b[1].min(p[1]),
                b[2].max(p[0]),
                b[3].max(p[1]),
            ]
        },
    )
}

/// Whether `s` is certainly valid (see the module documentation).
pub fn certainly_valid(s: &Shape) -> bool {
    match s {
        Shape::Point(p) => finite(*p),
        Shape::MultiPoint(ps) => ps.iter().all(|&p| finite(p)),
        // A line is valid with finite coordinates and two distinct points.
        Shape::Lines { lines, .. } => lines.iter().all(|l| {
            l.iter().all(|&p| finite(p)) && l.first().is_some_and(|f| l.iter().any(|p| p != f))
        }),
        Shape::Polygons { polygons, .. } => {
            // One shell and no hole per polygon; polygons whose boxes are apart.
            if polygons.is_empty() || polygons.iter().any(|p| p.len() != 1 || !simple_ring(&p[0])) {
                return false;
            }
            let boxes: Vec<[f64; 4]> = polygons.iter().map(|p| bbox(&p[0])).collect();
            for (i, a) in boxes.iter().enumerate() {
                for b in &boxes[i + 1..] {
                    let apart = a[2] < b[0] || b[2] < a[0] || a[3] < b[1] || b[3] < a[1];
                    if !apart {
                        return false;
                    }
                }
            }
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poly(rings: Vec<Vec<Pt>>) -> Shape {
        Shape::Polygons {
            single: false,
            polygons: vec![rings],
        }
    }

    #[test]
    fn proves_simple_shells_and_refuses_the_rest() {
        let sq = vec![[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]];
        assert!(certainly_valid(&poly(vec![sq.clone()])));
        // Bow-tie, spike (backtracking edge), unclosed, repeated point, hole.
        let bowtie = vec![[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]];
        assert!(!certainly_valid(&poly(vec![bowtie])));
        let spike = vec![
            [0.0, 0.0],
            [0.0, 1.0],
            [1.0, 1.0],
            [2.0, 1.0],
            [1.0, 1.0],
            [1.0, 0.0],
            [0.0, 0.0],
        ];
        assert!(!certainly_valid(&poly(vec![spike])));
        assert!(!certainly_valid(&poly(vec![sq[..4].to_vec()])));
        let mut rep = sq.clone();
        rep.insert(1, [0.0, 0.0]);
        assert!(!certainly_valid(&poly(vec![rep])));
        assert!(!certainly_valid(&poly(vec![sq.clone(), sq.clone()])));
        // A ring touching itself at a vertex (GEOS: invalid self-intersection).
        let touch = vec![
            [0.0, 0.0],
            [4.0, 0.0],
            [4.0, 4.0],
            [2.0, 0.0],
            [0.0, 4.0],
            [0.0, 0.0],
        ];
        assert!(!certainly_valid(&poly(vec![touch])));
        // Collinear triangle: zero area.
        let flat = vec![[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.0, 0.0]];
        assert!(!certainly_valid(&poly(vec![flat])));
        let nan = vec![[0.0, 0.0], [0.0, f64::NAN], [1.0, 1.0], [0.0, 0.0]];
        assert!(!certainly_valid(&poly(vec![nan])));
        // Two polygons: boxes apart is proven, overlapping boxes are not.
        let far: Vec<Pt> = sq.iter().map(|p| [p[0] + 5.0, p[1]]).collect();
        let near: Vec<Pt> = sq.iter().map(|p| [p[0] + 0.5, p[1]]).collect();
        let two = |b: Vec<Pt>| Shape::Polygons {
            single: false,
            polygons: vec![vec![sq.clone()], vec![b]],
        };
        assert!(certainly_valid(&two(far)));
        assert!(!certainly_valid(&two(near)));
        let line = |l: Vec<Pt>| Shape::Lines {
            single: false,
            lines: vec![l],
        };
        assert!(certainly_valid(&line(vec![
            [0.0, 0.0],
            [0.0, 0.0],
            [1.0, 0.0]
        ])));
        assert!(!certainly_valid(&line(vec![[0.0, 0.0], [0.0, 0.0]])));
        assert!(!certainly_valid(&Shape::Point([f64::INFINITY, 0.0])));
    }
}
