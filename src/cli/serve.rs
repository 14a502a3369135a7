//! `geokho serve`.

use std::net::{IpAddr, SocketAddr};

use clap::Args;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "GEOKHO_ADDR", default_value = "127.0.0.1")]
    pub addr: IpAddr,
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
        addr: SocketAddr::new(a.addr, a.port),
        public_url: a.public_url.clone(),
    };
    let base = a
        .public_url
        .unwrap_or_else(|| format!("http://{}", cfg.addr));
    println!("geokho serving on {base}\n  catalog:  {base}/catalog\n  tilejson: {base}/tiles/thua_dat.json\n  health:   {base}/health");
    let state = api::AppState::new(pool, cfg.public_url.clone(), a.cache_mb * 1024 * 1024).await?;
    api::serve(state, &cfg).await
}
