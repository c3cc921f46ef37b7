//! Incidents, scheduled maintenances and the workspace's own status page (spec §4, §7):
//! created, updated and listed with their updates, in the Atlassian Statuspage v2 enums.
//!
//! Scope: a workspace manages the incidents of its own page (`/status/w/{workspace_id}`). The
//! operator workspace (config `operator_workspace_id`) manages the platform's instead — those
//! on the public `/status` page, including the automatic ones the status evaluator opens —
//! which are stored without a workspace.

use std::collections::HashSet;

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use millwright_core::{
    ids,
    time::{self, Timestamp},
};
use millwright_health::{INCIDENT_PREFIX, INCIDENT_UPDATE_PREFIX};
use millwright_store::{
    Impact, Incident, IncidentFilter, IncidentKind, IncidentPatch, IncidentStatus, IncidentUpdate,
    NewIncident, Workspace,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    auth::WorkspaceAuth,
    extract::{ApiJson, ApiQuery},
    pagination::{page_request, List, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE},
    state::AppState,
    validate::{self, Problems},
    ApiError, ApiResult,
};

/// Longest incident update text.
const MAX_BODY: usize = 20_000;
/// Most components one incident may name.
const MAX_COMPONENTS: usize = 50;

/// An incident's status (Statuspage v2).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatusInput {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    Postmortem,
}

impl From<IncidentStatusInput> for IncidentStatus {
    fn from(s: IncidentStatusInput) -> IncidentStatus {
        match s {
            IncidentStatusInput::Investigating => IncidentStatus::Investigating,
            IncidentStatusInput::Identified => IncidentStatus::Identified,
            IncidentStatusInput::Monitoring => IncidentStatus::Monitoring,
            IncidentStatusInput::Resolved => IncidentStatus::Resolved,
            IncidentStatusInput::Postmortem => IncidentStatus::Postmortem,
        }
    }
}

/// A scheduled maintenance's status (Statuspage v2).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceStatusInput {
    Scheduled,
    InProgress,
    Verifying,
    Completed,
}

impl From<MaintenanceStatusInput> for IncidentStatus {
    fn from(s: MaintenanceStatusInput) -> IncidentStatus {
        match s {
            MaintenanceStatusInput::Scheduled => IncidentStatus::Scheduled,
            MaintenanceStatusInput::InProgress => IncidentStatus::InProgress,
            MaintenanceStatusInput::Verifying => IncidentStatus::Verifying,
            MaintenanceStatusInput::Completed => IncidentStatus::Completed,
        }
    }
}

/// An incident's impact (Statuspage v2; `maintenance` is for maintenances only).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImpactInput {
    None,
    Minor,
    Major,
    Critical,
}

impl From<ImpactInput> for Impact {
    fn from(i: ImpactInput) -> Impact {
        match i {
            ImpactInput::None => Impact::None,
            ImpactInput::Minor => Impact::Minor,
            ImpactInput::Major => Impact::Major,
            ImpactInput::Critical => Impact::Critical,
        }
    }
}

/// Body of `POST /incidents`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIncident {
    pub name: String,
    pub status: IncidentStatusInput,
    pub impact: ImpactInput,
    /// The first update's text.
    pub body: String,
    /// Component ids (`api`, `connector.maintainx`, …; on a workspace's own page also its
    /// connection ids).
    pub component_ids: Option<Vec<String>>,
}

/// Body of `PATCH /incidents/{id}`; a `body` adds an update with the (new) status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchIncident {
    pub name: Option<String>,
    pub status: Option<IncidentStatusInput>,
    pub impact: Option<ImpactInput>,
    pub body: Option<String>,
    pub component_ids: Option<Vec<String>>,
}

/// Body of `POST /scheduled-maintenances`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMaintenance {
    pub name: String,
    /// The first update's text.
    pub body: String,
    /// RFC 3339.
    pub scheduled_for: String,
    /// RFC 3339, after `scheduled_for`.
    pub scheduled_until: String,
    pub component_ids: Option<Vec<String>>,
    /// Default `scheduled`; the evaluator moves it to `in_progress` when the window starts and
    /// to `completed` when it ends.
    pub status: Option<MaintenanceStatusInput>,
}

