//! Webhooks: endpoints (create, edit, disable, rotate secret, send test, recover since a
//! time) and deliveries with their attempts (retry one). Secrets are shown once, on the page
//! answering the create or the rotation.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::Response,
    routing::{get, post},
    Json, Router,
};
use http::StatusCode;
use millwright_api::{
    extract::{ApiJson, ApiQuery},
    pagination::PageParams,
    routes::webhooks::{self as api, DeliveryView, EndpointView},
    ApiResult, AppState,
};
use serde::Deserialize;

use super::csrf::{FormData, Posted};
use super::request_logs::since_rfc3339;
use super::session::SignedIn;
use super::view::{describe, percent_encode, query, ts, ts_opt, Flash, Layout};
use super::{api_error_page, not_found};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard/webhooks", get(endpoints).post(create))
        .route("/dashboard/webhooks/deliveries", get(deliveries))
        .route(
            "/dashboard/webhooks/deliveries/{id}/retry",
            post(retry_delivery),
        )
        .route("/dashboard/webhooks/{id}", get(endpoint))
        .route("/dashboard/webhooks/{id}/edit", post(edit))
        .route("/dashboard/webhooks/{id}/disable", post(disable))
        .route("/dashboard/webhooks/{id}/rotate", post(rotate))
        .route("/dashboard/webhooks/{id}/test", post(test))
        .route("/dashboard/webhooks/{id}/recover", post(recover))
}

fn here(id: &str) -> String {
    format!("/dashboard/webhooks/{}", percent_encode(id))
}

/// An action's result: redirect to `back` with a message, or 404 for another workspace's
/// endpoint or delivery (nothing was changed).
fn after<T>(me: &SignedIn, back: &str, r: ApiResult<T>, ok: impl FnOnce(T) -> String) -> Response {
    match r {
        Ok(v) => me.redirect(back, Flash::ok(ok(v))),
        Err(e) if e.parts().0 == StatusCode::NOT_FOUND => not_found("webhook endpoint or delivery"),
        Err(e) => me.redirect(back, Flash::error(describe(&e))),
    }
}

/// A list typed in a text field: comma- or whitespace-separated.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

struct EndpointRow {
    href: String,
    id: String,
    url: String,
    description: String,
    event_types: String,
    connections: String,
    disabled: bool,
    disabled_reason: String,
    created: String,
}

fn endpoint_row(e: &EndpointView) -> EndpointRow {
    EndpointRow {
        href: here(&e.id),
        id: e.id.clone(),
        url: e.url.clone(),
        description: e.description.clone().unwrap_or_default(),
        event_types: e.event_types.join(", "),
        connections: e.connection_ids.join(", "),
        disabled: e.disabled,
        disabled_reason: e.disabled_reason.clone().unwrap_or_default(),
        created: ts(&e.created_at),
    }
}

#[derive(Template)]
#[template(path = "dashboard/webhooks.html")]
struct EndpointsPage {
    l: Layout,
    rows: Vec<EndpointRow>,
    next: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Cursor {
    #[serde(default)]
    cursor: String,
}

/// `GET /dashboard/webhooks`: endpoints and the form to add one.
async fn endpoints(
    State(state): State<AppState>,
    me: SignedIn,
    Query(c): Query<Cursor>,
) -> Response {
    let page = PageParams {
        cursor: Some(c.cursor).filter(|c| !c.is_empty()),
        page_size: Some(100),
    };
    let list = match api::list(State(state), me.auth(), ApiQuery(page)).await {
        Ok(Json(l)) => l,
        Err(e) => return api_error_page(&e),
    };
    me.page(&EndpointsPage {
        l: me.layout("Webhooks", "webhooks"),
        rows: list.data.iter().map(endpoint_row).collect(),
        next: list
            .next_cursor
            .map(|c| format!("/dashboard/webhooks{}", query(&[("cursor", &c)])))
            .unwrap_or_default(),
    })
}

#[derive(Template)]
#[template(path = "dashboard/webhook_secret.html")]
struct SecretPage {
    l: Layout,
    href: String,
    url: String,
    secret: String,
    created: bool,
}

/// `POST /dashboard/webhooks` `{url, description, event_types, connection_ids}`: creates the
/// endpoint and shows its signing secret, once.
async fn create(State(state): State<AppState>, Posted { me, form }: Posted) -> Response {
    let body = api::CreateEndpoint {
        url: form.text("url").to_string(),
        event_types: Some(words(form.text("event_types"))),
        connection_ids: Some(words(form.text("connection_ids"))),
        description: Some(form.text("description").to_string()).filter(|d| !d.is_empty()),
        disabled: Some(false),
    };
    match api::create(State(state), me.auth(), ApiJson(body)).await {
        Ok((_, Json(created))) => me.page(&SecretPage {
            l: me.layout("Webhook endpoint created", "webhooks"),
            href: here(&created.endpoint.id),
            url: created.endpoint.url,
            secret: created.secret,
            created: true,
        }),
        Err(e) => me.redirect("/dashboard/webhooks", Flash::error(describe(&e))),
    }
}

struct AttemptRow {
    at: String,
    status_code: String,
    duration_ms: i64,
    excerpt: String,
    error: String,
}

struct DeliveryRow {
    id: String,
    endpoint_href: String,
    endpoint_id: String,
    event_id: String,
    event_type: String,
    status: &'static str,
    attempt_count: i64,
    next_attempt: String,
    created: String,
    attempts: Vec<AttemptRow>,
}

fn delivery_row(d: &DeliveryView) -> DeliveryRow {
    DeliveryRow {
        id: d.id.clone(),
        endpoint_href: here(&d.endpoint_id),
        endpoint_id: d.endpoint_id.clone(),
        event_id: d.event_id.clone(),
        event_type: d.event_type.clone(),
        status: d.status,
        attempt_count: d.attempt_count,
        next_attempt: ts_opt(&d.next_attempt_at),
        created: ts(&d.created_at),
        attempts: d
            .attempts
            .iter()
            .map(|a| AttemptRow {
                at: ts(&a.attempted_at),
                status_code: a
                    .status_code
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "—".into()),
                duration_ms: a.duration_ms,
                excerpt: a.response_excerpt.clone().unwrap_or_default(),
                error: a.error.clone().unwrap_or_default(),
            })
            .collect(),
    }
}

