//! The failure matrix of issue 3: for every connector, wrong credentials, a password or key
//! changed in the source after a successful check, a permission denial, an outage and a 429
//! storm, each against the vendor's simulator or the real Tryton server, and each landing on the
//! one [`ConnectorError`] variant the API maps to the contract (`crates/api/src/error.rs`):
//!
//! | class | variant | contract |
//! |---|---|---|
//! | wrong credentials at connect | `CredentialsRejected` | 422 `CREDENTIALS_INVALID` |
//! | changed password, later call | `CredentialsRejected` | 401 `REAUTHORIZATION_REQUIRED` |
//! | permission denial | `PermissionDenied` | 403 `UPSTREAM_PERMISSION_DENIED` |
//! | outage (503, timeout, no answer) | `Unreachable` | 503 `UPSTREAM_UNREACHABLE` |
//! | 429 storm | `RateLimited { retry_after }` | 503 `UPSTREAM_UNREACHABLE` + `Retry-After` |
//!
//! Connectors come from [`Registry::with_http`], the wiring the API uses, with production retry
//! logic on short timeouts so that the whole file runs in seconds. Each check also shows the
//! healthy path first (the right credentials work, another resource still reads, the source
//! recovers), so a connector that fails everything cannot pass.
//!
//! The Tryton tests need a real trytond (`MILLWRIGHT_TEST_TRYTON_URL`, `_DB`, `_PASSWORD`, as
//! scripts/test sets them) and act only on throwaway users created per run: Tryton counts failed
//! logins per login name, and `admin` must never be locked out.

#[allow(dead_code)] // Shared with tests/tryton.rs, which uses the seeding helpers this file does not.
#[path = "support/tryton.rs"]
mod tryton_support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{http::StatusCode, response::IntoResponse, Router};
use millwright_connectors::{
    http::{HttpClient, HttpConfig, RetryPolicy},
    ConnectionContext, Connector, ConnectorError, Credentials, ListRequest, Registry,
};
use millwright_core::{credits::Deployment, time, Entity};
use millwright_sim::{maintainx, maximo, sap, spawn, SimHandle, SimOptions, System};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tryton_support::{Rpc, Server};

/// The longest `Retry-After` the HTTP layer sleeps on here. The simulators ask for the rest of
/// their one-minute window, far more, so a 429 storm is handed back at once, as in production
/// (where the cap is 30 s and the sources ask for minutes).
const MAX_SERVER_DELAY: Duration = Duration::from_millis(200);

/// Production's retry logic on test-sized timeouts: three attempts, millisecond backoff, a read
/// timeout short enough that a hung source is given up on in well under two seconds.
fn http() -> HttpClient {
    HttpClient::new(HttpConfig {
        connect_timeout: Duration::from_secs(1),
        read_timeout: Duration::from_millis(400),
        request_timeout: Duration::from_secs(3),
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            max_total: Duration::from_secs(3),
            max_server_delay: MAX_SERVER_DELAY,
        },
        ..HttpConfig::default()
    })
    .unwrap()
}

/// A connector as the API gets it, on its own client (no session or token shared between tests).
fn connector(id: &str) -> Arc<dyn Connector> {
    connector_with(id, http())
}

fn connector_with(id: &str, http: HttpClient) -> Arc<dyn Connector> {
    Registry::with_http(http)
        .connector(id)
        .unwrap_or_else(|| panic!("{id} is not implemented in this build"))
}

/// The Tryton connector for the real server: the same retries, but production-like timeouts.
/// trytond on SQLite, shared with other test binaries on two cores, can take seconds to answer,
/// and delays each failed login by up to 2ⁿ − 1 s on purpose; a 400 ms read timeout would turn
/// that into false outages.
fn tryton() -> Arc<dyn Connector> {
    let mut config = http().config().clone();
    config.read_timeout = Duration::from_secs(30);
    config.request_timeout = Duration::from_secs(60);
    config.retry.max_total = Duration::from_secs(60);
    connector_with("tryton", HttpClient::new(config).unwrap())
}

