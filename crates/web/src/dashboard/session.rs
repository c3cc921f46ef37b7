//! Browser sessions: the `mw_session` cookie, finding the signed-in user on each request, and
//! starting and ending sessions.
//!
//! The cookie holds 256 random bits (hex); the store keeps only their SHA-256, so neither the
//! database nor its backups hold a usable session. A session ends after 12 hours without a
//! request, 7 days after sign-in whatever the activity, or at sign-out.

use std::sync::Arc;

use axum::{extract::FromRequestParts, response::Response};
use chrono::Duration;
use http::{request::Parts, HeaderMap};
use millwright_api::{auth::WorkspaceAuth, AppState};
use millwright_core::{secrets, time};
use millwright_store::{BrowserSession, NewBrowserSession, User, Workspace};

use super::csrf;
use super::view::{self, Flash, Layout};

/// The session cookie.
pub(crate) const SESSION_COOKIE: &str = "mw_session";
/// A session ends after this long without a request…
pub(crate) const IDLE_TIMEOUT: Duration = Duration::hours(12);
/// …and this long after sign-in in any case.
pub(crate) const ABSOLUTE_TIMEOUT: Duration = Duration::days(7);

/// Whether cookies get `Secure`: when the server is published over https.
pub(crate) fn secure_cookies(state: &AppState) -> bool {
    state
        .config
        .public_url
        .to_ascii_lowercase()
        .starts_with("https://")
}

/// A 256-bit secret from the OS CSPRNG, as 64 hex characters.
pub(crate) fn new_secret() -> String {
    hex::encode(secrets::random_bytes::<32>())
}

/// A request from a signed-in browser. Extracting it on a request without a live session
/// answers with a redirect to the sign-in page instead.
pub(crate) struct SignedIn {
    pub session: BrowserSession,
    pub workspace: Arc<Workspace>,
    /// The CSRF token of this session's forms.
    pub csrf: String,
    /// The message left by the previous action, shown (and cleared) by this page.
    pub flash: Option<Flash>,
    pub secure: bool,
}

impl SignedIn {
    /// The layout of a page titled `title` under the navigation entry `nav`.
    pub(crate) fn layout(&self, title: impl Into<String>, nav: &'static str) -> Layout {
        Layout {
            title: title.into(),
            nav,
            email: self.session.user_email.clone(),
            csrf: self.csrf.clone(),
            flash: self.flash.clone(),
        }
    }

    /// The signed-in user's workspace as the API's handlers take it: every action goes through
    /// the same handler, and so the same workspace checks, as an API call with the secret key.
    pub(crate) fn auth(&self) -> WorkspaceAuth {
        WorkspaceAuth(self.workspace.clone())
    }

    /// Renders a page with status 200.
    pub(crate) fn page(&self, t: &impl askama::Template) -> Response {
        view::render(t, http::StatusCode::OK, self.flash.is_some())
    }

    /// A redirect with a flash message.
    pub(crate) fn redirect(&self, location: &str, flash: Flash) -> Response {
        view::redirect(location, Some(flash), self.secure)
    }
}

/// Looks up the live session named by the request's cookie, extending its idle timeout.
pub(crate) async fn current(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<BrowserSession>, millwright_store::StoreError> {
    let Some(secret) = view::read_cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    // Only well-formed secrets reach the store: anything else cannot be one of ours.
    if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    state
        .store
        .touch_browser_session(&secrets::hash_token(secret), time::now(), IDLE_TIMEOUT)
        .await
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let secure = secure_cookies(state);
        let to_sign_in = || view::redirect("/dashboard/login", None, secure);
        let session = match current(state, &parts.headers).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(to_sign_in()),
            Err(e) => {
                tracing::error!(error = %e, "dashboard session lookup failed");
                return Err(super::unavailable());
            }
        };
        let workspace = match state.auth.workspace_by_id(&session.workspace_id).await {
            Ok(ws) => ws,
            // Not a redirect: the sign-in page would send a live session straight back here.
            Err(e) => {
                tracing::error!(error = %e, workspace = %session.workspace_id, "the signed-in workspace cannot be loaded");
                return Err(super::unavailable());
            }
        };
        let flash = view::read_cookie(&parts.headers, view::FLASH_COOKIE).and_then(Flash::decode);
        Ok(SignedIn {
            csrf: csrf::session_token(&session.csrf_secret),
            session,
            workspace,
            flash,
            secure,
        })
    }
}

/// Starts a fresh session for `user` and returns the `Set-Cookie` value that carries it. The
/// secret is always new (never one the browser presented), so a planted cookie cannot become
/// a signed-in session (session fixation).
pub(crate) async fn start(
    state: &AppState,
    user: &User,
) -> Result<String, millwright_store::StoreError> {
    let secret = new_secret();
    let now = time::now();
    state
        .store
        .create_browser_session(NewBrowserSession {
            id_hash: secrets::hash_token(&secret),
            user_id: user.id.clone(),
            user_email: user.email.clone(),
            workspace_id: user.workspace_id.clone(),
            csrf_secret: new_secret(),
            created_at: now,
            expires_at: now + ABSOLUTE_TIMEOUT,
        })
        .await?;
    // Ended sessions are kept a day for inspection, then dropped at the next sign-in.
    if let Err(e) = state
        .store
        .purge_browser_sessions(now - Duration::days(1))
        .await
    {
        tracing::warn!(error = %e, "purging ended dashboard sessions failed");
    }
    Ok(view::cookie(
        SESSION_COOKIE,
        &secret,
        Some(ABSOLUTE_TIMEOUT.num_seconds()),
        secure_cookies(state),
        "Lax",
    ))
}

/// Revokes the session named by the request's cookie, if any (sign-out, or a new sign-in).
pub(crate) async fn end(state: &AppState, headers: &HeaderMap) {
    if let Some(secret) = view::read_cookie(headers, SESSION_COOKIE) {
        if let Err(e) = state
            .store
            .revoke_browser_session(&secrets::hash_token(secret), time::now())
            .await
        {
            tracing::warn!(error = %e, "revoking a dashboard session failed");
        }
    }
}
