//! Connector and ingest benchmark (issues 3 and 4), run by hand, never in tests:
//!
//! ```text
//! cargo run --release -p millwright --example bench_sync -- [--scale 100000] [--rounds 3]
//!     [--systems maintainx,maximo,sap] [--no-ingest]
//! ```
//!
//! Everything runs in this one process, on loopback, in one run, so that the figures it prints
//! are ratios of measurements taken side by side on the same (shared, noisy) cores:
//!
//! - (a) **raw**: the work orders of a simulator at `--scale`, paged with plain `reqwest` with the
//!   same URLs the connector sends (largest page the vendor allows), each body parsed into a
//!   `serde_json::Value`: what any client pays before mapping.
//! - (b) **mapped**: the same pages through the connector's [`Connector::list`] (framework
//!   retries and classification, the envelope walk, the mapping to the unified model).
//! - (c) **ingest**: the real server (`server::start`, SQLite in a temp dir, or PostgreSQL when
//!   `MILLWRIGHT_TEST_POSTGRES_URL` is set), a workspace, the MaintainX simulator connected over
//!   the HTTP API with `sync: {entities: ["work_orders"], history_days: 3650}`, timed until the
//!   initial work-order run has completed.
//!
//! (a) and (b) alternate `--rounds` times after one untimed warm-up pass, and each ingest is
//! bracketed by a (b) pass just before and just after it; medians and ratios are printed. The
//! simulator shares the cores with the code measured (it generates every record on read), so
//! (a) is a rate of "simulator + fetch + parse", and the ratios understate the relative cost of
//! mapping and storing compared with a remote source that costs this machine nothing.

use std::{collections::BTreeMap, sync::Arc, time::Duration, time::Instant};

use anyhow::{anyhow, bail, Context};
use clap::Parser;
use millwright::{admin, config::Config, server};
use millwright_connectors::{ConnectionContext, Connector, Credentials, ListRequest, Registry};
use millwright_core::{credits::Deployment, crypto::Key, Entity};
use millwright_sim::{SimHandle, SimOptions, System};
use serde_json::{json, Value};

#[derive(Parser, Debug)]
#[command(about = "Connector fetch/map and initial-sync ingest rates, as ratios")]
struct Args {
    /// Work orders the simulators serve.
    #[arg(long, default_value_t = 100_000)]
    scale: usize,
    /// Timed (a)/(b) pairs per system.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Simulated systems for (a)/(b), comma-separated.
    #[arg(long, default_value = "maintainx,maximo,sap", value_delimiter = ',')]
    systems: Vec<System>,
    /// Skip the end-to-end ingest (c).
    #[arg(long)]
    no_ingest: bool,
}

/// One timed pass: records seen and seconds taken.
#[derive(Clone, Copy, Debug)]
struct Pass {
    records: usize,
    secs: f64,
}

