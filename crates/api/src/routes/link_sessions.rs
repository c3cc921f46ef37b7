//! Link sessions (spec §4): the workspace creates a session, its end user completes it in the
//! Link UI (`/link/{link_token}`, crate `millwright-web`), and the workspace's backend exchanges
//! the one-time public token for the connection and its token.
//!
//! The connect step itself is the management API's: [`connections::prepare_connection`] (or
//! [`connections::prepare_reauthorization`]) checks the credentials against the source system
//! and seals them, the store completes the session in the same transaction that creates (or
//! reauthorizes) the connection, and [`connections::start_initial_sync`]
//! (or [`connections::finish_reauthorization`]) follows.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use chrono::Duration;
use millwright_core::{
    credits::Deployment,
    ids::{self, prefix},
    scope::Scope,
    secrets,
    status::ConnectionStatus,
    time::{self, Timestamp},
};
use millwright_store::{
    Connection, LinkCompletion, LinkExchange, LinkOutcome, LinkPurpose, LinkSession,
    LinkSessionFilter, LinkSessionStatus, NewLinkSession,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::{
    auth::WorkspaceAuth,
    extract::{ApiJson, ApiQuery},
    pagination::{page_request, List, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE},
    routes::connections::{self, CreateConnection},
    state::AppState,
    validate::{self, Problems},
    views::ConnectionView,
    ApiError, ApiResult,
};

/// A session lasts an hour unless told otherwise.
pub const DEFAULT_EXPIRES_IN_SECS: u64 = 3600;
/// Magic links sent by e-mail may last up to 30 days.
pub const MAX_EXPIRES_IN_SECS: u64 = 30 * 24 * 3600;
/// Shortest accepted session lifetime.
pub const MIN_EXPIRES_IN_SECS: u64 = 60;
/// How long the public token handed to the embedding page or `redirect_uri` may be exchanged.
pub const PUBLIC_TOKEN_TTL_SECS: i64 = 10 * 60;
const MAX_ORIGINS: usize = 10;
const MAX_URI: usize = 2048;

/// Body of `POST /link-sessions`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLinkSession {
    /// Connector ids the end user may choose from; every connector this build can connect to
    /// when left out. A reauthorization session offers only its connection's connector.
    pub connectors: Option<Vec<String>>,
    /// Name of the connection the session creates (the system's name when left out).
    pub name: Option<String>,
    /// Metadata of the connection the session creates (flat object of strings).
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// Where the end user is sent on success, with `public_token` and `link_session_id` added
    /// to its query (http or https, no fragment).
    pub redirect_uri: Option<String>,
    /// Origins (`https://app.example.com`) that may embed the flow in an iframe and receive
    /// its `postMessage`s. Without any, the flow cannot be framed.
    pub allowed_origins: Option<Vec<String>>,
    /// Seconds until the session expires: 60 to 2592000 (30 days, for magic links sent by
    /// e-mail); default 3600.
    pub expires_in: Option<u64>,
    /// Makes a reauthorization session: the end user enters new credentials for this existing
    /// connection (same connection, data and token).
    pub connection_id: Option<String>,
}

/// A Link session.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkSessionView {
    /// `lks_…`
    pub id: String,
    /// `create` or `reauthorize`.
    pub purpose: String,
    /// `pending`, `completed`, `expired` or `exchanged`.
    pub status: String,
    pub connectors: Vec<String>,
    pub name: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub redirect_uri: Option<String>,
    pub allowed_origins: Vec<String>,
    /// The connection being reauthorized, or the one created once completed.
    pub connection_id: Option<String>,
    #[serde(with = "millwright_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    #[serde(with = "millwright_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "millwright_core::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<Timestamp>,
    #[serde(with = "millwright_core::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub exchanged_at: Option<Timestamp>,
}

