//! Citizen field reports: `POST /reports` without a key (rate-limited per
//! client address), stored in layer `phan_anh`, which tiles and OGC API
//! Features serve with each report's status; `PATCH /reports/{id}` by an
//! officer's key (scope `reports` or `admin`) changes the status.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::caller::Caller;
use crate::{AppState, Problem};

/// Report categories.
pub const CATEGORIES: &[&str] = &[
    "dat_dai",
    "xay_dung",
    "moi_truong",
    "giao_thong",
    "ha_tang",
    "khac",
];
/// Where a report may be (WGS 84 west, south, east, north): Viet Nam with its
/// islands. Reports are stored in WGS 84 and served in VN-2000 zones too,
/// which cannot hold points from elsewhere.
pub const VIETNAM: [f64; 4] = [102.0, 6.0, 118.0, 24.0];
/// The layer of field reports (created by migration 0006).
const REPORTS_LAYER: &str = "phan_anh";

/// Reports one address may send per window.
const PER_WINDOW: u32 = 5;
const WINDOW: Duration = Duration::from_secs(60);

/// A fixed-window counter per client address.
#[derive(Default)]
pub struct RateLimiter {
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    /// `Ok` when `ip` may send now, else the seconds to wait.
    fn check(&self, ip: IpAddr) -> Result<(), u64> {
        let mut m = self.seen.lock().expect("rate limiter lock");
        let now = Instant::now();
        if m.len() > 100_000 {
            m.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let e = m.entry(ip).or_insert((now, 0));
        if now.duration_since(e.0) >= WINDOW {
            *e = (now, 0);
        }
        if e.1 >= PER_WINDOW {
            return Err((WINDOW - now.duration_since(e.0)).as_secs().max(1));
        }
        e.1 += 1;
        Ok(())
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    pub lon: f64,
    pub lat: f64,
    /// One of dat_dai, xay_dung, moi_truong, giao_thong, ha_tang, khac.
    pub loai: String,
    /// 1-2000 characters.
    pub noi_dung: String,
}

#[utoipa::path(post, path = "/reports", tag = "citizens", request_body = NewReport,
    responses((status = 201, description = "stored; Location names the feature", content_type = "application/json"),
              (status = 400, description = "invalid report", content_type = "application/problem+json"),
              (status = 413, description = "body over 16 KiB", content_type = "application/problem+json"),
              (status = 429, description = "too many reports from this address (Retry-After)", content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Json<NewReport>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, Problem> {
    let Json(r) = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::too_large("a report body may have at most 16 KiB")
        } else {
            Problem::bad_request("body", e.body_text())
        }
    })?;
    let text = r.checked()?;
    if let Err(wait) = s.reports.check(peer.ip()) {
        let mut resp = Problem::too_many(format!(
            "at most {PER_WINDOW} reports a minute from one address"
        ))
        .into_response();
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return Ok(resp);
    }
    let (fid, version) = store(&s, &r, text).await?;
    let mut resp = (
        StatusCode::CREATED,
        Json(json!({"id": fid, "trang_thai": "moi", "version": version})),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/ogc/collections/{REPORTS_LAYER}/items/{fid}")) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// Statuses a report may have.
pub const STATUSES: &[&str] = &["moi", "dang_xu_ly", "da_xu_ly", "tu_choi"];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// One of moi, dang_xu_ly, da_xu_ly, tu_choi.
    pub trang_thai: String,
}

impl NewReport {
    /// The report's text, trimmed, once the point lies in Viet Nam, the
    /// category is known and the text is 1-2000 characters without
    /// control characters; else a problem naming the field.
    fn checked(&self) -> Result<&str, Problem> {
        let r = self;
        let [w, s_, e, n] = VIETNAM;
        if !(r.lon.is_finite()
            && r.lat.is_finite()
            && (w..=e).contains(&r.lon)
            && (s_..=n).contains(&r.lat))
        {
            return Err(Problem::bad_request(
                "lon/lat",
                format!("the point must lie in Viet Nam (lon {w}-{e}, lat {s_}-{n}, WGS 84)"),
            ));
        }
        if !CATEGORIES.contains(&r.loai.as_str()) {
            return Err(Problem::bad_request(
                "loai",
                format!("loai must be one of {}", CATEGORIES.join(", ")),
            ));
        }
        let text = r.noi_dung.trim();
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(Problem::bad_request(
                "noi_dung",
                "noi_dung may not hold control characters",
            ));
        }
        if text.is_empty() || text.chars().count() > 2000 {
            return Err(Problem::bad_request(
                "noi_dung",
                "noi_dung must have 1-2000 characters",
            ));
        }
        Ok(text)
    }
}

/// Stores a checked report and publishes the layer's new version: (id, version).
async fn store(s: &AppState, r: &NewReport, text: &str) -> Result<(i64, i64), Problem> {
    let mut tx = s.pool.begin().await.map_err(Problem::internal)?;
    let fid: i64 = sqlx::query_scalar(&format!(
        "INSERT INTO {} (loai, noi_dung, geom) VALUES ($1, $2, ST_SetSRID(ST_MakePoint($3, $4), 4326)) RETURNING fid",
        catalog::live_table(REPORTS_LAYER)
    ))
    .bind(&r.loai)
    .bind(text)
    .bind(r.lon)
    .bind(r.lat)
    .fetch_one(&mut *tx)
    .await
    .map_err(Problem::internal)?;
    let version = catalog::republish(&mut tx, REPORTS_LAYER).await?;
    tx.commit().await.map_err(Problem::internal)?;
    Ok((fid, version))
}

#[utoipa::path(patch, path = "/reports/{id}", tag = "citizens", request_body = StatusChange,
    params(("id" = i64, Path, description = "report (feature) id")),
    security(("api_key" = [])),
    responses((status = 200, description = "the new status and layer version", content_type = "application/json"),
              (status = 400, description = "invalid status", content_type = "application/problem+json"),
              (status = 401, description = "no key, or an unknown or revoked key", content_type = "application/problem+json"),
              (status = 403, description = "the key lacks the reports scope", content_type = "application/problem+json"),
              (status = 404, description = "no such report", content_type = "application/problem+json")))]
