//! The status evaluator: one leased singleton job (`status_evaluate`) that, every interval,
//! computes every component's status, records it (which also fills the uptime buckets), moves
//! scheduled maintenances through their window, and opens, worsens and resolves automatic
//! incidents.
//!
//! Components:
//! - `api`: share of the last window's requests answered with a 5xx that is the platform's
//!   fault (the source system's `UPSTREAM_*` errors are not);
//! - `sync`: how long the oldest due sync job has waited unclaimed;
//! - `webhooks`: how long the oldest due webhook delivery has waited unclaimed;
//! - `database`: reachable with every migration applied;
//! - `connector.<id>`: the share of its live connections, in every workspace, that are
//!   `offline` (connections awaiting reauthorization are the customer's problem and are only
//!   reported in the detail).

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use millwright_connectors::Registry;
use millwright_core::{
    ids::{self, prefix},
    time::{self, Timestamp},
};
use millwright_store::{
    ComponentObservation, ComponentStatus, Connection, Incident, IncidentKind, IncidentPatch,
    IncidentStatus, NewIncident, NewJob, Observed, Store, StoreError, StoreResult,
};
use millwright_sync::{JobOutcome, SCHEDULER_JOB, SYNC_JOB};

use crate::components::{
    api_status, connector_status, impact_of, lag_status, status_words, ConnectorCounts,
    StatusThresholds,
};

/// Job kind of the evaluator (one queued or running at a time across all nodes).
pub const STATUS_JOB: &str = "status_evaluate";
/// Prefix of incident and maintenance ids (`inc_…`).
pub const INCIDENT_PREFIX: &str = "inc";
/// Prefix of incident update ids (`iup_…`).
pub const INCIDENT_UPDATE_PREFIX: &str = "iup";
/// `millwright_component_status{component, status}`: 1 for the component's current status, 0
/// for the others.
pub const COMPONENT_STATUS: &str = "millwright_component_status";

/// Group of the platform's own components.
pub const PLATFORM_GROUP: &str = "Platform";
/// Group of the connector components.
pub const CONNECTORS_GROUP: &str = "Connectors";

/// The platform's own components: (id, name, description).
const PLATFORM: [(&str, &str, &str); 4] = [
    ("api", "API", "The management and unified API"),
    (
        "sync",
        "Sync engine",
        "Scheduled and manual syncs of connected systems",
    ),
    (
        "webhooks",
        "Webhook delivery",
        "Delivery of events to webhook endpoints",
    ),
    ("database", "Database", "The database every node shares"),
];

/// Connector components come after the platform's.
const CONNECTOR_POSITION: i64 = 100;

/// The id of a connector's component.
pub fn connector_component_id(connector: &str) -> String {
    format!("connector.{connector}")
}

/// One component as evaluated, before maintenance is applied.
struct Evaluated {
    id: String,
    name: String,
    description: String,
    group: &'static str,
    position: i64,
    status: ComponentStatus,
    detail: String,
}

/// Evaluates components and drives automatic incidents and maintenance windows.
pub struct StatusEvaluator {
    store: Arc<dyn Store>,
    connectors: Arc<Registry>,
    thresholds: StatusThresholds,
    /// When each component left `operational` (maintenance excluded), as seen by this node; a
    /// node that takes the job over starts from the component's `status_since`.
    outage_since: Mutex<HashMap<String, Timestamp>>,
}

impl StatusEvaluator {
    /// An evaluator of the platform's components and of one component per connector of
    /// `connectors`.
    pub fn new(
        store: Arc<dyn Store>,
        connectors: Arc<Registry>,
        thresholds: StatusThresholds,
    ) -> StatusEvaluator {
        StatusEvaluator {
            store,
            connectors,
            thresholds,
            outage_since: Mutex::new(HashMap::new()),
        }
    }