impl LinkSessionView {
    /// The session as shown at `now` (a pending session past its expiry shows `expired`).
    pub fn at(s: LinkSession, now: Timestamp) -> LinkSessionView {
        LinkSessionView {
            status: s.status_at(now).as_str().to_string(),
            id: s.id,
            purpose: s.purpose.as_str().to_string(),
            connectors: s.connectors,
            name: s.name,
            metadata: s.metadata,
            redirect_uri: s.redirect_uri,
            allowed_origins: s.allowed_origins,
            connection_id: s.connection_id,
            expires_at: s.expires_at,
            created_at: s.created_at,
            completed_at: s.completed_at,
            exchanged_at: s.exchanged_at,
        }
    }
}

/// `201` of `POST /link-sessions`: the session, its link token and URL (shown this once).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedLinkSession {
    #[serde(flatten)]
    pub session: LinkSessionView,
    /// The secret in the URL (`mw_lt_…`); stored only as a hash.
    pub link_token: String,
    /// `{public_url}/link/{link_token}`: open it, frame it, or send it by e-mail.
    pub url: String,
}

#[utoipa::path(
    post, path = "/api/v1/link-sessions", tag = "link",
    request_body = CreateLinkSession,
    responses(
        (status = 201, description = "Created; the link token and URL are shown once", body = CreatedLinkSession),
        (status = 409, description = "CONNECTION_DISCONNECTED: the connection to reauthorize is disconnected", body = crate::error::ErrorBody),
        (status = 422, description = "VALIDATION_FAILED", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    ApiJson(body): ApiJson<CreateLinkSession>,
) -> ApiResult<(StatusCode, Json<CreatedLinkSession>)> {
    let mut p = Problems::default();
    // Only systems this build can connect to: the end user could not finish with the others.
    let catalog: Vec<&str> = state
        .connectors
        .descriptors()
        .map(|d| d.id)
        .filter(|id| state.connectors.connector(id).is_some())
        .collect();
    let mut connectors: Vec<String> = match &body.connectors {
        None => catalog.iter().map(|c| c.to_string()).collect(),
        Some(list) => {
            if list.is_empty() {
                p.add("connectors", "must name at least one connector");
            }
            for (i, c) in list.iter().enumerate() {
                if !catalog.contains(&c.as_str()) {
                    p.add(
                        format!("connectors[{i}]"),
                        if state.connectors.descriptor(c).is_some() {
                            "this build cannot connect to this system yet"
                        } else {
                            "unknown connector; see GET /api/v1/connectors"
                        },
                    );
                }
            }
            let mut unique: Vec<String> = Vec::with_capacity(list.len());
            for c in list {
                if !unique.contains(c) {
                    unique.push(c.clone());
                }
            }
            unique
        }
    };
    if let Some(n) = &body.name {
        validate::name(&mut p, "name", n);
    }
    let metadata = match &body.metadata {
        Some(m) => validate::metadata(&mut p, m, false),
        None => Map::new(),
    };
    let redirect_uri = body
        .redirect_uri
        .as_deref()
        .and_then(|u| check_redirect_uri(&mut p, u));
    let mut allowed_origins = Vec::new();
    if let Some(list) = &body.allowed_origins {
        if list.len() > MAX_ORIGINS {
            p.add(
                "allowed_origins",
                format!("may list at most {MAX_ORIGINS} origins"),
            );
        }
        for (i, o) in list.iter().enumerate() {
            match normalize_origin(o) {
                Ok(o) if !allowed_origins.contains(&o) => allowed_origins.push(o),
                Ok(_) => {}
                Err(m) => p.add(format!("allowed_origins[{i}]"), m),
            }
        }
    }
    let expires_in = body.expires_in.unwrap_or(DEFAULT_EXPIRES_IN_SECS);
    if !(MIN_EXPIRES_IN_SECS..=MAX_EXPIRES_IN_SECS).contains(&expires_in) {
        p.add(
            "expires_in",
            format!(
                "must be between {MIN_EXPIRES_IN_SECS} and {MAX_EXPIRES_IN_SECS} seconds (30 days)"
            ),
        );
    }
    let mut reauthorized: Option<Connection> = None;
    if let Some(id) = &body.connection_id {
        match state.store.get_connection(&ws.id, id).await? {
            None => p.add("connection_id", "unknown connection"),
            Some(c) => {
                if body
                    .connectors
                    .as_ref()
                    .is_some_and(|l| !l.contains(&c.connector))
                {
                    p.add(
                        "connectors",
                        format!(
                            "a reauthorization session offers only its connection's connector ({})",
                            c.connector
                        ),
                    );
                }
                if body.name.is_some() || body.metadata.is_some() {
                    p.add(
                        "connection_id",
                        "a reauthorization session keeps the connection's name and metadata; \
                         leave out name and metadata",
                    );
                }
                reauthorized = Some(c);
            }
        }
    }
    p.into_result()?;
    if let Some(c) = &reauthorized {
        if c.status == ConnectionStatus::Disconnected {
            return Err(ApiError::ConnectionDisconnected);
        }
        connectors = vec![c.connector.clone()];
    }

    let now = time::now();
    let link_token = secrets::new_link_token();
    let session = state
        .store
        .create_link_session(NewLinkSession {
            id: ids::new_id(prefix::LINK_SESSION),
            workspace_id: ws.id.clone(),
            link_token_hash: secrets::hash_token(&link_token),
            purpose: if reauthorized.is_some() {
                LinkPurpose::Reauthorize
            } else {
                LinkPurpose::Create
            },
            connectors,
            name: body.name.map(|n| n.trim().to_string()),
            metadata: Value::Object(metadata),
            redirect_uri,
            allowed_origins,
            connection_id: reauthorized.map(|c| c.id),
            expires_at: now + Duration::seconds(expires_in as i64),
            created_at: now,
        })
        .await?;
    let url = format!(
        "{}/link/{link_token}",
        state.config.public_url.trim_end_matches('/')
    );
    Ok((
        StatusCode::CREATED,
        Json(CreatedLinkSession {
            session: LinkSessionView::at(session, now),
            link_token,
            url,
        }),
    ))
}

/// Query of `GET /link-sessions`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListLinkSessions {
    /// `pending` (default), `completed`, `expired`, `exchanged`, or `all`.
    pub status: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1 to 100, default 50.
    pub page_size: Option<u32>,
}

