//! The dashboard through HTTP as a browser uses it: sign-in and lock-out, cookies, CSRF,
//! session fixation, cross-workspace refusals, framing headers on every page, and the main
//! actions against a real synced connection.

use std::collections::BTreeMap;
use std::time::Duration;

use millwright::admin;
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{assert_error, connect_synced, Backend, TestEnv, Workspace};
use crate::webhooks::Receiver;

const PASSWORD: &str = "correct horse battery";

/// A browser without JavaScript: keeps cookies (by name; `Max-Age=0` deletes), never follows
/// redirects (tests look at them), and sends `Origin` on POSTs as browsers do.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: BTreeMap<String, String>,
    /// `Set-Cookie` lines of the last response.
    last_set_cookie: Vec<String>,
}

struct Page {
    status: StatusCode,
    headers: header::HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

impl Browser {
    fn new(env: &TestEnv) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            base: env.base.clone(),
            cookies: BTreeMap::new(),
            last_set_cookie: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, r: reqwest::RequestBuilder) -> Page {
        let r = if self.cookies.is_empty() {
            r
        } else {
            r.header(header::COOKIE, self.cookie_header())
        };
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        self.last_set_cookie.clear();
        for v in headers.get_all(header::SET_COOKIE) {
            let line = v.to_str().unwrap().to_string();
            let (pair, attrs) = line.split_once(';').unwrap_or((&line, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
            self.last_set_cookie.push(line);
        }
        let body = resp.text().await.unwrap();
        Page {
            status,
            headers,
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let r = self.http.get(format!("{}{path}", self.base));
        self.send(r).await
    }

    async fn post_with(&mut self, path: &str, form: &[(&str, &str)], origin: &str) -> Page {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header(header::ORIGIN, origin)
            .form(form);
        self.send(r).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let origin = self.base.clone();
        self.post_with(path, form, &origin).await
    }

    /// GETs `page` and POSTs `form` to `action` with the page's CSRF token.
    async fn submit(&mut self, page: &str, action: &str, form: &[(&str, &str)]) -> Page {
        let p = self.get(page).await;
        assert_eq!(p.status, StatusCode::OK, "{page}: {}", p.body);
        let token = csrf_of(&p.body);
        let mut fields = vec![("csrf", token.as_str())];
        fields.extend_from_slice(form);
        self.post(action, &fields).await
    }

    async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        self.submit(
            "/dashboard/login",
            "/dashboard/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    fn session(&self) -> Option<&String> {
        self.cookies.get("mw_session")
    }
}

/// The CSRF token in a page's forms.
fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("the page has a form with a CSRF token");
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

async fn user(env: &TestEnv, ws: &Workspace, email: &str) {
    admin::create_user(env.store(), &ws.id, email, PASSWORD)
        .await
        .unwrap();
}

async fn signed_in(env: &TestEnv, ws: &Workspace, email: &str) -> Browser {
    user(env, ws, email).await;
    let mut b = Browser::new(env);
    let p = b.sign_in(email, PASSWORD).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location(), "/dashboard/connections");
    b
}

async fn connection_status(env: &TestEnv, ws: &Workspace, id: &str) -> String {
    let (_, c) = env
        .call(
            Method::GET,
            &format!("/api/v1/connections/{id}"),
            &ws.key,
            None,
        )
        .await;
    c["status"].as_str().unwrap().to_string()
}

fn assert_framing_denied(p: &Page, what: &str) {
    assert_eq!(
        p.headers
            .get(header::X_FRAME_OPTIONS)
            .map(|v| v.to_str().unwrap()),
        Some("DENY"),
        "{what}"
    );
    let csp = p
        .headers
        .get(header::CONTENT_SECURITY_POLICY)
        .expect("a CSP")
        .to_str()
        .unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
}

#[tokio::test]
async fn sign_in_sign_out_and_cookie_attributes() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    user(&env, &ws, "ops@example.com").await;
    let mut b = Browser::new(&env);

    for path in ["/dashboard", "/dashboard/connections", "/dashboard/credits"] {
        let p = b.get(path).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(p.location(), "/dashboard/login", "{path}");
    }
    // Signed out, an action is refused by the redirect and changes nothing.
    let p = b.post("/dashboard/logout", &[("csrf", "x")]).await;
    assert_eq!(p.location(), "/dashboard/login");

    let p = b.sign_in("ops@example.com", "wrong password").await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(p.body.contains("The e-mail or password is wrong."));
    assert!(b.session().is_none());

    // The address is compared case-insensitively.
    let p = b.sign_in("OPS@example.com", PASSWORD).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let set = b
        .last_set_cookie
        .iter()
        .find(|c| c.starts_with("mw_session="))
        .expect("a session cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/dashboard"] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(!set.contains("Secure"), "served over http: {set}");
    let secret = b.session().unwrap().clone();
    assert_eq!(secret.len(), 64);

    let p = b.get("/dashboard").await;
    assert_eq!(p.location(), "/dashboard/connections");
    let p = b.get("/dashboard/connections").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("ops@example.com"));
    assert_eq!(p.headers[header::CACHE_CONTROL], "no-store");
    // Signed in, the login page sends you on.
    assert_eq!(
        b.get("/dashboard/login").await.location(),
        "/dashboard/connections"
    );

