//! The Link connect flow `/link/{link_token}` (issue #7): the end user of a workspace chooses
//! their system, enters what it needs, has it checked live against the system, and the one-time
//! public token goes to the workspace (`redirect_uri`, or `postMessage` to the embedding page).
//!
//! - State lives in the URL (the link token is the secret in the path) and in the forms; no
//!   cookie is set or read, since third-party iframes often lose cookies. A cross-site POST
//!   cannot forge the token in the path.
//! - Pages may be framed only by the session's allowed origins (`frame-ancestors`); pages of
//!   unknown tokens, and sessions without origins, cannot be framed at all.
//! - Every page works without JavaScript; `link.js` only posts messages to the parent and
//!   shows progress. No inline script or style (the CSP forbids them): the workspace's accent
//!   colour comes from `/link/{token}/theme.css`.
//! - The connect step is the API's ([`link_sessions::complete_session`]): the same checks,
//!   credits, events and initial sync as `POST /api/v1/connections`.

use askama::Template;
use axum::{
    extract::{Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Form, Router,
};
use millwright_api::{
    rate_limit::Decision,
    routes::link_sessions::{self, LinkSubmission},
    ApiError, AppState,
};
use millwright_connectors::ConnectorDescriptor;
use millwright_core::{credits::Deployment, time};
use millwright_store::{Branding, LinkPurpose, LinkSession, LinkSessionStatus};
use serde_json::{Map, Value};

use crate::security::csp_with_frame_ancestors;

const CSS: &str = include_str!("../assets/link/link.css");
const JS: &str = include_str!("../assets/link/link.js");
/// The accent colour when the workspace has none.
const DEFAULT_ACCENT: &str = "#2457d6";

/// The routes of this part, merged by [`crate::router`].
/// Credential submissions one Link session may make a minute (on each node).
const LINK_SUBMISSIONS_PER_MINUTE: u64 = 10;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/link/assets/link.css", get(css))
        .route("/link/assets/link.js", get(js))
        .route("/link/{token}", get(start))
        .route("/link/{token}/theme.css", get(theme))
        .route("/link/{token}/connect/{connector}", get(form).post(submit))
}

// --- templates ---------------------------------------------------------------------------

/// What every Link page shows around its content.
struct Chrome {
    brand_name: String,
    logo: Option<String>,
    theme_href: Option<String>,
    /// Space-separated allowed origins, for `link.js`.
    origins: String,
    session_id: String,
    cancel_href: Option<String>,
}

struct SystemChoice {
    href: String,
    name: String,
    monogram: String,
    category: &'static str,
}

#[derive(Template)]
#[template(path = "link/choose.html")]
struct ChoosePage {
    chrome: Chrome,
    systems: Vec<SystemChoice>,
}

struct FormField {
    name: String,
    label: String,
    secret: bool,
    required: bool,
    help: String,
    value: String,
    placeholder: Option<String>,
    error: Option<String>,
}

struct DeploymentChoice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "link/form.html")]
struct FormPage {
    chrome: Chrome,
    system_name: String,
    connection_name: String,
    reauthorize: bool,
    back_href: Option<String>,
    action: String,
    deployments: Vec<DeploymentChoice>,
    fields: Vec<FormField>,
    reason_title: String,
    reason: Option<String>,
}

#[derive(Template)]
#[template(path = "link/success.html")]
struct SuccessPage {
    chrome: Chrome,
    system_name: String,
    connection_name: String,
    reauthorize: bool,
    public_token: String,
    redirect_href: Option<String>,
    show_token: bool,
}

#[derive(Template)]
#[template(path = "link/closed.html")]
struct ClosedPage {
    chrome: Chrome,
    heading: String,
    message: String,
}

// --- assets ------------------------------------------------------------------------------

async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

