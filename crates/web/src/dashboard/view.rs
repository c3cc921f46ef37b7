//! What every dashboard page shares: the layout, flash messages, rendering with the right
//! headers, error pages, and small formatting helpers.

use askama::Template;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use millwright_api::ApiError;
use millwright_core::time::Timestamp;

/// Cookie carrying a one-shot message to the page shown after a redirect.
pub(crate) const FLASH_COOKIE: &str = "mw_flash";
/// Every dashboard cookie is scoped to the dashboard's paths.
pub(crate) const COOKIE_PATH: &str = "/dashboard";

/// Values the shared layout (`base.html`) shows on every page.
pub(crate) struct Layout {
    pub title: String,
    /// Which navigation entry is current (`connections`, `credits`, …); empty on sign-in.
    pub nav: &'static str,
    /// The signed-in user's e-mail; empty when signed out.
    pub email: String,
    /// The CSRF token every form of the page carries.
    pub csrf: String,
    pub flash: Option<Flash>,
}

/// A message shown once, after an action (redirect-after-POST).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Flash {
    /// `ok` or `error` (a CSS class).
    pub kind: &'static str,
    pub text: String,
}

impl Flash {
    pub(crate) fn ok(text: impl Into<String>) -> Flash {
        Flash {
            kind: "ok",
            text: text.into(),
        }
    }

    pub(crate) fn error(text: impl Into<String>) -> Flash {
        Flash {
            kind: "error",
            text: text.into(),
        }
    }

    /// The cookie form: `o:` or `e:` then the percent-encoded text (at most 500 bytes).
    fn encode(&self) -> String {
        let mut text = self.text.clone();
        if text.len() > 500 {
            let mut cut = 500;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        let tag = if self.kind == "ok" { "o" } else { "e" };
        format!("{tag}:{}", percent_encode(&text))
    }

    pub(crate) fn decode(value: &str) -> Option<Flash> {
        let (tag, text) = value.split_once(':')?;
        let text = percent_decode(text)?;
        match tag {
            "o" => Some(Flash::ok(text)),
            "e" => Some(Flash::error(text)),
            _ => None,
        }
    }
}

/// Renders a page: HTML, never cached (pages show workspace data), and the flash cookie cleared
/// when this page showed its message.
pub(crate) fn render(t: &impl Template, status: StatusCode, flash_shown: bool) -> Response {
    match t.render() {
        Ok(body) => {
            let mut r = (status, body).into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if flash_shown {
                append_cookie(h, &clear_cookie(FLASH_COOKIE));
            }
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "dashboard template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page failed to render",
            )
                .into_response()
        }
    }
}

/// `303 See Other` to `location` (redirect-after-POST), with an optional flash message.
pub(crate) fn redirect(location: &str, flash: Option<Flash>, secure: bool) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(location) {
        h.insert(header::LOCATION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(f) = flash {
        append_cookie(h, &cookie(FLASH_COOKIE, &f.encode(), None, secure, "Lax"));
    }
    r
}

/// A `Set-Cookie` value scoped to the dashboard, always `HttpOnly`.
pub(crate) fn cookie(
    name: &str,
    value: &str,
    max_age_secs: Option<i64>,
    secure: bool,
    same_site: &str,
) -> String {
    let mut c = format!("{name}={value}; Path={COOKIE_PATH}; HttpOnly; SameSite={same_site}");
    if let Some(age) = max_age_secs {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// A `Set-Cookie` value that deletes the cookie.
pub(crate) fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path={COOKIE_PATH}; HttpOnly; SameSite=Lax; Max-Age=0")
}

pub(crate) fn append_cookie(h: &mut HeaderMap, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.append(header::SET_COOKIE, v);
    }
}

/// The value of cookie `name` in the request, if present (the first one wins).
pub(crate) fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// What went wrong, in one line a person can act on: the API's message, plus the field
/// details of a validation failure.
pub(crate) fn describe(e: &ApiError) -> String {
    match e {
        ApiError::ValidationFailed(details) if !details.is_empty() => details
            .iter()
            .map(|d| format!("{}: {}", d.field, d.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => {
            let mut s = other.to_string();
            if let Some(first) = s.get(0..1) {
                let upper = first.to_uppercase();
                s.replace_range(0..1, &upper);
            }
            s
        }
    }
}

/// A timestamp as people read it: `2026-11-27 16:04:05 UTC`.
pub(crate) fn ts(t: &Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// An optional timestamp, or an em dash.
pub(crate) fn ts_opt(t: &Option<Timestamp>) -> String {
    t.as_ref().map(ts).unwrap_or_else(|| "—".into())
}

/// Percent-encodes everything but unreserved characters (for cookie values and query strings).
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Builds a query string from the non-empty pairs (`?a=1&b=2`, or empty).
pub(crate) fn query(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// A JSON value pretty-printed for a `<pre>` or a textarea.
pub(crate) fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flash_round_trips_through_its_cookie_form() {
        for f in [
            Flash::ok("Sync queued for 3 entities."),
            Flash::error("url: must use https; ünïcode & ; = %"),
        ] {
            let encoded = f.encode();
            assert!(encoded
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b';' && b != b','));
            assert_eq!(Flash::decode(&encoded), Some(f));
        }
        assert_eq!(Flash::decode("x:abc"), None);
        assert_eq!(Flash::decode("o:%zz"), None);
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("mw_session_x=1; mw_session=abc; other=2"),
        );
        assert_eq!(read_cookie(&h, "mw_session"), Some("abc"));
        assert_eq!(read_cookie(&h, "missing"), None);
        let c = cookie("mw_session", "v", Some(60), true, "Lax");
        assert_eq!(
            c,
            "mw_session=v; Path=/dashboard; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
        );
    }

    #[test]
    fn queries_skip_empty_values_and_encode() {
        assert_eq!(query(&[("a", ""), ("b", "x y")]), "?b=x%20y");
        assert_eq!(query(&[("a", "")]), "");
    }
}
