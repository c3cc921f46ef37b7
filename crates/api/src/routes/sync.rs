//! Sync status and triggers: `GET /sync-status` and `POST /sync` (unified), and
//! `GET|POST /connections/{id}/syncs` (management).

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use millwright_core::{scope::Scope, status::ConnectionStatus, time::Timestamp, Entity};
use millwright_store::{Connection, SyncRun, SyncState};
use millwright_sync::SyncSettings;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    auth::{ConnectionAuth, WorkspaceAuth},
    extract::{ApiJson, ApiQuery},
    pagination::{List, PageParams},
    state::AppState,
    ApiError, ApiResult,
};

/// One entity's sync status.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntitySyncStatus {
    pub entity: Entity,
    /// `never`, `running`, `completed`, `failed` or `paused`.
    pub status: &'static str,
    #[serde(with = "millwright_core::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_success_at: Option<Timestamp>,
    #[serde(with = "millwright_core::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_run_at: Option<Timestamp>,
    #[serde(with = "millwright_core::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_run_at: Option<Timestamp>,
    pub error: Option<String>,
    pub record_count: i64,
}

fn status_of(s: Option<&SyncState>) -> &'static str {
    match s {
        None => "never",
        Some(s) if s.paused => "paused",
        Some(s) if s.running_run_id.is_some() => "running",
        Some(s) => match s.last_status {
            Some(millwright_store::RunStatus::Completed) => "completed",
            Some(millwright_store::RunStatus::Failed) => "failed",
            Some(millwright_store::RunStatus::Running) => "running",
            Some(millwright_store::RunStatus::Cancelled) | None => "never",
        },
    }
}

async fn statuses(state: &AppState, c: &Connection) -> ApiResult<Vec<EntitySyncStatus>> {
    let settings = SyncSettings::from_json(&c.sync_settings);
    let states = state.store.sync_states(&c.id).await?;
    Ok(settings
        .entities
        .iter()
        .map(|e| {
            let s = states.iter().find(|s| s.entity == *e);
            EntitySyncStatus {
                entity: *e,
                status: status_of(s),
                last_success_at: s.and_then(|s| s.last_success_at),
                last_run_at: s.and_then(|s| s.last_run_at),
                next_run_at: if c.status == ConnectionStatus::Disconnected {
                    None
                } else {
                    s.and_then(|s| s.next_run_at)
                },
                error: s.and_then(|s| s.error.clone()),
                record_count: s.map(|s| s.record_count).unwrap_or(0),
            }
        })
        .collect())
}

#[utoipa::path(
    get, path = "/api/v1/sync-status", tag = "unified",
    responses((status = 200, description = "Per entity", body = List<EntitySyncStatus>)),
    security(("bearer" = []))
)]
pub async fn sync_status(
    State(state): State<AppState>,
    auth: ConnectionAuth,
) -> ApiResult<Json<List<EntitySyncStatus>>> {
    auth.require(Scope::Read)?;
    Ok(Json(List {
        data: statuses(&state, &auth.connection).await?,
        next_cursor: None,
    }))
}

/// Body of `POST /sync` and `POST /connections/{id}/syncs`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerSync {
    /// Entities to sync now (snake_case plural); all the connection's when left out.
    pub entities: Option<Vec<Entity>>,
    /// Ignore the cursor, re-read everything and detect deletions.
    #[serde(default)]
    pub full: bool,
}

/// `202` of a trigger.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncTriggered {
    /// Entities queued now. An entity whose sync is already running keeps that run.
    pub queued: Vec<Entity>,
    pub full: bool,
}

async fn trigger(
    state: &AppState,
    c: &Connection,
    body: TriggerSync,
) -> ApiResult<(StatusCode, Json<SyncTriggered>)> {
    match c.status {
        ConnectionStatus::Disconnected => return Err(ApiError::ConnectionDisconnected),
        ConnectionStatus::RequiresReauthorization => return Err(ApiError::ReauthorizationRequired),
        _ => {}
    }
    let settings = SyncSettings::from_json(&c.sync_settings);
    let entities = body.entities.unwrap_or_default();
    for e in &entities {
        if !settings.entities.contains(e) {
            return Err(ApiError::validation(
                "entities",
                format!("this connection does not sync {}", e.as_str()),
            ));
        }
    }
    let queued = millwright_sync::trigger(state.store.as_ref(), c, &entities, body.full).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SyncTriggered {
            queued,
            full: body.full,
        }),
    ))
}

#[utoipa::path(
    post, path = "/api/v1/sync", tag = "unified",
    request_body = TriggerSync,
    responses(
        (status = 202, description = "Queued", body = SyncTriggered),
        (status = 409, description = "CONNECTION_DISCONNECTED", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn sync_now(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    ApiJson(body): ApiJson<TriggerSync>,
) -> ApiResult<(StatusCode, Json<SyncTriggered>)> {
    auth.require(Scope::Read)?;
    auth.require_usable()?;
    trigger(&state, &auth.connection, body).await
}

/// A sync run.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncRunView {
    /// `run_…`
    pub id: String,
    pub entity: Entity,
    /// `initial`, `incremental` or `full`.
    pub mode: &'static str,
    /// `running`, `completed`, `failed` or `cancelled`.
    pub status: &'static str,
    pub pages: i64,
    pub created: i64,
    pub updated: i64,
    pub deleted: i64,
    pub unchanged: i64,
    pub error: Option<String>,
    #[serde(with = "millwright_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    #[serde(with = "millwright_core::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<Timestamp>,
}

impl From<SyncRun> for SyncRunView {
    fn from(r: SyncRun) -> SyncRunView {
        SyncRunView {
            id: r.id,
            entity: r.entity,
            mode: r.mode.as_str(),
            status: r.status.as_str(),
            pages: r.pages,
            created: r.created,
            updated: r.updated,
            deleted: r.deleted,
            unchanged: r.unchanged,
            error: r.error,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

#[utoipa::path(
    get, path = "/api/v1/connections/{id}/syncs", tag = "connections",
    params(("id" = String, Path, description = "Connection id"), PageParams),
    responses((status = 200, description = "Runs, newest first", body = List<SyncRunView>)),
    security(("bearer" = []))
)]
pub async fn list_runs(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<List<SyncRunView>>> {
    state
        .store
        .get_connection(&ws.id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("connection"))?;
    let runs = state
        .store
        .list_sync_runs(&ws.id, &id, &page.to_request()?)
        .await?;
    Ok(Json(List::from_page(runs, SyncRunView::from)))
}

#[utoipa::path(
    post, path = "/api/v1/connections/{id}/syncs", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    request_body = TriggerSync,
    responses(
        (status = 202, description = "Queued", body = SyncTriggered),
        (status = 409, description = "CONNECTION_DISCONNECTED", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn trigger_runs(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TriggerSync>,
) -> ApiResult<(StatusCode, Json<SyncTriggered>)> {
    let c = state
        .store
        .get_connection(&ws.id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("connection"))?;
    trigger(&state, &c, body).await
}

#[utoipa::path(
    get, path = "/api/v1/connections/{id}/sync-status", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, description = "Per entity", body = List<EntitySyncStatus>)),
    security(("bearer" = []))
)]
pub async fn connection_sync_status(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<List<EntitySyncStatus>>> {
    let c = state
        .store
        .get_connection(&ws.id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("connection"))?;
    Ok(Json(List {
        data: statuses(&state, &c).await?,
        next_cursor: None,
    }))
}
