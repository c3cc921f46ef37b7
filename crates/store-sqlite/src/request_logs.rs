//! The API's request log.

use millwright_core::time::Timestamp;
use millwright_store::{Page, PageRequest, RequestLog, RequestLogFilter, StoreResult};
use rusqlite::{params, types::Value as SqlValue, Connection as SqlConn};

use crate::decode::{self, all, json_text, micros, optional, REQUEST_LOG_COLS};
use crate::error::Db;

/// Inserts the whole batch with one prepared statement; the caller's transaction makes it all
/// or nothing (a duplicate request id fails the batch with a conflict).
pub(crate) fn insert(c: &SqlConn, logs: &[RequestLog]) -> StoreResult<()> {
    let mut stmt = c
        .prepare_cached(
            "INSERT INTO request_logs (request_id, workspace_id, connection_id, method, path, \
             status, duration_ms, request_headers, request_body, response_body, error_code, \
             created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )
        .db()?;
    for l in logs {
        stmt.execute(params![
            l.request_id,
            l.workspace_id,
            l.connection_id,
            l.method,
            l.path,
            l.status,
            l.duration_ms,
            json_text(&l.request_headers),
            l.request_body,
            l.response_body,
            l.error_code,
            micros(&l.created_at),
        ])
        .db()?;
    }
    Ok(())
}

pub(crate) fn list(
    c: &SqlConn,
    workspace_id: &str,
    filter: &RequestLogFilter,
    page: &PageRequest,
) -> StoreResult<Page<RequestLog>> {
    let mut sql = format!("SELECT {REQUEST_LOG_COLS} FROM request_logs WHERE workspace_id = ?");
    let mut args: Vec<SqlValue> = vec![workspace_id.to_owned().into()];
    if let Some(request_id) = &filter.request_id {
        sql.push_str(" AND request_id = ?");
        args.push(request_id.clone().into());
    }
    if let Some(connection_id) = &filter.connection_id {
        sql.push_str(" AND connection_id = ?");
        args.push(connection_id.clone().into());
    }
    if let Some(status) = filter.status {
        sql.push_str(" AND status = ?");
        args.push(status.into());
    }
    if let Some(since) = &filter.since {
        sql.push_str(" AND created_at >= ?");
        args.push(micros(since).into());
    }
    if let Some(after) = &page.after {
        sql.push_str(" AND request_id < ?");
        args.push(after.clone().into());
    }
    sql.push_str(" ORDER BY request_id DESC LIMIT ?");
    args.push(SqlValue::Integer(i64::from(page.limit) + 1));
    let rows = all(
        c.prepare_cached(&sql).db()?,
        rusqlite::params_from_iter(args),
        decode::request_log,
    )?;
    Ok(Page::from_overfetch(rows, page.limit, |x| {
        x.request_id.clone()
    }))
}

pub(crate) fn get(
    c: &SqlConn,
    workspace_id: &str,
    request_id: &str,
) -> StoreResult<Option<RequestLog>> {
    let sql = format!(
        "SELECT {REQUEST_LOG_COLS} FROM request_logs WHERE workspace_id = ?1 AND request_id = ?2"
    );
    optional(
        c.prepare_cached(&sql).db()?,
        [workspace_id, request_id],
        decode::request_log,
    )
}

pub(crate) fn purge(c: &SqlConn, before: &Timestamp) -> StoreResult<u64> {
    let n = c
        .prepare_cached("DELETE FROM request_logs WHERE created_at < ?1")
        .db()?
        .execute([micros(before)])
        .db()?;
    Ok(n as u64)
}
