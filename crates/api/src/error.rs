//! The one table from failures to the contract's (HTTP status, `code`, `type`), and the error
//! body of spec §3. Every layer's error enum converts into [`ApiError`] here, once.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use millwright_connectors::ConnectorError;
use millwright_store::{LinkRejection, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::request_context;

/// A field-level problem, listed in `error.details`.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every failure the API can answer with. Each variant is one row of spec §3.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    AuthenticationFailed(String),
    #[error("the key or token is not valid")]
    TokenInvalid,
    #[error("the token expired")]
    TokenExpired,
    #[error("the token was revoked")]
    TokenRevoked,
    #[error("the source system rejects the stored credentials; reauthorize the connection")]
    ReauthorizationRequired,
    #[error("{message}")]
    InsufficientCredits { message: String },
    #[error("{0}")]
    InsufficientScope(String),
    #[error("{0}")]
    UpstreamPermissionDenied(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the HTTP method is not allowed on this path")]
    MethodNotAllowed,
    #[error("the connection is disconnected")]
    ConnectionDisconnected,
    #[error("{0}")]
    Conflict(String),
    #[error("the connection must be disconnected first")]
    ConnectionNotDisconnected,
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyConflict,
    /// A Link session that expired or was already completed.
    #[error("{0}")]
    LinkSessionClosed(String),
    /// A Link public token that is unknown or was already exchanged.
    #[error("{0}")]
    PublicTokenInvalid(String),
    /// A Link public token past its expiry.
    #[error("the public token expired; run the Link flow again")]
    PublicTokenExpired,
    #[error("the request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request failed validation")]
    ValidationFailed(Vec<FieldError>),
    /// The source system refused a write for a business reason; the message is the source's,
    /// so the caller reads it in `message` (and in `details` under `source`).
    #[error("the source system refused the change: {0}")]
    SourceRejected(String),
    #[error("{0}")]
    CredentialsInvalid(String),
    #[error("{0}")]
    OperationNotSupported(String),
    #[error("rate limit exceeded; retry after {retry_after_secs} s")]
    RateLimitExceeded { retry_after_secs: u64 },
    #[error("an internal error occurred")]
    Internal(String),
    #[error("{0}")]
    UpstreamError(String),
    #[error("{message}")]
    UpstreamUnreachable {
        message: String,
        retry_after_secs: Option<u64>,
    },
    #[error("{0}")]
    ServiceUnavailable(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// The contract row: (HTTP status, `code`, `type`).
    pub fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        use ApiError::*;
        match self {
            InvalidRequest(_) => (
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "invalid_request_error",
            ),
            AuthenticationFailed(_) => (
                StatusCode::UNAUTHORIZED,
                "AUTHENTICATION_FAILED",
                "authentication_error",
            ),
            TokenInvalid => (
                StatusCode::UNAUTHORIZED,
                "TOKEN_INVALID",
                "authentication_error",
            ),
            TokenExpired => (
                StatusCode::UNAUTHORIZED,
                "TOKEN_EXPIRED",
                "authentication_error",
            ),
            TokenRevoked => (
                StatusCode::UNAUTHORIZED,
                "TOKEN_REVOKED",
                "authentication_error",
            ),
            ReauthorizationRequired => (
                StatusCode::UNAUTHORIZED,
                "REAUTHORIZATION_REQUIRED",
                "authentication_error",
            ),
            InsufficientCredits { .. } => (
                StatusCode::PAYMENT_REQUIRED,
                "INSUFFICIENT_CREDITS",
                "invalid_request_error",
            ),
            InsufficientScope(_) => (
                StatusCode::FORBIDDEN,
                "INSUFFICIENT_SCOPE",
                "permission_error",
            ),
            UpstreamPermissionDenied(_) => (
                StatusCode::FORBIDDEN,
                "UPSTREAM_PERMISSION_DENIED",
                "permission_error",
            ),
            NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND", "not_found_error"),
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "invalid_request_error",
            ),
            ConnectionDisconnected => (
                StatusCode::CONFLICT,
                "CONNECTION_DISCONNECTED",
                "conflict_error",
            ),
            Conflict(_) => (StatusCode::CONFLICT, "CONFLICT", "conflict_error"),
            ConnectionNotDisconnected => (
                StatusCode::CONFLICT,
                "CONNECTION_NOT_DISCONNECTED",
                "conflict_error",
            ),
            IdempotencyConflict => (
                StatusCode::CONFLICT,
                "IDEMPOTENCY_CONFLICT",
                "conflict_error",
            ),
            LinkSessionClosed(_) => (
                StatusCode::CONFLICT,
                "LINK_SESSION_CLOSED",
                "conflict_error",
            ),
            PublicTokenInvalid(_) => (
                StatusCode::BAD_REQUEST,
                "PUBLIC_TOKEN_INVALID",
                "invalid_request_error",
            ),
            PublicTokenExpired => (
                StatusCode::BAD_REQUEST,
                "PUBLIC_TOKEN_EXPIRED",
                "invalid_request_error",
            ),
            PayloadTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                "invalid_request_error",
            ),
            ValidationFailed(_) | SourceRejected(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
                "invalid_request_error",
            ),
            CredentialsInvalid(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "CREDENTIALS_INVALID",
                "invalid_request_error",
            ),
            OperationNotSupported(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "OPERATION_NOT_SUPPORTED",
                "invalid_request_error",
            ),
            RateLimitExceeded { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMIT_EXCEEDED",
                "rate_limit_error",
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                "api_error",
            ),
            UpstreamError(_) => (StatusCode::BAD_GATEWAY, "UPSTREAM_ERROR", "upstream_error"),
            UpstreamUnreachable { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "UPSTREAM_UNREACHABLE",
                "upstream_error",
            ),
            ServiceUnavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "api_error",
            ),
        }
    }

    pub fn code(&self) -> &'static str {
        self.parts().1
    }

    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::ValidationFailed(vec![FieldError::new(field, message)])
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::NotFound(format!("no such {what}"))
    }

    fn details(&self) -> Option<Vec<FieldError>> {
        match self {
            ApiError::ValidationFailed(d) => Some(d.clone()),
            ApiError::SourceRejected(m) => Some(vec![FieldError::new("source", m.clone())]),
            _ => None,
        }
    }

    /// Maps a connector failure met while connecting or reauthorizing: a rejection of the
    /// credentials is the customer's input being wrong (`CREDENTIALS_INVALID`).
    pub fn from_connect(e: ConnectorError) -> ApiError {
        match e {
            ConnectorError::CredentialsRejected { reason } => ApiError::CredentialsInvalid(
                format!("the source system rejected the credentials: {reason}"),
            ),
            other => ApiError::from(other),
        }
    }
}

