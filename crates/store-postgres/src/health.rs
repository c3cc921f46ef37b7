//! Connection health probes (migration 0004).

use chrono::NaiveDate;
use millwright_core::time::Timestamp;
use millwright_store::{NewProbe, Probe, ProbeDay, ProbeStatus, StoreError, StoreResult};
use sqlx::{postgres::PgRow, PgPool, Row};

use crate::rows::db_err;

fn corrupt(col: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("connection_probes.{col}: {e}"))
}

/// Appends the probe and makes it the connection's latest health, in one transaction.
pub(crate) async fn record(pool: &PgPool, p: &NewProbe) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    // The UPDATE's row lock orders the probe with a concurrent disconnect (which locks the row
    // FOR UPDATE): either the probe lands first, or it sees the connection disconnected.
    let updated = sqlx::query(
        "UPDATE connections SET health_status = $3, health_checked_at = $4, \
         health_latency_ms = $5, health_error = $6 \
         WHERE workspace_id = $1 AND id = $2 AND status <> 'disconnected'",
    )
    .bind(&p.workspace_id)
    .bind(&p.connection_id)
    .bind(p.status.as_str())
    .bind(p.checked_at)
    .bind(p.latency_ms)
    .bind(&p.error)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?
    .rows_affected();
    if updated == 0 {
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM connections WHERE workspace_id = $1 AND id = $2")
                .bind(&p.workspace_id)
                .bind(&p.connection_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        return Err(match exists {
            Some(_) => StoreError::Disconnected,
            None => StoreError::NotFound,
        });
    }
    sqlx::query(
        "INSERT INTO connection_probes (workspace_id, connection_id, checked_at, status, \
         latency_ms, error) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&p.workspace_id)
    .bind(&p.connection_id)
    .bind(p.checked_at)
    .bind(p.status.as_str())
    .bind(p.latency_ms)
    .bind(&p.error)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    let ok = p.status == ProbeStatus::Ok;
    let ok_latency = if ok { p.latency_ms } else { None };
    sqlx::query(
        "INSERT INTO connection_probe_days (workspace_id, connection_id, day, probes, ok, \
         ok_latency_sum, ok_latency_count) \
         VALUES ($1, $2, ($3 AT TIME ZONE 'UTC')::date, 1, $4, $5, $6) \
         ON CONFLICT (connection_id, day) DO UPDATE SET \
         probes = connection_probe_days.probes + 1, \
         ok = connection_probe_days.ok + excluded.ok, \
         ok_latency_sum = connection_probe_days.ok_latency_sum + excluded.ok_latency_sum, \
         ok_latency_count = connection_probe_days.ok_latency_count + excluded.ok_latency_count",
    )
    .bind(&p.workspace_id)
    .bind(&p.connection_id)
    .bind(p.checked_at)
    .bind(i64::from(ok))
    .bind(ok_latency.unwrap_or(0))
    .bind(i64::from(ok_latency.is_some()))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)
}

fn probe(row: &PgRow) -> StoreResult<Probe> {
    let status: String = row.try_get("status").map_err(|e| corrupt("status", e))?;
    Ok(Probe {
        connection_id: row
            .try_get("connection_id")
            .map_err(|e| corrupt("connection_id", e))?,
        checked_at: row
            .try_get("checked_at")
            .map_err(|e| corrupt("checked_at", e))?,
        status: ProbeStatus::parse(&status)
            .ok_or_else(|| corrupt("status", format!("unknown probe status {status:?}")))?,
        latency_ms: row
            .try_get("latency_ms")
            .map_err(|e| corrupt("latency_ms", e))?,
        error: row.try_get("error").map_err(|e| corrupt("error", e))?,
    })
}

pub(crate) async fn history(
    pool: &PgPool,
    workspace_id: &str,
    connection_id: &str,
    since: Timestamp,
) -> StoreResult<Vec<Probe>> {
    let found = sqlx::query(
        "SELECT connection_id, checked_at, status, latency_ms, error FROM connection_probes \
         WHERE connection_id = $2 AND checked_at >= $3 AND workspace_id = $1 \
         ORDER BY checked_at, id",
    )
    .bind(workspace_id)
    .bind(connection_id)
    .bind(since)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    found.iter().map(probe).collect()
}

pub(crate) async fn daily(
    pool: &PgPool,
    workspace_id: &str,
    connection_id: &str,
    since: Timestamp,
) -> StoreResult<Vec<ProbeDay>> {
    // Days are UTC dates whatever the session's time zone.
    let found = sqlx::query(
        "SELECT day, probes, ok, \
         CASE WHEN ok_latency_count > 0 \
           THEN ok_latency_sum::float8 / ok_latency_count END AS avg_latency_ms \
         FROM connection_probe_days \
         WHERE connection_id = $2 AND day >= ($3 AT TIME ZONE 'UTC')::date \
           AND workspace_id = $1 \
         ORDER BY day",
    )
    .bind(workspace_id)
    .bind(connection_id)
    .bind(since)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    found
        .iter()
        .map(|row| {
            Ok(ProbeDay {
                day: row
                    .try_get::<NaiveDate, _>("day")
                    .map_err(|e| corrupt("day", e))?,
                probes: row.try_get("probes").map_err(|e| corrupt("probes", e))?,
                ok: row.try_get("ok").map_err(|e| corrupt("ok", e))?,
                avg_latency_ms: row
                    .try_get("avg_latency_ms")
                    .map_err(|e| corrupt("avg_latency_ms", e))?,
            })
        })
        .collect()
}

pub(crate) async fn purge(
    pool: &PgPool,
    raw_before: Timestamp,
    days_before: NaiveDate,
) -> StoreResult<u64> {
    let raw = sqlx::query("DELETE FROM connection_probes WHERE checked_at < $1")
        .bind(raw_before)
        .execute(pool)
        .await
        .map_err(db_err)?
        .rows_affected();
    let days = sqlx::query("DELETE FROM connection_probe_days WHERE day < $1")
        .bind(days_before)
        .execute(pool)
        .await
        .map_err(db_err)?
        .rows_affected();
    Ok(raw + days)
}
