//! The Maximo connector against the Maximo simulator (crates/sim): credentials, paging, every
//! entity's mapping, incremental listing, work order writes, and failures, over real HTTP.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use millwright_connectors::{
    http::{HttpClient, HttpConfig, RetryPolicy},
    maximo::Maximo,
    ConnectionContext, Connector, ConnectorError, Credentials, Incremental, ListRequest,
    RecordPage, RemoteRecord,
};
use millwright_core::{
    credits::Deployment,
    model::{
        AssetStatus, EntityData, IntervalUnit, LocationType, PurchaseOrderStatus, VendorStatus,
        WorkOrderPriority, WorkOrderStatus, WorkOrderType,
    },
    Entity,
};
use millwright_sim::{maximo::DEFAULT_API_KEY, spawn, SimHandle, SimOptions, System};
use serde_json::{json, Value};

fn connector() -> Maximo {
    let http = HttpClient::new(HttpConfig {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_millis(800),
        request_timeout: Duration::from_secs(5),
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
    Maximo::new(http)
}

async fn sim(scale: usize) -> SimHandle {
    spawn(System::Maximo, SimOptions { seed: 5, scale })
        .await
        .unwrap()
}

fn ctx(sim: &SimHandle, api_key: &str) -> ConnectionContext {
    let credentials = json!({"base_url": sim.base_url(), "api_key": api_key});
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

/// The raw member as the simulator serves it, for comparing mapped fields with the source.
async fn raw(sim: &SimHandle, os: &str, id: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/maximo/api/os/{os}/{id}", sim.base_url()))
        .header("apikey", DEFAULT_API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn list_all(
    mx: &Maximo,
    ctx: &ConnectionContext,
    mut req: ListRequest,
) -> (Vec<RemoteRecord>, usize) {
    let mut records = Vec::new();
    let mut pages = 0;
    loop {
        let RecordPage {
            records: page,
            next_cursor,
        } = mx.list(ctx, &req).await.unwrap();
        pages += 1;
        records.extend(page);
        match next_cursor {
            Some(cursor) => req.cursor = Some(cursor),
            None => return (records, pages),
        }
        assert!(pages < 1000, "paging does not end");
    }
}

async fn all(mx: &Maximo, ctx: &ConnectionContext, entity: Entity) -> Vec<RemoteRecord> {
    let mut req = ListRequest::all(entity);
    req.page_size = 1000;
    list_all(mx, ctx, req).await.0
}

fn ids(records: &[RemoteRecord]) -> BTreeSet<String> {
    records.iter().map(|r| r.remote_id.clone()).collect()
}

#[tokio::test]
async fn credentials_are_checked_and_maximos_message_kept() {
    let sim = sim(5).await;
    let mx = connector();
    mx.check_credentials(&ctx(&sim, DEFAULT_API_KEY))
        .await
        .unwrap();
    let err = mx.check_credentials(&ctx(&sim, "wrong")).await.unwrap_err();
    assert!(
        matches!(&err, ConnectorError::CredentialsRejected { reason }
            if reason == "BMXAA7901E - You cannot log in at this time. Contact the system administrator."),
        "{err:?}"
    );
    // A rotated key: the old one now fails everywhere.
    control(&sim, "credentials", json!({"api_key": "rotated"})).await;
    let err = mx
        .list(
            &ctx(&sim, DEFAULT_API_KEY),
            &ListRequest::all(Entity::Assets),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::CredentialsRejected { .. }),
        "{err:?}"
    );
    mx.check_credentials(&ctx(&sim, "rotated")).await.unwrap();
}

#[tokio::test]
async fn paging_reads_every_record_of_every_entity() {
    let scale = 45;
    let sim = sim(scale).await;
    let mx = connector();
    let ctx = ctx(&sim, DEFAULT_API_KEY);
    for entity in [
        Entity::Assets,
        Entity::Locations,
        Entity::WorkOrders,
        Entity::MaintenanceSchedules,
        Entity::InventoryItems,
        Entity::PurchaseOrders,
        Entity::Vendors,
    ] {
        let mut req = ListRequest::all(entity);
        req.page_size = 10;
        let (records, pages) = list_all(&mx, &ctx, req).await;
        assert_eq!(records.len(), scale, "{entity:?}");
        assert_eq!(pages, 5, "{entity:?}");
        assert_eq!(
            ids(&records).len(),
            scale,
            "{entity:?}: distinct remote ids"
        );
        assert!(records.iter().all(|r| r.remote_id.starts_with('_')));
    }
    assert!(matches!(
        mx.list(&ctx, &ListRequest::all(Entity::Users)).await,
        Err(ConnectorError::NotSupported { .. })
    ));
}

#[tokio::test]
async fn every_entity_maps_its_fields_and_relations_resolve() {
    let sim = sim(60).await;
    let mx = connector();
    let ctx = ctx(&sim, DEFAULT_API_KEY);
    let assets = all(&mx, &ctx, Entity::Assets).await;
    let locations = all(&mx, &ctx, Entity::Locations).await;
    let work_orders = all(&mx, &ctx, Entity::WorkOrders).await;
    let schedules = all(&mx, &ctx, Entity::MaintenanceSchedules).await;
    let inventory = all(&mx, &ctx, Entity::InventoryItems).await;
    let pos = all(&mx, &ctx, Entity::PurchaseOrders).await;
    let vendors = all(&mx, &ctx, Entity::Vendors).await;
    let (asset_ids, location_ids, inventory_ids, vendor_ids) = (
        ids(&assets),
        ids(&locations),
        ids(&inventory),
        ids(&vendors),
    );

    // Assets: every field against the raw record.
    let mut asset_statuses = BTreeMap::new();
    for r in &assets {
        let EntityData::Assets(a) = &r.data else {
            panic!()
        };
        let src = &r.remote_data;
        assert_eq!(a.name.as_deref(), src["description"].as_str());
        assert_eq!(a.asset_number.as_deref(), src["assetnum"].as_str());
        assert_eq!(a.remote_status.as_deref(), src["status"].as_str());
        assert_eq!(a.category.as_deref(), src["assettype"].as_str());
        assert_eq!(a.manufacturer.as_deref(), src["manufacturer"].as_str());
        assert_eq!(a.serial_number.as_deref(), src["serialnum"].as_str());
        assert_eq!(a.criticality, Some(src["priority"].to_string()));
        assert!(a.description.is_some() && a.installed_at.is_some());
        assert!(
            location_ids.contains(a.location_id.as_ref().unwrap()),
            "{r:?}"
        );
        if let Some(parent) = &a.parent_asset_id {
            assert!(asset_ids.contains(parent));
        }
        assert!(r.remote_updated_at.is_some());
        asset_statuses.insert(
            src["status"].as_str().unwrap().to_owned(),
            a.status.unwrap(),
        );
    }
    assert_eq!(
        asset_statuses.get("OPERATING"),
        Some(&AssetStatus::Operational)
    );
    if let Some(s) = asset_statuses.get("DECOMMISSIONED") {
        assert_eq!(*s, AssetStatus::Decommissioned);
    }
    if let Some(s) = asset_statuses.get("NOT READY") {
        assert_eq!(*s, AssetStatus::Down);
    }
    assert!(assets
        .iter()
        .any(|r| matches!(&r.data, EntityData::Assets(a) if a.parent_asset_id.is_some())));

    // Locations: types, hierarchy, site addresses.
    let mut types = BTreeSet::new();
    for r in &locations {
        let EntityData::Locations(l) = &r.data else {
            panic!()
        };
        assert_eq!(l.code.as_deref(), r.remote_data["location"].as_str());
        assert_eq!(l.name.as_deref(), r.remote_data["description"].as_str());
        types.insert(format!("{:?}", l.r#type.unwrap()));
        match &l.parent_location_id {
            Some(p) => assert!(location_ids.contains(p)),
            None => assert!(l
                .address
                .as_ref()
                .is_some_and(|a| a.city.is_some() && a.postal_code.is_some())),
        }
    }
    assert!(types.contains(&format!("{:?}", LocationType::Warehouse)));
    assert!(types.contains(&format!("{:?}", LocationType::FunctionalLocation)));

    // Work orders.
    let mut seen_status = BTreeSet::new();
    for r in &work_orders {
        let EntityData::WorkOrders(w) = &r.data else {
            panic!()
        };
        let src = &r.remote_data;
        assert_eq!(w.number.as_deref(), src["wonum"].as_str());
        assert_eq!(w.title.as_deref(), src["description"].as_str());
        assert_eq!(w.remote_status.as_deref(), src["status"].as_str());
        let expected = match src["status"].as_str().unwrap() {
            "WAPPR" | "APPR" | "WSCH" | "WMATL" => WorkOrderStatus::Open,
            "INPRG" => WorkOrderStatus::InProgress,
            "COMP" | "CLOSE" => WorkOrderStatus::Completed,
            "CAN" => WorkOrderStatus::Cancelled,
            other => panic!("{other}"),
        };
        assert_eq!(w.status, Some(expected));
        seen_status.insert(src["status"].as_str().unwrap().to_owned());
        let expected_type = match src["worktype"].as_str().unwrap() {
            "CM" => WorkOrderType::Corrective,
            "PM" => WorkOrderType::Preventive,
            _ => WorkOrderType::Emergency,
        };
        assert_eq!(w.r#type, Some(expected_type));
        let expected_priority = match src["wopriority"].as_i64().unwrap() {
            1 => WorkOrderPriority::Urgent,
            2 => WorkOrderPriority::High,
            3 => WorkOrderPriority::Medium,
            _ => WorkOrderPriority::Low,
        };
        assert_eq!(w.priority, Some(expected_priority));
        assert!(asset_ids.contains(w.asset_id.as_ref().unwrap()));
        assert!(location_ids.contains(w.location_id.as_ref().unwrap()));
        assert!(
            w.due_at.is_some() && w.scheduled_start_at.is_some() && w.estimated_hours.is_some()
        );
        assert_eq!(w.completed_at.is_some(), src.get("actfinish").is_some());
        assert_eq!(w.actual_hours.is_some(), src.get("actlabhrs").is_some());
        assert!(r.remote_created_at.is_some() && r.remote_updated_at.is_some());
    }
    assert!(seen_status.len() >= 4, "{seen_status:?}");

    // PM masters.
    for r in &schedules {
        let EntityData::MaintenanceSchedules(s) = &r.data else {
            panic!()
        };
        let src = &r.remote_data;
        let interval = s.interval.as_ref().unwrap();
        assert_eq!(
            u64::from(interval.value),
            src["frequency"].as_u64().unwrap()
        );
        let unit = match src["frequnit"].as_str().unwrap() {
            "DAYS" => IntervalUnit::Days,
            "WEEKS" => IntervalUnit::Weeks,
            "MONTHS" => IntervalUnit::Months,
            _ => IntervalUnit::Years,
        };
        assert_eq!(interval.unit, unit);
        assert_eq!(s.active, Some(src["status"] == "ACTIVE"));
        assert!(asset_ids.contains(s.asset_id.as_ref().unwrap()));
        assert!(location_ids.contains(s.location_id.as_ref().unwrap()));
        assert!(s.name.is_some() && s.next_due_at.is_some() && s.last_completed_at.is_some());
    }

    // Inventory.
    for r in &inventory {
        let EntityData::InventoryItems(i) = &r.data else {
            panic!()
        };
        let src = &r.remote_data;
        assert_eq!(i.part_number.as_deref(), src["itemnum"].as_str());
        assert_eq!(i.name.as_deref(), src["description"].as_str());
        assert_eq!(i.unit_of_measure.as_deref(), src["issueunit"].as_str());
        assert_eq!(
            i.quantity_on_hand.as_ref().unwrap().as_str(),
            src["curbaltotal"].to_string()
        );
        assert_eq!(
            i.minimum_quantity.as_ref().unwrap().as_str(),
            src["minlevel"].to_string()
        );
        assert_eq!(
            i.unit_cost.as_ref().unwrap().as_str(),
            src["avgcost"].to_string()
        );
        assert!(location_ids.contains(i.location_id.as_ref().unwrap()));
        assert!(i.vendor_ids.iter().all(|v| vendor_ids.contains(v)));
        assert_eq!(r.remote_updated_at, None, "inventory has no changedate");
    }

    // Purchase orders with lines pointing at inventory records.
    let mut po_statuses = BTreeSet::new();
    for r in &pos {
        let EntityData::PurchaseOrders(p) = &r.data else {
            panic!()
        };
        let src = &r.remote_data;
        assert_eq!(p.number.as_deref(), src["ponum"].as_str());
        assert_eq!(p.remote_status.as_deref(), src["status"].as_str());
        assert_eq!(p.currency.as_deref(), Some("USD"));
        assert_eq!(
            p.total_amount.as_ref().unwrap().as_str(),
            src["totalcost"].to_string()
        );
        assert!(vendor_ids.contains(p.vendor_id.as_ref().unwrap()));
        assert!(p.order_date.is_some() && p.required_date.is_some() && p.payment_terms.is_some());
        let expected = match (
            src["status"].as_str().unwrap(),
            src["receipts"].as_str().unwrap(),
        ) {
            ("WAPPR", _) => PurchaseOrderStatus::Submitted,
            ("APPR" | "INPRG", "PARTIAL") => PurchaseOrderStatus::PartiallyReceived,
            ("APPR" | "INPRG", "COMPLETE") => PurchaseOrderStatus::Received,
            ("APPR" | "INPRG", _) => PurchaseOrderStatus::Approved,
            ("CLOSE", _) => PurchaseOrderStatus::Closed,
            _ => PurchaseOrderStatus::Cancelled,
        };
        assert_eq!(p.status, Some(expected));
        po_statuses.insert(format!("{expected:?}"));
        let lines = src["poline"].as_array().unwrap();
        assert_eq!(p.line_items.len(), lines.len());
        for (line, raw_line) in p.line_items.iter().zip(lines) {
            assert_eq!(
                u64::from(line.line_number.unwrap()),
                raw_line["polinenum"].as_u64().unwrap()
            );
            assert_eq!(line.product_code.as_deref(), raw_line["itemnum"].as_str());
            assert_eq!(
                line.quantity.as_ref().unwrap().as_str(),
                raw_line["orderqty"].to_string()
            );
            assert_eq!(
                line.total.as_ref().unwrap().as_str(),
                raw_line["linecost"].to_string()
            );
            assert!(
                line.unit_price.is_some()
                    && line.unit_of_measure.is_some()
                    && line.received_quantity.is_some()
            );
            assert!(
                inventory_ids.contains(line.item_id.as_ref().unwrap()),
                "{line:?}"
            );
        }
    }
    assert!(po_statuses.len() >= 3, "{po_statuses:?}");

    // Vendors (companies).
    for r in &vendors {
        let EntityData::Vendors(v) = &r.data else {
            panic!()
        };
        let src = &r.remote_data;
        assert_eq!(v.name.as_deref(), src["name"].as_str());
        assert_eq!(v.code.as_deref(), src["company"].as_str());
        assert_eq!(v.email.as_deref(), src["compcontact"][0]["email"].as_str());
        assert_eq!(v.phone.as_deref(), src["phone"].as_str());
        assert_eq!(v.currency.as_deref(), Some("USD"));
        let address = v.address.as_ref().unwrap();
        assert_eq!(address.city.as_deref(), src["address2"].as_str());
        assert_eq!(address.postal_code.as_deref(), src["address4"].as_str());
        let expected = if src["disabled"] == true {
            VendorStatus::Inactive
        } else {
            VendorStatus::Active
        };
        assert_eq!(v.status, Some(expected));
    }

    // get() by remote id answers the same record.
    let first = &work_orders[3];
    let again = mx
        .get(&ctx, Entity::WorkOrders, &first.remote_id)
        .await
        .unwrap();
    assert_eq!(again.data, first.data);
    let err = mx
        .get(&ctx, Entity::WorkOrders, "_Tk9QRS8x")
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::NotFound), "{err:?}");
}

#[tokio::test]
async fn incremental_lists_only_changes_server_side() {
    let sim = sim(80).await;
    let mx = connector();
    let ctx = ctx(&sim, DEFAULT_API_KEY);
    assert_eq!(
        mx.incremental(Entity::WorkOrders),
        Incremental::ServerFilter {
            field: "changedate"
        }
    );
    assert_eq!(
        mx.incremental(Entity::InventoryItems),
        Incremental::FullScan
    );

    let everything = all(&mx, &ctx, Entity::WorkOrders).await;
    let mut dates: Vec<_> = everything
        .iter()
        .map(|r| r.remote_updated_at.unwrap())
        .collect();
    dates.sort();
    let since = dates[60];
    let mut req = ListRequest::all(Entity::WorkOrders);
    req.modified_since = Some(since);
    req.page_size = 7;
    let (changed, _) = list_all(&mx, &ctx, req.clone()).await;
    let expected = dates.iter().filter(|d| **d >= since).count();
    assert_eq!(changed.len(), expected);
    let got: Vec<_> = changed
        .iter()
        .map(|r| r.remote_updated_at.unwrap())
        .collect();
    assert!(got.windows(2).all(|w| w[0] <= w[1]), "oldest change first");

    // Changes made now are the only ones after now.
    let cut = chrono::Utc::now();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let updated = control(
        &sim,
        "mutate",
        json!({"entity": "work_orders", "op": "update", "count": 3}),
    )
    .await;
    let created = control(
        &sim,
        "mutate",
        json!({"entity": "work_orders", "op": "create", "count": 2}),
    )
    .await;
    req.modified_since = Some(cut + chrono::Duration::seconds(1));
    let (changed, _) = list_all(&mx, &ctx, req).await;
    let want: BTreeSet<String> = updated["ids"]
        .as_array()
        .unwrap()
        .iter()
        .chain(created["ids"].as_array().unwrap())
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids(&changed), want);

    // Inventory ignores the cut-off: it is a full scan.
    let mut req = ListRequest::all(Entity::InventoryItems);
    req.modified_since = Some(chrono::Utc::now());
    req.page_size = 1000;
    assert_eq!(list_all(&mx, &ctx, req).await.0.len(), 80);
}

#[tokio::test]
async fn work_orders_are_created_and_updated() {
    let sim = sim(20).await;
    let mx = connector();
    let ctx = ctx(&sim, DEFAULT_API_KEY);
    let asset = all(&mx, &ctx, Entity::Assets).await.remove(2);
    let EntityData::Assets(a) = &asset.data else {
        panic!()
    };
    let created = mx
        .create(
            &ctx,
            Entity::WorkOrders,
            json!({"title": "Replace mechanical seal", "description": "Leaking at the gland",
                   "type": "corrective", "priority": "high", "asset_id": asset.remote_id,
                   "location_id": a.location_id, "estimated_hours": "3.5",
                   "due_at": "2030-01-02T15:00:00Z"}),
        )
        .await
        .unwrap();
    let EntityData::WorkOrders(w) = &created.data else {
        panic!()
    };
    assert_eq!(w.title.as_deref(), Some("Replace mechanical seal"));
    assert_eq!(w.description.as_deref(), Some("Leaking at the gland"));
    assert_eq!(w.status, Some(WorkOrderStatus::Open));
    assert_eq!(w.remote_status.as_deref(), Some("WAPPR"));
    assert_eq!(w.priority, Some(WorkOrderPriority::High));
    assert_eq!(w.r#type, Some(WorkOrderType::Corrective));
    assert_eq!(w.asset_id.as_ref(), Some(&asset.remote_id));
    assert_eq!(w.location_id, a.location_id);
    assert_eq!(w.estimated_hours.as_ref().unwrap().as_str(), "3.5");
    assert_eq!(w.due_at.unwrap().to_rfc3339(), "2030-01-02T15:00:00+00:00");
    assert_eq!(w.number.as_deref(), Some("1020"));
    // Stored in the source: the simulator serves it under the same id.
    let stored = raw(&sim, "mxapiwodetail", &created.remote_id).await;
    assert_eq!(stored["description"], "Replace mechanical seal");

    let updated = mx
        .update(
            &ctx,
            Entity::WorkOrders,
            &created.remote_id,
            json!({"status": "in_progress", "priority": "urgent"}),
        )
        .await
        .unwrap();
    let EntityData::WorkOrders(w) = &updated.data else {
        panic!()
    };
    assert_eq!(w.status, Some(WorkOrderStatus::InProgress));
    assert_eq!(w.priority, Some(WorkOrderPriority::Urgent));
    assert_eq!(w.title.as_deref(), Some("Replace mechanical seal"));
    let done = mx
        .update(
            &ctx,
            Entity::WorkOrders,
            &created.remote_id,
            json!({"status": "completed"}),
        )
        .await
        .unwrap();
    let EntityData::WorkOrders(w) = &done.data else {
        panic!()
    };
    assert_eq!(w.status, Some(WorkOrderStatus::Completed));
    assert!(w.completed_at.is_some());

    // A business rule of Maximo: completed work cannot be started again.
    let err = mx
        .update(
            &ctx,
            Entity::WorkOrders,
            &created.remote_id,
            json!({"status": "in_progress"}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Rejected { message } if message.starts_with("BMXAA4590E") && message.contains("COMP")),
        "{err:?}"
    );
    // Fields Maximo cannot take are refused before sending.
    let err = mx
        .create(&ctx, Entity::WorkOrders, json!({"title": "No site"}))
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Invalid { .. }), "{err:?}");
    let err = mx
        .update(
            &ctx,
            Entity::WorkOrders,
            &created.remote_id,
            json!({"status": "on_hold"}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Invalid { field, .. } if field == "status"),
        "{err:?}"
    );
    // Site from custom_fields, an invalid location → Maximo's BMXAA2661E.
    let err = mx
        .create(
            &ctx,
            Entity::WorkOrders,
            json!({"title": "Bad place", "location_id": "_Tk9XSEVSRS9CRURGT1JE", "custom_fields": {"siteid": "BEDFORD"}}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Rejected { message } if message.contains("BMXAA2661E")),
        "{err:?}"
    );
    assert!(matches!(
        mx.create(&ctx, Entity::Assets, json!({"name": "x"})).await,
        Err(ConnectorError::NotSupported { .. })
    ));
}

#[tokio::test]
async fn outages_denials_and_rate_limits_are_classified() {
    let sim = sim(10).await;
    let mx = connector();
    let ctx = ctx(&sim, DEFAULT_API_KEY);
    control(&sim, "outage", json!({"mode": "503"})).await;
    let err = mx
        .list(&ctx, &ListRequest::all(Entity::Assets))
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Unreachable { .. }), "{err:?}");
    control(&sim, "outage", json!({"mode": "timeout"})).await;
    let err = mx.check_credentials(&ctx).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Unreachable { .. }), "{err:?}");
    control(&sim, "outage", json!({"mode": "none"})).await;
    mx.check_credentials(&ctx).await.unwrap();

    control(
        &sim,
        "credentials",
        json!({"api_key": DEFAULT_API_KEY, "denied": ["mxapipo"]}),
    )
    .await;
    let err = mx
        .list(&ctx, &ListRequest::all(Entity::PurchaseOrders))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::PermissionDenied { reason } if reason.starts_with("BMXAA0024E")),
        "{err:?}"
    );
    control(&sim, "credentials", json!({"api_key": DEFAULT_API_KEY})).await;

    control(&sim, "rate-limit", json!({"per_minute": 2})).await;
    let mut last = Ok(());
    for _ in 0..4 {
        last = mx.check_credentials(&ctx).await;
    }
    assert!(
        matches!(last, Err(ConnectorError::RateLimited { .. })),
        "{last:?}"
    );
    control(&sim, "rate-limit", json!({"per_minute": 0})).await;
    mx.check_credentials(&ctx).await.unwrap();
}

