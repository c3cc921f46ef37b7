//! Behaviour specific to the SQLite backend: opening, migrating and sharing one file between
//! several stores (as several processes would), and strict decoding of rows written by hand.

use std::sync::Arc;

use millwright_core::{
    credits::Deployment,
    ids::{new_id, prefix},
    scope::Scope,
    secrets,
    status::ConnectionStatus,
    time,
};
use millwright_store::{NewConnection, NewEvent, NewToken, NewWorkspace, Store, StoreError};
use millwright_store_sqlite::SqliteStore;
use serde_json::json;

fn workspace_input(credit_limit: i64) -> NewWorkspace {
    NewWorkspace {
        id: new_id(prefix::WORKSPACE),
        name: "Acme".into(),
        credit_limit,
        rate_limit_per_minute: None,
        secret_key_hash: secrets::hash_token(&secrets::new_workspace_key()),
        wrapped_data_key: vec![7; 48],
        created_at: time::now(),
    }
}

fn created_event(conn: &NewConnection) -> NewEvent {
    NewEvent {
        id: new_id(prefix::EVENT),
        workspace_id: conn.workspace_id.clone(),
        connection_id: Some(conn.id.clone()),
        event_type: "connection.created".into(),
        data: json!({}),
        created_at: time::now(),
    }
}

fn connection_input(workspace_id: &str) -> (NewConnection, NewToken) {
    let created_at = time::now();
    let id = new_id(prefix::CONNECTION);
    let token = NewToken {
        id: new_id(prefix::TOKEN),
        connection_id: id.clone(),
        workspace_id: workspace_id.into(),
        token_hash: secrets::hash_token(&secrets::new_connection_token()),
        scopes: vec![Scope::Read],
        expires_at: None,
        created_at,
    };
    let conn = NewConnection {
        id,
        workspace_id: workspace_id.into(),
        connector: "maintainx".into(),
        deployment: Deployment::Cloud,
        name: "Plant".into(),
        status: ConnectionStatus::Active,
        credits: 1,
        metadata: json!({}),
        sealed_credentials: vec![1, 2, 3],
        sync_settings: json!({}),
        field_mappings: json!({}),
        created_at,
    };
    (conn, token)
}

#[tokio::test]
async fn open_creates_the_directory_and_an_unmigrated_store_is_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/millwright.db");
    let url = format!("sqlite://{}", path.display());
    let store = SqliteStore::open_url(&url).unwrap();
    assert!(path.exists());
    assert_eq!(store.path(), path.as_path());
    assert_eq!(store.backend(), "sqlite");

    let r = store.readiness().await.unwrap();
    assert_eq!(r.applied_migrations, 0);
    assert!(r.known_migrations >= 1);
    assert!(!r.is_ready());
    store.migrate().await.unwrap();
    assert!(store.readiness().await.unwrap().is_ready());

    // Reopening the migrated file (the `sqlite:` form) finds it ready without migrating.
    drop(store);
    let again = SqliteStore::open_url(&format!("sqlite:{}", path.display())).unwrap();
    assert!(again.readiness().await.unwrap().is_ready());
}

#[tokio::test]
async fn a_path_that_cannot_be_created_is_a_backend_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = SqliteStore::open(&file.join("millwright.db")).unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
}

/// Two stores on one file stand for two processes: they migrate at the same time without
/// applying anything twice, see each other's writes, and their concurrent creates still never
/// overspend a workspace's credits (the IMMEDIATE transaction locks the file, the busy timeout
/// makes the other wait).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_sharing_a_file_migrate_once_and_serialise_credits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let a: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let b: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    ra.unwrap();
    rb.unwrap();
    assert!(a.readiness().await.unwrap().is_ready());
    let rows: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows as u32, b.readiness().await.unwrap().known_migrations);

    let ws = a.create_workspace(workspace_input(10)).await.unwrap();
    assert_eq!(b.get_workspace(&ws.id).await.unwrap(), Some(ws.clone()));

    let mut tasks = Vec::new();
    for i in 0..24 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let (conn, token) = connection_input(&ws.id);
        tasks.push(tokio::spawn(async move {
            let event = created_event(&conn);
            store.create_connection(conn, token, event).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::InsufficientCredits { .. }) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(ok, 10);
    assert_eq!(a.credit_usage(&ws.id).await.unwrap().used, 10);
    assert_eq!(b.credit_usage(&ws.id).await.unwrap().used, 10);
}

/// Values the backend does not recognise are reported as corrupt, never guessed.
#[tokio::test]
async fn hand_written_bad_values_decode_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.db");
    let store = SqliteStore::open(&path).unwrap();
    store.migrate().await.unwrap();
    let ws = store.create_workspace(workspace_input(10)).await.unwrap();
    let (conn, token) = connection_input(&ws.id);
    store
        .create_connection(conn.clone(), token.clone(), created_event(&conn))
        .await
        .unwrap();

    let raw = rusqlite::Connection::open(&path).unwrap();
    let corrupt = |sql: &str| raw.execute(sql, [&conn.id]).unwrap();

    corrupt("UPDATE connections SET status = 'exploded' WHERE id = ?1");
    let got = store.get_connection(&ws.id, &conn.id).await;
    assert!(
        matches!(&got, Err(StoreError::Corrupt(m)) if m.contains("exploded")),
        "{got:?}"
    );
    let got = store.find_token_by_hash(&token.token_hash).await;
    assert!(matches!(&got, Err(StoreError::Corrupt(_))), "{got:?}");

    corrupt("UPDATE connections SET status = 'active', deployment = 'moon' WHERE id = ?1");
    assert!(matches!(
        store.get_connection(&ws.id, &conn.id).await,
        Err(StoreError::Corrupt(_))
    ));

    corrupt("UPDATE connections SET deployment = 'cloud', metadata = 'not json' WHERE id = ?1");
    assert!(matches!(
        store.get_connection(&ws.id, &conn.id).await,
        Err(StoreError::Corrupt(_))
    ));

    corrupt("UPDATE connections SET metadata = '{}' WHERE id = ?1");
    assert!(store
        .get_connection(&ws.id, &conn.id)
        .await
        .unwrap()
        .is_some());

    corrupt("UPDATE connection_tokens SET scopes = 'read admin' WHERE connection_id = ?1");
    let got = store.find_token_by_hash(&token.token_hash).await;
    assert!(
        matches!(&got, Err(StoreError::Corrupt(m)) if m.contains("admin")),
        "{got:?}"
    );

    let job = new_id(prefix::JOB);
    raw.execute(
        "INSERT INTO jobs (id, kind, payload, state, run_at, attempts, created_at) \
         VALUES (?1, 'sync', '{}', 'paused', 0, 0, 0)",
        [&job],
    )
    .unwrap();
    assert!(
        matches!(store.get_job(&job).await, Err(StoreError::Corrupt(m)) if m.contains("paused"))
    );
}

