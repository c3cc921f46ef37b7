//! `GET /events`: every event of the workspace, oldest first — the polling fallback to
//! webhooks.

use axum::{extract::State, Json};
use millwright_core::time::Timestamp;
use millwright_store::{Event, EventFilter};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::{
    auth::WorkspaceAuth,
    extract::ApiQuery,
    pagination::{page_request, List},
    state::AppState,
    ApiError, ApiResult,
};

/// An event, in the same shape webhooks deliver.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// `evt_…`
    pub id: String,
    /// e.g. `work_order.updated`, `connection.offline`, `sync.completed`.
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(with = "millwright_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: Timestamp,
    pub workspace_id: String,
    pub connection_id: Option<String>,
    #[schema(value_type = Object)]
    pub data: Value,
}

impl From<Event> for EventView {
    fn from(e: Event) -> EventView {
        EventView {
            id: e.id,
            event_type: e.event_type,
            timestamp: e.created_at,
            workspace_id: e.workspace_id,
            connection_id: e.connection_id,
            data: e.data,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// An exact type (`work_order.updated`) or a prefix (`work_order.*`).
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    pub connection_id: Option<String>,
    /// RFC 3339; events at or after this time.
    pub since: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 1000, default 100.
    pub page_size: Option<u32>,
}

#[utoipa::path(
    get, path = "/api/v1/events", tag = "events",
    params(EventQuery),
    responses((status = 200, description = "Oldest first; follow next_cursor to keep up", body = List<EventView>)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> ApiResult<Json<List<EventView>>> {
    let since = q
        .since
        .as_deref()
        .map(|s| {
            millwright_core::time::parse(s).ok_or_else(|| {
                ApiError::InvalidRequest("`since` must be an RFC 3339 timestamp".into())
            })
        })
        .transpose()?;
    if let Some(t) = &q.event_type {
        let ok = !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.' || c == '*');
        if !ok {
            return Err(ApiError::InvalidRequest(format!(
                "`type` is not an event type: `{t}`"
            )));
        }
    }
    let filter = EventFilter {
        event_type: q.event_type,
        connection_id: q.connection_id,
        since,
    };
    let page = page_request(q.cursor.as_deref(), q.page_size, 100, 1000)?;
    let events = state.store.list_events(&ws.id, &filter, &page).await?;
    Ok(Json(List::from_page(events, EventView::from)))
}
