//! Leased background jobs. On SQLite the single writer serialises claims, so a claim is one
//! `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING` and two workers can never take the same
//! job (PostgreSQL needs `FOR UPDATE SKIP LOCKED` for the same guarantee).

use millwright_core::time::Timestamp;
use millwright_store::{Job, NewJob, StoreError, StoreResult};
use rusqlite::{params, Connection as SqlConn};

use crate::decode::{self, all, json_text, micros, optional, JOB_COLS};
use crate::error::Db;

/// Inserts a queued job unless a live (queued or running) job has the same dedupe key. The
/// conflict target names the partial unique index, so any other conflict (a duplicate id) is
/// still an error rather than a silent `false`.
pub(crate) fn enqueue(c: &SqlConn, job: &NewJob) -> StoreResult<bool> {
    let inserted = c
        .prepare_cached(
            "INSERT INTO jobs (id, kind, workspace_id, connection_id, payload, state, run_at, \
             attempts, dedupe_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, 0, ?7, ?8) \
             ON CONFLICT (dedupe_key) WHERE state IN ('queued', 'running') DO NOTHING",
        )
        .db()?
        .execute(params![
            job.id,
            job.kind,
            job.workspace_id,
            job.connection_id,
            json_text(&job.payload),
            micros(&job.run_at),
            job.dedupe_key,
            micros(&job.created_at),
        ])
        .db()?;
    Ok(inserted == 1)
}

pub(crate) fn claim(
    c: &SqlConn,
    kinds: &[&str],
    worker: &str,
    now: &Timestamp,
    lease: chrono::Duration,
    limit: u32,
) -> StoreResult<Vec<Job>> {
    if kinds.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let expires = now
        .checked_add_signed(lease)
        .ok_or_else(|| StoreError::Backend(format!("lease {lease} overflows the time range")))?;
    // Kinds travel as one JSON array parameter so the statement text (and its cache entry)
    // does not depend on how many kinds are asked for.
    let kinds_json =
        serde_json::to_string(kinds).map_err(|e| StoreError::Backend(e.to_string()))?;
    // Due queued jobs and expired leases are picked by two separate index scans, each stopping
    // at the limit, and only those few candidates are ordered. One `state = … OR state = …`
    // condition would sort every due job on each claim: with a backlog of N due jobs (a probe
    // round over 10,000 connections) each claim cost O(N) and the round O(N²).
    let sql = format!(
        "UPDATE jobs SET state = 'running', lease_owner = ?2, lease_expires_at = ?3, \
         attempts = attempts + 1 WHERE id IN (\
           SELECT id FROM (\
             SELECT id, run_at FROM (SELECT id, run_at FROM jobs INDEXED BY jobs_queued_due \
               WHERE state = 'queued' AND run_at <= ?4 \
               AND kind IN (SELECT value FROM json_each(?1)) ORDER BY run_at, id LIMIT ?5) \
             UNION ALL \
             SELECT id, run_at FROM (SELECT id, run_at FROM jobs INDEXED BY jobs_running_lease \
               WHERE state = 'running' AND lease_expires_at < ?4 \
               AND kind IN (SELECT value FROM json_each(?1)) ORDER BY run_at, id LIMIT ?5)) \
           ORDER BY run_at, id LIMIT ?5) \
         RETURNING {JOB_COLS}"
    );
    let mut jobs = all(
        c.prepare_cached(&sql).db()?,
        params![
            kinds_json,
            worker,
            micros(&expires),
            micros(now),
            i64::from(limit)
        ],
        decode::job,
    )?;
    // RETURNING yields rows in no particular order; callers get the oldest due first.
    jobs.sort_by(|a, b| (a.run_at, &a.id).cmp(&(b.run_at, &b.id)));
    Ok(jobs)
}

pub(crate) fn complete(c: &SqlConn, id: &str, worker: &str, now: &Timestamp) -> StoreResult<bool> {
    let n = c
        .prepare_cached(
            "UPDATE jobs SET state = 'done', finished_at = ?3 \
             WHERE id = ?1 AND lease_owner = ?2 AND state = 'running'",
        )
        .db()?
        .execute(params![id, worker, micros(now)])
        .db()?;
    Ok(n == 1)
}

pub(crate) fn extend_lease(
    c: &SqlConn,
    id: &str,
    worker: &str,
    until: &Timestamp,
) -> StoreResult<bool> {
    let n = c
        .prepare_cached(
            "UPDATE jobs SET lease_expires_at = ?3 \
             WHERE id = ?1 AND lease_owner = ?2 AND state = 'running'",
        )
        .db()?
        .execute(params![id, worker, micros(until)])
        .db()?;
    Ok(n == 1)
}

pub(crate) fn retry(
    c: &SqlConn,
    id: &str,
    worker: &str,
    run_at: &Timestamp,
    error: &str,
) -> StoreResult<bool> {
    let n = c
        .prepare_cached(
            "UPDATE jobs SET state = 'queued', run_at = ?3, last_error = ?4, lease_owner = NULL, \
             lease_expires_at = NULL WHERE id = ?1 AND lease_owner = ?2 AND state = 'running'",
        )
        .db()?
        .execute(params![id, worker, micros(run_at), error])
        .db()?;
    Ok(n == 1)
}

pub(crate) fn get(c: &SqlConn, id: &str) -> StoreResult<Option<Job>> {
    let sql = format!("SELECT {JOB_COLS} FROM jobs WHERE id = ?1");
    optional(c.prepare_cached(&sql).db()?, [id], decode::job)
}

/// Cancels the queued (not the running) jobs of a connection whose kind is listed.
pub(crate) fn cancel_queued(
    c: &SqlConn,
    connection_id: &str,
    kinds: &[String],
    now: &Timestamp,
) -> StoreResult<u64> {
    if kinds.is_empty() {
        return Ok(0);
    }
    let n = c
        .prepare_cached(
            "UPDATE jobs SET state = 'cancelled', finished_at = ?3 WHERE connection_id = ?1 \
             AND state = 'queued' AND kind IN (SELECT value FROM json_each(?2))",
        )
        .db()?
        .execute(params![
            connection_id,
            crate::records::json_list(kinds)?,
            micros(now)
        ])
        .db()?;
    Ok(n as u64)
}
