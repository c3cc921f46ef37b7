//! `GET /metrics`: every series this process records, in the Prometheus text format.
//!
//! Series are recorded through the `metrics` facade (the sync engine, the webhook dispatcher and
//! the health layer record their own, see `millwright_sync::metrics`,
//! `millwright_webhooks::dispatcher` and `millwright_health`) and
//! rendered by `metrics-exporter-prometheus`, whose own HTTP listener is not used: the page is
//! served by the API router like `/healthz`, outside `/api/v1` and the OpenAPI document.
//!
//! The facade allows one recorder per process, so it is installed lazily, once ([`install`]),
//! and every server started in the process shares it: **series are process-wide**, not per
//! server. That only matters when one process runs several servers (the integration tests do);
//! a deployed node runs one. The database-derived gauges ([`refresh_gauges`]) describe the
//! whole shared database, so every node serving `/metrics` reports the same values: aggregate
//! them across nodes with `max`, not `sum`. The series are listed in `docs/operations.md`.

use std::{
    collections::HashSet,
    sync::{Arc, OnceLock},
    time::Duration,
};

use axum::{
    http::{header, Method, StatusCode},
    response::IntoResponse,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use millwright_core::{status::ConnectionStatus, time};
use millwright_store::{Store, StoreResult};
use tokio::sync::watch;

/// HTTP requests answered, by matched route template, method and status code.
pub const HTTP_REQUESTS_TOTAL: &str = "millwright_http_requests_total";
/// How long requests took, by matched route template and method (a histogram).
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "millwright_http_request_duration_seconds";
/// Jobs waiting in the queue, by kind (due or scheduled for later).
pub const JOBS_QUEUED: &str = "millwright_jobs_queued";
/// How long the oldest due, unclaimed job of a kind has been waiting, in seconds (0 if none).
pub const JOBS_OLDEST_DUE_AGE_SECONDS: &str = "millwright_jobs_oldest_due_age_seconds";
/// Connections across workspaces, by status.
pub const CONNECTIONS: &str = "millwright_connections";

/// The `route` label of requests no route matched (404s): one series for every unknown path,
/// so scanners cannot grow the series without bound.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Latency buckets, in seconds: API reads answer in milliseconds, unified writes and
/// passthrough wait on the source system for seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide Prometheus recorder on first call and returns its handle; later
/// calls (other servers in the same process) share it. Call it before recording anything that
/// should be counted: the facade drops what is recorded while no recorder is installed.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(HTTP_REQUEST_DURATION_SECONDS.into()),
                LATENCY_BUCKETS,
            )
            .expect("the bucket list is not empty")
            .set_buckets_for_metric(
                Matcher::Full(millwright_health::PROBE_DURATION_SECONDS.into()),
                LATENCY_BUCKETS,
            )
            .expect("the bucket list is not empty");
        let handle = match builder.install_recorder() {
            Ok(handle) => handle,
            Err(e) => {
                // Someone embedding Millwright installed a recorder of their own first; it gets
                // every series, and this page stays valid but empty.
                tracing::warn!(error = %e, "another metrics recorder is installed; /metrics will be empty");
                PrometheusBuilder::new().build_recorder().handle()
            }
        };
        describe();
        handle
    })
}

/// The help text of every series, so each shows a `# HELP` line from the first scrape on.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        HTTP_REQUESTS_TOTAL,
        Unit::Count,
        "HTTP requests answered, by matched route template, method and status code."
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION_SECONDS,
        Unit::Seconds,
        "Time to answer an HTTP request, by matched route template and method."
    );
    describe_gauge!(
        JOBS_QUEUED,
        Unit::Count,
        "Queued background jobs, by kind (due now or scheduled for later)."
    );
    describe_gauge!(
        JOBS_OLDEST_DUE_AGE_SECONDS,
        Unit::Seconds,
        "Seconds the oldest due, unclaimed job of a kind has waited (0 when none is due)."
    );
    describe_gauge!(
        CONNECTIONS,
        Unit::Count,
        "Connections across workspaces, by status."
    );
    millwright_sync::metrics::describe_metrics();
    millwright_webhooks::dispatcher::describe_metrics();
    millwright_health::describe_metrics();
}

/// `GET /metrics`.
pub async fn render() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        install().render(),
    )
}

/// Records one answered request. `route` is the matched route template (`None` when no route
/// matched); the raw path is never a label, since ids in it would make a series per record.
pub(crate) fn record_request(
    route: Option<&str>,
    method: &Method,
    status: StatusCode,
    elapsed: Duration,
) {
    let route = route.unwrap_or(UNMATCHED_ROUTE).to_owned();
    let method = method_label(method);
    metrics::counter!(
        HTTP_REQUESTS_TOTAL,
        "route" => route.clone(),
        "method" => method,
        "status" => status.as_u16().to_string(),
    )
    .increment(1);
    metrics::histogram!(
        HTTP_REQUEST_DURATION_SECONDS,
        "route" => route,
        "method" => method,
    )
    .record(elapsed.as_secs_f64());
}

/// Standard methods by name; anything else (clients may send any token) as `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Refreshes the gauges read from the database (queue depth and lag per job kind, connections
/// by status) now and then every `every`, until `shutdown` turns true. Also runs the exporter's
/// upkeep, which drains recorded histogram samples, so memory stays bounded however rarely
/// Prometheus scrapes.
pub async fn refresh_gauges(
    store: Arc<dyn Store>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let handle = install();
    let mut kinds = HashSet::new();
    loop {
        if let Err(e) = refresh_once(store.as_ref(), &mut kinds).await {
            tracing::warn!(error = %e, "could not refresh the metrics gauges");
        }
        handle.run_upkeep();
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

/// One refresh. `kinds` remembers every job kind seen, so a kind whose queue emptied reads 0
/// instead of keeping its last value (the store only reports kinds that have queued jobs).
async fn refresh_once(store: &dyn Store, kinds: &mut HashSet<String>) -> StoreResult<()> {
    let now = time::now();
    let stats = store.job_queue_stats(now).await?;
    let present: HashSet<String> = stats.iter().map(|s| s.kind.clone()).collect();
    for s in &stats {
        let age = s.oldest_due_at.map_or(0.0, |due| {
            (now - due).num_microseconds().unwrap_or(i64::MAX).max(0) as f64 / 1e6
        });
        metrics::gauge!(JOBS_QUEUED, "kind" => s.kind.clone()).set(s.queued as f64);
        metrics::gauge!(JOBS_OLDEST_DUE_AGE_SECONDS, "kind" => s.kind.clone()).set(age);
    }
    for emptied in kinds.difference(&present) {
        metrics::gauge!(JOBS_QUEUED, "kind" => emptied.clone()).set(0.0);
        metrics::gauge!(JOBS_OLDEST_DUE_AGE_SECONDS, "kind" => emptied.clone()).set(0.0);
    }
    kinds.extend(present);

    let counts = store.connection_status_counts().await?;
    // Every status, at 0 when no connection has it, so alerts on e.g.
    // `requires_reauthorization > 0` see a series from the start.
    for status in ConnectionStatus::ALL {
        let n = counts
            .iter()
            .find(|c| c.status == status)
            .map_or(0, |c| c.count);
        metrics::gauge!(CONNECTIONS, "status" => status.as_str()).set(n as f64);
    }
    Ok(())
}
