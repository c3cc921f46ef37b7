//! The `/__sim/` control plane and the faults it injects into a vendor API (API.md §9).
//!
//! Shared by every simulator: outages, the rate limit and request statistics behave the same
//! whatever the vendor; only credentials, mutations and the wording of a 429 are the vendor's
//! own, supplied through [`Backend`]. Control endpoints need no credentials and are never rate
//! limited, counted or taken down by an outage: tests must be able to steer a broken vendor.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::watch;

/// What `POST /__sim/mutate` does to the chosen records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum MutateOp {
    Create,
    Update,
    Delete,
}

/// The vendor-specific half of the control plane.
pub(crate) trait Backend: Send + Sync + 'static {
    /// Replaces the accepted credentials; the body uses the connector's `auth_fields` names.
    fn set_credentials(&self, body: &Value) -> Result<(), String>;
    /// Creates, updates or deletes `count` records of `entity` (snake_case plural); returns
    /// the ids affected, as the vendor spells ids.
    fn mutate(&self, entity: &str, op: MutateOp, count: usize) -> Result<Vec<Value>, String>;
}

/// How the vendor API is failing, if at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outage {
    None,
    /// Every call answers 503.
    Unavailable,
    /// Every call is held open without an answer.
    Timeout,
}

#[derive(Clone, Copy, Debug)]
struct Gate {
    outage: Outage,
    shutting_down: bool,
}

/// Sliding one-minute window of accepted requests.
#[derive(Debug, Default)]
struct Limiter {
    per_minute: u32,
    accepted: VecDeque<Instant>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl Limiter {
    /// `Ok` if the request may pass (and counts it), else the whole seconds until it could.
    fn admit(&mut self, now: Instant) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        while let Some(oldest) = self.accepted.front() {
            if now.duration_since(*oldest) >= WINDOW {
                self.accepted.pop_front();
            } else {
                break;
            }
        }
        if self.accepted.len() < self.per_minute as usize {
            self.accepted.push_back(now);
            return Ok(());
        }
        let oldest = self.accepted.front().copied().unwrap_or(now);
        let wait = WINDOW.saturating_sub(now.duration_since(oldest));
        Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
    }
}

#[derive(Debug, Default)]
struct Stats {
    by_path: BTreeMap<String, u64>,
    by_status: BTreeMap<u16, u64>,
    total: u64,
}

/// The fault-injection and bookkeeping state of one simulator.
pub(crate) struct Control {
    gate: watch::Sender<Gate>,
    limiter: Mutex<Limiter>,
    stats: Mutex<Stats>,
    rate_limited: fn(u64) -> Response,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking handler must not wedge the simulator for the rest of a test run.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Control {
    /// `rate_limited` renders the vendor's 429 for a wait of the given seconds.
    pub(crate) fn new(rate_limited: fn(u64) -> Response) -> Arc<Self> {
        let (gate, _) = watch::channel(Gate {
            outage: Outage::None,
            shutting_down: false,
        });
        Arc::new(Control {
            gate,
            limiter: Mutex::new(Limiter::default()),
            stats: Mutex::new(Stats::default()),
            rate_limited,
        })
    }

    pub(crate) fn set_outage(&self, outage: Outage) {
        self.gate.send_modify(|g| g.outage = outage);
    }

    /// Releases requests held by a timeout outage so a graceful shutdown can finish.
    pub(crate) fn begin_shutdown(&self) {
        self.gate.send_modify(|g| g.shutting_down = true);
    }

    fn set_rate_limit(&self, per_minute: u32) {
        let mut limiter = lock(&self.limiter);
        limiter.per_minute = per_minute;
        limiter.accepted.clear();
    }

    /// Waits while a timeout outage lasts (or until shutdown).
    async fn hold(&self) {
        let mut rx = self.gate.subscribe();
        loop {
            {
                let gate = rx.borrow_and_update();
                if gate.shutting_down || gate.outage != Outage::Timeout {
                    return;
                }
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    }
}

/// Outermost vendor layer: counts every vendor request by route and by final status.
pub(crate) async fn count_requests(
    State(control): State<Arc<Control>>,
    request: Request,
    next: Next,
) -> Response {
    let key = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| request.uri().path().to_owned());
    {
        let mut stats = lock(&control.stats);
        *stats.by_path.entry(key).or_default() += 1;
        stats.total += 1;
    }
    let response = next.run(request).await;
    *lock(&control.stats)
        .by_status
        .entry(response.status().as_u16())
        .or_default() += 1;
    response
}

/// Applies the current outage: answer 503, or hold the request open.
pub(crate) async fn apply_outage(
    State(control): State<Arc<Control>>,
    request: Request,
    next: Next,
) -> Response {
    let outage = control.gate.borrow().outage;
    match outage {
        Outage::None => next.run(request).await,
        Outage::Unavailable => html_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "503 Service Temporarily Unavailable",
        ),
        Outage::Timeout => {
            control.hold().await;
            // Answered only once the outage ends or the simulator stops: by then a real client
            // has long given up, and a load balancer would have cut the request off with 504.
            html_error(StatusCode::GATEWAY_TIMEOUT, "504 Gateway Time-out")
        }
    }
}

/// Applies the configured rate limit; sits inside authentication, like a per-key limit.
pub(crate) async fn apply_rate_limit(
    State(control): State<Arc<Control>>,
    request: Request,
    next: Next,
) -> Response {
    let verdict = lock(&control.limiter).admit(Instant::now());
    match verdict {
        Ok(()) => next.run(request).await,
        Err(wait) => (control.rate_limited)(wait.max(1)),
    }
}

/// The bare HTML page a load balancer in front of a SaaS API serves when the backend is gone.
fn html_error(status: StatusCode, title: &str) -> Response {
    let body = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    );
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}

