//! Encoding of values into SQLite columns and strict decoding of rows back into store types.
//! A value that does not decode (unknown enum text, invalid JSON, out-of-range timestamp) is
//! reported as [`StoreError::Corrupt`] rather than guessed at.

use chrono::DateTime;
use millwright_core::{
    credits::Deployment,
    scope::{self, Scope},
    status::ConnectionStatus,
    time::Timestamp,
    Entity,
};
use millwright_store::{
    Connection, Delivery, DeliveryAttempt, DeliveryStatus, Event, HealthSnapshot,
    IdempotentResponse, Job, JobState, RequestLog, RunStatus, StoreError, StoreResult,
    StoredRecord, SyncMode, SyncRun, SyncState, TokenRecord, User, WebhookEndpoint, Workspace,
};
use rusqlite::Row;
use serde_json::Value;

use crate::error::Db;

/// The stored form of a timestamp: microseconds since the Unix epoch, UTC.
pub(crate) fn micros(ts: &Timestamp) -> i64 {
    ts.timestamp_micros()
}

pub(crate) fn micros_opt(ts: &Option<Timestamp>) -> Option<i64> {
    ts.as_ref().map(micros)
}

/// The stored form of a JSON value.
pub(crate) fn json_text(v: &Value) -> String {
    v.to_string()
}

fn corrupt(col: &str, what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{col}: {what}"))
}

fn get<T: rusqlite::types::FromSql>(row: &Row<'_>, col: &str) -> StoreResult<T> {
    row.get(col).db()
}

fn ts_from(col: &str, v: i64) -> StoreResult<Timestamp> {
    DateTime::from_timestamp_micros(v)
        .ok_or_else(|| corrupt(col, format!("timestamp {v} out of range")))
}

fn ts(row: &Row<'_>, col: &str) -> StoreResult<Timestamp> {
    ts_from(col, get(row, col)?)
}

fn ts_opt(row: &Row<'_>, col: &str) -> StoreResult<Option<Timestamp>> {
    get::<Option<i64>>(row, col)?
        .map(|v| ts_from(col, v))
        .transpose()
}

fn json(row: &Row<'_>, col: &str) -> StoreResult<Value> {
    let text: String = get(row, col)?;
    serde_json::from_str(&text).map_err(|e| corrupt(col, format!("invalid JSON: {e}")))
}

fn status(row: &Row<'_>, col: &str) -> StoreResult<ConnectionStatus> {
    let text: String = get(row, col)?;
    ConnectionStatus::parse(&text).ok_or_else(|| corrupt(col, format!("unknown status {text:?}")))
}

/// Unlike [`scope::split`], which drops unknown words, an unknown scope here is an error: a
/// token must never silently lose (or be read with fewer) rights than were stored.
fn scopes(row: &Row<'_>, col: &str) -> StoreResult<Vec<Scope>> {
    let text: String = get(row, col)?;
    text.split_whitespace()
        .map(|w| Scope::parse(w).ok_or_else(|| corrupt(col, format!("unknown scope {w:?}"))))
        .collect()
}

/// The stored form of scopes (sorted, de-duplicated, space-separated).
pub(crate) fn scopes_text(s: &[Scope]) -> String {
    scope::join(s)
}

pub(crate) const WORKSPACE_COLS: &str =
    "id, name, credit_limit, rate_limit_per_minute, wrapped_data_key, created_at";

