//! Credits: the workspace's pool, what is used, and by which connection.

use askama::Template;
use axum::{extract::State, response::Response, routing::get, Json, Router};
use millwright_api::{
    extract::ApiQuery,
    routes::{connections as api, credits},
    AppState,
};
use millwright_core::status::ConnectionStatus;

use super::api_error_page;
use super::connections::status_label;
use super::session::SignedIn;
use super::view::{percent_encode, Layout};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/dashboard/credits", get(page))
}

struct Use {
    href: String,
    name: String,
    connector: String,
    deployment: &'static str,
    status: String,
    credits: i64,
}

#[derive(Template)]
#[template(path = "dashboard/credits.html")]
struct CreditsPage {
    l: Layout,
    limit: i64,
    used: i64,
    available: i64,
    /// Whole percent used, for the meter.
    percent: i64,
    uses: Vec<Use>,
}

/// `GET /dashboard/credits`.
async fn page(State(state): State<AppState>, me: SignedIn) -> Response {
    let usage = match credits::get(State(state.clone()), me.auth()).await {
        Ok(Json(u)) => u,
        Err(e) => return api_error_page(&e),
    };
    // Every live connection holds its credits; disconnected ones returned theirs.
    let mut uses = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut p = vec![("page_size".to_string(), "100".to_string())];
        if let Some(c) = &cursor {
            p.push(("cursor".into(), c.clone()));
        }
        let got = match api::list(State(state.clone()), me.auth(), ApiQuery(p)).await {
            Ok(Json(l)) => l,
            Err(e) => return api_error_page(&e),
        };
        uses.extend(
            got.data
                .into_iter()
                .filter(|c| c.status != ConnectionStatus::Disconnected)
                .map(|c| Use {
                    href: format!("/dashboard/connections/{}", percent_encode(&c.id)),
                    connector: state
                        .connectors
                        .descriptor(&c.connector)
                        .map(|d| d.name.to_string())
                        .unwrap_or(c.connector),
                    deployment: c.deployment.as_str(),
                    status: status_label(c.status),
                    credits: c.credits,
                    name: c.name,
                }),
        );
        match got.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    uses.sort_by(|a, b| b.credits.cmp(&a.credits).then(a.name.cmp(&b.name)));
    let percent = if usage.limit > 0 {
        (usage.used * 100 / usage.limit).clamp(0, 100)
    } else {
        0
    };
    me.page(&CreditsPage {
        l: me.layout("Credits", "credits"),
        limit: usage.limit,
        used: usage.used,
        available: usage.available,
        percent,
        uses,
    })
}
