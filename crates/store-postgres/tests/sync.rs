//! The synced store under what only a real PostgreSQL shows: page writes racing a disconnect,
//! concurrent run starts from several nodes, the round trips of a 1,000-record page, and keyset
//! paging over thousands of records. Needs `MILLWRIGHT_TEST_POSTGRES_URL`.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::Duration;
use millwright_core::{
    credits::Deployment,
    ids::{new_id, prefix},
    record::{content_hash, record_id},
    scope::Scope,
    status::ConnectionStatus,
    time::{self, Timestamp},
    Entity,
};
use millwright_store::{
    EventFilter, NewConnection, NewEvent, NewSyncRun, NewToken, NewWorkspace, PageRequest,
    PageWrite, RecordQuery, RecordWrite, RunStatus, Store, StoreError, SyncMode,
};
use millwright_store_postgres::{testing, PostgresStore};
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A workspace and one active connection in it.
async fn setup(store: &PostgresStore) -> (String, String) {
    let ws = new_id(prefix::WORKSPACE);
    let now = time::now();
    store
        .create_workspace(NewWorkspace {
            id: ws.clone(),
            name: "Acme".into(),
            credit_limit: 10,
            rate_limit_per_minute: None,
            secret_key_hash: new_id("hash"),
            wrapped_data_key: vec![1],
            created_at: now,
        })
        .await
        .unwrap();
    let id = new_id(prefix::CONNECTION);
    store
        .create_connection(
            NewConnection {
                id: id.clone(),
                workspace_id: ws.clone(),
                connector: "maintainx".into(),
                deployment: Deployment::Cloud,
                name: "Plant 1".into(),
                status: ConnectionStatus::Active,
                credits: 1,
                metadata: json!({}),
                sealed_credentials: vec![9],
                sync_settings: json!({}),
                field_mappings: json!({}),
                created_at: now,
            },
            NewToken {
                id: new_id(prefix::TOKEN),
                connection_id: id.clone(),
                workspace_id: ws.clone(),
                token_hash: new_id("th"),
                scopes: vec![Scope::Read],
                expires_at: None,
                created_at: now,
            },
            NewEvent {
                id: new_id(prefix::EVENT),
                workspace_id: ws.clone(),
                connection_id: Some(id.clone()),
                event_type: "connection.created".into(),
                data: json!({"id": id}),
                created_at: now,
            },
        )
        .await
        .unwrap();
    (ws, id)
}

/// A work order as a connector would hand it over; `version` changes its content.
fn work_order(connection_id: &str, n: usize, version: u32) -> RecordWrite {
    let remote_id = format!("wo-{n}");
    let data = json!({
        "title": format!("Work order {n} v{version}"),
        "status": (["open", "done"][n % 2]),
        "priority": n % 3,
        "assignee_ids": [format!("u{}", n % 5), "everyone"],
    });
    let custom_fields = json!({});
    let remote_updated_at = None;
    RecordWrite {
        id: record_id(connection_id, Entity::WorkOrders, &remote_id),
        content_hash: content_hash(&data, &custom_fields, remote_updated_at.as_ref()),
        remote_id,
        data,
        custom_fields,
        remote_data: json!({"raw": n}),
        display_name: Some(format!("WO {n}")),
        remote_created_at: None,
        remote_updated_at,
    }
}

fn page(
    ws: &str,
    connection_id: &str,
    run_id: Option<&str>,
    records: Vec<RecordWrite>,
) -> PageWrite {
    PageWrite {
        workspace_id: ws.into(),
        connection_id: connection_id.into(),
        entity: Entity::WorkOrders,
        run_id: run_id.map(Into::into),
        records,
        deleted_remote_ids: Vec::new(),
        checkpoint: None,
        now: time::now(),
    }
}

fn new_run(ws: &str, connection_id: &str, entity: Entity) -> NewSyncRun {
    NewSyncRun {
        id: new_id("run"),
        workspace_id: ws.into(),
        connection_id: connection_id.into(),
        entity,
        mode: SyncMode::Initial,
        cursor_from: None,
        started_at: time::now(),
    }
}