/// A connection context from auth-field JSON, validated against the catalog entry.
fn context(connector: &dyn Connector, deployment: Deployment, fields: Value) -> ConnectionContext {
    ConnectionContext {
        deployment,
        credentials: Credentials::from_json(connector.descriptor(), &fields)
            .unwrap_or_else(|e| panic!("credentials {fields}: {e:?}")),
    }
}

// -------------------------------------------------------------------------------------------
// The three simulated vendors.

/// A running simulator and what differs between vendors: auth fields, how a change of secret
/// or a denial is set through `/__sim/credentials`, and the vendor's own words for each failure.
struct Vendor {
    system: System,
    sim: SimHandle,
    connector: Arc<dyn Connector>,
}

impl Vendor {
    async fn start(system: System) -> Vendor {
        let sim = spawn(system, SimOptions { seed: 3, scale: 5 })
            .await
            .unwrap();
        let connector = connector(match system {
            System::Maintainx => "maintainx",
            System::Maximo => "maximo",
            System::Sap => "sap_s4hana",
        });
        Vendor {
            system,
            sim,
            connector,
        }
    }

    /// The secret the simulator accepts until told otherwise.
    fn good_secret(&self) -> &'static str {
        match self.system {
            System::Maintainx => maintainx::DEFAULT_API_KEY,
            System::Maximo => maximo::DEFAULT_API_KEY,
            System::Sap => sap::DEFAULT_PASSWORD,
        }
    }

    /// The `/__sim/credentials` body (named like the connector's auth fields) accepting
    /// `secret` (API key or password) for the default user.
    fn secret_body(&self, secret: &str) -> Value {
        match self.system {
            System::Maintainx | System::Maximo => json!({"api_key": secret}),
            System::Sap => json!({"username": sap::DEFAULT_USERNAME, "password": secret}),
        }
    }

    /// A connection with `secret` (API key or password).
    fn ctx(&self, secret: &str) -> ConnectionContext {
        let base_url = self.sim.base_url();
        let (deployment, fields) = match self.system {
            System::Maintainx => (
                Deployment::Cloud,
                json!({"base_url": base_url, "api_key": secret}),
            ),
            System::Maximo => (
                Deployment::OnPremise,
                json!({"base_url": base_url, "api_key": secret}),
            ),
            System::Sap => (
                Deployment::OnPremise,
                json!({"base_url": base_url, "username": sap::DEFAULT_USERNAME,
                       "password": secret, "client": sap::DEFAULT_CLIENT}),
            ),
        };
        context(&*self.connector, deployment, fields)
    }

    /// The source's resource behind unified purchase orders, as the simulator's `denied` list
    /// names it: what a role without purchasing rights may not read.
    fn purchasing(&self) -> &'static str {
        match self.system {
            System::Maintainx => "purchaseorders",
            System::Maximo => "mxapipo",
            System::Sap => "API_PURCHASEORDER_PROCESS_SRV",
        }
    }

    /// What the vendor says when it refuses credentials, as the connector must pass it on.
    fn login_refusal(&self) -> &'static str {
        match self.system {
            // The sim's 401 body, as observed from MaintainX by a real client.
            System::Maintainx => "Invalid token",
            System::Maximo => {
                "BMXAA7901E - You cannot log in at this time. Contact the system administrator."
            }
            // SAP's logon failure is an HTML page, which the shared layer does not quote (an
            // HTML page is usually a proxy's); the status is what the connector reports.
            System::Sap => "401 Unauthorized",
        }
    }

    /// What the vendor says when a role may not use the purchasing resource.
    fn permission_refusal(&self) -> &'static str {
        match self.system {
            System::Maintainx => "You do not have permission to access this resource",
            System::Maximo => "BMXAA0024E - The action READ is not allowed on object PO",
            System::Sap => {
                "No authorization to access Service 'API_PURCHASEORDER_PROCESS_SRV_0001'"
            }
        }
    }

    async fn control(&self, path: &str, body: Value) {
        let response = reqwest::Client::new()
            .post(format!("{}/__sim/{path}", self.sim.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(
            status.is_success(),
            "{} /__sim/{path} {body}: {status} {}",
            self.system,
            response.text().await.unwrap_or_default()
        );
    }

    async fn list(&self, ctx: &ConnectionContext, entity: Entity) -> Result<(), ConnectorError> {
        let request = ListRequest {
            page_size: 5,
            ..ListRequest::all(entity)
        };
        self.connector.list(ctx, &request).await.map(|_| ())
    }
}

/// (1) Credentials the source refuses, at connect time: `CredentialsRejected` carrying the
/// source's reason, while the right ones pass.
async fn wrong_credentials(system: System) {
    let v = Vendor::start(system).await;
    v.connector
        .check_credentials(&v.ctx(v.good_secret()))
        .await
        .unwrap();
    let err = v
        .connector
        .check_credentials(&v.ctx("not-the-secret"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::CredentialsRejected { reason } if reason == v.login_refusal()),
        "{system}: {err:?}"
    );
    v.sim.shutdown().await;
}

/// (2) A secret that worked, changed in the source afterwards: the next list call is
/// `CredentialsRejected` (re-authorization), and the new secret works.
async fn changed_secret(system: System) {
    let v = Vendor::start(system).await;
    let stored = v.ctx(v.good_secret());
    v.connector.check_credentials(&stored).await.unwrap();
    v.list(&stored, Entity::WorkOrders).await.unwrap();

    v.control("credentials", v.secret_body("rotated-in-the-source"))
        .await;
    let err = v.list(&stored, Entity::WorkOrders).await.unwrap_err();
    assert!(
        matches!(&err, ConnectorError::CredentialsRejected { reason } if reason == v.login_refusal()),
        "{system}: {err:?}"
    );
    v.list(&v.ctx("rotated-in-the-source"), Entity::WorkOrders)
        .await
        .unwrap();
    v.sim.shutdown().await;
}

/// (3) A working secret whose user may not use one resource: `PermissionDenied` with the
/// source's message for that resource, never `CredentialsRejected` (the connection stays
/// valid), while other resources still read.
async fn permission_denied(system: System) {
    let v = Vendor::start(system).await;
    let ctx = v.ctx(v.good_secret());
    let mut deny = v.secret_body(v.good_secret());
    deny["denied"] = json!([v.purchasing()]);
    v.control("credentials", deny).await;

    v.connector.check_credentials(&ctx).await.unwrap();
    v.list(&ctx, Entity::WorkOrders).await.unwrap();
    let err = v.list(&ctx, Entity::PurchaseOrders).await.unwrap_err();
    assert!(
        matches!(&err, ConnectorError::PermissionDenied { reason } if reason.starts_with(v.permission_refusal())),
        "{system}: {err:?}"
    );
    // The grant restored: the same connection reads purchase orders again.
    v.control("credentials", v.secret_body(v.good_secret()))
        .await;
    v.list(&ctx, Entity::PurchaseOrders).await.unwrap();
    v.sim.shutdown().await;
}

/// (4) An outage, as a load balancer's 503 page and as a source that never answers:
/// `Unreachable` either way, within the configured timeouts, and recovery is seen.
async fn outage(system: System) {
    let v = Vendor::start(system).await;
    let ctx = v.ctx(v.good_secret());
    v.connector.check_credentials(&ctx).await.unwrap();

    v.control("outage", json!({"mode": "503"})).await;
    let err = v.connector.check_credentials(&ctx).await.unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Unreachable { reason } if reason.starts_with("503 Service Unavailable")),
        "{system}: {err:?}"
    );
    let err = v.list(&ctx, Entity::Assets).await.unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Unreachable { .. }),
        "{system}: {err:?}"
    );

    v.control("outage", json!({"mode": "timeout"})).await;
    let started = Instant::now();
    let err = v.list(&ctx, Entity::Assets).await.unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Unreachable { reason } if reason.contains("timed out")),
        "{system}: {err:?}"
    );
    // Three attempts of a 400 ms read timeout, not a hang.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{system}: {:?}",
        started.elapsed()
    );

    v.control("outage", json!({"mode": "none"})).await;
    v.list(&ctx, Entity::Assets).await.unwrap();
    v.sim.shutdown().await;
}

