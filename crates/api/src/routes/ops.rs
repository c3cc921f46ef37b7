//! Liveness and readiness for orchestrators.

use axum::{extract::State, http::StatusCode, Json};
use serde_json::{json, Value};

use crate::{state::AppState, ApiError, ApiResult};

/// `GET /healthz`: the process is alive.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: the database answers and every migration is applied.
pub async fn readyz(State(state): State<AppState>) -> ApiResult<(StatusCode, Json<Value>)> {
    let r =
        state.store.readiness().await.map_err(|e| {
            ApiError::ServiceUnavailable(format!("the database is not reachable: {e}"))
        })?;
    if !r.is_ready() {
        return Err(ApiError::ServiceUnavailable(format!(
            "{} of {} migrations applied; run `millwright migrate`",
            r.applied_migrations, r.known_migrations
        )));
    }
    Ok((
        StatusCode::OK,
        Json(
            json!({"status": "ready", "database": state.store.backend(), "migrations": r.applied_migrations}),
        ),
    ))
}
