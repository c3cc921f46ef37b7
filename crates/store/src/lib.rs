//! Storage for Millwright: one [`Store`] trait that every backend implements (SQLite embedded by
//! default, PostgreSQL to scale out), the row types it speaks, and a conformance suite
//! ([`conformance`]) that each backend runs against itself.
//!
//! Rules every backend keeps:
//! - every method is atomic; a failing call writes nothing;
//! - credit accounting is serialised per workspace, so concurrent creates can never overspend;
//! - lists are keyset-paginated by `id` (ULIDs sort by creation time), newest first.

/// Asserts that a store call failed with the given error pattern, showing what came instead
/// (shared by the conformance suites).
macro_rules! assert_err {
    ($result:expr, $pattern:pat) => {
        match $result {
            Err($pattern) => {}
            other => panic!("expected Err({}), got {:?}", stringify!($pattern), other),
        }
    };
}

pub mod conformance;
pub mod conformance_dashboard;
pub mod conformance_link;
pub mod conformance_status;
mod dashboard;
mod error;
mod health;
mod link;
mod operations;
mod records;
mod status;
mod types;
mod webhooks;

pub use dashboard::*;
pub use error::StoreError;
pub use health::*;
pub use link::*;
pub use operations::*;
pub use records::*;
pub use status::*;
pub use types::*;
pub use webhooks::*;

