//! The `/maximo/api/os` routes: collections, single resources, and the work order writes.
//!
//! A collection answers `{"member": [...], "href": …, "responseInfo": {"href", "pagenum",
//! "nextPage"?, "previousPage"?, "totalCount"? "totalPages"?}}`. Members carry only their
//! `href` unless `oslc.select` names attributes (`*` for all), as Maximo does; a single resource
//! carries every attribute unless `oslc.select` narrows it. Hrefs are absolute, built from the
//! request's `Host`, like Maximo's.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

use super::error::MxError;
use super::os::Os;
use super::oslc::Select;
use super::{writes, Maximo, MAX_PAGE_SIZE};
use crate::control::json_response;
use crate::query::Query;

/// Every `/maximo` route; `State` is the organization.
pub(crate) fn router(mx: Arc<Maximo>) -> Router {
    Router::new()
        .route("/api/os/{os}", get(list).post(writes::create))
        .route("/api/os/{os}/{id}", get(one).post(writes::update))
        .fallback(not_found)
        .with_state(mx)
}

async fn not_found(request: Request) -> MxError {
    MxError::new(
        StatusCode::NOT_FOUND,
        "BMXAA8727E",
        format!("The resource {} was not found.", request.uri().path()),
    )
}

/// Middleware refusing calls without the current key (`apikey` header or query parameter).
pub(crate) async fn authenticate(
    State(mx): State<Arc<Maximo>>,
    request: Request,
    next: Next,
) -> Response {
    let expected = mx.access().api_key;
    let header = request
        .headers()
        .get("apikey")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let key = header.or_else(|| {
        Query::parse(request.uri().query())
            .get("apikey")
            .map(str::to_owned)
    });
    if key.as_deref() != Some(expected.as_str()) {
        return MxError::login().into_response();
    }
    next.run(request).await
}

/// The object structure named in the path, if served and allowed for `action`.
pub(crate) fn object_structure(mx: &Maximo, name: &str, action: &str) -> Result<Os, MxError> {
    let os = Os::from_name(name).ok_or_else(|| {
        MxError::new(
            StatusCode::NOT_FOUND,
            "BMXAA8727E",
            format!(
                "The object structure {} was not found.",
                name.to_uppercase()
            ),
        )
    })?;
    if mx.access().denied.contains(&os) {
        return Err(MxError::not_allowed(action, os.object()));
    }
    Ok(os)
}

/// `http://host/maximo/api/os/{os}`.
pub(crate) fn collection_href(headers: &HeaderMap, os: Os) -> String {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}/maximo/api/os/{}", os.name())
}

/// A record as served: with its `href`, narrowed to `select`.
pub(crate) fn render(record: &Value, os: Os, base: &str, select: &Select) -> Value {
    let mut full = record.as_object().cloned().unwrap_or_default();
    full.insert(
        "href".into(),
        Value::String(format!("{base}/{}", os.rest_id(record))),
    );
    Value::Object(select.apply(&full))
}

pub(crate) fn ok_json(status: StatusCode, body: &Value) -> Response {
    json_response(status, serde_json::to_vec(body).unwrap_or_default())
}

fn positive(query: &Query, name: &str) -> Result<Option<usize>, MxError> {
    match query.get(name) {
        None | Some("") => Ok(None),
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| {
                MxError::bad_request(
                    "BMXAA4049E",
                    format!("The value {raw} for {name} is not valid."),
                )
            }),
    }
}

async fn list(
    State(mx): State<Arc<Maximo>>,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, MxError> {
    let os = object_structure(&mx, &name, "READ")?;
    let query = Query::parse(raw.as_deref());
    let page_size = positive(&query, "oslc.pageSize")?
        .unwrap_or(MAX_PAGE_SIZE)
        .min(MAX_PAGE_SIZE);
    let pageno = positive(&query, "pageno")?.unwrap_or(1);
    // Without `oslc.select` members are bare links.
    let select = match query.get("oslc.select") {
        Some(s) => Select::parse(s),
        None => Select::parse("href"),
    };
    let filter = query.get("oslc.where").unwrap_or("");
    let order = query.get("oslc.orderBy").unwrap_or("");
    let mut db = mx.db();
    let ids = mx.query(&mut db, os, filter, order).map_err(|e| {
        MxError::bad_request(
            "BMXAA7850E",
            format!("The oslc.where clause is not valid: {e}"),
        )
    })?;
    let base = collection_href(&headers, os);
    let start = (pageno - 1).saturating_mul(page_size).min(ids.len());
    let end = (start + page_size).min(ids.len());
    let members: Vec<Value> = ids[start..end]
        .iter()
        .filter_map(|id| mx.get(&db, os, *id))
        .map(|record| render(&record, os, &base, &select))
        .collect();
    drop(db);
    let page_href = |n: usize| {
        format!(
            "{base}?{}",
            query.encode_with_first("pageno", &n.to_string())
        )
    };
    let total_pages = ids.len().div_ceil(page_size);
    let mut info = Map::new();
    info.insert(
        "href".into(),
        Value::String(format!("{base}?{}", raw.as_deref().unwrap_or(""))),
    );
    info.insert("pagenum".into(), Value::from(pageno));
    if end < ids.len() {
        info.insert("nextPage".into(), json!({"href": page_href(pageno + 1)}));
    }
    if pageno > 1 {
        info.insert(
            "previousPage".into(),
            json!({"href": page_href(pageno - 1)}),
        );
    }
    if query.get("collectioncount") == Some("1") {
        info.insert("totalCount".into(), Value::from(ids.len()));
        info.insert("totalPages".into(), Value::from(total_pages));
    }
    let body = json!({
        "member": members,
        "href": base,
        "responseInfo": info,
    });
    Ok(ok_json(StatusCode::OK, &body))
}

async fn one(
    State(mx): State<Arc<Maximo>>,
    Path((name, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, MxError> {
    let os = object_structure(&mx, &name, "READ")?;
    let query = Query::parse(raw.as_deref());
    let select = Select::parse(query.get("oslc.select").unwrap_or("*"));
    let db = mx.db();
    let (_, record) = mx
        .find(&db, os, &id)
        .ok_or_else(|| MxError::not_found(os.name(), &id))?;
    drop(db);
    let base = collection_href(&headers, os);
    Ok(ok_json(
        StatusCode::OK,
        &render(&record, os, &base, &select),
    ))
}
