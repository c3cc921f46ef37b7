//! Without a cluster, PostgreSQL tests must fail loudly rather than pass by doing nothing.
//! A test binary of its own: it removes the variable, which would race with other tests.

use millwright_store_postgres::testing::{fresh_database, TEST_URL_ENV};

#[tokio::test]
async fn fresh_database_panics_when_no_cluster_is_configured() {
    std::env::remove_var(TEST_URL_ENV);
    let panic = tokio::spawn(fresh_database()).await.unwrap_err();
    let payload = panic.into_panic();
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(
        message.contains("MILLWRIGHT_TEST_POSTGRES_URL is not set")
            && message.contains("scripts/postgres-cluster.sh start"),
        "unexpected panic message: {message:?}"
    );
}
