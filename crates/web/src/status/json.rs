//! The Atlassian Statuspage v2 public JSON, built from a [`StatusView`]: the field names,
//! enums, nesting and nulls that its consumers (the `se-v2.js` widget, Grafana's Statuspage
//! data source, status aggregators) read.
//!
//! Timestamps are ISO 8601 in UTC with milliseconds (`2026-11-27T10:00:00.000Z`), as a
//! Statuspage page in the `Etc/UTC` time zone writes them.

use chrono::SecondsFormat;
use millwright_core::time::Timestamp;
use millwright_store::IncidentKind;
use serde::Serialize;

use super::view::{ComponentView, GroupView, IncidentView, StatusView};

/// Which document of `api/v2/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// `summary.json`: page, status, components, unresolved incidents, upcoming and active
    /// maintenances.
    Summary,
    /// `status.json`: page and status.
    Status,
    /// `components.json`.
    Components,
    /// `incidents.json`: the 50 most recent incidents, and every unresolved one.
    Incidents,
    /// `incidents/unresolved.json`.
    UnresolvedIncidents,
    /// `scheduled-maintenances.json`: the 50 most recent, and every unfinished one.
    Maintenances,
    /// `scheduled-maintenances/upcoming.json`: not started yet.
    UpcomingMaintenances,
    /// `scheduled-maintenances/active.json`: in progress or verifying.
    ActiveMaintenances,
}

impl Document {
    /// Every document with its path under `api/v2/`.
    pub const ALL: [(&'static str, Document); 8] = [
        ("summary.json", Document::Summary),
        ("status.json", Document::Status),
        ("components.json", Document::Components),
        ("incidents.json", Document::Incidents),
        ("incidents/unresolved.json", Document::UnresolvedIncidents),
        ("scheduled-maintenances.json", Document::Maintenances),
        (
            "scheduled-maintenances/upcoming.json",
            Document::UpcomingMaintenances,
        ),
        (
            "scheduled-maintenances/active.json",
            Document::ActiveMaintenances,
        ),
    ];
}

fn ts(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn ts_opt(t: &Option<Timestamp>) -> Option<String> {
    t.as_ref().map(ts)
}

#[derive(Serialize)]
struct Page<'a> {
    id: &'a str,
    name: &'a str,
    url: &'a str,
    time_zone: &'a str,
    updated_at: String,
}

#[derive(Serialize)]
struct Status {
    indicator: &'static str,
    description: &'static str,
}

#[derive(Serialize)]
struct Component<'a> {
    id: &'a str,
    name: &'a str,
    status: &'static str,
    created_at: String,
    updated_at: String,
    position: i64,
    description: Option<&'a str>,
    showcase: bool,
    start_date: Option<String>,
    group_id: Option<&'a str>,
    page_id: &'a str,
    group: bool,
    only_show_if_degraded: bool,
    /// Only on groups: the ids of their components.
    #[serde(skip_serializing_if = "Option::is_none")]
    components: Option<Vec<&'a str>>,
}

#[derive(Serialize)]
struct AffectedComponent<'a> {
    code: &'a str,
    name: &'a str,
    old_status: &'static str,
    new_status: &'static str,
}

#[derive(Serialize)]
struct IncidentUpdate<'a> {
    id: &'a str,
    status: &'static str,
    body: &'a str,
    incident_id: &'a str,
    created_at: String,
    updated_at: String,
    display_at: String,
    /// `null` when the update touched no component, as Statuspage writes it.
    affected_components: Option<Vec<AffectedComponent<'a>>>,
    deliver_notifications: bool,
    custom_tweet: Option<&'a str>,
    tweet_id: Option<&'a str>,
}

#[derive(Serialize)]
struct Incident<'a> {
    id: &'a str,
    name: &'a str,
    status: &'static str,
    created_at: String,
    updated_at: String,
    monitoring_at: Option<String>,
    resolved_at: Option<String>,
    impact: &'static str,
    shortlink: String,
    started_at: String,
    page_id: &'a str,
    incident_updates: Vec<IncidentUpdate<'a>>,
    components: Vec<Component<'a>>,
    /// Only on scheduled maintenances.
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduled_for: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduled_until: Option<Option<String>>,
}

#[derive(Serialize)]
struct Body<'a> {
    page: Page<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    components: Option<Vec<Component<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    incidents: Option<Vec<Incident<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduled_maintenances: Option<Vec<Incident<'a>>>,
}

