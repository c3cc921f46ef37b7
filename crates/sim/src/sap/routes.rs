//! Request dispatch for `/sap/opu/odata/sap/<SERVICE>/<resource>`: service documents,
//! `$metadata`, collections, single entities, navigation collections, the CSRF token handshake
//! and creates.

use std::sync::Arc;

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::data::{self, find_set, SetDef, SETS, VALIDITY_END_MS};
use super::odata::{parse_filter, parse_orderby, text_response, ODataError};
use super::store::{Listing, Order, Resume};
use super::{lock, writes, Sap, MAX_PAGE_SIZE, SYSTEM_ID};
use crate::control::json_response;
use crate::query::{self, Query};

const PREFIX: &str = "/sap/opu/odata/sap/";

/// Largest request body read (a purchase order with many items is still far below).
const MAX_BODY: usize = 1 << 20;

/// The request as the handlers need it.
pub(crate) struct Ctx {
    /// `http://host:port/sap/opu/odata/sap/<SERVICE>/`, for `__metadata` and `__next`.
    pub(crate) service_root: String,
    pub(crate) query: Query,
    /// The raw query string, re-used (minus paging options) in `__next`.
    pub(crate) raw_query: String,
}

impl Ctx {
    pub(crate) fn entity_uri(&self, def: &SetDef, key: &str) -> String {
        let quoted = key.replace('\'', "''");
        if def.kind == data::Kind::Equipment {
            // Equipment is keyed by number and validity end (time segments).
            let end = chrono::DateTime::from_timestamp_millis(VALIDITY_END_MS)
                .unwrap_or_default()
                .format("%Y-%m-%dT%H%%3A%M%%3A%S");
            return format!(
                "{}{}(Equipment='{quoted}',ValidityEndDate=datetime'{end}')",
                self.service_root, def.set
            );
        }
        format!(
            "{}{}('{}')",
            self.service_root,
            def.set,
            query::encode(&quoted)
        )
    }
}

/// Entry point for every OData call (authentication already passed).
pub(crate) async fn handle(State(sap): State<Arc<Sap>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let query = Query::parse(parts.uri.query());
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    let transaction = {
        let mut rng = lock(&sap.tokens);
        rng.alnum(32)
    };
    let rest = path.strip_prefix(PREFIX).unwrap_or("");
    let (service_raw, resource) = rest.split_once('/').unwrap_or((rest, ""));
    let service = percent_decode(service_raw);
    let resource = percent_decode(resource);
    if !SETS
        .iter()
        .any(|d| d.service.eq_ignore_ascii_case(&service))
    {
        return ODataError::new(
            StatusCode::NOT_FOUND,
            "/IWFND/MED/170",
            format!("No service found for namespace '', name '{service}', version '0001'"),
        )
        .into_response(&transaction);
    }
    // Gateway checks `S_SERVICE` before anything of the service runs, CSRF fetches included.
    if let Err(e) = sap.credentials().authorize(&service) {
        return e.into_response(&transaction);
    }
    let ctx = Ctx {
        service_root: format!("http://{host}{PREFIX}{service_raw}/"),
        query,
        raw_query: parts.uri.query().unwrap_or("").to_owned(),
    };
    let fetch = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("fetch"));
    let result = match parts.method.clone() {
        Method::GET | Method::HEAD => read(&sap, &ctx, &service, &resource),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE => {
            if !csrf_valid(&sap, &parts.headers) {
                return csrf_required();
            }
            if parts.method != Method::POST {
                Err(ODataError::new(
                    StatusCode::NOT_IMPLEMENTED,
                    "/IWBEP/CM_MGW_RT/021",
                    "Method not implemented in the simulator; only creates are served",
                ))
            } else {
                match to_bytes(body, MAX_BODY).await {
                    Ok(bytes) => create(&sap, &ctx, &service, &resource, &bytes),
                    Err(_) => Err(ODataError::syntax("Request body too large")),
                }
            }
        }
        other if other.as_str() == "MERGE" => {
            if !csrf_valid(&sap, &parts.headers) {
                return csrf_required();
            }
            Err(ODataError::new(
                StatusCode::NOT_IMPLEMENTED,
                "/IWBEP/CM_MGW_RT/021",
                "Method not implemented in the simulator; only creates are served",
            ))
        }
        _ => Err(ODataError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "/IWFND/CM_BEC/026",
            "Method not allowed",
        )),
    };
    let mut response = match result {
        Ok(response) => response,
        Err(e) => e.into_response(&transaction),
    };
    if fetch && parts.method == Method::GET {
        issue_token(&sap, response.headers_mut());
    }
    response
}

