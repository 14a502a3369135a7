//! Truck routes over a roads layer's network: the ends snap onto their
//! nearest roads (`crate::routing::snap`, SQL), one Dijkstra over the in-memory graph
//! of the version the transaction sees (`crate::routing::graph`) starts from every
//! way out of the start and stops once no way into the end can be reached
//! faster, and the fastest becomes one line (SQL, by edge id): the start's
//! stretch of road, the path, the end's stretch.

use std::collections::HashMap;

use catalog::{quote_ident, FID_COLUMN};
use serde::Serialize;
use serde_json::value::RawValue;
use sqlx::{Postgres, Transaction};

use crate::routing::graph::{Closed, Graphs, RoadGraph};
use crate::routing::network::{closed_edges, no_network, Cost, RoadNetwork};
use crate::routing::snap::{snap, Snap, Way};
use crate::FeaturesError;

/// One stretch of a route along one named road.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Leg {
    /// Feature ids of the road layer, in travel order.
    pub fids: Vec<i64>,
    pub name: Option<String>,
    pub length_m: f64,
    pub duration_s: f64,
}

/// A route between two vertices.
#[derive(Debug, Clone, Serialize)]
pub struct Route {
    /// GeoJSON LineString in WGS 84 (None for a route of length 0), as
    /// PostGIS wrote it.
    pub geometry: Option<Box<RawValue>>,
    pub length_m: f64,
    pub duration_s: f64,
    pub legs: Vec<Leg>,
    /// Version of the roads layer the route was found and drawn on.
    #[serde(skip)]
    pub network_version: i64,
}

/// Joins consecutive edges into legs of the same road name.
fn legs(rows: Vec<(i64, Option<String>, f64, f64)>) -> Vec<Leg> {
    let mut out: Vec<Leg> = Vec::new();
    for (fid, name, len, dur) in rows {
        match out.last_mut() {
            Some(l) if (l.name == name && name.is_some()) || l.fids.last() == Some(&fid) => {
                if l.fids.last() != Some(&fid) {
                    l.fids.push(fid);
                }
                l.length_m += len;
                l.duration_s += dur;
            }
            _ => out.push(Leg {
                fids: vec![fid],
                name,
                length_m: len,
                duration_s: dur,
            }),
        }
    }
    for l in &mut out {
        l.length_m = (l.length_m * 10.0).round() / 10.0;
        l.duration_s = l.duration_s.round();
    }
    out
}

/// The fastest path between two vertices: its edges with the vertex each
/// is entered from, in travel order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Path {
    pub edges: Vec<i64>,
    pub nodes: Vec<i64>,
}

/// How a route goes: straight along one edge, or out, over the network
/// (along the path between the two ways' vertices), in.
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    Direct(Way),
    Via(Way, Way, Path),
}

/// The fastest plan from the `outs` to the `ins` (each with its index in
/// the caller's list of ends), or along a `direct` way, over `g` without
/// the `closed` edges: one Dijkstra from every way out (each starting at
/// its own time), stopped once every vertex left is slower than the best
/// arrival found. On equal times a direct way wins, then the first in.
pub(crate) fn fastest(
    g: &RoadGraph,
    closed: &Closed,
    outs: &[Way],
    ins: &[(usize, Way)],
    direct: &[(usize, Way)],
) -> Option<(usize, Plan, f64)> {
    let mut best_t = f64::INFINITY;
    let mut best: Option<Result<(usize, Way), usize>> = None;
    for (i, d) in direct {
        if d.time_s < best_t {
            best_t = d.time_s;
            best = Some(Ok((*i, *d)));
        }
    }
    let mut by_vertex: HashMap<i64, Vec<usize>> = HashMap::new();
    for (k, (_, w)) in ins.iter().enumerate() {
        by_vertex.entry(w.vertex).or_default().push(k);
    }
    let sources: Vec<(i64, f64)> = outs.iter().map(|o| (o.vertex, o.time_s)).collect();
    let tree = g.search(Cost::Time, closed, &sources, |v, d| {
        if d >= best_t {
            return false;
        }
        for k in by_vertex.get(&v).into_iter().flatten() {
            let t = d + ins[*k].1.time_s;
            if t < best_t {
                best_t = t;
                best = Some(Err(*k));
            }
        }
        true
    });
    let plan = match best? {
        Ok((i, d)) => (i, Plan::Direct(d)),
        Err(k) => {
            let (i, w) = ins[k];
            let (src, edges, nodes, _) = tree.path(w.vertex, Cost::Time)?;
            // The way out the search came from: its vertex, the quickest to it.
            let o = outs
                .iter()
                .filter(|o| o.vertex == src)
                .min_by(|a, b| a.time_s.total_cmp(&b.time_s))?;
            (i, Plan::Via(*o, w, Path { edges, nodes }))
        }
    };
    Some((plan.0, plan.1, best_t))
}

