//! Unified writes (spec §5): `POST /{entity}`, `PATCH /{entity}/{id}`, `DELETE /{entity}/{id}`.
//!
//! A write goes to the source system synchronously. On success the fresh record is stored at
//! once through the same path as a sync page ([`millwright_sync::to_record_write`]
//! and [`millwright_store::Store::apply_page`]), so it is readable right away, its
//! `<entity>.created|updated|deleted` event is written in the same transaction, and the answer
//! has exactly the shape of a read ([`super::records::view`]).
//!
//! Relation fields arrive as Millwright ids (`asset_id: "rec_…"`) and are translated back to the
//! source's ids from the stored records before the connector sees them; an id this connection
//! does not have is `VALIDATION_FAILED` naming the field.
//!
//! If the source accepted a write but storing the record fails (database down, connection
//! disconnected meanwhile), the error is returned and the next sync brings the record in.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::State,
    http::{header, HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    Json,
};
use millwright_connectors::{ConnectionContext, Connector, ConnectorError, RemoteRecord};
use millwright_core::{model::relations, scope::Scope, status::ConnectionStatus, time, Entity};
use millwright_store::{PageWrite, StoredRecord};
use millwright_sync::to_record_write;
use serde_json::Value;

use super::{connections::open_credentials, records::view};
use crate::{
    auth::ConnectionAuth, error::FieldError, extract::parse_json, idempotency, state::AppState,
    ApiError, ApiResult,
};

/// Which write a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

/// Checks that hold whatever the request: the `write` scope, a usable and connected
/// connection. They come before the idempotency key is read, so that a refused credential
/// neither reads nor fills a stored answer.
pub(crate) fn require_live(auth: &ConnectionAuth, scope: Scope) -> ApiResult<()> {
    auth.require(scope)?;
    auth.require_usable()?;
    if auth.connection.status == ConnectionStatus::Disconnected {
        return Err(ApiError::ConnectionDisconnected);
    }
    Ok(())
}

/// The connector of the request's connection.
pub(crate) fn connector(
    state: &AppState,
    auth: &ConnectionAuth,
) -> ApiResult<std::sync::Arc<dyn Connector>> {
    state
        .connectors
        .connector(&auth.connection.connector)
        .ok_or_else(|| {
            ApiError::from(ConnectorError::Unavailable {
                connector: auth.connection.connector.clone(),
            })
        })
}

/// What a call to the source needs: the connection's deployment and decrypted credentials.
pub(crate) fn context(state: &AppState, auth: &ConnectionAuth) -> ApiResult<ConnectionContext> {
    Ok(ConnectionContext {
        deployment: auth.connection.deployment,
        credentials: open_credentials(state, &auth.workspace, &auth.connection)?,
    })
}

/// `OPERATION_NOT_SUPPORTED` unless the connector's catalog entry offers `op` on `entity`.
fn supported(connector: &dyn Connector, entity: Entity, op: Operation) -> ApiResult<()> {
    let d = connector.descriptor();
    let offered = d.operations(entity).is_some_and(|ops| match op {
        Operation::Create => ops.create,
        Operation::Update => ops.update,
        Operation::Delete => ops.delete,
    });
    if offered {
        Ok(())
    } else {
        Err(ApiError::OperationNotSupported(format!(
            "the {} connector cannot {} {}",
            d.id,
            op.as_str(),
            entity.as_str()
        )))
    }
}

/// The JSON object of a write body (`INVALID_REQUEST` if it is not JSON,
/// `VALIDATION_FAILED` on `body` if it is not an object).
fn body_object(headers: &HeaderMap, body: &[u8]) -> ApiResult<Value> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("");
        if !ct.starts_with("application/json") && !ct.contains("+json") {
            return Err(ApiError::InvalidRequest(format!(
                "Content-Type must be application/json, not `{ct}`"
            )));
        }
    }
    let value: Value = parse_json(body)?;
    if !value.is_object() {
        return Err(ApiError::validation("body", "must be a JSON object"));
    }
    Ok(value)
}

/// A relation id found in a write body.
struct Reference {
    /// As errors name it: `asset_id`, `assignee_ids[1]`, `line_items[0].item_id`.
    field: String,
    /// JSON pointer to the id, for replacing it.
    pointer: String,
    target: Entity,
    id: String,
}

