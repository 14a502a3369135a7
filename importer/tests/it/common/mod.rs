//! Helpers shared by the importer's integration tests: import options,
//! the sample files, ogr2ogr, one-shot imports and scalar queries.
#![allow(dead_code)] // each test file uses a part

use std::path::{Path, PathBuf};
use std::process::Command;

use importer::{import_layer, ImportOptions, ImportReport, LayerKind, SettingsRequest};
use sqlx::PgPool;
use testkit::{repo_root, TestDb};

pub fn opts(layer: &str, kind: LayerKind, srs: Option<i32>) -> ImportOptions {
    let mut o = ImportOptions::new(layer, SettingsRequest::of_kind(kind));
    o.srs = srs;
    o.connections = 2;
    o
}

pub fn sample(rel: &str) -> PathBuf {
    repo_root().join("data-samples").join(rel)
}

pub fn ogr2ogr(args: &[&str]) {
    let out = Command::new("ogr2ogr")
        .args(args)
        .output()
        .expect("ogr2ogr runs (gdal-bin)");
    testkit::assert_success(&out, &format!("ogr2ogr {args:?}"));
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub fn selector(p: &Path, layer: &str) -> PathBuf {
    PathBuf::from(format!("{}:{layer}", p.display()))
}

pub async fn import(db: &TestDb, input: &Path, o: &ImportOptions) -> ImportReport {
    import_layer(&db.pool, &[input.to_path_buf()], o)
        .await
        .unwrap_or_else(|e| panic!("{} imports: {e}", input.display()))
}

pub async fn scalar_i64(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

pub async fn scalar_f64(pool: &PgPool, sql: &str) -> f64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}
