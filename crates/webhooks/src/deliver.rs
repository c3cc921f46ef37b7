//! One delivery attempt: POST a signed event body to a webhook URL through the SSRF-safe client
//! and record what happened. Scheduling, leasing and persistence belong to the dispatcher,
//! which is not built yet.

use std::error::Error as StdError;
use std::time::{Duration, Instant};

use millwright_core::time::Timestamp;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};

use crate::retry::{classify, parse_retry_after, Outcome};
use crate::signature::{signature_header, Secret, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use crate::ssrf::{self, check_url, is_policy_refusal};

/// The most response-body bytes kept with an attempt, for the delivery log.
pub const RESPONSE_EXCERPT_LIMIT: usize = 4096;

/// What to deliver: one event to one endpoint.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryRequest<'a> {
    /// The endpoint URL.
    pub url: &'a str,
    /// `webhook-id`: the event id, the same on every retry so receivers can deduplicate.
    pub msg_id: &'a str,
    /// Signing secrets, current first; two during a rotation.
    pub secrets: &'a [&'a Secret],
    /// The exact JSON body; it is signed and sent byte for byte.
    pub body: &'a [u8],
}

/// Why an attempt got no HTTP response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttemptError {
    /// The URL or the address it resolved to is refused by the SSRF policy; nothing was sent.
    #[error("refused by the webhook target policy: {0}")]
    Refused(String),
    /// No response within the 10 s limit.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The connection could not be established (refused, reset, TLS failure, DNS failure).
    #[error("connection failed: {0}")]
    Connect(String),
    /// Any other failure while sending the request.
    #[error("request failed: {0}")]
    Request(String),
}

/// The record of one delivery attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// When the attempt started; also its `webhook-timestamp`.
    pub started_at: Timestamp,
    /// The HTTP status, if a response arrived.
    pub status: Option<u16>,
    /// From the start until the response excerpt was read (or the failure).
    pub duration: Duration,
    /// At most [`RESPONSE_EXCERPT_LIMIT`] bytes of the response body, lossily decoded as UTF-8
    /// and cut on a character boundary; empty without a response.
    pub response_excerpt: String,
    /// The response's `Retry-After`, if present and parseable.
    pub retry_after: Option<Duration>,
    /// Why no response arrived; `None` whenever `status` is `Some`.
    pub error: Option<AttemptError>,
}

impl Attempt {
    /// What this attempt means for the delivery (see [`classify`]).
    pub fn outcome(&self) -> Outcome {
        classify(self.status)
    }
}

/// Sends deliveries. Holds the SSRF-safe pooled HTTP client together with the policy flag it
/// was built with, so the literal-IP check and the resolver always agree.
#[derive(Debug, Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
    allow_private: bool,
}

impl WebhookClient {
    /// A client per spec §6 (see [`ssrf::client`]). `allow_private` is the
    /// `--allow-private-webhook-targets` switch: development only.
    pub fn new(allow_private: bool) -> WebhookClient {
        WebhookClient {
            http: ssrf::client(allow_private),
            allow_private,
        }
    }

    #[cfg(test)]
    pub(crate) fn with_timeout(allow_private: bool, timeout: Duration) -> WebhookClient {
        WebhookClient {
            http: ssrf::build_client(allow_private, timeout),
            allow_private,
        }
    }

    /// Whether private and loopback targets are allowed.
    pub fn allow_private(&self) -> bool {
        self.allow_private
    }

