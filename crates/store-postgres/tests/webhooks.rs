//! Webhooks on a real PostgreSQL: several pools (nodes) racing on the fan-out and on delivery
//! claims, leases lost to another worker, the migration of existing events, and endpoints deleted
//! while the fan-out runs. Needs `MILLWRIGHT_TEST_POSTGRES_URL`.

use std::collections::{HashMap, HashSet};

use chrono::Duration;
use millwright_core::{
    ids::{new_id, prefix},
    time::{self, Timestamp},
};
use millwright_store::{
    AttemptOutcome, DeliveryAttempt, DeliveryFilter, DeliveryStatus, EventFilter, NewDelivery,
    NewEvent, NewWebhookEndpoint, NewWorkspace, PageRequest, Store, StoreError,
    WebhookEndpointPatch,
};
use millwright_store_postgres::{testing, PostgresStore};
use serde_json::json;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

async fn workspace(store: &PostgresStore) -> String {
    let id = new_id(prefix::WORKSPACE);
    store
        .create_workspace(NewWorkspace {
            id: id.clone(),
            name: "Acme".into(),
            credit_limit: 10,
            rate_limit_per_minute: None,
            secret_key_hash: new_id("hash"),
            wrapped_data_key: vec![1, 2, 3],
            created_at: time::now(),
        })
        .await
        .unwrap();
    id
}

async fn endpoint(
    store: &PostgresStore,
    workspace_id: &str,
    event_types: &[&str],
    connection_ids: &[&str],
    disabled: bool,
) -> String {
    let id = new_id("whe");
    store
        .create_webhook_endpoint(NewWebhookEndpoint {
            id: id.clone(),
            workspace_id: workspace_id.into(),
            url: "https://hooks.example.com/in".into(),
            description: Some("plant floor".into()),
            event_types: event_types.iter().map(|s| s.to_string()).collect(),
            connection_ids: connection_ids.iter().map(|s| s.to_string()).collect(),
            disabled,
            sealed_secret: vec![7; 32],
            created_at: time::now(),
        })
        .await
        .unwrap();
    id
}

fn event(workspace_id: &str, connection_id: Option<&str>, event_type: &str) -> NewEvent {
    NewEvent {
        id: new_id(prefix::EVENT),
        workspace_id: workspace_id.into(),
        connection_id: connection_id.map(str::to_owned),
        event_type: event_type.into(),
        data: json!({"n": 1}),
        created_at: time::now(),
    }
}

fn attempt(delivery_id: &str, at: Timestamp, status_code: i64) -> DeliveryAttempt {
    DeliveryAttempt {
        delivery_id: delivery_id.into(),
        attempted_at: at,
        status_code: Some(status_code),
        duration_ms: 12,
        response_excerpt: Some("ok".into()),
        error: None,
    }
}

/// Several pools on one database, as several nodes would have.
async fn nodes(url: &str, n: usize) -> Vec<PostgresStore> {
    let mut stores = Vec::new();
    for _ in 0..n {
        stores.push(PostgresStore::connect(url).await.unwrap());
    }
    stores
}

