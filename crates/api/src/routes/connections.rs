//! The connection lifecycle (spec §4): connect, list, read, patch, reauthorize, rotate tokens,
//! disconnect, delete data.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use millwright_connectors::{ConnectionContext, ConnectorError, Credentials};
use millwright_core::{
    credits::Deployment,
    ids::{self, prefix},
    scope::Scope,
    secrets,
    status::ConnectionStatus,
    time,
};
use millwright_store::{
    Connection, ConnectionFilter, ConnectionPatch, NewConnection, NewEvent, NewToken, Workspace,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::{
    auth::WorkspaceAuth,
    extract::{ApiJson, ApiQuery},
    pagination::{page_request, List, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE},
    state::AppState,
    validate::{self, Problems, SyncInput},
    views::{ConnectionView, ConnectionWithToken, IssuedToken, TokenView},
    ApiError, ApiResult,
};

/// Body of `POST /connections`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConnection {
    /// Connector id from `GET /connectors`, e.g. `maintainx`.
    pub connector: String,
    /// `cloud` (default when the connector offers it) or `on_premise`.
    pub deployment: Option<Deployment>,
    pub name: String,
    /// The connector's `auth_fields`, e.g. `{"base_url": "...", "api_key": "..."}`.
    #[schema(value_type = Object)]
    pub credentials: Value,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    pub sync: Option<SyncInput>,
}

