//! The dashboard conformance suite (sessions, sign-in throttling), run against SQLite: every test gets its own database
//! file in a fresh temporary directory, removed when the test ends.

use std::sync::Arc;

use millwright_store::Store;
use millwright_store_sqlite::SqliteStore;

/// A fresh, migrated store; the directory guard keeps the file alive for the test's duration.
async fn fresh_store() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(&dir.path().join("millwright.db")).expect("open the store");
    store.migrate().await.expect("migrate");
    (Arc::new(store), dir)
}

millwright_store::dashboard_conformance_suite!(fresh_store());
