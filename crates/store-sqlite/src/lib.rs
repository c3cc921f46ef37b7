//! The embedded default store: SQLite through rusqlite.
//!
//! - One file, WAL mode, `synchronous = NORMAL`, foreign keys on, a 5 s busy timeout.
//! - One writer connection behind an async mutex, every write in a `BEGIN IMMEDIATE`
//!   transaction; a pool of read-only connections for reads (WAL lets them run alongside the
//!   writer). All SQLite calls run on tokio's blocking pool, never on the async workers.
//! - Migrations are the SQL files in `migrations/`, embedded in the binary.
//! - Timestamps are stored as INTEGER microseconds since the Unix epoch (UTC), JSON as TEXT,
//!   scopes as space-separated text. See `docs/dev/schema.md`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), millwright_store::StoreError> {
//! use millwright_store::Store;
//! use millwright_store_sqlite::SqliteStore;
//!
//! let store = SqliteStore::open_url("sqlite://./millwright-data/millwright.db")?;
//! store.migrate().await?;
//! assert!(store.readiness().await?.is_ready());
//! # Ok(()) }
//! ```

mod connections;
mod dashboard;
mod decode;
mod error;
mod events;
mod health;
mod idempotency;
mod jobs;
mod link;
mod migrations;
mod operations;
mod pool;
mod records;
mod request_logs;
mod status;
mod sync;
mod webhooks;
mod workspaces;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use millwright_core::{credits::CreditUsage, status::ConnectionStatus, time::Timestamp, Entity};
use millwright_store::{
    AttemptOutcome, ClaimedDelivery, Connection, ConnectionFilter, ConnectionPatch, Delivery,
    DeliveryAttempt, DeliveryFilter, Disconnected, Event, EventFilter, FanOut, IdempotentResponse,
    Job, NewConnection, NewDelivery, NewEvent, NewJob, NewSyncRun, NewToken, NewUser,
    NewWebhookEndpoint, NewWorkspace, Page, PageOutcome, PageRequest, PageWrite, Readiness,
    RecordPage, RecordQuery, RequestLog, RequestLogFilter, RunEnd, Store, StoreError, StoreResult,
    StoredRecord, SyncRun, SyncState, TokenLookup, TokenRecord, User, WebhookEndpoint,
    WebhookEndpointPatch, Workspace,
};

use crate::pool::Pool;

