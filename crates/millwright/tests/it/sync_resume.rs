//! Crash safety and paging under change: a sync killed mid-run (SIGKILL) resumes from its
//! checkpoint without duplicates or gaps, and cursor paging over 10,000 records while they
//! change returns each record at least once and no version twice.

use std::{
    collections::HashSet,
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

use millwright_sim::{SimOptions, System};
use reqwest::StatusCode;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_millwright");

struct Node {
    child: Child,
    base: String,
}

/// Starts `millwright serve` on the data dir; returns once it announces its address.
fn start_node(dir: &std::path::Path, master: &str) -> Node {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("MILLWRIGHT_MASTER_KEY", master)
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
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Node {
        child,
        base: format!("http://{addr}"),
    }
}

async fn get(http: &reqwest::Client, url: &str, key: &str) -> Value {
    let r = http.get(url).bearer_auth(key).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{url}");
    r.json().await.unwrap()
}

async fn wo_run(http: &reqwest::Client, base: &str, key: &str, con: &str) -> Option<Value> {
    let runs = get(http, &format!("{base}/api/v1/connections/{con}/syncs"), key).await;
    runs["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["entity"] == "work_orders")
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_mid_way_resumes_without_duplicates_or_gaps() {
    let sim = millwright_sim::spawn(
        System::Maintainx,
        SimOptions {
            seed: 11,
            scale: 4000,
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let master = millwright_core::crypto::Key::generate().to_base64();
    let http = reqwest::Client::new();

    let mut node = start_node(dir.path(), &master);
    let out = Command::new(BIN)
        .args(["workspace", "create", "--name", "crash", "--data-dir"])
        .arg(dir.path())
        .env("MILLWRIGHT_MASTER_KEY", &master)
        .env_remove("MILLWRIGHT_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ws: Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = ws["secret_key"].as_str().unwrap().to_string();

    let created: Value = http
        .post(format!("{}/api/v1/connections", node.base))
        .bearer_auth(&key)
        .json(&json!({
            "connector": "maintainx", "name": "crash test",
            "credentials": {"base_url": sim.base_url(), "api_key": millwright_sim::maintainx::DEFAULT_API_KEY},
            "sync": {"entities": ["work_orders"], "history_days": 3650}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let con = created["connection"]["id"].as_str().unwrap().to_string();

    // Let a few pages land, then hold the source's answers and kill the server mid-run.
    let control = |mode: &'static str| {
        let http = http.clone();
        let url = format!("{}/__sim/outage", sim.base_url());
        async move {
            http.post(url)
                .json(&json!({"mode": mode}))
                .send()
                .await
                .unwrap()
        }
    };
    let mut pages_before_kill = 0;
    for _ in 0..600 {
        if let Some(run) = wo_run(&http, &node.base, &key, &con).await {
            let pages = run["pages"].as_i64().unwrap();
            if pages >= 2 {
                control("timeout").await;
                tokio::time::sleep(Duration::from_millis(300)).await;
                let run = wo_run(&http, &node.base, &key, &con).await.unwrap();
                assert_eq!(
                    run["status"], "running",
                    "the run must still be in flight: {run}"
                );
                pages_before_kill = run["pages"].as_i64().unwrap();
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        (2..20).contains(&pages_before_kill),
        "killed mid-run at page {pages_before_kill}"
    );
    node.child.kill().unwrap(); // SIGKILL
    node.child.wait().unwrap();
    control("none").await;

    // Restart on the same data: the lease expires, the job is reclaimed, the run resumes.
    let mut node = start_node(dir.path(), &master);
    let mut done = None;
    for _ in 0..600 {
        if let Some(run) = wo_run(&http, &node.base, &key, &con).await {
            if run["status"] != "running" {
                done = Some(run);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let run = done.expect("the resumed run ends");
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(run["created"], 4000, "every record once: {run}");
    assert_eq!(run["pages"], 20, "no page written twice: {run}");
    let runs = get(
        &http,
        &format!("{}/api/v1/connections/{con}/syncs", node.base),
        &key,
    )
    .await;
    assert_eq!(
        runs["data"].as_array().unwrap().len(),
        1,
        "the same run resumed, no second one"
    );

    // No gap, no duplicate: 4,000 records and 4,000 created events.
    let mut events = 0;
    let mut cursor = String::new();
    loop {
        let page = get(
            &http,
            &format!(
                "{}/api/v1/events?type=work_order.created&page_size=1000{cursor}",
                node.base
            ),
            &key,
        )
        .await;
        events += page["data"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(events, 4000);
    let status = http
        .get(format!("{}/api/v1/sync-status", node.base))
        .bearer_auth(&key)
        .header("x-connection-id", &con)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(status["data"][0]["record_count"], 4000);
    node.child.kill().unwrap();
    node.child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_ten_thousand_records_while_they_change() {
    use crate::common::*;
    let env = TestEnv::start_with(Backend::Sqlite, |c| c.rate_limit_per_minute = 0).await;
    let sim = millwright_sim::spawn(
        System::Maintainx,
        SimOptions {
            seed: 5,
            scale: 10_000,
        },
    )
    .await
    .unwrap();
    let ws = env.workspace(10).await;
    let (status, created) = env
        .call(
            reqwest::Method::POST,
            "/api/v1/connections",
            &ws.key,
            Some(json!({
                "connector": "maintainx", "name": "ten thousand",
                "credentials": {"base_url": sim.base_url(), "api_key": millwright_sim::maintainx::DEFAULT_API_KEY},
                "sync": {"entities": ["work_orders"], "history_days": 3650}
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let token = created["access_token"].as_str().unwrap().to_string();
    crate::sync::initial_sync_done(&env, &token).await;

    // Page through all of them while the source changes and incremental syncs land.
    let mutate = {
        let http = env.http.clone();
        let base = env.base.clone();
        let sim_url = sim.base_url();
        let token = token.clone();
        tokio::spawn(async move {
            for _ in 0..5 {
                http.post(format!("{sim_url}/__sim/mutate"))
                    .json(&json!({"entity": "work_orders", "op": "update", "count": 50}))
                    .send()
                    .await
                    .unwrap();
                http.post(format!("{base}/api/v1/sync"))
                    .bearer_auth(&token)
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        })
    };
    let mut ids = HashSet::new();
    let mut versions = HashSet::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = env
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/work-orders?page_size=1000{cursor}"),
                &token,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        for r in page["data"].as_array().unwrap() {
            let id = r["id"].as_str().unwrap().to_string();
            let version = (id.clone(), r["updated_at"].as_str().unwrap().to_string());
            assert!(versions.insert(version), "a version seen twice: {id}");
            ids.insert(id);
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    mutate.await.unwrap();
    assert_eq!(ids.len(), 10_000, "every record at least once");
}
