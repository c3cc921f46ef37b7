//! The computed status view: everything one status page shows, read once from the store and
//! then rendered both as HTML and as Statuspage v2 JSON, so the two can never disagree.
//!
//! The pure rules live here and are unit-tested: the overall indicator rollup ([`rollup`]), the
//! colour of a day ([`DayFigures`]), and the uptime figures ([`uptime`], [`Percent`]).

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate};
use millwright_core::{status::ConnectionStatus, time::Timestamp};
use millwright_store::{
    ComponentDay, ComponentStatus, Connection, Impact, Incident, IncidentKind, IncidentStatus,
    ProbeDay,
};

/// Days shown on an uptime bar, today included.
pub const UPTIME_DAYS: usize = 90;
/// Days of past incidents listed on the page, today included.
pub const HISTORY_DAYS: usize = 14;
/// Prefix of the ids the health evaluator gives to per-connector components
/// (`connector.maintainx`), used to find the platform incidents that concern a workspace.
pub const CONNECTOR_COMPONENT_PREFIX: &str = "connector.";

/// Statuspage v2 `status.indicator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Indicator {
    None,
    Minor,
    Major,
    Critical,
}

impl Indicator {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Indicator::None => "none",
            Indicator::Minor => "minor",
            Indicator::Major => "major",
            Indicator::Critical => "critical",
        }
    }

    /// What a component in `status` says about the whole page (Statuspage's mapping).
    pub fn of_component(status: ComponentStatus) -> Indicator {
        match status {
            ComponentStatus::Operational | ComponentStatus::UnderMaintenance => Indicator::None,
            ComponentStatus::DegradedPerformance => Indicator::Minor,
            ComponentStatus::PartialOutage => Indicator::Major,
            ComponentStatus::MajorOutage => Indicator::Critical,
        }
    }

    /// What an unresolved incident of this impact says about the whole page.
    pub fn of_impact(impact: Impact) -> Indicator {
        match impact {
            Impact::None | Impact::Maintenance => Indicator::None,
            Impact::Minor => Indicator::Minor,
            Impact::Major => Indicator::Major,
            Impact::Critical => Indicator::Critical,
        }
    }
}

/// The overall status of a page: `status{indicator, description}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overall {
    pub indicator: Indicator,
    /// A component is under maintenance or a maintenance is in progress. The contract keeps
    /// `indicator` to `none|minor|major|critical`, so maintenance shows only in the description.
    pub maintenance: bool,
}

impl Overall {
    /// Statuspage's wording.
    pub fn description(&self) -> &'static str {
        match self.indicator {
            Indicator::Critical => "Major System Outage",
            Indicator::Major => "Partial System Outage",
            Indicator::Minor => "Minor Service Outage",
            Indicator::None if self.maintenance => "Service Under Maintenance",
            Indicator::None => "All Systems Operational",
        }
    }
}

/// What an incident or maintenance contributes to the rollup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Active {
    pub kind: IncidentKind,
    pub status: IncidentStatus,
    pub impact: Impact,
}

/// The overall status: the worst of the components' statuses and of the unresolved incidents'
/// impacts. An in-progress maintenance (or a component under maintenance) only changes the
/// description, and only while nothing is worse; upcoming and closed items count for nothing.
pub fn rollup(
    components: impl IntoIterator<Item = ComponentStatus>,
    items: impl IntoIterator<Item = Active>,
) -> Overall {
    let mut overall = Overall {
        indicator: Indicator::None,
        maintenance: false,
    };
    for status in components {
        overall.indicator = overall.indicator.max(Indicator::of_component(status));
        overall.maintenance |= status == ComponentStatus::UnderMaintenance;
    }
    for item in items {
        if item.status.is_closed() {
            continue;
        }
        match item.kind {
            IncidentKind::Incident => {
                overall.indicator = overall.indicator.max(Indicator::of_impact(item.impact));
                overall.maintenance |= item.impact == Impact::Maintenance;
            }
            IncidentKind::Maintenance => {
                overall.maintenance |= matches!(
                    item.status,
                    IncidentStatus::InProgress | IncidentStatus::Verifying
                );
            }
        }
    }
    overall
}

/// Statuspage's label of a component status.
pub fn status_label(status: ComponentStatus) -> &'static str {
    match status {
        ComponentStatus::Operational => "Operational",
        ComponentStatus::UnderMaintenance => "Under Maintenance",
        ComponentStatus::DegradedPerformance => "Degraded Performance",
        ComponentStatus::PartialOutage => "Partial Outage",
        ComponentStatus::MajorOutage => "Major Outage",
    }
}

