//! The SQL every crate uses to reach a layer: its live table's name, its
//! live version and the NOTIFY announcing a version. One function each, so
//! no crate formats schema names or channel messages itself.

use sqlx::{Executor, Postgres};

use crate::{quote_ident, CatalogError, DATA_SCHEMA, NOTIFY_CHANNEL};

/// The live table of `layer`, schema-qualified and quoted.
///
/// ```
/// assert_eq!(catalog::live_table("thua_dat"), r#""geokho_data"."thua_dat""#);
/// assert_eq!(catalog::live_table("duong_bo__edges"), r#""geokho_data"."duong_bo__edges""#);
/// ```
pub fn live_table(layer: &str) -> String {
    format!("{}.{}", quote_ident(DATA_SCHEMA), quote_ident(layer))
}

/// The version of `layer` that `db` (a pool, connection or transaction)
/// sees, or `None` when no such layer is published.
pub async fn live_version<'e, E>(db: E, layer: &str) -> Result<Option<i64>, CatalogError>
where
    E: Executor<'e, Database = Postgres>,
{
    Ok(
        sqlx::query_scalar("SELECT version FROM geokho.layers WHERE name = $1")
            .bind(layer)
            .fetch_optional(db)
            .await?,
    )
}

/// Announces version `version` of `layer` to every server (they drop its
/// cached tiles and reload what they keep of it). Inside a transaction,
/// PostgreSQL delivers it at commit.
pub async fn notify_layer<'e, E>(db: E, layer: &str, version: i64) -> Result<(), CatalogError>
where
    E: Executor<'e, Database = Postgres>,
{
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(NOTIFY_CHANNEL)
        .bind(format!("{layer}:{version}"))
        .execute(db)
        .await?;
    Ok(())
}
