//! The binary's commands as an operator runs them (spec §1).

use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
    time::Duration,
};

const BIN: &str = env!("CARGO_BIN_EXE_millwright");

fn millwright(dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--data-dir")
        .arg(dir)
        .env_remove("MILLWRIGHT_DATABASE_URL")
        .env_remove("MILLWRIGHT_MASTER_KEY");
    c
}

#[test]
fn workspace_and_user_create() {
    let dir = tempfile::tempdir().unwrap();
    let out = millwright(dir.path())
        .args(["workspace", "create", "--name", "Acme", "--credits", "4"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("one JSON object on stdout");
    let ws = v["workspace_id"].as_str().unwrap();
    let key = v["secret_key"].as_str().unwrap();
    assert!(ws.starts_with("ws_"));
    assert!(key.starts_with("mw_sk_") && key.len() >= 6 + 32);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("generated a master key file"),
        "the generated key is warned about"
    );
    assert!(dir.path().join("master.key").exists());

    let mut child = millwright(dir.path())
        .args([
            "user",
            "create",
            "--workspace",
            ws,
            "--email",
            "Ops@Acme.example",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"correct horse battery\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let u: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(u["email"], "ops@acme.example");

    let mut child = millwright(dir.path())
        .args([
            "user",
            "create",
            "--workspace",
            ws,
            "--email",
            "ops@acme.example",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"another password\n")
        .unwrap();
    assert!(
        !child.wait_with_output().unwrap().status.success(),
        "a taken e-mail is refused"
    );

    let out = millwright(dir.path()).arg("migrate").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("migrations applied"));
}

#[test]
fn serve_announces_its_address_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = millwright(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
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
    let body = std::process::Command::new("curl")
        .args(["-s", &format!("http://{addr}/healthz")])
        .output();
    if let Ok(out) = body {
        assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
    }
    let stream = std::net::TcpStream::connect(&addr);
    assert!(stream.is_ok(), "the announced address accepts connections");
    unsafe_kill(child.id(), 15);
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "graceful exit on SIGTERM: {status}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `--log-format json`: one JSON object per line, and the lines written while serving a request
/// carry that request's id (the `X-Request-Id` the client saw).
#[test]
fn json_logs_carry_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = millwright(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("MILLWRIGHT_LOG", "info,millwright_api=debug")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("server output").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        if let Some(rest) = v["fields"]["message"]
            .as_str()
            .and_then(|m| m.split("listening on http://").nth(1))
        {
            break rest.trim().to_string();
        }
    };
    // An unauthenticated API call: answered 401 with a request id.
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /api/v1/connections HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    let request_id = response
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .expect("an X-Request-Id header")
        .trim()
        .to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let found = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no log line for {request_id}"
        );
        let line = lines.next().expect("server output").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        if v["span"]["request_id"] == request_id.as_str() {
            break v;
        }
    };
    assert_eq!(found["fields"]["status"], 401);
    assert_eq!(found["span"]["route"], "/api/v1/connections");
    unsafe_kill(child.id(), 15);
    let _ = child.wait();
}

#[test]
fn environment_and_config_file_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("mw.toml");
    std::fs::write(
        &cfg,
        format!(
            "data_dir = \"{}\"\n",
            dir.path().join("from-file").display()
        ),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "workspace",
            "create",
            "--name",
            "X",
        ])
        .env_remove("MILLWRIGHT_DATA_DIR")
        .env_remove("MILLWRIGHT_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("from-file/millwright.db").exists());
    let out = Command::new(BIN)
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "workspace",
            "create",
            "--name",
            "Y",
        ])
        .env("MILLWRIGHT_DATA_DIR", dir.path().join("from-env"))
        .env_remove("MILLWRIGHT_DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        dir.path().join("from-env/millwright.db").exists(),
        "env beats the file"
    );
    let out = Command::new(BIN)
        .args(["--config", "/nonexistent.toml", "migrate"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

fn unsafe_kill(pid: u32, signal: i32) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}
