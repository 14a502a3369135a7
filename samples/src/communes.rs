//! Communes of the sample: a grid of blocks of the mesh, each with a code,
//! a name and whether it is urban (a ward, phường).

use crate::grid::Mesh;
use crate::names::COMMUNES;

/// One commune: its block of mesh cells and its identity.
#[derive(Debug, Clone)]
pub struct Commune {
    pub code: String,
    pub name: String,
    pub level: &'static str,
    pub cols: (usize, usize),
    pub rows: (usize, usize),
}

impl Commune {
    pub fn urban(&self) -> bool {
        self.level == "Phường"
    }
}

/// Splits the mesh into `n x n` communes along column and row lines.
pub fn communes(mesh: &Mesh, n: usize) -> Vec<Commune> {
    let split = |lines: &[f64], total: f64, count: usize| -> Vec<usize> {
        let mut v = vec![0];
        for k in 1..n {
            v.push(Mesh::nearest_line(lines, total * k as f64 / n as f64));
        }
        v.push(count);
        v.dedup();
        v
    };
    let cs = split(&mesh.xs, mesh.width(), mesh.cols.len());
    let rs = split(&mesh.ys, mesh.height(), mesh.rows.len());
    let mut out = Vec::new();
    for rj in 0..rs.len() - 1 {
        for ci in 0..cs.len() - 1 {
            let idx = out.len();
            let (code, name, level) = match COMMUNES.get(idx) {
                Some((c, n, l)) => (c.to_string(), n.to_string(), *l),
                None => {
                    let (_, base, l) = COMMUNES[idx % COMMUNES.len()];
                    (
                        format!("{}", 29000 + idx * 3),
                        format!("{base} {}", idx / COMMUNES.len() + 1),
                        l,
                    )
                }
            };
            out.push(Commune {
                code,
                name,
                level,
                cols: (cs[ci], cs[ci + 1]),
                rows: (rs[rj], rs[rj + 1]),
            });
        }
    }
    out
}
