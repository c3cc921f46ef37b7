//! A small view for the rendering tests: two groups, an open and a resolved incident, an
//! upcoming and an active maintenance, and uptime data.

use chrono::Duration;
use millwright_core::time::Timestamp;
use millwright_store::{
    ComponentStatus, Impact, Incident, IncidentKind, IncidentStatus, IncidentUpdate,
};

use super::view::{
    assemble, status_label, uptime, ComponentView, DayFigures, PageInfo, StatusView,
};

pub fn ts(s: &str) -> Timestamp {
    millwright_core::time::parse(s).unwrap()
}

fn component(
    id: &str,
    name: &str,
    group: &str,
    position: i64,
    status: ComponentStatus,
) -> ComponentView {
    let now = ts("2026-11-27T12:00:00Z");
    ComponentView {
        id: id.into(),
        name: name.into(),
        description: Some(format!("{name} <described>")),
        status,
        label: status_label(status),
        detail: None,
        position,
        group: Some(group.into()),
        connector: None,
        created_at: ts("2026-11-01T00:00:00Z"),
        updated_at: ts("2026-11-27T11:00:00Z"),
        uptime: Some(uptime(
            [DayFigures {
                day: now.date_naive(),
                up: 90,
                observed: 100,
                worst: status,
            }],
            now.date_naive(),
        )),
    }
}

fn item(
    id: &str,
    kind: IncidentKind,
    status: IncidentStatus,
    impact: Impact,
    created: &str,
    components: &[&str],
    window: Option<(&str, &str)>,
) -> Incident {
    let created = ts(created);
    Incident {
        id: id.into(),
        workspace_id: None,
        kind,
        name: format!("{id} <name>"),
        status,
        impact,
        component_ids: components.iter().map(|c| c.to_string()).collect(),
        auto_component_id: None,
        scheduled_for: window.map(|(f, _)| ts(f)),
        scheduled_until: window.map(|(_, u)| ts(u)),
        created_at: created,
        updated_at: created + Duration::minutes(5),
        monitoring_at: None,
        resolved_at: status.is_closed().then_some(created + Duration::minutes(5)),
        updates: vec![
            IncidentUpdate {
                id: format!("{id}_u2"),
                incident_id: id.into(),
                status,
                body: format!("{id} second & last"),
                affected_components: vec![],
                created_at: created + Duration::minutes(5),
            },
            IncidentUpdate {
                id: format!("{id}_u1"),
                incident_id: id.into(),
                status: if kind == IncidentKind::Incident {
                    IncidentStatus::Investigating
                } else {
                    IncidentStatus::Scheduled
                },
                body: format!("{id} first"),
                affected_components: components.iter().map(|c| c.to_string()).collect(),
                created_at: created,
            },
        ],
    }
}

pub fn sample() -> StatusView {
    use ComponentStatus::*;
    let page = PageInfo {
        id: "millwright".into(),
        name: "status.example.com".into(),
        url: "https://status.example.com/status".into(),
        time_zone: "Etc/UTC",
        updated_at: ts("2026-11-01T00:00:00Z"),
    };
    assemble(
        page,
        vec![
            component("api", "API", "Platform", 1, Operational),
            component("sync", "Sync engine", "Platform", 2, Operational),
            component("connector.sap", "SAP", "Connectors", 100, PartialOutage),
        ],
        vec![
            item(
                "inc_open",
                IncidentKind::Incident,
                IncidentStatus::Identified,
                Impact::Major,
                "2026-11-27T10:00:00Z",
                &["connector.sap"],
                None,
            ),
            item(
                "inc_done",
                IncidentKind::Incident,
                IncidentStatus::Resolved,
                Impact::Minor,
                "2026-11-25T10:00:00Z",
                &["api"],
                None,
            ),
            item(
                "mnt_next",
                IncidentKind::Maintenance,
                IncidentStatus::Scheduled,
                Impact::Maintenance,
                "2026-11-26T10:00:00Z",
                &["sync"],
                Some(("2026-11-28T22:00:00Z", "2026-11-28T23:00:00Z")),
            ),
            item(
                "mnt_now",
                IncidentKind::Maintenance,
                IncidentStatus::InProgress,
                Impact::Maintenance,
                "2026-11-26T09:00:00Z",
                &[],
                Some(("2026-11-27T11:00:00Z", "2026-11-27T13:00:00Z")),
            ),
        ],
        |id| vec![id.to_string()],
        ts("2026-11-27T12:00:00Z"),
    )
}