pub(crate) fn workspace(row: &Row<'_>) -> StoreResult<Workspace> {
    Ok(Workspace {
        id: get(row, "id")?,
        name: get(row, "name")?,
        credit_limit: get(row, "credit_limit")?,
        rate_limit_per_minute: get(row, "rate_limit_per_minute")?,
        wrapped_data_key: get(row, "wrapped_data_key")?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) const USER_COLS: &str = "id, workspace_id, email, password_hash, created_at";

pub(crate) fn user(row: &Row<'_>) -> StoreResult<User> {
    Ok(User {
        id: get(row, "id")?,
        workspace_id: get(row, "workspace_id")?,
        email: get(row, "email")?,
        password_hash: get(row, "password_hash")?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) const CONNECTION_COLS: &str = "id, workspace_id, connector, deployment, name, status, \
     credits, metadata, sealed_credentials, sync_settings, field_mappings, created_at, updated_at, \
     disconnected_at, last_sync_at, health_status, health_checked_at, health_latency_ms, \
     health_error";

pub(crate) fn connection(row: &Row<'_>) -> StoreResult<Connection> {
    let deployment: String = get(row, "deployment")?;
    let health = match get::<Option<String>>(row, "health_status")? {
        None => None,
        Some(status) => Some(HealthSnapshot {
            status,
            checked_at: ts_opt(row, "health_checked_at")?.ok_or_else(|| {
                corrupt("health_checked_at", "missing while health_status is set")
            })?,
            latency_ms: get(row, "health_latency_ms")?,
            error: get(row, "health_error")?,
        }),
    };
    Ok(Connection {
        id: get(row, "id")?,
        workspace_id: get(row, "workspace_id")?,
        connector: get(row, "connector")?,
        deployment: Deployment::parse(&deployment)
            .ok_or_else(|| corrupt("deployment", format!("unknown deployment {deployment:?}")))?,
        name: get(row, "name")?,
        status: status(row, "status")?,
        credits: get(row, "credits")?,
        metadata: json(row, "metadata")?,
        sealed_credentials: get(row, "sealed_credentials")?,
        sync_settings: json(row, "sync_settings")?,
        field_mappings: json(row, "field_mappings")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
        disconnected_at: ts_opt(row, "disconnected_at")?,
        last_sync_at: ts_opt(row, "last_sync_at")?,
        health,
    })
}

pub(crate) const TOKEN_COLS: &str =
    "id, connection_id, workspace_id, token_hash, scopes, expires_at, revoked_at, created_at";

pub(crate) fn token(row: &Row<'_>) -> StoreResult<TokenRecord> {
    Ok(TokenRecord {
        id: get(row, "id")?,
        connection_id: get(row, "connection_id")?,
        workspace_id: get(row, "workspace_id")?,
        token_hash: get(row, "token_hash")?,
        scopes: scopes(row, "scopes")?,
        expires_at: ts_opt(row, "expires_at")?,
        revoked_at: ts_opt(row, "revoked_at")?,
        created_at: ts(row, "created_at")?,
    })
}

/// The connection status joined to a token lookup, under its own column name.
pub(crate) fn connection_status(row: &Row<'_>) -> StoreResult<ConnectionStatus> {
    status(row, "connection_status")
}

pub(crate) const JOB_COLS: &str = "id, kind, workspace_id, connection_id, payload, state, run_at, \
     attempts, lease_owner, lease_expires_at, last_error, dedupe_key, created_at, finished_at";

pub(crate) fn job(row: &Row<'_>) -> StoreResult<Job> {
    let state: String = get(row, "state")?;
    Ok(Job {
        id: get(row, "id")?,
        kind: get(row, "kind")?,
        workspace_id: get(row, "workspace_id")?,
        connection_id: get(row, "connection_id")?,
        payload: json(row, "payload")?,
        state: JobState::parse(&state)
            .ok_or_else(|| corrupt("state", format!("unknown job state {state:?}")))?,
        run_at: ts(row, "run_at")?,
        attempts: get(row, "attempts")?,
        lease_owner: get(row, "lease_owner")?,
        lease_expires_at: ts_opt(row, "lease_expires_at")?,
        last_error: get(row, "last_error")?,
        dedupe_key: get(row, "dedupe_key")?,
        created_at: ts(row, "created_at")?,
        finished_at: ts_opt(row, "finished_at")?,
    })
}

pub(crate) const REQUEST_LOG_COLS: &str = "request_id, workspace_id, connection_id, method, path, \
     status, duration_ms, request_headers, request_body, response_body, error_code, created_at";

pub(crate) fn request_log(row: &Row<'_>) -> StoreResult<RequestLog> {
    Ok(RequestLog {
        request_id: get(row, "request_id")?,
        workspace_id: get(row, "workspace_id")?,
        connection_id: get(row, "connection_id")?,
        method: get(row, "method")?,
        path: get(row, "path")?,
        status: get(row, "status")?,
        duration_ms: get(row, "duration_ms")?,
        request_headers: json(row, "request_headers")?,
        request_body: get(row, "request_body")?,
        response_body: get(row, "response_body")?,
        error_code: get(row, "error_code")?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn entity(row: &Row<'_>, col: &str) -> StoreResult<Entity> {
    let text: String = get(row, col)?;
    Entity::parse(&text).ok_or_else(|| corrupt(col, format!("unknown entity {text:?}")))
}

fn run_status(row: &Row<'_>, col: &str) -> StoreResult<RunStatus> {
    let text: String = get(row, col)?;
    RunStatus::parse(&text).ok_or_else(|| corrupt(col, format!("unknown run status {text:?}")))
}

fn run_status_opt(row: &Row<'_>, col: &str) -> StoreResult<Option<RunStatus>> {
    match get::<Option<String>>(row, col)? {
        None => Ok(None),
        Some(text) => RunStatus::parse(&text)
            .map(Some)
            .ok_or_else(|| corrupt(col, format!("unknown run status {text:?}"))),
    }
}

/// A STRICT INTEGER column used as a boolean: only 0 and 1 are valid.
fn boolean(row: &Row<'_>, col: &str) -> StoreResult<bool> {
    match get::<i64>(row, col)? {
        0 => Ok(false),
        1 => Ok(true),
        v => Err(corrupt(col, format!("boolean {v} is neither 0 nor 1"))),
    }
}

/// The columns of a record, in the order [`record`] reads them by position.
const RECORD_COL_NAMES: [&str; 16] = [
    "id",
    "workspace_id",
    "connection_id",
    "entity",
    "remote_id",
    "data",
    "custom_fields",
    "remote_data",
    "display_name",
    "remote_created_at",
    "remote_updated_at",
    "content_hash",
    "created_at",
    "updated_at",
    "deleted_at",
    "rendered",
];

pub(crate) const RECORD_COLS: &str = "id, workspace_id, connection_id, entity, remote_id, data, \
     custom_fields, remote_data, display_name, remote_created_at, remote_updated_at, \
     content_hash, created_at, updated_at, deleted_at, rendered";

/// The columns of a list, in [`RECORD_COLS`] order: `remote_data` only when asked; with
/// `rendered`, `data` and `custom_fields` only for rows that have no rendering (the rendering
/// says it all, and not copying or decoding them is the point).
pub(crate) fn record_cols(with_remote_data: bool, rendered: bool) -> String {
    let (data, custom) = if rendered {
        (
            "CASE WHEN rendered IS NULL THEN data END AS data",
            "CASE WHEN rendered IS NULL THEN custom_fields END AS custom_fields",
        )
    } else {
        ("data", "custom_fields")
    };
    let remote = if with_remote_data {
        "remote_data"
    } else {
        "NULL AS remote_data"
    };
    format!(
        "id, workspace_id, connection_id, entity, remote_id, {data}, {custom}, {remote}, \
         display_name, remote_created_at, remote_updated_at, content_hash, created_at, \
         updated_at, deleted_at, rendered"
    )
}

/// A record selected with [`RECORD_COLS`] or [`record_cols`]. Read by position: looking each
/// column up by name scans the column names, a measurable share of a list of 100 records.
pub(crate) fn record(row: &Row<'_>) -> StoreResult<StoredRecord> {
    fn at<T: rusqlite::types::FromSql>(row: &Row<'_>, i: usize) -> StoreResult<T> {
        row.get(i).db()
    }
    let time = |i: usize| ts_from(RECORD_COL_NAMES[i], at(row, i)?);
    let time_opt = |i: usize| {
        at::<Option<i64>>(row, i)?
            .map(|v| ts_from(RECORD_COL_NAMES[i], v))
            .transpose()
    };
    let rendered: Option<String> = at(row, 15)?;
    // `data` and `custom_fields` are NOT NULL; they read as NULL only where a list left them
    // out for the rendering. `remote_data` is NULL when absent or not asked for.
    let json = |i: usize, null_ok: bool| match at::<Option<String>>(row, i)? {
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| corrupt(RECORD_COL_NAMES[i], format!("invalid JSON: {e}"))),
        None if null_ok => Ok(Value::Null),
        None => Err(corrupt(RECORD_COL_NAMES[i], "NULL without a rendering")),
    };
    let entity_text: String = at(row, 3)?;
    Ok(StoredRecord {
        id: at(row, 0)?,
        workspace_id: at(row, 1)?,
        connection_id: at(row, 2)?,
        entity: Entity::parse(&entity_text)
            .ok_or_else(|| corrupt("entity", format!("unknown entity {entity_text:?}")))?,
        remote_id: at(row, 4)?,
        data: json(5, rendered.is_some())?,
        custom_fields: json(6, rendered.is_some())?,
        remote_data: json(7, true)?,
        display_name: at(row, 8)?,
        remote_created_at: time_opt(9)?,
        remote_updated_at: time_opt(10)?,
        content_hash: at(row, 11)?,
        created_at: time(12)?,
        updated_at: time(13)?,
        deleted_at: time_opt(14)?,
        rendered,
    })
}

pub(crate) const EVENT_COLS: &str = "id, workspace_id, connection_id, type, data, created_at";

pub(crate) fn event(row: &Row<'_>) -> StoreResult<Event> {
    Ok(Event {
        id: get(row, "id")?,
        workspace_id: get(row, "workspace_id")?,
        connection_id: get(row, "connection_id")?,
        event_type: get(row, "type")?,
        data: json(row, "data")?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) const SYNC_RUN_COLS: &str = "id, workspace_id, connection_id, entity, mode, status, \
     cursor_from, checkpoint, pages, created, updated, deleted, unchanged, error, started_at, \
     finished_at";

pub(crate) fn sync_run(row: &Row<'_>) -> StoreResult<SyncRun> {
    let mode: String = get(row, "mode")?;
    Ok(SyncRun {
        id: get(row, "id")?,
        workspace_id: get(row, "workspace_id")?,
        connection_id: get(row, "connection_id")?,
        entity: entity(row, "entity")?,
        mode: SyncMode::parse(&mode)
            .ok_or_else(|| corrupt("mode", format!("unknown sync mode {mode:?}")))?,
        status: run_status(row, "status")?,
        cursor_from: get(row, "cursor_from")?,
        checkpoint: get(row, "checkpoint")?,
        pages: get(row, "pages")?,
        created: get(row, "created")?,
        updated: get(row, "updated")?,
        deleted: get(row, "deleted")?,
        unchanged: get(row, "unchanged")?,
        error: get(row, "error")?,
        started_at: ts(row, "started_at")?,
        finished_at: ts_opt(row, "finished_at")?,
    })
}

/// A `sync_state` row with the computed `record_count` and `running_run_id` columns.
pub(crate) fn sync_state(row: &Row<'_>) -> StoreResult<SyncState> {
    Ok(SyncState {
        connection_id: get(row, "connection_id")?,
        entity: entity(row, "entity")?,
        cursor: get(row, "cursor")?,
        last_success_at: ts_opt(row, "last_success_at")?,
        last_run_at: ts_opt(row, "last_run_at")?,
        next_run_at: ts_opt(row, "next_run_at")?,
        last_status: run_status_opt(row, "last_status")?,
        error: get(row, "error")?,
        paused: boolean(row, "paused")?,
        record_count: get(row, "record_count")?,
        running_run_id: get(row, "running_run_id")?,
    })
}

pub(crate) const IDEMPOTENCY_COLS: &str =
    "workspace_id, key, request_hash, status, body, created_at";

pub(crate) fn idempotent_response(row: &Row<'_>) -> StoreResult<IdempotentResponse> {
    Ok(IdempotentResponse {
        workspace_id: get(row, "workspace_id")?,
        key: get(row, "key")?,
        request_hash: get(row, "request_hash")?,
        status: get(row, "status")?,
        body: get(row, "body")?,
        created_at: ts(row, "created_at")?,
    })
}

/// A JSON array of strings (endpoint filters); anything else is corrupt.
fn string_list(row: &Row<'_>, col: &str) -> StoreResult<Vec<String>> {
    let text: String = get(row, col)?;
    serde_json::from_str(&text)
        .map_err(|e| corrupt(col, format!("expected a JSON array of strings: {e}")))
}

/// The stored form of an endpoint filter list.
pub(crate) fn string_list_text(values: &[String]) -> StoreResult<String> {
    serde_json::to_string(values).map_err(|e| StoreError::Backend(e.to_string()))
}

pub(crate) const WEBHOOK_ENDPOINT_COLS: &str = "id, workspace_id, url, description, event_types, \
     connection_ids, disabled, disabled_reason, sealed_secret, sealed_previous_secret, \
     previous_secret_expires_at, created_at, updated_at";

pub(crate) fn webhook_endpoint(row: &Row<'_>) -> StoreResult<WebhookEndpoint> {
    Ok(WebhookEndpoint {
        id: get(row, "id")?,
        workspace_id: get(row, "workspace_id")?,
        url: get(row, "url")?,
        description: get(row, "description")?,
        event_types: string_list(row, "event_types")?,
        connection_ids: string_list(row, "connection_ids")?,
        disabled: boolean(row, "disabled")?,
        disabled_reason: get(row, "disabled_reason")?,
        sealed_secret: get(row, "sealed_secret")?,
        sealed_previous_secret: get(row, "sealed_previous_secret")?,
        previous_secret_expires_at: ts_opt(row, "previous_secret_expires_at")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

pub(crate) const DELIVERY_COLS: &str = "id, workspace_id, endpoint_id, event_id, event_type, \
     status, attempts, next_attempt_at, first_attempt_at, last_attempt_at, created_at";

pub(crate) fn delivery(row: &Row<'_>) -> StoreResult<Delivery> {
    let status: String = get(row, "status")?;
    Ok(Delivery {
        id: get(row, "id")?,
        workspace_id: get(row, "workspace_id")?,
        endpoint_id: get(row, "endpoint_id")?,
        event_id: get(row, "event_id")?,
        event_type: get(row, "event_type")?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| corrupt("status", format!("unknown delivery status {status:?}")))?,
        attempts: get(row, "attempts")?,
        next_attempt_at: ts_opt(row, "next_attempt_at")?,
        first_attempt_at: ts_opt(row, "first_attempt_at")?,
        last_attempt_at: ts_opt(row, "last_attempt_at")?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) const ATTEMPT_COLS: &str =
    "delivery_id, attempted_at, status_code, duration_ms, response_excerpt, error";

pub(crate) fn attempt(row: &Row<'_>) -> StoreResult<DeliveryAttempt> {
    Ok(DeliveryAttempt {
        delivery_id: get(row, "delivery_id")?,
        attempted_at: ts(row, "attempted_at")?,
        status_code: get(row, "status_code")?,
        duration_ms: get(row, "duration_ms")?,
        response_excerpt: get(row, "response_excerpt")?,
        error: get(row, "error")?,
    })
}

/// Runs a query and decodes every row with `decode`.
pub(crate) fn all<T>(
    mut stmt: rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
    decode: impl Fn(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut rows = stmt.query(params).db()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().db()? {
        out.push(decode(row)?);
    }
    Ok(out)
}

/// Runs a query expected to return at most one row and decodes it.
pub(crate) fn optional<T>(
    mut stmt: rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
    decode: impl Fn(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    let mut rows = stmt.query(params).db()?;
    match rows.next().db()? {
        Some(row) => decode(row).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_keep_microseconds() {
        let t = millwright_core::time::now();
        assert_eq!(ts_from("t", micros(&t)).unwrap(), t);
        assert!(matches!(
            ts_from("t", i64::MAX),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn unknown_scopes_and_bad_json_are_corrupt() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        let sql = "SELECT 'read nonsense' AS scopes, '{oops' AS metadata";
        let s = optional(c.prepare_cached(sql).unwrap(), [], |r| scopes(r, "scopes"));
        assert!(matches!(s, Err(StoreError::Corrupt(m)) if m.contains("nonsense")));
        let j = optional(c.prepare_cached(sql).unwrap(), [], |r| json(r, "metadata"));
        assert!(matches!(j, Err(StoreError::Corrupt(m)) if m.contains("metadata")));
        let sql = "SELECT 'passthrough read' AS scopes";
        let s = optional(c.prepare_cached(sql).unwrap(), [], |r| scopes(r, "scopes")).unwrap();
        assert_eq!(s, Some(vec![Scope::Passthrough, Scope::Read]));
    }
}
