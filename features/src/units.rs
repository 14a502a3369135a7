//! Administrative units of both generations: the communes and provinces
//! before 1 July 2025 (`pre2025`, with districts) and from it (`2025`), and
//! what each became or was formed from (`catalog::reference` loads them).
//!
//! A code means nothing without its generation (most new communes took the
//! code of one of their former communes), so every unit answered carries
//! its generation, and a code given without one is answered in both.

use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

use crate::FeaturesError;

/// The two generations of administrative units.
pub const GENERATIONS: [&str; 2] = ["pre2025", "2025"];

/// Most units one look-up answers.
pub const MAX_UNITS: i64 = 20;

/// One commune or province of one generation, with its counterparts in the
/// other generation.
#[derive(Debug, Serialize)]
pub struct Unit {
    pub level: &'static str,
    pub generation: String,
    pub code: String,
    pub name: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province: Option<Value>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// pre2025: the 2025 units it went into; 2025: the former units it was
    /// formed from. `whole`: false when the former unit was split.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub became: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formed_from: Option<Value>,
}

type CommuneRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Value,
    Option<f64>,
    Option<f64>,
    Value,
);

/// The commune columns and the other generation's counterparts as JSON.
const COMMUNE_SELECT: &str = "\
    SELECT c.generation, c.code, c.name, c.type, c.district, \
           json_build_object('code', p.code, 'name', p.name), c.lon, c.lat, \
           CASE WHEN c.generation = 'pre2025' THEN \
             (SELECT coalesce(json_agg(json_build_object('code', n.code, 'name', n.name, \
                     'province', np.name, 'whole', x.whole) ORDER BY n.code), '[]') \
              FROM geokho.admin_crosswalk x \
              JOIN geokho.admin_commune n ON n.generation = '2025' AND n.code = x.new_code \
              JOIN geokho.admin_province np ON np.generation = '2025' AND np.code = n.province_code \
              WHERE x.old_code = c.code) \
           ELSE \
             (SELECT coalesce(json_agg(json_build_object('code', o.code, 'name', o.name, \
                     'district', o.district, 'province', op.name, 'whole', x.whole) ORDER BY o.code), '[]') \
              FROM geokho.admin_crosswalk x \
              JOIN geokho.admin_commune o ON o.generation = 'pre2025' AND o.code = x.old_code \
              JOIN geokho.admin_province op ON op.generation = 'pre2025' AND op.code = o.province_code \
              WHERE x.new_code = c.code) \
           END \
    FROM geokho.admin_commune c \
    JOIN geokho.admin_province p ON p.generation = c.generation AND p.code = c.province_code";

fn commune(r: CommuneRow) -> Unit {
    let pre = r.0 == "pre2025";
    Unit {
        level: "commune",
        generation: r.0,
        code: r.1,
        name: r.2,
        kind: Some(r.3),
        district: r.4,
        province: Some(r.5),
        lon: r.6,
        lat: r.7,
        became: pre.then(|| r.8.clone()),
        formed_from: (!pre).then_some(r.8),
    }
}

/// Units whose code is `q` (digits) or whose name matches `q` (tones,
/// case, the unit type and spaces ignored; exact names first, then names
/// starting with it), in `generation` or both. Communes first, then
/// provinces; at most [`MAX_UNITS`].
///
/// An unknown generation is a bad parameter; nothing found is `NotFound`
/// naming `q`.
pub async fn find_units(
    pool: &PgPool,
    q: &str,
    generation: Option<&str>,
) -> Result<Vec<Unit>, FeaturesError> {
    if let Some(g) = generation.filter(|g| !GENERATIONS.contains(g)) {
        return Err(FeaturesError::BadParameter(
            "generation",
            format!(
                "unknown generation '{}': use pre2025 (units until 30 June 2025) or 2025",
                g.chars().take(16).collect::<String>()
            ),
        ));
    }
    let q = q.trim();
    if q.is_empty() || q.chars().count() > 100 {
        return Err(FeaturesError::BadParameter(
            "q",
            "q: give a unit's code or name (1-100 characters)".into(),
        ));
    }
    let gens: Vec<&str> = match generation {
        Some(g) => vec![g],
        None => GENERATIONS.to_vec(),
    };
    let found = if q.chars().all(|c| c.is_ascii_digit()) {
        by_code(pool, q, &gens).await?
    } else {
        by_name(pool, q, &gens).await?
    };
    if found.is_empty() {
        return Err(FeaturesError::NotFound(format!(
            "no administrative unit {} '{}'{}",
            if q.chars().all(|c| c.is_ascii_digit()) {
                "with code"
            } else {
                "named"
            },
            q.chars().take(100).collect::<String>(),
            generation
                .map(|g| format!(" in generation {g}"))
                .unwrap_or_default()
        )));
    }
    Ok(found)
}

