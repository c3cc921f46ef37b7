use std::time::Duration;

/// One classification of every upstream failure. The API maps each variant to the contract.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The source rejected the credentials (401, failed login). At connect or reauthorize time
    /// this is `CREDENTIALS_INVALID`; later it is `REAUTHORIZATION_REQUIRED`.
    #[error("the source system rejected the credentials: {reason}")]
    CredentialsRejected { reason: String },
    /// The source's account may not do this (403).
    #[error("the source system denied permission: {reason}")]
    PermissionDenied { reason: String },
    /// Connection refused, DNS failure, timeout, or a 5xx outage page.
    #[error("the source system is unreachable: {reason}")]
    Unreachable { reason: String },
    /// The source kept answering 429 after the framework's retries.
    #[error("the source system is rate limiting requests")]
    RateLimited { retry_after: Option<Duration> },
    /// The source answered with an error the connector did not expect.
    #[error("the source system answered {status}: {message}")]
    Upstream { status: u16, message: String },
    /// The source refused a write for a business reason (validation in the source system).
    #[error("the source system refused the change: {message}")]
    Rejected { message: String },
    /// Input the connector cannot send (a missing or malformed credential field, a bad body).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The record does not exist in the source.
    #[error("not found in the source system")]
    NotFound,
    /// This connector cannot do this operation on this entity.
    #[error("{operation} is not supported on {entity} by this connector")]
    NotSupported { entity: String, operation: String },
    /// The connector is in the catalog but this build cannot connect to it yet.
    #[error("the {connector} connector is not available in this build")]
    Unavailable { connector: String },
}