/// A share in hundredths of a percent (`9_995` = 99.95 %), rounded down so that a single
/// failure never shows as 100.00 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Percent(pub u32);

impl Percent {
    /// `up / observed`, or `None` when nothing was observed.
    pub fn of(up: i64, observed: i64) -> Option<Percent> {
        if observed <= 0 {
            return None;
        }
        let up = up.clamp(0, observed) as i128;
        Some(Percent((up * 10_000 / observed as i128) as u32))
    }
}

impl std::fmt::Display for Percent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:02}%", self.0 / 100, self.0 % 100)
    }
}

/// One observed day: how much of it was "up" (seconds, or probes), out of how much observed,
/// and the worst status seen, which colours the day's bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayFigures {
    pub day: NaiveDate,
    pub up: i64,
    pub observed: i64,
    pub worst: ComponentStatus,
}

impl DayFigures {
    /// A platform or connector component's day: up = operational + maintenance seconds (planned
    /// work is not downtime); `None` when no second was observed.
    pub fn from_component_day(d: &ComponentDay) -> Option<DayFigures> {
        let buckets = [
            (ComponentStatus::MajorOutage, d.major_outage_seconds),
            (ComponentStatus::PartialOutage, d.partial_outage_seconds),
            (ComponentStatus::DegradedPerformance, d.degraded_seconds),
            (ComponentStatus::UnderMaintenance, d.maintenance_seconds),
            (ComponentStatus::Operational, d.operational_seconds),
        ];
        let worst = buckets.iter().find(|(_, s)| *s > 0)?.0;
        let observed = buckets.iter().map(|(_, s)| (*s).max(0)).sum();
        Some(DayFigures {
            day: d.day,
            up: d.operational_seconds.max(0) + d.maintenance_seconds.max(0),
            observed,
            worst,
        })
    }

    /// A connection's day from its probes: up = successful probes. Every probe failed: a major
    /// outage; some failed: a partial one. `None` without probes.
    pub fn from_probe_day(d: &ProbeDay) -> Option<DayFigures> {
        if d.probes <= 0 {
            return None;
        }
        let ok = d.ok.clamp(0, d.probes);
        let worst = if ok == d.probes {
            ComponentStatus::Operational
        } else if ok == 0 {
            ComponentStatus::MajorOutage
        } else {
            ComponentStatus::PartialOutage
        };
        Some(DayFigures {
            day: d.day,
            up: ok,
            observed: d.probes,
            worst,
        })
    }

    /// The day's uptime.
    pub fn percent(&self) -> Option<Percent> {
        Percent::of(self.up, self.observed)
    }
}

/// One bar: a day, with its figures or none ("no data").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayBar {
    pub day: NaiveDate,
    pub figures: Option<DayFigures>,
}

/// The uptime bars of a component, oldest first, and the share over the whole window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uptime {
    pub bars: Vec<DayBar>,
    /// Up over observed across the window; `None` when no day has data.
    pub percent: Option<Percent>,
}

/// The [`UPTIME_DAYS`] bars ending `today`. Days outside the window are ignored; two entries for
/// one day are merged.
pub fn uptime(days: impl IntoIterator<Item = DayFigures>, today: NaiveDate) -> Uptime {
    let first = window_start(today);
    let mut by_day: HashMap<NaiveDate, DayFigures> = HashMap::new();
    for d in days {
        if d.day < first || d.day > today {
            continue;
        }
        by_day
            .entry(d.day)
            .and_modify(|e| {
                e.up += d.up;
                e.observed += d.observed;
                e.worst = e.worst.max(d.worst);
            })
            .or_insert(d);
    }
    let (up, observed) = by_day
        .values()
        .fold((0, 0), |(u, o), d| (u + d.up, o + d.observed));
    let bars = (0..UPTIME_DAYS as i64)
        .map(|i| {
            let day = first + Duration::days(i);
            DayBar {
                day,
                figures: by_day.get(&day).copied(),
            }
        })
        .collect();
    Uptime {
        bars,
        percent: Percent::of(up, observed),
    }
}

/// The first day of the uptime window ending `today`.
pub fn window_start(today: NaiveDate) -> NaiveDate {
    today - Duration::days(UPTIME_DAYS as i64 - 1)
}

/// Who the page is.
#[derive(Debug, Clone, PartialEq)]
pub struct PageInfo {
    pub id: String,
    pub name: String,
    /// Absolute URL of the HTML page.
    pub url: String,
    pub time_zone: &'static str,
    pub updated_at: Timestamp,
}

