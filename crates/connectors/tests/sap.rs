//! The SAP S/4HANA connector against the SAP simulator (crates/sim): credentials, paging, every
//! entity mapped, incremental reads, creates with CSRF and deep insert, and the error classes,
//! over real HTTP.

use std::{collections::BTreeSet, time::Duration};

use millwright_connectors::{
    http::{HttpClient, HttpConfig, RetryPolicy},
    sap::SapS4Hana,
    ConnectionContext, Connector, ConnectorError, Credentials, Incremental, ListRequest,
    RemoteRecord,
};
use millwright_core::{
    credits::Deployment,
    model::{
        AssetStatus, EntityData, LocationType, PurchaseOrderStatus, WorkOrderPriority,
        WorkOrderStatus, WorkOrderType,
    },
    Entity,
};
use millwright_sim::{
    sap::{DEFAULT_PASSWORD, DEFAULT_USERNAME},
    spawn, SimHandle, SimOptions, System,
};
use serde_json::{json, Value};

fn connector() -> SapS4Hana {
    let http = HttpClient::new(HttpConfig {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_millis(800),
        request_timeout: Duration::from_secs(10),
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            max_total: Duration::from_secs(5),
            max_server_delay: Duration::from_millis(200),
        },
        ..HttpConfig::default()
    })
    .unwrap();
    SapS4Hana::new(http)
}

async fn sim(scale: usize) -> SimHandle {
    spawn(System::Sap, SimOptions { seed: 9, scale })
        .await
        .unwrap()
}

fn ctx(sim: &SimHandle, password: &str) -> ConnectionContext {
    let credentials = json!({
        "base_url": sim.base_url(),
        "username": DEFAULT_USERNAME,
        "password": password,
        "client": "100",
    });
    ConnectionContext {
        deployment: Deployment::OnPremise,
        credentials: Credentials::from_json(connector().descriptor(), &credentials).unwrap(),
    }
}

async fn control(sim: &SimHandle, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}/__sim/{path}", sim.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{path}");
    response.json().await.unwrap()
}

/// Every record of `entity`, page by page.
async fn all(c: &SapS4Hana, ctx: &ConnectionContext, mut req: ListRequest) -> Vec<RemoteRecord> {
    let mut out = Vec::new();
    loop {
        let page = c.list(ctx, &req).await.unwrap();
        out.extend(page.records);
        match page.next_cursor {
            Some(next) => req.cursor = Some(next),
            None => return out,
        }
    }
}

fn list(entity: Entity, page_size: u32) -> ListRequest {
    ListRequest {
        page_size,
        ..ListRequest::all(entity)
    }
}

#[tokio::test]
async fn credentials_are_checked_and_classified() {
    let sim = sim(5).await;
    let c = connector();
    c.check_credentials(&ctx(&sim, DEFAULT_PASSWORD))
        .await
        .unwrap();
    let err = c.check_credentials(&ctx(&sim, "wrong")).await.unwrap_err();
    assert!(
        matches!(err, ConnectorError::CredentialsRejected { .. }),
        "{err:?}"
    );
    // A changed password on the SAP side: the stored one is now rejected.
    control(
        &sim,
        "credentials",
        json!({"username": "SIMUSER", "password": "rotated"}),
    )
    .await;
    let err = c
        .list(
            &ctx(&sim, DEFAULT_PASSWORD),
            &ListRequest::all(Entity::Assets),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::CredentialsRejected { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn outage_is_unreachable_and_rate_limit_is_classified() {
    let sim = sim(5).await;
    let c = connector();
    let ctx = ctx(&sim, DEFAULT_PASSWORD);
    control(&sim, "outage", json!({"mode": "503"})).await;
    let err = c.check_credentials(&ctx).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Unreachable { .. }), "{err:?}");
    control(&sim, "outage", json!({"mode": "timeout"})).await;
    let err = c
        .list(&ctx, &ListRequest::all(Entity::Vendors))
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Unreachable { .. }), "{err:?}");
    control(&sim, "outage", json!({"mode": "none"})).await;
    control(&sim, "rate-limit", json!({"per_minute": 1})).await;
    c.check_credentials(&ctx).await.unwrap();
    let err = c.check_credentials(&ctx).await.unwrap_err();
    assert!(matches!(err, ConnectorError::RateLimited { .. }), "{err:?}");
}

