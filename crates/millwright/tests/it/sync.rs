//! The sync engine end to end: initial, incremental and full syncs into the store, deletion
//! detection, events, outage and reauthorization handling, disconnect during a run.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

/// Connects the simulator with a history window wide enough to take every record.
async fn connect_all_history(env: &TestEnv, ws: &Workspace) -> (String, String) {
    let mut body = env.maintainx_body("sync test");
    body["sync"] = json!({"history_days": 3650});
    let (status, created) = env
        .call(Method::POST, "/api/v1/connections", &ws.key, Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (
        created["connection"]["id"].as_str().unwrap().into(),
        created["access_token"].as_str().unwrap().into(),
    )
}

/// Every record of an entity through the unified API, following cursors.
pub async fn all_records(env: &TestEnv, credential: &str, path: &str, extra: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("/api/v1/{path}?page_size=1000{extra}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (status, body) = env.call(Method::GET, &url, credential, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        out.extend(body["data"].as_array().unwrap().iter().cloned());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

/// Runs of a connection, newest first.
async fn runs(env: &TestEnv, ws: &Workspace, con: &str) -> Vec<Value> {
    let (_, body) = env
        .call(
            Method::GET,
            &format!("/api/v1/connections/{con}/syncs?page_size=100"),
            &ws.key,
            None,
        )
        .await;
    body["data"].as_array().unwrap().clone()
}

/// Waits until the newest run of `entity` not in `before` has ended; returns it.
async fn next_run(
    env: &TestEnv,
    ws: &Workspace,
    con: &str,
    entity: &str,
    before: &[String],
) -> Value {
    for _ in 0..600 {
        let r = runs(env, ws, con).await;
        if let Some(run) = r.iter().find(|r| {
            r["entity"] == entity && !before.contains(&r["id"].as_str().unwrap().to_string())
        }) {
            if run["status"] != "running" {
                return run.clone();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no new {entity} run ended");
}

async fn run_ids(env: &TestEnv, ws: &Workspace, con: &str) -> Vec<String> {
    runs(env, ws, con)
        .await
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// Waits until every entity of the connection has completed a sync.
pub async fn initial_sync_done(env: &TestEnv, token: &str) {
    for _ in 0..1800 {
        let (_, s) = env
            .call(Method::GET, "/api/v1/sync-status", token, None)
            .await;
        if s["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["status"] == "completed")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the initial sync did not complete");
}

async fn connection_status(env: &TestEnv, ws: &Workspace, con: &str) -> String {
    let (_, c) = env
        .call(
            Method::GET,
            &format!("/api/v1/connections/{con}"),
            &ws.key,
            None,
        )
        .await;
    c["status"].as_str().unwrap().to_string()
}

async fn wait_status(env: &TestEnv, ws: &Workspace, con: &str, want: &str) {
    for _ in 0..300 {
        if connection_status(env, ws, con).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "connection never became {want} (is {})",
        connection_status(env, ws, con).await
    );
}

async fn events(env: &TestEnv, ws: &Workspace, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("/api/v1/events?page_size=1000&{query}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (status, body) = env.call(Method::GET, &url, &ws.key, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        out.extend(body["data"].as_array().unwrap().iter().cloned());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

async fn sim_ids(env: &TestEnv, entity: &str, op: &str, count: usize) -> Vec<String> {
    let r: Value = env
        .http
        .post(format!("{}/__sim/mutate", env.sim.base_url()))
        .json(&json!({"entity": entity, "op": op, "count": count}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.to_string().trim_matches('"').to_string())
        .collect()
}

#[tokio::test]
async fn initial_incremental_and_full_syncs() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let (con, token) = connect_all_history(&env, &ws).await;
    initial_sync_done(&env, &token).await;

    // Initial counts equal the source's (scale 20 per entity).
    for path in [
        "assets",
        "locations",
        "work-orders",
        "inventory-items",
        "purchase-orders",
        "vendors",
        "users",
    ] {
        assert_eq!(
            all_records(&env, &token, path, "").await.len(),
            20,
            "{path}"
        );
    }
    let (_, status) = env
        .call(Method::GET, "/api/v1/sync-status", &token, None)
        .await;
    assert!(status["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["record_count"] == 20 && e["last_success_at"].is_string()));
    assert_eq!(connection_status(&env, &ws, &con).await, "active");
    let created_events = events(
        &env,
        &ws,
        &format!("type=work_order.created&connection_id={con}"),
    )
    .await;
    assert_eq!(created_events.len(), 20);
    assert!(created_events
        .iter()
        .all(|e| e["data"]["id"].as_str().unwrap().starts_with("rec_")));

    // Relations point at Millwright ids of records that exist.
    let wos = all_records(&env, &token, "work-orders", "").await;
    let assets: Vec<String> = all_records(&env, &token, "assets", "")
        .await
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    let with_asset: Vec<&Value> = wos.iter().filter(|w| w["asset_id"].is_string()).collect();
    assert!(!with_asset.is_empty());
    assert!(with_asset
        .iter()
        .all(|w| assets.contains(&w["asset_id"].as_str().unwrap().to_string())));

    // Updates and creates at the source: one incremental run picks up exactly those.
    let before = run_ids(&env, &ws, &con).await;
    let mark = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let updated = sim_ids(&env, "work_orders", "update", 3).await;
    let created = sim_ids(&env, "work_orders", "create", 2).await;
    let (s, _) = env
        .call(
            Method::POST,
            "/api/v1/sync",
            &token,
            Some(json!({"entities": ["work_orders"]})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let run = next_run(&env, &ws, &con, "work_orders", &before).await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["mode"], "incremental");
    assert_eq!(
        (
            run["created"].as_i64(),
            run["updated"].as_i64(),
            run["deleted"].as_i64()
        ),
        (Some(2), Some(3), Some(0)),
        "{run}"
    );
    let changed = all_records(
        &env,
        &token,
        "work-orders",
        &format!("&modified_after={}", mark.replace('+', "%2B")),
    )
    .await;
    let mut remote: Vec<String> = changed
        .iter()
        .map(|r| r["remote_id"].as_str().unwrap().to_string())
        .collect();
    remote.sort();
    let mut expected: Vec<String> = updated.iter().chain(created.iter()).cloned().collect();
    expected.sort();
    assert_eq!(
        remote, expected,
        "modified_after returns exactly the changed records"
    );
    let since = mark.replace('+', "%2B");
    assert_eq!(
        events(&env, &ws, &format!("type=work_order.updated&since={since}"))
            .await
            .len(),
        3
    );
    assert_eq!(
        events(&env, &ws, &format!("type=work_order.created&since={since}"))
            .await
            .len(),
        2
    );
    assert_eq!(
        events(&env, &ws, &format!("type=work_order.*&since={since}"))
            .await
            .len(),
        5
    );

    // Deletes at the source: a full run tombstones exactly those.
    let before = run_ids(&env, &ws, &con).await;
    let deleted = sim_ids(&env, "work_orders", "delete", 2).await;
    let (s, _) = env
        .call(
            Method::POST,
            "/api/v1/sync",
            &token,
            Some(json!({"entities": ["work_orders"], "full": true})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let run = next_run(&env, &ws, &con, "work_orders", &before).await;
    assert_eq!(
        (
            run["mode"].as_str(),
            run["deleted"].as_i64(),
            run["created"].as_i64()
        ),
        (Some("full"), Some(2), Some(0)),
        "{run}"
    );
    let live = all_records(&env, &token, "work-orders", "").await;
    assert_eq!(live.len(), 20 + 2 - 2);
    let all = all_records(&env, &token, "work-orders", "&include_deleted=true").await;
    let mut tombstoned: Vec<String> = all
        .iter()
        .filter(|r| r["deleted_at"].is_string())
        .map(|r| r["remote_id"].as_str().unwrap().to_string())
        .collect();
    tombstoned.sort();
    let mut deleted = deleted;
    deleted.sort();
    assert_eq!(tombstoned, deleted);
    assert_eq!(events(&env, &ws, "type=work_order.deleted").await.len(), 2);
    assert_eq!(
        events(&env, &ws, "type=sync.completed")
            .await
            .iter()
            .filter(|e| e["data"]["entity"] == "work_orders")
            .count(),
        3
    );
}

#[tokio::test]
async fn unified_reads_filter_and_show_raw_data_and_mappings() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let (con, token) = connect_all_history(&env, &ws).await;
    initial_sync_done(&env, &token).await;

    let open = all_records(&env, &token, "work-orders", "&status=open").await;
    assert!(open.iter().all(|w| w["status"] == "open"));
    let bad = env
        .call(
            Method::GET,
            "/api/v1/work-orders?status=sleeping",
            &token,
            None,
        )
        .await;
    assert_error(&bad, 400, "INVALID_REQUEST", "invalid_request_error");
    let bad = env
        .call(Method::GET, "/api/v1/work-orders?colour=red", &token, None)
        .await;
    assert_error(&bad, 400, "INVALID_REQUEST", "invalid_request_error");
    let bad = env
        .call(Method::GET, "/api/v1/work-orders?cursor=nope", &token, None)
        .await;
    assert_error(&bad, 400, "INVALID_REQUEST", "invalid_request_error");

    let one = &all_records(&env, &token, "assets", "").await[0];
    let id = one["id"].as_str().unwrap();
    for k in [
        "id",
        "remote_id",
        "display_name",
        "remote_created_at",
        "remote_updated_at",
        "created_at",
        "updated_at",
        "deleted_at",
        "custom_fields",
        "name",
        "status",
    ] {
        assert!(one.get(k).is_some(), "{k} missing from {one}");
    }
    assert!(one.get("remote_data").is_none());
    let (s, raw) = env
        .call(
            Method::GET,
            &format!("/api/v1/assets/{id}?include=remote_data"),
            &token,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        raw["remote_data"]["id"].to_string(),
        one["remote_id"].as_str().unwrap()
    );
    let missing = env
        .call(Method::GET, "/api/v1/assets/rec_doesnotexist", &token, None)
        .await;
    assert_error(&missing, 404, "NOT_FOUND", "not_found_error");

    // A custom field and a remap, on the next read, no resync.
    let (s, body) = env
        .call(
            Method::PATCH,
            &format!("/api/v1/connections/{con}"),
            &ws.key,
            Some(json!({"field_mappings": {"assets": {"custom_fields": {"raw_name": "name"}, "fields": {"description": "name"}}}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (_, mapped) = env
        .call(Method::GET, &format!("/api/v1/assets/{id}"), &token, None)
        .await;
    assert_eq!(
        mapped["custom_fields"]["raw_name"],
        raw["remote_data"]["name"]
    );
    assert_eq!(mapped["description"], raw["remote_data"]["name"]);
    let bad = env
        .call(
            Method::PATCH,
            &format!("/api/v1/connections/{con}"),
            &ws.key,
            Some(json!({"field_mappings": {"assets": {"fields": {"id": "x"}}}})),
        )
        .await;
    assert_error(&bad, 422, "VALIDATION_FAILED", "invalid_request_error");
}

#[tokio::test]
async fn outage_goes_offline_and_recovers() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let (con, token) = connect_all_history(&env, &ws).await;
    initial_sync_done(&env, &token).await;

    env.sim_control("outage", json!({"mode": "503"})).await;
    let before = run_ids(&env, &ws, &con).await;
    env.call(
        Method::POST,
        "/api/v1/sync",
        &token,
        Some(json!({"entities": ["assets"]})),
    )
    .await;
    let run = next_run(&env, &ws, &con, "assets", &before).await;
    assert_eq!(run["status"], "failed");
    wait_status(&env, &ws, &con, "offline").await;
    assert_eq!(events(&env, &ws, "type=connection.offline").await.len(), 1);
    // Reads are served from the store while the source is down.
    assert_eq!(all_records(&env, &token, "assets", "").await.len(), 20);

    env.sim_control("outage", json!({"mode": "none"})).await;
    let before = run_ids(&env, &ws, &con).await;
    env.call(
        Method::POST,
        "/api/v1/sync",
        &token,
        Some(json!({"entities": ["assets"]})),
    )
    .await;
    let run = next_run(&env, &ws, &con, "assets", &before).await;
    assert_eq!(run["status"], "completed");
    wait_status(&env, &ws, &con, "active").await;
    assert_eq!(
        events(&env, &ws, "type=connection.offline").await.len(),
        1,
        "each transition once"
    );
    let active = events(
        &env,
        &ws,
        &format!("type=connection.active&connection_id={con}"),
    )
    .await;
    assert_eq!(
        active.len(),
        2,
        "active after the first sync and after recovery"
    );
}

#[tokio::test]
async fn rejected_credentials_require_reauthorization() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let (con, token) = connect_all_history(&env, &ws).await;
    initial_sync_done(&env, &token).await;

    env.sim_control("credentials", json!({"api_key": "rotated-by-customer"}))
        .await;
    let before = run_ids(&env, &ws, &con).await;
    env.call(
        Method::POST,
        "/api/v1/sync",
        &token,
        Some(json!({"entities": ["users"]})),
    )
    .await;
    next_run(&env, &ws, &con, "users", &before).await;
    wait_status(&env, &ws, &con, "requires_reauthorization").await;
    assert_eq!(
        events(&env, &ws, "type=connection.requires_reauthorization")
            .await
            .len(),
        1
    );

    // The token answers REAUTHORIZATION_REQUIRED except on /connection and /sync-status.
    let got = env
        .call(Method::GET, "/api/v1/work-orders", &token, None)
        .await;
    assert_error(
        &got,
        401,
        "REAUTHORIZATION_REQUIRED",
        "authentication_error",
    );
    let got = env
        .call(Method::POST, "/api/v1/sync", &token, Some(json!({})))
        .await;
    assert_error(
        &got,
        401,
        "REAUTHORIZATION_REQUIRED",
        "authentication_error",
    );
    assert_eq!(
        env.call(Method::GET, "/api/v1/connection", &token, None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        env.call(Method::GET, "/api/v1/sync-status", &token, None)
            .await
            .0,
        StatusCode::OK
    );
    // The workspace key still reads the stored data.
    let via_key = send(
        env.req(Method::GET, "/api/v1/work-orders", &ws.key)
            .header("x-connection-id", &con),
    )
    .await;
    assert_eq!(via_key.0, StatusCode::OK);
    assert_eq!(via_key.1["data"].as_array().unwrap().len(), 20);

    let before = run_ids(&env, &ws, &con).await;
    let ok = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{con}/reauthorize"),
            &ws.key,
            Some(json!({"credentials": {"api_key": "rotated-by-customer"}})),
        )
        .await;
    assert_eq!(ok.0, StatusCode::OK, "{}", ok.1);
    assert_eq!(ok.1["status"], "active");
    assert_eq!(
        events(&env, &ws, "type=connection.reauthorized")
            .await
            .len(),
        1
    );
    // Syncing again: reauthorization queues a sync of every entity.
    let run = next_run(&env, &ws, &con, "users", &before).await;
    assert_eq!(run["status"], "completed");
    assert_eq!(
        env.call(Method::GET, "/api/v1/work-orders", &token, None)
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn disconnect_during_a_run_writes_nothing_after() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let (con, token) = connect_all_history(&env, &ws).await;
    initial_sync_done(&env, &token).await;

    // Hold the source's answers, start a full run, disconnect while it waits.
    sim_ids(&env, "work_orders", "create", 5).await;
    env.sim_control("outage", json!({"mode": "timeout"})).await;
    let before = run_ids(&env, &ws, &con).await;
    env.call(
        Method::POST,
        "/api/v1/sync",
        &token,
        Some(json!({"entities": ["work_orders"], "full": true})),
    )
    .await;
    for _ in 0..100 {
        if runs(&env, &ws, &con).await.iter().any(|r| {
            r["status"] == "running" && !before.contains(&r["id"].as_str().unwrap().to_string())
        }) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let d = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{con}/disconnect"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(d.0, StatusCode::OK);
    env.sim_control("outage", json!({"mode": "none"})).await;
    let run = next_run(&env, &ws, &con, "work_orders", &before).await;
    assert_eq!(run["status"], "cancelled", "{run}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stored = send(
        env.req(Method::GET, "/api/v1/work-orders?page_size=1000", &ws.key)
            .header("x-connection-id", &con),
    )
    .await;
    assert_eq!(
        stored.1["data"].as_array().unwrap().len(),
        20,
        "nothing written after the disconnect"
    );
    let (_, status) = env
        .call(
            Method::GET,
            &format!("/api/v1/connections/{con}/sync-status"),
            &ws.key,
            None,
        )
        .await;
    assert!(status["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["next_run_at"].is_null()));
    let refused = send(
        env.req(Method::POST, "/api/v1/sync", &ws.key)
            .header("x-connection-id", &con)
            .json(&json!({})),
    )
    .await;
    assert_error(&refused, 409, "CONNECTION_DISCONNECTED", "conflict_error");
}

/// A list answer as bytes, and the same answer as reads built it before records kept their
/// rendering: the `include=remote_data` answer (which never uses a rendering) with
/// `remote_data` taken out, encoded again by serde_json (sorted keys, compact).
async fn list_bytes_and_reference(env: &TestEnv, token: &str, query: &str) -> (String, String) {
    entity_bytes_and_reference(env, token, "work-orders", query).await
}

async fn entity_bytes_and_reference(
    env: &TestEnv,
    token: &str,
    path: &str,
    query: &str,
) -> (String, String) {
    let get = |url: String| async move {
        let r = env.req(Method::GET, &url, token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/json");
        r.text().await.unwrap()
    };
    let fast = get(format!("/api/v1/{path}?page_size=1000{query}")).await;
    let slow = get(format!(
        "/api/v1/{path}?page_size=1000{query}&include=remote_data"
    ))
    .await;
    let mut reference: Value = serde_json::from_str(&slow).unwrap();
    for r in reference["data"].as_array_mut().unwrap() {
        assert!(r["remote_data"].is_object(), "{r}");
        r.as_object_mut().unwrap().remove("remote_data");
    }
    (fast, serde_json::to_string(&reference).unwrap())
}

/// List and single reads send each record's stored rendering when no field mapping applies:
/// byte for byte the JSON reads built before, with and without custom fields, after updates,
/// deletions and writes through the API; a mapping of the entity still changes the answer.
#[tokio::test]
async fn rendered_reads_are_byte_for_byte_the_built_ones() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let (con, token) = connect_all_history(&env, &ws).await;
    initial_sync_done(&env, &token).await;

    let (fast, reference) = list_bytes_and_reference(&env, &token, "").await;
    assert_eq!(fast, reference);
    let list: Value = serde_json::from_str(&fast).unwrap();
    let items = list["data"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    // Every entity the simulator serves, records with custom fields and without.
    let (mut with_custom, mut without_custom) = (0, 0);
    let (_, status) = env
        .call(Method::GET, "/api/v1/sync-status", &token, None)
        .await;
    for e in status["data"].as_array().unwrap() {
        let path = e["entity"].as_str().unwrap().replace('_', "-");
        let (fast, reference) = entity_bytes_and_reference(&env, &token, &path, "").await;
        assert_eq!(fast, reference, "{path}");
        let list: Value = serde_json::from_str(&fast).unwrap();
        for r in list["data"].as_array().unwrap() {
            if r["custom_fields"].as_object().unwrap().is_empty() {
                without_custom += 1;
            } else {
                with_custom += 1;
            }
        }
    }
    assert!(
        with_custom > 0 && without_custom > 0,
        "{with_custom} {without_custom}"
    );
    // A single read is the list's item, byte for byte.
    for item in items.iter().take(3) {
        let r = env
            .req(
                Method::GET,
                &format!("/api/v1/work-orders/{}", item["id"].as_str().unwrap()),
                &token,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.text().await.unwrap(), item.to_string());
    }
    // A short page carries its cursor after the renderings.
    let (fast, reference) = list_bytes_and_reference(&env, &token, "&page_size=7").await;
    assert_eq!(fast, reference);
    assert!(fast.contains("\"next_cursor\":\""), "{fast}");

    // Updated and deleted at the source, then a full run: the renderings follow.
    let before = run_ids(&env, &ws, &con).await;
    sim_ids(&env, "work_orders", "update", 3).await;
    sim_ids(&env, "work_orders", "delete", 2).await;
    let (s, _) = env
        .call(
            Method::POST,
            "/api/v1/sync",
            &token,
            Some(json!({"entities": ["work_orders"], "full": true})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let run = next_run(&env, &ws, &con, "work_orders", &before).await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["deleted"], 2, "{run}");
    let (fast, reference) = list_bytes_and_reference(&env, &token, "&include_deleted=true").await;
    assert_eq!(fast, reference);
    let all: Value = serde_json::from_str(&fast).unwrap();
    let deleted: Vec<&Value> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["deleted_at"].is_null())
        .collect();
    assert_eq!(deleted.len(), 2, "{fast}");

    // A write through the API stores the new rendering too.
    let live = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["deleted_at"].is_null())
        .unwrap();
    let (s, written) = env
        .call(
            Method::PATCH,
            &format!("/api/v1/work-orders/{}", live["id"].as_str().unwrap()),
            &token,
            Some(json!({"title": "Rendered again"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{written}");
    let (fast, reference) = list_bytes_and_reference(&env, &token, "").await;
    assert_eq!(fast, reference);
    assert!(fast.contains("Rendered again"));

    // A mapping of another entity leaves work orders on their renderings.
    let (s, body) = env
        .call(
            Method::PATCH,
            &format!("/api/v1/connections/{con}"),
            &ws.key,
            Some(json!({"field_mappings": {"assets": {"fields": {"description": "name"}}}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (fast, reference) = list_bytes_and_reference(&env, &token, "").await;
    assert_eq!(fast, reference);
    // A mapping of work orders (a custom field and a remap) is applied, not the rendering.
    let (s, body) = env
        .call(
            Method::PATCH,
            &format!("/api/v1/connections/{con}"),
            &ws.key,
            Some(json!({"field_mappings": {"work_orders": {"custom_fields": {"raw_title": "title"}, "fields": {"description": "title"}}}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (mapped, reference) = list_bytes_and_reference(&env, &token, "").await;
    assert_eq!(mapped, reference);
    let mapped: Value = serde_json::from_str(&mapped).unwrap();
    for r in mapped["data"].as_array().unwrap() {
        assert!(r["custom_fields"].get("raw_title").is_some(), "{r}");
        assert_eq!(r["description"], r["custom_fields"]["raw_title"], "{r}");
    }
}