/// `%XX` decoding of a path piece (keys arrive as `Equipment('10000000')` or with `%27`).
fn percent_decode(text: &str) -> String {
    Query::parse(Some(&format!("x={}", text.replace('+', "%2B"))))
        .get("x")
        .unwrap_or_default()
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// CSRF.

fn cookie_name(client: &str) -> String {
    format!("SAP_SESSIONID_{SYSTEM_ID}_{client}")
}

/// Starts a session with a fresh token: `x-csrf-token` and the session cookie.
fn issue_token(sap: &Sap, headers: &mut HeaderMap) {
    let (session, token) = {
        let mut rng = lock(&sap.tokens);
        (rng.alnum(40), format!("{}==", rng.alnum(22)))
    };
    lock(&sap.sessions).insert(session.clone(), token.clone());
    let client = sap.credentials().client;
    if let Ok(v) = HeaderValue::from_str(&token) {
        headers.insert("x-csrf-token", v);
    }
    for cookie in [
        format!("{}={session}; path=/; HttpOnly", cookie_name(&client)),
        format!("sap-usercontext=sap-client={client}; path=/"),
    ] {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, v);
        }
    }
}

/// Whether the request carries the token of the session its cookie names.
fn csrf_valid(sap: &Sap, headers: &HeaderMap) -> bool {
    let Some(token) = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let name = cookie_name(&sap.credentials().client);
    let session = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned());
    let Some(session) = session else {
        return false;
    };
    lock(&sap.sessions)
        .get(&session)
        .is_some_and(|t| t == token)
}

/// Gateway's answer to a modifying request without a valid token.
fn csrf_required() -> Response {
    let mut response = text_response(
        StatusCode::FORBIDDEN,
        "CSRF token validation failed",
        "text/plain; charset=utf-8",
    );
    response
        .headers_mut()
        .insert("x-csrf-token", HeaderValue::from_static("Required"));
    response
}

// ---------------------------------------------------------------------------------------------
// Reads.

/// A `{"d": …}` answer.
fn d(status: StatusCode, value: Value) -> Response {
    let mut response = json_response(
        status,
        serde_json::to_vec(&json!({ "d": value })).unwrap_or_default(),
    );
    response
        .headers_mut()
        .insert("dataserviceversion", HeaderValue::from_static("2.0"));
    response
}

fn read(sap: &Sap, ctx: &Ctx, service: &str, resource: &str) -> Result<Response, ODataError> {
    if resource.is_empty() {
        let sets: Vec<&str> = SETS
            .iter()
            .filter(|d| d.service.eq_ignore_ascii_case(service))
            .map(|d| d.set)
            .collect();
        return Ok(d(StatusCode::OK, json!({ "EntitySets": sets })));
    }
    if resource == "$metadata" {
        return Ok(metadata(service));
    }
    let (set_part, nav) = match resource.split_once(")/") {
        Some((head, nav)) => (format!("{head})"), Some(nav.to_owned())),
        None => (resource.to_owned(), None),
    };
    let (set_name, key) = match set_part.split_once('(') {
        Some((name, args)) => (
            name.to_owned(),
            Some(args.strip_suffix(')').ok_or_else(|| {
                ODataError::syntax(format!("Invalid key predicate in '{resource}'"))
            })?),
        ),
        None => (set_part.clone(), None),
    };
    let def = find_set(service, &set_name).ok_or_else(|| {
        ODataError::not_found(format!("Resource not found for segment '{set_name}'"))
    })?;
    let Some(key) = key else {
        return list(sap, ctx, def);
    };
    let key = key_value(def, key)
        .ok_or_else(|| ODataError::syntax(format!("Invalid key predicate '{key}'")))?;
    let record = data::index_of(def, &key)
        .and_then(|i| sap.db().set(def.kind).get(&sap.world, def.kind, i))
        .ok_or_else(|| ODataError::not_found("Resource not found for segment"))?;
    match nav {
        None => Ok(d(StatusCode::OK, render(ctx, def, record, true))),
        Some(nav) => {
            let results = match record.get(&nav) {
                Some(Value::Object(o)) => o.get("results").cloned().unwrap_or(json!([])),
                _ if def.navigations.contains(&nav.as_str()) => json!([]),
                _ => {
                    return Err(ODataError::not_found(format!(
                        "Resource not found for segment '{nav}'"
                    )))
                }
            };
            let results: Vec<Value> = results
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|item| render_item(ctx, item))
                .collect();
            Ok(d(StatusCode::OK, json!({ "results": results })))
        }
    }
}