#[utoipa::path(
    get, path = "/api/v1/link-sessions", tag = "link",
    params(ListLinkSessions),
    responses((status = 200, description = "A page of sessions, newest first", body = List<LinkSessionView>)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    ApiQuery(q): ApiQuery<ListLinkSessions>,
) -> ApiResult<Json<List<LinkSessionView>>> {
    let status = match q.status.as_deref() {
        None => Some(LinkSessionStatus::Pending),
        Some("all") => None,
        Some(s) => Some(LinkSessionStatus::parse(s).ok_or_else(|| {
            ApiError::InvalidRequest(format!(
                "`status` must be one of pending, completed, expired, exchanged, all; got `{s}`"
            ))
        })?),
    };
    let page = page_request(
        q.cursor.as_deref(),
        q.page_size,
        DEFAULT_PAGE_SIZE,
        MAX_PAGE_SIZE,
    )?;
    let now = time::now();
    let found = state
        .store
        .list_link_sessions(&ws.id, &LinkSessionFilter { status, now }, &page)
        .await?;
    Ok(Json(List::from_page(found, |s| {
        LinkSessionView::at(s, now)
    })))
}

#[utoipa::path(
    get, path = "/api/v1/link-sessions/{id}", tag = "link",
    params(("id" = String, Path, description = "Link session id")),
    responses((status = 200, body = LinkSessionView), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<LinkSessionView>> {
    let session = state
        .store
        .get_link_session(&ws.id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("link session"))?;
    Ok(Json(LinkSessionView::at(session, time::now())))
}

/// Body of `POST /link-sessions/exchange`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangePublicToken {
    /// The `mw_pt_…` token the Link flow handed to `redirect_uri` or to the embedding page.
    pub public_token: String,
}

