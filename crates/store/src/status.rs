//! Storage for the status page (issue #6): components with their current status and daily
//! uptime, incidents and scheduled maintenances with their updates, and which workspaces publish
//! a status page of their own.
//!
//! Components are evaluated by the health layer (a leased `status_evaluate` job): the platform's
//! own (`api`, `sync`, `webhooks`, `database`) and one per connector (`connector.<id>`). Each
//! evaluation is recorded with [`StatusStore::observe_component`], which keeps the current status
//! and adds the time elapsed since the previous observation to the day's bucket of the status the
//! component had during that time; the 90-day uptime bars are read back from those buckets.
//!
//! Incidents and scheduled maintenances share one table (`kind`); both use the Atlassian
//! Statuspage v2 enums. An incident with `workspace_id = None` is the platform's (opened by the
//! evaluator, or by an operator workspace); one with a workspace id shows on that workspace's
//! page.

use async_trait::async_trait;
use chrono::NaiveDate;
use millwright_core::time::Timestamp;

use crate::StoreResult;

/// A component's status, Statuspage v2 enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ComponentStatus {
    Operational,
    UnderMaintenance,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
}

impl ComponentStatus {
    pub const ALL: [ComponentStatus; 5] = [
        ComponentStatus::Operational,
        ComponentStatus::UnderMaintenance,
        ComponentStatus::DegradedPerformance,
        ComponentStatus::PartialOutage,
        ComponentStatus::MajorOutage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "operational",
            ComponentStatus::UnderMaintenance => "under_maintenance",
            ComponentStatus::DegradedPerformance => "degraded_performance",
            ComponentStatus::PartialOutage => "partial_outage",
            ComponentStatus::MajorOutage => "major_outage",
        }
    }

    pub fn parse(s: &str) -> Option<ComponentStatus> {
        ComponentStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A component as last evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// Stable id: `api`, `sync`, `webhooks`, `database`, `connector.maintainx`, ...
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// `"Platform"` or `"Connectors"`.
    pub group: Option<String>,
    pub position: i64,
    pub status: ComponentStatus,
    /// When the component entered `status`.
    pub status_since: Timestamp,
    /// Why, in a few words ("3 of 10 connections offline"), from the last evaluation.
    pub detail: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One evaluation of a component, for [`StatusStore::observe_component`].
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentObservation {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub group: Option<String>,
    pub position: i64,
    pub status: ComponentStatus,
    pub detail: Option<String>,
    pub at: Timestamp,
}

/// What [`StatusStore::observe_component`] changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub component: Component,
    /// The status before this observation; `None` for a component seen for the first time.
    pub previous: Option<ComponentStatus>,
}

/// Seconds a component spent in each status on one UTC day.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ComponentDay {
    pub component_id: String,
    pub day: NaiveDate,
    pub operational_seconds: i64,
    pub maintenance_seconds: i64,
    pub degraded_seconds: i64,
    pub partial_outage_seconds: i64,
    pub major_outage_seconds: i64,
}

/// Incident or scheduled maintenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncidentKind {
    Incident,
    Maintenance,
}

impl IncidentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::Incident => "incident",
            IncidentKind::Maintenance => "maintenance",
        }
    }

    pub fn parse(s: &str) -> Option<IncidentKind> {
        match s {
            "incident" => Some(IncidentKind::Incident),
            "maintenance" => Some(IncidentKind::Maintenance),
            _ => None,
        }
    }
}

/// Statuspage v2 incident and maintenance statuses. Incidents use `investigating`,
/// `identified`, `monitoring`, `resolved`, `postmortem`; maintenances `scheduled`,
/// `in_progress`, `verifying`, `completed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncidentStatus {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    Postmortem,
    Scheduled,
    InProgress,
    Verifying,
    Completed,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 9] = [
        IncidentStatus::Investigating,
        IncidentStatus::Identified,
        IncidentStatus::Monitoring,
        IncidentStatus::Resolved,
        IncidentStatus::Postmortem,
        IncidentStatus::Scheduled,
        IncidentStatus::InProgress,
        IncidentStatus::Verifying,
        IncidentStatus::Completed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Investigating => "investigating",
            IncidentStatus::Identified => "identified",
            IncidentStatus::Monitoring => "monitoring",
            IncidentStatus::Resolved => "resolved",
            IncidentStatus::Postmortem => "postmortem",
            IncidentStatus::Scheduled => "scheduled",
            IncidentStatus::InProgress => "in_progress",
            IncidentStatus::Verifying => "verifying",
            IncidentStatus::Completed => "completed",
        }
    }

    pub fn parse(s: &str) -> Option<IncidentStatus> {
        IncidentStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether the incident or maintenance is over (`resolved`, `postmortem`, `completed`).
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            IncidentStatus::Resolved | IncidentStatus::Postmortem | IncidentStatus::Completed
        )
    }

    /// Whether the status belongs to `kind`.
    pub fn fits(self, kind: IncidentKind) -> bool {
        match kind {
            IncidentKind::Incident => matches!(
                self,
                IncidentStatus::Investigating
                    | IncidentStatus::Identified
                    | IncidentStatus::Monitoring
                    | IncidentStatus::Resolved
                    | IncidentStatus::Postmortem
            ),
            IncidentKind::Maintenance => matches!(
                self,
                IncidentStatus::Scheduled
                    | IncidentStatus::InProgress
                    | IncidentStatus::Verifying
                    | IncidentStatus::Completed
            ),
        }
    }
}