/// Body of `PATCH /scheduled-maintenances/{id}`; a `body` adds an update.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchMaintenance {
    pub name: Option<String>,
    pub status: Option<MaintenanceStatusInput>,
    pub body: Option<String>,
    pub scheduled_for: Option<String>,
    pub scheduled_until: Option<String>,
    pub component_ids: Option<Vec<String>>,
}

/// One update of an incident or maintenance.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentUpdateView {
    /// `iup_…`
    pub id: String,
    pub status: &'static str,
    pub body: String,
    /// Component ids affected at the time of the update.
    pub affected_components: Vec<String>,
    #[serde(with = "millwright_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// An incident or scheduled maintenance with its updates, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentView {
    /// `inc_…`
    pub id: String,
    /// `incident` or `maintenance`.
    pub kind: &'static str,
    /// `null` for the platform's incidents (public `/status` page).
    pub workspace_id: Option<String>,
    pub name: String,
    /// `investigating`, `identified`, `monitoring`, `resolved`, `postmortem`; maintenances:
    /// `scheduled`, `in_progress`, `verifying`, `completed`.
    pub status: &'static str,
    /// `none`, `minor`, `major`, `critical` (`maintenance` for maintenances).
    pub impact: &'static str,
    pub component_ids: Vec<String>,
    /// Opened by the status evaluator for this component (resolved by it on recovery).
    pub auto_component_id: Option<String>,
    #[serde(with = "millwright_core::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub scheduled_for: Option<Timestamp>,
    #[serde(with = "millwright_core::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub scheduled_until: Option<Timestamp>,
    #[serde(with = "millwright_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "millwright_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[serde(with = "millwright_core::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub monitoring_at: Option<Timestamp>,
    #[serde(with = "millwright_core::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<Timestamp>,
    pub incident_updates: Vec<IncidentUpdateView>,
}

impl From<IncidentUpdate> for IncidentUpdateView {
    fn from(u: IncidentUpdate) -> IncidentUpdateView {
        IncidentUpdateView {
            id: u.id,
            status: u.status.as_str(),
            body: u.body,
            affected_components: u.affected_components,
            created_at: u.created_at,
        }
    }
}

impl From<Incident> for IncidentView {
    fn from(i: Incident) -> IncidentView {
        IncidentView {
            id: i.id,
            kind: i.kind.as_str(),
            workspace_id: i.workspace_id,
            name: i.name,
            status: i.status.as_str(),
            impact: i.impact.as_str(),
            component_ids: i.component_ids,
            auto_component_id: i.auto_component_id,
            scheduled_for: i.scheduled_for,
            scheduled_until: i.scheduled_until,
            created_at: i.created_at,
            updated_at: i.updated_at,
            monitoring_at: i.monitoring_at,
            resolved_at: i.resolved_at,
            incident_updates: i.updates.into_iter().map(Into::into).collect(),
        }
    }
}

/// `status=unresolved`: only those not closed.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    Unresolved,
}

/// Query of the incident and maintenance lists.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct IncidentQuery {
    /// `unresolved`: only those not resolved (or completed).
    pub status: Option<StatusFilter>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1 to 100, default 50.
    pub page_size: Option<u32>,
}

/// `GET|PUT /status-page`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusPageView {
    /// Whether `/status/w/{workspace_id}` is published.
    pub enabled: bool,
    /// Where the page is (served only while enabled).
    pub url: String,
}

/// Body of `PUT /status-page`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutStatusPage {
    pub enabled: bool,
}

/// The scope the workspace manages: `None` (the platform's incidents) for the operator
/// workspace, its own id otherwise.
fn scope(state: &AppState, ws: &Workspace) -> Option<String> {
    match &state.config.operator_workspace_id {
        Some(operator) if *operator == ws.id => None,
        _ => Some(ws.id.clone()),
    }
}

fn body_text(p: &mut Problems, field: &str, v: &str) {
    if v.trim().is_empty() {
        p.add(field, "must not be empty");
    } else if v.chars().count() > MAX_BODY {
        p.add(field, format!("must be at most {MAX_BODY} characters"));
    }
}

