//! The dashboard conformance suite (sessions, sign-in throttling), run against PostgreSQL: every test gets a database of
//! its own on the cluster named by `MILLWRIGHT_TEST_POSTGRES_URL` (and fails loudly when that
//! variable is unset).

use std::sync::Arc;

use millwright_store::Store;
use millwright_store_postgres::testing;

/// A fresh, migrated store in a database of its own.
async fn fresh_store() -> Arc<dyn Store> {
    Arc::new(testing::fresh_store().await)
}

millwright_store::dashboard_conformance_suite!(fresh_store());
