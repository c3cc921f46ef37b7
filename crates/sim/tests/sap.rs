//! The SAP S/4HANA simulator over real HTTP: Basic logon and `sap-client`, the OData v2
//! envelope, `$top`/`$skip` and server-driven `__next` paging, `$filter`/`$orderby`/`$select`/
//! `$expand`, the CSRF handshake, deep insert and SAP's error body, and the `/__sim/` controls.

use std::collections::BTreeSet;

use millwright_sim::{
    sap::{DEFAULT_PASSWORD, DEFAULT_USERNAME, MAX_PAGE_SIZE},
    spawn, SimHandle, SimOptions, System,
};
use reqwest::{header, Client, StatusCode};
use serde_json::{json, Value};

const EQUIPMENT: &str = "API_EQUIPMENT/Equipment";
const ORDERS: &str = "API_MAINTENANCEORDER;v=0002/MaintenanceOrder";
const POS: &str = "API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder";

async fn sim(scale: usize) -> SimHandle {
    spawn(System::Sap, SimOptions { seed: 5, scale })
        .await
        .unwrap()
}

fn url(sim: &SimHandle, path: &str) -> String {
    format!("{}/sap/opu/odata/sap/{path}", sim.base_url())
}

async fn get_as(
    url: &str,
    user: &str,
    password: &str,
    query: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = Client::new()
        .get(url)
        .basic_auth(user, Some(password))
        .header(header::ACCEPT, "application/json")
        .query(query)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(url: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
    get_as(url, DEFAULT_USERNAME, DEFAULT_PASSWORD, query).await
}

async fn control(sim: &SimHandle, path: &str, body: Value) -> Value {
    let response = Client::new()
        .post(format!("{}/__sim/{path}", sim.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// Follows `d.__next` to the end; answers every record and the number of pages.
async fn all(first: &str, query: &[(&str, &str)]) -> (Vec<Value>, usize) {
    let (status, mut page) = get(first, query).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mut records = Vec::new();
    let mut pages = 1;
    loop {
        records.extend(page["d"]["results"].as_array().unwrap().iter().cloned());
        let Some(next) = page["d"]["__next"].as_str().map(str::to_owned) else {
            break;
        };
        let (status, body) = get(&next, &[]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        page = body;
        pages += 1;
    }
    (records, pages)
}

/// `X-CSRF-Token: Fetch`: the token and the cookies to send back.
async fn fetch_token(sim: &SimHandle, service: &str) -> (String, String) {
    let response = Client::new()
        .get(url(sim, &format!("{service}/")))
        .basic_auth(DEFAULT_USERNAME, Some(DEFAULT_PASSWORD))
        .header("x-csrf-token", "Fetch")
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let token = response.headers()["x-csrf-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let cookies = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    assert!(cookies.contains("SAP_SESSIONID_S4H_100="), "{cookies}");
    (token, cookies)
}

async fn post(
    url: &str,
    token: Option<(&str, &str)>,
    body: Value,
) -> (StatusCode, header::HeaderMap, String) {
    let mut request = Client::new()
        .post(url)
        .basic_auth(DEFAULT_USERNAME, Some(DEFAULT_PASSWORD))
        .header(header::ACCEPT, "application/json")
        .json(&body);
    if let Some((token, cookies)) = token {
        request = request
            .header("x-csrf-token", token)
            .header(header::COOKIE, cookies);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

#[tokio::test]
async fn logon_needs_user_password_and_the_right_client() {
    let sim = sim(5).await;
    let (status, body) = get(&url(&sim, EQUIPMENT), &[("$top", "1")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let response = Client::new()
        .get(url(&sim, EQUIPMENT))
        .basic_auth(DEFAULT_USERNAME, Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let realm = response.headers()[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap();
    assert_eq!(
        realm,
        "Basic realm=\"SAP NetWeaver Application Server [S4H/100]\""
    );
    let (status, _) = get(&url(&sim, EQUIPMENT), &[("sap-client", "200")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = get(
        &url(&sim, EQUIPMENT),
        &[("sap-client", "100"), ("$top", "1")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A changed password: the old one now gets the logon error.
    control(
        &sim,
        "credentials",
        json!({"username": "SIMUSER", "password": "new-pass"}),
    )
    .await;
    let (status, _) = get(&url(&sim, EQUIPMENT), &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = get_as(&url(&sim, EQUIPMENT), "simuser", "new-pass", &[]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn every_entity_set_pages_to_exactly_scale_records() {
    let sim = sim(2_300).await;
    for path in [
        EQUIPMENT,
        "API_FUNCTIONALLOCATION/FunctionalLocation",
        ORDERS,
        "API_MAINTENANCEPLAN/MaintenancePlan",
        POS,
        "API_BUSINESS_PARTNER/A_Supplier",
    ] {
        let (records, pages) = all(&url(&sim, path), &[("$format", "json")]).await;
        assert_eq!(records.len(), 2_300, "{path}");
        assert_eq!(pages, 3, "{path}: pages of {MAX_PAGE_SIZE}");
        let keys: BTreeSet<String> = records
            .iter()
            .map(|r| r["__metadata"]["uri"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(keys.len(), 2_300, "{path}: distinct records");
    }
    // Client-driven paging: $top within the cap gets no __next.
    let (status, body) = get(
        &url(&sim, ORDERS),
        &[("$top", "10"), ("$skip", "5"), ("$inlinecount", "allpages")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["d"]["results"].as_array().unwrap().len(), 10);
    assert_eq!(body["d"]["results"][0]["MaintenanceOrder"], "4000005");
    assert_eq!(body["d"]["__count"], "2300");
    assert!(body["d"].get("__next").is_none());
    // A $top above the cap is served page by page, ending at $top.
    let (records, pages) = all(&url(&sim, ORDERS), &[("$top", "1500")]).await;
    assert_eq!((records.len(), pages), (1500, 2));
}

#[tokio::test]
async fn wire_format_is_odata_v2() {
    let sim = sim(50).await;
    let (_, body) = get(&url(&sim, EQUIPMENT), &[("$top", "1")]).await;
    let eq = &body["d"]["results"][0];
    assert_eq!(eq["Equipment"], "10000000");
    assert_eq!(eq["__metadata"]["type"], "API_EQUIPMENT.A_EquipmentType");
    assert!(eq["__metadata"]["uri"]
        .as_str()
        .unwrap()
        .ends_with("/sap/opu/odata/sap/API_EQUIPMENT/Equipment(Equipment='10000000',ValidityEndDate=datetime'9999-12-31T00%3A00%3A00')"));
    let changed = eq["LastChangeDateTime"].as_str().unwrap();
    assert!(
        changed.starts_with("/Date(") && changed.ends_with("+0000)/"),
        "{changed}"
    );
    let created = eq["CreationDate"].as_str().unwrap();
    assert!(
        created.starts_with("/Date(") && !created.contains('+'),
        "{created}"
    );
    assert!(
        eq["AcquisitionValue"].as_str().unwrap().contains('.'),
        "decimals are strings"
    );
    assert!(eq["to_Partner"]["__deferred"]["uri"].is_string());
    assert_eq!(eq["MaintenancePlant"], "1010");
    // The single entity, by its full key.
    let uri = eq["__metadata"]["uri"].as_str().unwrap();
    let (status, single) = get(uri, &[]).await;
    assert_eq!(status, StatusCode::OK, "{single}");
    assert_eq!(single["d"]["Equipment"], "10000000");
    // Functional locations form a tree under plant 1010.
    let (_, fl) = get(
        &url(
            &sim,
            "API_FUNCTIONALLOCATION/FunctionalLocation('1010-SP-PMP')",
        ),
        &[],
    )
    .await;
    assert_eq!(fl["d"]["SuperiorFunctionalLocation"], "1010-SP");
    // $select keeps the named properties and __metadata.
    let (_, sel) = get(
        &url(&sim, ORDERS),
        &[("$top", "2"), ("$select", "MaintenanceOrder,MaintPriority")],
    )
    .await;
    let first = sel["d"]["results"][0].as_object().unwrap();
    let keys: BTreeSet<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["__metadata", "MaintenanceOrder", "MaintPriority"])
    );
    // $expand brings the purchase order items inline, each with its own __metadata.
    let (_, po) = get(
        &url(&sim, POS),
        &[("$top", "3"), ("$expand", "to_PurchaseOrderItem")],
    )
    .await;
    let items = po["d"]["results"][0]["to_PurchaseOrderItem"]["results"]
        .as_array()
        .unwrap();
    assert!(!items.is_empty());
    assert_eq!(items[0]["PurchaseOrderItem"], "10");
    assert!(items[0]["__metadata"]["uri"]
        .as_str()
        .unwrap()
        .contains("A_PurchaseOrderItem(PurchaseOrder='4500000000',PurchaseOrderItem='10')"));
    assert!(items[0]["NetPriceAmount"].is_string());
    let (_, po) = get(&url(&sim, POS), &[("$top", "1")]).await;
    assert!(po["d"]["results"][0]["to_PurchaseOrderItem"]["__deferred"].is_object());
    // An unknown entity set: an OData error body.
    let (status, err) = get(&url(&sim, "API_EQUIPMENT/Nope"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(err["error"]["message"]["value"].is_string());
}

#[tokio::test]
async fn filter_on_last_change_and_key_with_orderby() {
    let sim = sim(3_000).await;
    let (all_orders, _) = all(&url(&sim, ORDERS), &[("$orderby", "LastChangeDateTime")]).await;
    assert_eq!(all_orders.len(), 3_000);
    let ms = |r: &Value| -> i64 {
        let t = r["LastChangeDateTime"].as_str().unwrap();
        t[6..t.find('+').unwrap()].parse().unwrap()
    };
    assert!(
        all_orders.windows(2).all(|w| ms(&w[0]) <= ms(&w[1])),
        "ordered by change time"
    );
    let cut = ms(&all_orders[2_000]);
    let iso = chrono_iso(cut);
    let filter = format!("LastChangeDateTime gt datetimeoffset'{iso}'");
    let (since, _) = all(
        &url(&sim, ORDERS),
        &[("$filter", &filter), ("$orderby", "LastChangeDateTime")],
    )
    .await;
    assert_eq!(since.len(), 999);
    assert!(since.iter().all(|r| ms(r) > cut));
    // A changed record moves past the cut-off.
    let ids = control(
        &sim,
        "mutate",
        json!({"entity": "work_orders", "op": "update", "count": 3}),
    )
    .await;
    let (since, _) = all(
        &url(&sim, ORDERS),
        &[("$filter", &filter), ("$orderby", "LastChangeDateTime")],
    )
    .await;
    let changed: BTreeSet<&str> = ids["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let tail: BTreeSet<&str> = since[since.len() - 3..]
        .iter()
        .map(|r| r["MaintenanceOrder"].as_str().unwrap())
        .collect();
    assert_eq!(tail, changed, "updated orders come last");
    // `eq` on the key.
    let (_, one) = get(
        &url(&sim, "API_BUSINESS_PARTNER/A_Supplier"),
        &[("$filter", "Supplier eq '17300042'")],
    )
    .await;
    let results = one["d"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["Supplier"], "17300042");
    // Other filters scan.
    let (pm02, _) = all(
        &url(&sim, ORDERS),
        &[("$filter", "MaintenanceOrderType eq 'PM02'")],
    )
    .await;
    assert!(!pm02.is_empty() && pm02.iter().all(|r| r["MaintenanceOrderType"] == "PM02"));
    let (status, err) = get(
        &url(&sim, ORDERS),
        &[("$filter", "MaintenanceOrderType eq")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["error"]["code"].is_string());
}

fn chrono_iso(ms: i64) -> String {
    // Seconds precision is what a client sends; the seeded times are whole seconds.
    let secs = ms / 1000;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's algorithm).
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[tokio::test]
async fn writes_need_a_csrf_token_and_deep_insert_persists() {
    let sim = sim(20).await;
    let order = json!({
        "MaintenanceOrderType": "PM01",
        "MaintenanceOrderDesc": "Replace leaking pump seal",
        "MaintPriority": "2",
        "Equipment": "10000003",
    });
    let (status, headers, body) = post(&url(&sim, ORDERS), None, order.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(headers["x-csrf-token"], "Required");
    assert_eq!(body, "CSRF token validation failed");
    let (token, cookies) = fetch_token(&sim, "API_MAINTENANCEORDER;v=0002").await;
    // A token without its session cookie is no token.
    let (status, _, _) = post(&url(&sim, ORDERS), Some((&token, "")), order.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, headers, body) = post(&url(&sim, ORDERS), Some((&token, &cookies)), order).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    let number = created["d"]["MaintenanceOrder"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(number, "4000020");
    assert!(headers[header::LOCATION]
        .to_str()
        .unwrap()
        .ends_with("MaintenanceOrder('4000020')"));
    assert_eq!(created["d"]["SystemStatusText"], "CRTD NMAT PRC SETC");
    let (_, read) = get(&url(&sim, &format!("{ORDERS}('{number}')")), &[]).await;
    assert_eq!(
        read["d"]["MaintenanceOrderDesc"],
        "Replace leaking pump seal"
    );
    assert_eq!(read["d"]["MaintenancePlanningPlant"], "1010");

    let (token, cookies) = fetch_token(&sim, "API_PURCHASEORDER_PROCESS_SRV").await;
    let po = json!({
        "Supplier": "17300002",
        "to_PurchaseOrderItem": {"results": [
            {"PurchaseOrderItemText": "Mechanical seal 35 mm", "Material": "SEAL-00035", "OrderQuantity": "2", "PurchaseOrderQuantityUnit": "EA", "NetPriceAmount": "184.50"},
            {"PurchaseOrderItemText": "Ball bearing 6205-2RS", "OrderQuantity": "4", "NetPriceAmount": "12.75"},
        ]},
    });
    let (status, _, body) = post(&url(&sim, POS), Some((&token, &cookies)), po).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(created["d"]["PurchaseOrder"], "4500000020");
    let (_, read) = get(
        &url(&sim, POS),
        &[
            ("$filter", "PurchaseOrder eq '4500000020'"),
            ("$expand", "to_PurchaseOrderItem"),
        ],
    )
    .await;
    let items = read["d"]["results"][0]["to_PurchaseOrderItem"]["results"]
        .as_array()
        .unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["PurchaseOrderItem"], "20");
    assert_eq!(items[1]["NetPriceAmount"], "12.75");
    let (_, nav) = get(
        &url(&sim, &format!("{POS}('4500000020')/to_PurchaseOrderItem")),
        &[],
    )
    .await;
    assert_eq!(nav["d"]["results"].as_array().unwrap().len(), 2);

    // A business error: SAP's error body with 400.
    let bad = json!({"Supplier": "17399999", "to_PurchaseOrderItem": {"results": [{"PurchaseOrderItemText": "x", "OrderQuantity": "1", "NetPriceAmount": "1.00"}]}});
    let (status, _, body) = post(&url(&sim, POS), Some((&token, &cookies)), bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let err: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(err["error"]["message"]["lang"], "en");
    assert_eq!(
        err["error"]["message"]["value"],
        "Supplier 17399999 does not exist"
    );
    assert_eq!(
        err["error"]["innererror"]["errordetails"][0]["severity"],
        "error"
    );
}

#[tokio::test]
async fn outage_rate_limit_and_stats() {
    let sim = sim(5).await;
    control(&sim, "outage", json!({"mode": "503"})).await;
    let (status, _) = get(&url(&sim, EQUIPMENT), &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    control(&sim, "outage", json!({"mode": "none"})).await;
    control(&sim, "rate-limit", json!({"per_minute": 2})).await;
    for _ in 0..2 {
        assert_eq!(get(&url(&sim, EQUIPMENT), &[]).await.0, StatusCode::OK);
    }
    let response = Client::new()
        .get(url(&sim, EQUIPMENT))
        .basic_auth(DEFAULT_USERNAME, Some(DEFAULT_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
    control(&sim, "rate-limit", json!({"per_minute": 0})).await;
    let created = control(
        &sim,
        "mutate",
        json!({"entity": "vendors", "op": "create", "count": 2}),
    )
    .await;
    assert_eq!(created["ids"], json!(["17300006", "17300007"]));
    let deleted = control(
        &sim,
        "mutate",
        json!({"entity": "assets", "op": "delete", "count": 2}),
    )
    .await;
    assert_eq!(deleted["ids"].as_array().unwrap().len(), 2);
    let (records, _) = all(&url(&sim, EQUIPMENT), &[]).await;
    assert_eq!(records.len(), 3);
    let stats: Value = Client::new()
        .get(format!("{}/__sim/stats", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(stats["total"].as_u64().unwrap() >= 5, "{stats}");
}

#[tokio::test]
async fn serves_100000_records_per_entity_quickly() {
    let sim = sim(100_000).await;
    let started = std::time::Instant::now();
    let (records, pages) = all(&url(&sim, ORDERS), &[]).await;
    assert_eq!((records.len(), pages), (100_000, 100));
    let (_, last) = get(&url(&sim, EQUIPMENT), &[("$skip", "99999"), ("$top", "5")]).await;
    assert_eq!(last["d"]["results"][0]["Equipment"], "10099999");
    // Generous even for a debug build on two shared cores; a quadratic pager would blow it.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

const LOCATIONS: &str = "API_FUNCTIONALLOCATION/FunctionalLocation";

/// The milliseconds of a `/Date(ms+0000)/` value.
fn change_ms(record: &Value) -> i64 {
    let t = record["LastChangeDateTime"].as_str().unwrap();
    t[6..t.find('+').unwrap()].parse().unwrap()
}

/// A `datetimeoffset'…'` literal with milliseconds.
fn offset_literal(ms: i64) -> String {
    let t = chrono::DateTime::from_timestamp_millis(ms).unwrap();
    format!("datetimeoffset'{}'", t.format("%Y-%m-%dT%H:%M:%S%.3fZ"))
}

/// Pages `path` in `(LastChangeDateTime, key)` order, `top` at a time, the way a client
/// pages by `$skip` (`keyset == false`) or by keyset, calling `between` after every page;
/// answers the keys read.
async fn page_by_change_time(
    sim: &SimHandle,
    path: &str,
    key: &str,
    top: usize,
    keyset: bool,
    mut between: impl FnMut(usize) -> Option<Value>,
) -> Vec<String> {
    let order = format!("LastChangeDateTime asc,{key} asc");
    let mut read = Vec::new();
    let mut after: Option<(i64, String)> = None;
    for page in 0.. {
        let skip = (page * top).to_string();
        let filter = after.as_ref().map(|(ms, k)| {
            let x = offset_literal(*ms);
            format!("LastChangeDateTime gt {x} or (LastChangeDateTime eq {x} and {key} gt '{k}')")
        });
        let top_text = top.to_string();
        let mut query = vec![("$top", top_text.as_str()), ("$orderby", order.as_str())];
        match (&filter, keyset) {
            (Some(f), true) => query.push(("$filter", f)),
            (_, false) => query.push(("$skip", &skip)),
            _ => {}
        }
        let (status, body) = get(&url(sim, path), &query).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let results = body["d"]["results"].as_array().unwrap().clone();
        assert!(body["d"].get("__next").is_none(), "client-driven paging");
        if let Some(last) = results.last() {
            after = Some((change_ms(last), last[key].as_str().unwrap().to_owned()));
        }
        read.extend(results.iter().map(|r| r[key].as_str().unwrap().to_owned()));
        if results.len() < top {
            break;
        }
        if let Some(op) = between(page) {
            control(sim, "mutate", op).await;
        }
    }
    read
}

#[tokio::test]
async fn keyset_paging_reads_every_record_while_records_change_and_skip_paging_does_not() {
    const SCALE: usize = 40;
    let updates = |page: usize| {
        (page < 2).then(|| json!({"entity": "work_orders", "op": "update", "count": 12}))
    };
    // `$skip`: orders changed after the first page move to the end and pull unread ones into
    // the range already read.
    let sim_skip = sim(SCALE).await;
    let by_skip =
        page_by_change_time(&sim_skip, ORDERS, "MaintenanceOrder", 10, false, updates).await;
    let distinct: BTreeSet<&String> = by_skip.iter().collect();
    assert!(
        distinct.len() < SCALE,
        "$skip paging skipped nothing: {by_skip:?}"
    );
    // Keyset on the same seed and the same changes: every order read, changed ones again.
    let sim_keyset = sim(SCALE).await;
    let by_keyset =
        page_by_change_time(&sim_keyset, ORDERS, "MaintenanceOrder", 10, true, updates).await;
    let distinct: BTreeSet<&String> = by_keyset.iter().collect();
    assert_eq!(distinct.len(), SCALE, "{by_keyset:?}");
    assert!(by_keyset.len() > SCALE, "changed orders are read again");
}

#[tokio::test]
async fn keyset_filters_on_coded_keys_follow_text_order() {
    let sim = sim(120).await;
    // An explicit key order on functional locations is text order (`1010-SP` after
    // `1010-PK-…`), which is what `FunctionalLocation gt '…'` compares.
    let (by_key, _) = all(
        &url(&sim, LOCATIONS),
        &[("$orderby", "FunctionalLocation asc")],
    )
    .await;
    let keys: Vec<&str> = by_key
        .iter()
        .map(|r| r["FunctionalLocation"].as_str().unwrap())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(keys, sorted);
    assert_eq!(keys.len(), 120);
    // Page through by key, and through by (change time, key) while locations change.
    let mut read = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let filter = after
            .as_ref()
            .map(|k| format!("FunctionalLocation gt '{k}'"))
            .unwrap_or_default();
        let (_, body) = get(
            &url(&sim, LOCATIONS),
            &[
                ("$top", "25"),
                ("$orderby", "FunctionalLocation asc"),
                ("$filter", &filter),
            ],
        )
        .await;
        let results = body["d"]["results"].as_array().unwrap().clone();
        read.extend(
            results
                .iter()
                .map(|r| r["FunctionalLocation"].as_str().unwrap().to_owned()),
        );
        if results.len() < 25 {
            break;
        }
        after = read.last().cloned();
    }
    assert_eq!(read, sorted);
    let changing = |page: usize| {
        (page < 3).then(|| json!({"entity": "locations", "op": "update", "count": 20}))
    };
    let by_time =
        page_by_change_time(&sim, LOCATIONS, "FunctionalLocation", 25, true, changing).await;
    let distinct: BTreeSet<&String> = by_time.iter().collect();
    assert_eq!(distinct.len(), 120);
}

#[tokio::test]
async fn keyset_pages_start_at_their_bound_at_scale() {
    let sim = sim(100_000).await;
    let started = std::time::Instant::now();
    // The last page of a key-ordered read and of a change-time-ordered read: both must start
    // at the bound rather than walk the 100 000 records before it.
    for _ in 0..20 {
        let (_, body) = get(
            &url(&sim, ORDERS),
            &[
                ("$top", "1000"),
                ("$orderby", "MaintenanceOrder asc"),
                ("$filter", "MaintenanceOrder gt '4099000'"),
            ],
        )
        .await;
        assert_eq!(body["d"]["results"].as_array().unwrap().len(), 999);
    }
    let (_, last) = get(
        &url(&sim, ORDERS),
        &[("$top", "1"), ("$orderby", "LastChangeDateTime desc")],
    )
    .await;
    let newest = &last["d"]["results"][0];
    let x = offset_literal(change_ms(newest));
    let filter = format!(
        "LastChangeDateTime ge datetimeoffset'2000-01-01T00:00:00Z' and (LastChangeDateTime gt {x} or (LastChangeDateTime eq {x} and MaintenanceOrder gt '4000000'))"
    );
    for _ in 0..20 {
        let (status, body) = get(
            &url(&sim, ORDERS),
            &[
                ("$top", "1000"),
                ("$orderby", "LastChangeDateTime asc,MaintenanceOrder asc"),
                ("$filter", &filter),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let results = body["d"]["results"].as_array().unwrap();
        assert_eq!(results.len(), 1);
        assert_eq!(results[0]["MaintenanceOrder"], newest["MaintenanceOrder"]);
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}
