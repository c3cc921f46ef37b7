//! The S/4HANA OData v2 wire (reference/connectors.md §4): Basic auth of a communication user,
//! `sap-client`, JSON under `{base_url}/sap/opu/odata/sap/<SERVICE>/<EntitySet>`, the
//! `{"d":{"results":[…],"__next":…}}` envelope, keyset paging that follows the server's
//! `__next`, and the CSRF token handshake for writes ([`CsrfSession`]).
//!
//! # Paging
//!
//! Lists are paged by keyset, not by `$skip`: an incremental read orders by
//! `(LastChangeDateTime, key)` and asks for the page after the last record seen with
//! `$filter=<since> and (LastChangeDateTime gt X or (LastChangeDateTime eq X and Key gt 'K'))`;
//! a full read orders by key and asks for `Key gt 'K'`. With `$skip`, a record changed during
//! the sync moves to the end of the change-time order and shifts every offset after it by one,
//! so an unchanged record slides into the already-read range and is never read (and the next
//! incremental read starts after the newest timestamp seen, so it is lost for good). A keyset
//! position does not move when other records change: a changed record is read again at the
//! end, and nothing is skipped.
//!
//! Precedence: when the server answers with `d.__next` (server-driven paging, e.g. because
//! `$top` exceeds its own page size) that link is followed as is: it carries our filter and
//! order, and only the server knows where its `$skiptoken` resumes. Only when a page ends
//! without `__next` and was full (as many records as the `$top` asked for) does the next page
//! come from the keyset position of its last record.
//!
//! Should a full page not advance the position (a server whose order disagrees with its own
//! comparisons, e.g. timestamps finer than the milliseconds `/Date(ms)/` shows, UNVERIFIED
//! for S/4HANA), the next page keeps the position and adds `$skip` for what was served, so a
//! listing always ends.
//!
//! Cursors are opaque JSON ([`Cursor`]); a bare URL (cursors handed out before keyset paging)
//! is still accepted and followed like a `__next`.

use std::{collections::HashMap, sync::Mutex};

use millwright_core::{time::Timestamp, Entity};
use reqwest::{
    header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, COOKIE, SET_COOKIE},
    Method, Url,
};
use serde::{Deserialize, Serialize};
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
    /// The cursor of the next page (see [`Cursor`]); `None` at the end.
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

    /// One page of `set`: the first when `cursor` is `None`, else the one `cursor` (a
    /// [`Page::next`] handed out before) names. `since` and `page_size` apply to a first page
    /// (and to bare-URL cursors of earlier versions); later pages take them from the cursor.
    pub async fn list(
        &self,
        set: &EntitySet,
        cursor: Option<&str>,
        since: Option<Timestamp>,
        page_size: u32,
    ) -> Result<Page, ConnectorError> {
        let state = match cursor {
            None => Cursor::first(since, page_size),
            Some(text) => Cursor::decode(text, since, page_size)?,
        };
        let url = match &state.at {
            At::Next { url } => self.own_url(url)?,
            At::Keyset { after, skip } => self.keyset_url(set, &state, after.as_ref(), *skip),
        };
        let (items, server_next) = self.fetch(url.clone()).await?;
        let next = match server_next {
            Some(next) => Some(Cursor {
                at: At::Next { url: next },
                ..state
            }),
            None => state.after_page(set, &url, &items)?,
        };
        Ok(Page {
            items,
            next: next.map(|c| c.encode()),
        })
    }

    /// The URL of a client-driven page: `$top`, the incremental filter and the keyset
    /// condition after `after`, the keyset order, `$skip` only as the no-progress fallback.
    fn keyset_url(
        &self,
        set: &EntitySet,
        cursor: &Cursor,
        after: Option<&Position>,
        skip: u64,
    ) -> Url {
        let mut url = self.url(set.service, set.set);
        let by_time = cursor.by_time(set);
        let mut filters = Vec::new();
        if let (Some(field), Some(since)) = (set.change_field.filter(|_| by_time), cursor.since) {
            // Whole seconds, rounded down: `ge` then includes everything at or after `since`.
            let since = chrono::DateTime::from_timestamp_millis(since).unwrap_or_default();
            let literal = since.format("%Y-%m-%dT%H:%M:%SZ");
            filters.push(format!("{field} ge datetimeoffset'{literal}'"));
        }
        if let Some(after) = after {
            let key = format!("{} gt '{}'", set.key, after.key.replace('\'', "''"));
            match (set.change_field.filter(|_| by_time), after.time) {
                (Some(field), Some(ms)) => {
                    let x = time_literal(ms);
                    filters.push(format!("({field} gt {x} or ({field} eq {x} and {key}))"));
                }
                _ => filters.push(key),
            }
        }
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("$top", &cursor.top.to_string());
            if skip > 0 {
                q.append_pair("$skip", &skip.to_string());
            }
            if !filters.is_empty() {
                q.append_pair("$filter", &filters.join(" and "));
            }
            let order = match set.change_field.filter(|_| by_time) {
                Some(field) => format!("{field} asc,{} asc", set.key),
                None => format!("{} asc", set.key),
            };
            q.append_pair("$orderby", &order);
            if let Some(expand) = set.expand {
                q.append_pair("$expand", expand);
            }
        }
        url
    }

    /// One list answer from `url`: its entities and the server's `__next`.
    async fn fetch(&self, url: Url) -> Result<Results, ConnectorError> {
        let response = self.http.send(&self.request(Method::GET, url)).await?;
        let body: Value = response.json()?;
        results(body).ok_or_else(|| ConnectorError::Upstream {
            status: response.status.as_u16(),
            message: "an OData list answer without d.results".into(),
        })
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
        let (items, _) = self.fetch(url).await?;
        items.into_iter().next().ok_or(ConnectorError::NotFound)
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

/// `d.results` (v2) or `d` as an array (v1), and `d.__next`. The entities are moved out of the
/// answer, not copied: a page holds up to 1,000 of them.
fn results(mut body: Value) -> Option<Results> {
    let (list, next) = match body.get_mut("d")?.take() {
        Value::Array(list) => (list, None),
        Value::Object(mut o) => {
            let next = o.get("__next").and_then(Value::as_str).map(str::to_owned);
            match o.remove("results")? {
                Value::Array(list) => (list, next),
                _ => return None,
            }
        }
        _ => return None,
    };
    let items = list
        .into_iter()
        .filter_map(|v| match v {
            Value::Object(entity) => Some(entity),
            _ => None,
        })
        .collect();
    Some((items, next))
}

/// Where a listing goes next: what [`Page::next`] encodes (as JSON; opaque to callers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The listing's `modified_since`, in milliseconds; `None` for a full read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<i64>,
    /// `$top` of every client-driven page.
    top: u32,
    at: At,
}