/// A [`Store`] on one SQLite database file. Cheap to share behind an `Arc`; it owns its
/// connections and closes them when dropped.
pub struct SqliteStore {
    path: PathBuf,
    pool: Pool,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating the file and its parent directories if missing) the database at `path`.
    /// Does not migrate: call [`Store::migrate`].
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        let pool = Pool::open(path)?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            pool,
        })
    }

    /// Opens the database named by a URL: `sqlite://<path>` or `sqlite:<path>`, where the path
    /// is taken as written (`sqlite:///abs/db` is absolute, `sqlite://rel/db` relative).
    /// Query parameters (`?mode=…`) are refused rather than silently ignored: the store always
    /// creates the file and sets its own pragmas.
    pub fn open_url(url: &str) -> StoreResult<SqliteStore> {
        SqliteStore::open(&path_from_url(url)?)
    }

    /// The database file this store opened.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn path_from_url(url: &str) -> StoreResult<PathBuf> {
    let bad = |why: &str| StoreError::Backend(format!("invalid SQLite URL {url:?}: {why}"));
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| bad("expected sqlite://<path> or sqlite:<path>"))?;
    if rest.contains('?') {
        return Err(bad("query parameters are not supported"));
    }
    if rest.is_empty() {
        return Err(bad("the path is empty"));
    }
    Ok(PathBuf::from(rest))
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> StoreResult<()> {
        self.pool.with_writer(migrations::migrate).await
    }

    async fn readiness(&self) -> StoreResult<Readiness> {
        self.pool.read(migrations::readiness).await
    }

    // --- workspaces and users -------------------------------------------------------------

    async fn create_workspace(&self, new: NewWorkspace) -> StoreResult<Workspace> {
        self.pool
            .write(move |tx| workspaces::create_workspace(tx, &new))
            .await
    }

    async fn get_workspace(&self, id: &str) -> StoreResult<Option<Workspace>> {
        let id = id.to_owned();
        self.pool
            .read(move |c| workspaces::get_workspace(c, &id))
            .await
    }

    async fn find_workspace_by_key_hash(&self, key_hash: &str) -> StoreResult<Option<Workspace>> {
        let key_hash = key_hash.to_owned();
        self.pool
            .read(move |c| workspaces::find_workspace_by_key_hash(c, &key_hash))
            .await
    }

    async fn create_user(&self, new: NewUser) -> StoreResult<User> {
        self.pool
            .write(move |tx| workspaces::create_user(tx, &new))
            .await
    }

    async fn find_user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let email = email.to_owned();
        self.pool
            .read(move |c| workspaces::find_user_by_email(c, &email))
            .await
    }

    // --- connections ----------------------------------------------------------------------

    async fn create_connection(
        &self,
        new: NewConnection,
        token: NewToken,
        event: NewEvent,
    ) -> StoreResult<Connection> {
        self.pool
            .write(move |tx| connections::create(tx, &new, Some(&token), &event))
            .await
    }

    async fn get_connection(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> StoreResult<Option<Connection>> {
        let (ws, id) = (workspace_id.to_owned(), id.to_owned());
        self.pool.read(move |c| connections::get(c, &ws, &id)).await
    }

    async fn list_connections(
        &self,
        workspace_id: &str,
        filter: &ConnectionFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Connection>> {
        let (ws, filter, page) = (workspace_id.to_owned(), filter.clone(), page.clone());
        self.pool
            .read(move |c| connections::list(c, &ws, &filter, &page))
            .await
    }

    async fn update_connection(
        &self,
        workspace_id: &str,
        id: &str,
        patch: ConnectionPatch,
        now: Timestamp,
    ) -> StoreResult<Connection> {
        let (ws, id) = (workspace_id.to_owned(), id.to_owned());
        self.pool
            .write(move |tx| connections::update(tx, &ws, &id, &patch, &now))
            .await
    }

    async fn replace_credentials(
        &self,
        workspace_id: &str,
        id: &str,
        sealed_credentials: Vec<u8>,
        reauthorized: NewEvent,
        now: Timestamp,
    ) -> StoreResult<Connection> {
        let (ws, id) = (workspace_id.to_owned(), id.to_owned());
        self.pool
            .write(move |tx| {
                connections::replace_credentials(
                    tx,
                    &ws,
                    &id,
                    &sealed_credentials,
                    &reauthorized,
                    &now,
                )
            })
            .await
    }

    async fn rotate_token(
        &self,
        workspace_id: &str,
        connection_id: &str,
        token: NewToken,
    ) -> StoreResult<TokenRecord> {
        let (ws, id) = (workspace_id.to_owned(), connection_id.to_owned());
        self.pool
            .write(move |tx| connections::rotate_token(tx, &ws, &id, &token))
            .await
    }

    async fn disconnect_connection(
        &self,
        workspace_id: &str,
        id: &str,
        event: NewEvent,
        now: Timestamp,
    ) -> StoreResult<Disconnected> {
        let (ws, id) = (workspace_id.to_owned(), id.to_owned());
        self.pool
            .write(move |tx| connections::disconnect(tx, &ws, &id, &event, &now))
            .await
    }

    async fn delete_connection_data(
        &self,
        workspace_id: &str,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<u64> {
        let (ws, id) = (workspace_id.to_owned(), id.to_owned());
        self.pool
            .write(move |tx| connections::delete_data(tx, &ws, &id, &now))
            .await
    }

    async fn credit_usage(&self, workspace_id: &str) -> StoreResult<CreditUsage> {
        let ws = workspace_id.to_owned();
        self.pool
            .read(move |c| connections::credit_usage(c, &ws))
            .await
    }

    async fn transition_connection(
        &self,
        connection_id: &str,
        from: &[ConnectionStatus],
        to: ConnectionStatus,
        event: Option<NewEvent>,
        now: Timestamp,
    ) -> StoreResult<Option<Connection>> {
        let (id, from) = (connection_id.to_owned(), from.to_vec());
        self.pool
            .write(move |tx| connections::transition(tx, &id, &from, to, event.as_ref(), &now))
            .await
    }

    async fn live_connections(&self) -> StoreResult<Vec<Connection>> {
        self.pool.read(connections::live).await
    }

    async fn update_connection_settings(
        &self,
        workspace_id: &str,
        id: &str,
        sync_settings: Option<serde_json::Value>,
        field_mappings: Option<serde_json::Value>,
        now: Timestamp,
    ) -> StoreResult<Connection> {
        let (ws, id) = (workspace_id.to_owned(), id.to_owned());
        self.pool
            .write(move |tx| {
                connections::update_settings(
                    tx,
                    &ws,
                    &id,
                    sync_settings.as_ref(),
                    field_mappings.as_ref(),
                    &now,
                )
            })
            .await
    }

    // --- tokens ---------------------------------------------------------------------------

    async fn find_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<TokenLookup>> {
        let hash = token_hash.to_owned();
        self.pool
            .read(move |c| connections::find_token(c, &hash))
            .await
    }

    // --- jobs -----------------------------------------------------------------------------

    async fn enqueue_job(&self, job: NewJob) -> StoreResult<bool> {
        self.pool.write(move |tx| jobs::enqueue(tx, &job)).await
    }

    async fn claim_jobs(
        &self,
        kinds: &[&str],
        worker: &str,
        now: Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
        let worker = worker.to_owned();
        self.pool
            .write(move |tx| {
                let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
                jobs::claim(tx, &kinds, &worker, &now, lease, limit)
            })
            .await
    }

    async fn complete_job(&self, id: &str, worker: &str, now: Timestamp) -> StoreResult<bool> {
        let (id, worker) = (id.to_owned(), worker.to_owned());
        self.pool
            .write(move |tx| jobs::complete(tx, &id, &worker, &now))
            .await
    }

    async fn extend_lease(&self, id: &str, worker: &str, until: Timestamp) -> StoreResult<bool> {
        let (id, worker) = (id.to_owned(), worker.to_owned());
        self.pool
            .write(move |tx| jobs::extend_lease(tx, &id, &worker, &until))
            .await
    }

    async fn retry_job(
        &self,
        id: &str,
        worker: &str,
        run_at: Timestamp,
        error: &str,
    ) -> StoreResult<bool> {
        let (id, worker, error) = (id.to_owned(), worker.to_owned(), error.to_owned());
        self.pool
            .write(move |tx| jobs::retry(tx, &id, &worker, &run_at, &error))
            .await
    }

    async fn get_job(&self, id: &str) -> StoreResult<Option<Job>> {
        let id = id.to_owned();
        self.pool.read(move |c| jobs::get(c, &id)).await
    }

    async fn cancel_queued_jobs(
        &self,
        connection_id: &str,
        kinds: &[&str],
        now: Timestamp,
    ) -> StoreResult<u64> {
        let id = connection_id.to_owned();
        let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
        self.pool
            .write(move |tx| jobs::cancel_queued(tx, &id, &kinds, &now))
            .await
    }

    // --- synced records -------------------------------------------------------------------

    async fn apply_page(&self, page: PageWrite) -> StoreResult<PageOutcome> {
        self.pool
            .write(move |tx| records::apply_page(tx, &page))
            .await
    }

    async fn get_record(
        &self,
        workspace_id: &str,
        connection_id: &str,
        entity: Entity,
        id: &str,
    ) -> StoreResult<Option<StoredRecord>> {
        let (ws, conn, id) = (
            workspace_id.to_owned(),
            connection_id.to_owned(),
            id.to_owned(),
        );
        self.pool
            .read(move |c| records::get(c, &ws, &conn, entity, &id))
            .await
    }

    async fn list_records(
        &self,
        workspace_id: &str,
        connection_id: &str,
        entity: Entity,
        query: &RecordQuery,
    ) -> StoreResult<RecordPage> {
        let (ws, conn, query) = (
            workspace_id.to_owned(),
            connection_id.to_owned(),
            query.clone(),
        );
        self.pool
            .read(move |c| records::list(c, &ws, &conn, entity, &query))
            .await
    }

    async fn live_remote_ids(
        &self,
        connection_id: &str,
        entity: Entity,
    ) -> StoreResult<Vec<String>> {
        let conn = connection_id.to_owned();
        self.pool
            .read(move |c| records::live_remote_ids(c, &conn, entity))
            .await
    }

    // --- events ---------------------------------------------------------------------------

    async fn append_event(&self, event: NewEvent) -> StoreResult<()> {
        self.pool.write(move |tx| events::insert(tx, &event)).await
    }

    async fn list_events(
        &self,
        workspace_id: &str,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Event>> {
        let (ws, filter, page) = (workspace_id.to_owned(), filter.clone(), page.clone());
        self.pool
            .read(move |c| events::list(c, &ws, &filter, &page))
            .await
    }

    // --- sync runs and state --------------------------------------------------------------

    async fn start_sync_run(&self, run: NewSyncRun) -> StoreResult<SyncRun> {
        self.pool.write(move |tx| sync::start(tx, &run)).await
    }

    async fn finish_sync_run(&self, run_id: &str, end: RunEnd) -> StoreResult<SyncRun> {
        let id = run_id.to_owned();
        self.pool.write(move |tx| sync::finish(tx, &id, &end)).await
    }

    async fn get_sync_run(&self, run_id: &str) -> StoreResult<Option<SyncRun>> {
        let id = run_id.to_owned();
        self.pool.read(move |c| sync::get(c, &id)).await
    }

    async fn list_sync_runs(
        &self,
        workspace_id: &str,
        connection_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<SyncRun>> {
        let (ws, conn, page) = (
            workspace_id.to_owned(),
            connection_id.to_owned(),
            page.clone(),
        );
        self.pool
            .read(move |c| sync::list(c, &ws, &conn, &page))
            .await
    }

    async fn sync_states(&self, connection_id: &str) -> StoreResult<Vec<SyncState>> {
        let conn = connection_id.to_owned();
        self.pool.read(move |c| sync::states(c, &conn)).await
    }

    async fn set_next_run(
        &self,
        connection_id: &str,
        entity: Entity,
        next_run_at: Option<Timestamp>,
    ) -> StoreResult<()> {
        let conn = connection_id.to_owned();
        self.pool
            .write(move |tx| sync::set_next_run(tx, &conn, entity, next_run_at.as_ref()))
            .await
    }

    async fn set_paused(
        &self,
        connection_id: &str,
        entities: &[Entity],
        paused: bool,
    ) -> StoreResult<()> {
        let (conn, entities) = (connection_id.to_owned(), entities.to_vec());
        self.pool
            .write(move |tx| sync::set_paused(tx, &conn, &entities, paused))
            .await
    }

    // --- idempotency ----------------------------------------------------------------------

    async fn get_idempotent_response(
        &self,
        workspace_id: &str,
        key: &str,
    ) -> StoreResult<Option<IdempotentResponse>> {
        let (ws, key) = (workspace_id.to_owned(), key.to_owned());
        self.pool
            .read(move |c| idempotency::get(c, &ws, &key))
            .await
    }

    async fn put_idempotent_response(&self, response: IdempotentResponse) -> StoreResult<bool> {
        self.pool
            .write(move |tx| idempotency::put(tx, &response))
            .await
    }

    async fn purge_idempotent_responses(&self, before: Timestamp) -> StoreResult<u64> {
        self.pool
            .write(move |tx| idempotency::purge(tx, &before))
            .await
    }

    // --- webhooks -------------------------------------------------------------------------

    async fn create_webhook_endpoint(
        &self,
        new: NewWebhookEndpoint,
    ) -> StoreResult<WebhookEndpoint> {
        self.pool
            .write(move |tx| webhooks::create_endpoint(tx, &new))
            .await
    }

    async fn get_webhook_endpoint(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        let (ws, id) = (workspace_id.to_owned(), id.to_owned());
        self.pool
            .read(move |c| webhooks::get_endpoint(c, &ws, &id))
            .await
    }

    async fn list_webhook_endpoints(
        &self,
        workspace_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<WebhookEndpoint>> {
        let (ws, page) = (workspace_id.to_owned(), page.clone());
        self.pool
            .read(move |c| webhooks::list_endpoints(c, &ws, &page))
            .await
    }

    async fn update_webhook_endpoint(
        &self,
        workspace_id: &str,
        id: &str,
        patch: WebhookEndpointPatch,
        now: Timestamp,
    ) -> StoreResult<WebhookEndpoint> {
        let (ws, id) = (workspace_id.to_owned(), id.to_owned());
        self.pool
            .write(move |tx| webhooks::update_endpoint(tx, &ws, &id, &patch, &now))
            .await
    }

    async fn delete_webhook_endpoint(&self, workspace_id: &str, id: &str) -> StoreResult<()> {
        let (ws, id) = (workspace_id.to_owned(), id.to_owned());
        self.pool
            .write(move |tx| webhooks::delete_endpoint(tx, &ws, &id))
            .await
    }

    async fn fan_out_events(&self, limit: u32, now: Timestamp) -> StoreResult<FanOut> {
        self.pool
            .write(move |tx| webhooks::fan_out(tx, limit, &now))
            .await
    }

    async fn insert_test_event(
        &self,
        event: NewEvent,
        delivery: NewDelivery,
    ) -> StoreResult<Delivery> {
        self.pool
            .write(move |tx| webhooks::insert_test_event(tx, &event, &delivery))
            .await
    }

    async fn claim_deliveries(
        &self,
        worker: &str,
        now: Timestamp,
        lease: chrono::Duration,
        per_endpoint: u32,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        let worker = worker.to_owned();
        self.pool
            .write(move |tx| webhooks::claim(tx, &worker, &now, lease, per_endpoint, limit))
            .await
    }

    async fn finish_attempt(
        &self,
        delivery_id: &str,
        worker: &str,
        attempt: DeliveryAttempt,
        outcome: AttemptOutcome,
    ) -> StoreResult<bool> {
        let (id, worker) = (delivery_id.to_owned(), worker.to_owned());
        self.pool
            .write(move |tx| webhooks::finish_attempt(tx, &id, &worker, &attempt, outcome))
            .await
    }

    async fn finish_attempts(
        &self,
        worker: &str,
        attempts: Vec<(DeliveryAttempt, AttemptOutcome)>,
    ) -> StoreResult<Vec<bool>> {
        if attempts.is_empty() {
            return Ok(Vec::new());
        }
        let worker = worker.to_owned();
        self.pool
            .write(move |tx| webhooks::finish_attempts(tx, &worker, &attempts))
            .await
    }

    async fn list_deliveries(
        &self,
        workspace_id: &str,
        filter: &DeliveryFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Delivery>> {
        let (ws, filter, page) = (workspace_id.to_owned(), filter.clone(), page.clone());
        self.pool
            .read(move |c| webhooks::list_deliveries(c, &ws, &filter, &page))
            .await
    }

    async fn get_delivery(&self, workspace_id: &str, id: &str) -> StoreResult<Option<Delivery>> {
        let (ws, id) = (workspace_id.to_owned(), id.to_owned());
        self.pool
            .read(move |c| webhooks::get_delivery(c, &ws, &id))
            .await
    }

    async fn delivery_attempts(
        &self,
        workspace_id: &str,
        delivery_ids: &[String],
    ) -> StoreResult<Vec<DeliveryAttempt>> {
        let (ws, ids) = (workspace_id.to_owned(), delivery_ids.to_vec());
        self.pool
            .read(move |c| webhooks::attempts(c, &ws, &ids))
            .await
    }

    async fn retry_delivery(
        &self,
        workspace_id: &str,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<Delivery> {
        let (ws, id) = (workspace_id.to_owned(), id.to_owned());
        self.pool
            .write(move |tx| webhooks::retry(tx, &ws, &id, &now))
            .await
    }

    async fn recover_deliveries(
        &self,
        workspace_id: &str,
        endpoint_id: &str,
        since: Timestamp,
        now: Timestamp,
    ) -> StoreResult<u64> {
        let (ws, endpoint) = (workspace_id.to_owned(), endpoint_id.to_owned());
        self.pool
            .write(move |tx| webhooks::recover(tx, &ws, &endpoint, &since, &now))
            .await
    }

    async fn disable_failing_endpoints(
        &self,
        cutoff: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Vec<WebhookEndpoint>> {
        self.pool
            .write(move |tx| webhooks::disable_failing(tx, &cutoff, &now))
            .await
    }

    // --- request logs ---------------------------------------------------------------------

    async fn insert_request_logs(&self, logs: &[RequestLog]) -> StoreResult<()> {
        if logs.is_empty() {
            return Ok(());
        }
        let logs = logs.to_vec();
        self.pool
            .write(move |tx| request_logs::insert(tx, &logs))
            .await
    }

    async fn list_request_logs(
        &self,
        workspace_id: &str,
        filter: &RequestLogFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<RequestLog>> {
        let (ws, filter, page) = (workspace_id.to_owned(), filter.clone(), page.clone());
        self.pool
            .read(move |c| request_logs::list(c, &ws, &filter, &page))
            .await
    }

    async fn get_request_log(
        &self,
        workspace_id: &str,
        request_id: &str,
    ) -> StoreResult<Option<RequestLog>> {
        let (ws, id) = (workspace_id.to_owned(), request_id.to_owned());
        self.pool
            .read(move |c| request_logs::get(c, &ws, &id))
            .await
    }

    async fn purge_request_logs(&self, before: Timestamp) -> StoreResult<u64> {
        self.pool
            .write(move |tx| request_logs::purge(tx, &before))
            .await
    }

    // --- health -------------------------------------------------------------------------

    async fn record_probe(&self, probe: millwright_store::NewProbe) -> StoreResult<()> {
        self.pool.write(move |tx| health::record(tx, &probe)).await
    }

    async fn probe_history(
        &self,
        workspace_id: &str,
        connection_id: &str,
        since: Timestamp,
    ) -> StoreResult<Vec<millwright_store::Probe>> {
        let (ws, id) = (workspace_id.to_owned(), connection_id.to_owned());
        self.pool
            .read(move |c| health::history(c, &ws, &id, &since))
            .await
    }

    async fn probe_daily(
        &self,
        workspace_id: &str,
        connection_id: &str,
        since: Timestamp,
    ) -> StoreResult<Vec<millwright_store::ProbeDay>> {
        let (ws, id) = (workspace_id.to_owned(), connection_id.to_owned());
        self.pool
            .read(move |c| health::daily(c, &ws, &id, &since))
            .await
    }

    async fn purge_probes(
        &self,
        raw_before: Timestamp,
        days_before: chrono::NaiveDate,
    ) -> StoreResult<u64> {
        self.pool
            .write(move |tx| health::purge(tx, &raw_before, days_before))
            .await
    }

    // --- operations -----------------------------------------------------------------------

    async fn job_queue_stats(
        &self,
        now: Timestamp,
    ) -> StoreResult<Vec<millwright_store::JobQueueStat>> {
        self.pool
            .read(move |c| operations::job_queue_stats(c, &now))
            .await
    }

    async fn connection_status_counts(
        &self,
    ) -> StoreResult<Vec<millwright_store::ConnectionStatusCount>> {
        self.pool.read(operations::connection_status_counts).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_paths() {
        assert_eq!(
            path_from_url("sqlite:///var/lib/mw.db").unwrap(),
            PathBuf::from("/var/lib/mw.db")
        );
        assert_eq!(
            path_from_url("sqlite://data/mw.db").unwrap(),
            PathBuf::from("data/mw.db")
        );
        assert_eq!(
            path_from_url("sqlite:mw.db").unwrap(),
            PathBuf::from("mw.db")
        );
        assert!(matches!(
            path_from_url("postgres://x/y"),
            Err(StoreError::Backend(_))
        ));
        assert!(matches!(
            path_from_url("sqlite://"),
            Err(StoreError::Backend(_))
        ));
        assert!(matches!(
            path_from_url("sqlite://mw.db?mode=rwc"),
            Err(StoreError::Backend(_))
        ));
    }
}