#[tokio::test]
async fn every_entity_pages_to_scale_and_maps() {
    let sim = sim(260).await;
    let c = connector();
    let ctx = ctx(&sim, DEFAULT_PASSWORD);
    for entity in [
        Entity::Assets,
        Entity::Locations,
        Entity::WorkOrders,
        Entity::MaintenanceSchedules,
        Entity::PurchaseOrders,
        Entity::Vendors,
    ] {
        let records = all(&c, &ctx, list(entity, 100)).await;
        assert_eq!(records.len(), 260, "{entity:?}");
        let ids: BTreeSet<&str> = records.iter().map(|r| r.remote_id.as_str()).collect();
        assert_eq!(ids.len(), 260, "{entity:?}: distinct");
        assert!(records.iter().all(|r| r.remote_data.is_object()));
    }

    // Assets: every field the equipment has.
    let assets = all(&c, &ctx, list(Entity::Assets, 500)).await;
    let a = &assets[0];
    assert_eq!(a.remote_id, "10000000");
    let EntityData::Assets(asset) = &a.data else {
        panic!("{:?}", a.data)
    };
    let raw = &a.remote_data;
    assert_eq!(asset.name.as_deref(), raw["EquipmentName"].as_str());
    assert_eq!(
        asset.asset_number.as_deref(),
        raw["InventoryNumber"].as_str()
    );
    assert_eq!(
        asset.manufacturer.as_deref(),
        raw["AssetManufacturerName"].as_str()
    );
    assert_eq!(
        asset.model.as_deref(),
        raw["ManufacturerPartTypeName"].as_str()
    );
    assert_eq!(
        asset.serial_number.as_deref(),
        raw["ManufacturerSerialNumber"].as_str()
    );
    assert_eq!(
        asset.category.as_deref(),
        raw["TechnicalObjectType"].as_str()
    );
    assert_eq!(asset.criticality.as_deref(), raw["ABCIndicator"].as_str());
    assert!(asset.installed_at.is_some());
    assert!(a.remote_created_at.is_some() && a.remote_updated_at.is_some());
    let with_location = assets
        .iter()
        .find(|r| r.remote_data["FunctionalLocation"] != "")
        .unwrap();
    let EntityData::Assets(x) = &with_location.data else {
        unreachable!()
    };
    assert_eq!(
        x.location_id.as_deref(),
        with_location.remote_data["FunctionalLocation"].as_str()
    );
    let deleted = assets
        .iter()
        .find(|r| r.remote_data["EquipmentIsMarkedForDeletion"] == true)
        .unwrap();
    let EntityData::Assets(x) = &deleted.data else {
        unreachable!()
    };
    assert_eq!(x.status, Some(AssetStatus::Decommissioned));
    assert_eq!(x.remote_status.as_deref(), Some("DLFL"));
    let child = assets
        .iter()
        .find(|r| r.remote_data["SuperordinateEquipment"] != "")
        .unwrap();
    let EntityData::Assets(x) = &child.data else {
        unreachable!()
    };
    assert!(x.parent_asset_id.as_deref().unwrap().starts_with("100"));
    // Empty SAP strings are absent values, not empty strings.
    let standalone = assets
        .iter()
        .find(|r| r.remote_data["SuperordinateEquipment"] == "")
        .unwrap();
    let EntityData::Assets(x) = &standalone.data else {
        unreachable!()
    };
    assert_eq!(x.parent_asset_id, None);

    // Locations: functional locations with their parents.
    let locations = all(&c, &ctx, list(Entity::Locations, 500)).await;
    let pump_system = locations
        .iter()
        .find(|r| r.remote_id == "1010-SP-PMP")
        .unwrap();
    let EntityData::Locations(l) = &pump_system.data else {
        unreachable!()
    };
    assert_eq!(l.r#type, Some(LocationType::FunctionalLocation));
    assert_eq!(l.code.as_deref(), Some("1010-SP-PMP"));
    assert_eq!(l.parent_location_id.as_deref(), Some("1010-SP"));
    assert_eq!(l.name.as_deref(), Some("Steam Plant - Pumps"));

    // Work orders: type, priority, status tables.
    let orders = all(&c, &ctx, list(Entity::WorkOrders, 500)).await;
    for o in &orders {
        let EntityData::WorkOrders(w) = &o.data else {
            unreachable!()
        };
        let raw = &o.remote_data;
        assert_eq!(w.number.as_deref(), raw["MaintenanceOrder"].as_str());
        assert_eq!(w.title.as_deref(), raw["MaintenanceOrderDesc"].as_str());
        let want_type = match raw["MaintenanceOrderType"].as_str().unwrap() {
            "PM01" => WorkOrderType::Corrective,
            "PM02" => WorkOrderType::Preventive,
            "PM04" => WorkOrderType::Inspection,
            _ => WorkOrderType::Other,
        };
        assert_eq!(w.r#type, Some(want_type));
        let want_priority = match raw["MaintPriority"].as_str().unwrap() {
            "1" => WorkOrderPriority::Urgent,
            "2" => WorkOrderPriority::High,
            "3" => WorkOrderPriority::Medium,
            _ => WorkOrderPriority::Low,
        };
        assert_eq!(w.priority, Some(want_priority));
        assert_eq!(w.remote_status.as_deref(), raw["SystemStatusText"].as_str());
        assert_eq!(w.asset_id.as_deref(), raw["Equipment"].as_str());
        assert!(w.scheduled_start_at.is_some() && w.due_at.is_some());
        let sys = raw["SystemStatusText"].as_str().unwrap();
        let want_status = if sys.contains("DLFL") {
            WorkOrderStatus::Cancelled
        } else if sys.contains("TECO") || sys.contains("CLSD") {
            WorkOrderStatus::Completed
        } else if raw["UserStatusText"] == "WAIT" {
            WorkOrderStatus::OnHold
        } else if sys.contains("PCNF") {
            WorkOrderStatus::InProgress
        } else {
            WorkOrderStatus::Open
        };
        assert_eq!(w.status, Some(want_status), "{sys}");
    }
    let statuses: BTreeSet<String> = orders
        .iter()
        .map(|o| match &o.data {
            EntityData::WorkOrders(w) => format!("{:?}", w.status),
            _ => unreachable!(),
        })
        .collect();
    assert!(statuses.len() >= 4, "{statuses:?}");

    // Maintenance schedules.
    let plans = all(&c, &ctx, list(Entity::MaintenanceSchedules, 500)).await;
    let EntityData::MaintenanceSchedules(p) = &plans[0].data else {
        unreachable!()
    };
    assert_eq!(
        p.name.as_deref(),
        plans[0].remote_data["MaintenancePlanDesc"].as_str()
    );
    assert!(p.interval.is_some() && p.next_due_at.is_some() && p.last_completed_at.is_some());
    assert_eq!(
        p.asset_id.as_deref(),
        plans[0].remote_data["Equipment"].as_str()
    );
    assert!(p.active.is_some());

    // Purchase orders with their items; totals from the items.
    let pos = all(&c, &ctx, list(Entity::PurchaseOrders, 500)).await;
    let po = &pos[0];
    let EntityData::PurchaseOrders(p) = &po.data else {
        unreachable!()
    };
    let items = po.remote_data["to_PurchaseOrderItem"]["results"]
        .as_array()
        .unwrap();
    assert_eq!(p.line_items.len(), items.len());
    assert_eq!(p.number.as_deref(), Some("4500000000"));
    assert_eq!(p.vendor_id.as_deref(), po.remote_data["Supplier"].as_str());
    assert_eq!(p.currency.as_deref(), Some("EUR"));
    assert!(p.order_date.is_some() && p.payment_terms.is_some() && p.status.is_some());
    let line = &p.line_items[0];
    assert_eq!(line.line_number, Some(10));
    assert_eq!(
        line.description.as_deref(),
        items[0]["PurchaseOrderItemText"].as_str()
    );
    assert_eq!(line.product_code.as_deref(), items[0]["Material"].as_str());
    assert_eq!(
        line.unit_price.as_ref().map(|d| d.as_str()),
        items[0]["NetPriceAmount"].as_str()
    );
    assert_eq!(
        line.unit_of_measure.as_deref(),
        items[0]["PurchaseOrderQuantityUnit"].as_str()
    );
    let sum = p.line_items.iter().fold(0i128, |acc, l| {
        acc + l.total.as_ref().unwrap().to_scaled(2).unwrap()
    });
    assert_eq!(p.total_amount.as_ref().unwrap().to_scaled(2), Some(sum));
    let po_statuses: BTreeSet<String> = pos
        .iter()
        .map(|o| match &o.data {
            EntityData::PurchaseOrders(p) => format!("{:?}", p.status),
            _ => unreachable!(),
        })
        .collect();
    assert!(po_statuses.len() >= 3, "{po_statuses:?}");

    // Vendors with the purchasing organisation's currency and terms.
    let vendors = all(&c, &ctx, list(Entity::Vendors, 500)).await;
    let EntityData::Vendors(v) = &vendors[0].data else {
        unreachable!()
    };
    assert_eq!(v.code.as_deref(), Some("17300001"));
    assert_eq!(
        v.name.as_deref(),
        vendors[0].remote_data["SupplierName"].as_str()
    );
    assert!(v.tax_id.as_deref().unwrap().starts_with("DE"));
    assert_eq!(v.currency.as_deref(), Some("EUR"));
    assert!(v.payment_terms.is_some() && v.status.is_some());
}

#[tokio::test]
async fn incremental_reads_filter_on_last_change() {
    let sim = sim(400).await;
    let c = connector();
    let ctx = ctx(&sim, DEFAULT_PASSWORD);
    assert_eq!(
        c.incremental(Entity::WorkOrders),
        Incremental::ServerFilter {
            field: "LastChangeDateTime"
        }
    );
    assert_eq!(c.incremental(Entity::Vendors), Incremental::FullScan);
    let everything = all(&c, &ctx, list(Entity::WorkOrders, 1000)).await;
    let mut times: Vec<_> = everything
        .iter()
        .map(|r| r.remote_updated_at.unwrap())
        .collect();
    times.sort();
    let since = times[300];
    let req = ListRequest {
        modified_since: Some(since),
        ..list(Entity::WorkOrders, 40)
    };
    let changed = all(&c, &ctx, req.clone()).await;
    let expected = times.iter().filter(|t| **t >= since).count();
    assert_eq!(changed.len(), expected);
    assert!(changed
        .iter()
        .all(|r| r.remote_updated_at.unwrap() >= since));
    // Changes in SAP show up in the next incremental read, last.
    let ids = control(
        &sim,
        "mutate",
        json!({"entity": "work_orders", "op": "update", "count": 5}),
    )
    .await;
    let again = all(&c, &ctx, req).await;
    assert_eq!(
        again.len(),
        expected
            + ids["ids"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|id| {
                    let t = everything
                        .iter()
                        .find(|r| r.remote_id == id.as_str().unwrap())
                        .unwrap()
                        .remote_updated_at
                        .unwrap();
                    t < since
                })
                .count()
    );
    let tail: BTreeSet<&str> = again[again.len() - 5..]
        .iter()
        .map(|r| r.remote_id.as_str())
        .collect();
    let mutated: BTreeSet<&str> = ids["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(tail, mutated);
}

#[tokio::test]
async fn creates_a_maintenance_order_and_a_purchase_order_with_items() {
    let sim = sim(30).await;
    let c = connector();
    let ctx = ctx(&sim, DEFAULT_PASSWORD);
    let order = c
        .create(
            &ctx,
            Entity::WorkOrders,
            json!({
                "title": "Replace mechanical seal",
                "type": "corrective",
                "priority": "high",
                "asset_id": "10000004",
                "scheduled_start_at": "2026-12-01T07:00:00Z",
                "due_at": "2026-12-03T16:00:00Z",
            }),
        )
        .await
        .unwrap();
    assert_eq!(order.remote_id, "4000030");
    let EntityData::WorkOrders(w) = &order.data else {
        unreachable!()
    };
    assert_eq!(w.title.as_deref(), Some("Replace mechanical seal"));
    assert_eq!(w.r#type, Some(WorkOrderType::Corrective));
    assert_eq!(w.priority, Some(WorkOrderPriority::High));
    assert_eq!(w.status, Some(WorkOrderStatus::Open));
    assert_eq!(w.asset_id.as_deref(), Some("10000004"));
    assert_eq!(
        w.scheduled_start_at.map(|t| t.to_rfc3339()),
        Some("2026-12-01T07:00:00+00:00".into())
    );
    // Read back through the connector's own get.
    let again = c.get(&ctx, Entity::WorkOrders, "4000030").await.unwrap();
    assert_eq!(again.data, order.data);

    let po = c
        .create(
            &ctx,
            Entity::PurchaseOrders,
            json!({
                "vendor_id": "17300003",
                "currency": "EUR",
                "line_items": [
                    {"description": "Mechanical seal 35 mm", "product_code": "SEAL-00035", "quantity": "2", "unit_of_measure": "EA", "unit_price": "184.50"},
                    {"description": "Ball bearing 6205-2RS", "quantity": "4", "unit_price": "12.75"},
                ],
            }),
        )
        .await
        .unwrap();
    assert_eq!(po.remote_id, "4500000030");
    let EntityData::PurchaseOrders(p) = &po.data else {
        unreachable!()
    };
    assert_eq!(p.vendor_id.as_deref(), Some("17300003"));
    assert_eq!(p.status, Some(PurchaseOrderStatus::Submitted));
    assert_eq!(p.line_items.len(), 2);
    assert_eq!(p.line_items[1].line_number, Some(20));
    assert_eq!(
        p.line_items[1].description.as_deref(),
        Some("Ball bearing 6205-2RS")
    );
    assert_eq!(p.total_amount.as_ref().map(|d| d.as_str()), Some("420.00"));
    // The items are in SAP, under the new purchase order.
    let read = c
        .get(&ctx, Entity::PurchaseOrders, "4500000030")
        .await
        .unwrap();
    assert_eq!(read.data, po.data);
}

#[tokio::test]
async fn a_stale_csrf_token_is_refreshed_once() {
    let sim = sim(10).await;
    let c = connector();
    let ctx = ctx(&sim, DEFAULT_PASSWORD);
    let input = json!({"title": "Inspect gearbox", "type": "inspection", "asset_id": "10000001"});
    c.create(&ctx, Entity::WorkOrders, input.clone())
        .await
        .unwrap();
    // Changing the credentials ends every session on the SAP side (same password again),
    // so the cached token is now refused.
    control(
        &sim,
        "credentials",
        json!({"username": "SIMUSER", "password": DEFAULT_PASSWORD}),
    )
    .await;
    let second = c.create(&ctx, Entity::WorkOrders, input).await.unwrap();
    assert_eq!(second.remote_id, "4000011");
    let stats = reqwest::get(format!("{}/__sim/stats", sim.base_url()))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(stats["statuses"]["403"], 1, "{stats}");
}

#[tokio::test]
async fn business_errors_are_rejected_with_the_sap_message() {
    let sim = sim(10).await;
    let c = connector();
    let ctx = ctx(&sim, DEFAULT_PASSWORD);
    let err = c
        .create(
            &ctx,
            Entity::PurchaseOrders,
            json!({"vendor_id": "17399999", "line_items": [{"description": "x", "quantity": "1", "unit_price": "1.00"}]}),
        )
        .await
        .unwrap_err();
    match err {
        ConnectorError::Rejected { message } => {
            assert_eq!(message, "Supplier 17399999 does not exist")
        }
        other => panic!("{other:?}"),
    }
    let err = c
        .create(
            &ctx,
            Entity::WorkOrders,
            json!({"title": "No object", "asset_id": "99999999"}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::Rejected { ref message } if message.contains("does not exist")),
        "{err:?}"
    );
    // Invalid input never reaches SAP.
    let err = c
        .create(
            &ctx,
            Entity::WorkOrders,
            json!({"title": "x", "assignee_ids": ["1"]}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::Invalid { ref field, .. } if field == "assignee_ids"),
        "{err:?}"
    );
    let err = c
        .create(&ctx, Entity::Assets, json!({"name": "x"}))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::NotSupported { .. }),
        "{err:?}"
    );
}

/// Pages `req` to the end, calling `/__sim/mutate` with `between(page)` (if any) after each
/// page; answers every record read.
async fn all_while_changing(
    sim: &SimHandle,
    c: &SapS4Hana,
    ctx: &ConnectionContext,
    mut req: ListRequest,
    between: impl Fn(usize) -> Option<Value>,
) -> Vec<RemoteRecord> {
    let mut out = Vec::new();
    for n in 0.. {
        let page = c.list(ctx, &req).await.unwrap();
        out.extend(page.records);
        let Some(next) = page.next_cursor else { break };
        req.cursor = Some(next);
        if let Some(op) = between(n) {
            control(sim, "mutate", op).await;
        }
    }
    out
}

#[tokio::test]
async fn records_changed_between_pages_never_make_others_skipped() {
    const SCALE: usize = 60;
    let sim = sim(SCALE).await;
    let c = connector();
    let ctx = ctx(&sim, DEFAULT_PASSWORD);
    let before = all(&c, &ctx, list(Entity::WorkOrders, 1000)).await;
    let since = before
        .iter()
        .map(|r| r.remote_updated_at.unwrap())
        .min()
        .unwrap();
    // An incremental read over everything, 10 a page, while orders change after each of the
    // first pages: changed orders (some already read) jump to the end of the change-time
    // order, which under `$skip` paging shifted unread ones into the range already read.
    let mut changed = BTreeSet::new();
    let req = ListRequest {
        modified_since: Some(since),
        ..list(Entity::WorkOrders, 10)
    };
    let read = {
        let mut out = Vec::new();
        let mut req = req.clone();
        for n in 0.. {
            let page = c.list(&ctx, &req).await.unwrap();
            out.extend(page.records);
            let Some(next) = page.next_cursor else { break };
            req.cursor = Some(next);
            if n < 3 {
                let ids = control(
                    &sim,
                    "mutate",
                    json!({"entity": "work_orders", "op": "update", "count": 8}),
                )
                .await;
                changed.extend(
                    ids["ids"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap().to_owned()),
                );
            }
        }
        out
    };
    let first_page: BTreeSet<&str> = read[..10].iter().map(|r| r.remote_id.as_str()).collect();
    assert!(
        changed.iter().any(|id| first_page.contains(id.as_str())),
        "the scenario changes records already read, which is what shifted $skip offsets"
    );
    let ids: BTreeSet<&str> = read.iter().map(|r| r.remote_id.as_str()).collect();
    let all_ids: BTreeSet<&str> = before.iter().map(|r| r.remote_id.as_str()).collect();
    assert_eq!(ids, all_ids, "no order skipped");
    // Every change is seen in its changed state: its last reading is the newest.
    for id in &changed {
        let last = read.iter().rev().find(|r| &r.remote_id == id).unwrap();
        let original = before.iter().find(|r| &r.remote_id == id).unwrap();
        assert!(last.remote_updated_at > original.remote_updated_at, "{id}");
    }
    // Each page starts after the last one ended: (LastChangeDateTime, key) only grows, a
    // changed order being read again under its new time.
    let order: Vec<_> = read
        .iter()
        .map(|r| (r.remote_updated_at.unwrap(), r.remote_id.clone()))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]));

    // A full read (key order) while orders change and are deleted: every order that still
    // exists at the end is read.
    let everything = all_while_changing(&sim, &c, &ctx, list(Entity::WorkOrders, 7), |n| match n {
        0 | 2 => Some(json!({"entity": "work_orders", "op": "update", "count": 10})),
        1 => Some(json!({"entity": "work_orders", "op": "delete", "count": 3})),
        3 => Some(json!({"entity": "work_orders", "op": "create", "count": 2})),
        _ => None,
    })
    .await;
    let after = all(&c, &ctx, list(Entity::WorkOrders, 1000)).await;
    let read: BTreeSet<&str> = everything.iter().map(|r| r.remote_id.as_str()).collect();
    let keys: Vec<&str> = everything.iter().map(|r| r.remote_id.as_str()).collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "key order, no repeats"
    );
    for r in &after {
        assert!(
            read.contains(r.remote_id.as_str()),
            "{} skipped",
            r.remote_id
        );
    }

    // Functional locations (coded keys) the same way, incrementally.
    let locations_since = all(&c, &ctx, list(Entity::Locations, 1000))
        .await
        .iter()
        .map(|r| r.remote_updated_at.unwrap())
        .min()
        .unwrap();
    let locations = all_while_changing(
        &sim,
        &c,
        &ctx,
        ListRequest {
            modified_since: Some(locations_since),
            ..list(Entity::Locations, 9)
        },
        |n| (n < 3).then(|| json!({"entity": "locations", "op": "update", "count": 15})),
    )
    .await;
    let distinct: BTreeSet<&str> = locations.iter().map(|r| r.remote_id.as_str()).collect();
    assert_eq!(distinct.len(), SCALE);
}
