//! Webhook endpoints and deliveries (spec §4, §6): where events go, their secrets, the delivery
//! log with attempts, manual retry and recovery.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use millwright_core::{
    ids::{self, prefix},
    time::{self, Timestamp},
    webhook::valid_type_filter,
};
use millwright_store::{
    Delivery, DeliveryAttempt, DeliveryFilter, DeliveryStatus, NewDelivery, NewEvent,
    NewWebhookEndpoint, WebhookEndpoint, WebhookEndpointPatch, Workspace,
};
use millwright_webhooks::{signature::Secret, ssrf};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    auth::WorkspaceAuth,
    extract::{ApiJson, ApiQuery},
    pagination::{page_request, List, PageParams},
    state::AppState,
    validate::Problems,
    ApiError, ApiResult,
};

/// A previous secret keeps signing this long after a rotation.
const ROTATION_OVERLAP: chrono::Duration = chrono::Duration::hours(24);

/// A webhook endpoint (its secret is shown only at creation and by `GET …/secret`).
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointView {
    /// `whe_…`
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    /// Exact types or prefixes (`work_order.*`); empty means every type.
    pub event_types: Vec<String>,
    /// Empty means every connection.
    pub connection_ids: Vec<String>,
    pub disabled: bool,
    pub disabled_reason: Option<String>,
    #[serde(with = "millwright_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "millwright_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<WebhookEndpoint> for EndpointView {
    fn from(e: WebhookEndpoint) -> EndpointView {
        EndpointView {
            id: e.id,
            url: e.url,
            description: e.description,
            event_types: e.event_types,
            connection_ids: e.connection_ids,
            disabled: e.disabled,
            disabled_reason: e.disabled_reason,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// `201` of `POST /webhook-endpoints`: the endpoint and its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: EndpointView,
    /// `whsec_…`
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecretView {
    /// `whsec_…`
    pub secret: String,
}

/// Body of `POST /webhook-endpoints`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    /// `https://…` (plain `http` only when private targets are allowed).
    pub url: String,
    pub event_types: Option<Vec<String>>,
    pub connection_ids: Option<Vec<String>>,
    pub description: Option<String>,
    pub disabled: Option<bool>,
}

/// Body of `PATCH /webhook-endpoints/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchEndpoint {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub connection_ids: Option<Vec<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "serde_with_none::deserialize")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub disabled: Option<bool>,
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
mod serde_with_none {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

async fn check_target(state: &AppState, p: &mut Problems, url: &str) {
    let allow = state.config.allow_private_webhook_targets;
    match ssrf::check_url(url, allow) {
        Err(e) => p.add("url", e.to_string()),
        Ok(parsed) => {
            // Resolve now as well (and again at every delivery), so an address that is not
            // globally routable is refused at save time.
            if let Some(host) = parsed.host_str() {
                let literal = host.trim_start_matches('[').trim_end_matches(']');
                if let Ok(ip) = literal.parse::<std::net::IpAddr>() {
                    if !allow && ssrf::is_forbidden_ip(ip) {
                        p.add(
                            "url",
                            format!("{ip} is not a public address; webhook targets must be"),
                        );
                    }
                } else if let Err(e) = ssrf::resolve_allowed(host, allow).await {
                    p.add("url", e.to_string());
                }
            }
        }
    }
}

async fn check_filters(
    state: &AppState,
    ws: &Workspace,
    p: &mut Problems,
    event_types: &[String],
    connection_ids: &[String],
) -> ApiResult<()> {
    for (i, t) in event_types.iter().enumerate() {
        if !valid_type_filter(t) {
            p.add(
                format!("event_types[{i}]"),
                "must be an event type (`work_order.updated`) or a prefix (`work_order.*`)",
            );
        }
    }
    for (i, c) in connection_ids.iter().enumerate() {
        if state.store.get_connection(&ws.id, c).await?.is_none() {
            p.add(
                format!("connection_ids[{i}]"),
                "is not a connection of this workspace",
            );
        }
    }
    Ok(())
}

fn seal(
    state: &AppState,
    ws: &Workspace,
    endpoint_id: &str,
    secret: &Secret,
) -> ApiResult<Vec<u8>> {
    state
        .keyring
        .seal(
            &ws.id,
            &ws.wrapped_data_key,
            endpoint_id,
            secret.expose().as_bytes(),
        )
        .map_err(|e| ApiError::Internal(format!("cannot seal the webhook secret: {e}")))
}

fn open(state: &AppState, ws: &Workspace, e: &WebhookEndpoint) -> ApiResult<String> {
    let plain = state
        .keyring
        .open(&ws.id, &ws.wrapped_data_key, &e.id, &e.sealed_secret)
        .map_err(|err| ApiError::Internal(format!("cannot open the secret of {}: {err}", e.id)))?;
    String::from_utf8(plain).map_err(|err| ApiError::Internal(err.to_string()))
}

async fn load(state: &AppState, ws: &Workspace, id: &str) -> ApiResult<WebhookEndpoint> {
    state
        .store
        .get_webhook_endpoint(&ws.id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook endpoint"))
}

#[utoipa::path(
    post, path = "/api/v1/webhook-endpoints", tag = "webhooks",
    request_body = CreateEndpoint,
    responses(
        (status = 201, description = "Created; the secret is shown once", body = EndpointWithSecret),
        (status = 422, description = "VALIDATION_FAILED (e.g. a private or non-https URL)", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    ApiJson(body): ApiJson<CreateEndpoint>,
) -> ApiResult<(StatusCode, Json<EndpointWithSecret>)> {
    let mut p = Problems::default();
    check_target(&state, &mut p, &body.url).await;
    let event_types = body.event_types.unwrap_or_default();
    let connection_ids = body.connection_ids.unwrap_or_default();
    check_filters(&state, &ws, &mut p, &event_types, &connection_ids).await?;
    p.into_result()?;
    let id = ids::new_id("whe");
    let secret = Secret::generate();
    let endpoint = state
        .store
        .create_webhook_endpoint(NewWebhookEndpoint {
            sealed_secret: seal(&state, &ws, &id, &secret)?,
            id,
            workspace_id: ws.id.clone(),
            url: body.url,
            description: body.description,
            event_types,
            connection_ids,
            disabled: body.disabled.unwrap_or(false),
            created_at: time::now(),
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(EndpointWithSecret {
            endpoint: endpoint.into(),
            secret: secret.expose(),
        }),
    ))
}

#[utoipa::path(
    get, path = "/api/v1/webhook-endpoints", tag = "webhooks",
    params(PageParams),
    responses((status = 200, body = List<EndpointView>)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<List<EndpointView>>> {
    let page = state
        .store
        .list_webhook_endpoints(&ws.id, &page.to_request()?)
        .await?;
    Ok(Json(List::from_page(page, EndpointView::from)))
}

#[utoipa::path(
    get, path = "/api/v1/webhook-endpoints/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "`whe_…`")),
    responses((status = 200, body = EndpointView), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<EndpointView>> {
    Ok(Json(load(&state, &ws, &id).await?.into()))
}

#[utoipa::path(
    patch, path = "/api/v1/webhook-endpoints/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "`whe_…`")),
    request_body = PatchEndpoint,
    responses((status = 200, body = EndpointView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn patch(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchEndpoint>,
) -> ApiResult<Json<EndpointView>> {
    load(&state, &ws, &id).await?;
    let mut p = Problems::default();
    if let Some(url) = &body.url {
        check_target(&state, &mut p, url).await;
    }
    check_filters(
        &state,
        &ws,
        &mut p,
        body.event_types.as_deref().unwrap_or_default(),
        body.connection_ids.as_deref().unwrap_or_default(),
    )
    .await?;
    p.into_result()?;
    let patch = WebhookEndpointPatch {
        url: body.url,
        description: body.description,
        event_types: body.event_types,
        connection_ids: body.connection_ids,
        disabled: body.disabled,
        rotate_secret: None,
    };
    Ok(Json(
        state
            .store
            .update_webhook_endpoint(&ws.id, &id, patch, time::now())
            .await?
            .into(),
    ))
}

#[utoipa::path(
    delete, path = "/api/v1/webhook-endpoints/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "`whe_…`")),
    responses((status = 204, description = "Deleted with its deliveries"), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    load(&state, &ws, &id).await?;
    state.store.delete_webhook_endpoint(&ws.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get, path = "/api/v1/webhook-endpoints/{id}/secret", tag = "webhooks",
    params(("id" = String, Path, description = "`whe_…`")),
    responses((status = 200, body = SecretView), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn secret(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<SecretView>> {
    let e = load(&state, &ws, &id).await?;
    Ok(Json(SecretView {
        secret: open(&state, &ws, &e)?,
    }))
}

#[utoipa::path(
    post, path = "/api/v1/webhook-endpoints/{id}/rotate-secret", tag = "webhooks",
    params(("id" = String, Path, description = "`whe_…`")),
    responses((status = 200, description = "The new secret; the old one keeps signing for 24 h", body = SecretView)),
    security(("bearer" = []))
)]
pub async fn rotate_secret(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<SecretView>> {
    load(&state, &ws, &id).await?;
    let secret = Secret::generate();
    let now = time::now();
    let patch = WebhookEndpointPatch {
        rotate_secret: Some((seal(&state, &ws, &id, &secret)?, now + ROTATION_OVERLAP)),
        ..WebhookEndpointPatch::default()
    };
    state
        .store
        .update_webhook_endpoint(&ws.id, &id, patch, now)
        .await?;
    Ok(Json(SecretView {
        secret: secret.expose(),
    }))
}

/// A delivery with its attempts.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// `whd_…`
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: &'static str,
    pub attempt_count: i64,
    #[serde(with = "millwright_core::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<Timestamp>,
    #[serde(with = "millwright_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub attempts: Vec<AttemptView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    #[serde(with = "millwright_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub attempted_at: Timestamp,
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    /// The first 4 KiB of the receiver's answer.
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
}

fn delivery_view(d: Delivery, attempts: &[DeliveryAttempt]) -> DeliveryView {
    DeliveryView {
        attempts: attempts
            .iter()
            .filter(|a| a.delivery_id == d.id)
            .map(|a| AttemptView {
                attempted_at: a.attempted_at,
                status_code: a.status_code,
                duration_ms: a.duration_ms,
                response_excerpt: a.response_excerpt.clone(),
                error: a.error.clone(),
            })
            .collect(),
        id: d.id,
        endpoint_id: d.endpoint_id,
        event_id: d.event_id,
        event_type: d.event_type,
        status: d.status.as_str(),
        attempt_count: d.attempts,
        next_attempt_at: d.next_attempt_at,
        created_at: d.created_at,
    }
}

#[utoipa::path(
    post, path = "/api/v1/webhook-endpoints/{id}/test", tag = "webhooks",
    params(("id" = String, Path, description = "`whe_…`")),
    responses((status = 202, description = "A `webhook.test` event queued for this endpoint only", body = DeliveryView)),
    security(("bearer" = []))
)]
pub async fn test(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<DeliveryView>)> {
    let e = load(&state, &ws, &id).await?;
    let now = time::now();
    let event = NewEvent {
        id: ids::new_id(prefix::EVENT),
        workspace_id: ws.id.clone(),
        connection_id: None,
        event_type: "webhook.test".into(),
        data: serde_json::json!({"endpoint_id": e.id, "message": "A test event from Millwright."}),
        created_at: now,
    };
    let delivery = NewDelivery {
        id: ids::new_id("whd"),
        workspace_id: ws.id.clone(),
        endpoint_id: e.id.clone(),
        event_id: event.id.clone(),
        event_type: event.event_type.clone(),
        next_attempt_at: now,
        created_at: now,
    };
    let d = state.store.insert_test_event(event, delivery).await?;
    Ok((StatusCode::ACCEPTED, Json(delivery_view(d, &[]))))
}

/// Body of `POST /webhook-endpoints/{id}/recover`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recover {
    /// RFC 3339: failed deliveries created at or after this time are queued again.
    pub since: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Recovered {
    pub recovered: u64,
}

#[utoipa::path(
    post, path = "/api/v1/webhook-endpoints/{id}/recover", tag = "webhooks",
    params(("id" = String, Path, description = "`whe_…`")),
    request_body = Recover,
    responses((status = 202, body = Recovered)),
    security(("bearer" = []))
)]
pub async fn recover(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Recover>,
) -> ApiResult<(StatusCode, Json<Recovered>)> {
    load(&state, &ws, &id).await?;
    let since = time::parse(&body.since)
        .ok_or_else(|| ApiError::validation("since", "must be an RFC 3339 timestamp"))?;
    let recovered = state
        .store
        .recover_deliveries(&ws.id, &id, since, time::now())
        .await?;
    Ok((StatusCode::ACCEPTED, Json(Recovered { recovered })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    pub endpoint_id: Option<String>,
    /// `pending`, `succeeded` or `failed`.
    pub status: Option<String>,
    pub event_id: Option<String>,
    pub cursor: Option<String>,
    pub page_size: Option<u32>,
}

#[utoipa::path(
    get, path = "/api/v1/webhook-deliveries", tag = "webhooks",
    params(DeliveryQuery),
    responses((status = 200, description = "Newest first, with attempts", body = List<DeliveryView>)),
    security(("bearer" = []))
)]
pub async fn list_deliveries(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    ApiQuery(q): ApiQuery<DeliveryQuery>,
) -> ApiResult<Json<List<DeliveryView>>> {
    let status = q
        .status
        .as_deref()
        .map(|s| {
            DeliveryStatus::parse(s).ok_or_else(|| {
                ApiError::InvalidRequest(format!(
                    "`status` must be pending, succeeded or failed; got `{s}`"
                ))
            })
        })
        .transpose()?;
    let filter = DeliveryFilter {
        endpoint_id: q.endpoint_id,
        status,
        event_id: q.event_id,
    };
    let page = page_request(q.cursor.as_deref(), q.page_size, 50, 100)?;
    let deliveries = state.store.list_deliveries(&ws.id, &filter, &page).await?;
    let ids: Vec<String> = deliveries.items.iter().map(|d| d.id.clone()).collect();
    let attempts = state.store.delivery_attempts(&ws.id, &ids).await?;
    Ok(Json(List::from_page(deliveries, |d| {
        delivery_view(d, &attempts)
    })))
}

#[utoipa::path(
    post, path = "/api/v1/webhook-deliveries/{id}/retry", tag = "webhooks",
    params(("id" = String, Path, description = "`whd_…`")),
    responses((status = 202, description = "Queued again, due now, with a fresh 24 h window", body = DeliveryView), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn retry_delivery(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<DeliveryView>)> {
    state
        .store
        .get_delivery(&ws.id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook delivery"))?;
    let d = state.store.retry_delivery(&ws.id, &id, time::now()).await?;
    let attempts = state
        .store
        .delivery_attempts(&ws.id, std::slice::from_ref(&d.id))
        .await?;
    Ok((StatusCode::ACCEPTED, Json(delivery_view(d, &attempts))))
}
