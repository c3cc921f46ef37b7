//! The HTML status page, rendered from a [`StatusView`] with the askama templates in
//! `templates/status/`. Everything the template prints is prepared here as plain strings, so
//! the template holds markup only.

use askama::Template;
use millwright_core::time::Timestamp;
use millwright_store::{ComponentStatus, Impact, IncidentKind, IncidentStatus};

use super::{
    assets,
    view::{
        status_label, ComponentView, DayBar, IncidentView, Indicator, StatusView, HISTORY_DAYS,
    },
};

/// The page. Fields are read by the template.
#[derive(Template)]
#[template(path = "status/page.html")]
pub struct PageTemplate {
    name: String,
    stylesheet: String,
    icon: String,
    /// `summary.json` of this page, advertised for feed readers and tooling.
    summary_url: String,
    banner_class: &'static str,
    banner_symbol: &'static str,
    banner_text: &'static str,
    active: Vec<IncidentRow>,
    maintenances: Vec<IncidentRow>,
    groups: Vec<GroupRow>,
    history: Vec<DayRow>,
    updated_text: String,
    updated_iso: String,
    history_days: usize,
}

/// The answer for an unknown or unpublished page (same for both, so existence is not told).
#[derive(Template)]
#[template(path = "status/not_found.html")]
pub struct NotFoundTemplate {
    stylesheet: String,
}

impl NotFoundTemplate {
    pub fn new() -> NotFoundTemplate {
        NotFoundTemplate {
            stylesheet: assets::stylesheet_url(),
        }
    }
}

impl Default for NotFoundTemplate {
    fn default() -> Self {
        NotFoundTemplate::new()
    }
}

struct GroupRow {
    heading_id: String,
    name: String,
    status_class: &'static str,
    status_label: &'static str,
    components: Vec<ComponentRow>,
}

struct ComponentRow {
    name: String,
    description: Option<String>,
    detail: Option<String>,
    status_class: &'static str,
    status_symbol: &'static str,
    label: &'static str,
    bars_label: String,
    bars: Vec<BarRow>,
    uptime_text: String,
}

struct BarRow {
    class: &'static str,
    text: String,
}

struct IncidentRow {
    id: String,
    name: String,
    status_label: &'static str,
    impact_class: &'static str,
    impact_label: &'static str,
    schedule: Option<String>,
    affected: Option<String>,
    updates: Vec<UpdateRow>,
}

struct UpdateRow {
    status_label: &'static str,
    body: String,
    when_text: String,
    when_iso: String,
}

struct DayRow {
    day_text: String,
    items: Vec<IncidentRow>,
}

/// CSS class of a component status (also used for the bars).
fn status_class(s: ComponentStatus) -> &'static str {
    match s {
        ComponentStatus::Operational => "operational",
        ComponentStatus::UnderMaintenance => "maintenance",
        ComponentStatus::DegradedPerformance => "degraded",
        ComponentStatus::PartialOutage => "partial",
        ComponentStatus::MajorOutage => "major",
    }
}

/// A symbol beside each status, so colour is never the only signal.
fn status_symbol(s: ComponentStatus) -> &'static str {
    match s {
        ComponentStatus::Operational => "✓",
        ComponentStatus::UnderMaintenance => "i",
        ComponentStatus::DegradedPerformance | ComponentStatus::PartialOutage => "!",
        ComponentStatus::MajorOutage => "×",
    }
}

fn incident_status_label(s: IncidentStatus) -> &'static str {
    match s {
        IncidentStatus::Investigating => "Investigating",
        IncidentStatus::Identified => "Identified",
        IncidentStatus::Monitoring => "Monitoring",
        IncidentStatus::Resolved => "Resolved",
        IncidentStatus::Postmortem => "Postmortem",
        IncidentStatus::Scheduled => "Scheduled",
        IncidentStatus::InProgress => "In progress",
        IncidentStatus::Verifying => "Verifying",
        IncidentStatus::Completed => "Completed",
    }
}

fn impact_label(kind: IncidentKind, i: Impact) -> (&'static str, &'static str) {
    if kind == IncidentKind::Maintenance {
        return ("maintenance", "Maintenance");
    }
    match i {
        Impact::None => ("none", "No impact"),
        Impact::Minor => ("minor", "Minor impact"),
        Impact::Major => ("major", "Major impact"),
        Impact::Critical => ("critical", "Critical impact"),
        Impact::Maintenance => ("maintenance", "Maintenance"),
    }
}

fn when(t: &Timestamp) -> String {
    t.format("%b %-d, %Y %H:%M UTC").to_string()
}

fn day_text(d: chrono::NaiveDate) -> String {
    d.format("%b %-d, %Y").to_string()
}

