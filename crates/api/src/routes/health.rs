//! A connection's health history (spec §4): the probes of the last 24 hours one by one, and 90
//! days as daily aggregates. The latest probe is also the connection's `health`.

use axum::{
    extract::{Path, State},
    Json,
};
use millwright_core::time::{self, Timestamp};
use millwright_store::{Probe, ProbeDay};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{auth::WorkspaceAuth, state::AppState, ApiError, ApiResult};

/// Full-resolution history shown.
const RECENT: chrono::Duration = chrono::Duration::hours(24);
/// Calendar days (UTC, today included) of daily aggregates shown.
const DAYS: i64 = 90;

/// One probe: a light authenticated call to the source.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProbeView {
    #[serde(with = "millwright_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub checked_at: Timestamp,
    /// `ok`, `unreachable`, `rejected` (credentials refused), `error` (any other answer), or
    /// `requires_reauthorization` (not sent: the connection waits for new credentials, and
    /// retrying refused ones could lock the customer's account).
    pub status: String,
    /// Time the call took; null when no call was made.
    pub latency_ms: Option<i64>,
    pub error: Option<String>,
}

impl From<Probe> for ProbeView {
    fn from(p: Probe) -> ProbeView {
        ProbeView {
            checked_at: p.checked_at,
            status: p.status.as_str().to_string(),
            latency_ms: p.latency_ms,
            error: p.error,
        }
    }
}

/// One UTC day of probes; days without probes are left out.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProbeDayView {
    /// `YYYY-MM-DD`, UTC.
    #[schema(format = Date)]
    pub day: String,
    pub probes: i64,
    /// Probes with status `ok`.
    pub ok: i64,
    /// Percentage of the day's probes that were `ok` (0 to 100).
    pub uptime: f64,
    /// Mean latency of the `ok` probes; null when none was.
    pub avg_latency_ms: Option<f64>,
}

impl From<ProbeDay> for ProbeDayView {
    fn from(d: ProbeDay) -> ProbeDayView {
        ProbeDayView {
            day: d.day.format("%Y-%m-%d").to_string(),
            uptime: if d.probes > 0 {
                100.0 * d.ok as f64 / d.probes as f64
            } else {
                0.0
            },
            probes: d.probes,
            ok: d.ok,
            avg_latency_ms: d.avg_latency_ms,
        }
    }
}

/// `200` of `GET /connections/{id}/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionHealth {
    /// Every probe of the last 24 hours, oldest first.
    pub data: Vec<ProbeView>,
    /// The last 90 days (UTC, today included), oldest first.
    pub daily: Vec<ProbeDayView>,
}

#[utoipa::path(
    get, path = "/api/v1/connections/{id}/health", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    responses(
        (status = 200, description = "Probes of the last 24 hours and 90 days of daily aggregates", body = ConnectionHealth),
        (status = 404, body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn history(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<ConnectionHealth>> {
    state
        .store
        .get_connection(&ws.id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("connection"))?;
    let now = time::now();
    let first_day = (now - chrono::Duration::days(DAYS - 1))
        .date_naive()
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    let recent = state.store.probe_history(&ws.id, &id, now - RECENT).await?;
    let daily = state.store.probe_daily(&ws.id, &id, first_day).await?;
    Ok(Json(ConnectionHealth {
        data: recent.into_iter().map(ProbeView::from).collect(),
        daily: daily.into_iter().map(ProbeDayView::from).collect(),
    }))
}