    let p = b
        .submit("/dashboard/connections", "/dashboard/logout", &[])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location(), "/dashboard/login");
    assert!(b.session().is_none(), "the cookie is cleared");
    assert!(b
        .get("/dashboard/login")
        .await
        .body
        .contains("You are signed out."));
    // The old cookie no longer works: the session was revoked on the server.
    b.cookies.insert("mw_session".into(), secret);
    assert_eq!(
        b.get("/dashboard/connections").await.location(),
        "/dashboard/login"
    );
}

#[tokio::test]
async fn cookies_are_secure_when_served_over_https() {
    let env = TestEnv::start_with(Backend::Sqlite, |c| {
        c.public_url = Some("https://millwright.example".into())
    })
    .await;
    let ws = env.workspace(10).await;
    user(&env, &ws, "ops@example.com").await;
    let mut b = Browser::new(&env);
    b.get("/dashboard/login").await;
    assert!(
        b.last_set_cookie.iter().all(|c| c.contains("; Secure")),
        "{:?}",
        b.last_set_cookie
    );
    // The form's Origin is this host (a proxy would terminate TLS in front of it).
    b.sign_in("ops@example.com", PASSWORD).await;
    let set = b
        .last_set_cookie
        .iter()
        .find(|c| c.starts_with("mw_session="))
        .expect("a session cookie");
    assert!(set.contains("; Secure"), "{set}");
}

