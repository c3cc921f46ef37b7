use millwright_connectors::ConnectorError;
use millwright_store::StoreError;

/// Why a sync did not complete.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The job names a connection or connector this node does not know.
    #[error("{0}")]
    Misconfigured(String),
}
