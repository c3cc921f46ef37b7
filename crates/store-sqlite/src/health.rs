//! Connection health probes (migration 0004).

use chrono::{DateTime, Datelike, NaiveDate};
use millwright_core::{status::ConnectionStatus, time::Timestamp};
use millwright_store::{NewProbe, Probe, ProbeDay, ProbeStatus, StoreError, StoreResult};
use rusqlite::{params, Connection as SqlConn, Row};

use crate::connections::status_of;
use crate::decode::{all, micros};
use crate::error::Db;

/// Microseconds in a UTC day: timestamps are UTC microseconds, so integer division by this is
/// the day number since 1970-01-01.
const DAY_MICROS: i64 = 86_400_000_000;

/// Appends the probe and makes it the connection's latest health, in the caller's transaction.
pub(crate) fn record(c: &SqlConn, p: &NewProbe) -> StoreResult<()> {
    // Read under the write lock: a disconnect cannot slip in between this check and the writes.
    if status_of(c, &p.workspace_id, &p.connection_id)? == ConnectionStatus::Disconnected {
        return Err(StoreError::Disconnected);
    }
    c.prepare_cached(
        "UPDATE connections SET health_status = ?3, health_checked_at = ?4, \
         health_latency_ms = ?5, health_error = ?6 WHERE workspace_id = ?1 AND id = ?2",
    )
    .db()?
    .execute(params![
        p.workspace_id,
        p.connection_id,
        p.status.as_str(),
        micros(&p.checked_at),
        p.latency_ms,
        p.error,
    ])
    .db()?;
    c.prepare_cached(
        "INSERT INTO connection_probes (workspace_id, connection_id, checked_at, status, \
         latency_ms, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .db()?
    .execute(params![
        p.workspace_id,
        p.connection_id,
        micros(&p.checked_at),
        p.status.as_str(),
        p.latency_ms,
        p.error,
    ])
    .db()?;
    let ok = p.status == ProbeStatus::Ok;
    let ok_latency = if ok { p.latency_ms } else { None };
    c.prepare_cached(
        "INSERT INTO connection_probe_days (workspace_id, connection_id, day, probes, ok, \
         ok_latency_sum, ok_latency_count) VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6) \
         ON CONFLICT (connection_id, day) DO UPDATE SET probes = probes + 1, \
         ok = ok + excluded.ok, ok_latency_sum = ok_latency_sum + excluded.ok_latency_sum, \
         ok_latency_count = ok_latency_count + excluded.ok_latency_count",
    )
    .db()?
    .execute(params![
        p.workspace_id,
        p.connection_id,
        micros(&p.checked_at).div_euclid(DAY_MICROS),
        i64::from(ok),
        ok_latency.unwrap_or(0),
        i64::from(ok_latency.is_some()),
    ])
    .db()?;
    Ok(())
}

fn probe(row: &Row<'_>) -> StoreResult<Probe> {
    let status: String = row.get("status").db()?;
    let at: i64 = row.get("checked_at").db()?;
    Ok(Probe {
        connection_id: row.get("connection_id").db()?,
        checked_at: DateTime::from_timestamp_micros(at)
            .ok_or_else(|| StoreError::Corrupt(format!("checked_at: {at} out of range")))?,
        status: ProbeStatus::parse(&status).ok_or_else(|| {
            StoreError::Corrupt(format!("status: unknown probe status {status:?}"))
        })?,
        latency_ms: row.get("latency_ms").db()?,
        error: row.get("error").db()?,
    })
}

pub(crate) fn history(
    c: &SqlConn,
    workspace_id: &str,
    connection_id: &str,
    since: &Timestamp,
) -> StoreResult<Vec<Probe>> {
    all(
        c.prepare_cached(
            "SELECT connection_id, checked_at, status, latency_ms, error FROM connection_probes \
             WHERE connection_id = ?2 AND checked_at >= ?3 AND workspace_id = ?1 \
             ORDER BY checked_at, id",
        )
        .db()?,
        params![workspace_id, connection_id, micros(since)],
        probe,
    )
}

pub(crate) fn daily(
    c: &SqlConn,
    workspace_id: &str,
    connection_id: &str,
    since: &Timestamp,
) -> StoreResult<Vec<ProbeDay>> {
    all(
        c.prepare_cached(
            "SELECT day, probes, ok, \
             CASE WHEN ok_latency_count > 0 \
               THEN CAST(ok_latency_sum AS REAL) / ok_latency_count END AS avg_latency_ms \
             FROM connection_probe_days \
             WHERE connection_id = ?2 AND day >= ?3 / ?4 AND workspace_id = ?1 \
             ORDER BY day",
        )
        .db()?,
        params![workspace_id, connection_id, micros(since), DAY_MICROS],
        |row| {
            let day: i64 = row.get("day").db()?;
            let day = NaiveDate::from_num_days_from_ce_opt(
                i32::try_from(day + UNIX_EPOCH_DAYS_FROM_CE)
                    .map_err(|_| StoreError::Corrupt(format!("day {day} out of range")))?,
            )
            .ok_or_else(|| StoreError::Corrupt(format!("day {day} out of range")))?;
            Ok(ProbeDay {
                day,
                probes: row.get("probes").db()?,
                ok: row.get("ok").db()?,
                avg_latency_ms: row.get("avg_latency_ms").db()?,
            })
        },
    )
}

/// Days from 0001-01-01 (day 1 in chrono's count) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

pub(crate) fn purge(
    c: &SqlConn,
    raw_before: &Timestamp,
    days_before: NaiveDate,
) -> StoreResult<u64> {
    let raw = c
        .prepare_cached("DELETE FROM connection_probes WHERE checked_at < ?1")
        .db()?
        .execute([micros(raw_before)])
        .db()?;
    let day = i64::from(days_before.num_days_from_ce()) - UNIX_EPOCH_DAYS_FROM_CE;
    let days = c
        .prepare_cached("DELETE FROM connection_probe_days WHERE day < ?1")
        .db()?
        .execute([day])
        .db()?;
    Ok((raw + days) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_are_utc_dates() {
        let epoch = NaiveDate::from_num_days_from_ce_opt(UNIX_EPOCH_DAYS_FROM_CE as i32).unwrap();
        assert_eq!(epoch, NaiveDate::from_ymd_opt(1970, 1, 1).unwrap());
    }
}