/// Pages through `req`, calling `/__sim/mutate` with `between(n)` (if any) after page `n`;
/// answers everything read and the resource ids the mutations named.
async fn list_while_changing(
    sim: &SimHandle,
    mx: &Maximo,
    ctx: &ConnectionContext,
    mut req: ListRequest,
    between: impl Fn(usize) -> Option<Value>,
) -> (Vec<RemoteRecord>, BTreeSet<String>) {
    let mut read = Vec::new();
    let mut touched = BTreeSet::new();
    for n in 0.. {
        let page = mx.list(ctx, &req).await.unwrap();
        read.extend(page.records);
        let Some(next) = page.next_cursor else { break };
        req.cursor = Some(next);
        if let Some(op) = between(n) {
            let ids = control(sim, "mutate", op).await;
            touched.extend(
                ids["ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned()),
            );
        }
        assert!(n < 1000, "paging does not end");
    }
    (read, touched)
}

/// `(changedate, workorderid)` of a work order as read: the keyset of incremental pages.
fn change_key(r: &RemoteRecord) -> (chrono::DateTime<chrono::FixedOffset>, u64) {
    let raw = &r.remote_data;
    (
        chrono::DateTime::parse_from_rfc3339(raw["changedate"].as_str().unwrap()).unwrap(),
        raw["workorderid"].as_u64().unwrap(),
    )
}

#[tokio::test]
async fn records_changed_between_pages_never_make_others_skipped() {
    const SCALE: usize = 60;
    let sim = sim(SCALE).await;
    let mx = connector();
    let ctx = ctx(&sim, DEFAULT_API_KEY);
    let before = all(&mx, &ctx, Entity::WorkOrders).await;
    let since = before
        .iter()
        .map(|r| r.remote_updated_at.unwrap())
        .min()
        .unwrap();
    // An incremental read over everything, 10 a page, while 8 orders change after each of the
    // first pages: changed orders (some already read) jump to the end of the change-time
    // order, which under `pageno` paging shifted unread ones into pages already read. The
    // orders changed by one call share their second, so the end of the listing is a tie of
    // more records than a page.
    let mut req = ListRequest::all(Entity::WorkOrders);
    req.modified_since = Some(since);
    req.page_size = 10;
    let update = json!({"entity": "work_orders", "op": "update", "count": 8});
    let (read, changed) =
        list_while_changing(&sim, &mx, &ctx, req, |n| (n < 3).then(|| update.clone())).await;
    let first_page = ids(&read[..10]);
    assert!(
        changed.iter().any(|id| first_page.contains(id)),
        "the scenario changes records already read, which is what shifted pageno offsets"
    );
    assert_eq!(ids(&read), ids(&before), "no order skipped");
    // Every change is seen in its changed state: an order's last reading is what it is now.
    let after = all(&mx, &ctx, Entity::WorkOrders).await;
    for id in &changed {
        let last = read.iter().rev().find(|r| &r.remote_id == id).unwrap();
        let now = after.iter().find(|r| &r.remote_id == id).unwrap();
        assert_eq!(last.remote_data, now.remote_data, "{id}");
    }
    // Pages continue where the last ended: (changedate, workorderid) only grows, a changed
    // order being read again under its new change time.
    let keys: Vec<_> = read.iter().map(change_key).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");

    // A tie wider than several pages (40 orders changed in one call share a second, 3 a
    // page), orders changing again in the middle of it: still nothing skipped. The later
    // changes come a second after the tie's: a change *into* the second being read lands
    // behind the position, which no second-precision client can see before its next read.
    let cut = chrono::Utc::now() - chrono::Duration::seconds(1);
    control(
        &sim,
        "mutate",
        json!({"entity": "work_orders", "op": "update", "count": 40}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut req = ListRequest::all(Entity::WorkOrders);
    req.modified_since = Some(cut);
    req.page_size = 3;
    let (read, _) = list_while_changing(&sim, &mx, &ctx, req, |n| {
        (n == 2 || n == 6).then(|| json!({"entity": "work_orders", "op": "update", "count": 5}))
    })
    .await;
    let after = all(&mx, &ctx, Entity::WorkOrders).await;
    // Maximo compares `changedate` to the second, so the listing starts at the whole second of
    // `cut`: orders the first part changed earlier in that same second are in it too (a busy
    // machine makes that likely).
    let cut_second = cut - chrono::Duration::nanoseconds(i64::from(cut.timestamp_subsec_nanos()));
    let expected: BTreeSet<String> = after
        .iter()
        .filter(|r| r.remote_updated_at.unwrap() >= cut_second)
        .map(|r| r.remote_id.clone())
        .collect();
    assert!(expected.len() >= 40);
    assert_eq!(ids(&read), expected);
    for r in &after {
        if expected.contains(&r.remote_id) {
            let last = read
                .iter()
                .rev()
                .find(|x| x.remote_id == r.remote_id)
                .unwrap();
            assert_eq!(last.remote_data, r.remote_data, "{}", r.remote_id);
        }
    }

    // A full read (unique id order) while orders change, are deleted and are created: every
    // order that exists at the end is read, none twice.
    let mut req = ListRequest::all(Entity::WorkOrders);
    req.page_size = 7;
    let (everything, _) = list_while_changing(&sim, &mx, &ctx, req, |n| match n {
        0 | 2 => Some(json!({"entity": "work_orders", "op": "update", "count": 10})),
        1 => Some(json!({"entity": "work_orders", "op": "delete", "count": 3})),
        3 => Some(json!({"entity": "work_orders", "op": "create", "count": 2})),
        _ => None,
    })
    .await;
    let uids: Vec<u64> = everything
        .iter()
        .map(|r| r.remote_data["workorderid"].as_u64().unwrap())
        .collect();
    assert!(uids.windows(2).all(|w| w[0] < w[1]), "unique id order");
    let read = ids(&everything);
    for r in all(&mx, &ctx, Entity::WorkOrders).await {
        assert!(read.contains(&r.remote_id), "{} skipped", r.remote_id);
    }

    // Inventory (always a full scan, `inventoryid` order) the same way.
    let mut req = ListRequest::all(Entity::InventoryItems);
    req.modified_since = Some(chrono::Utc::now());
    req.page_size = 9;
    let (items, _) = list_while_changing(&sim, &mx, &ctx, req, |n| {
        (n < 3).then(|| json!({"entity": "inventory_items", "op": "update", "count": 15}))
    })
    .await;
    assert_eq!(ids(&items).len(), SCALE);
    assert_eq!(items.len(), SCALE);
}

#[tokio::test]
async fn page_number_cursors_of_earlier_versions_continue_by_keyset() {
    let sim = sim(25).await;
    let mx = connector();
    let ctx = ctx(&sim, DEFAULT_API_KEY);
    let mut req = ListRequest::all(Entity::Assets);
    req.page_size = 10;
    // An earlier version handed out "2" after the first page: page 2 is read by number, then
    // the listing goes on by keyset.
    req.cursor = Some("2".into());
    let (rest, pages) = list_all(&mx, &ctx, req.clone()).await;
    assert_eq!((rest.len(), pages), (15, 2));
    req.cursor = None;
    let (all, _) = list_all(&mx, &ctx, req.clone()).await;
    assert_eq!(ids(&rest), ids(&all[10..]));
    req.cursor =
        Some("{\"size\":10,\"at\":{\"by\":\"tie\",\"at\":\"\\\" or 1\",\"after\":1}}".into());
    assert!(matches!(
        mx.list(&ctx, &req).await,
        Err(ConnectorError::Invalid { .. })
    ));
}