async fn count(store: &PostgresStore, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_fan_out_from_several_nodes_creates_each_delivery_once() {
    let url = testing::fresh_database().await;
    let stores = nodes(&url, 4).await;
    stores[0].migrate().await.unwrap();
    let s = &stores[0];
    let ws = workspace(s).await;
    let other_ws = workspace(s).await;
    let every = endpoint(s, &ws, &[], &[], false).await;
    let work_orders = endpoint(s, &ws, &["work_order.*"], &[], false).await;
    let plant_1 = endpoint(s, &ws, &[], &["con_1"], false).await;
    let _disabled = endpoint(s, &ws, &[], &[], true).await;
    let elsewhere = endpoint(s, &other_ws, &[], &[], false).await;
    let filters: Vec<(&str, &str, Vec<String>, Vec<String>)> = vec![
        (&every, &ws, vec![], vec![]),
        (&work_orders, &ws, vec!["work_order.*".into()], vec![]),
        (&plant_1, &ws, vec![], vec!["con_1".into()]),
        (&elsewhere, &other_ws, vec![], vec![]),
    ];

    let types = ["work_order.updated", "asset.created", "sync.completed"];
    let connections = [Some("con_1"), Some("con_2"), None];
    let mut expected = HashSet::new();
    for i in 0..300 {
        let w = if i % 5 == 0 { &other_ws } else { &ws };
        let e = event(w, connections[i % 3], types[i % 4 % 3]);
        for (endpoint_id, endpoint_ws, event_types, connection_ids) in &filters {
            if endpoint_ws == w
                && millwright_core::webhook::matches(
                    event_types,
                    connection_ids,
                    &e.event_type,
                    e.connection_id.as_deref(),
                )
            {
                expected.insert((endpoint_id.to_string(), e.id.clone()));
            }
        }
        s.append_event(e).await.unwrap();
    }
    // A test event has its one delivery already and is never fanned out.
    let test_event = event(&ws, None, "webhook.test");
    let test_delivery = NewDelivery {
        id: new_id("whd"),
        workspace_id: ws.clone(),
        endpoint_id: every.clone(),
        event_id: test_event.id.clone(),
        event_type: "webhook.test".into(),
        next_attempt_at: time::now(),
        created_at: time::now(),
    };
    s.insert_test_event(test_event, test_delivery)
        .await
        .unwrap();

    let now = time::now();
    let tasks = (0..8)
        .map(|i| {
            let store = stores[i % stores.len()].clone();
            tokio::spawn(async move {
                let (mut events, mut deliveries) = (0, 0);
                loop {
                    let pass = store.fan_out_events(17, now).await.unwrap();
                    assert!(pass.events <= 17);
                    if pass.events == 0 {
                        return (events, deliveries);
                    }
                    events += pass.events;
                    deliveries += pass.deliveries;
                }
            })
        })
        .collect::<Vec<_>>();
    let (mut events, mut deliveries) = (0, 0);
    for task in tasks {
        let (e, d) = task.await.unwrap();
        events += e;
        deliveries += d;
    }
    // Every event was taken by exactly one pass, and every delivery created by exactly one.
    assert_eq!(events, 300);
    assert_eq!(deliveries, expected.len() as u64);
    assert_eq!(
        count(s, "SELECT count(*) FROM events WHERE NOT fanned_out").await,
        0
    );
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT endpoint_id, event_id, status, workspace_id FROM webhook_deliveries \
         WHERE event_type <> 'webhook.test'",
    )
    .fetch_all(s.pool())
    .await
    .unwrap();
    let mut created = HashSet::new();
    for (endpoint_id, event_id, status, _) in &rows {
        assert_eq!(status, "pending");
        assert!(
            created.insert((endpoint_id.clone(), event_id.clone())),
            "delivery of {event_id} to {endpoint_id} created twice"
        );
    }
    assert_eq!(created, expected);
    assert_eq!(
        count(
            s,
            "SELECT count(*) FROM webhook_deliveries WHERE event_type = 'webhook.test'"
        )
        .await,
        1
    );
    // Nothing is left: a further pass finds no work.
    assert_eq!(
        stores[3].fan_out_events(100, now).await.unwrap(),
        Default::default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_share_a_delivery_and_respect_the_cap() {
    let url = testing::fresh_database().await;
    let stores = nodes(&url, 4).await;
    stores[0].migrate().await.unwrap();
    let s = &stores[0];
    let ws = workspace(s).await;
    let mut endpoints = Vec::new();
    for _ in 0..5 {
        endpoints.push(endpoint(s, &ws, &[], &[], false).await);
    }
    let disabled = endpoint(s, &ws, &[], &[], false).await;
    let t0 = time::now();
    for _ in 0..40 {
        s.append_event(event(&ws, None, "asset.updated"))
            .await
            .unwrap();
    }
    let fanned = s.fan_out_events(1000, t0).await.unwrap();
    assert_eq!(fanned.deliveries, 40 * 6);
    // Disabled after the fan-out: its deliveries are pending but never claimed.
    s.update_webhook_endpoint(
        &ws,
        &disabled,
        WebhookEndpointPatch {
            disabled: Some(true),
            ..Default::default()
        },
        t0,
    )
    .await
    .unwrap();
    // And deliveries not due yet are not claimed either.
    s.append_event(event(&ws, None, "asset.updated"))
        .await
        .unwrap();
    assert_eq!(
        s.fan_out_events(10, t0 + Duration::hours(1))
            .await
            .unwrap()
            .deliveries,
        5,
        "no delivery to a disabled endpoint"
    );
    let due: HashSet<String> = sqlx::query_scalar(
        "SELECT id FROM webhook_deliveries WHERE endpoint_id <> $1 AND next_attempt_at = $2",
    )
    .bind(&disabled)
    .bind(t0)
    .fetch_all(s.pool())
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert_eq!(due.len(), 200);

    let now = t0 + Duration::seconds(1);
    let workers = (0..8)
        .map(|w| {
            let store = stores[w % stores.len()].clone();
            tokio::spawn(async move {
                let worker = format!("worker-{w}");
                let mut mine = Vec::new();
                // Each worker still holds its previous batch when it claims the next one, so
                // deliveries in flight (its own and the other workers', on every pool) count
                // against the cap of each claim.
                let mut held = Vec::new();
                let mut empty_in_a_row = 0;
                // A claim can come back empty while every remaining row is locked by another
                // claimer's statement, or while every endpoint is at its cap; a few empty claims
                // in a row while holding nothing mean the work is done.
                while empty_in_a_row < 3 {
                    let claimed = store
                        .claim_deliveries(&worker, now, Duration::minutes(5), 3, 10)
                        .await
                        .unwrap();
                    // The cap holds across all claimers: never more than 3 deliveries of one
                    // endpoint leased at once, read in one snapshot.
                    let in_flight: Vec<(String, i64)> = sqlx::query_as(
                        "SELECT endpoint_id, count(*) FROM webhook_deliveries \
                         WHERE status = 'pending' AND lease_expires_at >= $1 GROUP BY endpoint_id",
                    )
                    .bind(now)
                    .fetch_all(store.pool())
                    .await
                    .unwrap();
                    assert!(
                        in_flight.iter().all(|(_, n)| *n <= 3),
                        "per-endpoint cap exceeded across claimers: {in_flight:?}"
                    );
                    if claimed.is_empty() && held.is_empty() {
                        empty_in_a_row += 1;
                        tokio::task::yield_now().await;
                        continue;
                    }
                    empty_in_a_row = 0;
                    assert!(claimed.len() <= 10, "limit exceeded: {}", claimed.len());
                    let mut per_endpoint: HashMap<&str, u32> = HashMap::new();
                    for c in held.iter().chain(&claimed) {
                        *per_endpoint.entry(c.endpoint.id.as_str()).or_default() += 1;
                    }
                    assert!(
                        per_endpoint.values().all(|n| *n <= 3),
                        "per-endpoint cap exceeded with the deliveries held: {per_endpoint:?}"
                    );
                    for c in &claimed {
                        assert_eq!(c.delivery.endpoint_id, c.endpoint.id);
                        assert_eq!(c.delivery.event_id, c.event.id);
                        assert!(!c.endpoint.disabled);
                    }
                    assert!(claimed.windows(2).all(|p| (
                        p[0].delivery.next_attempt_at,
                        &p[0].delivery.id
                    ) <= (
                        p[1].delivery.next_attempt_at,
                        &p[1].delivery.id
                    )));
                    for c in std::mem::replace(&mut held, claimed) {
                        let finished = store
                            .finish_attempt(
                                &c.delivery.id,
                                &worker,
                                attempt(&c.delivery.id, now, 200),
                                AttemptOutcome::Succeeded,
                            )
                            .await
                            .unwrap();
                        assert!(finished, "{worker} lost the lease of {}", c.delivery.id);
                        mine.push(c.delivery.id);
                    }
                }
                mine
            })
        })
        .collect::<Vec<_>>();
    let mut seen = HashSet::new();
    for worker in workers {
        for id in worker.await.unwrap() {
            assert!(
                seen.insert(id.clone()),
                "delivery {id} was handed out twice"
            );
        }
    }
    assert_eq!(seen, due);
    assert_eq!(
        count(s, "SELECT count(*) FROM webhook_attempts").await,
        200,
        "one attempt per delivery"
    );
    assert_eq!(
        count(
            s,
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded' AND attempts = 1"
        )
        .await,
        200
    );
}

#[tokio::test]
async fn a_claim_takes_the_cap_of_each_endpoint_minus_its_deliveries_in_flight() {
    let s = testing::fresh_store().await;
    let ws = workspace(&s).await;
    let busy = endpoint(&s, &ws, &[], &[], false).await;
    let t0 = time::now();
    for _ in 0..50 {
        s.append_event(event(&ws, None, "asset.updated"))
            .await
            .unwrap();
    }
    s.fan_out_events(100, t0).await.unwrap();
    // A quiet endpoint created after the backlog, with one delivery due later than all of it.
    let quiet = endpoint(&s, &ws, &["sync.completed"], &[], false).await;
    s.append_event(event(&ws, None, "sync.completed"))
        .await
        .unwrap();
    s.fan_out_events(100, t0 + Duration::seconds(1))
        .await
        .unwrap();

    let now = t0 + Duration::seconds(2);
    let claimed = s
        .claim_deliveries("w1", now, Duration::minutes(1), 4, 10)
        .await
        .unwrap();
    // The backlog of one endpoint does not starve the other.
    let to = |id: &str| claimed.iter().filter(|c| c.endpoint.id == id).count();
    assert_eq!((to(&busy), to(&quiet)), (4, 1));
    assert_eq!(claimed.last().unwrap().endpoint.id, quiet);
    // Both endpoints are now at their cap with deliveries in flight: another worker gets none.
    assert!(s
        .claim_deliveries("w2", now, Duration::minutes(1), 4, 10)
        .await
        .unwrap()
        .is_empty());
    // Finished, they are no longer in flight; a claim with a smaller limit than the caps allow
    // stops at the limit.
    for c in &claimed {
        assert!(s
            .finish_attempt(
                &c.delivery.id,
                "w1",
                attempt(&c.delivery.id, now, 200),
                AttemptOutcome::Succeeded
            )
            .await
            .unwrap());
    }
    let more = s
        .claim_deliveries("w2", now, Duration::minutes(1), 4, 2)
        .await
        .unwrap();
    assert_eq!(more.len(), 2);
    // And the cap counts those two: only two more of the busy endpoint's backlog are claimed.
    let rest = s
        .claim_deliveries("w3", now, Duration::minutes(1), 4, 10)
        .await
        .unwrap();
    assert_eq!(rest.len(), 2);
    assert!(rest.iter().all(|c| c.endpoint.id == busy));
    let first: HashSet<_> = claimed.iter().map(|c| c.delivery.id.clone()).collect();
    assert!(more.iter().all(|c| !first.contains(&c.delivery.id)));
}

#[tokio::test]
async fn an_expired_lease_passes_to_another_worker_and_the_first_loses_it() {
    let s = testing::fresh_store().await;
    let ws = workspace(&s).await;
    let e = endpoint(&s, &ws, &[], &[], false).await;
    let t0 = time::now();
    s.append_event(event(&ws, None, "asset.updated"))
        .await
        .unwrap();
    s.fan_out_events(10, t0).await.unwrap();

    let first = s
        .claim_deliveries("w1", t0, Duration::seconds(30), 5, 5)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    let id = first[0].delivery.id.clone();
    // Leased: nobody else gets it until the lease expires.
    assert!(s
        .claim_deliveries(
            "w2",
            t0 + Duration::seconds(10),
            Duration::seconds(30),
            5,
            5
        )
        .await
        .unwrap()
        .is_empty());
    let later = t0 + Duration::minutes(1);
    let second = s
        .claim_deliveries("w2", later, Duration::seconds(30), 5, 5)
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].delivery.id, id);

    // w1 answers late with a 410: nothing is written, and the endpoint stays enabled.
    assert!(!s
        .finish_attempt(&id, "w1", attempt(&id, later, 410), AttemptOutcome::Gone)
        .await
        .unwrap());
    let endpoint_now = s.get_webhook_endpoint(&ws, &e).await.unwrap().unwrap();
    assert!(!endpoint_now.disabled);
    assert!(s
        .delivery_attempts(&ws, std::slice::from_ref(&id))
        .await
        .unwrap()
        .is_empty());

    // w2 is told 410 Gone: the delivery fails and the endpoint is disabled.
    assert!(s
        .finish_attempt(&id, "w2", attempt(&id, later, 410), AttemptOutcome::Gone)
        .await
        .unwrap());
    let d = s.get_delivery(&ws, &id).await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!((d.attempts, d.next_attempt_at), (1, None));
    assert_eq!(d.first_attempt_at, Some(later));
    let endpoint_now = s.get_webhook_endpoint(&ws, &e).await.unwrap().unwrap();
    assert!(endpoint_now.disabled);
    assert_eq!(endpoint_now.disabled_reason.as_deref(), Some("410 Gone"));
    // A finished delivery is not finished twice.
    assert!(!s
        .finish_attempt(
            &id,
            "w2",
            attempt(&id, later, 200),
            AttemptOutcome::Succeeded
        )
        .await
        .unwrap());
    assert_eq!(s.delivery_attempts(&ws, &[id]).await.unwrap().len(), 1);
}

