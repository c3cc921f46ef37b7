//! The unified API (connection token, or workspace key + `X-Connection-Id`).

use axum::Json;
use millwright_core::scope::Scope;

use crate::{auth::ConnectionAuth, views::ConnectionView, ApiResult};

#[utoipa::path(
    get, path = "/api/v1/connection", tag = "unified",
    responses(
        (status = 200, description = "The connection the credential stands for", body = ConnectionView),
        (status = 401, description = "TOKEN_INVALID, TOKEN_EXPIRED or TOKEN_REVOKED", body = crate::error::ErrorBody),
    ),
    params(("X-Connection-Id" = Option<String>, Header, description = "Required with a workspace key")),
    security(("bearer" = []))
)]
pub async fn connection(auth: ConnectionAuth) -> ApiResult<Json<ConnectionView>> {
    auth.require(Scope::Read)?;
    Ok(Json(ConnectionView::from(auth.connection.as_ref().clone())))
}
