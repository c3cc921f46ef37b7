//! Basic authentication of a communication user, in one client, and SAP's logon failure: 401
//! with `WWW-Authenticate: Basic realm="SAP NetWeaver Application Server [<SID>/<client>]"` and an
//! HTML page rather than OData JSON (reference §4; the body's wording is UNVERIFIED).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use serde_json::Value;

use super::odata::text_response;
use super::{Sap, SYSTEM_ID};
use crate::query::Query;

/// The logon the simulator accepts.
#[derive(Clone, Debug)]
pub(crate) struct Credentials {
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) client: String,
}

impl Credentials {
    /// New credentials from a `/__sim/credentials` body named like the connector's auth fields:
    /// `username`, `password` (required), `client` (optional, keeps the current one).
    pub(crate) fn updated(&self, body: &Value) -> Result<Credentials, String> {
        let text = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        Ok(Credentials {
            username: text("username")
                .ok_or("username (a non-empty string) is required")?
                .to_owned(),
            password: text("password")
                .ok_or("password (a non-empty string) is required")?
                .to_owned(),
            client: text("client").unwrap_or(&self.client).to_owned(),
        })
    }

    /// Checks the Basic header and the client the request names (query first, then header).
    pub(crate) fn check(&self, headers: &HeaderMap, query: &Query) -> bool {
        let client = query.get("sap-client").map(str::to_owned).or_else(|| {
            headers
                .get("sap-client")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
        if client.is_some_and(|c| c.trim() != self.client) {
            return false;
        }
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let Some((scheme, encoded)) = value.split_once(' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
            return false;
        };
        let decoded = String::from_utf8_lossy(&decoded);
        // SAP user names are case-insensitive (stored upper case); passwords are not.
        match decoded.split_once(':') {
            Some((user, password)) => {
                user.eq_ignore_ascii_case(&self.username) && password == self.password
            }
            None => false,
        }
    }
}

/// The logon error page.
pub(crate) fn logon_failed(client: &str) -> Response {
    let mut response = text_response(
        StatusCode::UNAUTHORIZED,
        "<html><head><title>Logon Error Message</title></head><body><h1>Logon failed</h1>\
         <p>Logon performed in system S4H failed. Check your user name and password.</p></body></html>",
        "text/html; charset=utf-8",
    );
    let realm = format!("Basic realm=\"SAP NetWeaver Application Server [{SYSTEM_ID}/{client}]\"");
    if let Ok(value) = HeaderValue::from_str(&realm) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// Middleware refusing calls without the current logon.
pub(crate) async fn authenticate(
    State(sap): State<Arc<Sap>>,
    request: Request,
    next: Next,
) -> Response {
    let credentials = sap.credentials();
    let query = Query::parse(request.uri().query());
    if !credentials.check(request.headers(), &query) {
        return logon_failed(&credentials.client);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, password: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {token}")).unwrap(),
        );
        h
    }

    #[test]
    fn basic_user_password_and_client() {
        let c = Credentials {
            username: "SIMUSER".into(),
            password: "pw".into(),
            client: "100".into(),
        };
        let none = Query::parse(None);
        assert!(c.check(&basic("simuser", "pw"), &none));
        assert!(!c.check(&basic("SIMUSER", "PW"), &none));
        assert!(c.check(
            &basic("SIMUSER", "pw"),
            &Query::parse(Some("sap-client=100"))
        ));
        assert!(!c.check(
            &basic("SIMUSER", "pw"),
            &Query::parse(Some("sap-client=200"))
        ));
        assert!(!c.check(&HeaderMap::new(), &none));
    }
}
