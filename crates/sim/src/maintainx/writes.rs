//! Work-order writes, persisted in the simulator.
//!
//! * `POST /v1/workorders` — body per the reference (`title` required; `description`,
//!   `priority`, `assetId`, `locationId`, `assignees`, `categories`, `dueDate`,
//!   `estimatedTime`, `externalData`, `extraFields`). Answers **201** with the whole new work
//!   order as a bare object (no envelope): the reference only confirms that clients read `id`
//!   from it, and a full object satisfies that too (UNVERIFIED). New work orders are `OPEN`,
//!   `REACTIVE` and priority `NONE` unless the body says otherwise.
//! * `PATCH /v1/workorders/{id}` — the same fields, all optional → `{"workOrder": {...}}`.
//!   `status` is refused here (400) because MaintainX changes status through its own endpoint.
//! * `PATCH /v1/workorders/{id}/status` — `{"status": "OPEN" | "IN_PROGRESS" | "ON_HOLD" |
//!   "DONE"}` → `{"workOrder": {...}}` (UNVERIFIED envelope, same as PATCH). `DONE` stamps
//!   `completedAt`; leaving `DONE` clears it.
//! * `DELETE /v1/workorders/{id}` → 204 (UNVERIFIED).
//!
//! Every successful write sets `updatedAt` to the simulator clock, which never repeats a value.
//! Validation errors are 400 with a message; unknown ids in the path are 404. Unknown body fields
//! are ignored (UNVERIFIED). `assignees` entries may be a user id, a user e-mail, or
//! `{"type": "USER", "id": N}`; teams are not modelled, so `{"type": "TEAM", ...}` is a 400.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::error::ApiError;
use super::expand::{Expand, WorkOrderView};
use super::resource::Resource;
use super::routes::{ok_json, parse_id, with_status, OneBody};
use super::store::{Db, Lookup};
use super::wire::*;
use super::Maintainx;
use crate::clock::Ts;

type Body = Map<String, Value>;

/// Reads a JSON object body; an empty body is an empty object (so the missing `title` is what
/// gets reported).
fn json_object(headers: &HeaderMap, bytes: &Bytes) -> Result<Body, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Body::new());
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
    if !is_json {
        return Err(ApiError::bad_request(
            "Content-Type must be application/json",
        ));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("Request body must be a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!("Invalid JSON body: {e}"))),
    }
}

fn string_or_null(name: &str, value: &Value) -> Result<Option<String>, ApiError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(ApiError::bad_request(format!("{name} must be a string"))),
    }
}

fn id_or_null(name: &str, value: &Value) -> Result<Option<u64>, ApiError> {
    match value {
        Value::Null => Ok(None),
        v => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("{name} must be a number"))),
    }
}

fn parse_priority(value: &Value) -> Result<Priority, ApiError> {
    serde_json::from_value(value.clone())
        .map_err(|_| ApiError::bad_request("priority must be one of NONE, LOW, MEDIUM, HIGH"))
}

fn parse_status(value: Option<&Value>) -> Result<WorkOrderStatus, ApiError> {
    value
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .ok_or_else(|| {
            ApiError::bad_request("status must be one of OPEN, IN_PROGRESS, ON_HOLD, DONE")
        })
}

fn resolve_assignee(lookup: &Lookup<'_>, entry: &Value) -> Result<u64, ApiError> {
    let user = match entry {
        Value::Number(n) => n.as_u64().and_then(|id| lookup.user(id)),
        Value::String(email) => lookup.user_by_email(email),
        Value::Object(obj) => {
            let kind = obj.get("type").and_then(Value::as_str).unwrap_or("USER");
            if kind != "USER" {
                return Err(ApiError::bad_request(format!(
                    "Assignee of type {kind} not found"
                )));
            }
            obj.get("id")
                .and_then(Value::as_u64)
                .and_then(|id| lookup.user(id))
        }
        _ => None,
    };
    user.map(|u| u.id)
        .ok_or_else(|| ApiError::bad_request(format!("Assignee {entry} not found")))
}