/// (5) A 429 storm: one call a minute allowed, then several calls. Each refused call is
/// `RateLimited` with the source's wait (the rest of the minute), handed back without sleeping
/// on it; lifting the limit restores service.
async fn rate_limit_storm(system: System) {
    let v = Vendor::start(system).await;
    let ctx = v.ctx(v.good_secret());
    v.control("rate-limit", json!({"per_minute": 1})).await;
    v.connector.check_credentials(&ctx).await.unwrap();

    let started = Instant::now();
    for call in 0..4 {
        let result = if call % 2 == 0 {
            v.connector.check_credentials(&ctx).await
        } else {
            v.list(&ctx, Entity::WorkOrders).await
        };
        match result {
            Err(ConnectorError::RateLimited {
                retry_after: Some(wait),
            }) => assert!(
                wait > MAX_SERVER_DELAY && wait <= Duration::from_secs(60),
                "{system} call {call}: {wait:?}"
            ),
            other => {
                panic!("{system} call {call}: expected RateLimited with a wait, got {other:?}")
            }
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{system}: a wait beyond the cap is not slept on: {:?}",
        started.elapsed()
    );

    v.control("rate-limit", json!({"per_minute": 0})).await;
    v.list(&ctx, Entity::WorkOrders).await.unwrap();
    v.sim.shutdown().await;
}

#[tokio::test]
async fn maintainx_wrong_credentials_are_rejected() {
    wrong_credentials(System::Maintainx).await;
}

#[tokio::test]
async fn maintainx_rotated_key_needs_reauthorization() {
    changed_secret(System::Maintainx).await;
}

#[tokio::test]
async fn maintainx_denied_resource_is_permission_denied() {
    permission_denied(System::Maintainx).await;
}

#[tokio::test]
async fn maintainx_outage_is_unreachable() {
    outage(System::Maintainx).await;
}

#[tokio::test]
async fn maintainx_429_storm_is_rate_limited() {
    rate_limit_storm(System::Maintainx).await;
}

#[tokio::test]
async fn maximo_wrong_credentials_are_rejected() {
    wrong_credentials(System::Maximo).await;
}

#[tokio::test]
async fn maximo_rotated_key_needs_reauthorization() {
    changed_secret(System::Maximo).await;
}

#[tokio::test]
async fn maximo_denied_object_structure_is_permission_denied() {
    permission_denied(System::Maximo).await;
}

#[tokio::test]
async fn maximo_outage_is_unreachable() {
    outage(System::Maximo).await;
}

#[tokio::test]
async fn maximo_429_storm_is_rate_limited() {
    rate_limit_storm(System::Maximo).await;
}

#[tokio::test]
async fn sap_wrong_credentials_are_rejected() {
    wrong_credentials(System::Sap).await;
}

#[tokio::test]
async fn sap_changed_password_needs_reauthorization() {
    changed_secret(System::Sap).await;
}

#[tokio::test]
async fn sap_unauthorized_service_is_permission_denied() {
    permission_denied(System::Sap).await;
}

#[tokio::test]
async fn sap_outage_is_unreachable() {
    outage(System::Sap).await;
}

#[tokio::test]
async fn sap_429_storm_is_rate_limited() {
    rate_limit_storm(System::Sap).await;
}

// -------------------------------------------------------------------------------------------
// The real Tryton server.

/// A fresh user with no groups (so no access rights beyond what every user has), under a login
/// unique to this run and purpose.
async fn tryton_user(server: &Server, purpose: &str, password: &str) -> (Rpc, i64, String) {
    let rpc = Rpc::login(server).await;
    let login = format!(
        "failures-{purpose}-{}",
        time::now().timestamp_micros() % 1_000_000_000_000
    );
    let id = rpc
        .create(
            "res.user",
            json!({"name": format!("Failure matrix {purpose}"), "login": login, "password": password}),
        )
        .await;
    (rpc, id, login)
}

async fn tryton_list(
    tryton: &dyn Connector,
    ctx: &ConnectionContext,
    entity: Entity,
) -> Result<(), ConnectorError> {
    let request = ListRequest {
        page_size: 5,
        ..ListRequest::all(entity)
    };
    tryton.list(ctx, &request).await.map(|_| ())
}

/// (1) Tryton's refused login is a bare HTML 401; the connector names the login and database.
#[tokio::test]
async fn tryton_wrong_password_is_rejected() {
    let server = Server::from_env();
    let tryton = tryton();
    let (_, _, login) = tryton_user(&server, "wrong", "right-password-123").await;
    tryton
        .check_credentials(&server.context_as(&login, "right-password-123"))
        .await
        .unwrap();
    let err = tryton
        .check_credentials(&server.context_as(&login, "wrong-password-456"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::CredentialsRejected { reason }
            if reason.contains(&format!("\"{login}\"")) && reason.contains("wrong user name or password")),
        "{err:?}"
    );
}

/// (2) The password changed in Tryton by an administrator (`res.user.write`, which also ends
/// the user's sessions): the connection's next list is `CredentialsRejected`, not a silent
/// success on a cached session nor a login loop; the new password works.
#[tokio::test]
async fn tryton_changed_password_needs_reauthorization() {
    let server = Server::from_env();
    let tryton = tryton();
    let (rpc, uid, login) = tryton_user(&server, "rotate", "first-password-123").await;
    let stored = server.context_as(&login, "first-password-123");
    tryton.check_credentials(&stored).await.unwrap();
    tryton_list(&*tryton, &stored, Entity::Locations)
        .await
        .unwrap();

    rpc.ok(
        "model.res.user.write",
        json!([[uid], {"password": "second-password-456"}]),
    )
    .await;
    let err = tryton_list(&*tryton, &stored, Entity::Locations)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::CredentialsRejected { reason } if reason.contains(&login)),
        "{err:?}"
    );
    tryton_list(
        &*tryton,
        &server.context_as(&login, "second-password-456"),
        Entity::Locations,
    )
    .await
    .unwrap();
}

