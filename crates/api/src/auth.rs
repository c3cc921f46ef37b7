//! Authentication: bearer credentials to a workspace or a connection, with a small cache so
//! the hot path does not hit the database, and the per-credential rate limit.
//!
//! Cache coherence: this node drops a connection's cached tokens the moment it rotates or
//! disconnects them, so on one node a revoked token fails at once. Other nodes (PostgreSQL
//! scale-out) see the change within [`TOKEN_TTL`].

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{extract::FromRequestParts, http::request::Parts};
use dashmap::DashMap;
use millwright_core::{
    scope::Scope,
    secrets::{constant_time_eq, hash_token, CredentialKind},
    status::ConnectionStatus,
    time,
};
use millwright_store::{Connection, Store, TokenLookup, Workspace};

use crate::{
    rate_limit::Decision, request_context::FactsSlot, state::AppState, ApiError, ApiResult,
};

/// How long a token lookup is trusted without asking the database.
pub const TOKEN_TTL: Duration = Duration::from_secs(2);
/// Workspaces change rarely (name, limits); keys are never reissued for a workspace id.
const WORKSPACE_TTL: Duration = Duration::from_secs(30);

pub struct Authenticator {
    store: Arc<dyn Store>,
    by_key: DashMap<String, (Arc<Workspace>, Instant)>,
    by_id: DashMap<String, (Arc<Workspace>, Instant)>,
    tokens: DashMap<String, (TokenLookup, Instant)>,
    connections: DashMap<String, (Arc<Connection>, Instant)>,
}

impl Authenticator {
    pub fn new(store: Arc<dyn Store>) -> Authenticator {
        Authenticator {
            store,
            by_key: DashMap::new(),
            by_id: DashMap::new(),
            tokens: DashMap::new(),
            connections: DashMap::new(),
        }
    }

    async fn workspace_by_key(&self, key: &str) -> ApiResult<Arc<Workspace>> {
        let hash = hash_token(key);
        if let Some(e) = self.by_key.get(&hash) {
            if e.1.elapsed() < WORKSPACE_TTL {
                return Ok(e.0.clone());
            }
        }
        let ws = self
            .store
            .find_workspace_by_key_hash(&hash)
            .await?
            .ok_or(ApiError::TokenInvalid)?;
        let ws = Arc::new(ws);
        self.by_key.insert(hash, (ws.clone(), Instant::now()));
        Ok(ws)
    }

    pub async fn workspace_by_id(&self, id: &str) -> ApiResult<Arc<Workspace>> {
        if let Some(e) = self.by_id.get(id) {
            if e.1.elapsed() < WORKSPACE_TTL {
                return Ok(e.0.clone());
            }
        }
        let ws = self
            .store
            .get_workspace(id)
            .await?
            .ok_or_else(|| ApiError::Internal(format!("token of unknown workspace {id}")))?;
        let ws = Arc::new(ws);
        self.by_id
            .insert(id.to_string(), (ws.clone(), Instant::now()));
        Ok(ws)
    }

    async fn token(&self, token: &str) -> ApiResult<TokenLookup> {
        let hash = hash_token(token);
        if let Some(e) = self.tokens.get(&hash) {
            if e.1.elapsed() < TOKEN_TTL {
                return Ok(e.0.clone());
            }
        }
        let found = self
            .store
            .find_token_by_hash(&hash)
            .await?
            .ok_or(ApiError::TokenInvalid)?;
        // The lookup is by hash; compare again in constant time so the match itself leaks nothing.
        if !constant_time_eq(found.token.token_hash.as_bytes(), hash.as_bytes()) {
            return Err(ApiError::TokenInvalid);
        }
        self.tokens.insert(hash, (found.clone(), Instant::now()));
        Ok(found)
    }

    /// The connection row, cached like tokens (same lifetime, same invalidation), so the
    /// unified API's hot path does not read it from the database on every request.
    pub async fn connection(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> ApiResult<Option<Arc<Connection>>> {
        if let Some(e) = self.connections.get(id) {
            if e.1.elapsed() < TOKEN_TTL && e.0.workspace_id == workspace_id {
                return Ok(Some(e.0.clone()));
            }
        }
        let Some(c) = self.store.get_connection(workspace_id, id).await? else {
            return Ok(None);
        };
        let c = Arc::new(c);
        self.connections
            .insert(id.to_string(), (c.clone(), Instant::now()));
        Ok(Some(c))
    }

    /// Forgets what is cached of a connection (its tokens and its row) after this node changed
    /// it: a rotation, disconnect, reauthorization or edit.
    pub fn invalidate_connection(&self, connection_id: &str) {
        self.tokens
            .retain(|_, (l, _)| l.token.connection_id != connection_id);
        self.connections.remove(connection_id);
    }
}

/// The credential of `Authorization: Bearer <credential>`.
fn bearer(parts: &Parts) -> ApiResult<&str> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::AuthenticationFailed(
                "missing Authorization header; send `Authorization: Bearer <key or token>`".into(),
            )
        })?
        .to_str()
        .map_err(|_| ApiError::AuthenticationFailed("malformed Authorization header".into()))?;
    let (scheme, credential) = value.split_once(' ').ok_or_else(|| {
        ApiError::AuthenticationFailed(
            "malformed Authorization header; expected `Bearer <credential>`".into(),
        )
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") || credential.trim().is_empty() {
        return Err(ApiError::AuthenticationFailed(
            "malformed Authorization header; expected `Bearer <credential>`".into(),
        ));
    }
    Ok(credential.trim())
}

