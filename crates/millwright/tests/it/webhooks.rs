//! Webhooks end to end: endpoints and their SSRF policy, deliveries of every event verified by
//! the official `standardwebhooks` library, secret rotation, retries, `410`, manual retry and
//! recovery, and nothing lost across a SIGKILL.

use std::{
    collections::HashSet,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::Bytes, extract::State, http::HeaderMap, http::StatusCode as AxStatus, routing::post,
    Router,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
}

#[derive(Clone, Default)]
pub struct Receiver {
    pub got: Arc<Mutex<Vec<Received>>>,
    /// Status to answer; 200 unless set.
    pub status: Arc<Mutex<u16>>,
    pub delay: Arc<Mutex<Duration>>,
}

impl Receiver {
    /// A receiver on 127.0.0.1:0; returns it and its URL.
    pub async fn start() -> (Receiver, String) {
        let r = Receiver {
            status: Arc::new(Mutex::new(200)),
            ..Receiver::default()
        };
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (r, format!("http://{addr}/hook"))
    }

    pub fn ids(&self) -> HashSet<String> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.id.clone())
            .collect()
    }

    pub fn set_status(&self, s: u16) {
        *self.status.lock().unwrap() = s;
    }
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> AxStatus {
    let delay = *r.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let h = |n: &str| {
        headers
            .get(n)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    r.got.lock().unwrap().push(Received {
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp"),
        signature: h("webhook-signature"),
        body: String::from_utf8(body.to_vec()).unwrap(),
    });
    AxStatus::from_u16(*r.status.lock().unwrap()).unwrap()
}

/// Verifies with the official Python library; one bool per item.
pub fn official_verify(items: &[(String, Received)]) -> Vec<bool> {
    use std::io::Write;
    let python = std::env::var("MILLWRIGHT_TEST_WEBHOOK_PYTHON").unwrap_or_else(|_| {
        panic!("MILLWRIGHT_TEST_WEBHOOK_PYTHON is not set: run scripts/test (it installs the official standardwebhooks package)")
    });
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/webhook-verify.py"
    );
    let mut child = std::process::Command::new(python)
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        let stdin = child.stdin.as_mut().unwrap();
        for (secret, r) in items {
            let line = json!({"secret": secret, "id": r.id, "timestamp": r.timestamp, "body": r.body, "signature": r.signature});
            writeln!(stdin, "{line}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the verifier ran");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["ok"] == true)
        .collect()
}

async fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    for _ in 0..300 {
        if ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn all_event_ids(env: &TestEnv, ws: &Workspace) -> HashSet<String> {
    let mut ids = HashSet::new();
    let mut cursor = String::new();
    loop {
        let (_, page) = env
            .call(
                Method::GET,
                &format!("/api/v1/events?page_size=1000{cursor}"),
                &ws.key,
                None,
            )
            .await;
        for e in page["data"].as_array().unwrap() {
            ids.insert(e["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn private_and_plain_targets_are_refused_by_default() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    for url in [
        "https://127.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://localhost/hook",
        "http://example.com/hook",
        "not a url",
    ] {
        let got = env
            .call(
                Method::POST,
                "/api/v1/webhook-endpoints",
                &ws.key,
                Some(json!({"url": url})),
            )
            .await;
        assert_error(&got, 422, "VALIDATION_FAILED", "invalid_request_error");
        assert_eq!(
            got.1["error"]["details"][0]["field"], "url",
            "{url}: {}",
            got.1
        );
    }
    let list = env
        .call(Method::GET, "/api/v1/webhook-endpoints", &ws.key, None)
        .await;
    assert_eq!(list.1["data"], json!([]));
}

#[tokio::test]
async fn every_event_is_delivered_signed_and_verifiable() {
    let env =
        TestEnv::start_with(Backend::Sqlite, |c| c.allow_private_webhook_targets = true).await;
    let ws = env.workspace(10).await;
    let (rx, url) = Receiver::start().await;
    let (s, endpoint) = env
        .call(
            Method::POST,
            "/api/v1/webhook-endpoints",
            &ws.key,
            Some(json!({"url": url, "description": "all"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{endpoint}");
    let secret = endpoint["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let eid = endpoint["id"].as_str().unwrap().to_string();
    let (_, got_secret) = env
        .call(
            Method::GET,
            &format!("/api/v1/webhook-endpoints/{eid}/secret"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(got_secret["secret"], secret.as_str());
    // A second endpoint (its own receiver and secret) that takes connection events only.
    let (_rx2, url2) = Receiver::start().await;
    let (s, filtered) = env
        .call(
            Method::POST,
            "/api/v1/webhook-endpoints",
            &ws.key,
            Some(json!({"url": url2, "event_types": ["connection.*"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let filtered_id = filtered["id"].as_str().unwrap().to_string();

    // A run that syncs, updates, deletes and disconnects.
    let mut body = env.maintainx_body("webhooks");
    body["sync"] = json!({"history_days": 3650});
    let (_, created) = env
        .call(Method::POST, "/api/v1/connections", &ws.key, Some(body))
        .await;
    let con = created["connection"]["id"].as_str().unwrap().to_string();
    let token = created["access_token"].as_str().unwrap().to_string();
    crate::sync::initial_sync_done(&env, &token).await;
    env.http
        .post(format!("{}/__sim/mutate", env.sim.base_url()))
        .json(&json!({"entity": "work_orders", "op": "update", "count": 2}))
        .send()
        .await
        .unwrap();
    env.http
        .post(format!("{}/__sim/mutate", env.sim.base_url()))
        .json(&json!({"entity": "work_orders", "op": "delete", "count": 1}))
        .send()
        .await
        .unwrap();
    env.call(
        Method::POST,
        "/api/v1/sync",
        &token,
        Some(json!({"entities": ["work_orders"], "full": true})),
    )
    .await;
    for _ in 0..300 {
        let (_, deleted) = env
            .call(
                Method::GET,
                "/api/v1/events?type=work_order.deleted",
                &ws.key,
                None,
            )
            .await;
        if !deleted["data"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    env.call(
        Method::POST,
        &format!("/api/v1/connections/{con}/disconnect"),
        &ws.key,
        None,
    )
    .await;

    let events = all_event_ids(&env, &ws).await;
    assert!(events.len() > 20);
    wait_for("every event at the catch-all endpoint", || {
        events.is_subset(&rx.ids())
    })
    .await;
    let got = rx.got.lock().unwrap().clone();
    let types: HashSet<String> = got
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for t in [
        "connection.created",
        "work_order.created",
        "work_order.updated",
        "work_order.deleted",
        "sync.completed",
        "connection.disconnected",
    ] {
        assert!(types.contains(t), "{t} delivered: {types:?}");
    }
    // Every delivery verifies with the official library; webhook-id is the event id.
    let items: Vec<(String, Received)> = got.iter().map(|r| (secret.clone(), r.clone())).collect();
    assert!(official_verify(&items).iter().all(|ok| *ok));
    for r in &got {
        assert_eq!(
            serde_json::from_str::<Value>(&r.body).unwrap()["id"],
            r.id.as_str()
        );
    }
    // A tampered body and an old timestamp are rejected.
    let mut tampered = got[0].clone();
    tampered.body = tampered.body.replace('{', "{ ");
    let mut stale = got[0].clone();
    stale.timestamp = (stale.timestamp.parse::<i64>().unwrap() - 600).to_string();
    assert_eq!(
        official_verify(&[(secret.clone(), tampered), (secret.clone(), stale)]),
        vec![false, false]
    );

    // The filtered endpoint got only connection events.
    let (_, deliveries) = env
        .call(
            Method::GET,
            &format!("/api/v1/webhook-deliveries?endpoint_id={filtered_id}&page_size=100"),
            &ws.key,
            None,
        )
        .await;
    let d = deliveries["data"].as_array().unwrap();
    assert!(!d.is_empty());
    assert!(
        d.iter()
            .all(|x| x["event_type"].as_str().unwrap().starts_with("connection.")),
        "{deliveries}"
    );
    assert!(d
        .iter()
        .all(|x| x["status"] == "succeeded" && x["attempts"][0]["status_code"] == 200));
}

#[tokio::test]
async fn rotation_signs_with_both_secrets() {
    let env =
        TestEnv::start_with(Backend::Sqlite, |c| c.allow_private_webhook_targets = true).await;
    let ws = env.workspace(10).await;
    let (rx, url) = Receiver::start().await;
    let (_, endpoint) = env
        .call(
            Method::POST,
            "/api/v1/webhook-endpoints",
            &ws.key,
            Some(json!({"url": url})),
        )
        .await;
    let eid = endpoint["id"].as_str().unwrap().to_string();
    let old = endpoint["secret"].as_str().unwrap().to_string();
    let (s, rotated) = env
        .call(
            Method::POST,
            &format!("/api/v1/webhook-endpoints/{eid}/rotate-secret"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(old, new);
    let (s, _) = env
        .call(
            Method::POST,
            &format!("/api/v1/webhook-endpoints/{eid}/test"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    wait_for("the test event", || !rx.got.lock().unwrap().is_empty()).await;
    let r = rx.got.lock().unwrap()[0].clone();
    assert_eq!(r.signature.split(' ').count(), 2, "{}", r.signature);
    assert_eq!(
        serde_json::from_str::<Value>(&r.body).unwrap()["type"],
        "webhook.test"
    );
    assert_eq!(
        official_verify(&[(old, r.clone()), (new, r)]),
        vec![true, true]
    );
}

#[tokio::test]
async fn failures_retry_gone_disables_and_recovery() {
    let env =
        TestEnv::start_with(Backend::Sqlite, |c| c.allow_private_webhook_targets = true).await;
    let ws = env.workspace(10).await;
    let (rx, url) = Receiver::start().await;
    rx.set_status(500);
    let (_, endpoint) = env
        .call(
            Method::POST,
            "/api/v1/webhook-endpoints",
            &ws.key,
            Some(json!({"url": url})),
        )
        .await;
    let eid = endpoint["id"].as_str().unwrap().to_string();
    let (_, test) = env
        .call(
            Method::POST,
            &format!("/api/v1/webhook-endpoints/{eid}/test"),
            &ws.key,
            None,
        )
        .await;
    let did = test["id"].as_str().unwrap().to_string();
    wait_for("a failed attempt", || !rx.got.lock().unwrap().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, list) = env
        .call(
            Method::GET,
            &format!(
                "/api/v1/webhook-deliveries?event_id={}",
                test["event_id"].as_str().unwrap()
            ),
            &ws.key,
            None,
        )
        .await;
    let d = &list["data"][0];
    assert_eq!(d["status"], "pending", "{d}");
    assert_eq!(d["attempts"][0]["status_code"], 500);
    let next = millwright_core::time::parse(d["next_attempt_at"].as_str().unwrap()).unwrap();
    let wait = (next - chrono::Utc::now()).num_seconds();
    assert!(
        (20..=40).contains(&wait),
        "first retry after about 30 s, got {wait} s"
    );

    // A manual retry sends it now; the receiver has recovered.
    rx.set_status(200);
    let (s, _) = env
        .call(
            Method::POST,
            &format!("/api/v1/webhook-deliveries/{did}/retry"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    wait_for("the retried delivery", || rx.got.lock().unwrap().len() >= 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, list) = env
        .call(
            Method::GET,
            "/api/v1/webhook-deliveries?status=succeeded",
            &ws.key,
            None,
        )
        .await;
    assert_eq!(list["data"][0]["id"], did.as_str());
    assert_eq!(list["data"][0]["attempts"].as_array().unwrap().len(), 2);

    // 410 Gone disables the endpoint and fails the delivery.
    rx.set_status(410);
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    env.call(
        Method::POST,
        &format!("/api/v1/webhook-endpoints/{eid}/test"),
        &ws.key,
        None,
    )
    .await;
    for _ in 0..100 {
        let (_, e) = env
            .call(
                Method::GET,
                &format!("/api/v1/webhook-endpoints/{eid}"),
                &ws.key,
                None,
            )
            .await;
        if e["disabled"] == true {
            assert!(e["disabled_reason"].as_str().unwrap().contains("410"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, failed) = env
        .call(
            Method::GET,
            "/api/v1/webhook-deliveries?status=failed",
            &ws.key,
            None,
        )
        .await;
    assert_eq!(failed["data"].as_array().unwrap().len(), 1);

    // Re-enable and recover everything that failed since then.
    rx.set_status(200);
    env.call(
        Method::PATCH,
        &format!("/api/v1/webhook-endpoints/{eid}"),
        &ws.key,
        Some(json!({"disabled": false})),
    )
    .await;
    let (s, rec) = env
        .call(
            Method::POST,
            &format!("/api/v1/webhook-endpoints/{eid}/recover"),
            &ws.key,
            Some(json!({"since": since})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(rec["recovered"], 1);
    wait_for("the recovered delivery", || {
        rx.got.lock().unwrap().len() >= 4
    })
    .await;
    let missing = env
        .call(
            Method::POST,
            "/api/v1/webhook-deliveries/whd_nope/retry",
            &ws.key,
            None,
        )
        .await;
    assert_error(&missing, 404, "NOT_FOUND", "not_found_error");
}

/// With deliveries pending and a slow receiver, the server is killed (SIGKILL) and restarted:
/// every event still reaches the receiver at least once, counted by `webhook-id`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_across_a_sigkill() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    const BIN: &str = env!("CARGO_BIN_EXE_millwright");
    let dir = tempfile::tempdir().unwrap();
    let master = millwright_core::crypto::Key::generate().to_base64();
    let start = || {
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--allow-private-webhook-targets",
                "--data-dir",
            ])
            .arg(dir.path())
            .env("MILLWRIGHT_MASTER_KEY", &master)
            .env("MILLWRIGHT_WEBHOOK_LEASE_SECONDS", "2")
            .env("MILLWRIGHT_JOB_LEASE_SECONDS", "2")
            .env("MILLWRIGHT_RATE_LIMIT_PER_MINUTE", "0")
            .env_remove("MILLWRIGHT_DATABASE_URL")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines.next().expect("server output").unwrap();
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.trim().to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        (child, format!("http://{addr}"))
    };
    let sim = millwright_sim::spawn(
        millwright_sim::System::Maintainx,
        millwright_sim::SimOptions { seed: 3, scale: 20 },
    )
    .await
    .unwrap();
    let (rx, url) = Receiver::start().await;
    *rx.delay.lock().unwrap() = Duration::from_millis(300);
    let http = reqwest::Client::new();

    let (mut child, base) = start();
    let out = Command::new(BIN)
        .args(["workspace", "create", "--name", "crash", "--data-dir"])
        .arg(dir.path())
        .env("MILLWRIGHT_MASTER_KEY", &master)
        .env_remove("MILLWRIGHT_DATABASE_URL")
        .output()
        .unwrap();
    let key = serde_json::from_slice::<Value>(&out.stdout).unwrap()["secret_key"]
        .as_str()
        .unwrap()
        .to_string();
    let r = http
        .post(format!("{base}/api/v1/webhook-endpoints"))
        .bearer_auth(&key)
        .json(&json!({"url": url}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = http
        .post(format!("{base}/api/v1/connections"))
        .bearer_auth(&key)
        .json(&json!({"connector": "maintainx", "name": "crash",
                      "credentials": {"base_url": sim.base_url(), "api_key": millwright_sim::maintainx::DEFAULT_API_KEY}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    // Some deliveries are in, many pending (the receiver takes 300 ms each): kill the server.
    wait_for("the first deliveries", || rx.got.lock().unwrap().len() >= 5).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let before_restart = rx.ids().len();

    let (mut child, base) = start();
    let mut events = HashSet::new();
    let mut cursor = String::new();
    loop {
        let page: Value = http
            .get(format!("{base}/api/v1/events?page_size=1000{cursor}"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for e in page["data"].as_array().unwrap() {
            events.insert(e["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert!(
        events.len() > before_restart,
        "deliveries were still pending at the kill"
    );
    *rx.delay.lock().unwrap() = Duration::ZERO;
    wait_for("every event after the restart", || {
        events.is_subset(&rx.ids())
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
}
