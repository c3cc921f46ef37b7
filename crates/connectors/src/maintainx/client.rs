//! The MaintainX wire: `Authorization: Bearer <api key>`, optional `x-organization-id`, JSON under
//! `{base_url}/v1`, list envelopes keyed by the plural resource name with `nextCursor`, single
//! records under the singular name (reference/connectors.md §2).

use millwright_core::Entity;
use reqwest::{
    header::{HeaderName, HeaderValue, AUTHORIZATION},
    Method, Url,
};
use serde_json::{Map, Value};

use crate::{
    http::{ApiRequest, HttpClient},
    ConnectorError, Credentials,
};

/// Where the public API lives when the credentials name no `base_url`.
pub const DEFAULT_BASE_URL: &str = "https://api.getmaintainx.com";

/// Largest `limit` sent; real clients use up to 200 and no larger maximum is documented.
pub const MAX_PAGE_SIZE: u32 = 200;

/// MaintainX answers 429 with the seconds to wait in this header.
const WAIT_HEADERS: &[&str] = &["x-rate-limit-reset"];

/// One MaintainX resource: its path under `/v1` and the keys of its envelopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    /// Path segment under `/v1` (`workorders`).
    pub path: &'static str,
    /// `GET /{path}` → `{"<list_key>": [...], "nextCursor": ...}`.
    pub list_key: &'static str,
    /// `GET /{path}/{id}` → `{"<item_key>": {...}}`.
    pub item_key: &'static str,
    /// `expand` values that bring fields the mapping reads.
    pub expand: &'static [&'static str],
}

/// `expand` that brings the custom fields (`extraFields`, keyed by label): MaintainX sends them
/// only when asked.
const EXTRA_FIELDS: &str = "extra_fields";

/// The resources behind the unified entities MaintainX has.
pub const RESOURCES: &[(Entity, Resource)] = &[
    (
        Entity::WorkOrders,
        Resource {
            path: "workorders",
            list_key: "workOrders",
            item_key: "workOrder",
            expand: &[EXTRA_FIELDS],
        },
    ),
    (
        Entity::Assets,
        Resource {
            path: "assets",
            list_key: "assets",
            item_key: "asset",
            expand: &["status", "asset_types", EXTRA_FIELDS],
        },
    ),
    (
        Entity::Locations,
        Resource {
            path: "locations",
            list_key: "locations",
            item_key: "location",
            expand: &[EXTRA_FIELDS],
        },
    ),
    (
        Entity::InventoryItems,
        Resource {
            path: "parts",
            list_key: "parts",
            item_key: "part",
            expand: &[EXTRA_FIELDS],
        },
    ),
    (
        Entity::PurchaseOrders,
        Resource {
            path: "purchaseorders",
            list_key: "purchaseOrders",
            item_key: "purchaseOrder",
            expand: &[EXTRA_FIELDS],
        },
    ),
    (
        Entity::Vendors,
        Resource {
            path: "vendors",
            list_key: "vendors",
            item_key: "vendor",
            expand: &[EXTRA_FIELDS],
        },
    ),
    // Users have no custom fields.
    (
        Entity::Users,
        Resource {
            path: "users",
            list_key: "users",
            item_key: "user",
            expand: &[],
        },
    ),
];

/// The resource behind `entity`, if MaintainX has one.
pub fn resource(entity: Entity) -> Option<Resource> {
    RESOURCES
        .iter()
        .find(|(e, _)| *e == entity)
        .map(|(_, r)| *r)
}

/// One page of raw records.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The raw records, in MaintainX's order.
    pub items: Vec<Map<String, Value>>,
    /// MaintainX's `nextCursor`; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A client for one connection's credentials.
pub struct Client<'a> {
    http: &'a HttpClient,
    api: Url,
    authorization: HeaderValue,
    organization: Option<HeaderValue>,
}

