//! The public status page and its Atlassian Statuspage v2 JSON, end to end: every document
//! under `/status/api/v2/` is checked against the shape Statuspage consumers read (field names,
//! types, enums, nulls, nesting), the HTML page against the same data, and per-workspace pages
//! for privacy (404 until published, only that workspace's connections).

use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use millwright_core::{ids, time};
use millwright_store::{
    ComponentObservation, ComponentStatus, Impact, IncidentKind, IncidentPatch, IncidentStatus,
    NewIncident,
};
use reqwest::{header::HeaderMap, Method, StatusCode};
use serde_json::{json, Map, Value};

use crate::common::*;

/// Every Statuspage v2 document this server publishes, by path under `api/v2/`.
const DOCUMENTS: [&str; 8] = [
    "summary.json",
    "status.json",
    "components.json",
    "incidents.json",
    "incidents/unresolved.json",
    "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json",
    "scheduled-maintenances/active.json",
];

const COMPONENT_STATUSES: [&str; 5] = [
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
];
const INCIDENT_STATUSES: [&str; 5] = [
    "investigating",
    "identified",
    "monitoring",
    "resolved",
    "postmortem",
];
const MAINTENANCE_STATUSES: [&str; 4] = ["scheduled", "in_progress", "verifying", "completed"];

/// An anonymous GET, as a browser or a status widget makes it.
async fn get(env: &TestEnv, path: &str) -> (StatusCode, HeaderMap, String) {
    let resp = env
        .http
        .get(format!("{}{path}", env.base))
        .send()
        .await
        .expect("request sent");
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

/// A Statuspage document: 200, JSON, readable from any origin.
async fn document(env: &TestEnv, path: &str) -> Value {
    let (status, headers, body) = get(env, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{path}"
    );
    assert_eq!(headers["access-control-allow-origin"], "*", "{path}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

async fn html(env: &TestEnv, path: &str) -> String {
    let (status, headers, body) = get(env, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    body
}

// --- the shape checker ------------------------------------------------------------------------

fn object<'a>(v: &'a Value, what: &str) -> &'a Map<String, Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("{what} is not an object: {v}"))
}

/// `v[key]` must exist (possibly null).
fn field<'a>(v: &'a Value, key: &str, what: &str) -> &'a Value {
    object(v, what)
        .get(key)
        .unwrap_or_else(|| panic!("{what} lacks `{key}`: {v}"))
}

fn string(v: &Value, key: &str, what: &str) -> String {
    field(v, key, what)
        .as_str()
        .unwrap_or_else(|| panic!("{what}.{key} is not a string: {v}"))
        .to_string()
}

fn nullable_string(v: &Value, key: &str, what: &str) {
    let f = field(v, key, what);
    assert!(f.is_null() || f.is_string(), "{what}.{key}: {v}");
}

fn boolean(v: &Value, key: &str, what: &str) -> bool {
    field(v, key, what)
        .as_bool()
        .unwrap_or_else(|| panic!("{what}.{key} is not a boolean: {v}"))
}

/// ISO 8601 with an explicit offset (`Z` or `±hh:mm`), as Statuspage writes them.
fn timestamp(v: &Value, key: &str, what: &str) -> DateTime<FixedOffset> {
    let s = string(v, key, what);
    DateTime::parse_from_rfc3339(&s).unwrap_or_else(|e| panic!("{what}.{key} = {s}: {e}"))
}

fn nullable_timestamp(v: &Value, key: &str, what: &str) -> Option<DateTime<FixedOffset>> {
    (!field(v, key, what).is_null()).then(|| timestamp(v, key, what))
}

fn one_of(v: &Value, key: &str, allowed: &[&str], what: &str) -> String {
    let s = string(v, key, what);
    assert!(allowed.contains(&s.as_str()), "{what}.{key} = {s:?}: {v}");
    s
}

fn array<'a>(v: &'a Value, key: &str, what: &str) -> &'a Vec<Value> {
    field(v, key, what)
        .as_array()
        .unwrap_or_else(|| panic!("{what}.{key} is not an array: {v}"))
}

fn check_page(v: &Value, base: &str) -> String {
    let page = field(v, "page", "document");
    let id = string(page, "id", "page");
    string(page, "name", "page");
    let url = string(page, "url", "page");
    assert!(url.starts_with(base), "page.url {url} is on this server");
    string(page, "time_zone", "page");
    timestamp(page, "updated_at", "page");
    id
}

