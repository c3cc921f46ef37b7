//! The database file holds no plaintext credential, key or token.

use reqwest::Method;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn database_file_holds_no_plaintext_secret() {
    let env = TestEnv::start().await;
    let canary = "canary-api-key-7f3a9c1e5b";
    env.sim_control("credentials", json!({"api_key": canary}))
        .await;
    let ws = env.workspace(10).await;
    let mut body = env.maintainx_body("secret");
    body["credentials"]["api_key"] = json!(canary);
    let (status, created) = env
        .call(Method::POST, "/api/v1/connections", &ws.key, Some(body))
        .await;
    assert_eq!(status.as_u16(), 201, "{created}");
    let token = created["access_token"].as_str().unwrap().to_string();
    // Make sure request logs are written too before reading the files.
    let r = env
        .req(Method::GET, "/api/v1/credits", &ws.key)
        .send()
        .await
        .unwrap();
    let rid = r.headers()["x-request-id"].to_str().unwrap().to_string();
    crate::request_logs::wait_for_log(&env, &ws, &rid).await;

    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(env.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("millwright.db") {
            bytes.extend(std::fs::read(&path).unwrap());
        }
    }
    assert!(bytes.len() > 4096, "read the database files");
    for secret in [canary, token.as_str(), ws.key.as_str()] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} found in the database files"
        );
    }
    // The connection is there (the scan did read real data).
    let id = created["connection"]["id"].as_str().unwrap();
    assert!(bytes.windows(id.len()).any(|w| w == id.as_bytes()));
}
