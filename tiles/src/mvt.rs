//! The SQL of one table layer's tile and the rendering of (composite) tiles.
//!
//! Like martin: one prepared `ST_AsMVT` query per layer and zoom band over the
//! Web Mercator column, clipped to the tile with a 64-pixel buffer; feature
//! ids from `fid`; `ST_AsMVTGeom` runs once per feature (the subquery is kept
//! apart with `OFFSET 0`: flattened, a `geom IS NOT NULL` filter on it would
//! run it twice). Unlike martin: below zoom 14 the query reads a geometry
//! simplified for the band (prepared at import) and skips features smaller
//! than a pixel (`zmin`), and a layer over its share of the tile's byte
//! budget is rendered with only its largest features, as many as fit. A
//! layer expected to be far over (from its feature density and the bytes per
//! feature of earlier tiles) is rendered limited at once, so a z12 tile of a
//! million parcels never encodes them all. Names come from the catalog
//! (quoted); tile numbers and filter values are bound parameters.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use catalog::{quote_ident, Field, FieldType, Layer, FID_COLUMN, GEOM_3857_COLUMN, MINZOOM_COLUMN};
use sqlx::PgPool;

use crate::{TileCoord, TileError};
use sqlfilter::{Param, SqlFilter};

/// Tile extent and buffer in tile units.
pub const EXTENT: i32 = 4096;
pub const BUFFER: i32 = 64;
/// Bytes a tile may have; a bigger one is rendered again with fewer features.
pub const TILE_BUDGET: usize = 500 * 1024;
/// Number of the first filter parameter ($1..$4 are z, x, y and the size threshold).
pub const FIRST_FILTER_PARAM: usize = 5;

/// One layer of a tile: the catalog layer, the fields to include, a filter.
#[derive(Debug, Clone)]
pub struct TileLayer<'a> {
    pub layer: &'a Layer,
    pub fields: Vec<&'a Field>,
    pub filter: Option<SqlFilter>,
}

fn column(f: &Field) -> String {
    let q = quote_ident(&f.name);
    match f.field_type {
        // ST_AsMVT encodes text, numbers and booleans; dates travel as ISO text.
        FieldType::Date => format!("{q}::text AS {q}"),
        _ => q,
    }
}

/// The SQL of one layer's tile at zoom `z`; `$1..$3` = z, x, y, `$4` = the
/// largest `zmin` (feature size threshold) to include, then filter values.
/// Returns the MVT, the number of features in it and the number of rows
/// read (features clipped away included). With `limit`, only that many
/// features: the largest first (`zmin`), spread over the tile within a size
/// class (a hash of `fid`, not its order, which follows the data's order);
/// the choice sorts narrow rows and `ST_AsMVTGeom` runs on the chosen ones only.
pub fn layer_tile_sql(t: &TileLayer<'_>, z: u8, limit: Option<u32>) -> String {
    let p = parts(t, z, limit);
    format!(
        "SELECT ST_AsMVT(q, {name}, {EXTENT}, 'geom', {fid}), count(*) FILTER (WHERE q.geom IS NOT NULL), count(*) FROM (\
           SELECT {cols}, ST_AsMVTGeom({geom}, ST_TileEnvelope($1, $2, $3), {EXTENT}, {BUFFER}, true) AS geom \
           FROM {table} WHERE {cond} OFFSET 0\
         ) q",
        name = sql_literal(&t.layer.name),
        fid = sql_literal(FID_COLUMN),
        cols = p.cols,
        geom = p.geom,
        table = p.table,
        cond = p.cond,
    )
}

/// The rows of one layer's tile for encoding in Rust (`encode`): the same
/// choice of rows as [`layer_tile_sql`], with `fid`, the fields and the
/// Web Mercator geometry column itself (binary results: PostGIS sends EWKB).
pub fn layer_rows_sql(t: &TileLayer<'_>, z: u8, limit: Option<u32>) -> String {
    let p = parts(t, z, limit);
    format!(
        "SELECT {cols}, {geom} FROM {table} WHERE {cond}",
        cols = p.cols,
        geom = p.geom,
        table = p.table,
        cond = p.cond,
    )
}

