//! The Tryton wire (reference/connectors.md §1.2–1.4): JSON-RPC 1.0-style bodies
//! `{"id","method","params"}` posted to `{base_url}/{database}/rpc/`, the context dict as the last
//! positional parameter, business errors in-band (`{"error": ["UserError", [message, …]]}`, HTTP
//! 200), and the session login `common.db.login` → `Authorization: Session
//! base64(login:uid:token)`.
//!
//! Sessions are cached per connection in [`Sessions`] and acquired again once when a call
//! answers 401 (expired, logged out, or the server restarted with a fresh session table).

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use reqwest::{
    header::{HeaderValue, AUTHORIZATION},
    Method, Url,
};
use serde_json::{json, Map, Value};

use crate::{
    http::{ApiRequest, HttpClient},
    ConnectorError, Credentials,
};

/// How long Tryton refuses logins for a user after too many failed attempts: `[session] timeout`,
/// 300 s by default (reference §1.3). Every attempt inside the window counts again, so nothing
/// should try sooner.
pub const LOGIN_LOCKOUT: Duration = Duration::from_secs(300);

/// Context keys of the user's preferences that calls carry. Tryton does not merge preferences
/// into RPC calls by itself, and without `company` company-bound models (purchases, assets)
/// refuse every write (reference §1.4).
const CONTEXT_KEYS: &[&str] = &[
    "company",
    "companies",
    "company_filter",
    "employee",
    "employees",
    "language",
];

/// One logged-in session.
#[derive(Debug)]
pub struct Session {
    /// The user's id.
    pub uid: i64,
    /// `Session base64(login:uid:token)`, marked sensitive.
    authorization: HeaderValue,
    /// The user's preferences as a call context (company, language, …).
    pub context: Map<String, Value>,
    /// ISO code of the user's company currency: what product costs are in.
    pub company_currency: Option<String>,
}

/// Which cached session a connection uses: server, database, user and (a keyed hash of) the
/// password, so that changed credentials never reuse an old session.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SessionKey {
    rpc_url: String,
    username: String,
    password: u64,
}

/// The session cache of one connector instance.
#[derive(Debug, Default)]
pub struct Sessions {
    /// Hashes passwords for [`SessionKey`] so that the cache holds no secret; randomly keyed per
    /// process.
    hasher: RandomState,
    sessions: Mutex<HashMap<SessionKey, Arc<Session>>>,
}

impl Sessions {
    fn get(&self, key: &SessionKey) -> Option<Arc<Session>> {
        self.sessions.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: SessionKey, session: Arc<Session>) {
        if let Ok(mut map) = self.sessions.lock() {
            map.insert(key, session);
        }
    }

    /// Drops `session` unless another call already replaced it.
    fn forget(&self, key: &SessionKey, session: &Arc<Session>) {
        if let Ok(mut map) = self.sessions.lock() {
            if map.get(key).is_some_and(|s| Arc::ptr_eq(s, session)) {
                map.remove(key);
            }
        }
    }
}

/// Request ids: Tryton echoes them; unique ids make server logs readable.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A client for one connection's credentials.
pub struct Client<'a> {
    http: &'a HttpClient,
    /// The same pool, without retries: see [`Client::login`].
    login_http: &'a HttpClient,
    sessions: &'a Sessions,
    key: SessionKey,
    rpc: Url,
    database: String,
    username: String,
    password: String,
}

