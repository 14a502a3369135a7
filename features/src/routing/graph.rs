//! A roads layer's routing network held in memory: the `<layer>__edges`
//! rows pgRouting reads (source, target, cost and reverse cost in seconds,
//! length in metres; a negative cost is "no edge that way", as pgRouting
//! reads it), as a compressed adjacency list (CSR), and Dijkstra searches
//! over it that skip the edges a request closes (bridges below a truck's
//! weight).
//!
//! A graph belongs to one version of its roads layer. Requests find the
//! version in their own transaction (see `crate::routing::snap`) and ask [`Graphs`]
//! for that version's graph, built from the same transaction when missing,
//! so a route never mixes a graph with rows of another version.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use crate::by_version::ByVersion;

use sqlx::{Postgres, Transaction};

use crate::routing::network::{no_network, Cost, RoadNetwork};
use crate::FeaturesError;

/// No vertex or edge.
const NONE: u32 = u32::MAX;

/// One direction of an edge: to `head` along edge index `edge`.
#[derive(Debug, Clone, Copy)]
struct Arc_ {
    head: u32,
    edge: u32,
    /// Seconds (negative: not this way for routes).
    time: f64,
    /// Metres (negative: not this way for distances).
    length: f64,
}

/// The network of one roads layer version.
#[derive(Debug)]
pub struct RoadGraph {
    pub layer: String,
    pub version: i64,
    /// Vertex index -> vertex id (`source`/`target` of the edges table).
    vertex_ids: Vec<i64>,
    vertex_index: HashMap<i64, u32>,
    /// Edge index -> edge id.
    edge_ids: Vec<i64>,
    edge_index: HashMap<i64, u32>,
    /// Arcs leaving vertex `v`: `arcs[offsets[v]..offsets[v + 1]]`.
    offsets: Vec<u32>,
    arcs: Vec<Arc_>,
}

/// An edges table row: id, source, target, cost_s, reverse_cost_s, length_m, one_way.
pub type EdgeRow = (i64, i64, i64, f64, f64, f64, bool);

impl RoadGraph {
    /// The graph of `rows` (the edges of `layer` at `version`).
    pub fn from_rows(layer: &str, version: i64, rows: &[EdgeRow]) -> RoadGraph {
        let mut vertex_index: HashMap<i64, u32> = HashMap::with_capacity(rows.len());
        let mut vertex_ids: Vec<i64> = Vec::new();
        let mut vertex = |id: i64| -> u32 {
            *vertex_index.entry(id).or_insert_with(|| {
                vertex_ids.push(id);
                (vertex_ids.len() - 1) as u32
            })
        };
        // (tail, arc)
        let mut all: Vec<(u32, Arc_)> = Vec::with_capacity(rows.len() * 2);
        let mut edge_ids = Vec::with_capacity(rows.len());
        for (i, &(id, source, target, cost, reverse, length, one_way)) in rows.iter().enumerate() {
            let (s, t, e) = (vertex(source), vertex(target), i as u32);
            edge_ids.push(id);
            all.push((
                s,
                Arc_ {
                    head: t,
                    edge: e,
                    time: cost,
                    length,
                },
            ));
            let back_length = if one_way { -1.0 } else { length };
            if reverse >= 0.0 || back_length >= 0.0 {
                all.push((
                    t,
                    Arc_ {
                        head: s,
                        edge: e,
                        time: reverse,
                        length: back_length,
                    },
                ));
            }
        }
        all.sort_by_key(|(tail, a)| (*tail, a.edge));
        let n = vertex_ids.len();
        let mut offsets = vec![0u32; n + 1];
        for (tail, _) in &all {
            offsets[*tail as usize + 1] += 1;
        }
        for v in 0..n {
            offsets[v + 1] += offsets[v];
        }
        let edge_index = edge_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i as u32))
            .collect();
        RoadGraph {
            layer: layer.to_string(),
            version,
            vertex_ids,
            vertex_index,
            edge_ids,
            edge_index,
            offsets,
            arcs: all.into_iter().map(|(_, a)| a).collect(),
        }
    }

    /// Reads the edges of `net` in `tx`, whose roads layer is at `version`.
    pub async fn load(
        tx: &mut Transaction<'_, Postgres>,
        net: &RoadNetwork,
        version: i64,
    ) -> Result<RoadGraph, FeaturesError> {
        let sql = format!(
            "SELECT id, source, target, cost_s, reverse_cost_s, length_m, one_way FROM {} ORDER BY id",
            net.edges()
        );
        let rows: Vec<EdgeRow> = sqlx::query_as(&sql)
            .fetch_all(&mut **tx)
            .await
            .map_err(|e| no_network(net, e))?;
        Ok(RoadGraph::from_rows(&net.roads.name, version, &rows))
    }

    pub fn vertex_count(&self) -> usize {
        self.vertex_ids.len()
    }

    pub fn edge_count(&self) -> usize {
        self.edge_ids.len()
    }

    /// Bytes the graph holds on the heap (vectors and maps, by capacity).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        // A hashbrown entry is the pair plus one control byte.
        let map = |m: &HashMap<i64, u32>| m.capacity() * (size_of::<(i64, u32)>() + 1);
        self.vertex_ids.capacity() * 8
            + self.edge_ids.capacity() * 8
            + self.offsets.capacity() * 4
            + self.arcs.capacity() * size_of::<Arc_>()
            + map(&self.vertex_index)
            + map(&self.edge_index)
    }

    /// The edges closed to a request, from their ids (unknown ids ignored).
    pub fn closed(&self, edge_ids: &[i64]) -> Closed {
        let mut c = vec![false; self.edge_ids.len()];
        for id in edge_ids {
            if let Some(i) = self.edge_index.get(id) {
                c[*i as usize] = true;
            }
        }
        Closed(c)
    }

    /// Multi-source Dijkstra: every source vertex id starts at its offset;
    /// `settle(vertex id, cost)` is told of each vertex as it is settled
    /// (cheapest first) and returns `false` to stop. Closed edges and
    /// arcs without a cost of kind `cost` are skipped.
    pub fn search(
        &self,
        cost: Cost,
        closed: &Closed,
        sources: &[(i64, f64)],
        mut settle: impl FnMut(i64, f64) -> bool,
    ) -> Tree<'_> {
        let n = self.vertex_ids.len();
        let mut t = Tree {
            g: self,
            dist: vec![f64::INFINITY; n],
            pred_arc: vec![NONE; n],
            pred_vertex: vec![NONE; n],
        };
        let mut heap = BinaryHeap::new();
        for (id, off) in sources {
            if let Some(&v) = self.vertex_index.get(id) {
                if *off < t.dist[v as usize] {
                    t.dist[v as usize] = *off;
                    heap.push(Item(*off, v));
                }
            }
        }
        while let Some(Item(d, v)) = heap.pop() {
            if d > t.dist[v as usize] {
                continue;
            }
            if !settle(self.vertex_ids[v as usize], d) {
                break;
            }
            let (a, b) = (self.offsets[v as usize], self.offsets[v as usize + 1]);
            for (k, arc) in self.arcs[a as usize..b as usize].iter().enumerate() {
                let c = match cost {
                    Cost::Time => arc.time,
                    Cost::Length => arc.length,
                };
                if c < 0.0 || closed.0[arc.edge as usize] {
                    continue;
                }
                let nd = d + c;
                let h = arc.head as usize;
                if nd < t.dist[h] {
                    t.dist[h] = nd;
                    t.pred_arc[h] = a + k as u32;
                    t.pred_vertex[h] = v;
                    heap.push(Item(nd, arc.head));
                }
            }
        }
        t
    }
}