fn check_status(v: &Value) -> (String, String) {
    let s = field(v, "status", "document");
    (
        one_of(
            s,
            "indicator",
            &["none", "minor", "major", "critical"],
            "status",
        ),
        one_of(
            s,
            "description",
            &[
                "All Systems Operational",
                "Minor Service Outage",
                "Partial System Outage",
                "Major System Outage",
                "Service Under Maintenance",
            ],
            "status",
        ),
    )
}

fn check_component(c: &Value, page_id: &str) {
    let what = "component";
    string(c, "id", what);
    string(c, "name", what);
    one_of(c, "status", &COMPONENT_STATUSES, what);
    timestamp(c, "created_at", what);
    timestamp(c, "updated_at", what);
    assert!(field(c, "position", what).is_i64(), "{c}");
    nullable_string(c, "description", what);
    boolean(c, "showcase", what);
    let start = field(c, "start_date", what);
    assert!(
        start.is_null()
            || start
                .as_str()
                .is_some_and(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()),
        "{c}"
    );
    nullable_string(c, "group_id", what);
    assert_eq!(string(c, "page_id", what), page_id);
    let group = boolean(c, "group", what);
    boolean(c, "only_show_if_degraded", what);
    if group {
        assert!(
            field(c, "group_id", what).is_null(),
            "groups are not nested: {c}"
        );
        assert!(array(c, "components", what).iter().all(Value::is_string));
    }
}

/// Checks a `components` list: every entry, and that groups and children point at each other.
fn check_components(list: &[Value], page_id: &str) {
    for c in list {
        check_component(c, page_id);
    }
    let ids: Vec<&str> = list.iter().map(|c| c["id"].as_str().unwrap()).collect();
    for c in list {
        if c["group"] == true {
            for child in c["components"].as_array().unwrap() {
                let child = list
                    .iter()
                    .find(|x| x["id"] == *child)
                    .unwrap_or_else(|| panic!("group member {child} is listed"));
                assert_eq!(child["group_id"], c["id"]);
            }
        } else if let Some(g) = c["group_id"].as_str() {
            assert!(ids.contains(&g), "group {g} is listed");
        }
    }
}