impl<'a> Client<'a> {
    /// A client for `credentials`: `base_url`, `database`, `username`, `password` (all
    /// required).
    pub fn new(
        http: &'a HttpClient,
        login_http: &'a HttpClient,
        sessions: &'a Sessions,
        credentials: &Credentials,
    ) -> Result<Client<'a>, ConnectorError> {
        let base = credentials.require("base_url")?;
        let database = credentials.require("database")?.to_string();
        let username = credentials.require("username")?.to_string();
        let password = credentials.require("password")?.to_string();
        let mut rpc =
            Url::parse(base).map_err(|e| invalid("base_url", format!("is not a URL ({e})")))?;
        rpc.path_segments_mut()
            .map_err(|_| invalid("base_url", "must be scheme://host[:port]".into()))?
            .pop_if_empty()
            // 8.x serves database calls under `/<db>/rpc/`; `/<db>/` answers 405 (§1.2).
            .extend([database.as_str(), "rpc", ""]);
        let key = SessionKey {
            rpc_url: rpc.to_string(),
            username: username.clone(),
            password: sessions.hasher.hash_one(&password),
        };
        Ok(Client {
            http,
            login_http,
            sessions,
            key,
            rpc,
            database,
            username,
            password,
        })
    }

    /// A caller's raw request with this client's session: paths are relative to `base_url`
    /// and reach only `/` (server calls such as `common.server.version`) or this connection's
    /// database (`/<database>/…`), never another database on the same server. A session the
    /// server no longer knows (401/403) is replaced once.
    pub async fn passthrough(
        &self,
        request: &crate::PassthroughRequest,
    ) -> Result<crate::PassthroughResponse, ConnectorError> {
        let route = request.path.split('?').next().unwrap_or_default();
        let database = format!("/{}/", self.database);
        if route != "/" && !route.starts_with(&database) {
            return Err(ConnectorError::Invalid {
                field: "path".into(),
                message: format!("must be / or under {database}"),
            });
        }
        // `rpc` is `{base}/<database>/rpc/`.
        let mut root = self.rpc.clone();
        if let Ok(mut path) = root.path_segments_mut() {
            path.pop().pop().pop();
        }
        let url = crate::passthrough::target(&root, &request.path)?;
        let send = |session: &Session| {
            let mut auth = reqwest::header::HeaderMap::new();
            auth.insert(AUTHORIZATION, session.authorization.clone());
            crate::passthrough::send(self.http, url.clone(), request, auth)
        };
        let session = self.session().await?;
        let answer = send(&session).await?;
        if matches!(answer.status, 401 | 403) {
            self.sessions.forget(&self.key, &session);
            let session = self.fresh_session().await?;
            return send(&session).await;
        }
        Ok(answer)
    }

    /// The cached session, or a new one.
    pub async fn session(&self) -> Result<Arc<Session>, ConnectorError> {
        match self.sessions.get(&self.key) {
            Some(session) => Ok(session),
            None => self.fresh_session().await,
        }
    }

    async fn fresh_session(&self) -> Result<Arc<Session>, ConnectorError> {
        let session = Arc::new(self.login().await?);
        self.sessions.put(self.key.clone(), session.clone());
        Ok(session)
    }

    /// `common.db.login`, then the user's preferences as the call context.
    ///
    /// Sent without retries: Tryton answers 429 to a login after too many failures, counts every
    /// further attempt, and delays each failed one by up to 2ⁿ s — retrying would only extend
    /// the lockout. A 429 is [`ConnectorError::RateLimited`] for [`LOGIN_LOCKOUT`].
    pub async fn login(&self) -> Result<Session, ConnectorError> {
        let body = rpc_body(
            "common.db.login",
            vec![
                json!(self.username),
                json!({ "password": self.password }),
                json!("en"),
            ],
        );
        let request = ApiRequest::new(Method::POST, self.rpc.clone()).json(body);
        let answer = match self.login_http.send(&request).await {
            Ok(response) => response.json::<Value>()?,
            Err(e) => return Err(self.login_error(e)),
        };
        let result = rpc_result(answer).map_err(|e| match e {
            // e.g. `LoginException` asking for another parameter (a second factor).
            RpcError::Tryton { message, .. } => ConnectorError::CredentialsRejected {
                reason: format!("Tryton asks for more than a password: {message}"),
            },
            RpcError::Other(e) => e,
        })?;
        // 8.x answers [uid, token, bus_url]; 7.x [uid, token]; a refused login may be `false`.
        let (Some(uid), Some(token)) = (
            result.get(0).and_then(Value::as_i64),
            result.get(1).and_then(Value::as_str),
        ) else {
            return Err(self.rejected());
        };
        let mut authorization = HeaderValue::from_str(&format!(
            "Session {}",
            base64(format!("{}:{uid}:{token}", self.username).as_bytes())
        ))
        .map_err(|_| {
            invalid(
                "username",
                "contains characters not allowed in a header".into(),
            )
        })?;
        authorization.set_sensitive(true);
        let mut session = Session {
            uid,
            authorization,
            context: Map::new(),
            company_currency: None,
        };
        let preferences = self
            .send(
                &session,
                "model.res.user.get_preferences",
                vec![json!(true)],
                true,
            )
            .await?;
        if let Value::Object(preferences) = preferences {
            for key in CONTEXT_KEYS {
                if let Some(v) = preferences.get(*key).filter(|v| !v.is_null()) {
                    session.context.insert(key.to_string(), v.clone());
                }
            }
        }
        if let Some(company) = session.context.get("company").and_then(Value::as_i64) {
            let companies = self
                .send(
                    &session,
                    "model.company.company.read",
                    vec![json!([company]), json!(["currency.code"])],
                    true,
                )
                .await?;
            session.company_currency = companies
                .pointer("/0/currency./code")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        Ok(session)
    }

    fn rejected(&self) -> ConnectorError {
        ConnectorError::CredentialsRejected {
            reason: format!(
                "Tryton refused the login of user \"{}\" on database \"{}\" (wrong user name or password)",
                self.username, self.database
            ),
        }
    }

    fn login_error(&self, error: ConnectorError) -> ConnectorError {
        match error {
            ConnectorError::CredentialsRejected { .. } => self.rejected(),
            ConnectorError::RateLimited { .. } => ConnectorError::RateLimited {
                retry_after: Some(LOGIN_LOCKOUT),
            },
            ConnectorError::NotFound => invalid(
                "database",
                format!("this Tryton server has no database \"{}\"", self.database),
            ),
            // 7.x and older serve `/<db>/`, where `/<db>/rpc/` is not a route.
            ConnectorError::Upstream { status: 405, .. } => invalid(
                "base_url",
                "no Tryton 8.x JSON-RPC endpoint answers at this URL (405 on /<database>/rpc/)"
                    .into(),
            ),
            other => other,
        }
    }

    /// Calls `method` with `params` and the session context (merged with `context`), logging in
    /// first if needed and once more if the session was refused. `idempotent` says whether the
    /// HTTP layer may repeat the call after a failure that leaves unknown whether it ran.
    pub async fn call(
        &self,
        method: &str,
        params: Vec<Value>,
        context: Option<&Map<String, Value>>,
        idempotent: bool,
    ) -> Result<Value, ConnectorError> {
        let session = self.session().await?;
        let with_context = |session: &Session| {
            let mut ctx = session.context.clone();
            if let Some(extra) = context {
                ctx.extend(extra.clone());
            }
            let mut params = params.clone();
            params.push(Value::Object(ctx));
            params
        };
        match self
            .send_raw(&session, method, with_context(&session), idempotent)
            .await
        {
            Err(ConnectorError::CredentialsRejected { .. }) => {
                self.sessions.forget(&self.key, &session);
                let session = self.fresh_session().await?;
                self.send_raw(&session, method, with_context(&session), idempotent)
                    .await
            }
            other => other,
        }
    }

    /// One call with `session` and its context, no re-login.
    async fn send(
        &self,
        session: &Session,
        method: &str,
        mut params: Vec<Value>,
        idempotent: bool,
    ) -> Result<Value, ConnectorError> {
        params.push(Value::Object(session.context.clone()));
        self.send_raw(session, method, params, idempotent).await
    }

    async fn send_raw(
        &self,
        session: &Session,
        method: &str,
        params: Vec<Value>,
        idempotent: bool,
    ) -> Result<Value, ConnectorError> {
        let request = ApiRequest::new(Method::POST, self.rpc.clone())
            .header(AUTHORIZATION, session.authorization.clone())
            .json(rpc_body(method, params))
            .idempotent(idempotent);
        let answer: Value = self.http.send_json(&request).await?;
        rpc_result(answer).map_err(|e| match e {
            RpcError::Tryton { kind, message } => classify_tryton(&kind, message, idempotent),
            RpcError::Other(e) => e,
        })
    }

    /// `model.<model>.search_read(domain, offset, limit, order, fields)`.
    #[allow(clippy::too_many_arguments)]
    pub async fn search_read(
        &self,
        model: &str,
        domain: Value,
        offset: u64,
        limit: Option<u32>,
        order: Value,
        fields: &[&str],
        context: Option<&Map<String, Value>>,
    ) -> Result<Vec<Map<String, Value>>, ConnectorError> {
        let result = self
            .call(
                &format!("model.{model}.search_read"),
                vec![domain, json!(offset), json!(limit), order, json!(fields)],
                context,
                true,
            )
            .await?;
        records(model, result)
    }

    /// `model.<model>.read(ids, fields)`; Tryton answers a `UserError` for a missing id.
    pub async fn read(
        &self,
        model: &str,
        ids: &[i64],
        fields: &[&str],
    ) -> Result<Vec<Map<String, Value>>, ConnectorError> {
        let result = self
            .call(
                &format!("model.{model}.read"),
                vec![json!(ids), json!(fields)],
                None,
                true,
            )
            .await?;
        records(model, result)
    }

    /// `model.<model>.create([values…])` → the new ids. One call is one transaction: x2many
    /// `["create", […]]` commands inside `values` are created with their parent or not at all.
    pub async fn create(
        &self,
        model: &str,
        values: Vec<Value>,
    ) -> Result<Vec<i64>, ConnectorError> {
        let result = self
            .call(
                &format!("model.{model}.create"),
                vec![Value::Array(values)],
                None,
                false,
            )
            .await?;
        result
            .as_array()
            .and_then(|ids| ids.iter().map(Value::as_i64).collect::<Option<Vec<_>>>())
            .ok_or_else(|| unexpected(&format!("{model}.create answered {result}")))
    }

    /// `model.<model>.write(ids, values)`.
    pub async fn write(
        &self,
        model: &str,
        ids: &[i64],
        values: Value,
    ) -> Result<(), ConnectorError> {
        self.call(
            &format!("model.{model}.write"),
            vec![json!(ids), values],
            None,
            // Sets absolute values: repeating it is harmless.
            true,
        )
        .await
        .map(|_| ())
    }

    /// A workflow button (`quote`, `confirm`, …): `model.<model>.<button>(ids)`.
    pub async fn button(
        &self,
        model: &str,
        button: &str,
        ids: &[i64],
    ) -> Result<(), ConnectorError> {
        self.call(
            &format!("model.{model}.{button}"),
            vec![json!(ids)],
            None,
            false,
        )
        .await
        .map(|_| ())
    }
}

