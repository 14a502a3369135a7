//! What a server keeps in memory per layer version, chosen by the layer's
//! kind in one place ([`Memory::build`]): road graphs for roads layers
//! (routes, reach), an R-tree of the points for warehouses (near searches)
//! and of the boxes for parcels (parcel at a point). Other kinds are served
//! from PostGIS alone. A build that fails or is declined is logged; the
//! SQL path serves meanwhile.

use std::sync::Arc;
use std::time::Instant;

use catalog::{Layer, LayerKind};
use sqlx::PgPool;

/// The per-kind memory of a server, by layer and version.
#[derive(Clone, Default)]
pub struct Memory {
    /// Road graphs (kind roads).
    pub graphs: Arc<features::Graphs>,
    /// Warehouse points (kind warehouses).
    pub warehouses: Arc<features::WarehouseIndexes>,
    /// Parcel boxes (kind parcels).
    pub parcels: Arc<features::ParcelIndexes>,
}

impl Memory {
    /// Builds what `layer`'s kind keeps in memory, at the version the
    /// database holds.
    pub async fn build(&self, pool: &PgPool, layer: &Layer) {
        let t = Instant::now();
        match layer.kind {
            LayerKind::Roads => {
                let net = features::RoadNetwork::new(layer.clone(), Vec::new());
                match self.graphs.build(pool, &net).await {
                    Ok(g) => tracing::info!(
                        layer = %layer.name,
                        version = g.version,
                        vertices = g.vertex_count(),
                        edges = g.edge_count(),
                        heap_bytes = g.heap_bytes(),
                        ms = t.elapsed().as_millis() as u64,
                        "road graph built"
                    ),
                    Err(e) => tracing::warn!(layer = %layer.name, error = %e, "road graph not built"),
                }
            }
            LayerKind::Warehouses => log_index_build(
                layer,
                "warehouse index",
                self.warehouses
                    .build(pool, layer)
                    .await
                    .map(|ix| ix.map(|ix| (ix.version, ix.len()))),
                t,
                "warehouses served by SQL (not points in a projected CRS PROJ reproduces)",
            ),
            LayerKind::Parcels => log_index_build(
                layer,
                "parcel index",
                self.parcels
                    .build(pool, layer)
                    .await
                    .map(|ix| ix.map(|ix| (ix.version, ix.len()))),
                t,
                "parcels at a point searched in SQL only (too many, or a CRS PROJ does not reproduce)",
            ),
            _ => {}
        }
    }

    /// [`Memory::build`] in the background.
    pub fn spawn_build(&self, pool: &PgPool, layer: &Layer) {
        let (me, pool, layer) = (self.clone(), pool.clone(), layer.clone());
        tokio::spawn(async move { me.build(&pool, &layer).await });
    }
}

/// Logs how building one in-memory index of `layer` ended: built (its
/// version and size), declined (`declined` says what serves instead), or
/// failed.
fn log_index_build<E: std::fmt::Display>(
    layer: &Layer,
    what: &str,
    built: Result<Option<(i64, usize)>, E>,
    started: Instant,
    declined: &str,
) {
    match built {
        Ok(Some((version, items))) => tracing::info!(
            layer = %layer.name,
            version,
            items,
            ms = started.elapsed().as_millis() as u64,
            "{what} built"
        ),
        Ok(None) => tracing::info!(layer = %layer.name, "{declined}"),
        Err(e) => tracing::warn!(layer = %layer.name, error = %e, "{what} not built"),
    }
}