/// The key value of a key predicate: `'x'`, `Key='x'`, or `Equipment='x',ValidityEndDate=…`.
fn key_value(def: &SetDef, args: &str) -> Option<String> {
    let unquote = |v: &str| {
        v.trim()
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .map(|v| v.replace("''", "'"))
    };
    if !args.contains('=') {
        return unquote(args);
    }
    args.split(',')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.trim() == def.key)
        .and_then(|(_, v)| unquote(v))
}

fn list(sap: &Sap, ctx: &Ctx, def: &'static SetDef) -> Result<Response, ODataError> {
    let q = &ctx.query;
    let filter = q
        .get("$filter")
        .filter(|f| !f.trim().is_empty())
        .map(parse_filter)
        .transpose()
        .map_err(|e| ODataError::syntax(format!("Invalid filter expression: {e}")))?;
    if let Some(f) = &filter {
        if !def.has_change_time && f.time_lower_bound("LastChangeDateTime").is_some() {
            return Err(ODataError::bad_property(
                "/IWBEP/CM_MGW_RT/005",
                format!(
                    "Property 'LastChangeDateTime' is invalid for entity type '{}'",
                    def.type_name
                ),
                "LastChangeDateTime",
            ));
        }
    }
    let terms = parse_orderby(q.get("$orderby").unwrap_or(""))
        .map_err(|e| ODataError::syntax(format!("Invalid $orderby: {e}")))?;
    let number = |name: &str| -> Result<Option<u64>, ODataError> {
        q.get(name)
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| ODataError::syntax(format!("Invalid value '{v}' for {name}")))
            })
            .transpose()
    };
    let top = number("$top")?;
    let skip = number("$skip")?.unwrap_or(0);
    let resume = match q.get("$skiptoken") {
        Some(token) => Some(
            Resume::parse(token)
                .ok_or_else(|| ODataError::syntax(format!("Invalid $skiptoken '{token}'")))?,
        ),
        None => None,
    };
    let order = Order::of(def, &terms);
    let db = sap.db();
    let listing = Listing {
        world: &sap.world,
        def,
        set: db.set(def.kind),
        filter: filter.as_ref(),
        order: &order,
    };
    let limit = top.map_or(MAX_PAGE_SIZE, |t| (t as usize).min(MAX_PAGE_SIZE));
    // Fast path for `Key eq '…'` (a lookup by key written as a filter).
    let (rows, more) = match filter.as_ref().and_then(|f| f.key_equals(def.key)) {
        Some(key) if matches!(order, Order::Key) && resume.is_none() => {
            let found = data::index_of(def, &key)
                .and_then(|i| listing.set.get(&sap.world, def.kind, i).map(|r| (i, r)))
                .filter(|(_, r)| listing.filter.is_none_or(|f| f.matches(r)));
            let rows: Vec<_> = found
                .into_iter()
                .skip(skip as usize)
                .take(limit)
                .map(|(i, r)| (r, Resume::Key(i)))
                .collect();
            (rows, false)
        }
        _ => listing.page(resume, skip, limit),
    };
    let count = (q.get("$inlinecount") == Some("allpages")).then(|| listing.count());
    drop(db);
    let served = rows.len() as u64;
    let last = rows.last().map(|(_, r)| *r);
    let expand: Vec<&str> = q
        .get("$expand")
        .map(|e| e.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let select: Vec<&str> = q
        .get("$select")
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let results: Vec<Value> = rows
        .into_iter()
        .map(|(r, _)| shape(ctx, def, r, &expand, &select))
        .collect();
    let mut body = Map::new();
    body.insert("results".into(), Value::Array(results));
    if let Some(count) = count {
        body.insert("__count".into(), Value::String(count.to_string()));
    }
    // Server-driven paging: the client asked for more than one page holds (or for all).
    let remaining = top.map(|t| t.saturating_sub(served));
    if more && remaining.is_none_or(|r| r > 0) {
        if let Some(last) = last {
            body.insert(
                "__next".into(),
                Value::String(next_url(ctx, def, last, remaining)),
            );
        }
    }
    Ok(d(StatusCode::OK, Value::Object(body)))
}

