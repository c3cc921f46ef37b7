//! Basic authentication of a communication user, in one client, and SAP's logon failure: 401
//! with `WWW-Authenticate: Basic realm="SAP NetWeaver Application Server [<SID>/<client>]"` and an
//! HTML page rather than OData JSON (reference §4; the body's wording is UNVERIFIED).
//!
//! Authorization is separate from logon: a user whose roles lack the `S_SERVICE` authorization
//! for a service logs on fine and is then refused by Gateway with 403 and the OData error
//! `/IWFND/CM_CONSUMER/101` "No authorization to access Service '…'" (the message text of that
//! SAP message; the service id format in it, `<NAME>_<version>`, is UNVERIFIED).
//! `/__sim/credentials` takes a simulator-only `"denied": ["API_PURCHASEORDER_PROCESS_SRV", …]`
//! list of services the user is not authorized for.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use serde_json::Value;

use super::data::SETS;
use super::odata::{text_response, ODataError};
use super::{Sap, SYSTEM_ID};
use crate::query::Query;

/// The logon the simulator accepts.
#[derive(Clone, Debug)]
pub(crate) struct Credentials {
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) client: String,
    /// Services (name without `;v=…`, upper case) the user has no `S_SERVICE` authorization for.
    pub(crate) denied: Vec<String>,
}

/// A service path segment without its version (`API_MAINTENANCEORDER;v=0002` →
/// `API_MAINTENANCEORDER`), upper case.
fn service_name(segment: &str) -> String {
    segment
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_uppercase()
}

impl Credentials {
    /// New credentials from a `/__sim/credentials` body named like the connector's auth fields:
    /// `username`, `password` (required), `client` (optional, keeps the current one), and the
    /// simulator-only `denied` (service names; absent means none, so every credentials change
    /// resets it).
    pub(crate) fn updated(&self, body: &Value) -> Result<Credentials, String> {
        let text = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let denied = match body.get("denied") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(names)) => names
                .iter()
                .map(|n| {
                    let name = n.as_str().map(service_name).unwrap_or_default();
                    if SETS.iter().any(|d| service_name(d.service) == name) {
                        Ok(name)
                    } else {
                        Err(format!("denied: unknown service {n}"))
                    }
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("denied must be a list of service names".into()),
        };
        Ok(Credentials {
            username: text("username")
                .ok_or("username (a non-empty string) is required")?
                .to_owned(),
            password: text("password")
                .ok_or("password (a non-empty string) is required")?
                .to_owned(),
            client: text("client").unwrap_or(&self.client).to_owned(),
            denied,
        })
    }

    /// Gateway's refusal if the user may not use `service` (a path segment, version included).
    pub(crate) fn authorize(&self, service: &str) -> Result<(), ODataError> {
        let name = service_name(service);
        if !self.denied.contains(&name) {
            return Ok(());
        }
        let version = service
            .split(';')
            .skip(1)
            .find_map(|p| p.trim().strip_prefix("v="))
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(1);
        Err(ODataError::new(
            StatusCode::FORBIDDEN,
            "/IWFND/CM_CONSUMER/101",
            format!("No authorization to access Service '{name}_{version:04}'"),
        ))
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
            denied: Vec::new(),
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

    #[test]
    fn denied_services_are_refused_by_name_whatever_the_version() {
        let c = Credentials {
            username: "SIMUSER".into(),
            password: "pw".into(),
            client: "100".into(),
            denied: Vec::new(),
        };
        let body = |denied: Value| serde_json::json!({"username": "SIMUSER", "password": "pw", "denied": denied});
        let d = c
            .updated(&body(serde_json::json!([
                "api_maintenanceorder",
                "API_PURCHASEORDER_PROCESS_SRV"
            ])))
            .unwrap();
        let e = d.authorize("API_MAINTENANCEORDER;v=0002").unwrap_err();
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert_eq!(e.code, "/IWFND/CM_CONSUMER/101");
        assert_eq!(
            e.message,
            "No authorization to access Service 'API_MAINTENANCEORDER_0002'"
        );
        assert!(d.authorize("API_PURCHASEORDER_PROCESS_SRV").is_err());
        assert!(d.authorize("API_EQUIPMENT").is_ok());
        assert!(c.updated(&body(serde_json::json!(["API_NOPE"]))).is_err());
        assert!(c
            .updated(&body(serde_json::json!("API_EQUIPMENT")))
            .is_err());
        let reset = d
            .updated(&serde_json::json!({"username": "SIMUSER", "password": "pw"}))
            .unwrap();
        assert!(reset.authorize("API_MAINTENANCEORDER;v=0002").is_ok());
    }
}