/// (3) A user without access rights to purchases: Tryton answers the read in-band with
/// `UserError` "You are not allowed to access …", which is `PermissionDenied`; what every user
/// may read (locations) still reads.
#[tokio::test]
async fn tryton_model_without_access_is_permission_denied() {
    let server = Server::from_env();
    let tryton = tryton();
    let (_, _, login) = tryton_user(&server, "noaccess", "limited-password-123").await;
    let ctx = server.context_as(&login, "limited-password-123");
    tryton.check_credentials(&ctx).await.unwrap();
    tryton_list(&*tryton, &ctx, Entity::Locations)
        .await
        .unwrap();
    for (entity, model) in [
        (Entity::PurchaseOrders, "Purchase"),
        (Entity::Assets, "Account Asset"),
    ] {
        let err = tryton_list(&*tryton, &ctx, entity).await.unwrap_err();
        assert!(
            matches!(&err, ConnectorError::PermissionDenied { reason }
                if reason.starts_with(&format!("You are not allowed to access \"{model}\"."))),
            "{entity:?}: {err:?}"
        );
    }
}

/// A Tryton connection with admin's credentials at `base_url` instead of the real server.
fn tryton_at(server: &Server, base_url: &str) -> ConnectionContext {
    let mut ctx = server.context();
    ctx.credentials
        .0
        .insert("base_url".into(), base_url.to_string());
    ctx
}