/// A JSON-RPC body with exactly the keys `id`, `method`, `params`: with any other key Tryton
/// turns business errors into HTTP statuses instead of in-band errors (§1.3).
fn rpc_body(method: &str, params: Vec<Value>) -> Value {
    json!({
        "id": NEXT_ID.fetch_add(1, Ordering::Relaxed),
        "method": method,
        "params": params,
    })
}

/// An in-band error, before classification.
enum RpcError {
    /// `[kind, args]` of a Tryton exception, with its readable message.
    Tryton {
        kind: String,
        message: String,
    },
    Other(ConnectorError),
}

/// The `result` of a response, or its `error`.
fn rpc_result(answer: Value) -> Result<Value, RpcError> {
    let Value::Object(mut answer) = answer else {
        return Err(RpcError::Other(unexpected(&format!(
            "not an object: {answer}"
        ))));
    };
    if let Some(error) = answer.remove("error").filter(|e| !e.is_null()) {
        return Err(RpcError::Tryton {
            kind: error
                .get(0)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            message: error_message(&error),
        });
    }
    answer
        .remove("result")
        .ok_or_else(|| RpcError::Other(unexpected("neither result nor error")))
}

/// The readable text of an `error` member: `["UserError", [message, description, domain]]`,
/// `["UserWarning", [name, message, description]]`, `["ConcurrencyException", message]`, or
/// `[str(exception), traceback]` for anything else.
fn error_message(error: &Value) -> String {
    let kind = error.get(0).and_then(Value::as_str).unwrap_or_default();
    let args = error.get(1);
    let parts: Vec<&str> = match (kind, args) {
        ("UserError", Some(Value::Array(a))) => {
            a.iter().take(2).filter_map(Value::as_str).collect()
        }
        ("UserWarning", Some(Value::Array(a))) => {
            a.iter().skip(1).take(2).filter_map(Value::as_str).collect()
        }
        ("LoginException", Some(Value::Array(a))) => {
            a.get(1).and_then(Value::as_str).into_iter().collect()
        }
        (_, Some(Value::String(s))) if kind.ends_with("Exception") => vec![s],
        // A Python exception's text (`'no.model'` for a KeyError); the traceback is for logs.
        _ => vec![kind],
    };
    let text = parts
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" — ");
    if text.is_empty() {
        error.to_string()
    } else {
        text
    }
}

