//! Reads: authentication, envelopes, paging, determinism, expansions, validation.

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{ids, start};

const RESOURCES: &[(&str, &str, &str)] = &[
    ("workorders", "workOrders", "workOrder"),
    ("assets", "assets", "asset"),
    ("locations", "locations", "location"),
    ("parts", "parts", "part"),
    ("users", "users", "user"),
    ("vendors", "vendors", "vendor"),
    ("purchaseorders", "purchaseOrders", "purchaseOrder"),
];

#[tokio::test]
async fn bearer_key_is_required_and_checked() {
    let sim = start(42, 10).await;
    let url = sim.url("/v1/workorders");

    let missing = sim.client.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let body: Value = missing.json().await.unwrap();
    assert!(body["message"].is_string(), "JSON message body: {body}");

    let wrong = sim
        .client
        .get(&url)
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let basic = sim
        .client
        .get(&url)
        .basic_auth("sim-maintainx-key", Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);

    let (status, body) = sim.get("/v1/workorders").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["workOrders"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn organization_header_must_name_the_tenant() {
    let sim = start(42, 5).await;
    let (status, body) = sim.get("/v1/organizations").await;
    assert_eq!(status, StatusCode::OK);
    let orgs = body["organizations"].as_array().unwrap();
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0]["id"], 15);
    assert!(orgs[0]["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert!(body["nextCursor"].is_null());

    let with_org = |org: &'static str| {
        sim.request(reqwest::Method::GET, "/v1/users")
            .header("x-organization-id", org)
    };
    assert_eq!(sim.send(with_org("15")).await.0, StatusCode::OK);
    assert_eq!(sim.send(with_org("16")).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(sim.send(with_org("acme")).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn paging_returns_every_record_exactly_once() {
    let scale = 123;
    let sim = start(7, scale).await;
    for (resource, key, _) in RESOURCES {
        let records = sim.all(resource, key, 50).await;
        let ids = ids(&records);
        assert_eq!(ids.len(), scale, "{resource}");
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "{resource} ascending and unique"
        );
    }
}

#[tokio::test]
async fn next_page_url_continues_the_same_query() {
    let sim = start(7, 30).await;
    let (_, first) = sim.get("/v1/assets?limit=20&expand=status").await;
    let next = first["nextPageUrl"].as_str().expect("a second page");
    assert!(next.starts_with("/v1/assets?cursor="), "{next}");
    assert!(
        next.contains("limit=20") && next.contains("expand=status"),
        "{next}"
    );
    let (status, second) = sim.get(next).await;
    assert_eq!(status, StatusCode::OK);
    let second = second["assets"].as_array().unwrap();
    assert_eq!(second.len(), 10);
    assert!(
        second.iter().all(|a| a["status"].is_object()),
        "expand carried over"
    );
    let last_of_first = first["assets"][19]["id"].as_u64().unwrap();
    assert!(second[0]["id"].as_u64().unwrap() > last_of_first);
}

#[tokio::test]
async fn cursors_neither_skip_nor_repeat_while_records_change() {
    let sim = start(11, 100).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut deleted = Vec::new();
    let mut created = Vec::new();
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/workorders?limit=15&cursor={c}"),
            None => "/v1/workorders?limit=15".to_owned(),
        };
        let (status, body) = sim.get(&path).await;
        assert_eq!(status, StatusCode::OK);
        seen.extend(ids(body["workOrders"].as_array().unwrap()));
        // Between pages, someone edits, deletes and creates work orders.
        for op in ["update", "delete", "create"] {
            let (status, out) = sim
                .control(
                    "/__sim/mutate",
                    serde_json::json!({"entity": "work_orders", "op": op, "count": 2}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{out}");
            let changed: Vec<u64> = out["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect();
            match op {
                "delete" => deleted.extend(changed),
                "create" => created.extend(changed),
                _ => {}
            }
        }
        match body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no record twice");
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    // Every seeded record that was never deleted was seen.
    for id in 12_001..12_101u64 {
        assert!(seen.contains(&id) || deleted.contains(&id), "missed {id}");
    }
    // Created records appear after the seeded ones (only those created before the cursor
    // passed their id can be missed; the last page's creations come after the walk).
    assert!(seen.iter().any(|id| created.contains(id)));
}

#[tokio::test]
async fn same_seed_gives_identical_bytes_and_another_seed_does_not() {
    let a = start(1234, 60).await;
    let b = start(1234, 60).await;
    let c = start(1235, 60).await;
    for (resource, _, _) in RESOURCES {
        let path = format!("/v1/{resource}?limit=25&expand=extra_fields");
        let path = if *resource == "users" {
            format!("/v1/{resource}?limit=25")
        } else {
            path
        };
        let body = |sim: &crate::common::Sim| {
            let request = sim.request(reqwest::Method::GET, &path);
            async move { request.send().await.unwrap().bytes().await.unwrap() }
        };
        let (ba, bb, bc) = (body(&a).await, body(&b).await, body(&c).await);
        assert_eq!(ba, bb, "{resource}: same seed, same bytes");
        assert_ne!(ba, bc, "{resource}: another seed, other data");
    }
}

#[tokio::test]
async fn expansions_add_related_records_next_to_the_ids() {
    let sim = start(42, 40).await;
    let (_, plain) = sim.get("/v1/workorders?limit=40").await;
    let plain = plain["workOrders"].as_array().unwrap().clone();
    for wo in &plain {
        for key in ["asset", "location", "assignees", "extraFields"] {
            assert!(wo.get(key).is_none(), "no {key} without expand: {wo}");
        }
        assert!(wo["assigneeIds"].is_array());
    }

    let (status, expanded) = sim
        .get("/v1/workorders?limit=40&expand=asset&expand=location&expand=assignees&expand=extra_fields")
        .await;
    assert_eq!(status, StatusCode::OK);
    for wo in expanded["workOrders"].as_array().unwrap() {
        match wo["assetId"].as_u64() {
            Some(id) => assert_eq!(wo["asset"]["id"], id),
            None => assert!(wo["asset"].is_null()),
        }
        assert_eq!(wo["location"]["id"], wo["locationId"]);
        let assignees = wo["assignees"].as_array().unwrap();
        let assignee_ids = wo["assigneeIds"].as_array().unwrap();
        assert_eq!(assignees.len(), assignee_ids.len());
        for (a, id) in assignees.iter().zip(assignee_ids) {
            assert_eq!(&a["id"], id);
            assert_eq!(a["type"], "USER");
        }
        assert!(wo["extraFields"]["Cost Center"].is_string(), "{wo}");
    }

    let (_, asset) = sim
        .get("/v1/assets/8001?expand=status&expand=asset_types")
        .await;
    let status_obj = &asset["asset"]["status"];
    assert!(
        matches!(status_obj["status"].as_str(), Some("ONLINE" | "OFFLINE")),
        "{asset}"
    );
    assert!(status_obj["startedAt"].is_string());
    assert!(asset["asset"]["assetTypes"][0].is_string());
    let (_, bare) = sim.get("/v1/assets/8001").await;
    assert!(bare["asset"].get("status").is_none());

    let (status, body) = sim.get("/v1/workorders?expand=status").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "status is not a work-order expansion"
    );
    assert!(body["message"].is_string());
}

#[tokio::test]
async fn single_records_match_the_list_and_unknown_ids_are_404() {
    let sim = start(42, 20).await;
    for (resource, key, one) in RESOURCES {
        let (_, list) = sim.get(&format!("/v1/{resource}?limit=3")).await;
        let first = &list[*key][2];
        let id = first["id"].as_u64().unwrap();
        let (status, single) = sim.get(&format!("/v1/{resource}/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&single[*one], first, "{resource}");

        let (status, body) = sim.get(&format!("/v1/{resource}/999999999")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{resource}");
        assert!(body["message"].is_string());
    }
    assert_eq!(
        sim.get("/v1/workorders/abc").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(sim.get("/v1/nosuchthing").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn limit_and_cursor_are_validated() {
    let sim = start(42, 250).await;
    let (_, default) = sim.get("/v1/parts").await;
    assert_eq!(
        default["parts"].as_array().unwrap().len(),
        100,
        "default limit"
    );
    let (_, max) = sim.get("/v1/parts?limit=200").await;
    assert_eq!(max["parts"].as_array().unwrap().len(), 200);
    for bad in ["201", "0", "-1", "ten"] {
        let (status, body) = sim.get(&format!("/v1/parts?limit={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "limit={bad}");
        assert!(body["message"].is_string());
    }
    assert_eq!(
        sim.get("/v1/parts?cursor=garbage").await.0,
        StatusCode::BAD_REQUEST
    );
    let (_, assets) = sim.get("/v1/assets?limit=1").await;
    let asset_cursor = assets["nextCursor"].as_str().unwrap();
    assert_eq!(
        sim.get(&format!("/v1/parts?cursor={asset_cursor}")).await.0,
        StatusCode::BAD_REQUEST,
        "a cursor belongs to its resource"
    );
}

#[tokio::test]
async fn relations_resolve_through_the_api() {
    let sim = start(5, 60).await;
    for wo in sim
        .all("workorders", "workOrders", 200)
        .await
        .iter()
        .take(30)
    {
        if let Some(asset) = wo["assetId"].as_u64() {
            let (status, a) = sim.get(&format!("/v1/assets/{asset}")).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(a["asset"]["locationId"], wo["locationId"]);
        }
        for user in wo["assigneeIds"].as_array().unwrap() {
            assert_eq!(
                sim.get(&format!("/v1/users/{user}")).await.0,
                StatusCode::OK
            );
        }
    }
    for po in sim
        .all("purchaseorders", "purchaseOrders", 200)
        .await
        .iter()
        .take(20)
    {
        let vendor = po["vendorId"].as_u64().unwrap();
        assert_eq!(
            sim.get(&format!("/v1/vendors/{vendor}")).await.0,
            StatusCode::OK
        );
        for item in po["items"].as_array().unwrap() {
            let part = item["partId"].as_u64().unwrap();
            assert_eq!(
                sim.get(&format!("/v1/parts/{part}")).await.0,
                StatusCode::OK
            );
            assert!(item["unitCost"].is_number() && item["quantityOrdered"].is_number());
        }
        assert!(po["shippingAddress"]["postalCode"].is_string());
    }
}

#[tokio::test]
async fn timestamps_are_utc_iso_and_reach_back_beyond_ninety_days() {
    let sim = start(3, 200).await;
    let now = chrono::Utc::now();
    let mut older_than_90_days = 0;
    for wo in sim.all("workorders", "workOrders", 200).await {
        let updated = wo["updatedAt"].as_str().unwrap();
        assert!(updated.ends_with('Z'), "{updated}");
        let updated = chrono::DateTime::parse_from_rfc3339(updated).unwrap();
        let created =
            chrono::DateTime::parse_from_rfc3339(wo["createdAt"].as_str().unwrap()).unwrap();
        assert!(created <= updated && updated <= now);
        if now.signed_duration_since(updated).num_days() > 90 {
            older_than_90_days += 1;
        }
        assert!(matches!(
            wo["status"].as_str(),
            Some("OPEN" | "IN_PROGRESS" | "ON_HOLD" | "DONE")
        ));
        assert!(matches!(
            wo["priority"].as_str(),
            Some("NONE" | "LOW" | "MEDIUM" | "HIGH")
        ));
        assert_eq!(wo["completedAt"].is_string(), wo["status"] == "DONE");
    }
    assert!(
        older_than_90_days > 20,
        "history window tests need old records: {older_than_90_days}"
    );
    assert!(older_than_90_days < 200, "and recent ones too");
}

#[tokio::test]
async fn work_orders_filter_by_location() {
    let sim = start(42, 80).await;
    let (_, first) = sim.get("/v1/workorders?limit=1").await;
    let location = first["workOrders"][0]["locationId"].as_u64().unwrap();
    let expected: Vec<u64> = sim
        .all("workorders", "workOrders", 200)
        .await
        .iter()
        .filter(|wo| wo["locationId"] == location)
        .map(|wo| wo["id"].as_u64().unwrap())
        .collect();
    let (status, body) = sim
        .get(&format!("/v1/workorders?locationId={location}&limit=200"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(body["workOrders"].as_array().unwrap()), expected);
    assert_eq!(
        sim.get("/v1/workorders?locationId=x").await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_hundred_thousand_records_per_entity_serve_quickly() {
    let started = std::time::Instant::now();
    let sim = start(42, 100_000).await;
    assert!(started.elapsed().as_secs() < 2, "starts at once");
    let (status, last) = sim.get("/v1/workorders/112000").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(last["workOrder"]["sequentialId"], 100_000);
    assert_eq!(
        sim.get("/v1/workorders/112001").await.0,
        StatusCode::NOT_FOUND
    );
    // Walk 20 pages of 200 with an expansion.
    let t = std::time::Instant::now();
    let mut path = "/v1/assets?limit=200&expand=status".to_owned();
    for _ in 0..20 {
        let (status, page) = sim.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["assets"].as_array().unwrap().len(), 200);
        path = page["nextPageUrl"].as_str().unwrap().to_owned();
    }
    assert!(
        t.elapsed().as_secs() < 10,
        "pages of 200 are fast: {:?}",
        t.elapsed()
    );
}