/// (4) Tryton gone: nothing listening, a server that accepts and never answers, and the 503
/// Tryton itself sends when its database is unavailable (reference §1.3). Each is `Unreachable`,
/// for the login and for a list, in bounded time. (The shared real server cannot be stopped;
/// these stand in for it at other addresses.)
#[tokio::test]
async fn tryton_outage_is_unreachable() {
    let server = Server::from_env();
    tryton().check_credentials(&server.context()).await.unwrap();
    // Short timeouts: what is measured here is that a dead source is given up on.
    let tryton = connector("tryton");

    // Nothing listening: a port just released.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    // Accepts connections and reads requests, never answers.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    // Tryton's answer when its database is unreachable: an HTML 503 to every call.
    let unavailable = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let unavailable_addr = unavailable.local_addr().unwrap();
    let app = Router::new().fallback(|| async {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [("content-type", "text/html; charset=utf-8")],
            "<!doctype html>\n<html lang=en>\n<title>503 Service Unavailable</title>\n",
        )
            .into_response()
    });
    tokio::spawn(async move { axum::serve(unavailable, app).await.unwrap() });

    for (what, addr, expect) in [
        ("closed port", closed, "could not connect"),
        ("silent server", silent_addr, "timed out"),
        ("503", unavailable_addr, "503 Service Unavailable"),
    ] {
        let ctx = tryton_at(&server, &format!("http://{addr}"));
        let started = Instant::now();
        let check = tryton.check_credentials(&ctx).await;
        let list = tryton_list(&*tryton, &ctx, Entity::Vendors).await;
        for result in [check, list] {
            assert!(
                matches!(&result, Err(ConnectorError::Unreachable { reason }) if reason.contains(expect)),
                "{what}: {result:?}"
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{what}: {:?}",
            started.elapsed()
        );
    }
}

