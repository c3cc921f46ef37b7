//! The scale-out store: [`PostgresStore`] implements [`millwright_store::Store`] on PostgreSQL
//! (15 and later) through sqlx.
//!
//! What PostgreSQL changes compared with the embedded SQLite store:
//! - several nodes share one database, so migrations take an advisory lock, credit checks lock
//!   the workspace row (`SELECT … FOR UPDATE`), and jobs are claimed with
//!   `FOR UPDATE SKIP LOCKED` so that concurrent workers never receive the same job;
//! - a sync page locks its connection `FOR SHARE` and its run `FOR UPDATE`, so a concurrent
//!   disconnect (which locks the connection `FOR UPDATE`) is ordered before or after the whole
//!   page, and a partial unique index keeps one running run per (connection, entity) across
//!   nodes (see `synced`);
//! - timestamps are `timestamptz`, JSON is `jsonb`, binary is `bytea`, integers are `bigint`.
//!
//! Queries are built at run time (`sqlx::query` with `.bind`), not with sqlx's compile-time
//! macros, so that building the workspace never needs a database.

mod dashboard;
mod health;
mod link;
mod migrations;
mod operations;
mod rows;
mod status;
mod synced;
pub mod testing;
mod webhooks;

use std::time::Duration;

use async_trait::async_trait;
use millwright_core::{
    credits::CreditUsage, scope, status::ConnectionStatus, time::Timestamp, Entity,
};
use millwright_store::{
    AttemptOutcome, ClaimedDelivery, Delivery, DeliveryAttempt, DeliveryFilter, FanOut,
    NewDelivery, NewWebhookEndpoint, WebhookEndpoint, WebhookEndpointPatch,
};
use millwright_store::{
    Connection, ConnectionFilter, ConnectionPatch, Disconnected, Event, EventFilter,
    IdempotentResponse, Job, NewConnection, NewEvent, NewJob, NewSyncRun, NewToken, NewUser,
    NewWorkspace, Page, PageOutcome, PageRequest, PageWrite, Readiness, RecordPage, RecordQuery,
    RequestLog, RequestLogFilter, RunEnd, Store, StoreError, StoreResult, StoredRecord, SyncRun,
    SyncState, TokenLookup, TokenRecord, User, Workspace,
};
use sqlx::{
    postgres::{PgPoolOptions, PgRow},
    PgPool, Postgres, QueryBuilder, Transaction,
};

use rows::db_err;

/// How many connections one node keeps to the database. Every store call holds one connection
/// for a single statement or a short transaction, so a small pool serves a busy node; several
/// nodes together must stay below the server's `max_connections` (100 by default).
const MAX_CONNECTIONS: u32 = 10;

/// How long a call waits for a free connection before failing with [`StoreError::Backend`],
/// so that an unreachable or saturated database surfaces as an error instead of a hang.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The PostgreSQL implementation of [`Store`]. Cheap to clone: clones share one pool.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) with a
    /// pool of up to ten connections. Fails with [`StoreError::Backend`] when the URL is invalid
    /// or the server does not answer. Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &str) -> StoreResult<PostgresStore> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .map_err(|e| StoreError::Backend(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(PostgresStore { pool })
    }

    /// Wraps a pool configured elsewhere.
    pub fn from_pool(pool: PgPool) -> PostgresStore {
        PostgresStore { pool }
    }

    /// The underlying pool, for what the [`Store`] trait does not cover yet (tests seeding
    /// `records`, operational queries).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Locks the connection row for the rest of `tx` and returns its status;
    /// [`StoreError::NotFound`] when the workspace has no such connection.
    async fn lock_connection(
        tx: &mut Transaction<'static, Postgres>,
        workspace_id: &str,
        id: &str,
    ) -> StoreResult<ConnectionStatus> {
        let status: Option<String> = sqlx::query_scalar(
            "SELECT status FROM connections WHERE workspace_id = $1 AND id = $2 FOR UPDATE",
        )
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?;
        let status = status.ok_or(StoreError::NotFound)?;
        ConnectionStatus::parse(&status).ok_or_else(|| {
            StoreError::Corrupt(format!("connection {id}: unknown status {status:?}"))
        })
    }
}

/// Credits held by a workspace's live connections. `sum(bigint)` is `numeric` in PostgreSQL,
/// hence the cast back.
const CREDITS_USED_SQL: &str = "SELECT COALESCE(SUM(credits), 0)::bigint FROM connections \
                                WHERE workspace_id = $1 AND status <> 'disconnected'";