/// Columns, geometry column, table and condition of a layer's tile query.
struct Parts {
    cols: String,
    geom: String,
    table: String,
    cond: String,
}

fn parts(t: &TileLayer<'_>, z: u8, limit: Option<u32>) -> Parts {
    let mut cols: Vec<String> = vec![quote_ident(FID_COLUMN)];
    cols.extend(t.fields.iter().map(|f| column(f)));
    let full = quote_ident(GEOM_3857_COLUMN);
    let zmin = quote_ident(MINZOOM_COLUMN);
    let (geom, band_cond) = match catalog::band_for_zoom(z) {
        Some((max, col)) if catalog::generalizes(&t.layer.geometry_type) => {
            // The literal bound lets the planner use the band's partial index.
            (
                catalog::band_or_full(&quote_ident(col)),
                format!(" AND {zmin} <= {max}"),
            )
        }
        _ => (full.clone(), String::new()),
    };
    let filter = t
        .filter
        .as_ref()
        .map(|f| format!(" AND {}", f.sql))
        .unwrap_or_default();
    let table = catalog::live_table(&t.layer.name);
    let mut cond = format!(
        "{full} && ST_TileEnvelope($1, $2, $3, margin => {margin}){band_cond} AND {zmin} <= $4{filter}",
        margin = f64::from(BUFFER) / f64::from(EXTENT),
    );
    if let Some(n) = limit {
        cond = format!(
            "ctid = ANY(ARRAY(SELECT ctid FROM {table} WHERE {cond} ORDER BY {zmin}, hashint8({fid}) LIMIT {n}))",
            fid = quote_ident(FID_COLUMN)
        );
    }
    Parts {
        cols: cols.join(", "),
        geom,
        table,
        cond,
    }
}

/// A literal for a catalog name (already `[a-z0-9_]`); never for user text.
fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// One layer's part of a tile: MVT bytes, features in it, rows read.
struct Rendered {
    bytes: Vec<u8>,
    features: i64,
    rows: i64,
}

async fn render_layer(
    pool: &PgPool,
    t: &TileLayer<'_>,
    c: TileCoord,
    max_zmin: i32,
    limit: Option<u32>,
) -> Result<Rendered, TileError> {
    if encodes_in_rust(t, c.z) {
        return render_layer_rust(pool, t, c, max_zmin, limit).await;
    }
    let sql = layer_tile_sql(t, c.z, limit);
    let (bytes, features, rows): (Option<Vec<u8>>, i64, i64) =
        sqlx::query_as_with(&sql, tile_args(t, c, max_zmin)?)
            .fetch_one(pool)
            .await?;
    let bytes = if features == 0 {
        Vec::new()
    } else {
        bytes.unwrap_or_default()
    };
    Ok(Rendered {
        bytes,
        features,
        rows,
    })
}

/// Whether tile `z` of `t` is encoded here rather than by `ST_AsMVT`: from
/// z14, where tiles read full-detail geometry (no generalised band) and the
/// database's clipping and encoding cost most (docs/benchmarks.md).
fn encodes_in_rust(t: &TileLayer<'_>, z: u8) -> bool {
    z >= RUST_ENCODING_FROM
        && (catalog::band_for_zoom(z).is_none() || !catalog::generalizes(&t.layer.geometry_type))
}

/// First zoom encoded in Rust.
pub const RUST_ENCODING_FROM: u8 = 14;

