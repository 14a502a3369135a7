//! How a new catalog on the primary becomes what this server announces.
//!
//! Every path that learns of a new layer version (a NOTIFY, a reconnect, a
//! client asking for a version we do not know yet, the replica watch) calls
//! [`sync`]. Without replicas the new catalog is announced at once. With
//! replicas it is announced once one healthy replica holds it, or at once
//! when none is healthy, or after `max_wait`; replicas not holding exactly
//! the announced versions stop serving until they do, reads falling back to
//! the primary. Replicas are marked *before* the registry changes, so no
//! request can read a replica's older tables under the newer version's
//! ETag. Probing and announcing are serialised so a slow probe cannot mark
//! a replica in sync against versions that are no longer announced.

use std::time::Duration;

use crate::registry::Versions;
use crate::AppState;

/// Brings the registry up to the primary's catalog (when allowed) and drops
/// cached tiles of the versions replaced. Returns the layers that changed.
pub async fn sync(state: &AppState) -> anyhow::Result<Vec<String>> {
    let r = &state.replicas;
    let _one_at_a_time = r.sync.lock().await;
    let fresh = catalog::list_layers(&state.pool).await?;
    let want: Versions = fresh.iter().map(|l| (l.name.clone(), l.version)).collect();
    let current = state.layers.versions();
    let seen = r.probe_all().await;
    let announce = want == current
        || r.is_empty()
        || seen.iter().all(Option::is_none)
        || seen.iter().flatten().any(|v| *v == want)
        || r.waited_too_long();
    if !announce {
        r.mark(&seen, &current);
        tracing::info!("a new layer version waits for a replica to replay it");
        return Ok(Vec::new());
    }
    r.mark(&seen, &want);
    r.clear_pending();
    let changed = state.layers.install(fresh);
    for name in &changed {
        purge(state, name).await?;
    }
    crate::overview::spawn(
        state,
        changed.iter().filter_map(|n| state.layers.get(n)).collect(),
    );
    // What the new versions keep in memory is built now rather than by
    // the first request that sees them.
    for l in changed.iter().filter_map(|n| state.layers.get(n)) {
        state.memory.spawn_build(&state.pool, &l);
    }
    Ok(changed)
}

/// Drops what this server and the shared store hold of older versions of `layer`.
async fn purge(state: &AppState, layer: &str) -> anyhow::Result<()> {
    state.cache.purge_layer(layer);
    if let Some(l) = state.layers.get(layer) {
        tiles::tile_store::purge_stale(&state.pool, layer, l.version).await?;
    }
    Ok(())
}

/// With replicas: probes them every `every` (every 50 ms while a new
/// version waits for them, so it is announced as soon as one has replayed
/// it), re-admitting those that caught up. Runs until the process ends.
pub async fn watch(state: AppState, every: Duration) {
    if state.replicas.is_empty() {
        return;
    }
    loop {
        let pause = if state.replicas.is_pending() {
            Duration::from_millis(50)
        } else {
            every
        };
        tokio::time::sleep(pause).await;
        if let Err(e) = sync(&state).await {
            tracing::warn!(error = %e, "replica check failed (primary unreachable?)");
            // Without the primary the announced versions stand: replicas
            // holding them keep serving, the others do not.
            let seen = state.replicas.probe_all().await;
            state.replicas.mark(&seen, &state.layers.versions());
        }
    }
}
