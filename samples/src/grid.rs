//! The land mesh of the sample province: column and row strips (land, road,
//! river) whose shared, jittered nodes make parcels that tile the land with
//! no gaps or overlaps, and commune boundaries that follow the same nodes.

use crate::rng::Rng;

/// What a column or row strip is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strip {
    Land,
    /// A road strip; the index numbers roads in that direction.
    Road(usize),
    River,
}

/// The mesh. Column `i` spans `xs[i]..xs[i+1]`, row `j` spans `ys[j]..ys[j+1]`.
#[derive(Debug)]
pub struct Mesh {
    pub x0: f64,
    pub y0: f64,
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    pub cols: Vec<Strip>,
    pub rows: Vec<Strip>,
    jitter: Vec<(f64, f64)>,
}

/// Builds strips across `len` metres: land strips of `land` width range, a
/// road every `road_every` metres, rivers at the given (offset, width).
fn strips(
    rng: &mut Rng,
    len: f64,
    land: (f64, f64),
    road_every: f64,
    rivers: &[(f64, f64)],
) -> (Vec<f64>, Vec<Strip>) {
    let mut bounds = vec![0.0];
    let mut kinds = Vec::new();
    let mut next_road = road_every * 0.5;
    let mut roads = 0;
    let mut at = 0.0;
    while at < len {
        if let Some(&(_, w)) = rivers.iter().find(|(o, _)| at > *o - 1e-6 && at < o + 1.0) {
            at += w;
            kinds.push(Strip::River);
        } else if at >= next_road {
            at += 12.0;
            kinds.push(Strip::Road(roads));
            roads += 1;
            next_road += road_every;
        } else {
            let mut w = rng.range(land.0, land.1);
            // Snap to an upcoming river so it starts exactly at its offset.
            if let Some(&(o, _)) = rivers.iter().find(|(o, _)| *o > at && *o < at + w + land.0) {
                w = o - at;
            }
            at += w;
            kinds.push(Strip::Land);
        }
        bounds.push(at);
    }
    (bounds, kinds)
}

impl Mesh {
    /// A mesh of about `width` x `height` metres with its south-west corner at (x0, y0).
    pub fn new(rng: &mut Rng, x0: f64, y0: f64, width: f64, height: f64) -> Mesh {
        let canal = (width * 0.55).round();
        let (xs, cols) = strips(rng, width, (18.0, 32.0), 520.0, &[(canal, 30.0)]);
        // The Tiền river along the south edge.
        let (ys, rows) = strips(rng, height, (35.0, 60.0), 450.0, &[(0.0, 120.0)]);
        let mut m = Mesh {
            x0,
            y0,
            xs,
            ys,
            cols,
            rows,
            jitter: Vec::new(),
        };
        let (nc, nr) = (m.cols.len(), m.rows.len());
        m.jitter = (0..=nr)
            .flat_map(|j| (0..=nc).map(move |i| (i, j)))
            .map(|(i, j)| {
                let fixed =
                    i == 0 || j == 0 || i == nc || j == nr || m.col_edge(i) || m.row_edge(j);
                if fixed {
                    (0.0, 0.0)
                } else {
                    (rng.range(-3.0, 3.0), rng.range(-4.0, 4.0))
                }
            })
            .collect();
        m
    }

    fn col_edge(&self, i: usize) -> bool {
        self.cols.get(i).is_some_and(|s| *s != Strip::Land)
            || (i > 0 && self.cols[i - 1] != Strip::Land)
    }

    fn row_edge(&self, j: usize) -> bool {
        self.rows.get(j).is_some_and(|s| *s != Strip::Land)
            || (j > 0 && self.rows[j - 1] != Strip::Land)
    }

    /// Absolute position of node (column line `i`, row line `j`).
    pub fn node(&self, i: usize, j: usize) -> (f64, f64) {
        let (dx, dy) = self.jitter[j * (self.cols.len() + 1) + i];
        (self.x0 + self.xs[i] + dx, self.y0 + self.ys[j] + dy)
    }

    /// Closed ring of cell (i, j), counter-clockwise.
    pub fn cell(&self, i: usize, j: usize) -> Vec<(f64, f64)> {
        vec![
            self.node(i, j),
            self.node(i + 1, j),
            self.node(i + 1, j + 1),
            self.node(i, j + 1),
            self.node(i, j),
        ]
    }

    /// Closed ring around the block of cells `i0..i1` x `j0..j1`, through every node on its edge.
    pub fn block(&self, (i0, i1): (usize, usize), (j0, j1): (usize, usize)) -> Vec<(f64, f64)> {
        let mut r: Vec<_> = (i0..=i1).map(|i| self.node(i, j0)).collect();
        r.extend((j0 + 1..=j1).map(|j| self.node(i1, j)));
        r.extend((i0..i1).rev().map(|i| self.node(i, j1)));
        r.extend((j0..j1).rev().map(|j| self.node(i0, j)));
        r
    }

    /// Centre line y of row `j`, absolute.
    pub fn row_mid(&self, j: usize) -> f64 {
        self.y0 + (self.ys[j] + self.ys[j + 1]) / 2.0
    }

    /// Centre line x of column `i`, absolute.
    pub fn col_mid(&self, i: usize) -> f64 {
        self.x0 + (self.xs[i] + self.xs[i + 1]) / 2.0
    }

    pub fn width(&self) -> f64 {
        *self.xs.last().expect("columns")
    }

    pub fn height(&self) -> f64 {
        *self.ys.last().expect("rows")
    }

    /// Index of the column (or row) line nearest to `v` metres from the origin.
    pub fn nearest_line(lines: &[f64], v: f64) -> usize {
        (0..lines.len())
            .min_by(|&a, &b| (lines[a] - v).abs().total_cmp(&(lines[b] - v).abs()))
            .expect("lines")
    }
}

/// Area of a closed ring (absolute value).
pub fn area(r: &[(f64, f64)]) -> f64 {
    (r.windows(2)
        .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
        .sum::<f64>()
        / 2.0)
        .abs()
}