impl Pass {
    fn rate(&self) -> f64 {
        self.records as f64 / self.secs
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// The connector id and credentials that reach `sim` as its default account.
fn credentials(system: System, sim: &SimHandle) -> (&'static str, Credentials) {
    let base = sim.base_url();
    let fields: Vec<(&str, &str)> = match system {
        System::Maintainx => vec![
            ("base_url", &base),
            ("api_key", millwright_sim::maintainx::DEFAULT_API_KEY),
        ],
        System::Maximo => vec![
            ("base_url", &base),
            ("api_key", millwright_sim::maximo::DEFAULT_API_KEY),
        ],
        System::Sap => vec![
            ("base_url", &base),
            ("username", millwright_sim::sap::DEFAULT_USERNAME),
            ("password", millwright_sim::sap::DEFAULT_PASSWORD),
            ("client", millwright_sim::sap::DEFAULT_CLIENT),
        ],
    };
    let id = match system {
        System::Maintainx => "maintainx",
        System::Maximo => "maximo",
        System::Sap => "sap_s4hana",
    };
    let map: BTreeMap<String, String> = fields
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (id, Credentials(map))
}

/// The largest page each vendor allows, as the connectors clamp it.
fn page_size(system: System) -> u32 {
    match system {
        System::Maintainx => millwright_connectors::maintainx::client::MAX_PAGE_SIZE,
        System::Maximo => millwright_connectors::maximo::client::MAX_PAGE_SIZE,
        System::Sap => millwright_connectors::sap::client::MAX_PAGE_SIZE,
    }
}

/// GETs `url` and parses the body into a `Value`; any non-2xx is an error (a benchmark that
/// counts error pages as records would lie).
async fn get_json(req: reqwest::RequestBuilder) -> anyhow::Result<Value> {
    let resp = req.send().await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    if !status.is_success() {
        bail!("{status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(serde_json::from_slice(&body)?)
}

/// (a): every work order of `sim`, with the URLs the connector would send for a full read, each
/// page parsed into a `Value` and nothing more.
async fn raw_pass(http: &reqwest::Client, system: System, sim: &SimHandle) -> anyhow::Result<Pass> {
    let base = sim.base_url();
    let size = page_size(system);
    let started = Instant::now();
    let mut records = 0;
    match system {
        System::Maintainx => {
            // The connector asks for `expand=extra_fields` (custom fields), so the raw pass
            // fetches the same, larger, pages.
            let url = format!("{base}/v1/workorders");
            let key = millwright_sim::maintainx::DEFAULT_API_KEY;
            let mut cursor: Option<String> = None;
            loop {
                let mut req = http
                    .get(&url)
                    .bearer_auth(key)
                    .query(&[("limit", size.to_string().as_str())]);
                if let Some(c) = &cursor {
                    req = req.query(&[("cursor", c)]);
                }
                let page = get_json(req.query(&[("expand", "extra_fields")])).await?;
                records += page["workOrders"]
                    .as_array()
                    .ok_or_else(|| anyhow!("no workOrders"))?
                    .len();
                cursor = match &page["nextCursor"] {
                    Value::String(c) if !c.is_empty() => Some(c.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                };
                if cursor.is_none() {
                    break;
                }
            }
        }
        System::Maximo => {
            let url = format!("{base}/maximo/api/os/mxapiwodetail");
            let mut pageno = 1u32;
            loop {
                let req = http
                    .get(&url)
                    .header("apikey", millwright_sim::maximo::DEFAULT_API_KEY)
                    .header("accept", "application/json")
                    .query(&[
                        ("lean", "1"),
                        ("oslc.select", "*"),
                        ("oslc.pageSize", &size.to_string()),
                        ("pageno", &pageno.to_string()),
                    ]);
                let page = get_json(req).await?;
                records += page["member"]
                    .as_array()
                    .ok_or_else(|| anyhow!("no member"))?
                    .len();
                if page
                    .pointer("/responseInfo/nextPage")
                    .is_none_or(Value::is_null)
                {
                    break;
                }
                pageno += 1;
            }
        }
        System::Sap => {
            // A full read as the connector pages it: by key, `$top`, `Key gt 'last'` (or the
            // server's `__next` when it sends one).
            let set =
                format!("{base}/sap/opu/odata/sap/API_MAINTENANCEORDER;v=0002/MaintenanceOrder");
            let mut after: Option<String> = None;
            let mut next: Option<String> = None;
            loop {
                let req = match &next {
                    Some(url) => http.get(url),
                    None => {
                        let mut q = vec![
                            (
                                "sap-client",
                                millwright_sim::sap::DEFAULT_CLIENT.to_string(),
                            ),
                            ("$format", "json".to_string()),
                            ("$top", size.to_string()),
                        ];
                        if let Some(k) = &after {
                            q.push(("$filter", format!("MaintenanceOrder gt '{k}'")));
                        }
                        q.push(("$orderby", "MaintenanceOrder asc".to_string()));
                        http.get(&set).query(&q)
                    }
                };
                let page = get_json(
                    req.basic_auth(
                        millwright_sim::sap::DEFAULT_USERNAME,
                        Some(millwright_sim::sap::DEFAULT_PASSWORD),
                    )
                    .header("accept", "application/json"),
                )
                .await?;
                let results = page["d"]["results"]
                    .as_array()
                    .ok_or_else(|| anyhow!("no d.results"))?;
                records += results.len();
                next = page["d"]["__next"].as_str().map(str::to_owned);
                if next.is_none() {
                    if results.len() < size as usize {
                        break;
                    }
                    after = results
                        .last()
                        .and_then(|r| r["MaintenanceOrder"].as_str())
                        .map(str::to_owned);
                }
            }
        }
    }
    Ok(Pass {
        records,
        secs: started.elapsed().as_secs_f64(),
    })
}

/// (b): every work order through the connector's `list`, page after page, as the sync engine
/// calls it (minus the store).
async fn mapped_pass(
    connector: &dyn Connector,
    ctx: &ConnectionContext,
    system: System,
) -> anyhow::Result<Pass> {
    let started = Instant::now();
    let mut records = 0;
    let mut req = ListRequest {
        entity: Entity::WorkOrders,
        cursor: None,
        modified_since: None,
        page_size: page_size(system),
    };
    loop {
        let page = connector.list(ctx, &req).await?;
        records += page.records.len();
        match page.next_cursor {
            Some(c) => req.cursor = Some(c),
            None => break,
        }
    }
    Ok(Pass {
        records,
        secs: started.elapsed().as_secs_f64(),
    })
}

/// What one end-to-end initial sync took.
struct Ingest {
    records: i64,
    /// From the connect call to the poll that saw the run completed.
    wall_secs: f64,
    /// The run's own `started_at` → `finished_at`.
    run_secs: f64,
}

/// (c): a fresh server on `database_url` (SQLite in a temp dir when `None`), a workspace, the
/// MaintainX simulator connected over the API; waits for the initial work-order run.
async fn ingest(sim: &SimHandle, database_url: Option<String>) -> anyhow::Result<Ingest> {
    let dir = tempfile::tempdir()?;
    let master = Key::generate();
    let config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        database_url,
        master_key: Some(master.to_base64()),
        rate_limit_per_minute: 0,
        ..Config::default()
    };
    let server = server::start(config, server::Role::All).await?;
    let base = server.base_url();
    let (_, key) =
        admin::create_workspace(server.store.as_ref(), &master, "bench", None, None).await?;
    let http = reqwest::Client::new();
    let started = Instant::now();
    let created = get_json(
        http.post(format!("{base}/api/v1/connections"))
            .bearer_auth(&key)
            .json(&json!({
                "connector": "maintainx",
                "name": "bench",
                "credentials": {
                    "base_url": sim.base_url(),
                    "api_key": millwright_sim::maintainx::DEFAULT_API_KEY,
                },
                "sync": {"entities": ["work_orders"], "history_days": 3650},
            })),
    )
    .await
    .context("connecting the simulator")?;
    let id = created["connection"]["id"]
        .as_str()
        .ok_or_else(|| anyhow!("no connection id in {created}"))?
        .to_string();
    let run = loop {
        // A slow poll: every poll is a request on the same cores as the ingest.
        tokio::time::sleep(Duration::from_millis(250)).await;
        let runs = get_json(
            http.get(format!("{base}/api/v1/connections/{id}/syncs"))
                .bearer_auth(&key),
        )
        .await?;
        let done = runs["data"].as_array().and_then(|rs| {
            rs.iter()
                .find(|r| r["entity"] == "work_orders" && r["status"] != "running")
                .cloned()
        });
        if let Some(run) = done {
            break run;
        }
        if started.elapsed() > Duration::from_secs(1800) {
            bail!("the initial sync did not end within 30 minutes");
        }
    };
    let wall_secs = started.elapsed().as_secs_f64();
    if run["status"] != "completed" {
        bail!("the initial sync ended {run}");
    }
    let ts = |field: &str| -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
        let text = run[field]
            .as_str()
            .ok_or_else(|| anyhow!("run has no {field}"))?;
        Ok(chrono::DateTime::parse_from_rfc3339(text)?.with_timezone(&chrono::Utc))
    };
    let run_secs = (ts("finished_at")? - ts("started_at")?).as_seconds_f64();
    let records = run["created"].as_i64().unwrap_or(0);
    server.shutdown().await;
    Ok(Ingest {
        records,
        wall_secs,
        run_secs,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let registry = Registry::standard();
    let http = reqwest::Client::new();
    let opts = SimOptions {
        seed: 7,
        scale: args.scale,
    };
    println!(
        "bench_sync: scale {}, {} rounds, {} cores, {}",
        args.scale,
        args.rounds,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        chrono::Utc::now().format("%Y-%m-%dT%H:%MZ")
    );

    // The MaintainX simulator outlives its (a)/(b) so that the ingest reads the same source.
    let mut maintainx: Option<(SimHandle, Arc<dyn Connector>, ConnectionContext)> = None;
    let mut table = Vec::new();
    for &system in &args.systems {
        let sim = millwright_sim::spawn(system, opts).await?;
        let (id, credentials) = credentials(system, &sim);
        let connector = registry
            .connector(id)
            .ok_or_else(|| anyhow!("no connector {id}"))?;
        let ctx = ConnectionContext {
            deployment: Deployment::Cloud,
            credentials,
        };
        // Warm-up: connection pools, allocator, page cache of the binary.
        raw_pass(&http, system, &sim).await?;
        let (mut raw, mut mapped) = (Vec::new(), Vec::new());
        for round in 0..args.rounds {
            // Alternate which goes first, so a drift in background load hits both alike.
            let (a, b) = if round % 2 == 0 {
                let a = raw_pass(&http, system, &sim).await?;
                (a, mapped_pass(connector.as_ref(), &ctx, system).await?)
            } else {
                let b = mapped_pass(connector.as_ref(), &ctx, system).await?;
                (raw_pass(&http, system, &sim).await?, b)
            };
            if a.records != args.scale || b.records != args.scale {
                bail!(
                    "{system}: expected {} records, raw saw {}, mapped saw {}",
                    args.scale,
                    a.records,
                    b.records
                );
            }
            println!(
                "  {system} round {}: raw {:>8.0} rec/s ({:.2} s)  mapped {:>8.0} rec/s ({:.2} s)  b/a {:.2}",
                round + 1,
                a.rate(),
                a.secs,
                b.rate(),
                b.secs,
                b.rate() / a.rate()
            );
            raw.push(a.rate());
            mapped.push(b.rate());
        }
        let (a, b) = (median(raw), median(mapped));
        table.push((system, a, b));
        if system == System::Maintainx {
            maintainx = Some((sim, connector, ctx));
        } else {
            sim.shutdown().await;
        }
    }

    println!();
    println!("work orders, scale {}, largest page; medians", args.scale);
    println!(
        "{:<10} {:>6} {:>14} {:>14} {:>12}",
        "system", "page", "raw rec/s (a)", "mapped (b)", "b/a"
    );
    for (system, a, b) in &table {
        println!(
            "{:<10} {:>6} {:>14.0} {:>14.0} {:>12.2}",
            system.as_str(),
            page_size(*system),
            a,
            b,
            b / a
        );
    }

    if args.no_ingest {
        return Ok(());
    }
    let Some((sim, connector, ctx)) = maintainx else {
        bail!("the ingest needs maintainx among --systems");
    };
    let mut backends: Vec<(&str, Option<String>)> = vec![("sqlite", None)];
    if std::env::var(millwright_store_postgres::testing::TEST_URL_ENV)
        .is_ok_and(|v| !v.trim().is_empty())
    {
        backends.push((
            "postgres",
            Some(millwright_store_postgres::testing::fresh_database().await),
        ));
    } else {
        println!(
            "(PostgreSQL skipped: {} is not set)",
            millwright_store_postgres::testing::TEST_URL_ENV
        );
    }
    let mut rows = Vec::new();
    for (name, url) in backends {
        let before = mapped_pass(connector.as_ref(), &ctx, System::Maintainx).await?;
        let c = ingest(&sim, url).await?;
        let after = mapped_pass(connector.as_ref(), &ctx, System::Maintainx).await?;
        if c.records as usize != args.scale {
            bail!(
                "{name}: the sync created {} records, not {}",
                c.records,
                args.scale
            );
        }
        let b = (before.rate() + after.rate()) / 2.0;
        println!(
            "  {name}: mapped before {:.0} rec/s, after {:.0} rec/s; ingest run {:.1} s, wall {:.1} s",
            before.rate(),
            after.rate(),
            c.run_secs,
            c.wall_secs
        );
        rows.push((name, b, c));
    }
    println!();
    println!(
        "MaintainX initial sync of {} work orders (b = mean of the mapped passes just before and after)",
        args.scale
    );
    println!(
        "{:<9} {:>12} {:>14} {:>8} {:>15} {:>8}",
        "store", "mapped (b)", "ingest (run)", "c/b", "ingest (wall)", "c/b"
    );
    for (name, b, c) in rows {
        let run_rate = c.records as f64 / c.run_secs;
        let wall_rate = c.records as f64 / c.wall_secs;
        println!(
            "{:<9} {:>12.0} {:>14.0} {:>8.2} {:>15.0} {:>8.2}",
            name,
            b,
            run_rate,
            run_rate / b,
            wall_rate,
            wall_rate / b
        );
    }
    sim.shutdown().await;
    Ok(())
}
