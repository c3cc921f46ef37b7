//! The dashboard `/dashboard` (issue #7): where a workspace's team watches and runs its
//! connections, request logs, webhooks and events.
//!
//! Pages are server-rendered (askama templates compiled into the binary) and work without
//! JavaScript; `assets/dashboard/app.js` only adds conveniences. Every action calls the same
//! handler of the `api` crate as the JSON API does, with the signed-in user's workspace as its
//! [`WorkspaceAuth`](millwright_api::auth::WorkspaceAuth): the dashboard holds no business rule
//! of its own, and another workspace's objects are refused exactly as the API refuses them.
//!
//! - [`session`]: the `mw_session` cookie and the signed-in extractor;
//! - [`csrf`]: tokens, origin checks and the checked-POST extractor;
//! - [`sign_in`]: sign-in (with lock-out) and sign-out;
//! - one file per page group: [`connections`], [`credits`], [`request_logs`], [`webhooks`],
//!   [`events`], [`link_sessions`].

use askama::Template;
use axum::{
    extract::Path,
    response::{IntoResponse, Response},
    routing::{any, get, post},
    Router,
};
use http::{header, HeaderValue, StatusCode};
use millwright_api::AppState;

mod connections;
mod credits;
mod csrf;
mod events;
mod link_sessions;
mod request_logs;
mod session;
mod sign_in;
mod view;
mod webhooks;

use session::SignedIn;
use view::Layout;

/// The routes of this part, merged by [`crate::router`].
pub fn router() -> Router<AppState> {
    // Hash the dummy password now, off the request path, so that the first sign-in with an
    // unknown e-mail takes no longer than later ones.
    std::thread::spawn(|| {
        sign_in::dummy_hash();
    });
    Router::new()
        .route("/dashboard", get(home))
        .route("/dashboard/", get(home))
        .route("/dashboard/login", get(sign_in::form).post(sign_in::submit))
        .route("/dashboard/logout", post(sign_in::sign_out))
        .route("/dashboard/assets/{file}", get(asset))
        .merge(connections::routes())
        .merge(credits::routes())
        .merge(request_logs::routes())
        .merge(webhooks::routes())
        .merge(events::routes())
        .merge(link_sessions::routes())
        // Not a router fallback: the API's router, merged with this one, owns that.
        .route("/dashboard/{*rest}", any(not_found_page))
}

/// `/dashboard`: the connections, or the sign-in page when signed out (spec §8).
async fn home(me: SignedIn) -> Response {
    view::redirect("/dashboard/connections", me.flash.clone(), me.secure)
}

/// A page with just a heading and a sentence (errors, refusals).
#[derive(Template)]
#[template(path = "dashboard/message.html")]
struct MessagePage {
    l: Layout,
    heading: String,
    text: String,
}

/// A standalone message page (no navigation, so it is safe to show signed in or out).
pub(crate) fn message_page(status: StatusCode, heading: &str, text: &str) -> Response {
    let page = MessagePage {
        l: Layout {
            title: heading.to_string(),
            nav: "",
            email: String::new(),
            csrf: String::new(),
            flash: None,
        },
        heading: heading.to_string(),
        text: text.to_string(),
    };
    view::render(&page, status, false)
}

/// `404` for an unknown dashboard path or an object this workspace does not have.
pub(crate) fn not_found(what: &str) -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Not found",
        &format!("There is no such {what} in this workspace."),
    )
}

async fn not_found_page() -> Response {
    not_found("page")
}

/// `503` when the store does not answer.
pub(crate) fn unavailable() -> Response {
    message_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Temporarily unavailable",
        "The database did not answer. Try again in a moment.",
    )
}

/// The page for an API error met while showing a page (not an action): 404 for objects of
/// other workspaces, otherwise the error's message with its status.
pub(crate) fn api_error_page(e: &millwright_api::ApiError) -> Response {
    let (status, _, _) = e.parts();
    if status == StatusCode::NOT_FOUND {
        return not_found("object");
    }
    if status.is_server_error() {
        tracing::error!(error = ?e, "dashboard page failed");
    }
    message_page(status, "Something went wrong", &view::describe(e))
}

/// The embedded stylesheet and script, cached for a day (their URLs carry no version, so
/// not longer) and revalidated by `ETag`.
async fn asset(Path(file): Path<String>, headers: http::HeaderMap) -> Response {
    const CSS: &str = include_str!("../../assets/dashboard/app.css");
    const JS: &str = include_str!("../../assets/dashboard/app.js");
    let (body, content_type) = match file.as_str() {
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return not_found("file"),
    };
    let etag = format!("\"{}\"", &millwright_core::secrets::hash_token(body)[..16]);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag);
    let mut r = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        body.into_response()
    };
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    r
}
