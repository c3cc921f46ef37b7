//! Aggregates for the operator metrics (queue depth and lag, connections by status). Both are
//! one grouped scan: `jobs_state_run_at` serves the queued jobs, and connections are few enough
//! to count every refresh.

use chrono::DateTime;
use millwright_core::{status::ConnectionStatus, time::Timestamp};
use millwright_store::{ConnectionStatusCount, JobQueueStat, StoreError, StoreResult};
use rusqlite::Connection as SqlConn;

use crate::decode::micros;
use crate::error::Db;

pub(crate) fn job_queue_stats(c: &SqlConn, now: &Timestamp) -> StoreResult<Vec<JobQueueStat>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT kind, COUNT(*), MIN(CASE WHEN run_at <= ?1 THEN run_at END) \
             FROM jobs WHERE state = 'queued' GROUP BY kind ORDER BY kind",
        )
        .db()?;
    let rows = stmt
        .query_map([micros(now)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<i64>>(2)?,
            ))
        })
        .db()?;
    let mut out = Vec::new();
    for row in rows {
        let (kind, queued, oldest) = row.db()?;
        let oldest_due_at = oldest
            .map(|v| {
                DateTime::from_timestamp_micros(v).ok_or_else(|| {
                    StoreError::Corrupt(format!("jobs.run_at: timestamp {v} out of range"))
                })
            })
            .transpose()?;
        out.push(JobQueueStat {
            kind,
            queued,
            oldest_due_at,
        });
    }
    Ok(out)
}

pub(crate) fn connection_status_counts(c: &SqlConn) -> StoreResult<Vec<ConnectionStatusCount>> {
    let mut stmt = c
        .prepare_cached("SELECT status, COUNT(*) FROM connections GROUP BY status ORDER BY status")
        .db()?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .db()?;
    let mut out = Vec::new();
    for row in rows {
        let (status, count) = row.db()?;
        let status = ConnectionStatus::parse(&status).ok_or_else(|| {
            StoreError::Corrupt(format!("connections.status: unknown status {status:?}"))
        })?;
        out.push(ConnectionStatusCount { status, count });
    }
    Ok(out)
}