/// `200` of `POST /link-sessions/exchange`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkExchangeView {
    /// The connection created, or the one reauthorized.
    pub connection: ConnectionView,
    /// The new connection's token (`mw_ct_…`), shown this once. `null` for a
    /// reauthorization session: the connection keeps the token it had.
    pub access_token: Option<String>,
    pub link_session_id: String,
    /// `create` or `reauthorize`.
    pub purpose: String,
}

#[utoipa::path(
    post, path = "/api/v1/link-sessions/exchange", tag = "link",
    request_body = ExchangePublicToken,
    responses(
        (status = 200, description = "The connection, and for a new one its token (shown once)", body = LinkExchangeView),
        (status = 400, description = "PUBLIC_TOKEN_INVALID (unknown or already exchanged) or PUBLIC_TOKEN_EXPIRED", body = crate::error::ErrorBody),
        (status = 409, description = "CONNECTION_DISCONNECTED: disconnected since the end user connected", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn exchange(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    ApiJson(body): ApiJson<ExchangePublicToken>,
) -> ApiResult<Json<LinkExchangeView>> {
    if !well_formed(&body.public_token, secrets::PUBLIC_TOKEN_PREFIX) {
        return Err(ApiError::PublicTokenInvalid(
            "`public_token` is not a public token (mw_pt_…)".into(),
        ));
    }
    let access_token = secrets::new_connection_token();
    let exchanged = state
        .store
        .exchange_public_token(LinkExchange {
            workspace_id: ws.id.clone(),
            public_token_hash: secrets::hash_token(&body.public_token),
            token_id: ids::new_id(prefix::TOKEN),
            token_hash: secrets::hash_token(&access_token),
            token_scopes: Scope::ALL.to_vec(),
            now: time::now(),
        })
        .await?;
    state.auth.invalidate_connection(&exchanged.connection.id);
    Ok(Json(LinkExchangeView {
        access_token: exchanged.token.map(|_| access_token),
        link_session_id: exchanged.session.id,
        purpose: exchanged.session.purpose.as_str().to_string(),
        connection: exchanged.connection.into(),
    }))
}

// --- the connect step, for the Link UI ------------------------------------------------------

/// The session a link token opens, in whatever status, or `None` for a token that is
/// malformed or unknown. The lookup is by hash; the hash is compared again in constant time.
pub async fn session_by_link_token(
    state: &AppState,
    link_token: &str,
) -> ApiResult<Option<LinkSession>> {
    if !well_formed(link_token, secrets::LINK_TOKEN_PREFIX) {
        return Ok(None);
    }
    let hash = secrets::hash_token(link_token);
    Ok(state
        .store
        .find_link_session(&hash)
        .await?
        .filter(|s| secrets::constant_time_eq(s.link_token_hash.as_bytes(), hash.as_bytes())))
}

/// What the end user entered on the Link form.
#[derive(Debug, Clone)]
pub struct LinkSubmission {
    /// The connector chosen (one of the session's).
    pub connector: String,
    /// `cloud` or `on_premise` when the connector offers both; its first otherwise.
    pub deployment: Option<Deployment>,
    /// The connector's auth fields; empty values are left out (defaults apply, and a
    /// reauthorization keeps the stored value).
    pub credentials: Map<String, Value>,
}

/// A completed session, with the one-time public token to hand over.
#[derive(Debug, Clone)]
pub struct LinkSuccess {
    pub session: LinkSession,
    pub connection: Connection,
    /// `mw_pt_…`, exchangeable once within [`PUBLIC_TOKEN_TTL_SECS`].
    pub public_token: String,
}

/// Completes a pending session with the end user's submission: the same checks, credit
/// accounting, events and follow-up as `POST /connections` (or `POST
/// /connections/{id}/reauthorize` for a reauthorization session), the session's completion in
/// the same transaction as the connection write. Errors are the management API's
/// (`VALIDATION_FAILED` naming `credentials.<field>`, `CREDENTIALS_INVALID` with the source's
/// reason, `INSUFFICIENT_CREDITS`, `UPSTREAM_UNREACHABLE`, …) plus `LINK_SESSION_CLOSED`.
pub async fn complete_session(
    state: &AppState,
    session: &LinkSession,
    submission: LinkSubmission,
) -> ApiResult<LinkSuccess> {
    match session.status_at(time::now()) {
        LinkSessionStatus::Pending => {}
        LinkSessionStatus::Expired => {
            return Err(ApiError::LinkSessionClosed(
                "the link session expired".into(),
            ))
        }
        _ => {
            return Err(ApiError::LinkSessionClosed(
                "the link session was already completed".into(),
            ))
        }
    }
    if !session.connectors.contains(&submission.connector) {
        return Err(ApiError::validation(
            "connector",
            "this link does not offer that system",
        ));
    }
    let ws = state.auth.workspace_by_id(&session.workspace_id).await?;
    let credentials = Value::Object(submission.credentials);
    let public_token = secrets::new_public_token();
    let completion = |outcome| LinkCompletion {
        session_id: session.id.clone(),
        workspace_id: ws.id.clone(),
        public_token_hash: secrets::hash_token(&public_token),
        public_token_expires_at: time::now() + Duration::seconds(PUBLIC_TOKEN_TTL_SECS),
        outcome,
        now: time::now(),
    };
    let done = match session.purpose {
        LinkPurpose::Create => {
            let name = match &session.name {
                Some(n) => n.clone(),
                None => state
                    .connectors
                    .descriptor(&submission.connector)
                    .map(|d| d.name.to_string())
                    .unwrap_or_else(|| submission.connector.clone()),
            };
            let prepared = connections::prepare_connection(
                state,
                &ws,
                CreateConnection {
                    connector: submission.connector,
                    deployment: submission.deployment,
                    name,
                    credentials,
                    metadata: Some(session.metadata.clone()),
                    sync: None,
                },
            )
            .await?;
            let done = state
                .store
                .complete_link_session(completion(LinkOutcome::Create {
                    connection: Box::new(prepared.connection),
                    event: prepared.created,
                }))
                .await?;
            connections::start_initial_sync(state, &done.connection).await?;
            done
        }
        LinkPurpose::Reauthorize => {
            let id = session.connection_id.as_deref().ok_or_else(|| {
                ApiError::Internal(format!(
                    "reauthorize session {} without connection",
                    session.id
                ))
            })?;
            let current = state
                .store
                .get_connection(&ws.id, id)
                .await?
                .ok_or_else(|| ApiError::not_found("connection"))?;
            let sealed =
                connections::prepare_reauthorization(state, &ws, &current, &credentials).await?;
            let done = state
                .store
                .complete_link_session(completion(LinkOutcome::Reauthorize {
                    sealed_credentials: sealed,
                    reauthorized: connections::reauthorized_event(&ws, &current),
                }))
                .await?;
            let before = done.previous_status.unwrap_or(current.status);
            connections::finish_reauthorization(state, before, &done.connection).await?;
            done
        }
    };
    tracing::info!(
        link_session = %done.session.id,
        connection = %done.connection.id,
        purpose = done.session.purpose.as_str(),
        "link session completed"
    );
    Ok(LinkSuccess {
        session: done.session,
        connection: done.connection,
        public_token,
    })
}

/// `redirect_uri` with `public_token` and `link_session_id` added to its query.
pub fn redirect_with_token(redirect_uri: &str, public_token: &str, session_id: &str) -> String {
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let query = serde_urlencoded::to_string([
        ("public_token", public_token),
        ("link_session_id", session_id),
    ])
    .unwrap_or_default();
    format!("{redirect_uri}{sep}{query}")
}

// --- validation --------------------------------------------------------------------------

fn well_formed(token: &str, prefix: &str) -> bool {
    token.strip_prefix(prefix).is_some_and(|rest| {
        (32..=64).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// An absolute http(s) URL without fragment (the token is added to its query).
fn check_redirect_uri(p: &mut Problems, uri: &str) -> Option<String> {
    let field = "redirect_uri";
    if uri.len() > MAX_URI {
        p.add(field, format!("must be at most {MAX_URI} characters"));
        return None;
    }
    if uri.contains('#') {
        p.add(field, "must not have a fragment");
        return None;
    }
    match uri.parse::<http::Uri>() {
        Ok(u)
            if matches!(u.scheme_str(), Some("http" | "https"))
                && u.authority().is_some_and(|a| !a.host().is_empty()) =>
        {
            Some(uri.to_string())
        }
        _ => {
            p.add(field, "must be an absolute http or https URL");
            None
        }
    }
}

/// `scheme://host[:port]`, lower-cased, as browsers serialise origins; no path, query or
/// wildcard (a message is sent to exactly these origins, never to `*`).
pub fn normalize_origin(origin: &str) -> Result<String, String> {
    let bad = || {
        "must be an origin such as https://app.example.com (scheme, host, optional port)"
            .to_string()
    };
    let u: http::Uri = origin.parse().map_err(|_| bad())?;
    let scheme = u.scheme_str().ok_or_else(bad)?.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(bad());
    }
    let authority = u.authority().ok_or_else(bad)?;
    if authority.as_str().contains('@') || authority.host().is_empty() || origin.contains('*') {
        return Err(bad());
    }
    if !matches!(u.path(), "" | "/") || u.query().is_some() {
        return Err(bad());
    }
    let host = authority.host().to_ascii_lowercase();
    let default_port = if scheme == "https" { 443 } else { 80 };
    Ok(match authority.port_u16() {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised_and_strict() {
        assert_eq!(
            normalize_origin("HTTPS://App.Example.com").unwrap(),
            "https://app.example.com"
        );
        assert_eq!(
            normalize_origin("https://app.example.com:443/").unwrap(),
            "https://app.example.com"
        );
        assert_eq!(
            normalize_origin("http://127.0.0.1:5173").unwrap(),
            "http://127.0.0.1:5173"
        );
        for bad in [
            "*",
            "https://*.example.com",
            "app.example.com",
            "ftp://x.example",
            "https://x.example/path",
            "https://x.example?q=1",
            "https://user@x.example",
            "",
        ] {
            assert!(normalize_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redirect_uris_are_checked_and_get_the_token_in_their_query() {
        let mut p = Problems::default();
        assert!(check_redirect_uri(&mut p, "https://app.example/done?x=1").is_some());
        assert!(check_redirect_uri(&mut p, "javascript:alert(1)").is_none());
        assert!(check_redirect_uri(&mut p, "https://app.example/#frag").is_none());
        assert!(check_redirect_uri(&mut p, "/relative").is_none());
        assert_eq!(p.0.len(), 3);
        assert_eq!(
            redirect_with_token("https://a.example/done?x=1", "mw_pt_abc", "lks_1"),
            "https://a.example/done?x=1&public_token=mw_pt_abc&link_session_id=lks_1"
        );
        assert_eq!(
            redirect_with_token("https://a.example/done", "mw_pt_abc", "lks_1"),
            "https://a.example/done?public_token=mw_pt_abc&link_session_id=lks_1"
        );
    }

    #[test]
    fn tokens_must_be_well_formed() {
        let t = secrets::new_public_token();
        assert!(well_formed(&t, secrets::PUBLIC_TOKEN_PREFIX));
        assert!(!well_formed(&t, secrets::LINK_TOKEN_PREFIX));
        assert!(!well_formed("mw_pt_short", secrets::PUBLIC_TOKEN_PREFIX));
        assert!(!well_formed(
            "mw_pt_0123456789012345678901234567890123456789-",
            secrets::PUBLIC_TOKEN_PREFIX
        ));
    }
}