impl PageTemplate {
    /// Prepares the page of `view`; `summary_url` is the path of its `summary.json`.
    pub fn new(view: &StatusView, summary_url: String) -> PageTemplate {
        let (banner_class, banner_symbol) = match view.overall.indicator {
            Indicator::None if view.overall.maintenance => ("maintenance", "i"),
            Indicator::None => ("none", "✓"),
            Indicator::Minor => ("minor", "!"),
            Indicator::Major => ("major", "!"),
            Indicator::Critical => ("critical", "×"),
        };
        let mut maintenances: Vec<&IncidentView> = view
            .active_maintenances()
            .chain(view.upcoming_maintenances())
            .collect();
        // Soonest first: what happens next matters most.
        maintenances.sort_by_key(|m| m.started_at());
        PageTemplate {
            name: view.page.name.clone(),
            stylesheet: assets::stylesheet_url(),
            icon: assets::icon_url(),
            summary_url,
            banner_class,
            banner_symbol,
            banner_text: view.overall.description(),
            active: view
                .unresolved_incidents()
                .map(|i| incident_row(view, i))
                .collect(),
            maintenances: maintenances
                .into_iter()
                .map(|i| incident_row(view, i))
                .collect(),
            groups: view
                .groups
                .iter()
                .enumerate()
                .map(|(n, g)| GroupRow {
                    heading_id: format!("group-{n}"),
                    name: g.name.clone().unwrap_or_else(|| "Components".into()),
                    status_class: status_class(g.status),
                    status_label: status_label(g.status),
                    components: g.components.iter().map(component_row).collect(),
                })
                .collect(),
            // Only days with something to tell, so a quiet fortnight is one line.
            history: view
                .history()
                .into_iter()
                .filter(|(_, items)| !items.is_empty())
                .map(|(day, items)| DayRow {
                    day_text: day_text(day),
                    items: items.into_iter().map(|i| incident_row(view, i)).collect(),
                })
                .collect(),
            history_days: HISTORY_DAYS,
            updated_text: when(&view.now),
            updated_iso: view.now.to_rfc3339(),
        }
    }
}

fn component_row(c: &ComponentView) -> ComponentRow {
    let (bars, percent) = match &c.uptime {
        Some(u) => (u.bars.iter().map(bar_row).collect(), u.percent),
        None => (Vec::new(), None),
    };
    let uptime_text = match percent {
        Some(p) => format!("{p} uptime"),
        None => "No data yet".to_string(),
    };
    ComponentRow {
        bars_label: format!(
            "{}: daily uptime over the past 90 days, {uptime_text}",
            c.name
        ),
        name: c.name.clone(),
        description: c.description.clone(),
        detail: c.detail.clone(),
        status_class: status_class(c.status),
        status_symbol: status_symbol(c.status),
        label: c.label,
        bars,
        uptime_text,
    }
}

fn bar_row(b: &DayBar) -> BarRow {
    match &b.figures {
        Some(f) => {
            let percent = f
                .percent()
                .map(|p| format!("{p} uptime"))
                .unwrap_or_else(|| "no data".into());
            BarRow {
                class: status_class(f.worst),
                text: format!(
                    "{}: {percent}, worst status {}",
                    day_text(b.day),
                    status_label(f.worst).to_lowercase()
                ),
            }
        }
        None => BarRow {
            class: "nodata",
            text: format!("{}: no data", day_text(b.day)),
        },
    }
}

fn incident_row(view: &StatusView, i: &IncidentView) -> IncidentRow {
    let (impact_class, impact_label) = impact_label(i.kind, i.impact);
    let affected: Vec<&str> = i
        .component_ids
        .iter()
        .filter_map(|id| view.component(id).map(|c| c.name.as_str()))
        .collect();
    let schedule = match (i.scheduled_for, i.scheduled_until) {
        (Some(from), Some(until)) => Some(format!("Scheduled {} – {}", when(&from), when(&until))),
        (Some(from), None) => Some(format!("Scheduled from {}", when(&from))),
        _ => None,
    };
    IncidentRow {
        id: i.id.clone(),
        name: i.name.clone(),
        status_label: incident_status_label(i.status),
        impact_class,
        impact_label,
        schedule,
        affected: (!affected.is_empty()).then(|| affected.join(", ")),
        updates: i
            .updates
            .iter()
            .map(|u| UpdateRow {
                status_label: incident_status_label(u.status),
                body: u.body.clone(),
                when_text: when(&u.created_at),
                when_iso: u.created_at.to_rfc3339(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::fixture::sample;

    fn render() -> String {
        PageTemplate::new(&sample(), "/status/api/v2/summary.json".into())
            .render()
            .unwrap()
    }

    #[test]
    fn the_page_shows_status_components_bars_and_incidents() {
        let page = render();
        assert!(page.contains("<title>status.example.com Status</title>"));
        assert!(page.contains("banner-major"));
        assert!(page.contains("Partial System Outage"));
        for h in [
            "Current incidents",
            "Scheduled maintenance",
            "Components",
            "Past incidents",
        ] {
            assert!(page.contains(&format!(">{h}</h2>")), "{h}");
        }
        // 90 bars per component, today's coloured by its worst status and labelled in words.
        assert_eq!(page.matches("<li class=\"bar ").count(), 3 * 90);
        assert_eq!(page.matches("class=\"bar bar-nodata\"").count(), 3 * 89);
        assert!(page.contains("class=\"bar bar-partial\" title=\"Nov 27, 2026: 90.00% uptime, worst status partial outage\""));
        assert!(page.contains("Nov 26, 2026: no data"));
        assert!(page.contains("90.00% uptime"));
        // Incidents with their updates; the resolved one under its day.
        assert!(page.contains("id=\"inc_open\""));
        assert!(page.contains("inc_open second &#38; last"));
        assert!(page.contains("Affected: SAP"));
        assert!(page.contains(">Nov 25, 2026</h3>"));
        assert!(page.contains("Scheduled Nov 28, 2026 22:00 UTC – Nov 28, 2026 23:00 UTC"));
    }

    #[test]
    fn text_is_escaped_and_nothing_is_inline() {
        let page = render();
        assert!(!page.contains("<name>") && !page.contains("<described>"));
        assert!(!page.contains("<script") && !page.contains("<style") && !page.contains(" style="));
    }

    #[test]
    fn maintenance_is_listed_soonest_first() {
        let page = render();
        let now = page.find("id=\"mnt_now\"").unwrap();
        let next = page.find("id=\"mnt_next\"").unwrap();
        assert!(now < next);
    }

    #[test]
    fn not_found_page_renders() {
        let page = NotFoundTemplate::new().render().unwrap();
        assert!(page.contains("Status page not found"));
    }
}
