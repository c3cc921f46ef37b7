//! Connection health probe benchmark (issue 6), run by hand, never in tests:
//!
//! ```text
//! cargo build --release -p millwright --bin millwright --example bench_probes
//! [MILLWRIGHT_TEST_POSTGRES_URL=…] target/release/examples/bench_probes -- \
//!     [--sizes 1000,3000,10000] [--concurrency 32] [--backends sqlite,postgres]
//! ```
//!
//! What one probe round costs as the number of connections grows. The source is the MaintainX
//! simulator, run as its own process (`millwright sim maintainx`, next to this example), so its
//! CPU is counted apart from Millwright's.
//!
//! Per backend and per size N, on a fresh database:
//!
//! 1. N MaintainX connections are written straight to the store (sealed credentials for the
//!    simulator, status `active`), as `POST /connections` would leave them after their first
//!    sync, without N initial syncs.
//! 2. A **round**: one `probe` job per connection, due now (the queue the probe sweep keeps),
//!    claimed and run by `--concurrency` loops exactly as the worker does (`claim_jobs`,
//!    `Prober::run_job`, then `retry_job` for the next probe), until every job has run once.
//!    Each probe is the production path: load the connection and workspace, open the sealed
//!    credentials, one authenticated `GET` to the simulator, `record_probe`, and the state
//!    machine check.
//! 3. Two rounds are run; the second is reported (the first warms caches and pools).
//!
//! Reported per round: wall time, CPU of this process (prober, store client, connector HTTP),
//! CPU of the PostgreSQL backends of the bench database, CPU of the simulator, and the rows
//! written: probe rows per round (one per connection) and the jobs table size (one row per
//! connection, updated in place). On SQLite also the database file growth per round.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use anyhow::{anyhow, bail, Context};
use clap::Parser;
use millwright::admin;
use millwright_connectors::{Credentials, Registry};
use millwright_core::{
    credits::Deployment,
    crypto::Key,
    ids::{new_id, prefix},
    keyring::Keyring,
    scope::Scope,
    status::ConnectionStatus,
    time,
};
use millwright_health::{dedupe_key, Prober, ProberConfig, PROBE_JOB};
use millwright_store::{NewConnection, NewEvent, NewJob, NewToken, Store};
use millwright_sync::JobOutcome;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

#[path = "support/cpu.rs"]
mod cpu;
use cpu::{clock_ticks, proc_ticks, Cpu};

#[derive(Parser, Debug)]
struct Args {
    /// Numbers of connections to measure, comma-separated.
    #[arg(long, default_value = "1000,3000,10000", value_delimiter = ',')]
    sizes: Vec<usize>,
    /// Probes in flight at once (the worker's job concurrency for probes).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Backends to measure; postgres needs MILLWRIGHT_TEST_POSTGRES_URL.
    #[arg(long, default_value = "sqlite", value_delimiter = ',')]
    backends: Vec<String>,
}

/// The simulator child process and its address.
struct Simulator {
    child: tokio::process::Child,
    base_url: String,
    pid: String,
}

async fn start_simulator() -> anyhow::Result<Simulator> {
    let exe = std::env::current_exe()?;
    // target/<profile>/examples/bench_probes → target/<profile>/millwright
    let bin = exe
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("millwright"))
        .ok_or_else(|| anyhow!("cannot locate the millwright binary"))?;
    let mut child = tokio::process::Command::new(&bin)
        .args([
            "sim",
            "maintainx",
            "--listen",
            "127.0.0.1:0",
            "--scale",
            "10",
        ])
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| {
            format!(
                "starting {} (build it with --bin millwright)",
                bin.display()
            )
        })?;
    let pid = child.id().ok_or_else(|| anyhow!("no pid"))?.to_string();
    // Logs go to standard error, the address among them.
    let stderr = child.stderr.take().ok_or_else(|| anyhow!("no stderr"))?;
    let mut lines = BufReader::new(stderr).lines();
    let base_url = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(i) = line.find("listening on http://") {
                let url = line[i + "listening on ".len()..].trim().to_string();
                return Ok::<_, anyhow::Error>(url);
            }
        }
        bail!("the simulator exited before listening")
    })
    .await
    .context("waiting for the simulator")??;
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Simulator {
        child,
        base_url,
        pid,
    })
}