/// z, x, y, the size threshold and the filter values, as bound parameters.
fn tile_args(
    t: &TileLayer<'_>,
    c: TileCoord,
    max_zmin: i32,
) -> Result<sqlx::postgres::PgArguments, TileError> {
    use sqlx::Arguments;
    let mut a = sqlx::postgres::PgArguments::default();
    let bad = |e: sqlx::error::BoxDynError| TileError::Db(sqlx::Error::Encode(e));
    a.add(i32::from(c.z)).map_err(bad)?;
    a.add(c.x as i32).map_err(bad)?;
    a.add(c.y as i32).map_err(bad)?;
    a.add(max_zmin).map_err(bad)?;
    for p in t.filter.iter().flat_map(|f| f.params.iter()) {
        match p {
            Param::Text(s) => a.add(s.clone()),
            Param::Float(x) => a.add(*x),
            Param::Bool(b) => a.add(*b),
        }
        .map_err(bad)?;
    }
    Ok(a)
}

async fn render_layer_rust(
    pool: &PgPool,
    t: &TileLayer<'_>,
    c: TileCoord,
    max_zmin: i32,
    limit: Option<u32>,
) -> Result<Rendered, TileError> {
    use futures::TryStreamExt;
    let sql = layer_rows_sql(t, c.z, limit);
    let keys: Vec<&str> = t.fields.iter().map(|f| f.name.as_str()).collect();
    let mut enc = crate::encode::LayerEncoder::new(
        &t.layer.name,
        crate::encode::TileFrame {
            bounds: c.bounds_3857(),
            extent: EXTENT as u32,
            buffer: BUFFER as u32,
        },
        &keys,
    );
    let n = t.fields.len();
    let mut rows = 0i64;
    // Rows are encoded as they arrive: no tile's worth of rows is held.
    let mut stream = sqlx::query_with(&sql, tile_args(t, c, max_zmin)?).fetch(pool);
    while let Some(row) = stream.try_next().await? {
        rows += 1;
        let Some(wkb) = raw_bytes(&row, n + 1)? else {
            continue;
        };
        let fid = int8(&row, 0)?;
        for (i, f) in t.fields.iter().enumerate() {
            if let Some(v) = value(&row, i + 1, f.field_type)? {
                enc.set(i, v);
            }
        }
        enc.add(fid.and_then(|v| u64::try_from(v).ok()), wkb);
    }
    let features = enc.len();
    Ok(Rendered {
        bytes: enc.finish(),
        features,
        rows,
    })
}

/// Column `i` as the bytes PostgreSQL sent (binary format), None for NULL.
/// Used for bytea and text: text arrives as UTF-8 (the client encoding), and
/// the tile carries those bytes as they are.
fn raw_bytes(row: &sqlx::postgres::PgRow, i: usize) -> Result<Option<&[u8]>, sqlx::Error> {
    use sqlx::{Row, ValueRef};
    let v = row.try_get_raw(i)?;
    if v.is_null() {
        return Ok(None);
    }
    v.as_bytes()
        .map(Some)
        .map_err(|e| sqlx::Error::ColumnDecode {
            index: i.to_string(),
            source: e,
        })
}

fn int8(row: &sqlx::postgres::PgRow, i: usize) -> Result<Option<i64>, sqlx::Error> {
    use sqlx::Row;
    row.try_get(i)
}

/// Column `i` of `row` as an MVT value, typed as `ST_AsMVT` types it.
fn value(
    row: &sqlx::postgres::PgRow,
    i: usize,
    ty: FieldType,
) -> Result<Option<crate::encode::Value<'_>>, sqlx::Error> {
    use crate::encode::Value;
    use sqlx::Row;
    Ok(match ty {
        FieldType::Text | FieldType::Date => raw_bytes(row, i)?.map(Value::Text),
        FieldType::Int4 => row
            .try_get::<Option<i32>, _>(i)?
            .map(|v| Value::Int(v.into())),
        FieldType::Int8 => row.try_get::<Option<i64>, _>(i)?.map(Value::Int),
        FieldType::Float8 => row.try_get::<Option<f64>, _>(i)?.map(Value::Double),
        FieldType::Bool => row.try_get::<Option<bool>, _>(i)?.map(Value::Bool),
    })
}

