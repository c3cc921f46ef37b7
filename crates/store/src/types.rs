//! Row types the [`crate::Store`] trait reads and writes.

use millwright_core::{
    credits::Deployment, scope::Scope, status::ConnectionStatus, time::Timestamp,
};
use serde_json::Value;

/// A workspace: the tenant. Its secret key is stored only as a SHA-256 hash.
#[derive(Debug, Clone, PartialEq)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub credit_limit: i64,
    /// Overrides the server's default when set; `Some(0)` turns limiting off.
    pub rate_limit_per_minute: Option<i64>,
    /// The workspace data key, sealed by the master key.
    pub wrapped_data_key: Vec<u8>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewWorkspace {
    pub id: String,
    pub name: String,
    pub credit_limit: i64,
    pub rate_limit_per_minute: Option<i64>,
    pub secret_key_hash: String,
    pub wrapped_data_key: Vec<u8>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub workspace_id: String,
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: String,
    pub workspace_id: String,
    pub email: String,
    pub password_hash: String,
    pub created_at: Timestamp,
}

/// The latest probe result shown on a connection (filled by the health layer).
#[derive(Debug, Clone, PartialEq)]
pub struct HealthSnapshot {
    pub status: String,
    pub checked_at: Timestamp,
    pub latency_ms: Option<i64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub id: String,
    pub workspace_id: String,
    pub connector: String,
    pub deployment: Deployment,
    pub name: String,
    pub status: ConnectionStatus,
    pub credits: i64,
    /// A JSON object of the workspace's own string keys and values.
    pub metadata: Value,
    /// Upstream credentials as a JSON object, sealed under the workspace data key with the
    /// connection id as associated data.
    pub sealed_credentials: Vec<u8>,
    /// `{frequency_minutes, history_days, entities}` as given at connect time.
    pub sync_settings: Value,
    /// Per-connection field mappings (custom fields, remaps).
    pub field_mappings: Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub disconnected_at: Option<Timestamp>,
    pub last_sync_at: Option<Timestamp>,
    pub health: Option<HealthSnapshot>,
}

#[derive(Debug, Clone)]
pub struct NewConnection {
    pub id: String,
    pub workspace_id: String,
    pub connector: String,
    pub deployment: Deployment,
    pub name: String,
    pub status: ConnectionStatus,
    pub credits: i64,
    pub metadata: Value,
    pub sealed_credentials: Vec<u8>,
    pub sync_settings: Value,
    pub field_mappings: Value,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Default)]
pub struct ConnectionPatch {
    pub name: Option<String>,
    /// Replaces the whole metadata object.
    pub metadata: Option<Value>,
}

#[derive(Debug, Clone, Default)]
pub struct ConnectionFilter {
    pub status: Option<ConnectionStatus>,
    pub connector: Option<String>,
    /// Every pair must match `metadata[key] == value` (string values).
    pub metadata: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Disconnected {
    pub connection: Connection,
    /// `false` when the connection was already disconnected.
    pub changed: bool,
    pub jobs_cancelled: u64,
}

#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: String,
    pub connection_id: String,
    pub workspace_id: String,
    pub token_hash: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub id: String,
    pub connection_id: String,
    pub workspace_id: String,
    pub token_hash: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// A token found by its hash, with what the authenticator needs of its connection.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenLookup {
    pub token: TokenRecord,
    pub connection_status: ConnectionStatus,
}

/// Keyset page request: items strictly after the item with id `after`, newest first.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub after: Option<String>,
    pub limit: u32,
}

impl PageRequest {
    pub fn first(limit: u32) -> PageRequest {
        PageRequest { after: None, limit }
    }
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The id to pass as `after` for the next page; `None` at the end.
    pub next_after: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only tells that more exist.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32, id: impl Fn(&T) -> String) -> Page<T> {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_after = if more { rows.last().map(&id) } else { None };
        Page {
            items: rows,
            next_after,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        [
            JobState::Queued,
            JobState::Running,
            JobState::Done,
            JobState::Cancelled,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: String,
    pub kind: String,
    pub workspace_id: Option<String>,
    pub connection_id: Option<String>,
    pub payload: Value,
    pub run_at: Timestamp,
    /// At most one queued-or-running job per dedupe key.
    pub dedupe_key: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub workspace_id: Option<String>,
    pub connection_id: Option<String>,
    pub payload: Value,
    pub state: JobState,
    pub run_at: Timestamp,
    pub attempts: i64,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub dedupe_key: Option<String>,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

/// One API request as logged. Bodies are already truncated and redacted by the API layer.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestLog {
    pub request_id: String,
    pub workspace_id: Option<String>,
    pub connection_id: Option<String>,
    pub method: String,
    pub path: String,
    pub status: i64,
    pub duration_ms: i64,
    pub request_headers: Value,
    pub request_body: Option<String>,
    pub response_body: Option<String>,
    pub error_code: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Default)]
pub struct RequestLogFilter {
    pub request_id: Option<String>,
    pub connection_id: Option<String>,
    pub status: Option<i64>,
    pub since: Option<Timestamp>,
}

/// What `/readyz` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub applied_migrations: u32,
    pub known_migrations: u32,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.applied_migrations >= self.known_migrations
    }
}
