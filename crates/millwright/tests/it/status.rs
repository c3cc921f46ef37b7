//! Components, uptime and incidents end to end. With one-second probes and evaluations, the
//! MaintainX simulator goes through an outage, a recovery and a credential rotation; the
//! connection's status and events, the `connector.maintainx` component, the automatic incident
//! and the uptime buckets must all tell the same story. Manual incidents and maintenances go
//! through the API, with their errors and the isolation between workspaces.

use chrono::{DateTime, Utc};
use millwright::{config::Config, server};
use millwright_store::{
    Component, ComponentStatus, Impact, Incident, IncidentFilter, IncidentStatus, PageRequest,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

const MAINTAINX: &str = "connector.maintainx";

/// Short probe and evaluation intervals, so a test sees each transition within seconds.
fn fast(c: &mut Config) {
    c.probe_interval_seconds = 1;
    c.status_interval_seconds = 1;
    c.incident_open_after_seconds = 2;
}

async fn component(env: &TestEnv, id: &str) -> Option<Component> {
    env.store()
        .list_components()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id == id)
}

async fn wait_component(env: &TestEnv, id: &str, status: ComponentStatus) -> Component {
    until(&format!("{id} {}", status.as_str()), || async {
        component(env, id).await.filter(|c| c.status == status)
    })
    .await
}