/// The JSON error body of spec §3.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorObject,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorObject {
    /// Machine-readable code, e.g. `TOKEN_REVOKED`.
    pub code: &'static str,
    /// One of `invalid_request_error`, `authentication_error`, `permission_error`,
    /// `not_found_error`, `conflict_error`, `rate_limit_error`, `upstream_error`, `api_error`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub message: String,
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<FieldError>>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, kind) = self.parts();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let body = ErrorBody {
            error: ErrorObject {
                code,
                kind,
                message: self.to_string(),
                request_id: request_context::current_request_id().unwrap_or_default(),
                details: self.details(),
            },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        let retry_after = match &self {
            ApiError::RateLimitExceeded { retry_after_secs } => Some(*retry_after_secs),
            ApiError::UpstreamUnreachable {
                retry_after_secs, ..
            } => *retry_after_secs,
            _ => None,
        };
        if let Some(secs) = retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp.extensions_mut().insert(ErrorCode(code));
        resp
    }
}

/// Marks a response as an error with this code, for the request log.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound => ApiError::NotFound("not found".into()),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::InsufficientCredits { limit, used, requested } => ApiError::InsufficientCredits {
                message: format!(
                    "this connection needs {requested} credits but only {} of the workspace's {limit} are available",
                    (limit - used).max(0)
                ),
            },
            StoreError::Disconnected => ApiError::ConnectionDisconnected,
            StoreError::NotDisconnected => ApiError::ConnectionNotDisconnected,
            StoreError::RunNotRunning => ApiError::Conflict("the sync run already ended".into()),
            StoreError::LinkSessionClosed(why) => ApiError::LinkSessionClosed(match why {
                LinkRejection::Expired => "the link session expired".into(),
                _ => "the link session was already completed".into(),
            }),
            StoreError::PublicTokenRejected(LinkRejection::Expired) => ApiError::PublicTokenExpired,
            StoreError::PublicTokenRejected(LinkRejection::Used) => ApiError::PublicTokenInvalid(
                "the public token was already exchanged; a public token works once".into(),
            ),
            StoreError::PublicTokenRejected(LinkRejection::Unknown) => {
                ApiError::PublicTokenInvalid("unknown public token".into())
            }
            StoreError::Backend(m) => ApiError::ServiceUnavailable(format!("the database is unavailable: {m}")),
            StoreError::Corrupt(m) => ApiError::Internal(format!("corrupt row: {m}")),
        }
    }
}