use async_trait::async_trait;
use chrono::NaiveDate;
use millwright_core::{credits::CreditUsage, status::ConnectionStatus, time::Timestamp, Entity};

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait Store: StatusStore + LinkStore + DashboardStore + Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Applies pending migrations. Safe to call from several nodes at once.
    async fn migrate(&self) -> StoreResult<()>;
    /// Whether the database answers and every migration this build knows is applied.
    async fn readiness(&self) -> StoreResult<Readiness>;

    // --- workspaces and users -------------------------------------------------------------
    async fn create_workspace(&self, new: NewWorkspace) -> StoreResult<Workspace>;
    async fn get_workspace(&self, id: &str) -> StoreResult<Option<Workspace>>;
    async fn find_workspace_by_key_hash(&self, key_hash: &str) -> StoreResult<Option<Workspace>>;
    /// Fails with [`StoreError::Conflict`] when the e-mail is taken in any workspace.
    async fn create_user(&self, new: NewUser) -> StoreResult<User>;
    async fn find_user_by_email(&self, email: &str) -> StoreResult<Option<User>>;

    // --- connections ----------------------------------------------------------------------
    /// Inserts the connection and its first token in one transaction, after checking under a
    /// per-workspace lock that `new.credits` fits in the pool
    /// ([`StoreError::InsufficientCredits`] otherwise, with nothing written). `event`
    /// (`connection.created`) is appended in the same transaction.
    async fn create_connection(
        &self,
        new: NewConnection,
        token: NewToken,
        event: NewEvent,
    ) -> StoreResult<Connection>;
    async fn get_connection(&self, workspace_id: &str, id: &str)
        -> StoreResult<Option<Connection>>;
    async fn list_connections(
        &self,
        workspace_id: &str,
        filter: &ConnectionFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Connection>>;
    /// Changes name and/or metadata. [`StoreError::NotFound`] for an unknown id.
    async fn update_connection(
        &self,
        workspace_id: &str,
        id: &str,
        patch: ConnectionPatch,
        now: Timestamp,
    ) -> StoreResult<Connection>;
    /// Replaces the sealed credentials (reauthorization). A connection that required
    /// reauthorization returns to `active` and `reauthorized` (`connection.reauthorized`) is
    /// appended; otherwise the status and events are untouched. [`StoreError::Disconnected`]
    /// when disconnected.
    async fn replace_credentials(
        &self,
        workspace_id: &str,
        id: &str,
        sealed_credentials: Vec<u8>,
        reauthorized: NewEvent,
        now: Timestamp,
    ) -> StoreResult<Connection>;
    /// Revokes every live token of the connection and inserts `token`, atomically.
    /// [`StoreError::Disconnected`] when disconnected.
    async fn rotate_token(
        &self,
        workspace_id: &str,
        connection_id: &str,
        token: NewToken,
    ) -> StoreResult<TokenRecord>;
    /// Marks the connection disconnected, revokes its tokens, returns its credits to the pool,
    /// cancels its queued and running jobs, marks its running sync runs `cancelled`, and appends
    /// `event` (`connection.disconnected`), in one transaction. Idempotent: a second call changes
    /// nothing (no event either) and reports `changed: false`.
    async fn disconnect_connection(
        &self,
        workspace_id: &str,
        id: &str,
        event: NewEvent,
        now: Timestamp,
    ) -> StoreResult<Disconnected>;
    /// Deletes the synced records of a disconnected connection ([`StoreError::NotDisconnected`]
    /// otherwise). Returns how many records were deleted.
    async fn delete_connection_data(
        &self,
        workspace_id: &str,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<u64>;
    async fn credit_usage(&self, workspace_id: &str) -> StoreResult<CreditUsage>;

    /// Moves the connection to `to` only if its status is one of `from`, appending `event` in the
    /// same transaction; returns the updated connection, or `None` when the status was not in
    /// `from` (so each transition, and its event, happens once).
    async fn transition_connection(
        &self,
        connection_id: &str,
        from: &[ConnectionStatus],
        to: ConnectionStatus,
        event: Option<NewEvent>,
        now: Timestamp,
    ) -> StoreResult<Option<Connection>>;
    /// Every connection not disconnected, across workspaces (for the scheduler).
    async fn live_connections(&self) -> StoreResult<Vec<Connection>>;
    /// Replaces sync settings and/or field mappings (JSON objects).
    async fn update_connection_settings(
        &self,
        workspace_id: &str,
        id: &str,
        sync_settings: Option<serde_json::Value>,
        field_mappings: Option<serde_json::Value>,
        now: Timestamp,
    ) -> StoreResult<Connection>;

    // --- tokens ---------------------------------------------------------------------------
    /// The token with this hash and the status of its connection, whether or not revoked.
    async fn find_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<TokenLookup>>;

    // --- jobs (leased background work) ----------------------------------------------------
    /// Queues a job. A job with a `dedupe_key` that is already queued or running is not queued
    /// again (returns `false`).
    async fn enqueue_job(&self, job: NewJob) -> StoreResult<bool>;
    /// Claims up to `limit` due jobs of these kinds for `worker`, leasing them until
    /// `now + lease`. Expired leases of crashed workers are claimable again.
    async fn claim_jobs(
        &self,
        kinds: &[&str],
        worker: &str,
        now: Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<Job>>;
    /// Ends a claimed job. Ignored (returns `false`) when the lease was lost or the job cancelled.
    async fn complete_job(&self, id: &str, worker: &str, now: Timestamp) -> StoreResult<bool>;
    /// Extends a claimed job's lease to `until` (a heartbeat for long jobs such as a sync run).
    /// `false` when the lease was lost (another worker took the job over) or the job ended.
    async fn extend_lease(&self, id: &str, worker: &str, until: Timestamp) -> StoreResult<bool>;
    /// Puts a claimed job back in the queue for `run_at`, recording the error.
    async fn retry_job(
        &self,
        id: &str,
        worker: &str,
        run_at: Timestamp,
        error: &str,
    ) -> StoreResult<bool>;
    async fn get_job(&self, id: &str) -> StoreResult<Option<Job>>;

    /// Cancels queued jobs of a connection whose kind is in `kinds` (e.g. on pause).
    async fn cancel_queued_jobs(
        &self,
        connection_id: &str,
        kinds: &[&str],
        now: Timestamp,
    ) -> StoreResult<u64>;

    // --- synced records -------------------------------------------------------------------
    /// Writes one page in one transaction: upserts `records` by (connection, entity, remote id)
    /// — a record whose `content_hash` is unchanged is not written — sets `deleted_at` on live
    /// records whose remote id is in `deleted_remote_ids`, and appends one event per created,
    /// updated and deleted record (`<entity>.created|updated|deleted`, data = the record as
    /// [`millwright_core::record::record_json`] shows it, without `remote_data`). With a
    /// `run_id`, adds the counts to the run, increments its pages and stores its checkpoint.
    /// Refused with [`StoreError::Disconnected`] when the connection is disconnected, and with
    /// [`StoreError::RunNotRunning`] when the run is no longer running, writing nothing.
    async fn apply_page(&self, page: PageWrite) -> StoreResult<PageOutcome>;
    async fn get_record(
        &self,
        workspace_id: &str,
        connection_id: &str,
        entity: Entity,
        id: &str,
    ) -> StoreResult<Option<StoredRecord>>;
    async fn list_records(
        &self,
        workspace_id: &str,
        connection_id: &str,
        entity: Entity,
        query: &RecordQuery,
    ) -> StoreResult<RecordPage>;
    /// Remote ids of the live (not deleted) records of an entity, for deletion reconciliation.
    async fn live_remote_ids(
        &self,
        connection_id: &str,
        entity: Entity,
    ) -> StoreResult<Vec<String>>;

    // --- events ---------------------------------------------------------------------------
    async fn append_event(&self, event: NewEvent) -> StoreResult<()>;
    /// Oldest first (ids are time-ordered), keyset after `page.after`.
    async fn list_events(
        &self,
        workspace_id: &str,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Event>>;

    // --- sync runs and state --------------------------------------------------------------
    /// Starts a run, or returns the run already `running` for this (connection, entity) so an
    /// interrupted run resumes from its checkpoint (never two at once). Refused with
    /// [`StoreError::Disconnected`] on a disconnected connection.
    async fn start_sync_run(&self, run: NewSyncRun) -> StoreResult<SyncRun>;
    /// Ends a running run: its status, error and `finished_at`; the entity's sync state (cursor
    /// only on success, `last_success_at`, `last_run_at`, error); the connection's
    /// `last_sync_at` on success; and `end.event`. Refused with [`StoreError::RunNotRunning`] if
    /// the run already ended (e.g. cancelled by a disconnect).
    async fn finish_sync_run(&self, run_id: &str, end: RunEnd) -> StoreResult<SyncRun>;
    async fn get_sync_run(&self, run_id: &str) -> StoreResult<Option<SyncRun>>;
    /// Newest first.
    async fn list_sync_runs(
        &self,
        workspace_id: &str,
        connection_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<SyncRun>>;
    /// One row per entity that has state; entities never synced have none.
    async fn sync_states(&self, connection_id: &str) -> StoreResult<Vec<SyncState>>;
    /// Records when the scheduler plans the entity's next run.
    async fn set_next_run(
        &self,
        connection_id: &str,
        entity: Entity,
        next_run_at: Option<Timestamp>,
    ) -> StoreResult<()>;
    /// Pauses or resumes every entity of a connection (state rows are created as needed).
    async fn set_paused(
        &self,
        connection_id: &str,
        entities: &[Entity],
        paused: bool,
    ) -> StoreResult<()>;

    // --- idempotency ----------------------------------------------------------------------
    async fn get_idempotent_response(
        &self,
        workspace_id: &str,
        key: &str,
    ) -> StoreResult<Option<IdempotentResponse>>;
    /// Stores the answer unless one exists for (workspace, key); returns whether it was stored.
    async fn put_idempotent_response(&self, response: IdempotentResponse) -> StoreResult<bool>;
    /// Deletes answers older than `before`.
    async fn purge_idempotent_responses(&self, before: Timestamp) -> StoreResult<u64>;

    // --- webhooks -------------------------------------------------------------------------
    async fn create_webhook_endpoint(
        &self,
        new: NewWebhookEndpoint,
    ) -> StoreResult<WebhookEndpoint>;
    async fn get_webhook_endpoint(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> StoreResult<Option<WebhookEndpoint>>;
    /// Newest first.
    async fn list_webhook_endpoints(
        &self,
        workspace_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<WebhookEndpoint>>;
    /// [`StoreError::NotFound`] for an unknown id (or another workspace's).
    async fn update_webhook_endpoint(
        &self,
        workspace_id: &str,
        id: &str,
        patch: WebhookEndpointPatch,
        now: Timestamp,
    ) -> StoreResult<WebhookEndpoint>;
    /// Deletes the endpoint with its deliveries and their attempts.
    async fn delete_webhook_endpoint(&self, workspace_id: &str, id: &str) -> StoreResult<()>;

    /// The outbox fan-out, in one transaction: takes up to `limit` events not yet fanned out
    /// (oldest first; on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so nodes share the work),
    /// creates one `pending` delivery (due `now`) per enabled endpoint of the event's workspace
    /// that [`millwright_core::webhook::matches`] the event, and marks the events fanned out.
    /// A delivery is unique per (endpoint, event): running twice creates no duplicate, and a
    /// crash before commit loses nothing. Events of type `webhook.test` are never fanned out.
    async fn fan_out_events(&self, limit: u32, now: Timestamp) -> StoreResult<FanOut>;
    /// Appends a `webhook.test` event with its one delivery to one endpoint.
    async fn insert_test_event(
        &self,
        event: NewEvent,
        delivery: NewDelivery,
    ) -> StoreResult<Delivery>;

    /// Claims due deliveries (`pending`, `next_attempt_at <= now`, lease free or expired,
    /// endpoint enabled), oldest due first, at most `limit` in all, leasing them to `worker`
    /// until `now + lease`. Per endpoint, at most `per_endpoint` deliveries are **in flight**:
    /// deliveries of that endpoint already leased (lease not expired, by any worker) count
    /// against the cap, so a slow receiver holds at most `per_endpoint` deliveries across all
    /// nodes and passes and cannot starve the other endpoints.
    async fn claim_deliveries(
        &self,
        worker: &str,
        now: Timestamp,
        lease: chrono::Duration,
        per_endpoint: u32,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedDelivery>>;
    /// Records an attempt and its outcome, releasing the lease; `first_attempt_at` is set on
    /// the first attempt of a window. [`AttemptOutcome::Gone`] also disables the endpoint
    /// (`disabled_reason` "410 Gone"). `false` (nothing written) when `worker` lost the lease.
    async fn finish_attempt(
        &self,
        delivery_id: &str,
        worker: &str,
        attempt: DeliveryAttempt,
        outcome: AttemptOutcome,
    ) -> StoreResult<bool>;
    /// [`Store::finish_attempt`] for many deliveries leased to `worker`, in one transaction:
    /// each entry (the attempt's `delivery_id` names its delivery) has exactly the effect that
    /// `finish_attempt` would have, entries taken in order. The result has one flag per entry:
    /// `false` when nothing was written for it (the lease was lost or already released, e.g.
    /// by an earlier entry for the same delivery). An error writes nothing at all.
    async fn finish_attempts(
        &self,
        worker: &str,
        attempts: Vec<(DeliveryAttempt, AttemptOutcome)>,
    ) -> StoreResult<Vec<bool>>;
    /// Newest first.
    async fn list_deliveries(
        &self,
        workspace_id: &str,
        filter: &DeliveryFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Delivery>>;
    async fn get_delivery(&self, workspace_id: &str, id: &str) -> StoreResult<Option<Delivery>>;
    /// The attempts of these deliveries, oldest first.
    async fn delivery_attempts(
        &self,
        workspace_id: &str,
        delivery_ids: &[String],
    ) -> StoreResult<Vec<DeliveryAttempt>>;
    /// Puts a delivery back to `pending`, due now, with a fresh 24-hour window.
    async fn retry_delivery(
        &self,
        workspace_id: &str,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<Delivery>;
    /// Re-queues every `failed` delivery of the endpoint created at or after `since`.
    async fn recover_deliveries(
        &self,
        workspace_id: &str,
        endpoint_id: &str,
        since: Timestamp,
        now: Timestamp,
    ) -> StoreResult<u64>;
    /// Disables every enabled endpoint that has a failed delivery whose first attempt is at or
    /// before `cutoff` and no successful attempt after `cutoff` ("all deliveries failed for 5
    /// days"), with `disabled_reason`, appending a `webhook.endpoint.disabled` event per endpoint
    /// in the same transaction. Returns the endpoints disabled.
    async fn disable_failing_endpoints(
        &self,
        cutoff: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Vec<WebhookEndpoint>>;

    // --- request logs ---------------------------------------------------------------------
    async fn insert_request_logs(&self, logs: &[RequestLog]) -> StoreResult<()>;
    async fn list_request_logs(
        &self,
        workspace_id: &str,
        filter: &RequestLogFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<RequestLog>>;
    async fn get_request_log(
        &self,
        workspace_id: &str,
        request_id: &str,
    ) -> StoreResult<Option<RequestLog>>;
    /// Deletes logs older than `before`; returns how many.
    async fn purge_request_logs(&self, before: Timestamp) -> StoreResult<u64>;

    // --- health -------------------------------------------------------------------------
    /// Appends the probe to the connection's history and makes it the connection's latest
    /// `health`, in one transaction; the connection's status and `updated_at` are untouched
    /// (state changes go through [`Store::transition_connection`]).
    /// [`StoreError::NotFound`] for an unknown connection (or another workspace's),
    /// [`StoreError::Disconnected`] when disconnected; nothing is written then.
    async fn record_probe(&self, probe: NewProbe) -> StoreResult<()>;
    /// The connection's probes checked at or after `since`, at full resolution, oldest first.
    async fn probe_history(
        &self,
        workspace_id: &str,
        connection_id: &str,
        since: Timestamp,
    ) -> StoreResult<Vec<Probe>>;
    /// The connection's probes aggregated per UTC day, from the day of `since` on (whole days:
    /// each probe is added to its day's aggregate when it is recorded), oldest first; days
    /// without probes are absent.
    async fn probe_daily(
        &self,
        workspace_id: &str,
        connection_id: &str,
        since: Timestamp,
    ) -> StoreResult<Vec<ProbeDay>>;
    /// Deletes the raw probes checked before `raw_before` (the 24-hour view needs only the last
    /// day; their days stay in the daily aggregates) and the daily aggregates of days before
    /// `days_before`; returns how many rows went.
    async fn purge_probes(&self, raw_before: Timestamp, days_before: NaiveDate)
        -> StoreResult<u64>;

    // --- operations -----------------------------------------------------------------------
    /// One row per job kind that has queued jobs: how many are queued, and the `run_at` of the
    /// oldest one due by `now` (the workers' lag). Feeds the `/metrics` queue gauges.
    async fn job_queue_stats(&self, now: Timestamp) -> StoreResult<Vec<JobQueueStat>>;
    /// How many connections have each status, across workspaces (disconnected ones included);
    /// statuses no connection has are absent. Feeds the `/metrics` connection gauge.
    async fn connection_status_counts(&self) -> StoreResult<Vec<ConnectionStatusCount>>;
}
