//! The S/4HANA OData v2 wire (reference/connectors.md §4): Basic auth of a communication user,
//! `sap-client`, JSON under `{base_url}/sap/opu/odata/sap/<SERVICE>/<EntitySet>`, the
//! `{"d":{"results":[…],"__next":…}}` envelope, `$top`/`$skip` paging that follows the
//! server's `__next`, and the CSRF token handshake for writes ([`CsrfSession`]).

use std::{collections::HashMap, sync::Mutex};

use millwright_core::{time::Timestamp, Entity};
use reqwest::{
    header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, COOKIE, SET_COOKIE},
    Method, Url,
};
use serde_json::{Map, Value};

use crate::{
    http::{ApiRequest, ApiResponse, HttpClient},
    ConnectorError, Credentials,
};

/// Where the OData services live under `base_url`.
pub const SERVICE_ROOT: &str = "sap/opu/odata/sap";

/// Largest `$top` sent. SAP documents no hard maximum for these APIs; servers page larger
/// requests themselves through `__next`, which is always followed.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// The text of SAP Gateway's CSRF failure (403, header `x-csrf-token: Required`).
pub const CSRF_FAILED: &str = "CSRF token validation failed";

/// One OData entity set behind a unified entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntitySet {
    /// The service, version segment included (`API_MAINTENANCEORDER;v=0002`).
    pub service: &'static str,
    /// The entity set (`MaintenanceOrder`).
    pub set: &'static str,
    /// The key property.
    pub key: &'static str,
    /// Navigation properties the mapping reads, fetched with `$expand`.
    pub expand: Option<&'static str>,
    /// The change timestamp filtered on for incremental reads, if the entity type has one.
    pub change_field: Option<&'static str>,
}

/// The entity sets behind the unified entities S/4HANA has.
pub const SETS: &[(Entity, EntitySet)] = &[
    (
        Entity::Assets,
        EntitySet {
            service: "API_EQUIPMENT",
            set: "Equipment",
            key: "Equipment",
            expand: None,
            change_field: Some("LastChangeDateTime"),
        },
    ),
    (
        Entity::Locations,
        EntitySet {
            service: "API_FUNCTIONALLOCATION",
            set: "FunctionalLocation",
            key: "FunctionalLocation",
            expand: None,
            change_field: Some("LastChangeDateTime"),
        },
    ),
    (
        Entity::WorkOrders,
        EntitySet {
            service: "API_MAINTENANCEORDER;v=0002",
            set: "MaintenanceOrder",
            key: "MaintenanceOrder",
            expand: None,
            change_field: Some("LastChangeDateTime"),
        },
    ),
    (
        Entity::MaintenanceSchedules,
        EntitySet {
            service: "API_MAINTENANCEPLAN",
            set: "MaintenancePlan",
            key: "MaintenancePlan",
            expand: None,
            change_field: Some("LastChangeDateTime"),
        },
    ),
    (
        Entity::PurchaseOrders,
        EntitySet {
            service: "API_PURCHASEORDER_PROCESS_SRV",
            set: "A_PurchaseOrder",
            key: "PurchaseOrder",
            expand: Some("to_PurchaseOrderItem"),
            change_field: Some("LastChangeDateTime"),
        },
    ),
    // A_Supplier has no change timestamp: vendors are always read in full.
    (
        Entity::Vendors,
        EntitySet {
            service: "API_BUSINESS_PARTNER",
            set: "A_Supplier",
            key: "Supplier",
            expand: Some("to_SupplierPurchasingOrg"),
            change_field: None,
        },
    ),
];

/// The entity set behind `entity`, if S/4HANA has one here.
pub fn entity_set(entity: Entity) -> Option<EntitySet> {
    SETS.iter().find(|(e, _)| *e == entity).map(|(_, s)| *s)
}

/// One page of raw entities.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Map<String, Value>>,
    /// The URL of the next page (the server's `__next`, or the next `$skip`); `None` at the end.
    pub next: Option<String>,
}

/// A CSRF token and the session cookies it is bound to.
#[derive(Debug, Clone)]
pub struct CsrfToken {
    pub token: HeaderValue,
    pub cookies: HeaderValue,
}

/// CSRF tokens per logon (system, user, client), reused across writes and refreshed when the
/// server says `x-csrf-token: Required`. Generic over OData v2 / SAP Gateway services; any
/// connector that writes to Gateway can hold one.
#[derive(Debug, Default)]
pub struct CsrfSession {
    tokens: Mutex<HashMap<String, CsrfToken>>,
}

impl CsrfSession {
    fn get(&self, logon: &str) -> Option<CsrfToken> {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(logon)
            .cloned()
    }

