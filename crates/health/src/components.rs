//! How each component's status is computed from its signals: pure functions, so the rules are
//! tested without a database, plus the thresholds they use.

use millwright_core::status::ConnectionStatus;
use millwright_store::{ComponentStatus, Connection, Impact};

/// Every threshold of the status evaluation, with the defaults documented in
/// `docs/operations.md` ("Health model"). Shares are fractions in `[0, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusThresholds {
    /// Time between two evaluations of every component.
    pub interval: chrono::Duration,
    /// A component non-operational (not counting maintenance) for this long gets an automatic
    /// incident.
    pub incident_open_after: chrono::Duration,
    /// How far back the `api` component looks in the request logs.
    pub window: chrono::Duration,
    /// Fewer requests than this in the window say nothing about the API: it stays operational.
    pub api_min_requests: i64,
    /// Share of the window's requests answered with a platform 5xx for `degraded_performance`,
    /// `partial_outage` and `major_outage`.
    pub api_error_share: [f64; 3],
    /// Queue lag (how long the oldest due job or delivery has waited unclaimed) for
    /// `degraded_performance`, `partial_outage` and `major_outage` of `sync` and `webhooks`.
    pub queue_lag: [chrono::Duration; 3],
    /// Share of a connector's connections `offline` for `partial_outage`.
    pub connector_partial_share: f64,
    /// Share of a connector's connections `offline` for `major_outage` (all of them always is).
    pub connector_major_share: f64,
}

impl Default for StatusThresholds {
    fn default() -> Self {
        StatusThresholds {
            interval: chrono::Duration::seconds(60),
            incident_open_after: chrono::Duration::seconds(300),
            window: chrono::Duration::minutes(5),
            api_min_requests: 20,
            api_error_share: [0.05, 0.25, 0.5],
            queue_lag: [
                chrono::Duration::minutes(2),
                chrono::Duration::minutes(10),
                chrono::Duration::minutes(30),
            ],
            connector_partial_share: 0.25,
            connector_major_share: 0.75,
        }
    }
}

/// The status for a value against ascending `[degraded, partial, major]` limits.
fn graded<T: PartialOrd>(value: T, limits: [T; 3]) -> ComponentStatus {
    let [degraded, partial, major] = limits;
    if value >= major {
        ComponentStatus::MajorOutage
    } else if value >= partial {
        ComponentStatus::PartialOutage
    } else if value >= degraded {
        ComponentStatus::DegradedPerformance
    } else {
        ComponentStatus::Operational
    }
}

/// The `api` component from the window's requests and platform 5xx answers.
pub(crate) fn api_status(
    requests: i64,
    server_errors: i64,
    t: &StatusThresholds,
) -> (ComponentStatus, String) {
    let detail = format!(
        "{server_errors} of {requests} requests in the last {} min failed with a server error",
        t.window.num_minutes()
    );
    if requests < t.api_min_requests.max(1) {
        return (ComponentStatus::Operational, detail);
    }
    let share = server_errors as f64 / requests as f64;
    (graded(share, t.api_error_share), detail)
}

/// `sync` or `webhooks` from how long the oldest due work has waited.
pub(crate) fn lag_status(
    lag: Option<chrono::Duration>,
    what: &str,
    t: &StatusThresholds,
) -> (ComponentStatus, String) {
    match lag {
        None => (ComponentStatus::Operational, format!("no {what} waiting")),
        Some(lag) => (
            graded(lag, t.queue_lag),
            format!("oldest due {what} waiting {} s", lag.num_seconds().max(0)),
        ),
    }
}

/// What a connector's live connections say, across workspaces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ConnectorCounts {
    /// Connections that count: every live one except those awaiting reauthorization.
    pub counted: usize,
    pub offline: usize,
    /// Reachable, but the last probe met an unexpected error.
    pub failing: usize,
    /// The customer's credentials were rejected: their problem, not the connector's.
    pub awaiting_reauthorization: usize,
}

impl ConnectorCounts {
    pub(crate) fn of<'a>(connections: impl IntoIterator<Item = &'a Connection>) -> Self {
        let mut c = ConnectorCounts::default();
        for con in connections {
            match con.status {
                ConnectionStatus::Disconnected => {}
                ConnectionStatus::RequiresReauthorization => c.awaiting_reauthorization += 1,
                ConnectionStatus::Offline => {
                    c.counted += 1;
                    c.offline += 1;
                }
                _ => {
                    c.counted += 1;
                    if con.health.as_ref().is_some_and(|h| h.status == "error") {
                        c.failing += 1;
                    }
                }
            }
        }
        c
    }
}

