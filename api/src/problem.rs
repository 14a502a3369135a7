//! RFC 9457 problem details, the body of every error response.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A problem+json error response.
#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
}

impl Problem {
    fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: "about:blank",
            title,
            status: status.as_u16(),
            detail: detail.into(),
            parameter: None,
        }
    }

    /// 400 naming the parameter at fault.
    pub fn bad_request(parameter: &str, detail: impl Into<String>) -> Problem {
        Problem {
            parameter: Some(parameter.to_string()),
            ..Problem::new(StatusCode::BAD_REQUEST, "Bad Request", detail)
        }
    }

    /// 413 for a request body over its limit.
    pub fn too_large(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "Content Too Large", detail)
    }

    /// 429; the caller adds Retry-After.
    pub fn too_many(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests", detail)
    }

    /// 401 for a missing, unknown or revoked key (WWW-Authenticate added).
    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "Unauthorized", detail)
    }

    /// 403 for a valid key without the scope needed.
    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "Forbidden", detail)
    }

    /// 503 (Retry-After added) for a server that cannot serve yet.
    pub fn unavailable(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
            detail,
        )
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "Not Found", detail)
    }

    /// 503 when the error comes from a database that cannot be reached or a
    /// query cancelled by the server's statement_timeout (decided by type:
    /// the `sqlx::Error` found in the error's source chain, its variant and
    /// SQLSTATE); anything else is a 500 whose detail is logged, not shown.
    pub fn internal(e: impl std::error::Error + 'static) -> Problem {
        Problem::internal_dyn(&e)
    }

    /// [`Problem::internal`] of a borrowed error.
    pub fn internal_dyn(e: &(dyn std::error::Error + 'static)) -> Problem {
        match db_trouble(e) {
            Some(DbTrouble::Timeout) => {
                tracing::warn!(error = %e, "query cancelled by statement_timeout");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service Unavailable",
                    "the query ran past the server's time limit (statement_timeout); \
                     narrow the request (bbox, limit, filter) or retry shortly",
                )
            }
            Some(DbTrouble::Unavailable) => {
                tracing::warn!(error = %e, "database unavailable");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service Unavailable",
                    "the database is unavailable; retry shortly",
                )
            }
            None => {
                tracing::error!(error = %e, "internal error");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal Server Error",
                    "an internal error occurred",
                )
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut r = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"geokho\""),
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        }
        r
    }
}

/// Whether a database error was caused by values the caller sent (bound
/// parameters): SQLSTATE class 22 (bad dates, NUL bytes, LIKE escapes,
/// numeric overflow) or a PROJ/GEOS failure on the caller's coordinates or
/// geometry.
pub fn user_data_error(e: &sqlx::Error) -> Option<String> {
    let sqlx::Error::Database(d) = e else {
        return None;
    };
    let code = d.code().unwrap_or_default();
    let msg = d.message();
    const GEO: &[&str] = &[
        "transform",
        "projection domain",
        "Invalid coordinate",
        "requires more points",
        "IllegalArgumentException",
        "latitude or longitude exceeded",
        "tolerance condition",
    ];
    (code.starts_with("22") || (code == "XX000" && GEO.iter().any(|g| msg.contains(g))))
        .then(|| msg.chars().take(200).collect())
}

impl Problem {
    /// A database error: 400 naming `parameter` when the caller's values
    /// caused it, else 500/503.
    pub fn from_db_at(e: sqlx::Error, parameter: &str) -> Problem {
        match user_data_error(&e) {
            Some(m) => Problem::bad_request(
                parameter,
                format!("{parameter}: the database refused the value ({m})"),
            ),
            None => Problem::internal(e),
        }
    }
}

impl From<catalog::CatalogError> for Problem {
    fn from(e: catalog::CatalogError) -> Self {
        Problem::internal(e)
    }
}

impl Problem {
    /// A tile render error shared by coalesced requests (so borrowed).
    pub fn from_tile_error(e: &tiles::TileError) -> Problem {
        match e {
            tiles::TileError::BadCoord(..) => Problem::bad_request("z/x/y", e.to_string()),
            tiles::TileError::Db(db) => match user_data_error(db) {
                Some(m) => Problem::bad_request(
                    "filter",
                    format!("filter: the database refused the value ({m})"),
                ),
                None => Problem::internal_dyn(db),
            },
        }
    }
}

impl From<tiles::TileError> for Problem {
    fn from(e: tiles::TileError) -> Self {
        match e {
            tiles::TileError::BadCoord(..) => Problem::bad_request("z/x/y", e.to_string()),
            // The filter is the only caller text that reaches a tile query.
            tiles::TileError::Db(db) => Problem::from_db_at(db, "filter"),
        }
    }
}

/// Why a database could not answer, when that is the cause of an error.
#[derive(Debug, PartialEq, Eq)]
enum DbTrouble {
    /// statement_timeout cancelled the query (SQLSTATE 57014).
    Timeout,
    /// No connection: pool exhausted or closed, I/O, TLS, or the server
    /// refusing or ending sessions (SQLSTATE class 08, 57P01-57P03, 53300).
    Unavailable,
}

/// The database trouble behind `e`: the first `sqlx::Error` in its source
/// chain, classified by variant and SQLSTATE.
fn db_trouble(e: &(dyn std::error::Error + 'static)) -> Option<DbTrouble> {
    let mut cur = Some(e);
    while let Some(x) = cur {
        if let Some(db) = x.downcast_ref::<sqlx::Error>() {
            return match db {
                sqlx::Error::Database(d) => match d.code().as_deref() {
                    Some("57014") => Some(DbTrouble::Timeout),
                    Some(c)
                        if c.starts_with("08")
                            || ["57P01", "57P02", "57P03", "53300"].contains(&c) =>
                    {
                        Some(DbTrouble::Unavailable)
                    }
                    _ => None,
                },
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed => Some(DbTrouble::Unavailable),
                _ => None,
            };
        }
        cur = x.source();
    }
    None
}

#[cfg(test)]
mod trouble_tests {
    use super::*;

    #[test]
    fn database_trouble_is_found_by_type_through_wrappers() {
        let io = || sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(db_trouble(&io()), Some(DbTrouble::Unavailable));
        let wrapped = catalog::CatalogError::Db(sqlx::Error::PoolTimedOut);
        assert_eq!(db_trouble(&wrapped), Some(DbTrouble::Unavailable));
        let wrapped = features::FeaturesError::Db(io());
        assert_eq!(Problem::internal(wrapped).status, 503);
        // A message that merely mentions a connection is not one.
        let text = std::io::Error::other("connection string has a typo");
        assert_eq!(db_trouble(&text), None);
        assert_eq!(Problem::internal_dyn(&text).status, 500);
        assert_eq!(db_trouble(&sqlx::Error::RowNotFound), None);
    }
}