/// The `__next` link: the same query, without `$skip`, with `$skiptoken` and the `$top` left.
fn next_url(ctx: &Ctx, def: &SetDef, last: Resume, remaining: Option<u64>) -> String {
    let mut pairs = vec![format!("$skiptoken={}", query::encode(&last.token()))];
    if let Some(r) = remaining {
        pairs.push(format!("$top={r}"));
    }
    for pair in ctx.raw_query.split('&').filter(|p| !p.is_empty()) {
        let key = percent_decode(pair.split('=').next().unwrap_or(""));
        if !matches!(key.as_str(), "$skiptoken" | "$skip" | "$top") {
            pairs.push(pair.to_owned());
        }
    }
    format!("{}{}?{}", ctx.service_root, def.set, pairs.join("&"))
}

/// A record as the wire shows it: `__metadata` first, navigations deferred or expanded,
/// `$select` applied.
fn shape(
    ctx: &Ctx,
    def: &SetDef,
    record: Map<String, Value>,
    expand: &[&str],
    select: &[&str],
) -> Value {
    let mut out = render_map(ctx, def, record, expand);
    if !select.is_empty() && !select.contains(&"*") {
        out.retain(|k, _| k == "__metadata" || select.contains(&k.as_str()));
    }
    Value::Object(out)
}

/// A single entity (`…/Set('key')`): navigations expanded only when asked.
pub(crate) fn render(ctx: &Ctx, def: &SetDef, record: Map<String, Value>, read: bool) -> Value {
    let expand: Vec<&str> = if read {
        ctx.query
            .get("$expand")
            .map(|e| e.split(',').map(str::trim).collect())
            .unwrap_or_default()
    } else {
        // A create answers what was inserted, items included.
        def.navigations.to_vec()
    };
    Value::Object(render_map(ctx, def, record, &expand))
}

