//! The Maximo wire (reference/connectors.md §3): the JSON API under `{base_url}/maximo/api/os`,
//! `apikey` header, `lean=1`, `oslc.select` / `oslc.where` / `oslc.orderBy` / `oslc.pageSize`,
//! collection envelopes `{"member": [...], "responseInfo": {"nextPage": …}}`, records
//! identified by the last segment of their `href`, creates answering 201 + `Location`, updates
//! as `POST` + `x-method-override: PATCH`.
//!
//! # Paging
//!
//! Lists are paged by keyset on the object's unique id attribute (`workorderid`, `assetuid`, …:
//! [`ObjectStructure::uid`]), not by page number. With `pageno`, a record changed during an
//! incremental read moves to the end of the `changedate` order and shifts every later offset by
//! one, so an unchanged record slides into a page already read and is skipped — for good, as
//! the next incremental read starts after the newest change seen. A keyset position does not
//! move when other records change: a changed record is read again at the end, in its new state.
//!
//! * Full reads order by `+<uid>` and ask for the page after the last record with
//!   `oslc.where=<uid>>N` (the unique id is a number, so bare, as the reference writes numbers).
//! * Incremental reads order by `+changedate,+<uid>`. The exact successor of a position
//!   `(T, N)` would be `changedate>T or (changedate=T and uid>N)`, but `oslc.where` joins
//!   clauses with AND only; `opmodeor=1` turns *every* join into OR, so it cannot express that
//!   mixture either. So the next page asks `changedate>="T"` and drops, client-side, the
//!   records at exactly `T` already read — their ids travel in the cursor. Changed records are
//!   not dropped: they no longer have change time `T`.
//! * More records at one change time than a page (a bulk update; Maximo keeps `changedate` to
//!   the second) would make that page all re-reads. Then the cursor switches to keyset *within*
//!   the tie: `changedate="T" and <uid>>N` ordered by `+<uid>`, and once that is exhausted
//!   continues with `changedate>"T"`. Still AND-only, still gap-free (a record leaving the tie
//!   shifts nothing), where `pageno` within the tie would skip as above. Should the server hold
//!   change times finer than the second it prints, `="T"` then matches fewer records and
//!   `>"T"` re-reads the rest: duplicates, never gaps.
//!
//! `stablepaging=1` (a server-side forward-only cursor) was not chosen: the reference gives no
//! semantics for it — whether it snapshots the result, how long it lives, how it interacts
//! with `oslc.orderBy` — so neither the connector nor the simulator could rely on it.
//!
//! The end of a listing is the server's word: a page without `responseInfo.nextPage`. That
//! link itself is not followed; see [`Client::list`].
//!
//! Cursors are opaque JSON ([`Cursor`]). A bare number (a page number handed out before keyset
//! paging) is still accepted: that one page is read by `pageno`, and the listing continues by
//! keyset from its last record.
//!
//! What no client can avoid with second-precision change times: a record changed during the
//! second the listing is reading at gets that very change time, possibly behind the position
//! (a lower unique id). Only the next incremental read sees it — it starts at or before that
//! second, since it was the newest change this listing saw.

use base64::{engine::general_purpose::STANDARD, Engine};
use chrono::{DateTime, FixedOffset};
use millwright_core::{time::Timestamp, Entity};
use reqwest::{
    header::{self, HeaderName, HeaderValue, ACCEPT},
    Method, Url,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    http::{ApiRequest, HttpClient},
    ConnectorError, Credentials,
};

/// Largest `oslc.pageSize` sent. Maximo caps pages with `mxe.oslc.maxpagesize`; the reference
/// warns that very large pages risk the server's memory, and 1000 is the unified API's own cap.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// One Maximo object structure and the key attributes of its main object, in the order Maximo
/// encodes them into resource ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectStructure {
    /// Path segment under `/maximo/api/os` (`mxapiwodetail`).
    pub name: &'static str,
    /// Key attributes in resource-id order (`siteid`, `wonum`).
    pub keys: &'static [&'static str],
    /// The main object's unique id attribute: a number Maximo assigns once per record, the
    /// keyset lists are paged on (see the module doc). `assetuid`, `workorderid`, `poid` and
    /// `inventoryid` are in the reference; `locationsid`, `pmuid` and `companiesid` are the
    /// Maximo data dictionary's names for the others (UNVERIFIED against a live instance).
    pub uid: &'static str,
    /// Whether the object has a `changedate` a server-side filter can use.
    pub changedate: bool,
}

