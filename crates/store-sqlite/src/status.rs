//! [`millwright_store::StatusStore`] on SQLite (migration 0006): components and their daily
//! uptime buckets, incidents and maintenances with their updates, workspace status pages.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate};
use millwright_core::time::Timestamp;
use millwright_store::{
    split_utc_days, Component, ComponentDay, ComponentObservation, ComponentStatus, Impact,
    Incident, IncidentFilter, IncidentKind, IncidentPatch, IncidentStatus, IncidentUpdate,
    NewIncident, Observed, Page, PageRequest, PlatformSignals, StatusStore, StoreError,
    StoreResult, OBSERVATION_GAP_CAP,
};
use rusqlite::{params, types::Value as SqlValue, Connection as SqlConn, OptionalExtension, Row};

use crate::decode::{all, micros, micros_opt, optional, string_list_text};
use crate::error::Db;
use crate::SqliteStore;

const COMPONENT_COLS: &str = "id, name, description, group_name, position, status, \
     status_since, detail, observed_at, created_at, updated_at";

const INCIDENT_COLS: &str = "id, workspace_id, kind, name, status, impact, component_ids, \
     auto_component_id, scheduled_for, scheduled_until, created_at, updated_at, monitoring_at, \
     resolved_at";

const UPDATE_COLS: &str = "id, incident_id, status, body, affected_components, created_at";

fn corrupt(col: &str, what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{col}: {what}"))
}

fn ts(row: &Row<'_>, col: &str) -> StoreResult<Timestamp> {
    let v: i64 = row.get(col).db()?;
    DateTime::from_timestamp_micros(v).ok_or_else(|| corrupt(col, format!("{v} out of range")))
}

fn ts_opt(row: &Row<'_>, col: &str) -> StoreResult<Option<Timestamp>> {
    match row.get::<_, Option<i64>>(col).db()? {
        None => Ok(None),
        Some(v) => DateTime::from_timestamp_micros(v)
            .map(Some)
            .ok_or_else(|| corrupt(col, format!("{v} out of range"))),
    }
}

fn strings(row: &Row<'_>, col: &str) -> StoreResult<Vec<String>> {
    let text: String = row.get(col).db()?;
    serde_json::from_str(&text).map_err(|e| corrupt(col, format!("not a list of strings: {e}")))
}

fn component_status(row: &Row<'_>) -> StoreResult<ComponentStatus> {
    let s: String = row.get("status").db()?;
    ComponentStatus::parse(&s).ok_or_else(|| corrupt("status", format!("unknown {s:?}")))
}