/// The route of `plan` as one line with its legs: the path's edges joined
/// to the network by id, the two end pieces cut from their edges, the road
/// names joined from the roads layer, in one statement. (`e.id = ANY` lets
/// the planner read the path's edges through the primary key instead of
/// hashing the whole network: 5 ms less per route.)
pub(crate) async fn assemble(
    tx: &mut Transaction<'_, Postgres>,
    net: &RoadNetwork,
    plan: &Plan,
) -> Result<Route, FeaturesError> {
    let empty = Path::default();
    let (path, pieces) = match plan {
        Plan::Direct(w) => (&empty, vec![w.piece]),
        Plan::Via(o, i, p) => (p, vec![o.piece, i.piece]),
    };
    let name = net.name_field.as_ref().map_or("NULL::text".into(), |n| {
        format!("l.{}::text", quote_ident(n))
    });
    let last = pieces.len() as i64;
    let sql = format!(
        "WITH r AS ( \
           SELECT d.k AS seq, e.fid, e.length_m, e.cost_s, \
                  CASE WHEN d.node = e.source THEN e.geom ELSE ST_Reverse(e.geom) END AS g \
           FROM unnest($1::int8[], $2::int8[]) WITH ORDINALITY d(edge, node, k) JOIN {edges} e ON e.id = d.edge \
           WHERE e.id = ANY($1::int8[])), \
         p AS ( \
           SELECT CASE WHEN v.k = 1 THEN -1 ELSE 9223372036854775807 END AS seq, e.fid, \
                  e.length_m * abs(v.t - v.f) AS length_m, e.cost_s * abs(v.t - v.f) AS cost_s, \
                  CASE WHEN v.f <= v.t THEN ST_LineSubstring(e.geom, v.f, v.t) \
                       ELSE ST_Reverse(ST_LineSubstring(e.geom, v.t, v.f)) END AS g \
           FROM unnest($3::int8[], $4::float8[], $5::float8[]) WITH ORDINALITY v(id, f, t, k) \
           JOIN {edges} e ON e.id = v.id WHERE v.k = 1 OR v.k = {last}), \
         a AS MATERIALIZED (SELECT * FROM p UNION ALL SELECT * FROM r) \
         SELECT (SELECT ST_AsGeoJSON(ST_Transform(ST_LineMerge(ST_MakeLine(g ORDER BY seq)), 4326), 7) FROM a), \
                (SELECT json_agg(json_build_array(a.fid, {name}, a.length_m, a.cost_s) ORDER BY a.seq) \
                 FROM a LEFT JOIN {roads} l ON l.{fid} = a.fid WHERE a.length_m > 0)::text",
        edges = net.edges(),
        roads = net.roads_table(),
        fid = quote_ident(FID_COLUMN),
    );
    let (geom, rows): (Option<String>, Option<String>) = sqlx::query_as(&sql)
        .bind(&path.edges)
        .bind(&path.nodes)
        .bind(pieces.iter().map(|p| p.edge).collect::<Vec<_>>())
        .bind(pieces.iter().map(|p| p.from).collect::<Vec<_>>())
        .bind(pieces.iter().map(|p| p.to).collect::<Vec<_>>())
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| no_network(net, e))?;
    let rows: Vec<(i64, Option<String>, f64, f64)> = match rows {
        Some(r) => serde_json::from_str(&r)
            .map_err(|e| FeaturesError::Db(sqlx::Error::Decode(Box::new(e))))?,
        None => Vec::new(),
    };
    let length_m = rows.iter().map(|r| r.2).sum::<f64>();
    let duration_s = rows.iter().map(|r| r.3).sum::<f64>();
    let geometry = match geom {
        Some(g) => Some(
            RawValue::from_string(g)
                .map_err(|e| FeaturesError::Db(sqlx::Error::Decode(Box::new(e))))?,
        ),
        None => None,
    };
    Ok(Route {
        geometry,
        length_m: (length_m * 10.0).round() / 10.0,
        duration_s: duration_s.round(),
        legs: legs(rows),
        network_version: 0,
    })
}

