//! Truck routes over a roads layer's network with pgRouting: the ends snap
//! onto their nearest roads (`crate::snap`), one many-to-many `pgr_dijkstra`
//! finds the paths between the ways out of the start and into the end, and
//! the fastest becomes one line: the start's stretch of road, the path, the
//! end's stretch.

use std::collections::HashMap;

use catalog::{quote_ident, FID_COLUMN};
use serde::Serialize;
use serde_json::value::RawValue;
use sqlx::{Postgres, Transaction};

use crate::network::{no_network, prepare, Cost, RoadNetwork, Scope};
use crate::snap::{snap, Snap, Way};
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

/// The fastest path between two vertices: its travel time (seconds) and
/// its edges with the vertex each is entered from, in travel order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Path {
    pub time_s: f64,
    pub edges: Vec<i64>,
    pub nodes: Vec<i64>,
}

/// start_vid, end_vid, cost, edges, nodes.
type PathRow = (i64, i64, f64, Vec<i64>, Vec<i64>);

/// The fastest paths between every vertex of `from` and of `to` under the
/// settings of [`prepare`], from one `pgr_dijkstra` (the graph is read and
/// built once for all pairs); a vertex reaches itself in 0 along no edge.
pub(crate) async fn paths(
    tx: &mut Transaction<'_, Postgres>,
    net: &RoadNetwork,
    from: &[i64],
    to: &[i64],
) -> Result<HashMap<(i64, i64), Path>, FeaturesError> {
    // The last row of each path has edge -1 and the path's whole cost.
    let rows: Vec<PathRow> = sqlx::query_as(
        "SELECT start_vid, end_vid, max(agg_cost) AS cost, \
                coalesce(array_agg(edge ORDER BY path_seq) FILTER (WHERE edge <> -1), '{}') AS edges, \
                coalesce(array_agg(node ORDER BY path_seq) FILTER (WHERE edge <> -1), '{}') AS nodes \
         FROM pgr_dijkstra($1, $2::int8[], $3::int8[], true) GROUP BY start_vid, end_vid",
    )
    .bind(net.edges_sql(Cost::Time))
    .bind(from.to_vec())
    .bind(to.to_vec())
    .fetch_all(&mut **tx)
    .await
    .map_err(|e| no_network(net, e))?;
    let mut m: HashMap<(i64, i64), Path> = rows
        .into_iter()
        .map(|(s, e, t, edges, nodes)| {
            (
                (s, e),
                Path {
                    time_s: t,
                    edges,
                    nodes,
                },
            )
        })
        .collect();
    for v in from.iter().filter(|v| to.contains(v)) {
        m.insert((*v, *v), Path::default());
    }
    Ok(m)
}

/// How a route goes: straight along one edge, or out, over the network
/// (along the path between the two ways' vertices), in.
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    Direct(Way),
    Via(Way, Way, Path),
}

/// The fastest plan from the `outs` to the `ins` (each with its index in
/// the caller's list of ends), given the vertex-to-vertex `paths`.
pub(crate) fn fastest(
    outs: &[Way],
    ins: &[(usize, Way)],
    direct: &[(usize, Way)],
    paths: &HashMap<(i64, i64), Path>,
) -> Option<(usize, Plan, f64)> {
    // The end index, the direct way or the out and in ways, the time.
    type Choice = (usize, Result<Way, (Way, Way)>, f64);
    let mut best: Option<Choice> = None;
    let mut consider = |i: usize, p: Result<Way, (Way, Way)>, t: f64| {
        if best.as_ref().is_none_or(|b| t < b.2) {
            best = Some((i, p, t));
        }
    };
    for (i, d) in direct {
        consider(*i, Ok(*d), d.time_s);
    }
    for o in outs {
        for (i, w) in ins {
            if let Some(c) = paths.get(&(o.vertex, w.vertex)) {
                consider(*i, Err((*o, *w)), o.time_s + c.time_s + w.time_s);
            }
        }
    }
    best.map(|(i, p, t)| {
        let plan = match p {
            Ok(d) => Plan::Direct(d),
            Err((o, w)) => Plan::Via(o, w, paths[&(o.vertex, w.vertex)].clone()),
        };
        (i, plan, t)
    })
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
    })
}

/// The vertices of `ways`, without repeats.
pub(crate) fn vertices<'a>(ways: impl IntoIterator<Item = &'a Way>) -> Vec<i64> {
    let mut v: Vec<i64> = ways.into_iter().map(|w| w.vertex).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Finds the fastest plan from `outs` to `ins`: first among the edges in a
/// box around the ends, then, if no path lies inside it, over the whole
/// network. Returns the index of the end reached, the plan and how many
/// bridges the weight closed.
pub(crate) async fn search(
    tx: &mut Transaction<'_, Postgres>,
    net: &RoadNetwork,
    weight_t: Option<f64>,
    outs: &[Way],
    ins: &[(usize, Way)],
    direct: &[(usize, Way)],
) -> Result<(usize, Plan, i64), FeaturesError> {
    let from = vertices(outs);
    let to = vertices(ins.iter().map(|(_, w)| w));
    let around: Vec<i64> = from.iter().chain(&to).copied().collect();
    let mut closed = prepare(tx, net, weight_t, Scope::route(&around)).await?;
    let mut p = paths(tx, net, &from, &to).await?;
    if p.is_empty() {
        closed = prepare(tx, net, weight_t, Scope::All).await?;
        p = paths(tx, net, &from, &to).await?;
    }
    match fastest(outs, ins, direct, &p) {
        Some((i, plan, _)) => Ok((i, plan, closed)),
        None => Err(FeaturesError::NotFound(no_route_reason(weight_t, closed))),
    }
}

/// The fastest route from `from` to `to` (WGS 84) for a truck of `weight_t`
/// tonnes; also the snapped ends and the number of bridges closed.
pub async fn route(
    tx: &mut Transaction<'_, Postgres>,
    net: &RoadNetwork,
    from: (f64, f64),
    to: (f64, f64),
    weight_t: Option<f64>,
) -> Result<(Snap, Snap, i64, Route), FeaturesError> {
    let a = snap(tx, net, from, "from").await?;
    let b = snap(tx, net, to, "to").await?;
    let ins: Vec<(usize, Way)> = b.ways_in().into_iter().map(|w| (0, w)).collect();
    let direct: Vec<(usize, Way)> = a.direct(&b).into_iter().map(|w| (0, w)).collect();
    let (_, plan, closed) = search(tx, net, weight_t, &a.ways_out(), &ins, &direct).await?;
    Ok((a, b, closed, assemble(tx, net, &plan).await?))
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
