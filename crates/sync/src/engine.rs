//! Runs sync jobs: one (connection, entity) at a time, page by page, resumable.

use std::{collections::HashSet, sync::Arc};

use millwright_connectors::{
    ConnectionContext, Connector, ConnectorError, Credentials, ListRequest, Registry,
};
use millwright_core::{
    ids::{self, prefix},
    keyring::Keyring,
    status::ConnectionStatus,
    time::{self, Timestamp},
};
use millwright_store::{
    Connection, Job, NewEvent, NewSyncRun, PageWrite, RunEnd, RunStatus, Store, StoreError,
    SyncMode, SyncRun,
};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::{
    error::SyncError,
    jobs::{schedule_next, schedule_sweep, SyncJob, RECONCILE_EVERY, SCHEDULER_JOB, SYNC_JOB},
    metrics,
    settings::{uses_history_window, SyncSettings},
    transform::to_record_write,
};

/// Told the id of every connection whose status the engine changes, so caches on this node
/// (the API's token and connection cache) drop it at once.
pub type ConnectionChanged = Arc<dyn Fn(&str) + Send + Sync>;

#[derive(Clone)]
pub struct EngineConfig {
    /// Records asked per page (connectors clamp to what the source allows).
    pub page_size: u32,
    /// Incremental runs re-read this much before the cursor, so a change committed at the
    /// boundary is not missed (re-read records are unchanged and cost no write).
    pub overlap: chrono::Duration,
    /// First retry after an outage; doubles per failure, with jitter, up to `backoff_max`.
    pub backoff_base: chrono::Duration,
    pub backoff_max: chrono::Duration,
    /// How often the scheduler sweep re-queues missing jobs.
    pub sweep_every: chrono::Duration,
    pub on_connection_change: Option<ConnectionChanged>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            page_size: 500,
            overlap: chrono::Duration::minutes(5),
            backoff_base: chrono::Duration::seconds(30),
            backoff_max: chrono::Duration::hours(1),
            sweep_every: chrono::Duration::seconds(60),
            on_connection_change: None,
        }
    }
}

/// What the worker does with the job after [`Engine::run_job`].
#[derive(Debug, Clone)]
pub enum JobOutcome {
    /// Complete it, then queue the follow-up with [`Engine::follow_up`] (once the completed
    /// job has freed its dedupe key).
    Done(Option<Box<FollowUp>>),
    /// Put this same job back for `at` (recurring jobs, or a transient store failure).
    Reschedule { at: Timestamp, note: String },
}

/// The next sync of an entity, queued after the current job completes.
#[derive(Debug, Clone)]
pub struct FollowUp {
    connection: Connection,
    job: SyncJob,
    at: Timestamp,
}

/// Where a run is, stored as the run's checkpoint after every page.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Checkpoint {
    /// The connector cursor of the next page; `None` once the last page is written.
    next: Option<String>,
    /// The newest `remote_updated_at` seen so far (RFC 3339).
    high_water: Option<String>,
    /// Pages written, so a resumed run knows it is not at the start.
    pages: u64,
}

