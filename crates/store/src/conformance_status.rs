//! The conformance suite of [`StatusStore`](crate::StatusStore): components and their uptime
//! buckets, incidents and maintenances, workspace status pages. Written once against the trait
//! and run by every backend through [`status_conformance_suite!`](crate::status_conformance_suite),
//! the same way as [`conformance`](crate::conformance).
//!
//! Times are fixed instants (not `now`), so bucket arithmetic across UTC midnight is exact.

use std::sync::Arc;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use millwright_core::{
    ids::{new_id, prefix},
    secrets,
    time::{self, Timestamp},
};

use crate::{
    ComponentDay, ComponentObservation, ComponentStatus, Impact, Incident, IncidentFilter,
    IncidentKind, IncidentPatch, IncidentStatus, NewIncident, NewWorkspace, PageRequest,
    RequestLog, Store, StoreError, Workspace, OBSERVATION_GAP_CAP,
};

/// Expands into one `#[tokio::test]` per status conformance test, each running against the
/// fresh, migrated store produced by `$make` (see [`conformance_suite!`](crate::conformance_suite)
/// for what `$make` may yield). `status_conformance_suite!(@names)` evaluates to the test names.
///
/// ```ignore
/// millwright_store::status_conformance_suite!(fresh_store());
/// ```
#[macro_export]
macro_rules! status_conformance_suite {
    (@names) => {
        $crate::__status_conformance_tests!(@names)
    };
    ($make:expr $(,)?) => {
        $crate::__status_conformance_tests!(@tests conformance_status $make);
    };
}

/// The single list of status conformance tests; a unit test keeps it in step with the
/// `pub async fn`s of `conformance_status.rs`.
#[doc(hidden)]
#[macro_export]
macro_rules! __status_conformance_tests {
    ($($how:tt)+) => {
        $crate::__conformance_expand! {
            $($how)+;
            observe_creates_keeps_and_changes_status,
            observe_buckets_split_at_utc_midnight_and_cap_gaps,
            components_list_in_position_order_and_delete,
            component_days_filter_by_component_and_day,
            incidents_round_trip_with_updates_and_patches,
            incident_lists_scope_filter_and_page,
            one_open_automatic_incident_per_component,
            open_maintenances_span_every_scope,
            workspace_status_page_flag,
            platform_signals_count_platform_errors_only,
        }
    };
}

/// 2026-03-01 at the given UTC time.
fn at(h: u32, m: u32, s: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 1, h, m, s).unwrap()
}

fn march(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, day).unwrap()
}

fn observation(id: &str, status: ComponentStatus, when: Timestamp) -> ComponentObservation {
    ComponentObservation {
        id: id.into(),
        name: format!("Component {id}"),
        description: Some("what it does".into()),
        group: Some("Platform".into()),
        position: 1,
        status,
        detail: None,
        at: when,
    }
}

async fn workspace(store: &Arc<dyn Store>) -> Workspace {
    store
        .create_workspace(NewWorkspace {
            id: new_id(prefix::WORKSPACE),
            name: "Status test".into(),
            credit_limit: 10,
            rate_limit_per_minute: None,
            secret_key_hash: secrets::hash_token(&secrets::new_workspace_key()),
            wrapped_data_key: secrets::random_bytes::<48>().to_vec(),
            created_at: time::now(),
        })
        .await
        .unwrap()
}

fn new_incident(workspace_id: Option<&str>, name: &str, now: Timestamp) -> NewIncident {
    NewIncident {
        id: new_id("inc"),
        update_id: new_id("iup"),
        workspace_id: workspace_id.map(str::to_owned),
        kind: IncidentKind::Incident,
        name: name.into(),
        status: IncidentStatus::Investigating,
        impact: Impact::Minor,
        body: "We are looking into it.".into(),
        component_ids: vec!["api".into()],
        auto_component_id: None,
        scheduled_for: None,
        scheduled_until: None,
        now,
    }
}

fn day_of<'a>(days: &'a [ComponentDay], id: &str, day: NaiveDate) -> &'a ComponentDay {
    days.iter()
        .find(|d| d.component_id == id && d.day == day)
        .unwrap_or_else(|| panic!("no bucket for {id} on {day}: {days:?}"))
}

