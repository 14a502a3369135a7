//! `--append`: a new version of a live layer holding its features and the
//! files' features. The files must match the live layer: same geometry type
//! and CRS, and the same fields with the same types (renames apply first).
//! New features are numbered after the largest live fid; the live rows are
//! copied into the stage table before its indexes are built, so the swap,
//! history and rollback work as for any import.

use catalog::Layer;
use sqlx::PgPool;

use crate::error::ImportError;
use crate::plan::Plan;

/// The live layer an append adds to.
#[derive(Debug, Clone)]
pub struct Appending {
    pub live: Layer,
    /// `geokho_data."<layer>"`, quoted.
    pub table: String,
    pub max_fid: i64,
}

fn refuse(plan: &Plan, reason: String) -> ImportError {
    ImportError::Layer {
        layer: plan.layer.clone(),
        reason: format!("--append: {reason}"),
    }
}

/// Checks that `plan` can be appended to its live layer.
pub async fn check(pool: &PgPool, plan: &Plan) -> Result<Appending, ImportError> {
    let live = catalog::get_layer(pool, &plan.layer)
        .await?
        .ok_or_else(|| {
            refuse(
                plan,
                "there is no live layer to append to: import it first".into(),
            )
        })?;
    if live.srid != plan.srid {
        return Err(refuse(
            plan,
            format!(
                "the files are in EPSG:{}, the layer in EPSG:{}",
                plan.srid, live.srid
            ),
        ));
    }
    if live.geometry_type != plan.geometry_type {
        return Err(refuse(
            plan,
            format!(
                "the files hold {}, the layer {}",
                plan.geometry_type, live.geometry_type
            ),
        ));
    }
    let names = |fs: &[catalog::Field]| {
        fs.iter()
            .map(|f| format!("{} {}", f.name, f.field_type.sql()))
            .collect::<Vec<_>>()
    };
    let (have, want) = (names(&plan.schema.fields), names(&live.fields));
    if have != want {
        let missing: Vec<_> = want.iter().filter(|f| !have.contains(f)).cloned().collect();
        let extra: Vec<_> = have.iter().filter(|f| !want.contains(f)).cloned().collect();
        return Err(refuse(
            plan,
            format!(
                "fields differ from the live layer's (missing: [{}]; not in the layer: [{}]); use renames or replace the layer",
                missing.join(", "),
                extra.join(", ")
            ),
        ));
    }
    let table = catalog::live_table(&live.name);
    let max_fid: i64 = sqlx::query_scalar(&format!("SELECT COALESCE(max(fid), 0) FROM {table}"))
        .fetch_one(pool)
        .await?;
    Ok(Appending {
        live,
        table,
        max_fid,
    })
}
