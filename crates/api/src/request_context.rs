//! Per-request context: the request id (`X-Request-Id`, also in error bodies), the body limit,
//! rate-limit headers, the hand-off of every `/api/` request to the request log, and the HTTP
//! series of `/metrics` (by matched route template, see [`crate::metrics`]).
//!
//! The middleware buffers the request body once (enforcing the size limit before any handler
//! runs), so handlers and the request log share the same bytes.

use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{
    body::{Body, Bytes},
    extract::{MatchedPath, Request, State},
    http::{header, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Response},
};
use millwright_core::{ids, time};
use tracing::Instrument;

use crate::{error::ErrorCode, request_log::PendingLog, state::AppState, ApiError};

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served on this task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

/// What the handlers learn about a request that the log and the response headers need.
#[derive(Debug, Default, Clone)]
pub struct RequestFacts {
    pub workspace_id: Option<String>,
    pub connection_id: Option<String>,
    pub rate_limit: Option<RateLimitInfo>,
}

#[derive(Debug, Clone, Copy)]
pub struct RateLimitInfo {
    pub limit: u64,
    pub remaining: u64,
    pub reset_secs: u64,
}

/// Shared between the middleware and the extractors of one request.
#[derive(Clone, Default)]
pub struct FactsSlot(pub Arc<Mutex<RequestFacts>>);

impl FactsSlot {
    pub fn update(&self, f: impl FnOnce(&mut RequestFacts)) {
        if let Ok(mut g) = self.0.lock() {
            f(&mut g)
        }
    }

    fn take(&self) -> RequestFacts {
        self.0.lock().map(|g| g.clone()).unwrap_or_default()
    }
}

/// The buffered request body, available to extractors as an extension.
#[derive(Clone)]
pub struct BufferedBody(pub Bytes);

pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let request_id = ids::new_id(ids::prefix::REQUEST);
    let started = Instant::now();
    // This layer wraps each route (`Router::layer`), so routing has already run and the matched
    // template is known; the fallback (no route) has none.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let method = req.method().clone();
    // Every log line written while serving the request carries its id (a span field; with
    // `--log-format json` it is `span.request_id`), so a request id from an error body or the
    // request log finds the server's own lines about it.
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        route = route.as_deref().unwrap_or("-"),
    );
    let response = REQUEST_ID
        .scope(
            request_id.clone(),
            handle(state, request_id, started, req, next).instrument(span.clone()),
        )
        .await;
    let status = response.status();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        // Server errors are worth an operator's attention; the rest is a debug-level access log
        // (the request log in the database is the audit trail).
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), elapsed_ms, "request failed");
        } else {
            tracing::debug!(status = status.as_u16(), elapsed_ms, "request served");
        }
    });
    crate::metrics::record_request(
        route.as_deref(),
        &method,
        response.status(),
        started.elapsed(),
    );
    response
}

async fn handle(
    state: AppState,
    request_id: String,
    started: Instant,
    req: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let logged = parts.uri.path().starts_with("/api/");
    // What the log needs of the request, taken before the handler consumes it.
    let logged_request = logged.then(|| {
        (
            parts.method.clone(),
            parts.uri.clone(),
            parts.headers.clone(),
        )
    });

    let limit = state.config.max_body_bytes;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let body_bytes = if declared.is_some_and(|n| n > limit as u64) {
        Err(ApiError::PayloadTooLarge { limit })
    } else {
        axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| ApiError::PayloadTooLarge { limit })
    };

    let slot = FactsSlot::default();
    let (response, req_body) = match body_bytes {
        Err(e) => (e.into_response(), None),
        Ok(bytes) => {
            parts.extensions.insert(slot.clone());
            parts.extensions.insert(BufferedBody(bytes.clone()));
            let resp = next
                .run(Request::from_parts(parts, Body::from(bytes.clone())))
                .await;
            (resp, Some(bytes))
        }
    };
    let facts = slot.take();
    let Some((method, uri, headers)) = logged_request else {
        let mut response = response;
        decorate(&mut response, &request_id, &facts);
        return response;
    };
    // Buffer the response once: the same bytes go to the client and (redacted) to the log.
    let (resp_parts, resp_body) = response.into_parts();
    let resp_bytes = axum::body::to_bytes(resp_body, usize::MAX)
        .await
        .unwrap_or_default();
    let mut response = Response::from_parts(resp_parts, Body::empty());
    decorate(&mut response, &request_id, &facts);
    // Only cheap moves here; redaction and serialisation happen in the log writer.
    let log = PendingLog {
        request_id,
        workspace_id: facts.workspace_id,
        connection_id: facts.connection_id,
        method,
        uri,
        status: response.status().as_u16(),
        duration_ms: started.elapsed().as_millis() as i64,
        headers,
        request_body: req_body,
        response_body: resp_bytes.clone(),
        error_code: response.extensions().get::<ErrorCode>().map(|c| c.0),
        created_at: time::now(),
    };
    state.request_logger.submit(log);
    with_body(response, resp_bytes)
}

fn with_body(response: Response, bytes: Bytes) -> Response {
    let (parts, _) = response.into_parts();
    Response::from_parts(parts, Body::from(bytes))
}

fn decorate(response: &mut Response, request_id: &str, facts: &RequestFacts) {
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-request-id", v);
    }
    if let Some(rl) = facts.rate_limit {
        h.insert("ratelimit-limit", HeaderValue::from(rl.limit));
        h.insert("ratelimit-remaining", HeaderValue::from(rl.remaining));
        h.insert("ratelimit-reset", HeaderValue::from(rl.reset_secs));
    }
}