/// The first observation creates the component with no time counted; the same status keeps
/// `status_since`; a change moves it and reports the previous status.
pub async fn observe_creates_keeps_and_changes_status(store: Arc<dyn Store>) {
    let first = store
        .observe_component(observation(
            "api",
            ComponentStatus::Operational,
            at(10, 0, 0),
        ))
        .await
        .unwrap();
    assert_eq!(first.previous, None);
    assert_eq!(first.component.status, ComponentStatus::Operational);
    assert_eq!(first.component.status_since, at(10, 0, 0));
    assert_eq!(first.component.created_at, at(10, 0, 0));
    assert_eq!(first.component.group.as_deref(), Some("Platform"));
    assert!(store
        .component_days(&["api".into()], march(1))
        .await
        .unwrap()
        .is_empty());

    let same = store
        .observe_component(observation(
            "api",
            ComponentStatus::Operational,
            at(10, 1, 0),
        ))
        .await
        .unwrap();
    assert_eq!(same.previous, Some(ComponentStatus::Operational));
    assert_eq!(same.component.status_since, at(10, 0, 0));
    // Nothing but time changed: updated_at stays.
    assert_eq!(same.component.updated_at, at(10, 0, 0));

    let mut down = observation("api", ComponentStatus::PartialOutage, at(10, 2, 0));
    down.detail = Some("12% of requests failed".into());
    let changed = store.observe_component(down).await.unwrap();
    assert_eq!(changed.previous, Some(ComponentStatus::Operational));
    assert_eq!(changed.component.status, ComponentStatus::PartialOutage);
    assert_eq!(changed.component.status_since, at(10, 2, 0));
    assert_eq!(changed.component.updated_at, at(10, 2, 0));
    assert_eq!(
        changed.component.detail.as_deref(),
        Some("12% of requests failed")
    );
    let listed = store.list_components().await.unwrap();
    assert_eq!(listed, vec![changed.component.clone()]);

    store
        .observe_component(observation(
            "api",
            ComponentStatus::PartialOutage,
            at(10, 3, 30),
        ))
        .await
        .unwrap();
    let days = store
        .component_days(&["api".into()], march(1))
        .await
        .unwrap();
    assert_eq!(days.len(), 1, "{days:?}");
    let d = day_of(&days, "api", march(1));
    // 10:00 → 10:02 operational, 10:02 → 10:03:30 partial outage.
    assert_eq!(d.operational_seconds, 120);
    assert_eq!(d.partial_outage_seconds, 90);
    assert_eq!(
        (
            d.degraded_seconds,
            d.major_outage_seconds,
            d.maintenance_seconds
        ),
        (0, 0, 0)
    );
}

/// Time between two observations is split at UTC midnight; a gap longer than the cap counts
/// only the cap; an observation older than the last one counts nothing.
pub async fn observe_buckets_split_at_utc_midnight_and_cap_gaps(store: Arc<dyn Store>) {
    let id = "connector.maintainx";
    store
        .observe_component(observation(id, ComponentStatus::MajorOutage, at(23, 58, 0)))
        .await
        .unwrap();
    let after_midnight = at(23, 58, 0) + Duration::minutes(5);
    store
        .observe_component(observation(
            id,
            ComponentStatus::Operational,
            after_midnight,
        ))
        .await
        .unwrap();
    let days = store.component_days(&[id.into()], march(1)).await.unwrap();
    assert_eq!(days.len(), 2, "{days:?}");
    assert_eq!(day_of(&days, id, march(1)).major_outage_seconds, 120);
    assert_eq!(day_of(&days, id, march(2)).major_outage_seconds, 180);
    assert_eq!(day_of(&days, id, march(2)).operational_seconds, 0);

    // Two hours without an observation: only the cap is counted, as operational.
    let later = after_midnight + Duration::hours(2);
    store
        .observe_component(observation(id, ComponentStatus::Operational, later))
        .await
        .unwrap();
    let days = store.component_days(&[id.into()], march(2)).await.unwrap();
    assert_eq!(days.len(), 1, "since is inclusive and filters: {days:?}");
    assert_eq!(
        days[0].operational_seconds,
        OBSERVATION_GAP_CAP.num_seconds()
    );

    // A late observation (another node's clock) changes the status but adds no time.
    let late = store
        .observe_component(observation(
            id,
            ComponentStatus::DegradedPerformance,
            later - Duration::minutes(1),
        ))
        .await
        .unwrap();
    assert_eq!(late.component.status, ComponentStatus::DegradedPerformance);
    let again = store.component_days(&[id.into()], march(2)).await.unwrap();
    assert_eq!(again, days);
    // The next observation counts from the latest one seen, not from the late one.
    store
        .observe_component(observation(
            id,
            ComponentStatus::DegradedPerformance,
            later + Duration::seconds(30),
        ))
        .await
        .unwrap();
    let days = store.component_days(&[id.into()], march(2)).await.unwrap();
    assert_eq!(days[0].degraded_seconds, 30);
}