fn component(row: &Row<'_>) -> StoreResult<Component> {
    Ok(Component {
        id: row.get("id").db()?,
        name: row.get("name").db()?,
        description: row.get("description").db()?,
        group: row.get("group_name").db()?,
        position: row.get("position").db()?,
        status: component_status(row)?,
        status_since: ts(row, "status_since")?,
        detail: row.get("detail").db()?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

fn incident_status(row: &Row<'_>) -> StoreResult<IncidentStatus> {
    let s: String = row.get("status").db()?;
    IncidentStatus::parse(&s).ok_or_else(|| corrupt("status", format!("unknown {s:?}")))
}

fn incident(row: &Row<'_>) -> StoreResult<Incident> {
    let kind: String = row.get("kind").db()?;
    let impact: String = row.get("impact").db()?;
    Ok(Incident {
        id: row.get("id").db()?,
        workspace_id: row.get("workspace_id").db()?,
        kind: IncidentKind::parse(&kind)
            .ok_or_else(|| corrupt("kind", format!("unknown {kind:?}")))?,
        name: row.get("name").db()?,
        status: incident_status(row)?,
        impact: Impact::parse(&impact)
            .ok_or_else(|| corrupt("impact", format!("unknown {impact:?}")))?,
        component_ids: strings(row, "component_ids")?,
        auto_component_id: row.get("auto_component_id").db()?,
        scheduled_for: ts_opt(row, "scheduled_for")?,
        scheduled_until: ts_opt(row, "scheduled_until")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
        monitoring_at: ts_opt(row, "monitoring_at")?,
        resolved_at: ts_opt(row, "resolved_at")?,
        updates: Vec::new(),
    })
}

fn update(row: &Row<'_>) -> StoreResult<IncidentUpdate> {
    Ok(IncidentUpdate {
        id: row.get("id").db()?,
        incident_id: row.get("incident_id").db()?,
        status: incident_status(row)?,
        body: row.get("body").db()?,
        affected_components: strings(row, "affected_components")?,
        created_at: ts(row, "created_at")?,
    })
}

/// The bucket column holding the time spent in `status`.
fn bucket_column(status: ComponentStatus) -> &'static str {
    match status {
        ComponentStatus::Operational => "operational_us",
        ComponentStatus::UnderMaintenance => "maintenance_us",
        ComponentStatus::DegradedPerformance => "degraded_us",
        ComponentStatus::PartialOutage => "partial_outage_us",
        ComponentStatus::MajorOutage => "major_outage_us",
    }
}

fn get_component(c: &SqlConn, id: &str) -> StoreResult<Option<(Component, Timestamp)>> {
    optional(
        c.prepare_cached(&format!(
            "SELECT {COMPONENT_COLS} FROM components WHERE id = ?1"
        ))
        .db()?,
        [id],
        |row| Ok((component(row)?, ts(row, "observed_at")?)),
    )
}

fn observe(c: &SqlConn, o: &ComponentObservation) -> StoreResult<Observed> {
    let at = micros(&o.at);
    let Some((mut current, observed_at)) = get_component(c, &o.id)? else {
        c.prepare_cached(
            "INSERT INTO components (id, name, description, group_name, position, status, \
             status_since, detail, observed_at, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?7, ?7, ?7)",
        )
        .db()?
        .execute(params![
            o.id,
            o.name,
            o.description,
            o.group,
            o.position,
            o.status.as_str(),
            at,
            o.detail
        ])
        .db()?;
        let (component, _) = get_component(c, &o.id)?.ok_or(StoreError::NotFound)?;
        return Ok(Observed {
            component,
            previous: None,
        });
    };
    // The time since the previous observation is spent in the previous status, capped so that
    // a pause in evaluation is not taken for uptime (or downtime).
    if o.at > observed_at {
        let until = observed_at + (o.at - observed_at).min(OBSERVATION_GAP_CAP);
        let column = bucket_column(current.status);
        let sql = format!(
            "INSERT INTO component_days (component_id, day, {column}) VALUES (?1, ?2, ?3) \
             ON CONFLICT (component_id, day) DO UPDATE SET {column} = {column} + excluded.{column}"
        );
        for (day, us) in split_utc_days(observed_at, until) {
            c.prepare_cached(&sql)
                .db()?
                .execute(params![o.id, day.to_string(), us])
                .db()?;
        }
    }
    let previous = current.status;
    let changed = current.name != o.name
        || current.description != o.description
        || current.group != o.group
        || current.position != o.position
        || current.status != o.status
        || current.detail != o.detail;
    if current.status != o.status {
        current.status_since = o.at;
    }
    if changed {
        current.updated_at = o.at;
    }
    current.name = o.name.clone();
    current.description = o.description.clone();
    current.group = o.group.clone();
    current.position = o.position;
    current.status = o.status;
    current.detail = o.detail.clone();
    c.prepare_cached(
        "UPDATE components SET name = ?2, description = ?3, group_name = ?4, position = ?5, \
         status = ?6, status_since = ?7, detail = ?8, observed_at = max(observed_at, ?9), \
         updated_at = ?10 WHERE id = ?1",
    )
    .db()?
    .execute(params![
        current.id,
        current.name,
        current.description,
        current.group,
        current.position,
        current.status.as_str(),
        micros(&current.status_since),
        current.detail,
        at,
        micros(&current.updated_at),
    ])
    .db()?;
    Ok(Observed {
        component: current,
        previous: Some(previous),
    })
}

fn component_days(c: &SqlConn, ids: &[String], since: NaiveDate) -> StoreResult<Vec<ComponentDay>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; ids.len()].join(", ");
    let sql = format!(
        "SELECT component_id, day, operational_us, maintenance_us, degraded_us, \
         partial_outage_us, major_outage_us FROM component_days \
         WHERE day >= ? AND component_id IN ({marks}) ORDER BY day, component_id"
    );
    let mut args: Vec<SqlValue> = vec![since.to_string().into()];
    args.extend(ids.iter().map(|id| SqlValue::from(id.clone())));
    let secs = |row: &Row<'_>, col: &str| -> StoreResult<i64> {
        Ok(row.get::<_, i64>(col).db()? / 1_000_000)
    };
    all(
        c.prepare_cached(&sql).db()?,
        rusqlite::params_from_iter(args),
        |row| {
            let day: String = row.get("day").db()?;
            Ok(ComponentDay {
                component_id: row.get("component_id").db()?,
                day: day
                    .parse()
                    .map_err(|e| corrupt("day", format!("{day:?}: {e}")))?,
                operational_seconds: secs(row, "operational_us")?,
                maintenance_seconds: secs(row, "maintenance_us")?,
                degraded_seconds: secs(row, "degraded_us")?,
                partial_outage_seconds: secs(row, "partial_outage_us")?,
                major_outage_seconds: secs(row, "major_outage_us")?,
            })
        },
    )
}

