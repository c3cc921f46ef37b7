//! Health probes end to end: with a one-second probe interval, the MaintainX simulator goes
//! through an outage, recovers, and has its credentials rotated; the connection's status, its
//! events, its probe history and the simulator's request counts must all tell the same story.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

async fn connection(env: &TestEnv, ws: &Workspace, con: &str) -> Value {
    let (status, body) = env
        .call(
            Method::GET,
            &format!("/api/v1/connections/{con}"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn wait_status(env: &TestEnv, ws: &Workspace, con: &str, want: &str) -> Value {
    until(&format!("status {want}"), || async {
        let c = connection(env, ws, con).await;
        (c["status"] == want).then_some(c)
    })
    .await
}

async fn health(env: &TestEnv, ws: &Workspace, con: &str) -> Value {
    let (status, body) = env
        .call(
            Method::GET,
            &format!("/api/v1/connections/{con}/health"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The probes of the last 24 hours with this status.
async fn probes(env: &TestEnv, ws: &Workspace, con: &str, status: &str) -> Vec<Value> {
    health(env, ws, con).await["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == status)
        .cloned()
        .collect()
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

fn at(v: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap()
}

/// Every request the simulator has received.
async fn sim_requests(env: &TestEnv) -> u64 {
    let stats: Value = env
        .http
        .get(format!("{}/__sim/stats", env.sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["total"].as_u64().unwrap()
}

#[tokio::test]
async fn probes_follow_outage_recovery_and_credential_rotation() {
    let env = TestEnv::start_with(Backend::Sqlite, |c| c.probe_interval_seconds = 1).await;
    let ws = env.workspace(10).await;
    let (con, token) = env.connect(&ws, "probed plant").await;
    crate::sync::initial_sync_done(&env, &token).await;
    wait_status(&env, &ws, &con, "active").await;

    // Healthy: probes succeed with a latency, and the connection shows the latest.
    let ok = until("a successful probe", || async {
        probes(&env, &ws, &con, "ok").await.into_iter().next()
    })
    .await;
    assert!(ok["latency_ms"].as_i64().is_some(), "{ok}");
    assert!(ok["error"].is_null(), "{ok}");
    assert!(connection(&env, &ws, &con).await["health"]["checked_at"].is_string());

    // Outage: offline once, with its event and a failed probe on record.
    env.sim_control("outage", json!({"mode": "503"})).await;
    let offline = wait_status(&env, &ws, &con, "offline").await;
    assert_eq!(offline["health"]["status"], "unreachable", "{offline}");
    let failed = probes(&env, &ws, &con, "unreachable").await;
    assert!(!failed.is_empty());
    assert!(failed[0]["error"].as_str().unwrap().contains("unreachable"));
    assert!(failed[0]["latency_ms"].as_i64().is_some());
    // More probes fail during the outage without a second transition.
    until("a second failed probe", || async {
        (probes(&env, &ws, &con, "unreachable").await.len() >= 2).then_some(())
    })
    .await;
    assert_eq!(event_count(&env, &ws, &con, "connection.offline").await, 1);

    // Recovery: back to active by the probes alone (no sync is due for 15 minutes).
    env.sim_control("outage", json!({"mode": "none"})).await;
    let active = wait_status(&env, &ws, &con, "active").await;
    assert_eq!(active["health"]["status"], "ok", "{active}");
    assert_eq!(event_count(&env, &ws, &con, "connection.offline").await, 1);
    assert_eq!(
        event_count(&env, &ws, &con, "connection.active").await,
        2,
        "active after the first sync and after the recovery"
    );

    // The customer rotates the key: the next probe is refused.
    env.sim_control("credentials", json!({"api_key": "rotated-by-customer"}))
        .await;
    wait_status(&env, &ws, &con, "requires_reauthorization").await;
    assert_eq!(
        event_count(&env, &ws, &con, "connection.requires_reauthorization").await,
        1
    );
    assert!(!probes(&env, &ws, &con, "rejected").await.is_empty());

    // From now on probes are recorded without calling the source: the refused key is never
    // tried again, so the customer's account cannot be locked by retries.
    let skipped_before = until("a probe that is not sent", || async {
        let p = probes(&env, &ws, &con, "requires_reauthorization").await;
        (!p.is_empty()).then_some(p.len())
    })
    .await;
    let requests_before = sim_requests(&env).await;
    let skipped = until("three more probes that are not sent", || async {
        let p = probes(&env, &ws, &con, "requires_reauthorization").await;
        (p.len() >= skipped_before + 3).then_some(p)
    })
    .await;
    assert_eq!(
        sim_requests(&env).await,
        requests_before,
        "no upstream call while waiting for reauthorization"
    );
    let last = skipped.last().unwrap();
    assert!(last["latency_ms"].is_null(), "{last}");
    assert!(last["error"].as_str().unwrap().contains("reauthorization"));
    assert_eq!(
        event_count(&env, &ws, &con, "connection.requires_reauthorization").await,
        1
    );
    let waiting = connection(&env, &ws, &con).await;
    assert_eq!(waiting["status"], "requires_reauthorization");
    assert_eq!(waiting["health"]["status"], "requires_reauthorization");

    // Reauthorized: active again, and real probes succeed.
    let (status, body) = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{con}/reauthorize"),
            &ws.key,
            Some(json!({"credentials": {"api_key": "rotated-by-customer"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reauthorized_at = at(&body["updated_at"]);
    until("a successful probe after reauthorization", || async {
        let p = probes(&env, &ws, &con, "ok").await;
        p.iter()
            .any(|p| at(&p["checked_at"]) > reauthorized_at)
            .then_some(())
    })
    .await;
    assert_eq!(connection(&env, &ws, &con).await["status"], "active");
    assert_eq!(event_count(&env, &ws, &con, "connection.offline").await, 1);
    assert_eq!(
        event_count(&env, &ws, &con, "connection.requires_reauthorization").await,
        1
    );

    // Disconnected: no more probes, so the history is stable and its figures must agree.
    let (status, _) = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{con}/disconnect"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let h = health(&env, &ws, &con).await;
    let data = h["data"].as_array().unwrap();
    let daily = h["daily"].as_array().unwrap();
    assert!(data
        .windows(2)
        .all(|w| at(&w[0]["checked_at"]) <= at(&w[1]["checked_at"])));
    let sum = |k: &str| daily.iter().map(|d| d[k].as_i64().unwrap()).sum::<i64>();
    assert_eq!(sum("probes"), data.len() as i64, "{h}");
    assert_eq!(
        sum("ok"),
        data.iter().filter(|p| p["status"] == "ok").count() as i64
    );
    for d in daily {
        let want = 100.0 * d["ok"].as_f64().unwrap() / d["probes"].as_f64().unwrap();
        assert!((d["uptime"].as_f64().unwrap() - want).abs() < 1e-9, "{d}");
        assert_eq!(d["avg_latency_ms"].is_null(), d["ok"] == 0, "{d}");
    }
    assert!(
        sum("ok") < sum("probes"),
        "the outage and the rotation count as downtime"
    );
}

#[tokio::test]
async fn health_is_per_workspace() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let other = env.workspace(10).await;
    let (con, _) = env.connect(&ws, "private plant").await;
    let h = health(&env, &ws, &con).await;
    assert!(h["data"].is_array() && h["daily"].is_array(), "{h}");
    let got = env
        .call(
            Method::GET,
            &format!("/api/v1/connections/{con}/health"),
            &other.key,
            None,
        )
        .await;
    assert_error(&got, 404, "NOT_FOUND", "not_found_error");
}
