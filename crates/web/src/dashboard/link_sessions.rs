//! Link sessions: the pending ones, and a form to create one — a magic link to send by e-mail
//! (up to 30 days), an embeddable session for given origins, or a reauthorization of an
//! existing connection. Creating calls the API's handler; the URL is shown once.

use askama::Template;
use axum::{
    extract::{Query, State},
    response::Response,
    routing::get,
    Json, Router,
};
use millwright_api::{
    extract::{ApiJson, ApiQuery},
    routes::link_sessions as api,
    AppState,
};
use serde::Deserialize;
use serde_json::Value;

use super::api_error_page;
use super::csrf::Posted;
use super::session::SignedIn;
use super::view::{describe, percent_encode, query, ts, ts_opt, Flash, Layout};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/dashboard/link-sessions", get(list).post(create))
}

/// The expiry choices of the form, in seconds.
const EXPIRIES: [(u64, &str); 4] = [
    (3600, "1 hour"),
    (86_400, "1 day"),
    (7 * 86_400, "7 days"),
    (30 * 86_400, "30 days (magic link by e-mail)"),
];

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filter {
    #[serde(default)]
    status: String,
    #[serde(default)]
    cursor: String,
    /// Pre-fills the form for reauthorizing this connection.
    #[serde(default)]
    connection_id: String,
}

struct Row {
    id: String,
    purpose: String,
    status: String,
    connectors: String,
    name: String,
    connection: String,
    connection_href: String,
    expires: String,
    created: String,
    completed: String,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "dashboard/link_sessions.html")]
struct ListPage {
    l: Layout,
    status: String,
    rows: Vec<Row>,
    next: String,
    connectors: Vec<Choice>,
    expiries: Vec<Choice>,
    connection_id: String,
}

/// `GET /dashboard/link-sessions?status=&connection_id=`.
async fn list(State(state): State<AppState>, me: SignedIn, Query(f): Query<Filter>) -> Response {
    let mut me = me;
    let status = if f.status.is_empty() {
        "pending".to_string()
    } else {
        f.status.clone()
    };
    let q = api::ListLinkSessions {
        status: Some(status.clone()),
        cursor: Some(f.cursor.clone()).filter(|c| !c.is_empty()),
        page_size: Some(50),
    };
    let (rows, next) = match api::list(State(state.clone()), me.auth(), ApiQuery(q)).await {
        Ok(Json(list)) => (
            list.data
                .into_iter()
                .map(|s| {
                    let connection = s.connection_id.unwrap_or_default();
                    Row {
                        connection_href: if connection.is_empty() {
                            String::new()
                        } else {
                            format!("/dashboard/connections/{}", percent_encode(&connection))
                        },
                        connection,
                        connectors: s.connectors.join(", "),
                        name: s.name.unwrap_or_default(),
                        expires: ts(&s.expires_at),
                        created: ts(&s.created_at),
                        completed: ts_opt(&s.completed_at),
                        id: s.id,
                        purpose: s.purpose,
                        status: s.status,
                    }
                })
                .collect(),
            list.next_cursor
                .map(|c| {
                    format!(
                        "/dashboard/link-sessions{}",
                        query(&[("status", &status), ("cursor", &c)])
                    )
                })
                .unwrap_or_default(),
        ),
        Err(e) if e.parts().0.is_client_error() => {
            me.flash = Some(Flash::error(describe(&e)));
            (Vec::new(), String::new())
        }
        Err(e) => return api_error_page(&e),
    };
    me.page(&ListPage {
        l: me.layout("Link sessions", "link-sessions"),
        rows,
        next,
        connectors: state
            .connectors
            .descriptors()
            .map(|d| Choice {
                value: d.id.into(),
                label: d.name.into(),
                selected: false,
            })
            .collect(),
        expiries: EXPIRIES
            .iter()
            .map(|(secs, label)| Choice {
                value: secs.to_string(),
                label: label.to_string(),
                selected: *secs == 3600,
            })
            .collect(),
        connection_id: f.connection_id,
        status,
    })
}

#[derive(Template)]
#[template(path = "dashboard/link_session_created.html")]
struct CreatedPage {
    l: Layout,
    id: String,
    url: String,
    purpose: String,
    expires: String,
}

/// A list typed in a text field: comma- or whitespace-separated.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// `POST /dashboard/link-sessions`: creates a session and shows its URL, once.
async fn create(State(state): State<AppState>, Posted { me, form }: Posted) -> Response {
    let back = "/dashboard/link-sessions";
    let metadata = match form.text("metadata") {
        "" => None,
        text => match serde_json::from_str::<Value>(text) {
            Ok(v) => Some(v),
            Err(e) => {
                return me.redirect(
                    back,
                    Flash::error(format!("Metadata is not valid JSON: {e}")),
                )
            }
        },
    };
    let connectors = form.all("connectors");
    let body = api::CreateLinkSession {
        connectors: Some(connectors).filter(|c| !c.is_empty()),
        name: Some(form.text("name").to_string()).filter(|n| !n.is_empty()),
        metadata,
        redirect_uri: Some(form.text("redirect_uri").to_string()).filter(|u| !u.is_empty()),
        allowed_origins: Some(words(form.text("allowed_origins"))).filter(|o| !o.is_empty()),
        expires_in: form.get("expires_in").and_then(|s| s.parse().ok()),
        connection_id: Some(form.text("connection_id").to_string()).filter(|c| !c.is_empty()),
    };
    match api::create(State(state), me.auth(), ApiJson(body)).await {
        Ok((_, Json(created))) => me.page(&CreatedPage {
            l: me.layout("Link session created", "link-sessions"),
            id: created.session.id,
            purpose: created.session.purpose,
            expires: ts(&created.session.expires_at),
            url: created.url,
        }),
        Err(e) if e.parts().0 == http::StatusCode::NOT_FOUND => super::not_found("connection"),
        Err(e) => me.redirect(back, Flash::error(describe(&e))),
    }
}
