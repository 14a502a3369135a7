//! Read replicas: PostgreSQL streaming standbys that serve tiles and queries
//! while the primary takes every write (imports, field reports, keys, audit,
//! the tile store) and sends the NOTIFYs.
//!
//! A replica serves only while it holds exactly the layer versions this
//! server announces, so replication lag can never put an older version's
//! data under a newer version's ETag. Which replicas are in that state is
//! decided in `layer_sync`; this file holds the members, their probes and
//! the round-robin choice, falling back to the primary when none is usable.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::registry::Versions;

/// How long a probe may take before its replica counts as down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What a probe found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicaState {
    /// Unreachable, or it did not answer within the probe timeout.
    Down,
    /// Answers, but its layer versions differ from what this server announces.
    Behind,
    /// Holds exactly the announced versions: serves reads.
    InSync,
}

impl ReplicaState {
    fn from_u8(v: u8) -> ReplicaState {
        match v {
            2 => ReplicaState::InSync,
            1 => ReplicaState::Behind,
            _ => ReplicaState::Down,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReplicaState::Down => "down",
            ReplicaState::Behind => "behind",
            ReplicaState::InSync => "in_sync",
        }
    }
}

/// One standby.
pub struct Replica {
    /// host:port, for logs, /ready and metrics (never the password).
    pub label: String,
    pool: PgPool,
    /// Land look-ups' pool on this standby (generic plans; made on first use).
    lookups: std::sync::OnceLock<PgPool>,
    /// One connection of its own, so probes never queue behind request load.
    probe: PgPool,
    state: AtomicU8,
}

impl Replica {
    pub fn state(&self) -> ReplicaState {
        ReplicaState::from_u8(self.state.load(Ordering::Acquire))
    }

    fn set(&self, s: ReplicaState) {
        let old = ReplicaState::from_u8(self.state.swap(s as u8, Ordering::AcqRel));
        if old != s {
            tracing::info!(replica = %self.label, from = old.as_str(), to = s.as_str(), "replica state");
        }
    }

    /// The layer versions this replica holds, or `None` when it is down.
    async fn versions(&self) -> Option<Versions> {
        let q = sqlx::query_as::<_, (String, i64)>("SELECT name, version FROM geokho.layers")
            .fetch_all(&self.probe);
        match tokio::time::timeout(PROBE_TIMEOUT, q).await {
            Ok(Ok(rows)) => Some(rows.into_iter().collect()),
            Ok(Err(e)) => {
                tracing::debug!(replica = %self.label, error = %e, "replica probe failed");
                None
            }
            Err(_) => None,
        }
    }
}

/// The replicas of one server (none: everything reads from the primary).
#[derive(Default)]
pub struct Replicas {
    members: Vec<Replica>,
    next: AtomicUsize,
    /// Serialises probing and announcing (see `layer_sync`).
    pub(crate) sync: tokio::sync::Mutex<()>,
    /// Since when a newer catalog waits on the primary for a replica to have it.
    pending_since: Mutex<Option<Instant>>,
    /// Longest wait before announcing anyway (reads then fall back to the primary).
    pub max_wait: Duration,
}

