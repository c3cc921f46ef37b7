//! Aggregates for operators: what the `/metrics` gauges show about the shared database (queue
//! depth and lag, connections by status). They are read from the store rather than counted in
//! memory because every node sees the same queue and the same connections.

use millwright_core::{status::ConnectionStatus, time::Timestamp};

/// The queued jobs of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobQueueStat {
    pub kind: String,
    /// Every queued job of the kind, due or not (recurring jobs wait queued for their time).
    pub queued: i64,
    /// The `run_at` of the oldest job that is due (`run_at <= now`) but not claimed yet; `None`
    /// when nothing is due. `now - oldest_due_at` is how far the workers lag behind.
    pub oldest_due_at: Option<Timestamp>,
}

/// How many connections, across workspaces, have one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionStatusCount {
    pub status: ConnectionStatus,
    pub count: i64,
}
