//! The test harness: a server, a simulator and helpers to act as a user would.

use std::{future::Future, time::Duration};

use millwright::{
    admin,
    config::Config,
    server::{self, RunningServer},
};
use millwright_core::crypto::Key;
use millwright_sim::{SimHandle, SimOptions, System};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};

pub const SIM_KEY: &str = millwright_sim::maintainx::DEFAULT_API_KEY;

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestEnv {
    pub server: Option<RunningServer>,
    pub base: String,
    pub http: reqwest::Client,
    pub sim: SimHandle,
    pub master: Key,
    pub dir: tempfile::TempDir,
}

pub struct Workspace {
    pub id: String,
    pub key: String,
}

impl TestEnv {
    pub async fn start() -> TestEnv {
        TestEnv::start_with(Backend::Sqlite, |_| {}).await
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestEnv {
        let dir = tempfile::tempdir().unwrap();
        let master = Key::generate();
        let mut config = Config {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            master_key: Some(master.to_base64()),
            ..Config::default()
        };
        if let Backend::Postgres = backend {
            config.database_url = Some(millwright_store_postgres::testing::fresh_database().await);
        }
        tweak(&mut config);
        let server = server::start(config, server::Role::All)
            .await
            .expect("server starts");
        let sim = millwright_sim::spawn(System::Maintainx, SimOptions { seed: 7, scale: 20 })
            .await
            .expect("simulator starts");
        TestEnv {
            base: server.base_url(),
            server: Some(server),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            sim,
            master,
            dir,
        }
    }

    pub fn store(&self) -> &dyn millwright_store::Store {
        self.server.as_ref().unwrap().store.as_ref()
    }

    /// A workspace created the way `millwright workspace create` does it.
    pub async fn workspace(&self, credits: i64) -> Workspace {
        self.workspace_with_rate_limit(credits, None).await
    }

    pub async fn workspace_with_rate_limit(&self, credits: i64, rate: Option<i64>) -> Workspace {
        let (ws, key) = admin::create_workspace(
            self.store(),
            &self.master,
            "Test workspace",
            Some(credits),
            rate,
        )
        .await
        .unwrap();
        Workspace { id: ws.id, key }
    }

    pub fn req(&self, method: Method, path: &str, credential: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(credential)
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        credential: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self.req(method, path, credential);
        if let Some(b) = body {
            r = r.json(&b);
        }
        send(r).await
    }

    pub fn maintainx_body(&self, name: &str) -> Value {
        json!({
            "connector": "maintainx",
            "name": name,
            "credentials": {"base_url": self.sim.base_url(), "api_key": SIM_KEY},
            "metadata": {"customer": "acme"}
        })
    }

    /// Connects the simulator; returns (connection id, token).
    pub async fn connect(&self, ws: &Workspace, name: &str) -> (String, String) {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/connections",
                &ws.key,
                Some(self.maintainx_body(name)),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["connection"]["id"].as_str().unwrap().to_string(),
            body["access_token"].as_str().unwrap().to_string(),
        )
    }

    pub async fn sim_control(&self, path: &str, body: Value) {
        let r = self
            .http
            .post(format!("{}/__sim/{path}", self.sim.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "sim control {path}: {}",
            r.status()
        );
    }
}

/// Sends a request; returns status and JSON body (`null` for an empty body). Checks the
/// contract rules every response keeps: an `X-Request-Id`, and the same id in error bodies.
pub async fn send(r: RequestBuilder) -> (StatusCode, Value) {
    let resp = r.send().await.expect("request sent");
    let status = resp.status();
    let request_id = resp
        .headers()
        .get("x-request-id")
        .expect("every response has X-Request-Id")
        .to_str()
        .unwrap()
        .to_string();
    assert!(request_id.starts_with("req_"), "{request_id}");
    let text = resp.text().await.unwrap();
    let body: Value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    if !status.is_success() {
        assert_eq!(
            body["error"]["request_id"],
            request_id.as_str(),
            "error body carries the request id: {body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
    (status, body)
}

/// Asserts an error answer: status, code and type.
pub fn assert_error(got: &(StatusCode, Value), status: u16, code: &str, kind: &str) {
    assert_eq!(got.0.as_u16(), status, "{}", got.1);
    assert_eq!(got.1["error"]["code"], code, "{}", got.1);
    assert_eq!(got.1["error"]["type"], kind, "{}", got.1);
}

/// Connects `body` (a `POST /connections` body) and waits for its initial sync.
pub async fn connect_synced(env: &TestEnv, ws: &Workspace, mut body: Value) -> (String, String) {
    body["sync"] = json!({"history_days": 3650});
    let (status, created) = env
        .call(Method::POST, "/api/v1/connections", &ws.key, Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let con = created["connection"]["id"].as_str().unwrap().to_string();
    let token = created["access_token"].as_str().unwrap().to_string();
    crate::sync::initial_sync_done(env, &token).await;
    (con, token)
}

/// A request with an `Idempotency-Key`; answers (status, replayed?, body).
pub async fn keyed(
    env: &TestEnv,
    method: Method,
    path: &str,
    token: &str,
    key: &str,
    body: Value,
) -> (StatusCode, bool, Value) {
    let resp = env
        .req(method, path, token)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let replayed = resp
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true");
    (status, replayed, resp.json().await.unwrap())
}

/// Polls `check` every 100 ms until it answers `Some`, failing after 60 s with `what`.
pub async fn until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
