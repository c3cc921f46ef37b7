//! Connections: the list across customers, one connection's page (health, syncs, settings,
//! field mappings with a preview) and its actions — sync, full resync, pause/resume, edit,
//! new token, reauthorize, disconnect, delete data. Each action calls the API's handler.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::Response,
    routing::{get, post},
    Json, Router,
};
use http::StatusCode;
use millwright_api::{
    auth::{ConnectionAuth, Via},
    extract::{ApiJson, ApiQuery},
    pagination::PageParams,
    routes::{connections as api, credits, field_mappings_route, health, records, sync},
    views::ConnectionView,
    ApiError, ApiResult, AppState,
};
use millwright_core::{status::ConnectionStatus, Entity};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::csrf::Posted;
use super::session::SignedIn;
use super::view::{self, describe, pretty, ts, ts_opt, Flash, Layout};
use super::{api_error_page, not_found};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard/connections", get(list))
        .route("/dashboard/connections/{id}", get(detail))
        .route("/dashboard/connections/{id}/sync", post(trigger_sync))
        .route("/dashboard/connections/{id}/pause", post(pause))
        .route("/dashboard/connections/{id}/edit", post(edit))
        .route("/dashboard/connections/{id}/mappings", post(mappings))
        .route("/dashboard/connections/{id}/token", post(new_token))
        .route(
            "/dashboard/connections/{id}/reauthorize",
            get(reauthorize_form).post(reauthorize),
        )
        .route(
            "/dashboard/connections/{id}/disconnect",
            get(disconnect_confirm).post(disconnect),
        )
        .route(
            "/dashboard/connections/{id}/delete-data",
            get(delete_data_confirm).post(delete_data),
        )
}

/// Every status, for the filter.
const STATUSES: [ConnectionStatus; 6] = [
    ConnectionStatus::Pending,
    ConnectionStatus::Syncing,
    ConnectionStatus::Active,
    ConnectionStatus::Offline,
    ConnectionStatus::RequiresReauthorization,
    ConnectionStatus::Disconnected,
];

/// How many connections the list reads at most (100 per API page).
const LIST_CAP_PAGES: usize = 20;

/// `requires_reauthorization` → `requires reauthorization`.
pub(crate) fn status_label(s: ConnectionStatus) -> String {
    s.as_str().replace('_', " ")
}

/// The page of a connection.
fn here(id: &str) -> String {
    format!("/dashboard/connections/{}", view::percent_encode(id))
}

/// An action's API result: a redirect to `back` with `ok`'s message, the error's message, or
/// a 404 page when the object is not this workspace's (nothing was changed).
fn after<T>(me: &SignedIn, back: &str, r: ApiResult<T>, ok: impl FnOnce(T) -> String) -> Response {
    match r {
        Ok(v) => me.redirect(back, Flash::ok(ok(v))),
        Err(e) if e.parts().0 == StatusCode::NOT_FOUND => not_found("connection"),
        Err(e) => me.redirect(back, Flash::error(describe(&e))),
    }
}

async fn load(state: &AppState, me: &SignedIn, id: &str) -> ApiResult<ConnectionView> {
    api::get(State(state.clone()), me.auth(), Path(id.to_string()))
        .await
        .map(|Json(c)| c)
}

// --- list --------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    connector: String,
    #[serde(default)]
    q: String,
}

struct Row {
    id: String,
    href: String,
    name: String,
    connector: String,
    deployment: &'static str,
    status: String,
    status_class: &'static str,
    health: String,
    health_class: String,
    credits: i64,
    last_sync: String,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "dashboard/connections.html")]
struct ListPage {
    l: Layout,
    rows: Vec<Row>,
    statuses: Vec<Choice>,
    connectors: Vec<Choice>,
    q: String,
    filtered: bool,
    truncated: bool,
    total_credits: i64,
}

fn status_class(s: ConnectionStatus) -> &'static str {
    match s {
        ConnectionStatus::Active => "good",
        ConnectionStatus::Pending | ConnectionStatus::Syncing => "info",
        ConnectionStatus::Offline | ConnectionStatus::RequiresReauthorization => "bad",
        ConnectionStatus::Disconnected => "muted",
    }
}

