//! `GET /request-logs`: every API request of the workspace, redacted.

use axum::{
    extract::{Path, State},
    Json,
};
use millwright_store::RequestLogFilter;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    auth::WorkspaceAuth,
    extract::ApiQuery,
    pagination::{page_request, List, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE},
    state::AppState,
    views::RequestLogView,
    ApiError, ApiResult,
};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RequestLogQuery {
    /// Exact request id (`req_…`).
    pub request_id: Option<String>,
    pub connection_id: Option<String>,
    /// HTTP status code.
    pub status: Option<i64>,
    /// RFC 3339; logs at or after this time.
    pub since: Option<String>,
    pub cursor: Option<String>,
    pub page_size: Option<u32>,
}

#[utoipa::path(
    get, path = "/api/v1/request-logs", tag = "request logs",
    params(RequestLogQuery),
    responses((status = 200, description = "Newest first", body = List<RequestLogView>)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    ApiQuery(q): ApiQuery<RequestLogQuery>,
) -> ApiResult<Json<List<RequestLogView>>> {
    let since = q
        .since
        .as_deref()
        .map(|s| {
            millwright_core::time::parse(s).ok_or_else(|| {
                ApiError::InvalidRequest("`since` must be an RFC 3339 timestamp".into())
            })
        })
        .transpose()?;
    let filter = RequestLogFilter {
        request_id: q.request_id,
        connection_id: q.connection_id,
        status: q.status,
        since,
    };
    let page = page_request(
        q.cursor.as_deref(),
        q.page_size,
        DEFAULT_PAGE_SIZE,
        MAX_PAGE_SIZE,
    )?;
    let result = state
        .store
        .list_request_logs(&ws.id, &filter, &page)
        .await?;
    Ok(Json(List::from_page(result, RequestLogView::summary)))
}

#[utoipa::path(
    get, path = "/api/v1/request-logs/{request_id}", tag = "request logs",
    params(("request_id" = String, Path, description = "`req_…`")),
    responses((status = 200, description = "With redacted headers and bodies", body = RequestLogView), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(request_id): Path<String>,
) -> ApiResult<Json<RequestLogView>> {
    let log = state
        .store
        .get_request_log(&ws.id, &request_id)
        .await?
        .ok_or_else(|| ApiError::not_found("request log"))?;
    Ok(Json(RequestLogView::detail(log)))
}
