//! Reference data loaded after the migrations: Viet Nam's administrative
//! units before and from 1 July 2025 and the crosswalk between them
//! (`seeds/admin_units/*.csv`, embedded; source and licence in its
//! `SOURCE.md`). Loaded in one transaction, again only when the embedded
//! files change (their sha256 is recorded in `geokho.reference_data`).

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use unicode_normalization::UnicodeNormalization;

use crate::CatalogError;

const PROVINCES_PRE2025: &str = include_str!("../../seeds/admin_units/provinces_pre2025.csv");
const COMMUNES_PRE2025: &str = include_str!("../../seeds/admin_units/communes_pre2025.csv");
const PROVINCES_2025: &str = include_str!("../../seeds/admin_units/provinces_2025.csv");
const COMMUNES_2025: &str = include_str!("../../seeds/admin_units/communes_2025.csv");
const CROSSWALK_2025: &str = include_str!("../../seeds/admin_units/crosswalk_2025.csv");

/// Unit types written before a unit's own name, with the usual
/// abbreviations ("TP.", "P.", "X.", "Q.", "H.", "TX.", "TT.").
const TYPES: &[&str] = &[
    "thành phố",
    "thị xã",
    "thị trấn",
    "đặc khu",
    "phường",
    "tỉnh",
    "huyện",
    "quận",
    "xã",
    "tp",
    "tx",
    "tt",
    "p",
    "x",
    "q",
    "h",
];

/// Whether `words` spell a unit type: with its tones, or typed without any
/// ("xa" for "xã"; but "Tịnh" is not "Tỉnh").
fn is_type(words: &[&str]) -> bool {
    let text = words.join(" ").to_lowercase();
    TYPES
        .iter()
        .any(|t| text == *t || (text.is_ascii() && fold(&text) == fold(t)))
}

/// A name folded for matching: a leading unit type dropped (when a name
/// follows it), no tones, lower case, only letters and digits (`đ` as `d`).
///
/// ```
/// use catalog::reference::fold_name;
/// assert_eq!(fold_name("Phường Mỹ Phong"), "myphong");
/// assert_eq!(fold_name("xa Tan My Chanh"), "tanmychanh");
/// assert_eq!(fold_name("tan my chanh"), "tanmychanh");
/// assert_eq!(fold_name("Thành phố Mỹ Tho"), "mytho");
/// assert_eq!(fold_name("TP. Mỹ Tho"), "mytho");
/// assert_eq!(fold_name("Đồng Tháp"), "dongthap");
/// assert_eq!(fold_name("Phường 9"), "9");
/// assert_eq!(fold_name("P.9"), "9");
/// assert_eq!(fold_name("Phường Tịnh Biên"), "tinhbien");
/// assert_eq!(fold_name("Tịnh Biên"), "tinhbien");
/// ```
pub fn fold_name(name: &str) -> String {
    let words: Vec<&str> = name
        .split(|c: char| c.is_whitespace() || c == '.')
        .filter(|w| !w.is_empty())
        .collect();
    for n in [2, 1] {
        if words.len() > n && is_type(&words[..n]) {
            return fold(&words[n..].concat());
        }
    }
    fold(&words.concat())
}

/// The keys a typed query may mean: [`fold_name`], and the whole text
/// folded when that differs ("tinh bien" is "Tỉnh Biên" or "Tịnh Biên").
pub fn query_keys(q: &str) -> Vec<String> {
    let mut keys = vec![fold_name(q)];
    let whole = fold(q);
    if !keys.contains(&whole) {
        keys.push(whole);
    }
    keys.retain(|k| !k.is_empty());
    keys
}

