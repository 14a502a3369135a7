//! Who is calling: an extractor turning `Authorization: Bearer <key>` or
//! `?key=<key>` (map clients put keys in tile URLs) into a [`keys::Access`].
//! No key is anonymous; an unknown or revoked key is a 401, never a silent
//! downgrade. Look-ups are cached briefly per server and dropped on every
//! key change (NOTIFY), so a revoked key stops working everywhere at once.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, HeaderMap, Uri};
use catalog::{Field, Layer};
use keys::{Access, KeyInfo};
use moka::future::Cache;

use crate::{AppState, Problem};

/// Cached key look-ups: SHA-256 of the secret -> the key (None: not valid).
pub type KeyCache = Cache<Vec<u8>, Option<KeyInfo>>;

pub fn key_cache() -> KeyCache {
    Cache::builder()
        .max_capacity(10_000)
        .time_to_live(Duration::from_secs(30))
        .build()
}

/// The caller of a request.
pub struct Caller(pub Access);

/// The key a request carries, if any (`Authorization: Bearer` first, then
/// `?key=`); an Authorization header of another scheme reads as an empty key.
pub fn secret_of(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v.to_str().ok()?;
        return v
            .strip_prefix("Bearer ")
            .map(|s| s.trim().to_string())
            .or(Some(String::new()));
    }
    uri.query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("key="))
            .map(|k| k.to_string())
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Problem> {
        let Some(secret) = secret_of(&parts.headers, &parts.uri) else {
            return Ok(Caller(Access::anonymous()));
        };
        let hash = keys::hash_secret(&secret);
        let pool = s.pool.clone();
        let found = s
            .keys
            .try_get_with(hash, async move { keys::lookup(&pool, &secret).await })
            .await
            .map_err(|e| Problem::internal_dyn(e.as_ref()))?;
        match found {
            Some(k) => Ok(Caller(Access::with_key(k))),
            None => Err(Problem::unauthorized(
                "the API key is unknown or revoked (send it as Authorization: Bearer <key> or ?key=)",
            )),
        }
    }
}

impl Caller {
    /// `Ok` when the caller's key passes `allowed`: 401 without a key, 403
    /// naming `scope` with a key that lacks it.
    pub fn require(
        &self,
        allowed: impl Fn(&Access) -> bool,
        scope: &str,
        why: &str,
    ) -> Result<(), Problem> {
        match &self.0.key {
            None => Err(Problem::unauthorized(format!(
                "{why} needs a key with the {scope} scope"
            ))),
            Some(k) if !allowed(&self.0) => Err(Problem::forbidden(format!(
                "key '{}' lacks the {scope} scope",
                k.name
            ))),
            Some(_) => Ok(()),
        }
    }

    /// Published layers this caller may read.
    pub fn readable(&self, s: &AppState) -> Vec<Arc<Layer>> {
        s.layers
            .all()
            .into_iter()
            .filter(|l| self.0.can_read(l))
            .collect()
    }

    /// The fields of `l` this caller may see.
    pub fn visible<'a>(&self, l: &'a Layer) -> Vec<&'a Field> {
        self.0.visible_fields(l)
    }

    /// Writes an audit entry when `fields` holds restricted ones: the key
    /// read personal data of `l` through `action`.
    pub async fn audit(
        &self,
        s: &AppState,
        action: &str,
        l: &Layer,
        fields: &[&Field],
        detail: Option<String>,
    ) -> Result<(), Problem> {
        let restricted = Access::restricted_names(fields);
        match &self.0.key {
            Some(k) if !restricted.is_empty() => {
                keys::audit(&s.pool, k, action, &l.name, &restricted, detail.as_deref())
                    .await
                    .map_err(Problem::internal)
            }
            _ => Ok(()),
        }
    }
}