fn disconnected_event(ws: &str, connection_id: &str) -> NewEvent {
    NewEvent {
        id: new_id(prefix::EVENT),
        workspace_id: ws.into(),
        connection_id: Some(connection_id.into()),
        event_type: "connection.disconnected".into(),
        data: json!({"id": connection_id}),
        created_at: time::now(),
    }
}

async fn count(store: &PostgresStore, sql: &'static str, connection_id: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(connection_id)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// Waits until `n` backends of this database wait on a lock.
async fn wait_for_lock_waiters(store: &PostgresStore, n: i64) {
    for _ in 0..500 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        if waiting >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{n} backends never waited on a lock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_page_queued_behind_a_disconnect_writes_nothing() {
    let store = testing::fresh_store().await;
    let (ws, conn) = setup(&store).await;
    let run = store
        .start_sync_run(new_run(&ws, &conn, Entity::WorkOrders))
        .await
        .unwrap();
    store
        .apply_page(page(
            &ws,
            &conn,
            Some(&run.id),
            vec![work_order(&conn, 0, 1)],
        ))
        .await
        .unwrap();

    // Stall the disconnect after it has locked the connection: another transaction holds the
    // connection's token rows, which the disconnect must update next.
    let mut blocker = store.pool().begin().await.unwrap();
    sqlx::query("SELECT id FROM connection_tokens WHERE connection_id = $1 FOR UPDATE")
        .bind(&conn)
        .execute(&mut *blocker)
        .await
        .unwrap();
    let disconnect = {
        let (store, ws, conn) = (store.clone(), ws.clone(), conn.clone());
        tokio::spawn(async move {
            store
                .disconnect_connection(&ws, &conn, disconnected_event(&ws, &conn), time::now())
                .await
        })
    };
    wait_for_lock_waiters(&store, 1).await;
    // Pages of the run, and a write without a run, now queue behind the disconnect.
    let with_run = {
        let (store, p) = (
            store.clone(),
            page(&ws, &conn, Some(&run.id), vec![work_order(&conn, 1, 1)]),
        );
        tokio::spawn(async move { store.apply_page(p).await })
    };
    let without_run = {
        let (store, p) = (
            store.clone(),
            page(&ws, &conn, None, vec![work_order(&conn, 2, 1)]),
        );
        tokio::spawn(async move { store.apply_page(p).await })
    };
    let start = {
        let (store, r) = (store.clone(), new_run(&ws, &conn, Entity::Assets));
        tokio::spawn(async move { store.start_sync_run(r).await })
    };
    wait_for_lock_waiters(&store, 4).await;
    blocker.commit().await.unwrap();

    let disconnected = disconnect.await.unwrap().unwrap();
    assert!(disconnected.changed);
    assert!(matches!(
        with_run.await.unwrap(),
        Err(StoreError::RunNotRunning)
    ));
    assert!(matches!(
        without_run.await.unwrap(),
        Err(StoreError::Disconnected)
    ));
    assert!(matches!(
        start.await.unwrap(),
        Err(StoreError::Disconnected)
    ));

    // Only the page written before the disconnect is there.
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM records WHERE connection_id = $1",
            &conn
        )
        .await,
        1
    );
    let run = store.get_sync_run(&run.id).await.unwrap().unwrap();
    assert_eq!(
        (run.status, run.pages, run.created),
        (RunStatus::Cancelled, 1, 1)
    );
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM sync_runs WHERE connection_id = $1",
            &conn
        )
        .await,
        1
    );
    let events = store
        .list_events(&ws, &EventFilter::default(), &PageRequest::first(100))
        .await
        .unwrap();
    let types: Vec<&str> = events.items.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "connection.created",
            "work_order.created",
            "connection.disconnected"
        ]
    );
    assert!(matches!(
        store
            .finish_sync_run(&run.id, run_end(RunStatus::Completed))
            .await,
        Err(StoreError::RunNotRunning)
    ));
}

