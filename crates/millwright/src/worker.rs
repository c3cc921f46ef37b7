//! Background work as leased jobs in the database, so one node on SQLite and many on
//! PostgreSQL run the same code: syncs and the sync scheduler (the sync engine), health probes
//! and their sweep (the prober), the status evaluation (components, uptime, automatic
//! incidents and maintenance windows), and the purge of request logs, idempotency keys and probes
//! past retention.

use std::{sync::Arc, time::Duration};

use millwright_core::{
    ids::{self, prefix},
    time,
};
use millwright_health::{Prober, StatusEvaluator};
use millwright_store::{Job, NewJob, Store};
use millwright_sync::{Engine, JobOutcome};
use tokio::{sync::watch, task::JoinSet};

pub const PURGE_REQUEST_LOGS: &str = "purge_request_logs";
const POLL: Duration = Duration::from_millis(500);
const PURGE_EVERY: chrono::Duration = chrono::Duration::hours(1);
/// Idempotency keys are honoured for 24 hours (contract §5).
const IDEMPOTENCY_RETENTION: chrono::Duration = chrono::Duration::hours(24);
/// Probes are kept for the 90-day daily view of `GET /connections/{id}/health`.
/// Raw probes serve the 24-hour view (kept a day longer so the view is always whole).
const PROBE_RAW_RETENTION: chrono::Duration = chrono::Duration::hours(48);
/// Daily probe aggregates serve the 90-day view.
const PROBE_DAYS_RETENTION: chrono::Duration = chrono::Duration::days(90);

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub request_log_retention_days: u32,
    /// Jobs run at once by this node.
    pub concurrency: usize,
    /// How long a claimed job is leased before another node may take it over.
    pub lease: chrono::Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            request_log_retention_days: 14,
            concurrency: 4,
            lease: chrono::Duration::minutes(10),
        }
    }
}

pub struct Worker {
    store: Arc<dyn Store>,
    engine: Option<Arc<Engine>>,
    prober: Option<Arc<Prober>>,
    status: Option<Arc<StatusEvaluator>>,
    id: String,
    config: WorkerConfig,
}

impl Worker {
    pub fn new(store: Arc<dyn Store>, engine: Option<Arc<Engine>>, config: WorkerConfig) -> Worker {
        let id = format!("worker-{}-{}", std::process::id(), ids::new_id("w"));
        Worker {
            store,
            engine,
            prober: None,
            status: None,
            id,
            config,
        }
    }

    /// Also runs health probes on this node.
    pub fn with_prober(mut self, prober: Arc<Prober>) -> Worker {
        self.prober = Some(prober);
        self
    }

    /// Also evaluates the status page's components on this node.
    pub fn with_status_evaluator(mut self, evaluator: Arc<StatusEvaluator>) -> Worker {
        self.status = Some(evaluator);
        self
    }

