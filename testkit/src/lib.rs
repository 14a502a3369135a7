//! Test support: each test gets its own database, created and migrated on the
//! throwaway PostGIS cluster that `make test` starts (GEOKHO_TEST_DATABASE_URL).
//! Without that cluster a test fails with a message saying how to run it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

pub mod cluster;

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

/// A fresh, migrated database.
pub struct TestDb {
    pub pool: PgPool,
    pub url: String,
    pub name: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn admin_url() -> String {
    std::env::var("GEOKHO_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!("GEOKHO_TEST_DATABASE_URL is not set: run the tests with `make test`, which starts a throwaway PostGIS cluster")
    })
}

/// `url` with its database replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let cut = base.rfind('/').expect("database URL has a path");
    let mut out = format!("{}/{db}", &base[..cut]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl TestDb {
    /// Creates `t_<tag>_<pid>_<n>` and applies the migrations.
    pub async fn new(tag: &str) -> TestDb {
        let admin = admin_url();
        let name = format!(
            "t_{tag}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let apool = PgPoolOptions::new()
            .max_connections(1)
            .connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!("cannot reach the test cluster at {admin}: {e} (run `make test`)")
            });
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&apool)
            .await
            .expect("drop old test db");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&apool)
            .await
            .expect("create test db");
        apool.close().await;
        let url = with_database(&admin, &name);
        let pool = catalog::connect(
            &url,
            &catalog::DbOptions {
                max_connections: 12,
                ..Default::default()
            },
        )
        .await
        .expect("connect to test db");
        catalog::migrate(&pool).await.expect("migrations apply");
        TestDb { pool, url, name }
    }
}

/// The repository root (where data-samples/ lives).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// A fresh empty temporary folder under target/.
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = repo_root().join("target").join("test-tmp").join(format!(
        "{tag}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

/// Asserts that a finished process succeeded; the panic names `what`, the
/// exit status and the process's stderr.
pub fn assert_success(out: &std::process::Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