fn row(state: &AppState, c: &ConnectionView) -> Row {
    let connector = state
        .connectors
        .descriptor(&c.connector)
        .map(|d| d.name.to_string())
        .unwrap_or_else(|| c.connector.clone());
    let (health, health_class) = match &c.health {
        Some(h) => (
            match h.latency_ms {
                Some(ms) => format!("{} · {ms} ms", h.status),
                None => h.status.clone(),
            },
            h.status.clone(),
        ),
        None => ("not probed yet".into(), "muted".into()),
    };
    Row {
        id: c.id.clone(),
        href: here(&c.id),
        name: c.name.clone(),
        connector,
        deployment: c.deployment.as_str(),
        status: status_label(c.status),
        status_class: status_class(c.status),
        health,
        health_class,
        credits: if c.status == ConnectionStatus::Disconnected {
            0
        } else {
            c.credits
        },
        last_sync: ts_opt(&c.last_sync_at),
    }
}

/// `GET /dashboard/connections?status=&connector=&q=`.
async fn list(State(state): State<AppState>, me: SignedIn, Query(q): Query<ListQuery>) -> Response {
    let mut pairs = vec![("page_size".to_string(), "100".to_string())];
    if !q.status.is_empty() {
        pairs.push(("status".into(), q.status.clone()));
    }
    if !q.connector.is_empty() {
        pairs.push(("connector".into(), q.connector.clone()));
    }
    let needle = q.q.trim().to_lowercase();
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    let mut truncated = false;
    for page in 0.. {
        if page == LIST_CAP_PAGES {
            truncated = true;
            break;
        }
        let mut p = pairs.clone();
        if let Some(c) = &cursor {
            p.push(("cursor".into(), c.clone()));
        }
        let got = match api::list(State(state.clone()), me.auth(), ApiQuery(p)).await {
            Ok(Json(l)) => l,
            Err(e) => return api_error_page(&e),
        };
        // Name search happens here: the API filters by status and connector only.
        rows.extend(
            got.data
                .iter()
                .filter(|c| {
                    needle.is_empty()
                        || c.name.to_lowercase().contains(&needle)
                        || c.id.to_lowercase() == needle
                })
                .map(|c| row(&state, c)),
        );
        match got.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let total_credits = rows.iter().map(|r| r.credits).sum();
    let page = ListPage {
        l: me.layout("Connections", "connections"),
        statuses: STATUSES
            .iter()
            .map(|s| Choice {
                value: s.as_str().into(),
                label: status_label(*s),
                selected: q.status == s.as_str(),
            })
            .collect(),
        connectors: state
            .connectors
            .descriptors()
            .map(|d| Choice {
                value: d.id.into(),
                label: d.name.into(),
                selected: q.connector == d.id,
            })
            .collect(),
        filtered: !q.status.is_empty() || !q.connector.is_empty() || !needle.is_empty(),
        q: q.q,
        rows,
        truncated,
        total_credits,
    };
    me.page(&page)
}

// --- one connection ----------------------------------------------------------------------

struct EntityRow {
    entity: &'static str,
    status: &'static str,
    records: i64,
    last_success: String,
    next_run: String,
    error: String,
}

struct RunRow {
    id: String,
    entity: &'static str,
    mode: &'static str,
    status: &'static str,
    counts: String,
    started: String,
    finished: String,
    error: String,
}

struct ProbeRow {
    checked: String,
    status: String,
    latency: String,
    error: String,
}

struct Day {
    class: &'static str,
    title: String,
}

struct MappingRow {
    entity: &'static str,
    field: String,
    source: String,
    origin: &'static str,
}

#[derive(Template)]
#[template(path = "dashboard/connection.html")]
struct DetailPage {
    l: Layout,
    c: Row,
    disconnected: bool,
    paused: bool,
    created: String,
    disconnected_at: String,
    metadata: String,
    field_mappings: String,
    sync_settings: String,
    entities: Vec<EntityRow>,
    runs: Vec<RunRow>,
    probes: Vec<ProbeRow>,
    probes_total: usize,
    probes_ok: usize,
    days: Vec<Day>,
    mapping_rows: Vec<MappingRow>,
    mappings_note: String,
    preview_entities: Vec<Choice>,
    preview: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DetailQuery {
    #[serde(default)]
    preview: String,
}

fn day_class(uptime: f64, probes: i64) -> &'static str {
    if probes == 0 {
        "none"
    } else if uptime >= 99.9 {
        "up"
    } else if uptime >= 95.0 {
        "partial"
    } else {
        "down"
    }
}

/// `GET /dashboard/connections/{id}?preview=<entity>`.
async fn detail(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Response {
    let c = match load(&state, &me, &id).await {
        Ok(c) => c,
        Err(e) => return api_error_page(&e),
    };
    let st = || State(state.clone());
    // Independent reads: run them together.
    let (health, status, runs) = tokio::join!(
        health::history(st(), me.auth(), Path(id.clone())),
        sync::connection_sync_status(st(), me.auth(), Path(id.clone())),
        sync::list_runs(
            st(),
            me.auth(),
            Path(id.clone()),
            ApiQuery(PageParams {
                cursor: None,
                page_size: Some(25),
            }),
        ),
    );
    let (health, status, runs) = match (health, status, runs) {
        (Ok(Json(h)), Ok(Json(s)), Ok(Json(r))) => (h, s, r),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return api_error_page(&e),
    };
    let entities: Vec<EntityRow> = status
        .data
        .iter()
        .map(|s| EntityRow {
            entity: s.entity.as_str(),
            status: s.status,
            records: s.record_count,
            last_success: ts_opt(&s.last_success_at),
            next_run: ts_opt(&s.next_run_at),
            error: s.error.clone().unwrap_or_default(),
        })
        .collect();
    let paused = !entities.is_empty() && entities.iter().all(|e| e.status == "paused");
    let runs = runs
        .data
        .iter()
        .map(|r| RunRow {
            id: r.id.clone(),
            entity: r.entity.as_str(),
            mode: r.mode,
            status: r.status,
            counts: format!(
                "+{} ~{} −{} ={} ({} pages)",
                r.created, r.updated, r.deleted, r.unchanged, r.pages
            ),
            started: ts(&r.started_at),
            finished: ts_opt(&r.finished_at),
            error: r.error.clone().unwrap_or_default(),
        })
        .collect();
    let probes_total = health.data.len();
    let probes_ok = health.data.iter().filter(|p| p.status == "ok").count();
    let probes = health
        .data
        .iter()
        .rev()
        .take(50)
        .map(|p| ProbeRow {
            checked: ts(&p.checked_at),
            status: p.status.clone(),
            latency: p.latency_ms.map(|m| format!("{m} ms")).unwrap_or_default(),
            error: p.error.clone().unwrap_or_default(),
        })
        .collect();
    let days = health
        .daily
        .iter()
        .map(|d| Day {
            class: day_class(d.uptime, d.probes),
            title: format!(
                "{}: {:.2}% of {} probes ok{}",
                d.day,
                d.uptime,
                d.probes,
                d.avg_latency_ms
                    .map(|l| format!(", {l:.0} ms on average"))
                    .unwrap_or_default()
            ),
        })
        .collect();

    // Field mappings and the preview read through the unified API's handlers, as the
    // workspace key with `X-Connection-Id` would.
    let (mut mapping_rows, mut mappings_note, mut preview_entities, mut preview) =
        (Vec::new(), String::new(), Vec::new(), String::new());
    let (mut field_mappings, mut sync_settings) = ("{}".to_string(), "{}".to_string());
    match state.auth.connection(&me.workspace.id, &id).await {
        Ok(Some(conn)) => {
            field_mappings = pretty(&conn.field_mappings);
            sync_settings = pretty(&conn.sync_settings);
            let auth = || ConnectionAuth {
                workspace: me.workspace.clone(),
                connection_id: id.clone(),
                connection: conn.clone(),
                via: Via::WorkspaceKey,
            };
            match field_mappings_route::list(st(), auth()).await {
                Ok(Json(m)) => {
                    for e in &m.data {
                        for f in e.fields.iter().filter(|f| f.origin != "connector") {
                            mapping_rows.push(MappingRow {
                                entity: e.entity.as_str(),
                                field: f.field.clone(),
                                source: f.source.clone(),
                                origin: f.origin,
                            });
                        }
                    }
                    let chosen = Entity::parse(&q.preview)
                        .filter(|e| m.data.iter().any(|x| x.entity == *e))
                        .or_else(|| mapping_rows.first().and_then(|r| Entity::parse(r.entity)))
                        .or_else(|| m.data.first().map(|e| e.entity));
                    preview_entities = m
                        .data
                        .iter()
                        .map(|e| Choice {
                            value: e.entity.as_str().into(),
                            label: e.entity.as_str().replace('_', " "),
                            selected: Some(e.entity) == chosen,
                        })
                        .collect();
                    if let Some(entity) = chosen {
                        preview = preview_record(&state, auth(), entity).await;
                    }
                }
                Err(e) => mappings_note = describe(&e),
            }
        }
        Ok(None) => return not_found("connection"),
        Err(e) => mappings_note = describe(&e),
    }

    let page = DetailPage {
        l: me.layout(c.name.clone(), "connections"),
        disconnected: c.status == ConnectionStatus::Disconnected,
        paused,
        created: ts(&c.created_at),
        disconnected_at: ts_opt(&c.disconnected_at),
        metadata: pretty(&c.metadata),
        field_mappings,
        sync_settings,
        entities,
        runs,
        probes,
        probes_total,
        probes_ok,
        days,
        mapping_rows,
        mappings_note,
        preview_entities,
        preview,
        c: row(&state, &c),
    };
    me.page(&page)
}

/// The newest record of `entity` as the unified API shows it (custom fields and remaps
/// applied), pretty-printed; or why there is none.
async fn preview_record(state: &AppState, auth: ConnectionAuth, entity: Entity) -> String {
    let q = ApiQuery(vec![("page_size".to_string(), "1".to_string())]);
    let list = match records::list_body(State(state.clone()), auth, entity, q).await {
        Ok(body) => serde_json::from_slice::<serde_json::Value>(&body),
        Err(e) => return describe(&e),
    };
    match list {
        Ok(list) => match list["data"].get(0) {
            Some(r) => pretty(r),
            None => format!("No {} synced yet.", entity.as_str().replace('_', " ")),
        },
        Err(e) => format!("The list did not parse: {e}"),
    }
}

// --- actions -----------------------------------------------------------------------------

/// `POST …/sync` `{full?}`: queues a sync of every entity (full: re-read everything).
async fn trigger_sync(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let full = form.get("full") == Some("true");
    let r = sync::trigger_runs(
        State(state),
        me.auth(),
        Path(id.clone()),
        ApiJson(sync::TriggerSync {
            entities: None,
            full,
        }),
    )
    .await;
    after(&me, &here(&id), r, |(_, Json(t))| {
        let what = if full { "Full resync" } else { "Sync" };
        if t.queued.is_empty() {
            format!("{what}: every entity already has a run in progress.")
        } else {
            format!(
                "{what} queued for {}.",
                t.queued
                    .iter()
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    })
}

fn patch_body(
    name: Option<String>,
    metadata: Option<Value>,
    paused: Option<bool>,
    field_mappings: Option<Value>,
) -> api::PatchConnection {
    api::PatchConnection {
        name,
        metadata,
        sync: paused.map(|p| api::SyncPatch {
            paused: Some(p),
            ..Default::default()
        }),
        field_mappings,
    }
}

/// `POST …/pause` `{paused: true|false}`: pauses or resumes scheduled syncs.
async fn pause(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let paused = form.get("paused") == Some("true");
    let r = api::patch(
        State(state),
        me.auth(),
        Path(id.clone()),
        ApiJson(patch_body(None, None, Some(paused), None)),
    )
    .await;
    after(&me, &here(&id), r, |_| {
        if paused {
            "Scheduled syncs are paused.".into()
        } else {
            "Scheduled syncs are resumed.".into()
        }
    })
}

/// `POST …/edit` `{name, metadata}`: the metadata textarea holds the whole object, so keys
/// removed from it are removed from the connection (the API merges, with null removing).
async fn edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let back = here(&id);
    let current = match load(&state, &me, &id).await {
        Ok(c) => c,
        Err(e) => return after::<()>(&me, &back, Err(e), |_| String::new()),
    };
    let text = form.text("metadata");
    let wanted: Value = if text.is_empty() {
        Value::Object(Map::new())
    } else {
        match serde_json::from_str(text) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => return me.redirect(&back, Flash::error("Metadata must be a JSON object.")),
            Err(e) => {
                return me.redirect(
                    &back,
                    Flash::error(format!("Metadata is not valid JSON: {e}")),
                )
            }
        }
    };
    let mut changes = wanted.as_object().cloned().unwrap_or_default();
    if let Some(old) = current.metadata.as_object() {
        for k in old.keys() {
            changes.entry(k.clone()).or_insert(Value::Null);
        }
    }
    let name = form
        .get("name")
        .filter(|n| *n != current.name)
        .map(str::to_string);
    let r = api::patch(
        State(state),
        me.auth(),
        Path(id.clone()),
        ApiJson(patch_body(name, Some(Value::Object(changes)), None, None)),
    )
    .await;
    after(&me, &back, r, |_| "Name and metadata saved.".into())
}

/// `POST …/mappings` `{field_mappings}`: replaces the connection's custom fields and remaps.
async fn mappings(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let back = format!("{}#mappings", here(&id));
    let text = form.text("field_mappings");
    let value: Value = if text.is_empty() {
        Value::Object(Map::new())
    } else {
        match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                return me.redirect(
                    &back,
                    Flash::error(format!("Field mappings are not valid JSON: {e}")),
                )
            }
        }
    };
    let r = api::patch(
        State(state),
        me.auth(),
        Path(id.clone()),
        ApiJson(patch_body(None, None, None, Some(value))),
    )
    .await;
    after(&me, &back, r, |_| {
        "Field mappings saved; reads use them from now on.".into()
    })
}

