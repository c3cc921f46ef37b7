//! `millwright demo`: the server on a fresh embedded database, the vendor simulators on
//! loopback, a workspace with a dashboard user, every simulated system connected through the
//! real API and its first sync run — then what to open and a ready `curl` line.

use std::time::{Duration, Instant};

use anyhow::Context;
use millwright_sim::{SimHandle, SimOptions, System};
use serde_json::{json, Value};

use crate::{admin, config::Config, master_key, server};

struct Demo {
    system: System,
    sim: SimHandle,
    connection_id: String,
    token: String,
}

pub async fn run(mut config: Config) -> anyhow::Result<()> {
    let started = Instant::now();
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    config.data_dir =
        std::env::temp_dir().join(format!("millwright-demo-{stamp}-{}", std::process::id()));
    config.database_url = None;
    std::fs::create_dir_all(&config.data_dir)?;
    if config.master_key.is_none() {
        config.master_key = Some(millwright_core::crypto::Key::generate().to_base64());
    }
    let key = master_key::load(config.master_key.as_deref(), &config.data_dir)?;
    let running = server::start(config.clone(), server::Role::All).await?;
    let base = running.base_url();

    let (ws, secret_key) = admin::create_workspace(
        running.store.as_ref(),
        &key,
        "Demo workspace",
        Some(20),
        None,
    )
    .await?;
    let password = millwright_core::secrets::new_workspace_key()[6..22].to_string();
    let user = admin::create_user(
        running.store.as_ref(),
        &ws.id,
        "demo@millwright.local",
        &password,
    )
    .await?;

    let http = reqwest::Client::new();
    let mut demos = Vec::new();
    for (system, connector, name, credentials) in [
        (
            System::Maintainx,
            "maintainx",
            "Acme Plant 4 (MaintainX)",
            json!({"api_key": millwright_sim::maintainx::DEFAULT_API_KEY}),
        ),
        (
            System::Maximo,
            "maximo",
            "Globex Refinery (Maximo)",
            json!({"api_key": millwright_sim::maximo::DEFAULT_API_KEY}),
        ),
        (
            System::Sap,
            "sap_s4hana",
            "Initech Plant 1010 (SAP S/4HANA)",
            json!({"username": millwright_sim::sap::DEFAULT_USERNAME, "password": millwright_sim::sap::DEFAULT_PASSWORD, "client": millwright_sim::sap::DEFAULT_CLIENT}),
        ),
    ] {
        let sim = millwright_sim::spawn(system, SimOptions::default())
            .await
            .with_context(|| format!("starting the {system} simulator"))?;
        let mut credentials = credentials;
        credentials["base_url"] = json!(sim.base_url());
        let created: Value = http
            .post(format!("{base}/api/v1/connections"))
            .bearer_auth(&secret_key)
            .json(&json!({"connector": connector, "name": name, "credentials": credentials, "metadata": {"demo": "true"}}))
            .send()
            .await?
            .error_for_status()
            .with_context(|| format!("connecting the {system} simulator"))?
            .json()
            .await?;
        demos.push(Demo {
            system,
            sim,
            connection_id: created["connection"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            token: created["access_token"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        });
    }

    // Wait for the first sync of every connection (a minute at most; the demo data is small).
    eprintln!("running the first sync of {} connections…", demos.len());
    for d in &demos {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status: Value = http
                .get(format!("{base}/api/v1/sync-status"))
                .bearer_auth(&d.token)
                .send()
                .await?
                .json()
                .await?;
            let entities = status["data"].as_array().cloned().unwrap_or_default();
            if !entities.is_empty()
                && entities
                    .iter()
                    .all(|e| e["status"] == "completed" || e["status"] == "failed")
            {
                break;
            }
            if Instant::now() > deadline {
                eprintln!(
                    "the first sync of {} is still running; data will appear as it lands",
                    d.system
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    let first = &demos[0];
    println!();
    println!(
        "Millwright demo is running (ready in {:.1} s).",
        started.elapsed().as_secs_f64()
    );
    println!("  data dir:         {}", config.data_dir.display());
    println!("  API:              {base}/api/v1   (reference: {base}/docs)");
    println!("  dashboard:        {base}/dashboard");
    println!("  dashboard login:  {} / {password}", user.email);
    println!("  workspace:        {}", ws.id);
    println!("  secret key:       {secret_key}");
    for d in &demos {
        println!(
            "  {:<17} connection {} via {}",
            format!("{}:", d.system),
            d.connection_id,
            d.sim.base_url()
        );
    }
    println!("  connection token: {}   ({})", first.token, first.system);
    println!();
    println!("Try:");
    println!(
        "  curl -s -H 'Authorization: Bearer {}' '{base}/api/v1/work-orders?page_size=5'",
        first.token
    );
    println!("  curl -s -H 'Authorization: Bearer {secret_key}' {base}/api/v1/connections");
    println!("  curl -s -H 'Authorization: Bearer {secret_key}' '{base}/api/v1/events?type=sync.completed'");
    println!();
    println!("Press Ctrl-C to stop.");

    crate::cli::shutdown_signal().await;
    running.shutdown().await;
    for d in demos {
        d.sim.shutdown().await;
    }
    Ok(())
}