/// Builds a page from `limit + 1` rows fetched newest first.
fn page<T>(
    rows: Vec<PgRow>,
    limit: u32,
    decode: fn(&PgRow) -> StoreResult<T>,
    id: impl Fn(&T) -> String,
) -> StoreResult<Page<T>> {
    let items = rows.iter().map(decode).collect::<StoreResult<Vec<T>>>()?;
    Ok(Page::from_overfetch(items, limit, id))
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> StoreResult<()> {
        migrations::migrate(&self.pool).await
    }

    async fn readiness(&self) -> StoreResult<Readiness> {
        migrations::readiness(&self.pool).await
    }

    // --- workspaces and users -------------------------------------------------------------

    async fn create_workspace(&self, new: NewWorkspace) -> StoreResult<Workspace> {
        let row = sqlx::query(
            "INSERT INTO workspaces (id, name, credit_limit, rate_limit_per_minute, secret_key_hash, \
             wrapped_data_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        )
        .bind(&new.id)
        .bind(&new.name)
        .bind(new.credit_limit)
        .bind(new.rate_limit_per_minute)
        .bind(&new.secret_key_hash)
        .bind(&new.wrapped_data_key)
        .bind(new.created_at)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        rows::workspace(&row)
    }

    async fn get_workspace(&self, id: &str) -> StoreResult<Option<Workspace>> {
        let row = sqlx::query("SELECT * FROM workspaces WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::workspace).transpose()
    }

    async fn find_workspace_by_key_hash(&self, key_hash: &str) -> StoreResult<Option<Workspace>> {
        let row = sqlx::query("SELECT * FROM workspaces WHERE secret_key_hash = $1")
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::workspace).transpose()
    }

    async fn create_user(&self, new: NewUser) -> StoreResult<User> {
        // Lower-cased on the way in (and on lookup), so the unique index on `email` is
        // case-insensitive without a functional index.
        let row = sqlx::query(
            "INSERT INTO users (id, workspace_id, email, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING *",
        )
        .bind(&new.id)
        .bind(&new.workspace_id)
        .bind(new.email.to_lowercase())
        .bind(&new.password_hash)
        .bind(new.created_at)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        rows::user(&row)
    }

    async fn find_user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE email = $1")
            .bind(email.to_lowercase())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::user).transpose()
    }

    // --- connections ----------------------------------------------------------------------

    async fn create_connection(
        &self,
        new: NewConnection,
        token: NewToken,
        event: NewEvent,
    ) -> StoreResult<Connection> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let connection = insert_connection(&mut tx, &new, Some(token), &event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(connection)
    }

    async fn get_connection(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> StoreResult<Option<Connection>> {
        let row = sqlx::query("SELECT * FROM connections WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::connection).transpose()
    }

    async fn list_connections(
        &self,
        workspace_id: &str,
        filter: &ConnectionFilter,
        page_request: &PageRequest,
    ) -> StoreResult<Page<Connection>> {
        let mut q =
            QueryBuilder::<Postgres>::new("SELECT * FROM connections WHERE workspace_id = ");
        q.push_bind(workspace_id.to_owned());
        if let Some(status) = filter.status {
            q.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(connector) = &filter.connector {
            q.push(" AND connector = ").push_bind(connector.clone());
        }
        for (key, value) in &filter.metadata {
            // `->>` yields the value as text, so only a string value equal to `value` matches
            // (a missing key yields NULL, which matches nothing).
            q.push(" AND metadata ->> ")
                .push_bind(key.clone())
                .push(" = ")
                .push_bind(value.clone());
        }
        if let Some(after) = &page_request.after {
            q.push(" AND id < ").push_bind(after.clone());
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(page_request.limit) + 1);
        let found = q.build().fetch_all(&self.pool).await.map_err(db_err)?;
        page(found, page_request.limit, rows::connection, |c| {
            c.id.clone()
        })
    }

    async fn update_connection(
        &self,
        workspace_id: &str,
        id: &str,
        patch: ConnectionPatch,
        now: Timestamp,
    ) -> StoreResult<Connection> {
        let row = sqlx::query(
            "UPDATE connections SET name = COALESCE($3, name), metadata = COALESCE($4, metadata), \
             updated_at = $5 WHERE workspace_id = $1 AND id = $2 RETURNING *",
        )
        .bind(workspace_id)
        .bind(id)
        .bind(patch.name)
        .bind(patch.metadata)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        rows::connection(&row.ok_or(StoreError::NotFound)?)
    }

    async fn replace_credentials(
        &self,
        workspace_id: &str,
        id: &str,
        sealed_credentials: Vec<u8>,
        reauthorized: NewEvent,
        now: Timestamp,
    ) -> StoreResult<Connection> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let (connection, _) = replace_credentials_in(
            &mut tx,
            workspace_id,
            id,
            sealed_credentials,
            &reauthorized,
            now,
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(connection)
    }

    async fn rotate_token(
        &self,
        workspace_id: &str,
        connection_id: &str,
        token: NewToken,
    ) -> StoreResult<TokenRecord> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let record = rotate_token_in(&mut tx, workspace_id, connection_id, token).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(record)
    }

    async fn disconnect_connection(
        &self,
        workspace_id: &str,
        id: &str,
        event: NewEvent,
        now: Timestamp,
    ) -> StoreResult<Disconnected> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // Locking first makes two concurrent disconnects agree on which one changed anything.
        if Self::lock_connection(&mut tx, workspace_id, id).await? == ConnectionStatus::Disconnected
        {
            let connection = fetch_connection(&mut tx, workspace_id, id).await?;
            tx.commit().await.map_err(db_err)?;
            return Ok(Disconnected {
                connection,
                changed: false,
                jobs_cancelled: 0,
            });
        }
        let row = sqlx::query(
            "UPDATE connections SET status = 'disconnected', disconnected_at = $3, updated_at = $3 \
             WHERE workspace_id = $1 AND id = $2 RETURNING *",
        )
        .bind(workspace_id)
        .bind(id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let connection = rows::connection(&row)?;
        sqlx::query("UPDATE connection_tokens SET revoked_at = $2 WHERE connection_id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        // A worker holding one of these jobs loses it: complete_job and retry_job only act on
        // `running` jobs, so its late answer is ignored.
        let cancelled = sqlx::query(
            "UPDATE jobs SET state = 'cancelled', finished_at = $2 \
             WHERE connection_id = $1 AND state IN ('queued', 'running')",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        // A page of one of these runs waiting on the connection lock then finds its run
        // cancelled and writes nothing.
        sqlx::query(
            "UPDATE sync_runs SET status = 'cancelled', finished_at = $2 \
             WHERE connection_id = $1 AND status = 'running'",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        synced::insert_event(&mut tx, &event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Disconnected {
            connection,
            changed: true,
            jobs_cancelled: cancelled,
        })
    }

    async fn delete_connection_data(
        &self,
        workspace_id: &str,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        if Self::lock_connection(&mut tx, workspace_id, id).await? != ConnectionStatus::Disconnected
        {
            return Err(StoreError::NotDisconnected);
        }
        let deleted = sqlx::query("DELETE FROM records WHERE connection_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        sqlx::query(
            "UPDATE connections SET data_deleted_at = $3 WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace_id)
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(deleted)
    }

    async fn credit_usage(&self, workspace_id: &str) -> StoreResult<CreditUsage> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT w.credit_limit, COALESCE((SELECT SUM(c.credits) FROM connections c \
             WHERE c.workspace_id = w.id AND c.status <> 'disconnected'), 0)::bigint \
             FROM workspaces w WHERE w.id = $1",
        )
        .bind(workspace_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let (limit, used) = row.ok_or(StoreError::NotFound)?;
        Ok(CreditUsage::new(limit, used))
    }

    async fn transition_connection(
        &self,
        connection_id: &str,
        from: &[ConnectionStatus],
        to: ConnectionStatus,
        event: Option<NewEvent>,
        now: Timestamp,
    ) -> StoreResult<Option<Connection>> {
        let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // Conditional: of two racing transitions from the same status, the second finds the
        // status changed (PostgreSQL re-checks the WHERE clause after waiting on the row).
        let row = sqlx::query(
            "UPDATE connections SET status = $3, updated_at = $4 \
             WHERE id = $1 AND status = ANY($2) RETURNING *",
        )
        .bind(connection_id)
        .bind(from)
        .bind(to.as_str())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let connection = rows::connection(&row)?;
        if let Some(event) = &event {
            synced::insert_event(&mut tx, event).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(Some(connection))
    }

    async fn live_connections(&self) -> StoreResult<Vec<Connection>> {
        let found =
            sqlx::query("SELECT * FROM connections WHERE status <> 'disconnected' ORDER BY id")
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        found.iter().map(rows::connection).collect()
    }

    async fn update_connection_settings(
        &self,
        workspace_id: &str,
        id: &str,
        sync_settings: Option<serde_json::Value>,
        field_mappings: Option<serde_json::Value>,
        now: Timestamp,
    ) -> StoreResult<Connection> {
        let row = sqlx::query(
            "UPDATE connections SET sync_settings = COALESCE($3, sync_settings), \
             field_mappings = COALESCE($4, field_mappings), updated_at = $5 \
             WHERE workspace_id = $1 AND id = $2 RETURNING *",
        )
        .bind(workspace_id)
        .bind(id)
        .bind(sync_settings)
        .bind(field_mappings)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        rows::connection(&row.ok_or(StoreError::NotFound)?)
    }

    // --- tokens ---------------------------------------------------------------------------

    async fn find_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<TokenLookup>> {
        let row = sqlx::query(
            "SELECT t.*, c.status AS connection_status FROM connection_tokens t \
             JOIN connections c ON c.id = t.connection_id WHERE t.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(rows::token_lookup).transpose()
    }

    // --- jobs -----------------------------------------------------------------------------

    async fn enqueue_job(&self, job: NewJob) -> StoreResult<bool> {
        // The conflict target names the partial unique index on live dedupe keys, so a live
        // duplicate is skipped while a duplicate `id` still fails as a conflict.
        let inserted = sqlx::query(
            "INSERT INTO jobs (id, kind, workspace_id, connection_id, payload, state, run_at, attempts, \
             dedupe_key, created_at) VALUES ($1, $2, $3, $4, $5, 'queued', $6, 0, $7, $8) \
             ON CONFLICT (dedupe_key) WHERE state IN ('queued', 'running') DO NOTHING",
        )
        .bind(&job.id)
        .bind(&job.kind)
        .bind(&job.workspace_id)
        .bind(&job.connection_id)
        .bind(&job.payload)
        .bind(job.run_at)
        .bind(&job.dedupe_key)
        .bind(job.created_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn claim_jobs(
        &self,
        kinds: &[&str],
        worker: &str,
        now: Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        if kinds.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let lease_expires_at = now.checked_add_signed(lease).ok_or_else(|| {
            StoreError::Backend(format!("lease of {lease} from {now} is out of range"))
        })?;
        let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
        // SKIP LOCKED lets concurrent workers pass over rows another claim has locked instead of
        // waiting for them; a row another worker claimed and committed meanwhile is re-checked
        // against the WHERE clause when locked, and no longer qualifies. MATERIALIZED makes
        // the candidate list be computed exactly once, so LIMIT bounds the claim.
        //
        // Due queued jobs and expired leases are locked by two separate index scans (each
        // stopping at the limit); only those candidates are ordered. One `state = … OR …`
        // condition sorted every due job on each claim, O(N) per claim with N jobs due.
        // A candidate locked but not picked is released when the statement commits.
        let found = sqlx::query(
            "WITH due AS MATERIALIZED ( \
                 SELECT id, run_at FROM jobs \
                 WHERE state = 'queued' AND run_at <= $3 AND kind = ANY($1) \
                 ORDER BY run_at, id LIMIT $5 \
                 FOR UPDATE SKIP LOCKED), \
             expired AS MATERIALIZED ( \
                 SELECT id, run_at FROM jobs \
                 WHERE state = 'running' AND lease_expires_at < $3 AND kind = ANY($1) \
                 ORDER BY run_at, id LIMIT $5 \
                 FOR UPDATE SKIP LOCKED), \
             picked AS ( \
                 SELECT id FROM (SELECT id, run_at FROM due UNION ALL SELECT id, run_at FROM expired) c \
                 ORDER BY run_at, id LIMIT $5) \
             UPDATE jobs AS j SET state = 'running', lease_owner = $2, lease_expires_at = $4, \
                 attempts = j.attempts + 1 \
             FROM picked WHERE j.id = picked.id \
             RETURNING j.*",
        )
        .bind(kinds)
        .bind(worker)
        .bind(now)
        .bind(lease_expires_at)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut jobs = found
            .iter()
            .map(rows::job)
            .collect::<StoreResult<Vec<Job>>>()?;
        // RETURNING has no defined order; callers get the oldest due job first.
        jobs.sort_by(|a, b| (a.run_at, &a.id).cmp(&(b.run_at, &b.id)));
        Ok(jobs)
    }

    async fn extend_lease(&self, id: &str, worker: &str, until: Timestamp) -> StoreResult<bool> {
        let extended = sqlx::query(
            "UPDATE jobs SET lease_expires_at = $3 \
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(worker)
        .bind(until)
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        Ok(extended == 1)
    }

    async fn complete_job(&self, id: &str, worker: &str, now: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'done', finished_at = $3 \
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(worker)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        Ok(done == 1)
    }

    async fn retry_job(
        &self,
        id: &str,
        worker: &str,
        run_at: Timestamp,
        error: &str,
    ) -> StoreResult<bool> {
        let queued = sqlx::query(
            "UPDATE jobs SET state = 'queued', run_at = $3, last_error = $4, lease_owner = NULL, \
             lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(worker)
        .bind(run_at)
        .bind(error)
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        Ok(queued == 1)
    }

    async fn get_job(&self, id: &str) -> StoreResult<Option<Job>> {
        let row = sqlx::query("SELECT * FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::job).transpose()
    }

    async fn cancel_queued_jobs(
        &self,
        connection_id: &str,
        kinds: &[&str],
        now: Timestamp,
    ) -> StoreResult<u64> {
        let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
        let cancelled = sqlx::query(
            "UPDATE jobs SET state = 'cancelled', finished_at = $3 \
             WHERE connection_id = $1 AND state = 'queued' AND kind = ANY($2)",
        )
        .bind(connection_id)
        .bind(kinds)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        Ok(cancelled)
    }

    // --- synced records -------------------------------------------------------------------

    async fn apply_page(&self, page: PageWrite) -> StoreResult<PageOutcome> {
        synced::apply_page(&self.pool, page).await
    }

    async fn get_record(
        &self,
        workspace_id: &str,
        connection_id: &str,
        entity: Entity,
        id: &str,
    ) -> StoreResult<Option<StoredRecord>> {
        synced::get_record(&self.pool, workspace_id, connection_id, entity, id).await
    }

    async fn list_records(
        &self,
        workspace_id: &str,
        connection_id: &str,
        entity: Entity,
        query: &RecordQuery,
    ) -> StoreResult<RecordPage> {
        synced::list_records(&self.pool, workspace_id, connection_id, entity, query).await
    }

    async fn live_remote_ids(
        &self,
        connection_id: &str,
        entity: Entity,
    ) -> StoreResult<Vec<String>> {
        synced::live_remote_ids(&self.pool, connection_id, entity).await
    }

    // --- events ---------------------------------------------------------------------------

    async fn append_event(&self, event: NewEvent) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        synced::insert_event(&mut conn, &event).await
    }

    async fn list_events(
        &self,
        workspace_id: &str,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Event>> {
        synced::list_events(&self.pool, workspace_id, filter, page).await
    }

    // --- sync runs and state --------------------------------------------------------------

    async fn start_sync_run(&self, run: NewSyncRun) -> StoreResult<SyncRun> {
        synced::start_sync_run(&self.pool, run).await
    }

    async fn finish_sync_run(&self, run_id: &str, end: RunEnd) -> StoreResult<SyncRun> {
        synced::finish_sync_run(&self.pool, run_id, end).await
    }

    async fn get_sync_run(&self, run_id: &str) -> StoreResult<Option<SyncRun>> {
        synced::get_sync_run(&self.pool, run_id).await
    }

    async fn list_sync_runs(
        &self,
        workspace_id: &str,
        connection_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<SyncRun>> {
        synced::list_sync_runs(&self.pool, workspace_id, connection_id, page).await
    }

    async fn sync_states(&self, connection_id: &str) -> StoreResult<Vec<SyncState>> {
        synced::sync_states(&self.pool, connection_id).await
    }

    async fn set_next_run(
        &self,
        connection_id: &str,
        entity: Entity,
        next_run_at: Option<Timestamp>,
    ) -> StoreResult<()> {
        synced::set_next_run(&self.pool, connection_id, entity, next_run_at).await
    }

    async fn set_paused(
        &self,
        connection_id: &str,
        entities: &[Entity],
        paused: bool,
    ) -> StoreResult<()> {
        synced::set_paused(&self.pool, connection_id, entities, paused).await
    }

    // --- idempotency ----------------------------------------------------------------------

    async fn get_idempotent_response(
        &self,
        workspace_id: &str,
        key: &str,
    ) -> StoreResult<Option<IdempotentResponse>> {
        synced::get_idempotent_response(&self.pool, workspace_id, key).await
    }

    async fn put_idempotent_response(&self, response: IdempotentResponse) -> StoreResult<bool> {
        synced::put_idempotent_response(&self.pool, response).await
    }

    async fn purge_idempotent_responses(&self, before: Timestamp) -> StoreResult<u64> {
        synced::purge_idempotent_responses(&self.pool, before).await
    }

    // --- webhooks -------------------------------------------------------------------------

    async fn create_webhook_endpoint(
        &self,
        new: NewWebhookEndpoint,
    ) -> StoreResult<WebhookEndpoint> {
        webhooks::create_endpoint(&self.pool, new).await
    }

    async fn get_webhook_endpoint(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        webhooks::get_endpoint(&self.pool, workspace_id, id).await
    }

    async fn list_webhook_endpoints(
        &self,
        workspace_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<WebhookEndpoint>> {
        webhooks::list_endpoints(&self.pool, workspace_id, page).await
    }

    async fn update_webhook_endpoint(
        &self,
        workspace_id: &str,
        id: &str,
        patch: WebhookEndpointPatch,
        now: Timestamp,
    ) -> StoreResult<WebhookEndpoint> {
        webhooks::update_endpoint(&self.pool, workspace_id, id, patch, now).await
    }

    async fn delete_webhook_endpoint(&self, workspace_id: &str, id: &str) -> StoreResult<()> {
        webhooks::delete_endpoint(&self.pool, workspace_id, id).await
    }

    async fn fan_out_events(&self, limit: u32, now: Timestamp) -> StoreResult<FanOut> {
        webhooks::fan_out_events(&self.pool, limit, now).await
    }

    async fn insert_test_event(
        &self,
        event: NewEvent,
        delivery: NewDelivery,
    ) -> StoreResult<Delivery> {
        webhooks::insert_test_event(&self.pool, event, delivery).await
    }

    async fn claim_deliveries(
        &self,
        worker: &str,
        now: Timestamp,
        lease: chrono::Duration,
        per_endpoint: u32,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        webhooks::claim_deliveries(&self.pool, worker, now, lease, per_endpoint, limit).await
    }

    async fn finish_attempt(
        &self,
        delivery_id: &str,
        worker: &str,
        attempt: DeliveryAttempt,
        outcome: AttemptOutcome,
    ) -> StoreResult<bool> {
        webhooks::finish_attempt(&self.pool, delivery_id, worker, attempt, outcome).await
    }

    async fn finish_attempts(
        &self,
        worker: &str,
        attempts: Vec<(DeliveryAttempt, AttemptOutcome)>,
    ) -> StoreResult<Vec<bool>> {
        webhooks::finish_attempts(&self.pool, worker, &attempts).await
    }

    async fn list_deliveries(
        &self,
        workspace_id: &str,
        filter: &DeliveryFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Delivery>> {
        webhooks::list_deliveries(&self.pool, workspace_id, filter, page).await
    }

    async fn get_delivery(&self, workspace_id: &str, id: &str) -> StoreResult<Option<Delivery>> {
        webhooks::get_delivery(&self.pool, workspace_id, id).await
    }

    async fn delivery_attempts(
        &self,
        workspace_id: &str,
        delivery_ids: &[String],
    ) -> StoreResult<Vec<DeliveryAttempt>> {
        webhooks::delivery_attempts(&self.pool, workspace_id, delivery_ids).await
    }

    async fn retry_delivery(
        &self,
        workspace_id: &str,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<Delivery> {
        webhooks::retry_delivery(&self.pool, workspace_id, id, now).await
    }

    async fn recover_deliveries(
        &self,
        workspace_id: &str,
        endpoint_id: &str,
        since: Timestamp,
        now: Timestamp,
    ) -> StoreResult<u64> {
        webhooks::recover_deliveries(&self.pool, workspace_id, endpoint_id, since, now).await
    }

    async fn disable_failing_endpoints(
        &self,
        cutoff: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Vec<WebhookEndpoint>> {
        webhooks::disable_failing_endpoints(&self.pool, cutoff, now).await
    }

    // --- request logs ---------------------------------------------------------------------

    async fn insert_request_logs(&self, logs: &[RequestLog]) -> StoreResult<()> {
        if logs.is_empty() {
            return Ok(());
        }
        // One statement for the whole batch: each column travels as one array parameter and
        // UNNEST zips them back into rows, so the batch size is not bounded by the 65535
        // parameters a statement may carry.
        fn column<T>(logs: &[RequestLog], f: impl Fn(&RequestLog) -> T) -> Vec<T> {
            logs.iter().map(f).collect()
        }
        sqlx::query(
            "INSERT INTO request_logs (request_id, workspace_id, connection_id, method, path, status, \
             duration_ms, request_headers, request_body, response_body, error_code, created_at) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::bigint[], $7::bigint[], $8::jsonb[], $9::text[], $10::text[], $11::text[], \
             $12::timestamptz[])",
        )
        .bind(column(logs, |l| l.request_id.clone()))
        .bind(column(logs, |l| l.workspace_id.clone()))
        .bind(column(logs, |l| l.connection_id.clone()))
        .bind(column(logs, |l| l.method.clone()))
        .bind(column(logs, |l| l.path.clone()))
        .bind(column(logs, |l| l.status))
        .bind(column(logs, |l| l.duration_ms))
        .bind(column(logs, |l| l.request_headers.clone()))
        .bind(column(logs, |l| l.request_body.clone()))
        .bind(column(logs, |l| l.response_body.clone()))
        .bind(column(logs, |l| l.error_code.clone()))
        .bind(column(logs, |l| l.created_at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn list_request_logs(
        &self,
        workspace_id: &str,
        filter: &RequestLogFilter,
        page_request: &PageRequest,
    ) -> StoreResult<Page<RequestLog>> {
        let mut q =
            QueryBuilder::<Postgres>::new("SELECT * FROM request_logs WHERE workspace_id = ");
        q.push_bind(workspace_id.to_owned());
        if let Some(request_id) = &filter.request_id {
            q.push(" AND request_id = ").push_bind(request_id.clone());
        }
        if let Some(connection_id) = &filter.connection_id {
            q.push(" AND connection_id = ")
                .push_bind(connection_id.clone());
        }
        if let Some(status) = filter.status {
            q.push(" AND status = ").push_bind(status);
        }
        if let Some(since) = filter.since {
            q.push(" AND created_at >= ").push_bind(since);
        }
        if let Some(after) = &page_request.after {
            q.push(" AND request_id < ").push_bind(after.clone());
        }
        q.push(" ORDER BY request_id DESC LIMIT ")
            .push_bind(i64::from(page_request.limit) + 1);
        let found = q.build().fetch_all(&self.pool).await.map_err(db_err)?;
        page(found, page_request.limit, rows::request_log, |l| {
            l.request_id.clone()
        })
    }

    async fn get_request_log(
        &self,
        workspace_id: &str,
        request_id: &str,
    ) -> StoreResult<Option<RequestLog>> {
        let row =
            sqlx::query("SELECT * FROM request_logs WHERE workspace_id = $1 AND request_id = $2")
                .bind(workspace_id)
                .bind(request_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        row.as_ref().map(rows::request_log).transpose()
    }

    async fn purge_request_logs(&self, before: Timestamp) -> StoreResult<u64> {
        let purged = sqlx::query("DELETE FROM request_logs WHERE created_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await
            .map_err(db_err)?
            .rows_affected();
        Ok(purged)
    }

    // --- health -------------------------------------------------------------------------

    async fn record_probe(&self, probe: millwright_store::NewProbe) -> StoreResult<()> {
        health::record(&self.pool, &probe).await
    }

    async fn probe_history(
        &self,
        workspace_id: &str,
        connection_id: &str,
        since: Timestamp,
    ) -> StoreResult<Vec<millwright_store::Probe>> {
        health::history(&self.pool, workspace_id, connection_id, since).await
    }

    async fn probe_daily(
        &self,
        workspace_id: &str,
        connection_id: &str,
        since: Timestamp,
    ) -> StoreResult<Vec<millwright_store::ProbeDay>> {
        health::daily(&self.pool, workspace_id, connection_id, since).await
    }

    async fn purge_probes(
        &self,
        raw_before: Timestamp,
        days_before: chrono::NaiveDate,
    ) -> StoreResult<u64> {
        health::purge(&self.pool, raw_before, days_before).await
    }

    // --- operations -----------------------------------------------------------------------

    async fn job_queue_stats(
        &self,
        now: Timestamp,
    ) -> StoreResult<Vec<millwright_store::JobQueueStat>> {
        operations::job_queue_stats(&self.pool, now).await
    }

    async fn connection_status_counts(
        &self,
    ) -> StoreResult<Vec<millwright_store::ConnectionStatusCount>> {
        operations::connection_status_counts(&self.pool).await
    }
}

/// Inserts a connection inside `tx` after checking its credits under the workspace lock, with
/// its first token when given (a connection made through Link gets its token only when the
/// public token is exchanged) and its `connection.created` event.
pub(crate) async fn insert_connection(
    tx: &mut Transaction<'static, Postgres>,
    new: &NewConnection,
    token: Option<NewToken>,
    event: &NewEvent,
) -> StoreResult<Connection> {
    // The workspace row is the per-workspace lock: concurrent creates in one workspace
    // queue here, so each one sums the credits after the previous one has committed.
    let limit: Option<i64> =
        sqlx::query_scalar("SELECT credit_limit FROM workspaces WHERE id = $1 FOR UPDATE")
            .bind(&new.workspace_id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_err)?;
    let limit = limit.ok_or(StoreError::NotFound)?;
    let used: i64 = sqlx::query_scalar(CREDITS_USED_SQL)
        .bind(&new.workspace_id)
        .fetch_one(&mut **tx)
        .await
        .map_err(db_err)?;
    if used + new.credits > limit {
        // The caller drops `tx`, which rolls back; nothing was written.
        return Err(StoreError::InsufficientCredits {
            limit,
            used,
            requested: new.credits,
        });
    }
    let row = sqlx::query(
        "INSERT INTO connections (id, workspace_id, connector, deployment, name, status, credits, \
         metadata, sealed_credentials, sync_settings, field_mappings, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING *",
    )
    .bind(&new.id)
    .bind(&new.workspace_id)
    .bind(&new.connector)
    .bind(new.deployment.as_str())
    .bind(&new.name)
    .bind(new.status.as_str())
    .bind(new.credits)
    .bind(&new.metadata)
    .bind(&new.sealed_credentials)
    .bind(&new.sync_settings)
    .bind(&new.field_mappings)
    .bind(new.created_at)
    .fetch_one(&mut **tx)
    .await
    .map_err(db_err)?;
    let connection = rows::connection(&row)?;
    if let Some(token) = token {
        // The first token belongs to this connection whatever the caller filled in.
        let token = NewToken {
            connection_id: new.id.clone(),
            workspace_id: new.workspace_id.clone(),
            ..token
        };
        insert_token(tx, &token).await?;
    }
    synced::insert_event(tx, event).await?;
    Ok(connection)
}

/// Replaces a connection's sealed credentials inside `tx` (see [`Store::replace_credentials`]);
/// also returns the status the connection had before.
pub(crate) async fn replace_credentials_in(
    tx: &mut Transaction<'static, Postgres>,
    workspace_id: &str,
    id: &str,
    sealed_credentials: Vec<u8>,
    reauthorized: &NewEvent,
    now: Timestamp,
) -> StoreResult<(Connection, ConnectionStatus)> {
    let status = PostgresStore::lock_connection(tx, workspace_id, id).await?;
    if status == ConnectionStatus::Disconnected {
        return Err(StoreError::Disconnected);
    }
    // Under the row lock, so the event is appended exactly once per reauthorization.
    if status == ConnectionStatus::RequiresReauthorization {
        synced::insert_event(tx, reauthorized).await?;
    }
    let row = sqlx::query(
        "UPDATE connections SET sealed_credentials = $3, updated_at = $4, \
         status = CASE WHEN status = 'requires_reauthorization' THEN 'active' ELSE status END \
         WHERE workspace_id = $1 AND id = $2 RETURNING *",
    )
    .bind(workspace_id)
    .bind(id)
    .bind(sealed_credentials)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok((rows::connection(&row)?, status))
}

/// Revokes every live token of the connection and inserts `token` inside `tx`
/// (see [`Store::rotate_token`]).
pub(crate) async fn rotate_token_in(
    tx: &mut Transaction<'static, Postgres>,
    workspace_id: &str,
    connection_id: &str,
    token: NewToken,
) -> StoreResult<TokenRecord> {
    if PostgresStore::lock_connection(tx, workspace_id, connection_id).await?
        == ConnectionStatus::Disconnected
    {
        return Err(StoreError::Disconnected);
    }
    let token = NewToken {
        connection_id: connection_id.to_owned(),
        workspace_id: workspace_id.to_owned(),
        ..token
    };
    // The old tokens die the moment the new one is issued.
    sqlx::query(
        "UPDATE connection_tokens SET revoked_at = $2 WHERE connection_id = $1 AND revoked_at IS NULL",
    )
    .bind(connection_id)
    .bind(token.created_at)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    insert_token(tx, &token).await
}

/// Inserts a token row inside `tx`.
async fn insert_token(
    tx: &mut Transaction<'static, Postgres>,
    token: &NewToken,
) -> StoreResult<TokenRecord> {
    let row = sqlx::query(
        "INSERT INTO connection_tokens (id, connection_id, workspace_id, token_hash, scopes, expires_at, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
    )
    .bind(&token.id)
    .bind(&token.connection_id)
    .bind(&token.workspace_id)
    .bind(&token.token_hash)
    .bind(scope::join(&token.scopes))
    .bind(token.expires_at)
    .bind(token.created_at)
    .fetch_one(&mut **tx)
    .await
    .map_err(db_err)?;
    rows::token(&row)
}

/// Reads a connection inside `tx` (after [`PostgresStore::lock_connection`] found it).
pub(crate) async fn fetch_connection(
    tx: &mut Transaction<'static, Postgres>,
    workspace_id: &str,
    id: &str,
) -> StoreResult<Connection> {
    let row = sqlx::query("SELECT * FROM connections WHERE workspace_id = $1 AND id = $2")
        .bind(workspace_id)
        .bind(id)
        .fetch_one(&mut **tx)
        .await
        .map_err(db_err)?;
    rows::connection(&row)
}
