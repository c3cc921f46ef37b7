//! Link (issue #7): sessions through the API, the end-user flow driven through its HTML forms
//! as a browser without JavaScript would, the one-time public-token exchange, expiry, allowed
//! connectors, reauthorization, framing headers and branding.

use std::time::Duration;

use millwright_core::{
    ids::{new_id, prefix},
    secrets, time,
};
use millwright_store::{
    LinkCompletion, LinkOutcome, LinkPurpose, NewConnection, NewEvent, NewLinkSession,
};
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{assert_error, connect_synced, send, Backend, TestEnv, Workspace, SIM_KEY};

/// A browser-like client: no redirects followed, so a 303 to `redirect_uri` can be checked.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn create_session(env: &TestEnv, ws: &Workspace, body: Value) -> Value {
    let (status, created) = env
        .call(Method::POST, "/api/v1/link-sessions", &ws.key, Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

struct Page {
    status: StatusCode,
    headers: header::HeaderMap,
    body: String,
}

async fn get_page(env: &TestEnv, path: &str) -> Page {
    page(
        browser()
            .get(format!("{}{path}", env.base))
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn page(r: reqwest::Response) -> Page {
    Page {
        status: r.status(),
        headers: r.headers().clone(),
        body: r.text().await.unwrap(),
    }
}

/// Posts the Link form of `connector` with these fields (names of the connector's auth fields).
async fn submit(
    env: &TestEnv,
    token: &str,
    connector: &str,
    fields: &[(&str, &str)],
    extra_headers: &[(&str, &str)],
) -> Page {
    let form: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| (format!("f.{k}"), v.to_string()))
        .collect();
    let mut r = browser()
        .post(format!("{}/link/{token}/connect/{connector}", env.base))
        .form(&form);
    for (k, v) in extra_headers {
        r = r.header(*k, *v);
    }
    page(r.send().await.unwrap()).await
}

/// The public token a success page carries for the embedding page's script.
fn public_token_of(html: &str) -> String {
    let start = html
        .find("data-public-token=\"")
        .unwrap_or_else(|| panic!("no public token in the page: {html}"))
        + "data-public-token=\"".len();
    let end = html[start..].find('"').unwrap() + start;
    let token = html[start..end].to_string();
    assert!(token.starts_with("mw_pt_"), "{token}");
    token
}

fn csp(p: &Page) -> String {
    p.headers
        .get(header::CONTENT_SECURITY_POLICY)
        .expect("every Link page has a CSP")
        .to_str()
        .unwrap()
        .to_string()
}

async fn exchange(env: &TestEnv, ws: &Workspace, public_token: &str) -> (StatusCode, Value) {
    env.call(
        Method::POST,
        "/api/v1/link-sessions/exchange",
        &ws.key,
        Some(json!({"public_token": public_token})),
    )
    .await
}

async fn connection_count(env: &TestEnv, ws: &Workspace) -> usize {
    let (_, list) = env
        .call(Method::GET, "/api/v1/connections", &ws.key, None)
        .await;
    list["data"].as_array().unwrap().len()
}

#[tokio::test]
async fn sessions_are_created_listed_and_validated() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let other = env.workspace(10).await;

    let plain = create_session(&env, &ws, json!({})).await;
    let id = plain["id"].as_str().unwrap();
    assert!(id.starts_with("lks_"), "{plain}");
    let token = plain["link_token"].as_str().unwrap();
    assert!(token.starts_with("mw_lt_"), "{plain}");
    assert_eq!(plain["url"], format!("{}/link/{token}", env.base));
    assert_eq!(plain["status"], "pending");
    assert_eq!(plain["purpose"], "create");
    assert_eq!(
        plain["connectors"],
        json!(["maintainx", "maximo", "sap_s4hana", "tryton"])
    );
    let expires = chrono::DateTime::parse_from_rfc3339(plain["expires_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let in_an_hour = time::now() + chrono::Duration::hours(1);
    assert!(
        (expires - in_an_hour).num_seconds().abs() < 60,
        "default expiry is one hour: {expires}"
    );

    let magic = create_session(
        &env,
        &ws,
        json!({
            "connectors": ["maintainx"],
            "name": "Plant 7 CMMS",
            "metadata": {"customer": "acme"},
            "redirect_uri": "https://app.example/link/done?x=1",
            "allowed_origins": ["HTTPS://App.Example", "http://127.0.0.1:5173/"],
            "expires_in": 30 * 24 * 3600
        }),
    )
    .await;
    assert_eq!(magic["connectors"], json!(["maintainx"]));
    assert_eq!(
        magic["allowed_origins"],
        json!(["https://app.example", "http://127.0.0.1:5173"]),
        "origins are normalised"
    );
    assert_eq!(magic["metadata"], json!({"customer": "acme"}));

    let bad = env
        .call(
            Method::POST,
            "/api/v1/link-sessions",
            &ws.key,
            Some(json!({
                "connectors": ["maintainx", "nope"],
                "redirect_uri": "javascript:alert(1)",
                "allowed_origins": ["*"],
                "expires_in": 31 * 24 * 3600,
                "connection_id": "con_missing"
            })),
        )
        .await;
    assert_error(&bad, 422, "VALIDATION_FAILED", "invalid_request_error");
    let fields: Vec<&str> = bad.1["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    for f in [
        "connectors[1]",
        "redirect_uri",
        "allowed_origins[0]",
        "expires_in",
        "connection_id",
    ] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let unknown_field = env
        .call(
            Method::POST,
            "/api/v1/link-sessions",
            &ws.key,
            Some(json!({"color": "red"})),
        )
        .await;
    assert_error(
        &unknown_field,
        422,
        "VALIDATION_FAILED",
        "invalid_request_error",
    );

    let (status, list) = env
        .call(Method::GET, "/api/v1/link-sessions", &ws.key, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![magic["id"].as_str().unwrap(), id], "newest first");
    assert!(
        list["data"][0].get("link_token").is_none() && list["data"][0].get("url").is_none(),
        "the link token is shown once"
    );
    let (_, page1) = env
        .call(
            Method::GET,
            "/api/v1/link-sessions?page_size=1",
            &ws.key,
            None,
        )
        .await;
    let cursor = page1["next_cursor"].as_str().unwrap();
    let (_, page2) = env
        .call(
            Method::GET,
            &format!("/api/v1/link-sessions?page_size=1&cursor={cursor}"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(page2["data"][0]["id"], id);
    assert_eq!(page2["next_cursor"], Value::Null);
    let bad_status = env
        .call(
            Method::GET,
            "/api/v1/link-sessions?status=sleeping",
            &ws.key,
            None,
        )
        .await;
    assert_error(&bad_status, 400, "INVALID_REQUEST", "invalid_request_error");

    let (status, one) = env
        .call(
            Method::GET,
            &format!("/api/v1/link-sessions/{id}"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["id"], id);
    let foreign = env
        .call(
            Method::GET,
            &format!("/api/v1/link-sessions/{id}"),
            &other.key,
            None,
        )
        .await;
    assert_error(&foreign, 404, "NOT_FOUND", "not_found_error");
    let (_, other_list) = env
        .call(Method::GET, "/api/v1/link-sessions", &other.key, None)
        .await;
    assert_eq!(other_list["data"], json!([]));
}

#[tokio::test]
async fn the_link_form_connects_maintainx_and_the_public_token_works_once_sqlite() {
    the_link_form_connects_maintainx_and_the_public_token_works_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_link_form_connects_maintainx_and_the_public_token_works_once_postgres() {
    the_link_form_connects_maintainx_and_the_public_token_works_once(Backend::Postgres).await;
}

async fn the_link_form_connects_maintainx_and_the_public_token_works_once(backend: Backend) {
    let env = TestEnv::start_with(backend, |_| {}).await;
    let ws = env.workspace(10).await;
    let created = create_session(
        &env,
        &ws,
        json!({"connectors": ["maintainx", "maximo"], "metadata": {"customer": "acme"}}),
    )
    .await;
    let token = created["link_token"].as_str().unwrap();
    let session_id = created["id"].as_str().unwrap();

    let start = get_page(&env, &format!("/link/{token}")).await;
    assert_eq!(start.status, StatusCode::OK);
    assert!(start.body.contains("MaintainX") && start.body.contains("IBM Maximo"));
    assert!(!start.body.contains("SAP"), "only the session's connectors");
    assert!(start
        .body
        .contains(&format!("/link/{token}/connect/maintainx")));
    assert!(csp(&start).contains("frame-ancestors 'none'"));
    assert_eq!(start.headers.get(header::X_FRAME_OPTIONS).unwrap(), "DENY");
    assert_eq!(
        start.headers.get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    assert!(
        start.headers.get(header::SET_COOKIE).is_none(),
        "no cookies"
    );
    assert!(!start.body.contains("<script>"), "no inline scripts");

    let form = get_page(&env, &format!("/link/{token}/connect/maintainx")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("API key"));
    assert!(
        form.body.contains("type=\"password\""),
        "secrets are masked"
    );
    assert!(
        form.body.contains("value=\"https://api.getmaintainx.com\""),
        "the default instance URL is filled in"
    );

    // A wrong key: the form comes back with MaintainX's own reason and nothing is created.
    let sim = env.sim.base_url();
    let wrong = submit(
        &env,
        token,
        "maintainx",
        &[("base_url", &sim), ("api_key", "not-the-key")],
        &[],
    )
    .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.body
    );
    assert!(
        wrong
            .body
            .contains("MaintainX did not accept these details"),
        "{}",
        wrong.body
    );
    assert!(
        wrong
            .body
            .contains("the source system rejected the credentials: "),
        "{}",
        wrong.body
    );
    assert!(
        wrong.body.contains(&format!("value=\"{sim}\"")),
        "typed values are kept"
    );
    assert!(
        !wrong.body.contains("not-the-key"),
        "secrets are never sent back"
    );
    assert_eq!(connection_count(&env, &ws).await, 0);

    // A missing key is named next to its field.
    let missing = submit(&env, token, "maintainx", &[("base_url", &sim)], &[]).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        missing.body.contains("id=\"f-api_key-error\""),
        "{}",
        missing.body
    );
    assert!(missing.body.contains("is required"));

    let ok = submit(
        &env,
        token,
        "maintainx",
        &[("base_url", &sim), ("api_key", SIM_KEY)],
        &[],
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.body.contains("MaintainX connected"));
    let public_token = public_token_of(&ok.body);
    assert!(
        ok.body
            .contains(&format!("<code class=\"token\">{public_token}</code>")),
        "without redirect or embedding the code is shown to copy"
    );

    // The session is spent: its page says so.
    let used = get_page(&env, &format!("/link/{token}")).await;
    assert_eq!(used.status, StatusCode::GONE);
    assert!(used.body.contains("already used"));
    let again = submit(
        &env,
        token,
        "maintainx",
        &[("base_url", &sim), ("api_key", SIM_KEY)],
        &[],
    )
    .await;
    assert_eq!(again.status, StatusCode::GONE);
    assert_eq!(connection_count(&env, &ws).await, 1);

    let (_, session) = env
        .call(
            Method::GET,
            &format!("/api/v1/link-sessions/{session_id}"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(session["status"], "completed");
    let con = session["connection_id"].as_str().unwrap().to_string();

    // Two exchanges at once: exactly one gets the connection and its token.
    let (a, b) = tokio::join!(
        exchange(&env, &ws, &public_token),
        exchange(&env, &ws, &public_token)
    );
    let (won, lost) = if a.0 == StatusCode::OK {
        (a, b)
    } else {
        (b, a)
    };
    assert_error(&lost, 400, "PUBLIC_TOKEN_INVALID", "invalid_request_error");
    let (status, exchanged) = won;
    assert_eq!(status, StatusCode::OK, "{exchanged}");
    assert_eq!(exchanged["connection"]["id"], con);
    assert_eq!(exchanged["connection"]["connector"], "maintainx");
    assert_eq!(exchanged["connection"]["name"], "MaintainX");
    assert_eq!(
        exchanged["connection"]["metadata"],
        json!({"customer": "acme"})
    );
    assert_eq!(exchanged["purpose"], "create");
    assert_eq!(exchanged["link_session_id"], session_id);
    let access_token = exchanged["access_token"].as_str().unwrap().to_string();
    assert!(access_token.starts_with("mw_ct_"));

    // The token works, and the connection syncs like any other.
    crate::sync::initial_sync_done(&env, &access_token).await;
    let (status, wos) = env
        .call(Method::GET, "/api/v1/work-orders", &access_token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!wos["data"].as_array().unwrap().is_empty(), "{wos}");

    let second = exchange(&env, &ws, &public_token).await;
    assert_error(
        &second,
        400,
        "PUBLIC_TOKEN_INVALID",
        "invalid_request_error",
    );
    assert!(second.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("already exchanged"));
    let (_, session) = env
        .call(
            Method::GET,
            &format!("/api/v1/link-sessions/{session_id}"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(session["status"], "exchanged");

    let (_, events) = env
        .call(
            Method::GET,
            &format!("/api/v1/events?type=connection.created&connection_id={con}"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(events["data"].as_array().unwrap().len(), 1);
    let (_, credits) = env
        .call(Method::GET, "/api/v1/credits", &ws.key, None)
        .await;
    assert_eq!(credits["used"], 1);

    // Another workspace cannot exchange anything of this one's.
    let other = env.workspace(10).await;
    let foreign = exchange(&env, &other, &public_token).await;
    assert_error(
        &foreign,
        400,
        "PUBLIC_TOKEN_INVALID",
        "invalid_request_error",
    );
}

#[tokio::test]
async fn unknown_expired_and_malformed_tokens_are_refused() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;

    let unknown = get_page(&env, &format!("/link/{}", secrets::new_link_token())).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.body.contains("This link is not valid"));
    assert!(csp(&unknown).contains("frame-ancestors 'none'"));
    assert_eq!(
        get_page(&env, "/link/garbage").await.status,
        StatusCode::NOT_FOUND
    );

    // A session past its expiry (written through the store: an hour is long to wait).
    let link_token = secrets::new_link_token();
    let now = time::now();
    env.store()
        .create_link_session(NewLinkSession {
            id: new_id(prefix::LINK_SESSION),
            workspace_id: ws.id.clone(),
            link_token_hash: secrets::hash_token(&link_token),
            purpose: LinkPurpose::Create,
            connectors: vec!["maintainx".into()],
            name: None,
            metadata: json!({}),
            redirect_uri: None,
            allowed_origins: vec!["https://app.example".into()],
            connection_id: None,
            expires_at: now - chrono::Duration::seconds(1),
            created_at: now - chrono::Duration::hours(1),
        })
        .await
        .unwrap();
    let expired = get_page(&env, &format!("/link/{link_token}")).await;
    assert_eq!(expired.status, StatusCode::GONE);
    assert!(expired.body.contains("This link has expired"));
    assert!(
        csp(&expired).contains("frame-ancestors https://app.example"),
        "the expiry page shows inside the embedding page"
    );
    let sim = env.sim.base_url();
    let refused = submit(
        &env,
        &link_token,
        "maintainx",
        &[("base_url", &sim), ("api_key", SIM_KEY)],
        &[],
    )
    .await;
    assert_eq!(refused.status, StatusCode::GONE);
    assert_eq!(connection_count(&env, &ws).await, 0);
    let (_, listed) = env
        .call(
            Method::GET,
            "/api/v1/link-sessions?status=expired",
            &ws.key,
            None,
        )
        .await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["data"][0]["status"], "expired");

    // Public tokens: malformed, unknown, and past their own (short) expiry.
    let malformed = exchange(&env, &ws, "not-a-token").await;
    assert_error(
        &malformed,
        400,
        "PUBLIC_TOKEN_INVALID",
        "invalid_request_error",
    );
    let unknown = exchange(&env, &ws, &secrets::new_public_token()).await;
    assert_error(
        &unknown,
        400,
        "PUBLIC_TOKEN_INVALID",
        "invalid_request_error",
    );

    let session = env
        .store()
        .create_link_session(NewLinkSession {
            id: new_id(prefix::LINK_SESSION),
            link_token_hash: secrets::hash_token(&secrets::new_link_token()),
            expires_at: now + chrono::Duration::hours(1),
            created_at: now,
            allowed_origins: vec![],
            workspace_id: ws.id.clone(),
            purpose: LinkPurpose::Create,
            connectors: vec!["maintainx".into()],
            name: None,
            metadata: json!({}),
            redirect_uri: None,
            connection_id: None,
        })
        .await
        .unwrap();
    let public_token = secrets::new_public_token();
    let con = new_id(prefix::CONNECTION);
    env.store()
        .complete_link_session(LinkCompletion {
            session_id: session.id.clone(),
            workspace_id: ws.id.clone(),
            public_token_hash: secrets::hash_token(&public_token),
            public_token_expires_at: now - chrono::Duration::seconds(1),
            outcome: LinkOutcome::Create {
                connection: Box::new(NewConnection {
                    id: con.clone(),
                    workspace_id: ws.id.clone(),
                    connector: "maintainx".into(),
                    deployment: millwright_core::credits::Deployment::Cloud,
                    name: "MaintainX".into(),
                    status: millwright_core::status::ConnectionStatus::Pending,
                    credits: 1,
                    metadata: json!({}),
                    sealed_credentials: vec![0; 8],
                    sync_settings: json!({}),
                    field_mappings: json!({}),
                    created_at: now,
                }),
                event: NewEvent {
                    id: new_id(prefix::EVENT),
                    workspace_id: ws.id.clone(),
                    connection_id: Some(con.clone()),
                    event_type: "connection.created".into(),
                    data: json!({}),
                    created_at: now,
                },
            },
            now,
        })
        .await
        .unwrap();
    let stale = exchange(&env, &ws, &public_token).await;
    assert_error(&stale, 400, "PUBLIC_TOKEN_EXPIRED", "invalid_request_error");
}

#[tokio::test]
async fn only_the_sessions_connectors_are_offered() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let created = create_session(&env, &ws, json!({"connectors": ["maximo"]})).await;
    let token = created["link_token"].as_str().unwrap();

    // One system: straight to its form.
    let start = get_page(&env, &format!("/link/{token}")).await;
    assert_eq!(start.status, StatusCode::OK);
    assert!(start.body.contains("Connect IBM Maximo"), "{}", start.body);
    assert!(!start.body.contains("MaintainX"));

    let not_offered = get_page(&env, &format!("/link/{token}/connect/maintainx")).await;
    assert_eq!(not_offered.status, StatusCode::NOT_FOUND);
    let sim = env.sim.base_url();
    let forged = submit(
        &env,
        token,
        "maintainx",
        &[("base_url", &sim), ("api_key", SIM_KEY)],
        &[],
    )
    .await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);
    assert_eq!(connection_count(&env, &ws).await, 0);
    let (_, session) = env
        .call(
            Method::GET,
            &format!("/api/v1/link-sessions/{}", created["id"].as_str().unwrap()),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(session["status"], "pending");
}

#[tokio::test]
async fn framing_redirects_and_branding() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let logo = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

    // Branding is validated, then shown on Link pages.
    let bad = env
        .call(
            Method::PATCH,
            "/api/v1/workspace",
            &ws.key,
            Some(json!({"name": "", "branding": {"accent_color": "blue", "logo_data_uri": "https://cdn.example/logo.png"}})),
        )
        .await;
    assert_error(&bad, 422, "VALIDATION_FAILED", "invalid_request_error");
    let fields: Vec<&str> = bad.1["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["name", "branding.accent_color", "branding.logo_data_uri"]
    );
    let (status, patched) = env
        .call(
            Method::PATCH,
            "/api/v1/workspace",
            &ws.key,
            Some(json!({"name": "Acme Analytics", "branding": {"accent_color": "#FFD400", "logo_data_uri": logo}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["name"], "Acme Analytics");
    assert_eq!(patched["branding"]["accent_color"], "#ffd400");
    let (_, got) = env
        .call(Method::GET, "/api/v1/workspace", &ws.key, None)
        .await;
    assert_eq!(got["branding"]["logo_data_uri"], logo);
    assert_eq!(got["id"], ws.id);

    let created = create_session(
        &env,
        &ws,
        json!({
            "connectors": ["maintainx"],
            "redirect_uri": "https://app.example/link/done?x=1",
            "allowed_origins": ["https://app.example", "http://127.0.0.1:5173"]
        }),
    )
    .await;
    let token = created["link_token"].as_str().unwrap();
    let session_id = created["id"].as_str().unwrap();
    let form = get_page(&env, &format!("/link/{token}")).await;
    assert_eq!(form.status, StatusCode::OK);
    let policy = csp(&form);
    assert!(
        policy.contains("frame-ancestors https://app.example http://127.0.0.1:5173"),
        "{policy}"
    );
    assert!(
        policy.contains("form-action 'self' https://app.example"),
        "{policy}"
    );
    assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"));
    assert!(form.headers.get(header::X_FRAME_OPTIONS).is_none());
    assert!(form.body.contains("Acme Analytics"));
    assert!(
        form.body.contains(&format!("src=\"{logo}\"")),
        "the logo is shown"
    );
    assert!(form
        .body
        .contains("data-origins=\"https://app.example http://127.0.0.1:5173\""));
    assert!(form
        .body
        .contains(&format!("href=\"/link/{token}/theme.css\"")));
    let theme = get_page(&env, &format!("/link/{token}/theme.css")).await;
    assert_eq!(theme.status, StatusCode::OK);
    assert!(
        theme.body.contains("--mw-accent: #ffd400"),
        "{}",
        theme.body
    );
    assert!(
        theme.body.contains("--mw-accent-text: #111111"),
        "dark text on yellow"
    );
    let js = get_page(&env, "/link/assets/link.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.body.contains("millwright.link.success") && !js.body.contains("\"*\""));

    // Embedded (the browser says so): the success page posts the token to the parent and
    // shows no code to copy.
    let sim = env.sim.base_url();
    let framed = submit(
        &env,
        token,
        "maintainx",
        &[("base_url", &sim), ("api_key", SIM_KEY)],
        &[("sec-fetch-dest", "iframe")],
    )
    .await;
    assert_eq!(framed.status, StatusCode::OK, "{}", framed.body);
    let public_token = public_token_of(&framed.body);
    assert!(!framed.body.contains("<code class=\"token\">"));
    assert!(csp(&framed).contains("frame-ancestors https://app.example"));
    let (status, _) = exchange(&env, &ws, &public_token).await;
    assert_eq!(status, StatusCode::OK);

    // Top-level: straight to the redirect URI with the token and the session id.
    let created = create_session(
        &env,
        &ws,
        json!({"connectors": ["maintainx"], "redirect_uri": "https://app.example/link/done?x=1"}),
    )
    .await;
    let token = created["link_token"].as_str().unwrap();
    let top = submit(
        &env,
        token,
        "maintainx",
        &[("base_url", &sim), ("api_key", SIM_KEY)],
        &[("sec-fetch-dest", "document")],
    )
    .await;
    assert_eq!(top.status, StatusCode::SEE_OTHER, "{}", top.body);
    let location = top.headers.get(header::LOCATION).unwrap().to_str().unwrap();
    let prefix = "https://app.example/link/done?x=1&public_token=mw_pt_";
    assert!(location.starts_with(prefix), "{location}");
    assert!(location.ends_with(&format!(
        "&link_session_id={}",
        created["id"].as_str().unwrap()
    )));
    assert_ne!(session_id, created["id"].as_str().unwrap());
    let public_token = location[prefix.len() - "mw_pt_".len()..]
        .split('&')
        .next()
        .unwrap();
    let (status, body) = exchange(&env, &ws, public_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Cancel without JavaScript goes back to the redirect URI.
    let created = create_session(
        &env,
        &ws,
        json!({"connectors": ["maintainx"], "redirect_uri": "https://app.example/cb"}),
    )
    .await;
    let start = get_page(
        &env,
        &format!("/link/{}", created["link_token"].as_str().unwrap()),
    )
    .await;
    assert!(
        start.body.contains(&format!(
            "href=\"https://app.example/cb?error=cancelled&#38;link_session_id={}\"",
            created["id"].as_str().unwrap()
        )),
        "{}",
        start.body
    );
}

#[tokio::test]
async fn reauthorization_through_link_keeps_the_connection_and_its_token() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let mut body = env.maintainx_body("Plant 7");
    body["sync"] = json!({"history_days": 3650});
    let (con, token) = connect_synced(&env, &ws, body).await;
    let (_, before) = env
        .call(Method::GET, "/api/v1/work-orders", &token, None)
        .await;
    let work_orders = before["data"].as_array().unwrap().len();
    assert!(work_orders > 0);

    // The customer rotates their key; the next sync finds out.
    env.sim_control("credentials", json!({"api_key": "rotated-by-customer"}))
        .await;
    env.call(
        Method::POST,
        "/api/v1/sync",
        &token,
        Some(json!({"entities": ["users"]})),
    )
    .await;
    let mut status = String::new();
    for _ in 0..300 {
        let (_, c) = env
            .call(
                Method::GET,
                &format!("/api/v1/connections/{con}"),
                &ws.key,
                None,
            )
            .await;
        status = c["status"].as_str().unwrap().to_string();
        if status == "requires_reauthorization" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "requires_reauthorization");

    // A reauthorization session offers the connection's system only, and keeps its name.
    let refused = env
        .call(
            Method::POST,
            "/api/v1/link-sessions",
            &ws.key,
            Some(json!({"connection_id": con, "connectors": ["maximo"], "name": "x"})),
        )
        .await;
    assert_error(&refused, 422, "VALIDATION_FAILED", "invalid_request_error");
    let created = create_session(&env, &ws, json!({"connection_id": con})).await;
    assert_eq!(created["purpose"], "reauthorize");
    assert_eq!(created["connectors"], json!(["maintainx"]));
    assert_eq!(created["connection_id"], con);
    let link = created["link_token"].as_str().unwrap();

    let form = get_page(&env, &format!("/link/{link}")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Reconnect MaintainX"), "{}", form.body);
    assert!(form.body.contains("Plant 7"));
    assert!(form.body.contains("Leave blank to keep the current value"));

    // The old key is refused with the source's reason; the new one is accepted, the stored
    // instance URL kept.
    let old = submit(&env, link, "maintainx", &[("api_key", SIM_KEY)], &[]).await;
    assert_eq!(old.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(old.body.contains("did not accept these details"));
    let ok = submit(
        &env,
        link,
        "maintainx",
        &[("api_key", "rotated-by-customer")],
        &[],
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.body.contains("MaintainX reconnected"));
    let public_token = public_token_of(&ok.body);

    let (_, c) = env
        .call(
            Method::GET,
            &format!("/api/v1/connections/{con}"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(c["status"], "active");
    let (_, events) = env
        .call(
            Method::GET,
            &format!("/api/v1/events?type=connection.reauthorized&connection_id={con}"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(events["data"].as_array().unwrap().len(), 1);

    // Same connection, same token, same data.
    let (status, after) = env
        .call(Method::GET, "/api/v1/work-orders", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(after["data"].as_array().unwrap().len(), work_orders);
    assert_eq!(connection_count(&env, &ws).await, 1);

    let (status, exchanged) = exchange(&env, &ws, &public_token).await;
    assert_eq!(status, StatusCode::OK, "{exchanged}");
    assert_eq!(exchanged["connection"]["id"], con);
    assert_eq!(
        exchanged["access_token"],
        Value::Null,
        "the connection keeps its token"
    );
    assert_eq!(exchanged["purpose"], "reauthorize");
    let r = send(env.req(Method::GET, "/api/v1/connection", &token)).await;
    assert_eq!(r.0, StatusCode::OK);

    // A disconnected connection cannot be reauthorized through Link.
    env.call(
        Method::POST,
        &format!("/api/v1/connections/{con}/disconnect"),
        &ws.key,
        None,
    )
    .await;
    let gone = env
        .call(
            Method::POST,
            "/api/v1/link-sessions",
            &ws.key,
            Some(json!({"connection_id": con})),
        )
        .await;
    assert_error(&gone, 409, "CONNECTION_DISCONNECTED", "conflict_error");
}

#[tokio::test]
async fn the_link_token_never_reaches_the_request_log() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let resp = env
        .req(Method::POST, "/api/v1/link-sessions", &ws.key)
        .json(&json!({"connectors": ["maintainx"]}))
        .send()
        .await
        .unwrap();
    let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    let created: Value = resp.json().await.unwrap();
    let token = created["link_token"].as_str().unwrap();
    let mut logged = Value::Null;
    for _ in 0..100 {
        let (status, body) = env
            .call(
                Method::GET,
                &format!("/api/v1/request-logs/{request_id}"),
                &ws.key,
                None,
            )
            .await;
        if status == StatusCode::OK {
            logged = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!logged.is_null(), "the request was logged");
    let text = logged.to_string();
    assert!(text.contains("link-sessions"), "{text}");
    assert!(!text.contains(token), "{text}");
}

/// A link token cannot be used to guess credentials: after 10 submissions in a minute the form
/// answers 429 without calling the source system.
#[tokio::test]
async fn credential_submissions_per_session_are_limited() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let created = create_session(&env, &ws, json!({"connectors": ["maintainx"]})).await;
    let token = created["link_token"].as_str().unwrap();
    let sim = env.sim.base_url();
    // The limit counts per fixed minute: start early in one so all 11 submissions share it.
    let second = chrono::Utc::now().timestamp() % 60;
    if second > 40 {
        tokio::time::sleep(Duration::from_secs((61 - second) as u64)).await;
    }
    let stats = || async {
        reqwest::get(format!("{sim}/__sim/stats"))
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    for attempt in 1..=10 {
        let wrong = submit(
            &env,
            token,
            "maintainx",
            &[("base_url", sim.as_str()), ("api_key", "guess")],
            &[],
        )
        .await;
        assert_eq!(
            wrong.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "attempt {attempt}"
        );
    }
    let before = stats().await;
    let limited = submit(
        &env,
        token,
        "maintainx",
        &[("base_url", sim.as_str()), ("api_key", "sim-maintainx-key")],
        &[],
    )
    .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        limited.body.contains("rate limit exceeded"),
        "{}",
        limited.body
    );
    assert_eq!(stats().await, before, "no call reached the source");
    assert_eq!(connection_count(&env, &ws).await, 0);
}
