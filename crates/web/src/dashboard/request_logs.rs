//! Request logs: search by request id, connection, status and time; one request in full
//! (headers and bodies, redacted before they were stored).

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::Response,
    routing::get,
    Json, Router,
};
use millwright_api::{extract::ApiQuery, routes::request_logs as api, AppState};
use serde::Deserialize;
use serde_json::Value;

use super::session::SignedIn;
use super::view::{describe, percent_encode, pretty, query, ts, Flash, Layout};
use super::{api_error_page, not_found};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard/request-logs", get(list))
        .route("/dashboard/request-logs/{request_id}", get(detail))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Search {
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    connection_id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    cursor: String,
}

/// `since` as typed: RFC 3339, or what a `datetime-local` input sends (`2026-11-27T16:05`,
/// read as UTC).
pub(crate) fn since_rfc3339(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if millwright_core::time::parse(s).is_some() {
        return Some(s.to_string());
    }
    for fmt in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(millwright_core::time::format(&t.and_utc()));
        }
    }
    Some(s.to_string()) // left for the API to refuse with its own message
}

struct Row {
    href: String,
    request_id: String,
    method: String,
    path: String,
    status: i64,
    status_class: &'static str,
    error_code: String,
    connection: String,
    duration_ms: i64,
    at: String,
}

#[derive(Template)]
#[template(path = "dashboard/request_logs.html")]
struct ListPage {
    l: Layout,
    s: Search,
    rows: Vec<Row>,
    next: String,
}

fn status_class(status: i64) -> &'static str {
    match status {
        200..=399 => "good",
        400..=499 => "warn",
        _ => "bad",
    }
}

/// `GET /dashboard/request-logs?request_id=&connection_id=&status=&since=&cursor=`.
async fn list(State(state): State<AppState>, me: SignedIn, Query(s): Query<Search>) -> Response {
    let mut me = me;
    let status = match s.status.trim() {
        "" => None,
        v => match v.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                me.flash = Some(Flash::error(
                    "Status must be an HTTP status code, e.g. 404.",
                ));
                None
            }
        },
    };
    let nonempty = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    let q = api::RequestLogQuery {
        request_id: nonempty(&s.request_id),
        connection_id: nonempty(&s.connection_id),
        status,
        since: since_rfc3339(&s.since),
        cursor: nonempty(&s.cursor),
        page_size: Some(50),
    };
    let (rows, next) = match api::list(State(state), me.auth(), ApiQuery(q)).await {
        Ok(Json(list)) => {
            let next = list
                .next_cursor
                .map(|c| {
                    format!(
                        "/dashboard/request-logs{}",
                        query(&[
                            ("request_id", &s.request_id),
                            ("connection_id", &s.connection_id),
                            ("status", &s.status),
                            ("since", &s.since),
                            ("cursor", &c),
                        ])
                    )
                })
                .unwrap_or_default();
            let rows = list
                .data
                .into_iter()
                .map(|l| Row {
                    href: format!("/dashboard/request-logs/{}", percent_encode(&l.request_id)),
                    status_class: status_class(l.status),
                    error_code: l.error_code.unwrap_or_default(),
                    connection: l.connection_id.unwrap_or_default(),
                    at: ts(&l.created_at),
                    request_id: l.request_id,
                    method: l.method,
                    path: l.path,
                    status: l.status,
                    duration_ms: l.duration_ms,
                })
                .collect();
            (rows, next)
        }
        Err(e) if e.parts().0.is_client_error() => {
            me.flash = Some(Flash::error(describe(&e)));
            (Vec::new(), String::new())
        }
        Err(e) => return api_error_page(&e),
    };
    me.page(&ListPage {
        l: me.layout("Request logs", "request-logs"),
        s,
        rows,
        next,
    })
}

#[derive(Template)]
#[template(path = "dashboard/request_log.html")]
struct DetailPage {
    l: Layout,
    request_id: String,
    method: String,
    path: String,
    status: i64,
    status_class: &'static str,
    error_code: String,
    connection: String,
    connection_href: String,
    duration_ms: i64,
    at: String,
    headers: Vec<(String, String)>,
    request_body: String,
    response_body: String,
}

/// A stored body for display: JSON pretty-printed, anything else as stored.
fn body_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(j) => pretty(&j),
            Err(_) => s.clone(),
        },
        Some(other) => pretty(other),
    }
}

/// `GET /dashboard/request-logs/{request_id}`.
async fn detail(
    State(state): State<AppState>,
    me: SignedIn,
    Path(request_id): Path<String>,
) -> Response {
    let l = match api::get(State(state), me.auth(), Path(request_id)).await {
        Ok(Json(l)) => l,
        Err(e) if e.parts().0 == http::StatusCode::NOT_FOUND => return not_found("request"),
        Err(e) => return api_error_page(&e),
    };
    let request = l.request.clone().unwrap_or(Value::Null);
    let response = l.response.clone().unwrap_or(Value::Null);
    let headers = match request.get("headers") {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string()),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    let connection = l.connection_id.clone().unwrap_or_default();
    me.page(&DetailPage {
        l: me.layout(format!("Request {}", l.request_id), "request-logs"),
        connection_href: if connection.is_empty() {
            String::new()
        } else {
            format!("/dashboard/connections/{}", percent_encode(&connection))
        },
        connection,
        status_class: status_class(l.status),
        error_code: l.error_code.unwrap_or_default(),
        at: ts(&l.created_at),
        request_body: body_text(request.get("body")),
        response_body: body_text(response.get("body")),
        headers,
        request_id: l.request_id,
        method: l.method,
        path: l.path,
        status: l.status,
        duration_ms: l.duration_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_rfc3339_and_datetime_local() {
        assert_eq!(
            since_rfc3339("2026-11-27T16:05"),
            Some("2026-11-27T16:05:00Z".into())
        );
        assert_eq!(
            since_rfc3339("2026-11-27T16:05:00+01:00"),
            Some("2026-11-27T16:05:00+01:00".into())
        );
        assert_eq!(since_rfc3339("  "), None);
        assert_eq!(since_rfc3339("yesterday"), Some("yesterday".into()));
    }
}