fn timestamp(p: &mut Problems, field: &str, v: &str) -> Option<Timestamp> {
    let t = time::parse(v);
    if t.is_none() {
        p.add(
            field,
            "must be an RFC 3339 timestamp such as 2026-11-27T22:00:00Z",
        );
    }
    t
}

/// Every id must be a component of the status page or, for a workspace's own incidents, one
/// of its connections. Returns the ids without duplicates, in the given order.
/// Checks the fields incidents and maintenances share (each only when given), adding problems
/// to `p`; returns the checked component ids.
async fn check_shared(
    state: &AppState,
    scope: Option<&str>,
    p: &mut Problems,
    name: Option<&str>,
    body: Option<&str>,
    components: Option<Vec<String>>,
) -> ApiResult<Option<Vec<String>>> {
    if let Some(name) = name {
        validate::name(p, "name", name);
    }
    if let Some(text) = body {
        body_text(p, "body", text);
    }
    match components {
        Some(list) => Ok(Some(component_ids(state, scope, p, list).await?)),
        None => Ok(None),
    }
}

async fn component_ids(
    state: &AppState,
    scope: Option<&str>,
    p: &mut Problems,
    ids: Vec<String>,
) -> ApiResult<Vec<String>> {
    if ids.len() > MAX_COMPONENTS {
        p.add(
            "component_ids",
            format!("may name at most {MAX_COMPONENTS} components"),
        );
        return Ok(ids);
    }
    let known: HashSet<String> = state
        .store
        .list_components()
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, id) in ids.into_iter().enumerate() {
        let ok = known.contains(&id)
            || match scope {
                Some(ws) => state.store.get_connection(ws, &id).await?.is_some(),
                None => false,
            };
        if !ok {
            let what = match scope {
                Some(_) => "is neither a status page component nor a connection of this workspace",
                None => "is not a status page component",
            };
            p.add(format!("component_ids[{i}]"), what);
        } else if seen.insert(id.clone()) {
            out.push(id);
        }
    }
    Ok(out)
}

async fn load(
    state: &AppState,
    scope: Option<&str>,
    id: &str,
    kind: IncidentKind,
) -> ApiResult<Incident> {
    let what = match kind {
        IncidentKind::Incident => "incident",
        IncidentKind::Maintenance => "scheduled maintenance",
    };
    state
        .store
        .get_incident(scope, id)
        .await?
        .filter(|i| i.kind == kind)
        .ok_or_else(|| ApiError::not_found(what))
}

async fn list_kind(
    state: &AppState,
    ws: &Workspace,
    q: IncidentQuery,
    kind: IncidentKind,
) -> ApiResult<Json<List<IncidentView>>> {
    let page = page_request(
        q.cursor.as_deref(),
        q.page_size,
        DEFAULT_PAGE_SIZE,
        MAX_PAGE_SIZE,
    )?;
    let filter = IncidentFilter {
        workspace_id: scope(state, ws),
        kind: Some(kind),
        unresolved: matches!(q.status, Some(StatusFilter::Unresolved)),
    };
    let found = state.store.list_incidents(&filter, &page).await?;
    Ok(Json(List::from_page(found, IncidentView::from)))
}

