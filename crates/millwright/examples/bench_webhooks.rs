//! Webhook delivery benchmark (issue 5), run by hand, never in tests:
//!
//! ```text
//! cargo build --release -p millwright --example bench_webhooks
//! [MILLWRIGHT_TEST_POSTGRES_URL=…] target/release/examples/bench_webhooks -- [--events 10000]
//!     [--endpoints 4] [--page 100] [--rate 0] [--http-concurrency 32] [--backends sqlite,postgres]
//! ```
//!
//! Everything runs in this one process, on loopback: the real server (`server::start` with
//! `allow_private_webhook_targets`, SQLite in a temp dir, then PostgreSQL on a fresh database
//! when `MILLWRIGHT_TEST_POSTGRES_URL` is set), `--endpoints` axum receivers on 127.0.0.1 that
//! answer 200 at once and keep (`webhook-id`, body, receipt time), one endpoint per receiver
//! created over the HTTP API, and an event generator that writes work-order pages through
//! `Store::apply_page` for a connection of the workspace, exactly as the sync engine writes
//! them (one `work_order.created` event per record, `--page` records per transaction). The
//! connection is created in the store in status `requires_reauthorization`, so the scheduler
//! never tries to sync it.
//!
//! Per backend, each on its own fresh database:
//!
//! 1. **live**: server with its workers (`Role::All`); the generator writes `--events` events
//!    (as fast as it can, or at `--rate` events/s) while the dispatcher delivers. Deliveries/s is
//!    `events × endpoints` over first page written → last receipt; latency is receipt time −
//!    the event's `created_at` (the page's `now`, taken just before its transaction).
//! 2. **generate, then drain**: the same events written with an API-only server (no
//!    dispatcher): the CPU of that pass is the generator's share (record and event inserts plus
//!    this harness). Then the server is restarted with its workers on the same database and
//!    drains the backlog: the CPU of that pass is dispatcher + server + receivers only.
//! 3. **store steps**: the same events written with an API-only server, then the dispatcher's
//!    store calls made directly, without HTTP, in the dispatcher's order: `fan_out_events(500)`
//!    until done, then batch after batch `claim_deliveries` (the dispatcher's `per_endpoint` 8,
//!    limit 256) and `finish_attempts(Succeeded)` for the claimed batch in one call, as the
//!    dispatcher's recorder does; each kind timed on its own. (`Dispatcher::send` reads each
//!    workspace once per process, so that read is left out.)
//!
//! Plus, once, an **HTTP floor**: the dispatcher's own `WebhookClient` signing and POSTing the
//! same number of deliveries to the receivers, `--http-concurrency` at a time, no store at all.
//!
//! CPU is `utime + stime` of this process from `/proc/self/stat` (receivers and generator
//! included, hence the separate passes), and on PostgreSQL also of the server backends of the
//! bench database (`/proc/<pid>/stat` of every `postgres: … <db> …` process; backends that
//! exit during a pass are missed, the pools keep theirs open).

use std::{
    collections::HashSet,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context};
use axum::{body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post, Router};
use clap::Parser;
use millwright::{admin, config::Config, server};
use millwright_core::{
    credits::Deployment,
    crypto::Key,
    ids::{new_id, prefix},
    record::{content_hash, record_id},
    scope::Scope,
    status::ConnectionStatus,
    time::{self, Timestamp},
    Entity,
};
use millwright_store::{
    AttemptOutcome, ClaimedDelivery, DeliveryAttempt, NewConnection, NewEvent, NewToken, PageWrite,
    RecordWrite, Store, Workspace,
};
use millwright_webhooks::{DeliveryRequest, Secret, WebhookClient};
use serde_json::{json, Value};
use tokio::task::JoinHandle;

