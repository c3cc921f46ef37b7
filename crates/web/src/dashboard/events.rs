//! Events: the workspace's event stream, filterable by type and connection. The API lists
//! events oldest first (a feed to follow); the page starts at a chosen time (by default an
//! hour ago, with quick links for other spans) and pages forward.

use askama::Template;
use axum::{
    extract::{Query, State},
    response::Response,
    routing::get,
    Json, Router,
};
use millwright_api::{extract::ApiQuery, routes::events as api, AppState};
use serde::Deserialize;

use super::api_error_page;
use super::request_logs::since_rfc3339;
use super::session::SignedIn;
use super::view::{describe, percent_encode, pretty, query, ts, Flash, Layout};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/dashboard/events", get(list))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filter {
    #[serde(default, rename = "type")]
    event_type: String,
    #[serde(default)]
    connection_id: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    cursor: String,
}

struct Row {
    id: String,
    event_type: String,
    at: String,
    connection: String,
    connection_href: String,
    data: String,
}

#[derive(Template)]
#[template(path = "dashboard/events.html")]
struct EventsPage {
    l: Layout,
    f: Filter,
    since_shown: String,
    spans: Vec<(String, &'static str)>,
    rows: Vec<Row>,
    next: String,
}

/// `GET /dashboard/events?type=&connection_id=&since=&cursor=`.
async fn list(State(state): State<AppState>, me: SignedIn, Query(f): Query<Filter>) -> Response {
    let mut me = me;
    let since = since_rfc3339(&f.since).unwrap_or_else(|| {
        millwright_core::time::format(&(millwright_core::time::now() - chrono::Duration::hours(1)))
    });
    let nonempty = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    let q = api::EventQuery {
        event_type: nonempty(&f.event_type),
        connection_id: nonempty(&f.connection_id),
        since: Some(since.clone()),
        cursor: nonempty(&f.cursor),
        page_size: Some(100),
    };
    let (rows, next) = match api::list(State(state), me.auth(), ApiQuery(q)).await {
        Ok(Json(list)) => {
            let next = list
                .next_cursor
                .map(|c| {
                    format!(
                        "/dashboard/events{}",
                        query(&[
                            ("type", &f.event_type),
                            ("connection_id", &f.connection_id),
                            ("since", &since),
                            ("cursor", &c),
                        ])
                    )
                })
                .unwrap_or_default();
            let rows = list
                .data
                .into_iter()
                .map(|e| {
                    let connection = e.connection_id.unwrap_or_default();
                    Row {
                        connection_href: if connection.is_empty() {
                            String::new()
                        } else {
                            format!("/dashboard/connections/{}", percent_encode(&connection))
                        },
                        connection,
                        at: ts(&e.timestamp),
                        data: pretty(&e.data),
                        id: e.id,
                        event_type: e.event_type,
                    }
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
    let now = millwright_core::time::now();
    let spans = [
        (chrono::Duration::minutes(5), "last 5 minutes"),
        (chrono::Duration::hours(1), "last hour"),
        (chrono::Duration::hours(24), "last 24 hours"),
        (chrono::Duration::days(7), "last 7 days"),
    ]
    .into_iter()
    .map(|(d, label)| {
        let since = millwright_core::time::format(&(now - d));
        (
            format!(
                "/dashboard/events{}",
                query(&[
                    ("type", &f.event_type),
                    ("connection_id", &f.connection_id),
                    ("since", &since),
                ])
            ),
            label,
        )
    })
    .collect();
    me.page(&EventsPage {
        l: me.layout("Events", "events"),
        spans,
        since_shown: since,
        f,
        rows,
        next,
    })
}