async fn open_store(
    backend: &str,
) -> anyhow::Result<(Arc<dyn Store>, Option<String>, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let (store, pg_db): (Arc<dyn Store>, Option<String>) = match backend {
        "sqlite" => {
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            (millwright::storage::open(&url).await?, None)
        }
        "postgres" => {
            let url = millwright_store_postgres::testing::fresh_database().await;
            let db = url.rsplit('/').next().unwrap_or_default().to_string();
            (millwright::storage::open(&url).await?, Some(db))
        }
        other => bail!("unknown backend {other}"),
    };
    store.migrate().await?;
    Ok((store, pg_db, dir))
}

/// Writes `n` active MaintainX connections of one workspace pointing at the simulator.
async fn seed_connections(
    store: &Arc<dyn Store>,
    master: &Key,
    keyring: &Keyring,
    sim: &Simulator,
    n: usize,
) -> anyhow::Result<()> {
    let (workspace, _key) =
        admin::create_workspace(store.as_ref(), master, "probe bench", Some(n as i64), None)
            .await?;
    let credentials: Credentials = serde_json::from_value(json!({
        "base_url": sim.base_url,
        "api_key": "sim-maintainx-key",
    }))?;
    let plain = serde_json::to_vec(&credentials)?;
    for i in 0..n {
        let now = time::now();
        let id = new_id(prefix::CONNECTION);
        let sealed = keyring.seal(&workspace.id, &workspace.wrapped_data_key, &id, &plain)?;
        store
            .create_connection(
                NewConnection {
                    id: id.clone(),
                    workspace_id: workspace.id.clone(),
                    connector: "maintainx".into(),
                    deployment: Deployment::Cloud,
                    name: format!("plant {i}"),
                    status: ConnectionStatus::Pending,
                    credits: 0,
                    metadata: json!({}),
                    sealed_credentials: sealed,
                    sync_settings: json!({}),
                    field_mappings: json!({}),
                    created_at: now,
                },
                NewToken {
                    id: new_id(prefix::TOKEN),
                    connection_id: id.clone(),
                    workspace_id: workspace.id.clone(),
                    token_hash: new_id("benchhash"),
                    scopes: Scope::ALL.to_vec(),
                    expires_at: None,
                    created_at: now,
                },
                NewEvent {
                    id: new_id(prefix::EVENT),
                    workspace_id: workspace.id.clone(),
                    connection_id: Some(id.clone()),
                    event_type: "connection.created".into(),
                    data: json!({"id": id}),
                    created_at: now,
                },
            )
            .await?;
        store
            .transition_connection(
                &id,
                &[ConnectionStatus::Pending],
                ConnectionStatus::Active,
                None,
                now,
            )
            .await?;
    }
    Ok(())
}

/// Queues one probe per live connection, due now (what the sweep keeps queued).
async fn queue_round(store: &Arc<dyn Store>) -> anyhow::Result<usize> {
    let now = time::now();
    let mut queued = 0;
    for c in store.live_connections().await? {
        let fresh = store
            .enqueue_job(NewJob {
                id: new_id(prefix::JOB),
                kind: PROBE_JOB.into(),
                workspace_id: Some(c.workspace_id.clone()),
                connection_id: Some(c.id.clone()),
                payload: json!({}),
                run_at: now,
                dedupe_key: Some(dedupe_key(&c.id)),
                created_at: now,
            })
            .await?;
        queued += usize::from(fresh);
    }
    Ok(queued)
}

