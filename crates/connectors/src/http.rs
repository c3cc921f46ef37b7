//! The HTTP layer every connector uses: one client (rustls, timeouts, keep-alive), retries of
//! transient failures with backoff, and the one classification of upstream answers into
//! [`ConnectorError`]. Connectors describe requests ([`ApiRequest`]); this module decides when
//! to try again and what a failure means.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use rand::Rng;
use reqwest::{
    header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER},
    Method, StatusCode, Url,
};
use serde::de::DeserializeOwned;

use crate::ConnectorError;

/// Timeouts, pooling and retry behaviour of an [`HttpClient`].
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Longest wait for a TCP + TLS connection.
    pub connect_timeout: Duration,
    /// Longest silence while waiting for response bytes.
    pub read_timeout: Duration,
    /// Longest time for one attempt, first byte sent to last byte read.
    pub request_timeout: Duration,
    /// How long an idle kept-alive connection stays in the pool.
    pub pool_idle_timeout: Duration,
    /// Responses larger than this are refused rather than buffered.
    pub max_body_bytes: usize,
    /// Sent as `User-Agent`, so source admins can tell Millwright's calls apart.
    pub user_agent: String,
    /// What is retried, and how long the layer waits.
    pub retry: RetryPolicy,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
            pool_idle_timeout: Duration::from_secs(90),
            max_body_bytes: 64 * 1024 * 1024,
            user_agent: concat!("millwright/", env!("CARGO_PKG_VERSION")).to_string(),
            retry: RetryPolicy::default(),
        }
    }
}

/// When and how long to wait before trying a request again.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; `1` never retries.
    pub max_attempts: u32,
    /// The first backoff; each retry doubles it, up to `max_delay`, with jitter.
    pub base_delay: Duration,
    /// The longest single backoff.
    pub max_delay: Duration,
    /// No retry starts after this much time since the first attempt, so a caller's wait is
    /// bounded whatever the source does.
    pub max_total: Duration,
    /// The longest `Retry-After` (or vendor reset header) the layer sleeps on. A source asking
    /// for longer gets no retry: the error carries its delay for the caller to reschedule.
    pub max_server_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_total: Duration::from_secs(60),
            max_server_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The backoff before retry number `retry` (1 for the first retry): exponential, capped,
    /// with "equal jitter" (half fixed, half random) so that clients rate-limited together do not
    /// come back together.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponential = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20));
        let capped = exponential.min(self.max_delay);
        let half = capped / 2;
        half + half.mul_f64(rand::thread_rng().gen::<f64>())
    }
}

/// A request as a connector describes it; the layer may send it several times.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    /// The HTTP method.
    pub method: Method,
    /// The full URL, query included.
    pub url: Url,
    /// Headers besides `Content-Type`, which [`ApiRequest::json`] sets.
    pub headers: HeaderMap,
    /// A JSON body, if any.
    pub body: Option<serde_json::Value>,
    /// Whether sending it twice is harmless. Defaults from the method (GET, HEAD, PUT, DELETE,
    /// OPTIONS); a non-idempotent request is retried only on failures that prove the source did
    /// not act on it (no connection, 429, 503).
    pub idempotent: bool,
    /// Headers in which the vendor says how many seconds to wait when rate limited (read after
    /// `Retry-After`). A value above 10⁹ is taken as a Unix time instead, since some vendors
    /// send the reset instant under the same kind of name.
    pub wait_headers: &'static [&'static str],
}

impl ApiRequest {
    /// A request without body or headers; idempotency follows the method.
    pub fn new(method: Method, url: Url) -> ApiRequest {
        let idempotent = matches!(
            method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        ApiRequest {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            idempotent,
            wait_headers: &[],
        }
    }

    /// Adds a header; values built from secrets should be marked sensitive by the caller.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> ApiRequest {
        self.headers.insert(name, value);
        self
    }

    /// Sends `body` as `application/json`.
    pub fn json(mut self, body: serde_json::Value) -> ApiRequest {
        self.body = Some(body);
        self
    }

    /// Overrides the method's idempotency (e.g. a `PATCH` that sets an absolute value).
    pub fn idempotent(mut self, idempotent: bool) -> ApiRequest {
        self.idempotent = idempotent;
        self
    }

    /// Sets [`ApiRequest::wait_headers`].
    pub fn wait_headers(mut self, names: &'static [&'static str]) -> ApiRequest {
        self.wait_headers = names;
        self
    }
}

/// An answer, body read in full: always 2xx from [`HttpClient::send`], any status from
/// [`HttpClient::send_raw`].
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// The 2xx status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Vec<u8>,
}