/// Components list by position then id; deleting one removes it with its buckets.
pub async fn components_list_in_position_order_and_delete(store: Arc<dyn Store>) {
    for (id, position) in [
        ("webhooks", 3),
        ("connector.b", 100),
        ("api", 1),
        ("connector.a", 100),
    ] {
        let mut o = observation(id, ComponentStatus::Operational, at(9, 0, 0));
        o.position = position;
        store.observe_component(o).await.unwrap();
        store
            .observe_component(observation(id, ComponentStatus::Operational, at(9, 1, 0)))
            .await
            .unwrap();
    }
    let ids: Vec<String> = store
        .list_components()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    // The second observation of each moved its position to 1: ordered by id then.
    assert_eq!(ids, ["api", "connector.a", "connector.b", "webhooks"]);

    let mut o = observation("webhooks", ComponentStatus::Operational, at(9, 2, 0));
    o.position = 0;
    let moved = store.observe_component(o).await.unwrap();
    assert_eq!(moved.component.updated_at, at(9, 2, 0));
    assert_eq!(store.list_components().await.unwrap()[0].id, "webhooks");

    store.delete_component("connector.b").await.unwrap();
    store.delete_component("no-such-component").await.unwrap();
    let ids: Vec<String> = store
        .list_components()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["webhooks", "api", "connector.a"]);
    assert!(store
        .component_days(&["connector.b".into()], march(1))
        .await
        .unwrap()
        .is_empty());
}

/// `component_days` returns only the asked components, from `since`, oldest first.
pub async fn component_days_filter_by_component_and_day(store: Arc<dyn Store>) {
    for id in ["a", "b", "c"] {
        for (day, status) in [
            (1, ComponentStatus::Operational),
            (3, ComponentStatus::MajorOutage),
        ] {
            let start = Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0).unwrap();
            store
                .observe_component(observation(id, status, start))
                .await
                .unwrap();
            store
                .observe_component(observation(id, status, start + Duration::seconds(60)))
                .await
                .unwrap();
        }
    }
    let days = store
        .component_days(&["a".into(), "c".into()], march(1))
        .await
        .unwrap();
    let keys: Vec<(String, NaiveDate)> = days
        .iter()
        .map(|d| (d.component_id.clone(), d.day))
        .collect();
    assert_eq!(
        keys,
        [
            ("a".to_string(), march(1)),
            ("c".to_string(), march(1)),
            ("a".to_string(), march(3)),
            ("c".to_string(), march(3)),
        ]
    );
    // The 2-day gap from March 1 to March 3 counted only the cap, as operational.
    assert_eq!(
        day_of(&days, "a", march(1)).operational_seconds,
        60 + OBSERVATION_GAP_CAP.num_seconds()
    );
    assert_eq!(day_of(&days, "a", march(3)).major_outage_seconds, 60);
    let later = store.component_days(&["b".into()], march(2)).await.unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].day, march(3));
    assert!(store
        .component_days(&[], march(1))
        .await
        .unwrap()
        .is_empty());
}

