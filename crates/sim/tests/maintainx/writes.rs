//! Work-order writes persist, validate, and bump `updatedAt`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{ids, start};

fn ts(v: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("timestamp string")).unwrap()
}

#[tokio::test]
async fn create_persists_and_lists_last() {
    let sim = start(42, 20).await;
    let (status, created) = sim
        .post(
            "/v1/workorders",
            json!({
                "title": "Pump 3 seal leak",
                "description": "Drips at the gland.",
                "priority": "HIGH",
                "assetId": 8003,
                "locationId": 2005,
                "assignees": [101, "not-an-id@example"],
                "dueDate": "2026-03-21T17:00:00Z",
                "categories": ["Corrective"],
                "estimatedTime": 5400,
                "externalData": {"erpRef": "PO-42"},
                "extraFields": {"Failure Code": "SEAL-LEAK"}
            }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "unknown assignee e-mail: {created}"
    );

    let user_email = sim.get("/v1/users/102").await.1["user"]["email"].clone();
    let (status, created) = sim
        .post(
            "/v1/workorders",
            json!({
                "title": "Pump 3 seal leak",
                "description": "Drips at the gland.",
                "priority": "HIGH",
                "assetId": 8003,
                "locationId": 2005,
                "assignees": [101, user_email, {"type": "USER", "id": 103}],
                "dueDate": "2026-03-21T17:00:00Z",
                "categories": ["Corrective"],
                "estimatedTime": 5400,
                "externalData": {"erpRef": "PO-42"},
                "extraFields": {"Failure Code": "SEAL-LEAK"}
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_u64().expect("id at the top level");
    assert!(id > 12_020, "new ids come after seeded ones");
    assert_eq!(created["sequentialId"], 21);
    assert_eq!(created["status"], "OPEN");
    assert_eq!(created["priority"], "HIGH");
    assert_eq!(created["assigneeIds"], json!([101, 102, 103]));
    assert_eq!(created["dueDate"], "2026-03-21T17:00:00.000Z");
    assert_eq!(created["createdAt"], created["updatedAt"]);

    let (status, fetched) = sim
        .get(&format!("/v1/workorders/{id}?expand=extra_fields"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched["workOrder"]["title"], "Pump 3 seal leak");
    assert_eq!(fetched["workOrder"]["externalData"]["erpRef"], "PO-42");
    assert_eq!(
        fetched["workOrder"]["extraFields"]["Failure Code"],
        "SEAL-LEAK"
    );

    let all = sim.all("workorders", "workOrders", 200).await;
    assert_eq!(all.len(), 21);
    assert_eq!(*ids(&all).last().unwrap(), id);
}

#[tokio::test]
async fn create_validates_its_body() {
    let sim = start(42, 5).await;
    for (body, what) in [
        (json!({"description": "no title"}), "missing title"),
        (json!({"title": ""}), "empty title"),
        (json!({"title": 7}), "title not a string"),
        (
            json!({"title": "x", "priority": "URGENT"}),
            "unknown priority",
        ),
        (json!({"title": "x", "assetId": 999_999}), "unknown asset"),
        (json!({"title": "x", "dueDate": "tomorrow"}), "bad date"),
        (json!({"title": "x", "estimatedTime": -5}), "negative time"),
        (json!(["title"]), "not an object"),
    ] {
        let (status, out) = sim.post("/v1/workorders", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {out}");
        assert!(out["message"].is_string(), "{what}");
    }
    let not_json = sim
        .request(Method::POST, "/v1/workorders")
        .header("content-type", "application/json")
        .body("{title:");
    assert_eq!(sim.send(not_json).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        sim.all("workorders", "workOrders", 100).await.len(),
        5,
        "nothing created"
    );
}

#[tokio::test]
async fn patch_changes_fields_and_bumps_updated_at() {
    let sim = start(42, 10).await;
    let (_, before) = sim.get("/v1/workorders/12004").await;
    let before = &before["workOrder"];
    let (status, after) = sim
        .patch(
            "/v1/workorders/12004",
            json!({"title": "Replace coupling insert", "priority": "LOW", "assignees": [], "dueDate": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{after}");
    let after = &after["workOrder"];
    assert_eq!(after["title"], "Replace coupling insert");
    assert_eq!(after["priority"], "LOW");
    assert_eq!(after["assigneeIds"], json!([]));
    assert!(after["dueDate"].is_null());
    assert_eq!(after["createdAt"], before["createdAt"]);
    assert_eq!(after["status"], before["status"], "status untouched");
    assert!(ts(&after["updatedAt"]) > ts(&before["updatedAt"]));

    let (_, again) = sim.get("/v1/workorders/12004").await;
    assert_eq!(&again["workOrder"], after, "persisted");

    let (status, _) = sim
        .patch("/v1/workorders/12004", json!({"status": "DONE"}))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "status has its own endpoint"
    );
    assert_eq!(
        sim.patch("/v1/workorders/999", json!({"title": "x"}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // A second write in quick succession still moves updatedAt forward.
    let (_, second) = sim
        .patch("/v1/workorders/12004", json!({"description": "again"}))
        .await;
    assert!(ts(&second["workOrder"]["updatedAt"]) > ts(&after["updatedAt"]));
}

#[tokio::test]
async fn status_endpoint_moves_the_workflow() {
    let sim = start(42, 10).await;
    let (status, done) = sim
        .patch("/v1/workorders/12002/status", json!({"status": "DONE"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let done = &done["workOrder"];
    assert_eq!(done["status"], "DONE");
    let completed = ts(&done["completedAt"]);
    assert!(completed <= ts(&done["updatedAt"]));

    let (_, reopened) = sim
        .patch(
            "/v1/workorders/12002/status",
            json!({"status": "IN_PROGRESS"}),
        )
        .await;
    let reopened = &reopened["workOrder"];
    assert_eq!(reopened["status"], "IN_PROGRESS");
    assert!(reopened["completedAt"].is_null());
    assert!(ts(&reopened["updatedAt"]) > ts(&done["updatedAt"]));

    for bad in [
        json!({"status": "COMPLETED"}),
        json!({"status": null}),
        json!({}),
    ] {
        assert_eq!(
            sim.patch("/v1/workorders/12002/status", bad.clone())
                .await
                .0,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    let (_, current) = sim.get("/v1/workorders/12002").await;
    assert_eq!(
        current["workOrder"]["status"], "IN_PROGRESS",
        "failed calls change nothing"
    );
    assert_eq!(
        sim.patch("/v1/workorders/1/status", json!({"status": "DONE"}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn delete_removes_from_get_and_lists() {
    let sim = start(42, 10).await;
    assert_eq!(
        sim.delete("/v1/workorders/12003").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        sim.get("/v1/workorders/12003").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sim.delete("/v1/workorders/12003").await,
        StatusCode::NOT_FOUND
    );
    let remaining = ids(&sim.all("workorders", "workOrders", 4).await);
    assert_eq!(remaining.len(), 9);
    assert!(!remaining.contains(&12_003));
    assert_eq!(
        sim.patch("/v1/workorders/12003", json!({"title": "x"}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}
