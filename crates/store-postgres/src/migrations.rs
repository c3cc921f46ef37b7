//! Schema migrations: plain SQL files embedded in the binary, applied in order and recorded in
//! `schema_migrations`.
//!
//! sqlx has a migrator of its own, but it keeps its bookkeeping in `_sqlx_migrations`; the
//! shared schema (docs/dev/schema.md) names `schema_migrations`, the same table the SQLite
//! backend keeps, so the few lines of runner live here.

use millwright_store::{Readiness, StoreResult};
use sqlx::PgPool;

use crate::rows::db_err;

/// One migration file.
pub(crate) struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration this build knows, in the order they apply. Append only: an applied file is
/// never edited, a change is a new file.
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

/// The key of the advisory lock that serialises migrations across nodes. Any constant works as
/// long as every Millwright node uses the same one; this one spells "millwrig" in ASCII.
const MIGRATION_LOCK_KEY: i64 = 0x6d69_6c6c_7772_6967;

/// Applies the pending migrations in one transaction.
///
/// Several nodes may start at once: the transaction-scoped advisory lock makes the second node
/// wait until the first has committed, after which it finds nothing left to do. PostgreSQL's DDL
/// is transactional, so a failing file leaves the database as it was.
pub(crate) async fn migrate(pool: &PgPool) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK_KEY)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    // Created under the lock: two concurrent `CREATE TABLE IF NOT EXISTS` can still collide
    // on the catalog's unique index.
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    integer PRIMARY KEY,
             name       text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    let applied: Vec<i32> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
    for migration in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        sqlx::raw_sql(migration.sql)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
            .bind(migration.version)
            .bind(migration.name)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied migration"
        );
    }
    tx.commit().await.map_err(db_err)
}

/// How many of the known migrations are applied. A database that was never migrated has none.
pub(crate) async fn readiness(pool: &PgPool) -> StoreResult<Readiness> {
    let known_migrations = MIGRATIONS.len() as u32;
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('schema_migrations')::text")
        .fetch_one(pool)
        .await
        .map_err(db_err)?;
    if table.is_none() {
        return Ok(Readiness {
            applied_migrations: 0,
            known_migrations,
        });
    }
    let known: Vec<i32> = MIGRATIONS.iter().map(|m| m.version).collect();
    // Only the versions this build knows count: a newer node may have applied more, which
    // does not make this one any less ready.
    let applied: i64 =
        sqlx::query_scalar("SELECT count(*) FROM schema_migrations WHERE version = ANY($1)")
            .bind(known)
            .fetch_one(pool)
            .await
            .map_err(db_err)?;
    Ok(Readiness {
        applied_migrations: applied as u32,
        known_migrations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_dense_and_increasing() {
        for pair in MIGRATIONS.windows(2) {
            assert!(pair[0].version < pair[1].version);
        }
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i32 + 1, "versions are dense, starting at 1");
            assert!(!m.sql.trim().is_empty());
        }
    }
}