/// What a Tryton exception means. `UserError` is a business refusal of a write; on a read it
/// is Tryton saying the user may not see the records ("You are not allowed to read…") or they
/// do not exist.
fn classify_tryton(kind: &str, message: String, read: bool) -> ConnectorError {
    match kind {
        "UserError" if read && message.contains("don't exist") => ConnectorError::NotFound,
        "UserError" if read && message.contains("not allowed") => {
            ConnectorError::PermissionDenied { reason: message }
        }
        "UserError" | "UserWarning" | "ConcurrencyException" => {
            ConnectorError::Rejected { message }
        }
        "LoginException" => ConnectorError::CredentialsRejected { reason: message },
        "RateLimitException" => ConnectorError::RateLimited {
            retry_after: Some(LOGIN_LOCKOUT),
        },
        _ => ConnectorError::Upstream {
            status: 200,
            message: format!("Tryton error: {message}"),
        },
    }
}

fn records(model: &str, result: Value) -> Result<Vec<Map<String, Value>>, ConnectorError> {
    let Value::Array(items) = result else {
        return Err(unexpected(&format!("{model}: expected a list of records")));
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Object(record) => Ok(record),
            other => Err(unexpected(&format!("{model}: a record is {other}"))),
        })
        .collect()
}

fn unexpected(what: &str) -> ConnectorError {
    let mut text = what.to_string();
    if text.len() > 300 {
        text = format!("{}…", text.chars().take(300).collect::<String>());
    }
    ConnectorError::Upstream {
        status: 200,
        message: format!("unexpected Tryton answer: {text}"),
    }
}