impl From<ConnectorError> for ApiError {
    fn from(e: ConnectorError) -> ApiError {
        match e {
            ConnectorError::CredentialsRejected { .. } => ApiError::ReauthorizationRequired,
            ConnectorError::PermissionDenied { reason } => ApiError::UpstreamPermissionDenied(
                format!("the source system denied permission: {reason}"),
            ),
            ConnectorError::Unreachable { reason } => ApiError::UpstreamUnreachable {
                message: format!("the source system is unreachable: {reason}"),
                retry_after_secs: None,
            },
            ConnectorError::RateLimited { retry_after } => ApiError::UpstreamUnreachable {
                message: "the source system is rate limiting requests; retry later".into(),
                retry_after_secs: Some(retry_after.map(|d| d.as_secs().max(1)).unwrap_or(30)),
            },
            ConnectorError::Upstream { status, message } => {
                ApiError::UpstreamError(format!("the source system answered {status}: {message}"))
            }
            ConnectorError::Rejected { message } => ApiError::SourceRejected(message),
            ConnectorError::Invalid { field, message } => ApiError::validation(field, message),
            ConnectorError::NotFound => ApiError::NotFound("not found in the source system".into()),
            e @ ConnectorError::NotSupported { .. } => {
                ApiError::OperationNotSupported(e.to_string())
            }
            e @ ConnectorError::Unavailable { .. } => {
                ApiError::OperationNotSupported(e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_contract_type() {
        let types = [
            "invalid_request_error",
            "authentication_error",
            "permission_error",
            "not_found_error",
            "conflict_error",
            "rate_limit_error",
            "upstream_error",
            "api_error",
        ];
        let samples = [
            ApiError::TokenRevoked,
            ApiError::InsufficientCredits {
                message: String::new(),
            },
            ApiError::PayloadTooLarge { limit: 1 },
            ApiError::RateLimitExceeded {
                retry_after_secs: 1,
            },
            ApiError::UpstreamUnreachable {
                message: String::new(),
                retry_after_secs: None,
            },
        ];
        for e in samples {
            assert!(types.contains(&e.parts().2));
        }
        assert_eq!(ApiError::TokenRevoked.parts().0, StatusCode::UNAUTHORIZED);
        assert_eq!(
            ApiError::from(StoreError::Disconnected).code(),
            "CONNECTION_DISCONNECTED"
        );
        assert_eq!(
            ApiError::from_connect(ConnectorError::CredentialsRejected { reason: "x".into() })
                .code(),
            "CREDENTIALS_INVALID"
        );
        assert_eq!(
            ApiError::from(ConnectorError::CredentialsRejected { reason: "x".into() }).code(),
            "REAUTHORIZATION_REQUIRED"
        );
        let rejected = ApiError::from(ConnectorError::Rejected {
            message: "Asset 9 not found".into(),
        });
        assert_eq!(rejected.code(), "VALIDATION_FAILED");
        assert_eq!(
            rejected.to_string(),
            "the source system refused the change: Asset 9 not found"
        );
        assert_eq!(rejected.details().unwrap()[0].field, "source");
    }
}