    /// Makes one attempt: checks the URL, signs the body with every secret for the current
    /// second, POSTs it with the Standard Webhooks headers, and reads a response excerpt. Never
    /// fails: every problem is recorded in the returned [`Attempt`].
    pub async fn deliver(&self, request: &DeliveryRequest<'_>) -> Attempt {
        let started_at = millwright_core::time::now();
        let clock = Instant::now();
        let failed = |error: AttemptError| Attempt {
            started_at,
            status: None,
            duration: clock.elapsed(),
            response_excerpt: String::new(),
            retry_after: None,
            error: Some(error),
        };

        // The resolver never sees IP-literal hosts, so this check is what stops them.
        let url = match check_url(request.url, self.allow_private) {
            Ok(url) => url,
            Err(e) => return failed(AttemptError::Refused(e.to_string())),
        };
        let timestamp = started_at.timestamp();
        let signature = signature_header(request.secrets, request.msg_id, timestamp, request.body);
        let sent = self
            .http
            .post(url)
            .header(HEADER_ID, request.msg_id)
            .header(HEADER_TIMESTAMP, timestamp.to_string())
            .header(HEADER_SIGNATURE, signature)
            .header(CONTENT_TYPE, "application/json")
            .body(request.body.to_vec())
            .send()
            .await;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => return failed(classify_error(&e, clock.elapsed())),
        };

        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, millwright_core::time::now()));
        // Read only as much of the body as is kept; a huge or endless response must not hold the
        // dispatcher. A failure while reading leaves a shorter excerpt: the status decides.
        let mut excerpt = Vec::new();
        while excerpt.len() < RESPONSE_EXCERPT_LIMIT {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        Attempt {
            started_at,
            status: Some(status),
            duration: clock.elapsed(),
            response_excerpt: excerpt_text(&excerpt),
            retry_after,
            error: None,
        }
    }
}

fn classify_error(err: &reqwest::Error, elapsed: Duration) -> AttemptError {
    if is_policy_refusal(err) {
        return AttemptError::Refused(error_chain(err));
    }
    if err.is_timeout() {
        return AttemptError::Timeout(elapsed);
    }
    if err.is_connect() {
        return AttemptError::Connect(error_chain(err));
    }
    AttemptError::Request(error_chain(err))
}