async fn delivery_rows(
    state: &AppState,
    me: &SignedIn,
    endpoint_id: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
) -> ApiResult<(Vec<DeliveryRow>, Option<String>)> {
    let q = api::DeliveryQuery {
        endpoint_id,
        status,
        event_id: None,
        cursor,
        page_size: Some(50),
    };
    let Json(list) = api::list_deliveries(State(state.clone()), me.auth(), ApiQuery(q)).await?;
    Ok((
        list.data.iter().map(delivery_row).collect(),
        list.next_cursor,
    ))
}

#[derive(Template)]
#[template(path = "dashboard/webhook.html")]
struct EndpointPage {
    l: Layout,
    e: EndpointRow,
    deliveries: Vec<DeliveryRow>,
    back: String,
    more: String,
}

/// `GET /dashboard/webhooks/{id}`: the endpoint, its settings and its latest deliveries.
async fn endpoint(State(state): State<AppState>, me: SignedIn, Path(id): Path<String>) -> Response {
    let e = match api::get(State(state.clone()), me.auth(), Path(id.clone())).await {
        Ok(Json(e)) => e,
        Err(e) => return api_error_page(&e),
    };
    let (deliveries, next) = match delivery_rows(&state, &me, Some(id.clone()), None, None).await {
        Ok(d) => d,
        Err(e) => return api_error_page(&e),
    };
    me.page(&EndpointPage {
        l: me.layout(format!("Webhook endpoint {}", e.url), "webhooks"),
        e: endpoint_row(&e),
        deliveries,
        back: here(&id),
        more: next
            .map(|_| {
                format!(
                    "/dashboard/webhooks/deliveries{}",
                    query(&[("endpoint_id", &id)])
                )
            })
            .unwrap_or_default(),
    })
}

/// `POST …/{id}/edit` `{url, description, event_types, connection_ids}`.
async fn edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let description = form.text("description");
    let body = api::PatchEndpoint {
        url: Some(form.text("url").to_string()),
        event_types: Some(words(form.text("event_types"))),
        connection_ids: Some(words(form.text("connection_ids"))),
        description: Some(Some(description.to_string()).filter(|d| !d.is_empty())),
        disabled: None,
    };
    let r = api::patch(State(state), me.auth(), Path(id.clone()), ApiJson(body)).await;
    after(&me, &here(&id), r, |_| "Endpoint saved.".into())
}

/// `POST …/{id}/disable` `{disabled: true|false}`.
async fn disable(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let disabled = form.get("disabled") == Some("true");
    let body = api::PatchEndpoint {
        url: None,
        event_types: None,
        connection_ids: None,
        description: None,
        disabled: Some(disabled),
    };
    let r = api::patch(State(state), me.auth(), Path(id.clone()), ApiJson(body)).await;
    after(&me, &here(&id), r, |_| {
        if disabled {
            "Endpoint disabled: nothing is delivered to it until you enable it.".into()
        } else {
            "Endpoint enabled.".into()
        }
    })
}

