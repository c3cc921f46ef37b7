//! The Maximo wire (reference/connectors.md §3): the JSON API under `{base_url}/maximo/api/os`,
//! `apikey` header, `lean=1`, `oslc.select` / `oslc.where` / `oslc.orderBy`, `oslc.pageSize` +
//! `pageno`, collection envelopes `{"member": [...], "responseInfo": {"nextPage": …}}`, records
//! identified by the last segment of their `href`, creates answering 201 + `Location`, updates
//! as `POST` + `x-method-override: PATCH`.

use base64::{engine::general_purpose::STANDARD, Engine};
use millwright_core::{time::Timestamp, Entity};
use reqwest::{
    header::{self, HeaderName, HeaderValue, ACCEPT},
    Method, Url,
};
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
    /// Whether the object has a `changedate` a server-side filter can use.
    pub changedate: bool,
}

/// Assets: `ASSETNUM/SITEID` (reference: `_MTE0MzAvQkVERk9SRA--` = "11430/BEDFORD").
pub const ASSET: ObjectStructure = ObjectStructure {
    name: "mxapiasset",
    keys: &["assetnum", "siteid"],
    changedate: true,
};
/// Operating locations: `LOCATION/SITEID`.
pub const LOCATION: ObjectStructure = ObjectStructure {
    name: "mxapioperloc",
    keys: &["location", "siteid"],
    changedate: true,
};
/// Work orders: `SITEID/WONUM` (reference: `_QkVERk9SRC8xMDAw` = "BEDFORD/1000").
pub const WORK_ORDER: ObjectStructure = ObjectStructure {
    name: "mxapiwodetail",
    keys: &["siteid", "wonum"],
    changedate: true,
};
/// Preventive maintenance masters: `PMNUM/SITEID`.
pub const PM: ObjectStructure = ObjectStructure {
    name: "mxapipm",
    keys: &["pmnum", "siteid"],
    changedate: true,
};
/// Inventory (item × storeroom): `ITEMNUM/ITEMSETID/SITEID/LOCATION`. No reliable `changedate`
/// (reference §3), so always a full scan.
pub const INVENTORY: ObjectStructure = ObjectStructure {
    name: "mxapiinventory",
    keys: &["itemnum", "itemsetid", "siteid", "location"],
    changedate: false,
};
/// Purchase orders: `PONUM/REVISIONNUM/SITEID`.
pub const PURCHASE_ORDER: ObjectStructure = ObjectStructure {
    name: "mxapipo",
    keys: &["ponum", "revisionnum", "siteid"],
    changedate: true,
};
/// Companies (vendors): `COMPANY/ORGID`.
pub const VENDOR: ObjectStructure = ObjectStructure {
    name: "mxapivendor",
    keys: &["company", "orgid"],
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
    /// The members, as Maximo sent them.
    pub members: Vec<Map<String, Value>>,
    /// The page number of the next page, when `responseInfo.nextPage` is present.
    pub next_page: Option<u32>,
}

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

    /// One page of `os`: every attribute, `page_size` records, page `pageno` (from 1); with
    /// `changed_since`, only records whose `changedate` is at or after it, oldest change first.
    ///
    /// The next page is requested by number against the configured base URL rather than by
    /// following `nextPage.href`: Maximo behind a proxy often mints hrefs with its internal host
    /// name, and credentials must only ever go to the configured host.
    pub async fn list(
        &self,
        os: ObjectStructure,
        page_size: u32,
        pageno: u32,
        changed_since: Option<Timestamp>,
    ) -> Result<Page, ConnectorError> {
        let mut url = self.url(&[os.name]);
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("oslc.select", "*");
            query.append_pair(
                "oslc.pageSize",
                &page_size.clamp(1, MAX_PAGE_SIZE).to_string(),
            );
            query.append_pair("pageno", &pageno.max(1).to_string());
            if let Some(since) = changed_since.filter(|_| os.changedate) {
                // Maximo keeps `changedate` to the second: round down, and use `>=`, so that a
                // record changed in the same second as the cut-off is not missed.
                let since = since.format("%Y-%m-%dT%H:%M:%S+00:00");
                query.append_pair("oslc.where", &format!("changedate>=\"{since}\""));
                query.append_pair("oslc.orderBy", "+changedate");
            }
        }
        let envelope: Value = self.http.send_json(&self.request(Method::GET, url)).await?;
        let members = envelope
            .get("member")
            .and_then(Value::as_array)
            .ok_or_else(|| unexpected("expected a `member` list", &envelope))?
            .iter()
            .map(|m| {
                m.as_object()
                    .cloned()
                    .ok_or_else(|| unexpected("`member` holds a non-object", m))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let next_page = envelope
            .pointer("/responseInfo/nextPage")
            .filter(|n| !n.is_null())
            .map(|next| {
                next.get("href")
                    .and_then(Value::as_str)
                    .and_then(pageno_of)
                    .unwrap_or(pageno.max(1) + 1)
            });
        Ok(Page { members, next_page })
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

/// `pageno` in a `nextPage` href.
fn pageno_of(href: &str) -> Option<u32> {
    let query = Url::parse(href).ok()?;
    let pageno = query
        .query_pairs()
        .find(|(k, _)| k == "pageno")?
        .1
        .parse()
        .ok()?;
    Some(pageno)
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
        assert_eq!(pageno_of("http://h/x?oslc.pageSize=2&pageno=3"), Some(3));
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
}