/// The synced-store tables decode strictly too: unknown entities, run statuses and modes, and
/// booleans other than 0/1 are corrupt; STRICT refuses values of the wrong type on write.
#[tokio::test]
async fn synced_rows_decode_strictly() {
    use millwright_core::Entity;
    use millwright_store::{NewSyncRun, SyncMode};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.db");
    let store = SqliteStore::open(&path).unwrap();
    store.migrate().await.unwrap();
    let ws = store.create_workspace(workspace_input(10)).await.unwrap();
    let (conn, token) = connection_input(&ws.id);
    store
        .create_connection(conn.clone(), token, created_event(&conn))
        .await
        .unwrap();
    let run = store
        .start_sync_run(NewSyncRun {
            id: new_id("run"),
            workspace_id: ws.id.clone(),
            connection_id: conn.id.clone(),
            entity: Entity::Assets,
            mode: SyncMode::Initial,
            cursor_from: None,
            started_at: time::now(),
        })
        .await
        .unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    let exec = |sql: &str| raw.execute(sql, [&run.id]).unwrap();

    exec("UPDATE sync_runs SET mode = 'sideways' WHERE id = ?1");
    let got = store.get_sync_run(&run.id).await;
    assert!(
        matches!(&got, Err(StoreError::Corrupt(m)) if m.contains("sideways")),
        "{got:?}"
    );
    exec("UPDATE sync_runs SET mode = 'full', status = 'napping' WHERE id = ?1");
    let got = store.get_sync_run(&run.id).await;
    assert!(
        matches!(&got, Err(StoreError::Corrupt(m)) if m.contains("napping")),
        "{got:?}"
    );
    exec("UPDATE sync_runs SET status = 'running', entity = 'widgets' WHERE id = ?1");
    let got = store.get_sync_run(&run.id).await;
    assert!(
        matches!(&got, Err(StoreError::Corrupt(m)) if m.contains("widgets")),
        "{got:?}"
    );
    exec("UPDATE sync_runs SET entity = 'assets' WHERE id = ?1");
    assert!(store.get_sync_run(&run.id).await.unwrap().is_some());

    raw.execute(
        "UPDATE sync_state SET paused = 2 WHERE connection_id = ?1",
        [&conn.id],
    )
    .unwrap();
    let got = store.sync_states(&conn.id).await;
    assert!(
        matches!(&got, Err(StoreError::Corrupt(m)) if m.contains("paused")),
        "{got:?}"
    );
    let refused = raw.execute(
        "UPDATE sync_state SET paused = 'yes' WHERE connection_id = ?1",
        [&conn.id],
    );
    assert!(refused.is_err(), "STRICT refuses text in an INTEGER column");
}

