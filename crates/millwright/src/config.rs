//! Configuration: defaults < TOML file (`--config`) < `MILLWRIGHT_*` environment < flags.

use std::path::{Path, PathBuf};

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Config {
    /// Address the HTTP server binds.
    pub listen: String,
    /// Where the SQLite database and the generated master key live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default `sqlite://<data_dir>/millwright.db`.
    pub database_url: Option<String>,
    /// How clients reach this server; default `http://<listen>`.
    pub public_url: Option<String>,
    /// Base64 of 32 bytes; generated into the data dir when unset.
    pub master_key: Option<String>,
    /// Allow loopback and private addresses as webhook targets (development only).
    pub allow_private_webhook_targets: bool,
    /// Requests a minute per connection token and per workspace key; 0 turns limiting off.
    pub rate_limit_per_minute: u64,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Days request logs are kept.
    pub request_log_retention_days: u32,
    /// Seconds between two health probes of a connection, jittered by ±20 % so probes spread
    /// out; each probe is one light authenticated call to the source.
    pub probe_interval_seconds: u64,
    /// `text` or `json` log lines.
    pub log_format: String,
    /// Seconds a worker leases a claimed job (a sync run, a purge) before another node may take
    /// it over; a crashed worker's jobs resume after this long.
    pub job_lease_seconds: u64,
    /// Seconds a node leases a webhook delivery it is sending (more than the 10 s request
    /// limit); a crashed node's deliveries are sent again after this long.
    pub webhook_lease_seconds: u64,
    /// Seconds between refreshes of the `/metrics` gauges read from the database (queue depth
    /// and lag, connections by status); each refresh is two grouped queries.
    pub metrics_refresh_seconds: u64,
    /// Seconds between two evaluations of the status page's components (see "Health model"
    /// in docs/operations.md for the thresholds below).
    pub status_interval_seconds: u64,
    /// Seconds a component stays non-operational (maintenance aside) before an automatic
    /// incident opens.
    pub incident_open_after_seconds: u64,
    /// Seconds of request logs the `api` component looks back over.
    pub status_window_seconds: u64,
    /// Fewer requests than this in the window leave the `api` component operational.
    pub status_api_min_requests: i64,
    /// Share of requests failing with a platform 5xx for degraded / partial / major `api`.
    pub status_api_degraded_share: f64,
    pub status_api_partial_share: f64,
    pub status_api_major_share: f64,
    /// Seconds the oldest due sync job or webhook delivery waits for degraded / partial /
    /// major `sync` and `webhooks`.
    pub status_queue_lag_degraded_seconds: u64,
    pub status_queue_lag_partial_seconds: u64,
    pub status_queue_lag_major_seconds: u64,
    /// Share of a connector's connections offline for a partial / major outage of its
    /// component (all of them offline is always major).
    pub status_connector_partial_share: f64,
    pub status_connector_major_share: f64,
    /// The workspace whose incidents and maintenances are the platform's, shown on the public
    /// `/status` page; other workspaces' show only on their own page.
    pub operator_workspace_id: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./millwright-data"),
            database_url: None,
            public_url: None,
            master_key: None,
            allow_private_webhook_targets: false,
            rate_limit_per_minute: 600,
            max_body_bytes: 1024 * 1024,
            request_log_retention_days: 14,
            probe_interval_seconds: 300,
            log_format: "text".into(),
            job_lease_seconds: 600,
            webhook_lease_seconds: 60,
            metrics_refresh_seconds: 15,
            status_interval_seconds: 60,
            incident_open_after_seconds: 300,
            status_window_seconds: 300,
            status_api_min_requests: 20,
            status_api_degraded_share: 0.05,
            status_api_partial_share: 0.25,
            status_api_major_share: 0.5,
            status_queue_lag_degraded_seconds: 120,
            status_queue_lag_partial_seconds: 600,
            status_queue_lag_major_seconds: 1800,
            status_connector_partial_share: 0.25,
            status_connector_major_share: 0.75,
            operator_workspace_id: None,
        }
    }
}