/// The page a [`Cursor`] names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum At {
    /// The server's `d.__next`, followed as is.
    Next { url: String },
    /// The client-driven page after `after` (the first page when `None`), skipping `skip`
    /// records there (non-zero only when a page did not advance the position).
    Keyset {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<Position>,
        #[serde(default, skip_serializing_if = "is_zero")]
        skip: u64,
    },
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A keyset position: the last record served, by change time (incremental reads) and key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Position {
    /// `LastChangeDateTime` in milliseconds; `None` in key order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    time: Option<i64>,
    key: String,
}

impl Position {
    /// Whether `self` comes strictly after `other` in the listing's order.
    fn is_after(&self, other: &Position) -> bool {
        match self.time.cmp(&other.time) {
            std::cmp::Ordering::Equal => key_order(&self.key, &other.key).is_gt(),
            o => o.is_gt(),
        }
    }
}

impl Cursor {
    fn first(since: Option<Timestamp>, page_size: u32) -> Cursor {
        Cursor {
            since: since.map(|t| t.timestamp_millis()),
            top: page_size.clamp(1, MAX_PAGE_SIZE),
            at: At::Keyset {
                after: None,
                skip: 0,
            },
        }
    }

    /// Reads a cursor; a bare URL (an earlier version's cursor: a `__next` or `$skip` link)
    /// becomes a `__next` to follow, with the request's own `since` and page size.
    fn decode(
        text: &str,
        since: Option<Timestamp>,
        page_size: u32,
    ) -> Result<Cursor, ConnectorError> {
        if !text.trim_start().starts_with('{') {
            return Ok(Cursor {
                at: At::Next {
                    url: text.to_owned(),
                },
                ..Cursor::first(since, page_size)
            });
        }
        serde_json::from_str(text).map_err(|_| ConnectorError::Invalid {
            field: "cursor".into(),
            message: "is not a valid cursor".into(),
        })
    }

