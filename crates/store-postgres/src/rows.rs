//! Decoding rows into the store's types, and sqlx errors into [`StoreError`].

use millwright_core::{
    credits::Deployment, scope, status::ConnectionStatus, time::Timestamp, Entity,
};
use millwright_store::{
    Connection, Delivery, DeliveryAttempt, DeliveryStatus, Event, HealthSnapshot,
    IdempotentResponse, Job, JobState, RequestLog, RunStatus, StoreError, StoreResult,
    StoredRecord, SyncMode, SyncRun, SyncState, TokenLookup, TokenRecord, User, WebhookEndpoint,
    Workspace,
};
use sqlx::{postgres::PgRow, types::Json, Row};

/// Maps an sqlx error to the store's error: unique violations become [`StoreError::Conflict`]
/// (the API turns them into 409s), undecodable values [`StoreError::Corrupt`], and everything
/// else — unreachable server, timeouts, other SQL errors — [`StoreError::Backend`].
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(match d.constraint() {
                Some(c) => format!("{} ({c})", d.message()),
                None => d.message().to_owned(),
            })
        }
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_) => StoreError::Corrupt(e.to_string()),
        _ => StoreError::Backend(e.to_string()),
    }
}

/// One column, with decoding failures reported as corruption rather than as a backend fault.
fn col<'r, T>(row: &'r PgRow, name: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(name)
        .map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
}

/// A `workspaces` row.
pub(crate) fn workspace(row: &PgRow) -> StoreResult<Workspace> {
    Ok(Workspace {
        id: col(row, "id")?,
        name: col(row, "name")?,
        credit_limit: col(row, "credit_limit")?,
        rate_limit_per_minute: col(row, "rate_limit_per_minute")?,
        wrapped_data_key: col(row, "wrapped_data_key")?,
        created_at: col(row, "created_at")?,
    })
}

/// A `users` row.
pub(crate) fn user(row: &PgRow) -> StoreResult<User> {
    Ok(User {
        id: col(row, "id")?,
        workspace_id: col(row, "workspace_id")?,
        email: col(row, "email")?,
        password_hash: col(row, "password_hash")?,
        created_at: col(row, "created_at")?,
    })
}

fn connection_status(id: &str, s: &str) -> StoreResult<ConnectionStatus> {
    ConnectionStatus::parse(s)
        .ok_or_else(|| StoreError::Corrupt(format!("connection {id}: unknown status {s:?}")))
}

/// A `connections` row (`SELECT *` or `RETURNING *`).
pub(crate) fn connection(row: &PgRow) -> StoreResult<Connection> {
    let id: String = col(row, "id")?;
    let deployment: String = col(row, "deployment")?;
    let deployment = Deployment::parse(&deployment).ok_or_else(|| {
        StoreError::Corrupt(format!(
            "connection {id}: unknown deployment {deployment:?}"
        ))
    })?;
    let status: String = col(row, "status")?;
    let status = connection_status(&id, &status)?;
    let health = match col::<Option<String>>(row, "health_status")? {
        None => None,
        Some(status) => Some(HealthSnapshot {
            status,
            checked_at: col::<Option<Timestamp>>(row, "health_checked_at")?.ok_or_else(|| {
                StoreError::Corrupt(format!("connection {id}: health status without a time"))
            })?,
            latency_ms: col(row, "health_latency_ms")?,
            error: col(row, "health_error")?,
        }),
    };
    Ok(Connection {
        workspace_id: col(row, "workspace_id")?,
        connector: col(row, "connector")?,
        deployment,
        name: col(row, "name")?,
        status,
        credits: col(row, "credits")?,
        metadata: col(row, "metadata")?,
        sealed_credentials: col(row, "sealed_credentials")?,
        sync_settings: col(row, "sync_settings")?,
        field_mappings: col(row, "field_mappings")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
        disconnected_at: col(row, "disconnected_at")?,
        last_sync_at: col(row, "last_sync_at")?,
        health,
        id,
    })
}

/// A `connection_tokens` row.
pub(crate) fn token(row: &PgRow) -> StoreResult<TokenRecord> {
    let scopes: String = col(row, "scopes")?;
    Ok(TokenRecord {
        id: col(row, "id")?,
        connection_id: col(row, "connection_id")?,
        workspace_id: col(row, "workspace_id")?,
        token_hash: col(row, "token_hash")?,
        scopes: scope::split(&scopes),
        expires_at: col(row, "expires_at")?,
        revoked_at: col(row, "revoked_at")?,
        created_at: col(row, "created_at")?,
    })
}

