//! The command line (spec §1).

use std::{io::Read, path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::{
    admin,
    config::{Config, FlagOverrides},
    master_key,
    server::{self, Role},
};

#[derive(Parser, Debug)]
#[command(
    name = "millwright",
    version,
    about = "One self-hostable API over CMMS, EAM and ERP systems."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Settings every command accepts (flag > `MILLWRIGHT_*` env > `--config` file > default).
#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// TOML configuration file.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Address to listen on [env MILLWRIGHT_LISTEN; default 127.0.0.1:8080].
    #[arg(long, global = true)]
    pub listen: Option<String>,
    /// Data directory [env MILLWRIGHT_DATA_DIR; default ./millwright-data].
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// sqlite://… or postgres://… [env MILLWRIGHT_DATABASE_URL; default sqlite://<data-dir>/millwright.db].
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// URL clients use to reach this server [env MILLWRIGHT_PUBLIC_URL; default http://<listen>].
    #[arg(long, global = true)]
    pub public_url: Option<String>,
    /// Allow loopback and private webhook targets [env MILLWRIGHT_ALLOW_PRIVATE_WEBHOOK_TARGETS].
    #[arg(long, global = true)]
    pub allow_private_webhook_targets: bool,
    /// Requests a minute per token and per workspace key; 0 = off [env MILLWRIGHT_RATE_LIMIT_PER_MINUTE; default 600].
    #[arg(long, global = true)]
    pub rate_limit_per_minute: Option<u64>,
    /// `text` or `json` [env MILLWRIGHT_LOG_FORMAT].
    #[arg(long, global = true)]
    pub log_format: Option<String>,
}

impl GlobalArgs {
    pub fn overrides(&self) -> FlagOverrides {
        FlagOverrides {
            listen: self.listen.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            public_url: self.public_url.clone(),
            allow_private_webhook_targets: self.allow_private_webhook_targets.then_some(true),
            rate_limit_per_minute: self.rate_limit_per_minute,
            log_format: self.log_format.clone(),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// API, workers and web pages in one process.
    Serve {
        #[arg(long, value_enum, default_value = "all")]
        role: Role,
    },
    /// Everything on a fresh embedded database with the vendor simulators, ready to try.
    Demo,
    /// Applies database migrations and exits.
    Migrate,
    /// Workspace administration.
    Workspace {
        #[command(subcommand)]
        command: WorkspaceCommand,
    },
    /// Dashboard user administration.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Runs one vendor simulator.
    Sim {
        /// `maintainx`
        system: String,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Records per entity.
        #[arg(long, default_value_t = 50)]
        scale: usize,
    },
}

#[derive(Subcommand, Debug)]
pub enum WorkspaceCommand {
    /// Creates a workspace; prints {"workspace_id", "secret_key"}. `--rate-limit-per-minute N`
    /// here sets this workspace's own limit (0 = off).
    Create {
        #[arg(long)]
        name: String,
        /// Credit pool (default 10).
        #[arg(long)]
        credits: Option<i64>,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Creates a dashboard user; the password is read from standard input.
    Create {
        #[arg(long)]
        workspace: String,
        #[arg(long)]
        email: String,
        /// Read the password from standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.global.config.as_deref(), &cli.global.overrides()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: configuration: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config.log_format);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.command, config, cli.global)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: &str) {
    use tracing_subscriber::{fmt, EnvFilter};
    let filter = EnvFilter::try_from_env("MILLWRIGHT_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(command: Command, config: Config, global: GlobalArgs) -> anyhow::Result<()> {
    match command {
        Command::Serve { role } => {
            let running = server::start(config, role).await?;
            shutdown_signal().await;
            tracing::info!("shutting down");
            running.shutdown().await;
            Ok(())
        }
        Command::Demo => crate::demo::run(config).await,
        Command::Migrate => {
            let store = server::open_store(&config).await?;
            let r = store.readiness().await?;
            println!(
                "{} migrations applied ({})",
                r.applied_migrations,
                store.backend()
            );
            Ok(())
        }
        Command::Workspace {
            command: WorkspaceCommand::Create { name, credits },
        } => {
            let ws_rate_limit = global.rate_limit_per_minute.map(|r| r as i64);
            let store = server::open_store(&config).await?;
            let key = master_key::load(config.master_key.as_deref(), &config.data_dir)?;
            let (ws, secret_key) =
                admin::create_workspace(store.as_ref(), &key, &name, credits, ws_rate_limit)
                    .await?;
            println!(
                "{}",
                serde_json::json!({"workspace_id": ws.id, "secret_key": secret_key})
            );
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Create {
                    workspace,
                    email,
                    password_stdin: _,
                },
        } => {
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from stdin")?;
            let password = password.trim_end_matches(['\n', '\r']);
            let store = server::open_store(&config).await?;
            let user = admin::create_user(store.as_ref(), &workspace, &email, password).await?;
            println!(
                "{}",
                serde_json::json!({"user_id": user.id, "workspace_id": user.workspace_id, "email": user.email})
            );
            Ok(())
        }
        Command::Sim {
            system,
            seed,
            scale,
        } => {
            let system: millwright_sim::System = system
                .parse()
                .map_err(|_| anyhow::anyhow!("unknown simulator `{system}`; try maintainx"))?;
            let addr = config.listen;
            let listener = tokio::net::TcpListener::bind(&addr)
                .await
                .with_context(|| format!("binding {addr}"))?;
            tracing::info!(
                "simulator {system:?} listening on http://{}",
                listener.local_addr()?
            );
            tokio::select! {
                r = millwright_sim::serve(system, listener, millwright_sim::SimOptions { seed, scale }) => r?,
                _ = shutdown_signal() => {}
            }
            Ok(())
        }
    }
}

/// SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}