/// Edge indexes closed to one request.
#[derive(Debug, Clone)]
pub struct Closed(Vec<bool>);

/// What a search reached: each vertex's cost and the arc it was reached by.
pub struct Tree<'a> {
    g: &'a RoadGraph,
    dist: Vec<f64>,
    pred_arc: Vec<u32>,
    pred_vertex: Vec<u32>,
}

impl Tree<'_> {
    /// The cost of vertex id `v` (None: not reached).
    pub fn cost(&self, v: i64) -> Option<f64> {
        let i = *self.g.vertex_index.get(&v)?;
        let d = self.dist[i as usize];
        d.is_finite().then_some(d)
    }

    /// The path to vertex id `v` from the source it was reached from: the
    /// source's id, the edge ids in travel order with the vertex id each
    /// is entered from, and the summed cost of those edges.
    pub fn path(&self, v: i64, cost: Cost) -> Option<(i64, Vec<i64>, Vec<i64>, f64)> {
        let mut i = *self.g.vertex_index.get(&v)?;
        if !self.dist[i as usize].is_finite() {
            return None;
        }
        let (mut edges, mut nodes, mut sum) = (Vec::new(), Vec::new(), 0.0);
        while self.pred_arc[i as usize] != NONE {
            let arc = &self.g.arcs[self.pred_arc[i as usize] as usize];
            let from = self.pred_vertex[i as usize];
            edges.push(self.g.edge_ids[arc.edge as usize]);
            nodes.push(self.g.vertex_ids[from as usize]);
            sum += match cost {
                Cost::Time => arc.time,
                Cost::Length => arc.length,
            };
            i = from;
        }
        edges.reverse();
        nodes.reverse();
        Some((self.g.vertex_ids[i as usize], edges, nodes, sum))
    }

    /// Every reached vertex id with its cost.
    pub fn reached(&self) -> impl Iterator<Item = (i64, f64)> + '_ {
        self.dist
            .iter()
            .enumerate()
            .filter(|(_, d)| d.is_finite())
            .map(|(i, d)| (self.g.vertex_ids[i], *d))
    }
}

/// A heap entry, cheapest first.
#[derive(PartialEq)]
struct Item(f64, u32);

