//! API-key authentication.
//!
//! `Authorization: Bearer <key>` on every `/v1` call [CODE]. The simulated key belongs to one
//! organization, so `x-organization-id` is optional; when sent it must name that organization,
//! otherwise the call is refused with the same 401 "Invalid token" a real client saw after
//! sending an unexpected organization header [CODE] (choosing 401 over 403 keeps "these
//! credentials do not work here" a single, re-authorization-worthy signal).
//!
//! A permission denial is a different signal: the key works, but the role of the user it was
//! generated for may not use a resource (MaintainX keys act with their creator's role, and
//! roles restrict e.g. purchase orders). The reference records no 403 from MaintainX, so the
//! simulator's denial is a choice (UNVERIFIED): `/__sim/credentials` takes a simulator-only
//! `"denied": ["purchaseorders", …]` list of `/v1` resources, and calls to them answer 403
//! `{"message": "You do not have permission to access this resource"}`, after authentication
//! and the rate limit, as a handler's own role check would.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;
use super::Maintainx;

/// The credentials the simulator currently accepts.
#[derive(Clone, Debug)]
pub(crate) struct Credentials {
    pub(crate) api_key: String,
    pub(crate) organization_id: u64,
    /// `/v1` resources (first path segment, e.g. `purchaseorders`) the key's role may not use.
    pub(crate) denied: Vec<String>,
}

/// The `/v1` resources a denial can name: every first path segment the simulator serves.
const RESOURCES: &[&str] = &[
    "organizations",
    "workorders",
    "assets",
    "locations",
    "parts",
    "users",
    "vendors",
    "purchaseorders",
];

impl Credentials {
    /// Checks a request's headers.
    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::unauthorized("No authorization token was found"));
        };
        let value = value.to_str().unwrap_or("");
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(ApiError::unauthorized("No authorization token was found")),
        };
        if token != self.api_key {
            return Err(ApiError::unauthorized("Invalid token"));
        }
        if let Some(org) = headers.get("x-organization-id") {
            let matches = org.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok())
                == Some(self.organization_id);
            if !matches {
                return Err(ApiError::unauthorized("Invalid token"));
            }
        }
        Ok(())
    }

    /// New credentials from a `/__sim/credentials` body, named like the connector's
    /// `auth_fields`: `api_key` (required) and `organization_id` (optional, number or numeric
    /// string; moves the tenant to that organization id), and the simulator-only `denied` (a
    /// list of `/v1` resource names; absent means none, so every credentials change resets it).
    /// Other fields such as `base_url` are ignored.
    pub(crate) fn updated(&self, body: &Value) -> Result<Credentials, String> {
        let api_key = body
            .get("api_key")
            .and_then(Value::as_str)
            .filter(|k| !k.trim().is_empty())
            .ok_or("api_key (a non-empty string) is required")?;
        let organization_id = match body.get("organization_id") {
            None | Some(Value::Null) => self.organization_id,
            Some(Value::Number(n)) => n
                .as_u64()
                .ok_or("organization_id must be a positive integer")?,
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map_err(|_| "organization_id must be a positive integer")?,
            Some(_) => return Err("organization_id must be a positive integer".into()),
        };
        let denied = match body.get("denied") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(names)) => names
                .iter()
                .map(|n| {
                    n.as_str()
                        .filter(|n| RESOURCES.contains(n))
                        .map(str::to_owned)
                        .ok_or_else(|| {
                            format!("denied: unknown resource {n}; expected one of {RESOURCES:?}")
                        })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("denied must be a list of resource names".into()),
        };
        Ok(Credentials {
            api_key: api_key.to_owned(),
            organization_id,
            denied,
        })
    }

    /// Whether the key's role may use the resource `path` (relative to `/v1`, or with it)
    /// belongs to.
    pub(crate) fn allows(&self, path: &str) -> bool {
        let path = path.strip_prefix("/v1").unwrap_or(path);
        let resource = path.trim_start_matches('/').split('/').next().unwrap_or("");
        !self.denied.iter().any(|d| d == resource)
    }
}

/// Middleware refusing calls without the current key.
pub(crate) async fn authenticate(
    State(mx): State<Arc<Maintainx>>,
    request: Request,
    next: Next,
) -> Response {
    if let Err(e) = mx.credentials().check(request.headers()) {
        return e.into_response();
    }
    next.run(request).await
}

/// Middleware refusing calls to a resource the key's role is denied (innermost, so a denied
/// call has passed authentication and counts against the rate limit like any other).
pub(crate) async fn authorize(
    State(mx): State<Arc<Maintainx>>,
    request: Request,
    next: Next,
) -> Response {
    if !mx.credentials().allows(request.uri().path()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "You do not have permission to access this resource",
        )
        .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn creds() -> Credentials {
        Credentials {
            api_key: "k".into(),
            organization_id: 15,
            denied: Vec::new(),
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn bearer_key_and_optional_org() {
        let c = creds();
        assert!(c.check(&headers(&[("authorization", "Bearer k")])).is_ok());
        assert!(c.check(&headers(&[("authorization", "bearer k")])).is_ok());
        assert!(c
            .check(&headers(&[
                ("authorization", "Bearer k"),
                ("x-organization-id", "15")
            ]))
            .is_ok());
        assert!(c
            .check(&headers(&[
                ("authorization", "Bearer k"),
                ("x-organization-id", "16")
            ]))
            .is_err());
        assert!(c
            .check(&headers(&[("authorization", "Bearer nope")]))
            .is_err());
        assert!(c.check(&headers(&[("authorization", "k")])).is_err());
        assert!(c.check(&HeaderMap::new()).is_err());
    }

    #[test]
    fn updated_reads_auth_field_names() {
        let c = creds();
        let n = c
            .updated(&serde_json::json!({"api_key": "new", "base_url": "http://x"}))
            .unwrap();
        assert_eq!((n.api_key.as_str(), n.organization_id), ("new", 15));
        let n = c
            .updated(&serde_json::json!({"api_key": "new", "organization_id": "99"}))
            .unwrap();
        assert_eq!(n.organization_id, 99);
        assert!(c.updated(&serde_json::json!({"apiKey": "x"})).is_err());
    }

    #[test]
    fn denied_resources_are_refused_and_reset_by_the_next_change() {
        let c = creds()
            .updated(&serde_json::json!({"api_key": "k", "denied": ["purchaseorders"]}))
            .unwrap();
        assert!(!c.allows("/purchaseorders"));
        assert!(!c.allows("/v1/purchaseorders/7"));
        assert!(c.allows("/workorders"));
        assert!(c.allows("/purchase"));
        let c = c.updated(&serde_json::json!({"api_key": "k"})).unwrap();
        assert!(c.allows("/purchaseorders"));
        assert!(creds()
            .updated(&serde_json::json!({"api_key": "k", "denied": ["nope"]}))
            .is_err());
        assert!(creds()
            .updated(&serde_json::json!({"api_key": "k", "denied": "purchaseorders"}))
            .is_err());
    }
}