/// The error and its causes on one line; reqwest's own message alone ("error sending request")
/// does not say what went wrong. The URL is left out: it is already on the delivery.
fn error_chain(err: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut current: Option<&(dyn StdError + 'static)> = err.source();
    while let Some(e) = current {
        let text = e.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        current = e.source();
    }
    if parts.is_empty() {
        // A reqwest::Error without a source describes itself; drop the URL it may carry.
        let mut e = reqwest::Error::to_string(err);
        if let Some(url) = err.url() {
            e = e.replace(&format!(" ({url})"), "");
        }
        parts.push(e);
    }
    parts.join(": ")
}

/// Up to [`RESPONSE_EXCERPT_LIMIT`] bytes as text, cut so that no character is split.
fn excerpt_text(bytes: &[u8]) -> String {
    let mut end = bytes.len().min(RESPONSE_EXCERPT_LIMIT);
    // Step back over at most three continuation bytes of a cut UTF-8 sequence.
    if end < bytes.len() {
        let mut back = 0;
        while back < 3 && end > back && (bytes[end - back] & 0xC0) == 0x80 {
            back += 1;
        }
        end -= back;
    }
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::{verify, DEFAULT_TOLERANCE};
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::post;
    use axum::Router;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use tokio::net::TcpListener;

    /// Requests a receiver got: headers and raw body.
    type Received = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

    #[derive(Clone, Default)]
    struct Seen {
        requests: Received,
        redirected_hits: Arc<AtomicUsize>,
    }

    async fn receiver() -> (String, Seen) {
        let seen = Seen::default();
        let app = Router::new()
            .route(
                "/ok",
                post(|State(s): State<Seen>, headers: HeaderMap, body: axum::body::Bytes| async move {
                    s.requests.lock().unwrap().push((headers, body.to_vec()));
                    "thanks"
                }),
            )
            .route("/gone", post(|| async { StatusCode::GONE }))
            .route(
                "/busy",
                post(|| async {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        [("retry-after", "120")],
                        "try later",
                    )
                }),
            )
            .route(
                "/redirect",
                post(|| async {
                    (
                        StatusCode::TEMPORARY_REDIRECT,
                        [("location", "/target")],
                        "",
                    )
                }),
            )
            .route(
                "/target",
                post(|State(s): State<Seen>| async move {
                    s.redirected_hits.fetch_add(1, Ordering::SeqCst);
                    "should not be reached"
                })
                .get(|State(s): State<Seen>| async move {
                    s.redirected_hits.fetch_add(1, Ordering::SeqCst);
                    "should not be reached"
                }),
            )
            .route(
                "/big",
                post(|| async {
                    // 3-byte characters so that the 4 KiB cut falls inside one (4096 = 3·1365 + 1).
                    "€".repeat(400_000).into_response()
                }),
            )
            .route(
                "/slow",
                post(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .with_state(seen.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{addr}"), seen)
    }

    fn request<'a>(url: &'a str, secrets: &'a [&'a Secret], body: &'a [u8]) -> DeliveryRequest<'a> {
        DeliveryRequest {
            url,
            msg_id: "evt_01HZX3KQ7W8Y9Z",
            secrets,
            body,
        }
    }

    #[tokio::test]
    async fn delivers_signed_body_with_standard_headers() {
        let (base, seen) = receiver().await;
        let secret = Secret::generate();
        let body = br#"{"id":"evt_01HZX3KQ7W8Y9Z","type":"webhook.test","data":{}}"#;
        let url = format!("{base}/ok");
        let attempt = WebhookClient::new(true)
            .deliver(&request(&url, &[&secret], body))
            .await;
        assert_eq!(attempt.status, Some(200), "{attempt:?}");
        assert_eq!(attempt.error, None);
        assert_eq!(attempt.outcome(), Outcome::Delivered);
        assert_eq!(attempt.response_excerpt, "thanks");
        assert!(attempt.duration < Duration::from_secs(10));

        let requests = seen.requests.lock().unwrap();
        assert_eq!(requests.len(), 1);
        let (headers, got) = &requests[0];
        assert_eq!(got, body);
        let h = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_string();
        assert_eq!(h("webhook-id"), "evt_01HZX3KQ7W8Y9Z");
        assert_eq!(
            h("webhook-timestamp"),
            attempt.started_at.timestamp().to_string()
        );
        assert_eq!(h("content-type"), "application/json");
        assert_eq!(
            h("user-agent"),
            format!("Millwright-Webhooks/{}", env!("CARGO_PKG_VERSION"))
        );
        verify(
            &secret,
            &h("webhook-id"),
            &h("webhook-timestamp"),
            &h("webhook-signature"),
            got,
            millwright_core::time::now(),
            DEFAULT_TOLERANCE,
        )
        .unwrap();
    }

    #[tokio::test]
    async fn response_classification_retry_after_and_no_redirects() {
        let (base, seen) = receiver().await;
        let secret = Secret::generate();
        let client = WebhookClient::new(true);
        let deliver = |path: &'static str| {
            let url = format!("{base}{path}");
            let client = client.clone();
            let secret = secret.clone();
            async move { client.deliver(&request(&url, &[&secret], b"{}")).await }
        };

        let gone = deliver("/gone").await;
        assert_eq!(gone.status, Some(410));
        assert_eq!(gone.outcome(), Outcome::DisableEndpoint);

        let busy = deliver("/busy").await;
        assert_eq!(busy.status, Some(503));
        assert_eq!(busy.outcome(), Outcome::Retry);
        assert_eq!(busy.retry_after, Some(Duration::from_secs(120)));
        assert_eq!(busy.response_excerpt, "try later");

        let redirect = deliver("/redirect").await;
        assert_eq!(redirect.status, Some(307));
        assert_eq!(redirect.outcome(), Outcome::Retry);
        assert_eq!(seen.redirected_hits.load(Ordering::SeqCst), 0);

        let big = deliver("/big").await;
        assert_eq!(big.status, Some(200));
        assert!(big.response_excerpt.len() <= RESPONSE_EXCERPT_LIMIT);
        assert_eq!(big.response_excerpt, "€".repeat(1365));

        let missing = deliver("/nowhere").await;
        assert_eq!(missing.status, Some(404));
        assert_eq!(missing.outcome(), Outcome::Retry);
    }

    #[tokio::test]
    async fn timeouts_and_connection_errors_are_retried() {
        let (base, _) = receiver().await;
        let secret = Secret::generate();
        let url = format!("{base}/slow");
        let attempt = WebhookClient::with_timeout(true, Duration::from_millis(300))
            .deliver(&request(&url, &[&secret], b"{}"))
            .await;
        assert_eq!(attempt.status, None);
        assert!(
            matches!(attempt.error, Some(AttemptError::Timeout(_))),
            "{attempt:?}"
        );
        assert!(attempt.duration < Duration::from_secs(3));
        assert_eq!(attempt.outcome(), Outcome::Retry);

        // A port with nothing listening.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let url = format!("http://127.0.0.1:{port}/");
        let attempt = WebhookClient::new(true)
            .deliver(&request(&url, &[&secret], b"{}"))
            .await;
        assert!(
            matches!(attempt.error, Some(AttemptError::Connect(_))),
            "{attempt:?}"
        );
        assert_eq!(attempt.outcome(), Outcome::Retry);
    }

    /// A raw listener that counts accepted connections and answers `200` to each request.
    async fn counting_listener(bind: &str) -> (u16, Arc<AtomicUsize>) {
        let listener = TcpListener::bind(bind).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                c.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let mut buf = vec![0u8; 65536];
                    let _ = socket.read(&mut buf).await;
                    let _ = socket
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                        )
                        .await;
                });
            }
        });
        (port, count)
    }

    #[tokio::test]
    async fn private_targets_are_refused_before_connecting_unless_allowed() {
        let (v4_port, v4_hits) = counting_listener("127.0.0.1:0").await;
        let (v6_port, v6_hits) = counting_listener("[::1]:0").await;
        let secret = Secret::generate();
        let strict = WebhookClient::new(false);
        let refused = [
            format!("https://127.0.0.1:{v4_port}/"),
            format!("https://localhost:{v4_port}/"),
            format!("https://[::1]:{v6_port}/"),
            format!("https://[::ffff:127.0.0.1]:{v4_port}/"),
            // Never contacted: refused on the literal before any connection is attempted.
            "https://10.0.0.1/".to_string(),
            "https://169.254.169.254/latest/meta-data/".to_string(),
        ];
        for url in &refused {
            let attempt = strict.deliver(&request(url, &[&secret], b"{}")).await;
            assert!(
                matches!(attempt.error, Some(AttemptError::Refused(_))),
                "{url}: {attempt:?}"
            );
            assert_eq!(attempt.status, None);
            assert_eq!(attempt.outcome(), Outcome::Retry);
        }
        // `localhost` got past the literal check and was stopped by the resolver.
        let via_resolver = strict
            .deliver(&request(
                &format!("https://localhost:{v4_port}/"),
                &[&secret],
                b"{}",
            ))
            .await;
        let message = via_resolver.error.unwrap().to_string();
        assert!(message.contains("resolves to 127.0.0.1"), "{message}");
        assert_eq!(v4_hits.load(Ordering::SeqCst), 0);
        assert_eq!(v6_hits.load(Ordering::SeqCst), 0);

        let permissive = WebhookClient::new(true);
        for (url, hits) in [
            (format!("http://127.0.0.1:{v4_port}/"), &v4_hits),
            (format!("http://localhost:{v4_port}/"), &v4_hits),
            (format!("http://[::1]:{v6_port}/"), &v6_hits),
            (format!("http://[::ffff:127.0.0.1]:{v4_port}/"), &v4_hits),
        ] {
            let before = hits.load(Ordering::SeqCst);
            let attempt = permissive.deliver(&request(&url, &[&secret], b"{}")).await;
            assert_eq!(attempt.status, Some(200), "{url}: {attempt:?}");
            assert_eq!(hits.load(Ordering::SeqCst), before + 1, "{url}");
        }
    }

    #[tokio::test]
    async fn plain_http_is_refused_without_allow_private() {
        let attempt = WebhookClient::new(false)
            .deliver(&request("http://hooks.example.com/", &[], b"{}"))
            .await;
        assert!(
            matches!(&attempt.error, Some(AttemptError::Refused(m)) if m.contains("https")),
            "{attempt:?}"
        );
    }

    #[test]
    fn excerpt_cuts_on_character_boundaries() {
        assert_eq!(excerpt_text(b"short"), "short");
        let text = "a".repeat(4095) + "é";
        assert_eq!(excerpt_text(text.as_bytes()), "a".repeat(4095));
        let text = "a".repeat(4094) + "é" + "z";
        assert_eq!(excerpt_text(text.as_bytes()), "a".repeat(4094) + "é");
        assert_eq!(excerpt_text(&[0xff; 10]), "\u{fffd}".repeat(10));
    }
}