fn run_end(status: RunStatus) -> millwright_store::RunEnd {
    millwright_store::RunEnd {
        status,
        error: None,
        new_cursor: Some("c1".into()),
        event: None,
        now: time::now(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_racing_a_disconnect_either_commit_before_it_or_write_nothing() {
    let url = testing::fresh_database().await;
    let stores = nodes(&url, 3).await;
    stores[0].migrate().await.unwrap();
    let (ws, conn) = setup(&stores[0]).await;
    let run = stores[0]
        .start_sync_run(new_run(&ws, &conn, Entity::WorkOrders))
        .await
        .unwrap();

    // Writers keep applying pages of 20 new records until refused.
    let writers = (0..4)
        .map(|w| {
            let (store, ws, conn, run_id) = (
                stores[w % 3].clone(),
                ws.clone(),
                conn.clone(),
                run.id.clone(),
            );
            tokio::spawn(async move {
                let mut written = 0u64;
                for p in 0.. {
                    let records = (0..20)
                        .map(|i| work_order(&conn, w * 1_000_000 + p * 20 + i, 1))
                        .collect();
                    let run_id = (w % 2 == 0).then_some(run_id.as_str());
                    match store.apply_page(page(&ws, &conn, run_id, records)).await {
                        Ok(outcome) => written += outcome.created,
                        Err(StoreError::RunNotRunning) if run_id.is_some() => return written,
                        Err(StoreError::Disconnected) if run_id.is_none() => return written,
                        Err(e) => panic!("unexpected {e:?}"),
                    }
                }
                unreachable!()
            })
        })
        .collect::<Vec<_>>();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stores[1]
        .disconnect_connection(&ws, &conn, disconnected_event(&ws, &conn), time::now())
        .await
        .unwrap();
    // Committed now: nothing may be added after this point.
    let records_then = count(
        &stores[0],
        "SELECT count(*) FROM records WHERE connection_id = $1",
        &conn,
    )
    .await;
    let events_then = count(
        &stores[0],
        "SELECT count(*) FROM events WHERE connection_id = $1",
        &conn,
    )
    .await;
    let mut written = 0;
    for w in writers {
        written += w.await.unwrap();
    }
    assert!(
        written > 0,
        "the writers got nothing in before the disconnect"
    );
    let records_now = count(
        &stores[0],
        "SELECT count(*) FROM records WHERE connection_id = $1",
        &conn,
    )
    .await;
    let events_now = count(
        &stores[0],
        "SELECT count(*) FROM events WHERE connection_id = $1",
        &conn,
    )
    .await;
    assert_eq!((records_now, events_now), (records_then, events_then));
    // Every acknowledged page is there whole, and nothing else: one event per record, plus the
    // connection's creation and its disconnect.
    assert_eq!(records_now as u64, written);
    assert_eq!(events_now as u64, written + 2);
    let disconnects = count(
        &stores[0],
        "SELECT count(*) FROM events WHERE connection_id = $1 AND type = 'connection.disconnected'",
        &conn,
    )
    .await;
    assert_eq!(disconnects, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_starts_from_several_nodes_make_one_run() {
    let url = testing::fresh_database().await;
    let stores = nodes(&url, 4).await;
    stores[0].migrate().await.unwrap();
    let (ws, conn) = setup(&stores[0]).await;
    for round in 0..3 {
        let starts = (0..12)
            .map(|i| {
                let (store, run) = (
                    stores[i % 4].clone(),
                    new_run(&ws, &conn, Entity::WorkOrders),
                );
                tokio::spawn(async move { store.start_sync_run(run).await })
            })
            .collect::<Vec<_>>();
        let mut ids = HashSet::new();
        for s in starts {
            let run = s.await.unwrap().unwrap();
            assert_eq!(run.status, RunStatus::Running);
            ids.insert(run.id);
        }
        assert_eq!(ids.len(), 1, "round {round}: {ids:?}");
        let running: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sync_runs WHERE connection_id = $1 AND status = 'running'",
        )
        .bind(&conn)
        .fetch_one(stores[0].pool())
        .await
        .unwrap();
        assert_eq!(running, 1);
        let id = ids.into_iter().next().unwrap();
        stores[1]
            .finish_sync_run(&id, run_end(RunStatus::Completed))
            .await
            .unwrap();
    }
    let all = stores[2]
        .list_sync_runs(&ws, &conn, &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 3);
    assert!(all.items.iter().all(|r| r.status == RunStatus::Completed));
}

/// A TCP proxy in front of PostgreSQL that counts round trips: the frontend messages after
/// which the client waits for the server (`Sync` of the extended protocol, simple `Query`).
async fn counting_proxy(target: SocketAddr) -> (SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicU64::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        loop {
            let (client, _) = listener.accept().await.unwrap();
            let server = TcpStream::connect(target).await.unwrap();
            let counter = counter.clone();
            tokio::spawn(async move {
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                });
                let _ = forward_frontend(&mut client_read, &mut server_write, &counter).await;
            });
        }
    });
    (addr, count)
}

