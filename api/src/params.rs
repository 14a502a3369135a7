//! Parsing of query parameters shared by several routes; each error is a
//! 400 problem naming the parameter.

use sqlfilter::FilterLang;

use crate::Problem;

/// `filter-lang`: `cql2-text` (default) or `cql2-json`.
pub fn filter_lang(v: Option<&str>) -> Result<FilterLang, Problem> {
    match v {
        None | Some("cql2-text") => Ok(FilterLang::Cql2Text),
        Some("cql2-json") => Ok(FilterLang::Cql2Json),
        Some(other) => Err(Problem::bad_request(
            "filter-lang",
            format!(
                "unknown filter-lang '{}': use cql2-text or cql2-json",
                other.chars().take(32).collect::<String>()
            ),
        )),
    }
}

/// A comma-separated list of numbers, e.g. `bbox`.
pub fn numbers(name: &str, v: &str) -> Result<Vec<f64>, Problem> {
    v.split(',')
        .map(|p| {
            p.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    Problem::bad_request(
                        name,
                        format!(
                            "{name} must be comma-separated numbers, got '{}'",
                            v.chars().take(64).collect::<String>()
                        ),
                    )
                })
        })
        .collect()
}

/// A non-negative integer parameter (tile numbers, limit, offset).
pub fn non_negative_int<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, Problem> {
    v.parse().map_err(|_| {
        Problem::bad_request(
            name,
            format!(
                "{name} must be a non-negative integer, got '{}'",
                v.chars().take(32).collect::<String>()
            ),
        )
    })
}

/// `(lon, lat)` when both are within WGS 84's range; else a 400 naming
/// `name`.
pub fn check_lon_lat(name: &'static str, lon: f64, lat: f64) -> Result<(f64, f64), Problem> {
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(Problem::bad_request(
            name,
            "lon must be within ±180 and lat within ±90",
        ));
    }
    Ok((lon, lat))
}

/// Query parameters deserialised into `T` (axum's `Query`, with a
/// rejection that is a 400 problem naming the parameter at fault).
pub struct Q<T>(pub T);

impl<T> std::ops::Deref for Q<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S> for Q<T> {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Problem> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(Q).map_err(|e| {
            let path = e.path().to_string();
            let param = if path == "." { "query" } else { path.as_str() };
            let why = e.inner().to_string();
            // [`Num`] and [`Int`] say "must be ...": "lon must be a number".
            let sep = if why.starts_with("must") { " " } else { ": " };
            Problem::bad_request(param, format!("{param}{sep}{why}"))
        })
    }
}

/// A finite number in a query (`lon=106.35`): text, NaN and infinities
/// are refused ("must be a number").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Num(pub f64);

impl<'de> serde::Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Num)
            .ok_or_else(|| serde::de::Error::custom("must be a number"))
    }
}

/// An integer in a query (`fid=12`, `srid=9210`, `limit=10`): anything
/// else is refused ("must be an integer").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int(pub i64);

impl<'de> serde::Deserialize<'de> for Int {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        s.trim()
            .parse::<i64>()
            .map(Int)
            .map_err(|_| serde::de::Error::custom("must be an integer"))
    }
}

/// `limit`: 1..=`max`, `default` when absent.
pub fn limit_in(limit: Option<Int>, max: u32, default: u32) -> Result<u32, Problem> {
    match limit {
        Some(Int(n)) => u32::try_from(n)
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| Problem::bad_request("limit", format!("limit must be 1-{max}"))),
        None => Ok(default),
    }
}