#[derive(Clone)]
struct ControlApi {
    control: Arc<Control>,
    backend: Arc<dyn Backend>,
}

/// The `/__sim/` routes.
pub(crate) fn routes(control: Arc<Control>, backend: Arc<dyn Backend>) -> Router {
    Router::new()
        .route("/__sim/credentials", post(credentials))
        .route("/__sim/outage", post(outage))
        .route("/__sim/mutate", post(mutate))
        .route("/__sim/rate-limit", post(rate_limit))
        .route("/__sim/stats", get(stats))
        .with_state(ControlApi { control, backend })
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": message.into() })),
    )
        .into_response()
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid body: {e}"))
}

async fn credentials(State(api): State<ControlApi>, body: Bytes) -> Response {
    let body: Value = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    match api.backend.set_credentials(&body) {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(e) => bad_request(e),
    }
}

#[derive(Deserialize)]
struct OutageBody {
    mode: Value,
}

async fn outage(State(api): State<ControlApi>, body: Bytes) -> Response {
    let body: OutageBody = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    // `"503"` per the spec; the number 503 too, since tests write it both ways.
    let (outage, label) = match &body.mode {
        Value::String(s) if s == "503" => (Outage::Unavailable, "503"),
        Value::Number(n) if n.as_u64() == Some(503) => (Outage::Unavailable, "503"),
        Value::String(s) if s == "timeout" => (Outage::Timeout, "timeout"),
        Value::String(s) if s == "none" => (Outage::None, "none"),
        other => {
            return bad_request(format!(
                "mode must be \"503\", \"timeout\" or \"none\", not {other}"
            ))
        }
    };
    api.control.set_outage(outage);
    Json(json!({ "mode": label })).into_response()
}

#[derive(Deserialize)]
struct MutateBody {
    entity: String,
    op: MutateOp,
    #[serde(default = "one")]
    count: usize,
}

fn one() -> usize {
    1
}

/// Upper bound on one mutate call, so a typo cannot stall the simulator for minutes.
const MAX_MUTATE: usize = 100_000;

async fn mutate(State(api): State<ControlApi>, body: Bytes) -> Response {
    let body: MutateBody = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    if body.count == 0 || body.count > MAX_MUTATE {
        return bad_request(format!("count must be between 1 and {MAX_MUTATE}"));
    }
    match api.backend.mutate(&body.entity, body.op, body.count) {
        Ok(ids) => Json(json!({ "ids": ids })).into_response(),
        Err(e) => bad_request(e),
    }
}

#[derive(Deserialize)]
struct RateLimitBody {
    per_minute: u32,
}

async fn rate_limit(State(api): State<ControlApi>, body: Bytes) -> Response {
    let body: RateLimitBody = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    api.control.set_rate_limit(body.per_minute);
    Json(json!({ "per_minute": body.per_minute })).into_response()
}

async fn stats(State(api): State<ControlApi>) -> Response {
    let stats = lock(&api.control.stats);
    let statuses: BTreeMap<String, u64> = stats
        .by_status
        .iter()
        .map(|(code, n)| (code.to_string(), *n))
        .collect();
    let body = json!({
        "requests": stats.by_path,
        "statuses": statuses,
        "total": stats.total,
    });
    drop(stats);
    (StatusCode::OK, Json(body)).into_response()
}

/// A response with a JSON body and the given status (vendor handlers build on it).
pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_admits_n_per_window_then_reports_the_wait() {
        let mut limiter = Limiter {
            per_minute: 2,
            ..Limiter::default()
        };
        let t0 = Instant::now();
        assert!(limiter.admit(t0).is_ok());
        assert!(limiter.admit(t0 + Duration::from_secs(10)).is_ok());
        assert_eq!(limiter.admit(t0 + Duration::from_secs(20)), Err(40));
        assert_eq!(
            limiter.admit(t0 + Duration::from_millis(59_500)),
            Err(1),
            "partial seconds round up"
        );
        assert!(limiter.admit(t0 + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn zero_means_unlimited() {
        let mut limiter = Limiter::default();
        let t0 = Instant::now();
        for _ in 0..1000 {
            assert!(limiter.admit(t0).is_ok());
        }
    }
}
