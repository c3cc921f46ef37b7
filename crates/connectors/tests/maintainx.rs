//! The MaintainX connector against the MaintainX simulator (crates/sim): credentials, paging,
//! reads, writes, outages, rate limits and incremental listing, over real HTTP.

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use millwright_connectors::{
    http::{HttpClient, HttpConfig, RetryPolicy},
    maintainx::MaintainX,
    ConnectionContext, Connector, ConnectorError, Credentials, Incremental, ListRequest,
    RecordPage, RemoteRecord,
};
use millwright_core::{
    credits::Deployment,
    model::{Decimal, EntityData, WorkOrder, WorkOrderPriority, WorkOrderStatus},
    Entity,
};
use millwright_sim::{maintainx::DEFAULT_API_KEY, spawn, SimHandle, SimOptions, System};
use serde_json::{json, Value};

/// Retries and timeouts short enough for tests, same logic as production.
fn connector() -> MaintainX {
    let http = HttpClient::new(HttpConfig {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_millis(500),
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
    MaintainX::new(http)
}

async fn sim(scale: usize) -> SimHandle {
    spawn(System::Maintainx, SimOptions { seed: 7, scale })
        .await
        .unwrap()
}

fn ctx(sim: &SimHandle, api_key: &str) -> ConnectionContext {
    let credentials = json!({"base_url": sim.base_url(), "api_key": api_key});
    ConnectionContext {
        deployment: Deployment::Cloud,
        credentials: Credentials::from_json(
            MaintainX::new(HttpClient::new(HttpConfig::default()).unwrap()).descriptor(),
            &credentials,
        )
        .unwrap(),
    }
}

async fn control(sim: &SimHandle, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
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

async fn stats(sim: &SimHandle) -> Value {
    reqwest::get(format!("{}/__sim/stats", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Every record of `entity`, page by page.
async fn list_all(
    mx: &MaintainX,
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

fn work_order(record: &RemoteRecord) -> &WorkOrder {
    match &record.data {
        EntityData::WorkOrders(wo) => wo,
        other => panic!("not a work order: {other:?}"),
    }
}

#[tokio::test]
async fn credentials_are_checked_against_the_source() {
    let sim = sim(5).await;
    let mx = connector();
    mx.check_credentials(&ctx(&sim, DEFAULT_API_KEY))
        .await
        .unwrap();

    let err = mx
        .check_credentials(&ctx(&sim, "wrong-key"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::CredentialsRejected { reason } if reason == "Invalid token"),
        "{err:?}"
    );

    // A multi-organization key names its organization; the wrong one is refused.
    let mut with_org = ctx(&sim, DEFAULT_API_KEY);
    with_org.credentials.0.insert(
        "organization_id".into(),
        millwright_sim::maintainx::ORGANIZATION_ID.to_string(),
    );
    mx.check_credentials(&with_org).await.unwrap();
    with_org
        .credentials
        .0
        .insert("organization_id".into(), "999".into());
    assert!(matches!(
        mx.check_credentials(&with_org).await,
        Err(ConnectorError::CredentialsRejected { .. })
    ));

    // Rotated in MaintainX: the stored key stops working, the new one works.
    control(&sim, "credentials", json!({"api_key": "rotated-key"})).await;
    assert!(matches!(
        mx.check_credentials(&ctx(&sim, DEFAULT_API_KEY)).await,
        Err(ConnectorError::CredentialsRejected { .. })
    ));
    mx.check_credentials(&ctx(&sim, "rotated-key"))
        .await
        .unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn listing_pages_through_every_work_order() {
    let scale = 250;
    let sim = sim(scale).await;
    let mx = connector();
    let ctx = ctx(&sim, DEFAULT_API_KEY);
    let (records, pages) = list_all(
        &mx,
        &ctx,
        ListRequest {
            page_size: 100,
            ..ListRequest::all(Entity::WorkOrders)
        },
    )
    .await;
    assert_eq!(records.len(), scale);
    assert_eq!(pages, 3);
    let ids: BTreeSet<&str> = records.iter().map(|r| r.remote_id.as_str()).collect();
    assert_eq!(ids.len(), scale, "a record was repeated");
    for record in &records {
        let wo = work_order(record);
        assert!(
            wo.title.is_some()
                && wo.number.is_some()
                && wo.status.is_some()
                && wo.priority.is_some()
        );
        assert!(record.remote_updated_at.is_some() && record.remote_created_at.is_some());
        assert_eq!(record.remote_data["id"].to_string(), record.remote_id);
    }
    // Custom fields come through `expand=extra_fields`.
    assert!(
        records.iter().any(|r| !r.custom_fields.is_empty()),
        "no work order has custom fields"
    );
    // A page size beyond MaintainX's limit is clamped, not refused.
    let big = mx
        .list(
            &ctx,
            &ListRequest {
                page_size: 5000,
                ..ListRequest::all(Entity::WorkOrders)
            },
        )
        .await
        .unwrap();
    assert_eq!(big.records.len(), millwright_sim::maintainx::MAX_PAGE_SIZE);
    sim.shutdown().await;
}

#[tokio::test]
async fn every_readable_entity_lists_and_maps() {
    let scale = 30;
    let sim = sim(scale).await;
    let mx = connector();
    let ctx = ctx(&sim, DEFAULT_API_KEY);
    for entity in [
        Entity::Assets,
        Entity::Locations,
        Entity::InventoryItems,
        Entity::PurchaseOrders,
        Entity::Vendors,
        Entity::Users,
    ] {
        let (records, _) = list_all(
            &mx,
            &ctx,
            ListRequest {
                page_size: 7,
                ..ListRequest::all(entity)
            },
        )
        .await;
        assert_eq!(records.len(), scale, "{entity:?}");
        for record in &records {
            assert_eq!(record.data.entity(), entity);
            assert!(
                record.data.display_name().is_some(),
                "{entity:?} {} has no display name",
                record.remote_id
            );
        }
        let first = &records[0];
        let again = mx.get(&ctx, entity, &first.remote_id).await.unwrap();
        assert_eq!(&again, first, "{entity:?}: get and list disagree");
    }
    // Spot checks of fields only some entities have.
    let (assets, _) = list_all(&mx, &ctx, ListRequest::all(Entity::Assets)).await;
    assert!(assets.iter().all(
        |a| matches!(&a.data, EntityData::Assets(x) if x.status.is_some() && x.category.is_some())
    ));
    let (pos, _) = list_all(&mx, &ctx, ListRequest::all(Entity::PurchaseOrders)).await;
    assert!(pos.iter().any(|p| matches!(&p.data, EntityData::PurchaseOrders(x) if !x.line_items.is_empty() && x.total_amount.is_some())));
    let err = mx
        .list(&ctx, &ListRequest::all(Entity::MaintenanceSchedules))
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::NotSupported { .. }));
    sim.shutdown().await;
}

#[tokio::test]
async fn get_answers_one_record_or_not_found() {
    let sim = sim(10).await;
    let mx = connector();
    let ctx = ctx(&sim, DEFAULT_API_KEY);
    let page = mx
        .list(&ctx, &ListRequest::all(Entity::WorkOrders))
        .await
        .unwrap();
    let listed = &page.records[3];
    let got = mx
        .get(&ctx, Entity::WorkOrders, &listed.remote_id)
        .await
        .unwrap();
    assert_eq!(&got, listed);
    let missing = mx
        .get(&ctx, Entity::WorkOrders, "999999999")
        .await
        .unwrap_err();
    assert!(matches!(missing, ConnectorError::NotFound), "{missing:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_work_order_is_created_and_moved_through_its_statuses() {
    let sim = sim(10).await;
    let mx = connector();
    let ctx = ctx(&sim, DEFAULT_API_KEY);
    let asset = mx
        .list(&ctx, &ListRequest::all(Entity::Assets))
        .await
        .unwrap()
        .records
        .remove(0);
    let EntityData::Assets(asset_data) = &asset.data else {
        unreachable!()
    };
    let user = mx
        .list(&ctx, &ListRequest::all(Entity::Users))
        .await
        .unwrap()
        .records
        .remove(0);

    let created = mx
        .create(
            &ctx,
            Entity::WorkOrders,
            json!({
                "title": "Replace mechanical seal", "description": "Seal weeping at the gland",
                "priority": "high", "status": "in_progress", "asset_id": asset.remote_id,
                "location_id": asset_data.location_id, "assignee_ids": [user.remote_id],
                "due_at": "2030-01-15T17:00:00Z", "estimated_hours": "2.5",
                "custom_fields": {"Failure code": "SEAL-LEAK"}
            }),
        )
        .await
        .unwrap();
    let wo = work_order(&created);
    assert_eq!(wo.title.as_deref(), Some("Replace mechanical seal"));
    assert_eq!(wo.priority, Some(WorkOrderPriority::High));
    assert_eq!(wo.status, Some(WorkOrderStatus::InProgress));
    assert_eq!(wo.remote_status.as_deref(), Some("IN_PROGRESS"));
    assert_eq!(wo.asset_id.as_deref(), Some(asset.remote_id.as_str()));
    assert_eq!(wo.location_id, asset_data.location_id);
    assert_eq!(wo.assignee_ids, vec![user.remote_id.clone()]);
    assert_eq!(
        wo.due_at,
        millwright_core::time::parse("2030-01-15T17:00:00Z")
    );
    assert_eq!(wo.estimated_hours, Some(Decimal::parse("2.50").unwrap()));
    assert_eq!(wo.completed_at, None);
    assert_eq!(created.custom_fields["Failure code"], "SEAL-LEAK");

    let updated = mx
        .update(
            &ctx,
            Entity::WorkOrders,
            &created.remote_id,
            json!({"status": "completed", "description": "Seal replaced"}),
        )
        .await
        .unwrap();
    let wo = work_order(&updated);
    assert_eq!(wo.status, Some(WorkOrderStatus::Completed));
    assert_eq!(wo.remote_status.as_deref(), Some("DONE"));
    assert_eq!(wo.description.as_deref(), Some("Seal replaced"));
    assert!(wo.completed_at.is_some());
    assert_eq!(
        wo.title.as_deref(),
        Some("Replace mechanical seal"),
        "a patch keeps what it does not name"
    );
    assert!(updated.remote_updated_at > created.remote_updated_at);
    assert_eq!(
        mx.get(&ctx, Entity::WorkOrders, &created.remote_id)
            .await
            .unwrap(),
        updated
    );

    let reopened = mx
        .update(
            &ctx,
            Entity::WorkOrders,
            &created.remote_id,
            json!({"status": "on_hold"}),
        )
        .await
        .unwrap();
    assert_eq!(work_order(&reopened).status, Some(WorkOrderStatus::OnHold));
    assert_eq!(work_order(&reopened).completed_at, None);
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_writes_are_refused_before_or_by_the_source() {
    let sim = sim(5).await;
    let mx = connector();
    let ctx = ctx(&sim, DEFAULT_API_KEY);
    let before = stats(&sim).await["total"].as_u64().unwrap();
    let err = mx
        .create(
            &ctx,
            Entity::WorkOrders,
            json!({"title": "x", "priority": "urgent"}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Invalid { field, .. } if field == "priority"),
        "{err:?}"
    );
    let err = mx
        .create(
            &ctx,
            Entity::WorkOrders,
            json!({"title": "x", "status": "cancelled"}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Invalid { field, .. } if field == "status"),
        "{err:?}"
    );
    assert_eq!(
        stats(&sim).await["total"].as_u64().unwrap(),
        before,
        "invalid writes must not reach the source"
    );

    // Well-formed, but MaintainX has no such asset: the source's own refusal, with its message.
    let err = mx
        .create(
            &ctx,
            Entity::WorkOrders,
            json!({"title": "x", "asset_id": "987654321"}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Rejected { message } if message.contains("987654321")),
        "{err:?}"
    );
    let err = mx
        .update(&ctx, Entity::WorkOrders, "987654321", json!({"title": "y"}))
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::NotFound), "{err:?}");
    let err = mx
        .create(&ctx, Entity::Assets, json!({"name": "x"}))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::NotSupported { .. }),
        "{err:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_outage_is_unreachable_and_recovery_is_seen() {
    let sim = sim(5).await;
    let mx = connector();
    let ctx = ctx(&sim, DEFAULT_API_KEY);

    control(&sim, "outage", json!({"mode": "503"})).await;
    let before = stats(&sim).await["total"].as_u64().unwrap();
    let err = mx.check_credentials(&ctx).await.unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Unreachable { reason } if reason.contains("503")),
        "{err:?}"
    );
    assert_eq!(
        stats(&sim).await["total"].as_u64().unwrap() - before,
        3,
        "a 503 is retried up to max_attempts"
    );
    assert!(matches!(
        mx.list(&ctx, &ListRequest::all(Entity::Assets)).await,
        Err(ConnectorError::Unreachable { .. })
    ));

    control(&sim, "outage", json!({"mode": "timeout"})).await;
    let started = Instant::now();
    let err = mx.get(&ctx, Entity::WorkOrders, "1").await.unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Unreachable { reason } if reason.contains("timed out")),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );

    control(&sim, "outage", json!({"mode": "none"})).await;
    mx.check_credentials(&ctx).await.unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn a_rate_limit_is_reported_with_the_sources_wait() {
    let sim = sim(5).await;
    let mx = connector();
    let ctx = ctx(&sim, DEFAULT_API_KEY);
    control(&sim, "rate-limit", json!({"per_minute": 2})).await;
    mx.check_credentials(&ctx).await.unwrap();
    mx.check_credentials(&ctx).await.unwrap();

    let started = Instant::now();
    let err = mx.check_credentials(&ctx).await.unwrap_err();
    let ConnectorError::RateLimited {
        retry_after: Some(wait),
    } = err
    else {
        panic!("{err:?}")
    };
    // The sim's X-Rate-Limit-Reset: the rest of its one-minute window.
    assert!(
        wait >= Duration::from_secs(1) && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
    // Longer than the configured cap: handed back at once rather than slept on or retried early.
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(stats(&sim).await["statuses"]["429"], 1);

    control(&sim, "rate-limit", json!({"per_minute": 0})).await;
    mx.check_credentials(&ctx).await.unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn modified_since_keeps_only_what_changed() {
    let scale = 120;
    let sim = sim(scale).await;
    let mx = connector();
    let ctx = ctx(&sim, DEFAULT_API_KEY);
    assert_eq!(
        mx.incremental(Entity::WorkOrders),
        Incremental::ClientCompare { field: "updatedAt" }
    );
    assert_eq!(
        mx.incremental(Entity::MaintenanceSchedules),
        Incremental::FullScan
    );

    let mark = millwright_core::time::now();
    // MaintainX stamps milliseconds; let the clock move past the mark first.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let changed = control(
        &sim,
        "mutate",
        json!({"entity": "work_orders", "op": "update", "count": 4}),
    )
    .await;
    let created = control(
        &sim,
        "mutate",
        json!({"entity": "work_orders", "op": "create", "count": 2}),
    )
    .await;
    let mut expected: BTreeSet<String> = changed["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.to_string())
        .collect();
    expected.extend(
        created["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.to_string()),
    );
    assert_eq!(expected.len(), 6);

    let request = ListRequest {
        modified_since: Some(mark),
        page_size: 50,
        ..ListRequest::all(Entity::WorkOrders)
    };
    let (records, pages) = list_all(&mx, &ctx, request).await;
    let got: BTreeSet<String> = records.iter().map(|r| r.remote_id.clone()).collect();
    assert_eq!(got, expected);
    assert_eq!(pages, 3, "a client-side filter still scans every page");
    assert!(records.iter().all(|r| r.remote_updated_at.unwrap() >= mark));

    let (everything, _) = list_all(&mx, &ctx, ListRequest::all(Entity::WorkOrders)).await;
    assert_eq!(everything.len(), scale + 2);
    sim.shutdown().await;
}
