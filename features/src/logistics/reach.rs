//! Warehouses by road: those within a network distance of a point (a
//! Dijkstra by length over the in-memory graph, bounded by the distance;
//! the vertices reached go to SQL as arrays), and the route to the nearest
//! one matching filters (one search towards the nearest candidates, then
//! the route).
//!
//! Points join the network where they meet their nearest road
//! (`crate::snap`): a network distance is the stretch from the start to its
//! road, along that road to a junction (forward only on one-way roads), over
//! the network, along the warehouse's road and off it to the warehouse.

use catalog::{quote_ident, Field, Layer, FID_COLUMN, GEOM_COLUMN};
use sqlx::{Postgres, Transaction};

use crate::logistics::near::{
    dm, feature, filter_conditions, properties_sql, table, Warehouse, WarehouseFilter,
};
use crate::routing::graph::Graphs;
use crate::routing::network::{closed_edges, no_network, Cost, RoadNetwork};
use crate::routing::route::{assemble, search, Route};
use crate::routing::snap::{from_row, nearest_edge_sql, snap, Snap, SnapRow, Way, SNAP_COLUMNS};
use crate::sql::{bind_all, Bind, Where};
use crate::FeaturesError;

/// Largest network distance a search may ask for (metres).
pub const MAX_REACH_M: f64 = 100_000.0;
/// Candidates (nearest in a straight line) a nearest-warehouse route compares.
const NEAREST_CANDIDATES: i64 = 20;

/// `cand` (warehouses passing `w`, as alias `w`) and `s` (each joined to its
/// nearest edge, with the [`SNAP_COLUMNS`]) CTEs; `tail` adds ORDER BY / LIMIT.
fn snapped_ctes(net: &RoadNetwork, l: &Layer, visible: &[&Field], w: &Where, tail: &str) -> String {
    let g = format!("w.{}", quote_ident(GEOM_COLUMN));
    format!(
        "cand AS (SELECT w.{fid} AS wfid, {props} AS props, ST_AsGeoJSON(ST_Transform({g}, 4326), 8, 0) AS gj, \
                  {g} AS wg, ST_Transform(ST_PointOnSurface({g}), {srid}) AS p \
                  FROM {table}{clause}{tail}), \
         s AS (SELECT c.*, {SNAP_COLUMNS} FROM cand c, {join})",
        fid = quote_ident(FID_COLUMN),
        props = properties_sql(visible),
        srid = net.roads.srid,
        table = table(l),
        clause = w.clause(),
        join = nearest_edge_sql(net, "c.p"),
    )
}

/// A search for warehouses by road: which warehouses (layer, the fields
/// the caller sees, filters), over which network and graphs, from where
/// (WGS 84) and for what truck weight (bridges below it closed).
pub struct ByRoad<'a> {
    pub graphs: &'a Graphs,
    pub net: &'a RoadNetwork,
    pub layer: &'a Layer,
    pub visible: &'a [&'a Field],
    pub filter: &'a WarehouseFilter,
    pub from: (f64, f64),
    pub weight_t: Option<f64>,
}

