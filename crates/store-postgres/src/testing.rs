//! Helpers for tests that need a real PostgreSQL: each test gets a database of its own on a
//! throwaway cluster (see `scripts/postgres-cluster.sh`), so tests run in parallel without
//! seeing each other's rows.
//!
//! Compiled into the library (not behind `cfg(test)`) because other crates' integration tests
//! use it too.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use millwright_store::Store;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::PostgresStore;

/// The environment variable holding the admin URL of the test cluster,
/// e.g. `postgres://postgres@127.0.0.1:54321/postgres`.
pub const TEST_URL_ENV: &str = "MILLWRIGHT_TEST_POSTGRES_URL";

/// Creates an empty database with a unique name on the cluster named by
/// [`TEST_URL_ENV`] and returns its URL.
///
/// # Panics
///
/// When the variable is unset or the cluster cannot be reached: a PostgreSQL test must fail,
/// never silently pass, when there is no PostgreSQL to test against.
pub async fn fresh_database() -> String {
    let admin_url = match std::env::var(TEST_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{TEST_URL_ENV} is not set: run scripts/test, or start a cluster with \
             scripts/postgres-cluster.sh start"
        ),
    };
    let name = unique_database_name();
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {TEST_URL_ENV}={admin_url}: {e}"));
    // A database name cannot be a bind parameter; `name` is made only of [a-z0-9_].
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
    // Closing is a courtesy; a failure to say goodbye does not matter to the test.
    let _ = admin.close().await;
    with_database(&admin_url, &name)
}

/// A migrated [`PostgresStore`] on a [`fresh_database`]. Panics like it does.
pub async fn fresh_store() -> PostgresStore {
    let url = fresh_database().await;
    let store = PostgresStore::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test database {url}: {e}"));
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("cannot migrate the test database {url}: {e}"));
    store
}

/// `mw_test_<pid>_<nanoseconds>_<counter>`: unique across the test binaries that share one
/// cluster (the pid) and the tests within one binary (the counter).
fn unique_database_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "mw_test_{:x}_{:x}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `url` with its database (the path) replaced by `database`, keeping any query parameters.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    format!("{base}/{database}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_of_a_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "mw_test_1"),
            "postgres://postgres@127.0.0.1:5432/mw_test_1"
        );
        assert_eq!(
            with_database("postgres://u:p@localhost:5/postgres?sslmode=disable", "db"),
            "postgres://u:p@localhost:5/db?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://localhost:5", "db"),
            "postgres://localhost:5/db"
        );
        assert_eq!(
            with_database("postgres://localhost?x=1", "db"),
            "postgres://localhost/db?x=1"
        );
    }

    #[test]
    fn database_names_are_unique_plain_identifiers() {
        let a = unique_database_name();
        let b = unique_database_name();
        assert_ne!(a, b);
        assert!(
            a.len() < 64,
            "PostgreSQL truncates identifiers past 63 bytes"
        );
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'));
    }
}