/// Keys read from the environment as `MILLWRIGHT_<KEY>`.
const ENV_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "public_url",
    "master_key",
    "allow_private_webhook_targets",
    "rate_limit_per_minute",
    "max_body_bytes",
    "request_log_retention_days",
    "probe_interval_seconds",
    "log_format",
    "job_lease_seconds",
    "webhook_lease_seconds",
    "metrics_refresh_seconds",
    "status_interval_seconds",
    "incident_open_after_seconds",
    "status_window_seconds",
    "status_api_min_requests",
    "status_api_degraded_share",
    "status_api_partial_share",
    "status_api_major_share",
    "status_queue_lag_degraded_seconds",
    "status_queue_lag_partial_seconds",
    "status_queue_lag_major_seconds",
    "status_connector_partial_share",
    "status_connector_major_share",
    "operator_workspace_id",
];

/// Values given as flags; only the `Some` ones override.
#[derive(Debug, Default, Clone, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_private_webhook_targets: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_minute: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
}

impl Config {
    /// Loads the configuration in precedence order: flags, environment, file, defaults.
    pub fn load(file: Option<&Path>, flags: &FlagOverrides) -> Result<Config, Box<figment::Error>> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(Box::new(figment::Error::from(format!(
                    "config file {} does not exist",
                    f.display()
                ))));
            }
            fig = fig.merge(Toml::file(f));
        }
        fig.merge(Env::prefixed("MILLWRIGHT_").only(ENV_KEYS))
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(Box::new)
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!("sqlite://{}", self.data_dir.join("millwright.db").display())
        })
    }

    /// The status evaluator's thresholds from the `status_*` and `incident_*` keys.
    pub fn status_thresholds(&self) -> millwright_health::StatusThresholds {
        let secs = |s: u64| chrono::Duration::seconds(s.min(i64::MAX as u64) as i64);
        millwright_health::StatusThresholds {
            interval: secs(self.status_interval_seconds.max(1)),
            incident_open_after: secs(self.incident_open_after_seconds),
            window: secs(self.status_window_seconds.max(1)),
            api_min_requests: self.status_api_min_requests,
            api_error_share: [
                self.status_api_degraded_share,
                self.status_api_partial_share,
                self.status_api_major_share,
            ],
            queue_lag: [
                secs(self.status_queue_lag_degraded_seconds),
                secs(self.status_queue_lag_partial_seconds),
                secs(self.status_queue_lag_major_seconds),
            ],
            connector_partial_share: self.status_connector_partial_share,
            connector_major_share: self.status_connector_major_share,
        }
    }

    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own error type
    fn precedence_is_flags_env_file_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "mw.toml",
                "listen = \"127.0.0.1:1000\"\nrate_limit_per_minute = 5\nlog_format = \"json\"",
            )?;
            jail.set_env("MILLWRIGHT_LISTEN", "127.0.0.1:2000");
            jail.set_env("MILLWRIGHT_RATE_LIMIT_PER_MINUTE", "7");
            let flags = FlagOverrides {
                listen: Some("127.0.0.1:3000".into()),
                ..Default::default()
            };
            let c = Config::load(Some(Path::new("mw.toml")), &flags).map_err(|e| *e)?;
            assert_eq!(c.listen, "127.0.0.1:3000");
            assert_eq!(c.rate_limit_per_minute, 7);
            assert_eq!(c.log_format, "json");
            assert_eq!(c.max_body_bytes, 1024 * 1024);
            let c = Config::load(Some(Path::new("mw.toml")), &FlagOverrides::default())
                .map_err(|e| *e)?;
            assert_eq!(c.listen, "127.0.0.1:2000");
            assert_eq!(c.public_url(), "http://127.0.0.1:2000");
            assert!(c.database_url().starts_with("sqlite://"));
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own error type
    fn status_thresholds_come_from_their_keys() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "mw.toml",
                "status_interval_seconds = 5\nstatus_connector_partial_share = 0.5",
            )?;
            jail.set_env("MILLWRIGHT_INCIDENT_OPEN_AFTER_SECONDS", "30");
            jail.set_env("MILLWRIGHT_OPERATOR_WORKSPACE_ID", "ws_operator");
            let c = Config::load(Some(Path::new("mw.toml")), &FlagOverrides::default())
                .map_err(|e| *e)?;
            assert_eq!(c.operator_workspace_id.as_deref(), Some("ws_operator"));
            let t = c.status_thresholds();
            assert_eq!(t.interval, chrono::Duration::seconds(5));
            assert_eq!(t.incident_open_after, chrono::Duration::seconds(30));
            assert_eq!(t.connector_partial_share, 0.5);
            assert_eq!(t.connector_major_share, 0.75);
            assert_eq!(
                Config::default().status_thresholds(),
                millwright_health::StatusThresholds::default()
            );
            Ok(())
        });
    }
}
