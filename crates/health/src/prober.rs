//! Runs probe jobs and the probe sweep.

use std::{sync::Arc, time::Instant};

use millwright_connectors::{ConnectionContext, ConnectorError, Credentials, Registry};
use millwright_core::{
    keyring::Keyring,
    status::ConnectionStatus,
    time::{self, Timestamp},
};
use millwright_store::{Connection, Job, NewEvent, NewProbe, ProbeStatus, Store, StoreError};
use millwright_sync::{ConnectionChanged, JobOutcome};

use crate::jobs::{
    first_delay, jittered, schedule_probe, schedule_sweep, PROBE_JOB, PROBE_SWEEP_JOB,
};

/// How long probes take, by connector and outcome (a histogram); only probes that reached out
/// to the source are timed.
pub const PROBE_DURATION_SECONDS: &str = "millwright_probe_duration_seconds";

/// Stored as the error of a probe that was not sent because the connection waits for
/// reauthorization.
const NOT_PROBED: &str =
    "not probed: the source rejected the stored credentials; waiting for reauthorization";

#[derive(Clone)]
pub struct ProberConfig {
    /// Time between two probes of a connection, before jitter (±20 %).
    pub probe_every: chrono::Duration,
    /// A probe without an answer after this long counts as unreachable. Well below the job
    /// lease, so a hung source never makes another node take the probe over.
    pub timeout: std::time::Duration,
    /// Told the id of every connection whose status a probe changes (the API's caches).
    pub on_connection_change: Option<ConnectionChanged>,
}

impl Default for ProberConfig {
    fn default() -> Self {
        ProberConfig {
            probe_every: chrono::Duration::minutes(5),
            timeout: std::time::Duration::from_secs(30),
            on_connection_change: None,
        }
    }
}

/// Probes connections, one leased `probe` job per connection.
///
/// A connection in `requires_reauthorization` is not probed with its stored credentials: the
/// source already refused them, a retry would only refuse them again, and some sources count
/// failed logins against the customer's account (Tryton rate-limits them, others lock the user
/// out). Such a probe is recorded with status `requires_reauthorization`, no latency and no
/// upstream call, so the history shows the connection down for the whole wait; the next real
/// probe follows the customer's reauthorization, which returns the connection to `active`.
pub struct Prober {
    store: Arc<dyn Store>,
    connectors: Arc<Registry>,
    keyring: Arc<Keyring>,
    config: ProberConfig,
}

/// What one probe found.
struct Finding {
    status: ProbeStatus,
    latency_ms: Option<i64>,
    error: Option<String>,
}

impl Prober {
    pub fn new(
        store: Arc<dyn Store>,
        connectors: Arc<Registry>,
        keyring: Arc<Keyring>,
        config: ProberConfig,
    ) -> Prober {
        Prober {
            store,
            connectors,
            keyring,
            config,
        }
    }

