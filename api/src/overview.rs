//! Keeps each layer's overview (its tiles up to z12, see
//! `tiles::overview_zooms`) in the shared tile store: at server start for
//! layers whose overview is missing, and when a new version is announced.
//! Every map view starts at these zooms, and they are the most expensive to
//! render, so no client waits for them cold. One server seeds a layer
//! version at a time (advisory lock); the others find it stored.

use std::sync::Arc;

use catalog::Layer;

use crate::AppState;

/// Tiles rendered at once per overview (leaves the rest of the machine to requests).
const CONCURRENCY: usize = 2;

/// Seeds the overviews of `layers` in the background, one layer after another.
pub fn spawn(state: &AppState, layers: Vec<Arc<Layer>>) {
    if !state.overviews || layers.is_empty() {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        for l in layers {
            // A newer version may have been announced meanwhile.
            if state.layers.get(&l.name).map(|c| c.version) != Some(l.version) {
                continue;
            }
            let t0 = std::time::Instant::now();
            match tiles::seed_overview(&state.pool, l.clone(), CONCURRENCY).await {
                Ok(Some(r)) => tracing::info!(
                    layer = %l.name, version = l.version, tiles = r.tiles, bytes = r.bytes,
                    ms = t0.elapsed().as_millis() as u64, "overview stored"
                ),
                Ok(None) => {}
                Err(e) => tracing::warn!(layer = %l.name, error = %e, "overview not stored"),
            }
        }
    });
}