pub struct Engine {
    store: Arc<dyn Store>,
    connectors: Arc<Registry>,
    keyring: Arc<Keyring>,
    config: EngineConfig,
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        connectors: Arc<Registry>,
        keyring: Arc<Keyring>,
        config: EngineConfig,
    ) -> Engine {
        Engine {
            store,
            connectors,
            keyring,
            config,
        }
    }

    /// The job kinds this engine runs.
    pub const KINDS: &'static [&'static str] = &[SYNC_JOB, SCHEDULER_JOB];

    /// Queues the scheduler sweep if none is queued (called at worker start).
    pub async fn start(&self) -> Result<(), SyncError> {
        schedule_sweep(self.store.as_ref(), time::now()).await?;
        Ok(())
    }

    /// Runs one claimed job. `worker` holds its lease; long runs extend it by `lease` after
    /// every page, and stop if it was lost.
    pub async fn run_job(&self, job: &Job, worker: &str, lease: chrono::Duration) -> JobOutcome {
        let holder = Holder {
            job_id: job.id.clone(),
            worker: worker.to_string(),
            lease,
        };
        match job.kind.as_str() {
            SCHEDULER_JOB => match self.sweep().await {
                Ok(()) => JobOutcome::Reschedule {
                    at: time::now() + self.config.sweep_every,
                    note: String::new(),
                },
                Err(e) => JobOutcome::Reschedule {
                    at: time::now() + self.config.sweep_every,
                    note: e.to_string(),
                },
            },
            SYNC_JOB => match serde_json::from_value::<SyncJob>(job.payload.clone()) {
                Ok(payload) => self.run_sync(job, payload, &holder).await,
                Err(e) => {
                    tracing::error!(job = %job.id, error = %e, "malformed sync job; dropped");
                    JobOutcome::Done(None)
                }
            },
            other => {
                tracing::error!(job = %job.id, kind = other, "not a sync job");
                JobOutcome::Done(None)
            }
        }
    }

    /// Queues a job for every (live connection, entity) that has none, at its due time.
    async fn sweep(&self) -> Result<(), SyncError> {
        let now = time::now();
        for connection in self.store.live_connections().await? {
            if connection.status == ConnectionStatus::RequiresReauthorization {
                continue;
            }
            let settings = SyncSettings::from_json(&connection.sync_settings);
            let states = self.store.sync_states(&connection.id).await?;
            for entity in &settings.entities {
                let state = states.iter().find(|s| s.entity == *entity);
                if state.is_some_and(|s| s.paused) {
                    continue;
                }
                let due = state
                    .and_then(|s| {
                        s.next_run_at
                            .or(s.last_run_at.map(|t| t + settings.frequency(*entity)))
                    })
                    .unwrap_or(now)
                    .max(now);
                let job = SyncJob {
                    entity: *entity,
                    full: false,
                    reconcile_at: Some(now + RECONCILE_EVERY),
                    failures: 0,
                };
                if schedule_next(self.store.as_ref(), &connection, &job, due).await? {
                    self.store
                        .set_next_run(&connection.id, *entity, Some(due))
                        .await?;
                }
            }
        }
        Ok(())
    }

    async fn run_sync(&self, job: &Job, payload: SyncJob, holder: &Holder) -> JobOutcome {
        let (Some(workspace_id), Some(connection_id)) = (&job.workspace_id, &job.connection_id)
        else {
            return JobOutcome::Done(None);
        };
        let connection = match self.store.get_connection(workspace_id, connection_id).await {
            Ok(Some(c)) => c,
            Ok(None) => return JobOutcome::Done(None),
            Err(e) => return self.store_trouble(e),
        };
        if matches!(
            connection.status,
            ConnectionStatus::Disconnected | ConnectionStatus::RequiresReauthorization
        ) {
            return JobOutcome::Done(None);
        }
        let settings = SyncSettings::from_json(&connection.sync_settings);
        if !settings.entities.contains(&payload.entity) {
            return JobOutcome::Done(None);
        }
        let state = match self.store.sync_states(connection_id).await {
            Ok(states) => states.into_iter().find(|s| s.entity == payload.entity),
            Err(e) => return self.store_trouble(e),
        };
        if state.as_ref().is_some_and(|s| s.paused) {
            return JobOutcome::Done(None);
        }
        let cursor = state.as_ref().and_then(|s| s.cursor.clone());
        let now = time::now();
        let reconcile_due = payload.full || payload.reconcile_at.is_some_and(|t| t <= now);
        let mode = match (&cursor, reconcile_due) {
            (None, _) => SyncMode::Initial,
            (Some(_), true) => SyncMode::Full,
            (Some(_), false) => SyncMode::Incremental,
        };
        let run = match self
            .store
            .start_sync_run(NewSyncRun {
                id: ids::new_id("run"),
                workspace_id: workspace_id.clone(),
                connection_id: connection_id.clone(),
                entity: payload.entity,
                mode,
                cursor_from: cursor,
                started_at: now,
            })
            .await
        {
            Ok(run) => run,
            Err(StoreError::Disconnected) => return JobOutcome::Done(None),
            Err(e) => return self.store_trouble(e),
        };

        let result = self.execute(&connection, &settings, &run, holder).await;
        self.conclude(&connection, &settings, &payload, &run, result)
            .await
    }

    fn store_trouble(&self, e: StoreError) -> JobOutcome {
        tracing::warn!(error = %e, "store unavailable during sync; retrying");
        JobOutcome::Reschedule {
            at: time::now() + self.config.backoff_base,
            note: e.to_string(),
        }
    }

    fn context(
        &self,
        connection: &Connection,
        workspace_wrapped_key: &[u8],
    ) -> Result<ConnectionContext, SyncError> {
        let plain = self
            .keyring
            .open(
                &connection.workspace_id,
                workspace_wrapped_key,
                &connection.id,
                &connection.sealed_credentials,
            )
            .map_err(|e| {
                SyncError::Misconfigured(format!(
                    "cannot open the credentials of {}: {e}",
                    connection.id
                ))
            })?;
        let credentials: Credentials =
            serde_json::from_slice(&plain).map_err(|e| SyncError::Misconfigured(e.to_string()))?;
        Ok(ConnectionContext {
            deployment: connection.deployment,
            credentials,
        })
    }

    /// Reads every page of the run and writes it; returns the run's counters on success.
    async fn execute(
        &self,
        connection: &Connection,
        settings: &SyncSettings,
        run: &SyncRun,
        holder: &Holder,
    ) -> Result<Outcome, SyncError> {
        let connector: Arc<dyn Connector> = self
            .connectors
            .connector(&connection.connector)
            .ok_or_else(|| {
                SyncError::Misconfigured(format!("no connector {}", connection.connector))
            })?;
        let workspace = self
            .store
            .get_workspace(&connection.workspace_id)
            .await?
            .ok_or_else(|| {
                SyncError::Misconfigured(format!("no workspace {}", connection.workspace_id))
            })?;
        let ctx = self.context(connection, &workspace.wrapped_data_key)?;

        if connection.status == ConnectionStatus::Pending {
            self.store
                .transition_connection(
                    &connection.id,
                    &[ConnectionStatus::Pending],
                    ConnectionStatus::Syncing,
                    None,
                    time::now(),
                )
                .await?;
        }

        let entity = run.entity;
        let modified_since = match run.mode {
            SyncMode::Initial if uses_history_window(entity) => {
                Some(run.started_at - chrono::Duration::days(settings.history_days as i64))
            }
            SyncMode::Initial | SyncMode::Full => None,
            SyncMode::Incremental => run
                .cursor_from
                .as_deref()
                .and_then(time::parse)
                .map(|t| t - self.config.overlap),
        };
        let mut checkpoint: Checkpoint = run
            .checkpoint
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
            .unwrap_or_default();
        let resumed = checkpoint.pages > 0;
        if resumed && checkpoint.next.is_none() {
            // The last page was written before the interruption; only the ending is left.
            return Ok(Outcome {
                high_water: checkpoint.high_water,
                reconciled: false,
            });
        }
        let mut seen: HashSet<String> = HashSet::new();
        loop {
            let page = connector
                .list(
                    &ctx,
                    &ListRequest {
                        entity,
                        cursor: checkpoint.next.clone(),
                        modified_since,
                        page_size: self.config.page_size,
                    },
                )
                .await?;
            let mut writes = Vec::with_capacity(page.records.len());
            for r in page.records {
                if let Some(t) = r.remote_updated_at {
                    let t = time::format(&t);
                    if checkpoint.high_water.as_deref().is_none_or(|h| {
                        time::parse(h)
                            .zip(time::parse(&t))
                            .is_some_and(|(h, t)| t > h)
                    }) {
                        checkpoint.high_water = Some(t);
                    }
                }
                if run.mode == SyncMode::Full {
                    seen.insert(r.remote_id.clone());
                }
                writes.push(to_record_write(&connection.id, entity, r));
            }
            checkpoint.next = page.next_cursor;
            checkpoint.pages += 1;
            self.store
                .apply_page(PageWrite {
                    workspace_id: connection.workspace_id.clone(),
                    connection_id: connection.id.clone(),
                    entity,
                    run_id: Some(run.id.clone()),
                    records: writes,
                    deleted_remote_ids: Vec::new(),
                    checkpoint: Some(serde_json::to_string(&checkpoint).expect("serialisable")),
                    now: time::now(),
                })
                .await?;
            if checkpoint.next.is_none() {
                break;
            }
            // Heartbeat: keep the lease while pages keep coming; a lost lease means another
            // worker took the run over (this one was presumed dead), so stop writing.
            if !self
                .store
                .extend_lease(&holder.job_id, &holder.worker, time::now() + holder.lease)
                .await?
            {
                return Err(SyncError::Store(StoreError::RunNotRunning));
            }
        }

        // Reconciliation: what the store has and the source no longer does was deleted there.
        // A resumed run has not seen the pages before the interruption, so it leaves this to the
        // next full run.
        let mut reconciled = false;
        if run.mode == SyncMode::Full && !resumed {
            let missing: Vec<String> = self
                .store
                .live_remote_ids(&connection.id, entity)
                .await?
                .into_iter()
                .filter(|id| !seen.contains(id))
                .collect();
            for chunk in missing.chunks(1000) {
                self.store
                    .apply_page(PageWrite {
                        workspace_id: connection.workspace_id.clone(),
                        connection_id: connection.id.clone(),
                        entity,
                        run_id: Some(run.id.clone()),
                        records: Vec::new(),
                        deleted_remote_ids: chunk.to_vec(),
                        checkpoint: Some(serde_json::to_string(&checkpoint).expect("serialisable")),
                        now: time::now(),
                    })
                    .await?;
            }
            reconciled = true;
        }
        Ok(Outcome {
            high_water: checkpoint.high_water,
            reconciled,
        })
    }

    /// Ends the run, moves the connection's state, queues the next job.
    async fn conclude(
        &self,
        connection: &Connection,
        settings: &SyncSettings,
        payload: &SyncJob,
        run: &SyncRun,
        result: Result<Outcome, SyncError>,
    ) -> JobOutcome {
        let now = time::now();
        let entity = run.entity;
        let store = self.store.as_ref();
        match result {
            Ok(outcome) => {
                let new_cursor = newest(outcome.high_water.as_deref(), run.cursor_from.as_deref())
                    .or_else(|| Some(time::format(&run.started_at)));
                let finished = store
                    .finish_sync_run(
                        &run.id,
                        RunEnd {
                            status: RunStatus::Completed,
                            error: None,
                            new_cursor,
                            event: Some(
                                self.sync_event(connection, run, "completed", None, now)
                                    .await,
                            ),
                            now,
                        },
                    )
                    .await;
                match finished {
                    Ok(ended) => metrics::run_ended(&connection.connector, &ended),
                    Err(StoreError::RunNotRunning | StoreError::Disconnected) => {
                        self.count_if_cancelled(connection, &run.id).await;
                        return JobOutcome::Done(None);
                    }
                    Err(e) => return self.store_trouble(e),
                }
                let active = NewEvent::connection(
                    "active",
                    &connection.workspace_id,
                    &connection.id,
                    &connection.connector,
                    &connection.name,
                    ConnectionStatus::Active,
                    now,
                );
                match store
                    .transition_connection(
                        &connection.id,
                        &[
                            ConnectionStatus::Pending,
                            ConnectionStatus::Syncing,
                            ConnectionStatus::Offline,
                        ],
                        ConnectionStatus::Active,
                        Some(active),
                        now,
                    )
                    .await
                {
                    Ok(Some(_)) => self.changed(&connection.id),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "could not mark the connection active"),
                }
                let reconcile_at = if outcome.reconciled || payload.reconcile_at.is_none() {
                    Some(now + RECONCILE_EVERY)
                } else {
                    payload.reconcile_at
                };
                let next = SyncJob {
                    entity,
                    full: false,
                    reconcile_at,
                    failures: 0,
                };
                follow(connection, next, now + settings.frequency(entity))
            }
            Err(SyncError::Store(StoreError::RunNotRunning | StoreError::Disconnected)) => {
                // Disconnected (or paused) mid-run: nothing more is written.
                self.count_if_cancelled(connection, &run.id).await;
                JobOutcome::Done(None)
            }
            Err(SyncError::Store(e)) => self.store_trouble(e),
            Err(error) => {
                let message = error.to_string();
                let finished = store
                    .finish_sync_run(
                        &run.id,
                        RunEnd {
                            status: RunStatus::Failed,
                            error: Some(message.clone()),
                            new_cursor: None,
                            event: Some(
                                self.sync_event(connection, run, "failed", Some(&message), now)
                                    .await,
                            ),
                            now,
                        },
                    )
                    .await;
                // Not finished (already cancelled, or the store failed): nothing ended here.
                if let Ok(ended) = finished {
                    metrics::run_ended(&connection.connector, &ended);
                }
                let failures = payload.failures + 1;
                match &error {
                    SyncError::Connector(ConnectorError::CredentialsRejected { .. }) => {
                        self.move_to(
                            connection,
                            ConnectionStatus::RequiresReauthorization,
                            "requires_reauthorization",
                            now,
                        )
                        .await;
                        // Paused until the customer reauthorizes; no retry storm against a failing login.
                        JobOutcome::Done(None)
                    }
                    SyncError::Connector(
                        e @ (ConnectorError::Unreachable { .. }
                        | ConnectorError::RateLimited { .. }),
                    ) => {
                        if matches!(e, ConnectorError::Unreachable { .. }) {
                            self.move_to(connection, ConnectionStatus::Offline, "offline", now)
                                .await;
                        }
                        let mut wait = self.backoff(failures);
                        if let ConnectorError::RateLimited {
                            retry_after: Some(d),
                        } = e
                        {
                            wait = wait.max(chrono::Duration::from_std(*d).unwrap_or(wait));
                        }
                        let next = SyncJob {
                            entity,
                            full: payload.full,
                            reconcile_at: payload.reconcile_at,
                            failures,
                        };
                        follow(connection, next, now + wait)
                    }
                    _ => {
                        tracing::warn!(connection = %connection.id, entity = entity.as_str(), error = %message, "sync failed");
                        let next = SyncJob {
                            entity,
                            full: payload.full,
                            reconcile_at: payload.reconcile_at,
                            failures,
                        };
                        follow(connection, next, now + settings.frequency(entity))
                    }
                }
            }
        }
    }

    async fn move_to(
        &self,
        connection: &Connection,
        to: ConnectionStatus,
        what: &str,
        now: Timestamp,
    ) {
        let from: &[ConnectionStatus] = match to {
            ConnectionStatus::Offline => &[
                ConnectionStatus::Pending,
                ConnectionStatus::Syncing,
                ConnectionStatus::Active,
            ],
            _ => &[
                ConnectionStatus::Pending,
                ConnectionStatus::Syncing,
                ConnectionStatus::Active,
                ConnectionStatus::Offline,
            ],
        };
        let event = NewEvent::connection(
            what,
            &connection.workspace_id,
            &connection.id,
            &connection.connector,
            &connection.name,
            to,
            now,
        );
        match self
            .store
            .transition_connection(&connection.id, from, to, Some(event), now)
            .await
        {
            Ok(Some(_)) => self.changed(&connection.id),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not move the connection to {what}"),
        }
    }

    /// Counts a run this worker found ended under it, but only if the store cancelled it (a
    /// disconnect or a pause): a run another worker took over and finished is counted by that
    /// worker, and one still running is not over.
    async fn count_if_cancelled(&self, connection: &Connection, run_id: &str) {
        if let Ok(Some(run)) = self.store.get_sync_run(run_id).await {
            if run.status == RunStatus::Cancelled {
                metrics::run_ended(&connection.connector, &run);
            }
        }
    }

    fn changed(&self, connection_id: &str) {
        if let Some(hook) = &self.config.on_connection_change {
            hook(connection_id);
        }
    }

    /// Queues a follow-up returned in [`JobOutcome::Done`]; call after completing the job.
    pub async fn follow_up(&self, f: Box<FollowUp>) {
        match schedule_next(self.store.as_ref(), &f.connection, &f.job, f.at).await {
            Ok(true) => {
                let _ = self
                    .store
                    .set_next_run(&f.connection.id, f.job.entity, Some(f.at))
                    .await;
            }
            Ok(false) => {} // another job for the entity is already queued (e.g. a manual trigger)
            Err(e) => tracing::warn!(error = %e, "could not queue the next sync; the sweep will"),
        }
    }

    fn backoff(&self, failures: u32) -> chrono::Duration {
        let base = self.config.backoff_base.num_milliseconds().max(1) as f64;
        let exp = base * 2f64.powi(failures.saturating_sub(1).min(20) as i32);
        let capped = exp.min(self.config.backoff_max.num_milliseconds() as f64);
        // Full jitter on the upper half: spreads retries of many connections after one outage.
        let jittered = capped * rand::thread_rng().gen_range(0.5..=1.0);
        chrono::Duration::milliseconds(jittered as i64)
    }

    async fn sync_event(
        &self,
        connection: &Connection,
        run: &SyncRun,
        what: &str,
        error: Option<&str>,
        now: Timestamp,
    ) -> NewEvent {
        // The counters grew with every page; read them as they are now.
        let run = match self.store.get_sync_run(&run.id).await {
            Ok(Some(r)) => r,
            _ => run.clone(),
        };
        NewEvent {
            id: ids::new_id(prefix::EVENT),
            workspace_id: connection.workspace_id.clone(),
            connection_id: Some(connection.id.clone()),
            event_type: format!("sync.{what}"),
            data: serde_json::json!({
                "run_id": run.id,
                "entity": run.entity.as_str(),
                "mode": run.mode.as_str(),
                "pages": run.pages,
                "created": run.created,
                "updated": run.updated,
                "deleted": run.deleted,
                "unchanged": run.unchanged,
                "error": error,
            }),
            created_at: now,
        }
    }
}

/// Who holds the job's lease, for heartbeats.
struct Holder {
    job_id: String,
    worker: String,
    lease: chrono::Duration,
}

struct Outcome {
    high_water: Option<String>,
    reconciled: bool,
}

fn follow(connection: &Connection, job: SyncJob, at: Timestamp) -> JobOutcome {
    JobOutcome::Done(Some(Box::new(FollowUp {
        connection: connection.clone(),
        job,
        at,
    })))
}

fn newest(a: Option<&str>, b: Option<&str>) -> Option<String> {
    match (a.and_then(time::parse), b.and_then(time::parse)) {
        (Some(x), Some(y)) => Some(time::format(&x.max(y))),
        (Some(x), None) | (None, Some(x)) => Some(time::format(&x)),
        (None, None) => None,
    }
}
