//! Cross-check against the official Standard Webhooks Python library: everything Millwright
//! signs must verify there, and tampered or stale messages must not.
//!
//! Needs `MILLWRIGHT_TEST_WEBHOOK_PYTHON`: a Python interpreter with the `standardwebhooks`
//! package installed (scripts/test creates `.venv/webhooks` and exports it). Without it these
//! tests fail rather than pass silently.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use base64::Engine;
use millwright_webhooks::signature::{sign, signature_header, verify, Secret, DEFAULT_TOLERANCE};
use millwright_webhooks::{DeliveryRequest, Outcome, WebhookClient};
use serde_json::{json, Value};

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    let Ok(python) = std::env::var("MILLWRIGHT_TEST_WEBHOOK_PYTHON") else {
        panic!(
            "MILLWRIGHT_TEST_WEBHOOK_PYTHON is not set. Point it at a Python that has the official \
             `standardwebhooks` package, e.g.\n  python3 -m venv .venv/webhooks && \
             .venv/webhooks/bin/pip install standardwebhooks\n  \
             export MILLWRIGHT_TEST_WEBHOOK_PYTHON=$PWD/.venv/webhooks/bin/python\n\
             (scripts/test does this)."
        );
    };
    let path = PathBuf::from(python);
    // cargo runs tests from the crate directory; a relative path is meant from the workspace.
    if path.is_relative() {
        workspace_root().join(path)
    } else {
        path
    }
}

/// One message for the verifier script.
struct Case {
    name: &'static str,
    secret: String,
    id: String,
    timestamp: String,
    body: String,
    signature: String,
}