/// Finds the fastest plan from `outs` to `ins` over the graph of
/// `version` (the version `tx` sees), with the bridges below `weight_t`
/// closed. Returns the index of the end reached, the plan and how many
/// bridges the weight closed.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn search(
    tx: &mut Transaction<'_, Postgres>,
    graphs: &Graphs,
    net: &RoadNetwork,
    version: i64,
    weight_t: Option<f64>,
    outs: &[Way],
    ins: &[(usize, Way)],
    direct: &[(usize, Way)],
) -> Result<(usize, Plan, i64), FeaturesError> {
    let g = graphs.for_version(tx, net, version).await?;
    let (edges, closed) = closed_edges(tx, net, weight_t).await?;
    match fastest(&g, &g.closed(&edges), outs, ins, direct) {
        Some((i, plan, _)) => Ok((i, plan, closed)),
        None => Err(FeaturesError::NotFound(no_route_reason(weight_t, closed))),
    }
}

/// The fastest route from `from` to `to` (WGS 84) for a truck of `weight_t`
/// tonnes; also the snapped ends and the number of bridges closed.
pub async fn route(
    tx: &mut Transaction<'_, Postgres>,
    graphs: &Graphs,
    net: &RoadNetwork,
    from: (f64, f64),
    to: (f64, f64),
    weight_t: Option<f64>,
) -> Result<(Snap, Snap, i64, Route), FeaturesError> {
    let (a, version) = snap(tx, net, from, "from").await?;
    let (b, _) = snap(tx, net, to, "to").await?;
    let ins: Vec<(usize, Way)> = b.ways_in().into_iter().map(|w| (0, w)).collect();
    let direct: Vec<(usize, Way)> = a.direct(&b).into_iter().map(|w| (0, w)).collect();
    let (_, plan, closed) = search(
        tx,
        graphs,
        net,
        version,
        weight_t,
        &a.ways_out(),
        &ins,
        &direct,
    )
    .await?;
    let mut r = assemble(tx, net, &plan).await?;
    r.network_version = version;
    Ok((a, b, closed, r))
}

pub(crate) fn no_route_reason(weight_t: Option<f64>, closed: i64) -> String {
    match weight_t {
        Some(w) if closed > 0 => format!(
            "no route: the roads do not connect these points for a {w} t truck ({closed} bridges have a lower load limit)"
        ),
        _ => "no route: the roads do not connect these points (one-way roads respected)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legs_join_edges_of_one_named_road() {
        let rows = vec![
            (1, Some("QL1".to_string()), 100.0, 6.0),
            (1, Some("QL1".to_string()), 50.0, 3.0),
            (2, Some("QL1".to_string()), 10.0, 1.0),
            (3, None, 5.0, 1.0),
            (4, None, 5.0, 1.0),
            (5, Some("ĐT 864".to_string()), 7.0, 1.0),
        ];
        let l = legs(rows);
        assert_eq!(l.len(), 4);
        assert_eq!(l[0].fids, vec![1, 2]);
        assert_eq!(l[0].length_m, 160.0);
        assert_eq!(l[1].fids, vec![3]);
        assert_eq!(l[2].fids, vec![4]);
        assert_eq!(l[3].name.as_deref(), Some("ĐT 864"));
    }
}
