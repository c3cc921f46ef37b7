//! `GET /metrics` end to end: the page parses with a strict Prometheus text-format parser, and
//! its series move while the MaintainX simulator is synced.
//!
//! Series are process-wide (one recorder per process) and other tests in this binary run
//! servers and syncs at the same time, so counters are compared as increases between two
//! scrapes (`>=`), and gauges are polled until this server's refresh shows its own values.

use std::time::Duration;

use openmetrics_parser::{
    prometheus::parse_prometheus, MetricsExposition, PrometheusType, PrometheusValue,
};
use reqwest::{header::CONTENT_TYPE, Method, StatusCode};
use serde_json::json;

use crate::{common::*, sync::initial_sync_done};

type Exposition = MetricsExposition<PrometheusType, PrometheusValue>;

async fn scrape(env: &TestEnv) -> Exposition {
    let resp = env
        .http
        .get(format!("{}/metrics", env.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let content_type = resp.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = resp.text().await.unwrap();
    parse_prometheus(&text).unwrap_or_else(|e| panic!("/metrics does not parse: {e:?}\n{text}"))
}

/// The sum of the samples of `family` whose labels include every pair of `labels` (counters and
/// gauges by value, histograms by observation count); `None` when no sample matches.
fn value(x: &Exposition, family: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let f = x.families.get(family)?;
    let mut total = None;
    for s in f.iter_samples() {
        let set = s.get_labelset().unwrap();
        if labels
            .iter()
            .all(|(k, v)| set.get_label_value(k) == Some(*v))
        {
            let v = match &s.value {
                PrometheusValue::Counter(c) => c.value.as_f64(),
                PrometheusValue::Gauge(g) | PrometheusValue::Unknown(g) => g.as_f64(),
                PrometheusValue::Histogram(h) => h.count.unwrap_or(0) as f64,
                PrometheusValue::Summary(s) => s.count.unwrap_or(0) as f64,
            };
            *total.get_or_insert(0.0) += v;
        }
    }
    total
}

fn family_type(x: &Exposition, family: &str) -> PrometheusType {
    x.families
        .get(family)
        .unwrap_or_else(|| panic!("no {family} on /metrics"))
        .family_type
        .clone()
}

/// Scrapes until `ok` holds for the page (up to 30 s); returns that page.
async fn scrape_until(env: &TestEnv, what: &str, ok: impl Fn(&Exposition) -> bool) -> Exposition {
    for _ in 0..300 {
        let x = scrape(env).await;
        if ok(&x) {
            return x;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let x = scrape(env).await;
    let sync: Vec<String> = [
        "millwright_sync_runs_total",
        "millwright_sync_records_total",
    ]
    .iter()
    .filter_map(|f| x.families.get(*f))
    .map(|f| f.to_string())
    .collect();
    panic!(
        "/metrics never showed {what}; sync series now:\n{}",
        sync.join("")
    );
}

#[tokio::test]
async fn metrics_parse_and_move_during_a_sync() {
    let env = TestEnv::start_with(Backend::Sqlite, |c| c.metrics_refresh_seconds = 1).await;
    let ws = env.workspace(10).await;
    // The same wide history window as the sync tests, so the simulator's changes are in view.
    let mut body = env.maintainx_body("metrics");
    body["sync"] = json!({"history_days": 3650});
    let (status, created) = env
        .call(Method::POST, "/api/v1/connections", &ws.key, Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let con = created["connection"]["id"].as_str().unwrap().to_owned();
    let token = created["access_token"].as_str().unwrap().to_owned();
    initial_sync_done(&env, &token).await;
    let (status, _) = env
        .call(Method::GET, &format!("/no/such/{con}"), &ws.key, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let mx = [("connector", "maintainx")];
    let wo = [("connector", "maintainx"), ("entity", "work_orders")];
    // The initial run is counted just after it is stored as completed; wait for it, and for
    // this server's gauge refresh, before taking the baseline.
    let before = scrape_until(&env, "the initial sync and the job gauges", |x| {
        value(
            x,
            "millwright_sync_runs_total",
            &[wo[0], wo[1], ("outcome", "completed")],
        )
        .is_some_and(|v| v >= 1.0)
            && value(x, "millwright_jobs_queued", &[("kind", "sync")]).is_some_and(|v| v >= 1.0)
            && value(x, "millwright_connections", &[("status", "active")]).is_some_and(|v| v >= 1.0)
    })
    .await;

    // Types as Prometheus reads them.
    for (family, ty) in [
        ("millwright_http_requests_total", PrometheusType::Counter),
        (
            "millwright_http_request_duration_seconds",
            PrometheusType::Histogram,
        ),
        ("millwright_sync_runs_total", PrometheusType::Counter),
        ("millwright_sync_records_total", PrometheusType::Counter),
        ("millwright_jobs_queued", PrometheusType::Gauge),
        (
            "millwright_jobs_oldest_due_age_seconds",
            PrometheusType::Gauge,
        ),
        ("millwright_connections", PrometheusType::Gauge),
    ] {
        assert_eq!(family_type(&before, family), ty, "{family}");
    }

    // HTTP: by route template, never the raw path; unknown paths share one series.
    let created = [
        ("route", "/api/v1/connections"),
        ("method", "POST"),
        ("status", "201"),
    ];
    assert!(value(&before, "millwright_http_requests_total", &created).unwrap() >= 1.0);
    assert!(
        value(
            &before,
            "millwright_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        )
        .unwrap()
            >= 1.0
    );
    let routes = before.families["millwright_http_requests_total"]
        .iter_samples()
        .map(|s| {
            s.get_labelset()
                .unwrap()
                .get_label_value("route")
                .unwrap()
                .to_owned()
        })
        .collect::<Vec<_>>();
    assert!(
        routes.iter().all(|r| !r.contains("con_")),
        "a raw path became a label: {routes:?}"
    );
    let status_route = [("route", "/api/v1/sync-status"), ("method", "GET")];
    assert!(
        value(
            &before,
            "millwright_http_request_duration_seconds",
            &status_route
        )
        .unwrap()
            >= 1.0
    );

    // Sync: the initial runs of this connector are counted with their records.
    assert!(value(&before, "millwright_sync_runs_total", &mx).unwrap() >= 7.0);
    assert!(
        value(
            &before,
            "millwright_sync_records_total",
            &[mx[0], ("change", "created")]
        )
        .unwrap()
            > 0.0
    );
    // Jobs: the next sync of every entity waits in the queue.
    assert!(
        value(
            &before,
            "millwright_jobs_oldest_due_age_seconds",
            &[("kind", "sync")]
        )
        .unwrap()
            >= 0.0
    );
    for status in [
        "pending",
        "syncing",
        "active",
        "offline",
        "requires_reauthorization",
        "disconnected",
    ] {
        assert!(
            value(&before, "millwright_connections", &[("status", status)]).is_some(),
            "{status}"
        );
    }

    // Changes at the source and a triggered sync move the counters.
    env.sim_control(
        "mutate",
        json!({"entity": "work_orders", "op": "update", "count": 3}),
    )
    .await;
    env.sim_control(
        "mutate",
        json!({"entity": "work_orders", "op": "create", "count": 2}),
    )
    .await;
    let (s, body) = env
        .call(
            Method::POST,
            "/api/v1/sync",
            &token,
            Some(json!({"entities": ["work_orders"]})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{body}");
    let grew = |x: &Exposition, family: &str, labels: &[(&str, &str)], by: f64| {
        value(x, family, labels).unwrap_or(0.0) - value(&before, family, labels).unwrap_or(0.0)
            >= by
    };
    let records = "millwright_sync_records_total";
    let after = scrape_until(&env, "the triggered run's records", |x| {
        grew(x, records, &[wo[0], wo[1], ("change", "created")], 2.0)
            && grew(x, records, &[wo[0], wo[1], ("change", "updated")], 3.0)
    })
    .await;
    assert!(grew(
        &after,
        "millwright_sync_runs_total",
        &[wo[0], wo[1], ("outcome", "completed")],
        1.0
    ));
    let triggered = [
        ("route", "/api/v1/sync"),
        ("method", "POST"),
        ("status", "202"),
    ];
    assert!(grew(
        &after,
        "millwright_http_requests_total",
        &triggered,
        1.0
    ));
    assert!(grew(
        &after,
        "millwright_http_request_duration_seconds",
        &[triggered[0], triggered[1]],
        1.0
    ));
}

/// Webhook attempts by outcome and probe latency by connector and outcome: both parse as
/// their Prometheus types and move when a delivery is attempted and a probe runs.
#[tokio::test]
async fn webhook_attempts_and_probe_latency_move() {
    let env = TestEnv::start_with(Backend::Sqlite, |c| {
        c.allow_private_webhook_targets = true;
        c.probe_interval_seconds = 1;
    })
    .await;
    let ws = env.workspace(10).await;
    let (receiver, url) = crate::webhooks::Receiver::start().await;
    let (s, endpoint) = env
        .call(
            Method::POST,
            "/api/v1/webhook-endpoints",
            &ws.key,
            Some(json!({"url": url})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{endpoint}");
    let attempts = "millwright_webhook_attempts_total";
    let probes = "millwright_probe_duration_seconds";
    let before = scrape(&env).await;
    let succeeded = |x: &Exposition| value(x, attempts, &[("outcome", "succeeded")]).unwrap_or(0.0);
    let probed = |x: &Exposition| {
        value(x, probes, &[("connector", "maintainx"), ("outcome", "ok")]).unwrap_or(0.0)
    };

    let id = endpoint["id"].as_str().unwrap();
    let (s, _) = env
        .call(
            Method::POST,
            &format!("/api/v1/webhook-endpoints/{id}/test"),
            &ws.key,
            None,
        )
        .await;
    assert!(s.is_success(), "{s}");
    // A connection whose first sync completes is probed every second from then on.
    connect_synced(&env, &ws, env.maintainx_body("Plant")).await;
    let after = scrape_until(&env, "a delivery attempt and a probe", |x| {
        succeeded(x) > succeeded(&before) && probed(x) > probed(&before)
    })
    .await;
    assert_eq!(family_type(&after, attempts), PrometheusType::Counter);
    assert_eq!(family_type(&after, probes), PrometheusType::Histogram);
    assert!(
        !receiver.ids().is_empty(),
        "the receiver got the test event"
    );
}