#[utoipa::path(
    post, path = "/api/v1/connections", tag = "connections",
    request_body = CreateConnection,
    responses(
        (status = 201, description = "Connected; the token is shown once", body = ConnectionWithToken),
        (status = 402, description = "INSUFFICIENT_CREDITS", body = crate::error::ErrorBody),
        (status = 422, description = "VALIDATION_FAILED or CREDENTIALS_INVALID", body = crate::error::ErrorBody),
        (status = 503, description = "UPSTREAM_UNREACHABLE", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    ApiJson(body): ApiJson<CreateConnection>,
) -> ApiResult<(StatusCode, Json<ConnectionWithToken>)> {
    let prepared = prepare_connection(&state, &ws, body).await?;
    let access_token = secrets::new_connection_token();
    let token = NewToken {
        id: ids::new_id(prefix::TOKEN),
        connection_id: prepared.connection.id.clone(),
        workspace_id: ws.id.clone(),
        token_hash: secrets::hash_token(&access_token),
        scopes: Scope::ALL.to_vec(),
        expires_at: None,
        created_at: prepared.connection.created_at,
    };
    let connection = state
        .store
        .create_connection(prepared.connection, token, prepared.created)
        .await?;
    start_initial_sync(&state, &connection).await?;
    Ok((
        StatusCode::CREATED,
        Json(ConnectionWithToken {
            connection: connection.into(),
            access_token,
        }),
    ))
}

/// A connection whose request was validated and whose credentials the source system accepted,
/// sealed and ready to be stored (by `POST /connections` with its first token, or by a Link
/// session's completion without one).
#[derive(Debug)]
pub struct PreparedConnection {
    pub connection: NewConnection,
    /// `connection.created`, to be appended in the same transaction.
    pub created: NewEvent,
}

/// The connect step shared by `POST /connections` and Link: validates the request (connector,
/// deployment, name, metadata, sync settings, credentials), checks that the connection fits in
/// the credit pool (the store checks again under a lock), checks the credentials against the
/// source system (`CREDENTIALS_INVALID` with the source's reason when rejected) and seals them.
pub async fn prepare_connection(
    state: &AppState,
    ws: &Workspace,
    body: CreateConnection,
) -> ApiResult<PreparedConnection> {
    let mut p = Problems::default();
    let Some(descriptor) = state.connectors.descriptor(&body.connector) else {
        return Err(ApiError::validation(
            "connector",
            "unknown connector; see GET /api/v1/connectors",
        ));
    };
    let deployment = body.deployment.unwrap_or(descriptor.deployments[0]);
    let credits = descriptor.credits(deployment);
    if credits.is_none() {
        p.add(
            "deployment",
            format!(
                "the {} connector is not offered {}",
                descriptor.id,
                deployment.as_str()
            ),
        );
    }
    validate::name(&mut p, "name", &body.name);
    let metadata = match &body.metadata {
        Some(m) => validate::metadata(&mut p, m, false),
        None => Map::new(),
    };
    let sync = validate::sync_settings(&mut p, body.sync, descriptor);
    let credentials = validate::credentials(&mut p, descriptor, &body.credentials);
    p.into_result()?;
    let (credits, credentials) = (credits.unwrap_or_default(), credentials.unwrap_or_default());

    // Fail fast before calling the source; the store checks again under a lock.
    let usage = state.store.credit_usage(&ws.id).await?;
    if usage.used + credits > usage.limit {
        return Err(ApiError::from(
            millwright_store::StoreError::InsufficientCredits {
                limit: usage.limit,
                used: usage.used,
                requested: credits,
            },
        ));
    }

    let connector = state.connectors.connector(descriptor.id).ok_or_else(|| {
        ApiError::from(ConnectorError::Unavailable {
            connector: descriptor.id.to_string(),
        })
    })?;
    let ctx = ConnectionContext {
        deployment,
        credentials: credentials.clone(),
    };
    connector
        .check_credentials(&ctx)
        .await
        .map_err(ApiError::from_connect)?;

    let now = time::now();
    let id = ids::new_id(prefix::CONNECTION);
    let sealed = seal_credentials(state, ws, &id, &credentials)?;
    let created = NewEvent::connection(
        "created",
        &ws.id,
        &id,
        descriptor.id,
        body.name.trim(),
        ConnectionStatus::Pending,
        now,
    );
    Ok(PreparedConnection {
        connection: NewConnection {
            id,
            workspace_id: ws.id.clone(),
            connector: descriptor.id.to_string(),
            deployment,
            name: body.name.trim().to_string(),
            status: ConnectionStatus::Pending,
            credits,
            metadata: Value::Object(metadata),
            sealed_credentials: sealed,
            sync_settings: serde_json::to_value(&sync)
                .map_err(|e| ApiError::Internal(e.to_string()))?,
            field_mappings: Value::Object(Map::new()),
            created_at: now,
        },
        created,
    })
}

/// What follows a stored new connection: its initial sync of every entity starts now, in the
/// background.
pub async fn start_initial_sync(state: &AppState, connection: &Connection) -> ApiResult<()> {
    millwright_sync::trigger(state.store.as_ref(), connection, &[], false).await?;
    Ok(())
}

fn seal_credentials(
    state: &AppState,
    ws: &Workspace,
    connection_id: &str,
    c: &Credentials,
) -> ApiResult<Vec<u8>> {
    let plain = serde_json::to_vec(c).map_err(|e| ApiError::Internal(e.to_string()))?;
    state
        .keyring
        .seal(&ws.id, &ws.wrapped_data_key, connection_id, &plain)
        .map_err(|e| ApiError::Internal(format!("cannot seal credentials: {e}")))
}

/// The connection's decrypted upstream credentials (also used by the unified writes).
pub(crate) fn open_credentials(
    state: &AppState,
    ws: &Workspace,
    c: &Connection,
) -> ApiResult<Credentials> {
    let plain = state
        .keyring
        .open(&ws.id, &ws.wrapped_data_key, &c.id, &c.sealed_credentials)
        .map_err(|e| ApiError::Internal(format!("cannot open credentials of {}: {e}", c.id)))?;
    serde_json::from_slice(&plain).map_err(|e| ApiError::Internal(e.to_string()))
}

async fn load(state: &AppState, ws: &Workspace, id: &str) -> ApiResult<Connection> {
    state
        .store
        .get_connection(&ws.id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("connection"))
}

#[utoipa::path(
    get, path = "/api/v1/connections", tag = "connections",
    params(
        ("status" = Option<ConnectionStatus>, Query, description = "Only connections in this status"),
        ("connector" = Option<String>, Query, description = "Only connections of this connector"),
        ("metadata.<key>" = Option<String>, Query, description = "Only connections whose metadata has this value at <key>; repeatable with other keys"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("page_size" = Option<u32>, Query, description = "1 to 100, default 50"),
    ),
    responses((status = 200, description = "A page of connections", body = List<ConnectionView>)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    ApiQuery(pairs): ApiQuery<Vec<(String, String)>>,
) -> ApiResult<Json<List<ConnectionView>>> {
    let mut filter = ConnectionFilter::default();
    let (mut cursor, mut page_size) = (None, None);
    for (k, v) in pairs {
        match k.as_str() {
            "status" => {
                filter.status = Some(ConnectionStatus::parse(&v).ok_or_else(|| {
                    ApiError::InvalidRequest(format!("`status` must be one of pending, syncing, active, offline, requires_reauthorization, disconnected; got `{v}`"))
                })?)
            }
            "connector" => filter.connector = Some(v),
            "cursor" => cursor = Some(v),
            "page_size" => {
                page_size = Some(
                    v.parse::<u32>()
                        .map_err(|_| ApiError::InvalidRequest("`page_size` must be a whole number".into()))?,
                )
            }
            other => match other.strip_prefix("metadata.") {
                Some(key) if !key.is_empty() => filter.metadata.push((key.to_string(), v)),
                _ => return Err(ApiError::InvalidRequest(format!("unknown query parameter `{other}`"))),
            },
        }
    }
    let page = page_request(
        cursor.as_deref(),
        page_size,
        DEFAULT_PAGE_SIZE,
        MAX_PAGE_SIZE,
    )?;
    let result = state.store.list_connections(&ws.id, &filter, &page).await?;
    Ok(Json(List::from_page(result, ConnectionView::from)))
}

#[utoipa::path(
    get, path = "/api/v1/connections/{id}", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, body = ConnectionView), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<ConnectionView>> {
    Ok(Json(load(&state, &ws, &id).await?.into()))
}

/// Body of `PATCH /connections/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchConnection {
    pub name: Option<String>,
    /// Merged into the metadata: a key set to null is removed.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// Sync settings; given fields replace the stored ones.
    pub sync: Option<SyncPatch>,
    /// Per entity: `{"custom_fields": {"<name>": "<source path>"}, "fields": {"<unified field>":
    /// "<source path>"}}`; replaces the stored mappings; applied from the next read on.
    #[schema(value_type = Option<Object>)]
    pub field_mappings: Option<Value>,
}

