//! A manifest's `renames`, `restricted` and `public_fields` against a real
//! PostGIS: names are taken as spelled in the DBF or as columns, personal
//! data stays restricted through a rename, and a name that matches nothing
//! stops the import before anything is written.

use std::path::{Path, PathBuf};

use importer::{import_layer, manifest, ImportError};
use sqlx::PgPool;
use testkit::{repo_root, temp_dir, TestDb};

/// A manifest of one parcel layer over the sample's parcel files, with the
/// given extra TOML lines; returns its resolved import.
fn layer(dir: &Path, extra: &str) -> (Vec<PathBuf>, importer::ImportOptions) {
    let files = repo_root().join("data-samples/thua_dat/*.shp");
    let toml = format!(
        "[[layer]]\nname = \"thua\"\nkind = \"parcels\"\nfiles = [\"{}\"]\n{extra}\n",
        files.display()
    );
    let path = dir.join("layers.toml");
    std::fs::write(&path, toml).unwrap();
    let mut layers = manifest::load(&path).expect("manifest loads");
    layers.remove(0).into_import(2)
}

async fn restricted(pool: &PgPool) -> Vec<String> {
    let l = catalog::get_layer(pool, "thua")
        .await
        .unwrap()
        .expect("in catalog");
    l.fields
        .iter()
        .filter(|f| f.restricted)
        .map(|f| f.name.clone())
        .collect()
}

async fn version(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT version FROM geokho.layers WHERE name = 'thua'")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn renames_restricted_and_public_fields_shape_the_catalog() {
    let db = TestDb::new("manifest_fields").await;
    let dir = temp_dir("manifest_fields");

    // Defaults: the owner's name and the certificate number.
    let (files, opts) = layer(&dir, "");
    import_layer(&db.pool, &files, &opts).await.unwrap();
    assert_eq!(restricted(&db.pool).await, ["ten_chu", "so_gcn"]);

    // DBF spellings; a renamed certificate number stays restricted; the
    // owner's name published on purpose; the land use restricted besides.
    let (files, opts) = layer(
        &dir,
        "renames = { SO_GCN = \"chung_nhan\", SOTHUA = \"x\" }\n\
         restricted = [\"LOAI_DAT\"]\npublic_fields = [\"ten_chu\"]",
    );
    let e = import_layer(&db.pool, &files, &opts).await.unwrap_err();
    assert!(
        matches!(&e, ImportError::Layer { .. })
            && e.to_string().starts_with(
                "layer thua: renames (--rename): no field 'SOTHUA' in the source files (fields: "
            ),
        "{e}"
    );
    let (files, mut opts) = layer(
        &dir,
        "renames = { SO_GCN = \"chung_nhan\", SO_THUA = \"thua_so\" }\n\
         restricted = [\"LOAI_DAT\"]\npublic_fields = [\"ten_chu\"]",
    );
    // Publishing the owner's name widens exposure: only with the confirmation.
    let e = import_layer(&db.pool, &files, &opts).await.unwrap_err();
    assert!(
        e.to_string().starts_with(
            "layer thua: this import would widen exposure: field ten_chu is restricted and would be public; pass --widen-exposure"
        ),
        "{e}"
    );
    opts.settings.widen_exposure = true;
    import_layer(&db.pool, &files, &opts).await.unwrap();
    assert_eq!(restricted(&db.pool).await, ["loai_dat", "chung_nhan"]);
    let l = catalog::get_layer(&db.pool, "thua").await.unwrap().unwrap();
    assert!(l.fields.iter().any(|f| f.name == "thua_so"));
    let owners: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM geokho_data.thua WHERE ten_chu IS NOT NULL AND chung_nhan IS NOT NULL",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(owners > 0, "renamed columns hold the values");

    // A typo in `restricted` must not publish anything: refused, live layer kept.
    let before = version(&db.pool).await;
    for (extra, message) in [
        (
            "restricted = [\"ten_chuu\"]",
            "layer thua: restricted (--restricted): no column 'ten_chuu' in this layer (columns: ",
        ),
        (
            "public_fields = [\"so_gcnn\"]",
            "layer thua: public_fields (--public-fields): no column 'so_gcnn' in this layer (columns: ",
        ),
        (
            "restricted = [\"ten_chu\"]\npublic_fields = [\"TEN_CHU\"]",
            "layer thua: column 'ten_chu' is both in restricted and in public_fields",
        ),
    ] {
        let (files, opts) = layer(&dir, extra);
        let e = import_layer(&db.pool, &files, &opts).await.unwrap_err();
        assert!(e.to_string().starts_with(message), "{extra}: {e}");
        assert!(!e.to_string().contains('\n'), "one line: {e}");
    }
    assert_eq!(version(&db.pool).await, before);
    assert_eq!(restricted(&db.pool).await, ["loai_dat", "chung_nhan"]);
}