/// Warehouses within `max_m` metres by road of the search's start,
/// nearest by road first, with `network_m` and `straight_m`.
pub async fn warehouses_reachable(
    tx: &mut Transaction<'_, Postgres>,
    q: &ByRoad<'_>,
    max_m: f64,
    limit: u32,
) -> Result<(Snap, Vec<Warehouse>), FeaturesError> {
    let ByRoad {
        graphs,
        net,
        layer: l,
        visible,
        filter: f,
        from,
        weight_t,
    } = *q;
    let (start, version) = snap(tx, net, from, "lon/lat").await?;
    let g = graphs.for_version(tx, net, version).await?;
    let (closed, _) = closed_edges(tx, net, weight_t).await?;
    let sources: Vec<(i64, f64)> = start
        .ways_out()
        .iter()
        .map(|o| (o.vertex, o.length_m))
        .collect();
    let tree = g.search(Cost::Length, &g.closed(&closed), &sources, |_, d| {
        d <= max_m
    });
    let (nodes, costs): (Vec<i64>, Vec<f64>) = tree.reached().filter(|r| r.1 <= max_m).unzip();
    let mut w = Where::default();
    let vs = w.bind(Bind::Ints(nodes));
    let cs = w.bind(Bind::Floats(costs));
    let d = w.bind(Bind::Float(max_m));
    let access = w.bind(Bind::Float(start.distance_m));
    let se = w.bind(Bind::Int(start.edge));
    let sf = w.bind(Bind::Float(start.fraction));
    let (x, y) = (w.bind(Bind::Float(from.0)), w.bind(Bind::Float(from.1)));
    let lim = w.bind(Bind::Int(i64::from(limit.clamp(1, crate::MAX_NEAR))));
    let point = format!("ST_SetSRID(ST_MakePoint({x}, {y}), 4326)");
    // Straight-line prefilter: nothing farther by air is nearer by road.
    w.conds.push(format!(
        "w.{g} && ST_Transform(ST_Buffer({point}::geography, {d})::geometry, {srid})",
        g = quote_ident(GEOM_COLUMN),
        srid = l.srid
    ));
    filter_conditions(&mut w, visible, f)?;
    let sql = format!(
        "WITH dd AS (SELECT * FROM unnest({vs}::int8[], {cs}::float8[]) d(node, agg_cost)), \
         {ctes}, \
         t AS (SELECT s.*, LEAST( \
                 ds.agg_cost + s.f * s.length_m, \
                 CASE WHEN NOT s.one_way THEN dt.agg_cost + (1 - s.f) * s.length_m END, \
                 CASE WHEN s.id = {se} AND ({sf} <= s.f OR NOT s.one_way) THEN abs(s.f - {sf}) * s.length_m END) \
               + s.d + {access} AS net \
               FROM s LEFT JOIN dd ds ON ds.node = s.source LEFT JOIN dd dt ON dt.node = s.target) \
         SELECT wfid, props, gj, net, {straight} FROM t WHERE net <= {d} ORDER BY net, wfid LIMIT {lim}",
        ctes = snapped_ctes(net, l, visible, &w, ""),
        straight = crate::routing::network::metres("t.wg", &point),
    );
    let rows: Vec<(i64, String, Option<String>, f64, f64)> =
        bind_all(sqlx::query_as(&sql), &w.binds)
            .fetch_all(&mut **tx)
            .await
            .map_err(|e| no_network(net, e))?;
    let found = rows
        .into_iter()
        .map(|(fid, p, g, n, s)| {
            let mut w = feature(fid, p, g)?;
            w.network_m = Some(dm(n));
            w.straight_m = Some(dm(s));
            Ok(w)
        })
        .collect::<Result<Vec<_>, FeaturesError>>()?;
    Ok((start, found))
}

/// The route to the matching warehouse that is fastest to reach by road
/// from the search's start, among the nearest in a straight line. Returns
/// the start, the bridges closed, the warehouse and the route.
pub async fn route_to_nearest_warehouse(
    tx: &mut Transaction<'_, Postgres>,
    q: &ByRoad<'_>,
) -> Result<(Snap, i64, Warehouse, Route), FeaturesError> {
    let ByRoad {
        graphs,
        net,
        layer: l,
        visible,
        filter: f,
        from,
        weight_t,
    } = *q;
    let (start, version) = snap(tx, net, from, "lon/lat").await?;
    let mut w = Where::default();
    let (x, y) = (w.bind(Bind::Float(from.0)), w.bind(Bind::Float(from.1)));
    filter_conditions(&mut w, visible, f)?;
    let point = format!(
        "ST_Transform(ST_SetSRID(ST_MakePoint({x}, {y}), 4326), {})",
        l.srid
    );
    let tail = format!(
        " ORDER BY w.{} <-> {point} LIMIT {NEAREST_CANDIDATES}",
        quote_ident(GEOM_COLUMN)
    );
    let sql = format!(
        "WITH {} SELECT wfid, props, gj, id, fid, source, target, f, length_m, cost_s, one_way, d FROM s",
        snapped_ctes(net, l, visible, &w, &tail)
    );
    type Row = (
        i64,
        String,
        Option<String>,
        i64,
        i64,
        i64,
        i64,
        f64,
        f64,
        f64,
        bool,
        f64,
    );
    let mut rows: Vec<Row> = bind_all(sqlx::query_as(&sql), &w.binds)
        .fetch_all(&mut **tx)
        .await
        .map_err(|e| no_network(net, e))?;
    if rows.is_empty() {
        return Err(FeaturesError::NotFound(
            "no warehouse matches these filters".into(),
        ));
    }
    let snaps: Vec<Snap> = rows
        .iter()
        .map(|r| from_row((r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11) as SnapRow))
        .collect();
    let ins: Vec<(usize, Way)> = snaps
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.ways_in().into_iter().map(move |w| (i, w)))
        .collect();
    let direct: Vec<(usize, Way)> = snaps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| start.direct(s).map(|w| (i, w)))
        .collect();
    let outs = start.ways_out();
    let (i, plan, closed) =
        search(tx, graphs, net, version, weight_t, &outs, &ins, &direct).await?;
    let mut route = assemble(tx, net, &plan).await?;
    route.network_version = version;
    let r = rows.swap_remove(i);
    let mut warehouse = feature(r.0, r.1, r.2)?;
    warehouse.road = Some(snaps[i]);
    Ok((start, closed, warehouse, route))
}