/// Fills in the updates of `incidents`, newest first.
fn with_updates(c: &SqlConn, mut incidents: Vec<Incident>) -> StoreResult<Vec<Incident>> {
    if incidents.is_empty() {
        return Ok(incidents);
    }
    let marks = vec!["?"; incidents.len()].join(", ");
    let sql = format!(
        "SELECT {UPDATE_COLS} FROM incident_updates WHERE incident_id IN ({marks}) \
         ORDER BY created_at DESC, id DESC"
    );
    let updates = all(
        c.prepare_cached(&sql).db()?,
        rusqlite::params_from_iter(incidents.iter().map(|i| i.id.clone())),
        update,
    )?;
    for u in updates {
        if let Some(i) = incidents.iter_mut().find(|i| i.id == u.incident_id) {
            i.updates.push(u);
        }
    }
    Ok(incidents)
}

fn get_incident(
    c: &SqlConn,
    workspace_id: Option<&str>,
    id: &str,
) -> StoreResult<Option<Incident>> {
    let found = optional(
        c.prepare_cached(&format!(
            "SELECT {INCIDENT_COLS} FROM incidents WHERE id = ?1 AND workspace_id IS ?2"
        ))
        .db()?,
        params![id, workspace_id],
        incident,
    )?;
    Ok(with_updates(c, found.into_iter().collect())?.pop())
}