/// A component as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub status: ComponentStatus,
    /// The status in words; normally [`status_label`], more specific where the page knows why
    /// ("Needs reauthorization").
    pub label: &'static str,
    /// A few words on the last evaluation ("3 of 10 connections offline").
    pub detail: Option<String>,
    pub position: i64,
    /// The group's name (`"Platform"`, `"Connectors"`, `"Connections"`), if any.
    pub group: Option<String>,
    /// The connector a connection component belongs to (workspace pages), so that platform
    /// incidents about that connector can point at it.
    pub connector: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Filled only for the HTML page, which is the only one showing it.
    pub uptime: Option<Uptime>,
}

/// A group of components (Statuspage: a component with `group: true`), or the ungrouped ones
/// (`id: None`).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupView {
    pub id: Option<String>,
    pub name: Option<String>,
    /// The worst status of its components.
    pub status: ComponentStatus,
    pub position: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub components: Vec<ComponentView>,
}

/// A component touched by an incident update, with the status the incident implied for it
/// before and after the update.
#[derive(Debug, Clone, PartialEq)]
pub struct AffectedComponent {
    pub id: String,
    pub name: String,
    pub old_status: ComponentStatus,
    pub new_status: ComponentStatus,
}

/// One update of an incident, as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateView {
    pub id: String,
    pub status: IncidentStatus,
    pub body: String,
    pub created_at: Timestamp,
    pub affected: Vec<AffectedComponent>,
}

/// An incident or maintenance as shown; its component ids are those of this page.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentView {
    pub id: String,
    pub kind: IncidentKind,
    pub name: String,
    pub status: IncidentStatus,
    pub impact: Impact,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub monitoring_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub scheduled_for: Option<Timestamp>,
    pub scheduled_until: Option<Timestamp>,
    pub component_ids: Vec<String>,
    /// Newest first.
    pub updates: Vec<UpdateView>,
}

impl IncidentView {
    /// Not yet over.
    pub fn is_open(&self) -> bool {
        !self.status.is_closed()
    }

    /// When it began: the planned start of a maintenance, the creation of an incident.
    pub fn started_at(&self) -> Timestamp {
        match self.kind {
            IncidentKind::Maintenance => self.scheduled_for.unwrap_or(self.created_at),
            IncidentKind::Incident => self.created_at,
        }
    }

    fn active(&self) -> Active {
        Active {
            kind: self.kind,
            status: self.status,
            impact: self.impact,
        }
    }
}

/// Everything one status page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusView {
    pub page: PageInfo,
    pub overall: Overall,
    pub groups: Vec<GroupView>,
    /// Incidents, newest first: the 50 most recent and every unresolved one.
    pub incidents: Vec<IncidentView>,
    /// Scheduled maintenances, newest first: the 50 most recent and every unfinished one.
    pub maintenances: Vec<IncidentView>,
    pub now: Timestamp,
}

impl StatusView {
    /// Every component, group by group.
    pub fn components(&self) -> impl Iterator<Item = &ComponentView> {
        self.groups.iter().flat_map(|g| g.components.iter())
    }

    /// The component with this id, if the page shows it.
    pub fn component(&self, id: &str) -> Option<&ComponentView> {
        self.components().find(|c| c.id == id)
    }

    /// Incidents in `investigating`, `identified` or `monitoring`.
    pub fn unresolved_incidents(&self) -> impl Iterator<Item = &IncidentView> {
        self.incidents.iter().filter(|i| i.is_open())
    }

    /// Maintenances not started yet.
    pub fn upcoming_maintenances(&self) -> impl Iterator<Item = &IncidentView> {
        self.maintenances
            .iter()
            .filter(|m| m.status == IncidentStatus::Scheduled)
    }

    /// Maintenances in progress or being verified.
    pub fn active_maintenances(&self) -> impl Iterator<Item = &IncidentView> {
        self.maintenances.iter().filter(|m| {
            matches!(
                m.status,
                IncidentStatus::InProgress | IncidentStatus::Verifying
            )
        })
    }