#[derive(Parser, Debug)]
#[command(about = "Webhook deliveries per second, latency and CPU per 1,000 deliveries")]
struct Args {
    /// Events generated per pass (each delivered to every endpoint).
    #[arg(long, default_value_t = 10_000)]
    events: usize,
    /// Receivers, one endpoint each.
    #[arg(long, default_value_t = 4)]
    endpoints: usize,
    /// Records (so events) per `apply_page` transaction.
    #[arg(long, default_value_t = 100)]
    page: usize,
    /// Events per second in the live pass; 0 writes as fast as possible.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Requests in flight in the HTTP-floor pass.
    #[arg(long, default_value_t = 32)]
    http_concurrency: usize,
    /// Backends to measure; postgres needs MILLWRIGHT_TEST_POSTGRES_URL.
    #[arg(long, default_value = "sqlite,postgres", value_delimiter = ',')]
    backends: Vec<String>,
    /// Skip passes: any of live, drain, steps, http.
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
}

#[path = "support/cpu.rs"]
mod cpu;
use cpu::{clock_ticks, pg_backends, proc_ticks, Cpu, Spent};

// --- receivers -------------------------------------------------------------------------------

struct Receipt {
    webhook_id: String,
    body: Bytes,
    at: Timestamp,
}

#[derive(Clone)]
struct Sink {
    got: Arc<Mutex<Vec<Receipt>>>,
    total: Arc<AtomicUsize>,
}

async fn receive(State(s): State<Sink>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let at = chrono::Utc::now();
    let webhook_id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    s.got.lock().expect("sink").push(Receipt {
        webhook_id,
        body,
        at,
    });
    s.total.fetch_add(1, Ordering::Relaxed);
    StatusCode::OK
}

/// `n` receivers on 127.0.0.1 sharing one counter.
struct Receivers {
    urls: Vec<String>,
    sinks: Vec<Sink>,
    total: Arc<AtomicUsize>,
    tasks: Vec<JoinHandle<()>>,
}

