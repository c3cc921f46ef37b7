//! The connection lifecycle as a user walks it (spec §4), on SQLite and PostgreSQL.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn lifecycle_sqlite() {
    lifecycle(Backend::Sqlite).await;
}

#[tokio::test]
async fn lifecycle_postgres() {
    lifecycle(Backend::Postgres).await;
}

async fn lifecycle(backend: Backend) {
    let env = TestEnv::start_with(backend, |_| {}).await;
    let ws = env.workspace(10).await;

    // Connect.
    let (status, created) = env
        .call(
            Method::POST,
            "/api/v1/connections",
            &ws.key,
            Some(env.maintainx_body("Plant 4")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let c = &created["connection"];
    let id = c["id"].as_str().unwrap().to_string();
    let token = created["access_token"].as_str().unwrap().to_string();
    assert!(id.starts_with("con_"));
    assert!(token.starts_with("mw_ct_") && token.len() >= 38);
    assert_eq!(c["connector"], "maintainx");
    assert_eq!(c["deployment"], "cloud");
    assert_eq!(c["name"], "Plant 4");
    assert_eq!(c["credits"], 1);
    assert_eq!(c["metadata"], json!({"customer": "acme"}));
    assert_eq!(c["sync"]["frequency_minutes"], 15);
    assert_eq!(c["sync"]["history_days"], 90);
    assert!(c["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(c["disconnected_at"].is_null());
    assert!(
        c.get("credentials").is_none(),
        "credentials are never shown"
    );

    // The token reads its connection.
    let me = env
        .call(Method::GET, "/api/v1/connection", &token, None)
        .await;
    assert_eq!(me.0, StatusCode::OK);
    assert_eq!(me.1["id"], id.as_str());

    // List with filters.
    let (other_id, _) = env.connect(&ws, "Plant 5").await;
    let patched = env
        .call(
            Method::PATCH,
            &format!("/api/v1/connections/{other_id}"),
            &ws.key,
            Some(json!({"metadata": {"customer": "globex", "tier": "gold"}})),
        )
        .await;
    assert_eq!(patched.0, StatusCode::OK, "{}", patched.1);
    assert_eq!(
        patched.1["metadata"],
        json!({"customer": "globex", "tier": "gold"})
    );
    let acme = env
        .call(
            Method::GET,
            "/api/v1/connections?metadata.customer=acme",
            &ws.key,
            None,
        )
        .await;
    let ids: Vec<_> = acme.1["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(id)]);
    let by_connector = env
        .call(
            Method::GET,
            "/api/v1/connections?connector=maintainx",
            &ws.key,
            None,
        )
        .await;
    assert_eq!(by_connector.1["data"].as_array().unwrap().len(), 2);
    let disconnected = env
        .call(
            Method::GET,
            "/api/v1/connections?status=disconnected",
            &ws.key,
            None,
        )
        .await;
    assert_eq!(disconnected.1["data"].as_array().unwrap().len(), 0);
    let none = env
        .call(
            Method::GET,
            "/api/v1/connections?connector=tryton",
            &ws.key,
            None,
        )
        .await;
    assert_eq!(none.1["data"].as_array().unwrap().len(), 0);
    let page1 = env
        .call(
            Method::GET,
            "/api/v1/connections?page_size=1",
            &ws.key,
            None,
        )
        .await;
    let cursor = page1.1["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_string();
    let page2 = env
        .call(
            Method::GET,
            &format!("/api/v1/connections?page_size=1&cursor={cursor}"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(page2.1["data"].as_array().unwrap().len(), 1);
    assert_ne!(page1.1["data"][0]["id"], page2.1["data"][0]["id"]);
    assert!(page2.1["next_cursor"].is_null());

    // Patch: rename, remove a metadata key with null.
    let renamed = env
        .call(
            Method::PATCH,
            &format!("/api/v1/connections/{other_id}"),
            &ws.key,
            Some(json!({"name": "Plant 5 (west)", "metadata": {"tier": null}})),
        )
        .await;
    assert_eq!(renamed.1["name"], "Plant 5 (west)");
    assert_eq!(renamed.1["metadata"], json!({"customer": "globex"}));

    // Rotate the token: the old one is revoked at once.
    let rotated = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{id}/tokens"),
            &ws.key,
            Some(json!({})),
        )
        .await;
    assert_eq!(rotated.0, StatusCode::CREATED, "{}", rotated.1);
    let new_token = rotated.1["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        rotated.1["token"]["scopes"],
        json!(["read", "write", "passthrough"])
    );
    assert_error(
        &env.call(Method::GET, "/api/v1/connection", &token, None)
            .await,
        401,
        "TOKEN_REVOKED",
        "authentication_error",
    );
    assert_eq!(
        env.call(Method::GET, "/api/v1/connection", &new_token, None)
            .await
            .0,
        StatusCode::OK
    );

    // Reauthorize: wrong credentials are refused and change nothing.
    let wrong = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{id}/reauthorize"),
            &ws.key,
            Some(json!({"credentials": {"api_key": "wrong"}})),
        )
        .await;
    assert_error(&wrong, 422, "CREDENTIALS_INVALID", "invalid_request_error");
    // The customer rotates the key in the source system, then reauthorizes with the new one.
    env.sim_control("credentials", json!({"api_key": "rotated-key-2"}))
        .await;
    let ok = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{id}/reauthorize"),
            &ws.key,
            Some(json!({"credentials": {"api_key": "rotated-key-2"}})),
        )
        .await;
    assert_eq!(ok.0, StatusCode::OK, "{}", ok.1);
    assert_eq!(ok.1["id"], id.as_str());
    assert_eq!(
        env.call(Method::GET, "/api/v1/connection", &new_token, None)
            .await
            .0,
        StatusCode::OK,
        "same token"
    );

    // Delete data needs a disconnected connection.
    let early = env
        .call(
            Method::DELETE,
            &format!("/api/v1/connections/{id}/data"),
            &ws.key,
            None,
        )
        .await;
    assert_error(&early, 409, "CONNECTION_NOT_DISCONNECTED", "conflict_error");

    // Disconnect: token revoked at once, credits returned, idempotent, data still readable.
    let before = env
        .call(Method::GET, "/api/v1/credits", &ws.key, None)
        .await
        .1;
    let d1 = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{id}/disconnect"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(d1.0, StatusCode::OK);
    assert_eq!(d1.1["status"], "disconnected");
    assert!(d1.1["disconnected_at"].as_str().is_some());
    assert_error(
        &env.call(Method::GET, "/api/v1/connection", &new_token, None)
            .await,
        401,
        "TOKEN_REVOKED",
        "authentication_error",
    );
    let after = env
        .call(Method::GET, "/api/v1/credits", &ws.key, None)
        .await
        .1;
    assert_eq!(
        after["used"].as_i64().unwrap(),
        before["used"].as_i64().unwrap() - 1
    );
    let d2 = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{id}/disconnect"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(d2.0, StatusCode::OK);
    assert_eq!(
        d2.1["disconnected_at"], d1.1["disconnected_at"],
        "a second disconnect changes nothing"
    );
    assert_eq!(
        env.call(Method::GET, "/api/v1/credits", &ws.key, None)
            .await
            .1,
        after
    );
    let via_key = send(
        env.req(Method::GET, "/api/v1/connection", &ws.key)
            .header("x-connection-id", &id),
    )
    .await;
    assert_eq!(via_key.0, StatusCode::OK);
    assert_eq!(via_key.1["status"], "disconnected");

    // A disconnected connection takes no new token or credentials.
    let t = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{id}/tokens"),
            &ws.key,
            Some(json!({})),
        )
        .await;
    assert_error(&t, 409, "CONNECTION_DISCONNECTED", "conflict_error");
    let r = env
        .call(
            Method::POST,
            &format!("/api/v1/connections/{id}/reauthorize"),
            &ws.key,
            Some(json!({"credentials": {"api_key": "rotated-key-2"}})),
        )
        .await;
    assert_error(&r, 409, "CONNECTION_DISCONNECTED", "conflict_error");

    let del = env
        .call(
            Method::DELETE,
            &format!("/api/v1/connections/{id}/data"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(del.0, StatusCode::NO_CONTENT);
    let still = env
        .call(
            Method::GET,
            &format!("/api/v1/connections/{id}"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(still.1["status"], "disconnected");
}

#[tokio::test]
async fn disconnect_cancels_the_connections_jobs() {
    use millwright_core::{ids, time};
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let (id, _) = env.connect(&ws, "jobs").await;
    let job_id = ids::new_id(ids::prefix::JOB);
    env.store()
        .enqueue_job(millwright_store::NewJob {
            id: job_id.clone(),
            kind: "sync".into(),
            workspace_id: Some(ws.id.clone()),
            connection_id: Some(id.clone()),
            payload: json!({"entity": "work_orders"}),
            run_at: time::now() + chrono::Duration::minutes(15),
            dedupe_key: None,
            created_at: time::now(),
        })
        .await
        .unwrap();
    env.call(
        Method::POST,
        &format!("/api/v1/connections/{id}/disconnect"),
        &ws.key,
        None,
    )
    .await;
    let job = env.store().get_job(&job_id).await.unwrap().unwrap();
    assert_eq!(job.state, millwright_store::JobState::Cancelled);
}