/// The round trips of one store call, including the pool's ping on release, which sqlx sends
/// in the background once the call has returned.
async fn measure<T>(
    round_trips: &AtomicU64,
    call: impl std::future::Future<Output = Result<T, StoreError>>,
) -> u64 {
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let before = round_trips.load(Ordering::SeqCst);
    call.await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    round_trips.load(Ordering::SeqCst) - before
}

async fn forward_frontend(
    from: &mut (impl AsyncReadExt + Unpin),
    to: &mut (impl AsyncWriteExt + Unpin),
    counter: &AtomicU64,
) -> std::io::Result<()> {
    // Untyped messages (SSL/GSS requests, then the startup message) come first.
    loop {
        let len = from.read_u32().await?;
        let mut body = vec![0; len as usize - 4];
        from.read_exact(&mut body).await?;
        to.write_u32(len).await?;
        to.write_all(&body).await?;
        let code = u32::from_be_bytes(body[..4].try_into().unwrap());
        if code != 80877103 && code != 80877104 {
            break;
        }
    }
    loop {
        let tag = from.read_u8().await?;
        let len = from.read_u32().await?;
        let mut body = vec![0; len as usize - 4];
        from.read_exact(&mut body).await?;
        if tag == b'S' || tag == b'Q' {
            counter.fetch_add(1, Ordering::SeqCst);
        }
        to.write_u8(tag).await?;
        to.write_u32(len).await?;
        to.write_all(&body).await?;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_1000_records_takes_a_constant_handful_of_round_trips() {
    let url = testing::fresh_database().await;
    let direct = PostgresStore::connect(&url).await.unwrap();
    direct.migrate().await.unwrap();
    let (ws, conn) = setup(&direct).await;

    // The same database through the counting proxy, on one pooled connection (so statements
    // prepared by the warm-up are reused) that is not pinged on acquire.
    let rest = url.split_once("://").unwrap().1;
    let host_port = rest
        .split(['/', '?'])
        .next()
        .unwrap()
        .rsplit('@')
        .next()
        .unwrap();
    let target: SocketAddr = host_port.replace("localhost", "127.0.0.1").parse().unwrap();
    let (proxy, round_trips) = counting_proxy(target).await;
    let proxied_url = url.replacen(host_port, &proxy.to_string(), 1);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .connect(&proxied_url)
        .await
        .unwrap();
    let store = PostgresStore::from_pool(pool);
    let run = store
        .start_sync_run(new_run(&ws, &conn, Entity::WorkOrders))
        .await
        .unwrap();

    // Every statement of apply_page once: created, deleted, events, run counters.
    let mut warm = page(
        &ws,
        &conn,
        Some(&run.id),
        vec![work_order(&conn, 0, 1), work_order(&conn, 1, 1)],
    );
    warm.deleted_remote_ids = vec!["wo-1".into()];
    store.apply_page(warm).await.unwrap();

    let mut small = page(
        &ws,
        &conn,
        Some(&run.id),
        (0..10).map(|n| work_order(&conn, n, 2)).collect(),
    );
    small.deleted_remote_ids = vec!["wo-0".into()];
    let small_trips = measure(&round_trips, store.apply_page(small)).await;

    // 1,000 records: 500 new, 10 changed, the rest unchanged; 100 deletions.
    let mut records: Vec<RecordWrite> = (0..1000).map(|n| work_order(&conn, n, 1)).collect();
    let seed = page(&ws, &conn, Some(&run.id), records[..490].to_vec());
    store.apply_page(seed).await.unwrap();
    for r in records.iter_mut().take(10) {
        *r = work_order(&conn, r.remote_id[3..].parse().unwrap(), 3);
    }
    let mut big = page(&ws, &conn, Some(&run.id), records);
    big.deleted_remote_ids = (900..1000).map(|n| format!("wo-{n}")).collect();
    big.checkpoint = Some("page-4".into());
    let mut outcome = None;
    let big_trips = measure(&round_trips, async {
        outcome = Some(store.apply_page(big.clone()).await?);
        Ok(())
    })
    .await;
    let outcome = outcome.unwrap();

    println!("apply_page round trips: 10 records {small_trips}, 1000 records {big_trips}");
    assert_eq!(
        big_trips, small_trips,
        "round trips must not grow with the page"
    );
    // BEGIN, locks (connection + page, run), existing rows, upsert, deletions, events, run
    // counters, COMMIT; plus the ping sqlx's pool sends when the connection comes back to it
    // (after the call has returned).
    assert!(big_trips <= 10, "{big_trips} round trips");

    // 0..10 changed, 10..490 unchanged, 490..1000 new, of which 900..1000 then deleted.
    assert_eq!(
        (
            outcome.created,
            outcome.updated,
            outcome.unchanged,
            outcome.deleted
        ),
        (510, 10, 480, 100)
    );
    assert_eq!(outcome.changed_ids.len(), 520);
    assert_eq!(outcome.changed_ids[0], big.records[0].id);
    assert_eq!(outcome.changed_ids[10], big.records[490].id);
    // Events in input order: the 520 upserts, then the 100 deletions.
    let events = direct
        .list_events(
            &ws,
            &EventFilter {
                event_type: Some("work_order.*".into()),
                ..Default::default()
            },
            &PageRequest {
                after: None,
                limit: 10_000,
            },
        )
        .await
        .unwrap();
    let last_page: Vec<&Value> = events
        .items
        .iter()
        .rev()
        .take(620)
        .rev()
        .map(|e| &e.data)
        .collect();
    let ids: Vec<&str> = last_page
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = outcome.changed_ids.iter().map(String::as_str).collect();
    expected.extend(big.records[900..].iter().map(|r| r.id.as_str()));
    assert_eq!(ids, expected);
    assert!(last_page[..520].iter().all(|d| d["deleted_at"].is_null()));
    assert!(last_page[520..].iter().all(|d| d["deleted_at"].is_string()));
    let run = direct.get_sync_run(&run.id).await.unwrap().unwrap();
    assert_eq!(run.pages, 4);
    assert_eq!(run.checkpoint.as_deref(), Some("page-4"));
    // wo-1, then wo-0, deleted and back: created again.
    assert_eq!(run.created, 2 + 9 + 481 + 510);
    assert_eq!(
        direct
            .live_remote_ids(&conn, Entity::WorkOrders)
            .await
            .unwrap()
            .len(),
        900
    );
}

#[tokio::test]
async fn list_records_pages_through_2500_records_with_filters() {
    let store = testing::fresh_store().await;
    let (ws, conn) = setup(&store).await;
    let t0 = time::now();
    // Three pages, each stamped with one time: ties on updated_at are broken by id.
    for (i, range) in [(0, 0..1000), (1, 1000..2000), (2, 2000..2500)] {
        let mut p = page(
            &ws,
            &conn,
            None,
            range.map(|n| work_order(&conn, n, 1)).collect(),
        );
        p.now = t0 + Duration::seconds(i);
        store.apply_page(p).await.unwrap();
    }
    // 100 records updated later, 50 deleted.
    let mut p = page(
        &ws,
        &conn,
        None,
        (0..100).map(|n| work_order(&conn, n * 7, 2)).collect(),
    );
    p.now = t0 + Duration::seconds(10);
    p.deleted_remote_ids = (0..50).map(|n| format!("wo-{}", 2000 + n)).collect();
    store.apply_page(p).await.unwrap();

    async fn walk(
        store: &PostgresStore,
        ws: &str,
        conn: &str,
        mut query: RecordQuery,
    ) -> Vec<(Timestamp, String, Value)> {
        let mut out = Vec::new();
        loop {
            let page = store
                .list_records(ws, conn, Entity::WorkOrders, &query)
                .await
                .unwrap();
            assert!(page.items.len() <= query.limit as usize);
            out.extend(page.items.into_iter().map(|r| (r.updated_at, r.id, r.data)));
            match page.next_after {
                Some(after) => query.after = Some(after),
                None => return out,
            }
        }
    }
    let all = walk(
        &store,
        &ws,
        &conn,
        RecordQuery {
            limit: 97,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(all.len(), 2450);
    assert!(
        all.windows(2)
            .all(|w| (w[0].0, &w[0].1) < (w[1].0, &w[1].1)),
        "strictly ordered"
    );
    assert_eq!(all.iter().map(|r| &r.1).collect::<HashSet<_>>().len(), 2450);
    assert!(all[2350..]
        .iter()
        .all(|r| r.0 == t0 + Duration::seconds(10)));

    let with_deleted = walk(
        &store,
        &ws,
        &conn,
        RecordQuery {
            limit: 500,
            include_deleted: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(with_deleted.len(), 2500);

    let window = walk(
        &store,
        &ws,
        &conn,
        RecordQuery {
            limit: 100,
            modified_after: Some(t0 + Duration::seconds(1)),
            modified_before: Some(t0 + Duration::seconds(10)),
            ..Default::default()
        },
    )
    .await;
    // Pages 1 and 2, less the 100 updated later (those with n*7 in 1000..2500) and the deleted.
    let later = (0..100)
        .map(|n| n * 7)
        .filter(|n| (1000..2500).contains(n))
        .count();
    assert_eq!(window.len(), 1500 - later - 50);

    let open = walk(
        &store,
        &ws,
        &conn,
        RecordQuery {
            limit: 333,
            filters: vec![("status".into(), "open".into())],
            ..Default::default()
        },
    )
    .await;
    assert!(open.iter().all(|r| r.2["status"] == "open"));
    assert_eq!(open.len(), 1225);
    // A number compared as text, and membership in an array.
    let p1 = walk(
        &store,
        &ws,
        &conn,
        RecordQuery {
            limit: 1000,
            filters: vec![("priority".into(), "1".into())],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        p1.len(),
        all.iter().filter(|r| r.2["priority"] == 1).count()
    );
    let u3 = walk(
        &store,
        &ws,
        &conn,
        RecordQuery {
            limit: 1000,
            filters: vec![
                ("assignee_ids".into(), "u3".into()),
                ("status".into(), "done".into()),
            ],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        u3.len(),
        all.iter()
            .filter(|r| r.2["assignee_ids"][0] == "u3" && r.2["status"] == "done")
            .count()
    );
    assert!(!u3.is_empty());
    let nobody = walk(
        &store,
        &ws,
        &conn,
        RecordQuery {
            limit: 10,
            filters: vec![("assignee_ids".into(), "u9".into())],
            ..Default::default()
        },
    )
    .await;
    assert!(nobody.is_empty());
    // A field name is data, never SQL.
    let odd = walk(
        &store,
        &ws,
        &conn,
        RecordQuery {
            limit: 10,
            filters: vec![("x'); DROP TABLE records; --".into(), "1".into())],
            ..Default::default()
        },
    )
    .await;
    assert!(odd.is_empty());
}

/// Several pools on one database, as several nodes would have.
async fn nodes(url: &str, n: usize) -> Vec<PostgresStore> {
    let mut stores = Vec::new();
    for _ in 0..n {
        stores.push(PostgresStore::connect(url).await.unwrap());
    }
    stores
}