/// A connector component from its connections' counts.
pub(crate) fn connector_status(
    c: ConnectorCounts,
    t: &StatusThresholds,
) -> (ComponentStatus, String) {
    let mut detail = if c.counted == 0 {
        "no connections".to_string()
    } else {
        let mut d = format!("{} of {} connections offline", c.offline, c.counted);
        if c.failing > 0 {
            d.push_str(&format!(", {} failing", c.failing));
        }
        d
    };
    if c.awaiting_reauthorization > 0 {
        detail.push_str(&format!(
            "; {} awaiting reauthorization by their customer (not counted)",
            c.awaiting_reauthorization
        ));
    }
    if c.counted == 0 {
        return (ComponentStatus::Operational, detail);
    }
    let share = c.offline as f64 / c.counted as f64;
    let status = if c.offline == c.counted || share >= t.connector_major_share {
        ComponentStatus::MajorOutage
    } else if share >= t.connector_partial_share {
        ComponentStatus::PartialOutage
    } else if c.offline > 0 || c.failing > 0 {
        ComponentStatus::DegradedPerformance
    } else {
        ComponentStatus::Operational
    };
    (status, detail)
}

/// The impact of an automatic incident for a component in `status`.
pub fn impact_of(status: ComponentStatus) -> Impact {
    match status {
        ComponentStatus::Operational => Impact::None,
        ComponentStatus::UnderMaintenance => Impact::Maintenance,
        ComponentStatus::DegradedPerformance => Impact::Minor,
        ComponentStatus::PartialOutage => Impact::Major,
        ComponentStatus::MajorOutage => Impact::Critical,
    }
}

/// "partial outage", for incident names and updates.
pub fn status_words(status: ComponentStatus) -> &'static str {
    match status {
        ComponentStatus::Operational => "operational",
        ComponentStatus::UnderMaintenance => "under maintenance",
        ComponentStatus::DegradedPerformance => "degraded performance",
        ComponentStatus::PartialOutage => "partial outage",
        ComponentStatus::MajorOutage => "major outage",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(counted: usize, offline: usize, failing: usize, reauth: usize) -> ConnectorCounts {
        ConnectorCounts {
            counted,
            offline,
            failing,
            awaiting_reauthorization: reauth,
        }
    }

    #[test]
    fn connectors_grade_by_offline_share_and_ignore_reauthorization() {
        let t = StatusThresholds::default();
        let s = |c| connector_status(c, &t).0;
        assert_eq!(s(counts(0, 0, 0, 0)), ComponentStatus::Operational);
        assert_eq!(s(counts(0, 0, 0, 5)), ComponentStatus::Operational);
        assert_eq!(s(counts(10, 0, 0, 9)), ComponentStatus::Operational);
        assert_eq!(s(counts(10, 0, 1, 0)), ComponentStatus::DegradedPerformance);
        assert_eq!(s(counts(10, 2, 0, 0)), ComponentStatus::DegradedPerformance);
        assert_eq!(s(counts(8, 2, 0, 0)), ComponentStatus::PartialOutage);
        assert_eq!(s(counts(8, 5, 0, 0)), ComponentStatus::PartialOutage);
        assert_eq!(s(counts(8, 6, 0, 0)), ComponentStatus::MajorOutage);
        assert_eq!(s(counts(1, 1, 0, 0)), ComponentStatus::MajorOutage);
        let (_, detail) = connector_status(counts(4, 1, 1, 2), &t);
        assert_eq!(
            detail,
            "1 of 4 connections offline, 1 failing; 2 awaiting reauthorization by their customer (not counted)"
        );
    }

    #[test]
    fn api_needs_enough_requests_and_grades_by_error_share() {
        let t = StatusThresholds::default();
        assert_eq!(api_status(5, 5, &t).0, ComponentStatus::Operational);
        assert_eq!(api_status(100, 4, &t).0, ComponentStatus::Operational);
        assert_eq!(
            api_status(100, 5, &t).0,
            ComponentStatus::DegradedPerformance
        );
        assert_eq!(api_status(100, 30, &t).0, ComponentStatus::PartialOutage);
        assert_eq!(api_status(100, 50, &t).0, ComponentStatus::MajorOutage);
    }

    #[test]
    fn lag_grades_by_age() {
        let t = StatusThresholds::default();
        let s = |secs| lag_status(Some(chrono::Duration::seconds(secs)), "jobs", &t).0;
        assert_eq!(lag_status(None, "jobs", &t).0, ComponentStatus::Operational);
        assert_eq!(s(10), ComponentStatus::Operational);
        assert_eq!(s(120), ComponentStatus::DegradedPerformance);
        assert_eq!(s(600), ComponentStatus::PartialOutage);
        assert_eq!(s(3600), ComponentStatus::MajorOutage);
    }

    #[test]
    fn impact_follows_severity() {
        assert_eq!(
            impact_of(ComponentStatus::DegradedPerformance),
            Impact::Minor
        );
        assert_eq!(impact_of(ComponentStatus::PartialOutage), Impact::Major);
        assert_eq!(impact_of(ComponentStatus::MajorOutage), Impact::Critical);
    }
}
