//! Explicit state shared by handlers.

use std::sync::Arc;

use sqlx::PgPool;
use tiles::TileCache;

use crate::registry::Registry;

/// What every handler may use: one `Arc`, since axum clones the state for
/// every request (each middleware and extractor); cloning the fields one by
/// one cost ~7 % of the server's CPU on small look-ups.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields of [`AppState`].
#[derive(Clone)]
pub struct Shared {
    pub pool: PgPool,
    /// Public base URL for links (e.g. behind a proxy); derived from the
    /// request's Host header when `None`.
    pub public_url: Option<String>,
    /// Published layers, kept current by the NOTIFY listener.
    pub layers: Arc<Registry>,
    /// Shared with the tasks that purge and fill it.
    pub cache: Arc<TileCache>,
    /// Recent API key look-ups (dropped on every key change).
    pub keys: Arc<crate::caller::KeyCache>,
    /// Request budgets per address and per key.
    pub limits: Arc<crate::limits::Limiters>,
    /// Rate limit of anonymous field reports.
    pub reports: Arc<crate::routes::reports::RateLimiter>,
    /// Read replicas (none: the primary serves reads too).
    pub replicas: Arc<crate::replicas::Replicas>,
    /// Whether this server keeps layer overviews in the tile store (`overview`).
    pub overviews: bool,
    /// Road graphs, warehouse points and parcel boxes, by layer and
    /// version: what each layer's kind keeps in memory.
    pub memory: crate::memory::Memory,
    /// Parcel-at-point look-ups and planning reports, run together when
    /// they would wait.
    pub land: Arc<features::LandLookups>,
    /// The primary's pool for land look-ups (generic plans, one connection
    /// per look-up statement that may run at once).
    pub lookups: PgPool,
}

/// Default in-memory tile cache size.
pub const DEFAULT_CACHE_BYTES: u64 = 512 * 1024 * 1024;

impl AppState {
    /// Loads the layers; `cache_bytes` bounds the tile cache.
    pub async fn new(
        pool: PgPool,
        public_url: Option<String>,
        cache_bytes: u64,
    ) -> Result<AppState, catalog::CatalogError> {
        let layers = Arc::new(Registry::load(&pool).await?);
        let pool_size = pool.options().get_max_connections();
        let memory = crate::memory::Memory::default();
        for l in layers.all() {
            memory.build(&pool, &l).await;
        }
        let lookups = lookup_statements(pool_size, None);
        Ok(AppState(Arc::new(Shared {
            public_url,
            layers,
            cache: Arc::new(TileCache::new(cache_bytes)),
            keys: Arc::new(crate::caller::key_cache()),
            limits: crate::limits::Limiters::new(Default::default()),
            reports: Arc::default(),
            replicas: Arc::default(),
            overviews: false,
            memory,
            land: Arc::new(features::LandLookups::new(lookups)),
            lookups: catalog::generic_plan_pool(&pool, lookups as u32),
            pool,
        })))
    }

    /// The fields, to configure before serving (copied if already shared).
    fn edit(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }

    /// Replaces the request budgets (the defaults suit one province server).
    pub fn with_limits(mut self, l: crate::limits::RateLimits) -> Self {
        self.edit().limits = crate::limits::Limiters::new(l);
        self
    }

    /// Sets how many land look-up statements run at once (`None`: the
    /// default, see [`lookup_statements`]).
    pub fn with_lookup_statements(mut self, n: Option<usize>) -> Self {
        let pool_size = self.pool.options().get_max_connections();
        let n = lookup_statements(pool_size, n);
        let lookups = catalog::generic_plan_pool(&self.pool, n as u32);
        let shared = self.edit();
        shared.land = Arc::new(features::LandLookups::new(n));
        shared.lookups = lookups;
        self
    }

    /// Keeps every layer's overview (tiles up to z12) in the tile store.
    pub fn with_overviews(mut self, on: bool) -> Self {
        self.edit().overviews = on;
        self
    }

    /// Adds read replicas; tiles and queries read from them (see `replicas`).
    pub fn with_replicas(mut self, r: crate::replicas::Replicas) -> Self {
        self.edit().replicas = Arc::new(r);
        self
    }

    /// The pool a read-only request uses: an in-sync replica, else the primary.
    pub fn read(&self) -> &PgPool {
        self.replicas.pick(&self.pool)
    }

    /// The pool a land look-up uses: as `read()`, but the target's pool for
    /// look-ups (see `catalog::generic_plan_pool`).
    pub fn read_lookups(&self) -> &PgPool {
        let size = self.lookups.options().get_max_connections();
        self.replicas.pick_lookups(&self.lookups, size)
    }

    /// Runs a read with the pool of `read()`. When that was a replica and its
    /// connection failed, the replica is marked down and the read runs once
    /// more on the primary, so a standby stopping costs no failed request.
    pub async fn read_with<T, E, F, Fut>(&self, f: F) -> Result<T, E>
    where
        F: Fn(PgPool) -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
        E: crate::replicas::DbFailure,
    {
        let pool = self.read();
        match f(pool.clone()).await {
            Err(e) if e.db().is_some_and(|d| self.replicas.failed(pool, d)) => {
                f(self.pool.clone()).await
            }
            r => r,
        }
    }

    /// Starts the background tasks that follow layer and key changes (and,
    /// with replicas, their health): call once per server.
    pub fn follow_changes(&self) -> tokio::task::JoinHandle<()> {
        crate::overview::spawn(self, self.layers.all());
        tokio::spawn(crate::layer_sync::watch(
            self.clone(),
            std::time::Duration::from_secs(1),
        ));
        tokio::spawn(crate::listener::run(self.clone()))
    }
}

/// Land look-up statements at once: `n`, else a quarter of the pool's
/// connections but no more than this machine's cores (at least 2). Look-ups
/// beyond that share statements, and a shared statement costs the database
/// much less per look-up: more statements at once than cores only compete
/// for CPU (measured on 2 cores: 2 statements gave 7-12 % more look-ups/s
/// than 4, and 8 fewer still).
fn lookup_statements(pool_size: u32, n: Option<usize>) -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |c| c.get());
    n.unwrap_or_else(|| (pool_size as usize / 4).min(cores).max(2))
        .max(1)
}