/// Runs due probe jobs with `concurrency` loops, as the worker does, until `expected` ran.
async fn run_round(
    store: &Arc<dyn Store>,
    prober: &Arc<Prober>,
    concurrency: usize,
    expected: usize,
) -> anyhow::Result<usize> {
    let done = Arc::new(AtomicUsize::new(0));
    let mut loops = Vec::new();
    for w in 0..concurrency {
        let (store, prober, done) = (store.clone(), prober.clone(), done.clone());
        loops.push(tokio::spawn(async move {
            let worker = format!("bench-{w}");
            while done.load(Ordering::Relaxed) < expected {
                let jobs = store
                    .claim_jobs(
                        &[PROBE_JOB],
                        &worker,
                        time::now(),
                        chrono::Duration::seconds(60),
                        1,
                    )
                    .await?;
                if jobs.is_empty() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
                for job in jobs {
                    match prober.run_job(&job).await {
                        JobOutcome::Reschedule { at, note } => {
                            store.retry_job(&job.id, &worker, at, &note).await?;
                        }
                        JobOutcome::Done(_) => {
                            store.complete_job(&job.id, &worker, time::now()).await?;
                        }
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for l in loops {
        l.await??;
    }
    Ok(done.load(Ordering::Relaxed))
}

async fn count_rows(store: &Arc<dyn Store>) -> anyhow::Result<(usize, usize)> {
    // Probe rows through the store's own read path (the 24 h history of every connection);
    // queued probe jobs through the queue statistics.
    let mut probes = 0;
    let since = time::now() - chrono::Duration::hours(1);
    for c in store.live_connections().await? {
        probes += store
            .probe_history(&c.workspace_id, &c.id, since)
            .await?
            .len();
    }
    let queued = store
        .job_queue_stats(time::now() + chrono::Duration::days(1))
        .await?
        .into_iter()
        .filter(|s| s.kind == PROBE_JOB)
        .map(|s| s.queued as usize)
        .sum();
    Ok((probes, queued))
}

fn file_size(dir: &tempfile::TempDir) -> u64 {
    ["bench.db", "bench.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.path().join(f)).ok())
        .map(|m| m.len())
        .sum()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let hz = clock_ticks();
    let mut sim = start_simulator().await?;
    let master = Key::generate();
    let keyring = Arc::new(Keyring::new(master.clone()));
    let registry = Arc::new(Registry::standard());

    println!(
        "| backend | connections | round wall s | probes/s | Millwright CPU s/round | Millwright CPU ms/probe | PostgreSQL CPU ms/probe | simulator CPU ms/probe | probe rows/round | queued probe jobs | SQLite bytes/probe |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for backend in &args.backends {
        for &n in &args.sizes {
            let (store, pg_db, dir) = open_store(backend).await?;
            seed_connections(&store, &master, &keyring, &sim, n).await?;
            let prober = Arc::new(Prober::new(
                store.clone(),
                registry.clone(),
                keyring.clone(),
                ProberConfig {
                    // Long enough that no probe comes due again within the measured rounds.
                    probe_every: chrono::Duration::hours(1),
                    ..ProberConfig::default()
                },
            ));
            let mut last = None;
            for round in 0..2 {
                // Make every connection's probe due now again.
                if round > 0 {
                    let now = time::now();
                    for c in store.live_connections().await? {
                        store.cancel_queued_jobs(&c.id, &[PROBE_JOB], now).await?;
                    }
                }
                let queued = queue_round(&store).await?;
                let size_before = file_size(&dir);
                let sim_before = proc_ticks(&sim.pid).unwrap_or(0);
                let cpu = Cpu::now(hz, pg_db.as_deref());
                let ran = run_round(&store, &prober, args.concurrency, queued).await?;
                let spent = cpu.since();
                let sim_cpu = (proc_ticks(&sim.pid).unwrap_or(0) - sim_before) as f64 / hz;
                let grown = file_size(&dir).saturating_sub(size_before);
                last = Some((ran, spent, sim_cpu, grown));
            }
            let (ran, spent, sim_cpu, grown) = last.expect("two rounds ran");
            let (probe_rows, queued_jobs) = count_rows(&store).await?;
            let per = |s: f64| s * 1000.0 / ran.max(1) as f64;
            println!(
                "| {backend} | {n} | {:.2} | {:.0} | {:.2} | {:.3} | {} | {:.3} | {} | {} | {} |",
                spent.wall,
                ran as f64 / spent.wall,
                spent.own,
                per(spent.own),
                if pg_db.is_some() {
                    format!("{:.3}", per(spent.pg))
                } else {
                    "–".into()
                },
                per(sim_cpu),
                probe_rows / 2,
                queued_jobs,
                if pg_db.is_none() {
                    format!("{}", grown / ran.max(1) as u64)
                } else {
                    "–".into()
                },
            );
        }
    }
    sim.child.kill().await.ok();
    Ok(())
}