impl<'a> Client<'a> {
    /// A client for `credentials`: `api_key` (required), `base_url` (default the public API), `organization_id` (optional).
    pub fn new(
        http: &'a HttpClient,
        credentials: &Credentials,
    ) -> Result<Client<'a>, ConnectorError> {
        let base = credentials.get("base_url").unwrap_or(DEFAULT_BASE_URL);
        let mut api =
            Url::parse(base).map_err(|e| invalid("base_url", format!("is not a URL ({e})")))?;
        if api.cannot_be_a_base() {
            return Err(invalid("base_url", "must be scheme://host[:port]".into()));
        }
        api.path_segments_mut()
            .map_err(|_| invalid("base_url", "must be scheme://host[:port]".into()))?
            .pop_if_empty()
            .push("v1");
        let mut authorization = header_value(
            "api_key",
            &format!("Bearer {}", credentials.require("api_key")?),
        )?;
        authorization.set_sensitive(true);
        let organization = credentials
            .get("organization_id")
            .map(|id| header_value("organization_id", id))
            .transpose()?;
        Ok(Client {
            http,
            api,
            authorization,
            organization,
        })
    }

    /// `{base}/v1/{segments…}`, each segment percent-encoded.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.api.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.extend(segments);
        }
        url
    }

    fn request(&self, method: Method, url: Url) -> ApiRequest {
        let mut request = ApiRequest::new(method, url)
            .header(AUTHORIZATION, self.authorization.clone())
            .wait_headers(WAIT_HEADERS);
        if let Some(org) = &self.organization {
            request = request.header(HeaderName::from_static("x-organization-id"), org.clone());
        }
        request
    }

    /// A light authenticated call: one user.
    pub async fn check(&self) -> Result<(), ConnectorError> {
        let mut url = self.url(&["users"]);
        url.query_pairs_mut().append_pair("limit", "1");
        self.http
            .send(&self.request(Method::GET, url))
            .await
            .map(|_| ())
    }

    /// One page: `GET /{path}?limit=…&cursor=…&expand=…`.
    pub async fn list(
        &self,
        resource: Resource,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, ConnectorError> {
        let mut url = self.url(&[resource.path]);
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("limit", &limit.clamp(1, MAX_PAGE_SIZE).to_string());
            if let Some(cursor) = cursor {
                query.append_pair("cursor", cursor);
            }
            for expand in resource.expand {
                query.append_pair("expand", expand);
            }
        }
        let envelope: Value = self.http.send_json(&self.request(Method::GET, url)).await?;
        let next_cursor = match envelope.get("nextCursor") {
            Some(Value::String(c)) if !c.is_empty() => Some(c.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let items = list_items(envelope, resource.list_key)?;
        Ok(Page { items, next_cursor })
    }

    /// One record: `GET /{path}/{id}`.
    pub async fn get(
        &self,
        resource: Resource,
        id: &str,
    ) -> Result<Map<String, Value>, ConnectorError> {
        let mut url = self.url(&[resource.path, id]);
        for expand in resource.expand {
            url.query_pairs_mut().append_pair("expand", expand);
        }
        let envelope: Value = self.http.send_json(&self.request(Method::GET, url)).await?;
        single_item(envelope, resource.item_key)
    }

    /// `POST /{path}` → the new record's id.
    pub async fn create(&self, resource: Resource, body: Value) -> Result<String, ConnectorError> {
        let request = self
            .request(Method::POST, self.url(&[resource.path]))
            .json(body);
        let answer: Value = self.http.send_json(&request).await?;
        // `{"id": …}`, though some answers wrap the record in its envelope.
        let id = answer
            .get("id")
            .or_else(|| answer.get(resource.item_key).and_then(|r| r.get("id")));
        id.and_then(id_text)
            .ok_or_else(|| ConnectorError::Upstream {
                status: 200,
                message: format!("MaintainX answered a create without an id: {answer}"),
            })
    }

    /// `PATCH /{path}/{id}` with the changed fields. Sets absolute values, so repeating it is
    /// harmless.
    pub async fn patch(
        &self,
        resource: Resource,
        id: &str,
        body: Value,
    ) -> Result<(), ConnectorError> {
        let request = self
            .request(Method::PATCH, self.url(&[resource.path, id]))
            .json(body)
            .idempotent(true);
        self.http.send(&request).await.map(|_| ())
    }

    /// `PATCH /workorders/{id}/status {"status": …}`: status changes have their own endpoint.
    pub async fn set_work_order_status(
        &self,
        id: &str,
        status: &str,
    ) -> Result<(), ConnectorError> {
        let request = self
            .request(Method::PATCH, self.url(&["workorders", id, "status"]))
            .json(serde_json::json!({ "status": status }))
            .idempotent(true);
        self.http.send(&request).await.map(|_| ())
    }

    /// `DELETE /{path}/{id}`.
    pub async fn delete(&self, resource: Resource, id: &str) -> Result<(), ConnectorError> {
        let request = self.request(Method::DELETE, self.url(&[resource.path, id]));
        self.http.send(&request).await.map(|_| ())
    }

    /// A caller's raw request under `/v1`, with this client's bearer key and organization.
    pub async fn passthrough(
        &self,
        request: &crate::PassthroughRequest,
    ) -> Result<crate::PassthroughResponse, ConnectorError> {
        let url = crate::passthrough::target(&self.api, &request.path)?;
        let auth = self.request(request.method.clone(), url.clone()).headers;
        crate::passthrough::send(self.http, url, request, auth).await
    }
}

/// The records of a list envelope. The key is confirmed for some resources only, so an envelope
/// with exactly one list under another key is read too.
fn list_items(envelope: Value, key: &str) -> Result<Vec<Map<String, Value>>, ConnectorError> {
    // The records are moved out of the envelope, not copied: a page holds up to 200 of them.
    let Value::Object(mut envelope) = envelope else {
        return Err(unexpected(
            format!("expected a list under `{key}`"),
            &envelope,
        ));
    };
    let list = match envelope.remove(key) {
        Some(Value::Array(list)) => list,
        Some(other) => return Err(unexpected(format!("expected a list under `{key}`"), &other)),
        None => {
            let mut arrays = envelope.into_iter().filter(|(_, v)| v.is_array());
            match (arrays.next(), arrays.next()) {
                (Some((_, Value::Array(only))), None) => only,
                _ => {
                    return Err(ConnectorError::Upstream {
                        status: 200,
                        message: format!("expected a list under `{key}`"),
                    })
                }
            }
        }
    };
    list.into_iter()
        .map(|item| match item {
            Value::Object(record) => Ok(record),
            other => Err(unexpected(format!("`{key}` holds a non-object"), &other)),
        })
        .collect()
}

/// The record of a single envelope (`{"workOrder": {...}}`), or a bare record.
fn single_item(envelope: Value, key: &str) -> Result<Map<String, Value>, ConnectorError> {
    match envelope {
        Value::Object(mut map) => match map.remove(key) {
            Some(Value::Object(record)) => Ok(record),
            Some(other) => Err(unexpected(format!("`{key}` is not an object"), &other)),
            None if map.contains_key("id") => Ok(map),
            None => Err(unexpected(
                format!("expected a record under `{key}`"),
                &Value::Object(map),
            )),
        },
        other => Err(unexpected("expected an object".into(), &other)),
    }
}

/// MaintainX ids are numbers; strings are accepted too.
pub use crate::mapping::id_text;

fn unexpected(what: String, got: &Value) -> ConnectorError {
    let mut text = got.to_string();
    if text.len() > 300 {
        text = format!("{}…", text.chars().take(300).collect::<String>());
    }
    ConnectorError::Upstream {
        status: 200,
        message: format!("unexpected MaintainX answer, {what}: {text}"),
    }
}

fn invalid(field: &str, message: String) -> ConnectorError {
    ConnectorError::Invalid {
        field: format!("credentials.{field}"),
        message,
    }
}

fn header_value(field: &str, value: &str) -> Result<HeaderValue, ConnectorError> {
    HeaderValue::from_str(value).map_err(|_| {
        invalid(
            field,
            "contains characters not allowed in an HTTP header".into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn credentials(pairs: &[(&str, &str)]) -> Credentials {
        Credentials(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn http() -> HttpClient {
        HttpClient::new(Default::default()).unwrap()
    }

    #[test]
    fn urls_live_under_v1_of_the_base() {
        let http = http();
        let client = Client::new(
            &http,
            &credentials(&[("api_key", "k"), ("base_url", "http://127.0.0.1:9/")]),
        )
        .unwrap();
        assert_eq!(
            client.url(&["workorders", "12", "status"]).as_str(),
            "http://127.0.0.1:9/v1/workorders/12/status"
        );
        assert_eq!(
            client.url(&["assets", "a/b"]).as_str(),
            "http://127.0.0.1:9/v1/assets/a%2Fb"
        );
        let default = Client::new(&http, &credentials(&[("api_key", "k")])).unwrap();
        assert_eq!(
            default.url(&["users"]).as_str(),
            "https://api.getmaintainx.com/v1/users"
        );
        let request = default.request(Method::GET, default.url(&["users"]));
        assert_eq!(request.headers[AUTHORIZATION], "Bearer k");
        assert!(request.headers.get("x-organization-id").is_none());
    }

    #[test]
    fn organization_header_only_when_configured() {
        let http = http();
        let client = Client::new(
            &http,
            &credentials(&[("api_key", "k"), ("organization_id", "15")]),
        )
        .unwrap();
        let request = client.request(Method::GET, client.url(&["users"]));
        assert_eq!(request.headers["x-organization-id"], "15");
        assert!(
            format!("{request:?}").contains("Sensitive"),
            "the key must not appear in Debug output"
        );
        assert!(!format!("{request:?}").contains("Bearer k"));
    }

    #[test]
    fn bad_credentials_name_their_field() {
        let http = http();
        let missing = Client::new(&http, &credentials(&[])).err().unwrap();
        assert!(
            matches!(missing, ConnectorError::Invalid { field, .. } if field == "credentials.api_key")
        );
        let newline = Client::new(&http, &credentials(&[("api_key", "a\nb")]))
            .err()
            .unwrap();
        assert!(
            matches!(newline, ConnectorError::Invalid { field, .. } if field == "credentials.api_key")
        );
        let url = Client::new(
            &http,
            &credentials(&[("api_key", "k"), ("base_url", "not a url")]),
        )
        .err()
        .unwrap();
        assert!(
            matches!(url, ConnectorError::Invalid { field, .. } if field == "credentials.base_url")
        );
    }

    #[test]
    fn envelopes_are_read_tolerantly() {
        let page = json!({"workOrders": [{"id": 1}, {"id": 2}], "nextCursor": "abc"});
        assert_eq!(list_items(page, "workOrders").unwrap().len(), 2);
        let other_key = json!({"data": [{"id": 1}], "nextCursor": null});
        assert_eq!(list_items(other_key, "vendors").unwrap().len(), 1);
        let ambiguous = json!({"a": [], "b": []});
        assert!(matches!(
            list_items(ambiguous, "vendors"),
            Err(ConnectorError::Upstream { .. })
        ));
        assert!(matches!(
            list_items(json!({"workOrders": [1]}), "workOrders"),
            Err(ConnectorError::Upstream { .. })
        ));
        assert_eq!(
            single_item(json!({"workOrder": {"id": 5}}), "workOrder").unwrap()["id"],
            5
        );
        assert_eq!(
            single_item(json!({"id": 5, "title": "x"}), "workOrder").unwrap()["title"],
            "x"
        );
        assert!(single_item(json!({"error": "x"}), "workOrder").is_err());
        assert_eq!(id_text(&json!(12345)).as_deref(), Some("12345"));
        assert_eq!(id_text(&json!("wo_1")).as_deref(), Some("wo_1"));
        assert_eq!(id_text(&json!(null)), None);
    }

    #[test]
    fn every_resource_is_distinct() {
        for (i, (entity, res)) in RESOURCES.iter().enumerate() {
            assert_eq!(resource(*entity), Some(*res));
            assert!(RESOURCES[i + 1..]
                .iter()
                .all(|(e, r)| e != entity && r.path != res.path));
        }
        assert_eq!(resource(Entity::MaintenanceSchedules), None);
    }
}
