//! The connections behind a [`crate::SqliteStore`]: one writer and a few read-only readers.
//!
//! SQLite allows one writer at a time per database file; rather than letting several writer
//! connections fight over the lock (and time out under load), every write goes through a single
//! connection behind an async mutex. In WAL mode readers never block the writer or each other, so
//! reads use a small pool of read-only connections. All SQLite work runs on tokio's blocking
//! pool; the async side only waits for its turn (mutex or semaphore) without holding a thread.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use millwright_store::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use tokio::sync::Semaphore;

use crate::error::Db;

/// How many read-only connections the pool keeps.
pub(crate) const READERS: usize = 4;
/// Prepared statements kept per connection. rusqlite's default of 16 is smaller than the
/// number of distinct statements the store issues (plus the filter variants of the lists), so
/// hot statements would keep being evicted and re-prepared.
const STATEMENT_CACHE: usize = 128;
/// How long a connection waits for another process's lock before failing with `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) struct Pool {
    writer: Arc<tokio::sync::Mutex<Connection>>,
    readers: Arc<Readers>,
}

/// Idle read-only connections. The semaphore has exactly as many permits as connections exist,
/// so a holder of a permit always finds an idle connection in `idle`.
struct Readers {
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Connection>>,
}

/// Returns its reader to the idle list when dropped, even if the closure using it panicked, so
/// that the pool never shrinks below its permit count.
struct Lent<'a> {
    readers: &'a Readers,
    conn: Option<Connection>,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            self.readers
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(c);
        }
    }
}

impl Pool {
    /// Opens the writer (creating the file), switches the database to WAL, then opens readers.
    pub(crate) fn open(path: &Path) -> StoreResult<Pool> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Backend(format!("cannot create directory {}: {e}", dir.display()))
            })?;
        }
        let writer = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .db()?;
        configure(&writer)?;
        // journal_mode is persistent in the file; readers opened afterwards find the WAL.
        let mode: String = writer
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .db()?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "cannot switch {} to WAL mode (journal_mode is {mode})",
                path.display()
            )));
        }
        writer.pragma_update(None, "synchronous", "NORMAL").db()?;

        let mut idle = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let reader = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .db()?;
            configure(&reader)?;
            idle.push(reader);
        }
        Ok(Pool {
            writer: Arc::new(tokio::sync::Mutex::new(writer)),
            readers: Arc::new(Readers {
                permits: Arc::new(Semaphore::new(READERS)),
                idle: Mutex::new(idle),
            }),
        })
    }

    /// Runs `f` on a read-only connection, off the async runtime.
    pub(crate) async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let permit = self
            .readers
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Backend("the reader pool is closed".into()))?;
        let readers = self.readers.clone();
        blocking(move || {
            let _permit = permit;
            let conn = readers
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop()
                .ok_or_else(|| StoreError::Backend("no idle reader despite a permit".into()))?;
            let lent = Lent {
                readers: &readers,
                conn: Some(conn),
            };
            f(lent
                .conn
                .as_ref()
                .expect("a lent reader is present until dropped"))
        })
        .await
    }

    /// Runs `f` on the writer with no transaction (pragmas, migrations that manage their own).
    pub(crate) async fn with_writer<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let mut conn = self.writer.clone().lock_owned().await;
        blocking(move || f(&mut conn)).await
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction on the writer: committed when `f` returns
    /// `Ok`, rolled back otherwise, so a failing call writes nothing. IMMEDIATE takes the write
    /// lock up front, so checks made inside `f` (credits, leases) still hold at commit, also
    /// against other processes using the same file.
    pub(crate) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&Transaction<'_>) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.with_writer(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            let out = f(&tx)?;
            tx.commit().db()?;
            Ok(out)
        })
        .await
    }
}

/// Per-connection settings (not persistent in the file, unlike `journal_mode`).
fn configure(conn: &Connection) -> StoreResult<()> {
    conn.busy_timeout(BUSY_TIMEOUT).db()?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "foreign_keys", "ON").db()?;
    Ok(())
}

/// Runs blocking work on tokio's blocking pool; a panic in `f` resumes in the caller, since it
/// is a bug rather than a database failure.
async fn blocking<T, F>(f: F) -> StoreResult<T>
where
    F: FnOnce() -> StoreResult<T> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(StoreError::Backend(format!("database task cancelled: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writer_is_wal_with_foreign_keys_and_readers_are_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let pool = Pool::open(&dir.path().join("nested/dir/p.db")).unwrap();
        let (mode, fk, sync, timeout) = pool
            .with_writer(|c| {
                c.query_row(
                    "SELECT (SELECT journal_mode FROM pragma_journal_mode), \
                            (SELECT foreign_keys FROM pragma_foreign_keys), \
                            (SELECT synchronous FROM pragma_synchronous), \
                            (SELECT timeout FROM pragma_busy_timeout)",
                    [],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, i64>(3)?,
                        ))
                    },
                )
                .db()
            })
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(fk, 1);
        assert_eq!(sync, 1, "NORMAL is 1");
        assert_eq!(timeout, 5000);
        pool.write(|tx| tx.execute_batch("CREATE TABLE t (x INTEGER)").db())
            .await
            .unwrap();

        let refused = pool
            .read(|c| c.execute("INSERT INTO t VALUES (1)", []).db())
            .await;
        assert!(matches!(refused, Err(StoreError::Backend(m)) if m.contains("readonly")));
        let fk = pool
            .read(|c| {
                c.query_row("PRAGMA foreign_keys", [], |r| r.get::<_, i64>(0))
                    .db()
            })
            .await
            .unwrap();
        assert_eq!(fk, 1);
    }

    #[tokio::test]
    async fn a_failed_write_rolls_back_and_a_panicking_reader_is_returned_to_the_pool() {
        let dir = tempfile::tempdir().unwrap();
        let pool = Arc::new(Pool::open(&dir.path().join("p.db")).unwrap());
        pool.write(|tx| tx.execute_batch("CREATE TABLE t (x INTEGER)").db())
            .await
            .unwrap();
        let failed: StoreResult<()> = pool
            .write(|tx| {
                tx.execute("INSERT INTO t VALUES (1)", []).db()?;
                Err(StoreError::NotFound)
            })
            .await;
        assert!(matches!(failed, Err(StoreError::NotFound)));

        for _ in 0..READERS {
            let p = pool.clone();
            let panicked =
                tokio::spawn(
                    async move { p.read(|_| -> StoreResult<()> { panic!("boom") }).await },
                )
                .await;
            assert!(panicked.unwrap_err().is_panic());
        }
        // Every reader came back: READERS concurrent reads all succeed and see nothing written.
        let mut handles = Vec::new();
        for _ in 0..READERS * 2 {
            let p = pool.clone();
            handles.push(tokio::spawn(async move {
                p.read(|c| {
                    c.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
                        .db()
                })
                .await
            }));
        }
        for h in handles {
            assert_eq!(h.await.unwrap().unwrap(), 0);
        }
        assert_eq!(pool.readers.idle.lock().unwrap().len(), READERS);
    }
}