fn insert_update(
    c: &SqlConn,
    id: &str,
    incident_id: &str,
    status: IncidentStatus,
    body: &str,
    components: &[String],
    at: &Timestamp,
) -> StoreResult<()> {
    c.prepare_cached(
        "INSERT INTO incident_updates (id, incident_id, status, body, affected_components, \
         created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .db()?
    .execute(params![
        id,
        incident_id,
        status.as_str(),
        body,
        string_list_text(components)?,
        micros(at)
    ])
    .db()?;
    Ok(())
}

fn create_incident(c: &SqlConn, n: &NewIncident) -> StoreResult<Incident> {
    let now = micros(&n.now);
    let resolved_at = n.status.is_closed().then_some(now);
    let monitoring_at = (n.status == IncidentStatus::Monitoring).then_some(now);
    // The partial unique index refuses a second open automatic incident of a component; the
    // error rolls the transaction back, so nothing is written.
    c.prepare_cached(&format!(
        "INSERT INTO incidents ({INCIDENT_COLS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13)"
    ))
    .db()?
    .execute(params![
        n.id,
        n.workspace_id,
        n.kind.as_str(),
        n.name,
        n.status.as_str(),
        n.impact.as_str(),
        string_list_text(&n.component_ids)?,
        n.auto_component_id,
        micros_opt(&n.scheduled_for),
        micros_opt(&n.scheduled_until),
        now,
        monitoring_at,
        resolved_at,
    ])
    .db()?;
    insert_update(
        c,
        &n.update_id,
        &n.id,
        n.status,
        &n.body,
        &n.component_ids,
        &n.now,
    )?;
    get_incident(c, n.workspace_id.as_deref(), &n.id)?.ok_or(StoreError::NotFound)
}

fn update_incident(
    c: &SqlConn,
    workspace_id: Option<&str>,
    id: &str,
    p: &IncidentPatch,
    now: &Timestamp,
) -> StoreResult<Incident> {
    let mut i = get_incident(c, workspace_id, id)?.ok_or(StoreError::NotFound)?;
    if let Some(name) = &p.name {
        i.name = name.clone();
    }
    if let Some(impact) = p.impact {
        i.impact = impact;
    }
    if let Some(ids) = &p.component_ids {
        i.component_ids = ids.clone();
    }
    if let Some(t) = p.scheduled_for {
        i.scheduled_for = Some(t);
    }
    if let Some(t) = p.scheduled_until {
        i.scheduled_until = Some(t);
    }
    if let Some(status) = p.status {
        i.status = status;
        if status == IncidentStatus::Monitoring && i.monitoring_at.is_none() {
            i.monitoring_at = Some(*now);
        }
        // `resolved_at` is set exactly while the status is closed: reopening clears it, which
        // also frees the component's slot for an automatic incident.
        i.resolved_at = match (status.is_closed(), i.resolved_at) {
            (true, Some(t)) => Some(t),
            (true, None) => Some(*now),
            (false, _) => None,
        };
    }
    i.updated_at = *now;
    c.prepare_cached(
        "UPDATE incidents SET name = ?2, status = ?3, impact = ?4, component_ids = ?5, \
         scheduled_for = ?6, scheduled_until = ?7, updated_at = ?8, monitoring_at = ?9, \
         resolved_at = ?10 WHERE id = ?1",
    )
    .db()?
    .execute(params![
        i.id,
        i.name,
        i.status.as_str(),
        i.impact.as_str(),
        string_list_text(&i.component_ids)?,
        micros_opt(&i.scheduled_for),
        micros_opt(&i.scheduled_until),
        micros(now),
        micros_opt(&i.monitoring_at),
        micros_opt(&i.resolved_at),
    ])
    .db()?;
    if let Some(body) = &p.body {
        insert_update(c, &p.update_id, id, i.status, body, &i.component_ids, now)?;
    }
    get_incident(c, workspace_id, id)?.ok_or(StoreError::NotFound)
}

fn list_incidents(
    c: &SqlConn,
    f: &IncidentFilter,
    page: &PageRequest,
) -> StoreResult<Page<Incident>> {
    let mut sql = format!("SELECT {INCIDENT_COLS} FROM incidents WHERE workspace_id IS ?");
    let mut args: Vec<SqlValue> = vec![f.workspace_id.clone().into()];
    if let Some(kind) = f.kind {
        sql.push_str(" AND kind = ?");
        args.push(kind.as_str().to_owned().into());
    }
    if f.unresolved {
        sql.push_str(" AND resolved_at IS NULL");
    }
    if let Some(after) = &page.after {
        // Keyset on (created_at, id): an unknown cursor id compares as NULL and ends the list.
        sql.push_str(" AND (created_at, id) < (SELECT created_at, id FROM incidents WHERE id = ?)");
        args.push(after.clone().into());
    }
    sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT ?");
    args.push(SqlValue::Integer(i64::from(page.limit) + 1));
    let rows = all(
        c.prepare_cached(&sql).db()?,
        rusqlite::params_from_iter(args),
        incident,
    )?;
    let page = Page::from_overfetch(rows, page.limit, |i| i.id.clone());
    Ok(Page {
        items: with_updates(c, page.items)?,
        next_after: page.next_after,
    })
}

fn open_auto_incident(c: &SqlConn, component_id: &str) -> StoreResult<Option<Incident>> {
    let found = optional(
        c.prepare_cached(&format!(
            "SELECT {INCIDENT_COLS} FROM incidents \
             WHERE auto_component_id = ?1 AND resolved_at IS NULL"
        ))
        .db()?,
        [component_id],
        incident,
    )?;
    Ok(with_updates(c, found.into_iter().collect())?.pop())
}

fn workspace_exists(c: &SqlConn, workspace_id: &str) -> StoreResult<bool> {
    Ok(c.prepare_cached("SELECT 1 FROM workspaces WHERE id = ?1")
        .db()?
        .query_row([workspace_id], |_| Ok(()))
        .optional()
        .db()?
        .is_some())
}

fn platform_signals(c: &SqlConn, since: i64, now: i64) -> StoreResult<PlatformSignals> {
    let (requests, server_errors): (i64, i64) = c
        .prepare_cached(
            "SELECT count(*), coalesce(sum(status >= 500 AND coalesce(error_code, '') \
             NOT IN ('UPSTREAM_ERROR', 'UPSTREAM_UNREACHABLE')), 0) \
             FROM request_logs WHERE created_at >= ?1",
        )
        .db()?
        .query_row([since], |r| Ok((r.get(0)?, r.get(1)?)))
        .db()?;
    // Due, unleased deliveries to enabled endpoints that have nothing in flight: work the
    // dispatchers could take now. An endpoint held back by its in-flight cap (a slow receiver)
    // is the receiver's problem and does not count.
    let oldest: Option<i64> = c
        .prepare_cached(
            "SELECT min(d.next_attempt_at) FROM webhook_deliveries d \
             JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             WHERE d.status = 'pending' AND d.next_attempt_at <= ?1 AND e.disabled = 0 \
             AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= ?1) \
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries f \
                 WHERE f.endpoint_id = d.endpoint_id AND f.status = 'pending' \
                 AND f.lease_expires_at > ?1)",
        )
        .db()?
        .query_row([now], |r| r.get(0))
        .db()?;
    Ok(PlatformSignals {
        requests,
        server_errors,
        oldest_due_delivery_at: oldest
            .map(|v| {
                DateTime::from_timestamp_micros(v)
                    .ok_or_else(|| corrupt("next_attempt_at", format!("{v} out of range")))
            })
            .transpose()?,
    })
}

#[async_trait]
impl StatusStore for SqliteStore {
    async fn observe_component(&self, o: ComponentObservation) -> StoreResult<Observed> {
        self.pool.write(move |tx| observe(tx, &o)).await
    }

    async fn list_components(&self) -> StoreResult<Vec<Component>> {
        self.pool
            .read(|c| {
                all(
                    c.prepare_cached(&format!(
                        "SELECT {COMPONENT_COLS} FROM components ORDER BY position, id"
                    ))
                    .db()?,
                    [],
                    component,
                )
            })
            .await
    }

    async fn component_days(
        &self,
        component_ids: &[String],
        since: NaiveDate,
    ) -> StoreResult<Vec<ComponentDay>> {
        let ids = component_ids.to_vec();
        self.pool
            .read(move |c| component_days(c, &ids, since))
            .await
    }

    async fn delete_component(&self, id: &str) -> StoreResult<()> {
        let id = id.to_owned();
        self.pool
            .write(move |tx| {
                tx.prepare_cached("DELETE FROM components WHERE id = ?1")
                    .db()?
                    .execute([&id])
                    .db()?;
                Ok(())
            })
            .await
    }

    async fn create_incident(&self, new: NewIncident) -> StoreResult<Incident> {
        self.pool.write(move |tx| create_incident(tx, &new)).await
    }

    async fn update_incident(
        &self,
        workspace_id: Option<&str>,
        id: &str,
        patch: IncidentPatch,
        now: Timestamp,
    ) -> StoreResult<Incident> {
        let (ws, id) = (workspace_id.map(str::to_owned), id.to_owned());
        self.pool
            .write(move |tx| update_incident(tx, ws.as_deref(), &id, &patch, &now))
            .await
    }

    async fn get_incident(
        &self,
        workspace_id: Option<&str>,
        id: &str,
    ) -> StoreResult<Option<Incident>> {
        let (ws, id) = (workspace_id.map(str::to_owned), id.to_owned());
        self.pool
            .read(move |c| get_incident(c, ws.as_deref(), &id))
            .await
    }

    async fn list_incidents(
        &self,
        filter: &IncidentFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Incident>> {
        let (filter, page) = (filter.clone(), page.clone());
        self.pool
            .read(move |c| list_incidents(c, &filter, &page))
            .await
    }

    async fn open_auto_incident(&self, component_id: &str) -> StoreResult<Option<Incident>> {
        let id = component_id.to_owned();
        self.pool.read(move |c| open_auto_incident(c, &id)).await
    }

    async fn open_maintenances(&self) -> StoreResult<Vec<Incident>> {
        self.pool
            .read(|c| {
                let found = all(
                    c.prepare_cached(&format!(
                        "SELECT {INCIDENT_COLS} FROM incidents \
                         WHERE kind = 'maintenance' AND resolved_at IS NULL \
                         ORDER BY scheduled_for, id"
                    ))
                    .db()?,
                    [],
                    incident,
                )?;
                with_updates(c, found)
            })
            .await
    }

    async fn platform_signals(
        &self,
        since: Timestamp,
        now: Timestamp,
    ) -> StoreResult<PlatformSignals> {
        let (since, now) = (micros(&since), micros(&now));
        self.pool
            .read(move |c| platform_signals(c, since, now))
            .await
    }

    async fn workspace_status_page(&self, workspace_id: &str) -> StoreResult<bool> {
        let ws = workspace_id.to_owned();
        self.pool
            .read(move |c| {
                let enabled: Option<i64> = c
                    .prepare_cached(
                        "SELECT enabled FROM workspace_status_pages WHERE workspace_id = ?1",
                    )
                    .db()?
                    .query_row([&ws], |r| r.get(0))
                    .optional()
                    .db()?;
                match enabled {
                    None | Some(0) => Ok(false),
                    Some(1) => Ok(true),
                    Some(v) => Err(corrupt("enabled", format!("boolean {v}"))),
                }
            })
            .await
    }

    async fn set_workspace_status_page(
        &self,
        workspace_id: &str,
        enabled: bool,
    ) -> StoreResult<()> {
        let ws = workspace_id.to_owned();
        let now = micros(&millwright_core::time::now());
        self.pool
            .write(move |tx| {
                if !workspace_exists(tx, &ws)? {
                    return Err(StoreError::NotFound);
                }
                tx.prepare_cached(
                    "INSERT INTO workspace_status_pages (workspace_id, enabled, updated_at) \
                     VALUES (?1, ?2, ?3) ON CONFLICT (workspace_id) DO UPDATE \
                     SET enabled = excluded.enabled, updated_at = excluded.updated_at",
                )
                .db()?
                .execute(params![ws, i64::from(enabled), now])
                .db()?;
                Ok(())
            })
            .await
    }
}
