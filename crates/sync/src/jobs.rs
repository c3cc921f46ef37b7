//! Sync jobs in the job queue: what they carry, and how they are queued.
//!
//! Every sync job of one (connection, entity) shares one dedupe key, so at most one is queued or
//! running at a time, and only the worker holding its lease runs it. A job that ends queues
//! the next one; the scheduler job re-queues whatever is missing (after a restart, a resume or
//! a reauthorization).

use millwright_core::{
    ids::{self, prefix},
    time::{self, Timestamp},
    Entity,
};
use millwright_store::{Connection, NewJob, Store, StoreResult};
use serde::{Deserialize, Serialize};

use crate::settings::SyncSettings;

/// Job kind of one entity's sync.
pub const SYNC_JOB: &str = "sync";
/// Job kind of the scheduler sweep.
pub const SCHEDULER_JOB: &str = "sync_scheduler";

/// Deletion reconciliation (a full run) happens at least this often.
pub const RECONCILE_EVERY: chrono::Duration = chrono::Duration::hours(24);

/// The payload of a `sync` job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SyncJob {
    pub entity: Entity,
    /// Ignore the cursor and reconcile deletions.
    #[serde(default)]
    pub full: bool,
    /// When the next reconciliation is due; carried from job to job.
    #[serde(default, with = "millwright_core::time::rfc3339_opt")]
    pub reconcile_at: Option<Timestamp>,
    /// Consecutive failures, for outage backoff.
    #[serde(default)]
    pub failures: u32,
}

pub fn dedupe_key(connection_id: &str, entity: Entity) -> String {
    format!("sync:{connection_id}:{}", entity.as_str())
}

/// Queues `job` for `connection` at `at`, unless one is already queued or running for the
/// entity. Returns whether it was queued.
pub async fn schedule_next(
    store: &dyn Store,
    connection: &Connection,
    job: &SyncJob,
    at: Timestamp,
) -> StoreResult<bool> {
    store
        .enqueue_job(NewJob {
            id: ids::new_id(prefix::JOB),
            kind: SYNC_JOB.into(),
            workspace_id: Some(connection.workspace_id.clone()),
            connection_id: Some(connection.id.clone()),
            payload: serde_json::to_value(job).expect("serialisable"),
            run_at: at,
            dedupe_key: Some(dedupe_key(&connection.id, job.entity)),
            created_at: time::now(),
        })
        .await
}

/// Syncs `entities` (all the connection's entities when empty) now, fully if `full`. Queued
/// jobs of the connection are replaced; an entity whose sync is running keeps that run.
/// Returns the entities queued now.
pub async fn trigger(
    store: &dyn Store,
    connection: &Connection,
    entities: &[Entity],
    full: bool,
) -> StoreResult<Vec<Entity>> {
    let settings = SyncSettings::from_json(&connection.sync_settings);
    let now = time::now();
    store
        .cancel_queued_jobs(&connection.id, &[SYNC_JOB], now)
        .await?;
    let requested: Vec<Entity> = if entities.is_empty() {
        settings.entities.clone()
    } else {
        entities.to_vec()
    };
    let states = store.sync_states(&connection.id).await?;
    let mut queued = Vec::new();
    for entity in &settings.entities {
        let wanted = requested.contains(entity);
        let state = states.iter().find(|s| s.entity == *entity);
        let at = if wanted {
            now
        } else {
            // Put back what the cancel removed, at its planned time.
            state.and_then(|s| s.next_run_at).unwrap_or(now)
        };
        let job = SyncJob {
            entity: *entity,
            full: wanted && full,
            reconcile_at: Some(now + RECONCILE_EVERY),
            failures: 0,
        };
        if schedule_next(store, connection, &job, at).await? && wanted {
            queued.push(*entity);
        }
        store
            .set_next_run(&connection.id, *entity, Some(at))
            .await?;
    }
    Ok(queued)
}

/// Queues the scheduler sweep (one at a time across all nodes).
pub async fn schedule_sweep(store: &dyn Store, at: Timestamp) -> StoreResult<bool> {
    store
        .enqueue_job(NewJob {
            id: ids::new_id(prefix::JOB),
            kind: SCHEDULER_JOB.into(),
            workspace_id: None,
            connection_id: None,
            payload: serde_json::json!({}),
            run_at: at,
            dedupe_key: Some(SCHEDULER_JOB.into()),
            created_at: time::now(),
        })
        .await
}
