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
use millwright_store::{NewConnection, NewToken, NewWorkspace, Store, StoreError};
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
            store.create_connection(conn, token).await
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
        .create_connection(conn.clone(), token.clone())
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
