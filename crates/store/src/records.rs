//! Row types of the synced store: records, events, sync runs and state, idempotency keys.

use millwright_core::{time::Timestamp, Entity};
use serde_json::Value;

/// One record as a connector produced it, ready to store: relations already rewritten to
/// Millwright ids, its stable `id` derived with [`millwright_core::record::record_id`], and its
/// content hash computed with [`millwright_core::record::content_hash`].
#[derive(Debug, Clone, PartialEq)]
pub struct RecordWrite {
    pub id: String,
    pub remote_id: String,
    /// The unified fields, a JSON object.
    pub data: Value,
    pub custom_fields: Value,
    pub remote_data: Value,
    pub display_name: Option<String>,
    pub remote_created_at: Option<Timestamp>,
    pub remote_updated_at: Option<Timestamp>,
    pub content_hash: String,
}

/// A record as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub id: String,
    pub workspace_id: String,
    pub connection_id: String,
    pub entity: Entity,
    pub remote_id: String,
    pub data: Value,
    pub custom_fields: Value,
    pub remote_data: Value,
    pub display_name: Option<String>,
    pub remote_created_at: Option<Timestamp>,
    pub remote_updated_at: Option<Timestamp>,
    pub content_hash: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
    /// The record's JSON as the unified API shows it before field mappings and without
    /// `remote_data`: [`millwright_core::record::record_json`] as compact text, written with the
    /// record (and by a deletion) so that reads can send it without decoding and re-encoding. `None` for rows not rewritten since
    /// the column was added, and in lists not asking for it.
    pub rendered: Option<String>,
}

/// One transaction's worth of changes to one entity of one connection: a sync page, or a
/// write through the API.
#[derive(Debug, Clone)]
pub struct PageWrite {
    pub workspace_id: String,
    pub connection_id: String,
    pub entity: Entity,
    /// The sync run this page belongs to (`None` for writes through the API). When set, the
    /// run's counters and checkpoint are updated in the same transaction, and the write is
    /// refused with [`crate::StoreError::RunNotRunning`] unless the run is still `running`.
    pub run_id: Option<String>,
    pub records: Vec<RecordWrite>,
    /// Source ids the source reported deleted, or that reconciliation found missing.
    pub deleted_remote_ids: Vec<String>,
    /// Where the run resumes if it is interrupted after this page.
    pub checkpoint: Option<String>,
    pub now: Timestamp,
}

/// What [`crate::Store::apply_page`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageOutcome {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deleted: u64,
    /// Ids of the records created or updated, in input order.
    pub changed_ids: Vec<String>,
}

/// Filters and paging of the unified list endpoints; ordered by (`updated_at`, `id`) ascending.
#[derive(Debug, Clone, Default)]
pub struct RecordQuery {
    /// Keyset position: records strictly after (`updated_at`, `id`).
    pub after: Option<(Timestamp, String)>,
    pub limit: u32,
    /// `updated_at >= modified_after`.
    pub modified_after: Option<Timestamp>,
    /// `updated_at < modified_before`.
    pub modified_before: Option<Timestamp>,
    pub include_deleted: bool,
    /// Equality on top-level unified fields: the field's JSON value, as text, equals the value
    /// (for arrays such as `assignee_ids`, membership).
    pub filters: Vec<(String, String)>,
    /// Load each record's `remote_data` (the largest column); when `false` it reads as `null`.
    pub with_remote_data: bool,
    /// Serve each record's stored rendering: records that have one come back with `rendered`
    /// set and `data` and `custom_fields` left `null`, undecoded; the others decode as usual.
    pub rendered: bool,
}

/// A page of records with the keyset position of the last one when more exist.
#[derive(Debug, Clone)]
pub struct RecordPage {
    pub items: Vec<StoredRecord>,
    pub next_after: Option<(Timestamp, String)>,
}

/// An event to append (outbox), written in the same transaction as its cause.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub id: String,
    pub workspace_id: String,
    pub connection_id: Option<String>,
    /// `connection.created`, `work_order.updated`, `sync.completed`, …
    pub event_type: String,
    pub data: Value,
    pub created_at: Timestamp,
}