    /// The past [`HISTORY_DAYS`] days, newest first, each with the closed incidents and
    /// completed maintenances that began on it (newest first).
    pub fn history(&self) -> Vec<(NaiveDate, Vec<&IncidentView>)> {
        let today = self.now.date_naive();
        let mut days: BTreeMap<NaiveDate, Vec<&IncidentView>> = (0..HISTORY_DAYS as i64)
            .map(|i| (today - Duration::days(i), Vec::new()))
            .collect();
        for item in self.incidents.iter().chain(&self.maintenances) {
            if item.is_open() {
                continue;
            }
            if let Some(list) = days.get_mut(&item.started_at().date_naive()) {
                list.push(item);
            }
        }
        days.into_iter()
            .rev()
            .map(|(day, mut items)| {
                items.sort_by_key(|i| std::cmp::Reverse(i.started_at()));
                (day, items)
            })
            .collect()
    }
}

/// How a connection shows on its workspace's page: its component status and the words for it.
/// Disconnected connections are not shown (`None`).
pub fn connection_status(status: ConnectionStatus) -> Option<(ComponentStatus, &'static str)> {
    match status {
        ConnectionStatus::Pending | ConnectionStatus::Syncing | ConnectionStatus::Active => {
            Some((ComponentStatus::Operational, "Operational"))
        }
        ConnectionStatus::Offline => Some((ComponentStatus::MajorOutage, "Offline")),
        ConnectionStatus::RequiresReauthorization => {
            Some((ComponentStatus::PartialOutage, "Needs reauthorization"))
        }
        ConnectionStatus::Disconnected => None,
    }
}

/// A workspace page's component for one connection (`None` when disconnected).
/// `connector_name` is the catalog's name of its connector.
pub fn connection_component(
    c: &Connection,
    connector_name: &str,
    position: i64,
) -> Option<ComponentView> {
    let (status, label) = connection_status(c.status)?;
    // Names often carry the system already ("Plant 4 (MaintainX)"); say it once.
    let lower = c.name.to_lowercase();
    let name = if lower.contains(&connector_name.to_lowercase())
        || lower.contains(&c.connector.to_lowercase())
    {
        c.name.clone()
    } else {
        format!("{} ({connector_name})", c.name)
    };
    Some(ComponentView {
        id: c.id.clone(),
        name,
        description: Some(format!("{connector_name} connection")),
        status,
        label,
        detail: (c.status == ConnectionStatus::RequiresReauthorization).then(|| {
            "The system rejects the stored credentials; the connection must be reauthorized."
                .to_string()
        }),
        position,
        group: Some("Connections".to_string()),
        connector: Some(c.connector.clone()),
        created_at: c.created_at,
        updated_at: c.updated_at,
        uptime: None,
    })
}

/// The status an incident implied for its components at an update, for
/// `affected_components`: closed or not yet started means operational, an ongoing maintenance
/// under maintenance, an incident its impact's status.
pub fn implied_status(
    kind: IncidentKind,
    status: IncidentStatus,
    impact: Impact,
) -> ComponentStatus {
    if status.is_closed() {
        return ComponentStatus::Operational;
    }
    match (kind, status) {
        (IncidentKind::Maintenance, IncidentStatus::Scheduled) => ComponentStatus::Operational,
        (IncidentKind::Maintenance, _) => ComponentStatus::UnderMaintenance,
        (IncidentKind::Incident, _) => match impact {
            Impact::None => ComponentStatus::Operational,
            Impact::Minor => ComponentStatus::DegradedPerformance,
            Impact::Major => ComponentStatus::PartialOutage,
            Impact::Critical => ComponentStatus::MajorOutage,
            Impact::Maintenance => ComponentStatus::UnderMaintenance,
        },
    }
}

/// The id Statuspage consumers see for a group: `group.` + its name in lower case, with
/// anything but letters and digits as `-`.
pub fn group_id(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("group.{slug}")
}