impl ApiResponse {
    /// The body as JSON of type `T`; a body that is not is [`ConnectorError::Upstream`].
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ConnectorError> {
        serde_json::from_slice(&self.body).map_err(|e| ConnectorError::Upstream {
            status: self.status.as_u16(),
            message: format!("unexpected response body ({e}): {}", excerpt(&self.body)),
        })
    }
}

/// The shared client. Cheap to clone: clones share the connection pool.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    config: Arc<HttpConfig>,
}

/// The outcome of one attempt, before deciding whether to try again.
enum Attempt {
    Done(ApiResponse),
    Failed {
        error: ConnectorError,
        retry: bool,
        server_delay: Option<Duration>,
    },
}

impl HttpClient {
    /// Builds the client. Fails only if the TLS backend cannot start.
    pub fn new(config: HttpConfig) -> Result<HttpClient, reqwest::Error> {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .timeout(config.request_timeout)
            .pool_idle_timeout(config.pool_idle_timeout)
            .tcp_keepalive(Duration::from_secs(60))
            .user_agent(config.user_agent.clone())
            // Credentials travel in headers; reqwest drops them on cross-host redirects.
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()?;
        Ok(HttpClient {
            client,
            config: Arc::new(config),
        })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Sends `request`, retrying transient failures per the [`RetryPolicy`]; answers the 2xx
    /// response or the classified error of the last attempt.
    pub async fn send(&self, request: &ApiRequest) -> Result<ApiResponse, ConnectorError> {
        let policy = &self.config.retry;
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            let (error, retry, server_delay) = match self.attempt(request).await {
                Attempt::Done(response) => return Ok(response),
                Attempt::Failed {
                    error,
                    retry,
                    server_delay,
                } => (error, retry, server_delay),
            };
            if !retry || attempt >= policy.max_attempts {
                return Err(error);
            }
            if server_delay.is_some_and(|d| d > policy.max_server_delay) {
                // Retrying before the source's reset is pointless and burns its quota.
                return Err(error);
            }
            let delay = policy
                .backoff(attempt)
                .max(server_delay.unwrap_or_default());
            if started.elapsed() + delay > policy.max_total {
                return Err(error);
            }
            tracing::debug!(
                method = %request.method,
                path = request.url.path(),
                attempt,
                delay_ms = delay.as_millis() as u64,
                error = %error,
                "retrying upstream request"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// [`HttpClient::send`], then the body as JSON.
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        request: &ApiRequest,
    ) -> Result<T, ConnectorError> {
        self.send(request).await?.json()
    }

    /// Sends one request as given and answers the response whatever its status (the returned
    /// [`ApiResponse`] may then be a 4xx or 5xx). For passthrough, which hands the source's own
    /// answer to the caller: nothing is retried (the caller decides) or classified; only a
    /// failure below HTTP (no connection, timeout) is an error.
    pub async fn send_raw(
        &self,
        method: Method,
        url: Url,
        headers: HeaderMap,
        body: Option<Vec<u8>>,
    ) -> Result<ApiResponse, ConnectorError> {
        let mut builder = self.client.request(method, url).headers(headers);
        if let Some(body) = body {
            builder = builder.body(body);
        }
        let failed = |e: &reqwest::Error| match transport_failure(e, false) {
            Attempt::Failed { error, .. } => error,
            Attempt::Done(_) => unreachable!("a transport failure is never a response"),
        };
        let response = builder.send().await.map_err(|e| failed(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = match read_body(response, self.config.max_body_bytes).await {
            Ok(body) => body,
            Err(BodyError::Transport(e)) => return Err(failed(&e)),
            Err(BodyError::TooLarge) => {
                return Err(ConnectorError::Upstream {
                    status: status.as_u16(),
                    message: format!("response larger than {} bytes", self.config.max_body_bytes),
                })
            }
        };
        Ok(ApiResponse {
            status,
            headers,
            body,
        })
    }

    async fn attempt(&self, request: &ApiRequest) -> Attempt {
        let mut builder = self
            .client
            .request(request.method.clone(), request.url.clone())
            .headers(request.headers.clone());
        if let Some(body) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(body).unwrap_or_default());
        }
        let response = match builder.send().await {
            Ok(response) => response,
            Err(e) => return transport_failure(&e, request.idempotent),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = match read_body(response, self.config.max_body_bytes).await {
            Ok(body) => body,
            Err(BodyError::Transport(e)) => return transport_failure(&e, request.idempotent),
            Err(BodyError::TooLarge) => {
                return Attempt::Failed {
                    error: ConnectorError::Upstream {
                        status: status.as_u16(),
                        message: format!(
                            "response larger than {} bytes",
                            self.config.max_body_bytes
                        ),
                    },
                    retry: false,
                    server_delay: None,
                }
            }
        };
        if status.is_success() {
            return Attempt::Done(ApiResponse {
                status,
                headers,
                body,
            });
        }
        let server_delay = server_delay(&headers, request.wait_headers);
        let retry = match status.as_u16() {
            // The source refused before acting: safe to repeat whatever the method.
            429 | 503 => true,
            // A gateway may have passed the request on before failing.
            502 | 504 => request.idempotent,
            _ => false,
        };
        Attempt::Failed {
            error: classify(status, &body, server_delay),
            retry,
            server_delay,
        }
    }
}

enum BodyError {
    Transport(reqwest::Error),
    TooLarge,
}

async fn read_body(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|n| n as usize > limit)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A failure below HTTP: no connection, a timeout, a connection dropped mid-answer.
fn transport_failure(error: &reqwest::Error, idempotent: bool) -> Attempt {
    // A refused connection never reached the source; anything later might have.
    let retry = error.is_connect() || idempotent;
    let reason = if error.is_timeout() {
        "timed out waiting for the source system".to_string()
    } else if error.is_connect() {
        format!("could not connect: {}", root_cause(error))
    } else {
        format!("connection failed: {}", root_cause(error))
    };
    Attempt::Failed {
        error: ConnectorError::Unreachable { reason },
        retry,
        server_delay: None,
    }
}

/// The innermost error text (reqwest's own text is "error sending request for url (…)").
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// The one classification of a non-2xx answer.
pub fn classify(status: StatusCode, body: &[u8], server_delay: Option<Duration>) -> ConnectorError {
    let message = source_message(body).unwrap_or_else(|| status_text(status));
    match status.as_u16() {
        401 => ConnectorError::CredentialsRejected { reason: message },
        403 => ConnectorError::PermissionDenied { reason: message },
        404 => ConnectorError::NotFound,
        // The source understood the request and refused it on its own rules.
        400 | 409 | 422 => ConnectorError::Rejected { message },
        429 => ConnectorError::RateLimited {
            retry_after: server_delay,
        },
        500..=599 => ConnectorError::Unreachable {
            reason: format!("{}: {message}", status_text(status)),
        },
        _ => ConnectorError::Upstream {
            status: status.as_u16(),
            message,
        },
    }
}

fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// How long the source asks us to wait: `Retry-After` (seconds or an HTTP date), else the
/// vendor's own headers.
pub fn server_delay(headers: &HeaderMap, wait_headers: &[&str]) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(value) = text(RETRY_AFTER.as_str()) {
        if let Ok(seconds) = value.parse::<f64>() {
            return seconds_delay(seconds);
        }
        if let Ok(at) = DateTime::parse_from_rfc2822(value) {
            return Some(
                (at.with_timezone(&Utc) - Utc::now())
                    .to_std()
                    .unwrap_or_default(),
            );
        }
    }
    for name in wait_headers {
        if let Some(seconds) = text(name).and_then(|v| v.parse::<f64>().ok()) {
            if seconds > 1e9 {
                let now = Utc::now().timestamp() as f64;
                return seconds_delay((seconds - now).max(0.0));
            }
            return seconds_delay(seconds);
        }
    }
    None
}

fn seconds_delay(seconds: f64) -> Option<Duration> {
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(86_400.0)))
}