/// Applies the writable fields present in `body` to `wo`.
fn apply(wo: &mut WorkOrder, body: &Body, lookup: &Lookup<'_>) -> Result<(), ApiError> {
    if let Some(v) = body.get("title") {
        match v.as_str().map(str::trim) {
            Some(title) if !title.is_empty() => wo.title = title.to_owned(),
            _ => return Err(ApiError::bad_request("title must be a non-empty string")),
        }
    }
    if let Some(v) = body.get("description") {
        wo.description = string_or_null("description", v)?;
    }
    if let Some(v) = body.get("priority") {
        wo.priority = parse_priority(v)?;
    }
    if let Some(v) = body.get("dueDate") {
        wo.due_date =
            match string_or_null("dueDate", v)? {
                None => None,
                Some(text) => Some(Ts::parse(&text).ok_or_else(|| {
                    ApiError::bad_request("dueDate must be an ISO 8601 date-time")
                })?),
            };
    }
    if let Some(v) = body.get("estimatedTime") {
        wo.estimated_time = match v {
            Value::Null => None,
            v => Some(v.as_u64().ok_or_else(|| {
                ApiError::bad_request("estimatedTime must be a non-negative integer (seconds)")
            })?),
        };
    }
    if let Some(v) = body.get("assetId") {
        wo.asset_id = id_or_null("assetId", v)?;
        if let Some(id) = wo.asset_id {
            if lookup.asset(id).is_none() {
                return Err(ApiError::bad_request(format!("Asset {id} not found")));
            }
        }
    }
    if let Some(v) = body.get("locationId") {
        wo.location_id = id_or_null("locationId", v)?;
        if let Some(id) = wo.location_id {
            if lookup.location(id).is_none() {
                return Err(ApiError::bad_request(format!("Location {id} not found")));
            }
        }
    }
    if let Some(v) = body.get("assignees") {
        let entries = v
            .as_array()
            .ok_or_else(|| ApiError::bad_request("assignees must be an array"))?;
        let mut ids = Vec::with_capacity(entries.len());
        for entry in entries {
            let id = resolve_assignee(lookup, entry)?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        wo.assignee_ids = ids;
    }
    if let Some(v) = body.get("categories") {
        wo.categories = v
            .as_array()
            .and_then(|a| {
                a.iter()
                    .map(|c| c.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or_else(|| ApiError::bad_request("categories must be an array of strings"))?;
    }
    if let Some(v) = body.get("externalData") {
        wo.external_data = match v {
            Value::Null => None,
            Value::Object(_) => Some(v.clone()),
            _ => return Err(ApiError::bad_request("externalData must be an object")),
        };
    }
    if let Some(v) = body.get("extraFields") {
        let fields = v
            .as_object()
            .ok_or_else(|| ApiError::bad_request("extraFields must be an object"))?;
        // Keyed by label; `null` clears a field.
        for (label, value) in fields {
            if value.is_null() {
                wo.extra_fields.remove(label);
            } else {
                wo.extra_fields.insert(label.clone(), value.clone());
            }
        }
    }
    Ok(())
}

fn view_one(mx: &Maintainx, db: &Db, wo: &WorkOrder) -> Response {
    let lookup = Lookup {
        world: &mx.world,
        db,
    };
    ok_json(&OneBody {
        key: WorkOrder::ONE_KEY,
        item: WorkOrderView::new(wo, Expand::default(), &lookup),
    })
}

pub(crate) async fn create_work_order(
    State(mx): State<Arc<Maintainx>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&headers, &bytes)?;
    if body.get("title").is_none_or(Value::is_null) {
        return Err(ApiError::bad_request("title is required"));
    }
    let mut db = mx.db();
    let now = mx.clock.now();
    let id = db.work_orders.next_id();
    let mut wo = WorkOrder {
        id,
        sequential_id: db.work_orders.index_of(id) + 1,
        title: String::new(),
        description: None,
        status: WorkOrderStatus::Open,
        priority: Priority::None,
        work_order_type: WorkOrderType::Reactive,
        due_date: None,
        estimated_time: None,
        assignee_ids: Vec::new(),
        categories: Vec::new(),
        asset_id: None,
        location_id: None,
        completed_at: None,
        created_at: now,
        updated_at: now,
        external_data: None,
        extra_fields: Default::default(),
    };
    apply(
        &mut wo,
        &body,
        &Lookup {
            world: &mx.world,
            db: &db,
        },
    )?;
    db.work_orders.insert_with(|_| wo.clone());
    let lookup = Lookup {
        world: &mx.world,
        db: &db,
    };
    Ok(with_status(
        StatusCode::CREATED,
        &WorkOrderView::new(&wo, Expand::default(), &lookup),
    ))
}

fn existing(mx: &Maintainx, db: &Db, raw_id: &str) -> Result<WorkOrder, ApiError> {
    let id = parse_id(raw_id)?;
    db.work_orders
        .get(id, |i| mx.world.work_order(i))
        .ok_or_else(|| ApiError::not_found(format!("Work order {id} not found")))
}

pub(crate) async fn update_work_order(
    State(mx): State<Arc<Maintainx>>,
    Path(raw_id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&headers, &bytes)?;
    let mut db = mx.db();
    let mut wo = existing(&mx, &db, &raw_id)?;
    if body.contains_key("status") {
        return Err(ApiError::bad_request(
            "status cannot be changed here; use PATCH /workorders/{id}/status",
        ));
    }
    apply(
        &mut wo,
        &body,
        &Lookup {
            world: &mx.world,
            db: &db,
        },
    )?;
    wo.updated_at = mx.clock.now();
    db.work_orders.replace(wo.id, wo.clone());
    Ok(view_one(&mx, &db, &wo))
}

pub(crate) async fn set_work_order_status(
    State(mx): State<Arc<Maintainx>>,
    Path(raw_id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&headers, &bytes)?;
    let mut db = mx.db();
    let mut wo = existing(&mx, &db, &raw_id)?;
    let status = parse_status(body.get("status"))?;
    let now = mx.clock.now();
    wo.completed_at = match status {
        WorkOrderStatus::Done => wo.completed_at.or(Some(now)),
        _ => None,
    };
    wo.status = status;
    wo.updated_at = now;
    db.work_orders.replace(wo.id, wo.clone());
    Ok(view_one(&mx, &db, &wo))
}

pub(crate) async fn delete_work_order(
    State(mx): State<Arc<Maintainx>>,
    Path(raw_id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&raw_id)?;
    if mx.db().work_orders.delete(id) {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!("Work order {id} not found")))
    }
}
