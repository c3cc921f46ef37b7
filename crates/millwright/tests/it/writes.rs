//! Unified writes, idempotency, passthrough and field mappings through the HTTP API, against
//! the MaintainX, Maximo and SAP simulators: what the source receives, what the store then
//! serves, and which events are written.

use std::time::Duration;

use millwright_core::{record::record_id, Entity};
use millwright_sim::{SimHandle, SimOptions, System};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

/// Work orders the MaintainX simulator holds (scale 20: one page).
async fn sim_work_orders(sim: &SimHandle) -> Vec<Value> {
    let body: Value = reqwest::Client::new()
        .get(format!("{}/v1/workorders?limit=200", sim.base_url()))
        .bearer_auth(SIM_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body["nextCursor"].is_null(), "one page expected: {body}");
    body["workOrders"].as_array().unwrap().clone()
}

/// Whether a MaintainX record (numeric id) has the remote id `id`.
fn is_id(record: &Value, id: &str) -> bool {
    record["id"].as_u64().map(|n| n.to_string()).as_deref() == Some(id)
}

/// Requests the simulator served, by route.
async fn sim_requests(sim: &SimHandle, route: &str) -> u64 {
    let stats: Value = reqwest::get(format!("{}/__sim/stats", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["requests"][route].as_u64().unwrap_or(0)
}

/// Events of `event_type` on the connection.
async fn events(env: &TestEnv, ws: &Workspace, con: &str, event_type: &str) -> Vec<Value> {
    let (status, body) = env
        .call(
            Method::GET,
            &format!("/api/v1/events?type={event_type}&connection_id={con}&page_size=1000"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

fn about(events: &[Value], id: &str) -> usize {
    events
        .iter()
        .filter(|e| e["data"].to_string().contains(id))
        .count()
}

/// The first record of a list.
async fn first(env: &TestEnv, token: &str, path: &str) -> Value {
    let (status, body) = env
        .call(
            Method::GET,
            &format!("/api/v1/{path}?page_size=1"),
            token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"][0].clone()
}

#[tokio::test]
async fn maintainx_work_order_create_update_delete() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let (con, token) = connect_synced(&env, &ws, env.maintainx_body("writes")).await;
    let asset = first(&env, &token, "assets").await;
    let asset_id = asset["id"].as_str().unwrap();
    let before = sim_work_orders(&env.sim).await.len();

    // Create: 201 in the read shape, relations as Millwright ids, status set through its own
    // MaintainX call.
    let body = json!({
        "title": "Pump 3 seal leak", "description": "Weeping at the gland",
        "priority": "high", "asset_id": asset_id, "status": "in_progress",
        "custom_fields": {"Cost center": "CC-12"}
    });
    let (status, replayed, created) = keyed(
        &env,
        Method::POST,
        "/api/v1/work-orders",
        &token,
        "wo-create-1",
        body.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(!replayed);
    let id = created["id"].as_str().unwrap().to_string();
    let remote_id = created["remote_id"].as_str().unwrap().to_string();
    assert_eq!(id, record_id(&con, Entity::WorkOrders, &remote_id));
    assert_eq!(created["title"], "Pump 3 seal leak");
    assert_eq!(created["priority"], "high");
    assert_eq!(created["status"], "in_progress");
    assert_eq!(
        created["asset_id"], asset_id,
        "relations answer Millwright ids"
    );
    assert_eq!(created["custom_fields"]["Cost center"], "CC-12");
    assert!(created["deleted_at"].is_null());
    assert!(created.get("remote_data").is_none());

    // Readable at once, in exactly that shape, and announced.
    let read = env
        .call(
            Method::GET,
            &format!("/api/v1/work-orders/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(read.0, StatusCode::OK);
    assert_eq!(read.1, created, "a write answers what a read shows");
    assert_eq!(
        about(&events(&env, &ws, &con, "work_order.created").await, &id),
        1
    );
    let in_sim = sim_work_orders(&env.sim).await;
    assert_eq!(in_sim.len(), before + 1);
    let sim_wo = in_sim.iter().find(|w| is_id(w, &remote_id)).unwrap();
    assert_eq!(sim_wo["status"], "IN_PROGRESS");
    assert_eq!(
        sim_wo["assetId"].to_string(),
        asset["remote_id"].as_str().unwrap(),
        "the source got its own asset id"
    );

    // Replay: the same answer, nothing new in the source.
    let again = keyed(
        &env,
        Method::POST,
        "/api/v1/work-orders",
        &token,
        "wo-create-1",
        body.clone(),
    )
    .await;
    assert_eq!(again.0, StatusCode::CREATED);
    assert!(again.1, "Idempotent-Replayed: true");
    assert_eq!(again.2, created);
    assert_eq!(sim_work_orders(&env.sim).await.len(), before + 1);

    // The same key with another request.
    let other = keyed(
        &env,
        Method::POST,
        "/api/v1/work-orders",
        &token,
        "wo-create-1",
        json!({"title": "Something else"}),
    )
    .await;
    assert_eq!(other.0, StatusCode::CONFLICT, "{}", other.2);
    assert_eq!(other.2["error"]["code"], "IDEMPOTENCY_CONFLICT");

    // Concurrent first requests with one key write once.
    let race = json!({"title": "Concurrent"});
    let (a, b) = tokio::join!(
        keyed(
            &env,
            Method::POST,
            "/api/v1/work-orders",
            &token,
            "wo-race",
            race.clone()
        ),
        keyed(
            &env,
            Method::POST,
            "/api/v1/work-orders",
            &token,
            "wo-race",
            race.clone()
        ),
    );
    assert_eq!((a.0, b.0), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(a.2["id"], b.2["id"]);
    assert!(a.1 ^ b.1, "exactly one of the two is a replay");
    assert_eq!(sim_work_orders(&env.sim).await.len(), before + 2);

    // Validation names the field, before anything reaches the source.
    let got = env
        .call(
            Method::POST,
            "/api/v1/work-orders",
            &token,
            Some(json!({"description": "no title"})),
        )
        .await;
    assert_error(&got, 422, "VALIDATION_FAILED", "invalid_request_error");
    assert_eq!(got.1["error"]["details"][0]["field"], "title", "{}", got.1);
    let got = env
        .call(
            Method::POST,
            "/api/v1/work-orders",
            &token,
            Some(json!({"title": "x", "asset_id": "rec_nosuchasset", "assignee_ids": ["rec_nobody"]})),
        )
        .await;
    assert_error(&got, 422, "VALIDATION_FAILED", "invalid_request_error");
    let fields: Vec<&str> = got.1["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["asset_id", "assignee_ids[0]"], "{}", got.1);
    assert_eq!(sim_work_orders(&env.sim).await.len(), before + 2);

    // A business refusal of the source comes back readable: an asset the source deleted
    // since the last sync.
    let gone: Value = env
        .http
        .post(format!("{}/__sim/mutate", env.sim.base_url()))
        .json(&json!({"entity": "assets", "op": "delete", "count": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let gone_remote = gone["ids"][0].to_string().trim_matches('"').to_string();
    let gone_id = record_id(&con, Entity::Assets, &gone_remote);
    let got = env
        .call(
            Method::POST,
            "/api/v1/work-orders",
            &token,
            Some(json!({"title": "On a vanished asset", "asset_id": gone_id})),
        )
        .await;
    assert_error(&got, 422, "VALIDATION_FAILED", "invalid_request_error");
    let message = got.1["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("source system refused") && message.contains("not found"),
        "{message}"
    );

    // Update: the status through MaintainX's status call, then readable.
    let status_calls = sim_requests(&env.sim, "/v1/workorders/{id}/status").await;
    let updated = env
        .call(
            Method::PATCH,
            &format!("/api/v1/work-orders/{id}"),
            &token,
            Some(json!({"status": "completed", "title": "Pump 3 seal replaced"})),
        )
        .await;
    assert_eq!(updated.0, StatusCode::OK, "{}", updated.1);
    assert_eq!(updated.1["status"], "completed");
    assert_eq!(updated.1["title"], "Pump 3 seal replaced");
    assert!(updated.1["completed_at"].is_string(), "{}", updated.1);
    assert_eq!(
        sim_requests(&env.sim, "/v1/workorders/{id}/status").await,
        status_calls + 1
    );
    let read = env
        .call(
            Method::GET,
            &format!("/api/v1/work-orders/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(read.1, updated.1);
    assert_eq!(
        about(&events(&env, &ws, &con, "work_order.updated").await, &id),
        1
    );
    let got = env
        .call(
            Method::PATCH,
            "/api/v1/work-orders/rec_nosuchrecord",
            &token,
            Some(json!({"title": "x"})),
        )
        .await;
    assert_error(&got, 404, "NOT_FOUND", "not_found_error");

    // Operations the connector does not offer, before anything is sent.
    for (path, body) in [
        ("/api/v1/assets", json!({"name": "New pump"})),
        ("/api/v1/maintenance-schedules", json!({"name": "Weekly"})),
    ] {
        let got = env.call(Method::POST, path, &token, Some(body)).await;
        assert_error(
            &got,
            422,
            "OPERATION_NOT_SUPPORTED",
            "invalid_request_error",
        );
    }
    let got = env
        .call(
            Method::DELETE,
            &format!("/api/v1/assets/{}", asset_id),
            &token,
            None,
        )
        .await;
    assert_error(
        &got,
        422,
        "OPERATION_NOT_SUPPORTED",
        "invalid_request_error",
    );

    // Delete: gone in the source, tombstoned here, announced.
    let deleted = env
        .call(
            Method::DELETE,
            &format!("/api/v1/work-orders/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(deleted.0, StatusCode::OK, "{}", deleted.1);
    assert!(deleted.1["deleted_at"].is_string());
    assert_eq!(deleted.1["id"], id.as_str());
    assert!(!sim_work_orders(&env.sim)
        .await
        .iter()
        .any(|w| is_id(w, &remote_id)));
    assert_eq!(
        about(&events(&env, &ws, &con, "work_order.deleted").await, &id),
        1
    );
    let (_, live) = env
        .call(
            Method::GET,
            "/api/v1/work-orders?page_size=1000",
            &token,
            None,
        )
        .await;
    assert!(!live["data"].to_string().contains(&id));
    let again = env
        .call(
            Method::DELETE,
            &format!("/api/v1/work-orders/{id}"),
            &token,
            None,
        )
        .await;
    assert_error(&again, 404, "NOT_FOUND", "not_found_error");

    // Writes need the write scope (a new token revokes the old one, so this comes last).
    let issued = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{con}/tokens"),
            &ws.key,
            Some(json!({"scopes": ["read"]})),
        )
        .await;
    let read_only = issued.1["access_token"].as_str().unwrap();
    let got = env
        .call(
            Method::POST,
            "/api/v1/work-orders",
            read_only,
            Some(json!({"title": "x"})),
        )
        .await;
    assert_error(&got, 403, "INSUFFICIENT_SCOPE", "permission_error");

    // A disconnected connection takes no writes (the workspace key still reaches it).
    let (status, _) = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{con}/disconnect"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let got = send(
        env.req(Method::POST, "/api/v1/work-orders", &ws.key)
            .header("x-connection-id", &con)
            .json(&json!({"title": "x"})),
    )
    .await;
    assert_error(&got, 409, "CONNECTION_DISCONNECTED", "conflict_error");
}

#[tokio::test]
async fn passthrough_reaches_only_the_source_api() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let (con, token) = env.connect(&ws, "passthrough").await;

    let got = env
        .call(
            Method::POST,
            "/api/v1/passthrough",
            &token,
            Some(json!({"method": "GET", "path": "/workorders?limit=2"})),
        )
        .await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    assert_eq!(got.1["status"], 200);
    assert_eq!(got.1["body"]["workOrders"].as_array().unwrap().len(), 2);
    assert!(got.1["headers"]["content-type"]
        .as_str()
        .unwrap()
        .contains("json"));

    // The source's own errors are the caller's to read.
    let got = env
        .call(
            Method::POST,
            "/api/v1/passthrough",
            &token,
            Some(json!({"method": "get", "path": "/workorders/999999999"})),
        )
        .await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    assert_eq!(got.1["status"], 404);

    // The stored key never goes anywhere else, and no caller credential rides along.
    for path in [
        "http://evil.example/v1/users",
        "//evil.example/v1/users",
        "../secrets",
        "/users/../../admin",
        "/%2e%2e/admin",
    ] {
        let got = env
            .call(
                Method::POST,
                "/api/v1/passthrough",
                &token,
                Some(json!({"method": "GET", "path": path})),
            )
            .await;
        assert_error(&got, 422, "VALIDATION_FAILED", "invalid_request_error");
        assert_eq!(got.1["error"]["details"][0]["field"], "path", "{path}");
    }
    let got = env
        .call(
            Method::POST,
            "/api/v1/passthrough",
            &token,
            Some(json!({"method": "GET", "path": "/users", "headers": {"Authorization": "Bearer mine"}})),
        )
        .await;
    assert_error(&got, 422, "VALIDATION_FAILED", "invalid_request_error");
    assert_eq!(
        got.1["error"]["details"][0]["field"],
        "headers.Authorization"
    );
    let got = env
        .call(
            Method::POST,
            "/api/v1/passthrough",
            &token,
            Some(json!({"method": "TRACE", "path": "/users"})),
        )
        .await;
    assert_error(&got, 422, "VALIDATION_FAILED", "invalid_request_error");

    // Field mappings: the connector's tables, overlaid with the connection's own.
    let (status, patched) = env
        .call(
            Method::PATCH,
            &format!("/api/v1/connections/{con}"),
            &ws.key,
            Some(json!({"field_mappings": {"work_orders": {
                "custom_fields": {"categories": "categories"},
                "fields": {"description": "title"}
            }}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, mappings) = env
        .call(Method::GET, "/api/v1/field-mappings", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{mappings}");
    assert_eq!(mappings["connector"], "maintainx");
    let wo = mappings["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entity"] == "work_orders")
        .unwrap();
    let row = |field: &str| {
        wo["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["field"] == field)
            .cloned()
            .unwrap_or_else(|| panic!("no {field} in {wo}"))
    };
    assert_eq!(
        row("title"),
        json!({"field": "title", "source": "title", "origin": "connector"})
    );
    assert_eq!(row("description")["source"], "title");
    assert_eq!(row("description")["origin"], "connection");
    assert_eq!(row("custom_fields.categories")["origin"], "connection");
    let po = mappings["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entity"] == "purchase_orders")
        .unwrap();
    assert!(po["fields"].to_string().contains("line_items.quantity"));

    // Passthrough needs its own scope.
    let issued = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{con}/tokens"),
            &ws.key,
            Some(json!({"scopes": ["read", "write"]})),
        )
        .await;
    let no_passthrough = issued.1["access_token"].as_str().unwrap();
    let got = env
        .call(
            Method::POST,
            "/api/v1/passthrough",
            no_passthrough,
            Some(json!({"method": "GET", "path": "/users"})),
        )
        .await;
    assert_error(&got, 403, "INSUFFICIENT_SCOPE", "permission_error");
}

#[tokio::test]
async fn maximo_work_order_created_through_the_api() {
    let env = TestEnv::start().await;
    let sim = millwright_sim::spawn(System::Maximo, SimOptions { seed: 7, scale: 20 })
        .await
        .unwrap();
    let ws = env.workspace(20).await;
    let (con, token) = connect_synced(
        &env,
        &ws,
        json!({"connector": "maximo", "name": "Maximo", "credentials": {
            "base_url": sim.base_url(), "api_key": millwright_sim::maximo::DEFAULT_API_KEY}}),
    )
    .await;
    let asset = first(&env, &token, "assets").await;
    let (status, replayed, created) = keyed(
        &env,
        Method::POST,
        "/api/v1/work-orders",
        &token,
        "mx-1",
        json!({"title": "Inspect gearbox", "asset_id": asset["id"], "type": "preventive"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(!replayed);
    assert_eq!(created["title"], "Inspect gearbox");
    assert_eq!(created["asset_id"], asset["id"]);
    let id = created["id"].as_str().unwrap();
    let read = env
        .call(
            Method::GET,
            &format!("/api/v1/work-orders/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(read.1, created);
    assert_eq!(
        about(&events(&env, &ws, &con, "work_order.created").await, id),
        1
    );

    let passthrough = env
        .call(
            Method::POST,
            "/api/v1/passthrough",
            &token,
            Some(json!({"method": "GET", "path": "/api/os/mxapiasset?lean=1&oslc.pageSize=1"})),
        )
        .await;
    assert_eq!(passthrough.0, StatusCode::OK, "{}", passthrough.1);
    assert_eq!(passthrough.1["status"], 200, "{}", passthrough.1);
    assert!(
        passthrough.1["body"]["member"].is_array(),
        "{}",
        passthrough.1
    );
}

#[tokio::test]
async fn sap_purchase_order_with_items_in_one_request() {
    let env = TestEnv::start().await;
    let sim = millwright_sim::spawn(System::Sap, SimOptions { seed: 7, scale: 20 })
        .await
        .unwrap();
    let ws = env.workspace(20).await;
    let (con, token) = connect_synced(
        &env,
        &ws,
        json!({"connector": "sap_s4hana", "name": "S/4HANA", "credentials": {
            "base_url": sim.base_url(),
            "username": millwright_sim::sap::DEFAULT_USERNAME,
            "password": millwright_sim::sap::DEFAULT_PASSWORD,
            "client": millwright_sim::sap::DEFAULT_CLIENT}}),
    )
    .await;
    let vendor = first(&env, &token, "vendors").await;
    let (status, _, created) = keyed(
        &env,
        Method::POST,
        "/api/v1/purchase-orders",
        &token,
        "po-1",
        json!({
            "vendor_id": vendor["id"], "currency": "EUR",
            "line_items": [
                {"description": "Mechanical seal", "quantity": "2", "unit_of_measure": "EA", "unit_price": "125.50"},
                {"description": "Bearing 6204", "quantity": "10", "unit_of_measure": "EA", "unit_price": "8.20"}
            ]
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["vendor_id"], vendor["id"]);
    let lines = created["line_items"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{created}");
    assert_eq!(lines[0]["description"], "Mechanical seal");
    let id = created["id"].as_str().unwrap();
    let read = env
        .call(
            Method::GET,
            &format!("/api/v1/purchase-orders/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(read.1, created);
    assert_eq!(
        about(&events(&env, &ws, &con, "purchase_order.created").await, id),
        1
    );

    // Passthrough with the stored logon (and `sap-client`).
    let passthrough = env
        .call(
            Method::POST,
            "/api/v1/passthrough",
            &token,
            Some(json!({"method": "GET", "path": "/API_EQUIPMENT/Equipment?$top=1&$format=json"})),
        )
        .await;
    assert_eq!(passthrough.0, StatusCode::OK, "{}", passthrough.1);
    assert_eq!(passthrough.1["status"], 200, "{}", passthrough.1);
    assert_eq!(
        passthrough.1["body"]["d"]["results"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "{}",
        passthrough.1
    );

    // A modifying passthrough fetches a CSRF token first: the simulator then judges the body,
    // not the token (an empty purchase order is a business error, not a 403).
    let passthrough = env
        .call(
            Method::POST,
            "/api/v1/passthrough",
            &token,
            Some(json!({"method": "POST", "path": "/API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder", "body": {}})),
        )
        .await;
    assert_eq!(passthrough.0, StatusCode::OK, "{}", passthrough.1);
    let status = passthrough.1["status"].as_u64().unwrap();
    assert_eq!(status, 400, "{}", passthrough.1);
    assert!(
        passthrough.1["headers"].get("set-cookie").is_none(),
        "the session stays Millwright's"
    );
}
