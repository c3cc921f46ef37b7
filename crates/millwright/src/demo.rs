//! `millwright demo`: the server on a fresh embedded database, the vendor simulators on
//! loopback, a workspace with a dashboard user, and every simulated system connected through
//! the real API — then what to open and a ready `curl` line.

use anyhow::Context;
use serde_json::{json, Value};

use crate::{admin, config::Config, master_key, server};

pub async fn run(mut config: Config) -> anyhow::Result<()> {
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    config.data_dir =
        std::env::temp_dir().join(format!("millwright-demo-{stamp}-{}", std::process::id()));
    config.database_url = None;
    std::fs::create_dir_all(&config.data_dir)?;
    if config.master_key.is_none() {
        config.master_key = Some(millwright_core::crypto::Key::generate().to_base64());
    }

    let maintainx = millwright_sim::spawn(
        millwright_sim::System::Maintainx,
        millwright_sim::SimOptions::default(),
    )
    .await
    .context("starting the MaintainX simulator")?;

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
    let created: Value = http
        .post(format!("{base}/api/v1/connections"))
        .bearer_auth(&secret_key)
        .json(&json!({
            "connector": "maintainx",
            "name": "Acme Plant 4 (MaintainX simulator)",
            "credentials": {"base_url": maintainx.base_url(), "api_key": millwright_sim::maintainx::DEFAULT_API_KEY},
            "metadata": {"customer": "acme", "site": "plant-4"}
        }))
        .send()
        .await?
        .error_for_status()
        .context("connecting the MaintainX simulator")?
        .json()
        .await?;
    let token = created["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let connection_id = created["connection"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    println!();
    println!("Millwright demo is running.");
    println!("  data dir:         {}", config.data_dir.display());
    println!("  API:              {base}/api/v1   (reference: {base}/docs)");
    println!("  dashboard login:  {} / {password}", user.email);
    println!("  workspace:        {}", ws.id);
    println!("  secret key:       {secret_key}");
    println!(
        "  MaintainX sim:    {} (connection {connection_id})",
        maintainx.base_url()
    );
    println!("  connection token: {token}");
    println!();
    println!("Try:");
    println!("  curl -s -H 'Authorization: Bearer {token}' {base}/api/v1/connection");
    println!("  curl -s -H 'Authorization: Bearer {secret_key}' {base}/api/v1/connections");
    println!();
    println!("Press Ctrl-C to stop.");

    crate::cli::shutdown_signal().await;
    running.shutdown().await;
    maintainx.shutdown().await;
    Ok(())
}