fn facts(parts: &Parts) -> FactsSlot {
    parts
        .extensions
        .get::<FactsSlot>()
        .cloned()
        .unwrap_or_default()
}

/// Counts the request against the credential's limit; records the headers to send.
fn rate_limit(
    state: &AppState,
    slot: &FactsSlot,
    credential: &str,
    ws: &Workspace,
) -> ApiResult<()> {
    let limit = ws
        .rate_limit_per_minute
        .map(|l| l.max(0) as u64)
        .unwrap_or(state.config.rate_limit_per_minute);
    if limit == 0 {
        return Ok(());
    }
    match state.rate_limiter.check(&hash_token(credential), limit) {
        Decision::Allowed(info) => {
            slot.update(|f| f.rate_limit = Some(info));
            Ok(())
        }
        Decision::Limited(info) => {
            slot.update(|f| f.rate_limit = Some(info));
            Err(ApiError::RateLimitExceeded {
                retry_after_secs: info.reset_secs,
            })
        }
    }
}

/// A request authenticated with a workspace secret key (management API).
pub struct WorkspaceAuth(pub Arc<Workspace>);

impl FromRequestParts<AppState> for WorkspaceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let credential = bearer(parts)?;
        match CredentialKind::of(credential) {
            Some(CredentialKind::WorkspaceKey) => {}
            Some(CredentialKind::ConnectionToken) => {
                return Err(ApiError::InsufficientScope(
                    "a connection token reaches only the unified API; use the workspace secret key"
                        .into(),
                ))
            }
            None => return Err(ApiError::TokenInvalid),
        }
        let ws = state.auth.workspace_by_key(credential).await?;
        let slot = facts(parts);
        slot.update(|f| f.workspace_id = Some(ws.id.clone()));
        rate_limit(state, &slot, credential, &ws)?;
        Ok(WorkspaceAuth(ws))
    }
}

/// How a unified-API request reached its connection.
#[derive(Debug, Clone)]
pub enum Via {
    /// A connection token with these scopes.
    Token(Vec<Scope>),
    /// The workspace secret key plus `X-Connection-Id`: every scope.
    WorkspaceKey,
}

/// A request authenticated for one connection (unified API).
pub struct ConnectionAuth {
    pub workspace: Arc<Workspace>,
    pub connection_id: String,
    /// The connection as of this request (cached for at most [`TOKEN_TTL`] across nodes).
    pub connection: Arc<Connection>,
    pub via: Via,
}

impl ConnectionAuth {
    /// [`ApiError::ReauthorizationRequired`] when the source rejects the stored credentials and
    /// the caller holds the connection's token. (The workspace key still reads stored data.)
    pub fn require_usable(&self) -> ApiResult<()> {
        match (&self.via, self.connection.status) {
            (Via::Token(_), ConnectionStatus::RequiresReauthorization) => {
                Err(ApiError::ReauthorizationRequired)
            }
            _ => Ok(()),
        }
    }

    /// [`ApiError::InsufficientScope`] unless the credential carries `scope`.
    pub fn require(&self, scope: Scope) -> ApiResult<()> {
        match &self.via {
            Via::WorkspaceKey => Ok(()),
            Via::Token(scopes) if scopes.contains(&scope) => Ok(()),
            Via::Token(_) => Err(ApiError::InsufficientScope(format!(
                "this token lacks the `{}` scope",
                scope.as_str()
            ))),
        }
    }
}

impl FromRequestParts<AppState> for ConnectionAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let credential = bearer(parts)?;
        let slot = facts(parts);
        match CredentialKind::of(credential) {
            Some(CredentialKind::ConnectionToken) => {
                let found = state.auth.token(credential).await?;
                let t = &found.token;
                if t.revoked_at.is_some()
                    || found.connection_status == ConnectionStatus::Disconnected
                {
                    return Err(ApiError::TokenRevoked);
                }
                if t.expires_at.is_some_and(|e| e <= time::now()) {
                    return Err(ApiError::TokenExpired);
                }
                let ws = state.auth.workspace_by_id(&t.workspace_id).await?;
                slot.update(|f| {
                    f.workspace_id = Some(ws.id.clone());
                    f.connection_id = Some(t.connection_id.clone());
                });
                rate_limit(state, &slot, credential, &ws)?;
                let connection = state
                    .auth
                    .connection(&ws.id, &t.connection_id)
                    .await?
                    .ok_or_else(|| {
                        ApiError::Internal(format!(
                            "token of unknown connection {}",
                            t.connection_id
                        ))
                    })?;
                Ok(ConnectionAuth {
                    workspace: ws,
                    connection_id: t.connection_id.clone(),
                    connection,
                    via: Via::Token(t.scopes.clone()),
                })
            }
            Some(CredentialKind::WorkspaceKey) => {
                let ws = state.auth.workspace_by_key(credential).await?;
                slot.update(|f| f.workspace_id = Some(ws.id.clone()));
                rate_limit(state, &slot, credential, &ws)?;
                let connection_id = parts
                    .headers
                    .get("x-connection-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| {
                        ApiError::InvalidRequest(
                            "the unified API with a workspace key needs the X-Connection-Id header"
                                .into(),
                        )
                    })?
                    .to_string();
                let connection = state
                    .auth
                    .connection(&ws.id, &connection_id)
                    .await?
                    .ok_or_else(|| ApiError::not_found("connection"))?;
                slot.update(|f| f.connection_id = Some(connection_id.clone()));
                Ok(ConnectionAuth {
                    workspace: ws,
                    connection_id,
                    connection,
                    via: Via::WorkspaceKey,
                })
            }
            None => Err(ApiError::TokenInvalid),
        }
    }
}
