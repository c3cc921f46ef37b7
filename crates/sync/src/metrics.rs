//! The sync engine's Prometheus series, recorded through the `metrics` facade. Without an
//! installed recorder (tests of this crate, embedders that want none) every call is a no-op.
//!
//! Both are counted once per run, when it ends, from the counters the run accumulated in the
//! store page by page; a run interrupted and resumed on another node is therefore counted once,
//! by the node that ends it, with every page it wrote.

use millwright_store::{RunStatus, SyncRun};

/// Sync runs that ended, by connector, entity and outcome (`completed`, `failed`, `cancelled`).
pub const SYNC_RUNS_TOTAL: &str = "millwright_sync_runs_total";
/// Records the ended runs went through, by connector, entity and change (`created`,
/// `updated`, `deleted`, `unchanged`).
pub const SYNC_RECORDS_TOTAL: &str = "millwright_sync_records_total";

/// Registers the help text of the engine's series (call once, after installing a recorder).
pub fn describe_metrics() {
    metrics::describe_counter!(
        SYNC_RUNS_TOTAL,
        metrics::Unit::Count,
        "Sync runs that ended, by connector, entity and outcome (completed, failed, cancelled)."
    );
    metrics::describe_counter!(
        SYNC_RECORDS_TOTAL,
        metrics::Unit::Count,
        "Records read by ended sync runs, by connector, entity and change (created, updated, deleted, unchanged)."
    );
}

/// Counts a run that has ended, with its record counters as the store holds them. A run still
/// `running` did not end here (another worker took it over) and is not counted.
pub(crate) fn run_ended(connector: &str, run: &SyncRun) {
    let outcome = match run.status {
        RunStatus::Running => return,
        other => other.as_str(),
    };
    let entity = run.entity.as_str();
    metrics::counter!(
        SYNC_RUNS_TOTAL,
        "connector" => connector.to_owned(),
        "entity" => entity,
        "outcome" => outcome,
    )
    .increment(1);
    for (change, n) in [
        ("created", run.created),
        ("updated", run.updated),
        ("deleted", run.deleted),
        ("unchanged", run.unchanged),
    ] {
        // Registered even at zero, so every (connector, entity, change) series exists from the
        // first run on and `rate()` sees its start.
        metrics::counter!(
            SYNC_RECORDS_TOTAL,
            "connector" => connector.to_owned(),
            "entity" => entity,
            "change" => change,
        )
        .increment(n.max(0) as u64);
    }
}
