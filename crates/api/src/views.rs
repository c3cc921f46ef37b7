//! Response bodies: how stored rows are shown to clients.

use millwright_core::{
    credits::Deployment, scope::Scope, status::ConnectionStatus, time::Timestamp, Entity,
};
use millwright_store::{Connection, RequestLog, TokenRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// How often and how far back a connection syncs.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct SyncSettings {
    /// Minutes between incremental syncs, 1 to 1440.
    pub frequency_minutes: u32,
    /// Days of history the first sync fetches.
    pub history_days: u32,
    /// Entities synced; every entity the connector reads when left out.
    pub entities: Vec<Entity>,
}

pub const DEFAULT_FREQUENCY_MINUTES: u32 = 15;
pub const DEFAULT_HISTORY_DAYS: u32 = 90;

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthView {
    pub status: String,
    #[serde(with = "millwright_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub checked_at: Timestamp,
    pub latency_ms: Option<i64>,
    pub error: Option<String>,
}

/// A connection to one source system instance.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionView {
    /// `con_…`
    pub id: String,
    pub workspace_id: String,
    /// Connector id, e.g. `maintainx`.
    pub connector: String,
    pub deployment: Deployment,
    pub name: String,
    pub status: ConnectionStatus,
    /// Credits this connection holds from the pool (returned on disconnect).
    pub credits: i64,
    /// The workspace's own key/value pairs.
    #[schema(value_type = Object)]
    pub metadata: Value,
    #[schema(value_type = Object)]
    pub sync: Value,
    #[serde(with = "millwright_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "millwright_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[serde(with = "millwright_core::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub disconnected_at: Option<Timestamp>,
    #[serde(with = "millwright_core::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_sync_at: Option<Timestamp>,
    /// The latest health probe; null until the first probe.
    pub health: Option<HealthView>,
}

impl From<Connection> for ConnectionView {
    fn from(c: Connection) -> ConnectionView {
        ConnectionView {
            id: c.id,
            workspace_id: c.workspace_id,
            connector: c.connector,
            deployment: c.deployment,
            name: c.name,
            status: c.status,
            credits: c.credits,
            metadata: c.metadata,
            sync: c.sync_settings,
            created_at: c.created_at,
            updated_at: c.updated_at,
            disconnected_at: c.disconnected_at,
            last_sync_at: c.last_sync_at,
            health: c.health.map(|h| HealthView {
                status: h.status,
                checked_at: h.checked_at,
                latency_ms: h.latency_ms,
                error: h.error,
            }),
        }
    }
}

/// `201` of `POST /connections` and `POST /link-sessions/exchange`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionWithToken {
    pub connection: ConnectionView,
    /// The connection token, shown this once.
    pub access_token: String,
}

/// A token's public facts (never the token itself).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// `tok_…`
    pub id: String,
    pub scopes: Vec<Scope>,
    #[serde(with = "millwright_core::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    #[serde(with = "millwright_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<TokenRecord> for TokenView {
    fn from(t: TokenRecord) -> TokenView {
        TokenView {
            id: t.id,
            scopes: t.scopes,
            expires_at: t.expires_at,
            created_at: t.created_at,
        }
    }
}

/// `201` of `POST /connections/{id}/tokens`.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedToken {
    /// The new connection token, shown this once. Every older token of the connection is revoked.
    pub access_token: String,
    pub token: TokenView,
}

/// One logged API request.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestLogView {
    pub request_id: String,
    pub workspace_id: Option<String>,
    pub connection_id: Option<String>,
    pub method: String,
    pub path: String,
    pub status: i64,
    pub duration_ms: i64,
    pub error_code: Option<String>,
    #[serde(with = "millwright_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Headers and body (redacted, truncated at 64 KiB); only on `GET /request-logs/{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub request: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub response: Option<Value>,
}

impl RequestLogView {
    pub fn summary(l: RequestLog) -> RequestLogView {
        RequestLogView {
            request_id: l.request_id,
            workspace_id: l.workspace_id,
            connection_id: l.connection_id,
            method: l.method,
            path: l.path,
            status: l.status,
            duration_ms: l.duration_ms,
            error_code: l.error_code,
            created_at: l.created_at,
            request: None,
            response: None,
        }
    }

    pub fn detail(l: RequestLog) -> RequestLogView {
        let request = serde_json::json!({"headers": l.request_headers, "body": l.request_body});
        let response = serde_json::json!({"body": l.response_body});
        RequestLogView {
            request: Some(request),
            response: Some(response),
            ..RequestLogView::summary(l)
        }
    }
}
