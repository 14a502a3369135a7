//! Layers written in place by the API (citizen field reports) rather than
//! imported: each change publishes a new data version of the layer, with
//! its count and bounds, and NOTIFYs, exactly as an import would.

use sqlx::{Postgres, Transaction};

use crate::{quote_ident, CatalogError, GEOM_3857_COLUMN};

/// Re-publishes `layer` after an in-place change made in `tx`; returns the new version.
pub async fn republish(
    tx: &mut Transaction<'_, Postgres>,
    layer: &str,
) -> Result<i64, CatalogError> {
    let t = crate::live_table(layer);
    let g = quote_ident(GEOM_3857_COLUMN);
    let sql = format!(
        "UPDATE geokho.layers SET version = nextval('geokho.data_version'), updated_at = now(), \
         feature_count = s.n, bounds = CASE WHEN s.b IS NULL THEN NULL ELSE ARRAY[ST_XMin(s.b), ST_YMin(s.b), ST_XMax(s.b), ST_YMax(s.b)] END \
         FROM (SELECT count(*) AS n, ST_Transform(ST_SetSRID(ST_Extent({g})::geometry, 3857), 4326) AS b FROM {t}) s \
         WHERE name = $1 RETURNING version"
    );
    let v: i64 = sqlx::query_scalar(&sql)
        .bind(layer)
        .fetch_one(&mut **tx)
        .await?;
    crate::notify_layer(&mut **tx, layer, v).await?;
    Ok(v)
}