/// The human message in an error body, whatever its shape: `{"message"}`, `{"error": "…"}`,
/// `{"error": {"message"}}`, `{"errors": [{"message"}]}`, `{"detail"}`, …, or short plain text.
/// Vendors' error bodies are often undocumented, so this never fails.
pub fn source_message(body: &[u8]) -> Option<String> {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        return json_message(&json).map(|m| truncate(m.trim()));
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    // An HTML error page says nothing a user can act on.
    if text.is_empty() || text.starts_with('<') {
        return None;
    }
    Some(truncate(
        &text.split_whitespace().collect::<Vec<_>>().join(" "),
    ))
}

fn json_message(json: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match json {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Object(map) => {
            for key in [
                "message",
                "error_description",
                "detail",
                "error",
                // IBM Maximo: `{"Error": {"reasonCode", "message", "statusCode"}}`.
                "Error",
                "errors",
                "title",
                "description",
                "msg",
                // OData v2 (SAP Gateway): `{"error": {"message": {"lang", "value"}}}`.
                "value",
            ] {
                if let Some(found) = map.get(key).and_then(json_message) {
                    return Some(found);
                }
            }
            None
        }
        Value::Array(items) => {
            let messages: Vec<String> = items.iter().filter_map(json_message).collect();
            (!messages.is_empty()).then(|| messages.join("; "))
        }
        _ => None,
    }
}

fn truncate(text: &str) -> String {
    const MAX: usize = 500;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}

