//! Keeps this server current with the database: LISTENs (on the primary) for
//! published layer versions and hands them to `layer_sync`; and
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

async fn listen(state: &AppState) -> anyhow::Result<()> {
    let mut l = PgListener::connect_with(&state.pool).await?;
    l.listen_all([catalog::NOTIFY_CHANNEL, keys::KEYS_CHANNEL])
        .await?;
    crate::layer_sync::sync(state).await?;
    state.keys.invalidate_all();
    loop {
        match l.try_recv().await? {
            Some(n) if n.channel() == keys::KEYS_CHANNEL => {
                tracing::info!(payload = n.payload(), "API keys changed");
                state.keys.invalidate_all();
            }
            Some(n) => {
                tracing::info!(payload = n.payload(), "layer version published");
                crate::layer_sync::sync(state).await?;
            }
            // The connection dropped and was re-established: notifications may be lost.
            None => {
                crate::layer_sync::sync(state).await?;
                state.keys.invalidate_all();
            }
        }
    }
}