fn render_map(
    ctx: &Ctx,
    def: &SetDef,
    mut record: Map<String, Value>,
    expand: &[&str],
) -> Map<String, Value> {
    let key = record
        .get(def.key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let uri = ctx.entity_uri(def, &key);
    let mut out = Map::new();
    let time = record
        .get("LastChangeDateTime")
        .and_then(Value::as_str)
        .and_then(super::odata::parse_date);
    let mut meta = json!({"id": uri, "uri": uri, "type": def.type_name});
    if let Some(t) = time {
        // Weak ETag from the change time, as Gateway derives it.
        meta["etag"] = json!(format!("W/\"datetimeoffset'{}'\"", iso_etag(t)));
    }
    out.insert("__metadata".into(), meta);
    for nav in def.navigations {
        let stored = record.remove(*nav);
        let value = if expand.contains(nav) {
            let items = stored
                .and_then(|s| s.get("results").cloned())
                .and_then(|r| r.as_array().cloned())
                .unwrap_or_default();
            json!({"results": items.into_iter().map(|i| render_item(ctx, i)).collect::<Vec<_>>()})
        } else {
            json!({"__deferred": {"uri": format!("{uri}/{nav}")}})
        };
        record.insert((*nav).to_owned(), value);
    }
    out.extend(record);
    out
}

fn iso_etag(ms: i64) -> String {
    // Gateway prints seven fractional digits; chrono has no `%7f`.
    let seconds = chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H%%3A%M%%3A%S");
    format!("{seconds}.{:07}Z", ms.rem_euclid(1000) * 10_000)
}

/// A purchase order item (or another inline child) with its `__metadata`.
fn render_item(ctx: &Ctx, item: Value) -> Value {
    let Value::Object(map) = item else {
        return item;
    };
    let mut out = Map::new();
    if let (Some(po), Some(n)) = (
        map.get("PurchaseOrder").and_then(Value::as_str),
        map.get("PurchaseOrderItem").and_then(Value::as_str),
    ) {
        let uri = format!(
            "{}A_PurchaseOrderItem(PurchaseOrder='{po}',PurchaseOrderItem='{n}')",
            ctx.service_root
        );
        out.insert(
            "__metadata".into(),
            json!({"id": uri, "uri": uri, "type": data::PO_ITEM_TYPE}),
        );
    }
    out.extend(map);
    Value::Object(out)
}

/// A minimal EDMX naming the entity sets of `service`, enough for tools that probe it.
fn metadata(service: &str) -> Response {
    let sets: String = SETS
        .iter()
        .filter(|d| d.service.eq_ignore_ascii_case(service))
        .map(|d| {
            let ty = d.type_name.rsplit('.').next().unwrap_or(d.set);
            format!("<EntitySet Name=\"{}\" EntityType=\"{}\"/>", d.set, ty)
        })
        .collect();
    let namespace = service.split(';').next().unwrap_or(service);
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><edmx:Edmx Version=\"1.0\" \
         xmlns:edmx=\"http://schemas.microsoft.com/ado/2007/06/edmx\"><edmx:DataServices \
         m:DataServiceVersion=\"2.0\" xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\">\
         <Schema Namespace=\"{namespace}\" xmlns=\"http://schemas.microsoft.com/ado/2008/09/edm\">\
         <EntityContainer Name=\"{namespace}_Entities\" m:IsDefaultEntityContainer=\"true\">{sets}\
         </EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
    );
    text_response(StatusCode::OK, &body, "application/xml")
}

// ---------------------------------------------------------------------------------------------
// Creates.

fn create(
    sap: &Sap,
    ctx: &Ctx,
    service: &str,
    resource: &str,
    body: &[u8],
) -> Result<Response, ODataError> {
    let def = find_set(service, resource).ok_or_else(|| {
        ODataError::not_found(format!("Resource not found for segment '{resource}'"))
    })?;
    let body: Value = serde_json::from_slice(body)
        .map_err(|e| ODataError::syntax(format!("The request body is not valid JSON: {e}")))?;
    // Some clients wrap the entity in `d`, as responses do.
    let body = match body {
        Value::Object(mut o) if o.len() == 1 && o.contains_key("d") => {
            o.remove("d").unwrap_or_default()
        }
        other => other,
    };
    let Value::Object(body) = body else {
        return Err(ODataError::syntax("The request body must be a JSON object"));
    };
    let record = match def.kind {
        data::Kind::MaintenanceOrder => writes::maintenance_order(sap, body)?,
        data::Kind::PurchaseOrder => writes::purchase_order(sap, body)?,
        _ => {
            return Err(ODataError::new(
                StatusCode::NOT_IMPLEMENTED,
                "/IWBEP/CM_MGW_RT/021",
                format!(
                    "Method '{}_CREATE_ENTITY' not implemented in data provider class",
                    def.set.to_ascii_uppercase()
                ),
            ))
        }
    };
    let key = record
        .get(def.key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let location = ctx.entity_uri(def, &key);
    let mut response = d(StatusCode::CREATED, render(ctx, def, record, false));
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}