/// Collects the ids at `path` (a relation field of [`relations`], dotted through lists of
/// objects) below `value`.
fn collect(
    value: &Value,
    path: &[&str],
    target: Entity,
    field: &str,
    pointer: &str,
    out: &mut Vec<Reference>,
) {
    match (path.split_first(), value) {
        (None, Value::String(id)) => out.push(Reference {
            field: field.to_string(),
            pointer: pointer.to_string(),
            target,
            id: id.clone(),
        }),
        (None, Value::Array(ids)) => {
            for (i, id) in ids.iter().enumerate() {
                if let Value::String(id) = id {
                    out.push(Reference {
                        field: format!("{field}[{i}]"),
                        pointer: format!("{pointer}/{i}"),
                        target,
                        id: id.clone(),
                    });
                }
            }
        }
        (Some(_), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                collect(
                    item,
                    path,
                    target,
                    &format!("{field}[{i}]"),
                    &format!("{pointer}/{i}"),
                    out,
                );
            }
        }
        (Some((head, rest)), Value::Object(fields)) => {
            if let Some(child) = fields.get(*head) {
                let field = if field.is_empty() {
                    head.to_string()
                } else {
                    format!("{field}.{head}")
                };
                collect(
                    child,
                    rest,
                    target,
                    &field,
                    &format!("{pointer}/{head}"),
                    out,
                );
            }
        }
        // Nulls clear a relation; other shapes are the connector's to refuse, naming the field.
        _ => {}
    }
}

/// Replaces the Millwright ids in `input`'s relation fields with the source's ids of the
/// records they name. Every unknown or deleted id is listed in one `VALIDATION_FAILED`.
async fn to_remote_ids(
    state: &AppState,
    auth: &ConnectionAuth,
    entity: Entity,
    input: &mut Value,
) -> ApiResult<()> {
    let mut refs = Vec::new();
    for (field, target) in relations(entity) {
        let path: Vec<&str> = field.split('.').collect();
        collect(input, &path, *target, "", "", &mut refs);
    }
    let mut resolved: HashMap<(Entity, String), Result<String, String>> = HashMap::new();
    let mut problems = Vec::new();
    for r in &refs {
        let key = (r.target, r.id.clone());
        if !resolved.contains_key(&key) {
            let found = state
                .store
                .get_record(&auth.workspace.id, &auth.connection_id, r.target, &r.id)
                .await?;
            let what = r.target.event_name().replace('_', " ");
            let outcome = match found {
                Some(rec) if rec.deleted_at.is_none() => Ok(rec.remote_id),
                Some(_) => Err(format!("the {what} `{}` was deleted in the source", r.id)),
                None => Err(format!(
                    "no {what} `{}` in this connection (relations take Millwright ids, `rec_…`)",
                    r.id
                )),
            };
            resolved.insert(key.clone(), outcome);
        }
        match &resolved[&key] {
            Ok(remote_id) => {
                if let Some(slot) = input.pointer_mut(&r.pointer) {
                    *slot = Value::String(remote_id.clone());
                }
            }
            Err(message) => problems.push(FieldError::new(&r.field, message)),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::ValidationFailed(problems))
    }
}

/// Stores the source's answer like a synced page (upsert + event) and reads it back.
async fn store(
    state: &AppState,
    auth: &ConnectionAuth,
    entity: Entity,
    remote: RemoteRecord,
) -> ApiResult<StoredRecord> {
    let write = to_record_write(&auth.connection_id, entity, remote);
    let id = write.id.clone();
    state
        .store
        .apply_page(PageWrite {
            workspace_id: auth.workspace.id.clone(),
            connection_id: auth.connection_id.clone(),
            entity,
            run_id: None,
            records: vec![write],
            deleted_remote_ids: Vec::new(),
            checkpoint: None,
            now: time::now(),
        })
        .await?;
    read_back(state, auth, entity, &id).await
}

async fn read_back(
    state: &AppState,
    auth: &ConnectionAuth,
    entity: Entity,
    id: &str,
) -> ApiResult<StoredRecord> {
    state
        .store
        .get_record(&auth.workspace.id, &auth.connection_id, entity, id)
        .await?
        .ok_or_else(|| {
            ApiError::Internal(format!("the {} {id} just written is gone", entity.as_str()))
        })
}

/// The stored, live record `id` of `entity`.
async fn live_record(
    state: &AppState,
    auth: &ConnectionAuth,
    entity: Entity,
    id: &str,
) -> ApiResult<StoredRecord> {
    let what = entity.event_name();
    match state
        .store
        .get_record(&auth.workspace.id, &auth.connection_id, entity, id)
        .await?
    {
        Some(r) if r.deleted_at.is_none() => Ok(r),
        Some(_) => Err(ApiError::NotFound(format!(
            "the {what} {id} was deleted in the source system"
        ))),
        None => Err(ApiError::not_found(what)),
    }
}

/// The request as the idempotency layer identifies it.
fn identity<'a>(
    auth: &'a ConnectionAuth,
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    body: &'a [u8],
) -> idempotency::Request<'a> {
    idempotency::Request {
        workspace_id: &auth.workspace.id,
        connection_id: &auth.connection_id,
        method,
        path: uri.path_and_query().map_or(uri.path(), |p| p.as_str()),
        headers,
        body,
    }
}

/// `POST /{entity}`: 201 with the created record.
pub async fn create(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    entity: Entity,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(e) = require_live(&auth, Scope::Write) {
        return e.into_response();
    }
    let request = identity(&auth, &Method::POST, &uri, &headers, &body);
    idempotency::run(&state, request, || async {
        run_create(&state, &auth, entity, &headers, &body)
            .await
            .into_response()
    })
    .await
}

