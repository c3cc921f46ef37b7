//! Extractors whose failures answer in the contract's error format: JSON bodies (malformed →
//! `INVALID_REQUEST`, wrong shape → `VALIDATION_FAILED` naming the field) and query strings
//! (unknown or malformed parameters → `INVALID_REQUEST`).

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts},
};
use serde::de::DeserializeOwned;

use crate::{error::FieldError, request_context::BufferedBody, ApiError, ApiResult};

/// A JSON request body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> ApiResult<Self> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("");
            if !ct.starts_with("application/json") && !ct.contains("+json") {
                return Err(ApiError::InvalidRequest(format!(
                    "Content-Type must be application/json, not `{ct}`"
                )));
            }
        }
        let bytes = match req.extensions().get::<BufferedBody>() {
            Some(b) => b.0.clone(),
            None => axum::body::to_bytes(req.into_body(), 1024 * 1024)
                .await
                .map_err(|_| ApiError::PayloadTooLarge { limit: 1024 * 1024 })?,
        };
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses a JSON body; an empty body is read as `{}` so that all-optional bodies may be left out.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let bytes: &[u8] = if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        b"{}"
    } else {
        bytes
    };
    // Syntax first, so malformed JSON is told apart from a well-formed body of the wrong shape.
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::InvalidRequest(format!("the body is not valid JSON: {e}")))?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "body".to_string()
        } else {
            path
        };
        ApiError::ValidationFailed(vec![FieldError::new(field, e.into_inner().to_string())])
    })
}

/// A query string, deserialised strictly (structs use `deny_unknown_fields`).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> ApiResult<Self> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(q)
            .map(ApiQuery)
            .map_err(|e| ApiError::InvalidRequest(format!("invalid query string: {e}")))
    }
}
