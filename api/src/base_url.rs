//! The absolute base URL of the service as the client sees it.

use axum::http::HeaderMap;

/// `public_url` when configured; otherwise built from the Host header
/// (and X-Forwarded-Proto behind a proxy).
pub fn base_url(public_url: Option<&str>, headers: &HeaderMap) -> String {
    if let Some(u) = public_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(axum::http::header::HOST))
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("127.0.0.1");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or("http");
    format!("{proto}://{host}")
}