/// Renders one document of the view.
pub fn render(view: &StatusView, doc: Document) -> serde_json::Value {
    let j = Json { view };
    let body = Body {
        page: j.page(),
        status: matches!(doc, Document::Summary | Document::Status).then(|| Status {
            indicator: view.overall.indicator.as_str(),
            description: view.overall.description(),
        }),
        components: matches!(doc, Document::Summary | Document::Components).then(|| j.components()),
        incidents: match doc {
            Document::Summary | Document::UnresolvedIncidents => {
                j.incidents(view.unresolved_incidents().collect())
            }
            Document::Incidents => j.incidents(view.incidents.iter().collect()),
            _ => None,
        },
        scheduled_maintenances: match doc {
            Document::Summary => {
                j.incidents(view.maintenances.iter().filter(|m| m.is_open()).collect())
            }
            Document::Maintenances => j.incidents(view.maintenances.iter().collect()),
            Document::UpcomingMaintenances => j.incidents(view.upcoming_maintenances().collect()),
            Document::ActiveMaintenances => j.incidents(view.active_maintenances().collect()),
            _ => None,
        },
    };
    serde_json::to_value(body).unwrap_or(serde_json::Value::Null)
}

struct Json<'a> {
    view: &'a StatusView,
}

impl<'a> Json<'a> {
    fn incidents(&self, items: Vec<&'a IncidentView>) -> Option<Vec<Incident<'a>>> {
        Some(items.into_iter().map(|i| self.incident(i)).collect())
    }

    fn page(&self) -> Page<'a> {
        let p = &self.view.page;
        Page {
            id: &p.id,
            name: &p.name,
            url: &p.url,
            time_zone: p.time_zone,
            updated_at: ts(&p.updated_at),
        }
    }