/// Statuspage v2 impact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Impact {
    None,
    Minor,
    Major,
    Critical,
    Maintenance,
}

impl Impact {
    pub const ALL: [Impact; 5] = [
        Impact::None,
        Impact::Minor,
        Impact::Major,
        Impact::Critical,
        Impact::Maintenance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Impact::None => "none",
            Impact::Minor => "minor",
            Impact::Major => "major",
            Impact::Critical => "critical",
            Impact::Maintenance => "maintenance",
        }
    }

    pub fn parse(s: &str) -> Option<Impact> {
        Impact::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// One update of an incident (its status at the time, and what was said).
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentUpdate {
    /// `iup_...`
    pub id: String,
    pub incident_id: String,
    pub status: IncidentStatus,
    pub body: String,
    /// Component ids affected at the time of the update.
    pub affected_components: Vec<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// `inc_...`
    pub id: String,
    /// `None`: a platform incident (public page); otherwise the workspace's own page.
    pub workspace_id: Option<String>,
    pub kind: IncidentKind,
    pub name: String,
    pub status: IncidentStatus,
    pub impact: Impact,
    pub component_ids: Vec<String>,
    /// Set on incidents the evaluator opened for a component; at most one unresolved automatic
    /// incident exists per component.
    pub auto_component_id: Option<String>,
    pub scheduled_for: Option<Timestamp>,
    pub scheduled_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub monitoring_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    /// Newest first.
    pub updates: Vec<IncidentUpdate>,
}

/// An incident or maintenance to create, with its first update (`body`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewIncident {
    pub id: String,
    pub update_id: String,
    pub workspace_id: Option<String>,
    pub kind: IncidentKind,
    pub name: String,
    pub status: IncidentStatus,
    pub impact: Impact,
    pub body: String,
    pub component_ids: Vec<String>,
    pub auto_component_id: Option<String>,
    pub scheduled_for: Option<Timestamp>,
    pub scheduled_until: Option<Timestamp>,
    pub now: Timestamp,
}

/// A change to an incident; `body` adds an update (with the new or current status).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IncidentPatch {
    pub update_id: String,
    pub name: Option<String>,
    pub status: Option<IncidentStatus>,
    pub impact: Option<Impact>,
    pub body: Option<String>,
    pub component_ids: Option<Vec<String>>,
    pub scheduled_for: Option<Timestamp>,
    pub scheduled_until: Option<Timestamp>,
}

/// Which incidents to list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IncidentFilter {
    /// `None`: platform incidents only; `Some(ws)`: that workspace's only.
    pub workspace_id: Option<String>,
    pub kind: Option<IncidentKind>,
    /// Only those not closed.
    pub unresolved: bool,
}

/// The longest gap between two observations of a component that is counted in full: a longer
/// one (the evaluator stopped, every node was down) adds only this much to the previous status,
/// since nobody looked at the component in between.
pub const OBSERVATION_GAP_CAP: chrono::Duration = chrono::Duration::minutes(15);

/// Splits `[from, to)` at UTC midnights into (day, microseconds on that day), oldest first;
/// empty when `to <= from`. Both backends bucket observations with it.
pub fn split_utc_days(from: Timestamp, to: Timestamp) -> Vec<(NaiveDate, i64)> {
    let mut out = Vec::new();
    let mut start = from;
    while start < to {
        let day = start.date_naive();
        let next_midnight = day
            .succ_opt()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
            .unwrap_or(to);
        let end = next_midnight.min(to);
        let micros = (end - start).num_microseconds().unwrap_or(i64::MAX);
        out.push((day, micros));
        start = end;
    }
    out
}