/// Builds the view from what the store gave. `components` in display order within a group;
/// groups are ordered by their lowest position. `resolve` maps a stored
/// component id to this page's component ids (identity on the platform page; a connector's id
/// to that workspace's connections of the connector on a workspace page).
pub fn assemble(
    page: PageInfo,
    components: Vec<ComponentView>,
    incidents: Vec<Incident>,
    resolve: impl Fn(&str) -> Vec<String>,
    now: Timestamp,
) -> StatusView {
    let mut groups: Vec<GroupView> = Vec::new();
    for c in components {
        let key = c.group.clone();
        let index = match groups.iter().position(|g| g.name == key) {
            Some(i) => i,
            None => {
                groups.push(GroupView {
                    id: key.as_deref().map(group_id),
                    name: key,
                    status: c.status,
                    position: c.position,
                    created_at: c.created_at,
                    updated_at: c.updated_at,
                    components: Vec::new(),
                });
                groups.len() - 1
            }
        };
        let g = &mut groups[index];
        g.status = g.status.max(c.status);
        g.position = g.position.min(c.position);
        g.created_at = g.created_at.min(c.created_at);
        g.updated_at = g.updated_at.max(c.updated_at);
        g.components.push(c);
    }
    groups.sort_by_key(|g| g.position);
    for g in &mut groups {
        g.components
            .sort_by(|a, b| (a.position, &a.id).cmp(&(b.position, &b.id)));
    }

    let names: HashMap<String, String> = groups
        .iter()
        .flat_map(|g| g.components.iter())
        .map(|c| (c.id.clone(), c.name.clone()))
        .collect();
    let resolve_all = |ids: &[String]| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for id in ids {
            for r in resolve(id) {
                if names.contains_key(&r) && !out.contains(&r) {
                    out.push(r);
                }
            }
        }
        out
    };

    let mut seen = std::collections::HashSet::new();
    let mut items: Vec<IncidentView> = Vec::new();
    for inc in incidents {
        if !seen.insert(inc.id.clone()) {
            continue;
        }
        let component_ids = resolve_all(&inc.component_ids);
        // Oldest first, so that each update's "old" status is the one the previous implied.
        let mut previous: HashMap<String, ComponentStatus> = HashMap::new();
        let mut updates: Vec<UpdateView> = Vec::new();
        let mut chronological = inc.updates.clone();
        chronological.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        for u in chronological {
            let new_status = implied_status(inc.kind, u.status, inc.impact);
            let affected = resolve_all(&u.affected_components)
                .into_iter()
                .map(|id| {
                    let old_status = previous
                        .insert(id.clone(), new_status)
                        .unwrap_or(ComponentStatus::Operational);
                    AffectedComponent {
                        name: names.get(&id).cloned().unwrap_or_else(|| id.clone()),
                        id,
                        old_status,
                        new_status,
                    }
                })
                .collect();
            updates.push(UpdateView {
                id: u.id,
                status: u.status,
                body: u.body,
                created_at: u.created_at,
                affected,
            });
        }
        updates.reverse();
        items.push(IncidentView {
            id: inc.id,
            kind: inc.kind,
            name: inc.name,
            status: inc.status,
            impact: inc.impact,
            created_at: inc.created_at,
            updated_at: inc.updated_at,
            monitoring_at: inc.monitoring_at,
            resolved_at: inc.resolved_at,
            scheduled_for: inc.scheduled_for,
            scheduled_until: inc.scheduled_until,
            component_ids,
            updates,
        });
    }
    items.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    let (maintenances, incidents): (Vec<_>, Vec<_>) = items
        .into_iter()
        .partition(|i| i.kind == IncidentKind::Maintenance);

    let overall = rollup(
        groups
            .iter()
            .flat_map(|g| g.components.iter().map(|c| c.status)),
        incidents
            .iter()
            .chain(&maintenances)
            .map(IncidentView::active),
    );
    let mut page = page;
    if let Some(latest) = groups
        .iter()
        .map(|g| g.updated_at)
        .chain(incidents.iter().chain(&maintenances).map(|i| i.updated_at))
        .max()
    {
        page.updated_at = page.updated_at.max(latest);
    }
    StatusView {
        page,
        overall,
        groups,
        incidents,
        maintenances,
        now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use millwright_store::IncidentUpdate;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        millwright_core::time::parse(s).unwrap()
    }

    fn active(kind: IncidentKind, status: IncidentStatus, impact: Impact) -> Active {
        Active {
            kind,
            status,
            impact,
        }
    }

    #[test]
    fn rollup_takes_the_worst_component_and_open_incident() {
        use ComponentStatus::*;
        let o = rollup([Operational, Operational], []);
        assert_eq!(o.indicator, Indicator::None);
        assert_eq!(o.description(), "All Systems Operational");

        let o = rollup([Operational, DegradedPerformance], []);
        assert_eq!(
            (o.indicator, o.description()),
            (Indicator::Minor, "Minor Service Outage")
        );
        let o = rollup([PartialOutage, DegradedPerformance], []);
        assert_eq!(
            (o.indicator, o.description()),
            (Indicator::Major, "Partial System Outage")
        );
        let o = rollup([PartialOutage, MajorOutage, Operational], []);
        assert_eq!(
            (o.indicator, o.description()),
            (Indicator::Critical, "Major System Outage")
        );

        // An open incident raises the page above its components; a resolved one does not.
        let o = rollup(
            [Operational],
            [active(
                IncidentKind::Incident,
                IncidentStatus::Identified,
                Impact::Major,
            )],
        );
        assert_eq!(o.indicator, Indicator::Major);
        let o = rollup(
            [DegradedPerformance],
            [active(
                IncidentKind::Incident,
                IncidentStatus::Resolved,
                Impact::Critical,
            )],
        );
        assert_eq!(o.indicator, Indicator::Minor);
        // A component worse than the incident's impact still wins.
        let o = rollup(
            [MajorOutage],
            [active(
                IncidentKind::Incident,
                IncidentStatus::Monitoring,
                Impact::Minor,
            )],
        );
        assert_eq!(o.indicator, Indicator::Critical);
    }

    #[test]
    fn maintenance_shows_only_when_nothing_is_worse() {
        use ComponentStatus::*;
        let o = rollup([UnderMaintenance, Operational], []);
        assert_eq!(
            (o.indicator, o.description()),
            (Indicator::None, "Service Under Maintenance")
        );
        let in_progress = active(
            IncidentKind::Maintenance,
            IncidentStatus::InProgress,
            Impact::Maintenance,
        );
        let o = rollup([Operational], [in_progress]);
        assert_eq!(o.description(), "Service Under Maintenance");
        // Upcoming and completed maintenances change nothing.
        for status in [IncidentStatus::Scheduled, IncidentStatus::Completed] {
            let o = rollup(
                [Operational],
                [active(
                    IncidentKind::Maintenance,
                    status,
                    Impact::Maintenance,
                )],
            );
            assert_eq!(o.description(), "All Systems Operational", "{status:?}");
        }
        // An outage during maintenance is the outage.
        let o = rollup([PartialOutage], [in_progress]);
        assert_eq!(o.description(), "Partial System Outage");
    }

    #[test]
    fn percent_rounds_down_and_formats_two_decimals() {
        assert_eq!(Percent::of(10, 10).unwrap().to_string(), "100.00%");
        assert_eq!(Percent::of(99_999, 100_000).unwrap().to_string(), "99.99%");
        assert_eq!(Percent::of(1, 3).unwrap().to_string(), "33.33%");
        assert_eq!(Percent::of(0, 5).unwrap().to_string(), "0.00%");
        assert_eq!(Percent::of(7, 100).unwrap().to_string(), "7.00%");
        assert_eq!(Percent::of(0, 0), None);
    }

    fn cday(d: &str, op: i64, maint: i64, deg: i64, part: i64, major: i64) -> ComponentDay {
        ComponentDay {
            component_id: "api".into(),
            day: day(d),
            operational_seconds: op,
            maintenance_seconds: maint,
            degraded_seconds: deg,
            partial_outage_seconds: part,
            major_outage_seconds: major,
        }
    }

    #[test]
    fn a_day_is_coloured_by_its_worst_status() {
        let f = DayFigures::from_component_day(&cday("2026-11-01", 86_000, 0, 0, 0, 400)).unwrap();
        assert_eq!(f.worst, ComponentStatus::MajorOutage);
        assert_eq!((f.up, f.observed), (86_000, 86_400));
        let f = DayFigures::from_component_day(&cday("2026-11-01", 100, 50, 10, 0, 0)).unwrap();
        assert_eq!(f.worst, ComponentStatus::DegradedPerformance);
        // Maintenance counts as up.
        assert_eq!((f.up, f.observed), (150, 160));
        let f = DayFigures::from_component_day(&cday("2026-11-01", 100, 50, 0, 0, 0)).unwrap();
        assert_eq!(f.worst, ComponentStatus::UnderMaintenance);
        let f = DayFigures::from_component_day(&cday("2026-11-01", 100, 0, 0, 0, 0)).unwrap();
        assert_eq!(f.worst, ComponentStatus::Operational);
        assert_eq!(f.percent().unwrap().to_string(), "100.00%");
        assert_eq!(
            DayFigures::from_component_day(&cday("2026-11-01", 0, 0, 0, 0, 0)),
            None
        );
    }

    #[test]
    fn a_probe_day_is_coloured_by_its_failures() {
        let p = |probes, ok| ProbeDay {
            day: day("2026-11-01"),
            probes,
            ok,
            avg_latency_ms: None,
        };
        assert_eq!(
            DayFigures::from_probe_day(&p(288, 288)).unwrap().worst,
            ComponentStatus::Operational
        );
        let f = DayFigures::from_probe_day(&p(288, 144)).unwrap();
        assert_eq!(f.worst, ComponentStatus::PartialOutage);
        assert_eq!(f.percent().unwrap().to_string(), "50.00%");
        assert_eq!(
            DayFigures::from_probe_day(&p(10, 0)).unwrap().worst,
            ComponentStatus::MajorOutage
        );
        assert_eq!(DayFigures::from_probe_day(&p(0, 0)), None);
    }

    #[test]
    fn uptime_has_ninety_bars_with_gaps_as_no_data() {
        let today = day("2026-11-27");
        let figures = |d: &str, up, observed, worst| DayFigures {
            day: day(d),
            up,
            observed,
            worst,
        };
        let u = uptime(
            [
                figures("2026-11-27", 80, 100, ComponentStatus::PartialOutage),
                figures("2026-11-20", 100, 100, ComponentStatus::Operational),
                // Outside the window: ignored.
                figures("2026-08-01", 0, 1_000, ComponentStatus::MajorOutage),
            ],
            today,
        );
        assert_eq!(u.bars.len(), UPTIME_DAYS);
        assert_eq!(u.bars[0].day, day("2026-08-30"));
        assert_eq!(u.bars[89].day, today);
        assert_eq!(
            u.bars[89].figures.unwrap().worst,
            ComponentStatus::PartialOutage
        );
        assert_eq!(u.bars.iter().filter(|b| b.figures.is_some()).count(), 2);
        assert!(u.bars[88].figures.is_none());
        // 180 up of 200 observed: the days without data do not count.
        assert_eq!(u.percent, Some(Percent(9_000)));

        let empty = uptime([], today);
        assert_eq!(empty.percent, None);
        assert!(empty.bars.iter().all(|b| b.figures.is_none()));
    }

    fn component(id: &str, group: &str, position: i64, status: ComponentStatus) -> ComponentView {
        ComponentView {
            id: id.into(),
            name: id.to_uppercase(),
            description: None,
            status,
            label: status_label(status),
            detail: None,
            position,
            group: Some(group.into()),
            connector: None,
            created_at: ts("2026-11-01T00:00:00Z"),
            updated_at: ts("2026-11-20T00:00:00Z"),
            uptime: None,
        }
    }

    fn incident(id: &str, kind: IncidentKind, status: IncidentStatus, created: &str) -> Incident {
        Incident {
            id: id.into(),
            workspace_id: None,
            kind,
            name: format!("incident {id}"),
            status,
            impact: Impact::Major,
            component_ids: vec!["api".into(), "gone".into()],
            auto_component_id: None,
            scheduled_for: None,
            scheduled_until: None,
            created_at: ts(created),
            updated_at: ts(created),
            monitoring_at: None,
            resolved_at: None,
            updates: vec![
                IncidentUpdate {
                    id: "iup_2".into(),
                    incident_id: id.into(),
                    status,
                    body: "later".into(),
                    affected_components: vec!["api".into()],
                    created_at: ts(created) + Duration::minutes(5),
                },
                IncidentUpdate {
                    id: "iup_1".into(),
                    incident_id: id.into(),
                    status: IncidentStatus::Investigating,
                    body: "first".into(),
                    affected_components: vec!["api".into()],
                    created_at: ts(created),
                },
            ],
        }
    }

    #[test]
    fn assemble_groups_components_and_resolves_incidents() {
        use ComponentStatus::*;
        let now = ts("2026-11-27T12:00:00Z");
        let page = PageInfo {
            id: "p".into(),
            name: "Millwright".into(),
            url: "http://x/status".into(),
            time_zone: "Etc/UTC",
            updated_at: ts("2026-01-01T00:00:00Z"),
        };
        let view = assemble(
            page,
            vec![
                component("connector.sap", "Connectors", 20, PartialOutage),
                component("sync", "Platform", 2, Operational),
                component("api", "Platform", 1, Operational),
            ],
            vec![
                incident(
                    "inc_a",
                    IncidentKind::Incident,
                    IncidentStatus::Resolved,
                    "2026-11-26T10:00:00Z",
                ),
                incident(
                    "inc_b",
                    IncidentKind::Incident,
                    IncidentStatus::Identified,
                    "2026-11-27T10:00:00Z",
                ),
                // A duplicate (the recent and the unresolved lists overlap) is shown once.
                incident(
                    "inc_b",
                    IncidentKind::Incident,
                    IncidentStatus::Identified,
                    "2026-11-27T10:00:00Z",
                ),
                incident(
                    "mnt_c",
                    IncidentKind::Maintenance,
                    IncidentStatus::Scheduled,
                    "2026-11-25T10:00:00Z",
                ),
            ],
            |id| vec![id.to_string()],
            now,
        );
        let names: Vec<_> = view
            .groups
            .iter()
            .map(|g| g.name.as_deref().unwrap())
            .collect();
        assert_eq!(names, ["Platform", "Connectors"]);
        assert_eq!(view.groups[0].id.as_deref(), Some("group.platform"));
        let ids: Vec<_> = view.groups[0]
            .components
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(ids, ["api", "sync"]);
        assert_eq!(view.groups[1].status, PartialOutage);
        assert_eq!(view.overall.indicator, Indicator::Major);

        let ids: Vec<_> = view.incidents.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["inc_b", "inc_a"]);
        assert_eq!(view.maintenances.len(), 1);
        assert_eq!(view.unresolved_incidents().count(), 1);
        assert_eq!(view.upcoming_maintenances().count(), 1);
        // Unknown component ids are dropped; updates newest first with implied statuses.
        let b = &view.incidents[0];
        assert_eq!(b.component_ids, ["api"]);
        assert_eq!(b.updates[0].body, "later");
        assert_eq!(b.updates[1].affected[0].old_status, Operational);
        assert_eq!(b.updates[1].affected[0].new_status, PartialOutage);
        let a = &view.incidents[1];
        assert_eq!(a.updates[0].affected[0].old_status, PartialOutage);
        assert_eq!(a.updates[0].affected[0].new_status, Operational);
        assert_eq!(a.updates[0].affected[0].name, "API");
        assert_eq!(view.page.updated_at, ts("2026-11-27T10:00:00Z"));

        // History: 14 days, newest first, holding only closed items.
        let history = view.history();
        assert_eq!(history.len(), HISTORY_DAYS);
        assert_eq!(history[0].0, day("2026-11-27"));
        assert!(history[0].1.is_empty());
        assert_eq!(history[1].1.len(), 1);
        assert_eq!(history[1].1[0].id, "inc_a");
    }

    fn connection(name: &str, status: ConnectionStatus) -> Connection {
        Connection {
            id: "con_1".into(),
            workspace_id: "ws_1".into(),
            connector: "maximo".into(),
            deployment: millwright_core::credits::Deployment::Cloud,
            name: name.into(),
            status,
            credits: 1,
            metadata: serde_json::json!({}),
            sealed_credentials: Vec::new(),
            sync_settings: serde_json::json!({}),
            field_mappings: serde_json::json!({}),
            created_at: ts("2026-11-01T00:00:00Z"),
            updated_at: ts("2026-11-02T00:00:00Z"),
            disconnected_at: None,
            last_sync_at: None,
            health: None,
        }
    }

    #[test]
    fn a_connection_is_named_with_its_system_once() {
        let c = connection_component(
            &connection("North plant", ConnectionStatus::Active),
            "IBM Maximo",
            1,
        )
        .unwrap();
        assert_eq!(c.name, "North plant (IBM Maximo)");
        assert_eq!(c.group.as_deref(), Some("Connections"));
        assert_eq!(c.connector.as_deref(), Some("maximo"));
        let c = connection_component(
            &connection("Refinery (Maximo)", ConnectionStatus::Active),
            "IBM Maximo",
            1,
        )
        .unwrap();
        assert_eq!(c.name, "Refinery (Maximo)");
        let c = connection_component(
            &connection("North plant", ConnectionStatus::RequiresReauthorization),
            "IBM Maximo",
            1,
        )
        .unwrap();
        assert_eq!(
            (c.status, c.label),
            (ComponentStatus::PartialOutage, "Needs reauthorization")
        );
        assert!(c.detail.is_some());
        assert!(connection_component(
            &connection("x", ConnectionStatus::Disconnected),
            "IBM Maximo",
            1
        )
        .is_none());
    }

    #[test]
    fn connections_map_to_component_statuses() {
        use ConnectionStatus as C;
        for s in [C::Pending, C::Syncing, C::Active] {
            assert_eq!(
                connection_status(s).unwrap().0,
                ComponentStatus::Operational
            );
        }
        assert_eq!(
            connection_status(C::Offline).unwrap().0,
            ComponentStatus::MajorOutage
        );
        assert_eq!(
            connection_status(C::RequiresReauthorization).unwrap(),
            (ComponentStatus::PartialOutage, "Needs reauthorization")
        );
        assert_eq!(connection_status(C::Disconnected), None);
    }
}
