//! Probe jobs in the job queue.

use millwright_core::{
    ids::{self, prefix},
    time::{self, Timestamp},
};
use millwright_store::{Connection, NewJob, Store, StoreResult};
use rand::Rng;

/// Job kind of one connection's probe (recurring: it re-queues itself).
pub const PROBE_JOB: &str = "probe";
/// Job kind of the sweep that queues missing probes.
pub const PROBE_SWEEP_JOB: &str = "probe_sweep";

/// At most one probe of a connection is queued or running at a time.
pub fn dedupe_key(connection_id: &str) -> String {
    format!("probe:{connection_id}")
}

/// `every` scaled by a random factor in [0.8, 1.2]: probes of connections that started together
/// spread out over time instead of hitting their sources (and the database) at once.
pub(crate) fn jittered(every: chrono::Duration) -> chrono::Duration {
    let ms = every.num_milliseconds().max(1) as f64;
    chrono::Duration::milliseconds((ms * rand::thread_rng().gen_range(0.8..=1.2)) as i64)
}

/// A random point within one interval, for a connection's first probe: after a first deployment
/// on many connections the probes start spread over the interval.
pub(crate) fn first_delay(every: chrono::Duration) -> chrono::Duration {
    let ms = every.num_milliseconds().max(1);
    chrono::Duration::milliseconds(rand::thread_rng().gen_range(0..ms))
}

/// Queues the connection's probe for `at` unless one is queued or running. Returns whether it
/// was queued.
pub(crate) async fn schedule_probe(
    store: &dyn Store,
    connection: &Connection,
    at: Timestamp,
) -> StoreResult<bool> {
    store
        .enqueue_job(NewJob {
            id: ids::new_id(prefix::JOB),
            kind: PROBE_JOB.into(),
            workspace_id: Some(connection.workspace_id.clone()),
            connection_id: Some(connection.id.clone()),
            payload: serde_json::json!({}),
            run_at: at,
            dedupe_key: Some(dedupe_key(&connection.id)),
            created_at: time::now(),
        })
        .await
}

/// Queues the probe sweep (one at a time across all nodes).
pub async fn schedule_sweep(store: &dyn Store, at: Timestamp) -> StoreResult<bool> {
    store
        .enqueue_job(NewJob {
            id: ids::new_id(prefix::JOB),
            kind: PROBE_SWEEP_JOB.into(),
            workspace_id: None,
            connection_id: None,
            payload: serde_json::json!({}),
            run_at: at,
            dedupe_key: Some(PROBE_SWEEP_JOB.into()),
            created_at: time::now(),
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let every = chrono::Duration::minutes(5);
        for _ in 0..1000 {
            let d = jittered(every);
            assert!(d >= chrono::Duration::seconds(240) && d <= chrono::Duration::seconds(360));
            let f = first_delay(every);
            assert!(f >= chrono::Duration::zero() && f < every);
        }
    }
}