    fn put(&self, logon: &str, token: CsrfToken) {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(logon.to_owned(), token);
    }

    fn forget(&self, logon: &str) {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(logon);
    }
}

/// Whether an error is Gateway's CSRF refusal rather than a real permission problem.
///
/// The shared HTTP layer classifies the 403 before headers can be seen, so the documented body
/// text is what identifies it.
pub fn is_csrf_failure(error: &ConnectorError) -> bool {
    matches!(error, ConnectorError::PermissionDenied { reason } if reason.contains(CSRF_FAILED))
}

/// A client for one connection's credentials.
pub struct Client<'a> {
    http: &'a HttpClient,
    root: Url,
    authorization: HeaderValue,
    sap_client: Option<String>,
    /// Identifies the logon in [`CsrfSession`].
    logon: String,
}

impl<'a> Client<'a> {
    /// A client for `credentials`: `base_url`, `username`, `password` (required), `client`.
    pub fn new(
        http: &'a HttpClient,
        credentials: &Credentials,
    ) -> Result<Client<'a>, ConnectorError> {
        let base = credentials.require("base_url")?;
        let mut root =
            Url::parse(base).map_err(|e| invalid("base_url", format!("is not a URL ({e})")))?;
        if root.cannot_be_a_base() {
            return Err(invalid("base_url", "must be scheme://host[:port]".into()));
        }
        root.path_segments_mut()
            .map_err(|_| invalid("base_url", "must be scheme://host[:port]".into()))?
            .pop_if_empty()
            .extend(SERVICE_ROOT.split('/'));
        let username = credentials.require("username")?;
        let password = credentials.require("password")?;
        let encoded = base64(format!("{username}:{password}").as_bytes());
        let mut authorization =
            HeaderValue::from_str(&format!("Basic {encoded}")).map_err(|_| {
                invalid(
                    "username",
                    "contains characters not allowed in a header".into(),
                )
            })?;
        authorization.set_sensitive(true);
        let sap_client = credentials.get("client").map(str::to_owned);
        let logon = format!(
            "{root}|{}|{}",
            username.to_ascii_uppercase(),
            sap_client.as_deref().unwrap_or("")
        );
        Ok(Client {
            http,
            root,
            authorization,
            sap_client,
            logon,
        })
    }

    /// `{root}/<service>/<resource>` with `sap-client` and `$format=json`.
    fn url(&self, service: &str, resource: &str) -> Url {
        let mut url = self.root.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.push(service);
            if !resource.is_empty() {
                path.push(resource);
            } else {
                path.push("");
            }
        }
        {
            let mut query = url.query_pairs_mut();
            if let Some(client) = &self.sap_client {
                query.append_pair("sap-client", client);
            }
            query.append_pair("$format", "json");
        }
        url
    }

    fn request(&self, method: Method, url: Url) -> ApiRequest {
        ApiRequest::new(method, url)
            .header(AUTHORIZATION, self.authorization.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"))
    }

    /// A light authenticated call: one equipment key.
    pub async fn check(&self) -> Result<(), ConnectorError> {
        let mut url = self.url("API_EQUIPMENT", "Equipment");
        url.query_pairs_mut()
            .append_pair("$top", "1")
            .append_pair("$select", "Equipment");
        self.http
            .send(&self.request(Method::GET, url))
            .await
            .map(|_| ())
    }

    /// The first page of `set`: `$top`/`$skip`, the incremental filter and order, `$expand`.
    pub fn first_page_url(&self, set: &EntitySet, since: Option<Timestamp>, page_size: u32) -> Url {
        let mut url = self.url(set.service, set.set);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("$top", &page_size.clamp(1, MAX_PAGE_SIZE).to_string());
            q.append_pair("$skip", "0");
            if let (Some(field), Some(since)) = (set.change_field, since) {
                // Whole seconds, rounded down: `ge` then includes everything at or after `since`.
                let literal = since.format("%Y-%m-%dT%H:%M:%SZ");
                q.append_pair("$filter", &format!("{field} ge datetimeoffset'{literal}'"));
                q.append_pair("$orderby", &format!("{field} asc,{} asc", set.key));
            }
            if let Some(expand) = set.expand {
                q.append_pair("$expand", expand);
            }
        }
        url
    }

    /// One page from `url` (a first-page URL or a cursor handed out before).
    pub async fn list(&self, url: &str) -> Result<Page, ConnectorError> {
        let url = self.own_url(url)?;
        let response = self
            .http
            .send(&self.request(Method::GET, url.clone()))
            .await?;
        let body: Value = response.json()?;
        let (items, server_next) = results(&body).ok_or_else(|| ConnectorError::Upstream {
            status: response.status.as_u16(),
            message: "an OData list answer without d.results".into(),
        })?;
        let next = match server_next {
            Some(next) => Some(next),
            // Client-driven paging: a full page means there may be more.
            None => next_skip(&url, items.len()),
        };
        Ok(Page { items, next })
    }

    /// Refuses cursors that point anywhere but this system's OData root: the next URL comes
    /// from the server, and credentials must not follow it elsewhere.
    fn own_url(&self, url: &str) -> Result<Url, ConnectorError> {
        let parsed = Url::parse(url).map_err(|_| ConnectorError::Invalid {
            field: "cursor".into(),
            message: "is not a valid cursor".into(),
        })?;
        let same_origin =
            parsed.origin() == self.root.origin() && parsed.path().starts_with(self.root.path());
        if !same_origin {
            return Err(ConnectorError::Invalid {
                field: "cursor".into(),
                message: "does not belong to this SAP system".into(),
            });
        }
        Ok(parsed)
    }

    /// The entity of `set` whose key is `key`, with the navigations the mapping reads.
    pub async fn get(
        &self,
        set: &EntitySet,
        key: &str,
    ) -> Result<Map<String, Value>, ConnectorError> {
        let mut url = self.url(set.service, set.set);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair(
                "$filter",
                &format!("{} eq '{}'", set.key, key.replace('\'', "''")),
            );
            q.append_pair("$top", "1");
            if let Some(expand) = set.expand {
                q.append_pair("$expand", expand);
            }
        }
        let page = self.list(url.as_str()).await?;
        page.items
            .into_iter()
            .next()
            .ok_or(ConnectorError::NotFound)
    }

    /// A caller's raw request under `{base_url}/sap/opu/odata/sap` with this client's Basic
    /// logon and `sap-client`. A modifying request first fetches a CSRF token on its service
    /// (the first path segment), as Gateway requires; the token is not cached, since
    /// passthrough writes are rare and a stale token would fail the caller's request.
    pub async fn passthrough(
        &self,
        request: &crate::PassthroughRequest,
    ) -> Result<crate::PassthroughResponse, ConnectorError> {
        let mut url = crate::passthrough::target(&self.root, &request.path)?;
        if let Some(client) = &self.sap_client {
            if !url.query_pairs().any(|(k, _)| k == "sap-client") {
                url.query_pairs_mut().append_pair("sap-client", client);
            }
        }
        let mut auth = self.request(request.method.clone(), url.clone()).headers;
        if !matches!(request.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let service = request
                .path
                .trim_start_matches('/')
                .split(['/', '?'])
                .next()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| ConnectorError::Invalid {
                    field: "path".into(),
                    message: "must start with the OData service (e.g. /API_PURCHASEORDER_PROCESS_SRV/...)".into(),
                })?;
            let token = self.fetch_token(service).await?;
            auth.insert(HeaderName::from_static("x-csrf-token"), token.token);
            auth.insert(COOKIE, token.cookies);
        }
        crate::passthrough::send(self.http, url, request, auth).await
    }

    /// `X-CSRF-Token: Fetch` on the service document: the token and its session cookies.
    async fn fetch_token(&self, service: &str) -> Result<CsrfToken, ConnectorError> {
        let request = self.request(Method::GET, self.url(service, "")).header(
            HeaderName::from_static("x-csrf-token"),
            HeaderValue::from_static("Fetch"),
        );
        let response = self.http.send(&request).await?;
        token_from(&response).ok_or_else(|| ConnectorError::Upstream {
            status: response.status.as_u16(),
            message: "SAP Gateway answered the CSRF token fetch without a token".into(),
        })
    }

    /// `POST` of a new entity to `set`, with a CSRF token (fetched or cached) and one refresh
    /// and retry should Gateway refuse the token; answers the created entity (`d`).
    pub async fn create(
        &self,
        session: &CsrfSession,
        set: &EntitySet,
        body: Value,
    ) -> Result<Map<String, Value>, ConnectorError> {
        let mut refreshed = false;
        loop {
            let token = match session.get(&self.logon) {
                Some(token) => token,
                None => {
                    refreshed = true;
                    let token = self.fetch_token(set.service).await?;
                    session.put(&self.logon, token.clone());
                    token
                }
            };
            let request = self
                .request(Method::POST, self.url(set.service, set.set))
                .header(HeaderName::from_static("x-csrf-token"), token.token)
                .header(COOKIE, token.cookies)
                .json(body.clone());
            match self.http.send(&request).await {
                Ok(response) => {
                    let body: Value = response.json()?;
                    return match body.get("d") {
                        Some(Value::Object(d)) => Ok(d.clone()),
                        _ => Err(ConnectorError::Upstream {
                            status: response.status.as_u16(),
                            message: "a create answer without d".into(),
                        }),
                    };
                }
                Err(e) if is_csrf_failure(&e) && !refreshed => {
                    // The cached token expired with its session: fetch a new one, once.
                    session.forget(&self.logon);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Raw entities of a list answer and the server's `__next`.
type Results = (Vec<Map<String, Value>>, Option<String>);

/// `d.results` (v2) or `d` as an array (v1), and `d.__next`.
fn results(body: &Value) -> Option<Results> {
    let d = body.get("d")?;
    let (list, next) = match d {
        Value::Array(list) => (list, None),
        Value::Object(o) => (
            o.get("results")?.as_array()?,
            o.get("__next").and_then(Value::as_str).map(str::to_owned),
        ),
        _ => return None,
    };
    let items = list.iter().filter_map(|v| v.as_object().cloned()).collect();
    Some((items, next))
}

/// The next client-driven page after `url` served `served` entities: `$skip` + `$top` when
/// the page was full, else none.
fn next_skip(url: &Url, served: usize) -> Option<String> {
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let top: usize = pairs.iter().find(|(k, _)| k == "$top")?.1.parse().ok()?;
    if served < top || served == 0 {
        return None;
    }
    let skip: usize = pairs
        .iter()
        .find(|(k, _)| k == "$skip")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut next = url.clone();
    {
        let mut q = next.query_pairs_mut();
        q.clear();
        for (k, v) in &pairs {
            if k == "$skip" {
                q.append_pair(k, &(skip + served).to_string());
            } else {
                q.append_pair(k, v);
            }
        }
        if !pairs.iter().any(|(k, _)| k == "$skip") {
            q.append_pair("$skip", &served.to_string());
        }
    }
    Some(next.to_string())
}

/// The token and the `Cookie` header value made of the response's `Set-Cookie` pairs.
fn token_from(response: &ApiResponse) -> Option<CsrfToken> {
    let mut token = response.headers.get("x-csrf-token")?.clone();
    if token.as_bytes().eq_ignore_ascii_case(b"required") {
        return None;
    }
    token.set_sensitive(true);
    let cookies = cookie_header(&response.headers);
    let mut cookies = HeaderValue::from_str(&cookies).ok()?;
    cookies.set_sensitive(true);
    Some(CsrfToken { token, cookies })
}

fn cookie_header(headers: &HeaderMap) -> String {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::trim)
        .filter(|pair| pair.contains('='))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Standard base64 with padding, for the Basic header (the crate has no base64 dependency, and
/// this is the only use).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> shift) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn invalid(field: &str, message: String) -> ConnectorError {
    ConnectorError::Invalid {
        field: format!("credentials.{field}"),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(
            base64(b"SIMUSER:sim-sap-pass"),
            "U0lNVVNFUjpzaW0tc2FwLXBhc3M="
        );
    }

    #[test]
    fn next_skip_advances_only_after_full_pages() {
        let url = Url::parse("http://h/sap/opu/odata/sap/S/E?$top=2&$skip=4&$format=json").unwrap();
        let next = next_skip(&url, 2).unwrap();
        assert!(
            next.contains("%24skip=6") || next.contains("$skip=6"),
            "{next}"
        );
        assert_eq!(next_skip(&url, 1), None);
    }

    #[test]
    fn cookies_become_one_header() {
        let mut h = HeaderMap::new();
        h.append(
            SET_COOKIE,
            HeaderValue::from_static("SAP_SESSIONID_S4H_100=abc; path=/; HttpOnly"),
        );
        h.append(
            SET_COOKIE,
            HeaderValue::from_static("sap-usercontext=sap-client=100; path=/"),
        );
        assert_eq!(
            cookie_header(&h),
            "SAP_SESSIONID_S4H_100=abc; sap-usercontext=sap-client=100"
        );
    }

    #[test]
    fn envelopes_v2_and_v1() {
        let v2 = serde_json::json!({"d": {"results": [{"a": 1}], "__next": "http://x"}});
        let (items, next) = results(&v2).unwrap();
        assert_eq!((items.len(), next.as_deref()), (1, Some("http://x")));
        let v1 = serde_json::json!({"d": [{"a": 1}, {"a": 2}]});
        assert_eq!(results(&v1).unwrap().0.len(), 2);
        assert!(results(&serde_json::json!({"error": {}})).is_none());
    }
}