fn check_incident(i: &Value, page_id: &str, maintenance: bool) {
    let what = if maintenance {
        "maintenance"
    } else {
        "incident"
    };
    let id = string(i, "id", what);
    string(i, "name", what);
    let statuses: &[&str] = if maintenance {
        &MAINTENANCE_STATUSES
    } else {
        &INCIDENT_STATUSES
    };
    let status = one_of(i, "status", statuses, what);
    let created = timestamp(i, "created_at", what);
    timestamp(i, "updated_at", what);
    nullable_timestamp(i, "monitoring_at", what);
    let resolved = nullable_timestamp(i, "resolved_at", what);
    let closed = ["resolved", "postmortem", "completed"].contains(&status.as_str());
    assert_eq!(
        resolved.is_some(),
        closed,
        "resolved_at set iff closed: {i}"
    );
    one_of(
        i,
        "impact",
        &["none", "minor", "major", "critical", "maintenance"],
        what,
    );
    string(i, "shortlink", what);
    assert!(timestamp(i, "started_at", what) >= created || maintenance);
    assert_eq!(string(i, "page_id", what), page_id);
    let updates = array(i, "incident_updates", what);
    assert!(!updates.is_empty(), "an incident has its first update: {i}");
    for u in updates {
        let what = "incident_update";
        string(u, "id", what);
        one_of(u, "status", statuses, what);
        string(u, "body", what);
        assert_eq!(string(u, "incident_id", what), id);
        timestamp(u, "created_at", what);
        timestamp(u, "updated_at", what);
        timestamp(u, "display_at", what);
        let affected = field(u, "affected_components", what);
        if !affected.is_null() {
            for a in affected
                .as_array()
                .expect("affected_components is an array")
            {
                string(a, "code", "affected_component");
                string(a, "name", "affected_component");
                one_of(a, "old_status", &COMPONENT_STATUSES, "affected_component");
                one_of(a, "new_status", &COMPONENT_STATUSES, "affected_component");
            }
        }
        boolean(u, "deliver_notifications", what);
        nullable_string(u, "custom_tweet", what);
        nullable_string(u, "tweet_id", what);
    }
    // Newest first.
    let times: Vec<_> = updates
        .iter()
        .map(|u| timestamp(u, "created_at", "incident_update"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{i}");
    for c in array(i, "components", what) {
        check_component(c, page_id);
    }
    if maintenance {
        nullable_timestamp(i, "scheduled_for", what);
        nullable_timestamp(i, "scheduled_until", what);
    }
}

/// Fetches and checks every document of the page at `prefix` (`/status` or
/// `/status/w/{id}`); returns them by path.
async fn check_all_documents(env: &TestEnv, prefix: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for path in DOCUMENTS {
        let doc = document(env, &format!("{prefix}/api/v2/{path}")).await;
        let page_id = check_page(&doc, &env.base);
        let keys: Vec<&str> = object(&doc, path).keys().map(String::as_str).collect();
        let expected: &[&str] = match path {
            "summary.json" => &[
                "components",
                "incidents",
                "page",
                "scheduled_maintenances",
                "status",
            ],
            "status.json" => &["page", "status"],
            "components.json" => &["components", "page"],
            "incidents.json" | "incidents/unresolved.json" => &["incidents", "page"],
            _ => &["page", "scheduled_maintenances"],
        };
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(sorted, expected, "{path}");
        if doc.get("status").is_some() {
            check_status(&doc);
        }
        if let Some(list) = doc.get("components") {
            check_components(list.as_array().unwrap(), &page_id);
        }
        if let Some(list) = doc.get("incidents") {
            for i in list.as_array().unwrap() {
                check_incident(i, &page_id, false);
            }
        }
        if let Some(list) = doc.get("scheduled_maintenances") {
            for i in list.as_array().unwrap() {
                check_incident(i, &page_id, true);
                assert!(i.get("scheduled_for").is_some(), "{i}");
            }
        }
        out.insert(path.to_string(), doc);
    }
    out
}

fn ids_of(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect()
}

/// No `src`, `href` or `url(` of the page points to another host.
fn assert_self_contained(page: &str) {
    for marker in ["src=\"", "href=\"", "url("] {
        for (at, _) in page.match_indices(marker) {
            let target = &page[at + marker.len()..];
            assert!(
                target.starts_with('/') || target.starts_with('#'),
                "external or relative reference in the page: {}",
                &target[..target.len().min(80)]
            );
        }
    }
}

// --- platform incidents through the store (the operator workspace's API does the same) --------

#[allow(clippy::too_many_arguments)]
async fn platform_item(
    env: &TestEnv,
    kind: IncidentKind,
    name: &str,
    status: IncidentStatus,
    impact: Impact,
    components: &[&str],
    window: Option<(i64, i64)>,
) -> String {
    let now = time::now();
    let incident = env
        .store()
        .create_incident(NewIncident {
            id: ids::new_id("inc"),
            update_id: ids::new_id("iup"),
            workspace_id: None,
            kind,
            name: name.into(),
            status,
            impact,
            body: format!("{name}: first update"),
            component_ids: components.iter().map(|c| c.to_string()).collect(),
            auto_component_id: None,
            scheduled_for: window.map(|(from, _)| now + chrono::Duration::hours(from)),
            scheduled_until: window.map(|(_, until)| now + chrono::Duration::hours(until)),
            now,
        })
        .await
        .unwrap();
    incident.id
}

async fn platform_update(env: &TestEnv, id: &str, status: IncidentStatus, body: &str) {
    env.store()
        .update_incident(
            None,
            id,
            IncidentPatch {
                update_id: ids::new_id("iup"),
                status: Some(status),
                body: Some(body.into()),
                ..IncidentPatch::default()
            },
            time::now(),
        )
        .await
        .unwrap();
}

/// Waits for the evaluator's first round, so what the test observes is not overwritten.
async fn evaluated_components(env: &TestEnv) -> Value {
    until("the evaluated components", || async {
        let doc = document(env, "/status/api/v2/components.json").await;
        let list = doc["components"].as_array().unwrap();
        let has = |id: &str| list.iter().any(|c| c["id"] == id);
        (has("api") && has("connector.maintainx")).then_some(doc)
    })
    .await
}

#[tokio::test]
async fn platform_page_and_statuspage_json_sqlite() {
    platform_page_and_statuspage_json(Backend::Sqlite).await;
}

#[tokio::test]
async fn platform_page_and_statuspage_json_postgres() {
    platform_page_and_statuspage_json(Backend::Postgres).await;
}

async fn platform_page_and_statuspage_json(backend: Backend) {
    // One evaluation at start, none during the test: the statuses set below stay.
    let env = TestEnv::start_with(backend, |c| c.status_interval_seconds = 3600).await;
    evaluated_components(&env).await;

    // All quiet: operational, and every document has the Statuspage shape.
    let docs = check_all_documents(&env, "/status").await;
    let components = docs["components.json"]["components"].as_array().unwrap();
    let groups: Vec<&str> = components
        .iter()
        .filter(|c| c["group"] == true)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["Platform", "Connectors"]);
    assert!(components
        .iter()
        .filter(|c| c["group"] == false)
        .all(|c| c["group_id"].is_string()));

    // The MaintainX connector degrades to a partial outage for a second.
    let maintainx = env
        .store()
        .list_components()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id == "connector.maintainx")
        .unwrap();
    for _ in 0..2 {
        env.store()
            .observe_component(ComponentObservation {
                id: maintainx.id.clone(),
                name: maintainx.name.clone(),
                description: maintainx.description.clone(),
                group: maintainx.group.clone(),
                position: maintainx.position,
                status: ComponentStatus::PartialOutage,
                detail: Some("1 of 2 connections offline".into()),
                at: time::now(),
            })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }

    let open = platform_item(
        &env,
        IncidentKind::Incident,
        "MaintainX syncs failing",
        IncidentStatus::Investigating,
        Impact::Major,
        &["connector.maintainx"],
        None,
    )
    .await;
    platform_update(
        &env,
        &open,
        IncidentStatus::Identified,
        "The vendor's API answers 503.",
    )
    .await;
    let closed = platform_item(
        &env,
        IncidentKind::Incident,
        "Webhook delays",
        IncidentStatus::Investigating,
        Impact::Minor,
        &["webhooks"],
        None,
    )
    .await;
    platform_update(
        &env,
        &closed,
        IncidentStatus::Resolved,
        "Deliveries caught up.",
    )
    .await;
    let upcoming = platform_item(
        &env,
        IncidentKind::Maintenance,
        "Database upgrade",
        IncidentStatus::Scheduled,
        Impact::Maintenance,
        &["database"],
        Some((24, 26)),
    )
    .await;
    let active = platform_item(
        &env,
        IncidentKind::Maintenance,
        "Sync engine rollout",
        IncidentStatus::InProgress,
        Impact::Maintenance,
        &["sync"],
        Some((-1, 1)),
    )
    .await;

    let docs = check_all_documents(&env, "/status").await;
    // The worst is the partial outage (and the major-impact incident): "major".
    for path in ["summary.json", "status.json"] {
        assert_eq!(
            docs[path]["status"],
            json!({"indicator": "major", "description": "Partial System Outage"}),
            "{path}"
        );
    }
    let summary = &docs["summary.json"];
    assert_eq!(ids_of(&summary["incidents"]), [open.as_str()]);
    let mut maint = ids_of(&summary["scheduled_maintenances"]);
    maint.sort();
    let mut want = vec![upcoming.clone(), active.clone()];
    want.sort();
    assert_eq!(maint, want);
    assert_eq!(
        ids_of(&docs["incidents.json"]["incidents"]),
        [closed.as_str(), open.as_str()],
        "newest first"
    );
    assert_eq!(
        ids_of(&docs["incidents/unresolved.json"]["incidents"]),
        [open.as_str()]
    );
    assert_eq!(
        ids_of(&docs["scheduled-maintenances/upcoming.json"]["scheduled_maintenances"]),
        [upcoming.as_str()]
    );
    assert_eq!(
        ids_of(&docs["scheduled-maintenances/active.json"]["scheduled_maintenances"]),
        [active.as_str()]
    );
    assert_eq!(
        ids_of(&docs["scheduled-maintenances.json"]["scheduled_maintenances"]).len(),
        2
    );

    // The open incident, as a consumer reads it.
    let inc = &summary["incidents"][0];
    assert_eq!(inc["status"], "identified");
    assert_eq!(inc["impact"], "major");
    assert!(inc["resolved_at"].is_null());
    assert_eq!(ids_of(&inc["components"]), ["connector.maintainx"]);
    assert_eq!(inc["components"][0]["status"], "partial_outage");
    let updates = inc["incident_updates"].as_array().unwrap();
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0]["status"], "identified");
    assert_eq!(updates[0]["body"], "The vendor's API answers 503.");
    assert_eq!(updates[1]["status"], "investigating");
    let resolved = &docs["incidents.json"]["incidents"][0];
    assert_eq!(resolved["status"], "resolved");
    assert!(resolved["resolved_at"].is_string());
    let m = &docs["scheduled-maintenances/upcoming.json"]["scheduled_maintenances"][0];
    assert_eq!(m["impact"], "maintenance");
    assert!(
        timestamp(m, "scheduled_until", "m") > timestamp(m, "scheduled_for", "m"),
        "{m}"
    );
    let components = docs["components.json"]["components"].as_array().unwrap();
    let connectors = components
        .iter()
        .find(|c| c["name"] == "Connectors")
        .unwrap();
    assert_eq!(
        connectors["status"], "partial_outage",
        "a group shows its worst"
    );

    // The HTML page tells the same story, with nothing loaded from elsewhere.
    let page = html(&env, "/status").await;
    assert!(page.contains("Partial System Outage"));
    for text in [
        "Platform",
        "Connectors",
        "Sync engine",
        "MaintainX syncs failing",
        "The vendor&#39;s API answers 503.",
        "Database upgrade",
        "Sync engine rollout",
        "Webhook delays",
        "Deliveries caught up.",
        "1 of 2 connections offline",
    ] {
        assert!(page.contains(text), "the page shows {text:?}");
    }
    let shown = components.iter().filter(|c| c["group"] == false).count();
    assert_eq!(
        page.matches("<li class=\"bar ").count(),
        90 * shown,
        "90 daily bars per component"
    );
    assert!(
        page.contains("class=\"bar bar-partial\""),
        "today is partial"
    );
    assert!(page.contains("no data"), "days before the server existed");
    assert_self_contained(&page);

    // Its stylesheet is served from here, cacheable for long.
    let css = page
        .split("href=\"")
        .map(|s| s.split('"').next().unwrap())
        .find(|s| s.starts_with("/status/assets/status.css"))
        .unwrap()
        .to_string();
    let (status, headers, _) = get(&env, &css).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    assert!(headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age=31536000"));

    // Unknown documents are 404.
    let (status, _, _) = get(&env, "/status/api/v2/nothing.json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn set_page(env: &TestEnv, ws: &Workspace, enabled: bool) {
    let (status, body) = env
        .call(
            Method::PUT,
            "/api/v1/status-page",
            &ws.key,
            Some(json!({"enabled": enabled})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["enabled"], enabled);
}

#[tokio::test]
async fn workspace_pages_are_private_until_published() {
    let env = TestEnv::start_with(Backend::Sqlite, |c| {
        c.status_interval_seconds = 3600;
        c.probe_interval_seconds = 1;
    })
    .await;
    evaluated_components(&env).await;
    let ws = env.workspace(10).await;
    let other = env.workspace(10).await;
    let (plant, _) = env.connect(&ws, "North plant").await;
    let (gone, _) = env.connect(&ws, "Closed plant").await;
    let (foreign, _) = env.connect(&other, "Foreign plant").await;
    let (status, _) = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{gone}/disconnect"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Unpublished and unknown look the same.
    let prefix = format!("/status/w/{}", ws.id);
    let unpublished = get(&env, &prefix).await;
    let unknown = get(&env, "/status/w/ws_00000000000000000000000000").await;
    assert_eq!(unpublished.0, StatusCode::NOT_FOUND);
    assert_eq!(unknown.0, StatusCode::NOT_FOUND);
    assert_eq!(unpublished.2, unknown.2);
    for path in DOCUMENTS {
        let (s, _, body) = get(&env, &format!("{prefix}/api/v2/{path}")).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        let (s2, _, body2) = get(
            &env,
            &format!("/status/w/ws_00000000000000000000000000/api/v2/{path}"),
        )
        .await;
        assert_eq!(s2, StatusCode::NOT_FOUND, "{path}");
        let error = |b: &str| serde_json::from_str::<Value>(b).unwrap()["error"]["code"].clone();
        assert_eq!(error(&body), "NOT_FOUND");
        assert_eq!(error(&body), error(&body2));
    }

    set_page(&env, &ws, true).await;
    set_page(&env, &other, true).await;

    // Its own incident, and platform ones: about a connector it uses (shown) or not (hidden).
    let (status, own) = env
        .call(
            Method::POST,
            "/api/v1/incidents",
            &ws.key,
            Some(json!({
                "name": "North plant sync paused",
                "status": "monitoring",
                "impact": "minor",
                "body": "Paused for the plant's ERP upgrade.",
                "component_ids": [plant],
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{own}");
    let own = own["id"].as_str().unwrap().to_string();
    let about_maintainx = platform_item(
        &env,
        IncidentKind::Incident,
        "MaintainX API errors",
        IncidentStatus::Investigating,
        Impact::Major,
        &["connector.maintainx"],
        None,
    )
    .await;
    let about_sap = platform_item(
        &env,
        IncidentKind::Incident,
        "SAP gateway errors",
        IncidentStatus::Investigating,
        Impact::Critical,
        &["connector.sap_s4hana"],
        None,
    )
    .await;

    let docs = check_all_documents(&env, &prefix).await;
    let components = docs["components.json"]["components"].as_array().unwrap();
    let members: Vec<&Value> = components.iter().filter(|c| c["group"] == false).collect();
    assert_eq!(members.len(), 1, "live connections of this workspace only");
    assert_eq!(members[0]["id"], plant.as_str());
    assert_eq!(members[0]["name"], "North plant (MaintainX)");
    assert_eq!(docs["summary.json"]["page"]["id"], ws.id.as_str());
    let mut incidents = ids_of(&docs["incidents.json"]["incidents"]);
    incidents.sort();
    let mut want = vec![own.clone(), about_maintainx.clone()];
    want.sort();
    assert_eq!(incidents, want);
    assert!(!incidents.contains(&about_sap));
    // The platform incident points at the workspace's MaintainX connection.
    let platform = docs["incidents.json"]["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == about_maintainx.as_str())
        .unwrap();
    assert_eq!(ids_of(&platform["components"]), [plant.as_str()]);
    assert_eq!(docs["status.json"]["status"]["indicator"], "major");

    // The workspace's incident is not on the public page nor on the other workspace's.
    let public = document(&env, "/status/api/v2/incidents.json").await;
    assert!(!ids_of(&public["incidents"]).contains(&own));
    let theirs = check_all_documents(&env, &format!("/status/w/{}", other.id)).await;
    let their_components = ids_of(&theirs["components.json"]["components"]);
    assert!(their_components.contains(&foreign));
    assert!(!their_components.contains(&plant));
    assert!(!ids_of(&theirs["incidents.json"]["incidents"]).contains(&own));

    // The HTML page: its connection, its incidents, bars from probes; nobody else's.
    until("a probe of the plant", || async {
        let h = env
            .call(
                Method::GET,
                &format!("/api/v1/connections/{plant}/health"),
                &ws.key,
                None,
            )
            .await
            .1;
        (!h["data"].as_array().unwrap().is_empty()).then_some(())
    })
    .await;
    let page = html(&env, &prefix).await;
    for text in [
        "North plant (MaintainX)",
        "North plant sync paused",
        "MaintainX API errors",
        "Partial System Outage",
    ] {
        assert!(page.contains(text), "the page shows {text:?}");
    }
    for text in ["Closed plant", "Foreign plant", "SAP gateway errors"] {
        assert!(!page.contains(text), "the page hides {text:?}");
    }
    assert_eq!(page.matches("<li class=\"bar ").count(), 90);
    assert!(
        page.matches("<li class=\"bar bar-nodata\"").count() < 90,
        "today has probes"
    );
    assert_self_contained(&page);

    // Credentials rotated at the source: the connection needs reauthorization, and says so.
    env.sim_control("credentials", json!({"api_key": "rotated-by-customer"}))
        .await;
    let doc = until("the plant needing reauthorization", || async {
        let doc = document(&env, &format!("{prefix}/api/v2/components.json")).await;
        let c = doc["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == plant.as_str())
            .cloned()
            .unwrap();
        (c["status"] == "partial_outage").then_some(doc)
    })
    .await;
    check_components(doc["components"].as_array().unwrap(), &ws.id);
    assert!(html(&env, &prefix).await.contains("Needs reauthorization"));

    // Withdrawn: 404 again.
    set_page(&env, &ws, false).await;
    assert_eq!(get(&env, &prefix).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&env, &format!("{prefix}/api/v2/summary.json")).await.0,
        StatusCode::NOT_FOUND
    );
}
