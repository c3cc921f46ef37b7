//! The pages people use in a browser, server-rendered from templates compiled into the binary
//! (askama), with every stylesheet, script and image embedded — nothing is loaded from another
//! host:
//!
//! - [`status`]: the public status page `/status` and its Statuspage v2 JSON (`/status/api/v2/`);
//! - [`link`]: the end-user connect flow `/link/{link_token}`, embeddable in an iframe;
//! - [`dashboard`]: the vendor team's dashboard `/dashboard`.
//!
//! Every response gets the headers of [`security`]: a strict Content-Security-Policy and no
//! framing, unless a page (Link) sets its own `frame-ancestors`.

use axum::Router;
use millwright_api::AppState;

pub mod dashboard;
pub mod link;
pub mod security;
pub mod status;

/// Every browser-facing route, with the security headers applied and the same per-request
/// context as the API (an `X-Request-Id` on every response, the body limit, the HTTP metrics).
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(status::router())
        .merge(link::router())
        .merge(dashboard::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            millwright_api::request_context::middleware,
        ))
        .layer(axum::middleware::from_fn(security::headers))
        .with_state(state)
}