/// Bytes per feature assumed for a layer and zoom before any tile of it was
/// rendered (parcels with their attributes: ~90).
const DEFAULT_FEATURE_BYTES: f64 = 64.0;
/// Fewer features than this say little about bytes per feature.
const MIN_FEATURES_TO_LEARN: i64 = 100;
/// A limited render under this share of the budget is extended.
const EXTEND_BELOW: f64 = 0.6;
/// Aim this far under the budget when choosing how many features fit.
const MARGIN: f64 = 0.9;

/// Layer name, zoom, number of fields: what bytes per feature are learnt by.
type FeatureBytesKey = (String, u8, usize);

/// Bytes per feature of recent tiles (moving average), per layer, zoom and
/// number of fields, in this process.
fn feature_bytes() -> &'static Mutex<HashMap<FeatureBytesKey, f64>> {
    static M: OnceLock<Mutex<HashMap<FeatureBytesKey, f64>>> = OnceLock::new();
    M.get_or_init(Mutex::default)
}

fn feature_bytes_key(t: &TileLayer<'_>, z: u8) -> FeatureBytesKey {
    (t.layer.name.clone(), z, t.fields.len())
}

fn learned_feature_bytes(key: &FeatureBytesKey) -> f64 {
    feature_bytes()
        .lock()
        .ok()
        .and_then(|m| m.get(key).copied())
        .unwrap_or(DEFAULT_FEATURE_BYTES)
}

fn learn_feature_bytes(key: &FeatureBytesKey, r: &Rendered) {
    if r.features < MIN_FEATURES_TO_LEARN {
        return;
    }
    let bpf = r.bytes.len() as f64 / r.features as f64;
    if let Ok(mut m) = feature_bytes().lock() {
        let e = m.entry(key.clone()).or_insert(bpf);
        *e = 0.7 * *e + 0.3 * bpf;
    }
}

/// Features of `layer` expected in tile `c`: its feature count times the
/// share of its bounds the tile covers (even density). `None` without bounds.
fn expected_features(layer: &Layer, c: TileCoord) -> Option<f64> {
    let [w, s, e, n] = layer.bounds?;
    let [tw, ts, te, tn] = c.bounds();
    let ix = (e.min(te) - w.max(tw)).max(0.0);
    let iy = (n.min(tn) - s.max(ts)).max(0.0);
    let area = (e - w) * (n - s);
    let count = layer.feature_count.max(0) as f64;
    if area <= 0.0 {
        let inside = w <= te && e >= tw && s <= tn && n >= ts;
        return Some(if inside { count } else { 0.0 });
    }
    Some(count * ((ix * iy) / area).min(1.0))
}

/// How many features of `r` fit in `share` bytes (with a margin), at least 1.
fn fitting(r: &Rendered, share: usize) -> u32 {
    let per = r.bytes.len().max(1) as f64 / r.features.max(1) as f64;
    ((share as f64) * MARGIN / per)
        .floor()
        .clamp(1.0, f64::from(u32::MAX)) as u32
}

