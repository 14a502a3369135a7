//! `geokho keys create|list|revoke`: API keys for agencies and admins. The
//! secret is printed once at creation; the database keeps only its hash.

use anyhow::Context;
use clap::Subcommand;

use super::open_db;

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create a key and print its secret (shown once).
    Create {
        /// Who holds the key, e.g. "Sở TN&MT Tiền Giang".
        #[arg(long)]
        name: String,
        /// Comma-separated: layers:<layer|*>, restricted:<layer|*>, reports, admin.
        #[arg(long)]
        scopes: String,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by id or by its listed prefix; every server refuses it at once.
    Revoke {
        /// Key id or prefix.
        key: String,
    },
}

pub async fn run(url: &str, cmd: KeysCommand) -> anyhow::Result<()> {
    let pool = open_db(url, &Default::default()).await?;
    match cmd {
        KeysCommand::Create { name, scopes } => {
            let scopes =
                keys::scope::parse_list(&scopes).map_err(|e| anyhow::anyhow!("--scopes: {e}"))?;
            let (id, secret) = keys::create(&pool, &name, &scopes)
                .await
                .context("creating the key")?;
            println!("key {id} for {name}: {secret}");
            println!("store it now: it cannot be shown again");
        }
        KeysCommand::List => {
            println!(
                "{:>5} {:<12} {:<30} {:<10} scopes",
                "id", "prefix", "name", "state"
            );
            for k in keys::list(&pool).await? {
                println!(
                    "{:>5} {:<12} {:<30} {:<10} {}",
                    k.id,
                    k.prefix,
                    k.name.chars().take(30).collect::<String>(),
                    if k.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    },
                    k.scopes.join(",")
                );
            }
        }
        KeysCommand::Revoke { key } => {
            let id = keys::revoke(&pool, &key).await?;
            println!("key {id} revoked");
        }
    }
    Ok(())
}