#[derive(Template)]
#[template(path = "dashboard/token.html")]
struct TokenPage {
    l: Layout,
    href: String,
    name: String,
    token: String,
    scopes: String,
}

/// `POST …/token`: issues a new token (revoking the old one) and shows it, once.
async fn new_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { me, form: _ }: Posted,
) -> Response {
    let back = here(&id);
    let c = match load(&state, &me, &id).await {
        Ok(c) => c,
        Err(e) => return after::<()>(&me, &back, Err(e), |_| String::new()),
    };
    let r = api::issue_token(
        State(state),
        me.auth(),
        Path(id.clone()),
        ApiJson(api::IssueToken::default()),
    )
    .await;
    match r {
        Ok((_, Json(t))) => me.page(&TokenPage {
            l: me.layout("New token", "connections"),
            href: back,
            name: c.name,
            scopes: t
                .token
                .scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            token: t.access_token,
        }),
        Err(e) => after::<()>(&me, &here(&id), Err(e), |_| String::new()),
    }
}

struct Field {
    name: &'static str,
    label: &'static str,
    secret: bool,
    help: String,
}

#[derive(Template)]
#[template(path = "dashboard/reauthorize.html")]
struct ReauthorizePage {
    l: Layout,
    id: String,
    href: String,
    name: String,
    connector: String,
    status: String,
    fields: Vec<Field>,
}