async fn by_code(pool: &PgPool, q: &str, gens: &[&str]) -> Result<Vec<Unit>, FeaturesError> {
    // Commune codes have five digits (three for the island districts that
    // had no communes), province codes two: "4" is commune 00004.
    let codes: Vec<String> = [5usize, 3, 2]
        .iter()
        .filter(|w| q.len() <= **w)
        .map(|w| format!("{q:0>w$}"))
        .collect();
    let rows: Vec<CommuneRow> = sqlx::query_as(&format!(
        "{COMMUNE_SELECT} WHERE c.code = ANY($1) AND c.generation = ANY($2) \
         ORDER BY c.generation DESC, c.code"
    ))
    .bind(&codes)
    .bind(gens)
    .fetch_all(pool)
    .await?;
    let mut out: Vec<Unit> = rows.into_iter().map(commune).collect();
    out.extend(provinces(pool, gens, |code, _| codes.iter().any(|c| c == code)).await?);
    Ok(out)
}

async fn by_name(pool: &PgPool, q: &str, gens: &[&str]) -> Result<Vec<Unit>, FeaturesError> {
    let keys = catalog::reference::query_keys(q);
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let prefixes: Vec<String> = keys.iter().map(|k| format!("{k}%")).collect();
    let rows: Vec<CommuneRow> = sqlx::query_as(&format!(
        "{COMMUNE_SELECT} WHERE c.generation = ANY($3) \
         AND (c.search_key = ANY($1) OR c.search_key LIKE ANY($2)) \
         ORDER BY (c.search_key = ANY($1)) DESC, c.generation DESC, c.search_key, c.code LIMIT {MAX_UNITS}"
    ))
    .bind(&keys)
    .bind(&prefixes)
    .bind(gens)
    .fetch_all(pool)
    .await?;
    let mut out: Vec<Unit> = rows.into_iter().map(commune).collect();
    out.extend(
        provinces(pool, gens, |_, name| {
            let k = catalog::reference::fold_name(name);
            keys.iter().any(|q| k == *q || k.starts_with(q.as_str()))
        })
        .await?,
    );
    out.truncate(MAX_UNITS as usize);
    Ok(out)
}

type ProvinceRow = (String, String, String, Option<f64>, Option<f64>, Value);

/// The provinces of `gens` that `keep(code, name)` accepts, with the
/// provinces of the other generation their communes went into or came from.
async fn provinces(
    pool: &PgPool,
    gens: &[&str],
    keep: impl Fn(&str, &str) -> bool,
) -> Result<Vec<Unit>, FeaturesError> {
    let all: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT generation, code, name FROM geokho.admin_province WHERE generation = ANY($1)",
    )
    .bind(gens)
    .fetch_all(pool)
    .await?;
    let wanted: Vec<String> = all
        .iter()
        .filter(|(_, code, name)| keep(code, name))
        .map(|(g, code, _)| format!("{g}:{code}"))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<ProvinceRow> = sqlx::query_as(
        "SELECT p.generation, p.code, p.name, p.lon, p.lat, \
           CASE WHEN p.generation = 'pre2025' THEN \
             (SELECT coalesce(json_agg(DISTINCT jsonb_build_object('code', np.code, 'name', np.name)), '[]') \
              FROM geokho.admin_commune o \
              JOIN geokho.admin_crosswalk x ON x.old_code = o.code \
              JOIN geokho.admin_commune n ON n.generation = '2025' AND n.code = x.new_code \
              JOIN geokho.admin_province np ON np.generation = '2025' AND np.code = n.province_code \
              WHERE o.generation = 'pre2025' AND o.province_code = p.code) \
           ELSE \
             (SELECT coalesce(json_agg(DISTINCT jsonb_build_object('code', op.code, 'name', op.name)), '[]') \
              FROM geokho.admin_commune n \
              JOIN geokho.admin_crosswalk x ON x.new_code = n.code \
              JOIN geokho.admin_commune o ON o.generation = 'pre2025' AND o.code = x.old_code \
              JOIN geokho.admin_province op ON op.generation = 'pre2025' AND op.code = o.province_code \
              WHERE n.generation = '2025' AND n.province_code = p.code) \
           END \
         FROM geokho.admin_province p WHERE p.generation || ':' || p.code = ANY($1) \
         ORDER BY p.generation DESC, p.code",
    )
    .bind(&wanted)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let pre = r.0 == "pre2025";
            Unit {
                level: "province",
                generation: r.0,
                code: r.1,
                name: r.2,
                kind: None,
                district: None,
                province: None,
                lon: r.3,
                lat: r.4,
                became: pre.then(|| r.5.clone()),
                formed_from: (!pre).then_some(r.5),
            }
        })
        .collect())
}
