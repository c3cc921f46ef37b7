//! Every API request is logged with its bodies, secrets redacted.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

/// Logs are written off the hot path; wait for one to land.
pub async fn wait_for_log(env: &TestEnv, ws: &Workspace, request_id: &str) -> Value {
    for _ in 0..100 {
        let (status, body) = env
            .call(
                Method::GET,
                &format!("/api/v1/request-logs/{request_id}"),
                &ws.key,
                None,
            )
            .await;
        if status == StatusCode::OK {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("request log {request_id} never appeared");
}

#[tokio::test]
async fn logs_record_requests_with_secrets_redacted() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let resp = env
        .req(Method::POST, "/api/v1/connections", &ws.key)
        .json(&env.maintainx_body("logged"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let rid = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    let created: Value = resp.json().await.unwrap();
    let token = created["access_token"].as_str().unwrap().to_string();
    let con = created["connection"]["id"].as_str().unwrap().to_string();

    let log = wait_for_log(&env, &ws, &rid).await;
    assert_eq!(log["method"], "POST");
    assert_eq!(log["path"], "/api/v1/connections");
    assert_eq!(log["status"], 201);
    assert_eq!(log["workspace_id"], ws.id.as_str());
    assert!(log["duration_ms"].as_i64().is_some());
    let text = log.to_string();
    for secret in [SIM_KEY, token.as_str(), ws.key.as_str()] {
        assert!(
            !text.contains(secret),
            "{secret} leaked into the request log: {text}"
        );
    }
    assert_eq!(log["request"]["headers"]["authorization"], "[REDACTED]");
    let req_body: Value = serde_json::from_str(log["request"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(req_body["credentials"]["api_key"], "[REDACTED]");
    assert_eq!(
        req_body["credentials"]["base_url"],
        env.sim.base_url().as_str()
    );
    let resp_body: Value = serde_json::from_str(log["response"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(resp_body["access_token"], "[REDACTED]");
    assert_eq!(resp_body["connection"]["id"], con.as_str());

    // A failing unified call is logged with its connection and error code, and found by filters.
    let r = env
        .req(Method::GET, "/api/v1/connection", &token)
        .header("x-connection-id", "ignored")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let rid2 = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let log2 = wait_for_log(&env, &ws, &rid2).await;
    assert_eq!(log2["connection_id"], con.as_str());
    let bad = env
        .call(
            Method::GET,
            "/api/v1/connections/con_01jdoesnotexist000000000000",
            &ws.key,
            None,
        )
        .await;
    let bad_rid = bad.1["error"]["request_id"].as_str().unwrap().to_string();
    let bad_log = wait_for_log(&env, &ws, &bad_rid).await;
    assert_eq!(bad_log["status"], 404);
    assert_eq!(bad_log["error_code"], "NOT_FOUND");

    let by_conn = env
        .call(
            Method::GET,
            &format!("/api/v1/request-logs?connection_id={con}"),
            &ws.key,
            None,
        )
        .await;
    assert!(by_conn.1["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["connection_id"] == con.as_str()));
    assert!(!by_conn.1["data"].as_array().unwrap().is_empty());
    let by_status = env
        .call(
            Method::GET,
            "/api/v1/request-logs?status=404",
            &ws.key,
            None,
        )
        .await;
    assert!(by_status.1["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["request_id"] == bad_rid.as_str()));
    assert!(by_status.1["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["status"] == 404));
    let future = env
        .call(
            Method::GET,
            "/api/v1/request-logs?since=2999-01-01T00:00:00Z",
            &ws.key,
            None,
        )
        .await;
    assert_eq!(future.1["data"], json!([]));
    let bad_since = env
        .call(
            Method::GET,
            "/api/v1/request-logs?since=yesterday",
            &ws.key,
            None,
        )
        .await;
    assert_error(&bad_since, 400, "INVALID_REQUEST", "invalid_request_error");
    // Lists carry no bodies; the detail does.
    let list = env
        .call(
            Method::GET,
            &format!("/api/v1/request-logs?request_id={rid}"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(list.1["data"].as_array().unwrap().len(), 1);
    assert!(list.1["data"][0].get("request").is_none());
}

#[tokio::test]
async fn purge_job_removes_logs_past_retention() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let old = millwright_store::RequestLog {
        request_id: millwright_core::ids::new_id("req"),
        workspace_id: Some(ws.id.clone()),
        connection_id: None,
        method: "GET".into(),
        path: "/api/v1/credits".into(),
        status: 200,
        duration_ms: 1,
        request_headers: json!({}),
        request_body: None,
        response_body: None,
        error_code: None,
        created_at: millwright_core::time::now() - chrono::Duration::days(15),
    };
    env.store()
        .insert_request_logs(std::slice::from_ref(&old))
        .await
        .unwrap();
    let worker = millwright::worker::Worker::new(
        env.server.as_ref().unwrap().store.clone(),
        None,
        millwright::worker::WorkerConfig {
            request_log_retention_days: 14,
            ..Default::default()
        },
    );
    // The server's own worker queued the purge at start; run whatever is due.
    worker
        .schedule_purge(millwright_core::time::now())
        .await
        .unwrap();
    for _ in 0..50 {
        worker.tick().await.unwrap();
        if env
            .store()
            .get_request_log(&ws.id, &old.request_id)
            .await
            .unwrap()
            .is_none()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the old request log was not purged");
}
