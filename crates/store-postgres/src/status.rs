//! [`millwright_store::StatusStore`] on PostgreSQL (migration 0006): components and their daily
//! uptime buckets, incidents and maintenances with their updates, workspace status pages.
//!
//! An observation locks its component row (`FOR UPDATE`) for the transaction, so two nodes
//! observing the same component at once add their time one after the other, never both from
//! the same previous observation.

use async_trait::async_trait;
use chrono::NaiveDate;
use millwright_core::time::Timestamp;
use millwright_store::{
    split_utc_days, Component, ComponentDay, ComponentObservation, ComponentStatus, Impact,
    Incident, IncidentFilter, IncidentKind, IncidentPatch, IncidentStatus, IncidentUpdate,
    NewIncident, Observed, Page, PageRequest, PlatformSignals, StatusStore, StoreError,
    StoreResult, OBSERVATION_GAP_CAP,
};
use sqlx::{
    postgres::PgRow, types::Json, AssertSqlSafe, PgConnection, Postgres, QueryBuilder, Row,
};

use crate::rows::db_err;
use crate::PostgresStore;

fn col<'r, T>(row: &'r PgRow, name: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(name)
        .map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
}

fn corrupt(col: &str, what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{col}: {what}"))
}

fn component(row: &PgRow) -> StoreResult<Component> {
    let status: String = col(row, "status")?;
    Ok(Component {
        id: col(row, "id")?,
        name: col(row, "name")?,
        description: col(row, "description")?,
        group: col(row, "group_name")?,
        position: col(row, "position")?,
        status: ComponentStatus::parse(&status)
            .ok_or_else(|| corrupt("status", format!("unknown {status:?}")))?,
        status_since: col(row, "status_since")?,
        detail: col(row, "detail")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

fn incident_status(row: &PgRow) -> StoreResult<IncidentStatus> {
    let s: String = col(row, "status")?;
    IncidentStatus::parse(&s).ok_or_else(|| corrupt("status", format!("unknown {s:?}")))
}

fn incident(row: &PgRow) -> StoreResult<Incident> {
    let kind: String = col(row, "kind")?;
    let impact: String = col(row, "impact")?;
    Ok(Incident {
        id: col(row, "id")?,
        workspace_id: col(row, "workspace_id")?,
        kind: IncidentKind::parse(&kind)
            .ok_or_else(|| corrupt("kind", format!("unknown {kind:?}")))?,
        name: col(row, "name")?,
        status: incident_status(row)?,
        impact: Impact::parse(&impact)
            .ok_or_else(|| corrupt("impact", format!("unknown {impact:?}")))?,
        component_ids: col::<Json<Vec<String>>>(row, "component_ids")?.0,
        auto_component_id: col(row, "auto_component_id")?,
        scheduled_for: col(row, "scheduled_for")?,
        scheduled_until: col(row, "scheduled_until")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
        monitoring_at: col(row, "monitoring_at")?,
        resolved_at: col(row, "resolved_at")?,
        updates: Vec::new(),
    })
}

fn update(row: &PgRow) -> StoreResult<IncidentUpdate> {
    Ok(IncidentUpdate {
        id: col(row, "id")?,
        incident_id: col(row, "incident_id")?,
        status: incident_status(row)?,
        body: col(row, "body")?,
        affected_components: col::<Json<Vec<String>>>(row, "affected_components")?.0,
        created_at: col(row, "created_at")?,
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

async fn observe(c: &mut PgConnection, o: &ComponentObservation) -> StoreResult<Observed> {
    let inserted = sqlx::query(
        "INSERT INTO components (id, name, description, group_name, position, status, \
         status_since, detail, observed_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, $7, $7) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&o.id)
    .bind(&o.name)
    .bind(&o.description)
    .bind(&o.group)
    .bind(o.position)
    .bind(o.status.as_str())
    .bind(o.at)
    .bind(&o.detail)
    .execute(&mut *c)
    .await
    .map_err(db_err)?
    .rows_affected();
    let row = sqlx::query("SELECT * FROM components WHERE id = $1 FOR UPDATE")
        .bind(&o.id)
        .fetch_one(&mut *c)
        .await
        .map_err(db_err)?;
    let mut current = component(&row)?;
    if inserted == 1 {
        return Ok(Observed {
            component: current,
            previous: None,
        });
    }
    let observed_at: Timestamp = col(&row, "observed_at")?;
    // The time since the previous observation is spent in the previous status, capped so that
    // a pause in evaluation is not taken for uptime (or downtime).
    if o.at > observed_at {
        let until = observed_at + (o.at - observed_at).min(OBSERVATION_GAP_CAP);
        let column = bucket_column(current.status);
        let sql = format!(
            "INSERT INTO component_days (component_id, day, {column}) VALUES ($1, $2, $3) \
             ON CONFLICT (component_id, day) DO UPDATE \
             SET {column} = component_days.{column} + excluded.{column}"
        );
        for (day, us) in split_utc_days(observed_at, until) {
            sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(&o.id)
                .bind(day)
                .bind(us)
                .execute(&mut *c)
                .await
                .map_err(db_err)?;
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
    sqlx::query(
        "UPDATE components SET name = $2, description = $3, group_name = $4, position = $5, \
         status = $6, status_since = $7, detail = $8, observed_at = GREATEST(observed_at, $9), \
         updated_at = $10 WHERE id = $1",
    )
    .bind(&current.id)
    .bind(&current.name)
    .bind(&current.description)
    .bind(&current.group)
    .bind(current.position)
    .bind(current.status.as_str())
    .bind(current.status_since)
    .bind(&current.detail)
    .bind(o.at)
    .bind(current.updated_at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(Observed {
        component: current,
        previous: Some(previous),
    })
}

/// Fills in the updates of `incidents`, newest first.
async fn with_updates(
    c: &mut PgConnection,
    mut incidents: Vec<Incident>,
) -> StoreResult<Vec<Incident>> {
    if incidents.is_empty() {
        return Ok(incidents);
    }
    let ids: Vec<String> = incidents.iter().map(|i| i.id.clone()).collect();
    let rows = sqlx::query(
        "SELECT * FROM incident_updates WHERE incident_id = ANY($1) \
         ORDER BY created_at DESC, id DESC",
    )
    .bind(&ids)
    .fetch_all(&mut *c)
    .await
    .map_err(db_err)?;
    for row in &rows {
        let u = update(row)?;
        if let Some(i) = incidents.iter_mut().find(|i| i.id == u.incident_id) {
            i.updates.push(u);
        }
    }
    Ok(incidents)
}

/// `FOR UPDATE` locks the row when the lookup is part of a change.
async fn get_incident(
    c: &mut PgConnection,
    workspace_id: Option<&str>,
    id: &str,
    lock: bool,
) -> StoreResult<Option<Incident>> {
    let sql = if lock {
        "SELECT * FROM incidents WHERE id = $1 AND workspace_id IS NOT DISTINCT FROM $2 FOR UPDATE"
    } else {
        "SELECT * FROM incidents WHERE id = $1 AND workspace_id IS NOT DISTINCT FROM $2"
    };
    let row = sqlx::query(sql)
        .bind(id)
        .bind(workspace_id)
        .fetch_optional(&mut *c)
        .await
        .map_err(db_err)?;
    let found = row.as_ref().map(incident).transpose()?;
    Ok(with_updates(c, found.into_iter().collect()).await?.pop())
}

async fn insert_update(
    c: &mut PgConnection,
    id: &str,
    incident_id: &str,
    status: IncidentStatus,
    body: &str,
    components: &[String],
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO incident_updates (id, incident_id, status, body, affected_components, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(incident_id)
    .bind(status.as_str())
    .bind(body)
    .bind(Json(components))
    .bind(at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn create_incident(c: &mut PgConnection, n: &NewIncident) -> StoreResult<Incident> {
    // The partial unique index refuses a second open automatic incident of a component; the
    // error rolls the transaction back, so nothing is written.
    sqlx::query(
        "INSERT INTO incidents (id, workspace_id, kind, name, status, impact, component_ids, \
         auto_component_id, scheduled_for, scheduled_until, created_at, updated_at, \
         monitoring_at, resolved_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13)",
    )
    .bind(&n.id)
    .bind(&n.workspace_id)
    .bind(n.kind.as_str())
    .bind(&n.name)
    .bind(n.status.as_str())
    .bind(n.impact.as_str())
    .bind(Json(&n.component_ids))
    .bind(&n.auto_component_id)
    .bind(n.scheduled_for)
    .bind(n.scheduled_until)
    .bind(n.now)
    .bind((n.status == IncidentStatus::Monitoring).then_some(n.now))
    .bind(n.status.is_closed().then_some(n.now))
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    insert_update(
        c,
        &n.update_id,
        &n.id,
        n.status,
        &n.body,
        &n.component_ids,
        n.now,
    )
    .await?;
    get_incident(c, n.workspace_id.as_deref(), &n.id, false)
        .await?
        .ok_or(StoreError::NotFound)
}

async fn update_incident(
    c: &mut PgConnection,
    workspace_id: Option<&str>,
    id: &str,
    p: &IncidentPatch,
    now: Timestamp,
) -> StoreResult<Incident> {
    let mut i = get_incident(c, workspace_id, id, true)
        .await?
        .ok_or(StoreError::NotFound)?;
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
            i.monitoring_at = Some(now);
        }
        // `resolved_at` is set exactly while the status is closed: reopening clears it.
        i.resolved_at = match (status.is_closed(), i.resolved_at) {
            (true, Some(t)) => Some(t),
            (true, None) => Some(now),
            (false, _) => None,
        };
    }
    sqlx::query(
        "UPDATE incidents SET name = $2, status = $3, impact = $4, component_ids = $5, \
         scheduled_for = $6, scheduled_until = $7, updated_at = $8, monitoring_at = $9, \
         resolved_at = $10 WHERE id = $1",
    )
    .bind(&i.id)
    .bind(&i.name)
    .bind(i.status.as_str())
    .bind(i.impact.as_str())
    .bind(Json(&i.component_ids))
    .bind(i.scheduled_for)
    .bind(i.scheduled_until)
    .bind(now)
    .bind(i.monitoring_at)
    .bind(i.resolved_at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    if let Some(body) = &p.body {
        insert_update(c, &p.update_id, id, i.status, body, &i.component_ids, now).await?;
    }
    get_incident(c, workspace_id, id, false)
        .await?
        .ok_or(StoreError::NotFound)
}

#[async_trait]
impl StatusStore for PostgresStore {
    async fn observe_component(&self, o: ComponentObservation) -> StoreResult<Observed> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let observed = observe(&mut tx, &o).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(observed)
    }

    async fn list_components(&self) -> StoreResult<Vec<Component>> {
        let rows = sqlx::query("SELECT * FROM components ORDER BY position, id")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(component).collect()
    }

    async fn component_days(
        &self,
        component_ids: &[String],
        since: NaiveDate,
    ) -> StoreResult<Vec<ComponentDay>> {
        let rows = sqlx::query(
            "SELECT * FROM component_days WHERE component_id = ANY($1) AND day >= $2 \
             ORDER BY day, component_id",
        )
        .bind(component_ids)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let secs = |row: &PgRow, name: &str| -> StoreResult<i64> {
            Ok(col::<i64>(row, name)? / 1_000_000)
        };
        rows.iter()
            .map(|row| {
                Ok(ComponentDay {
                    component_id: col(row, "component_id")?,
                    day: col(row, "day")?,
                    operational_seconds: secs(row, "operational_us")?,
                    maintenance_seconds: secs(row, "maintenance_us")?,
                    degraded_seconds: secs(row, "degraded_us")?,
                    partial_outage_seconds: secs(row, "partial_outage_us")?,
                    major_outage_seconds: secs(row, "major_outage_us")?,
                })
            })
            .collect()
    }

    async fn delete_component(&self, id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM components WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn create_incident(&self, new: NewIncident) -> StoreResult<Incident> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let created = create_incident(&mut tx, &new).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(created)
    }

    async fn update_incident(
        &self,
        workspace_id: Option<&str>,
        id: &str,
        patch: IncidentPatch,
        now: Timestamp,
    ) -> StoreResult<Incident> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let updated = update_incident(&mut tx, workspace_id, id, &patch, now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(updated)
    }

    async fn get_incident(
        &self,
        workspace_id: Option<&str>,
        id: &str,
    ) -> StoreResult<Option<Incident>> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        get_incident(&mut c, workspace_id, id, false).await
    }

    async fn list_incidents(
        &self,
        filter: &IncidentFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Incident>> {
        let mut q = QueryBuilder::<Postgres>::new("SELECT * FROM incidents WHERE ");
        match &filter.workspace_id {
            None => q.push("workspace_id IS NULL"),
            Some(ws) => q.push("workspace_id = ").push_bind(ws.clone()),
        };
        if let Some(kind) = filter.kind {
            q.push(" AND kind = ").push_bind(kind.as_str());
        }
        if filter.unresolved {
            q.push(" AND resolved_at IS NULL");
        }
        if let Some(after) = &page.after {
            // Keyset on (created_at, id): an unknown cursor id compares as NULL, ending the list.
            q.push(" AND (created_at, id) < (SELECT created_at, id FROM incidents WHERE id = ")
                .push_bind(after.clone())
                .push(")");
        }
        q.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(page.limit) + 1);
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        let rows = q.build().fetch_all(&mut *c).await.map_err(db_err)?;
        let items = rows.iter().map(incident).collect::<StoreResult<Vec<_>>>()?;
        let page = Page::from_overfetch(items, page.limit, |i| i.id.clone());
        Ok(Page {
            items: with_updates(&mut c, page.items).await?,
            next_after: page.next_after,
        })
    }

    async fn open_auto_incident(&self, component_id: &str) -> StoreResult<Option<Incident>> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        let row = sqlx::query(
            "SELECT * FROM incidents WHERE auto_component_id = $1 AND resolved_at IS NULL",
        )
        .bind(component_id)
        .fetch_optional(&mut *c)
        .await
        .map_err(db_err)?;
        let found = row.as_ref().map(incident).transpose()?;
        Ok(with_updates(&mut c, found.into_iter().collect())
            .await?
            .pop())
    }

    async fn open_maintenances(&self) -> StoreResult<Vec<Incident>> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        let rows = sqlx::query(
            "SELECT * FROM incidents WHERE kind = 'maintenance' AND resolved_at IS NULL \
             ORDER BY scheduled_for NULLS FIRST, id",
        )
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
        let found = rows.iter().map(incident).collect::<StoreResult<Vec<_>>>()?;
        with_updates(&mut c, found).await
    }

    async fn platform_signals(
        &self,
        since: Timestamp,
        now: Timestamp,
    ) -> StoreResult<PlatformSignals> {
        let (requests, server_errors): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE status >= 500 AND \
             coalesce(error_code, '') NOT IN ('UPSTREAM_ERROR', 'UPSTREAM_UNREACHABLE')) \
             FROM request_logs WHERE created_at >= $1",
        )
        .bind(since)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        // Due, unleased deliveries to enabled endpoints that have nothing in flight: work the
        // dispatchers could take now. An endpoint held back by its in-flight cap (a slow
        // receiver) is the receiver's problem and does not count.
        let oldest: Option<Timestamp> = sqlx::query_scalar(
            "SELECT min(d.next_attempt_at) FROM webhook_deliveries d \
             JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND NOT e.disabled \
             AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $1) \
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries f \
                 WHERE f.endpoint_id = d.endpoint_id AND f.status = 'pending' \
                 AND f.lease_expires_at > $1)",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(PlatformSignals {
            requests,
            server_errors,
            oldest_due_delivery_at: oldest,
        })
    }

    async fn workspace_status_page(&self, workspace_id: &str) -> StoreResult<bool> {
        let enabled: Option<bool> = sqlx::query_scalar(
            "SELECT enabled FROM workspace_status_pages WHERE workspace_id = $1",
        )
        .bind(workspace_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(enabled.unwrap_or(false))
    }

    async fn set_workspace_status_page(
        &self,
        workspace_id: &str,
        enabled: bool,
    ) -> StoreResult<()> {
        // Inserting from the workspaces row makes an unknown workspace write nothing.
        let n = sqlx::query(
            "INSERT INTO workspace_status_pages (workspace_id, enabled, updated_at) \
             SELECT id, $2, $3 FROM workspaces WHERE id = $1 \
             ON CONFLICT (workspace_id) DO UPDATE \
             SET enabled = excluded.enabled, updated_at = excluded.updated_at",
        )
        .bind(workspace_id)
        .bind(enabled)
        .bind(millwright_core::time::now())
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