/// `POST …/{id}/rotate`: a new signing secret, shown once; the old one stops signing.
async fn rotate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { me, form: _ }: Posted,
) -> Response {
    let e = match api::get(State(state.clone()), me.auth(), Path(id.clone())).await {
        Ok(Json(e)) => e,
        Err(e) => return after::<()>(&me, &here(&id), Err(e), |_| String::new()),
    };
    match api::rotate_secret(State(state), me.auth(), Path(id.clone())).await {
        Ok(Json(s)) => me.page(&SecretPage {
            l: me.layout("New signing secret", "webhooks"),
            href: here(&id),
            url: e.url,
            secret: s.secret,
            created: false,
        }),
        Err(e) => after::<()>(&me, &here(&id), Err(e), |_| String::new()),
    }
}

/// `POST …/{id}/test`: sends a `webhook.test` event to this endpoint only.
async fn test(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { me, form: _ }: Posted,
) -> Response {
    let r = api::test(State(state), me.auth(), Path(id.clone())).await;
    after(&me, &here(&id), r, |(_, Json(d))| {
        format!("Test event queued as delivery {}.", d.id)
    })
}

/// `POST …/{id}/recover` `{since}`: queues every failed delivery since then again.
async fn recover(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let since = since_rfc3339(form.text("since")).unwrap_or_default();
    let r = api::recover(
        State(state),
        me.auth(),
        Path(id.clone()),
        ApiJson(api::Recover { since }),
    )
    .await;
    after(&me, &here(&id), r, |(_, Json(n))| {
        format!(
            "{} failed deliver{} queued again.",
            n.recovered,
            if n.recovered == 1 { "y" } else { "ies" }
        )
    })
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DeliveryFilter {
    #[serde(default)]
    endpoint_id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    cursor: String,
}

#[derive(Template)]
#[template(path = "dashboard/deliveries.html")]
struct DeliveriesPage {
    l: Layout,
    f: DeliveryFilter,
    deliveries: Vec<DeliveryRow>,
    back: String,
    next: String,
}

/// `GET /dashboard/webhooks/deliveries?endpoint_id=&status=&cursor=`.
async fn deliveries(
    State(state): State<AppState>,
    me: SignedIn,
    Query(f): Query<DeliveryFilter>,
) -> Response {
    let nonempty = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    let (rows, next) = match delivery_rows(
        &state,
        &me,
        nonempty(&f.endpoint_id),
        nonempty(&f.status),
        nonempty(&f.cursor),
    )
    .await
    {
        Ok(d) => d,
        Err(e) => return api_error_page(&e),
    };
    let back = format!(
        "/dashboard/webhooks/deliveries{}",
        query(&[("endpoint_id", &f.endpoint_id), ("status", &f.status)])
    );
    me.page(&DeliveriesPage {
        l: me.layout("Webhook deliveries", "webhooks"),
        next: next
            .map(|c| {
                format!(
                    "/dashboard/webhooks/deliveries{}",
                    query(&[
                        ("endpoint_id", &f.endpoint_id),
                        ("status", &f.status),
                        ("cursor", &c)
                    ])
                )
            })
            .unwrap_or_default(),
        back,
        f,
        deliveries: rows,
    })
}

/// Where to go after an action: the `back` field when it is a dashboard path (never another
/// site: no open redirect), else the deliveries list.
fn back_of(form: &FormData) -> String {
    match form.get("back") {
        Some(b) if b.starts_with("/dashboard/") && !b.starts_with("//") && !b.contains('\\') => {
            b.to_string()
        }
        _ => "/dashboard/webhooks/deliveries".into(),
    }
}

/// `POST /dashboard/webhooks/deliveries/{id}/retry` `{back}`.
async fn retry_delivery(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let back = back_of(&form);
    let r = api::retry_delivery(State(state), me.auth(), Path(id)).await;
    after(&me, &back, r, |(_, Json(d))| {
        format!("Delivery {} queued again.", d.id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_commas_and_spaces() {
        assert_eq!(
            words(" work_order.*, connection.disconnected\nsync.completed ,"),
            vec!["work_order.*", "connection.disconnected", "sync.completed"]
        );
        assert!(words("  ").is_empty());
    }

    #[test]
    fn back_never_leaves_the_dashboard() {
        let f = |b: &str| FormData(vec![("back".into(), b.into())]);
        assert_eq!(
            back_of(&f("/dashboard/webhooks/whe_1")),
            "/dashboard/webhooks/whe_1"
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/dashboard\\..",
            "/api/v1",
        ] {
            assert_eq!(back_of(&f(bad)), "/dashboard/webhooks/deliveries", "{bad}");
        }
    }
}