/// `GET …/reauthorize`: a form with the connector's credential fields (blank keeps a value).
async fn reauthorize_form(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let c = match load(&state, &me, &id).await {
        Ok(c) => c,
        Err(e) => return api_error_page(&e),
    };
    let Some(d) = state.connectors.descriptor(&c.connector) else {
        return api_error_page(&ApiError::Internal(format!(
            "connector {} is not in this build",
            c.connector
        )));
    };
    let fields = d
        .auth_fields
        .iter()
        .map(|f| Field {
            name: f.name,
            label: f.label,
            secret: f.secret,
            help: f.help.unwrap_or_default().to_string(),
        })
        .collect();
    me.page(&ReauthorizePage {
        l: me.layout(format!("Reauthorize {}", c.name), "connections"),
        href: here(&id),
        id,
        connector: d.name.to_string(),
        status: status_label(c.status),
        name: c.name,
        fields,
    })
}

/// `POST …/reauthorize`: the non-empty credential fields go to the API's reauthorize, which
/// checks them against the source system.
async fn reauthorize(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let c = match load(&state, &me, &id).await {
        Ok(c) => c,
        Err(e) => return after::<()>(&me, &here(&id), Err(e), |_| String::new()),
    };
    let mut credentials = Map::new();
    if let Some(d) = state.connectors.descriptor(&c.connector) {
        for f in d.auth_fields.iter() {
            if let Some(v) = form
                .get(&format!("cred_{}", f.name))
                .filter(|v| !v.is_empty())
            {
                credentials.insert(f.name.to_string(), Value::String(v.to_string()));
            }
        }
    }
    let back = format!("{}/reauthorize", here(&id));
    let r = api::reauthorize(
        State(state),
        me.auth(),
        Path(id.clone()),
        ApiJson(api::Reauthorize {
            credentials: Value::Object(credentials),
        }),
    )
    .await;
    match r {
        Ok(Json(c)) => me.redirect(
            &here(&id),
            Flash::ok(format!(
                "Reauthorized: the source accepted the new credentials. Status: {}.",
                status_label(c.status)
            )),
        ),
        Err(e) => after::<()>(&me, &back, Err(e), |_| String::new()),
    }
}

