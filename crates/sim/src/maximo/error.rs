//! Maximo error responses: `{"Error": {"reasonCode", "message", "statusCode"}}` (reference §3).
//!
//! The 401 body and `BMXAA2661E` (invalid location) are as documented. The other reason codes
//! follow Maximo's message catalogue as remembered by integrators (UNVERIFIED): `BMXAA4195E`
//! required value, `BMXAA0024E` action not allowed (used for 403 permission denials),
//! `BMXAA8727E` resource not found, `BMXAA4590E` invalid status change, `BMXAA4049E` invalid
//! value. Connectors should switch on the HTTP status and show the message, not parse codes.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::control::json_response;

/// An error answered to a Maximo API call.
#[derive(Debug)]
pub(crate) struct MxError {
    status: StatusCode,
    reason: &'static str,
    message: String,
}

impl MxError {
    /// `message` is prefixed with the reason code, as Maximo does (`BMXAA7901E - ...`).
    pub(crate) fn new(status: StatusCode, reason: &'static str, message: impl AsRef<str>) -> Self {
        MxError {
            status,
            reason,
            message: format!("{reason} - {}", message.as_ref()),
        }
    }

    /// Wrong or missing API key.
    pub(crate) fn login() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "BMXAA7901E",
            "You cannot log in at this time. Contact the system administrator.",
        )
    }

    /// The key's user may not do `action` on `object` (security group settings).
    pub(crate) fn not_allowed(action: &str, object: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "BMXAA0024E",
            format!("The action {action} is not allowed on object {object}. Verify the business rules for the object and define the appropriate action for the object."),
        )
    }

    pub(crate) fn not_found(os: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "BMXAA8727E",
            format!("The OSLC resource {os} with the ID {id} was not found as it does not exist in the system. In the database, verify whether the resource for the ID exists."),
        )
    }

    pub(crate) fn bad_request(reason: &'static str, message: impl AsRef<str>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, reason, message)
    }
}

impl IntoResponse for MxError {
    fn into_response(self) -> Response {
        let body = json!({"Error": {
            "reasonCode": self.reason,
            "message": self.message,
            "statusCode": self.status.as_u16().to_string(),
        }});
        json_response(self.status, serde_json::to_vec(&body).unwrap_or_default())
    }
}

/// The 429 an API gateway in front of Maximo answers (Maximo itself has no rate limit):
/// `Retry-After` in seconds and a body in Maximo's error shape.
pub(crate) fn rate_limited(wait_seconds: u64) -> Response {
    let mut response = MxError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "BMXAA9999E",
        "Rate limit exceeded. Try again later.",
    )
    .into_response();
    response
        .headers_mut()
        .insert("retry-after", HeaderValue::from(wait_seconds));
    response
}