pub async fn set_status(
    State(s): State<AppState>,
    who: Caller,
    axum::extract::Path(id): axum::extract::Path<String>,
    body: Result<Json<StatusChange>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, Problem> {
    who.require(
        keys::Access::may_handle_reports,
        "reports",
        "changing a report's status",
    )?;
    let key_name = who
        .0
        .key
        .as_ref()
        .map(|k| k.name.clone())
        .unwrap_or_default();
    let id: i64 = id
        .parse()
        .map_err(|_| Problem::not_found("no such report"))?;
    let Json(c) = body.map_err(|e| Problem::bad_request("body", e.body_text()))?;
    if !STATUSES.contains(&c.trang_thai.as_str()) {
        return Err(Problem::bad_request(
            "trang_thai",
            format!("trang_thai must be one of {}", STATUSES.join(", ")),
        ));
    }
    let mut tx = s.pool.begin().await.map_err(Problem::internal)?;
    let updated = sqlx::query(&format!(
        "UPDATE {} SET trang_thai = $1 WHERE fid = $2",
        catalog::live_table(REPORTS_LAYER)
    ))
    .bind(&c.trang_thai)
    .bind(id)
    .execute(&mut *tx)
    .await
    .map_err(Problem::internal)?
    .rows_affected();
    if updated == 0 {
        return Err(Problem::not_found(format!("no report {id}")));
    }
    let version = catalog::republish(&mut tx, REPORTS_LAYER).await?;
    tx.commit().await.map_err(Problem::internal)?;
    tracing::info!(report = id, status = %c.trang_thai, key = %key_name, "report status changed");
    Ok(Json(
        json!({"id": id, "trang_thai": c.trang_thai, "version": version}),
    ))
}
