//! Keeps this server current with the database: LISTENs for published layer
//! versions, refreshes the registry and purges the layer's cached tiles; and
//! for API key changes, dropping cached key look-ups. After
//! a lost connection it reloads everything, since notifications may have been
//! missed. Tile cache keys hold versions, so correctness never depends on a
//! purge arriving: purging only frees memory at once.

use std::time::Duration;

use sqlx::postgres::PgListener;

use crate::AppState;

/// Runs until the process ends.
pub async fn run(state: AppState) {
    loop {
        if let Err(e) = listen(&state).await {
            tracing::warn!(error = %e, "layer change listener lost the database; retrying");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Drops what this server and the shared store hold of older versions of `layer`.
async fn purge(state: &AppState, layer: &str) -> anyhow::Result<()> {
    state.cache.purge_layer(layer);
    if let Some(l) = state.layers.get(layer) {
        tiles::tile_store::purge_stale(&state.pool, layer, l.version).await?;
    }
    Ok(())
}

async fn catch_up(state: &AppState) -> anyhow::Result<()> {
    for name in state.layers.reload(&state.pool).await? {
        purge(state, &name).await?;
    }
    Ok(())
}

async fn listen(state: &AppState) -> anyhow::Result<()> {
    let mut l = PgListener::connect_with(&state.pool).await?;
    l.listen_all([catalog::NOTIFY_CHANNEL, keys::KEYS_CHANNEL])
        .await?;
    catch_up(state).await?;
    state.keys.invalidate_all();
    loop {
        match l.try_recv().await? {
            Some(n) if n.channel() == keys::KEYS_CHANNEL => {
                tracing::info!(payload = n.payload(), "API keys changed");
                state.keys.invalidate_all();
            }
            Some(n) => {
                let layer = n
                    .payload()
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                tracing::info!(payload = n.payload(), "layer version published");
                state.layers.refresh(&state.pool, &layer).await?;
                purge(state, &layer).await?;
            }
            // The connection dropped and was re-established: notifications may be lost.
            None => {
                catch_up(state).await?;
                state.keys.invalidate_all();
            }
        }
    }
}