async fn run_create(
    state: &AppState,
    auth: &ConnectionAuth,
    entity: Entity,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<(StatusCode, Json<Value>)> {
    let connector = connector(state, auth)?;
    supported(connector.as_ref(), entity, Operation::Create)?;
    let mut input = body_object(headers, body)?;
    to_remote_ids(state, auth, entity, &mut input).await?;
    let ctx = context(state, auth)?;
    let remote = connector.create(&ctx, entity, input).await?;
    let record = store(state, auth, entity, remote).await?;
    Ok((
        StatusCode::CREATED,
        Json(view(&record, &auth.connection, false)),
    ))
}

/// `PATCH /{entity}/{id}`: 200 with the updated record.
pub async fn update(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    entity: Entity,
    id: String,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(e) = require_live(&auth, Scope::Write) {
        return e.into_response();
    }
    let request = identity(&auth, &Method::PATCH, &uri, &headers, &body);
    idempotency::run(&state, request, || async {
        run_update(&state, &auth, entity, &id, &headers, &body)
            .await
            .into_response()
    })
    .await
}

async fn run_update(
    state: &AppState,
    auth: &ConnectionAuth,
    entity: Entity,
    id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<Json<Value>> {
    let connector = connector(state, auth)?;
    supported(connector.as_ref(), entity, Operation::Update)?;
    let current = live_record(state, auth, entity, id).await?;
    let mut patch = body_object(headers, body)?;
    to_remote_ids(state, auth, entity, &mut patch).await?;
    let ctx = context(state, auth)?;
    let remote = connector
        .update(&ctx, entity, &current.remote_id, patch)
        .await?;
    let record = store(state, auth, entity, remote).await?;
    Ok(Json(view(&record, &auth.connection, false)))
}

/// `DELETE /{entity}/{id}`: 200 with the record as tombstoned (`deleted_at` set). A body is
/// ignored, so it plays no part in the idempotency check either.
pub async fn delete(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    entity: Entity,
    id: String,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = require_live(&auth, Scope::Write) {
        return e.into_response();
    }
    let request = identity(&auth, &Method::DELETE, &uri, &headers, &[]);
    idempotency::run(&state, request, || async {
        run_delete(&state, &auth, entity, &id).await.into_response()
    })
    .await
}

async fn run_delete(
    state: &AppState,
    auth: &ConnectionAuth,
    entity: Entity,
    id: &str,
) -> ApiResult<Json<Value>> {
    let connector = connector(state, auth)?;
    supported(connector.as_ref(), entity, Operation::Delete)?;
    let current = live_record(state, auth, entity, id).await?;
    let ctx = context(state, auth)?;
    match connector.delete(&ctx, entity, &current.remote_id).await {
        // Already gone in the source: what the caller wanted holds, so record it.
        Ok(()) | Err(ConnectorError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    state
        .store
        .apply_page(PageWrite {
            workspace_id: auth.workspace.id.clone(),
            connection_id: auth.connection_id.clone(),
            entity,
            run_id: None,
            records: Vec::new(),
            deleted_remote_ids: vec![current.remote_id.clone()],
            checkpoint: None,
            now: time::now(),
        })
        .await?;
    let record = read_back(state, auth, entity, id).await?;
    Ok(Json(view(&record, &auth.connection, false)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn found(entity: Entity, body: Value) -> Vec<(String, String, String)> {
        let mut refs = Vec::new();
        for (field, target) in relations(entity) {
            let path: Vec<&str> = field.split('.').collect();
            collect(&body, &path, *target, "", "", &mut refs);
        }
        refs.into_iter()
            .map(|r| (r.field, r.pointer, r.id))
            .collect()
    }

    #[test]
    fn relation_ids_are_found_with_their_field_names() {
        let refs = found(
            Entity::WorkOrders,
            json!({"title": "x", "asset_id": "rec_a", "location_id": null, "assignee_ids": ["rec_u1", "rec_u2"]}),
        );
        assert_eq!(
            refs,
            vec![
                ("asset_id".into(), "/asset_id".into(), "rec_a".into()),
                (
                    "assignee_ids[0]".into(),
                    "/assignee_ids/0".into(),
                    "rec_u1".into()
                ),
                (
                    "assignee_ids[1]".into(),
                    "/assignee_ids/1".into(),
                    "rec_u2".into()
                ),
            ]
        );
        let refs = found(
            Entity::PurchaseOrders,
            json!({"vendor_id": "rec_v", "line_items": [{"item_id": "rec_i"}, {"description": "freight"}, {"item_id": "rec_j"}]}),
        );
        assert_eq!(
            refs,
            vec![
                ("vendor_id".into(), "/vendor_id".into(), "rec_v".into()),
                (
                    "line_items[0].item_id".into(),
                    "/line_items/0/item_id".into(),
                    "rec_i".into()
                ),
                (
                    "line_items[2].item_id".into(),
                    "/line_items/2/item_id".into(),
                    "rec_j".into()
                ),
            ]
        );
    }
}