fn invalid(field: &str, message: String) -> ConnectorError {
    ConnectorError::Invalid {
        field: format!("credentials.{field}"),
        message,
    }
}

/// Standard base64 with padding (RFC 4648 §4), for the `Session` header: the one place the
/// connector needs it, not worth a dependency.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(base: &str) -> Credentials {
        Credentials(
            [
                ("base_url", base),
                ("database", "erp db"),
                ("username", "admin"),
                ("password", "secret"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        )
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (raw, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(raw.as_bytes()), encoded);
        }
        // The reference's example header: `Session YWRtaW46MTo3NTcx…` for admin:1:7571….
        assert!(base64(b"admin:1:7571").starts_with("YWRtaW46MTo3NTcx"));
    }

    #[test]
    fn database_calls_go_to_db_rpc() {
        let http = HttpClient::new(Default::default()).unwrap();
        let sessions = Sessions::default();
        let client = Client::new(
            &http,
            &http,
            &sessions,
            &credentials("http://127.0.0.1:8000/"),
        )
        .unwrap();
        assert_eq!(client.rpc.as_str(), "http://127.0.0.1:8000/erp%20db/rpc/");
        let other = Client::new(
            &http,
            &http,
            &sessions,
            &credentials("http://127.0.0.1:8000"),
        )
        .unwrap();
        assert_eq!(other.key, client.key, "same connection, same session");
        let mut changed = credentials("http://127.0.0.1:8000");
        changed.0.insert("password".into(), "new".into());
        let changed = Client::new(&http, &http, &sessions, &changed).unwrap();
        assert_ne!(
            changed.key, client.key,
            "a new password never reuses a session"
        );
        assert!(!format!("{:?}", changed.key).contains("new"));
    }

    #[test]
    fn in_band_errors_are_classified_with_their_message() {
        let user_error = json!({"id": 1, "error": ["UserError", [
            "A value is required for field \"Invoice Address\" in record \"1\" of \"Purchase\".", "", null]]});
        let Err(RpcError::Tryton { kind, message }) = rpc_result(user_error) else {
            panic!("expected an error")
        };
        assert_eq!(kind, "UserError");
        assert_eq!(
            message,
            "A value is required for field \"Invoice Address\" in record \"1\" of \"Purchase\"."
        );
        assert!(matches!(
            classify_tryton(&kind, message, false),
            ConnectorError::Rejected { message } if message.starts_with("A value is required")
        ));
        let missing = "You are trying to read records \"999\" of \"Purchase\" that don't exist.";
        assert!(matches!(
            classify_tryton("UserError", missing.into(), true),
            ConnectorError::NotFound
        ));
        let Err(RpcError::Tryton { kind, message }) =
            rpc_result(json!({"id": 1, "error": ["'no.model'", ""]}))
        else {
            panic!()
        };
        assert!(matches!(
            classify_tryton(&kind, message, true),
            ConnectorError::Upstream { status: 200, message } if message.contains("'no.model'")
        ));
        let Err(RpcError::Tryton { message, .. }) = rpc_result(
            json!({"error": ["ConcurrencyException", "Records were modified in the meanwhile"]}),
        ) else {
            panic!()
        };
        assert_eq!(message, "Records were modified in the meanwhile");
        assert_eq!(
            rpc_result(json!({"id": 1, "result": null})).ok(),
            Some(Value::Null)
        );
        assert!(rpc_result(json!([1])).is_err());
    }
}
