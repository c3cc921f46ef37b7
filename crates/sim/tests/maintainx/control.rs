//! The `/__sim/` control endpoints and the faults they inject.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{ids, start};

fn id_list(body: &Value) -> Vec<u64> {
    body["ids"]
        .as_array()
        .unwrap_or_else(|| panic!("ids in {body}"))
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn rotated_credentials_reject_the_old_key() {
    let mut sim = start(42, 5).await;
    assert_eq!(sim.get("/v1/users").await.0, StatusCode::OK);
    let (status, _) = sim
        .control("/__sim/credentials", json!({"api_key": "rotated"}))
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = sim.get("/v1/users").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["message"].is_string());

    sim.key = "rotated".into();
    assert_eq!(sim.get("/v1/users").await.0, StatusCode::OK);

    // The organization can move too; the old organization header then stops working.
    let (status, _) = sim
        .control(
            "/__sim/credentials",
            json!({"api_key": "rotated", "organization_id": 77}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let with_org = |org: &'static str| {
        sim.request(reqwest::Method::GET, "/v1/users")
            .header("x-organization-id", org)
    };
    assert_eq!(sim.send(with_org("15")).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(sim.send(with_org("77")).await.0, StatusCode::OK);
    assert_eq!(
        sim.get("/v1/organizations").await.1["organizations"][0]["id"],
        77
    );

    let (status, _) = sim
        .control("/__sim/credentials", json!({"apiKey": "x"}))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "field names follow the connector's auth_fields"
    );
}

#[tokio::test]
async fn outage_503_then_recovery() {
    let sim = start(42, 5).await;
    let (status, _) = sim.control("/__sim/outage", json!({"mode": "503"})).await;
    assert_eq!(status, StatusCode::OK);

    let response = sim
        .request(reqwest::Method::GET, "/v1/workorders")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    // Even a bad key gets the outage: the load balancer answers before the API does.
    let anonymous = sim
        .client
        .get(sim.url("/v1/workorders"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::SERVICE_UNAVAILABLE);
    // The control plane keeps working during the outage.
    assert!(sim.stats().await["total"].as_u64().unwrap() >= 2);

    let (status, _) = sim.control("/__sim/outage", json!({"mode": "none"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sim.get("/v1/workorders").await.0, StatusCode::OK);

    assert_eq!(
        sim.control("/__sim/outage", json!({"mode": "down"}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn timeout_outage_holds_requests_open() {
    let sim = start(42, 5).await;
    let (status, _) = sim
        .control("/__sim/outage", json!({"mode": "timeout"}))
        .await;
    assert_eq!(status, StatusCode::OK);

    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = impatient
        .get(sim.url("/v1/workorders"))
        .bearer_auth(&sim.key)
        .send()
        .await
        .expect_err("no answer during a timeout outage");
    assert!(err.is_timeout(), "{err}");

    // A patient client is left hanging until the outage ends, then cut off with 504.
    let patient = sim.request(reqwest::Method::GET, "/v1/workorders").send();
    let waiting = tokio::spawn(patient);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiting.is_finished(), "still held");
    sim.control("/__sim/outage", json!({"mode": "none"})).await;
    let released = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("released when the outage ends")
        .unwrap()
        .unwrap();
    assert_eq!(released.status(), StatusCode::GATEWAY_TIMEOUT);

    assert_eq!(sim.get("/v1/workorders").await.0, StatusCode::OK);
}

#[tokio::test]
async fn shutdown_completes_while_requests_are_held() {
    let sim = start(42, 5).await;
    sim.control("/__sim/outage", json!({"mode": "timeout"}))
        .await;
    let held = tokio::spawn(sim.request(reqwest::Method::GET, "/v1/users").send());
    tokio::time::sleep(Duration::from_millis(100)).await;
    tokio::time::timeout(Duration::from_secs(3), sim.handle.shutdown())
        .await
        .expect("graceful shutdown is not blocked by a held request");
    let _ = held.await;
}

#[tokio::test]
async fn mutate_create_update_delete_show_through_the_api() {
    let sim = start(42, 30).await;

    let (status, created) = sim
        .control(
            "/__sim/mutate",
            json!({"entity": "work_orders", "op": "create", "count": 3}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let created = id_list(&created);
    assert_eq!(created.len(), 3);
    assert!(created.iter().all(|id| *id > 12_030));
    for id in &created {
        let (status, wo) = sim.get(&format!("/v1/workorders/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(wo["workOrder"]["status"], "OPEN");
        assert_eq!(wo["workOrder"]["createdAt"], wo["workOrder"]["updatedAt"]);
    }

    let before: Vec<Value> = sim.all("workorders", "workOrders", 200).await;
    let (_, updated) = sim
        .control(
            "/__sim/mutate",
            json!({"entity": "work_orders", "op": "update", "count": 5}),
        )
        .await;
    let updated = id_list(&updated);
    assert_eq!(updated.len(), 5);
    for id in &updated {
        let old = before.iter().find(|wo| wo["id"] == *id).unwrap();
        let (_, new) = sim.get(&format!("/v1/workorders/{id}")).await;
        let new = &new["workOrder"];
        assert!(
            new["updatedAt"].as_str() > old["updatedAt"].as_str(),
            "updatedAt bumped"
        );
        assert_ne!(new["status"], old["status"], "the workflow moved on");
    }

    let (_, deleted) = sim
        .control(
            "/__sim/mutate",
            json!({"entity": "work_orders", "op": "delete", "count": 4}),
        )
        .await;
    let deleted = id_list(&deleted);
    assert_eq!(deleted.len(), 4);
    for id in &deleted {
        assert_eq!(
            sim.get(&format!("/v1/workorders/{id}")).await.0,
            StatusCode::NOT_FOUND
        );
    }
    let listed = ids(&sim.all("workorders", "workOrders", 200).await);
    assert_eq!(listed.len(), 30 + 3 - 4);
    assert!(deleted.iter().all(|id| !listed.contains(id)));
}

#[tokio::test]
async fn mutate_covers_every_entity() {
    let sim = start(42, 12).await;
    for (entity, resource, key) in [
        ("work_orders", "workorders", "workOrder"),
        ("assets", "assets", "asset"),
        ("locations", "locations", "location"),
        ("inventory_items", "parts", "part"),
        ("purchase_orders", "purchaseorders", "purchaseOrder"),
        ("vendors", "vendors", "vendor"),
        ("users", "users", "user"),
    ] {
        for op in ["create", "update", "delete"] {
            let (status, body) = sim
                .control(
                    "/__sim/mutate",
                    json!({"entity": entity, "op": op, "count": 2}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{entity} {op}: {body}");
            for id in id_list(&body) {
                let (status, record) = sim.get(&format!("/v1/{resource}/{id}")).await;
                if op == "delete" {
                    assert_eq!(status, StatusCode::NOT_FOUND, "{entity} {id}");
                } else {
                    assert_eq!(status, StatusCode::OK, "{entity} {id}");
                    assert!(record[key]["updatedAt"].is_string());
                }
            }
        }
    }
    let (status, body) = sim
        .control(
            "/__sim/mutate",
            json!({"entity": "widgets", "op": "create", "count": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = sim
        .control(
            "/__sim/mutate",
            json!({"entity": "assets", "op": "explode", "count": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, all) = sim
        .control(
            "/__sim/mutate",
            json!({"entity": "vendors", "op": "delete", "count": 1000}),
        )
        .await;
    assert_eq!(
        id_list(&all).len(),
        12,
        "12 + 2 created - 2 deleted, all removed"
    );
    assert!(sim.all("vendors", "vendors", 50).await.is_empty());
}

#[tokio::test]
async fn rate_limit_answers_429_with_reset_header() {
    let sim = start(42, 5).await;
    let (status, _) = sim
        .control("/__sim/rate-limit", json!({"per_minute": 3}))
        .await;
    assert_eq!(status, StatusCode::OK);
    for _ in 0..3 {
        assert_eq!(sim.get("/v1/assets").await.0, StatusCode::OK);
    }
    let limited = sim
        .request(reqwest::Method::GET, "/v1/assets")
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let reset: u64 = limited.headers()["x-rate-limit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&reset), "{reset}");
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(retry_after, reset);
    let body: Value = limited.json().await.unwrap();
    assert!(body["message"].is_string());

    // Control endpoints are never limited.
    for _ in 0..5 {
        sim.stats().await;
    }
    let (status, _) = sim
        .control("/__sim/rate-limit", json!({"per_minute": 0}))
        .await;
    assert_eq!(status, StatusCode::OK);
    for _ in 0..10 {
        assert_eq!(sim.get("/v1/assets").await.0, StatusCode::OK);
    }
}

#[tokio::test]
async fn stats_count_requests_by_route_and_status() {
    let sim = start(42, 5).await;
    let empty = sim.stats().await;
    assert_eq!(empty["total"], 0);

    sim.get("/v1/workorders").await;
    sim.get("/v1/workorders?limit=2").await;
    sim.get("/v1/workorders/12001").await;
    sim.get("/v1/workorders/12002").await;
    sim.get("/v1/assets/1").await;
    sim.client.get(sim.url("/v1/parts")).send().await.unwrap();
    sim.control("/__sim/outage", json!({"mode": "none"})).await;

    let stats = sim.stats().await;
    assert_eq!(stats["total"], 6, "{stats}");
    assert_eq!(stats["requests"]["/v1/workorders"], 2);
    assert_eq!(
        stats["requests"]["/v1/workorders/{id}"], 2,
        "counted by route"
    );
    assert_eq!(stats["requests"]["/v1/assets/{id}"], 1);
    assert_eq!(stats["requests"]["/v1/parts"], 1);
    assert_eq!(stats["statuses"]["200"], 4);
    assert_eq!(stats["statuses"]["404"], 1);
    assert_eq!(stats["statuses"]["401"], 1);
    assert!(
        stats["requests"].get("/__sim/outage").is_none(),
        "control calls are not counted"
    );
}

#[tokio::test]
async fn an_empty_tenant_lists_nothing_and_still_accepts_creations() {
    let sim = start(42, 0).await;
    for (entity, resource, key) in [
        ("work_orders", "workorders", "workOrders"),
        ("assets", "assets", "assets"),
        ("locations", "locations", "locations"),
        ("inventory_items", "parts", "parts"),
        ("purchase_orders", "purchaseorders", "purchaseOrders"),
        ("vendors", "vendors", "vendors"),
        ("users", "users", "users"),
    ] {
        let (status, body) = sim.get(&format!("/v1/{resource}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body[key], json!([]));
        assert!(body["nextCursor"].is_null() && body["nextPageUrl"].is_null());
        let (status, created) = sim
            .control(
                "/__sim/mutate",
                json!({"entity": entity, "op": "create", "count": 3}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{entity}: {created}");
        assert_eq!(sim.all(resource, key, 2).await.len(), 3, "{entity}");
    }
}
