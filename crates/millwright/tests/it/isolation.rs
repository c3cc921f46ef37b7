//! A credential of one workspace or connection never reaches another's data, on any route.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn workspaces_cannot_see_or_touch_each_other() {
    let env = TestEnv::start().await;
    let a = env.workspace(10).await;
    let b = env.workspace(10).await;
    let (a_con, a_token) = env.connect(&a, "A's plant").await;
    let (b_con, b_token) = env.connect(&b, "B's plant").await;

    let routes: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, format!("/api/v1/connections/{a_con}"), None),
        (
            Method::PATCH,
            format!("/api/v1/connections/{a_con}"),
            Some(json!({"name": "stolen"})),
        ),
        (
            Method::POST,
            format!("/api/v1/connections/{a_con}/reauthorize"),
            Some(json!({"credentials": {"api_key": SIM_KEY}})),
        ),
        (
            Method::POST,
            format!("/api/v1/connections/{a_con}/tokens"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/connections/{a_con}/disconnect"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/connections/{a_con}/data"),
            None,
        ),
    ];
    for (m, path, body) in routes {
        let got = env.call(m.clone(), &path, &b.key, body).await;
        assert_error(&got, 404, "NOT_FOUND", "not_found_error");
    }
    // B's list shows only B's connection.
    let list = env
        .call(Method::GET, "/api/v1/connections", &b.key, None)
        .await;
    let ids: Vec<_> = list.1["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(b_con)]);
    // B's key cannot reach A's connection through the unified API either.
    let got = send(
        env.req(Method::GET, "/api/v1/connection", &b.key)
            .header("x-connection-id", &a_con),
    )
    .await;
    assert_error(&got, 404, "NOT_FOUND", "not_found_error");
    // Each token sees only its own connection, whatever header it adds.
    let got = send(
        env.req(Method::GET, "/api/v1/connection", &b_token)
            .header("x-connection-id", &a_con),
    )
    .await;
    assert_eq!(got.1["id"], b_con.as_str());
    // Tokens cannot use management routes at all.
    for path in [
        "/api/v1/connections",
        "/api/v1/credits",
        "/api/v1/request-logs",
        "/api/v1/connectors",
    ] {
        let got = env.call(Method::GET, path, &a_token, None).await;
        assert_error(&got, 403, "INSUFFICIENT_SCOPE", "permission_error");
    }
    // Credits are per workspace; A's connection is untouched.
    assert_eq!(
        env.call(Method::GET, "/api/v1/credits", &b.key, None)
            .await
            .1["used"],
        1
    );
    let a_view = env
        .call(
            Method::GET,
            &format!("/api/v1/connections/{a_con}"),
            &a.key,
            None,
        )
        .await;
    assert_eq!(a_view.0, StatusCode::OK);
    assert_eq!(a_view.1["name"], "A's plant");
    assert_ne!(a_view.1["status"], "disconnected");
    assert_eq!(
        env.call(Method::GET, "/api/v1/connection", &a_token, None)
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn request_logs_are_per_workspace() {
    let env = TestEnv::start().await;
    let a = env.workspace(10).await;
    let b = env.workspace(10).await;
    let r = env
        .req(Method::GET, "/api/v1/credits", &a.key)
        .send()
        .await
        .unwrap();
    let rid = r.headers()["x-request-id"].to_str().unwrap().to_string();
    crate::request_logs::wait_for_log(&env, &a, &rid).await;
    let got = env
        .call(
            Method::GET,
            &format!("/api/v1/request-logs/{rid}"),
            &b.key,
            None,
        )
        .await;
    assert_error(&got, 404, "NOT_FOUND", "not_found_error");
    let list = env
        .call(
            Method::GET,
            &format!("/api/v1/request-logs?request_id={rid}"),
            &b.key,
            None,
        )
        .await;
    assert_eq!(list.1["data"].as_array().unwrap().len(), 0);
}
