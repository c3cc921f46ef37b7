//! Storage for Millwright: one [`Store`] trait that every backend implements (SQLite embedded by
//! default, PostgreSQL to scale out), the row types it speaks, and a conformance suite
//! ([`conformance`]) that each backend runs against itself.
//!
//! Rules every backend keeps:
//! - every method is atomic; a failing call writes nothing;
//! - credit accounting is serialised per workspace, so concurrent creates can never overspend;
//! - lists are keyset-paginated by `id` (ULIDs sort by creation time), newest first.

pub mod conformance;
mod error;
mod types;

pub use error::StoreError;
pub use types::*;

use async_trait::async_trait;
use millwright_core::{credits::CreditUsage, time::Timestamp};

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait Store: Send + Sync + 'static {
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
    /// ([`StoreError::InsufficientCredits`] otherwise, with nothing written).
    async fn create_connection(
        &self,
        new: NewConnection,
        token: NewToken,
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
    /// reauthorization returns to `active`. [`StoreError::Disconnected`] when disconnected.
    async fn replace_credentials(
        &self,
        workspace_id: &str,
        id: &str,
        sealed_credentials: Vec<u8>,
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
    /// Marks the connection disconnected, revokes its tokens, returns its credits to the pool
    /// and cancels its queued and running jobs, in one transaction. Idempotent: a second call
    /// changes nothing and reports `changed: false`.
    async fn disconnect_connection(
        &self,
        workspace_id: &str,
        id: &str,
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
    /// Puts a claimed job back in the queue for `run_at`, recording the error.
    async fn retry_job(
        &self,
        id: &str,
        worker: &str,
        run_at: Timestamp,
        error: &str,
    ) -> StoreResult<bool>;
    async fn get_job(&self, id: &str) -> StoreResult<Option<Job>>;

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
}