/// Changes to a connection's sync settings.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncPatch {
    /// 1 to 1440.
    pub frequency_minutes: Option<u32>,
    pub history_days: Option<u32>,
    pub entities: Option<Vec<millwright_core::Entity>>,
    /// Per-entity frequency overrides, e.g. `{"work_orders": 5}`.
    pub entity_frequency_minutes: Option<std::collections::BTreeMap<millwright_core::Entity, u32>>,
    /// Pause (true) or resume (false) every scheduled sync of the connection.
    pub paused: Option<bool>,
}

#[utoipa::path(
    patch, path = "/api/v1/connections/{id}", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    request_body = PatchConnection,
    responses((status = 200, body = ConnectionView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn patch(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchConnection>,
) -> ApiResult<Json<ConnectionView>> {
    let current = load(&state, &ws, &id).await?;
    let mut p = Problems::default();
    if let Some(n) = &body.name {
        validate::name(&mut p, "name", n);
    }
    let metadata = match &body.metadata {
        None => None,
        Some(m) => {
            let changes = validate::metadata(&mut p, m, true);
            let mut merged = current.metadata.as_object().cloned().unwrap_or_default();
            for (k, v) in changes {
                if v.is_null() {
                    merged.remove(&k);
                } else {
                    merged.insert(k, v);
                }
            }
            if merged.len() > 50 {
                p.add("metadata", "may hold at most 50 keys");
            }
            Some(Value::Object(merged))
        }
    };
    let descriptor = state
        .connectors
        .descriptor(&current.connector)
        .ok_or_else(|| {
            ApiError::Internal(format!("connector {} left the catalog", current.connector))
        })?;
    let readable: Vec<_> = descriptor
        .entities
        .iter()
        .filter(|e| e.read)
        .map(|e| e.entity)
        .collect();
    let sync_settings = body.sync.as_ref().map(|patch| {
        let mut merged = current
            .sync_settings
            .as_object()
            .cloned()
            .unwrap_or_default();
        let input = SyncInput {
            frequency_minutes: patch.frequency_minutes.or(merged
                .get("frequency_minutes")
                .and_then(|v| v.as_u64())
                .map(|v| v as u32)),
            history_days: patch.history_days.or(merged
                .get("history_days")
                .and_then(|v| v.as_u64())
                .map(|v| v as u32)),
            entities: patch.entities.clone().or_else(|| {
                merged
                    .get("entities")
                    .and_then(|v| serde_json::from_value(v.clone()).ok())
            }),
        };
        let settings = validate::sync_settings(&mut p, Some(input), descriptor);
        if let Value::Object(m) = serde_json::to_value(&settings).unwrap_or_default() {
            merged.extend(m);
        }
        if let Some(overrides) = &patch.entity_frequency_minutes {
            for (e, minutes) in overrides {
                if !(1..=1440).contains(minutes) {
                    p.add(
                        format!("sync.entity_frequency_minutes.{}", e.as_str()),
                        "must be between 1 and 1440",
                    );
                }
                if !readable.contains(e) {
                    p.add(
                        format!("sync.entity_frequency_minutes.{}", e.as_str()),
                        "is not an entity this connection reads",
                    );
                }
            }
            merged.insert(
                "entity_frequency_minutes".into(),
                serde_json::to_value(overrides).unwrap_or_default(),
            );
        }
        Value::Object(merged)
    });
    let field_mappings = body
        .field_mappings
        .as_ref()
        .map(|m| crate::field_mappings::validate(&mut p, m, &readable));
    p.into_result()?;
    if (body.sync.is_some() || body.field_mappings.is_some())
        && current.status == ConnectionStatus::Disconnected
    {
        return Err(ApiError::ConnectionDisconnected);
    }
    let now = time::now();
    let mut updated = if body.name.is_some() || metadata.is_some() {
        let patch = ConnectionPatch {
            name: body.name.map(|n| n.trim().to_string()),
            metadata,
        };
        state
            .store
            .update_connection(&ws.id, &id, patch, now)
            .await?
    } else {
        current.clone()
    };
    if sync_settings.is_some() || field_mappings.is_some() {
        updated = state
            .store
            .update_connection_settings(&ws.id, &id, sync_settings.clone(), field_mappings, now)
            .await?;
    }
    if let Some(paused) = body.sync.as_ref().and_then(|s| s.paused) {
        let settings = millwright_sync::SyncSettings::from_json(&updated.sync_settings);
        state
            .store
            .set_paused(&id, &settings.entities, paused)
            .await?;
        if paused {
            state
                .store
                .cancel_queued_jobs(&id, &[millwright_sync::SYNC_JOB], now)
                .await?;
        } else {
            millwright_sync::trigger(state.store.as_ref(), &updated, &[], false).await?;
        }
    } else if sync_settings.is_some() {
        // New frequency or entities: re-plan the queued syncs.
        millwright_sync::trigger(state.store.as_ref(), &updated, &[], false).await?;
    }
    state.auth.invalidate_connection(&id);
    Ok(Json(updated.into()))
}

/// Body of `POST /connections/{id}/reauthorize`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reauthorize {
    /// New credentials; fields left out keep their stored values (e.g. send only `api_key`).
    #[schema(value_type = Object)]
    pub credentials: Value,
}

#[utoipa::path(
    post, path = "/api/v1/connections/{id}/reauthorize", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    request_body = Reauthorize,
    responses(
        (status = 200, description = "Same connection, data and token; new credentials", body = ConnectionView),
        (status = 409, description = "CONNECTION_DISCONNECTED", body = crate::error::ErrorBody),
        (status = 422, description = "CREDENTIALS_INVALID", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn reauthorize(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reauthorize>,
) -> ApiResult<Json<ConnectionView>> {
    let current = load(&state, &ws, &id).await?;
    let sealed = prepare_reauthorization(&state, &ws, &current, &body.credentials).await?;
    let updated = state
        .store
        .replace_credentials(
            &ws.id,
            &id,
            sealed,
            reauthorized_event(&ws, &current),
            time::now(),
        )
        .await?;
    finish_reauthorization(&state, current.status, &updated).await?;
    Ok(Json(updated.into()))
}

/// The reauthorization step shared by `POST /connections/{id}/reauthorize` and Link: refuses a
/// disconnected connection, merges `given` over the stored credentials (fields left out keep
/// their values), validates them, checks them against the source system
/// (`CREDENTIALS_INVALID` with the source's reason when rejected) and seals them.
pub async fn prepare_reauthorization(
    state: &AppState,
    ws: &Workspace,
    current: &Connection,
    given: &Value,
) -> ApiResult<Vec<u8>> {
    if current.status == ConnectionStatus::Disconnected {
        return Err(ApiError::ConnectionDisconnected);
    }
    let descriptor = state
        .connectors
        .descriptor(&current.connector)
        .ok_or_else(|| {
            ApiError::Internal(format!("connector {} left the catalog", current.connector))
        })?;
    let Some(given) = given.as_object() else {
        return Err(ApiError::validation("credentials", "must be an object"));
    };
    let mut merged = serde_json::to_value(open_credentials(state, ws, current)?)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Some(m) = merged.as_object_mut() {
        for (k, v) in given {
            m.insert(k.clone(), v.clone());
        }
    }
    let mut p = Problems::default();
    let credentials = validate::credentials(&mut p, descriptor, &merged);
    p.into_result()?;
    let credentials = credentials.unwrap_or_default();
    let connector = state.connectors.connector(descriptor.id).ok_or_else(|| {
        ApiError::from(ConnectorError::Unavailable {
            connector: descriptor.id.to_string(),
        })
    })?;
    let ctx = ConnectionContext {
        deployment: current.deployment,
        credentials: credentials.clone(),
    };
    connector
        .check_credentials(&ctx)
        .await
        .map_err(ApiError::from_connect)?;
    seal_credentials(state, ws, &current.id, &credentials)
}

/// `connection.reauthorized`, appended by the store only when the connection required
/// reauthorization.
pub fn reauthorized_event(ws: &Workspace, current: &Connection) -> NewEvent {
    NewEvent::connection(
        "reauthorized",
        &ws.id,
        &current.id,
        &current.connector,
        &current.name,
        ConnectionStatus::Active,
        time::now(),
    )
}

/// What follows stored new credentials: cached lookups of the connection are dropped, and a
/// connection that required reauthorization (`before`) resumes its syncs, which were paused
/// while the source refused the credentials.
pub async fn finish_reauthorization(
    state: &AppState,
    before: ConnectionStatus,
    updated: &Connection,
) -> ApiResult<()> {
    state.auth.invalidate_connection(&updated.id);
    if before == ConnectionStatus::RequiresReauthorization {
        millwright_sync::trigger(state.store.as_ref(), updated, &[], false).await?;
    }
    Ok(())
}

/// Body of `POST /connections/{id}/tokens`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueToken {
    /// Any of `read`, `write`, `passthrough`; all three when left out.
    pub scopes: Option<Vec<Scope>>,
    /// When the token stops working (RFC 3339, in the future).
    #[serde(default, with = "millwright_core::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<millwright_core::time::Timestamp>,
}

#[utoipa::path(
    post, path = "/api/v1/connections/{id}/tokens", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    request_body = IssueToken,
    responses(
        (status = 201, description = "New token, shown once; older tokens now answer TOKEN_REVOKED", body = IssuedToken),
        (status = 409, description = "CONNECTION_DISCONNECTED", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn issue_token(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<IssueToken>,
) -> ApiResult<(StatusCode, Json<IssuedToken>)> {
    let now = time::now();
    let mut p = Problems::default();
    let scopes = body.scopes.unwrap_or_else(|| Scope::ALL.to_vec());
    if scopes.is_empty() {
        p.add("scopes", "must name at least one scope");
    }
    if body.expires_at.is_some_and(|e| e <= now) {
        p.add("expires_at", "must be in the future");
    }
    p.into_result()?;
    let access_token = secrets::new_connection_token();
    let token = NewToken {
        id: ids::new_id(prefix::TOKEN),
        connection_id: id.clone(),
        workspace_id: ws.id.clone(),
        token_hash: secrets::hash_token(&access_token),
        scopes,
        expires_at: body.expires_at,
        created_at: now,
    };
    let record = state
        .store
        .rotate_token(&ws.id, &id, token)
        .await
        .map_err(|e| match e {
            millwright_store::StoreError::NotFound => ApiError::not_found("connection"),
            other => other.into(),
        })?;
    state.auth.invalidate_connection(&id);
    Ok((
        StatusCode::CREATED,
        Json(IssuedToken {
            access_token,
            token: TokenView::from(record),
        }),
    ))
}

#[utoipa::path(
    post, path = "/api/v1/connections/{id}/disconnect", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, description = "Disconnected (idempotent)", body = ConnectionView), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn disconnect(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<ConnectionView>> {
    let current = load(&state, &ws, &id).await?;
    let now = time::now();
    let event = NewEvent::connection(
        "disconnected",
        &ws.id,
        &id,
        &current.connector,
        &current.name,
        ConnectionStatus::Disconnected,
        now,
    );
    let result = state
        .store
        .disconnect_connection(&ws.id, &id, event, now)
        .await
        .map_err(|e| match e {
            millwright_store::StoreError::NotFound => ApiError::not_found("connection"),
            other => other.into(),
        })?;
    state.auth.invalidate_connection(&id);
    if result.changed {
        tracing::info!(connection = %id, jobs_cancelled = result.jobs_cancelled, "connection disconnected");
    }
    Ok(Json(result.connection.into()))
}

#[utoipa::path(
    delete, path = "/api/v1/connections/{id}/data", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    responses(
        (status = 204, description = "Synced records deleted"),
        (status = 409, description = "CONNECTION_NOT_DISCONNECTED: disconnect first", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete_data(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    load(&state, &ws, &id).await?;
    let deleted = state
        .store
        .delete_connection_data(&ws.id, &id, time::now())
        .await?;
    state.auth.invalidate_connection(&id);
    tracing::info!(connection = %id, deleted, "connection data deleted");
    Ok(StatusCode::NO_CONTENT)
}
