//! Sign-in and sign-out.
//!
//! - Passwords are checked with argon2id; an unknown e-mail is checked against a dummy hash so
//!   that it takes as long as a wrong password (no probing for which addresses exist).
//! - Five failures for an address within 15 minutes lock it for 15 minutes
//!   ([`ThrottlePolicy::default`]); the lock message is the same whether the address exists.
//! - Every sign-in starts a new session (and revokes any session the browser presented), so a
//!   cookie planted before sign-in is never promoted (session fixation).

use std::sync::OnceLock;

use askama::Template;
use axum::{body::Bytes, extract::State, response::Response};
use http::{HeaderMap, StatusCode};
use millwright_api::AppState;
use millwright_core::{secrets, time};
use millwright_store::ThrottlePolicy;

use super::csrf::{self, FormData, Posted};
use super::session::{self, new_secret, secure_cookies};
use super::view::{self, Flash, Layout};

#[derive(Template)]
#[template(path = "dashboard/login.html")]
struct LoginPage {
    l: Layout,
    email: String,
}

/// The hash an unknown e-mail's password is checked against (computed once).
pub(crate) fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    // Hashing with the default parameters and a generated salt does not fail in practice; if it
    // did, verification against "" fails fast, which only costs the timing equaliser.
    HASH.get_or_init(|| secrets::hash_password(&new_secret()).unwrap_or_default())
}

/// Renders the sign-in form with a fresh (or the browser's current) double-submit token.
fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    email: &str,
    flash: Option<Flash>,
) -> Response {
    let token = view::read_cookie(headers, csrf::LOGIN_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string)
        .unwrap_or_else(new_secret);
    let from_cookie = view::read_cookie(headers, view::FLASH_COOKIE).and_then(Flash::decode);
    let shown_cookie_flash = flash.is_none() && from_cookie.is_some();
    let page = LoginPage {
        l: Layout {
            title: "Sign in".into(),
            nav: "",
            email: String::new(),
            csrf: token.clone(),
            flash: flash.or(from_cookie),
        },
        email: email.to_string(),
    };
    let mut r = view::render(&page, status, shown_cookie_flash);
    // Strict: the token cookie is never sent along with a request started on another site.
    view::append_cookie(
        r.headers_mut(),
        &view::cookie(
            csrf::LOGIN_COOKIE,
            &token,
            Some(3600),
            secure_cookies(state),
            "Strict",
        ),
    );
    r
}

/// `GET /dashboard/login`.
pub(crate) async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Ok(Some(_)) = session::current(&state, &headers).await {
        return view::redirect("/dashboard/connections", None, secure_cookies(&state));
    }
    login_page(&state, &headers, StatusCode::OK, "", None)
}

/// `POST /dashboard/login` `{csrf, email, password}`.
pub(crate) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body).unwrap_or_default();
    if !csrf::same_origin(&headers)
        || !csrf::matches(
            view::read_cookie(&headers, csrf::LOGIN_COOKIE).unwrap_or(""),
            form.get(csrf::FIELD),
        )
    {
        return csrf::refused();
    }
    let email = form.text("email").to_lowercase();
    let password = form.text("password").to_string();
    let now = time::now();
    let policy = ThrottlePolicy::default();
    let locked = |until: millwright_core::time::Timestamp| {
        let minutes = ((until - now).num_seconds() + 59) / 60;
        Flash::error(format!(
            "Too many failed sign-ins for this address. Try again in {} minute{}.",
            minutes.max(1),
            if minutes == 1 { "" } else { "s" }
        ))
    };
    if email.is_empty() || password.is_empty() {
        return login_page(
            &state,
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            &email,
            Some(Flash::error("Enter your e-mail and password.")),
        );
    }
    match state.store.sign_in_locked_until(&email, now).await {
        Ok(Some(until)) => {
            return login_page(
                &state,
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                &email,
                Some(locked(until)),
            )
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, "sign-in throttle lookup failed");
            return super::unavailable();
        }
    }
    let user = match state.store.find_user_by_email(&email).await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "user lookup failed");
            return super::unavailable();
        }
    };
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    // argon2 takes tens of milliseconds of CPU: off the async workers.
    let verified = tokio::task::spawn_blocking(move || secrets::verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|_| verified) else {
        return match state
            .store
            .record_sign_in_failure(&email, now, policy)
            .await
        {
            Ok(t) => match t.locked_until {
                Some(until) => login_page(
                    &state,
                    &headers,
                    StatusCode::TOO_MANY_REQUESTS,
                    &email,
                    Some(locked(until)),
                ),
                None => login_page(
                    &state,
                    &headers,
                    StatusCode::UNAUTHORIZED,
                    &email,
                    Some(Flash::error("The e-mail or password is wrong.")),
                ),
            },
            Err(e) => {
                tracing::error!(error = %e, "recording a failed sign-in failed");
                super::unavailable()
            }
        };
    };
    if let Err(e) = state.store.clear_sign_in_failures(&email).await {
        tracing::warn!(error = %e, "clearing sign-in failures failed");
    }
    // Whatever session cookie came with this request is revoked, never reused.
    session::end(&state, &headers).await;
    let cookie = match session::start(&state, &user).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "starting a dashboard session failed");
            return super::unavailable();
        }
    };
    tracing::info!(user = %user.id, workspace = %user.workspace_id, "dashboard sign-in");
    let mut r = view::redirect("/dashboard/connections", None, secure_cookies(&state));
    view::append_cookie(r.headers_mut(), &cookie);
    view::append_cookie(r.headers_mut(), &view::clear_cookie(csrf::LOGIN_COOKIE));
    r
}

/// `POST /dashboard/logout`: revokes the session and clears its cookie.
pub(crate) async fn sign_out(State(state): State<AppState>, posted: Posted) -> Response {
    if let Err(e) = state
        .store
        .revoke_browser_session(&posted.me.session.id_hash, time::now())
        .await
    {
        tracing::error!(error = %e, "revoking a dashboard session failed");
        return super::unavailable();
    }
    let mut r = view::redirect(
        "/dashboard/login",
        Some(Flash::ok("You are signed out.")),
        secure_cookies(&state),
    );
    view::append_cookie(
        r.headers_mut(),
        &view::clear_cookie(session::SESSION_COOKIE),
    );
    r
}