    fn encode(&self) -> String {
        // A struct of strings and numbers always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whether the listing runs in change-time order (an incremental read of a set with a
    /// change timestamp) rather than in key order.
    fn by_time(&self, set: &EntitySet) -> bool {
        self.since.is_some() && set.change_field.is_some()
    }

    /// The cursor after a page that came without `__next`: `None` when the page was not full
    /// (the end), else the keyset position of its last record.
    fn after_page(
        &self,
        set: &EntitySet,
        url: &Url,
        items: &[Map<String, Value>],
    ) -> Result<Option<Cursor>, ConnectorError> {
        // A `__next` link may carry what is left of `$top`; without one the server pages an
        // unbounded request itself, and no `__next` means it is done.
        let asked = url
            .query_pairs()
            .find(|(k, _)| k == "$top")
            .and_then(|(_, v)| v.parse::<usize>().ok());
        let Some(last) = items.last() else {
            return Ok(None);
        };
        if asked.is_none_or(|top| items.len() < top) {
            return Ok(None);
        }
        let position = self.position_of(set, last)?;
        let at = match &self.at {
            At::Keyset {
                after: Some(before),
                skip,
            } if !position.is_after(before) => At::Keyset {
                after: Some(before.clone()),
                skip: skip + items.len() as u64,
            },
            _ => At::Keyset {
                after: Some(position),
                skip: 0,
            },
        };
        Ok(Some(Cursor { at, ..self.clone() }))
    }

    /// The keyset position of `record`.
    fn position_of(
        &self,
        set: &EntitySet,
        record: &Map<String, Value>,
    ) -> Result<Position, ConnectorError> {
        let missing = |what: &str| ConnectorError::Upstream {
            status: 200,
            message: format!("an SAP {} entity has no {what} to page after", set.set),
        };
        let key = match record.get(set.key) {
            Some(Value::String(k)) if !k.is_empty() => k.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(missing(set.key)),
        };
        let time = match set.change_field.filter(|_| self.by_time(set)) {
            Some(field) => Some(
                record
                    .get(field)
                    .and_then(super::mapping::odata_time)
                    .ok_or_else(|| missing(field))?
                    .timestamp_millis(),
            ),
            None => None,
        };
        Ok(Position { time, key })
    }
}

/// Key order as SAP sorts keys: numeric keys (stored zero-padded) by value, others as text.
fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if numeric(a) && numeric(b) {
        let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    } else {
        a.cmp(b)
    }
}

/// A `datetimeoffset'…'` literal of `ms`, with milliseconds: the precision `/Date(ms)/` shows,
/// so `eq` matches the record the position was taken from.
fn time_literal(ms: i64) -> String {
    let t = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    format!("datetimeoffset'{}'", t.format("%Y-%m-%dT%H:%M:%S%.3fZ"))
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

    fn set(entity: Entity) -> EntitySet {
        entity_set(entity).unwrap()
    }

    fn record(key: &str, ms: i64) -> Map<String, Value> {
        let v = serde_json::json!({"MaintenanceOrder": key, "LastChangeDateTime": format!("/Date({ms}+0000)/")});
        v.as_object().unwrap().clone()
    }

    #[test]
    fn incremental_pages_continue_after_the_last_time_and_key() {
        let orders = set(Entity::WorkOrders);
        let since = chrono::DateTime::from_timestamp_millis(1_705_276_800_000).unwrap();
        let first = Cursor::first(Some(since), 2);
        let url = Url::parse("http://h/x?$top=2").unwrap();
        let items = [
            record("4000002", 1_705_276_800_500),
            record("4000001", 1_705_276_801_250),
        ];
        let next = first.after_page(&orders, &url, &items).unwrap().unwrap();
        assert_eq!(
            next.at,
            At::Keyset {
                after: Some(Position {
                    time: Some(1_705_276_801_250),
                    key: "4000001".into()
                }),
                skip: 0
            }
        );
        // Round trip through the opaque text.
        assert_eq!(Cursor::decode(&next.encode(), None, 9).unwrap(), next);
        // A short page is the last.
        assert_eq!(first.after_page(&orders, &url, &items[..1]).unwrap(), None);
    }

    #[test]
    fn a_page_that_does_not_advance_falls_back_to_skip() {
        let orders = set(Entity::WorkOrders);
        let since = chrono::DateTime::from_timestamp_millis(0).unwrap();
        let at = Position {
            time: Some(5_000),
            key: "4000009".into(),
        };
        let cursor = Cursor {
            at: At::Keyset {
                after: Some(at.clone()),
                skip: 0,
            },
            ..Cursor::first(Some(since), 2)
        };
        let url = Url::parse("http://h/x?$top=2").unwrap();
        let items = [record("4000010", 5_000), record("4000003", 5_000)];
        let next = cursor.after_page(&orders, &url, &items).unwrap().unwrap();
        assert_eq!(
            next.at,
            At::Keyset {
                after: Some(at),
                skip: 2
            }
        );
    }

    #[test]
    fn bare_url_cursors_are_followed_as_next_links() {
        let c = Cursor::decode("http://h/sap/opu/odata/sap/S/E?$skiptoken=5", None, 50).unwrap();
        assert_eq!(
            c.at,
            At::Next {
                url: "http://h/sap/opu/odata/sap/S/E?$skiptoken=5".into()
            }
        );
        assert!(Cursor::decode("{nope", None, 50).is_err());
    }

    #[test]
    fn numeric_keys_compare_by_value() {
        assert!(key_order("10000010", "9999999").is_gt());
        assert!(key_order("0010", "9").is_gt());
        assert!(key_order("1010-SP", "1010-PK-BLR").is_gt());
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
        let (items, next) = results(v2).unwrap();
        assert_eq!((items.len(), next.as_deref()), (1, Some("http://x")));
        let v1 = serde_json::json!({"d": [{"a": 1}, {"a": 2}]});
        assert_eq!(results(v1).unwrap().0.len(), 2);
        assert!(results(serde_json::json!({"error": {}})).is_none());
    }
}
