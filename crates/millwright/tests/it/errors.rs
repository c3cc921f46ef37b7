//! Every error code of spec §3 that the foundation can produce, in the contract's shape.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn authentication_failures() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let url = format!("{}/api/v1/connections", env.base);

    let none = send(env.http.get(&url)).await;
    assert_error(&none, 401, "AUTHENTICATION_FAILED", "authentication_error");
    let basic = send(
        env.http
            .get(&url)
            .header("authorization", "Basic dXNlcjpwYXNz"),
    )
    .await;
    assert_error(&basic, 401, "AUTHENTICATION_FAILED", "authentication_error");
    let empty = send(env.http.get(&url).header("authorization", "Bearer ")).await;
    assert_error(&empty, 401, "AUTHENTICATION_FAILED", "authentication_error");

    let unknown_key = format!("mw_sk_{}", "A".repeat(40));
    assert_error(
        &env.call(Method::GET, "/api/v1/connections", &unknown_key, None)
            .await,
        401,
        "TOKEN_INVALID",
        "authentication_error",
    );
    let unknown_token = format!("mw_ct_{}", "B".repeat(40));
    assert_error(
        &env.call(Method::GET, "/api/v1/connection", &unknown_token, None)
            .await,
        401,
        "TOKEN_INVALID",
        "authentication_error",
    );
    assert_error(
        &env.call(Method::GET, "/api/v1/connection", "garbage", None)
            .await,
        401,
        "TOKEN_INVALID",
        "authentication_error",
    );

    // The real key works.
    let ok = env
        .call(Method::GET, "/api/v1/connections", &ws.key, None)
        .await;
    assert_eq!(ok.0, StatusCode::OK);
}