/// Renders tile `c` of `layers`, concatenating each layer's MVT bytes
/// (protobuf messages of repeated layers concatenate into one tile). Each
/// layer gets an equal share of `budget` bytes (normally [`TILE_BUDGET`]);
/// over it, the layer is rendered again with only its largest features, as
/// many as the share should hold (estimated from bytes per feature), until
/// it fits. A layer expected to exceed its share (feature density times
/// bytes per feature) is rendered with that limit from the start, and again
/// with a higher one if the limit cut it well below the share. Features
/// smaller than a pixel were already left out by `zmin`.
pub async fn render(
    pool: &PgPool,
    layers: &[TileLayer<'_>],
    c: TileCoord,
    budget: usize,
) -> Result<Vec<u8>, TileError> {
    let share = budget / layers.len().max(1);
    let mut out = Vec::new();
    for t in layers {
        if i32::from(c.z) < t.layer.minzoom || i32::from(c.z) > t.layer.maxzoom {
            continue;
        }
        let name = t.layer.name.as_str();
        let cap = i32::from(c.z);
        let key = feature_bytes_key(t, c.z);
        let bpf = learned_feature_bytes(&key);
        let mut limit = expected_features(t.layer, c)
            .filter(|n| n * bpf > share as f64)
            .map(|_| ((share as f64) * MARGIN / bpf).max(1.0) as u32);
        let mut r = render_layer(pool, t, c, cap, limit).await?;
        learn_feature_bytes(&key, &r);
        for _ in 0..6 {
            let next = if r.bytes.len() > share && r.features > 1 {
                // Keep a proportional share of the features, with a margin.
                let keep = fitting(&r, share).min(r.features as u32 - 1);
                tracing::debug!(layer = %name, z = c.z, x = c.x, y = c.y, size = r.bytes.len(), features = r.features, keep, "tile over budget");
                Some(keep)
            } else {
                match limit {
                    // The limit left features out and much room: allow more.
                    Some(l)
                        if r.rows >= i64::from(l)
                            && (r.bytes.len() as f64) < share as f64 * EXTEND_BELOW =>
                    {
                        let more = fitting(&r, share);
                        if more <= l {
                            break;
                        }
                        tracing::debug!(layer = %name, z = c.z, x = c.x, y = c.y, size = r.bytes.len(), features = r.features, more, "limited tile under budget");
                        Some(more)
                    }
                    _ => break,
                }
            };
            limit = next;
            r = render_layer(pool, t, c, cap, limit).await?;
            learn_feature_bytes(&key, &r);
        }
        if r.bytes.len() > share {
            r.bytes.clear();
        }
        out.extend(r.bytes);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(bounds: Option<[f64; 4]>, count: i64) -> Layer {
        Layer {
            name: "thua_dat".into(),
            kind: catalog::LayerKind::Parcels,
            title: String::new(),
            description: None,
            geometry_type: "MultiPolygon".into(),
            srid: 9210,
            version: 1,
            feature_count: count,
            bounds,
            minzoom: 12,
            maxzoom: 22,
            public: true,
            fields: Vec::new(),
            updated_at: Default::default(),
        }
    }

    #[test]
    fn sql_renders_each_geometry_once_and_limits_before_rendering() {
        let l = layer(None, 0);
        let t = TileLayer {
            layer: &l,
            fields: Vec::new(),
            filter: None,
        };
        let full = layer_tile_sql(&t, 12, None);
        assert_eq!(full.matches("ST_AsMVTGeom").count(), 1, "{full}");
        assert!(full.contains("OFFSET 0") && full.contains("\"geom_3857_z13\""));
        assert!(!full.contains("LIMIT"));
        let limited = layer_tile_sql(&t, 15, Some(500));
        assert!(limited
            .contains("ctid = ANY(ARRAY(SELECT ctid FROM \"geokho_data\".\"thua_dat\" WHERE"));
        assert!(limited.contains("ORDER BY \"zmin\", hashint8(\"fid\") LIMIT 500))"));
        assert!(limited.contains("ST_AsMVTGeom(\"geom_3857\","));
    }

    #[test]
    fn expected_features_follow_the_covered_share_of_the_bounds() {
        // A layer over exactly the z12 tile 3258/1929: all of it there, a quarter per z13 tile.
        let c = TileCoord::new(12, 3258, 1929).unwrap();
        let l = layer(Some(c.bounds()), 80_000);
        assert!((expected_features(&l, c).unwrap() - 80_000.0).abs() < 1.0);
        let q = TileCoord::new(13, 6516, 3858).unwrap();
        let e = expected_features(&l, q).unwrap();
        assert!((e - 20_000.0).abs() < 200.0, "{e}");
        assert_eq!(
            expected_features(&l, TileCoord::new(12, 3000, 1929).unwrap()),
            Some(0.0)
        );
        assert_eq!(expected_features(&layer(None, 5), c), None);
    }

    #[test]
    fn fitting_scales_by_bytes_per_feature() {
        let r = Rendered {
            bytes: vec![0; 1_000_000],
            features: 10_000,
            rows: 10_000,
        };
        assert_eq!(fitting(&r, 500_000), 4_500);
    }
}