#[utoipa::path(
    post, path = "/api/v1/incidents", tag = "status",
    request_body = CreateIncident,
    responses(
        (status = 201, description = "Created with its first update", body = IncidentView),
        (status = 422, description = "VALIDATION_FAILED (unknown status, impact or component)", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    ApiJson(body): ApiJson<CreateIncident>,
) -> ApiResult<(StatusCode, Json<IncidentView>)> {
    let scope = scope(&state, &ws);
    let mut p = Problems::default();
    let components = check_shared(
        &state,
        scope.as_deref(),
        &mut p,
        Some(&body.name),
        Some(&body.body),
        Some(body.component_ids.unwrap_or_default()),
    )
    .await?
    .unwrap_or_default();
    p.into_result()?;
    let incident = state
        .store
        .create_incident(NewIncident {
            id: ids::new_id(INCIDENT_PREFIX),
            update_id: ids::new_id(INCIDENT_UPDATE_PREFIX),
            workspace_id: scope,
            kind: IncidentKind::Incident,
            name: body.name.trim().to_string(),
            status: body.status.into(),
            impact: body.impact.into(),
            body: body.body,
            component_ids: components,
            auto_component_id: None,
            scheduled_for: None,
            scheduled_until: None,
            now: time::now(),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(incident.into())))
}

#[utoipa::path(
    get, path = "/api/v1/incidents", tag = "status",
    params(IncidentQuery),
    responses((status = 200, description = "Newest first, with their updates", body = List<IncidentView>)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    ApiQuery(q): ApiQuery<IncidentQuery>,
) -> ApiResult<Json<List<IncidentView>>> {
    list_kind(&state, &ws, q, IncidentKind::Incident).await
}

#[utoipa::path(
    get, path = "/api/v1/incidents/{id}", tag = "status",
    params(("id" = String, Path, description = "`inc_…`")),
    responses((status = 200, body = IncidentView), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<IncidentView>> {
    let scope = scope(&state, &ws);
    Ok(Json(
        load(&state, scope.as_deref(), &id, IncidentKind::Incident)
            .await?
            .into(),
    ))
}

#[utoipa::path(
    patch, path = "/api/v1/incidents/{id}", tag = "status",
    params(("id" = String, Path, description = "`inc_…`")),
    request_body = PatchIncident,
    responses(
        (status = 200, description = "Updated; a `body` added an update", body = IncidentView),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn patch(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchIncident>,
) -> ApiResult<Json<IncidentView>> {
    let scope = scope(&state, &ws);
    load(&state, scope.as_deref(), &id, IncidentKind::Incident).await?;
    let mut p = Problems::default();
    let components = check_shared(
        &state,
        scope.as_deref(),
        &mut p,
        body.name.as_deref(),
        body.body.as_deref(),
        body.component_ids,
    )
    .await?;
    p.into_result()?;
    let patch = IncidentPatch {
        update_id: ids::new_id(INCIDENT_UPDATE_PREFIX),
        name: body.name.map(|n| n.trim().to_string()),
        status: body.status.map(Into::into),
        impact: body.impact.map(Into::into),
        body: body.body,
        component_ids: components,
        scheduled_for: None,
        scheduled_until: None,
    };
    Ok(Json(
        state
            .store
            .update_incident(scope.as_deref(), &id, patch, time::now())
            .await?
            .into(),
    ))
}

#[utoipa::path(
    post, path = "/api/v1/scheduled-maintenances", tag = "status",
    request_body = CreateMaintenance,
    responses(
        (status = 201, description = "Created with its first update", body = IncidentView),
        (status = 422, description = "VALIDATION_FAILED", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_maintenance(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    ApiJson(body): ApiJson<CreateMaintenance>,
) -> ApiResult<(StatusCode, Json<IncidentView>)> {
    let scope = scope(&state, &ws);
    let mut p = Problems::default();
    let from = timestamp(&mut p, "scheduled_for", &body.scheduled_for);
    let until = timestamp(&mut p, "scheduled_until", &body.scheduled_until);
    if let (Some(from), Some(until)) = (from, until) {
        if until <= from {
            p.add("scheduled_until", "must be after scheduled_for");
        }
    }
    let components = check_shared(
        &state,
        scope.as_deref(),
        &mut p,
        Some(&body.name),
        Some(&body.body),
        Some(body.component_ids.unwrap_or_default()),
    )
    .await?
    .unwrap_or_default();
    p.into_result()?;
    let maintenance = state
        .store
        .create_incident(NewIncident {
            id: ids::new_id(INCIDENT_PREFIX),
            update_id: ids::new_id(INCIDENT_UPDATE_PREFIX),
            workspace_id: scope,
            kind: IncidentKind::Maintenance,
            name: body.name.trim().to_string(),
            status: body
                .status
                .map_or(IncidentStatus::Scheduled, IncidentStatus::from),
            impact: Impact::Maintenance,
            body: body.body,
            component_ids: components,
            auto_component_id: None,
            scheduled_for: from,
            scheduled_until: until,
            now: time::now(),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(maintenance.into())))
}

#[utoipa::path(
    get, path = "/api/v1/scheduled-maintenances", tag = "status",
    params(IncidentQuery),
    responses((status = 200, description = "Newest first, with their updates", body = List<IncidentView>)),
    security(("bearer" = []))
)]
pub async fn list_maintenances(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    ApiQuery(q): ApiQuery<IncidentQuery>,
) -> ApiResult<Json<List<IncidentView>>> {
    list_kind(&state, &ws, q, IncidentKind::Maintenance).await
}

#[utoipa::path(
    get, path = "/api/v1/scheduled-maintenances/{id}", tag = "status",
    params(("id" = String, Path, description = "`inc_…`")),
    responses((status = 200, body = IncidentView), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_maintenance(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<IncidentView>> {
    let scope = scope(&state, &ws);
    Ok(Json(
        load(&state, scope.as_deref(), &id, IncidentKind::Maintenance)
            .await?
            .into(),
    ))
}

#[utoipa::path(
    patch, path = "/api/v1/scheduled-maintenances/{id}", tag = "status",
    params(("id" = String, Path, description = "`inc_…`")),
    request_body = PatchMaintenance,
    responses(
        (status = 200, description = "Updated; a `body` added an update", body = IncidentView),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn patch_maintenance(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchMaintenance>,
) -> ApiResult<Json<IncidentView>> {
    let scope = scope(&state, &ws);
    let current = load(&state, scope.as_deref(), &id, IncidentKind::Maintenance).await?;
    let mut p = Problems::default();
    let from = body
        .scheduled_for
        .as_deref()
        .and_then(|v| timestamp(&mut p, "scheduled_for", v));
    let until = body
        .scheduled_until
        .as_deref()
        .and_then(|v| timestamp(&mut p, "scheduled_until", v));
    if let (Some(f), Some(u)) = (
        from.or(current.scheduled_for),
        until.or(current.scheduled_until),
    ) {
        if u <= f && (from.is_some() || until.is_some()) {
            p.add("scheduled_until", "must be after scheduled_for");
        }
    }
    let components = check_shared(
        &state,
        scope.as_deref(),
        &mut p,
        body.name.as_deref(),
        body.body.as_deref(),
        body.component_ids,
    )
    .await?;
    p.into_result()?;
    let patch = IncidentPatch {
        update_id: ids::new_id(INCIDENT_UPDATE_PREFIX),
        name: body.name.map(|n| n.trim().to_string()),
        status: body.status.map(Into::into),
        impact: None,
        body: body.body,
        component_ids: components,
        scheduled_for: from,
        scheduled_until: until,
    };
    Ok(Json(
        state
            .store
            .update_incident(scope.as_deref(), &id, patch, time::now())
            .await?
            .into(),
    ))
}

fn page_view(state: &AppState, ws: &Workspace, enabled: bool) -> StatusPageView {
    StatusPageView {
        enabled,
        url: format!(
            "{}/status/w/{}",
            state.config.public_url.trim_end_matches('/'),
            ws.id
        ),
    }
}

#[utoipa::path(
    get, path = "/api/v1/status-page", tag = "status",
    responses((status = 200, description = "Whether the workspace's own status page is published", body = StatusPageView)),
    security(("bearer" = []))
)]
pub async fn get_status_page(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
) -> ApiResult<Json<StatusPageView>> {
    let enabled = state.store.workspace_status_page(&ws.id).await?;
    Ok(Json(page_view(&state, &ws, enabled)))
}

#[utoipa::path(
    put, path = "/api/v1/status-page", tag = "status",
    request_body = PutStatusPage,
    responses((status = 200, description = "The page is published or withdrawn", body = StatusPageView)),
    security(("bearer" = []))
)]
pub async fn put_status_page(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    ApiJson(body): ApiJson<PutStatusPage>,
) -> ApiResult<Json<StatusPageView>> {
    state
        .store
        .set_workspace_status_page(&ws.id, body.enabled)
        .await?;
    Ok(Json(page_view(&state, &ws, body.enabled)))
}
