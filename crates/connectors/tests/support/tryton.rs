//! The real Tryton server of the tests: where it is (from the environment scripts/test sets),
//! a raw JSON-RPC client independent of the connector (to seed records and to read back what the
//! connector wrote), and the company bootstrap a fresh database needs before any purchase.

use std::sync::atomic::{AtomicU64, Ordering};

use millwright_connectors::{tryton::client::base64, ConnectionContext, Credentials};
use millwright_core::credits::Deployment;
use serde_json::{json, Value};

/// Where the test server is and how to log in as `admin`.
#[derive(Debug, Clone)]
pub struct Server {
    pub url: String,
    pub database: String,
    pub password: String,
}

impl Server {
    /// The server named by `MILLWRIGHT_TEST_TRYTON_URL` / `_DB` / `_PASSWORD`. Panics when unset:
    /// these tests must never pass without having talked to Tryton.
    pub fn from_env() -> Server {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| {
                    panic!(
                        "{name} is not set: the Tryton connector tests need a real trytond. Run \
                     scripts/test, or start one with scripts/tryton.sh (install, build-db, start) \
                     and export MILLWRIGHT_TEST_TRYTON_URL, MILLWRIGHT_TEST_TRYTON_DB and \
                     MILLWRIGHT_TEST_TRYTON_PASSWORD"
                    )
                })
        };
        Server {
            url: var("MILLWRIGHT_TEST_TRYTON_URL"),
            database: var("MILLWRIGHT_TEST_TRYTON_DB"),
            password: var("MILLWRIGHT_TEST_TRYTON_PASSWORD"),
        }
    }

    /// A connection context for `login`/`password`.
    pub fn context_as(&self, login: &str, password: &str) -> ConnectionContext {
        ConnectionContext {
            deployment: Deployment::OnPremise,
            credentials: Credentials(
                [
                    ("base_url", self.url.as_str()),
                    ("database", self.database.as_str()),
                    ("username", login),
                    ("password", password),
                ]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ),
        }
    }

    /// The connection context of `admin`.
    pub fn context(&self) -> ConnectionContext {
        self.context_as("admin", &self.password)
    }
}

/// A raw JSON-RPC session as `admin`, with the company in its context once there is one.
pub struct Rpc {
    http: reqwest::Client,
    endpoint: String,
    authorization: String,
    pub company: Option<i64>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Rpc {
    /// Logs in as `admin`.
    pub async fn login(server: &Server) -> Rpc {
        let http = reqwest::Client::new();
        let endpoint = format!(
            "{}/{}/rpc/",
            server.url.trim_end_matches('/'),
            server.database
        );
        let answer: Value = http
            .post(&endpoint)
            .json(&json!({"id": 0, "method": "common.db.login",
                          "params": ["admin", {"password": server.password}, "en"]}))
            .send()
            .await
            .expect("trytond answers")
            .json()
            .await
            .expect("login answers JSON");
        let uid = answer["result"][0].as_i64().expect("admin logs in");
        let token = answer["result"][1].as_str().expect("a session token");
        let mut rpc = Rpc {
            http,
            endpoint,
            authorization: format!(
                "Session {}",
                base64(format!("admin:{uid}:{token}").as_bytes())
            ),
            company: None,
        };
        let prefs = rpc
            .call("model.res.user.get_preferences", json!([true]))
            .await
            .expect("preferences");
        rpc.company = prefs["company"].as_i64();
        rpc
    }

    /// `method(params…, context)`; the in-band error, if any, as `Err`.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, Value> {
        let mut params = params.as_array().cloned().expect("params are a list");
        // Observed on 8.2: `res.user.create` with a company in the context refuses to set
        // `login` ("You are not allowed to modify the field"); users are not company records.
        params.push(match self.company {
            Some(c) if !method.starts_with("model.res.user.") => json!({"company": c}),
            _ => json!({}),
        });
        let answer: Value = self
            .http
            .post(&self.endpoint)
            .header("Authorization", &self.authorization)
            .json(&json!({"id": NEXT_ID.fetch_add(1, Ordering::Relaxed), "method": method, "params": params}))
            .send()
            .await
            .expect("trytond answers")
            .json()
            .await
            .expect("trytond answers JSON");
        match answer.get("error") {
            Some(e) if !e.is_null() => Err(e.clone()),
            _ => Ok(answer["result"].clone()),
        }
    }

    /// `call`, panicking on an error.
    pub async fn ok(&self, method: &str, params: Value) -> Value {
        self.call(method, params)
            .await
            .unwrap_or_else(|e| panic!("{method} failed: {e}"))
    }

    /// `model.<model>.create([values])` → the id.
    pub async fn create(&self, model: &str, values: Value) -> i64 {
        self.ok(&format!("model.{model}.create"), json!([[values]]))
            .await[0]
            .as_i64()
            .expect("an id")
    }

    /// `model.<model>.read([id], fields)` → the record.
    pub async fn read(&self, model: &str, id: i64, fields: &[&str]) -> Value {
        self.ok(&format!("model.{model}.read"), json!([[id], fields]))
            .await[0]
            .clone()
    }

    /// Gives the database a company (USD, UTC) and makes it admin's, unless it has one: what
    /// a fresh Tryton needs before purchases (reference §1.6, "company bootstrap"). Logs in
    /// again afterwards so the context carries the company.
    pub async fn ensure_company(self, server: &Server) -> Rpc {
        if self.company.is_some() {
            return self;
        }
        let usd = self
            .ok(
                "model.currency.currency.search",
                json!([[["code", "=", "USD"]], 0, 1, null]),
            )
            .await;
        let currency = match usd[0].as_i64() {
            Some(id) => id,
            None => {
                self.create(
                    "currency.currency",
                    json!({"name": "US Dollar", "code": "USD", "symbol": "$", "digits": 2,
                           "rounding": {"__class__": "Decimal", "decimal": "0.01"}}),
                )
                .await
            }
        };
        let party = self
            .create("party.party", json!({"name": "ACME Plant Co"}))
            .await;
        let company = self
            .create(
                "company.company",
                json!({"party": party, "currency": currency, "timezone": "UTC"}),
            )
            .await;
        self.ok(
            "model.res.user.write",
            json!([[1], {"companies": [["add", [company]]], "company": company}]),
        )
        .await;
        let rpc = Rpc::login(server).await;
        assert_eq!(rpc.company, Some(company));
        rpc
    }
}

/// `{"__class__": "Decimal", …}`.
pub fn dec(text: &str) -> Value {
    json!({"__class__": "Decimal", "decimal": text})
}

/// `{"__class__": "date", …}`.
pub fn date(y: i32, m: u32, d: u32) -> Value {
    json!({"__class__": "date", "year": y, "month": m, "day": d})
}
