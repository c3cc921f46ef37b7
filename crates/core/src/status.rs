//! The lifecycle of a connection.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Created, first sync not started yet.
    Pending,
    /// The first sync is running.
    Syncing,
    Active,
    /// The source is unreachable; syncs back off and resume by themselves.
    Offline,
    /// The source rejects the stored credentials; the customer must reconnect.
    RequiresReauthorization,
    /// Disconnected by the workspace: token revoked, jobs stopped, data kept until deleted.
    Disconnected,
}

impl ConnectionStatus {
    pub const ALL: [ConnectionStatus; 6] = [
        ConnectionStatus::Pending,
        ConnectionStatus::Syncing,
        ConnectionStatus::Active,
        ConnectionStatus::Offline,
        ConnectionStatus::RequiresReauthorization,
        ConnectionStatus::Disconnected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Pending => "pending",
            ConnectionStatus::Syncing => "syncing",
            ConnectionStatus::Active => "active",
            ConnectionStatus::Offline => "offline",
            ConnectionStatus::RequiresReauthorization => "requires_reauthorization",
            ConnectionStatus::Disconnected => "disconnected",
        }
    }

    pub fn parse(s: &str) -> Option<ConnectionStatus> {
        ConnectionStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}