#[derive(Template)]
#[template(path = "dashboard/disconnect.html")]
struct ConfirmPage {
    l: Layout,
    href: String,
    name: String,
    credits: i64,
    used: i64,
    limit: i64,
    action: &'static str,
    records: i64,
}

async fn confirm_page(state: &AppState, me: &SignedIn, id: &str, action: &'static str) -> Response {
    let c = match load(state, me, id).await {
        Ok(c) => c,
        Err(e) => return api_error_page(&e),
    };
    let usage = match credits::get(State(state.clone()), me.auth()).await {
        Ok(Json(u)) => u,
        Err(e) => return api_error_page(&e),
    };
    let records =
        match sync::connection_sync_status(State(state.clone()), me.auth(), Path(id.to_string()))
            .await
        {
            Ok(Json(s)) => s.data.iter().map(|e| e.record_count).sum(),
            Err(e) => return api_error_page(&e),
        };
    let disconnected = c.status == ConnectionStatus::Disconnected;
    if action == "delete-data" && !disconnected {
        return me.redirect(
            &here(id),
            Flash::error("Disconnect the connection before deleting its data."),
        );
    }
    if action == "disconnect" && disconnected {
        return me.redirect(
            &here(id),
            Flash::ok("The connection is already disconnected."),
        );
    }
    let title = if action == "disconnect" {
        format!("Disconnect {}", c.name)
    } else {
        format!("Delete the data of {}", c.name)
    };
    me.page(&ConfirmPage {
        l: me.layout(title, "connections"),
        href: here(id),
        name: c.name,
        credits: c.credits,
        used: usage.used,
        limit: usage.limit,
        action,
        records,
    })
}

/// `GET …/disconnect`: says exactly what disconnecting does before it is done.
async fn disconnect_confirm(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
) -> Response {
    confirm_page(&state, &me, &id, "disconnect").await
}

/// `POST …/disconnect`.
async fn disconnect(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { me, form: _ }: Posted,
) -> Response {
    let r = api::disconnect(State(state), me.auth(), Path(id.clone())).await;
    after(&me, &here(&id), r, |Json(c)| {
        format!(
            "Disconnected: its token is revoked, syncs are stopped and {} credit{} returned to the pool. Its data stays readable until you delete it.",
            c.credits,
            if c.credits == 1 { " is" } else { "s are" }
        )
    })
}

/// `GET …/delete-data`.
async fn delete_data_confirm(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
) -> Response {
    confirm_page(&state, &me, &id, "delete-data").await
}

/// `POST …/delete-data`.
async fn delete_data(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { me, form: _ }: Posted,
) -> Response {
    let r = api::delete_data(State(state), me.auth(), Path(id.clone())).await;
    after(&me, &here(&id), r, |_| {
        "The connection's synced data is deleted.".into()
    })
}
