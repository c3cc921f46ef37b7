//! Mapping of rusqlite errors onto [`StoreError`].

use millwright_store::{StoreError, StoreResult};
use rusqlite::ffi;

/// Converts a rusqlite result into a store result (the orphan rule forbids a `From` impl).
pub(crate) trait Db<T> {
    fn db(self) -> StoreResult<T>;
}

impl<T> Db<T> for rusqlite::Result<T> {
    fn db(self) -> StoreResult<T> {
        self.map_err(to_store_error)
    }
}

/// Unique and primary-key violations are conflicts the caller can act on; values that do not
/// convert to the Rust type are corrupt rows; everything else is a backend failure.
pub(crate) fn to_store_error(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(err, msg)
            if err.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
                || err.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            StoreError::Conflict(msg.clone().unwrap_or_else(|| err.to_string()))
        }
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::Utf8Error(..)
        | rusqlite::Error::InvalidColumnType(..) => StoreError::Corrupt(e.to_string()),
        _ => StoreError::Backend(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_are_conflicts_and_others_backend_errors() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT UNIQUE, n INTEGER NOT NULL)",
        )
        .unwrap();
        c.execute("INSERT INTO t VALUES (1, 'x', 0)", []).unwrap();
        let dup_pk = c.execute("INSERT INTO t VALUES (1, 'y', 0)", []).db();
        assert!(matches!(dup_pk, Err(StoreError::Conflict(_))), "{dup_pk:?}");
        let dup_unique = c.execute("INSERT INTO t VALUES (2, 'x', 0)", []).db();
        assert!(matches!(dup_unique, Err(StoreError::Conflict(m)) if m.contains("t.b")));
        let not_null = c.execute("INSERT INTO t VALUES (3, 'z', NULL)", []).db();
        assert!(
            matches!(not_null, Err(StoreError::Backend(_))),
            "{not_null:?}"
        );
        let wrong_type = c
            .query_row("SELECT b FROM t", [], |r| r.get::<_, i64>(0))
            .db();
        assert!(
            matches!(wrong_type, Err(StoreError::Corrupt(_))),
            "{wrong_type:?}"
        );
    }
}
