//! Command-line interface: argument definitions and dispatch.

mod import;
mod keys;
mod serve;
mod tileset;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// Default database: the private cluster `make run` starts.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:55432/geokho";

#[derive(Parser, Debug)]
#[command(
    name = "geokho",
    version,
    about = "Shared GIS base map and spatial data warehouse for Vietnamese provinces"
)]
pub struct Cli {
    /// PostgreSQL URL.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Apply the migrations in seeds/ (every other command does this too).
    Migrate,
    /// Import shapefiles (files, directories) as a layer, or a manifest of layers.
    Import(Box<import::ImportArgs>),
    /// Restore the previous version of a layer.
    Rollback {
        /// Layer name.
        layer: String,
    },
    /// List published layers.
    Layers,
    /// Manage API keys (agency and admin access).
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Serve tiles, TileJSON and the catalog over HTTP.
    Serve(serve::ServeArgs),
    /// Pre-render tiles into the shared tile store (kept across restarts).
    Seed(tileset::Range),
    /// Write a PMTiles or MBTiles file of layers.
    Export(tileset::ExportArgs),
    /// Generate the sample province (deterministic).
    Samples {
        /// Output folder.
        #[arg(long, default_value = "data-samples")]
        out: PathBuf,
        /// Approximate number of parcels.
        #[arg(long, default_value_t = 5000)]
        parcels: usize,
        #[arg(long, default_value_t = 82)]
        seed: u64,
        /// Write all parcels to one file (benchmarks) instead of one per commune.
        #[arg(long)]
        one_parcel_file: bool,
        /// Number of warehouses (default: one per 25 parcels).
        #[arg(long)]
        warehouses: Option<usize>,
    },
}

/// Opens the pool and applies migrations, with a plain error when the database is unreachable.
pub async fn open_db(url: &str, opts: &catalog::DbOptions) -> anyhow::Result<sqlx::PgPool> {
    let pool = catalog::connect(url, opts)
        .await
        .with_context(|| format!("cannot connect to {} (is the cluster running? `make run` starts one; or set DATABASE_URL)", redact(url)))?;
    catalog::migrate(&pool)
        .await
        .context("applying migrations")?;
    Ok(pool)
}

/// The URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let user = &url[s + 3..at];
            let user = user.split(':').next().unwrap_or("");
            format!("{}{user}@{}", &url[..s + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Migrate => {
            open_db(&cli.database_url, &Default::default()).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Import(a) => import::run(&cli.database_url, *a).await,
        Command::Rollback { layer } => {
            let pool = open_db(&cli.database_url, &Default::default()).await?;
            let v = catalog::rollback(&pool, &layer).await?;
            println!("{layer}: previous version restored as version {v}");
            Ok(())
        }
        Command::Layers => {
            let pool = open_db(&cli.database_url, &Default::default()).await?;
            println!(
                "{:<16} {:<11} {:>9} {:>6} {:<20} {:>8}",
                "layer", "kind", "features", "srid", "geometry", "version"
            );
            for l in catalog::list_layers(&pool).await? {
                println!(
                    "{:<16} {:<11} {:>9} {:>6} {:<20} {:>8}",
                    l.name, l.kind, l.feature_count, l.srid, l.geometry_type, l.version
                );
            }
            Ok(())
        }
        Command::Keys(k) => keys::run(&cli.database_url, k).await,
        Command::Serve(a) => serve::run(&cli.database_url, a).await,
        Command::Seed(r) => tileset::seed(&cli.database_url, r).await,
        Command::Export(a) => tileset::export(&cli.database_url, a).await,
        Command::Samples {
            out,
            parcels,
            seed,
            one_parcel_file,
            warehouses,
        } => {
            let opts = samples::SampleOptions {
                parcels,
                seed,
                one_parcel_file,
                warehouses,
            };
            let s = samples::generate(&out, &opts)
                .with_context(|| format!("generating samples into {}", out.display()))?;
            println!(
                "{} parcels in {} communes, {} shapefiles in {}",
                s.parcels,
                s.communes,
                s.files.len(),
                out.display()
            );
            Ok(())
        }
    }
}