    /// Groups first, each followed by its components, in display order.
    fn components(&self) -> Vec<Component<'a>> {
        let mut out = Vec::new();
        for g in &self.view.groups {
            if g.id.is_some() {
                out.push(self.group(g));
            }
            out.extend(g.components.iter().map(|c| self.component(c, g)));
        }
        out
    }

    fn group(&self, g: &'a GroupView) -> Component<'a> {
        Component {
            id: g.id.as_deref().unwrap_or_default(),
            name: g.name.as_deref().unwrap_or_default(),
            status: g.status.as_str(),
            created_at: ts(&g.created_at),
            updated_at: ts(&g.updated_at),
            position: g.position,
            description: None,
            showcase: false,
            start_date: None,
            group_id: None,
            page_id: &self.view.page.id,
            group: true,
            only_show_if_degraded: false,
            components: Some(g.components.iter().map(|c| c.id.as_str()).collect()),
        }
    }

    fn component(&self, c: &'a ComponentView, g: &'a GroupView) -> Component<'a> {
        Component {
            id: &c.id,
            name: &c.name,
            status: c.status.as_str(),
            created_at: ts(&c.created_at),
            updated_at: ts(&c.updated_at),
            position: c.position,
            description: c.description.as_deref(),
            // Shown with its uptime bars on the page.
            showcase: true,
            start_date: Some(c.created_at.date_naive().format("%Y-%m-%d").to_string()),
            group_id: g.id.as_deref(),
            page_id: &self.view.page.id,
            group: false,
            only_show_if_degraded: false,
            components: None,
        }
    }

    fn component_by_id(&self, id: &str) -> Option<Component<'a>> {
        self.view.groups.iter().find_map(|g| {
            g.components
                .iter()
                .find(|c| c.id == id)
                .map(|c| self.component(c, g))
        })
    }

    fn incident(&self, i: &'a IncidentView) -> Incident<'a> {
        let page_id = self.view.page.id.as_str();
        let maintenance = i.kind == IncidentKind::Maintenance;
        Incident {
            id: &i.id,
            name: &i.name,
            status: i.status.as_str(),
            created_at: ts(&i.created_at),
            updated_at: ts(&i.updated_at),
            monitoring_at: ts_opt(&i.monitoring_at),
            resolved_at: ts_opt(&i.resolved_at),
            impact: i.impact.as_str(),
            shortlink: format!("{}#{}", self.view.page.url, i.id),
            started_at: ts(&i.started_at()),
            page_id,
            incident_updates: i
                .updates
                .iter()
                .map(|u| IncidentUpdate {
                    id: &u.id,
                    status: u.status.as_str(),
                    body: &u.body,
                    incident_id: &i.id,
                    created_at: ts(&u.created_at),
                    updated_at: ts(&u.created_at),
                    display_at: ts(&u.created_at),
                    affected_components: (!u.affected.is_empty()).then(|| {
                        u.affected
                            .iter()
                            .map(|a| AffectedComponent {
                                code: &a.id,
                                name: &a.name,
                                old_status: a.old_status.as_str(),
                                new_status: a.new_status.as_str(),
                            })
                            .collect()
                    }),
                    // No subscriber notifications are sent by Millwright.
                    deliver_notifications: false,
                    custom_tweet: None,
                    tweet_id: None,
                })
                .collect(),
            components: i
                .component_ids
                .iter()
                .filter_map(|id| self.component_by_id(id))
                .collect(),
            scheduled_for: maintenance.then(|| ts_opt(&i.scheduled_for)),
            scheduled_until: maintenance.then(|| ts_opt(&i.scheduled_until)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::fixture::sample;

    fn ids(v: &serde_json::Value) -> Vec<&str> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn each_document_has_its_statuspage_keys() {
        let view = sample();
        for (path, doc) in Document::ALL {
            let v = render(&view, doc);
            let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort();
            let want: &[&str] = match doc {
                Document::Summary => &[
                    "components",
                    "incidents",
                    "page",
                    "scheduled_maintenances",
                    "status",
                ],
                Document::Status => &["page", "status"],
                Document::Components => &["components", "page"],
                Document::Incidents | Document::UnresolvedIncidents => &["incidents", "page"],
                _ => &["page", "scheduled_maintenances"],
            };
            assert_eq!(keys, want, "{path}");
            assert_eq!(
                v["page"],
                serde_json::json!({
                    "id": "millwright",
                    "name": "status.example.com",
                    "url": "https://status.example.com/status",
                    "time_zone": "Etc/UTC",
                    "updated_at": "2026-11-27T11:00:00.000Z",
                })
            );
        }
    }

    #[test]
    fn lists_select_by_status() {
        let view = sample();
        let summary = render(&view, Document::Summary);
        assert_eq!(
            summary["status"],
            serde_json::json!({"indicator": "major", "description": "Partial System Outage"})
        );
        assert_eq!(ids(&summary["incidents"]), ["inc_open"]);
        assert_eq!(
            ids(&summary["scheduled_maintenances"]),
            ["mnt_next", "mnt_now"]
        );
        assert_eq!(
            ids(&render(&view, Document::Incidents)["incidents"]),
            ["inc_open", "inc_done"]
        );
        assert_eq!(
            ids(&render(&view, Document::UpcomingMaintenances)["scheduled_maintenances"]),
            ["mnt_next"]
        );
        assert_eq!(
            ids(&render(&view, Document::ActiveMaintenances)["scheduled_maintenances"]),
            ["mnt_now"]
        );
    }

    #[test]
    fn groups_are_components_listing_their_members() {
        let v = render(&sample(), Document::Components);
        let list = v["components"].as_array().unwrap();
        assert_eq!(
            ids(&v["components"]),
            [
                "group.platform",
                "api",
                "sync",
                "group.connectors",
                "connector.sap"
            ]
        );
        let platform = &list[0];
        assert_eq!(platform["group"], true);
        assert_eq!(platform["components"], serde_json::json!(["api", "sync"]));
        assert!(platform["group_id"].is_null());
        let api = &list[1];
        assert_eq!(api["group"], false);
        assert_eq!(api["group_id"], "group.platform");
        assert_eq!(api["page_id"], "millwright");
        assert_eq!(api["start_date"], "2026-11-01");
        assert_eq!(api["created_at"], "2026-11-01T00:00:00.000Z");
        assert!(api.get("components").is_none(), "only groups list members");
        assert_eq!(
            list[3]["status"], "partial_outage",
            "a group shows its worst"
        );
    }

    #[test]
    fn incidents_carry_updates_components_and_maintenance_windows() {
        let view = sample();
        let v = render(&view, Document::Incidents);
        let open = &v["incidents"][0];
        for key in ["monitoring_at", "resolved_at"] {
            assert!(open[key].is_null(), "{key}");
        }
        assert_eq!(
            open["shortlink"],
            "https://status.example.com/status#inc_open"
        );
        assert!(
            open.get("scheduled_for").is_none(),
            "incidents have no window"
        );
        assert_eq!(ids(&open["components"]), ["connector.sap"]);
        let updates = open["incident_updates"].as_array().unwrap();
        assert_eq!(
            ids(&open["incident_updates"]),
            ["inc_open_u2", "inc_open_u1"]
        );
        // The latest update named no component: null, as Statuspage writes it.
        assert!(updates[0]["affected_components"].is_null());
        assert_eq!(
            updates[1]["affected_components"],
            serde_json::json!([{
                "code": "connector.sap",
                "name": "SAP",
                "old_status": "operational",
                "new_status": "partial_outage",
            }])
        );
        assert_eq!(updates[1]["incident_id"], "inc_open");
        assert_eq!(updates[1]["deliver_notifications"], false);
        assert!(updates[1]["tweet_id"].is_null() && updates[1]["custom_tweet"].is_null());
        let done = &v["incidents"][1];
        assert_eq!(done["resolved_at"], "2026-11-25T10:05:00.000Z");

        let m = render(&view, Document::UpcomingMaintenances);
        let next = &m["scheduled_maintenances"][0];
        assert_eq!(next["scheduled_for"], "2026-11-28T22:00:00.000Z");
        assert_eq!(next["scheduled_until"], "2026-11-28T23:00:00.000Z");
        assert_eq!(next["started_at"], "2026-11-28T22:00:00.000Z");
        assert_eq!(next["impact"], "maintenance");
    }
}