/// Runs scripts/webhook-verify.py on the cases; returns `(ok, error)` per case, in order.
fn official_verify(cases: &[Case]) -> Vec<(bool, String)> {
    let python = python();
    let script = workspace_root().join("scripts/webhook-verify.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let mut input = String::new();
    for c in cases {
        let line = json!({
            "secret": c.secret,
            "id": c.id,
            "timestamp": c.timestamp,
            "body": c.body,
            "signature": c.signature,
        });
        input.push_str(&line.to_string());
        input.push('\n');
    }
    // Write from another thread so a full stdout pipe cannot deadlock against a full stdin.
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let results: Vec<(bool, String)> = stdout
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
            (
                v["ok"].as_bool().unwrap(),
                v["error"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    writer.join().unwrap().unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success() && results.len() == cases.len(),
        "verifier failed ({}), {} results for {} cases; stderr:\n{}",
        output.status,
        results.len(),
        cases.len(),
        String::from_utf8_lossy(&output.stderr)
    );
    results
}

fn now_secs() -> i64 {
    millwright_core::time::now().timestamp()
}

fn case(name: &'static str, secret: &Secret, id: &str, ts: i64, body: &str, sig: String) -> Case {
    Case {
        name,
        secret: secret.expose(),
        id: id.to_string(),
        timestamp: ts.to_string(),
        body: body.to_string(),
        signature: sig,
    }
}

/// Our own verifier must agree with the official one on every case.
fn own_verify(c: &Case) -> bool {
    let secret = Secret::parse(&c.secret).unwrap();
    verify(
        &secret,
        &c.id,
        &c.timestamp,
        &c.signature,
        c.body.as_bytes(),
        millwright_core::time::now(),
        DEFAULT_TOLERANCE,
    )
    .is_ok()
}

#[test]
fn official_library_accepts_our_signatures_and_rejects_tampering() {
    let current = Secret::generate();
    let previous = Secret::generate();
    let unrelated = Secret::generate();
    let short = Secret::from_bytes(&[0x5a; 24]).unwrap();
    let long = Secret::from_bytes(&(0u8..64).collect::<Vec<_>>()).unwrap();
    let now = now_secs();

    let plain = r#"{"id":"evt_01J0000000000000000000001","type":"work_order.updated","data":{"id":"wo_1","status":"done"}}"#;
    let unicode = r#"{"type":"item.updated","data":{"name":"Größe 温度センサー 🔧","note":"line\u2028sep \"quoted\" \\ back"}}"#;
    let large = json!({
        "type": "sync.completed",
        "data": {"rows": (0..20_000).map(|i| json!({"i": i, "v": "ü€𝄞"})).collect::<Vec<_>>()}
    })
    .to_string();
    assert!(large.len() > 500_000);

    let one =
        |s: &Secret, id: &str, ts: i64, body: &str| signature_header(&[s], id, ts, body.as_bytes());
    let rotation = signature_header(&[&current, &previous], "evt_rot", now, plain.as_bytes());

    let accepted = vec![
        case(
            "plain",
            &current,
            "evt_plain",
            now,
            plain,
            one(&current, "evt_plain", now, plain),
        ),
        case(
            "unicode",
            &current,
            "evt_uni",
            now,
            unicode,
            one(&current, "evt_uni", now, unicode),
        ),
        case(
            "large",
            &current,
            "evt_large",
            now,
            &large,
            one(&current, "evt_large", now, &large),
        ),
        case(
            "rotation, current secret",
            &current,
            "evt_rot",
            now,
            plain,
            rotation.clone(),
        ),
        case(
            "rotation, previous secret",
            &previous,
            "evt_rot",
            now,
            plain,
            rotation.clone(),
        ),
        case(
            "24-byte secret",
            &short,
            "evt_s",
            now,
            plain,
            one(&short, "evt_s", now, plain),
        ),
        case(
            "64-byte secret",
            &long,
            "evt_l",
            now,
            plain,
            one(&long, "evt_l", now, plain),
        ),
        case(
            "4 min old",
            &current,
            "evt_old_ok",
            now - 240,
            plain,
            one(&current, "evt_old_ok", now - 240, plain),
        ),
        case(
            "empty body",
            &current,
            "evt_empty",
            now,
            "",
            one(&current, "evt_empty", now, ""),
        ),
    ];
    let tampered_body = plain.replace("done", "open");
    let stale = now - 6 * 60;
    let future = now + 6 * 60;
    let rejected = vec![
        case(
            "rotation, unrelated secret",
            &unrelated,
            "evt_rot",
            now,
            plain,
            rotation.clone(),
        ),
        case(
            "tampered body",
            &current,
            "evt_t",
            now,
            &tampered_body,
            one(&current, "evt_t", now, plain),
        ),
        case(
            "tampered unicode body",
            &current,
            "evt_tu",
            now,
            &unicode.replace('ö', "o"),
            one(&current, "evt_tu", now, unicode),
        ),
        case(
            "other id",
            &current,
            "evt_other",
            now,
            plain,
            one(&current, "evt_t", now, plain),
        ),
        case(
            "timestamp changed",
            &current,
            "evt_ts",
            now + 1,
            plain,
            one(&current, "evt_ts", now, plain),
        ),
        case(
            "6 min old",
            &current,
            "evt_stale",
            stale,
            plain,
            one(&current, "evt_stale", stale, plain),
        ),
        case(
            "6 min in the future",
            &current,
            "evt_future",
            future,
            plain,
            one(&current, "evt_future", future, plain),
        ),
        case(
            "not v1",
            &current,
            "evt_v2",
            now,
            plain,
            sign(&current, "evt_v2", now, plain.as_bytes()).replacen("v1,", "v2,", 1),
        ),
    ];

    let results = official_verify(&accepted);
    for (c, (ok, error)) in accepted.iter().zip(&results) {
        assert!(ok, "official library rejected `{}`: {error}", c.name);
        assert!(own_verify(c), "our verifier rejected `{}`", c.name);
    }
    let results = official_verify(&rejected);
    for (c, (ok, error)) in rejected.iter().zip(&results) {
        assert!(!ok, "official library accepted `{}`", c.name);
        assert!(!own_verify(c), "our verifier accepted `{}`", c.name);
        match c.name {
            "6 min old" => assert!(error.contains("too old"), "{error}"),
            "6 min in the future" => assert!(error.contains("too new"), "{error}"),
            _ => assert!(
                error.contains("No matching signature"),
                "{}: {error}",
                c.name
            ),
        }
    }

    // The library takes the key from the same `whsec_` text we show users.
    let exposed = current.expose();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(exposed.strip_prefix("whsec_").unwrap())
        .unwrap();
    assert_eq!(decoded, current.key_bytes());
}

#[tokio::test]
async fn official_library_verifies_a_real_delivery() {
    // Fail on a missing interpreter before doing any work.
    python();
    type Captured = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;
    let captured: Captured = Arc::default();
    let sink = captured.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push((headers, body.to_vec()));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let current = Secret::generate();
    let previous = Secret::generate();
    let url = format!("http://{addr}/hook");
    let client = WebhookClient::new(true);
    let bodies = [
        r#"{"id":"evt_d1","type":"connection.created","connection_id":null,"data":{}}"#.to_string(),
        json!({"id": "evt_d2", "type": "work_order.updated", "data": {"title": "Prüfung 検査 ✓"}})
            .to_string(),
    ];
    for (i, body) in bodies.iter().enumerate() {
        let id = format!("evt_d{}", i + 1);
        let attempt = client
            .deliver(&DeliveryRequest {
                url: &url,
                msg_id: &id,
                secrets: &[&current, &previous],
                body: body.as_bytes(),
            })
            .await;
        assert_eq!(attempt.outcome(), Outcome::Delivered, "{attempt:?}");
    }

    let received = captured.lock().unwrap().clone();
    assert_eq!(received.len(), bodies.len());
    let mut cases = Vec::new();
    for (headers, body) in &received {
        let h = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_string();
        let body = String::from_utf8(body.clone()).unwrap();
        for (name, secret) in [("current", &current), ("previous", &previous)] {
            cases.push(Case {
                name,
                secret: secret.expose(),
                id: h("webhook-id"),
                timestamp: h("webhook-timestamp"),
                body: body.clone(),
                signature: h("webhook-signature"),
            });
        }
        // The same delivery with a tampered body must fail.
        cases.push(Case {
            name: "tampered",
            secret: current.expose(),
            id: h("webhook-id"),
            timestamp: h("webhook-timestamp"),
            body: body.replacen('d', "x", 1),
            signature: h("webhook-signature"),
        });
    }
    let results = tokio::task::spawn_blocking(move || {
        let r = official_verify(&cases);
        (cases, r)
    })
    .await
    .unwrap();
    for (c, (ok, error)) in results.0.iter().zip(&results.1) {
        let expected = c.name != "tampered";
        assert_eq!(*ok, expected, "{} delivery of {}: {error}", c.name, c.id);
    }
}
