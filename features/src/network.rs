//! A roads layer's routing network (`<layer>__edges`, built by the
//! importer) as pgRouting sees it: bridges whose `tai_trong` is below the
//! truck's weight close the edges they sit on, one-way roads have a negative
//! reverse cost, and a search reads only the edges in a box around its ends.
//!
//! pgRouting takes its edges as SQL text. That text is fixed per network
//! (names from the catalog); the request's values reach it through
//! transaction-local settings set from bound parameters
//! (`set_config('geokho.route_box', $1, true)`), never pasted in.

use catalog::{quote_ident, Layer, DATA_SCHEMA, EDGES_SUFFIX, FID_COLUMN, GEOM_COLUMN};
use sqlx::{Postgres, Transaction};

use crate::FeaturesError;

/// A bridge closes the edges within this distance of it (metres).
const BRIDGE_TOLERANCE_M: f64 = 5.0;
/// The first search looks at edges in the box around both ends grown by this
/// share of its diagonal (at least `MIN_MARGIN_M`); if no path lies inside,
/// the whole network is searched.
const MARGIN_SHARE: f64 = 0.3;
const MIN_MARGIN_M: f64 = 3_000.0;

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
        format!(
            "{}.{}",
            quote_ident(DATA_SCHEMA),
            quote_ident(&format!("{}{EDGES_SUFFIX}", self.roads.name))
        )
    }

    /// The roads layer table, quoted.
    pub(crate) fn roads_table(&self) -> String {
        format!(
            "{}.{}",
            quote_ident(DATA_SCHEMA),
            quote_ident(&self.roads.name)
        )
    }

    pub(crate) fn srid(&self) -> i32 {
        self.roads.srid
    }

    /// The edges SQL handed to pgRouting: constant text; the box and the
    /// closed edges come from the transaction's settings.
    pub(crate) fn edges_sql(&self, cost: Cost) -> String {
        let (c, r) = match cost {
            Cost::Time => ("cost_s", "reverse_cost_s"),
            Cost::Length => ("length_m", "CASE WHEN one_way THEN -1 ELSE length_m END"),
        };
        // The box is a scalar subquery (read and parsed once per query, not
        // once per edge) and the closed edges a hashed NOT IN (one hash
        // probe per edge; `id <> ALL (array)` walked the whole array for
        // every edge: 8.6 ms against 3.0 ms for the 5,305 edges of a box).
        format!(
            "SELECT id, source, target, {c} AS cost, {r} AS reverse_cost FROM {} \
             WHERE geom && (SELECT current_setting('geokho.route_box')::geometry) \
             AND id NOT IN (SELECT unnest(current_setting('geokho.route_closed')::int8[]))",
            self.edges()
        )
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

/// Which edges a search reads.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Edges in the box around these vertices, grown by the larger of
    /// `share` of its diagonal and `margin_m` metres.
    Around {
        vertices: &'a [i64],
        share: f64,
        margin_m: f64,
    },
    /// The whole network.
    All,
}

impl<'a> Scope<'a> {
    /// The first search of a route: both ends and a margin around them.
    pub fn route(vertices: &'a [i64]) -> Self {
        Scope::Around {
            vertices,
            share: MARGIN_SHARE,
            margin_m: MIN_MARGIN_M,
        }
    }
}

/// Closes the edges under bridges weaker than `weight_t` tonnes and sets the
/// search box of `scope`; returns how many bridges were closed.
pub async fn prepare(
    tx: &mut Transaction<'_, Postgres>,
    net: &RoadNetwork,
    weight_t: Option<f64>,
    scope: Scope<'_>,
) -> Result<i64, FeaturesError> {
    let edges = net.edges();
    let srid = net.srid();
    let units = units_per_metre(srid);
    let b: Option<String> = match scope {
        Scope::Around {
            vertices,
            share,
            margin_m,
        } => {
            let sql = format!(
                "SELECT ST_AsEWKT(ST_Expand(b, GREATEST($2 * sqrt((ST_XMax(b) - ST_XMin(b)) ^ 2 + (ST_YMax(b) - ST_YMin(b)) ^ 2), $3 * {units}))) \
                 FROM (SELECT ST_SetSRID(ST_Extent(pt)::geometry, {srid}) AS b \
                       FROM (SELECT ST_StartPoint(geom) AS pt FROM {edges} WHERE source = ANY($1) \
                             UNION ALL SELECT ST_EndPoint(geom) FROM {edges} WHERE target = ANY($1)) v) x"
            );
            sqlx::query_scalar(&sql)
                .bind(vertices.to_vec())
                .bind(share)
                .bind(margin_m)
                .fetch_one(&mut **tx)
                .await
                .map_err(|e| no_network(net, e))?
        }
        Scope::All => Some(format!(
            "SRID={srid};POLYGON((-1e15 -1e15,-1e15 1e15,1e15 1e15,1e15 -1e15,-1e15 -1e15))"
        )),
    };
    let b = b.unwrap_or_else(|| format!("SRID={srid};POLYGON EMPTY"));
    sqlx::query("SELECT set_config('geokho.route_box', $1, true)")
        .bind(&b)
        .execute(&mut **tx)
        .await?;
    let mut closed_bridges = 0;
    let mut closed: Vec<i64> = Vec::new();
    if let Some(w) = weight_t {
        for layer in &net.bridges {
            let t = format!("{}.{}", quote_ident(DATA_SCHEMA), quote_ident(&layer.name));
            let tol = format!("{BRIDGE_TOLERANCE_M} * {units}");
            let sql = format!(
                "SELECT b.{fid}, e.id FROM {t} b JOIN {edges} e \
                 ON ST_DWithin(e.geom, ST_Transform(b.{g}, {srid}), {tol}) \
                 WHERE b.\"tai_trong\" < $1",
                fid = quote_ident(FID_COLUMN),
                g = quote_ident(GEOM_COLUMN),
            );
            let rows: Vec<(i64, i64)> = sqlx::query_as(&sql).bind(w).fetch_all(&mut **tx).await?;
            let mut bridges: Vec<i64> = rows.iter().map(|r| r.0).collect();
            bridges.sort_unstable();
            bridges.dedup();
            closed_bridges += bridges.len() as i64;
            closed.extend(rows.iter().map(|r| r.1));
        }
    }
    closed.sort_unstable();
    closed.dedup();
    let closed = format!(
        "{{{}}}",
        closed
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    );
    sqlx::query("SELECT set_config('geokho.route_closed', $1, true)")
        .bind(closed)
        .execute(&mut **tx)
        .await?;
    Ok(closed_bridges)
}