/// Lower case, tones and marks removed, only `a-z0-9`.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter_map(|c| match c {
            'đ' | 'Đ' => Some('d'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn digest() -> String {
    let mut h = Sha256::new();
    for f in [
        PROVINCES_PRE2025,
        COMMUNES_PRE2025,
        PROVINCES_2025,
        COMMUNES_2025,
        CROSSWALK_2025,
    ] {
        h.update(f.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// The rows of an embedded CSV (no quoting is used in these files).
fn rows(csv: &str) -> impl Iterator<Item = Vec<&str>> {
    csv.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').collect())
}

/// A text COPY field: `\N` for an empty value; these files hold no tabs,
/// backslashes or newlines.
fn field(v: &str) -> &str {
    if v.is_empty() {
        "\\N"
    } else {
        v
    }
}

/// `{w,s,e,n}` or NULL.
fn bounds(v: &[&str]) -> String {
    if v.iter().any(|x| x.is_empty()) {
        "\\N".into()
    } else {
        format!("{{{}}}", v.join(","))
    }
}

/// Loads the administrative units when the embedded files differ from what
/// the database holds (or it holds none). Concurrent callers wait for one.
pub async fn load_reference(pool: &PgPool) -> Result<(), CatalogError> {
    let sum = digest();
    let loaded: Option<String> =
        sqlx::query_scalar("SELECT sha256 FROM geokho.reference_data WHERE name = 'admin_units'")
            .fetch_optional(pool)
            .await?;
    if loaded.as_deref() == Some(sum.as_str()) {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('geokho-reference-data'))")
        .execute(&mut *tx)
        .await?;
    let again: Option<String> =
        sqlx::query_scalar("SELECT sha256 FROM geokho.reference_data WHERE name = 'admin_units'")
            .fetch_optional(&mut *tx)
            .await?;
    if again.as_deref() == Some(sum.as_str()) {
        return Ok(());
    }
    for t in ["admin_crosswalk", "admin_commune", "admin_province"] {
        sqlx::query(&format!("DELETE FROM geokho.{t}"))
            .execute(&mut *tx)
            .await?;
    }
    let mut provinces = String::new();
    for r in rows(PROVINCES_PRE2025) {
        provinces += &format!(
            "pre2025\t{}\t{}\t\\N\t\\N\t{}\n",
            r[0],
            r[1],
            bounds(&r[2..6])
        );
    }
    for r in rows(PROVINCES_2025) {
        provinces += &format!(
            "2025\t{}\t{}\t{}\t{}\t\\N\n",
            r[0],
            r[1],
            field(r[2]),
            field(r[3])
        );
    }
    let mut communes = String::new();
    for r in rows(COMMUNES_PRE2025) {
        communes += &format!(
            "pre2025\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t\\N\t{}\n",
            r[0],
            r[1],
            r[2],
            r[5],
            r[3],
            r[4],
            field(r[6]),
            field(r[7]),
            bounds(&r[8..12]),
            fold_name(r[1])
        );
    }
    for r in rows(COMMUNES_2025) {
        communes += &format!(
            "2025\t{}\t{}\t{}\t{}\t\\N\t\\N\t{}\t{}\t\\N\t{}\t{}\n",
            r[0],
            r[1],
            r[2],
            r[3],
            field(r[4]),
            field(r[5]),
            field(r[6]),
            fold_name(r[1])
        );
    }
    let mut crosswalk = String::new();
    for r in rows(CROSSWALK_2025) {
        crosswalk += &format!("{}\t{}\t{}\n", r[0], r[1], r[2]);
    }
    for (sql, data) in [
        (
            "COPY geokho.admin_province (generation, code, name, lon, lat, bounds) FROM STDIN",
            provinces,
        ),
        (
            "COPY geokho.admin_commune (generation, code, name, type, province_code, district_code, \
             district, lon, lat, bounds, area_km2, search_key) FROM STDIN",
            communes,
        ),
        (
            "COPY geokho.admin_crosswalk (old_code, new_code, whole) FROM STDIN",
            crosswalk,
        ),
    ] {
        let mut copy = tx.copy_in_raw(sql).await?;
        copy.send(data.into_bytes()).await?;
        copy.finish().await?;
    }
    sqlx::query(
        "INSERT INTO geokho.reference_data (name, sha256) VALUES ('admin_units', $1) \
         ON CONFLICT (name) DO UPDATE SET sha256 = EXCLUDED.sha256, loaded_at = now()",
    )
    .bind(&sum)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A province from 1 July 2025 and the former provinces (codes) whose
/// communes it took, from the embedded files (no database needed).
#[derive(Debug, Clone)]
pub struct Province2025 {
    pub code: String,
    pub name: String,
    pub former: Vec<String>,
}

/// The 34 provinces from 1 July 2025 with their former provinces.
///
/// ```
/// let p = catalog::reference::provinces_2025();
/// assert_eq!(p.len(), 34);
/// let dong_thap = p.iter().find(|p| p.name == "Tỉnh Đồng Tháp").unwrap();
/// assert_eq!(dong_thap.code, "82");
/// assert_eq!(dong_thap.former, ["82", "87"]); // Tiền Giang and Đồng Tháp
/// ```
pub fn provinces_2025() -> &'static [Province2025] {
    static P: std::sync::OnceLock<Vec<Province2025>> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        use std::collections::{BTreeSet, HashMap};
        let old_province: HashMap<&str, &str> =
            rows(COMMUNES_PRE2025).map(|r| (r[0], r[5])).collect();
        let new_province: HashMap<&str, &str> = rows(COMMUNES_2025).map(|r| (r[0], r[3])).collect();
        let mut former: HashMap<&str, BTreeSet<String>> = HashMap::new();
        for r in rows(CROSSWALK_2025) {
            if let (Some(o), Some(n)) = (old_province.get(r[0]), new_province.get(r[1])) {
                former.entry(n).or_default().insert(o.to_string());
            }
        }
        rows(PROVINCES_2025)
            .map(|r| Province2025 {
                code: r[0].to_string(),
                name: r[1].to_string(),
                former: former
                    .get(r[0])
                    .map(|s| s.iter().cloned().collect())
                    .unwrap_or_default(),
            })
            .collect()
    })
}