    fn kinds(&self) -> Vec<&'static str> {
        let mut k = vec![PURGE_REQUEST_LOGS];
        if self.engine.is_some() {
            k.extend_from_slice(Engine::KINDS);
        }
        if self.prober.is_some() {
            k.extend_from_slice(Prober::KINDS);
        }
        if self.status.is_some() {
            k.extend_from_slice(StatusEvaluator::KINDS);
        }
        k
    }

    /// Queues the recurring purge unless one is queued or running already.
    pub async fn schedule_purge(&self, at: time::Timestamp) -> anyhow::Result<()> {
        self.store
            .enqueue_job(NewJob {
                id: ids::new_id(prefix::JOB),
                kind: PURGE_REQUEST_LOGS.into(),
                workspace_id: None,
                connection_id: None,
                payload: serde_json::json!({}),
                run_at: at,
                dedupe_key: Some(PURGE_REQUEST_LOGS.into()),
                created_at: time::now(),
            })
            .await?;
        Ok(())
    }

    /// Claims and runs due jobs until `shutdown` turns true; jobs in flight then finish.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        if let Err(e) = self.schedule_purge(time::now()).await {
            tracing::error!(error = %e, "could not schedule the request-log purge");
        }
        if let Some(engine) = &self.engine {
            if let Err(e) = engine.start().await {
                tracing::error!(error = %e, "could not start the sync scheduler");
            }
        }
        if let Some(prober) = &self.prober {
            if let Err(e) = prober.start().await {
                tracing::error!(error = %e, "could not start the probe sweep");
            }
        }
        if let Some(status) = &self.status {
            if let Err(e) = status.start().await {
                tracing::error!(error = %e, "could not start the status evaluation");
            }
        }
        let me = Arc::new(self);
        let mut running: JoinSet<()> = JoinSet::new();
        loop {
            while running.try_join_next().is_some() {}
            if *shutdown.borrow() {
                break;
            }
            let free = me.config.concurrency.saturating_sub(running.len());
            if free > 0 {
                match me.claim(free as u32).await {
                    Ok(jobs) => {
                        for job in jobs {
                            let me = me.clone();
                            running.spawn(async move { me.run_job(job).await });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "could not claim jobs"),
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
        }
        while running.join_next().await.is_some() {}
    }

    async fn claim(&self, limit: u32) -> anyhow::Result<Vec<Job>> {
        let kinds = self.kinds();
        Ok(self
            .store
            .claim_jobs(&kinds, &self.id, time::now(), self.config.lease, limit)
            .await?)
    }

    /// Runs every due job once, one after another; returns how many ran (for tests).
    pub async fn tick(&self) -> anyhow::Result<usize> {
        let jobs = self.claim(10).await?;
        let n = jobs.len();
        for job in jobs {
            self.run_job(job).await;
        }
        Ok(n)
    }

    async fn run_job(&self, job: Job) {
        let outcome = match job.kind.as_str() {
            PURGE_REQUEST_LOGS => match self.purge().await {
                Ok(()) => JobOutcome::Reschedule {
                    at: time::now() + PURGE_EVERY,
                    note: String::new(),
                },
                Err(e) => JobOutcome::Reschedule {
                    at: time::now() + chrono::Duration::minutes(5),
                    note: e.to_string(),
                },
            },
            kind if Prober::KINDS.contains(&kind) => match &self.prober {
                Some(prober) => prober.run_job(&job).await,
                None => JobOutcome::Reschedule {
                    at: time::now(),
                    note: "no prober on this node".into(),
                },
            },
            kind if StatusEvaluator::KINDS.contains(&kind) => match &self.status {
                Some(status) => status.run_job(&job).await,
                None => JobOutcome::Reschedule {
                    at: time::now(),
                    note: "no status evaluator on this node".into(),
                },
            },
            _ => match &self.engine {
                Some(engine) => engine.run_job(&job, &self.id, self.config.lease).await,
                None => JobOutcome::Reschedule {
                    at: time::now(),
                    note: "no engine on this node".into(),
                },
            },
        };
        match outcome {
            JobOutcome::Done(follow_up) => {
                if let Err(e) = self
                    .store
                    .complete_job(&job.id, &self.id, time::now())
                    .await
                {
                    tracing::error!(job = %job.id, error = %e, "could not complete job");
                }
                if let (Some(f), Some(engine)) = (follow_up, &self.engine) {
                    engine.follow_up(f).await;
                }
            }
            // Recurring jobs and transient failures go back in the queue as the same row.
            JobOutcome::Reschedule { at, note } => {
                if let Err(e) = self.store.retry_job(&job.id, &self.id, at, &note).await {
                    tracing::error!(job = %job.id, error = %e, "could not reschedule job");
                }
            }
        }
    }

    async fn purge(&self) -> anyhow::Result<()> {
        let now = time::now();
        let before = now - chrono::Duration::days(self.config.request_log_retention_days as i64);
        let logs = self.store.purge_request_logs(before).await?;
        let keys = self
            .store
            .purge_idempotent_responses(now - IDEMPOTENCY_RETENTION)
            .await?;
        let probes = self
            .store
            .purge_probes(
                now - PROBE_RAW_RETENTION,
                (now - PROBE_DAYS_RETENTION).date_naive(),
            )
            .await?;
        if logs + keys + probes > 0 {
            tracing::info!(
                request_logs = logs,
                idempotency_keys = keys,
                probes,
                "purged past retention"
            );
        }
        Ok(())
    }
}