fn excerpt(body: &[u8]) -> String {
    truncate(&String::from_utf8_lossy(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn classification_table() {
        let msg = body(json!({"message": "Invalid token"}));
        type Check = fn(&ConnectorError) -> bool;
        let cases: Vec<(u16, Check)> = vec![
            (
                401,
                |e| matches!(e, ConnectorError::CredentialsRejected { reason } if reason == "Invalid token"),
            ),
            (
                403,
                |e| matches!(e, ConnectorError::PermissionDenied { reason } if reason == "Invalid token"),
            ),
            (404, |e| matches!(e, ConnectorError::NotFound)),
            (
                400,
                |e| matches!(e, ConnectorError::Rejected { message } if message == "Invalid token"),
            ),
            (422, |e| matches!(e, ConnectorError::Rejected { .. })),
            (409, |e| matches!(e, ConnectorError::Rejected { .. })),
            (
                429,
                |e| matches!(e, ConnectorError::RateLimited { retry_after: Some(d) } if *d == Duration::from_secs(3)),
            ),
            (
                500,
                |e| matches!(e, ConnectorError::Unreachable { reason } if reason == "500 Internal Server Error: Invalid token"),
            ),
            (503, |e| matches!(e, ConnectorError::Unreachable { .. })),
            (418, |e| {
                matches!(e, ConnectorError::Upstream { status: 418, .. })
            }),
            (302, |e| {
                matches!(e, ConnectorError::Upstream { status: 302, .. })
            }),
        ];
        for (status, check) in cases {
            let error = classify(
                StatusCode::from_u16(status).unwrap(),
                &msg,
                Some(Duration::from_secs(3)),
            );
            assert!(check(&error), "{status} → {error:?}");
        }
    }

    #[test]
    fn messages_are_found_in_any_common_shape() {
        let cases = [
            (
                body(json!({"message": " Invalid token "})),
                Some("Invalid token"),
            ),
            (
                body(json!({"error": {"code": "x", "message": "Bad key"}})),
                Some("Bad key"),
            ),
            (
                body(json!({"error": "unauthorized", "error_description": "expired"})),
                Some("expired"),
            ),
            (
                body(json!({"errors": [{"message": "a"}, {"message": "b"}]})),
                Some("a; b"),
            ),
            (body(json!({"statusCode": 401})), None),
            (
                b"  Service   Unavailable\n".to_vec(),
                Some("Service Unavailable"),
            ),
            (b"<html><body>502</body></html>".to_vec(), None),
            (Vec::new(), None),
        ];
        for (raw, want) in cases {
            assert_eq!(
                source_message(&raw).as_deref(),
                want,
                "{}",
                String::from_utf8_lossy(&raw)
            );
        }
        let long = "x".repeat(2000);
        assert_eq!(
            source_message(long.as_bytes()).unwrap().chars().count(),
            501
        );
    }

    #[test]
    fn server_delays_from_retry_after_and_vendor_headers() {
        let mut headers = HeaderMap::new();
        assert_eq!(server_delay(&headers, &["x-rate-limit-reset"]), None);
        headers.insert("x-rate-limit-reset", HeaderValue::from_static("7"));
        assert_eq!(
            server_delay(&headers, &["x-rate-limit-reset"]),
            Some(Duration::from_secs(7))
        );
        assert_eq!(server_delay(&headers, &[]), None);
        let reset_at = (Utc::now().timestamp() + 20).to_string();
        headers.insert(
            "x-rate-limit-reset",
            HeaderValue::from_str(&reset_at).unwrap(),
        );
        let d = server_delay(&headers, &["x-rate-limit-reset"]).unwrap();
        assert!(
            d > Duration::from_secs(15) && d <= Duration::from_secs(20),
            "{d:?}"
        );
        headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(
            server_delay(&headers, &["x-rate-limit-reset"]),
            Some(Duration::from_secs(2))
        );
        let date = (Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&date).unwrap());
        let d = server_delay(&headers, &[]).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            ..RetryPolicy::default()
        };
        for _ in 0..50 {
            let first = policy.backoff(1);
            assert!(
                first >= Duration::from_millis(50) && first <= Duration::from_millis(100),
                "{first:?}"
            );
            let second = policy.backoff(2);
            assert!(
                second >= Duration::from_millis(100) && second <= Duration::from_millis(200),
                "{second:?}"
            );
            let capped = policy.backoff(30);
            assert!(
                capped >= Duration::from_millis(175) && capped <= Duration::from_millis(350),
                "{capped:?}"
            );
        }
    }

    #[test]
    fn idempotency_follows_the_method() {
        let url = Url::parse("http://127.0.0.1/v1/x").unwrap();
        assert!(ApiRequest::new(Method::GET, url.clone()).idempotent);
        assert!(!ApiRequest::new(Method::POST, url.clone()).idempotent);
        assert!(!ApiRequest::new(Method::PATCH, url.clone()).idempotent);
        assert!(
            ApiRequest::new(Method::PATCH, url)
                .idempotent(true)
                .idempotent
        );
    }
}
