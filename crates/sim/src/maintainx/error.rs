//! MaintainX error responses.
//!
//! The reference could not confirm MaintainX's error body (§2 "Errors / limits"), so every error
//! is `{"message": "..."}` (UNVERIFIED) and connectors are expected to rely on the status code.
//! The 401 messages follow the two MaintainX is known or likely to send: "Invalid token" was
//! observed by a real client [CODE]; "No authorization token was found" is the message of the
//! Node.js JWT middleware for a missing header (UNVERIFIED).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::control::json_response;

/// An error answered to a MaintainX API call.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&json!({ "message": self.message }))
            .unwrap_or_else(|_| b"{}".to_vec());
        json_response(self.status, body)
    }
}

/// The 429 answer: `X-Rate-Limit-Reset` is the number of seconds to wait, as the one client
/// that handles it reads it [CODE]; `Retry-After` carries the same value for generic clients.
pub(crate) fn rate_limited(wait_seconds: u64) -> Response {
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many requests, please retry later",
    )
    .into_response();
    let value = HeaderValue::from(wait_seconds);
    response
        .headers_mut()
        .insert("x-rate-limit-reset", value.clone());
    response.headers_mut().insert("retry-after", value);
    response
}
