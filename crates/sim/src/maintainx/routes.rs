//! Read endpoints: the organization list, and list + single record for every resource.
//!
//! Lists (`GET /v1/{resource}`) take `limit` (default 100, at most 200: larger or non-positive
//! values are rejected with 400 rather than clamped, UNVERIFIED, so a connector asking for more
//! than the vendor serves notices), an opaque `cursor`, repeatable `expand`, and per-resource
//! filters. They answer `{"<plural>": [...], "nextCursor": "…" | null, "nextPageUrl": "/v1/…" |
//! null}`, in ascending id order. A single record (`GET /v1/{resource}/{id}`) answers
//! `{"<singular>": {...}}`, or 404 if there is no such record or it was deleted.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use axum::Router;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::error::ApiError;
use super::expand::Expand;
use super::resource::Resource;
use super::store::Lookup;
use super::wire::*;
use super::{cursor, writes, Maintainx};
use crate::control::json_response;
use crate::query::Query;

/// Page size when `limit` is absent.
pub(crate) const DEFAULT_LIMIT: usize = 100;
/// Largest accepted `limit` (real clients use 10, 100 and 200 [CODE]).
pub(crate) const MAX_LIMIT: usize = 200;

/// Every `/v1` route; `State` is the tenant.
pub(crate) fn router(mx: Arc<Maintainx>) -> Router {
    Router::new()
        .route("/organizations", get(organizations))
        .route(
            "/workorders",
            get(list::<WorkOrder>).post(writes::create_work_order),
        )
        .route(
            "/workorders/{id}",
            get(one::<WorkOrder>)
                .patch(writes::update_work_order)
                .delete(writes::delete_work_order),
        )
        .route(
            "/workorders/{id}/status",
            patch(writes::set_work_order_status),
        )
        .route("/assets", get(list::<Asset>))
        .route("/assets/{id}", get(one::<Asset>))
        .route("/locations", get(list::<Location>))
        .route("/locations/{id}", get(one::<Location>))
        .route("/parts", get(list::<Part>))
        .route("/parts/{id}", get(one::<Part>))
        .route("/users", get(list::<User>))
        .route("/users/{id}", get(one::<User>))
        .route("/vendors", get(list::<Vendor>))
        .route("/vendors/{id}", get(one::<Vendor>))
        .route("/purchaseorders", get(list::<PurchaseOrder>))
        .route("/purchaseorders/{id}", get(one::<PurchaseOrder>))
        .fallback(not_found)
        .with_state(mx)
}

async fn not_found() -> ApiError {
    ApiError::not_found("Not Found")
}

/// The organizations the key can act for: this tenant only ([CODE] shape).
async fn organizations(State(mx): State<Arc<Maintainx>>) -> Response {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Organizations<'a> {
        organizations: [Organization<'a>; 1],
        next_cursor: Option<String>,
    }
    #[derive(Serialize)]
    struct Organization<'a> {
        id: u64,
        name: &'a str,
    }
    ok_json(&Organizations {
        organizations: [Organization {
            id: mx.organization_id(),
            name: &mx.world.organization_name,
        }],
        next_cursor: None,
    })
}

/// Serialises `body` as a 200 JSON response.
pub(crate) fn ok_json(body: &impl Serialize) -> Response {
    with_status(StatusCode::OK, body)
}

/// Serialises `body` as a JSON response with `status`.
pub(crate) fn with_status(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => json_response(status, bytes),
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// `{"<key>": [...], "nextCursor": ..., "nextPageUrl": ...}`.
struct ListBody<T> {
    key: &'static str,
    items: Vec<T>,
    next_cursor: Option<String>,
    next_page_url: Option<String>,
}

impl<T: Serialize> Serialize for ListBody<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry(self.key, &self.items)?;
        map.serialize_entry("nextCursor", &self.next_cursor)?;
        map.serialize_entry("nextPageUrl", &self.next_page_url)?;
        map.end()
    }
}

/// `{"<key>": {...}}`.
pub(crate) struct OneBody<T> {
    pub(crate) key: &'static str,
    pub(crate) item: T,
}

impl<T: Serialize> Serialize for OneBody<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.key, &self.item)?;
        map.end()
    }
}

fn parse_limit(query: &Query) -> Result<usize, ApiError> {
    match query.get("limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "limit must be an integer between 1 and {MAX_LIMIT}"
                ))
            }),
    }
}

/// Parses a record id from the path; ids are numbers, so anything else is a bad request.
pub(crate) fn parse_id(raw: &str) -> Result<u64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::bad_request(format!("Invalid id '{raw}'")))
}

async fn list<R: Resource>(
    State(mx): State<Arc<Maintainx>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = Query::parse(raw.as_deref());
    let limit = parse_limit(&query)?;
    let expand = Expand::parse(&query, R::EXPANSIONS)?;
    let after = match query.get("cursor") {
        Some(c) if !c.is_empty() => cursor::decode(R::PATH, c)?,
        _ => 0,
    };
    let keep = R::filter(&query)?;
    let db = mx.db();
    let (records, more) =
        R::table(&db).page(after, limit, |i| R::generate(&mx.world, i), |r| keep(r));
    let next_cursor = match records.last() {
        Some(last) if more => Some(cursor::encode(R::PATH, last.id())),
        _ => None,
    };
    let next_page_url = next_cursor
        .as_ref()
        .map(|c| format!("/v1/{}?{}", R::PATH, query.encode_with_first("cursor", c)));
    let lookup = Lookup {
        world: &mx.world,
        db: &db,
    };
    let body = ListBody {
        key: R::LIST_KEY,
        items: records.iter().map(|r| r.view(expand, &lookup)).collect(),
        next_cursor,
        next_page_url,
    };
    Ok(ok_json(&body))
}

async fn one<R: Resource>(
    State(mx): State<Arc<Maintainx>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = Query::parse(raw.as_deref());
    let expand = Expand::parse(&query, R::EXPANSIONS)?;
    let id = parse_id(&id)?;
    let db = mx.db();
    let record = R::table(&db)
        .get(id, |i| R::generate(&mx.world, i))
        .ok_or_else(|| ApiError::not_found(format!("{} {id} not found", R::NOUN)))?;
    let lookup = Lookup {
        world: &mx.world,
        db: &db,
    };
    let response = ok_json(&OneBody {
        key: R::ONE_KEY,
        item: record.view(expand, &lookup),
    });
    Ok(response)
}
