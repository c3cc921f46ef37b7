//! The synced store on PostgreSQL (migration 0002): record pages, unified reads, the events
//! outbox, sync runs and state, idempotent responses.
//!
//! Lock order, the same in every transaction that takes more than one lock, so that none can
//! deadlock another: the connection row first (`FOR UPDATE` in `disconnect_connection`,
//! `FOR NO KEY UPDATE` in `finish_sync_run`, `FOR SHARE` in `apply_page` and `start_sync_run`),
//! then the per-(connection, entity) page lock, then the sync run row.

use std::collections::{HashMap, HashSet};

use millwright_core::{
    ids::{new_id, prefix},
    record::{record_json, RecordParts},
    status::ConnectionStatus,
    time::Timestamp,
    Entity,
};
use millwright_store::{
    Event, EventFilter, IdempotentResponse, NewEvent, NewSyncRun, Page, PageOutcome, PageRequest,
    PageWrite, RecordPage, RecordQuery, RunEnd, RunStatus, StoreError, StoreResult, StoredRecord,
    SyncRun, SyncState,
};
use serde_json::Value;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

use crate::rows::{self, db_err};

/// The first key of the transaction-scoped advisory lock that serialises page writes of one
/// (connection, entity); the second is a hash of the pair. Distinct from the migration lock,
/// which uses the single-`bigint` key space.
const PAGE_LOCK_CLASS: i32 = 0x6d77_7067; // "mwpg"

/// Inserts one event inside a transaction.
pub(crate) async fn insert_event(conn: &mut PgConnection, event: &NewEvent) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO events (id, workspace_id, connection_id, type, data, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&event.id)
    .bind(&event.workspace_id)
    .bind(&event.connection_id)
    .bind(&event.event_type)
    .bind(&event.data)
    .bind(event.created_at)
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Locks the connection `FOR SHARE` for the rest of the transaction and refuses a disconnected
/// one: a concurrent disconnect (which locks `FOR UPDATE`) waits for this transaction, or this
/// one waits for it and then sees `disconnected`.
async fn share_live_connection(
    conn: &mut PgConnection,
    workspace_id: &str,
    connection_id: &str,
) -> StoreResult<()> {
    let status: Option<String> = sqlx::query_scalar(
        "SELECT status FROM connections WHERE workspace_id = $1 AND id = $2 FOR SHARE",
    )
    .bind(workspace_id)
    .bind(connection_id)
    .fetch_optional(conn)
    .await
    .map_err(db_err)?;
    match status.as_deref() {
        None => Err(StoreError::NotFound),
        Some(s) if s == ConnectionStatus::Disconnected.as_str() => Err(StoreError::Disconnected),
        Some(_) => Ok(()),
    }
}

/// What the page knows of a record before (and, as it goes, during) the write.
struct Known {
    id: String,
    content_hash: String,
    created_at: Timestamp,
    deleted: bool,
}

