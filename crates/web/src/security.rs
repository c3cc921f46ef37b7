//! Security headers on every browser-facing response.
//!
//! The default policy allows only this origin's own scripts, styles and images (plus `data:`
//! images), no plugins, no `<base>` rewriting, forms posting only to this origin, and no framing
//! at all. A handler that must be framed (Link, by the session's allowed origins) sets its own
//! `Content-Security-Policy` with [`csp_with_frame_ancestors`]; headers a handler set are kept.

use axum::{extract::Request, middleware::Next, response::Response};
use http::{header, HeaderValue};

/// Directives shared by every page; `frame-ancestors` is appended per response.
const BASE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; \
base-uri 'none'; object-src 'none'";

/// The policy for a page that may only be framed by `ancestors` (e.g. `https://app.example`).
/// An empty list means no framing (`'none'`).
pub fn csp_with_frame_ancestors(ancestors: &[String]) -> HeaderValue {
    let list = if ancestors.is_empty() {
        "'none'".to_string()
    } else {
        ancestors.join(" ")
    };
    HeaderValue::from_str(&format!("{BASE_POLICY}; frame-ancestors {list}"))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"))
}

/// Middleware: adds the default headers where the handler did not set its own.
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let framable = h
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.contains("frame-ancestors 'none'"));
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert_with(|| csp_with_frame_ancestors(&[]));
    if !framable {
        h.entry(header::X_FRAME_OPTIONS)
            .or_insert(HeaderValue::from_static("DENY"));
    }
    h.entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    h.entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("same-origin"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_ancestors_default_to_none() {
        let v = csp_with_frame_ancestors(&[]);
        assert!(v.to_str().unwrap().ends_with("frame-ancestors 'none'"));
        let v = csp_with_frame_ancestors(&["https://app.example".into()]);
        assert!(v
            .to_str()
            .unwrap()
            .ends_with("frame-ancestors https://app.example"));
    }
}
