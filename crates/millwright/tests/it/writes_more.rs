//! Unified writes end to end through the HTTP API for Maximo (work order create and update),
//! SAP S/4HANA (maintenance order create, purchase order with items) and a real Tryton server
//! (purchase order with lines, vendor create): the answer in the read shape, readable at once,
//! announced by an event, present in the source; an idempotent replay that writes nothing
//! again; a validation failure naming the field; and a business error of the source passed
//! through readably.

use millwright_sim::{SimHandle, SimOptions, System};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;
// The Tryton support client, loaded once by `tryton.rs` (a second `#[path]` load of the same
// file is clippy's `duplicate_mod`).
use crate::tryton::support;

/// How many events of `event_type` on the connection mention `id`.
async fn events_about(
    env: &TestEnv,
    ws: &Workspace,
    con: &str,
    event_type: &str,
    id: &str,
) -> usize {
    let (status, body) = env
        .call(
            Method::GET,
            &format!("/api/v1/events?type={event_type}&connection_id={con}&page_size=1000"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["data"].to_string().contains(id))
        .count()
}

/// `GET /api/v1/{path}/{id}` must answer exactly `written`: a write answers what a read shows.
async fn reads_as_written(env: &TestEnv, token: &str, path: &str, written: &Value) {
    let id = written["id"].as_str().unwrap();
    let (status, read) = env
        .call(Method::GET, &format!("/api/v1/{path}/{id}"), token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(&read, written, "a write answers what a read shows");
}

/// The fields named in a `VALIDATION_FAILED` answer.
fn fields_named(got: &(StatusCode, Value)) -> Vec<String> {
    got.1["error"]["details"]
        .as_array()
        .unwrap_or_else(|| panic!("no details: {}", got.1))
        .iter()
        .map(|d| d["field"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// A business refusal of the source: 422 `VALIDATION_FAILED`, the source's message readable.
fn assert_source_refused(got: &(StatusCode, Value), needles: &[&str]) {
    assert_error(got, 422, "VALIDATION_FAILED", "invalid_request_error");
    let message = got.1["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("source system refused"),
        "a refusal of the source, not our own validation: {message}"
    );
    for needle in needles {
        assert!(message.contains(needle), "{needle:?} not in {message}");
    }
    assert_eq!(fields_named(got), ["source"], "{}", got.1);
}

// ---------------------------------------------------------------------------------------------
// Maximo

/// `GET /maximo/api/os/{os}…` on the simulator with its API key.
async fn maximo_get(sim: &SimHandle, path_and_query: &str) -> Value {
    let resp = reqwest::Client::new()
        .get(format!("{}/maximo/api/os/{path_and_query}", sim.base_url()))
        .header("apikey", millwright_sim::maximo::DEFAULT_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{path_and_query}");
    resp.json().await.unwrap()
}

/// Work orders the Maximo simulator holds.
async fn maximo_work_order_count(sim: &SimHandle) -> u64 {
    let body = maximo_get(
        sim,
        "mxapiwodetail?lean=1&collectioncount=1&oslc.pageSize=1&oslc.select=wonum",
    )
    .await;
    body["responseInfo"]["totalCount"]
        .as_u64()
        .unwrap_or_else(|| panic!("no totalCount: {body}"))
}

#[tokio::test]
async fn maximo_work_order_create_and_update_end_to_end() {
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
    let (_, assets) = env
        .call(Method::GET, "/api/v1/assets?page_size=1", &token, None)
        .await;
    let asset = assets["data"][0].clone();
    let asset_id = asset["id"].as_str().unwrap().to_string();
    let before = maximo_work_order_count(&sim).await;

    // Create: 201 in the read shape, readable, announced, stored by Maximo.
    let body = json!({"title": "Inspect gearbox", "description": "Noise at high speed",
                      "asset_id": asset_id, "type": "preventive", "priority": "high"});
    let (status, replayed, created) = keyed(
        &env,
        Method::POST,
        "/api/v1/work-orders",
        &token,
        "mx-create-1",
        body.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(!replayed);
    assert_eq!(created["title"], "Inspect gearbox");
    assert_eq!(created["description"], "Noise at high speed");
    assert_eq!(created["asset_id"], asset_id.as_str());
    assert_eq!(created["type"], "preventive");
    assert_eq!(created["priority"], "high");
    assert_eq!(created["status"], "open");
    let id = created["id"].as_str().unwrap().to_string();
    let remote_id = created["remote_id"].as_str().unwrap().to_string();
    reads_as_written(&env, &token, "work-orders", &created).await;
    assert_eq!(
        events_about(&env, &ws, &con, "work_order.created", &id).await,
        1
    );
    assert_eq!(maximo_work_order_count(&sim).await, before + 1);
    let raw = maximo_get(&sim, &format!("mxapiwodetail/{remote_id}?lean=1")).await;
    let raw_asset = maximo_get(
        &sim,
        &format!("mxapiasset/{}?lean=1", asset["remote_id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(raw["description"], "Inspect gearbox", "{raw}");
    assert_eq!(raw["worktype"], "PM", "{raw}");
    assert_eq!(raw["status"], "WAPPR", "{raw}");
    assert_eq!(
        raw["assetnum"], raw_asset["assetnum"],
        "Maximo got its own asset number"
    );
    assert_eq!(raw["siteid"], raw_asset["siteid"], "the asset's site");

    // Replay: the stored answer, nothing new in Maximo.
    let again = keyed(
        &env,
        Method::POST,
        "/api/v1/work-orders",
        &token,
        "mx-create-1",
        body.clone(),
    )
    .await;
    assert_eq!(again.0, StatusCode::CREATED, "{}", again.2);
    assert!(again.1, "Idempotent-Replayed: true");
    assert_eq!(again.2, created);
    assert_eq!(maximo_work_order_count(&sim).await, before + 1);
    assert_eq!(
        events_about(&env, &ws, &con, "work_order.created", &id).await,
        1
    );

    // Validation names the field, before anything reaches Maximo.
    let got = env
        .call(
            Method::POST,
            "/api/v1/work-orders",
            &token,
            Some(json!({"description": "no title", "asset_id": asset_id})),
        )
        .await;
    assert_error(&got, 422, "VALIDATION_FAILED", "invalid_request_error");
    assert_eq!(fields_named(&got), ["title"], "{}", got.1);
    let got = env
        .call(
            Method::POST,
            "/api/v1/work-orders",
            &token,
            Some(json!({"title": "Nowhere"})),
        )
        .await;
    assert_error(&got, 422, "VALIDATION_FAILED", "invalid_request_error");
    assert_eq!(
        fields_named(&got),
        ["asset_id"],
        "a site is needed: {}",
        got.1
    );
    assert_eq!(maximo_work_order_count(&sim).await, before + 1);

    // A business refusal of Maximo on create: a site it does not know.
    let got = env
        .call(
            Method::POST,
            "/api/v1/work-orders",
            &token,
            Some(json!({"title": "Elsewhere", "custom_fields": {"siteid": "NOSUCHSITE"}})),
        )
        .await;
    assert_source_refused(&got, &["BMXAA4049E", "NOSUCHSITE"]);
    assert_eq!(maximo_work_order_count(&sim).await, before + 1);

    // Update (x-method-override: PATCH): 200 in the read shape, readable, announced, in Maximo.
    let patch = json!({"status": "in_progress", "priority": "urgent"});
    let (status, replayed, updated) = keyed(
        &env,
        Method::PATCH,
        &format!("/api/v1/work-orders/{id}"),
        &token,
        "mx-update-1",
        patch.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert!(!replayed);
    assert_eq!(updated["id"], id.as_str());
    assert_eq!(updated["status"], "in_progress");
    assert_eq!(updated["priority"], "urgent");
    assert_eq!(updated["title"], "Inspect gearbox");
    reads_as_written(&env, &token, "work-orders", &updated).await;
    assert_eq!(
        events_about(&env, &ws, &con, "work_order.updated", &id).await,
        1
    );
    let raw = maximo_get(&sim, &format!("mxapiwodetail/{remote_id}?lean=1")).await;
    assert_eq!(raw["status"], "INPRG", "{raw}");
    assert_eq!(raw["wopriority"], 1, "{raw}");
    let changed = raw["changedate"].clone();

    // Replay of the update: the stored answer, no second change in Maximo, no second event.
    let again = keyed(
        &env,
        Method::PATCH,
        &format!("/api/v1/work-orders/{id}"),
        &token,
        "mx-update-1",
        patch,
    )
    .await;
    assert_eq!(again.0, StatusCode::OK, "{}", again.2);
    assert!(again.1, "Idempotent-Replayed: true");
    assert_eq!(again.2, updated);
    let raw = maximo_get(&sim, &format!("mxapiwodetail/{remote_id}?lean=1")).await;
    assert_eq!(raw["changedate"], changed, "Maximo was not written again");
    assert_eq!(
        events_about(&env, &ws, &con, "work_order.updated", &id).await,
        1
    );

    // Validation on update names the field.
    let got = env
        .call(
            Method::PATCH,
            &format!("/api/v1/work-orders/{id}"),
            &token,
            Some(json!({"status": "on_hold"})),
        )
        .await;
    assert_error(&got, 422, "VALIDATION_FAILED", "invalid_request_error");
    assert_eq!(fields_named(&got), ["status"], "{}", got.1);

    // A business refusal of Maximo on update: completed work cannot be started again.
    let done = env
        .call(
            Method::PATCH,
            &format!("/api/v1/work-orders/{id}"),
            &token,
            Some(json!({"status": "completed"})),
        )
        .await;
    assert_eq!(done.0, StatusCode::OK, "{}", done.1);
    assert_eq!(done.1["status"], "completed");
    let got = env
        .call(
            Method::PATCH,
            &format!("/api/v1/work-orders/{id}"),
            &token,
            Some(json!({"status": "in_progress"})),
        )
        .await;
    assert_source_refused(&got, &["BMXAA4590E", "COMP", "INPRG"]);
    let raw = maximo_get(&sim, &format!("mxapiwodetail/{remote_id}?lean=1")).await;
    assert_eq!(raw["status"], "COMP", "{raw}");
    let (_, read) = env
        .call(
            Method::GET,
            &format!("/api/v1/work-orders/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(
        read["status"], "completed",
        "the refused change is not stored"
    );
}

// ---------------------------------------------------------------------------------------------
// SAP S/4HANA

/// `GET /sap/opu/odata/sap/{path}` on the simulator with its logon; answers `d`.
async fn sap_get(sim: &SimHandle, path: &str) -> Value {
    let sep = if path.contains('?') { '&' } else { '?' };
    let resp = reqwest::Client::new()
        .get(format!(
            "{}/sap/opu/odata/sap/{path}{sep}$format=json&sap-client={}",
            sim.base_url(),
            millwright_sim::sap::DEFAULT_CLIENT
        ))
        .basic_auth(
            millwright_sim::sap::DEFAULT_USERNAME,
            Some(millwright_sim::sap::DEFAULT_PASSWORD),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    let body: Value = resp.json().await.unwrap();
    body["d"].clone()
}

/// Records of an entity set (`$inlinecount=allpages`).
async fn sap_count(sim: &SimHandle, set: &str) -> u64 {
    let d = sap_get(sim, &format!("{set}?$top=1&$inlinecount=allpages")).await;
    d["__count"]
        .as_str()
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no __count: {d}"))
}

const SAP_ORDERS: &str = "API_MAINTENANCEORDER;v=0002/MaintenanceOrder";
const SAP_POS: &str = "API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder";

#[tokio::test]
async fn sap_maintenance_order_and_purchase_order_end_to_end() {
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

    // --- Maintenance order create.
    let (_, assets) = env
        .call(Method::GET, "/api/v1/assets?page_size=1", &token, None)
        .await;
    let asset = assets["data"][0].clone();
    let asset_id = asset["id"].as_str().unwrap().to_string();
    let orders_before = sap_count(&sim, SAP_ORDERS).await;
    let body = json!({"title": "Replace pump seal", "type": "corrective", "priority": "high",
                      "asset_id": asset_id});
    let (status, replayed, created) = keyed(
        &env,
        Method::POST,
        "/api/v1/work-orders",
        &token,
        "sap-mo-1",
        body.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(!replayed);
    assert_eq!(created["title"], "Replace pump seal");
    assert_eq!(created["type"], "corrective");
    assert_eq!(created["priority"], "high");
    assert_eq!(created["asset_id"], asset_id.as_str());
    let id = created["id"].as_str().unwrap().to_string();
    let remote_id = created["remote_id"].as_str().unwrap().to_string();
    reads_as_written(&env, &token, "work-orders", &created).await;
    assert_eq!(
        events_about(&env, &ws, &con, "work_order.created", &id).await,
        1
    );
    assert_eq!(sap_count(&sim, SAP_ORDERS).await, orders_before + 1);
    let raw = sap_get(&sim, &format!("{SAP_ORDERS}('{remote_id}')")).await;
    assert_eq!(raw["MaintenanceOrderDesc"], "Replace pump seal", "{raw}");
    assert_eq!(raw["MaintenanceOrderType"], "PM01", "{raw}");
    assert_eq!(
        raw["Equipment"].as_str(),
        asset["remote_id"].as_str(),
        "SAP got its own equipment number: {raw}"
    );

    let again = keyed(
        &env,
        Method::POST,
        "/api/v1/work-orders",
        &token,
        "sap-mo-1",
        body,
    )
    .await;
    assert_eq!(again.0, StatusCode::CREATED, "{}", again.2);
    assert!(again.1, "Idempotent-Replayed: true");
    assert_eq!(again.2, created);
    assert_eq!(sap_count(&sim, SAP_ORDERS).await, orders_before + 1);

    let got = env
        .call(
            Method::POST,
            "/api/v1/work-orders",
            &token,
            Some(
                json!({"title": "A short text far longer than SAP's forty characters",
                        "asset_id": asset_id}),
            ),
        )
        .await;
    assert_error(&got, 422, "VALIDATION_FAILED", "invalid_request_error");
    assert_eq!(fields_named(&got), ["title"], "{}", got.1);

    // SAP's own rule: an order needs a planning plant or a reference object.
    let got = env
        .call(
            Method::POST,
            "/api/v1/work-orders",
            &token,
            Some(json!({"title": "No reference object"})),
        )
        .await;
    assert_source_refused(&got, &["planning plant"]);
    assert_eq!(sap_count(&sim, SAP_ORDERS).await, orders_before + 1);

    // --- Purchase order with items, one request. A supplier SAP no longer has is the
    // business error, so delete one in SAP after the sync; buy from an active other one.
    let gone: Value = env
        .http
        .post(format!("{}/__sim/mutate", sim.base_url()))
        .json(&json!({"entity": "vendors", "op": "delete", "count": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let gone_supplier = gone["ids"][0].as_str().unwrap().to_string();
    let vendors = crate::sync::all_records(&env, &token, "vendors", "").await;
    let gone_vendor = vendors
        .iter()
        .find(|v| v["remote_id"] == gone_supplier.as_str())
        .unwrap_or_else(|| panic!("supplier {gone_supplier} was synced"))
        .clone();
    let vendor = vendors
        .iter()
        .find(|v| v["status"] == "active" && v["remote_id"] != gone_supplier.as_str())
        .expect("an active supplier")
        .clone();
    let vendor_id = vendor["id"].as_str().unwrap().to_string();
    let pos_before = sap_count(&sim, SAP_POS).await;
    let body = json!({
        "vendor_id": vendor_id, "currency": "EUR",
        "line_items": [
            {"description": "Mechanical seal", "quantity": "2", "unit_of_measure": "EA", "unit_price": "125.50"},
            {"description": "Bearing 6204", "quantity": "10", "unit_of_measure": "EA", "unit_price": "8.20"}
        ]
    });
    let (status, replayed, po) = keyed(
        &env,
        Method::POST,
        "/api/v1/purchase-orders",
        &token,
        "sap-po-1",
        body.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{po}");
    assert!(!replayed);
    assert_eq!(po["vendor_id"], vendor_id.as_str());
    assert_eq!(po["currency"], "EUR");
    let lines = po["line_items"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{po}");
    assert_eq!(lines[0]["description"], "Mechanical seal");
    assert_eq!(lines[1]["description"], "Bearing 6204");
    let po_id = po["id"].as_str().unwrap().to_string();
    let po_remote = po["remote_id"].as_str().unwrap().to_string();
    reads_as_written(&env, &token, "purchase-orders", &po).await;
    assert_eq!(
        events_about(&env, &ws, &con, "purchase_order.created", &po_id).await,
        1
    );
    assert_eq!(sap_count(&sim, SAP_POS).await, pos_before + 1);
    let raw = sap_get(
        &sim,
        &format!("{SAP_POS}('{po_remote}')?$expand=to_PurchaseOrderItem"),
    )
    .await;
    assert_eq!(
        raw["Supplier"].as_str(),
        vendor["remote_id"].as_str(),
        "{raw}"
    );
    let items = raw["to_PurchaseOrderItem"]["results"].as_array().unwrap();
    assert_eq!(items.len(), 2, "both items in the one request: {raw}");
    assert_eq!(items[0]["PurchaseOrderItemText"], "Mechanical seal");
    assert_eq!(items[1]["NetPriceAmount"], "8.20");

    let again = keyed(
        &env,
        Method::POST,
        "/api/v1/purchase-orders",
        &token,
        "sap-po-1",
        body,
    )
    .await;
    assert_eq!(again.0, StatusCode::CREATED, "{}", again.2);
    assert!(again.1, "Idempotent-Replayed: true");
    assert_eq!(again.2, po);
    assert_eq!(sap_count(&sim, SAP_POS).await, pos_before + 1);

    let got = env
        .call(
            Method::POST,
            "/api/v1/purchase-orders",
            &token,
            Some(json!({"vendor_id": vendor_id, "line_items": [
                {"description": "Seal", "quantity": "0", "unit_price": "1"}]})),
        )
        .await;
    assert_error(&got, 422, "VALIDATION_FAILED", "invalid_request_error");
    assert_eq!(fields_named(&got), ["line_items[0].quantity"], "{}", got.1);

    let got = env
        .call(
            Method::POST,
            "/api/v1/purchase-orders",
            &token,
            Some(json!({"vendor_id": gone_vendor["id"], "line_items": [
                {"description": "Seal", "quantity": "1", "unit_price": "1"}]})),
        )
        .await;
    assert_source_refused(&got, &["Supplier", &gone_supplier, "does not exist"]);
    assert_eq!(sap_count(&sim, SAP_POS).await, pos_before + 1);
}

// ---------------------------------------------------------------------------------------------
// Tryton (a real server)

/// Purchases of `party` in Tryton.
async fn purchases_of(rpc: &support::Rpc, party: i64) -> i64 {
    rpc.ok(
        "model.purchase.purchase.search_count",
        json!([[["party", "=", party]]]),
    )
    .await
    .as_i64()
    .unwrap()
}

/// Parties named `name` in Tryton (active or not).
async fn parties_named(rpc: &support::Rpc, name: &str) -> i64 {
    rpc.ok(
        "model.party.party.search_count",
        json!([[["name", "=", name], ["active", "in", [true, false]]]]),
    )
    .await
    .as_i64()
    .unwrap()
}

#[tokio::test]
async fn tryton_purchase_order_and_vendor_end_to_end() {
    let server = support::Server::from_env();
    let rpc = support::Rpc::login(&server)
        .await
        .ensure_company(&server)
        .await;
    let tag = millwright_core::time::now().timestamp_micros() % 1_000_000_000;
    // Seeded through JSON-RPC before connecting, so the initial sync brings them in.
    let party = rpc
        .create(
            "party.party",
            json!({"name": format!("Writes Supplier {tag}"), "code": format!("WV-{tag}"),
                   "addresses": [["create", [{"street": "1 Main St", "city": "Springfield",
                                               "postal_code": "12345"}]]]}),
        )
        .await;
    let template = rpc
        .create(
            "product.template",
            json!({"name": format!("Gate Valve DN50 {tag}"), "type": "goods", "default_uom": 1,
                   "purchasable": true, "purchase_uom": 1, "code": format!("GV-{tag}"),
                   "list_price": support::dec("40"),
                   "products": [["create", [{"suffix_code": "-A",
                                             "cost_price": support::dec("31.0000")}]]]}),
        )
        .await;
    let product = rpc.read("product.template", template, &["products"]).await["products"][0]
        .as_i64()
        .unwrap();

    let env = TestEnv::start().await;
    let ws = env.workspace(20).await;
    let (con, token) = connect_synced(
        &env,
        &ws,
        json!({"connector": "tryton", "deployment": "on_premise", "name": "Tryton ERP",
               "credentials": {"base_url": server.url, "database": server.database,
                               "username": "admin", "password": server.password}}),
    )
    .await;
    let vendors = crate::sync::all_records(&env, &token, "vendors", "").await;
    let vendor_id = vendors
        .iter()
        .find(|v| v["remote_id"] == party.to_string().as_str())
        .expect("the seeded party was synced")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let items = crate::sync::all_records(&env, &token, "inventory-items", "").await;
    let item_id = items
        .iter()
        .find(|i| i["remote_id"] == product.to_string().as_str())
        .expect("the seeded product was synced")["id"]
        .as_str()
        .unwrap()
        .to_string();

    // --- Purchase order with its lines: one create, one Tryton transaction.
    let body = json!({
        "vendor_id": vendor_id, "order_date": "2026-11-27", "currency": "USD",
        "line_items": [
            {"item_id": item_id, "quantity": "4", "unit_price": "11.75", "description": "Valves for line 3"},
            {"description": "Expedited freight", "quantity": "1", "unit_of_measure": "u", "unit_price": "35.00"}
        ]
    });
    let (status, replayed, po) = keyed(
        &env,
        Method::POST,
        "/api/v1/purchase-orders",
        &token,
        &format!("tryton-po-{tag}"),
        body.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{po}");
    assert!(!replayed);
    assert_eq!(po["vendor_id"], vendor_id.as_str());
    assert_eq!(po["status"], "draft");
    assert_eq!(po["currency"], "USD");
    assert_eq!(po["total_amount"], "82.00");
    let lines = po["line_items"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{po}");
    assert!(
        lines.iter().any(|l| l["item_id"] == item_id.as_str()),
        "lines name Millwright ids: {po}"
    );
    let po_id = po["id"].as_str().unwrap().to_string();
    let po_remote: i64 = po["remote_id"].as_str().unwrap().parse().unwrap();
    reads_as_written(&env, &token, "purchase-orders", &po).await;
    assert_eq!(
        events_about(&env, &ws, &con, "purchase_order.created", &po_id).await,
        1
    );
    // In Tryton itself.
    let raw = rpc
        .read(
            "purchase.purchase",
            po_remote,
            &["party", "state", "lines", "total_amount", "currency.code"],
        )
        .await;
    assert_eq!(raw["party"], party);
    assert_eq!(raw["state"], "draft");
    assert_eq!(raw["total_amount"], support::dec("82.00"));
    assert_eq!(raw["currency."]["code"], "USD");
    assert_eq!(raw["lines"].as_array().unwrap().len(), 2, "{raw}");
    let raw_lines = rpc
        .ok(
            "model.purchase.line.read",
            json!([raw["lines"], ["product", "quantity", "unit_price"]]),
        )
        .await;
    assert!(
        raw_lines
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["product"] == product && l["quantity"] == 4.0),
        "{raw_lines}"
    );
    assert_eq!(purchases_of(&rpc, party).await, 1);

    let again = keyed(
        &env,
        Method::POST,
        "/api/v1/purchase-orders",
        &token,
        &format!("tryton-po-{tag}"),
        body,
    )
    .await;
    assert_eq!(again.0, StatusCode::CREATED, "{}", again.2);
    assert!(again.1, "Idempotent-Replayed: true");
    assert_eq!(again.2, po);
    assert_eq!(
        purchases_of(&rpc, party).await,
        1,
        "no second purchase in Tryton"
    );

    let got = env
        .call(
            Method::POST,
            "/api/v1/purchase-orders",
            &token,
            Some(json!({"vendor_id": vendor_id, "line_items": [
                {"item_id": item_id, "unit_price": "1"}]})),
        )
        .await;
    assert_error(&got, 422, "VALIDATION_FAILED", "invalid_request_error");
    assert_eq!(fields_named(&got), ["line_items[0].quantity"], "{}", got.1);
    assert_eq!(purchases_of(&rpc, party).await, 1);

    // --- Vendor create.
    let name = format!("Seals & Gaskets {tag}");
    let body = json!({"name": name, "email": "orders@seals.example", "phone": "+1 555 0199",
                      "currency": "USD",
                      "address": {"line1": "9 Dock Rd", "city": "Harbor", "postal_code": "99999"}});
    let (status, replayed, vendor) = keyed(
        &env,
        Method::POST,
        "/api/v1/vendors",
        &token,
        &format!("tryton-vendor-{tag}"),
        body.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{vendor}");
    assert!(!replayed);
    assert_eq!(vendor["name"], name.as_str());
    assert_eq!(vendor["email"], "orders@seals.example");
    assert_eq!(vendor["phone"], "+1 555 0199");
    assert_eq!(vendor["currency"], "USD");
    assert_eq!(vendor["address"]["city"], "Harbor");
    let v_id = vendor["id"].as_str().unwrap().to_string();
    let v_remote: i64 = vendor["remote_id"].as_str().unwrap().parse().unwrap();
    reads_as_written(&env, &token, "vendors", &vendor).await;
    assert_eq!(
        events_about(&env, &ws, &con, "vendor.created", &v_id).await,
        1
    );
    let raw = rpc
        .read(
            "party.party",
            v_remote,
            &["name", "addresses", "contact_mechanisms"],
        )
        .await;
    assert_eq!(raw["name"], name.as_str());
    assert_eq!(raw["addresses"].as_array().unwrap().len(), 1, "{raw}");
    assert_eq!(
        raw["contact_mechanisms"].as_array().unwrap().len(),
        2,
        "{raw}"
    );
    assert_eq!(parties_named(&rpc, &name).await, 1);

    let again = keyed(
        &env,
        Method::POST,
        "/api/v1/vendors",
        &token,
        &format!("tryton-vendor-{tag}"),
        body,
    )
    .await;
    assert_eq!(again.0, StatusCode::CREATED, "{}", again.2);
    assert!(again.1, "Idempotent-Replayed: true");
    assert_eq!(again.2, vendor);
    assert_eq!(
        parties_named(&rpc, &name).await,
        1,
        "no second party in Tryton"
    );

    let got = env
        .call(
            Method::POST,
            "/api/v1/vendors",
            &token,
            Some(json!({"email": "nameless@example.com"})),
        )
        .await;
    assert_error(&got, 422, "VALIDATION_FAILED", "invalid_request_error");
    assert_eq!(fields_named(&got), ["name"], "{}", got.1);

    // Tryton's business rules, passed through: party codes are unique …
    let copycat = format!("Copycat {tag}");
    let got = env
        .call(
            Method::POST,
            "/api/v1/vendors",
            &token,
            Some(json!({"name": copycat, "code": format!("WV-{tag}")})),
        )
        .await;
    assert_error(&got, 422, "VALIDATION_FAILED", "invalid_request_error");
    let message = got.1["error"]["message"].as_str().unwrap();
    assert!(message.contains("source system refused"), "{message}");
    assert!(message.to_lowercase().contains("code"), "{message}");
    assert_eq!(
        parties_named(&rpc, &copycat).await,
        0,
        "the transaction was rolled back"
    );

    // … and a purchase is confirmed only with an invoice address (a vendor written without
    // one, through the API, so its id is known at once).
    let (status, bare) = env
        .call(
            Method::POST,
            "/api/v1/vendors",
            &token,
            Some(json!({"name": format!("No Address {tag}")})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bare}");
    let got = env
        .call(
            Method::POST,
            "/api/v1/purchase-orders",
            &token,
            Some(
                json!({"vendor_id": bare["id"], "status": "approved", "line_items": [
                {"item_id": item_id, "quantity": "1", "unit_price": "1"}]}),
            ),
        )
        .await;
    assert_source_refused(&got, &["Invoice Address", "was created"]);
}