pub type Event = NewEvent;

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Exact type, or a prefix ending in `.*` (`work_order.*`).
    pub event_type: Option<String>,
    pub connection_id: Option<String>,
    /// `created_at >= since`.
    pub since: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// The first run: the history window.
    Initial,
    /// Changes since the last successful cursor.
    Incremental,
    /// Everything, ignoring the cursor; reconciles deletions.
    Full,
}

impl SyncMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncMode::Initial => "initial",
            SyncMode::Incremental => "incremental",
            SyncMode::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Option<SyncMode> {
        [SyncMode::Initial, SyncMode::Incremental, SyncMode::Full]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Running,
    Completed,
    Failed,
    /// Stopped by a disconnect or a pause.
    Cancelled,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        [
            RunStatus::Running,
            RunStatus::Completed,
            RunStatus::Failed,
            RunStatus::Cancelled,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

#[derive(Debug, Clone)]
pub struct NewSyncRun {
    pub id: String,
    pub workspace_id: String,
    pub connection_id: String,
    pub entity: Entity,
    pub mode: SyncMode,
    /// The incremental boundary the run reads from (the cursor of the last success).
    pub cursor_from: Option<String>,
    pub started_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncRun {
    pub id: String,
    pub workspace_id: String,
    pub connection_id: String,
    pub entity: Entity,
    pub mode: SyncMode,
    pub status: RunStatus,
    pub cursor_from: Option<String>,
    /// Where to resume (set by each page).
    pub checkpoint: Option<String>,
    pub pages: i64,
    pub created: i64,
    pub updated: i64,
    pub deleted: i64,
    pub unchanged: i64,
    pub error: Option<String>,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

/// How a run ends.
#[derive(Debug, Clone)]
pub struct RunEnd {
    pub status: RunStatus,
    pub error: Option<String>,
    /// On success: the new incremental cursor for the entity.
    pub new_cursor: Option<String>,
    /// `sync.completed` or `sync.failed`, written with the run's end.
    pub event: Option<NewEvent>,
    pub now: Timestamp,
}

/// Per (connection, entity): what `GET /sync-status` shows and the scheduler reads.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncState {
    pub connection_id: String,
    pub entity: Entity,
    /// The incremental cursor of the last successful run (`None`: never succeeded).
    pub cursor: Option<String>,
    pub last_success_at: Option<Timestamp>,
    pub last_run_at: Option<Timestamp>,
    pub next_run_at: Option<Timestamp>,
    pub last_status: Option<RunStatus>,
    pub error: Option<String>,
    pub paused: bool,
    /// Live (not deleted) records of this entity.
    pub record_count: i64,
    /// The run in progress, if any.
    pub running_run_id: Option<String>,
}

/// A stored answer to an idempotent request.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotentResponse {
    pub workspace_id: String,
    pub key: String,
    /// Hash of method, path and body: the same key with another request is a conflict.
    pub request_hash: String,
    pub status: i64,
    pub body: String,
    pub created_at: Timestamp,
}

impl NewEvent {
    /// A `connection.<what>` event: data is `{"connection": {id, connector, name, status}}`,
    /// with the status the connection has after the change.
    pub fn connection(
        what: &str,
        workspace_id: &str,
        connection_id: &str,
        connector: &str,
        name: &str,
        status: millwright_core::status::ConnectionStatus,
        now: Timestamp,
    ) -> NewEvent {
        NewEvent {
            id: millwright_core::ids::new_id(millwright_core::ids::prefix::EVENT),
            workspace_id: workspace_id.to_string(),
            connection_id: Some(connection_id.to_string()),
            event_type: format!("connection.{what}"),
            data: serde_json::json!({"connection": {
                "id": connection_id,
                "connector": connector,
                "name": name,
                "status": status.as_str(),
            }}),
            created_at: now,
        }
    }
}
