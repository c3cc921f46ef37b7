//! Credit arithmetic: consumption, refusal, return on disconnect, concurrency.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

async fn credits(env: &TestEnv, ws: &Workspace) -> serde_json::Value {
    env.call(Method::GET, "/api/v1/credits", &ws.key, None)
        .await
        .1
}

#[tokio::test]
async fn connections_consume_and_return_credits() {
    let env = TestEnv::start().await;
    let ws = env.workspace(3).await;
    assert_eq!(
        credits(&env, &ws).await,
        json!({"limit": 3, "used": 0, "available": 3})
    );
    let (first, _) = env.connect(&ws, "one").await;
    env.connect(&ws, "two").await;
    env.connect(&ws, "three").await;
    assert_eq!(
        credits(&env, &ws).await,
        json!({"limit": 3, "used": 3, "available": 0})
    );

    let refused = env
        .call(
            Method::POST,
            "/api/v1/connections",
            &ws.key,
            Some(env.maintainx_body("four")),
        )
        .await;
    assert_error(
        &refused,
        402,
        "INSUFFICIENT_CREDITS",
        "invalid_request_error",
    );
    let list = env
        .call(Method::GET, "/api/v1/connections", &ws.key, None)
        .await;
    assert_eq!(
        list.1["data"].as_array().unwrap().len(),
        3,
        "a refused connect stores nothing"
    );

    let d = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{first}/disconnect"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(d.0, StatusCode::OK);
    assert_eq!(
        credits(&env, &ws).await,
        json!({"limit": 3, "used": 2, "available": 1})
    );
    env.connect(&ws, "four").await;
    assert_eq!(credits(&env, &ws).await["used"], 3);
}

#[tokio::test]
async fn catalog_shows_tiers_and_credits() {
    let env = TestEnv::start().await;
    let ws = env.workspace(3).await;
    let (status, body) = env
        .call(Method::GET, "/api/v1/connectors", &ws.key, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let data = body["data"].as_array().unwrap();
    let by_id = |id: &str| {
        data.iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("{id} in catalog"))
            .clone()
    };
    let mx = by_id("maintainx");
    assert_eq!(mx["tier"], 1);
    assert_eq!(mx["category"], "cmms");
    assert_eq!(mx["credits"], json!({"cloud": 1}));
    assert_eq!(mx["available"], true);
    assert!(mx["auth_fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "api_key" && f["secret"] == true));
    assert!(mx["entities"]["work_orders"]
        .as_array()
        .unwrap()
        .contains(&json!("create")));
    let maximo = by_id("maximo");
    assert_eq!(maximo["category"], "eam");
    assert_eq!(maximo["credits"], json!({"cloud": 4, "on_premise": 8}));
    assert_eq!(
        by_id("sap_s4hana")["credits"],
        json!({"cloud": 4, "on_premise": 8})
    );
    let tryton = by_id("tryton");
    assert_eq!(tryton["tier"], 2);
    assert_eq!(tryton["credits"], json!({"cloud": 2, "on_premise": 4}));
}

#[tokio::test]
async fn concurrent_creates_never_overspend_sqlite() {
    concurrent_creates(Backend::Sqlite).await;
}

#[tokio::test]
async fn concurrent_creates_never_overspend_postgres() {
    concurrent_creates(Backend::Postgres).await;
}

async fn concurrent_creates(backend: Backend) {
    let env = TestEnv::start_with(backend, |_| {}).await;
    let ws = env.workspace(5).await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let req = env
            .req(Method::POST, "/api/v1/connections", &ws.key)
            .json(&env.maintainx_body(&format!("racer {i}")));
        tasks.push(tokio::spawn(
            async move { req.send().await.unwrap().status() },
        ));
    }
    let mut created = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::PAYMENT_REQUIRED => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((created, refused), (5, 7));
    assert_eq!(
        credits(&env, &ws).await,
        json!({"limit": 5, "used": 5, "available": 0})
    );
    let list = env
        .call(
            Method::GET,
            "/api/v1/connections?page_size=100",
            &ws.key,
            None,
        )
        .await;
    assert_eq!(list.1["data"].as_array().unwrap().len(), 5);
}