/// Create returns the incident with its first update; patches change fields, add updates only
/// with a body, and set `monitoring_at` and `resolved_at` (cleared again on reopening).
pub async fn incidents_round_trip_with_updates_and_patches(store: Arc<dyn Store>) {
    let ws = workspace(&store).await;
    let t0 = at(8, 0, 0);
    let input = new_incident(Some(&ws.id), "Slow syncs", t0);
    let created = store.create_incident(input.clone()).await.unwrap();
    assert_eq!(created.id, input.id);
    assert_eq!(created.workspace_id.as_deref(), Some(ws.id.as_str()));
    assert_eq!(created.kind, IncidentKind::Incident);
    assert_eq!(created.status, IncidentStatus::Investigating);
    assert_eq!(created.impact, Impact::Minor);
    assert_eq!(created.component_ids, ["api"]);
    assert_eq!((created.created_at, created.updated_at), (t0, t0));
    assert_eq!((created.monitoring_at, created.resolved_at), (None, None));
    assert_eq!(created.updates.len(), 1);
    let first = &created.updates[0];
    assert_eq!(first.id, input.update_id);
    assert_eq!(first.status, IncidentStatus::Investigating);
    assert_eq!(first.body, "We are looking into it.");
    assert_eq!(first.affected_components, ["api"]);
    assert_eq!(first.created_at, t0);
    assert_eq!(
        store.get_incident(Some(&ws.id), &created.id).await.unwrap(),
        Some(created.clone())
    );
    // Scoped: not a platform incident, not another workspace's.
    assert_eq!(store.get_incident(None, &created.id).await.unwrap(), None);
    let other = workspace(&store).await;
    assert_eq!(
        store
            .get_incident(Some(&other.id), &created.id)
            .await
            .unwrap(),
        None
    );

    // A patch without a body changes fields and adds no update.
    let t1 = t0 + Duration::minutes(5);
    let renamed = store
        .update_incident(
            Some(&ws.id),
            &created.id,
            IncidentPatch {
                update_id: new_id("iup"),
                name: Some("Slow syncs for MaintainX".into()),
                impact: Some(Impact::Major),
                component_ids: Some(vec!["api".into(), "sync".into()]),
                ..IncidentPatch::default()
            },
            t1,
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Slow syncs for MaintainX");
    assert_eq!(renamed.impact, Impact::Major);
    assert_eq!(renamed.component_ids, ["api", "sync"]);
    assert_eq!(renamed.updated_at, t1);
    assert_eq!(renamed.updates.len(), 1);

    let t2 = t1 + Duration::minutes(5);
    let monitoring = store
        .update_incident(
            Some(&ws.id),
            &created.id,
            IncidentPatch {
                update_id: new_id("iup"),
                status: Some(IncidentStatus::Monitoring),
                body: Some("A fix is deployed.".into()),
                ..IncidentPatch::default()
            },
            t2,
        )
        .await
        .unwrap();
    assert_eq!(monitoring.monitoring_at, Some(t2));
    assert_eq!(monitoring.updates.len(), 2);
    assert_eq!(
        monitoring.updates[0].body, "A fix is deployed.",
        "newest first"
    );
    assert_eq!(monitoring.updates[0].status, IncidentStatus::Monitoring);
    assert_eq!(monitoring.updates[0].affected_components, ["api", "sync"]);

    // A body alone is an update with the current status.
    let t3 = t2 + Duration::minutes(1);
    let noted = store
        .update_incident(
            Some(&ws.id),
            &created.id,
            IncidentPatch {
                update_id: new_id("iup"),
                body: Some("Still watching.".into()),
                ..IncidentPatch::default()
            },
            t3,
        )
        .await
        .unwrap();
    assert_eq!(noted.updates[0].status, IncidentStatus::Monitoring);
    assert_eq!(noted.updates.len(), 3);

    let t4 = t3 + Duration::minutes(10);
    let resolved = store
        .update_incident(
            Some(&ws.id),
            &created.id,
            IncidentPatch {
                update_id: new_id("iup"),
                status: Some(IncidentStatus::Resolved),
                body: Some("Resolved.".into()),
                ..IncidentPatch::default()
            },
            t4,
        )
        .await
        .unwrap();
    assert_eq!(resolved.resolved_at, Some(t4));
    assert_eq!(resolved.monitoring_at, Some(t2), "kept");
    let postmortem = store
        .update_incident(
            Some(&ws.id),
            &created.id,
            IncidentPatch {
                update_id: new_id("iup"),
                status: Some(IncidentStatus::Postmortem),
                ..IncidentPatch::default()
            },
            t4 + Duration::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(postmortem.resolved_at, Some(t4), "closed since t4");
    let reopened = store
        .update_incident(
            Some(&ws.id),
            &created.id,
            IncidentPatch {
                update_id: new_id("iup"),
                status: Some(IncidentStatus::Identified),
                ..IncidentPatch::default()
            },
            t4 + Duration::hours(2),
        )
        .await
        .unwrap();
    assert_eq!(reopened.resolved_at, None);

    // Not found: unknown id, another workspace's, or the platform scope.
    let patch = || IncidentPatch {
        update_id: new_id("iup"),
        body: Some("x".into()),
        ..IncidentPatch::default()
    };
    assert!(matches!(
        store
            .update_incident(Some(&ws.id), "inc_missing", patch(), t4)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .update_incident(Some(&other.id), &created.id, patch(), t4)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.update_incident(None, &created.id, patch(), t4).await,
        Err(StoreError::NotFound)
    ));
    let unchanged = store
        .get_incident(Some(&ws.id), &created.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged, reopened, "refused patches wrote nothing");

    // A maintenance keeps its window.
    let mut m = new_incident(None, "Database upgrade", t0);
    m.kind = IncidentKind::Maintenance;
    m.status = IncidentStatus::Scheduled;
    m.impact = Impact::Maintenance;
    m.scheduled_for = Some(t0 + Duration::hours(1));
    m.scheduled_until = Some(t0 + Duration::hours(2));
    let maintenance = store.create_incident(m).await.unwrap();
    assert_eq!(maintenance.scheduled_for, Some(t0 + Duration::hours(1)));
    assert_eq!(maintenance.scheduled_until, Some(t0 + Duration::hours(2)));
    let moved = store
        .update_incident(
            None,
            &maintenance.id,
            IncidentPatch {
                update_id: new_id("iup"),
                status: Some(IncidentStatus::Completed),
                scheduled_until: Some(t0 + Duration::hours(3)),
                body: Some("Done.".into()),
                ..IncidentPatch::default()
            },
            t0 + Duration::hours(3),
        )
        .await
        .unwrap();
    assert_eq!(moved.scheduled_until, Some(t0 + Duration::hours(3)));
    assert_eq!(moved.resolved_at, Some(t0 + Duration::hours(3)));
    assert_eq!(moved.updates[0].status, IncidentStatus::Completed);
}

async fn listed(store: &Arc<dyn Store>, filter: &IncidentFilter, limit: u32) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_incidents(filter, &PageRequest { after, limit })
            .await
            .unwrap();
        for i in &page.items {
            assert!(!i.updates.is_empty(), "lists carry updates: {i:?}");
        }
        pages.push(page.items.iter().map(|i| i.name.clone()).collect());
        match page.next_after {
            Some(next) => after = Some(next),
            None => return pages,
        }
    }
}

