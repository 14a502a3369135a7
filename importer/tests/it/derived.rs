//! The columns the workers derive (`importer::mercator`) against PostGIS on
//! every sample layer: `geom_3857` against `ST_Transform(geom, 3857)` (same
//! PROJ operation: within 1 mm), every band column against
//! `ST_SimplifyPreserveTopology` of `geom_3857` (identical where stored,
//! NULL exactly where it would equal `geom_3857`), `zmin` against
//! its SQL formula (identical), and the fast path really taken (few rows
//! left to PostGIS), while the five spiked parcels are still repaired; the
//! one-connection load (COPY FREEZE) leaves every page it wrote frozen.

use crate::common;

use importer::{import_layer, manifest};
use testkit::{repo_root, TestDb};

#[tokio::test]
async fn derived_columns_equal_what_postgis_computes() {
    let db = TestDb::new("derived").await;
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_visibility")
        .execute(&db.pool)
        .await
        .expect("pg_visibility (PostgreSQL's contrib) installs");
    let layers = manifest::load(&repo_root().join("data-samples/layers.toml"))
        .expect("sample manifest loads");
    for l in layers {
        let name = l.layer.clone();
        // One connection: the stage table is filled with COPY FREEZE.
        let (files, opts) = l.into_import(1);
        let r = import_layer(&db.pool, &files, &opts)
            .await
            .unwrap_or_else(|e| panic!("{name} imports: {e}"));
        let t = format!("geokho_data.{name}");
        let features = r.features as i64;
        assert!(features > 0, "{name}");
        // Web Mercator: the workers' PROJ and PostGIS's agree within 1 mm.
        let worst: f64 = common::scalar_f64(
            &db.pool,
            &format!(
                "SELECT coalesce(max(ST_HausdorffDistance(geom_3857, ST_Transform(geom, 3857))), 0) FROM {t}"
            ),
        )
        .await;
        println!("{name}: {features} features, {} left to PostGIS, max |3857 - ST_Transform| = {worst:.2e} m", r.postgis_rows);
        assert!(worst < 0.001, "{name}: geom_3857 differs by {worst} m");
        // Big layers (parcels, roads, ...) are finished in the workers; a
        // handful of big admin rings may go to PostGIS.
        assert!(
            r.records < 200 || r.postgis_rows * 20 <= r.records,
            "{name}: {} of {} rows left to PostGIS: the workers' path is not taken",
            r.postgis_rows,
            r.records
        );
        // COPY FREEZE wrote every page frozen and all-visible; only the pages
        // of rows PostGIS finished afterwards (old and new version of an
        // UPDATE) lost the bits.
        let (pages, frozen) = (
            common::scalar_i64(
                &db.pool,
                &format!("SELECT (pg_relation_size('{t}') / 8192)::int8"),
            )
            .await,
            common::scalar_i64(
                &db.pool,
                &format!("SELECT all_frozen FROM pg_visibility_map_summary('{t}')"),
            )
            .await,
        );
        assert!(
            pages > 0 && frozen + 2 * r.postgis_rows as i64 >= pages,
            "{name}: {frozen} of {pages} pages frozen ({} rows finished by PostGIS)",
            r.postgis_rows
        );
        if !catalog::generalizes(&r.geometry_type) {
            continue;
        }
        let zdiff = common::scalar_i64(
            &db.pool,
            &format!(
                "SELECT count(*) FROM {t} WHERE zmin IS DISTINCT FROM (CASE WHEN geom_3857 IS NULL THEN 24 ELSE \
                 LEAST(24, GREATEST(0, ceil(ln({px} / GREATEST(sqrt((ST_XMax(geom_3857) - ST_XMin(geom_3857)) ^ 2 \
                 + (ST_YMax(geom_3857) - ST_YMin(geom_3857)) ^ 2), 1e-6)) / ln(2)))) END)::smallint",
                px = catalog::PIXEL_Z0
            ),
        )
        .await;
        assert_eq!(zdiff, 0, "{name}: zmin differs from the SQL formula");
        for (z, col) in catalog::GENERALIZED {
            // Stored: exactly PostGIS's simplification. NULL for a served
            // feature: the simplification keeps every vertex of geom_3857.
            let s = format!(
                "ST_SimplifyPreserveTopology(geom_3857, {})",
                catalog::tolerance(*z)
            );
            let (differ, filled, kept) = (
                common::scalar_i64(
                    &db.pool,
                    &format!(
                        "SELECT count(*) FROM {t} WHERE NOT (\
                         CASE WHEN zmin > {z} THEN {col} IS NULL \
                         WHEN {col} IS NULL THEN ST_OrderingEquals(ST_Multi({s}), ST_Multi(geom_3857)) \
                         ELSE ST_OrderingEquals({col}, {s}) AND GeometryType({col}) = GeometryType({s}) \
                         AND ST_NPoints({col}) < ST_NPoints(geom_3857) END)"
                    ),
                )
                .await,
                common::scalar_i64(&db.pool, &format!("SELECT count({col}) FROM {t}")).await,
                common::scalar_i64(
                    &db.pool,
                    &format!("SELECT count(*) FROM {t} WHERE zmin <= {z} AND {col} IS NULL"),
                )
                .await,
            );
            println!("{name}.{col}: {filled} stored, {kept} read as geom_3857, {differ} differ");
            assert_eq!(
                differ, 0,
                "{name}.{col}: band differs from ST_SimplifyPreserveTopology"
            );
            if name == "thua_dat" && *z == 13 {
                // Parcels are quadrilaterals: at z13 nearly all keep every corner.
                assert!(
                    kept * 2 > features,
                    "{name}.{col}: {kept} of {features} read as geom_3857"
                );
            }
        }
        if name == "thua_dat" {
            assert_eq!(r.repaired, 5, "the five spiked parcels are still repaired");
            let invalid = common::scalar_i64(
                &db.pool,
                &format!("SELECT count(*) FROM {t} WHERE NOT ST_IsValid(geom)"),
            )
            .await;
            assert_eq!(invalid, 0);
        }
    }
}
