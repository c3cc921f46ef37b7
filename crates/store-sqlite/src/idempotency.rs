//! Stored answers to idempotent requests, keyed by (workspace, key).

use millwright_core::time::Timestamp;
use millwright_store::{IdempotentResponse, StoreResult};
use rusqlite::{params, Connection as SqlConn};

use crate::decode::{self, micros, optional, IDEMPOTENCY_COLS};
use crate::error::Db;

pub(crate) fn get(
    c: &SqlConn,
    workspace_id: &str,
    key: &str,
) -> StoreResult<Option<IdempotentResponse>> {
    let sql = format!(
        "SELECT {IDEMPOTENCY_COLS} FROM idempotency_keys WHERE workspace_id = ?1 AND key = ?2"
    );
    optional(
        c.prepare_cached(&sql).db()?,
        [workspace_id, key],
        decode::idempotent_response,
    )
}

/// The first answer for a key wins; a later one is not stored (`false`).
pub(crate) fn put(c: &SqlConn, r: &IdempotentResponse) -> StoreResult<bool> {
    let n = c
        .prepare_cached(
            "INSERT INTO idempotency_keys (workspace_id, key, request_hash, status, body, \
             created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (workspace_id, key) DO NOTHING",
        )
        .db()?
        .execute(params![
            r.workspace_id,
            r.key,
            r.request_hash,
            r.status,
            r.body,
            micros(&r.created_at)
        ])
        .db()?;
    Ok(n == 1)
}

pub(crate) fn purge(c: &SqlConn, before: &Timestamp) -> StoreResult<u64> {
    let n = c
        .prepare_cached("DELETE FROM idempotency_keys WHERE created_at < ?1")
        .db()?
        .execute([micros(before)])
        .db()?;
    Ok(n as u64)
}