    /// The job kinds this prober runs.
    pub const KINDS: &'static [&'static str] = &[PROBE_JOB, PROBE_SWEEP_JOB];

    /// Queues the sweep if none is queued (called at worker start).
    pub async fn start(&self) -> Result<(), StoreError> {
        schedule_sweep(self.store.as_ref(), time::now()).await?;
        Ok(())
    }

    /// How often the sweep runs: once per probe interval is enough, since a probe job only
    /// goes missing when a connection becomes eligible (its first sync done, reauthorized) or
    /// a job is lost; the sweep touches every connection, so running it more often would cost
    /// a write per connection for nothing.
    fn sweep_every(&self) -> chrono::Duration {
        self.config.probe_every
    }

    /// Runs one claimed job; the worker completes or re-queues it as the outcome says.
    pub async fn run_job(&self, job: &Job) -> JobOutcome {
        match job.kind.as_str() {
            PROBE_SWEEP_JOB => {
                let note = match self.sweep().await {
                    Ok(()) => String::new(),
                    Err(e) => e.to_string(),
                };
                JobOutcome::Reschedule {
                    at: time::now() + self.sweep_every(),
                    note,
                }
            }
            PROBE_JOB => self.run_probe(job).await,
            other => {
                tracing::error!(job = %job.id, kind = other, "not a probe job");
                JobOutcome::Done(None)
            }
        }
    }

    /// Queues a probe for every eligible connection that has none, at a random point of the
    /// coming interval.
    async fn sweep(&self) -> Result<(), StoreError> {
        let now = time::now();
        for connection in self.store.live_connections().await? {
            if probed(connection.status) {
                let at = now + first_delay(self.config.probe_every);
                schedule_probe(self.store.as_ref(), &connection, at).await?;
            }
        }
        Ok(())
    }

    async fn run_probe(&self, job: &Job) -> JobOutcome {
        let (Some(workspace_id), Some(connection_id)) = (&job.workspace_id, &job.connection_id)
        else {
            return JobOutcome::Done(None);
        };
        let next = || time::now() + jittered(self.config.probe_every);
        let connection = match self.store.get_connection(workspace_id, connection_id).await {
            Ok(Some(c)) => c,
            Ok(None) => return JobOutcome::Done(None),
            Err(e) => {
                tracing::warn!(error = %e, "store unavailable during a probe; retrying");
                return JobOutcome::Reschedule {
                    at: next(),
                    note: e.to_string(),
                };
            }
        };
        if !probed(connection.status) {
            // Pending, syncing (the first sync is the check) or disconnected: the job ends, and
            // the sweep queues a new one once the connection is eligible.
            return JobOutcome::Done(None);
        }
        let now = time::now();
        let finding = if connection.status == ConnectionStatus::RequiresReauthorization {
            Finding {
                status: ProbeStatus::RequiresReauthorization,
                latency_ms: None,
                error: Some(NOT_PROBED.into()),
            }
        } else {
            self.check(&connection).await
        };
        let recorded = self
            .store
            .record_probe(NewProbe {
                workspace_id: connection.workspace_id.clone(),
                connection_id: connection.id.clone(),
                checked_at: now,
                status: finding.status,
                latency_ms: finding.latency_ms,
                error: finding.error.clone(),
            })
            .await;
        match recorded {
            Ok(()) => {}
            // Disconnected (or gone) while the probe ran: nothing more to probe.
            Err(StoreError::Disconnected | StoreError::NotFound) => return JobOutcome::Done(None),
            Err(e) => {
                tracing::warn!(connection = %connection.id, error = %e, "could not record a probe")
            }
        }
        self.apply(&connection, finding.status, now).await;
        JobOutcome::Reschedule {
            at: next(),
            note: finding.error.unwrap_or_default(),
        }
    }

    /// The timed upstream call.
    async fn check(&self, connection: &Connection) -> Finding {
        let started = Instant::now();
        let result = match self.context(connection).await {
            Ok((connector, ctx)) => {
                match tokio::time::timeout(self.config.timeout, connector.check_credentials(&ctx))
                    .await
                {
                    Ok(r) => r,
                    Err(_) => Err(ConnectorError::Unreachable {
                        reason: format!("no answer within {} s", self.config.timeout.as_secs_f64()),
                    }),
                }
            }
            Err(message) => {
                return Finding {
                    status: ProbeStatus::Error,
                    latency_ms: None,
                    error: Some(message),
                }
            }
        };
        let elapsed = started.elapsed();
        let latency_ms = Some(elapsed.as_millis().min(i64::MAX as u128) as i64);
        let outcome = match &result {
            Ok(()) => ProbeStatus::Ok,
            Err(ConnectorError::Unreachable { .. }) => ProbeStatus::Unreachable,
            Err(ConnectorError::CredentialsRejected { .. }) => ProbeStatus::Rejected,
            Err(_) => ProbeStatus::Error,
        };
        metrics::histogram!(
            PROBE_DURATION_SECONDS,
            "connector" => connection.connector.clone(),
            "outcome" => outcome.as_str(),
        )
        .record(elapsed.as_secs_f64());
        match result {
            Ok(()) => Finding {
                status: ProbeStatus::Ok,
                latency_ms,
                error: None,
            },
            // An error the source answered with (`ProbeStatus::Error`) means it is reachable
            // and took the login, so the state stays; the error is on record for whoever
            // looks at the history.
            Err(e) => Finding {
                status: outcome,
                latency_ms,
                error: Some(e.to_string()),
            },
        }
    }

    async fn context(
        &self,
        connection: &Connection,
    ) -> Result<(Arc<dyn millwright_connectors::Connector>, ConnectionContext), String> {
        let connector = self
            .connectors
            .connector(&connection.connector)
            .ok_or_else(|| format!("no connector {}", connection.connector))?;
        let workspace = self
            .store
            .get_workspace(&connection.workspace_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no workspace {}", connection.workspace_id))?;
        let plain = self
            .keyring
            .open(
                &connection.workspace_id,
                &workspace.wrapped_data_key,
                &connection.id,
                &connection.sealed_credentials,
            )
            .map_err(|e| format!("cannot open the stored credentials: {e}"))?;
        let credentials: Credentials = serde_json::from_slice(&plain)
            .map_err(|e| format!("cannot read the stored credentials: {e}"))?;
        Ok((
            connector,
            ConnectionContext {
                deployment: connection.deployment,
                credentials,
            },
        ))
    }

    /// Moves the connection as the probe says, through the same conditional transitions the
    /// sync engine uses: whichever of a probe and a sync sees a change first makes the
    /// transition and appends its event; the other finds the status already moved.
    async fn apply(&self, connection: &Connection, status: ProbeStatus, now: Timestamp) {
        use ConnectionStatus::*;
        let (from, to, what): (&[ConnectionStatus], _, _) = match status {
            ProbeStatus::Ok => (&[Offline], Active, "active"),
            ProbeStatus::Unreachable => (&[Active], Offline, "offline"),
            ProbeStatus::Rejected => (
                &[Active, Offline],
                RequiresReauthorization,
                "requires_reauthorization",
            ),
            ProbeStatus::Error | ProbeStatus::RequiresReauthorization => return,
        };
        if !from.contains(&connection.status) {
            return;
        }
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
            Ok(Some(_)) => {
                tracing::info!(connection = %connection.id, to = to.as_str(), "probe moved the connection");
                if let Some(hook) = &self.config.on_connection_change {
                    hook(&connection.id);
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not move the connection to {what}"),
        }
    }
}

/// Connections that are probed: the first sync of a pending or syncing connection is its
/// check, and a disconnected one has nothing left to reach.
fn probed(status: ConnectionStatus) -> bool {
    matches!(
        status,
        ConnectionStatus::Active
            | ConnectionStatus::Offline
            | ConnectionStatus::RequiresReauthorization
    )
}
