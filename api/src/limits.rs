//! Request rate limits: every client address has one budget, every API key
//! another (GCRA from the governor crate). Over budget: 429 problem+json
//! with Retry-After. Budgets live in this process: behind a load balancer
//! each server allows its share (docs/scaling.md).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::{AppState, Problem};

/// Requests per second (and bursts of twice that) per address and per key.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    pub per_ip: u32,
    pub per_key: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        // A map client opening a view asks for dozens of tiles at once.
        RateLimits {
            per_ip: 200,
            per_key: 400,
        }
    }
}

/// The limiters of one server.
pub struct Limiters {
    ip: DefaultKeyedRateLimiter<IpAddr>,
    key: DefaultKeyedRateLimiter<Vec<u8>>,
}

fn quota(per_second: u32) -> Quota {
    let r = NonZeroU32::new(per_second.max(1)).expect("at least 1");
    let burst = NonZeroU32::new(per_second.max(1).saturating_mul(2)).expect("at least 2");
    Quota::per_second(r).allow_burst(burst)
}

impl Limiters {
    pub fn new(l: RateLimits) -> Arc<Self> {
        Arc::new(Limiters {
            ip: RateLimiter::keyed(quota(l.per_ip)),
            key: RateLimiter::keyed(quota(l.per_key)),
        })
    }
}

fn too_many(what: &str, wait: std::time::Duration) -> Response {
    let mut r = Problem::too_many(format!("too many requests from this {what}; retry later"))
        .into_response();
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    metrics::counter!("geokho_rate_limited_total", "by" => what.to_string()).increment(1);
    r
}

/// Applies the address budget to every request and the key budget to
/// requests carrying a key.
pub async fn limit(State(s): State<AppState>, req: Request, next: Next) -> Response {
    // The clock is read only to answer a refusal: making a DefaultClock
    // (quanta) runs CPUID and took ~5% of the server's CPU when made for
    // every request.
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
        if let Err(not_until) = s.limits.ip.check_key(&peer.ip()) {
            return too_many(
                "address",
                not_until.wait_time_from(s.limits.ip.clock().now()),
            );
        }
    }
    if let Some(secret) = crate::caller::secret_of(req.headers(), req.uri()) {
        if let Err(not_until) = s.limits.key.check_key(&keys::hash_secret(&secret)) {
            return too_many("key", not_until.wait_time_from(s.limits.key.clock().now()));
        }
    }
    // Forget idle clients now and then so the maps stay small.
    if s.limits.ip.len() > 100_000 {
        s.limits.ip.retain_recent();
        s.limits.key.retain_recent();
    }
    next.run(req).await
}