impl Receivers {
    async fn start(n: usize) -> anyhow::Result<Receivers> {
        let total = Arc::new(AtomicUsize::new(0));
        let (mut urls, mut sinks, mut tasks) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..n {
            let sink = Sink {
                got: Arc::default(),
                total: total.clone(),
            };
            let app = Router::new()
                .route("/hook", post(receive))
                .with_state(sink.clone());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            urls.push(format!("http://{}/hook", listener.local_addr()?));
            tasks.push(tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            }));
            sinks.push(sink);
        }
        Ok(Receivers {
            urls,
            sinks,
            total,
            tasks,
        })
    }

    fn count(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    async fn wait_for(&self, n: usize, limit: Duration) -> anyhow::Result<()> {
        let started = Instant::now();
        while self.count() < n {
            if started.elapsed() > limit {
                bail!(
                    "only {} of {n} deliveries arrived in {limit:?}",
                    self.count()
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(())
    }

    /// Every receipt so far, with the index of its receiver.
    fn take(&self) -> Vec<(usize, Receipt)> {
        let mut out = Vec::new();
        for (i, s) in self.sinks.iter().enumerate() {
            out.extend(
                std::mem::take(&mut *s.got.lock().expect("sink"))
                    .into_iter()
                    .map(|r| (i, r)),
            );
        }
        out
    }
}

impl Drop for Receivers {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

// --- the server and its workspace ------------------------------------------------------------

struct Bench {
    config: Config,
    master: Key,
    _dir: tempfile::TempDir,
    pg_db: Option<String>,
}

impl Bench {
    async fn new(backend: &str) -> anyhow::Result<Bench> {
        let dir = tempfile::tempdir()?;
        let (database_url, pg_db) = if backend == "postgres" {
            let url = millwright_store_postgres::testing::fresh_database().await;
            let db = url
                .rsplit('/')
                .next()
                .and_then(|s| s.split('?').next())
                .map(str::to_owned);
            (Some(url), db)
        } else {
            (None, None)
        };
        let master = Key::generate();
        let config = Config {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url,
            master_key: Some(master.to_base64()),
            rate_limit_per_minute: 0,
            allow_private_webhook_targets: true,
            ..Config::default()
        };
        Ok(Bench {
            config,
            master,
            _dir: dir,
            pg_db,
        })
    }

    fn cpu(&self, hz: f64) -> Cpu {
        Cpu::now(hz, self.pg_db.as_deref())
    }
}

/// What the generator writes to.
struct Target {
    workspace: Workspace,
    connection_id: String,
}

/// A workspace, one endpoint per receiver (over the HTTP API) and, after them, a connection
/// (its `connection.created` event goes to every endpoint).
async fn set_up(
    server: &server::RunningServer,
    master: &Key,
    receivers: &Receivers,
) -> anyhow::Result<Target> {
    let (workspace, key) =
        admin::create_workspace(server.store.as_ref(), master, "bench", None, None).await?;
    let http = reqwest::Client::new();
    for url in &receivers.urls {
        let resp = http
            .post(format!("{}/api/v1/webhook-endpoints", server.base_url()))
            .bearer_auth(&key)
            .json(&json!({"url": url, "description": "bench"}))
            .send()
            .await?;
        let status = resp.status();
        if !status.is_success() {
            bail!("creating an endpoint: {status}: {}", resp.text().await?);
        }
    }
    let now = time::now();
    let connection_id = new_id(prefix::CONNECTION);
    server
        .store
        .create_connection(
            NewConnection {
                id: connection_id.clone(),
                workspace_id: workspace.id.clone(),
                connector: "maintainx".into(),
                deployment: Deployment::Cloud,
                name: "bench".into(),
                // The scheduler skips it: nothing syncs behind the generator's back.
                status: ConnectionStatus::RequiresReauthorization,
                credits: 0,
                metadata: json!({}),
                sealed_credentials: Vec::new(),
                sync_settings: json!({"entities": ["work_orders"]}),
                field_mappings: json!({}),
                created_at: now,
            },
            NewToken {
                id: new_id(prefix::TOKEN),
                connection_id: connection_id.clone(),
                workspace_id: workspace.id.clone(),
                token_hash: new_id("benchhash"),
                scopes: Scope::ALL.to_vec(),
                expires_at: None,
                created_at: now,
            },
            NewEvent {
                id: new_id(prefix::EVENT),
                workspace_id: workspace.id.clone(),
                connection_id: Some(connection_id.clone()),
                event_type: "connection.created".into(),
                data: json!({"id": connection_id}),
                created_at: now,
            },
        )
        .await
        .context("creating the bench connection")?;
    Ok(Target {
        workspace,
        connection_id,
    })
}

/// One work order as a connector maps it (a MaintainX-sized record).
fn record(connection_id: &str, i: usize, now: &Timestamp) -> RecordWrite {
    let priority = ["low", "medium", "high"][i % 3];
    let remote_id = format!("{}", 1_000_000 + i);
    let data = json!({
        "number": format!("WO-{}", 1_000_000 + i),
        "title": format!("Replace worn drive belt on conveyor line {}", i % 40),
        "description": "Belt shows cracking along the edge; replace and re-tension, check pulley alignment.",
        "type": "corrective",
        "status": "open",
        "remote_status": "OPEN",
        "priority": priority,
        "asset_id": format!("{}", 5_000 + i % 500),
        "location_id": format!("{}", 900 + i % 20),
        "assignee_ids": [format!("{}", 70 + i % 9)],
        "due_at": time::format(&(*now + chrono::Duration::days(7))),
        "scheduled_start_at": null,
        "completed_at": null,
    });
    let custom_fields = json!({"Cost center": "CC-41", "Shift": "B"});
    let remote_updated_at = Some(*now);
    RecordWrite {
        id: record_id(connection_id, Entity::WorkOrders, &remote_id),
        content_hash: content_hash(&data, &custom_fields, remote_updated_at.as_ref()),
        remote_data: json!({"id": 1_000_000 + i, "title": data["title"], "status": "OPEN"}),
        display_name: data["title"].as_str().map(str::to_owned),
        remote_id,
        data,
        custom_fields,
        remote_created_at: Some(*now),
        remote_updated_at,
    }
}

/// Writes `events` work-order pages as the sync engine does; returns when the last commits.
async fn generate(
    store: &dyn Store,
    target: &Target,
    events: usize,
    page: usize,
    rate: f64,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut i = 0;
    while i < events {
        if rate > 0.0 {
            let due = started + Duration::from_secs_f64(i as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        let n = page.min(events - i);
        let now = time::now();
        let records = (i..i + n)
            .map(|j| record(&target.connection_id, j, &now))
            .collect();
        let out = store
            .apply_page(PageWrite {
                workspace_id: target.workspace.id.clone(),
                connection_id: target.connection_id.clone(),
                entity: Entity::WorkOrders,
                run_id: None,
                records,
                deleted_remote_ids: Vec::new(),
                checkpoint: None,
                now,
            })
            .await?;
        if out.created != n as u64 {
            bail!("a page created {} records, not {n}", out.created);
        }
        i += n;
    }
    Ok(())
}

// --- figures ---------------------------------------------------------------------------------

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Work-order deliveries: count, duplicates, last receipt, and latencies (ms), sorted.
struct Received {
    deliveries: usize,
    duplicates: usize,
    last: Option<Timestamp>,
    latencies_ms: Vec<f64>,
}

fn analyse(receipts: Vec<(usize, Receipt)>) -> anyhow::Result<Received> {
    let mut seen = HashSet::new();
    let mut out = Received {
        deliveries: 0,
        duplicates: 0,
        last: None,
        latencies_ms: Vec::new(),
    };
    for (receiver, r) in receipts {
        let body: Value = serde_json::from_slice(&r.body)?;
        if body["type"] != "work_order.created" {
            continue;
        }
        if body["id"] != r.webhook_id.as_str() {
            bail!("webhook-id {} for event {}", r.webhook_id, body["id"]);
        }
        if !seen.insert((receiver, r.webhook_id)) {
            out.duplicates += 1;
            continue;
        }
        let created = body["timestamp"]
            .as_str()
            .and_then(time::parse)
            .ok_or_else(|| anyhow!("no timestamp in {body}"))?;
        out.deliveries += 1;
        out.last = out.last.max(Some(r.at));
        out.latencies_ms
            .push((r.at - created).num_microseconds().unwrap_or(0) as f64 / 1000.0);
    }
    out.latencies_ms.sort_by(f64::total_cmp);
    Ok(out)
}

/// One line of the summary table.
struct Row {
    backend: String,
    pass: &'static str,
    deliveries: usize,
    secs: f64,
    p50: Option<f64>,
    p99: Option<f64>,
    spent: Spent,
    note: String,
}

impl Row {
    fn print_header() {
        println!(
            "{:<9} {:<22} {:>10} {:>8} {:>10} {:>9} {:>9} {:>13} {:>12}  note",
            "backend",
            "pass",
            "deliveries",
            "secs",
            "per sec",
            "p50 ms",
            "p99 ms",
            "CPU ms/1k own",
            "CPU ms/1k pg"
        );
    }

    fn print(&self) {
        let (own, pg) = self.spent.per_k(self.deliveries);
        let ms = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.1}"));
        println!(
            "{:<9} {:<22} {:>10} {:>8.2} {:>10.0} {:>9} {:>9} {:>13.1} {:>12.1}  {}",
            self.backend,
            self.pass,
            self.deliveries,
            self.secs,
            self.deliveries as f64 / self.secs,
            ms(self.p50),
            ms(self.p99),
            own,
            pg,
            self.note
        );
    }
}

// --- the passes ------------------------------------------------------------------------------

const WAIT: Duration = Duration::from_secs(900);

/// 1. Generator and dispatcher together.
async fn live(args: &Args, backend: &str, hz: f64) -> anyhow::Result<Row> {
    let bench = Bench::new(backend).await?;
    let server = server::start(bench.config.clone(), server::Role::All).await?;
    let receivers = Receivers::start(args.endpoints).await?;
    let target = set_up(&server, &bench.master, &receivers).await?;
    // Warm-up: the connection.created event reaches every receiver (pools open).
    receivers
        .wait_for(args.endpoints, Duration::from_secs(30))
        .await?;
    let expected = args.events * args.endpoints;
    let cpu = bench.cpu(hz);
    let t0 = time::now();
    generate(
        server.store.as_ref(),
        &target,
        args.events,
        args.page,
        args.rate,
    )
    .await?;
    let generated = cpu.since();
    receivers.wait_for(expected + args.endpoints, WAIT).await?;
    let spent = cpu.since();
    let got = analyse(receivers.take())?;
    server.shutdown().await;
    let secs = (got.last.unwrap_or(t0) - t0).as_seconds_f64();
    Ok(Row {
        backend: backend.into(),
        pass: "live",
        deliveries: got.deliveries,
        secs,
        p50: Some(percentile(&got.latencies_ms, 50.0)),
        p99: Some(percentile(&got.latencies_ms, 99.0)),
        spent,
        note: format!(
            "generator done after {:.2} s ({:.0} events/s); {} duplicates",
            generated.wall,
            args.events as f64 / generated.wall,
            got.duplicates
        ),
    })
}

/// 2. Generate with no dispatcher, then drain with one.
async fn drain(args: &Args, backend: &str, hz: f64) -> anyhow::Result<(Row, Row)> {
    let bench = Bench::new(backend).await?;
    let receivers = Receivers::start(args.endpoints).await?;
    let api = server::start(bench.config.clone(), server::Role::Api).await?;
    let target = set_up(&api, &bench.master, &receivers).await?;
    let cpu = bench.cpu(hz);
    generate(api.store.as_ref(), &target, args.events, args.page, 0.0).await?;
    let gen = cpu.since();
    api.shutdown().await;

    let cpu = bench.cpu(hz);
    let t0 = time::now();
    let server = server::start(bench.config.clone(), server::Role::All).await?;
    let expected = args.events * args.endpoints;
    receivers.wait_for(expected + args.endpoints, WAIT).await?;
    let spent = cpu.since();
    let got = analyse(receivers.take())?;
    server.shutdown().await;
    let secs = (got.last.unwrap_or(t0) - t0).as_seconds_f64();
    let generator = Row {
        backend: backend.into(),
        pass: "generate only",
        deliveries: expected,
        secs: gen.wall,
        p50: None,
        p99: None,
        spent: gen,
        note: format!(
            "{} events, {:.0} events/s; per second and CPU counted per delivery to come",
            args.events,
            args.events as f64 / gen.wall
        ),
    };
    let drained = Row {
        backend: backend.into(),
        pass: "drain backlog",
        deliveries: got.deliveries,
        secs,
        p50: None,
        p99: None,
        spent,
        note: format!(
            "from server start; {} duplicates; latency meaningless (events waited)",
            got.duplicates
        ),
    };
    Ok((generator, drained))
}

/// CPU and wall time of one kind of step, summed over many short intervals. Cheaper than
/// [`Cpu`]: the PostgreSQL backends are listed once (after the pool is warm), so each snapshot
/// reads only a few `/proc` files.
struct Meter {
    hz: f64,
    pids: Vec<String>,
    total: Spent,
}

impl Meter {
    fn new(hz: f64, pids: &[String]) -> Meter {
        Meter {
            hz,
            pids: pids.to_vec(),
            total: Spent::default(),
        }
    }

    fn snapshot(&self) -> (u64, u64, Instant) {
        let pg = self.pids.iter().filter_map(|p| proc_ticks(p)).sum();
        (proc_ticks("self").unwrap_or(0), pg, Instant::now())
    }

    async fn time<T>(&mut self, f: impl std::future::Future<Output = T>) -> T {
        let (own, pg, wall) = self.snapshot();
        let out = f.await;
        let (own2, pg2, _) = self.snapshot();
        self.total.own += own2.saturating_sub(own) as f64 / self.hz;
        self.total.pg += pg2.saturating_sub(pg) as f64 / self.hz;
        self.total.wall += wall.elapsed().as_secs_f64();
        out
    }
}

/// `finish_attempts(Succeeded)` for the claimed batch, in one call.
async fn finish_all(store: &Arc<dyn Store>, worker: &str, claimed: &[ClaimedDelivery]) -> usize {
    let now = time::now();
    let attempts = claimed
        .iter()
        .map(|c| {
            let attempt = DeliveryAttempt {
                delivery_id: c.delivery.id.clone(),
                attempted_at: now,
                status_code: Some(200),
                duration_ms: 1,
                response_excerpt: None,
                error: None,
            };
            (attempt, AttemptOutcome::Succeeded)
        })
        .collect();
    match store.finish_attempts(worker, attempts).await {
        Ok(results) => results.into_iter().filter(|r| *r).count(),
        Err(_) => 0,
    }
}

/// Pass 3: the dispatcher's store calls, without HTTP, in its order: fan out everything, then
/// batch after batch claim (`per_endpoint` 8, limit 256, as the dispatcher asks) and record
/// the batch's attempts in one call; each kind of call timed on its own.
async fn steps(args: &Args, backend: &str, hz: f64) -> anyhow::Result<Vec<Row>> {
    let bench = Bench::new(backend).await?;
    let receivers = Receivers::start(args.endpoints).await?;
    let api = server::start(bench.config.clone(), server::Role::Api).await?;
    let target = set_up(&api, &bench.master, &receivers).await?;
    generate(api.store.as_ref(), &target, args.events, args.page, 0.0).await?;
    let store = api.store.clone();
    let expected = (args.events + 1) * args.endpoints;
    // Open every pooled connection, then list the backends once.
    let mut warm = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (store, ws) = (store.clone(), target.workspace.id.clone());
        warm.spawn(async move { store.get_workspace(&ws).await.map(|_| ()) });
    }
    while let Some(r) = warm.join_next().await {
        r??;
    }
    let pids: Vec<String> = bench
        .pg_db
        .as_deref()
        .map(|db| pg_backends(db).into_keys().collect())
        .unwrap_or_default();
    let (mut fan, mut claim, mut record) = (
        Meter::new(hz, &pids),
        Meter::new(hz, &pids),
        Meter::new(hz, &pids),
    );

    let (mut created, mut fan_calls) = (0u64, 0);
    loop {
        let f = fan.time(store.fan_out_events(500, time::now())).await?;
        if f.events == 0 {
            break;
        }
        created += f.deliveries;
        fan_calls += 1;
    }

    let worker = "bench-worker";
    let (mut claimed, mut finished, mut calls) = (0, 0, 0);
    let (mut first_ms, mut last_ms) = (0.0, 0.0);
    loop {
        let t = Instant::now();
        let batch = claim
            .time(store.claim_deliveries(
                worker,
                time::now(),
                chrono::Duration::seconds(600),
                8,
                256,
            ))
            .await?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if batch.is_empty() {
            break;
        }
        if calls == 0 {
            first_ms = ms;
        }
        last_ms = ms;
        calls += 1;
        claimed += batch.len();
        finished += record.time(finish_all(&store, worker, &batch)).await;
    }
    api.shutdown().await;
    if created as usize != expected || claimed != expected || finished != expected {
        bail!(
            "{backend}: {created} deliveries created, {claimed} claimed, {finished} recorded, \
             {expected} expected"
        );
    }
    let row = |pass: &'static str, spent: Spent, note: String| Row {
        backend: backend.into(),
        pass,
        deliveries: expected,
        secs: spent.wall,
        p50: None,
        p99: None,
        spent,
        note,
    };
    Ok(vec![
        row(
            "step: fan-out",
            fan.total,
            format!("{fan_calls} calls of fan_out_events(500)"),
        ),
        row(
            "step: claim",
            claim.total,
            format!(
                "{calls} calls (≤ 8 per endpoint each); first {first_ms:.1} ms, last {last_ms:.1} ms"
            ),
        ),
        row(
            "step: record attempt",
            record.total,
            "one finish_attempts per claimed batch".into(),
        ),
    ])
}

/// The dispatcher's HTTP client alone: sign and POST, no store.
async fn http_floor(args: &Args, hz: f64) -> anyhow::Result<Row> {
    let receivers = Receivers::start(args.endpoints).await?;
    let client = Arc::new(WebhookClient::new(true));
    let secret = Arc::new(Secret::generate());
    let now = time::now();
    let n = args.events * args.endpoints;
    // Bodies as the dispatcher builds them, one per event.
    let bodies: Vec<(String, Vec<u8>)> = (0..args.events)
        .map(|i| {
            let r = record("con_bench", i, &now);
            let id = new_id(prefix::EVENT);
            let body = millwright_webhooks::dispatcher::event_body(&NewEvent {
                id: id.clone(),
                workspace_id: "ws_bench".into(),
                connection_id: Some("con_bench".into()),
                event_type: "work_order.created".into(),
                data: json!({"id": r.id, "remote_id": r.remote_id, "data": r.data}),
                created_at: now,
            });
            (id, body)
        })
        .collect();
    let bodies = Arc::new(bodies);
    let urls = Arc::new(receivers.urls.clone());
    let slots = Arc::new(tokio::sync::Semaphore::new(args.http_concurrency));
    let mut set = tokio::task::JoinSet::new();
    let cpu = Cpu::now(hz, None);
    for k in 0..n {
        let permit = slots.clone().acquire_owned().await?;
        let (client, secret, bodies, urls) =
            (client.clone(), secret.clone(), bodies.clone(), urls.clone());
        set.spawn(async move {
            let (id, body) = &bodies[k / urls.len()];
            let attempt = client
                .deliver(&DeliveryRequest {
                    url: &urls[k % urls.len()],
                    msg_id: id,
                    secrets: &[&secret],
                    body,
                })
                .await;
            drop(permit);
            attempt.status == Some(200)
        });
    }
    let mut ok = 0;
    while let Some(r) = set.join_next().await {
        ok += usize::from(r?);
    }
    let spent = cpu.since();
    if ok != n {
        bail!("HTTP floor: {ok} of {n} answered 200");
    }
    Ok(Row {
        backend: "-".into(),
        pass: "HTTP floor (no store)",
        deliveries: n,
        secs: spent.wall,
        p50: None,
        p99: None,
        spent,
        note: format!(
            "WebhookClient sign + POST, {} in flight, receivers included",
            args.http_concurrency
        ),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.endpoints == 0 || args.events == 0 || args.page == 0 {
        bail!("--events, --endpoints and --page must be positive");
    }
    let hz = clock_ticks();
    println!(
        "bench_webhooks: {} events × {} endpoints, pages of {}, rate {}, {} cores, {}",
        args.events,
        args.endpoints,
        args.page,
        if args.rate > 0.0 {
            format!("{}/s", args.rate)
        } else {
            "unpaced".into()
        },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
    );
    let skip = |p: &str| args.skip.iter().any(|s| s == p);
    let mut rows = Vec::new();
    if !skip("http") {
        let r = http_floor(&args, hz).await?;
        r.print();
        rows.push(r);
    }
    let pg_set = std::env::var(millwright_store_postgres::testing::TEST_URL_ENV)
        .is_ok_and(|v| !v.trim().is_empty());
    for backend in &args.backends {
        match backend.as_str() {
            "sqlite" => {}
            "postgres" if pg_set => {}
            "postgres" => {
                println!(
                    "(PostgreSQL skipped: {} is not set)",
                    millwright_store_postgres::testing::TEST_URL_ENV
                );
                continue;
            }
            other => bail!("unknown backend {other}"),
        }
        if !skip("live") {
            let r = live(&args, backend, hz).await?;
            r.print();
            rows.push(r);
        }
        if !skip("drain") {
            let (g, d) = drain(&args, backend, hz).await?;
            g.print();
            d.print();
            rows.push(g);
            rows.push(d);
        }
        if !skip("steps") {
            for r in steps(&args, backend, hz).await? {
                r.print();
                rows.push(r);
            }
        }
    }
    println!();
    Row::print_header();
    for r in &rows {
        r.print();
    }
    Ok(())
}