/// Assets: `ASSETNUM/SITEID` (reference: `_MTE0MzAvQkVERk9SRA--` = "11430/BEDFORD").
pub const ASSET: ObjectStructure = ObjectStructure {
    name: "mxapiasset",
    keys: &["assetnum", "siteid"],
    uid: "assetuid",
    changedate: true,
};
/// Operating locations: `LOCATION/SITEID`.
pub const LOCATION: ObjectStructure = ObjectStructure {
    name: "mxapioperloc",
    keys: &["location", "siteid"],
    uid: "locationsid",
    changedate: true,
};
/// Work orders: `SITEID/WONUM` (reference: `_QkVERk9SRC8xMDAw` = "BEDFORD/1000").
pub const WORK_ORDER: ObjectStructure = ObjectStructure {
    name: "mxapiwodetail",
    keys: &["siteid", "wonum"],
    uid: "workorderid",
    changedate: true,
};
/// Preventive maintenance masters: `PMNUM/SITEID`.
pub const PM: ObjectStructure = ObjectStructure {
    name: "mxapipm",
    keys: &["pmnum", "siteid"],
    uid: "pmuid",
    changedate: true,
};
/// Inventory (item × storeroom): `ITEMNUM/ITEMSETID/SITEID/LOCATION`. No reliable `changedate`
/// (reference §3), so always a full scan.
pub const INVENTORY: ObjectStructure = ObjectStructure {
    name: "mxapiinventory",
    keys: &["itemnum", "itemsetid", "siteid", "location"],
    uid: "inventoryid",
    changedate: false,
};
/// Purchase orders: `PONUM/REVISIONNUM/SITEID`.
pub const PURCHASE_ORDER: ObjectStructure = ObjectStructure {
    name: "mxapipo",
    keys: &["ponum", "revisionnum", "siteid"],
    uid: "poid",
    changedate: true,
};
/// Companies (vendors): `COMPANY/ORGID`.
pub const VENDOR: ObjectStructure = ObjectStructure {
    name: "mxapivendor",
    keys: &["company", "orgid"],
    uid: "companiesid",
    changedate: true,
};

/// The object structure behind each unified entity Maximo has.
pub const OBJECT_STRUCTURES: &[(Entity, ObjectStructure)] = &[
    (Entity::Assets, ASSET),
    (Entity::Locations, LOCATION),
    (Entity::WorkOrders, WORK_ORDER),
    (Entity::MaintenanceSchedules, PM),
    (Entity::InventoryItems, INVENTORY),
    (Entity::PurchaseOrders, PURCHASE_ORDER),
    (Entity::Vendors, VENDOR),
];

/// The object structure behind `entity`, if Maximo has one.
pub fn object_structure(entity: Entity) -> Option<ObjectStructure> {
    OBJECT_STRUCTURES
        .iter()
        .find(|(e, _)| *e == entity)
        .map(|(_, os)| *os)
}

/// A resource id from key values: `_` + base64("V1/V2"), `=` padding as `-`.
///
/// Records are identified by their own `href`; this builds the ids of *related* records, which
/// Maximo names by their keys only (a work order's `assetnum` + `siteid`). It relies on the key
/// order above, which the reference confirms for assets and work orders only.
pub fn rest_id(values: &[&str]) -> String {
    format!("_{}", STANDARD.encode(values.join("/")).replace('=', "-"))
}

