//! The public status page `/status`, per-workspace pages `/status/w/{workspace_id}`, and the
//! Atlassian Statuspage v2 JSON under their `api/v2/` (issue #6).
//!
//! Every request reads one [`view::StatusView`] from the store ([`load`]) and renders it either
//! as HTML ([`html`]) or as one Statuspage document ([`json`]), so the page and the JSON always
//! tell the same story. The JSON is public, read-only data and is served with
//! `Access-Control-Allow-Origin: *`, as Statuspage does, so browser widgets on other sites can
//! read it.
//!
//! A workspace page exists only while the workspace publishes it; an unknown workspace and an
//! unpublished page get the same `404`, so the page does not reveal which workspaces exist.

pub mod assets;
#[cfg(test)]
mod fixture;
pub mod html;
pub mod json;
pub mod load;
pub mod view;

use askama::Template;
use axum::{
    extract::{Path, State},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
    Json, Router,
};
use http::{header, HeaderValue, StatusCode};
use millwright_api::{ApiError, AppState};
use millwright_store::StoreError;

use self::{html::NotFoundTemplate, json::Document, view::StatusView};

/// How long browsers and proxies may reuse a page or document: consumers poll, and a few
/// seconds of staleness spare the database without hiding an outage.
const CACHE_CONTROL: &str = "public, max-age=10";

/// The routes of this part, merged by [`crate::router`].
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/status", get(platform_page))
        .route("/status/", get(|| async { Redirect::permanent("/status") }))
        .route("/status/api/v2/{*document}", get(platform_json))
        .route("/status/w/{workspace_id}", get(workspace_page))
        .route(
            "/status/w/{workspace_id}/api/v2/{*document}",
            get(workspace_json),
        )
        .route("/status/assets/{file}", get(assets::serve))
}

async fn platform_page(State(state): State<AppState>) -> Response {
    match load::platform(&state, true).await {
        Ok(view) => page(&view, "/status/api/v2/summary.json".into()),
        Err(e) => html_error(e),
    }
}

async fn workspace_page(
    State(state): State<AppState>,
    Path(workspace_id): Path<String>,
) -> Response {
    match load::workspace(&state, &workspace_id, true).await {
        Ok(Some(view)) => page(
            &view,
            format!("/status/w/{}/api/v2/summary.json", view.page.id),
        ),
        Ok(None) => html_not_found(),
        Err(e) => html_error(e),
    }
}

async fn platform_json(State(state): State<AppState>, Path(document): Path<String>) -> Response {
    let Some(doc) = document_named(&document) else {
        return json_not_found();
    };
    match load::platform(&state, false).await {
        Ok(view) => json(&view, doc),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn workspace_json(
    State(state): State<AppState>,
    Path((workspace_id, document)): Path<(String, String)>,
) -> Response {
    let Some(doc) = document_named(&document) else {
        return json_not_found();
    };
    match load::workspace(&state, &workspace_id, false).await {
        Ok(Some(view)) => json(&view, doc),
        Ok(None) => json_not_found(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

fn document_named(path: &str) -> Option<Document> {
    Document::ALL
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, d)| *d)
}

fn page(view: &StatusView, summary_url: String) -> Response {
    match html::PageTemplate::new(view, summary_url).render() {
        Ok(body) => {
            let mut resp = Html(body).into_response();
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(CACHE_CONTROL),
            );
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering the status page");
            (StatusCode::INTERNAL_SERVER_ERROR, "status page unavailable").into_response()
        }
    }
}

fn json(view: &StatusView, doc: Document) -> Response {
    let mut resp = Json(json::render(view, doc)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

fn json_not_found() -> Response {
    ApiError::NotFound("no such status page or document".into()).into_response()
}

fn html_not_found() -> Response {
    let body = NotFoundTemplate::new()
        .render()
        .unwrap_or_else(|_| "Status page not found".into());
    (StatusCode::NOT_FOUND, Html(body)).into_response()
}

fn html_error(e: StoreError) -> Response {
    tracing::error!(error = %e, "reading the status page");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Html("<!doctype html><title>Status unavailable</title><p>The status page is unavailable right now; try again shortly.</p>"),
    )
        .into_response()
}
