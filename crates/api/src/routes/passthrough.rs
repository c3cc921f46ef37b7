//! `POST /api/v1/passthrough` (spec §5): a raw request to the source system with the
//! connection's stored credentials, for what the unified model does not cover.
//!
//! The connector resolves `path` under its vendor prefix and refuses anything that would leave
//! the source's API (absolute URLs, `..`, another host) and any caller header that carries
//! credentials ([`millwright_connectors::passthrough`]). The answer is the source's own status,
//! headers and body, inside a 200: a source 4xx is the caller's to read, not an error of ours.

use std::collections::BTreeMap;

use axum::{
    body::Bytes,
    extract::State,
    http::{header, HeaderMap, Method, Uri},
    response::{IntoResponse, Response},
    Json,
};
use millwright_connectors::{PassthroughRequest, PassthroughResponse};
use millwright_core::scope::Scope;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::writes::{connector, context, require_live};
use crate::{
    auth::ConnectionAuth, extract::parse_json, idempotency, state::AppState, ApiError, ApiResult,
};

/// Methods a passthrough request may use.
const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/// A raw request to the source system.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PassthroughInput {
    /// `GET`, `HEAD`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: String,
    /// Path and query relative to the vendor's API prefix: `/workorders?limit=5` (MaintainX,
    /// under `/v1`), `/api/os/mxapiasset` (Maximo, under `/maximo`), `/API_EQUIPMENT/Equipment`
    /// (SAP, under `/sap/opu/odata/sap`), `/<database>/rpc/` (Tryton). Absolute URLs and `..`
    /// are refused.
    pub path: String,
    /// Extra request headers. Credentials (`Authorization`, `Cookie`, `apikey`, …) and
    /// hop-by-hop headers are refused: the connection's own credentials are sent.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// JSON is sent as `application/json`; a string is sent as text.
    #[serde(default)]
    pub body: Option<Value>,
}

/// The source system's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct PassthroughOutput {
    /// The source's HTTP status.
    pub status: u16,
    /// The source's headers (without cookies, session tokens and hop-by-hop headers); repeated
    /// headers are joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// JSON when the source answered JSON, else the body as text; `null` when empty.
    #[schema(value_type = Object)]
    pub body: Value,
}

impl From<PassthroughResponse> for PassthroughOutput {
    fn from(r: PassthroughResponse) -> PassthroughOutput {
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in r.headers {
            headers
                .entry(name)
                .and_modify(|v| {
                    v.push_str(", ");
                    v.push_str(&value);
                })
                .or_insert(value);
        }
        let is_json = headers
            .get(header::CONTENT_TYPE.as_str())
            .is_some_and(|ct| ct.contains("json"));
        let body = if r.body.is_empty() {
            Value::Null
        } else if let Some(json) = is_json
            .then(|| serde_json::from_slice::<Value>(&r.body).ok())
            .flatten()
        {
            json
        } else {
            Value::String(String::from_utf8_lossy(&r.body).into_owned())
        };
        PassthroughOutput {
            status: r.status,
            headers,
            body,
        }
    }
}

#[utoipa::path(
    post, path = "/api/v1/passthrough", tag = "unified",
    description = "Sends a raw request to the source system with the connection's stored credentials and answers the source's status, headers and body. Needs the `passthrough` scope. Honours `Idempotency-Key`.",
    request_body = PassthroughInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for 24 h")),
    responses(
        (status = 200, description = "The source's answer, whatever its status", body = PassthroughOutput),
        (status = 403, description = "INSUFFICIENT_SCOPE: the token lacks `passthrough`", body = crate::error::ErrorBody),
        (status = 409, description = "CONNECTION_DISCONNECTED or IDEMPOTENCY_CONFLICT", body = crate::error::ErrorBody),
        (status = 422, description = "VALIDATION_FAILED: a path outside the source's API, a refused header", body = crate::error::ErrorBody),
        (status = 503, description = "UPSTREAM_UNREACHABLE", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn passthrough(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(e) = require_live(&auth, Scope::Passthrough) {
        return e.into_response();
    }
    let request = idempotency::Request {
        workspace_id: &auth.workspace.id,
        connection_id: &auth.connection_id,
        method: &Method::POST,
        path: uri.path_and_query().map_or(uri.path(), |p| p.as_str()),
        headers: &headers,
        body: &body,
    };
    idempotency::run(&state, request, || async {
        match run(&state, &auth, &body).await {
            Ok(out) => {
                // The source's own 5xx or 429 is no final answer to store.
                let transient = out.status >= 500 || out.status == 429;
                let mut response = Json(out).into_response();
                if transient {
                    response.extensions_mut().insert(idempotency::Transient);
                }
                response
            }
            Err(e) => e.into_response(),
        }
    })
    .await
}

async fn run(state: &AppState, auth: &ConnectionAuth, body: &[u8]) -> ApiResult<PassthroughOutput> {
    let input: PassthroughInput = parse_json(body)?;
    let method = input.method.to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        return Err(ApiError::validation(
            "method",
            format!("must be one of {}", METHODS.join(", ")),
        ));
    }
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| ApiError::validation("method", "is not an HTTP method"))?;
    let connector = connector(state, auth)?;
    let ctx = context(state, auth)?;
    let answer = connector
        .passthrough(
            &ctx,
            PassthroughRequest {
                method,
                path: input.path,
                headers: input.headers.into_iter().collect(),
                body: input.body,
            },
        )
        .await?;
    Ok(answer.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_json_when_json_else_text() {
        let json = PassthroughOutput::from(PassthroughResponse {
            status: 200,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("vary".into(), "a".into()),
                ("vary".into(), "b".into()),
            ],
            body: br#"{"ok":true}"#.to_vec(),
        });
        assert_eq!(json.body, serde_json::json!({"ok": true}));
        assert_eq!(json.headers["vary"], "a, b");
        let text = PassthroughOutput::from(PassthroughResponse {
            status: 500,
            headers: vec![("content-type".into(), "text/html".into())],
            body: b"<h1>down</h1>".to_vec(),
        });
        assert_eq!(text.body, Value::String("<h1>down</h1>".into()));
        let empty = PassthroughOutput::from(PassthroughResponse {
            status: 204,
            headers: vec![],
            body: vec![],
        });
        assert_eq!(empty.body, Value::Null);
    }
}