/// Internal signals of the platform over a recent window, read by the health layer to evaluate
/// the `api` and `webhooks` components.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlatformSignals {
    /// Requests in the request logs since the window start.
    pub requests: i64,
    /// Of those, answers with a 5xx status that are the platform's fault: `UPSTREAM_ERROR` and
    /// `UPSTREAM_UNREACHABLE` are the source system's and are not counted.
    pub server_errors: i64,
    /// `next_attempt_at` of the oldest pending webhook delivery that is due and not leased (to
    /// an endpoint that is enabled): how far behind the dispatchers are.
    pub oldest_due_delivery_at: Option<Timestamp>,
}

/// Part of [`crate::Store`]: components, uptime, incidents, maintenances, workspace pages.
#[async_trait]
pub trait StatusStore: Send + Sync {
    /// Records one evaluation in one transaction: creates or updates the component (its
    /// `status_since` moves only when the status changes), and adds the seconds since its
    /// previous observation (capped, so a long pause in evaluation is not counted) to the
    /// per-day bucket of the status it had during that time, split at UTC midnight.
    async fn observe_component(&self, observation: ComponentObservation) -> StoreResult<Observed>;
    /// Every component, by `position` then `id`.
    async fn list_components(&self) -> StoreResult<Vec<Component>>;
    /// Daily buckets of these components from `since` (inclusive), oldest first; days without
    /// observations are absent.
    async fn component_days(
        &self,
        component_ids: &[String],
        since: NaiveDate,
    ) -> StoreResult<Vec<ComponentDay>>;
    /// Removes components no longer evaluated (e.g. a connector removed from the build).
    async fn delete_component(&self, id: &str) -> StoreResult<()>;

    /// Creates an incident or maintenance with its first update. For an automatic incident
    /// (`auto_component_id` set) returns [`crate::StoreError::Conflict`] when one is already
    /// unresolved for that component, writing nothing.
    async fn create_incident(&self, new: NewIncident) -> StoreResult<Incident>;
    /// Applies the patch; setting a closed status sets `resolved_at` (kept from the first
    /// close; reopening clears it), `monitoring` sets `monitoring_at` (the first time). `workspace_id` scopes the lookup (`None`: platform incidents).
    /// [`crate::StoreError::NotFound`] for an unknown id or another workspace's.
    async fn update_incident(
        &self,
        workspace_id: Option<&str>,
        id: &str,
        patch: IncidentPatch,
        now: Timestamp,
    ) -> StoreResult<Incident>;
    async fn get_incident(
        &self,
        workspace_id: Option<&str>,
        id: &str,
    ) -> StoreResult<Option<Incident>>;
    /// Newest first (by `created_at`, then id), with their updates, keyset after `page.after`.
    async fn list_incidents(
        &self,
        filter: &IncidentFilter,
        page: &crate::PageRequest,
    ) -> StoreResult<crate::Page<Incident>>;
    /// The unresolved automatic incident of a component, if any.
    async fn open_auto_incident(&self, component_id: &str) -> StoreResult<Option<Incident>>;
    /// Every maintenance not closed yet, of the platform and of every workspace, by
    /// `scheduled_for` then id, with their updates: the evaluator moves them through their
    /// windows.
    async fn open_maintenances(&self) -> StoreResult<Vec<Incident>>;

    /// Request and delivery signals for the platform components: requests logged at or after
    /// `since`, and the delivery backlog as of `now`.
    async fn platform_signals(
        &self,
        since: Timestamp,
        now: Timestamp,
    ) -> StoreResult<PlatformSignals>;

    /// Whether the workspace publishes `/status/w/{workspace_id}` (off by default).
    async fn workspace_status_page(&self, workspace_id: &str) -> StoreResult<bool>;
    async fn set_workspace_status_page(&self, workspace_id: &str, enabled: bool)
        -> StoreResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn spans_split_at_each_utc_midnight() {
        let from = Utc.with_ymd_and_hms(2026, 3, 1, 23, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2026, 3, 3, 1, 0, 0).unwrap();
        let hour = 3_600_000_000;
        let d = |day| NaiveDate::from_ymd_opt(2026, 3, day).unwrap();
        assert_eq!(
            split_utc_days(from, to),
            [(d(1), hour), (d(2), 24 * hour), (d(3), hour)]
        );
        assert!(split_utc_days(to, from).is_empty());
        assert!(split_utc_days(from, from).is_empty());
    }
}