pub(crate) async fn apply_page(pool: &PgPool, page: PageWrite) -> StoreResult<PageOutcome> {
    let entity = page.entity.as_str();
    let now = page.now;
    let mut tx = pool.begin().await.map_err(db_err)?;
    // The connection, shared: a disconnect (FOR UPDATE) waits for this page to commit, or this
    // page waits for the disconnect and then reads `disconnected`. In the same round trip, the
    // page lock: page writes of one (connection, entity) run one at a time, so that two writers
    // of the same new record cannot both count (and announce) it as created.
    let connection_status: Option<String> = sqlx::query_scalar(
        "WITH page_lock AS (SELECT pg_advisory_xact_lock($3, hashtext($4))) \
         SELECT c.status FROM connections c, page_lock \
         WHERE c.workspace_id = $1 AND c.id = $2 FOR SHARE OF c",
    )
    .bind(&page.workspace_id)
    .bind(&page.connection_id)
    .bind(PAGE_LOCK_CLASS)
    .bind(format!("{}/{entity}", page.connection_id))
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let Some(connection_status) = connection_status else {
        return Err(StoreError::NotFound);
    };
    // The run is checked first: a disconnect cancels the connection's runs, and a page of a
    // cancelled run is refused as such (RunNotRunning) whatever cancelled it.
    if let Some(run_id) = &page.run_id {
        // Locked until commit: a disconnect cancelling the run, or finish_sync_run, waits.
        let status: Option<String> = sqlx::query_scalar(
            "SELECT status FROM sync_runs WHERE id = $1 AND connection_id = $2 AND entity = $3 \
             FOR UPDATE",
        )
        .bind(run_id)
        .bind(&page.connection_id)
        .bind(entity)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        match status.as_deref() {
            None => return Err(StoreError::NotFound),
            Some(s) if s != RunStatus::Running.as_str() => return Err(StoreError::RunNotRunning),
            Some(_) => {}
        }
    }
    if connection_status == ConnectionStatus::Disconnected.as_str() {
        return Err(StoreError::Disconnected);
    }

    // What is stored for the page's remote ids, in one query.
    let mut known: HashMap<String, Known> = HashMap::new();
    if !page.records.is_empty() {
        // Looked up by primary key: record ids are derived from (connection, entity, remote id),
        // so this is an exact index probe whatever the planner's statistics say. (Filtering on
        // (connection_id, entity, remote_id = ANY) let a planner with stale statistics scan the
        // whole (connection, entity) prefix on every page: quadratic initial syncs.)
        let ids: Vec<&str> = page
            .records
            .iter()
            .map(|r| r.id.as_str())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let found: Vec<(String, String, String, Timestamp, Option<Timestamp>)> = sqlx::query_as(
            "SELECT remote_id, id, content_hash, created_at, deleted_at FROM records \
             WHERE id = ANY($3) AND connection_id = $1 AND entity = $2",
        )
        .bind(&page.connection_id)
        .bind(entity)
        .bind(ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        for (remote_id, id, content_hash, created_at, deleted_at) in found {
            known.insert(
                remote_id,
                Known {
                    id,
                    content_hash,
                    created_at,
                    deleted: deleted_at.is_some(),
                },
            );
        }
    }

    // Classify in input order, as if each record were written one after the other (a remote id
    // repeated within the page is created once, then updated or unchanged).
    let mut outcome = PageOutcome::default();
    let mut events: Vec<(String, Value)> = Vec::new();
    // Per remote id, the index of the last changed version and its stored id / created_at.
    let mut writes: HashMap<&str, (usize, String, Timestamp)> = HashMap::new();
    // Per input index of a changed record, its rendering.
    let mut renders: HashMap<usize, String> = HashMap::new();
    for (i, r) in page.records.iter().enumerate() {
        let (id, created_at, kind) = match known.get(&r.remote_id) {
            None => (r.id.clone(), now, "created"),
            Some(k) if !k.deleted && k.content_hash == r.content_hash => {
                outcome.unchanged += 1;
                continue;
            }
            // A deleted record that comes back is created anew for readers (keeping its id and
            // first `created_at`).
            Some(k) if k.deleted => (k.id.clone(), k.created_at, "created"),
            Some(k) => (k.id.clone(), k.created_at, "updated"),
        };
        if kind == "created" {
            outcome.created += 1;
        } else {
            outcome.updated += 1;
        }
        // The event's data and the stored rendering are the same JSON: the record as reads
        // show it after this write.
        let data = record_json(&RecordParts {
            id: &id,
            remote_id: &r.remote_id,
            data: &r.data,
            custom_fields: &r.custom_fields,
            display_name: r.display_name.as_deref(),
            remote_created_at: r.remote_created_at,
            remote_updated_at: r.remote_updated_at,
            created_at,
            updated_at: now,
            deleted_at: None,
            remote_data: None,
        });
        renders.insert(i, data.to_string());
        events.push((format!("{}.{kind}", page.entity.event_name()), data));
        outcome.changed_ids.push(id.clone());
        known.insert(
            r.remote_id.clone(),
            Known {
                id: id.clone(),
                content_hash: r.content_hash.clone(),
                created_at,
                deleted: false,
            },
        );
        writes.insert(&r.remote_id, (i, id, created_at));
    }

    if !writes.is_empty() {
        // One row per remote id (ON CONFLICT may not touch a row twice), its last version.
        let mut rows: Vec<(usize, String, Timestamp)> = writes.into_values().collect();
        rows.sort_by_key(|(i, _, _)| *i);
        let records = &page.records;
        fn column<T>(
            rows: &[(usize, String, Timestamp)],
            f: impl Fn(usize, &str, Timestamp) -> T,
        ) -> Vec<T> {
            rows.iter().map(|(i, id, c)| f(*i, id, *c)).collect()
        }
        sqlx::query(
            "INSERT INTO records (id, workspace_id, connection_id, entity, remote_id, data, \
             custom_fields, remote_data, display_name, remote_created_at, remote_updated_at, \
             content_hash, created_at, updated_at, deleted_at, rendered) \
             SELECT u.id, $1, $2, $3, u.remote_id, u.data, u.custom_fields, u.remote_data, \
             u.display_name, u.remote_created_at, u.remote_updated_at, u.content_hash, \
             u.created_at, $4, NULL, u.rendered \
             FROM UNNEST($5::text[], $6::text[], $7::jsonb[], $8::jsonb[], $9::jsonb[], \
             $10::text[], $11::timestamptz[], $12::timestamptz[], $13::text[], \
             $14::timestamptz[], $15::text[]) \
             AS u(id, remote_id, data, custom_fields, remote_data, display_name, \
             remote_created_at, remote_updated_at, content_hash, created_at, rendered) \
             ON CONFLICT (connection_id, entity, remote_id) DO UPDATE SET \
             data = EXCLUDED.data, custom_fields = EXCLUDED.custom_fields, \
             remote_data = EXCLUDED.remote_data, display_name = EXCLUDED.display_name, \
             remote_created_at = EXCLUDED.remote_created_at, \
             remote_updated_at = EXCLUDED.remote_updated_at, \
             content_hash = EXCLUDED.content_hash, updated_at = EXCLUDED.updated_at, \
             deleted_at = NULL, rendered = EXCLUDED.rendered",
        )
        .bind(&page.workspace_id)
        .bind(&page.connection_id)
        .bind(entity)
        .bind(now)
        .bind(column(&rows, |_, id, _| id.to_owned()))
        .bind(column(&rows, |i, _, _| records[i].remote_id.clone()))
        .bind(column(&rows, |i, _, _| records[i].data.clone()))
        .bind(column(&rows, |i, _, _| records[i].custom_fields.clone()))
        .bind(column(&rows, |i, _, _| records[i].remote_data.clone()))
        .bind(column(&rows, |i, _, _| records[i].display_name.clone()))
        .bind(column(&rows, |i, _, _| records[i].remote_created_at))
        .bind(column(&rows, |i, _, _| records[i].remote_updated_at))
        .bind(column(&rows, |i, _, _| records[i].content_hash.clone()))
        .bind(column(&rows, |_, _, c| c))
        .bind(column(&rows, |i, _, _| renders.get(&i).cloned()))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }

    // The renderings of the deleted records, rewritten with `deleted_at` by the events' statement
    // (a deletion always has an event), so a page costs no extra round trip.
    let mut deleted_ids: Vec<String> = Vec::new();
    let mut deleted_renderings: Vec<String> = Vec::new();
    if !page.deleted_remote_ids.is_empty() {
        let deleted = sqlx::query(
            "UPDATE records SET deleted_at = $3, updated_at = $3 \
             WHERE id = ANY($4) AND connection_id = $1 AND entity = $2 \
             AND deleted_at IS NULL RETURNING *",
        )
        .bind(&page.connection_id)
        .bind(entity)
        .bind(now)
        .bind(
            page.deleted_remote_ids
                .iter()
                .map(|remote| {
                    millwright_core::record::record_id(&page.connection_id, page.entity, remote)
                })
                .collect::<Vec<_>>(),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut deleted = deleted
            .iter()
            .map(rows::record)
            .collect::<StoreResult<Vec<StoredRecord>>>()?;
        // RETURNING has no order; events follow the input's.
        let position: HashMap<&str, usize> = page
            .deleted_remote_ids
            .iter()
            .enumerate()
            .rev()
            .map(|(i, r)| (r.as_str(), i))
            .collect();
        deleted.sort_by_key(|r| position.get(r.remote_id.as_str()).copied());
        outcome.deleted = deleted.len() as u64;
        for r in &deleted {
            let data = stored_record_json(r);
            deleted_ids.push(r.id.clone());
            deleted_renderings.push(data.to_string());
            events.push((format!("{}.deleted", page.entity.event_name()), data));
        }
    }

    if !events.is_empty() {
        // Ids made in input order sort in input order.
        let ids: Vec<String> = events.iter().map(|_| new_id(prefix::EVENT)).collect();
        let (types, data): (Vec<String>, Vec<Value>) = events.into_iter().unzip();
        sqlx::query(
            "WITH rendered AS (UPDATE records SET rendered = u.rendered \
             FROM UNNEST($7::text[], $8::text[]) AS u(id, rendered) WHERE records.id = u.id) \
             INSERT INTO events (id, workspace_id, connection_id, type, data, created_at) \
             SELECT e.id, $1, $2, e.type, e.data, $3 \
             FROM UNNEST($4::text[], $5::text[], $6::jsonb[]) AS e(id, type, data)",
        )
        .bind(&page.workspace_id)
        .bind(&page.connection_id)
        .bind(now)
        .bind(ids)
        .bind(types)
        .bind(data)
        .bind(deleted_ids)
        .bind(deleted_renderings)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }

    if let Some(run_id) = &page.run_id {
        sqlx::query(
            "UPDATE sync_runs SET pages = pages + 1, created = created + $2, \
             updated = updated + $3, deleted = deleted + $4, unchanged = unchanged + $5, \
             checkpoint = $6 WHERE id = $1",
        )
        .bind(run_id)
        .bind(outcome.created as i64)
        .bind(outcome.updated as i64)
        .bind(outcome.deleted as i64)
        .bind(outcome.unchanged as i64)
        .bind(&page.checkpoint)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(outcome)
}

/// A stored record as events and the unified API show it (without `remote_data`).
fn stored_record_json(r: &StoredRecord) -> Value {
    record_json(&RecordParts {
        id: &r.id,
        remote_id: &r.remote_id,
        data: &r.data,
        custom_fields: &r.custom_fields,
        display_name: r.display_name.as_deref(),
        remote_created_at: r.remote_created_at,
        remote_updated_at: r.remote_updated_at,
        created_at: r.created_at,
        updated_at: r.updated_at,
        deleted_at: r.deleted_at,
        remote_data: None,
    })
}

pub(crate) async fn get_record(
    pool: &PgPool,
    workspace_id: &str,
    connection_id: &str,
    entity: Entity,
    id: &str,
) -> StoreResult<Option<StoredRecord>> {
    let row = sqlx::query(
        "SELECT * FROM records WHERE workspace_id = $1 AND connection_id = $2 AND entity = $3 \
         AND id = $4",
    )
    .bind(workspace_id)
    .bind(connection_id)
    .bind(entity.as_str())
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.as_ref().map(rows::record).transpose()
}

pub(crate) async fn list_records(
    pool: &PgPool,
    workspace_id: &str,
    connection_id: &str,
    entity: Entity,
    query: &RecordQuery,
) -> StoreResult<RecordPage> {
    // `remote_data` is the largest column; lists that do not show it skip reading it.
    // With `rendered`, `data` and `custom_fields` are read only for rows without a rendering
    // (not transferring and decoding them is the point).
    let (data, custom) = if query.rendered {
        (
            "CASE WHEN rendered IS NULL THEN data END AS data",
            "CASE WHEN rendered IS NULL THEN custom_fields END AS custom_fields",
        )
    } else {
        ("data", "custom_fields")
    };
    let remote = if query.with_remote_data {
        "remote_data"
    } else {
        "NULL::jsonb AS remote_data"
    };
    let mut q = QueryBuilder::<Postgres>::new(format!(
        "SELECT id, workspace_id, connection_id, entity, remote_id, {data}, {custom}, {remote}, \
         display_name, remote_created_at, remote_updated_at, content_hash, created_at, \
         updated_at, deleted_at, rendered FROM records WHERE workspace_id = "
    ));
    q.push_bind(workspace_id.to_owned());
    q.push(" AND connection_id = ")
        .push_bind(connection_id.to_owned());
    q.push(" AND entity = ").push_bind(entity.as_str());
    if !query.include_deleted {
        q.push(" AND deleted_at IS NULL");
    }
    if let Some(t) = query.modified_after {
        q.push(" AND updated_at >= ").push_bind(t);
    }
    if let Some(t) = query.modified_before {
        q.push(" AND updated_at < ").push_bind(t);
    }
    if let Some((t, id)) = &query.after {
        q.push(" AND (updated_at, id) > (")
            .push_bind(*t)
            .push(", ")
            .push_bind(id.clone())
            .push(")");
    }
    for (field, value) in &query.filters {
        // The field's value as text; for an array, any element as text. The field name is a
        // bind parameter, never spliced into the SQL.
        q.push(" AND CASE jsonb_typeof(data -> ")
            .push_bind(field.clone())
            .push(") WHEN 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements_text(data -> ")
            .push_bind(field.clone())
            .push(") AS e(v) WHERE e.v = ")
            .push_bind(value.clone())
            .push(") ELSE data ->> ")
            .push_bind(field.clone())
            .push(" = ")
            .push_bind(value.clone())
            .push(" END");
    }
    q.push(" ORDER BY updated_at, id LIMIT ")
        .push_bind(i64::from(query.limit) + 1);
    let found = q.build().fetch_all(pool).await.map_err(db_err)?;
    let mut items = found
        .iter()
        .map(rows::record)
        .collect::<StoreResult<Vec<StoredRecord>>>()?;
    let more = items.len() > query.limit as usize;
    items.truncate(query.limit as usize);
    let next_after = if more {
        items.last().map(|r| (r.updated_at, r.id.clone()))
    } else {
        None
    };
    Ok(RecordPage { items, next_after })
}

pub(crate) async fn live_remote_ids(
    pool: &PgPool,
    connection_id: &str,
    entity: Entity,
) -> StoreResult<Vec<String>> {
    sqlx::query_scalar(
        "SELECT remote_id FROM records WHERE connection_id = $1 AND entity = $2 \
         AND deleted_at IS NULL ORDER BY remote_id",
    )
    .bind(connection_id)
    .bind(entity.as_str())
    .fetch_all(pool)
    .await
    .map_err(db_err)
}

pub(crate) async fn list_events(
    pool: &PgPool,
    workspace_id: &str,
    filter: &EventFilter,
    page: &PageRequest,
) -> StoreResult<Page<Event>> {
    let mut q = QueryBuilder::<Postgres>::new("SELECT * FROM events WHERE workspace_id = ");
    q.push_bind(workspace_id.to_owned());
    if let Some(t) = filter.event_type.as_deref() {
        match t.strip_suffix('*') {
            // `work_order.*`: every type starting with `work_order.`.
            Some(prefix) if prefix.ends_with('.') => {
                q.push(" AND starts_with(type, ")
                    .push_bind(prefix.to_owned())
                    .push(")");
            }
            _ => {
                q.push(" AND type = ").push_bind(t.to_owned());
            }
        }
    }
    if let Some(connection_id) = &filter.connection_id {
        q.push(" AND connection_id = ")
            .push_bind(connection_id.clone());
    }
    if let Some(since) = filter.since {
        q.push(" AND created_at >= ").push_bind(since);
    }
    if let Some(after) = &page.after {
        q.push(" AND id > ").push_bind(after.clone());
    }
    q.push(" ORDER BY id LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    let found = q.build().fetch_all(pool).await.map_err(db_err)?;
    let items = found
        .iter()
        .map(rows::event)
        .collect::<StoreResult<Vec<Event>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |e| e.id.clone()))
}

pub(crate) async fn start_sync_run(pool: &PgPool, run: NewSyncRun) -> StoreResult<SyncRun> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    // Shared with other starts and pages; a disconnect waits for this, or this for it.
    share_live_connection(&mut tx, &run.workspace_id, &run.connection_id).await?;
    // A run that ends between a refused insert and the read below frees the slot: try again.
    for _ in 0..3 {
        // A concurrent start of the same (connection, entity) waits on the partial unique
        // index until the other commits, then inserts nothing and reads the other's run.
        let inserted = sqlx::query(
            "INSERT INTO sync_runs (id, workspace_id, connection_id, entity, mode, status, \
             cursor_from, started_at) VALUES ($1, $2, $3, $4, $5, 'running', $6, $7) \
             ON CONFLICT (connection_id, entity) WHERE status = 'running' DO NOTHING \
             RETURNING *",
        )
        .bind(&run.id)
        .bind(&run.workspace_id)
        .bind(&run.connection_id)
        .bind(run.entity.as_str())
        .bind(run.mode.as_str())
        .bind(&run.cursor_from)
        .bind(run.started_at)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let row = match inserted {
            Some(row) => Some(row),
            None => sqlx::query(
                "SELECT * FROM sync_runs WHERE connection_id = $1 AND entity = $2 \
                 AND status = 'running'",
            )
            .bind(&run.connection_id)
            .bind(run.entity.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?,
        };
        if let Some(row) = row {
            let run = rows::sync_run(&row)?;
            tx.commit().await.map_err(db_err)?;
            return Ok(run);
        }
    }
    Err(StoreError::Backend(format!(
        "could not start or resume a run of {} for {}",
        run.entity.as_str(),
        run.connection_id
    )))
}

pub(crate) async fn finish_sync_run(
    pool: &PgPool,
    run_id: &str,
    end: RunEnd,
) -> StoreResult<SyncRun> {
    if end.status == RunStatus::Running {
        return Err(StoreError::Conflict("a run cannot end as running".into()));
    }
    let mut tx = pool.begin().await.map_err(db_err)?;
    let connection_id: Option<String> =
        sqlx::query_scalar("SELECT connection_id FROM sync_runs WHERE id = $1")
            .bind(run_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
    let connection_id = connection_id.ok_or(StoreError::NotFound)?;
    // The connection before the run (the lock order); NO KEY UPDATE because its `last_sync_at`
    // may be written below, and taking a share lock first could deadlock two finishes.
    sqlx::query("SELECT 1 FROM connections WHERE id = $1 FOR NO KEY UPDATE")
        .bind(&connection_id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    let status: String =
        sqlx::query_scalar("SELECT status FROM sync_runs WHERE id = $1 FOR UPDATE")
            .bind(run_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
    if status != RunStatus::Running.as_str() {
        return Err(StoreError::RunNotRunning);
    }
    let row = sqlx::query(
        "UPDATE sync_runs SET status = $2, error = $3, finished_at = $4 WHERE id = $1 RETURNING *",
    )
    .bind(run_id)
    .bind(end.status.as_str())
    .bind(&end.error)
    .bind(end.now)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let run = rows::sync_run(&row)?;
    let success = end.status == RunStatus::Completed;
    sqlx::query(
        "INSERT INTO sync_state (connection_id, entity, cursor, last_success_at, last_run_at, \
         last_status, error) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (connection_id, entity) DO UPDATE SET \
         cursor = COALESCE(EXCLUDED.cursor, sync_state.cursor), \
         last_success_at = COALESCE(EXCLUDED.last_success_at, sync_state.last_success_at), \
         last_run_at = EXCLUDED.last_run_at, last_status = EXCLUDED.last_status, \
         error = EXCLUDED.error",
    )
    .bind(&connection_id)
    .bind(run.entity.as_str())
    .bind(if success {
        end.new_cursor.clone()
    } else {
        None
    })
    .bind(success.then_some(end.now))
    .bind(end.now)
    .bind(end.status.as_str())
    .bind(&end.error)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    if success {
        sqlx::query("UPDATE connections SET last_sync_at = $2 WHERE id = $1")
            .bind(&connection_id)
            .bind(end.now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    if let Some(event) = &end.event {
        insert_event(&mut tx, event).await?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(run)
}

pub(crate) async fn get_sync_run(pool: &PgPool, run_id: &str) -> StoreResult<Option<SyncRun>> {
    let row = sqlx::query("SELECT * FROM sync_runs WHERE id = $1")
        .bind(run_id)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    row.as_ref().map(rows::sync_run).transpose()
}

pub(crate) async fn list_sync_runs(
    pool: &PgPool,
    workspace_id: &str,
    connection_id: &str,
    page: &PageRequest,
) -> StoreResult<Page<SyncRun>> {
    let mut q = QueryBuilder::<Postgres>::new("SELECT * FROM sync_runs WHERE workspace_id = ");
    q.push_bind(workspace_id.to_owned());
    q.push(" AND connection_id = ")
        .push_bind(connection_id.to_owned());
    if let Some(after) = &page.after {
        q.push(" AND id < ").push_bind(after.clone());
    }
    q.push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    let found = q.build().fetch_all(pool).await.map_err(db_err)?;
    let items = found
        .iter()
        .map(rows::sync_run)
        .collect::<StoreResult<Vec<SyncRun>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |r| r.id.clone()))
}

pub(crate) async fn sync_states(pool: &PgPool, connection_id: &str) -> StoreResult<Vec<SyncState>> {
    // The entities with a state row, plus any with a run in progress (a first run has no state
    // row until it ends, and the status page must still show it running).
    let found = sqlx::query(
        "SELECT $1::text AS connection_id, k.entity, s.cursor, s.last_success_at, s.last_run_at, \
         s.next_run_at, s.last_status, s.error, COALESCE(s.paused, false) AS paused, \
         (SELECT count(*) FROM records r WHERE r.connection_id = $1 AND r.entity = k.entity \
          AND r.deleted_at IS NULL) AS record_count, \
         (SELECT r.id FROM sync_runs r WHERE r.connection_id = $1 AND r.entity = k.entity \
          AND r.status = 'running') AS running_run_id \
         FROM (SELECT entity FROM sync_state WHERE connection_id = $1 \
               UNION SELECT entity FROM sync_runs WHERE connection_id = $1 \
               AND status = 'running') AS k \
         LEFT JOIN sync_state s ON s.connection_id = $1 AND s.entity = k.entity",
    )
    .bind(connection_id)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    let mut states = found
        .iter()
        .map(rows::sync_state)
        .collect::<StoreResult<Vec<SyncState>>>()?;
    states.sort_by(|a, b| a.entity.as_str().cmp(b.entity.as_str()));
    Ok(states)
}

pub(crate) async fn set_next_run(
    pool: &PgPool,
    connection_id: &str,
    entity: Entity,
    next_run_at: Option<Timestamp>,
) -> StoreResult<()> {
    // One statement: the upsert happens only for a known connection, and the answer says
    // whether it was known.
    let known: bool = sqlx::query_scalar(
        "WITH c AS (SELECT id FROM connections WHERE id = $1), \
         upsert AS (INSERT INTO sync_state (connection_id, entity, next_run_at) \
             SELECT c.id, $2, $3 FROM c \
             ON CONFLICT (connection_id, entity) DO UPDATE SET next_run_at = EXCLUDED.next_run_at \
             RETURNING 1) \
         SELECT EXISTS (SELECT 1 FROM c)",
    )
    .bind(connection_id)
    .bind(entity.as_str())
    .bind(next_run_at)
    .fetch_one(pool)
    .await
    .map_err(db_err)?;
    if known {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

pub(crate) async fn set_paused(
    pool: &PgPool,
    connection_id: &str,
    entities: &[Entity],
    paused: bool,
) -> StoreResult<()> {
    // Deduplicated: one statement may not update a row twice.
    let names: Vec<&str> = entities
        .iter()
        .map(|e| e.as_str())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let known: bool = sqlx::query_scalar(
        "WITH c AS (SELECT id FROM connections WHERE id = $1), \
         upsert AS (INSERT INTO sync_state (connection_id, entity, paused) \
             SELECT c.id, e, $3 FROM c, UNNEST($2::text[]) AS e \
             ON CONFLICT (connection_id, entity) DO UPDATE SET paused = EXCLUDED.paused \
             RETURNING 1) \
         SELECT EXISTS (SELECT 1 FROM c)",
    )
    .bind(connection_id)
    .bind(names)
    .bind(paused)
    .fetch_one(pool)
    .await
    .map_err(db_err)?;
    if known {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

pub(crate) async fn get_idempotent_response(
    pool: &PgPool,
    workspace_id: &str,
    key: &str,
) -> StoreResult<Option<IdempotentResponse>> {
    let row = sqlx::query("SELECT * FROM idempotency_keys WHERE workspace_id = $1 AND key = $2")
        .bind(workspace_id)
        .bind(key)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    row.as_ref().map(rows::idempotent_response).transpose()
}

pub(crate) async fn put_idempotent_response(
    pool: &PgPool,
    response: IdempotentResponse,
) -> StoreResult<bool> {
    let stored = sqlx::query(
        "INSERT INTO idempotency_keys (workspace_id, key, request_hash, status, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (workspace_id, key) DO NOTHING",
    )
    .bind(&response.workspace_id)
    .bind(&response.key)
    .bind(&response.request_hash)
    .bind(response.status)
    .bind(&response.body)
    .bind(response.created_at)
    .execute(pool)
    .await
    .map_err(db_err)?
    .rows_affected();
    Ok(stored == 1)
}

pub(crate) async fn purge_idempotent_responses(
    pool: &PgPool,
    before: Timestamp,
) -> StoreResult<u64> {
    let purged = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(before)
        .execute(pool)
        .await
        .map_err(db_err)?
        .rows_affected();
    Ok(purged)
}