/// Lists are newest first by `created_at`, per scope, filtered by kind and resolution, and
/// keyset-paged without gaps or repeats.
pub async fn incident_lists_scope_filter_and_page(store: Arc<dyn Store>) {
    let ws = workspace(&store).await;
    let other = workspace(&store).await;
    // Created out of time order, so the order comes from created_at, not insertion.
    for (name, minutes) in [("p2", 2), ("p1", 1), ("p4", 4), ("p3", 3)] {
        store
            .create_incident(new_incident(None, name, at(7, minutes, 0)))
            .await
            .unwrap();
    }
    for name in ["w1", "w2"] {
        store
            .create_incident(new_incident(Some(&ws.id), name, at(6, 0, 0)))
            .await
            .unwrap();
    }
    let mut m = new_incident(None, "m1", at(7, 30, 0));
    m.kind = IncidentKind::Maintenance;
    m.status = IncidentStatus::Scheduled;
    m.impact = Impact::Maintenance;
    store.create_incident(m).await.unwrap();

    let platform = IncidentFilter::default();
    assert_eq!(
        listed(&store, &platform, 2).await,
        [vec!["m1", "p4"], vec!["p3", "p2"], vec!["p1"]]
    );
    let incidents = IncidentFilter {
        kind: Some(IncidentKind::Incident),
        ..IncidentFilter::default()
    };
    assert_eq!(
        listed(&store, &incidents, 10).await,
        [vec!["p4", "p3", "p2", "p1"]]
    );
    let maintenances = IncidentFilter {
        kind: Some(IncidentKind::Maintenance),
        ..IncidentFilter::default()
    };
    assert_eq!(listed(&store, &maintenances, 10).await, [vec!["m1"]]);

    let mine = IncidentFilter {
        workspace_id: Some(ws.id.clone()),
        ..IncidentFilter::default()
    };
    // Same created_at: ordered by id, newest first, one per page without loss.
    let pages = listed(&store, &mine, 1).await;
    let mut names: Vec<String> = pages.into_iter().flatten().collect();
    names.sort();
    assert_eq!(names, ["w1", "w2"]);
    let theirs = IncidentFilter {
        workspace_id: Some(other.id.clone()),
        ..IncidentFilter::default()
    };
    assert_eq!(listed(&store, &theirs, 10).await, [Vec::<String>::new()]);

    // Resolve p3: it leaves the unresolved list.
    let p3 = store
        .list_incidents(&incidents, &PageRequest::first(10))
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|i| i.name == "p3")
        .unwrap();
    store
        .update_incident(
            None,
            &p3.id,
            IncidentPatch {
                update_id: new_id("iup"),
                status: Some(IncidentStatus::Resolved),
                body: Some("Fixed.".into()),
                ..IncidentPatch::default()
            },
            at(9, 0, 0),
        )
        .await
        .unwrap();
    let unresolved = IncidentFilter {
        kind: Some(IncidentKind::Incident),
        unresolved: true,
        ..IncidentFilter::default()
    };
    assert_eq!(
        listed(&store, &unresolved, 10).await,
        [vec!["p4", "p2", "p1"]]
    );
    let unknown_cursor = store
        .list_incidents(
            &platform,
            &PageRequest {
                after: Some("inc_unknown".into()),
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert!(unknown_cursor.items.is_empty());
}

/// A second unresolved automatic incident of a component is refused with a conflict and
/// writes nothing; once the first is resolved, a new one may open. Manual incidents naming the
/// component are not limited.
pub async fn one_open_automatic_incident_per_component(store: Arc<dyn Store>) {
    let auto = |name: &str, minute: u32| {
        let mut n = new_incident(None, name, at(5, minute, 0));
        n.auto_component_id = Some("connector.maintainx".into());
        n.component_ids = vec!["connector.maintainx".into()];
        n.impact = Impact::Critical;
        n
    };
    let first = store
        .create_incident(auto("MaintainX: major outage", 0))
        .await
        .unwrap();
    assert_eq!(
        first.auto_component_id.as_deref(),
        Some("connector.maintainx")
    );
    assert_eq!(
        store
            .open_auto_incident("connector.maintainx")
            .await
            .unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.open_auto_incident("api").await.unwrap(), None);

    let second = auto("MaintainX: again", 1);
    let refused = store.create_incident(second.clone()).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(store.get_incident(None, &second.id).await.unwrap(), None);
    let all = store
        .list_incidents(&IncidentFilter::default(), &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1, "nothing written: {:?}", all.items);

    let mut manual = new_incident(None, "Manual note", at(5, 2, 0));
    manual.component_ids = vec!["connector.maintainx".into()];
    store.create_incident(manual).await.unwrap();

    store
        .update_incident(
            None,
            &first.id,
            IncidentPatch {
                update_id: new_id("iup"),
                status: Some(IncidentStatus::Resolved),
                body: Some("Recovered.".into()),
                ..IncidentPatch::default()
            },
            at(5, 10, 0),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .open_auto_incident("connector.maintainx")
            .await
            .unwrap(),
        None
    );
    let reopened = store
        .create_incident(auto("MaintainX: again", 11))
        .await
        .unwrap();
    let open: Option<Incident> = store
        .open_auto_incident("connector.maintainx")
        .await
        .unwrap();
    assert_eq!(open.map(|i| i.id), Some(reopened.id));
}

/// Open maintenances of the platform and of every workspace, by window start; incidents and
/// closed maintenances are not among them.
pub async fn open_maintenances_span_every_scope(store: Arc<dyn Store>) {
    let ws = workspace(&store).await;
    let maintenance = |scope: Option<&str>, name: &str, start_hour: u32| {
        let mut m = new_incident(scope, name, at(1, 0, 0));
        m.kind = IncidentKind::Maintenance;
        m.status = IncidentStatus::Scheduled;
        m.impact = Impact::Maintenance;
        m.scheduled_for = Some(at(start_hour, 0, 0));
        m.scheduled_until = Some(at(start_hour + 1, 0, 0));
        m
    };
    store
        .create_incident(maintenance(None, "platform", 5))
        .await
        .unwrap();
    store
        .create_incident(maintenance(Some(&ws.id), "workspace", 3))
        .await
        .unwrap();
    let mut done = maintenance(None, "done", 2);
    done.status = IncidentStatus::Completed;
    store.create_incident(done).await.unwrap();
    store
        .create_incident(new_incident(None, "an incident", at(1, 0, 0)))
        .await
        .unwrap();
    let open = store.open_maintenances().await.unwrap();
    let names: Vec<&str> = open.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["workspace", "platform"]);
    assert_eq!(open[0].workspace_id.as_deref(), Some(ws.id.as_str()));
    assert_eq!(open[0].updates.len(), 1, "with their updates");
}