#[tokio::test]
async fn malformed_input_and_unknown_routes() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;

    let malformed = send(
        env.req(Method::POST, "/api/v1/connections", &ws.key)
            .header("content-type", "application/json")
            .body("{\"connector\": "),
    )
    .await;
    assert_error(&malformed, 400, "INVALID_REQUEST", "invalid_request_error");

    let wrong_type = env
        .call(
            Method::POST,
            "/api/v1/connections",
            &ws.key,
            Some(json!({"connector": 5, "name": "x", "credentials": {}})),
        )
        .await;
    assert_error(
        &wrong_type,
        422,
        "VALIDATION_FAILED",
        "invalid_request_error",
    );
    assert_eq!(wrong_type.1["error"]["details"][0]["field"], "connector");

    let bad_cursor = env
        .call(Method::GET, "/api/v1/connections?cursor=zzz", &ws.key, None)
        .await;
    assert_error(&bad_cursor, 400, "INVALID_REQUEST", "invalid_request_error");
    let bad_status = env
        .call(
            Method::GET,
            "/api/v1/connections?status=sleeping",
            &ws.key,
            None,
        )
        .await;
    assert_error(&bad_status, 400, "INVALID_REQUEST", "invalid_request_error");
    let unknown_param = env
        .call(
            Method::GET,
            "/api/v1/request-logs?colour=red",
            &ws.key,
            None,
        )
        .await;
    assert_error(
        &unknown_param,
        400,
        "INVALID_REQUEST",
        "invalid_request_error",
    );
    let bad_page = env
        .call(
            Method::GET,
            "/api/v1/connections?page_size=5000",
            &ws.key,
            None,
        )
        .await;
    assert_error(&bad_page, 400, "INVALID_REQUEST", "invalid_request_error");

    let missing = env
        .call(
            Method::GET,
            "/api/v1/connections/con_01jdoesnotexist000000000000",
            &ws.key,
            None,
        )
        .await;
    assert_error(&missing, 404, "NOT_FOUND", "not_found_error");
    let no_route = send(env.http.get(format!("{}/no/such/path", env.base))).await;
    assert_error(&no_route, 404, "NOT_FOUND", "not_found_error");
    let wrong_method = send(env.http.put(format!("{}/api/v1/credits", env.base))).await;
    assert_error(
        &wrong_method,
        405,
        "METHOD_NOT_ALLOWED",
        "invalid_request_error",
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_any_work() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let mut body = env.maintainx_body("big");
    body["metadata"] = json!({"blob": "x".repeat(1024 * 1024 + 10)});
    let got = env
        .call(Method::POST, "/api/v1/connections", &ws.key, Some(body))
        .await;
    assert_error(&got, 413, "PAYLOAD_TOO_LARGE", "invalid_request_error");
    let list = env
        .call(Method::GET, "/api/v1/connections", &ws.key, None)
        .await;
    assert_eq!(list.1["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn validation_names_every_bad_field() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let got = env
        .call(
            Method::POST,
            "/api/v1/connections",
            &ws.key,
            Some(json!({
                "connector": "maintainx",
                "name": "",
                "credentials": {"base_url": "ftp://x/y", "colour": "red"},
                "metadata": {"n": 5},
                "sync": {"frequency_minutes": 0}
            })),
        )
        .await;
    assert_error(&got, 422, "VALIDATION_FAILED", "invalid_request_error");
    let fields: Vec<&str> = got.1["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    for f in [
        "name",
        "metadata.n",
        "sync.frequency_minutes",
        "credentials.api_key",
        "credentials.colour",
        "credentials.base_url",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    let unknown = env
        .call(
            Method::POST,
            "/api/v1/connections",
            &ws.key,
            Some(json!({"connector": "nope", "name": "x", "credentials": {}})),
        )
        .await;
    assert_error(&unknown, 422, "VALIDATION_FAILED", "invalid_request_error");
    let on_prem = env
        .call(
            Method::POST,
            "/api/v1/connections",
            &ws.key,
            Some(json!({"connector": "maintainx", "deployment": "on_premise", "name": "x", "credentials": {"api_key": "k"}})),
        )
        .await;
    assert_error(&on_prem, 422, "VALIDATION_FAILED", "invalid_request_error");
}

#[tokio::test]
async fn upstream_failures_at_connect_time_store_nothing() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;

    let mut wrong = env.maintainx_body("wrong key");
    wrong["credentials"]["api_key"] = json!("not-the-key");
    let got = env
        .call(Method::POST, "/api/v1/connections", &ws.key, Some(wrong))
        .await;
    assert_error(&got, 422, "CREDENTIALS_INVALID", "invalid_request_error");

    env.sim_control("outage", json!({"mode": "503"})).await;
    let down = env
        .call(
            Method::POST,
            "/api/v1/connections",
            &ws.key,
            Some(env.maintainx_body("down")),
        )
        .await;
    assert_error(&down, 503, "UPSTREAM_UNREACHABLE", "upstream_error");
    env.sim_control("outage", json!({"mode": "none"})).await;

    // Nothing was stored or consumed.
    let list = env
        .call(Method::GET, "/api/v1/connections", &ws.key, None)
        .await;
    assert_eq!(list.1["data"].as_array().unwrap().len(), 0);
    let credits = env
        .call(Method::GET, "/api/v1/credits", &ws.key, None)
        .await;
    assert_eq!(credits.1, json!({"limit": 10, "used": 0, "available": 10}));

    // A closed port is unreachable too.
    let mut closed = env.maintainx_body("closed");
    closed["credentials"]["base_url"] = json!("http://127.0.0.1:9");
    let got = env
        .call(Method::POST, "/api/v1/connections", &ws.key, Some(closed))
        .await;
    assert_error(&got, 503, "UPSTREAM_UNREACHABLE", "upstream_error");
}

#[tokio::test]
async fn connectors_this_build_cannot_reach_yet_say_so() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let catalog = env
        .call(Method::GET, "/api/v1/connectors", &ws.key, None)
        .await;
    for c in catalog.1["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["available"] == false)
    {
        // Every declared field filled, so only availability can refuse it.
        let mut credentials = serde_json::Map::new();
        for f in c["auth_fields"].as_array().unwrap() {
            let name = f["name"].as_str().unwrap();
            let v = if name == "base_url" {
                "http://127.0.0.1:9"
            } else {
                "x"
            };
            credentials.insert(name.to_string(), json!(v));
        }
        let got = env
            .call(
                Method::POST,
                "/api/v1/connections",
                &ws.key,
                Some(json!({"connector": c["id"], "name": "x", "credentials": credentials})),
            )
            .await;
        assert_error(
            &got,
            422,
            "OPERATION_NOT_SUPPORTED",
            "invalid_request_error",
        );
    }
    let list = env
        .call(Method::GET, "/api/v1/connections", &ws.key, None)
        .await;
    assert_eq!(list.1["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn scopes_and_credential_kinds() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let (id, token) = env.connect(&ws, "scoped").await;

    // A connection token cannot use the management API.
    let got = env
        .call(Method::GET, "/api/v1/connections", &token, None)
        .await;
    assert_error(&got, 403, "INSUFFICIENT_SCOPE", "permission_error");

    // A write-only token cannot read.
    let issued = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{id}/tokens"),
            &ws.key,
            Some(json!({"scopes": ["write"]})),
        )
        .await;
    assert_eq!(issued.0, StatusCode::CREATED, "{}", issued.1);
    let write_only = issued.1["access_token"].as_str().unwrap();
    let got = env
        .call(Method::GET, "/api/v1/connection", write_only, None)
        .await;
    assert_error(&got, 403, "INSUFFICIENT_SCOPE", "permission_error");

    // The workspace key on the unified API needs X-Connection-Id.
    let got = env
        .call(Method::GET, "/api/v1/connection", &ws.key, None)
        .await;
    assert_error(&got, 400, "INVALID_REQUEST", "invalid_request_error");
    let got = send(
        env.req(Method::GET, "/api/v1/connection", &ws.key)
            .header("x-connection-id", &id),
    )
    .await;
    assert_eq!(got.0, StatusCode::OK);
    assert_eq!(got.1["id"], id.as_str());
}

#[tokio::test]
async fn tokens_expire() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let (id, _) = env.connect(&ws, "expiring").await;
    let past = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{id}/tokens"),
            &ws.key,
            Some(json!({"expires_at": "2020-01-01T00:00:00Z"})),
        )
        .await;
    assert_error(&past, 422, "VALIDATION_FAILED", "invalid_request_error");

    let soon = (chrono::Utc::now() + chrono::Duration::milliseconds(3000)).to_rfc3339();
    let issued = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{id}/tokens"),
            &ws.key,
            Some(json!({"expires_at": soon})),
        )
        .await;
    assert_eq!(issued.0, StatusCode::CREATED, "{}", issued.1);
    let token = issued.1["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        env.call(Method::GET, "/api/v1/connection", &token, None)
            .await
            .0,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let got = env
        .call(Method::GET, "/api/v1/connection", &token, None)
        .await;
    assert_error(&got, 401, "TOKEN_EXPIRED", "authentication_error");
}

#[tokio::test]
async fn rate_limit_per_credential() {
    let env = TestEnv::start().await;
    let ws = env.workspace_with_rate_limit(10, Some(5)).await;
    let (_, token) = env.connect(&ws, "limited").await; // 1 request of the key's 5
    for i in 0..4 {
        let r = env
            .req(Method::GET, "/api/v1/credits", &ws.key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["ratelimit-limit"], "5");
        assert_eq!(
            r.headers()["ratelimit-remaining"].to_str().unwrap(),
            (3 - i).to_string()
        );
        assert!(r.headers().contains_key("ratelimit-reset"));
    }
    let r = env
        .req(Method::GET, "/api/v1/credits", &ws.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(r.headers()["ratelimit-remaining"], "0");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "RATE_LIMIT_EXCEEDED");
    assert_eq!(body["error"]["type"], "rate_limit_error");
    // Another credential has its own budget.
    assert_eq!(
        env.call(Method::GET, "/api/v1/connection", &token, None)
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn rate_limit_zero_turns_limiting_off() {
    let env = TestEnv::start_with(Backend::Sqlite, |c| c.rate_limit_per_minute = 0).await;
    let ws = env.workspace(10).await;
    for _ in 0..20 {
        let r = env
            .req(Method::GET, "/api/v1/credits", &ws.key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(!r.headers().contains_key("ratelimit-limit"));
    }
}