async fn connection_status(env: &TestEnv, ws: &Workspace, con: &str) -> String {
    let (status, body) = env
        .call(
            Method::GET,
            &format!("/api/v1/connections/{con}"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["status"].as_str().unwrap().to_string()
}

async fn wait_connection(env: &TestEnv, ws: &Workspace, con: &str, want: &str) {
    until(&format!("connection {want}"), || async {
        (connection_status(env, ws, con).await == want).then_some(())
    })
    .await
}

async fn event_count(env: &TestEnv, ws: &Workspace, con: &str, event_type: &str) -> usize {
    let (status, body) = env
        .call(
            Method::GET,
            &format!("/api/v1/events?page_size=100&type={event_type}&connection_id={con}"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().len()
}

async fn platform_incidents(env: &TestEnv) -> Vec<Incident> {
    env.store()
        .list_incidents(&IncidentFilter::default(), &PageRequest::first(100))
        .await
        .unwrap()
        .items
}

/// Seconds the component spent in each status since yesterday: (operational, major outage).
async fn uptime(env: &TestEnv, id: &str) -> (i64, i64) {
    let since = Utc::now().date_naive().pred_opt().unwrap();
    let days = env
        .store()
        .component_days(&[id.to_string()], since)
        .await
        .unwrap();
    (
        days.iter().map(|d| d.operational_seconds).sum(),
        days.iter().map(|d| d.major_outage_seconds).sum(),
    )
}

#[tokio::test]
async fn outage_recovery_and_rotation_agree_across_connection_component_incident_and_uptime() {
    outage_story(Backend::Sqlite).await;
}

#[tokio::test]
async fn outage_story_on_postgres() {
    outage_story(Backend::Postgres).await;
}

async fn outage_story(backend: Backend) {
    let env = TestEnv::start_with(backend, fast).await;
    let ws = env.workspace(10).await;
    let (con, _token) = connect_synced(&env, &ws, env.maintainx_body("plant")).await;
    wait_connection(&env, &ws, &con, "active").await;

    // Healthy: every component is evaluated, the connector's from its one connection.
    let healthy = until(
        "maintainx operational with its connection counted",
        || async {
            component(&env, MAINTAINX)
                .await
                .filter(|c| c.detail.as_deref() == Some("0 of 1 connections offline"))
        },
    )
    .await;
    assert_eq!(healthy.status, ComponentStatus::Operational);
    assert_eq!(healthy.name, "MaintainX");
    assert_eq!(healthy.group.as_deref(), Some("Connectors"));
    let ids: Vec<String> = env
        .store()
        .list_components()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    for id in [
        "api",
        "sync",
        "webhooks",
        "database",
        "connector.sap_s4hana",
    ] {
        assert!(ids.contains(&id.to_string()), "{id} in {ids:?}");
    }
    assert_eq!(ids[..4], ["api", "sync", "webhooks", "database"]);
    assert!(platform_incidents(&env).await.is_empty());

    // Outage: the connection goes offline, the component to major outage (its only
    // connection is down), and after the threshold an automatic incident opens.
    env.sim_control("outage", json!({"mode": "503"})).await;
    wait_connection(&env, &ws, &con, "offline").await;
    let down = wait_component(&env, MAINTAINX, ComponentStatus::MajorOutage).await;
    assert_eq!(down.detail.as_deref(), Some("1 of 1 connections offline"));
    let opened = until("an automatic incident", || async {
        env.store().open_auto_incident(MAINTAINX).await.unwrap()
    })
    .await;
    assert_eq!(opened.name, "MaintainX: major outage");
    assert_eq!(opened.status, IncidentStatus::Investigating);
    assert_eq!(opened.impact, Impact::Critical);
    assert_eq!(opened.workspace_id, None, "a platform incident");
    assert_eq!(opened.component_ids, [MAINTAINX]);
    assert!(
        opened.created_at - down.status_since >= chrono::Duration::seconds(2),
        "opened only after the threshold: {} vs {}",
        opened.created_at,
        down.status_since
    );
    assert_eq!(opened.updates.len(), 1);
    assert!(
        opened.updates[0]
            .body
            .contains("1 of 1 connections offline"),
        "{:?}",
        opened.updates[0]
    );
    // Still down a few evaluations later: the same one incident.
    until("more outage time counted", || async {
        (uptime(&env, MAINTAINX).await.1 >= 5).then_some(())
    })
    .await;
    assert_eq!(platform_incidents(&env).await.len(), 1);
    assert_eq!(event_count(&env, &ws, &con, "connection.offline").await, 1);

    // Recovery: active again, operational again, the incident resolved with an update.
    env.sim_control("outage", json!({"mode": "none"})).await;
    wait_connection(&env, &ws, &con, "active").await;
    let up = wait_component(&env, MAINTAINX, ComponentStatus::Operational).await;
    let resolved = until("the incident resolved", || async {
        env.store()
            .get_incident(None, &opened.id)
            .await
            .unwrap()
            .filter(|i| i.status == IncidentStatus::Resolved)
    })
    .await;
    assert!(resolved.resolved_at.unwrap() >= up.status_since);
    assert_eq!(resolved.updates.len(), 2);
    assert!(
        resolved.updates[0].body.starts_with("Recovered: MaintainX"),
        "{:?}",
        resolved.updates[0]
    );
    assert_eq!(
        env.store().open_auto_incident(MAINTAINX).await.unwrap(),
        None
    );
    assert_eq!(event_count(&env, &ws, &con, "connection.offline").await, 1);
    assert_eq!(
        event_count(&env, &ws, &con, "connection.active").await,
        2,
        "active after the first sync and after the recovery"
    );

    // Uptime: the major-outage time is exactly the time between the two status changes.
    let (operational, major) = uptime(&env, MAINTAINX).await;
    let expected = (up.status_since - down.status_since).num_seconds();
    assert!(
        (major - expected).abs() <= 1,
        "major outage {major} s vs {expected} s between the status changes"
    );
    assert!(major >= 2, "{major}");
    assert!(operational >= 1, "{operational}");
    let (_, platform_major) = uptime(&env, "database").await;
    assert_eq!(platform_major, 0, "the platform itself stayed up");

    // Credential rotation: the customer's problem. The connection waits for reauthorization,
    // the connector stays operational, and no incident opens however long it lasts.
    env.sim_control("credentials", json!({"api_key": "rotated-by-customer"}))
        .await;
    wait_connection(&env, &ws, &con, "requires_reauthorization").await;
    let waiting = until(
        "the connector counting the reauthorization apart",
        || async {
            component(&env, MAINTAINX).await.filter(|c| {
                c.detail
                    .as_deref()
                    .is_some_and(|d| d.contains("1 awaiting reauthorization"))
            })
        },
    )
    .await;
    assert_eq!(waiting.status, ComponentStatus::Operational);
    let (before, _) = uptime(&env, MAINTAINX).await;
    until("four more operational seconds", || async {
        (uptime(&env, MAINTAINX).await.0 >= before + 4).then_some(())
    })
    .await;
    assert_eq!(
        env.store().open_auto_incident(MAINTAINX).await.unwrap(),
        None
    );
    assert_eq!(platform_incidents(&env).await.len(), 1);
    assert_eq!(
        event_count(&env, &ws, &con, "connection.requires_reauthorization").await,
        1
    );
    assert_eq!(
        uptime(&env, MAINTAINX).await.1,
        major,
        "no more outage time"
    );

    // Operators see the probe latency and the component status on /metrics.
    let metrics = env
        .http
        .get(format!("{}/metrics", env.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "millwright_probe_duration_seconds_bucket{connector=\"maintainx\",outcome=\"ok\"",
        "millwright_probe_duration_seconds_count{connector=\"maintainx\",outcome=\"unreachable\"}",
        "millwright_probe_duration_seconds_count{connector=\"maintainx\",outcome=\"rejected\"}",
        "millwright_component_status{component=\"connector.maintainx\",status=\"operational\"} 1",
    ] {
        assert!(metrics.contains(needle), "{needle} missing from /metrics");
    }
}

/// Restarts the environment's server on the same database with `operator` as the operator
/// workspace.
async fn restart_as_operator(env: &mut TestEnv, operator: &str) {
    env.server.take().unwrap().shutdown().await;
    let mut config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: env.dir.path().to_path_buf(),
        master_key: Some(env.master.to_base64()),
        operator_workspace_id: Some(operator.to_string()),
        ..Config::default()
    };
    fast(&mut config);
    let server = server::start(config, server::Role::All)
        .await
        .expect("server restarts");
    env.base = server.base_url();
    env.server = Some(server);
}

fn ts(v: &Value) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn manual_incidents_maintenances_and_pages_through_the_api() {
    let mut env = TestEnv::start_with(Backend::Sqlite, fast).await;
    let operator = env.workspace(10).await;
    let customer = env.workspace(10).await;
    restart_as_operator(&mut env, &operator.id).await;
    until("the components", || async {
        component(&env, "webhooks").await
    })
    .await;

    // The operator's incidents are the platform's.
    let (status, created) = env
        .call(
            Method::POST,
            "/api/v1/incidents",
            &operator.key,
            Some(json!({
                "name": "Elevated API errors",
                "status": "investigating",
                "impact": "minor",
                "body": "We are investigating.",
                "component_ids": ["api", "api"]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("inc_"), "{id}");
    assert_eq!(created["workspace_id"], Value::Null);
    assert_eq!(created["kind"], "incident");
    assert_eq!(created["status"], "investigating");
    assert_eq!(created["impact"], "minor");
    assert_eq!(created["component_ids"], json!(["api"]), "deduplicated");
    assert_eq!(created["incident_updates"].as_array().unwrap().len(), 1);
    assert_eq!(
        created["incident_updates"][0]["body"],
        "We are investigating."
    );
    assert!(env.store().get_incident(None, &id).await.unwrap().is_some());

    let path = format!("/api/v1/incidents/{id}");
    let (status, identified) = env
        .call(
            Method::PATCH,
            &path,
            &operator.key,
            Some(json!({"status": "identified", "body": "A bad deploy.", "impact": "major"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{identified}");
    assert_eq!(identified["status"], "identified");
    assert_eq!(identified["impact"], "major");
    let updates = identified["incident_updates"].as_array().unwrap();
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0]["status"], "identified");
    assert_eq!(updates[0]["body"], "A bad deploy.");
    // No body, no update.
    let (_, monitoring) = env
        .call(
            Method::PATCH,
            &path,
            &operator.key,
            Some(json!({"status": "monitoring"})),
        )
        .await;
    assert_eq!(monitoring["status"], "monitoring");
    assert!(monitoring["monitoring_at"].is_string());
    assert_eq!(monitoring["incident_updates"].as_array().unwrap().len(), 2);
    let (_, resolved) = env
        .call(
            Method::PATCH,
            &path,
            &operator.key,
            Some(json!({"status": "resolved", "body": "Rolled back."})),
        )
        .await;
    assert_eq!(resolved["status"], "resolved");
    assert!(ts(&resolved["resolved_at"]) >= ts(&resolved["created_at"]));
    let (_, got) = env.call(Method::GET, &path, &operator.key, None).await;
    assert_eq!(got["incident_updates"].as_array().unwrap().len(), 3);

    let (_, all) = env
        .call(Method::GET, "/api/v1/incidents", &operator.key, None)
        .await;
    assert_eq!(all["data"][0]["id"], id.as_str());
    let (_, open) = env
        .call(
            Method::GET,
            "/api/v1/incidents?status=unresolved",
            &operator.key,
            None,
        )
        .await;
    assert!(open["data"].as_array().unwrap().is_empty(), "{open}");

    // A customer workspace sees none of it, and its own incidents stay on its own page.
    assert_error(
        &env.call(Method::GET, &path, &customer.key, None).await,
        404,
        "NOT_FOUND",
        "not_found_error",
    );
    assert_error(
        &env.call(
            Method::PATCH,
            &path,
            &customer.key,
            Some(json!({"body": "hijack"})),
        )
        .await,
        404,
        "NOT_FOUND",
        "not_found_error",
    );
    let (_, theirs) = env
        .call(Method::GET, "/api/v1/incidents", &customer.key, None)
        .await;
    assert!(theirs["data"].as_array().unwrap().is_empty(), "{theirs}");
    let (con, _) = env.connect(&customer, "customer plant").await;
    let (status, own) = env
        .call(
            Method::POST,
            "/api/v1/incidents",
            &customer.key,
            Some(json!({
                "name": "Plant CMMS slow",
                "status": "identified",
                "impact": "major",
                "body": "Our CMMS vendor is slow.",
                "component_ids": [con, "connector.maintainx"]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{own}");
    assert_eq!(own["workspace_id"], customer.id.as_str());
    let own_id = own["id"].as_str().unwrap();
    assert_error(
        &env.call(
            Method::GET,
            &format!("/api/v1/incidents/{own_id}"),
            &operator.key,
            None,
        )
        .await,
        404,
        "NOT_FOUND",
        "not_found_error",
    );
    let platform: Vec<String> = platform_incidents(&env)
        .await
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(platform, [id.as_str()], "not on the public page");

    // Validation: enums list their values, components must exist, each field is named.
    let bad = env
        .call(
            Method::POST,
            "/api/v1/incidents",
            &customer.key,
            Some(json!({"name": "x", "status": "fixed", "impact": "minor", "body": "b"})),
        )
        .await;
    assert_error(&bad, 422, "VALIDATION_FAILED", "invalid_request_error");
    assert_eq!(bad.1["error"]["details"][0]["field"], "status");
    let message = bad.1["error"]["details"][0]["message"].as_str().unwrap();
    for allowed in [
        "investigating",
        "identified",
        "monitoring",
        "resolved",
        "postmortem",
    ] {
        assert!(message.contains(allowed), "{message}");
    }
    let bad = env
        .call(
            Method::PATCH,
            &format!("/api/v1/incidents/{own_id}"),
            &customer.key,
            Some(json!({"impact": "maintenance"})),
        )
        .await;
    assert_error(&bad, 422, "VALIDATION_FAILED", "invalid_request_error");
    assert!(bad.1["error"]["details"][0]["message"]
        .as_str()
        .unwrap()
        .contains("critical"));
    let bad = env
        .call(
            Method::POST,
            "/api/v1/incidents",
            &customer.key,
            Some(json!({
                "name": " ",
                "status": "investigating",
                "impact": "none",
                "body": "",
                "component_ids": ["api", "con_unknown"]
            })),
        )
        .await;
    assert_error(&bad, 422, "VALIDATION_FAILED", "invalid_request_error");
    let fields: Vec<&str> = bad.1["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "body", "component_ids[1]"]);
    // A customer's connection is no component of the platform's page.
    let bad = env
        .call(
            Method::POST,
            "/api/v1/incidents",
            &operator.key,
            Some(json!({"name": "n", "status": "investigating", "impact": "none", "body": "b", "component_ids": [con]})),
        )
        .await;
    assert_error(&bad, 422, "VALIDATION_FAILED", "invalid_request_error");
    assert_error(
        &env.call(
            Method::GET,
            "/api/v1/incidents?status=open",
            &operator.key,
            None,
        )
        .await,
        400,
        "INVALID_REQUEST",
        "invalid_request_error",
    );
    assert_error(
        &env.call(
            Method::PATCH,
            "/api/v1/incidents/inc_missing",
            &operator.key,
            Some(json!({"body": "x"})),
        )
        .await,
        404,
        "NOT_FOUND",
        "not_found_error",
    );
    assert_eq!(
        platform_incidents(&env).await.len(),
        1,
        "refusals wrote nothing"
    );

    // A maintenance window: in progress when it starts, completed when it ends, its
    // component under maintenance in between, and no automatic incident for it.
    let now = Utc::now();
    let (status, m) = env
        .call(
            Method::POST,
            "/api/v1/scheduled-maintenances",
            &operator.key,
            Some(json!({
                "name": "Webhook dispatcher upgrade",
                "body": "Deliveries may be delayed.",
                "scheduled_for": (now + chrono::Duration::seconds(2)).to_rfc3339(),
                "scheduled_until": (now + chrono::Duration::seconds(6)).to_rfc3339(),
                "component_ids": ["webhooks"]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["kind"], "maintenance");
    assert_eq!(m["status"], "scheduled");
    assert_eq!(m["impact"], "maintenance");
    let m_path = format!(
        "/api/v1/scheduled-maintenances/{}",
        m["id"].as_str().unwrap()
    );
    assert_error(
        &env.call(
            Method::GET,
            &format!("/api/v1/incidents/{}", m["id"].as_str().unwrap()),
            &operator.key,
            None,
        )
        .await,
        404,
        "NOT_FOUND",
        "not_found_error",
    );
    let under = wait_component(&env, "webhooks", ComponentStatus::UnderMaintenance).await;
    assert!(under.detail.unwrap().contains("Webhook dispatcher upgrade"));
    let (_, running) = env.call(Method::GET, &m_path, &operator.key, None).await;
    assert!(
        ["in_progress", "completed"].contains(&running["status"].as_str().unwrap()),
        "{running}"
    );
    let done = until("the maintenance completed", || async {
        let (_, m) = env.call(Method::GET, &m_path, &operator.key, None).await;
        (m["status"] == "completed").then_some(m)
    })
    .await;
    let statuses: Vec<&str> = done["incident_updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["completed", "in_progress", "scheduled"]);
    wait_component(&env, "webhooks", ComponentStatus::Operational).await;
    assert_eq!(
        env.store().open_auto_incident("webhooks").await.unwrap(),
        None
    );
    let (_, maintenances) = env
        .call(
            Method::GET,
            "/api/v1/scheduled-maintenances",
            &operator.key,
            None,
        )
        .await;
    assert_eq!(maintenances["data"].as_array().unwrap().len(), 1);

    let bad = env
        .call(
            Method::POST,
            "/api/v1/scheduled-maintenances",
            &operator.key,
            Some(json!({
                "name": "Backwards",
                "body": "b",
                "scheduled_for": "2026-12-01T10:00:00Z",
                "scheduled_until": "2026-12-01T09:00:00Z",
                "status": "investigating"
            })),
        )
        .await;
    assert_error(&bad, 422, "VALIDATION_FAILED", "invalid_request_error");
    assert!(bad.1["error"]["details"][0]["message"]
        .as_str()
        .unwrap()
        .contains("in_progress"));
    let bad = env
        .call(
            Method::POST,
            "/api/v1/scheduled-maintenances",
            &operator.key,
            Some(json!({
                "name": "Backwards",
                "body": "b",
                "scheduled_for": "2026-12-01T10:00:00Z",
                "scheduled_until": "tomorrow"
            })),
        )
        .await;
    assert_error(&bad, 422, "VALIDATION_FAILED", "invalid_request_error");
    assert_eq!(bad.1["error"]["details"][0]["field"], "scheduled_until");

    // The workspace's own page: off by default, on and off again.
    let (status, page) = env
        .call(Method::GET, "/api/v1/status-page", &customer.key, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["enabled"], false);
    assert!(page["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/status/w/{}", customer.id)));
    let (_, page) = env
        .call(
            Method::PUT,
            "/api/v1/status-page",
            &customer.key,
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(page["enabled"], true);
    assert!(env
        .store()
        .workspace_status_page(&customer.id)
        .await
        .unwrap());
    assert!(!env
        .store()
        .workspace_status_page(&operator.id)
        .await
        .unwrap());
    assert_error(
        &env.call(
            Method::PUT,
            "/api/v1/status-page",
            &customer.key,
            Some(json!({"enabled": "yes"})),
        )
        .await,
        422,
        "VALIDATION_FAILED",
        "invalid_request_error",
    );
}