/// The key values a resource id encodes, if it is one.
pub fn decode_rest_id(id: &str) -> Option<Vec<String>> {
    let bytes = STANDARD
        .decode(id.strip_prefix('_')?.replace('-', "="))
        .ok()?;
    Some(
        String::from_utf8(bytes)
            .ok()?
            .split('/')
            .map(str::to_owned)
            .collect(),
    )
}

/// The resource id of an `href` (or `Location`): its last path segment.
pub fn id_of_href(href: &str) -> Option<String> {
    let path = href.split(['?', '#']).next()?;
    path.rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// One page of raw records.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The members, as Maximo sent them, less those a keyset page re-read.
    pub members: Vec<Map<String, Value>>,
    /// The cursor of the next page (see [`Cursor`]); `None` at the end.
    pub next: Option<String>,
}

/// How many requests one [`Client::list`] call makes at most to return a non-empty page: a
/// page can come back empty while the listing goes on (the end of a tie, records dropped as
/// re-read), and an empty page with a cursor is legal but wasteful for callers.
const REQUESTS_PER_LIST: usize = 3;

/// A client for one connection's credentials.
pub struct Client<'a> {
    http: &'a HttpClient,
    api: Url,
    apikey: HeaderValue,
}

impl<'a> Client<'a> {
    /// A client for `credentials`: `base_url` and `api_key`, both required.
    pub fn new(
        http: &'a HttpClient,
        credentials: &Credentials,
    ) -> Result<Client<'a>, ConnectorError> {
        let base = credentials.require("base_url")?;
        let mut api =
            Url::parse(base).map_err(|e| invalid("base_url", format!("is not a URL ({e})")))?;
        api.path_segments_mut()
            .map_err(|_| invalid("base_url", "must be scheme://host[:port]".into()))?
            .pop_if_empty()
            .extend(["maximo", "api", "os"]);
        let mut apikey = HeaderValue::from_str(credentials.require("api_key")?).map_err(|_| {
            invalid(
                "api_key",
                "contains characters not allowed in an HTTP header".into(),
            )
        })?;
        apikey.set_sensitive(true);
        Ok(Client { http, api, apikey })
    }

    /// `{api}/{segments…}?lean=1`.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.api.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.extend(segments);
        }
        url.query_pairs_mut().append_pair("lean", "1");
        url
    }

    fn request(&self, method: Method, url: Url) -> ApiRequest {
        ApiRequest::new(method, url)
            .header(HeaderName::from_static("apikey"), self.apikey.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"))
    }

    /// A caller's raw request under `{base_url}/maximo`, with this client's `apikey`.
    pub async fn passthrough(
        &self,
        request: &crate::PassthroughRequest,
    ) -> Result<crate::PassthroughResponse, ConnectorError> {
        // `api` is `{base}/maximo/api/os`; passthrough paths are relative to `/maximo`, so
        // that `/oslc/...` and other Maximo APIs are reachable too.
        let mut root = self.api.clone();
        if let Ok(mut path) = root.path_segments_mut() {
            path.pop().pop();
        }
        let url = crate::passthrough::target(&root, &request.path)?;
        let auth = self.request(request.method.clone(), url.clone()).headers;
        crate::passthrough::send(self.http, url, request, auth).await
    }

    /// A light authenticated call: one asset link.
    pub async fn check(&self) -> Result<(), ConnectorError> {
        let mut url = self.url(&[ASSET.name]);
        url.query_pairs_mut().append_pair("oslc.pageSize", "1");
        self.http
            .send(&self.request(Method::GET, url))
            .await
            .map(|_| ())
    }

    /// One page of `os`, every attribute: the first when `cursor` is `None`, else the one
    /// `cursor` (a [`Page::next`] handed out before) names. `changed_since` and `page_size`
    /// apply to a first page (and to page-number cursors of earlier versions); later pages take
    /// their position and size from the cursor. With `changed_since` (and a `changedate` on
    /// `os`), only records changed at or after it, oldest change first; else every record in
    /// unique id order.
    ///
    /// Every page is requested against the configured base URL rather than by following
    /// `nextPage.href`: Maximo behind a proxy often mints hrefs with its internal host name, and
    /// credentials must only ever go to the configured host. `nextPage` only says whether the
    /// query has more.
    pub async fn list(
        &self,
        os: ObjectStructure,
        cursor: Option<&str>,
        changed_since: Option<Timestamp>,
        page_size: u32,
    ) -> Result<Page, ConnectorError> {
        let mut state = match cursor {
            None => Cursor::first(os, changed_since, page_size),
            Some(text) => Cursor::decode(text, os, changed_since, page_size)?,
        };
        for _ in 0..REQUESTS_PER_LIST {
            let (served, more) = self.fetch(self.page_url(os, &state)).await?;
            let (members, next) = state.after_page(os, served, more)?;
            match next {
                Some(next) if members.is_empty() => state = next,
                next => {
                    return Ok(Page {
                        members,
                        next: next.map(|c| c.encode()),
                    })
                }
            }
        }
        Ok(Page {
            members: Vec::new(),
            next: Some(state.encode()),
        })
    }

    /// The URL of the page `cursor` names.
    fn page_url(&self, os: ObjectStructure, cursor: &Cursor) -> Url {
        let mut url = self.url(&[os.name]);
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("oslc.select", "*");
            query.append_pair("oslc.pageSize", &cursor.size.to_string());
            if let Some(filter) = cursor.at.filter(os) {
                query.append_pair("oslc.where", &filter);
            }
            query.append_pair("oslc.orderBy", &cursor.at.order(os));
            if let Some(pageno) = cursor.pageno {
                query.append_pair("pageno", &pageno.to_string());
            }
        }
        url
    }

    /// One collection answer from `url`: its members and whether `responseInfo.nextPage` says
    /// the query has more.
    async fn fetch(&self, url: Url) -> Result<(Members, bool), ConnectorError> {
        let mut envelope: Value = self.http.send_json(&self.request(Method::GET, url)).await?;
        let more = envelope
            .pointer("/responseInfo/nextPage")
            .is_some_and(|next| !next.is_null());
        // The members are moved out of the envelope, not copied: a page holds up to 1,000.
        let members = match envelope.get_mut("member").map(Value::take) {
            Some(Value::Array(list)) => list,
            _ => return Err(unexpected("expected a `member` list", &envelope)),
        };
        let members = members
            .into_iter()
            .map(|m| match m {
                Value::Object(record) => Ok(record),
                other => Err(unexpected("`member` holds a non-object", &other)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((members, more))
    }

    /// One record by resource id, every attribute.
    pub async fn get(
        &self,
        os: ObjectStructure,
        id: &str,
    ) -> Result<Map<String, Value>, ConnectorError> {
        let url = self.url(&[os.name, id]);
        let record: Value = self.http.send_json(&self.request(Method::GET, url)).await?;
        match record {
            Value::Object(map) => Ok(map),
            other => Err(unexpected("expected a record", &other)),
        }
    }

    /// `POST /{os}`: creates a record; answers its resource id from the `Location` header.
    pub async fn create(&self, os: ObjectStructure, body: Value) -> Result<String, ConnectorError> {
        let request = self.request(Method::POST, self.url(&[os.name])).json(body);
        let response = self.http.send(&request).await?;
        response
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(id_of_href)
            .ok_or_else(|| ConnectorError::Upstream {
                status: response.status.as_u16(),
                message: "Maximo answered a create without a Location header".into(),
            })
    }

    /// `POST /{os}/{id}` with `x-method-override: PATCH`: sets the given attributes. The values
    /// are absolute, so a repeat is harmless and the request may be retried.
    pub async fn patch(
        &self,
        os: ObjectStructure,
        id: &str,
        body: Value,
    ) -> Result<(), ConnectorError> {
        let request = self
            .request(Method::POST, self.url(&[os.name, id]))
            .header(
                HeaderName::from_static("x-method-override"),
                HeaderValue::from_static("PATCH"),
            )
            .json(body)
            .idempotent(true);
        self.http.send(&request).await.map(|_| ())
    }
}

/// Raw members of a collection answer.
type Members = Vec<Map<String, Value>>;

/// Where a listing goes next: what [`Page::next`] encodes (as JSON; opaque to callers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// `oslc.pageSize` of every page.
    size: u32,
    at: At,
    /// A page number: only for a cursor of an earlier version, read once by `pageno` on top
    /// of the first page's query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pageno: Option<u32>,
}

/// The page a [`Cursor`] names (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by")]
enum At {
    /// Unique id order (full reads): the records after `after` (from the first when `None`).
    Uid {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<u64>,
    },
    /// Change order (incremental reads): the records changed at or after `from` (strictly
    /// after when `past`), as Maximo printed that time, less those at exactly `from` whose
    /// unique ids are in `seen` (already read). `seen` stays shorter than a page.
    Changed {
        from: String,
        #[serde(default, skip_serializing_if = "is_false")]
        past: bool,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        seen: Vec<u64>,
    },
    /// Inside one change time `at` holding more records than a page: those after unique id
    /// `after`, in unique id order.
    Tie { at: String, after: u64 },
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl At {
    /// `oslc.where`: AND-only, as Maximo allows without `opmodeor=1`.
    fn filter(&self, os: ObjectStructure) -> Option<String> {
        let uid = os.uid;
        match self {
            At::Uid { after: None } => None,
            At::Uid { after: Some(n) } => Some(format!("{uid}>{n}")),
            At::Changed { from, past, .. } => {
                let op = if *past { ">" } else { ">=" };
                Some(format!("changedate{op}\"{from}\""))
            }
            At::Tie { at, after } => Some(format!("changedate=\"{at}\" and {uid}>{after}")),
        }
    }

    /// `oslc.orderBy`: the keyset's order, the unique id breaking change-time ties.
    fn order(&self, os: ObjectStructure) -> String {
        match self {
            At::Changed { .. } => format!("+changedate,+{}", os.uid),
            At::Uid { .. } | At::Tie { .. } => format!("+{}", os.uid),
        }
    }
}

impl Cursor {
    /// The first page: change order from `since` (whole seconds, rounded down, with `>=`:
    /// Maximo keeps `changedate` to the second, and a record changed in the cut-off's second
    /// must not be missed) when `os` has a `changedate`, else unique id order.
    fn first(os: ObjectStructure, since: Option<Timestamp>, page_size: u32) -> Cursor {
        let at = match since.filter(|_| os.changedate) {
            Some(since) => At::Changed {
                from: since.format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
                past: false,
                seen: Vec::new(),
            },
            None => At::Uid { after: None },
        };
        Cursor {
            size: page_size.clamp(1, MAX_PAGE_SIZE),
            at,
            pageno: None,
        }
    }

    /// Reads a cursor; a bare number (an earlier version's page number) becomes that page of
    /// the first page's query, with the request's own `since` and page size.
    fn decode(
        text: &str,
        os: ObjectStructure,
        since: Option<Timestamp>,
        page_size: u32,
    ) -> Result<Cursor, ConnectorError> {
        let invalid = || ConnectorError::Invalid {
            field: "cursor".into(),
            message: "is not a cursor of this connector".into(),
        };
        if let Ok(pageno) = text.trim().parse::<u32>() {
            return Ok(Cursor {
                pageno: Some(pageno.max(1)),
                ..Cursor::first(os, since, page_size)
            });
        }
        let cursor: Cursor = serde_json::from_str(text).map_err(|_| invalid())?;
        // The change time goes back into `oslc.where` between quotes: only a timestamp may.
        match &cursor.at {
            At::Changed { from: t, .. } | At::Tie { at: t, .. } if instant(t).is_none() => {
                Err(invalid())
            }
            _ => Ok(cursor),
        }
    }

    fn encode(&self) -> String {
        // A struct of strings and numbers always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// What a page `served` (with `more` when Maximo announced a next page) yields: the members
    /// to hand out (those not read before) and the cursor of the next page, `None` at the end.
    fn after_page(
        &self,
        os: ObjectStructure,
        served: Members,
        more: bool,
    ) -> Result<(Members, Option<Cursor>), ConnectorError> {
        let next = |at: At| {
            Some(Cursor {
                size: self.size,
                at,
                pageno: None,
            })
        };
        let Some(last) = served.last() else {
            return match (&self.at, more) {
                // The tie is exhausted: the rest of the change order follows.
                (At::Tie { at, .. }, false) => Ok((served, next(past(at)))),
                (_, false) => Ok((served, None)),
                (_, true) => Err(upstream(os, "announced a next page after an empty one")),
            };
        };
        let last_uid = uid_of(os, last)?;
        match &self.at {
            At::Uid { after } => {
                if after.is_some_and(|n| last_uid <= n) {
                    return Err(upstream(os, "served records out of unique id order"));
                }
                let at = At::Uid {
                    after: Some(last_uid),
                };
                Ok((served, if more { next(at) } else { None }))
            }
            At::Tie { at, after } => {
                if last_uid <= *after {
                    return Err(upstream(os, "served records out of unique id order"));
                }
                let to = if more {
                    At::Tie {
                        at: at.clone(),
                        after: last_uid,
                    }
                } else {
                    past(at)
                };
                Ok((served, next(to)))
            }
            At::Changed { from, past, seen } => {
                let from_t = instant(from).ok_or_else(|| upstream(os, "bad cursor time"))?;
                let mut reread = Vec::with_capacity(served.len());
                for record in &served {
                    reread.push(
                        !*past
                            && changedate_of(os, record)?.1 == from_t
                            && seen.contains(&uid_of(os, record)?),
                    );
                }
                let dropped = reread.iter().filter(|r| **r).count();
                // The records not read before are moved out of the page, not copied.
                let kept = |served: Members| -> Members {
                    served
                        .into_iter()
                        .zip(&reread)
                        .filter_map(|(record, reread)| (!reread).then_some(record))
                        .collect()
                };
                if !more {
                    return Ok((kept(served), None));
                }
                let (last_text, last_t) = changedate_of(os, last)?;
                if last_t < from_t {
                    // The position would move back and the listing might never end.
                    return Err(upstream(os, "served records out of changedate order"));
                }
                // The ids read at the last record's change time: this page's, and the earlier
                // pages' when the position has not moved off `from`.
                let mut at_last = Vec::new();
                if !*past && last_t == from_t {
                    at_last.extend_from_slice(seen);
                }
                for record in &served {
                    let id = uid_of(os, record)?;
                    if changedate_of(os, record)?.1 == last_t && !at_last.contains(&id) {
                        at_last.push(id);
                    }
                }
                // A page of only re-reads makes no progress; nor would the next one once a
                // page's worth is `seen`: go through the tie in unique id order.
                let stuck = dropped == served.len() || at_last.len() >= self.size as usize;
                let to = if stuck {
                    At::Tie {
                        at: last_text.to_owned(),
                        after: at_last.iter().copied().max().unwrap_or(last_uid),
                    }
                } else {
                    At::Changed {
                        from: last_text.to_owned(),
                        past: false,
                        seen: at_last,
                    }
                };
                Ok((kept(served), next(to)))
            }
        }
    }
}

/// The change order strictly after `at`.
fn past(at: &str) -> At {
    At::Changed {
        from: at.to_owned(),
        past: true,
        seen: Vec::new(),
    }
}

/// An ISO-8601 timestamp as an instant: Maximo compares dates as instants whatever their
/// offsets, and so must the dropping of re-read records.
fn instant(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text).ok()
}

/// A record's unique id (a number; tolerated as a string of digits).
fn uid_of(os: ObjectStructure, record: &Map<String, Value>) -> Result<u64, ConnectorError> {
    match record.get(os.uid) {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| upstream(os, &format!("sent a record without `{}`", os.uid)))
}

/// A record's `changedate`, as printed and as an instant.
fn changedate_of(
    os: ObjectStructure,
    record: &Map<String, Value>,
) -> Result<(&str, DateTime<FixedOffset>), ConnectorError> {
    record
        .get("changedate")
        .and_then(Value::as_str)
        .and_then(|text| Some((text, instant(text)?)))
        .ok_or_else(|| upstream(os, "sent a record without a valid `changedate`"))
}

fn upstream(os: ObjectStructure, what: &str) -> ConnectorError {
    ConnectorError::Upstream {
        status: 200,
        message: format!("Maximo {what} while paging {}", os.name),
    }
}

fn unexpected(what: &str, got: &Value) -> ConnectorError {
    let mut text = got.to_string();
    if text.len() > 300 {
        text = format!("{}…", text.chars().take(300).collect::<String>());
    }
    ConnectorError::Upstream {
        status: 200,
        message: format!("unexpected Maximo answer, {what}: {text}"),
    }
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
    fn ids_follow_the_reference() {
        assert_eq!(rest_id(&["BEDFORD", "1000"]), "_QkVERk9SRC8xMDAw");
        assert_eq!(rest_id(&["11430", "BEDFORD"]), "_MTE0MzAvQkVERk9SRA--");
        assert_eq!(
            decode_rest_id("_MTE0MzAvQkVERk9SRA--").unwrap(),
            ["11430", "BEDFORD"]
        );
        assert_eq!(
            id_of_href("http://h/maximo/api/os/mxapiasset/_MTE0MzAvQkVERk9SRA--?lean=1").as_deref(),
            Some("_MTE0MzAvQkVERk9SRA--")
        );
    }

    #[test]
    fn urls_and_headers() {
        let http = HttpClient::new(Default::default()).unwrap();
        let credentials = Credentials(
            [("base_url", "http://127.0.0.1:9/"), ("api_key", "k")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        let client = Client::new(&http, &credentials).unwrap();
        assert_eq!(
            client.url(&["mxapiasset"]).as_str(),
            "http://127.0.0.1:9/maximo/api/os/mxapiasset?lean=1"
        );
        let request = client.request(Method::GET, client.url(&["mxapiasset"]));
        assert_eq!(request.headers["apikey"], "k");
        assert!(!format!("{request:?}").contains("\"k\""));
        let missing = Client::new(&http, &Credentials::default()).err().unwrap();
        assert!(matches!(missing, ConnectorError::Invalid { .. }));
    }

    fn wo(uid: u64, changedate: &str) -> Map<String, Value> {
        serde_json::json!({"workorderid": uid, "changedate": changedate})
            .as_object()
            .unwrap()
            .clone()
    }

    fn changed(from: &str, seen: &[u64]) -> Cursor {
        Cursor {
            size: 3,
            at: At::Changed {
                from: from.into(),
                past: false,
                seen: seen.to_vec(),
            },
            pageno: None,
        }
    }

    const T1: &str = "2026-01-01T10:00:00-05:00";
    const T2: &str = "2026-01-01T10:00:05-05:00";

    #[test]
    fn incremental_pages_carry_the_ids_read_at_the_last_change_time() {
        let since = chrono::DateTime::parse_from_rfc3339("2026-01-01T14:59:59.700Z").unwrap();
        let first = Cursor::first(WORK_ORDER, Some(since.to_utc()), 3);
        assert_eq!(
            first.at.filter(WORK_ORDER).unwrap(),
            "changedate>=\"2026-01-01T14:59:59+00:00\""
        );
        assert_eq!(first.at.order(WORK_ORDER), "+changedate,+workorderid");
        let (kept, next) = first
            .after_page(WORK_ORDER, vec![wo(7, T1), wo(2, T2), wo(9, T2)], true)
            .unwrap();
        assert_eq!(kept.len(), 3);
        let next = next.unwrap();
        assert_eq!(next, changed(T2, &[2, 9]));
        assert_eq!(
            Cursor::decode(&next.encode(), WORK_ORDER, None, 50).unwrap(),
            next
        );
        // The next page re-reads 2 and 9 at T2 and drops them; 2 changed since (now at a later
        // time) is kept, in its new state.
        let t3 = "2026-01-01T10:00:09-05:00";
        let (kept, after) = next
            .after_page(WORK_ORDER, vec![wo(9, T2), wo(11, T2), wo(2, t3)], false)
            .unwrap();
        let kept: Vec<_> = kept.iter().map(|r| r["workorderid"].clone()).collect();
        assert_eq!(kept, [11, 2]);
        assert_eq!(after, None, "no nextPage: the end");
        // The same instant in another offset is the same change time.
        let (kept, _) = next
            .after_page(WORK_ORDER, vec![wo(9, "2026-01-01T15:00:05Z")], false)
            .unwrap();
        assert!(kept.is_empty());
    }

    #[test]
    fn a_tie_wider_than_a_page_is_walked_by_unique_id_then_left_behind() {
        // Two ids read at T1 and a third on this page: a page's worth, so the next page would
        // be all re-reads.
        let (kept, next) = changed(T1, &[4, 5])
            .after_page(WORK_ORDER, vec![wo(4, T1), wo(5, T1), wo(8, T1)], true)
            .unwrap();
        assert_eq!(kept.len(), 1);
        let tie = next.unwrap();
        assert_eq!(
            tie.at,
            At::Tie {
                at: T1.into(),
                after: 8
            }
        );
        assert_eq!(
            tie.at.filter(WORK_ORDER).unwrap(),
            format!("changedate=\"{T1}\" and workorderid>8")
        );
        assert_eq!(tie.at.order(WORK_ORDER), "+workorderid");
        let (_, next) = tie
            .after_page(WORK_ORDER, vec![wo(10, T1), wo(12, T1), wo(13, T1)], true)
            .unwrap();
        assert_eq!(
            next.unwrap().at,
            At::Tie {
                at: T1.into(),
                after: 13
            }
        );
        // The tie is exhausted: on strictly after it.
        let (_, next) = tie.after_page(WORK_ORDER, vec![wo(15, T1)], false).unwrap();
        let past = next.unwrap();
        assert_eq!(
            past.at.filter(WORK_ORDER).unwrap(),
            format!("changedate>\"{T1}\"")
        );
        let (_, next) = tie.after_page(WORK_ORDER, Vec::new(), false).unwrap();
        assert_eq!(next.unwrap().at, past.at);
        // A page of nothing but re-reads (a server clamping the page size) goes to the tie too.
        let (kept, next) = changed(T1, &[4, 5])
            .after_page(WORK_ORDER, vec![wo(4, T1)], true)
            .unwrap();
        assert!(kept.is_empty());
        assert_eq!(
            next.unwrap().at,
            At::Tie {
                at: T1.into(),
                after: 5
            }
        );
    }

    #[test]
    fn full_reads_page_by_unique_id_and_old_cursors_are_page_numbers() {
        let first = Cursor::first(INVENTORY, Some(chrono::Utc::now()), 5000);
        assert_eq!(
            (first.size, first.at.filter(INVENTORY)),
            (MAX_PAGE_SIZE, None)
        );
        assert_eq!(first.at.order(INVENTORY), "+inventoryid");
        let item = |n: u64| {
            serde_json::json!({"inventoryid": n})
                .as_object()
                .unwrap()
                .clone()
        };
        let (_, next) = first
            .after_page(INVENTORY, vec![item(3), item(4)], true)
            .unwrap();
        let next = next.unwrap();
        assert_eq!(next.at.filter(INVENTORY).unwrap(), "inventoryid>4");
        assert!(next
            .after_page(INVENTORY, vec![item(2)], true)
            .is_err_and(|e| matches!(e, ConnectorError::Upstream { .. })));
        assert!(first
            .after_page(INVENTORY, vec![serde_json::Map::new()], true)
            .is_err());
        let legacy = Cursor::decode("3", ASSET, None, 10).unwrap();
        assert_eq!(
            (legacy.pageno, legacy.at),
            (Some(3), At::Uid { after: None })
        );
        assert!(Cursor::decode("{nope", ASSET, None, 10).is_err());
    }
}
