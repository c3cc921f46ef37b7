//! Cross-site request forgery defences for every dashboard form.
//!
//! - **Synchronizer token.** Each session has a random CSRF secret in the store; every form
//!   carries `csrf = HMAC-SHA256(secret, "millwright-dashboard-form")`, checked in constant time
//!   on every POST. Another site can neither read the token nor compute it.
//! - **Origin.** When the browser sends `Sec-Fetch-Site`, a cross-site or same-site (other
//!   subdomain) POST is refused; when it sends `Origin`, it must be this server's origin.
//! - **Sign-in form.** There is no session yet, so the form uses a double-submit cookie: a
//!   random value in the `mw_login_csrf` cookie (`SameSite=Strict`) that the form must repeat.
//!
//! Session cookies are also `SameSite=Lax`, so browsers do not send them on cross-site POSTs.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    response::Response,
};
use hmac::{Hmac, Mac};
use http::{header, HeaderMap, StatusCode};
use millwright_api::AppState;
use millwright_core::secrets::constant_time_eq;
use sha2::Sha256;

use super::session::SignedIn;

/// The form field carrying the token.
pub(crate) const FIELD: &str = "csrf";
/// The double-submit cookie of the sign-in form.
pub(crate) const LOGIN_COOKIE: &str = "mw_login_csrf";

/// The CSRF token of every form of a session.
pub(crate) fn session_token(csrf_secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(csrf_secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(b"millwright-dashboard-form");
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `given` is the expected token (constant time; an empty token never matches).
pub(crate) fn matches(expected: &str, given: Option<&str>) -> bool {
    match given {
        Some(g) if !g.is_empty() && !expected.is_empty() => {
            constant_time_eq(expected.as_bytes(), g.as_bytes())
        }
        _ => false,
    }
}

/// Refuses requests that a browser marks as coming from another site. Requests without these
/// headers (older browsers, scripts) are left to the token check.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if matches!(site, "cross-site" | "same-site") {
            return false;
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // `Origin: null` (sandboxed frames, some redirects) is refused too.
        let origin_host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        if origin_host != Some(host) {
            return false;
        }
    }
    true
}

/// The fields of a submitted form.
#[derive(Debug, Default)]
pub(crate) struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub(crate) fn parse(body: &[u8]) -> Option<FormData> {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .ok()
            .map(FormData)
    }

    /// The first value of `name`, trimmed; `None` when absent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
    }

    /// The first value of `name`, trimmed, or "" when absent.
    pub(crate) fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// Every non-empty value of `name` (checkbox groups), trimmed.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }
}

/// The page answering a refused form: nothing was changed.
pub(crate) fn refused() -> Response {
    super::message_page(
        StatusCode::FORBIDDEN,
        "Request refused",
        "This form did not come from this dashboard, or it has expired. Nothing was changed. \
         Go back, reload the page and try again.",
    )
}

/// A POST from a signed-in browser whose CSRF token and origin checked out, with its form.
pub(crate) struct Posted {
    pub me: SignedIn,
    pub form: FormData,
}

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let me = SignedIn::from_request_parts(&mut parts, state).await?;
        if !same_origin(&parts.headers) {
            return Err(refused());
        }
        let req = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| refused())?;
        let form = FormData::parse(&bytes).ok_or_else(refused)?;
        if !matches(&me.csrf, form.get(FIELD)) {
            return Err(refused());
        }
        Ok(Posted { me, form })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn tokens_differ_per_secret_and_match_only_exactly() {
        let a = session_token("secret-a");
        assert_eq!(a.len(), 64);
        assert_ne!(a, session_token("secret-b"));
        assert!(matches(&a, Some(&a)));
        assert!(!matches(&a, Some(&a[..63])));
        assert!(!matches(&a, Some("")));
        assert!(!matches(&a, None));
        assert!(!matches("", Some("")));
    }

    #[test]
    fn cross_site_and_foreign_origins_are_refused() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(same_origin(&h), "no browser hints: left to the token");
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&h));
        h.remove(header::ORIGIN);
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h));
    }

    #[test]
    fn forms_parse_repeated_and_trimmed_fields() {
        let f = FormData::parse(b"a=+x+&b=1&b=2&c=").unwrap();
        assert_eq!(f.get("a"), Some("x"));
        assert_eq!(f.get("b"), Some("1"));
        assert_eq!(f.all("b"), vec!["1", "2"]);
        assert!(f.all("c").is_empty());
        assert_eq!(f.text("missing"), "");
        assert_eq!(f.get("c"), Some(""));
    }
}
