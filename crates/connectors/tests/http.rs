//! The shared HTTP layer against a scripted local server: what is retried, how long it waits,
//! and what each failure becomes.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use axum::{
    http::{HeaderMap, Method, StatusCode},
    response::{IntoResponse, Response},
    Router,
};
use millwright_connectors::{
    http::{ApiRequest, HttpClient, HttpConfig, RetryPolicy},
    ConnectorError,
};
use reqwest::Url;

/// A server whose every request is answered by `script(hit number from 0, method)`.
async fn serve<F, Fut>(script: F) -> (Url, Arc<AtomicUsize>)
where
    F: Fn(usize, Method) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response> + Send,
{
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = Router::new().fallback(move |method: Method| {
        let script = script.clone();
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move { script(n, method).await }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!(
        "http://{}/v1/things",
        listener.local_addr().unwrap()
    ))
    .unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, hits)
}

fn client(retry: RetryPolicy) -> HttpClient {
    HttpClient::new(HttpConfig {
        connect_timeout: Duration::from_millis(500),
        read_timeout: Duration::from_millis(300),
        request_timeout: Duration::from_secs(2),
        retry,
        ..HttpConfig::default()
    })
    .unwrap()
}

fn fast(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_total: Duration::from_secs(5),
        max_server_delay: Duration::from_secs(2),
    }
}

fn status(code: u16, headers: &[(&'static str, &'static str)], body: &'static str) -> Response {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(*k, v.parse().unwrap());
    }
    (StatusCode::from_u16(code).unwrap(), map, body).into_response()
}

#[tokio::test]
async fn transient_503s_are_retried_until_success() {
    let (url, hits) = serve(|n, _| async move {
        if n < 2 {
            status(503, &[], "<html>503</html>")
        } else {
            status(
                200,
                &[("content-type", "application/json")],
                r#"{"ok": true}"#,
            )
        }
    })
    .await;
    let body: serde_json::Value = client(fast(4))
        .send_json(&ApiRequest::new(Method::GET, url))
        .await
        .unwrap();
    assert_eq!(body["ok"], true);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn persistent_429_is_retried_then_rate_limited() {
    let (url, hits) = serve(|_, _| async {
        status(
            429,
            &[("x-rate-limit-reset", "0")],
            r#"{"message": "Too many requests"}"#,
        )
    })
    .await;
    let request = ApiRequest::new(Method::GET, url).wait_headers(&["x-rate-limit-reset"]);
    let err = client(fast(3)).send(&request).await.unwrap_err();
    assert!(
        matches!(err, ConnectorError::RateLimited { retry_after: Some(d) } if d == Duration::ZERO),
        "{err:?}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_wait_beyond_the_cap_is_handed_back_not_slept() {
    let (url, hits) = serve(|_, _| async { status(429, &[("retry-after", "120")], "") }).await;
    let started = Instant::now();
    let err = client(fast(5))
        .send(&ApiRequest::new(Method::GET, url))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(120)),
        "{err:?}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn retry_after_within_the_cap_is_honoured() {
    let (url, hits) = serve(|n, _| async move {
        if n == 0 {
            status(429, &[("x-rate-limit-reset", "1")], "")
        } else {
            status(200, &[], "{}")
        }
    })
    .await;
    let started = Instant::now();
    let request = ApiRequest::new(Method::GET, url).wait_headers(&["x-rate-limit-reset"]);
    client(fast(3)).send(&request).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn gateway_errors_are_retried_only_when_repeating_is_harmless() {
    let (url, hits) = serve(|_, _| async { status(502, &[], "Bad Gateway") }).await;
    let http = client(fast(3));
    let err = http
        .send(&ApiRequest::new(Method::POST, url.clone()).json(serde_json::json!({})))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Unreachable { reason } if reason.contains("502")),
        "{err:?}"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "a POST may have been acted on"
    );
    http.send(&ApiRequest::new(Method::GET, url.clone()))
        .await
        .unwrap_err();
    assert_eq!(hits.load(Ordering::SeqCst), 4);
    http.send(&ApiRequest::new(Method::PATCH, url).idempotent(true))
        .await
        .unwrap_err();
    assert_eq!(hits.load(Ordering::SeqCst), 7);
}

#[tokio::test]
async fn client_errors_are_classified_without_retry() {
    let (url, hits) = serve(|_, method| async move {
        match method {
            Method::GET => status(401, &[], r#"{"message": "Invalid token"}"#),
            Method::DELETE => status(403, &[], r#"{"error": "forbidden"}"#),
            Method::PUT => status(404, &[], ""),
            Method::POST => status(
                422,
                &[],
                r#"{"errors": [{"message": "title is required"}]}"#,
            ),
            _ => status(500, &[], "boom"),
        }
    })
    .await;
    let http = client(fast(3));
    let send = |m: Method| {
        let http = http.clone();
        let url = url.clone();
        async move { http.send(&ApiRequest::new(m, url)).await.unwrap_err() }
    };
    assert!(
        matches!(send(Method::GET).await, ConnectorError::CredentialsRejected { reason } if reason == "Invalid token")
    );
    assert!(
        matches!(send(Method::DELETE).await, ConnectorError::PermissionDenied { reason } if reason == "forbidden")
    );
    assert!(matches!(send(Method::PUT).await, ConnectorError::NotFound));
    assert!(
        matches!(send(Method::POST).await, ConnectorError::Rejected { message } if message == "title is required")
    );
    assert!(
        matches!(send(Method::PATCH).await, ConnectorError::Unreachable { reason } if reason.contains("boom"))
    );
    assert_eq!(hits.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_silent_source_times_out_as_unreachable() {
    let (url, hits) = serve(|_, _| async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        status(200, &[], "{}")
    })
    .await;
    let started = Instant::now();
    let err = client(fast(2))
        .send(&ApiRequest::new(Method::GET, url))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Unreachable { reason } if reason.contains("timed out")),
        "{err:?}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_refused_connection_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = Url::parse(&format!("http://{}/v1/x", listener.local_addr().unwrap())).unwrap();
    drop(listener);
    let err = client(fast(2))
        .send(&ApiRequest::new(Method::POST, url))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Unreachable { reason } if reason.contains("connect")),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_total_budget_bounds_the_retries() {
    let (url, hits) = serve(|_, _| async { status(503, &[], "") }).await;
    let policy = RetryPolicy {
        max_attempts: 50,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(100),
        max_total: Duration::from_millis(350),
        max_server_delay: Duration::from_secs(1),
    };
    let started = Instant::now();
    client(policy)
        .send(&ApiRequest::new(Method::GET, url))
        .await
        .unwrap_err();
    let attempts = hits.load(Ordering::SeqCst);
    assert!((2..=8).contains(&attempts), "{attempts} attempts");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_an_upstream_error() {
    let (url, _) = serve(|_, _| async { status(200, &[], "<html>login</html>") }).await;
    let err = client(fast(1))
        .send_json::<serde_json::Value>(&ApiRequest::new(Method::GET, url))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Upstream { status: 200, message } if message.contains("login")),
        "{err:?}"
    );
}