impl Replicas {
    /// Pools for `urls` (connected on first use; a replica down at start is
    /// only skipped). `opts` are the serving pool's settings.
    pub fn connect(
        urls: &[String],
        opts: &catalog::DbOptions,
        max_wait: Duration,
    ) -> Result<Replicas, catalog::CatalogError> {
        let probe_opts = catalog::DbOptions {
            max_connections: 1,
            statement_timeout_ms: PROBE_TIMEOUT.as_millis() as u64,
            ..opts.clone()
        };
        let mut members = Vec::with_capacity(urls.len());
        for url in urls {
            members.push(Replica {
                label: label(url),
                pool: catalog::connect_lazy(url, opts, Duration::from_secs(3))?,
                lookups: Default::default(),
                probe: catalog::connect_lazy(url, &probe_opts, PROBE_TIMEOUT)?,
                state: AtomicU8::new(ReplicaState::Down as u8),
            });
        }
        Ok(Replicas {
            members,
            max_wait,
            ..Default::default()
        })
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn members(&self) -> &[Replica] {
        &self.members
    }

    /// The pool for a read: the next in-sync replica's, else the primary.
    pub fn pick<'a>(&'a self, primary: &'a PgPool) -> &'a PgPool {
        self.pick_member().map_or(primary, |m| &m.pool)
    }

    /// The pool for land look-ups (see `catalog::generic_plan_pool`): the
    /// next in-sync replica's (made with up to `size` connections on first
    /// use), else `primary`, the primary's.
    pub fn pick_lookups<'a>(&'a self, primary: &'a PgPool, size: u32) -> &'a PgPool {
        self.pick_member().map_or(primary, |m| {
            m.lookups
                .get_or_init(|| catalog::generic_plan_pool(&m.pool, size))
        })
    }

    /// The next in-sync replica, counted as the read's target (`None`: the primary).
    fn pick_member(&self) -> Option<&Replica> {
        let n = self.members.len();
        if n > 0 {
            let start = self.next.fetch_add(1, Ordering::Relaxed);
            for i in 0..n {
                let m = &self.members[(start + i) % n];
                if m.state() == ReplicaState::InSync {
                    metrics::counter!("geokho_db_reads_total", "target" => m.label.clone())
                        .increment(1);
                    return Some(m);
                }
            }
        }
        metrics::counter!("geokho_db_reads_total", "target" => "primary").increment(1);
        None
    }

    /// After a read on `pool` failed with `e`: when `pool` is a replica's and
    /// the failure is its connection (the standby stopped or restarts), marks
    /// it down at once and returns true, so the caller retries on the primary.
    pub fn failed(&self, pool: &PgPool, e: &sqlx::Error) -> bool {
        let Some(m) = self.members.iter().find(|m| {
            std::ptr::eq(&m.pool, pool) || m.lookups.get().is_some_and(|l| std::ptr::eq(l, pool))
        }) else {
            return false;
        };
        if !connection_lost(e) {
            return false;
        }
        tracing::warn!(replica = %m.label, error = %e, "read failed on a replica; retrying on the primary");
        m.set(ReplicaState::Down);
        true
    }

    /// Every replica's versions, probed at once (`None`: down).
    pub(crate) async fn probe_all(&self) -> Vec<Option<Versions>> {
        futures::future::join_all(self.members.iter().map(Replica::versions)).await
    }

    /// Marks each replica against the versions about to be (or being) announced.
    pub(crate) fn mark(&self, seen: &[Option<Versions>], announced: &Versions) {
        for (m, v) in self.members.iter().zip(seen) {
            m.set(match v {
                None => ReplicaState::Down,
                Some(v) if v == announced => ReplicaState::InSync,
                Some(_) => ReplicaState::Behind,
            });
        }
    }

    /// Records that a newer catalog waits; true once it has waited `max_wait`.
    pub(crate) fn waited_too_long(&self) -> bool {
        let mut p = self.pending_since.lock().expect("replica lock");
        p.get_or_insert_with(Instant::now).elapsed() >= self.max_wait
    }

    /// Whether a newer catalog waits for a replica.
    pub fn is_pending(&self) -> bool {
        self.pending_since.lock().expect("replica lock").is_some()
    }

    pub(crate) fn clear_pending(&self) {
        *self.pending_since.lock().expect("replica lock") = None;
    }
}

/// Whether `e` means the server went away rather than the query failing:
/// I/O, pool exhaustion or closure, SQLSTATE class 08 (connection
/// exception) and 57P01-57P03 (admin shutdown, crash, cannot connect now).
fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

/// `host:port` of a database URL, without user or password.
fn label(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest).to_string()
}

/// Errors that may carry a database error (to tell a lost replica).
pub trait DbFailure {
    fn db(&self) -> Option<&sqlx::Error>;
}

impl DbFailure for tiles::TileError {
    fn db(&self) -> Option<&sqlx::Error> {
        match self {
            tiles::TileError::Db(e) => Some(e),
            _ => None,
        }
    }
}

impl DbFailure for features::FeaturesError {
    fn db(&self) -> Option<&sqlx::Error> {
        match self {
            features::FeaturesError::Db(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Land look-ups go to an in-sync standby's look-up pool (made once,
    /// with generic plans and its size), else to the primary's; a lost
    /// connection on it marks the standby down like one on its main pool.
    #[tokio::test]
    async fn look_ups_read_from_an_in_sync_standby() {
        let opts = catalog::DbOptions::default();
        let r = Replicas::connect(
            &["postgres://postgres@127.0.0.1:9/geokho".to_string()],
            &opts,
            Duration::from_secs(1),
        )
        .unwrap();
        let primary =
            catalog::connect_lazy("postgres://127.0.0.1:9/p", &opts, Duration::from_secs(1))
                .unwrap();
        assert!(
            std::ptr::eq(r.pick_lookups(&primary, 3), &primary),
            "a standby down"
        );
        r.members[0].set(ReplicaState::InSync);
        let got = r.pick_lookups(&primary, 3);
        let made = r.members[0].lookups.get().expect("made on first use");
        assert!(std::ptr::eq(got, made));
        assert!(std::ptr::eq(r.pick_lookups(&primary, 3), made), "made once");
        assert_eq!(made.options().get_max_connections(), 3);
        assert!(made
            .connect_options()
            .get_options()
            .unwrap_or_default()
            .contains("plan_cache_mode=force_generic_plan"));
        assert!(std::ptr::eq(r.pick(&primary), &r.members[0].pool));
        assert!(!r.failed(made, &sqlx::Error::RowNotFound));
        assert_eq!(r.members[0].state(), ReplicaState::InSync);
        assert!(r.failed(
            made,
            &sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into())
        ));
        assert_eq!(r.members[0].state(), ReplicaState::Down);
        assert!(std::ptr::eq(r.pick_lookups(&primary, 3), &primary));
    }

    #[test]
    fn labels_hide_credentials() {
        assert_eq!(
            label("postgres://u:secret@10.0.0.5:5433/geokho?sslmode=require"),
            "10.0.0.5:5433"
        );
        assert_eq!(label("postgres://127.0.0.1/geokho"), "127.0.0.1");
    }
}
