//! Boots Millwright: storage, migrations, keys, the HTTP server and the workers.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use millwright_api::{request_log::RequestLogger, ApiConfig, AppState};
use millwright_connectors::Registry;
use millwright_core::keyring::Keyring;
use millwright_store::Store;
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

use crate::{
    config::Config,
    master_key, storage,
    worker::{Worker, WorkerConfig},
};
use millwright_health::{Prober, ProberConfig, StatusEvaluator};
use millwright_sync::{Engine, EngineConfig};
use millwright_webhooks::dispatcher::{Dispatcher, DispatcherConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// API and workers in one process.
    All,
    /// Only the HTTP API.
    Api,
    /// Only background workers.
    Worker,
}

/// A started server. Dropping it does not stop it; call [`RunningServer::shutdown`].
pub struct RunningServer {
    /// The bound address (`None` for a worker-only node).
    pub addr: Option<SocketAddr>,
    pub store: Arc<dyn Store>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningServer {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr.expect("this node serves HTTP"))
    }

    /// Stops accepting requests, lets in-flight ones finish, flushes request logs, stops workers.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Opens the store and applies migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store = storage::open(&config.database_url()).await?;
    store
        .migrate()
        .await
        .context("applying database migrations")?;
    Ok(store)
}

/// Starts the server and returns once it accepts requests.
pub async fn start(config: Config, role: Role) -> anyhow::Result<RunningServer> {
    // Before anything records: series recorded with no recorder installed are lost.
    millwright_api::metrics::install();
    let store = open_store(&config).await?;
    let key = master_key::load(config.master_key.as_deref(), &config.data_dir)?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let mut addr = None;
    let mut on_connection_change: Option<millwright_sync::ConnectionChanged> = None;
    let connectors = Arc::new(Registry::standard());
    let keyring = Arc::new(Keyring::new(key));

    if role != Role::Worker {
        let listener = TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let bound = listener.local_addr()?;
        let public_url = if config.public_url.is_some() {
            config.public_url()
        } else {
            format!("http://{bound}")
        };
        let (logger, log_writer) = RequestLogger::spawn(store.clone());
        let state = AppState::new(
            store.clone(),
            connectors.clone(),
            keyring.clone(),
            logger,
            ApiConfig {
                max_body_bytes: config.max_body_bytes,
                rate_limit_per_minute: config.rate_limit_per_minute,
                public_url,
                allow_private_webhook_targets: config.allow_private_webhook_targets,
                operator_workspace_id: config.operator_workspace_id.clone(),
            },
        );
        let limiter = state.rate_limiter.clone();
        let auth = state.auth.clone();
        on_connection_change = Some(Arc::new(move |id: &str| auth.invalidate_connection(id)));
        // The JSON API and the browser-facing pages (dashboard, Link, status page) share one
        // listener and one state.
        let app = millwright_api::router(state.clone()).merge(millwright_web::router(state));
        let mut rx = shutdown_rx.clone();
        tasks.push(tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = rx.wait_for(|s| *s).await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "HTTP server failed");
            }
            // Every sender is gone with the router: the writer drains and ends.
            let _ = log_writer.await;
        }));
        let mut rx = shutdown_rx.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => limiter.sweep(),
                    _ = rx.wait_for(|s| *s) => return,
                }
            }
        }));
        // The gauges come from the shared database, so any node can compute them; they are
        // refreshed where `/metrics` is served, since a worker-only node has no page to show
        // them on.
        tasks.push(tokio::spawn(millwright_api::metrics::refresh_gauges(
            store.clone(),
            std::time::Duration::from_secs(config.metrics_refresh_seconds.max(1)),
            shutdown_rx.clone(),
        )));
        tracing::info!("listening on http://{bound}");
        addr = Some(bound);
    }

    if role != Role::Api {
        // Probes change connection states like syncs do, so they drop the same caches.
        let prober = Prober::new(
            store.clone(),
            connectors.clone(),
            keyring.clone(),
            ProberConfig {
                probe_every: chrono::Duration::seconds(config.probe_interval_seconds.max(1) as i64),
                on_connection_change: on_connection_change.clone(),
                ..ProberConfig::default()
            },
        );
        let engine = Engine::new(
            store.clone(),
            connectors.clone(),
            keyring.clone(),
            EngineConfig {
                on_connection_change,
                ..EngineConfig::default()
            },
        );
        let worker = Worker::new(
            store.clone(),
            Some(Arc::new(engine)),
            WorkerConfig {
                request_log_retention_days: config.request_log_retention_days,
                lease: chrono::Duration::seconds(config.job_lease_seconds.max(1) as i64),
                ..WorkerConfig::default()
            },
        )
        .with_prober(Arc::new(prober))
        .with_status_evaluator(Arc::new(StatusEvaluator::new(
            store.clone(),
            connectors.clone(),
            config.status_thresholds(),
        )));
        tasks.push(tokio::spawn(worker.run(shutdown_rx.clone())));
        let dispatcher = Dispatcher::new(
            store.clone(),
            keyring.clone(),
            DispatcherConfig {
                allow_private: config.allow_private_webhook_targets,
                lease: chrono::Duration::seconds(config.webhook_lease_seconds.max(1) as i64),
                ..DispatcherConfig::default()
            },
        );
        tasks.push(tokio::spawn(dispatcher.run(shutdown_rx.clone())));
    }

    Ok(RunningServer {
        addr,
        store,
        shutdown: shutdown_tx,
        tasks,
    })
}