/// A token row joined with its connection's status as `connection_status`.
pub(crate) fn token_lookup(row: &PgRow) -> StoreResult<TokenLookup> {
    let token = token(row)?;
    let status: String = col(row, "connection_status")?;
    let connection_status = connection_status(&token.connection_id, &status)?;
    Ok(TokenLookup {
        token,
        connection_status,
    })
}

/// A `jobs` row.
pub(crate) fn job(row: &PgRow) -> StoreResult<Job> {
    let id: String = col(row, "id")?;
    let state: String = col(row, "state")?;
    let state = JobState::parse(&state)
        .ok_or_else(|| StoreError::Corrupt(format!("job {id}: unknown state {state:?}")))?;
    Ok(Job {
        kind: col(row, "kind")?,
        workspace_id: col(row, "workspace_id")?,
        connection_id: col(row, "connection_id")?,
        payload: col(row, "payload")?,
        state,
        run_at: col(row, "run_at")?,
        attempts: col(row, "attempts")?,
        lease_owner: col(row, "lease_owner")?,
        lease_expires_at: col(row, "lease_expires_at")?,
        last_error: col(row, "last_error")?,
        dedupe_key: col(row, "dedupe_key")?,
        created_at: col(row, "created_at")?,
        finished_at: col(row, "finished_at")?,
        id,
    })
}

/// A `request_logs` row.
pub(crate) fn request_log(row: &PgRow) -> StoreResult<RequestLog> {
    Ok(RequestLog {
        request_id: col(row, "request_id")?,
        workspace_id: col(row, "workspace_id")?,
        connection_id: col(row, "connection_id")?,
        method: col(row, "method")?,
        path: col(row, "path")?,
        status: col(row, "status")?,
        duration_ms: col(row, "duration_ms")?,
        request_headers: col(row, "request_headers")?,
        request_body: col(row, "request_body")?,
        response_body: col(row, "response_body")?,
        error_code: col(row, "error_code")?,
        created_at: col(row, "created_at")?,
    })
}

fn entity(what: &str, s: &str) -> StoreResult<Entity> {
    Entity::parse(s).ok_or_else(|| StoreError::Corrupt(format!("{what}: unknown entity {s:?}")))
}

fn run_status(what: &str, s: &str) -> StoreResult<RunStatus> {
    RunStatus::parse(s)
        .ok_or_else(|| StoreError::Corrupt(format!("{what}: unknown run status {s:?}")))
}

/// A `records` row.
pub(crate) fn record(row: &PgRow) -> StoreResult<StoredRecord> {
    let id: String = col(row, "id")?;
    let e: String = col(row, "entity")?;
    let rendered: Option<String> = col(row, "rendered")?;
    // `data` and `custom_fields` are NOT NULL; they read as NULL only where a list left them
    // out for the rendering.
    let fields = |name: &str| match col::<Option<serde_json::Value>>(row, name)? {
        Some(v) => Ok(v),
        None if rendered.is_some() => Ok(serde_json::Value::Null),
        None => Err(StoreError::Corrupt(format!(
            "record {id}: {name} is NULL without a rendering"
        ))),
    };
    Ok(StoredRecord {
        entity: entity(&format!("record {id}"), &e)?,
        workspace_id: col(row, "workspace_id")?,
        connection_id: col(row, "connection_id")?,
        remote_id: col(row, "remote_id")?,
        data: fields("data")?,
        custom_fields: fields("custom_fields")?,
        // The column is nullable (rows from before 0002); the type is not.
        remote_data: col::<Option<serde_json::Value>>(row, "remote_data")?
            .unwrap_or(serde_json::Value::Null),
        display_name: col(row, "display_name")?,
        remote_created_at: col(row, "remote_created_at")?,
        remote_updated_at: col(row, "remote_updated_at")?,
        content_hash: col(row, "content_hash")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
        deleted_at: col(row, "deleted_at")?,
        rendered,
        id,
    })
}

/// An `events` row.
pub(crate) fn event(row: &PgRow) -> StoreResult<Event> {
    Ok(Event {
        id: col(row, "id")?,
        workspace_id: col(row, "workspace_id")?,
        connection_id: col(row, "connection_id")?,
        event_type: col(row, "type")?,
        data: col(row, "data")?,
        created_at: col(row, "created_at")?,
    })
}