#[tokio::test]
async fn endpoints_deliveries_retries_and_the_failing_sweep_round_trip() {
    let s = testing::fresh_store().await;
    let ws = workspace(&s).await;
    let other_ws = workspace(&s).await;
    let a = endpoint(&s, &ws, &["asset.*"], &[], false).await;
    let watcher = endpoint(&s, &ws, &["webhook.endpoint.disabled"], &[], false).await;
    let t0 = time::now();

    // Patches: description cleared, filters replaced, secret rotated.
    let rotated_until = t0 + Duration::hours(24);
    let patched = s
        .update_webhook_endpoint(
            &ws,
            &a,
            WebhookEndpointPatch {
                url: Some("https://hooks.example.com/v2".into()),
                description: Some(None),
                event_types: Some(vec!["asset.*".into(), "sync.completed".into()]),
                connection_ids: Some(vec![]),
                disabled: None,
                rotate_secret: Some((vec![8; 32], rotated_until)),
            },
            t0,
        )
        .await
        .unwrap();
    assert_eq!(patched.url, "https://hooks.example.com/v2");
    assert_eq!(patched.description, None);
    assert_eq!(patched.event_types, vec!["asset.*", "sync.completed"]);
    assert_eq!(patched.sealed_secret, vec![8; 32]);
    assert_eq!(patched.sealed_previous_secret, Some(vec![7; 32]));
    assert_eq!(patched.previous_secret_expires_at, Some(rotated_until));
    assert_eq!(patched.updated_at, t0);
    assert!(matches!(
        s.update_webhook_endpoint(&other_ws, &a, WebhookEndpointPatch::default(), t0)
            .await,
        Err(StoreError::NotFound)
    ));
    let listed = s
        .list_webhook_endpoints(&ws, &PageRequest::first(1))
        .await
        .unwrap();
    assert_eq!(listed.items[0].id, watcher, "newest first");
    let rest = s
        .list_webhook_endpoints(
            &ws,
            &PageRequest {
                after: listed.next_after.clone(),
                limit: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items[0].id, a);
    assert_eq!(rest.next_after, None);

    // Two deliveries to `a`, both failing for good six days ago.
    let old = t0 - Duration::days(6);
    for _ in 0..2 {
        s.append_event(event(&ws, Some("con_1"), "asset.created"))
            .await
            .unwrap();
    }
    assert_eq!(s.fan_out_events(10, old).await.unwrap().deliveries, 2);
    let claimed = s
        .claim_deliveries("w", old, Duration::minutes(1), 10, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    for c in &claimed {
        let retry_at = old + Duration::minutes(1);
        assert!(s
            .finish_attempt(
                &c.delivery.id,
                "w",
                attempt(&c.delivery.id, old, 500),
                AttemptOutcome::RetryAt(retry_at)
            )
            .await
            .unwrap());
        let d = s.get_delivery(&ws, &c.delivery.id).await.unwrap().unwrap();
        assert_eq!(
            (d.status, d.next_attempt_at),
            (DeliveryStatus::Pending, Some(retry_at))
        );
    }
    let again = s
        .claim_deliveries(
            "w",
            old + Duration::minutes(2),
            Duration::minutes(1),
            10,
            10,
        )
        .await
        .unwrap();
    for c in &again {
        let at = old + Duration::minutes(2);
        assert!(s
            .finish_attempt(
                &c.delivery.id,
                "w",
                attempt(&c.delivery.id, at, 500),
                AttemptOutcome::Failed
            )
            .await
            .unwrap());
        let d = s.get_delivery(&ws, &c.delivery.id).await.unwrap().unwrap();
        assert_eq!(d.status, DeliveryStatus::Failed);
        assert_eq!(d.attempts, 2);
        assert_eq!(
            d.first_attempt_at,
            Some(old),
            "the window's first attempt is kept"
        );
        assert_eq!(d.last_attempt_at, Some(at));
    }
    let ids: Vec<String> = again.iter().map(|c| c.delivery.id.clone()).collect();
    let attempts = s.delivery_attempts(&ws, &ids).await.unwrap();
    assert_eq!(attempts.len(), 4);
    assert!(attempts
        .windows(2)
        .all(|p| p[0].attempted_at <= p[1].attempted_at));
    assert!(s
        .delivery_attempts(&other_ws, &ids)
        .await
        .unwrap()
        .is_empty());
    let failed = s
        .list_deliveries(
            &ws,
            &DeliveryFilter {
                endpoint_id: Some(a.clone()),
                status: Some(DeliveryStatus::Failed),
                event_id: None,
            },
            &PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(failed.items.len(), 2);
    assert!(failed.items[0].id > failed.items[1].id, "newest first");

    // Failing for more than five days with no success since: disabled once, announced once.
    let cutoff = t0 - Duration::days(5);
    let disabled = s.disable_failing_endpoints(cutoff, t0).await.unwrap();
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].id, a);
    assert_eq!(
        disabled[0].disabled_reason.as_deref(),
        Some("failing for 5 days")
    );
    assert!(s
        .disable_failing_endpoints(cutoff, t0)
        .await
        .unwrap()
        .is_empty());
    let announced = s
        .list_events(
            &ws,
            &EventFilter {
                event_type: Some("webhook.endpoint.disabled".into()),
                ..Default::default()
            },
            &PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(announced.items.len(), 1);
    assert_eq!(announced.items[0].connection_id, None);
    assert_eq!(
        announced.items[0].data,
        json!({"endpoint": {"id": a, "url": "https://hooks.example.com/v2", "disabled_reason": "failing for 5 days"}})
    );
    // The announcement is an event like any other: fanned out to the watcher.
    let pass = s.fan_out_events(10, t0).await.unwrap();
    assert_eq!(
        pass,
        millwright_store::FanOut {
            events: 1,
            deliveries: 1
        }
    );

    // Recovery re-queues the failed deliveries with a fresh window; re-enabling clears the reason.
    assert_eq!(
        s.recover_deliveries(&ws, &a, old - Duration::days(1), t0)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s.recover_deliveries(&other_ws, &a, old, t0).await.unwrap(),
        0
    );
    let d = s.get_delivery(&ws, &ids[0]).await.unwrap().unwrap();
    assert_eq!(
        (d.status, d.next_attempt_at, d.first_attempt_at),
        (DeliveryStatus::Pending, Some(t0), None)
    );
    let enabled = s
        .update_webhook_endpoint(
            &ws,
            &a,
            WebhookEndpointPatch {
                disabled: Some(false),
                ..Default::default()
            },
            t0,
        )
        .await
        .unwrap();
    assert!(!enabled.disabled);
    assert_eq!(enabled.disabled_reason, None);
    let retried = s.retry_delivery(&ws, &ids[1], t0).await.unwrap();
    assert_eq!(retried.status, DeliveryStatus::Pending);
    assert!(matches!(
        s.retry_delivery(&other_ws, &ids[1], t0).await,
        Err(StoreError::NotFound)
    ));

    // Deleting the endpoint takes its deliveries and their attempts along.
    s.delete_webhook_endpoint(&ws, &a).await.unwrap();
    assert!(s.get_delivery(&ws, &ids[0]).await.unwrap().is_none());
    assert_eq!(count(&s, "SELECT count(*) FROM webhook_attempts").await, 0);
    assert!(matches!(
        s.delete_webhook_endpoint(&ws, &a).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deleting_endpoints_while_nodes_fan_out_never_fails_a_pass() {
    let url = testing::fresh_database().await;
    let stores = nodes(&url, 3).await;
    stores[0].migrate().await.unwrap();
    let s = &stores[0];
    let ws = workspace(s).await;
    let mut endpoints = Vec::new();
    for _ in 0..20 {
        endpoints.push(endpoint(s, &ws, &[], &[], false).await);
    }
    for _ in 0..400 {
        s.append_event(event(&ws, None, "asset.updated"))
            .await
            .unwrap();
    }
    let now = time::now();
    let fan_outs = (0..2)
        .map(|i| {
            let store = stores[i].clone();
            tokio::spawn(
                async move { while store.fan_out_events(10, now).await.unwrap().events > 0 {} },
            )
        })
        .collect::<Vec<_>>();
    let deleter = {
        let store = stores[2].clone();
        let ws = ws.clone();
        let doomed = endpoints[..10].to_vec();
        tokio::spawn(async move {
            for id in doomed {
                store.delete_webhook_endpoint(&ws, &id).await.unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    for task in fan_outs {
        task.await.unwrap();
    }
    deleter.await.unwrap();
    // The surviving endpoints got every event; the deleted ones kept nothing.
    assert_eq!(
        count(s, "SELECT count(*) FROM webhook_deliveries").await,
        10 * 400
    );
    let per: Vec<i64> =
        sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries GROUP BY endpoint_id")
            .fetch_all(s.pool())
            .await
            .unwrap();
    assert!(per.iter().all(|n| *n == 400), "{per:?}");
}

#[tokio::test]
async fn events_written_before_the_migration_are_not_fanned_out() {
    let url = testing::fresh_database().await;
    // The schema as it was before webhooks: 0001 and 0002 only.
    let mut conn = PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, \
         applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    for (version, name, sql) in [
        (1, "init", include_str!("../migrations/0001_init.sql")),
        (2, "sync", include_str!("../migrations/0002_sync.sql")),
    ] {
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
            .bind(version)
            .bind(name)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO events (id, workspace_id, type, data, created_at) \
         VALUES ('evt_old', 'ws_1', 'asset.created', '{}', now())",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let _ = conn.close().await;

    let s = PostgresStore::connect(&url).await.unwrap();
    s.migrate().await.unwrap();
    assert!(s.readiness().await.unwrap().is_ready());
    let old: bool = sqlx::query_scalar("SELECT fanned_out FROM events WHERE id = 'evt_old'")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert!(old, "an event from before webhooks is done");
    s.append_event(event("ws_1", None, "asset.created"))
        .await
        .unwrap();
    assert_eq!(
        count(&s, "SELECT count(*) FROM events WHERE NOT fanned_out").await,
        1
    );
}