impl Eq for Item {}

impl Ord for Item {
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.total_cmp(&self.0).then_with(|| o.1.cmp(&self.1))
    }
}

impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Held while a request loads one graph version.
type Loading = Arc<tokio::sync::Mutex<()>>;

/// The graphs of the roads layers this server routes on, by layer and
/// version (the newest two of each layer are kept).
#[derive(Default)]
pub struct Graphs {
    by: ByVersion<RoadGraph>,
    /// One lock per (layer, version) being loaded by a request, so that
    /// requests finding the same graph missing load it once.
    loading: std::sync::Mutex<HashMap<(String, i64), Loading>>,
    loads: std::sync::atomic::AtomicU64,
}

impl Graphs {
    /// Graph of `layer` at `version`, if built.
    pub fn get(&self, layer: &str, version: i64) -> Option<Arc<RoadGraph>> {
        self.by.get(layer, version)
    }

    /// Keeps `g` (and the one newest other version of its layer).
    pub fn install(&self, g: Arc<RoadGraph>) {
        self.by.install(&g.layer.clone(), g.version, g);
    }

    /// The graph of `net` at `version` (the version `tx` sees), built from
    /// `tx` and kept when missing.
    pub async fn for_version(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        net: &RoadNetwork,
        version: i64,
    ) -> Result<Arc<RoadGraph>, FeaturesError> {
        let layer = &net.roads.name;
        if let Some(g) = self.get(layer, version) {
            return Ok(g);
        }
        let key = (layer.clone(), version);
        let lock = self
            .loading
            .lock()
            .expect("graph loading lock")
            .entry(key.clone())
            .or_default()
            .clone();
        let _loading = lock.lock().await;
        // Loaded by the request this one waited for?
        if let Some(g) = self.get(layer, version) {
            return Ok(g);
        }
        self.loads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let loaded = RoadGraph::load(tx, net, version).await.map(Arc::new);
        if let Ok(g) = &loaded {
            self.install(g.clone());
        }
        self.loading
            .lock()
            .expect("graph loading lock")
            .remove(&key);
        loaded
    }

    /// Graphs loaded by requests so far (`for_version` finding one missing).
    pub fn loads(&self) -> u64 {
        self.loads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Builds (in a transaction of its own) the graph of the version of
    /// `net` the database holds now, and keeps it.
    pub async fn build(
        &self,
        pool: &sqlx::PgPool,
        net: &RoadNetwork,
    ) -> Result<Arc<RoadGraph>, FeaturesError> {
        let mut tx = pool.begin_with("BEGIN READ ONLY").await?;
        // The edges first: once this transaction holds its lock, the table
        // cannot be swapped before the version is read.
        let g = RoadGraph::load(&mut tx, net, 0).await?;
        let version = version(&mut tx, net).await?;
        tx.rollback().await?;
        let g = Arc::new(RoadGraph { version, ..g });
        self.install(g.clone());
        Ok(g)
    }
}

/// The version of `net`'s roads layer the transaction sees.
pub(crate) async fn version(
    tx: &mut Transaction<'_, Postgres>,
    net: &RoadNetwork,
) -> Result<i64, FeaturesError> {
    let v = catalog::live_version(&mut **tx, &net.roads.name).await?;
    v.ok_or_else(|| FeaturesError::NotFound(format!("layer {} is gone", net.roads.name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1 -> 2 -> 3 one way along 1-2 (10 s), 2-3 both ways (5 s), 1-3 both ways (30 s).
    fn g() -> RoadGraph {
        RoadGraph::from_rows(
            "r",
            1,
            &[
                (10, 1, 2, 10.0, -1.0, 100.0, true),
                (11, 2, 3, 5.0, 5.0, 50.0, false),
                (12, 1, 3, 30.0, 30.0, 300.0, false),
            ],
        )
    }

    #[test]
    fn one_way_and_closed_edges() {
        let g = g();
        let open = g.closed(&[]);
        let t = g.search(Cost::Time, &open, &[(1, 0.0)], |_, _| true);
        assert_eq!(t.cost(3), Some(15.0));
        assert_eq!(
            t.path(3, Cost::Time).unwrap(),
            (1, vec![10, 11], vec![1, 2], 15.0)
        );
        // Against the one-way edge: round by 1-3.
        let t = g.search(Cost::Time, &open, &[(2, 0.0)], |_, _| true);
        assert_eq!(t.cost(1), Some(35.0));
        let t = g.search(Cost::Length, &g.closed(&[11]), &[(2, 0.0)], |_, _| true);
        assert_eq!(t.cost(1), None);
        // Two sources with offsets: the cheaper start wins.
        let t = g.search(Cost::Time, &open, &[(1, 20.0), (3, 1.0)], |_, _| true);
        assert_eq!(t.cost(2), Some(6.0));
        assert_eq!(t.path(2, Cost::Time).unwrap().0, 3);
        assert!(g.heap_bytes() > 0);
    }
}