/// A `sync_runs` row.
pub(crate) fn sync_run(row: &PgRow) -> StoreResult<SyncRun> {
    let id: String = col(row, "id")?;
    let what = format!("sync run {id}");
    let e: String = col(row, "entity")?;
    let mode: String = col(row, "mode")?;
    let status: String = col(row, "status")?;
    Ok(SyncRun {
        entity: entity(&what, &e)?,
        mode: SyncMode::parse(&mode)
            .ok_or_else(|| StoreError::Corrupt(format!("{what}: unknown mode {mode:?}")))?,
        status: run_status(&what, &status)?,
        workspace_id: col(row, "workspace_id")?,
        connection_id: col(row, "connection_id")?,
        cursor_from: col(row, "cursor_from")?,
        checkpoint: col(row, "checkpoint")?,
        pages: col(row, "pages")?,
        created: col(row, "created")?,
        updated: col(row, "updated")?,
        deleted: col(row, "deleted")?,
        unchanged: col(row, "unchanged")?,
        error: col(row, "error")?,
        started_at: col(row, "started_at")?,
        finished_at: col(row, "finished_at")?,
        id,
    })
}

/// A `sync_state` row joined with `record_count` and `running_run_id` (see `sync_states`).
pub(crate) fn sync_state(row: &PgRow) -> StoreResult<SyncState> {
    let connection_id: String = col(row, "connection_id")?;
    let what = format!("sync state of {connection_id}");
    let e: String = col(row, "entity")?;
    let last_status = col::<Option<String>>(row, "last_status")?
        .map(|s| run_status(&what, &s))
        .transpose()?;
    Ok(SyncState {
        entity: entity(&what, &e)?,
        cursor: col(row, "cursor")?,
        last_success_at: col(row, "last_success_at")?,
        last_run_at: col(row, "last_run_at")?,
        next_run_at: col(row, "next_run_at")?,
        last_status,
        error: col(row, "error")?,
        paused: col(row, "paused")?,
        record_count: col(row, "record_count")?,
        running_run_id: col(row, "running_run_id")?,
        connection_id,
    })
}

/// An `idempotency_keys` row.
pub(crate) fn idempotent_response(row: &PgRow) -> StoreResult<IdempotentResponse> {
    Ok(IdempotentResponse {
        workspace_id: col(row, "workspace_id")?,
        key: col(row, "key")?,
        request_hash: col(row, "request_hash")?,
        status: col(row, "status")?,
        body: col(row, "body")?,
        created_at: col(row, "created_at")?,
    })
}

/// A `webhook_endpoints` row.
pub(crate) fn webhook_endpoint(row: &PgRow) -> StoreResult<WebhookEndpoint> {
    Ok(WebhookEndpoint {
        id: col(row, "id")?,
        workspace_id: col(row, "workspace_id")?,
        url: col(row, "url")?,
        description: col(row, "description")?,
        event_types: col::<Json<Vec<String>>>(row, "event_types")?.0,
        connection_ids: col::<Json<Vec<String>>>(row, "connection_ids")?.0,
        disabled: col(row, "disabled")?,
        disabled_reason: col(row, "disabled_reason")?,
        sealed_secret: col(row, "sealed_secret")?,
        sealed_previous_secret: col(row, "sealed_previous_secret")?,
        previous_secret_expires_at: col(row, "previous_secret_expires_at")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

/// A `webhook_deliveries` row.
pub(crate) fn delivery(row: &PgRow) -> StoreResult<Delivery> {
    let id: String = col(row, "id")?;
    let status: String = col(row, "status")?;
    let status = DeliveryStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("delivery {id}: unknown status {status:?}")))?;
    Ok(Delivery {
        workspace_id: col(row, "workspace_id")?,
        endpoint_id: col(row, "endpoint_id")?,
        event_id: col(row, "event_id")?,
        event_type: col(row, "event_type")?,
        status,
        attempts: col(row, "attempts")?,
        next_attempt_at: col(row, "next_attempt_at")?,
        first_attempt_at: col(row, "first_attempt_at")?,
        last_attempt_at: col(row, "last_attempt_at")?,
        created_at: col(row, "created_at")?,
        id,
    })
}

/// A `webhook_attempts` row.
pub(crate) fn delivery_attempt(row: &PgRow) -> StoreResult<DeliveryAttempt> {
    Ok(DeliveryAttempt {
        delivery_id: col(row, "delivery_id")?,
        attempted_at: col(row, "attempted_at")?,
        status_code: col(row, "status_code")?,
        duration_ms: col(row, "duration_ms")?,
        response_excerpt: col(row, "response_excerpt")?,
        error: col(row, "error")?,
    })
}
