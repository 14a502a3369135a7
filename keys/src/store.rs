//! Keys in the database: create (the secret is returned once, only its
//! SHA-256 is stored), list, revoke, look up; and the audit log. Every
//! change NOTIFYs [`KEYS_CHANNEL`] so all servers drop cached look-ups.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::scope::Scope;
use crate::KeyInfo;

/// NOTIFY channel announcing a created or revoked key.
pub const KEYS_CHANNEL: &str = "geokho_keys_changed";
const SECRET_PREFIX: &str = "gk_";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{0}")]
    Invalid(String),
    #[error("no key {0}")]
    NotFound(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// A key as listed (never with its secret).
#[derive(Debug, Clone, Serialize)]
pub struct KeyRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// SHA-256 of a secret. Secrets are 160 random bits, so a fast hash is safe.
///
/// ```
/// assert_eq!(keys::hash_secret("gk_x").len(), 32);
/// assert_ne!(keys::hash_secret("gk_x"), keys::hash_secret("gk_y"));
/// ```
pub fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn new_secret() -> Result<String, KeyError> {
    let mut b = [0u8; 20];
    getrandom::getrandom(&mut b)
        .map_err(|e| KeyError::Invalid(format!("no randomness available: {e}")))?;
    Ok(format!("{SECRET_PREFIX}{}", hex::encode(b)))
}

async fn notify(pool: &PgPool, what: &str) -> Result<(), KeyError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(KEYS_CHANNEL)
        .bind(what)
        .execute(pool)
        .await?;
    Ok(())
}

/// Creates a key; returns its id and the secret (shown once).
pub async fn create(
    pool: &PgPool,
    name: &str,
    scopes: &[Scope],
) -> Result<(i64, String), KeyError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(KeyError::Invalid("--name: 1-200 characters".into()));
    }
    if scopes.is_empty() {
        return Err(KeyError::Invalid(
            "--scopes: give at least one scope".into(),
        ));
    }
    let secret = new_secret()?;
    let scopes: Vec<String> = scopes.iter().map(Scope::to_string).collect();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO geokho.api_keys (name, prefix, hash, scopes) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(name)
    .bind(&secret[..SECRET_PREFIX.len() + 6])
    .bind(hash_secret(&secret))
    .bind(&scopes)
    .fetch_one(pool)
    .await?;
    notify(pool, &format!("created:{id}")).await?;
    Ok((id, secret))
}

/// Every key, newest first.
pub async fn list(pool: &PgPool) -> Result<Vec<KeyRow>, KeyError> {
    type Row = (
        i64,
        String,
        String,
        Vec<String>,
        chrono::DateTime<chrono::Utc>,
        Option<chrono::DateTime<chrono::Utc>>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, name, prefix, scopes, created_at, revoked_at FROM geokho.api_keys ORDER BY id DESC",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| KeyRow {
            id: r.0,
            name: r.1,
            prefix: r.2,
            scopes: r.3,
            created_at: r.4,
            revoked_at: r.5,
        })
        .collect())
}

/// Revokes the key with id `id` (a number) or prefix `gk_...`.
pub async fn revoke(pool: &PgPool, which: &str) -> Result<i64, KeyError> {
    let id: Option<i64> = match which.parse::<i64>() {
        Ok(id) => {
            sqlx::query_scalar(
                "UPDATE geokho.api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING id",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        }
        Err(_) => {
            let ids: Vec<i64> =
                sqlx::query_scalar("SELECT id FROM geokho.api_keys WHERE prefix = $1")
                    .bind(which)
                    .fetch_all(pool)
                    .await?;
            if ids.len() > 1 {
                return Err(KeyError::Invalid(format!(
                    "prefix {which} names {} keys: revoke by id",
                    ids.len()
                )));
            }
            match ids.first() {
                Some(id) => Box::pin(revoke(pool, &id.to_string())).await.ok(),
                None => None,
            }
        }
    };
    let id = id.ok_or_else(|| KeyError::NotFound(which.to_string()))?;
    notify(pool, &format!("revoked:{id}")).await?;
    Ok(id)
}

/// The valid key whose secret is `secret`, if any.
pub async fn lookup(pool: &PgPool, secret: &str) -> Result<Option<KeyInfo>, KeyError> {
    if !secret.starts_with(SECRET_PREFIX) || secret.len() > 100 {
        return Ok(None);
    }
    let row: Option<(i64, String, Vec<String>)> = sqlx::query_as(
        "SELECT id, name, scopes FROM geokho.api_keys WHERE hash = $1 AND revoked_at IS NULL",
    )
    .bind(hash_secret(secret))
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(id, name, scopes)| KeyInfo {
        id,
        name,
        // Scopes were validated when written; an unknown one grants nothing.
        scopes: scopes.iter().filter_map(|s| s.parse().ok()).collect(),
    }))
}

/// Records that `key` read restricted `fields` of `layer` through `action`
/// (e.g. the route and what was asked).
pub async fn audit(
    pool: &PgPool,
    key: &KeyInfo,
    action: &str,
    layer: &str,
    fields: &[String],
    detail: Option<&str>,
) -> Result<(), KeyError> {
    sqlx::query(
        "INSERT INTO geokho.audit_log (key_id, key_name, action, layer, fields, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(key.id)
    .bind(&key.name)
    .bind(action)
    .bind(layer)
    .bind(fields)
    .bind(detail)
    .execute(pool)
    .await?;
    Ok(())
}