/// Webhook rows decode strictly: filters must be JSON arrays of strings, `disabled` 0 or 1,
/// delivery statuses known; STRICT refuses a value of the wrong type on write.
#[tokio::test]
async fn webhook_rows_decode_strictly() {
    use millwright_store::{DeliveryFilter, NewWebhookEndpoint, PageRequest};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("webhooks.db");
    let store = SqliteStore::open(&path).unwrap();
    store.migrate().await.unwrap();
    let ws = store.create_workspace(workspace_input(10)).await.unwrap();
    let id = new_id("whe");
    store
        .create_webhook_endpoint(NewWebhookEndpoint {
            id: id.clone(),
            workspace_id: ws.id.clone(),
            url: "https://hooks.example.com".into(),
            description: None,
            event_types: vec!["work_order.*".into()],
            connection_ids: vec![],
            disabled: false,
            sealed_secret: vec![1; 32],
            created_at: time::now(),
        })
        .await
        .unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    let stored: (String, String, i64) = raw
        .query_row(
            "SELECT event_types, connection_ids, disabled FROM webhook_endpoints WHERE id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(stored, (r#"["work_order.*"]"#.into(), "[]".into(), 0));

    let corrupt = |sql: &str| raw.execute(sql, [&id]).unwrap();
    corrupt(r#"UPDATE webhook_endpoints SET event_types = '{"a": 1}' WHERE id = ?1"#);
    let got = store.get_webhook_endpoint(&ws.id, &id).await;
    assert!(
        matches!(&got, Err(StoreError::Corrupt(m)) if m.contains("event_types")),
        "{got:?}"
    );
    corrupt(r#"UPDATE webhook_endpoints SET event_types = '[1]' WHERE id = ?1"#);
    assert!(matches!(
        store.get_webhook_endpoint(&ws.id, &id).await,
        Err(StoreError::Corrupt(_))
    ));
    corrupt(r#"UPDATE webhook_endpoints SET event_types = '[]', disabled = 2 WHERE id = ?1"#);
    let got = store.get_webhook_endpoint(&ws.id, &id).await;
    assert!(
        matches!(&got, Err(StoreError::Corrupt(m)) if m.contains("disabled")),
        "{got:?}"
    );
    corrupt("UPDATE webhook_endpoints SET disabled = 0 WHERE id = ?1");
    assert!(store
        .get_webhook_endpoint(&ws.id, &id)
        .await
        .unwrap()
        .is_some());
    let wrong_type = raw.execute(
        "UPDATE webhook_endpoints SET created_at = 'yesterday' WHERE id = ?1",
        [&id],
    );
    assert!(
        wrong_type.is_err(),
        "STRICT refuses text in an INTEGER column"
    );

    raw.execute(
        "INSERT INTO webhook_deliveries (id, workspace_id, endpoint_id, event_id, event_type, \
         status, attempts, created_at) VALUES ('whd_1', ?1, ?2, 'evt_1', 'x.y', 'lost', 0, 0)",
        [&ws.id, &id],
    )
    .unwrap();
    let got = store
        .list_deliveries(&ws.id, &DeliveryFilter::default(), &PageRequest::first(10))
        .await;
    assert!(
        matches!(&got, Err(StoreError::Corrupt(m)) if m.contains("lost")),
        "{got:?}"
    );
}

/// Rows written before migration 0011 have no rendering: lists asking for renderings decode
/// their fields as before, and their next write renders them.
#[tokio::test]
async fn rows_without_a_rendering_decode_their_fields() {
    use millwright_core::{
        record::{content_hash, record_id},
        Entity,
    };
    use millwright_store::{PageWrite, RecordQuery, RecordWrite};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rendered.db");
    let store = SqliteStore::open(&path).unwrap();
    store.migrate().await.unwrap();
    let ws = store.create_workspace(workspace_input(10)).await.unwrap();
    let (conn, token) = connection_input(&ws.id);
    store
        .create_connection(conn.clone(), token, created_event(&conn))
        .await
        .unwrap();
    let e = Entity::Assets;
    let write = |name: &str| {
        let data = json!({"name": name});
        let custom_fields = json!({"Area": "North"});
        RecordWrite {
            id: record_id(&conn.id, e, "r1"),
            remote_id: "r1".into(),
            content_hash: content_hash(&data, &custom_fields, None),
            data,
            custom_fields,
            remote_data: json!({"raw": true}),
            display_name: Some(name.into()),
            remote_created_at: None,
            remote_updated_at: None,
        }
    };
    let page = |w: RecordWrite| PageWrite {
        workspace_id: ws.id.clone(),
        connection_id: conn.id.clone(),
        entity: e,
        run_id: None,
        records: vec![w],
        deleted_remote_ids: vec![],
        checkpoint: None,
        now: time::now(),
    };
    store.apply_page(page(write("Pump"))).await.unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("UPDATE records SET rendered = NULL", [])
        .unwrap();

    let q = RecordQuery {
        limit: 10,
        rendered: true,
        ..RecordQuery::default()
    };
    let items = store
        .list_records(&ws.id, &conn.id, e, &q)
        .await
        .unwrap()
        .items;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].rendered, None);
    assert_eq!(items[0].data, json!({"name": "Pump"}));
    assert_eq!(items[0].custom_fields, json!({"Area": "North"}));

    store.apply_page(page(write("Pump 2"))).await.unwrap();
    let items = store
        .list_records(&ws.id, &conn.id, e, &q)
        .await
        .unwrap()
        .items;
    assert!(items[0].rendered.as_deref().unwrap().contains("\"Pump 2\""));
    assert_eq!(items[0].data, serde_json::Value::Null);
}
