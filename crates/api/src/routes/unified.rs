//! The unified API (connection token, or workspace key + `X-Connection-Id`).

use axum::{extract::State, Json};
use millwright_core::scope::Scope;

use crate::{auth::ConnectionAuth, state::AppState, views::ConnectionView, ApiError, ApiResult};

#[utoipa::path(
    get, path = "/api/v1/connection", tag = "unified",
    responses(
        (status = 200, description = "The connection the credential stands for", body = ConnectionView),
        (status = 401, description = "TOKEN_INVALID, TOKEN_EXPIRED or TOKEN_REVOKED", body = crate::error::ErrorBody),
    ),
    params(("X-Connection-Id" = Option<String>, Header, description = "Required with a workspace key")),
    security(("bearer" = []))
)]
pub async fn connection(
    State(state): State<AppState>,
    auth: ConnectionAuth,
) -> ApiResult<Json<ConnectionView>> {
    auth.require(Scope::Read)?;
    let c = state
        .store
        .get_connection(&auth.workspace.id, &auth.connection_id)
        .await?
        .ok_or_else(|| ApiError::not_found("connection"))?;
    Ok(Json(c.into()))
}
