//! What only a real PostgreSQL can show: several pools (nodes) racing on migrations, credits
//! and jobs, plus the parts of the backend that the shared conformance suite cannot reach
//! through the trait (seeded `records`, corrupt rows). Needs `MILLWRIGHT_TEST_POSTGRES_URL`.

use std::collections::HashSet;

use chrono::Duration;
use millwright_core::{
    credits::Deployment,
    ids::{new_id, prefix},
    scope::Scope,
    status::ConnectionStatus,
    time::{self, Timestamp},
};
use millwright_store::{
    ConnectionFilter, NewConnection, NewEvent, NewJob, NewToken, NewWorkspace, PageRequest,
    RequestLog, RequestLogFilter, Store, StoreError,
};
use millwright_store_postgres::{testing, PostgresStore};
use serde_json::json;

async fn workspace(store: &PostgresStore, credit_limit: i64) -> String {
    let id = new_id(prefix::WORKSPACE);
    store
        .create_workspace(NewWorkspace {
            id: id.clone(),
            name: "Acme".into(),
            credit_limit,
            rate_limit_per_minute: None,
            secret_key_hash: new_id("hash"),
            wrapped_data_key: vec![1, 2, 3],
            created_at: time::now(),
        })
        .await
        .unwrap();
    id
}

fn new_connection(workspace_id: &str, credits: i64) -> (NewConnection, NewToken) {
    let id = new_id(prefix::CONNECTION);
    let now = time::now();
    let connection = NewConnection {
        id: id.clone(),
        workspace_id: workspace_id.into(),
        connector: "maintainx".into(),
        deployment: Deployment::Cloud,
        name: "Plant 1".into(),
        status: ConnectionStatus::Pending,
        credits,
        metadata: json!({"site": "north"}),
        sealed_credentials: vec![9; 16],
        sync_settings: json!({"frequency_minutes": 15}),
        field_mappings: json!({}),
        created_at: now,
    };
    let token = NewToken {
        id: new_id(prefix::TOKEN),
        connection_id: id,
        workspace_id: workspace_id.into(),
        token_hash: new_id("th"),
        scopes: vec![Scope::Read, Scope::Write],
        expires_at: None,
        created_at: now,
    };
    (connection, token)
}

/// The `connection.created` event written with the connection.
fn created_event(connection: &NewConnection) -> NewEvent {
    NewEvent {
        id: new_id(prefix::EVENT),
        workspace_id: connection.workspace_id.clone(),
        connection_id: Some(connection.id.clone()),
        event_type: "connection.created".into(),
        data: json!({"id": connection.id}),
        created_at: connection.created_at,
    }
}

