//! Background work as leased jobs in the database, so one node on SQLite and many on
//! PostgreSQL run the same code. This job: purging request logs past retention.

use std::{sync::Arc, time::Duration};

use millwright_core::{
    ids::{self, prefix},
    time,
};
use millwright_store::{Job, NewJob, Store};
use tokio::sync::watch;

pub const PURGE_REQUEST_LOGS: &str = "purge_request_logs";
const KINDS: &[&str] = &[PURGE_REQUEST_LOGS];
const POLL: Duration = Duration::from_secs(2);
const PURGE_EVERY: chrono::Duration = chrono::Duration::hours(1);

pub struct Worker {
    pub store: Arc<dyn Store>,
    pub id: String,
    pub request_log_retention_days: u32,
}

impl Worker {
    pub fn new(store: Arc<dyn Store>, request_log_retention_days: u32) -> Worker {
        let id = format!("worker-{}-{}", std::process::id(), ids::new_id("w"));
        Worker {
            store,
            id,
            request_log_retention_days,
        }
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

    /// Claims and runs due jobs until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        if let Err(e) = self.schedule_purge(time::now()).await {
            tracing::error!(error = %e, "could not schedule the request-log purge");
        }
        loop {
            if *shutdown.borrow() {
                return;
            }
            if let Err(e) = self.tick().await {
                tracing::warn!(error = %e, "worker tick failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Runs every due job once; returns how many ran.
    pub async fn tick(&self) -> anyhow::Result<usize> {
        let jobs = self
            .store
            .claim_jobs(
                KINDS,
                &self.id,
                time::now(),
                chrono::Duration::minutes(5),
                10,
            )
            .await?;
        let n = jobs.len();
        for job in jobs {
            self.run_job(job).await;
        }
        Ok(n)
    }

    async fn run_job(&self, job: Job) {
        let outcome = match job.kind.as_str() {
            PURGE_REQUEST_LOGS => self.purge(&job).await,
            other => Err(anyhow::anyhow!("no handler for job kind {other}")),
        };
        let now = time::now();
        match outcome {
            Ok(()) => {
                if let Err(e) = self.store.complete_job(&job.id, &self.id, now).await {
                    tracing::error!(job = %job.id, error = %e, "could not complete job");
                }
                // Recurring: the next run is queued once this one is done (its dedupe key is free).
                if job.kind == PURGE_REQUEST_LOGS {
                    if let Err(e) = self.schedule_purge(now + PURGE_EVERY).await {
                        tracing::error!(error = %e, "could not schedule the next request-log purge");
                    }
                }
            }
            Err(e) => {
                let backoff = chrono::Duration::seconds(30 * job.attempts.clamp(1, 20));
                if let Err(e2) = self
                    .store
                    .retry_job(&job.id, &self.id, now + backoff, &e.to_string())
                    .await
                {
                    tracing::error!(job = %job.id, error = %e2, "could not reschedule job");
                }
            }
        }
    }

    async fn purge(&self, _job: &Job) -> anyhow::Result<()> {
        let before = time::now() - chrono::Duration::days(self.request_log_retention_days as i64);
        let n = self.store.purge_request_logs(before).await?;
        if n > 0 {
            tracing::info!(deleted = n, "purged request logs past retention");
        }
        Ok(())
    }
}