    /// The job kinds this evaluator runs.
    pub const KINDS: &'static [&'static str] = &[STATUS_JOB];

    /// Queues the evaluation if none is queued (called at worker start).
    pub async fn start(&self) -> StoreResult<()> {
        schedule(self.store.as_ref(), time::now()).await?;
        Ok(())
    }

    /// Runs the claimed job: one evaluation, then the same job again one interval later.
    pub async fn run_job(&self, job: &millwright_store::Job) -> JobOutcome {
        if job.kind != STATUS_JOB {
            tracing::error!(job = %job.id, kind = %job.kind, "not a status job");
            return JobOutcome::Done(None);
        }
        let note = match self.evaluate(time::now()).await {
            Ok(()) => String::new(),
            Err(e) => {
                tracing::warn!(error = %e, "status evaluation failed");
                e.to_string()
            }
        };
        JobOutcome::Reschedule {
            at: time::now() + self.thresholds.interval,
            note,
        }
    }

    /// One evaluation of every component at `now`. Every component is attempted; the first
    /// failure is returned after all.
    pub async fn evaluate(&self, now: Timestamp) -> StoreResult<()> {
        let mut first_error: Option<StoreError> = None;
        let mut keep = |r: StoreResult<()>| {
            if let Err(e) = r {
                tracing::warn!(error = %e, "status evaluation step failed");
                first_error.get_or_insert(e);
            }
        };
        let maintained = match self.advance_maintenances(now).await {
            Ok(m) => m,
            Err(e) => {
                keep(Err(e));
                HashMap::new()
            }
        };
        let evaluated = self.components(now).await;
        for e in evaluated {
            let (status, detail) = match maintained.get(&e.id) {
                Some(name) => (
                    ComponentStatus::UnderMaintenance,
                    format!("scheduled maintenance: {name}"),
                ),
                None => (e.status, e.detail),
            };
            let observed = self
                .store
                .observe_component(ComponentObservation {
                    id: e.id.clone(),
                    name: e.name.clone(),
                    description: Some(e.description.clone()),
                    group: Some(e.group.to_string()),
                    position: e.position,
                    status,
                    detail: Some(detail.clone()),
                    at: now,
                })
                .await;
            match observed {
                Ok(o) => {
                    if o.previous.is_some_and(|p| p != o.component.status) {
                        tracing::info!(
                            component = %o.component.id,
                            status = o.component.status.as_str(),
                            %detail,
                            "component status changed"
                        );
                    }
                    record_metric(&o.component.id, o.component.status);
                    keep(self.drive_incident(&o, &detail, now).await);
                }
                Err(e) => keep(Err(e)),
            }
        }
        // Components this build no longer evaluates (a connector removed) leave the page; one
        // merely skipped this round (its signal unreadable) stays.
        let ids = self.known_ids();
        match self.store.list_components().await {
            Ok(all) => {
                for c in all.into_iter().filter(|c| !ids.contains(&c.id)) {
                    keep(self.store.delete_component(&c.id).await);
                }
            }
            Err(e) => keep(Err(e)),
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The ids of every component this build evaluates.
    fn known_ids(&self) -> HashSet<String> {
        PLATFORM
            .iter()
            .map(|(id, ..)| id.to_string())
            .chain(
                self.connectors
                    .descriptors()
                    .map(|d| connector_component_id(d.id)),
            )
            .collect()
    }

    /// Every component with its status from the current signals. A signal that cannot be
    /// read leaves its component out of this round rather than guessing.
    async fn components(&self, now: Timestamp) -> Vec<Evaluated> {
        let t = &self.thresholds;
        let mut out = Vec::new();
        let platform = |i: usize, (status, detail): (ComponentStatus, String)| Evaluated {
            id: PLATFORM[i].0.to_string(),
            name: PLATFORM[i].1.to_string(),
            description: PLATFORM[i].2.to_string(),
            group: PLATFORM_GROUP,
            position: i as i64 + 1,
            status,
            detail,
        };
        let signals = self.store.platform_signals(now - t.window, now).await;
        match &signals {
            Ok(s) => out.push(platform(0, api_status(s.requests, s.server_errors, t))),
            Err(e) => tracing::warn!(error = %e, "cannot read the request signals"),
        }
        match self.store.job_queue_stats(now).await {
            Ok(stats) => {
                let oldest = stats
                    .iter()
                    .filter(|s| s.kind == SYNC_JOB || s.kind == SCHEDULER_JOB)
                    .filter_map(|s| s.oldest_due_at)
                    .min();
                out.push(platform(
                    1,
                    lag_status(oldest.map(|at| now - at), "sync jobs", t),
                ));
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the job queue"),
        }
        if let Ok(s) = &signals {
            out.push(platform(
                2,
                lag_status(
                    s.oldest_due_delivery_at.map(|at| now - at),
                    "webhook deliveries",
                    t,
                ),
            ));
        }
        out.push(platform(
            3,
            match self.store.readiness().await {
                Ok(r) if r.is_ready() => (
                    ComponentStatus::Operational,
                    "reachable, migrations applied".into(),
                ),
                Ok(r) => (
                    ComponentStatus::MajorOutage,
                    format!(
                        "{} of {} migrations applied",
                        r.applied_migrations, r.known_migrations
                    ),
                ),
                Err(e) => (ComponentStatus::MajorOutage, format!("unreachable: {e}")),
            },
        ));
        match self.store.live_connections().await {
            Ok(connections) => {
                let mut by_connector: HashMap<&str, Vec<&Connection>> = HashMap::new();
                for c in &connections {
                    by_connector
                        .entry(c.connector.as_str())
                        .or_default()
                        .push(c);
                }
                for (i, d) in self.connectors.descriptors().enumerate() {
                    let counts =
                        ConnectorCounts::of(by_connector.get(d.id).into_iter().flatten().copied());
                    let (status, detail) = connector_status(counts, t);
                    out.push(Evaluated {
                        id: connector_component_id(d.id),
                        name: d.name.to_string(),
                        description: format!("Connections to {}", d.name),
                        group: CONNECTORS_GROUP,
                        position: CONNECTOR_POSITION + i as i64,
                        status,
                        detail,
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the connections"),
        }
        out
    }

    /// Moves every open maintenance, the platform's and the workspaces', through its window
    /// (`scheduled` → `in_progress` when it starts, → `completed` when it ends, each with an
    /// update) and returns the platform components under maintenance now, with the
    /// maintenance's name. (A workspace's maintenance names its connections, which its own page
    /// shows; the platform's components are not its to put under maintenance.)
    async fn advance_maintenances(&self, now: Timestamp) -> StoreResult<HashMap<String, String>> {
        let open = self.store.open_maintenances().await?;
        let mut under = HashMap::new();
        for m in open {
            let started = m.scheduled_for.is_none_or(|t| t <= now);
            let ended = m.scheduled_until.is_some_and(|t| t <= now);
            let next = if ended {
                Some((
                    IncidentStatus::Completed,
                    "The scheduled maintenance has completed.",
                ))
            } else if started && m.status == IncidentStatus::Scheduled {
                Some((
                    IncidentStatus::InProgress,
                    "The scheduled maintenance is in progress.",
                ))
            } else {
                None
            };
            let m = match next {
                Some((status, body)) => {
                    let patch = IncidentPatch {
                        update_id: ids::new_id(INCIDENT_UPDATE_PREFIX),
                        status: Some(status),
                        body: Some(body.into()),
                        ..IncidentPatch::default()
                    };
                    let m = self
                        .store
                        .update_incident(m.workspace_id.as_deref(), &m.id, patch, now)
                        .await?;
                    tracing::info!(maintenance = %m.id, status = status.as_str(), "maintenance moved");
                    m
                }
                None => m,
            };
            if m.workspace_id.is_none()
                && matches!(
                    m.status,
                    IncidentStatus::InProgress | IncidentStatus::Verifying
                )
            {
                for c in &m.component_ids {
                    under.insert(c.clone(), m.name.clone());
                }
            }
        }
        Ok(under)
    }

    /// Opens, worsens or resolves the component's automatic incident.
    async fn drive_incident(&self, o: &Observed, detail: &str, now: Timestamp) -> StoreResult<()> {
        let c = &o.component;
        let down = !matches!(
            c.status,
            ComponentStatus::Operational | ComponentStatus::UnderMaintenance
        );
        let since = {
            let mut map = self.outage_since.lock().unwrap_or_else(|p| p.into_inner());
            if down {
                Some(*map.entry(c.id.clone()).or_insert(c.status_since))
            } else {
                map.remove(&c.id);
                None
            }
        };
        let open = self.store.open_auto_incident(&c.id).await?;
        match (open, since) {
            (Some(incident), None) if c.status == ComponentStatus::Operational => {
                let lasted = (now - incident.created_at).num_minutes().max(0);
                let patch = IncidentPatch {
                    update_id: ids::new_id(INCIDENT_UPDATE_PREFIX),
                    status: Some(IncidentStatus::Resolved),
                    body: Some(format!(
                        "Recovered: {} is operational again ({} min after this incident opened).",
                        c.name, lasted
                    )),
                    ..IncidentPatch::default()
                };
                self.store
                    .update_incident(None, &incident.id, patch, now)
                    .await?;
                tracing::info!(component = %c.id, incident = %incident.id, "automatic incident resolved");
            }
            (Some(incident), Some(_)) if impact_of(c.status) > incident.impact => {
                self.worsen(&incident, o, detail, now).await?;
            }
            (None, Some(since)) if now - since >= self.thresholds.incident_open_after => {
                let created = self
                    .store
                    .create_incident(NewIncident {
                        id: ids::new_id(INCIDENT_PREFIX),
                        update_id: ids::new_id(INCIDENT_UPDATE_PREFIX),
                        workspace_id: None,
                        kind: IncidentKind::Incident,
                        name: format!("{}: {}", c.name, status_words(c.status)),
                        status: IncidentStatus::Investigating,
                        impact: impact_of(c.status),
                        body: format!(
                            "{} has been in {} since {}: {}.",
                            c.name,
                            status_words(c.status),
                            since.format("%Y-%m-%d %H:%M:%S UTC"),
                            detail
                        ),
                        component_ids: vec![c.id.clone()],
                        auto_component_id: Some(c.id.clone()),
                        scheduled_for: None,
                        scheduled_until: None,
                        now,
                    })
                    .await;
                match created {
                    Ok(i) => {
                        tracing::warn!(component = %c.id, incident = %i.id, "automatic incident opened")
                    }
                    // Another node opened it first: one incident it is.
                    Err(StoreError::Conflict(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            _ => {}
        }
        Ok(())
    }

    async fn worsen(
        &self,
        incident: &Incident,
        o: &Observed,
        detail: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
        let c = &o.component;
        let patch = IncidentPatch {
            update_id: ids::new_id(INCIDENT_UPDATE_PREFIX),
            name: Some(format!("{}: {}", c.name, status_words(c.status))),
            impact: Some(impact_of(c.status)),
            body: Some(format!(
                "{} worsened to {}: {}.",
                c.name,
                status_words(c.status),
                detail
            )),
            ..IncidentPatch::default()
        };
        self.store
            .update_incident(None, &incident.id, patch, now)
            .await?;
        Ok(())
    }
}

/// Queues the evaluation for `at` unless one is queued or running.
pub async fn schedule(store: &dyn Store, at: Timestamp) -> StoreResult<bool> {
    store
        .enqueue_job(NewJob {
            id: ids::new_id(prefix::JOB),
            kind: STATUS_JOB.into(),
            workspace_id: None,
            connection_id: None,
            payload: serde_json::json!({}),
            run_at: at,
            dedupe_key: Some(STATUS_JOB.into()),
            created_at: time::now(),
        })
        .await
}

fn record_metric(component: &str, status: ComponentStatus) {
    for s in ComponentStatus::ALL {
        metrics::gauge!(
            COMPONENT_STATUS,
            "component" => component.to_owned(),
            "status" => s.as_str(),
        )
        .set(if s == status { 1.0 } else { 0.0 });
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use millwright_store::{Impact, IncidentFilter, PageRequest};
    use millwright_store_sqlite::SqliteStore;

    use super::*;

    async fn evaluator() -> (StatusEvaluator, Arc<dyn Store>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
        store.migrate().await.unwrap();
        let store: Arc<dyn Store> = Arc::new(store);
        let thresholds = StatusThresholds {
            incident_open_after: Duration::seconds(60),
            ..StatusThresholds::default()
        };
        let e = StatusEvaluator::new(store.clone(), Arc::new(Registry::standard()), thresholds);
        (e, store, dir)
    }

    fn t(secs: i64) -> Timestamp {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::seconds(secs)
    }

    async fn observe(e: &StatusEvaluator, status: ComponentStatus, at: i64) {
        let o = e
            .store
            .observe_component(ComponentObservation {
                id: "api".into(),
                name: "API".into(),
                description: None,
                group: Some(PLATFORM_GROUP.into()),
                position: 1,
                status,
                detail: None,
                at: t(at),
            })
            .await
            .unwrap();
        e.drive_incident(&o, "3 of 40 requests failed", t(at))
            .await
            .unwrap();
    }

    async fn incidents(store: &Arc<dyn Store>) -> Vec<Incident> {
        store
            .list_incidents(&IncidentFilter::default(), &PageRequest::first(10))
            .await
            .unwrap()
            .items
    }

    #[tokio::test]
    async fn automatic_incidents_open_after_the_threshold_worsen_and_resolve() {
        let (e, store, _dir) = evaluator().await;
        observe(&e, ComponentStatus::Operational, 0).await;
        observe(&e, ComponentStatus::DegradedPerformance, 10).await;
        observe(&e, ComponentStatus::PartialOutage, 40).await;
        assert!(incidents(&store).await.is_empty(), "not 60 s yet");
        // 60 s after leaving operational, although the status changed in between.
        observe(&e, ComponentStatus::PartialOutage, 70).await;
        let opened = store.open_auto_incident("api").await.unwrap().unwrap();
        assert_eq!(opened.name, "API: partial outage");
        assert_eq!(opened.impact, Impact::Major);
        assert_eq!(opened.status, IncidentStatus::Investigating);
        assert!(opened.updates[0].body.contains("3 of 40 requests failed"));

        observe(&e, ComponentStatus::MajorOutage, 80).await;
        let worse = store.open_auto_incident("api").await.unwrap().unwrap();
        assert_eq!(worse.id, opened.id);
        assert_eq!(worse.name, "API: major outage");
        assert_eq!(worse.impact, Impact::Critical);
        assert_eq!(worse.updates.len(), 2);
        assert!(worse.updates[0]
            .body
            .starts_with("API worsened to major outage"));

        // Better but not well, then under maintenance: the incident stays as it is.
        observe(&e, ComponentStatus::DegradedPerformance, 90).await;
        observe(&e, ComponentStatus::UnderMaintenance, 100).await;
        let same = store.open_auto_incident("api").await.unwrap().unwrap();
        assert_eq!((same.impact, same.updates.len()), (Impact::Critical, 2));

        observe(&e, ComponentStatus::Operational, 110).await;
        assert_eq!(store.open_auto_incident("api").await.unwrap(), None);
        let all = incidents(&store).await;
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].status, IncidentStatus::Resolved);
        assert_eq!(all[0].resolved_at, Some(t(110)));
        assert!(all[0].updates[0].body.starts_with("Recovered: API"));

        // Maintenance does not count towards the threshold.
        observe(&e, ComponentStatus::UnderMaintenance, 120).await;
        observe(&e, ComponentStatus::UnderMaintenance, 500).await;
        assert_eq!(incidents(&store).await.len(), 1);
    }

    #[tokio::test]
    async fn maintenances_move_through_their_window() {
        let (e, store, _dir) = evaluator().await;
        let m = store
            .create_incident(NewIncident {
                id: ids::new_id(INCIDENT_PREFIX),
                update_id: ids::new_id(INCIDENT_UPDATE_PREFIX),
                workspace_id: None,
                kind: IncidentKind::Maintenance,
                name: "Database upgrade".into(),
                status: IncidentStatus::Scheduled,
                impact: millwright_store::Impact::Maintenance,
                body: "Planned.".into(),
                component_ids: vec!["database".into()],
                auto_component_id: None,
                scheduled_for: Some(t(10)),
                scheduled_until: Some(t(20)),
                now: t(0),
            })
            .await
            .unwrap();
        assert!(e.advance_maintenances(t(5)).await.unwrap().is_empty());
        let under = e.advance_maintenances(t(10)).await.unwrap();
        assert_eq!(
            under.get("database").map(String::as_str),
            Some("Database upgrade")
        );
        let running = store.get_incident(None, &m.id).await.unwrap().unwrap();
        assert_eq!(running.status, IncidentStatus::InProgress);
        assert_eq!(running.updates.len(), 2);
        // Still in progress: no second update.
        e.advance_maintenances(t(15)).await.unwrap();
        assert_eq!(
            store
                .get_incident(None, &m.id)
                .await
                .unwrap()
                .unwrap()
                .updates
                .len(),
            2
        );
        assert!(e.advance_maintenances(t(20)).await.unwrap().is_empty());
        let done = store.get_incident(None, &m.id).await.unwrap().unwrap();
        assert_eq!(done.status, IncidentStatus::Completed);
        assert_eq!(done.resolved_at, Some(t(20)));
        assert_eq!(done.updates.len(), 3);
        assert!(store.open_maintenances().await.unwrap().is_empty());
    }
}
