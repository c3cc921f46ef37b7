//! The OpenAPI document and the reference page, served without internet access.

use reqwest::StatusCode;

use crate::common::*;

#[tokio::test]
async fn openapi_covers_every_route_and_docs_are_self_contained() {
    let env = TestEnv::start().await;
    let (status, doc) = send(env.http.get(format!("{}/openapi.json", env.base))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/connectors", "get"),
        ("/api/v1/connections", "post"),
        ("/api/v1/connections", "get"),
        ("/api/v1/connections/{id}", "get"),
        ("/api/v1/connections/{id}", "patch"),
        ("/api/v1/connections/{id}/reauthorize", "post"),
        ("/api/v1/connections/{id}/tokens", "post"),
        ("/api/v1/connections/{id}/disconnect", "post"),
        ("/api/v1/connections/{id}/data", "delete"),
        ("/api/v1/credits", "get"),
        ("/api/v1/request-logs", "get"),
        ("/api/v1/request-logs/{request_id}", "get"),
        ("/api/v1/connection", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let page = env
        .http
        .get(format!("{}/docs/", env.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger"), "the reference page is Swagger UI");
    for external in ["src=\"http", "href=\"http", "cdn."] {
        assert!(!html.contains(external), "the docs page loads {external}…");
    }
    let js = env
        .http
        .get(format!("{}/docs/swagger-ui-bundle.js", env.base))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), StatusCode::OK, "assets are embedded");
}

#[tokio::test]
async fn health_endpoints() {
    let env = TestEnv::start().await;
    let (s, b) = send(env.http.get(format!("{}/healthz", env.base))).await;
    assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (s, b) = send(env.http.get(format!("{}/readyz", env.base))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["database"], "sqlite");
}