async fn js() -> Response {
    asset(JS, "text/javascript; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// The workspace's accent colour as CSS custom properties (a stylesheet, because the CSP
/// forbids inline styles).
async fn theme(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let accent = match link_sessions::session_by_link_token(&state, &token).await {
        Ok(Some(session)) => state
            .store
            .get_branding(&session.workspace_id)
            .await
            .ok()
            .and_then(|b| b.accent_color),
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(_) => None,
    };
    let accent = accent.unwrap_or_else(|| DEFAULT_ACCENT.to_string());
    let body = format!(
        ":root {{ --mw-accent: {accent}; --mw-accent-text: {}; }}\n",
        contrast_text(&accent)
    );
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// Black or white, whichever reads better on `#rrggbb` (WCAG relative luminance).
fn contrast_text(hex: &str) -> &'static str {
    let channel = |i: usize| {
        let v = u8::from_str_radix(hex.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
        let c = f64::from(v) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    if luminance > 0.4 {
        "#111111"
    } else {
        "#ffffff"
    }
}

// --- pages -------------------------------------------------------------------------------

/// A session that may still be completed, with its workspace's branding.
struct Open {
    session: LinkSession,
    branding: Branding,
    token: String,
}

/// Loads the session of `token`, or the page to show instead (unknown, expired, used).
async fn open(state: &AppState, token: &str) -> Result<Open, Response> {
    let session = match link_sessions::session_by_link_token(state, token).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Err(closed(
                StatusCode::NOT_FOUND,
                None,
                "This link is not valid",
                "Check that you copied the whole link, or ask for a new one.",
            ))
        }
        Err(e) => return Err(failure(e)),
    };
    let branding = match state.store.get_branding(&session.workspace_id).await {
        Ok(b) => b,
        Err(e) => return Err(failure(e.into())),
    };
    let (heading, message) = match session.status_at(time::now()) {
        LinkSessionStatus::Pending => {
            return Ok(Open {
                session,
                branding,
                token: token.to_string(),
            })
        }
        LinkSessionStatus::Expired => (
            "This link has expired",
            format!("Ask {} for a new link to connect your system.", branding.name),
        ),
        LinkSessionStatus::Completed | LinkSessionStatus::Exchanged => (
            "This link was already used",
            format!(
                "Your system is connected. If you need to connect another one, ask {} for a new link.",
                branding.name
            ),
        ),
    };
    let page = ClosedPage {
        chrome: chrome(&session, &branding, None),
        heading: heading.into(),
        message,
    };
    Err(render(StatusCode::GONE, &page, Some(&session)))
}

/// `/link/{token}`: the systems to choose from, or straight to the form when there is one.
async fn start(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let open = match open(&state, &token).await {
        Ok(o) => o,
        Err(page) => return page,
    };
    let systems: Vec<&ConnectorDescriptor> = open
        .session
        .connectors
        .iter()
        .filter_map(|id| state.connectors.descriptor(id))
        .collect();
    if systems.len() == 1 || open.session.purpose == LinkPurpose::Reauthorize {
        if let Some(d) = systems.first() {
            return form_page(&state, &open, d, Vec::new(), None, StatusCode::OK).await;
        }
    }
    let page = ChoosePage {
        chrome: chrome(&open.session, &open.branding, Some(&open.token)),
        systems: systems
            .iter()
            .map(|d| SystemChoice {
                href: format!("/link/{}/connect/{}", open.token, d.id),
                name: d.name.to_string(),
                monogram: monogram(d.name),
                category: category(d),
            })
            .collect(),
    };
    render(StatusCode::OK, &page, Some(&open.session))
}

/// `/link/{token}/connect/{connector}`: the form of one system.
async fn form(
    State(state): State<AppState>,
    Path((token, connector)): Path<(String, String)>,
) -> Response {
    let open = match open(&state, &token).await {
        Ok(o) => o,
        Err(page) => return page,
    };
    match offered(&state, &open.session, &connector) {
        Some(d) => form_page(&state, &open, d, Vec::new(), None, StatusCode::OK).await,
        None => not_offered(&open),
    }
}

/// The system `connector` if the session offers it.
fn offered<'a>(
    state: &'a AppState,
    session: &LinkSession,
    connector: &str,
) -> Option<&'a ConnectorDescriptor> {
    session
        .connectors
        .iter()
        .any(|c| c == connector)
        .then(|| state.connectors.descriptor(connector))
        .flatten()
}

fn not_offered(open: &Open) -> Response {
    let page = ClosedPage {
        chrome: chrome(&open.session, &open.branding, Some(&open.token)),
        heading: "This system is not offered here".into(),
        message: "Go back and choose one of the systems this link offers.".into(),
    };
    render(StatusCode::NOT_FOUND, &page, Some(&open.session))
}

