//! `GET /credits`: the workspace's pool.

use axum::{extract::State, Json};
use millwright_core::credits::CreditUsage;

use crate::{auth::WorkspaceAuth, state::AppState, ApiResult};

#[utoipa::path(
    get, path = "/api/v1/credits", tag = "credits",
    responses((status = 200, description = "limit, used and available credits", body = CreditUsage)),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
) -> ApiResult<Json<CreditUsage>> {
    Ok(Json(state.store.credit_usage(&ws.id).await?))
}
