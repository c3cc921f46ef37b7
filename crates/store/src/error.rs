use thiserror::Error;

/// What can go wrong in the storage layer. The API maps each variant to the contract once.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint was hit (e.g. a user's e-mail).
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("a connection needing {requested} credits does not fit in the pool ({used} of {limit} used)")]
    InsufficientCredits {
        limit: i64,
        used: i64,
        requested: i64,
    },
    #[error("the connection is disconnected")]
    Disconnected,
    #[error("the connection is not disconnected")]
    NotDisconnected,
    /// A sync run was cancelled or finished while a page was being written.
    #[error("the sync run is no longer running")]
    RunNotRunning,
    /// A Link session cannot be completed: it expired or was already completed.
    #[error("the link session is {0}")]
    LinkSessionClosed(crate::LinkRejection),
    /// A Link public token cannot be exchanged: unknown, expired or already exchanged.
    #[error("the public token is {0}")]
    PublicTokenRejected(crate::LinkRejection),
    /// The database is unreachable or answered with an error.
    #[error("database error: {0}")]
    Backend(String),
    /// A stored value could not be decoded.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}