/// Values the end user typed, kept when the form is shown again (never secret ones).
type Entered = Vec<(String, String)>;

async fn form_page(
    state: &AppState,
    open: &Open,
    d: &ConnectorDescriptor,
    entered: Entered,
    failure: Option<&ApiError>,
    status: StatusCode,
) -> Response {
    let reauthorize = open.session.purpose == LinkPurpose::Reauthorize;
    let connection_name = match (&open.session.connection_id, reauthorize) {
        (Some(id), true) => state
            .store
            .get_connection(&open.session.workspace_id, id)
            .await
            .ok()
            .flatten()
            .map(|c| c.name)
            .unwrap_or_else(|| d.name.to_string()),
        _ => open
            .session
            .name
            .clone()
            .unwrap_or_else(|| d.name.to_string()),
    };
    let value_of = |name: &str| {
        entered
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    // Field errors from the API name `credentials.<field>`; the rest go to the form's alert.
    let mut field_errors: Vec<(String, String)> = Vec::new();
    let mut general: Vec<String> = Vec::new();
    let mut reason_title = String::new();
    if let Some(e) = failure {
        match e {
            ApiError::ValidationFailed(details) => {
                for fe in details {
                    match fe.field.strip_prefix("credentials.") {
                        Some(f) if d.auth_field(f).is_some() => {
                            field_errors.push((f.to_string(), fe.message.clone()))
                        }
                        _ => general.push(format!("{}: {}", fe.field, fe.message)),
                    }
                }
                reason_title = "Please check the highlighted fields".into();
            }
            ApiError::CredentialsInvalid(m) => {
                reason_title = format!("{} did not accept these details", d.name);
                general.push(m.clone());
            }
            ApiError::UpstreamUnreachable { .. } | ApiError::UpstreamError(_) => {
                reason_title = format!("We could not check the details with {}", d.name);
                general.push(e.to_string());
            }
            ApiError::Internal(_) | ApiError::ServiceUnavailable(_) => {
                reason_title = "Something went wrong on our side".into();
                general.push("Nothing was saved. Please try again in a moment.".into());
            }
            other => {
                reason_title = "The system could not be connected".into();
                general.push(other.to_string());
            }
        }
    }
    let fields = d
        .auth_fields
        .iter()
        .map(|f| {
            let error = field_errors
                .iter()
                .find(|(n, _)| n == f.name)
                .map(|(_, m)| m.clone());
            // Secret values are never sent back to the browser.
            let value = if f.secret {
                String::new()
            } else if reauthorize {
                value_of(f.name).unwrap_or_default()
            } else {
                value_of(f.name).unwrap_or_else(|| f.default.unwrap_or_default().to_string())
            };
            let placeholder = if reauthorize {
                Some("Leave blank to keep the current value".to_string())
            } else {
                f.default.map(str::to_string)
            };
            FormField {
                name: f.name.to_string(),
                label: f.label.to_string(),
                secret: f.secret,
                required: f.required && !reauthorize,
                help: f.help.unwrap_or_default().to_string(),
                value,
                placeholder,
                error,
            }
        })
        .collect();
    let chosen = value_of("deployment").and_then(|v| Deployment::parse(&v));
    let deployments = if reauthorize {
        Vec::new()
    } else {
        d.deployments
            .iter()
            .enumerate()
            .map(|(i, dep)| DeploymentChoice {
                value: dep.as_str(),
                label: match dep {
                    Deployment::Cloud => "Cloud",
                    Deployment::OnPremise => "On premise",
                },
                selected: chosen.map_or(i == 0, |c| c == *dep),
            })
            .collect()
    };
    let back_href = (open.session.connectors.len() > 1 && !reauthorize)
        .then(|| format!("/link/{}", open.token));
    let page = FormPage {
        chrome: chrome(&open.session, &open.branding, Some(&open.token)),
        system_name: d.name.to_string(),
        connection_name,
        reauthorize,
        back_href,
        action: format!("/link/{}/connect/{}", open.token, d.id),
        deployments,
        fields,
        reason_title,
        reason: (!general.is_empty()).then(|| general.join(" ")),
    };
    render(status, &page, Some(&open.session))
}

/// `POST /link/{token}/connect/{connector}`: checks the details with the system and completes
/// the session, or shows the form again with the reason.
async fn submit(
    State(state): State<AppState>,
    Path((token, connector)): Path<(String, String)>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let open = match open(&state, &token).await {
        Ok(o) => o,
        Err(page) => return page,
    };
    let Some(d) = offered(&state, &open.session, &connector) else {
        return not_offered(&open);
    };
    let mut credentials = Map::new();
    let mut deployment = None;
    let mut entered: Entered = Vec::new();
    for (k, v) in pairs {
        if let Some(name) = k.strip_prefix("f.") {
            let v = v.trim().to_string();
            // A blank field is left out: the connector's default applies, and a
            // reauthorization keeps the stored value.
            if d.auth_field(name).is_some() && !v.is_empty() {
                credentials.insert(name.to_string(), Value::String(v.clone()));
                entered.push((name.to_string(), v));
            }
        } else if k == "deployment" {
            deployment = Deployment::parse(&v);
            entered.push((k, v));
        }
    }
    // Each submission is a login attempt against the customer's system: a link token must not
    // turn Millwright into a credential-guessing relay (nor lock the customer's account).
    if let Decision::Limited(info) = state.rate_limiter.check(
        &format!("link:{}", open.session.id),
        LINK_SUBMISSIONS_PER_MINUTE,
    ) {
        let e = ApiError::RateLimitExceeded {
            retry_after_secs: info.reset_secs,
        };
        let status = e.parts().0;
        return form_page(&state, &open, d, entered, Some(&e), status).await;
    }
    let submission = LinkSubmission {
        connector: d.id.to_string(),
        deployment,
        credentials,
    };
    match link_sessions::complete_session(&state, &open.session, submission).await {
        Ok(done) => success(&open, d, done, &headers),
        Err(ApiError::LinkSessionClosed(_)) => match self::open(&state, &token).await {
            Err(page) => page,
            // Closed a moment ago by a concurrent request whose effects are now visible.
            Ok(open) => closed(
                StatusCode::GONE,
                Some((&open.session, &open.branding)),
                "This link was already used",
                "Your system is connected.",
            ),
        },
        Err(e) => {
            let status = e.parts().0;
            form_page(&state, &open, d, entered, Some(&e), status).await
        }
    }
}

fn success(
    open: &Open,
    d: &ConnectorDescriptor,
    done: link_sessions::LinkSuccess,
    headers: &HeaderMap,
) -> Response {
    let redirect =
        open.session.redirect_uri.as_deref().map(|uri| {
            link_sessions::redirect_with_token(uri, &done.public_token, &done.session.id)
        });
    // In a frame the token goes to the parent by postMessage; otherwise straight to the
    // redirect URI (303, so the browser follows with a GET and the form is not re-sent).
    let framed = headers
        .get("sec-fetch-dest")
        .is_some_and(|v| v.as_bytes() == b"iframe");
    if let (Some(to), false) = (&redirect, framed) {
        let mut resp = Response::new(axum::body::Body::empty());
        *resp.status_mut() = StatusCode::SEE_OTHER;
        if let Ok(v) = HeaderValue::from_str(to) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        link_headers(&mut resp, Some(&open.session));
        return resp;
    }
    let page = SuccessPage {
        chrome: Chrome {
            cancel_href: None,
            ..chrome(&open.session, &open.branding, Some(&open.token))
        },
        system_name: d.name.to_string(),
        connection_name: done.connection.name.clone(),
        reauthorize: open.session.purpose == LinkPurpose::Reauthorize,
        show_token: redirect.is_none() && open.session.allowed_origins.is_empty(),
        public_token: done.public_token,
        redirect_href: redirect,
    };
    render(StatusCode::OK, &page, Some(&open.session))
}

// --- helpers -----------------------------------------------------------------------------

fn chrome(session: &LinkSession, branding: &Branding, token: Option<&str>) -> Chrome {
    let cancel_href = match (&session.redirect_uri, session.allowed_origins.is_empty()) {
        (Some(uri), _) => Some(cancel_uri(uri, &session.id)),
        (None, false) => Some("#".to_string()),
        (None, true) => None,
    };
    Chrome {
        brand_name: branding.name.clone(),
        logo: branding.logo_data_uri.clone(),
        theme_href: token.map(|t| format!("/link/{t}/theme.css")),
        origins: session.allowed_origins.join(" "),
        session_id: session.id.clone(),
        cancel_href,
    }
}

/// Where Cancel leads without JavaScript: back to the workspace with `error=cancelled`.
fn cancel_uri(redirect_uri: &str, session_id: &str) -> String {
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{sep}error=cancelled&link_session_id={session_id}")
}

fn monogram(name: &str) -> String {
    let words: Vec<&str> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let letters: String = if words.len() >= 2 {
        words
            .iter()
            .take(2)
            .filter_map(|w| w.chars().next())
            .collect()
    } else {
        name.chars()
            .filter(|c| c.is_alphanumeric())
            .take(2)
            .collect()
    };
    letters.to_uppercase()
}

fn category(d: &ConnectorDescriptor) -> &'static str {
    match serde_json::to_value(d.category)
        .ok()
        .as_ref()
        .and_then(Value::as_str)
    {
        Some("cmms") => "CMMS",
        Some("eam") => "EAM",
        Some("erp") => "ERP",
        _ => "",
    }
}

