//! Connection health: every `active`, `offline` or `requires_reauthorization` connection is
//! probed with a light authenticated call to its source ([`Connector::check_credentials`]),
//! timed, and recorded (`Store::record_probe`), which also makes it the connection's `health`.
//!
//! Probes are leased jobs (`probe`, one per connection, deduplicated by connection), so one node
//! on SQLite and many on PostgreSQL probe each connection once per interval. Each probe re-queues
//! itself one interval later, jittered by ±20 % so that connections created or recovered
//! together drift apart instead of probing their sources in lockstep; a sweep job
//! (`probe_sweep`) queues the probe of every eligible connection that has none (new connections,
//! a connection back from reauthorization, jobs lost to a crash).
//!
//! Probes drive the same state machine as syncs, through the same conditional transitions, so
//! each transition happens once with its event whichever of them sees the change first:
//! unreachable → `offline`, rejected credentials → `requires_reauthorization`, an answer again
//! while `offline` → `active`. A connection waiting for reauthorization is not probed with its
//! stored credentials at all (see [`Prober`]).
//!
//! Components, uptime and incidents ([`StatusEvaluator`]): a leased singleton job evaluates
//! the platform's components and one per connector every interval, records them (the uptime
//! buckets of the status page), moves scheduled maintenances through their window, and opens
//! and resolves automatic incidents. The rules are in `components`, the thresholds in
//! [`StatusThresholds`].
//!
//! [`Connector::check_credentials`]: millwright_connectors::Connector::check_credentials

mod components;
mod jobs;
mod prober;
mod status;

pub use components::{impact_of, status_words, StatusThresholds};
pub use jobs::{dedupe_key, schedule_sweep, PROBE_JOB, PROBE_SWEEP_JOB};
pub use prober::{Prober, ProberConfig, PROBE_DURATION_SECONDS};
pub use status::{
    connector_component_id, schedule as schedule_status, StatusEvaluator, COMPONENT_STATUS,
    CONNECTORS_GROUP, INCIDENT_PREFIX, INCIDENT_UPDATE_PREFIX, PLATFORM_GROUP, STATUS_JOB,
};

/// Registers the help text of the health series (call once, after installing a recorder).
pub fn describe_metrics() {
    metrics::describe_histogram!(
        PROBE_DURATION_SECONDS,
        metrics::Unit::Seconds,
        "Time a health probe took to get its answer, by connector and outcome (ok, unreachable, rejected, error)."
    );
    metrics::describe_gauge!(
        COMPONENT_STATUS,
        metrics::Unit::Count,
        "1 for each component's current status, 0 for its other statuses."
    );
}