/// (5) Tryton's only rate limit: more than five failed logins of one login within five minutes,
/// after which every login of it, right password included, answers HTTP 429 for the rest of the
/// window (reference §1.3). On a throwaway user: six failed logins at once (concurrent, so that
/// Tryton's growing per-failure delay of up to 2ⁿ s does not apply to each in turn), then the
/// right password. A list (which must log in) is `RateLimited` with the five-minute lockout as
/// its wait; a connect-time check says the credentials cannot be used, naming the lockout.
#[tokio::test]
async fn tryton_failed_login_storm_is_rate_limited() {
    let server = Server::from_env();
    let tryton = tryton();
    let (_, _, login) = tryton_user(&server, "storm", "storm-password-123").await;
    let right = server.context_as(&login, "storm-password-123");
    let wrong = server.context_as(&login, "wrong-password-456");

    let mut failures = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (tryton, wrong) = (tryton.clone(), wrong.clone());
        failures.spawn(async move { tryton.check_credentials(&wrong).await });
    }
    while let Some(failure) = failures.join_next().await {
        let failure = failure.unwrap();
        assert!(
            matches!(failure, Err(ConnectorError::CredentialsRejected { .. })),
            "{failure:?}"
        );
    }

    let started = Instant::now();
    let err = tryton_list(&*tryton, &right, Entity::Vendors)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::RateLimited { retry_after: Some(wait) } if wait == Duration::from_secs(300)),
        "{err:?}"
    );
    // Once locked out, Tryton answers at once and the login is not retried into a longer lockout.
    assert!(started.elapsed() < Duration::from_secs(2));
    let err = tryton_list(&*tryton, &right, Entity::Locations)
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::RateLimited { .. }), "{err:?}");
    // At connect time the lockout is about these credentials (422, "check the password"): the
    // connector's documented choice, since only failed logins cause it.
    let err = tryton.check_credentials(&right).await.unwrap_err();
    assert!(
        matches!(&err, ConnectorError::CredentialsRejected { reason } if reason.contains("too many failed attempts")),
        "{err:?}"
    );
    // Other users, admin included, are not affected.
    tryton.check_credentials(&server.context()).await.unwrap();
}
