//! A roads layer's routing network (`<layer>__edges`, built by the
//! importer, the table pgRouting reads): the layer and its tables, what an
//! edge costs, and the edges bridges close to a truck heavier than their
//! `tai_trong`. Searches run over the in-memory graph (`crate::routing::graph`).

use catalog::{quote_ident, Layer, EDGES_SUFFIX, FID_COLUMN, GEOM_COLUMN};
use sqlx::{Postgres, Transaction};

use crate::FeaturesError;

/// A bridge closes the edges within this distance of it (metres).
pub const BRIDGE_TOLERANCE_M: f64 = 5.0;
/// What an edge costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    /// Seconds at the road's speed (routes).
    Time,
    /// Metres (network distance).
    Length,
}

/// A roads layer with a routing network, and the bridges that limit it.
#[derive(Debug, Clone)]
pub struct RoadNetwork {
    pub roads: Layer,
    /// Bridge layers with a numeric `tai_trong` field.
    pub bridges: Vec<Layer>,
    /// The name field shown in a route's road sequence, if public.
    pub name_field: Option<String>,
}

impl RoadNetwork {
    /// The network of `roads` (kind roads), limited by `bridges` (kind bridges).
    pub fn new(roads: Layer, bridges: Vec<Layer>) -> Self {
        let name_field = ["ten_duong", "ten"]
            .into_iter()
            .find(|n| roads.public_fields().any(|f| f.name == *n))
            .map(String::from);
        let bridges = bridges
            .into_iter()
            .filter(|b| {
                b.fields.iter().any(|f| {
                    f.name == "tai_trong"
                        && matches!(
                            f.field_type,
                            catalog::FieldType::Float8
                                | catalog::FieldType::Int4
                                | catalog::FieldType::Int8
                        )
                })
            })
            .collect();
        RoadNetwork {
            roads,
            bridges,
            name_field,
        }
    }

    pub(crate) fn edges(&self) -> String {
        catalog::live_table(&format!("{}{EDGES_SUFFIX}", self.roads.name))
    }

    /// The roads layer table, quoted.
    pub(crate) fn roads_table(&self) -> String {
        catalog::live_table(&self.roads.name)
    }

    pub(crate) fn srid(&self) -> i32 {
        self.roads.srid
    }

    /// SQL of a point (bound `$x`, `$y` in WGS 84) in the network's SRID.
    pub(crate) fn point(&self, x: &str, y: &str) -> String {
        format!(
            "ST_Transform(ST_SetSRID(ST_MakePoint({x}, {y}), 4326), {})",
            self.srid()
        )
    }
}

/// SQL of the layer units in one metre for `srid` (degrees for geographic
/// CRSs, roughly; 1 for projected ones in metres).
pub(crate) fn units_per_metre(srid: i32) -> String {
    format!(
        "(CASE WHEN (SELECT proj4text LIKE '%+proj=longlat%' FROM spatial_ref_sys WHERE srid = {srid}) \
         THEN 1.0 / 110000 ELSE 1.0 END)"
    )
}

/// Geodesic distance in metres between two geometries of any SRID.
pub(crate) fn metres(a: &str, b: &str) -> String {
    format!("ST_Distance(ST_Transform({a}, 4326)::geography, ST_Transform({b}, 4326)::geography)")
}

/// A missing edges table means the roads layer was imported before routing
/// existed (or is not made of lines).
pub(crate) fn no_network(net: &RoadNetwork, e: sqlx::Error) -> FeaturesError {
    match &e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some("42P01") => {
            FeaturesError::NotFound(format!(
                "layer {} has no routing network: re-import it as kind roads",
                net.roads.name
            ))
        }
        _ => FeaturesError::Db(e),
    }
}

/// The edges closed to a truck of `weight_t` tonnes (those within
/// [`BRIDGE_TOLERANCE_M`] of a bridge whose `tai_trong` is lower), sorted,
/// and how many bridges close them.
pub async fn closed_edges(
    tx: &mut Transaction<'_, Postgres>,
    net: &RoadNetwork,
    weight_t: Option<f64>,
) -> Result<(Vec<i64>, i64), FeaturesError> {
    let mut closed_bridges = 0;
    let mut closed: Vec<i64> = Vec::new();
    let Some(w) = weight_t else {
        return Ok((closed, 0));
    };
    let edges = net.edges();
    let srid = net.srid();
    let units = units_per_metre(srid);
    for layer in &net.bridges {
        let t = catalog::live_table(&layer.name);
        let tol = format!("{BRIDGE_TOLERANCE_M} * {units}");
        let sql = format!(
            "SELECT b.{fid}, e.id FROM {t} b JOIN {edges} e \
             ON ST_DWithin(e.geom, ST_Transform(b.{g}, {srid}), {tol}) \
             WHERE b.\"tai_trong\" < $1",
            fid = quote_ident(FID_COLUMN),
            g = quote_ident(GEOM_COLUMN),
        );
        let rows: Vec<(i64, i64)> = sqlx::query_as(&sql)
            .bind(w)
            .fetch_all(&mut **tx)
            .await
            .map_err(|e| no_network(net, e))?;
        let mut bridges: Vec<i64> = rows.iter().map(|r| r.0).collect();
        bridges.sort_unstable();
        bridges.dedup();
        closed_bridges += bridges.len() as i64;
        closed.extend(rows.iter().map(|r| r.1));
    }
    closed.sort_unstable();
    closed.dedup();
    Ok((closed, closed_bridges))
}
