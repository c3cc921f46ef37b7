//! `Idempotency-Key` on the unified API's writes (`POST`/`PATCH`/`DELETE /{entity}`,
//! `POST /passthrough`), Stripe's way:
//!
//! * The key is scoped to the workspace and kept for [`RETENTION`] (24 h).
//! * The first *completed* answer is stored, whatever its status, except 5xx and 429: those say
//!   nothing final about the request (the source was down, or we were), so a retry with the same
//!   key runs it again. A 4xx (validation, business refusal, operation not supported) is final
//!   and is replayed like a success.
//! * The same key with the same request (method, path, connection and body) answers the stored
//!   status and body, with `Idempotent-Replayed: true`; with another request, 409
//!   `IDEMPOTENCY_CONFLICT`.
//! * Authentication and scope are checked before the key is looked at, so an unauthorised
//!   request never reads or fills a stored answer.
//!
//! Concurrent requests with the same key on one node are serialised by a per-key lock, so the
//! second waits and then replays instead of writing to the source twice; the store keeps only
//! the first answer for a key (put-once) as the last line. Across nodes (PostgreSQL scale-out)
//! two truly simultaneous first requests can both run; the store still keeps one answer.

use std::{
    future::Future,
    sync::{Arc, LazyLock},
};

use axum::{
    body::{Body, Bytes},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
};
use dashmap::DashMap;
use millwright_core::{secrets::hash_token, time};
use millwright_store::IdempotentResponse;

use crate::{state::AppState, ApiError};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Set on a replayed answer.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// How long an answer is honoured.
pub const RETENTION: chrono::Duration = chrono::Duration::hours(24);
/// Longest key accepted (Stripe's limit).
pub const MAX_KEY_LENGTH: usize = 255;

/// One lock per (workspace, key) while a request with that key runs on this node.
type Locks = DashMap<(String, String), Arc<tokio::sync::Mutex<()>>>;

/// Process-wide rather than per [`AppState`]: the key space is already per workspace, and a
/// lock only lives while its request runs.
static LOCKS: LazyLock<Locks> = LazyLock::new(DashMap::new);

/// The key of the request, if it has one; a malformed key is `INVALID_REQUEST`.
pub fn key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| {
            !k.is_empty() && k.len() <= MAX_KEY_LENGTH && k.chars().all(|c| c.is_ascii_graphic())
        })
        .ok_or_else(|| {
            ApiError::InvalidRequest(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"
            ))
        })?;
    Ok(Some(key.to_string()))
}

/// What makes two requests "the same": method, path (with query), connection, and the body —
/// as canonical JSON when it is JSON, so that whitespace and key order do not matter.
pub fn request_hash(method: &Method, path: &str, connection_id: &str, body: &[u8]) -> String {
    let body = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => canonical(&json),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    hash_token(&format!(
        "{method}\n{path}\n{connection_id}\n{}\n{body}",
        body.len()
    ))
}

