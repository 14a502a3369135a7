//! `geokho serve`.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context;
use clap::Args;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Addresses to listen on, comma-separated (IPv4 and IPv6; `0.0.0.0,::`
    /// for every interface behind a proxy).
    #[arg(
        long,
        env = "GEOKHO_ADDR",
        default_value = "127.0.0.1,::1",
        value_delimiter = ','
    )]
    pub addr: Vec<IpAddr>,
    /// Port to listen on.
    #[arg(long, env = "GEOKHO_PORT", default_value_t = 8080)]
    pub port: u16,
    /// Public base URL used in links (when behind a proxy).
    #[arg(long, env = "GEOKHO_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// In-memory tile cache size in MiB.
    #[arg(long, env = "GEOKHO_CACHE_MB", default_value_t = 512)]
    pub cache_mb: u64,
    /// Database connections.
    #[arg(long, env = "GEOKHO_DB_POOL", default_value_t = 16)]
    pub pool: u32,
    /// Requests per second allowed from one client address (bursts of twice that).
    #[arg(long, env = "GEOKHO_RATE_IP", default_value_t = 200)]
    pub rate_ip: u32,
    /// Requests per second allowed with one API key (bursts of twice that).
    #[arg(long, env = "GEOKHO_RATE_KEY", default_value_t = 400)]
    pub rate_key: u32,
    /// Read replicas (streaming standbys of DATABASE_URL), comma-separated
    /// URLs: tiles and queries read from them; writes and NOTIFY stay on the primary.
    #[arg(long = "replica", env = "GEOKHO_REPLICA_URLS", value_delimiter = ',')]
    pub replicas: Vec<String>,
    /// Seconds a new layer version may wait for a replica to replay it
    /// before it is announced anyway (served from the primary meanwhile).
    #[arg(long, env = "GEOKHO_REPLICA_MAX_WAIT", default_value_t = 30)]
    pub replica_max_wait: u64,
    /// Statements that parcel-at-point look-ups and planning reports may run
    /// at once; look-ups queued when one frees share a statement (default: a
    /// quarter of --pool, at most the machine's cores, at least 2). They run
    /// on connections of their own, as many, that use generic plans.
    #[arg(long, env = "GEOKHO_LOOKUP_STATEMENTS")]
    pub lookup_statements: Option<usize>,
    /// Do not keep layer overviews (tiles up to z12) in the tile store.
    #[arg(long, env = "GEOKHO_NO_OVERVIEW")]
    pub no_overview: bool,
}

pub async fn run(url: &str, a: ServeArgs) -> anyhow::Result<()> {
    let opts = catalog::DbOptions {
        max_connections: a.pool,
        statement_timeout_ms: 10_000,
        short_queries: true,
        application_name: "geokho-serve",
    };
    let pool = super::open_db(url, &opts).await?;
    let cfg = api::ServeConfig {
        addrs: a
            .addr
            .iter()
            .map(|ip| SocketAddr::new(*ip, a.port))
            .collect(),
        public_url: a.public_url.clone(),
    };
    let base = a
        .public_url
        .unwrap_or_else(|| format!("http://{}", cfg.addrs[0]));
    println!("geokho serving on {base}\n  catalog:  {base}/catalog\n  tilejson: {base}/tiles/thua_dat.json\n  health:   {base}/health");
    let state = api::AppState::new(pool, cfg.public_url.clone(), a.cache_mb * 1024 * 1024)
        .await?
        .with_limits(api::RateLimits {
            per_ip: a.rate_ip,
            per_key: a.rate_key,
        })
        .with_overviews(!a.no_overview)
        .with_lookup_statements(a.lookup_statements)
        .with_replicas(
            api::Replicas::connect(
                &a.replicas,
                &opts,
                std::time::Duration::from_secs(a.replica_max_wait),
            )
            .context("--replica")?,
        );
    api::serve(state, &cfg).await
}