#[tokio::test]
async fn five_failures_lock_the_address_without_revealing_it_exists() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    user(&env, &ws, "ops@example.com").await;
    let mut b = Browser::new(&env);
    for email in ["ops@example.com", "nobody@example.com"] {
        for i in 1..=5 {
            let p = b.sign_in(email, "guess").await;
            if i < 5 {
                assert_eq!(p.status, StatusCode::UNAUTHORIZED, "{email} #{i}");
                assert!(p.body.contains("The e-mail or password is wrong."));
            } else {
                assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS, "{email} #{i}");
                assert!(p.body.contains("Too many failed sign-ins"), "{}", p.body);
                assert!(p.body.contains("15 minutes"), "{}", p.body);
            }
        }
        // Locked: even the right password is not tried.
        let p = b.sign_in(email, PASSWORD).await;
        assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS, "{email}");
        assert!(b.session().is_none());
    }
    // Another address is not affected.
    user(&env, &ws, "other@example.com").await;
    let p = b.sign_in("other@example.com", PASSWORD).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn csrf_missing_wrong_or_cross_site_is_refused_and_changes_nothing() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let (con, _) = env.connect(&ws, "CSRF target").await;
    let mut b = signed_in(&env, &ws, "ops@example.com").await;
    let action = format!("/dashboard/connections/{con}/disconnect");
    let page = b.get(&format!("/dashboard/connections/{con}")).await;
    let token = csrf_of(&page.body);

    let mut other = signed_in(&env, &ws, "other@example.com").await;
    let other_token = csrf_of(&other.get("/dashboard/connections").await.body);
    assert_ne!(token, other_token, "tokens are per session");

    let refused = [
        b.post(&action, &[]).await,
        b.post(&action, &[("csrf", "")]).await,
        b.post(&action, &[("csrf", &token[..63])]).await,
        b.post(&action, &[("csrf", &other_token)]).await,
        b.post_with(&action, &[("csrf", &token)], "https://evil.example")
            .await,
    ];
    for (i, p) in refused.iter().enumerate() {
        assert_eq!(p.status, StatusCode::FORBIDDEN, "#{i}: {}", p.body);
        assert!(p.body.contains("Nothing was changed"));
    }
    let cross_site = b
        .http
        .post(format!("{}{action}", env.base))
        .header(header::COOKIE, b.cookie_header())
        .header("sec-fetch-site", "cross-site")
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert_ne!(connection_status(&env, &ws, &con).await, "disconnected");

    // The sign-in form checks its double-submit token too.
    let mut fresh = Browser::new(&env);
    let p = fresh
        .post(
            "/dashboard/login",
            &[
                ("email", "ops@example.com"),
                ("password", PASSWORD),
                ("csrf", "abc"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(fresh.session().is_none());

    // With the right token the same action goes through.
    let p = b.post(&action, &[("csrf", &token)]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(connection_status(&env, &ws, &con).await, "disconnected");
    drop(other);
}

#[tokio::test]
async fn a_cookie_planted_before_sign_in_never_becomes_the_session() {
    let env = TestEnv::start().await;
    let ws_a = env.workspace(10).await;
    let ws_b = env.workspace(10).await;
    let (con_b, _) = env.connect(&ws_b, "Victim's plant").await;
    // The attacker signs in to their own workspace and plants that session in the victim's
    // browser (and, separately, a made-up value).
    let attacker = signed_in(&env, &ws_a, "attacker@example.com").await;
    let planted = attacker.session().unwrap().clone();
    user(&env, &ws_b, "victim@example.com").await;
    for plant in [planted.clone(), "ab".repeat(32)] {
        let mut victim = Browser::new(&env);
        let form = victim.get("/dashboard/login").await;
        victim.cookies.insert("mw_session".into(), plant.clone());
        let p = victim
            .post(
                "/dashboard/login",
                &[
                    ("csrf", &csrf_of(&form.body)),
                    ("email", "victim@example.com"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER);
        let session = victim.session().unwrap().clone();
        assert_ne!(session, plant, "a new session id at sign-in");
        // The victim sees their workspace; the planted cookie does not.
        let p = victim.get(&format!("/dashboard/connections/{con_b}")).await;
        assert_eq!(p.status, StatusCode::OK);
        let mut with_plant = Browser::new(&env);
        with_plant.cookies.insert("mw_session".into(), plant);
        let p = with_plant
            .get(&format!("/dashboard/connections/{con_b}"))
            .await;
        assert_ne!(p.status, StatusCode::OK, "{}", p.body);
    }
}

#[tokio::test]
async fn another_workspaces_objects_are_not_found_and_unchanged() {
    let env =
        TestEnv::start_with(Backend::Sqlite, |c| c.allow_private_webhook_targets = true).await;
    let ws_a = env.workspace(10).await;
    let ws_b = env.workspace(10).await;
    let (con_b, token_b) = env.connect(&ws_b, "B's plant").await;
    let (rx, url) = Receiver::start().await;
    rx.set_status(500);
    let (_, endpoint) = env
        .call(
            Method::POST,
            "/api/v1/webhook-endpoints",
            &ws_b.key,
            Some(json!({"url": url})),
        )
        .await;
    let whe_b = endpoint["id"].as_str().unwrap().to_string();
    let (_, test) = env
        .call(
            Method::POST,
            &format!("/api/v1/webhook-endpoints/{whe_b}/test"),
            &ws_b.key,
            None,
        )
        .await;
    let whd_b = test["id"].as_str().unwrap().to_string();
    let failing = env
        .req(Method::GET, "/api/v1/work-orders/rec_missing", &token_b)
        .send()
        .await
        .unwrap();
    let req_b = failing.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();

    let mut a = signed_in(&env, &ws_a, "a@example.com").await;
    let token = csrf_of(&a.get("/dashboard/connections").await.body);
    let list = a.get("/dashboard/connections").await;
    assert!(!list.body.contains(&con_b));
    for path in [
        format!("/dashboard/connections/{con_b}"),
        format!("/dashboard/connections/{con_b}/disconnect"),
        format!("/dashboard/connections/{con_b}/reauthorize"),
        format!("/dashboard/request-logs/{req_b}"),
        format!("/dashboard/webhooks/{whe_b}"),
    ] {
        let p = a.get(&path).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{path}: {}", p.body);
    }
    for action in [
        format!("/dashboard/connections/{con_b}/disconnect"),
        format!("/dashboard/connections/{con_b}/token"),
        format!("/dashboard/connections/{con_b}/sync"),
        format!("/dashboard/connections/{con_b}/edit"),
        format!("/dashboard/webhooks/{whe_b}/disable"),
        format!("/dashboard/webhooks/{whe_b}/rotate"),
        format!("/dashboard/webhooks/deliveries/{whd_b}/retry"),
    ] {
        let p = a
            .post(
                &action,
                &[
                    ("csrf", &token),
                    ("disabled", "true"),
                    ("name", "taken over"),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{action}: {}", p.body);
    }
    // Nothing changed in workspace B.
    let (_, c) = env
        .call(
            Method::GET,
            &format!("/api/v1/connections/{con_b}"),
            &ws_b.key,
            None,
        )
        .await;
    assert_ne!(c["status"], "disconnected");
    assert_eq!(c["name"], "B's plant");
    let (s, _) = env
        .call(Method::GET, "/api/v1/sync-status", &token_b, None)
        .await;
    assert_eq!(s, StatusCode::OK, "B's token still works");
    let (_, e) = env
        .call(
            Method::GET,
            &format!("/api/v1/webhook-endpoints/{whe_b}"),
            &ws_b.key,
            None,
        )
        .await;
    assert_eq!(e["disabled"], false);
    // The request-log search of A does not find B's request either.
    let p = a
        .get(&format!("/dashboard/request-logs?request_id={req_b}"))
        .await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(!p.body.contains(&format!("/dashboard/request-logs/{req_b}")));
}

/// Waits until `path` (a dashboard page) contains `needle`.
async fn page_eventually(b: &mut Browser, path: &str, needle: &str) -> Page {
    for _ in 0..100 {
        let p = b.get(path).await;
        if p.body.contains(needle) {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never showed {needle:?}");
}

#[tokio::test]
async fn every_page_renders_unframed_for_a_synced_connection_and_actions_work() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let (con, token) = connect_synced(&env, &ws, env.maintainx_body("Acme Plant 4")).await;
    // A failing API call whose request id the logs can be searched by.
    let failing = env
        .req(Method::GET, "/api/v1/work-orders/rec_missing", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(failing.status(), StatusCode::NOT_FOUND);
    let request_id = failing.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();

    let mut b = signed_in(&env, &ws, "ops@example.com").await;
    let login = Browser::new(&env).get("/dashboard/login").await;
    assert_framing_denied(&login, "login");

    let list = b.get("/dashboard/connections").await;
    assert!(list.body.contains("Acme Plant 4") && list.body.contains(&con));
    assert!(list.body.contains("MaintainX"));
    let filtered = b
        .get("/dashboard/connections?q=plant%204&status=active")
        .await;
    assert!(filtered.body.contains(&con), "search and filter find it");
    let none = b.get("/dashboard/connections?q=nothing-like-it").await;
    assert!(!none.body.contains(&con));

    let search = page_eventually(
        &mut b,
        &format!("/dashboard/request-logs?request_id={request_id}"),
        &request_id,
    )
    .await;
    assert!(search.body.contains("404"));
    let pages = [
        ("/dashboard/connections".to_string(), "Acme Plant 4"),
        (format!("/dashboard/connections/{con}"), "work_orders"),
        (
            format!("/dashboard/connections/{con}/reauthorize"),
            "API key",
        ),
        (
            format!("/dashboard/connections/{con}/disconnect"),
            "1 credit",
        ),
        ("/dashboard/credits".to_string(), "Acme Plant 4"),
        (
            format!("/dashboard/request-logs?connection_id={con}"),
            &request_id,
        ),
        (format!("/dashboard/request-logs/{request_id}"), "NOT_FOUND"),
        ("/dashboard/webhooks".to_string(), "Add an endpoint"),
        ("/dashboard/webhooks/deliveries".to_string(), "Deliveries"),
        ("/dashboard/events".to_string(), "connection.created"),
        (
            format!("/dashboard/events?connection_id={con}&type=sync.*"),
            "sync.completed",
        ),
        ("/dashboard/no-such-page".to_string(), "Not found"),
    ];
    for (path, needle) in &pages {
        let p = b.get(path).await;
        let expected = if path.contains("no-such") {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        assert_eq!(p.status, expected, "{path}: {}", p.body);
        assert!(p.body.contains(needle), "{path} lacks {needle:?}");
        assert_framing_denied(&p, path);
    }
    // The request's detail shows its redacted headers, never the token.
    let detail = b
        .get(&format!("/dashboard/request-logs/{request_id}"))
        .await;
    assert!(!detail.body.contains(&token));

    // Trigger a sync and a full resync.
    let here = format!("/dashboard/connections/{con}");
    let p = b.submit(&here, &format!("{here}/sync"), &[]).await;
    assert_eq!(p.location(), here);
    let p = b.get(&here).await;
    assert!(
        p.body.contains("Sync queued") || p.body.contains("already has a run"),
        "{}",
        p.body
    );
    let p = b
        .submit(&here, &format!("{here}/sync"), &[("full", "true")])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);

    // Pause and resume.
    b.submit(&here, &format!("{here}/pause"), &[("paused", "true")])
        .await;
    assert!(b.get(&here).await.body.contains("syncs paused"));
    b.submit(&here, &format!("{here}/pause"), &[("paused", "false")])
        .await;
    assert!(!b.get(&here).await.body.contains("syncs paused"));

    // Edit the name and metadata; invalid JSON is refused with its reason.
    b.submit(
        &here,
        &format!("{here}/edit"),
        &[
            ("name", "Acme Plant 5"),
            ("metadata", "{\"region\": \"emea\"}"),
        ],
    )
    .await;
    let (_, c) = env
        .call(
            Method::GET,
            &format!("/api/v1/connections/{con}"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(c["name"], "Acme Plant 5");
    assert_eq!(
        c["metadata"],
        json!({"region": "emea"}),
        "customer key removed"
    );
    b.submit(
        &here,
        &format!("{here}/edit"),
        &[("name", "x"), ("metadata", "{oops")],
    )
    .await;
    assert!(b.get(&here).await.body.contains("not valid JSON"));

    // Field mappings with a preview of a mapped record.
    let mappings = json!({"work_orders": {"custom_fields": {"plant_code": "id"}}});
    b.submit(
        &here,
        &format!("{here}/mappings"),
        &[("field_mappings", &mappings.to_string())],
    )
    .await;
    let p = b.get(&format!("{here}?preview=work_orders")).await;
    assert!(
        p.body.contains("custom_fields.plant_code"),
        "the mapping is listed"
    );
    assert!(
        p.body.contains("plant_code"),
        "the preview shows the custom field"
    );

    // A new token is shown once; the old one is revoked; the new one works.
    let p = b.submit(&here, &format!("{here}/token"), &[]).await;
    assert_eq!(p.status, StatusCode::OK);
    assert_eq!(p.headers[header::CACHE_CONTROL], "no-store");
    let at = p.body.find("mw_ct_").expect("the token is shown");
    let new_token: String = p.body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let old = env
        .call(Method::GET, "/api/v1/sync-status", &token, None)
        .await;
    assert_error(&old, 401, "TOKEN_REVOKED", "authentication_error");
    let (s, _) = env
        .call(Method::GET, "/api/v1/sync-status", &new_token, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !b.get(&here).await.body.contains(&new_token),
        "never shown again"
    );

    // Reauthorize from the dashboard: the source checks the key first.
    let reauth = format!("{here}/reauthorize");
    let p = b
        .submit(&reauth, &reauth, &[("cred_api_key", "not-the-key")])
        .await;
    assert_eq!(p.location(), reauth);
    let page = b.get(&reauth).await;
    assert!(page.body.contains("flash error"), "{}", page.body);
    let p = b
        .submit(
            &reauth,
            &reauth,
            &[("cred_api_key", crate::common::SIM_KEY)],
        )
        .await;
    assert_eq!(p.location(), here);
    assert!(b.get(&here).await.body.contains("Reauthorized"));

    // Disconnect: the confirmation says what happens; then the token is refused and the
    // credit returns.
    let confirm = b.get(&format!("{here}/disconnect")).await;
    for says in ["TOKEN_REVOKED", "syncs stop", "1 credit", "stay readable"] {
        assert!(confirm.body.contains(says), "{says}: {}", confirm.body);
    }
    let (_, before) = env
        .call(Method::GET, "/api/v1/credits", &ws.key, None)
        .await;
    assert_eq!(before["used"], 1);
    let p = b
        .submit(
            &format!("{here}/disconnect"),
            &format!("{here}/disconnect"),
            &[],
        )
        .await;
    assert_eq!(p.location(), here);
    assert!(b
        .get(&here)
        .await
        .body
        .contains("Disconnected: its token is revoked"));
    let refused = env
        .call(Method::GET, "/api/v1/sync-status", &new_token, None)
        .await;
    assert_error(&refused, 401, "TOKEN_REVOKED", "authentication_error");
    let (_, after) = env
        .call(Method::GET, "/api/v1/credits", &ws.key, None)
        .await;
    assert_eq!(after["used"], 0);
    assert!(b
        .get("/dashboard/credits")
        .await
        .body
        .contains("No live connection"));

    // Data stays until deleted; deleting needs the confirmation.
    let wo: Value = env
        .req(Method::GET, "/api/v1/work-orders", &ws.key)
        .header("x-connection-id", &con)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!wo["data"].as_array().unwrap().is_empty());
    let p = b
        .submit(
            &format!("{here}/delete-data"),
            &format!("{here}/delete-data"),
            &[],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let wo: Value = env
        .req(Method::GET, "/api/v1/work-orders", &ws.key)
        .header("x-connection-id", &con)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(wo["data"].as_array().unwrap().is_empty(), "{wo}");
}

#[tokio::test]
async fn webhook_endpoint_failed_delivery_and_retry() {
    let env =
        TestEnv::start_with(Backend::Sqlite, |c| c.allow_private_webhook_targets = true).await;
    let ws = env.workspace(10).await;
    let (rx, url) = Receiver::start().await;
    rx.set_status(500);
    let mut b = signed_in(&env, &ws, "ops@example.com").await;

    // A bad URL is refused with the API's reason.
    b.submit(
        "/dashboard/webhooks",
        "/dashboard/webhooks",
        &[("url", "ftp://x")],
    )
    .await;
    assert!(b.get("/dashboard/webhooks").await.body.contains("url"));

    let p = b
        .submit(
            "/dashboard/webhooks",
            "/dashboard/webhooks",
            &[("url", &url), ("description", "Our receiver")],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(p.body.contains("whsec_"), "the secret is shown once");
    let (_, list) = env
        .call(Method::GET, "/api/v1/webhook-endpoints", &ws.key, None)
        .await;
    let whe = list["data"][0]["id"].as_str().unwrap().to_string();
    let here = format!("/dashboard/webhooks/{whe}");
    let page = b.get(&here).await;
    assert!(page.body.contains("Our receiver"));
    assert!(!page.body.contains("whsec_"), "never shown again");

    let p = b.submit(&here, &format!("{here}/test"), &[]).await;
    assert_eq!(p.location(), here);
    let failed = page_eventually(&mut b, &here, "<td>500</td>").await;
    assert!(failed.body.contains("webhook.test"));
    let did = {
        let (_, d) = env
            .call(Method::GET, "/api/v1/webhook-deliveries", &ws.key, None)
            .await;
        d["data"][0]["id"].as_str().unwrap().to_string()
    };
    rx.set_status(200);
    let p = b
        .submit(
            &here,
            &format!("/dashboard/webhooks/deliveries/{did}/retry"),
            &[("back", &here)],
        )
        .await;
    assert_eq!(p.location(), here);
    for _ in 0..100 {
        if rx.got.lock().unwrap().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(rx.got.lock().unwrap().len() >= 2, "the retry was delivered");
    page_eventually(
        &mut b,
        "/dashboard/webhooks/deliveries?status=succeeded",
        &did,
    )
    .await;

    // Rotate the secret (shown once), disable, recover.
    let p = b.submit(&here, &format!("{here}/rotate"), &[]).await;
    assert!(p.body.contains("whsec_"));
    b.submit(&here, &format!("{here}/disable"), &[("disabled", "true")])
        .await;
    let (_, e) = env
        .call(
            Method::GET,
            &format!("/api/v1/webhook-endpoints/{whe}"),
            &ws.key,
            None,
        )
        .await;
    assert_eq!(e["disabled"], true);
    b.submit(
        &here,
        &format!("{here}/recover"),
        &[("since", "2026-01-01T00:00")],
    )
    .await;
    assert!(b.get(&here).await.body.contains("queued again"));
}

#[tokio::test]
async fn link_sessions_are_created_listed_and_scoped_to_the_workspace() {
    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let other = env.workspace(10).await;
    let (con, _) = env.connect(&ws, "Needs new credentials").await;
    let (other_con, _) = env.connect(&other, "Not yours").await;
    let mut b = signed_in(&env, &ws, "ops@example.com").await;

    let p = b
        .submit(
            "/dashboard/link-sessions",
            "/dashboard/link-sessions",
            &[
                ("connectors", "maintainx"),
                ("connectors", "maximo"),
                ("name", "Beta Mill"),
                ("metadata", "{\"customer\": \"beta\"}"),
                ("expires_in", "2592000"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(p.headers[header::CACHE_CONTROL], "no-store");
    assert!(
        p.body.contains(&format!("{}/link/", env.base)),
        "{}",
        p.body
    );
    let (_, list) = env
        .call(Method::GET, "/api/v1/link-sessions", &ws.key, None)
        .await;
    let s = &list["data"][0];
    assert_eq!(s["name"], "Beta Mill");
    assert_eq!(s["connectors"], json!(["maintainx", "maximo"]));
    assert_eq!(s["metadata"], json!({"customer": "beta"}));
    let page = b.get("/dashboard/link-sessions").await;
    assert!(page.body.contains("Beta Mill") && page.body.contains("maintainx, maximo"));

    // A reauthorization session, pre-filled from the connection's reauthorize page.
    let form = b
        .get(&format!("/dashboard/link-sessions?connection_id={con}"))
        .await;
    assert!(form.body.contains(&format!("value=\"{con}\"")));
    let p = b
        .submit(
            "/dashboard/link-sessions",
            "/dashboard/link-sessions",
            &[("connection_id", &con)],
        )
        .await;
    assert!(p.body.contains("reauthorize"), "{}", p.body);

    // Another workspace's connection is unknown here, as it is to the API.
    let p = b
        .submit(
            "/dashboard/link-sessions",
            "/dashboard/link-sessions",
            &[("connection_id", &other_con)],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let page = b.get("/dashboard/link-sessions").await;
    assert!(
        page.body.contains("connection_id: unknown connection"),
        "{}",
        page.body
    );
    let (_, ours) = env
        .call(
            Method::GET,
            "/api/v1/link-sessions?status=all",
            &ws.key,
            None,
        )
        .await;
    assert_eq!(
        ours["data"].as_array().unwrap().len(),
        2,
        "nothing more created"
    );
    let (_, theirs) = env
        .call(
            Method::GET,
            "/api/v1/link-sessions?status=all",
            &other.key,
            None,
        )
        .await;
    assert!(theirs["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn sessions_and_lock_out_on_postgres() {
    let env = TestEnv::start_with(Backend::Postgres, |_| {}).await;
    let ws = env.workspace(10).await;
    let (con, _) = env.connect(&ws, "On PostgreSQL").await;
    let mut b = signed_in(&env, &ws, "pg@example.com").await;
    let page = b.get(&format!("/dashboard/connections/{con}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("On PostgreSQL"));
    let p = b
        .submit("/dashboard/connections", "/dashboard/logout", &[])
        .await;
    assert_eq!(p.location(), "/dashboard/login");
    for i in 1..=5 {
        let p = b.sign_in("pg@example.com", "guess").await;
        let expected = if i < 5 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(p.status, expected, "#{i}");
    }
    let p = b.sign_in("pg@example.com", PASSWORD).await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
}