fn closed(
    status: StatusCode,
    session: Option<(&LinkSession, &Branding)>,
    heading: &str,
    message: &str,
) -> Response {
    let chrome = match session {
        Some((s, b)) => chrome(s, b, None),
        None => Chrome {
            brand_name: "Millwright".into(),
            logo: None,
            theme_href: None,
            origins: String::new(),
            session_id: String::new(),
            cancel_href: None,
        },
    };
    let page = ClosedPage {
        chrome,
        heading: heading.into(),
        message: message.into(),
    };
    render(status, &page, session.map(|(s, _)| s))
}

fn failure(e: ApiError) -> Response {
    if let ApiError::Internal(detail) = &e {
        tracing::error!(%detail, "link page failed");
    } else {
        tracing::warn!(error = %e, "link page failed");
    }
    closed(
        StatusCode::SERVICE_UNAVAILABLE,
        None,
        "Something went wrong",
        "Please try again in a moment.",
    )
}

/// Renders a page with the Link headers; framing follows `session`'s allowed origins.
fn render(status: StatusCode, page: &impl Template, session: Option<&LinkSession>) -> Response {
    let html = match page.render() {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "link template failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response();
    link_headers(&mut resp, session);
    resp
}

/// The page may be framed only by the session's allowed origins; forms may go on to the
/// session's redirect URI (a redirect after a form post is checked against `form-action`).
/// Nothing is cached and no referrer leaks the token in the URL.
fn link_headers(resp: &mut Response, session: Option<&LinkSession>) {
    let origins: &[String] = session.map_or(&[], |s| s.allowed_origins.as_slice());
    let mut csp = csp_with_frame_ancestors(origins);
    if let Some(target) = session
        .and_then(|s| s.redirect_uri.as_deref())
        .and_then(origin_of)
    {
        let extended = csp.to_str().unwrap_or_default().replace(
            "form-action 'self'",
            &format!("form-action 'self' {target}"),
        );
        if let Ok(v) = HeaderValue::from_str(&extended) {
            csp = v;
        }
    }
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// The origin of an absolute URL (already validated when the session was created).
fn origin_of(uri: &str) -> Option<String> {
    let u: http::Uri = uri.parse().ok()?;
    link_sessions::normalize_origin(&format!("{}://{}", u.scheme_str()?, u.authority()?)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monograms_and_contrast() {
        assert_eq!(monogram("MaintainX"), "MA");
        assert_eq!(monogram("IBM Maximo (Manage)"), "IM");
        assert_eq!(monogram("SAP S/4HANA"), "SS");
        assert_eq!(contrast_text("#ffffff"), "#111111");
        assert_eq!(contrast_text("#2457d6"), "#ffffff");
        assert_eq!(contrast_text("#ffd400"), "#111111");
    }

    #[test]
    fn origins_of_redirects() {
        assert_eq!(
            origin_of("https://App.example:443/done?x=1").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:9000/cb").as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert_eq!(
            cancel_uri("https://a.example/cb?x=1", "lks_1"),
            "https://a.example/cb?x=1&error=cancelled&link_session_id=lks_1"
        );
    }
}
