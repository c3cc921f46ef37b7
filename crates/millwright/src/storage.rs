//! Picks the store from the database URL.

use std::sync::Arc;

use anyhow::Context;
use millwright_store::Store;

/// `postgres://…` selects PostgreSQL; anything else is an SQLite path or `sqlite://` URL.
pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let s = millwright_store_postgres::PostgresStore::connect(url)
            .await
            .context("connecting to PostgreSQL")?;
        Ok(Arc::new(s))
    } else {
        let s = millwright_store_sqlite::SqliteStore::open_url(url)
            .context("opening the SQLite database")?;
        Ok(Arc::new(s))
    }
}