/// JSON with object keys sorted at every level.
fn canonical(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// Whether an answer with this status is final for its request, and so stored.
fn is_final(status: StatusCode) -> bool {
    !(status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS)
}

/// A response extension saying "not final, do not store" whatever the status: passthrough
/// answers 200 around the source's own 5xx or 429, which a retry should send again.
#[derive(Debug, Clone, Copy)]
pub struct Transient;

/// The request's identity, for [`run`].
pub struct Request<'a> {
    pub workspace_id: &'a str,
    pub connection_id: &'a str,
    pub method: &'a Method,
    /// Path and query.
    pub path: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Runs `work` under the request's `Idempotency-Key`, if it has one: replays a stored answer,
/// refuses a conflicting reuse, or runs `work` and stores its final answer.
pub async fn run<F, Fut>(state: &AppState, request: Request<'_>, work: F) -> Response
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Response>,
{
    let key = match key(request.headers) {
        Ok(Some(key)) => key,
        Ok(None) => return work().await,
        Err(e) => return e.into_response(),
    };
    let hash = request_hash(
        request.method,
        request.path,
        request.connection_id,
        request.body,
    );
    let slot = (request.workspace_id.to_string(), key.clone());
    let lock = LOCKS.entry(slot.clone()).or_default().clone();
    let response = {
        let _guard = lock.lock().await;
        locked(state, &request, &key, &hash, work).await
    };
    drop(lock);
    // Forget the lock once nobody holds or waits for it (the map's own reference is the last).
    LOCKS.remove_if(&slot, |_, l| Arc::strong_count(l) == 1);
    response
}

async fn locked<F, Fut>(
    state: &AppState,
    request: &Request<'_>,
    key: &str,
    hash: &str,
    work: F,
) -> Response
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Response>,
{
    match state
        .store
        .get_idempotent_response(request.workspace_id, key)
        .await
    {
        Err(e) => return ApiError::from(e).into_response(),
        Ok(Some(stored)) if stored.created_at > time::now() - RETENTION => {
            return if stored.request_hash == hash {
                replay(&stored)
            } else {
                ApiError::IdempotencyConflict.into_response()
            };
        }
        Ok(Some(_expired)) => {
            // Past retention but not yet purged by the worker: purge now, or the new answer
            // could not be stored under the key (the store keeps the first answer per key).
            if let Err(e) = state
                .store
                .purge_idempotent_responses(time::now() - RETENTION)
                .await
            {
                return ApiError::from(e).into_response();
            }
        }
        Ok(None) => {}
    }
    let response = work().await;
    if !is_final(response.status()) || response.extensions().get::<Transient>().is_some() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let stored = IdempotentResponse {
        workspace_id: request.workspace_id.to_string(),
        key: key.to_string(),
        request_hash: hash.to_string(),
        status: i64::from(parts.status.as_u16()),
        body: String::from_utf8_lossy(&bytes).into_owned(),
        created_at: time::now(),
    };
    if let Err(e) = state.store.put_idempotent_response(stored).await {
        // The write happened; failing the answer now would invite a retry that writes again.
        tracing::warn!(error = %e, "could not store an idempotent answer");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A stored answer, sent again.
fn replay(stored: &IdempotentResponse) -> Response {
    let status = u16::try_from(stored.status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut response = (status, Bytes::from(stored.body.clone())).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_ignore_json_layout_but_not_content() {
        let post = Method::POST;
        let a = request_hash(
            &post,
            "/api/v1/work-orders",
            "con_1",
            br#"{"a":1,"b":[1,2]}"#,
        );
        let b = request_hash(
            &post,
            "/api/v1/work-orders",
            "con_1",
            b"{ \"b\": [1, 2], \"a\": 1 }",
        );
        assert_eq!(a, b);
        for other in [
            request_hash(
                &post,
                "/api/v1/work-orders",
                "con_1",
                br#"{"a":2,"b":[1,2]}"#,
            ),
            request_hash(&post, "/api/v1/assets", "con_1", br#"{"a":1,"b":[1,2]}"#),
            request_hash(
                &post,
                "/api/v1/work-orders",
                "con_2",
                br#"{"a":1,"b":[1,2]}"#,
            ),
            request_hash(
                &Method::PATCH,
                "/api/v1/work-orders",
                "con_1",
                br#"{"a":1,"b":[1,2]}"#,
            ),
        ] {
            assert_ne!(a, other);
        }
    }

    #[test]
    fn keys_are_checked() {
        let mut h = HeaderMap::new();
        assert_eq!(key(&h).unwrap(), None);
        h.insert(HEADER, HeaderValue::from_static("order-42"));
        assert_eq!(key(&h).unwrap().as_deref(), Some("order-42"));
        h.insert(HEADER, HeaderValue::from_static(""));
        assert!(key(&h).is_err());
        h.insert(HEADER, HeaderValue::from_str(&"k".repeat(256)).unwrap());
        assert!(key(&h).is_err());
    }

    #[test]
    fn only_final_answers_are_stored() {
        assert!(is_final(StatusCode::CREATED));
        assert!(is_final(StatusCode::UNPROCESSABLE_ENTITY));
        assert!(is_final(StatusCode::CONFLICT));
        assert!(!is_final(StatusCode::TOO_MANY_REQUESTS));
        assert!(!is_final(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!is_final(StatusCode::BAD_GATEWAY));
    }
}
