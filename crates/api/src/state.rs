//! What every handler shares.

use std::sync::Arc;

use millwright_connectors::Registry;
use millwright_core::keyring::Keyring;
use millwright_store::Store;

use crate::{auth::Authenticator, rate_limit::RateLimiter, request_log::RequestLogger};

/// Settings the API needs at run time (the binary builds them from its configuration).
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Requests a minute per credential; 0 turns limiting off. A workspace may override it.
    pub rate_limit_per_minute: u64,
    /// `http://host:port` under which this server is reached (Link URLs, docs).
    pub public_url: String,
    /// Allow loopback and private addresses as webhook targets (development only).
    pub allow_private_webhook_targets: bool,
    /// The workspace whose incidents and maintenances are the platform's (public `/status`
    /// page) rather than its own page's.
    pub operator_workspace_id: Option<String>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            max_body_bytes: 1024 * 1024,
            rate_limit_per_minute: 600,
            public_url: "http://127.0.0.1:8080".into(),
            allow_private_webhook_targets: false,
            operator_workspace_id: None,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub connectors: Arc<Registry>,
    pub keyring: Arc<Keyring>,
    pub auth: Arc<Authenticator>,
    pub rate_limiter: Arc<RateLimiter>,
    pub request_logger: RequestLogger,
    pub config: Arc<ApiConfig>,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        connectors: Arc<Registry>,
        keyring: Arc<Keyring>,
        request_logger: RequestLogger,
        config: ApiConfig,
    ) -> AppState {
        AppState {
            auth: Arc::new(Authenticator::new(store.clone())),
            rate_limiter: Arc::new(RateLimiter::default()),
            store,
            connectors,
            keyring,
            request_logger,
            config: Arc::new(config),
        }
    }
}