/// The page flag is off by default, per workspace, and refused for an unknown workspace.
pub async fn workspace_status_page_flag(store: Arc<dyn Store>) {
    let ws = workspace(&store).await;
    let other = workspace(&store).await;
    assert!(!store.workspace_status_page(&ws.id).await.unwrap());
    store.set_workspace_status_page(&ws.id, true).await.unwrap();
    assert!(store.workspace_status_page(&ws.id).await.unwrap());
    assert!(!store.workspace_status_page(&other.id).await.unwrap());
    store.set_workspace_status_page(&ws.id, true).await.unwrap();
    store
        .set_workspace_status_page(&ws.id, false)
        .await
        .unwrap();
    assert!(!store.workspace_status_page(&ws.id).await.unwrap());
    assert!(matches!(
        store.set_workspace_status_page("ws_missing", true).await,
        Err(StoreError::NotFound)
    ));
    assert!(!store.workspace_status_page("ws_missing").await.unwrap());
}

/// Requests are counted from `since`; 5xx answers count as server errors unless the source
/// system caused them.
pub async fn platform_signals_count_platform_errors_only(store: Arc<dyn Store>) {
    let ws = workspace(&store).await;
    let now = time::now();
    let log = |status: i64, code: Option<&str>, ago: i64| RequestLog {
        request_id: new_id("req"),
        workspace_id: Some(ws.id.clone()),
        connection_id: None,
        method: "GET".into(),
        path: "/api/v1/connections".into(),
        status,
        duration_ms: 3,
        request_headers: serde_json::json!({}),
        request_body: None,
        response_body: None,
        error_code: code.map(str::to_owned),
        created_at: now - Duration::seconds(ago),
    };
    store
        .insert_request_logs(&[
            log(200, None, 10),
            log(404, Some("NOT_FOUND"), 10),
            log(500, Some("INTERNAL_ERROR"), 10),
            log(503, Some("SERVICE_UNAVAILABLE"), 20),
            log(503, Some("UPSTREAM_UNREACHABLE"), 20),
            log(502, Some("UPSTREAM_ERROR"), 20),
            log(500, Some("INTERNAL_ERROR"), 3600),
        ])
        .await
        .unwrap();
    let s = store
        .platform_signals(now - Duration::minutes(5), now)
        .await
        .unwrap();
    assert_eq!(s.requests, 6);
    assert_eq!(s.server_errors, 2);
    assert_eq!(s.oldest_due_delivery_at, None);
    let none = store
        .platform_signals(now + Duration::seconds(1), now)
        .await
        .unwrap();
    assert_eq!((none.requests, none.server_errors), (0, 0));
}

#[cfg(test)]
mod tests {
    /// The macro's list and the `pub async fn`s of this file name the same tests.
    #[test]
    fn the_macro_lists_every_test() {
        let source = include_str!("conformance_status.rs");
        let mut defined: Vec<&str> = source
            .lines()
            .filter_map(|l| l.strip_prefix("pub async fn "))
            .map(|rest| rest.split('(').next().unwrap())
            .collect();
        let mut listed: Vec<&str> = crate::status_conformance_suite!(@names).to_vec();
        assert_eq!(listed.len(), defined.len(), "duplicates or missing names");
        defined.sort_unstable();
        listed.sort_unstable();
        assert_eq!(listed, defined);
    }
}
