//! Where a point meets the road network: the nearest point of the nearest
//! edge. A route leaves a point along its edge to either end (only forward
//! on a one-way edge) and arrives at a point from either end the same way,
//! so a point in the middle of a long road is not moved to a junction.

use catalog::quote_ident;
use serde::Serialize;
use sqlx::{Postgres, Transaction};

use crate::routing::network::{metres, no_network, RoadNetwork};
use crate::FeaturesError;

/// A point further than this from every road cannot be routed from.
pub const MAX_SNAP_M: f64 = 2_000.0;

/// A point on an edge.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Snap {
    /// Feature id of the road (in the roads layer).
    pub road_fid: i64,
    /// Metres from the point to the road.
    pub distance_m: f64,
    #[serde(skip)]
    pub edge: i64,
    #[serde(skip)]
    pub source: i64,
    #[serde(skip)]
    pub target: i64,
    /// Position along the edge, 0 at its source, 1 at its target.
    #[serde(skip)]
    pub fraction: f64,
    #[serde(skip)]
    pub length_m: f64,
    #[serde(skip)]
    pub cost_s: f64,
    #[serde(skip)]
    pub one_way: bool,
}

/// A stretch of one edge between two fractions, in travel order (`from` >
/// `to` runs against the digitised direction).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    pub edge: i64,
    pub from: f64,
    pub to: f64,
}

/// A way between a snapped point and a vertex along the point's edge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Way {
    pub vertex: i64,
    pub time_s: f64,
    pub length_m: f64,
    pub piece: Piece,
}

impl Snap {
    fn way(&self, vertex: i64, from: f64, to: f64) -> Way {
        let share = (to - from).abs();
        Way {
            vertex,
            time_s: share * self.cost_s,
            length_m: share * self.length_m,
            piece: Piece {
                edge: self.edge,
                from,
                to,
            },
        }
    }

    /// Ways from the point to the ends of its edge.
    pub fn ways_out(&self) -> Vec<Way> {
        let mut w = vec![self.way(self.target, self.fraction, 1.0)];
        if !self.one_way {
            w.push(self.way(self.source, self.fraction, 0.0));
        }
        w
    }

    /// Ways from the ends of its edge to the point.
    pub fn ways_in(&self) -> Vec<Way> {
        let mut w = vec![self.way(self.source, 0.0, self.fraction)];
        if !self.one_way {
            w.push(self.way(self.target, 1.0, self.fraction));
        }
        w
    }

    /// The way along a shared edge from `self` to `to`, when allowed.
    pub fn direct(&self, to: &Snap) -> Option<Way> {
        (self.edge == to.edge && (self.fraction <= to.fraction || !self.one_way))
            .then(|| self.way(-1, self.fraction, to.fraction))
    }
}

/// Columns of a snap from [`nearest_edge_sql`] (`e` and `sn`).
pub(crate) const SNAP_COLUMNS: &str =
    "e.id, e.fid, e.source, e.target, sn.f, e.length_m, e.cost_s, e.one_way, sn.d";

pub(crate) type SnapRow = (i64, i64, i64, i64, f64, f64, f64, bool, f64);

pub(crate) fn from_row(r: SnapRow) -> Snap {
    Snap {
        edge: r.0,
        road_fid: r.1,
        source: r.2,
        target: r.3,
        fraction: r.4,
        length_m: r.5,
        cost_s: r.6,
        one_way: r.7,
        distance_m: (r.8 * 10.0).round() / 10.0,
    }
}

/// `LATERAL` joining point expression `p` (in the network's SRID) to its
/// nearest edge `e`, with `sn.f` its fraction and `sn.d` the distance in metres.
pub(crate) fn nearest_edge_sql(net: &RoadNetwork, p: &str) -> String {
    format!(
        "LATERAL (SELECT * FROM {edges} e ORDER BY e.geom <-> {p} LIMIT 1) e, \
         LATERAL (SELECT ST_LineLocatePoint(e.geom, {p}) AS f, {d} AS d) sn",
        edges = net.edges(),
        d = metres("e.geom", p),
    )
}

/// Snaps WGS 84 (`lon`, `lat`) to the network; `param` names the request
/// parameter in errors. Also returns the version of the roads layer the
/// transaction sees: the statement reads the edges table, and once a
/// transaction holds that table no import can swap it (nor the catalog
/// row with it) before the transaction ends, so every later statement of
/// `tx` reads that same version (see `crate::routing::graph`).
pub async fn snap(
    tx: &mut Transaction<'_, Postgres>,
    net: &RoadNetwork,
    (lon, lat): (f64, f64),
    param: &'static str,
) -> Result<(Snap, i64), FeaturesError> {
    let sql = format!(
        "SELECT {SNAP_COLUMNS}, (SELECT version FROM geokho.layers WHERE name = $3) \
         FROM (SELECT {p} AS p) p, {join}",
        p = net.point("$1", "$2"),
        join = nearest_edge_sql(net, "p.p"),
    );
    type Row = (i64, i64, i64, i64, f64, f64, f64, bool, f64, Option<i64>);
    let row: Option<Row> = sqlx::query_as(&sql)
        .bind(lon)
        .bind(lat)
        .bind(&net.roads.name)
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| no_network(net, e))?;
    let version = row.as_ref().and_then(|r| r.9);
    let row = row.map(|r| from_row((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8)));
    match (row, version) {
        (Some(_), None) => Err(FeaturesError::NotFound(format!(
            "layer {} is no longer published",
            net.roads.name
        ))),
        (Some(s), Some(v)) if s.distance_m <= MAX_SNAP_M => Ok((s, v)),
        (Some(s), _) => Err(FeaturesError::BadParameter(
            param,
            format!(
                "the nearest road of {} is {:.0} m away (at most {MAX_SNAP_M:.0} m)",
                quote_ident(&net.roads.name),
                s.distance_m
            ),
        )),
        (None, _) => Err(FeaturesError::NotFound(format!(
            "layer {} has no roads to route on",
            net.roads.name
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(fraction: f64, one_way: bool) -> Snap {
        Snap {
            road_fid: 7,
            distance_m: 1.0,
            edge: 3,
            source: 10,
            target: 11,
            fraction,
            length_m: 400.0,
            cost_s: 40.0,
            one_way,
        }
    }

    #[test]
    fn two_way_edges_lead_both_ways_one_way_edges_forward_only() {
        let out = at(0.25, false).ways_out();
        assert_eq!(out.len(), 2);
        assert_eq!(
            (out[0].vertex, out[0].length_m, out[0].time_s),
            (11, 300.0, 30.0)
        );
        assert_eq!((out[1].vertex, out[1].length_m), (10, 100.0));
        assert_eq!(
            out[1].piece,
            Piece {
                edge: 3,
                from: 0.25,
                to: 0.0
            }
        );
        let out = at(0.25, true).ways_out();
        assert_eq!(out.iter().map(|w| w.vertex).collect::<Vec<_>>(), vec![11]);
        let inn = at(0.25, true).ways_in();
        assert_eq!(inn.iter().map(|w| w.vertex).collect::<Vec<_>>(), vec![10]);
        assert_eq!(inn[0].length_m, 100.0);
    }

    #[test]
    fn along_one_edge_only_forward_when_one_way() {
        assert!(at(0.2, true).direct(&at(0.6, true)).is_some());
        assert!(at(0.6, true).direct(&at(0.2, true)).is_none());
        let back = at(0.6, false).direct(&at(0.2, false)).unwrap();
        assert!((back.length_m - 160.0).abs() < 1e-9);
    }
}