fn job(kind: &str, run_at: Timestamp) -> NewJob {
    NewJob {
        id: new_id(prefix::JOB),
        kind: kind.into(),
        workspace_id: None,
        connection_id: None,
        payload: json!({"n": 1}),
        run_at,
        dedupe_key: None,
        created_at: run_at,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrating_from_several_nodes_at_once_is_safe() {
    let url = testing::fresh_database().await;
    let stores = nodes(&url, 4).await;
    let before = stores[0].readiness().await.unwrap();
    assert_eq!(before.applied_migrations, 0);
    assert!(!before.is_ready());

    let results = futures_join_all(
        stores
            .iter()
            .map(|s| {
                let s = s.clone();
                tokio::spawn(async move { s.migrate().await })
            })
            .collect(),
    )
    .await;
    for r in results {
        r.unwrap().unwrap();
    }
    // And once more, with nothing left to do.
    stores[1].migrate().await.unwrap();

    let after = stores[2].readiness().await.unwrap();
    assert!(after.is_ready());
    assert_eq!(after.applied_migrations, after.known_migrations);
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM schema_migrations")
        .fetch_one(stores[3].pool())
        .await
        .unwrap();
    assert_eq!(recorded, i64::from(after.known_migrations));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_from_several_nodes_never_overspend() {
    let url = testing::fresh_database().await;
    let stores = nodes(&url, 3).await;
    stores[0].migrate().await.unwrap();
    let ws = workspace(&stores[0], 10).await;

    // 40 creates of 3 credits race for a pool of 10: exactly three fit.
    let tasks = (0..40)
        .map(|i| {
            let store = stores[i % stores.len()].clone();
            let (connection, token) = new_connection(&ws, 3);
            let event = created_event(&connection);
            tokio::spawn(async move { store.create_connection(connection, token, event).await })
        })
        .collect::<Vec<_>>();
    let mut created = 0;
    for result in futures_join_all(tasks).await {
        match result.unwrap() {
            Ok(_) => created += 1,
            Err(StoreError::InsufficientCredits {
                limit,
                used,
                requested,
            }) => {
                assert_eq!((limit, requested), (10, 3));
                assert!(
                    used + requested > limit,
                    "refused although {used} + {requested} <= {limit}"
                );
            }
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(created, 3);
    let usage = stores[1].credit_usage(&ws).await.unwrap();
    assert_eq!((usage.limit, usage.used, usage.available), (10, 9, 1));
    // A refused create wrote nothing: no stray connections or tokens.
    let tokens: i64 =
        sqlx::query_scalar("SELECT count(*) FROM connection_tokens WHERE workspace_id = $1")
            .bind(&ws)
            .fetch_one(stores[0].pool())
            .await
            .unwrap();
    assert_eq!(tokens, 3);
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE workspace_id = $1 AND type = 'connection.created'",
    )
    .bind(&ws)
    .fetch_one(stores[0].pool())
    .await
    .unwrap();
    assert_eq!(events, 3, "a refused create appends no event");
    let page = stores[2]
        .list_connections(&ws, &ConnectionFilter::default(), &PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_never_hand_out_a_job_twice() {
    let url = testing::fresh_database().await;
    let stores = nodes(&url, 4).await;
    stores[0].migrate().await.unwrap();
    let now = time::now();
    let mut queued = HashSet::new();
    for i in 0..150 {
        let j = job("sync", now - Duration::seconds(i));
        queued.insert(j.id.clone());
        assert!(stores[0].enqueue_job(j).await.unwrap());
    }
    // A kind nobody asks for, and a job not due yet: neither may be claimed.
    stores[0].enqueue_job(job("probe", now)).await.unwrap();
    stores[0]
        .enqueue_job(job("sync", now + Duration::hours(1)))
        .await
        .unwrap();

    let workers = (0..8)
        .map(|w| {
            let store = stores[w % stores.len()].clone();
            tokio::spawn(async move {
                let worker = format!("worker-{w}");
                let mut mine = Vec::new();
                loop {
                    let claimed = store
                        .claim_jobs(&["sync"], &worker, now, Duration::minutes(5), 7)
                        .await
                        .unwrap();
                    if claimed.is_empty() {
                        return mine;
                    }
                    assert!(claimed.len() <= 7);
                    for job in claimed {
                        assert_eq!(job.lease_owner.as_deref(), Some(worker.as_str()));
                        assert_eq!(job.attempts, 1);
                        mine.push(job.id);
                    }
                }
            })
        })
        .collect::<Vec<_>>();
    let mut seen = HashSet::new();
    for ids in futures_join_all(workers).await {
        for id in ids.unwrap() {
            assert!(seen.insert(id.clone()), "job {id} was handed out twice");
        }
    }
    assert_eq!(seen, queued);
}

#[tokio::test]
async fn deleting_connection_data_removes_its_records_only() {
    let store = testing::fresh_store().await;
    let ws = workspace(&store, 10).await;
    let (a, token_a) = new_connection(&ws, 1);
    let (b, token_b) = new_connection(&ws, 1);
    let (event_a, event_b) = (created_event(&a), created_event(&b));
    let a = store.create_connection(a, token_a, event_a).await.unwrap();
    let b = store.create_connection(b, token_b, event_b).await.unwrap();
    for (connection, n) in [(&a, 3), (&b, 2)] {
        for i in 0..n {
            sqlx::query(
                "INSERT INTO records (id, workspace_id, connection_id, entity, remote_id, data, content_hash, \
                 created_at, updated_at) VALUES ($1, $2, $3, 'asset', $4, '{}', 'h', now(), now())",
            )
            .bind(new_id(prefix::RECORD))
            .bind(&ws)
            .bind(&connection.id)
            .bind(format!("r{i}"))
            .execute(store.pool())
            .await
            .unwrap();
        }
    }
    let now = time::now();
    assert!(matches!(
        store.delete_connection_data(&ws, &a.id, now).await,
        Err(StoreError::NotDisconnected)
    ));
    let event = NewEvent {
        id: new_id(prefix::EVENT),
        workspace_id: ws.clone(),
        connection_id: Some(a.id.clone()),
        event_type: "connection.disconnected".into(),
        data: json!({"id": a.id}),
        created_at: now,
    };
    store
        .disconnect_connection(&ws, &a.id, event, now)
        .await
        .unwrap();
    assert_eq!(
        store.delete_connection_data(&ws, &a.id, now).await.unwrap(),
        3
    );
    assert_eq!(
        store.delete_connection_data(&ws, &a.id, now).await.unwrap(),
        0
    );

    let (left, deleted_at): (i64, Option<Timestamp>) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM records), data_deleted_at FROM connections WHERE id = $1",
    )
    .bind(&a.id)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(left, 2, "the other connection's records stay");
    assert_eq!(deleted_at, Some(now));
}

#[tokio::test]
async fn a_large_batch_of_request_logs_is_one_insert() {
    let store = testing::fresh_store().await;
    let ws = workspace(&store, 10).await;
    let base = time::now();
    // 6,000 rows of 12 columns would exceed the 65,535 parameters of a row-per-tuple insert.
    let logs: Vec<RequestLog> = (0..6000)
        .map(|i| RequestLog {
            request_id: new_id(prefix::REQUEST),
            workspace_id: Some(ws.clone()),
            connection_id: None,
            method: "GET".into(),
            path: "/v1/assets".into(),
            status: if i % 2 == 0 { 200 } else { 404 },
            duration_ms: i,
            request_headers: json!({"accept": "application/json"}),
            request_body: None,
            response_body: Some("{}".into()),
            error_code: None,
            created_at: base + Duration::milliseconds(i),
        })
        .collect();
    store.insert_request_logs(&logs).await.unwrap();
    let filter = RequestLogFilter {
        status: Some(404),
        ..Default::default()
    };
    let mut after = None;
    let mut seen = 0;
    loop {
        let page = store
            .list_request_logs(
                &ws,
                &filter,
                &PageRequest {
                    after: after.clone(),
                    limit: 1000,
                },
            )
            .await
            .unwrap();
        seen += page.items.len();
        assert!(page.items.iter().all(|l| l.status == 404));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, 3000);
    let last = logs.last().unwrap();
    assert_eq!(
        store
            .get_request_log(&ws, &last.request_id)
            .await
            .unwrap()
            .as_ref(),
        Some(last)
    );
    // A batch with one duplicate is refused whole.
    let again = vec![
        logs[0].clone(),
        RequestLog {
            request_id: new_id(prefix::REQUEST),
            ..logs[1].clone()
        },
    ];
    assert!(matches!(
        store.insert_request_logs(&again).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .purge_request_logs(base + Duration::milliseconds(10))
            .await
            .unwrap(),
        10
    );
}

#[tokio::test]
async fn unknown_enum_text_is_reported_as_corrupt() {
    let store = testing::fresh_store().await;
    let j = job("sync", time::now());
    store.enqueue_job(j.clone()).await.unwrap();
    sqlx::query("UPDATE jobs SET state = 'exploded' WHERE id = $1")
        .bind(&j.id)
        .execute(store.pool())
        .await
        .unwrap();
    assert!(matches!(
        store.get_job(&j.id).await,
        Err(StoreError::Corrupt(_))
    ));
}

#[tokio::test]
async fn an_unreachable_database_is_a_backend_error() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let err = PostgresStore::connect("postgres://postgres@127.0.0.1:1/postgres")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
}

/// `futures::future::join_all` without the dependency: awaits the spawned tasks in order.
/// Taking a `Vec` (not an iterator) matters: every task is spawned before the first is awaited.
async fn futures_join_all<T>(
    tasks: Vec<tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await);
    }
    out
}
