//! Schema migrations: plain SQL files in `migrations/`, embedded in the binary, applied in
//! version order and recorded in `schema_migrations`.

use millwright_store::{Readiness, StoreResult};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::error::Db;

/// One embedded migration file, `migrations/NNNN_name.sql`.
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration this build knows, in ascending version order. Adding a file to
/// `migrations/` without listing it here fails the `every_file_is_listed` test.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "sync",
        sql: include_str!("../migrations/0002_sync.sql"),
    },
    Migration {
        version: 3,
        name: "webhooks",
        sql: include_str!("../migrations/0003_webhooks.sql"),
    },
    Migration {
        version: 4,
        name: "probes",
        sql: include_str!("../migrations/0004_probes.sql"),
    },
    Migration {
        version: 5,
        name: "delivery_claims",
        sql: include_str!("../migrations/0005_delivery_claims.sql"),
    },
    Migration {
        version: 6,
        name: "status",
        sql: include_str!("../migrations/0006_status.sql"),
    },
    Migration {
        version: 7,
        name: "link",
        sql: include_str!("../migrations/0007_link.sql"),
    },
    Migration {
        version: 8,
        name: "dashboard",
        sql: include_str!("../migrations/0008_dashboard.sql"),
    },
    Migration {
        version: 9,
        name: "job_claims",
        sql: include_str!("../migrations/0009_job_claims.sql"),
    },
    Migration {
        version: 10,
        name: "probe_days",
        sql: include_str!("../migrations/0010_probe_days.sql"),
    },
    Migration {
        version: 11,
        name: "rendered_records",
        sql: include_str!("../migrations/0011_rendered_records.sql"),
    },
];

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
) STRICT";

/// Applies every pending migration, each in its own IMMEDIATE transaction. The check for
/// "already applied" happens inside that transaction, so several processes migrating the same
/// file at once apply each migration exactly once (the others wait on the write lock, then see
/// the row).
pub(crate) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    for m in MIGRATIONS {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .db()?;
        tx.execute_batch(CREATE_TABLE).db()?;
        let applied = tx
            .query_row(
                "SELECT 1 FROM schema_migrations WHERE version = ?1",
                [m.version],
                |_| Ok(()),
            )
            .optional()
            .db()?
            .is_some();
        if applied {
            continue;
        }
        tx.execute_batch(m.sql).db()?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![
                m.version,
                m.name,
                crate::decode::micros(&millwright_core::time::now())
            ],
        )
        .db()?;
        tx.commit().db()?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
    }
    Ok(())
}

/// How many of the known migrations are applied. A database that was never migrated has no
/// `schema_migrations` table yet and reports zero; a database that does not answer fails.
pub(crate) fn readiness(conn: &Connection) -> StoreResult<Readiness> {
    let has_table = conn
        .query_row(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'",
            [],
            |_| Ok(()),
        )
        .optional()
        .db()?
        .is_some();
    let applied: i64 = if has_table {
        // Only versions this build knows count: a row from a newer build must not hide a
        // missing older migration.
        let mut stmt = conn
            .prepare_cached("SELECT 1 FROM schema_migrations WHERE version = ?1")
            .db()?;
        let mut n = 0;
        for m in MIGRATIONS {
            if stmt.exists([m.version]).db()? {
                n += 1;
            }
        }
        n
    } else {
        0
    };
    Ok(Readiness {
        applied_migrations: applied as u32,
        known_migrations: MIGRATIONS.len() as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_listed_in_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("{:04}_{}.sql", m.version, m.name))
            .collect();
        assert_eq!(files, listed);
        assert!(MIGRATIONS.windows(2).all(|w| w[0].version < w[1].version));
    }

    #[test]
    fn migrate_is_idempotent_and_readiness_counts() {
        let mut c = Connection::open_in_memory().unwrap();
        assert_eq!(
            readiness(&c).unwrap(),
            Readiness {
                applied_migrations: 0,
                known_migrations: MIGRATIONS.len() as u32
            }
        );
        migrate(&mut c).unwrap();
        migrate(&mut c).unwrap();
        let r = readiness(&c).unwrap();
        assert!(r.is_ready());
        assert_eq!(r.applied_migrations, MIGRATIONS.len() as u32);
        let rows: i64 = c
            .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, MIGRATIONS.len() as i64);
    }

    /// Events written before webhooks existed are not fanned out to endpoints created later;
    /// events written afterwards are.
    #[test]
    fn events_before_0003_count_as_fanned_out() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(CREATE_TABLE).unwrap();
        for m in MIGRATIONS.iter().filter(|m| m.version < 3) {
            c.execute_batch(m.sql).unwrap();
            c.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, 0)",
                rusqlite::params![m.version, m.name],
            )
            .unwrap();
        }
        c.execute(
            "INSERT INTO events (id, workspace_id, type, data, created_at) \
             VALUES ('evt_old', 'ws_1', 'x.y', '{}', 0)",
            [],
        )
        .unwrap();
        migrate(&mut c).unwrap();
        c.execute(
            "INSERT INTO events (id, workspace_id, type, data, created_at) \
             VALUES ('evt_new', 'ws_1', 'x.y', '{}', 0)",
            [],
        )
        .unwrap();
        let flags: Vec<(String, i64)> = c
            .prepare("SELECT id, fanned_out FROM events ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(flags, vec![("evt_new".into(), 0), ("evt_old".into(), 1)]);
    }
}
