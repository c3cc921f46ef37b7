//! Aggregates for the operator metrics (queue depth and lag, connections by status), each one
//! grouped query: `jobs` has an index on `(state, run_at)`, and connections are few enough to
//! count every refresh.

use millwright_core::{status::ConnectionStatus, time::Timestamp};
use millwright_store::{ConnectionStatusCount, JobQueueStat, StoreError, StoreResult};
use sqlx::{PgPool, Row};

use crate::rows::db_err;

fn corrupt(e: sqlx::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

pub(crate) async fn job_queue_stats(
    pool: &PgPool,
    now: Timestamp,
) -> StoreResult<Vec<JobQueueStat>> {
    let rows = sqlx::query(
        "SELECT kind, COUNT(*) AS queued, MIN(run_at) FILTER (WHERE run_at <= $1) AS oldest_due_at \
         FROM jobs WHERE state = 'queued' GROUP BY kind ORDER BY kind",
    )
    .bind(now)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(JobQueueStat {
                kind: r.try_get("kind").map_err(corrupt)?,
                queued: r.try_get("queued").map_err(corrupt)?,
                oldest_due_at: r.try_get("oldest_due_at").map_err(corrupt)?,
            })
        })
        .collect()
}

pub(crate) async fn connection_status_counts(
    pool: &PgPool,
) -> StoreResult<Vec<ConnectionStatusCount>> {
    let rows = sqlx::query(
        "SELECT status, COUNT(*) AS count FROM connections GROUP BY status ORDER BY status",
    )
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get("status").map_err(corrupt)?;
            Ok(ConnectionStatusCount {
                status: ConnectionStatus::parse(&status).ok_or_else(|| {
                    StoreError::Corrupt(format!("connections.status: unknown status {status:?}"))
                })?,
                count: r.try_get("count").map_err(corrupt)?,
            })
        })
        .collect()
}
