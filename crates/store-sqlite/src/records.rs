//! Synced records: one page written per transaction, read back keyset-paginated.
//!
//! [`apply_page`] reads what is stored for the page's remote ids in one statement, writes only
//! the records whose content hash changed (or that are new, or come back after a deletion),
//! soft-deletes the reported deletions, then appends one event per change in input order, all
//! in the caller's IMMEDIATE transaction.

use std::collections::HashMap;

use millwright_core::{
    ids::{new_id, prefix},
    record::{record_json, RecordParts},
    status::ConnectionStatus,
    time::Timestamp,
    Entity,
};
use millwright_store::{
    NewEvent, PageOutcome, PageWrite, RecordPage, RecordQuery, RunStatus, StoreError, StoreResult,
    StoredRecord,
};
use rusqlite::{params, types::Value as SqlValue, Connection as SqlConn, OptionalExtension};
use serde_json::Value;

use crate::connections::owner_and_status;
use crate::decode::{self, all, json_text, micros, micros_opt, optional, RECORD_COLS};
use crate::error::Db;
use crate::events;

/// A JSON array of strings as one statement parameter, so that a statement's text (and its
/// cache entry) does not depend on how many values it is given.
pub(crate) fn json_list<S: AsRef<str>>(values: &[S]) -> StoreResult<String> {
    let v: Vec<&str> = values.iter().map(AsRef::as_ref).collect();
    serde_json::to_string(&v).map_err(|e| StoreError::Backend(e.to_string()))
}

/// The stored form of `remote_data`: SQL NULL when absent.
fn remote_data_text(v: &Value) -> Option<String> {
    (!v.is_null()).then(|| json_text(v))
}

/// What the page needs to know of a record already stored.
struct Existing {
    id: String,
    content_hash: String,
    created_at: Timestamp,
    deleted: bool,
}

fn existing(
    c: &SqlConn,
    connection_id: &str,
    entity: Entity,
    remote_ids: &str,
) -> StoreResult<HashMap<String, Existing>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT remote_id, id, content_hash, created_at, deleted_at IS NOT NULL FROM records \
             WHERE connection_id = ?1 AND entity = ?2 \
             AND remote_id IN (SELECT value FROM json_each(?3))",
        )
        .db()?;
    let mut rows = stmt
        .query(params![connection_id, entity.as_str(), remote_ids])
        .db()?;
    let mut out = HashMap::new();
    while let Some(r) = rows.next().db()? {
        let created: i64 = r.get(3).db()?;
        out.insert(
            r.get::<_, String>(0).db()?,
            Existing {
                id: r.get(1).db()?,
                content_hash: r.get(2).db()?,
                created_at: chrono::DateTime::from_timestamp_micros(created).ok_or_else(|| {
                    StoreError::Corrupt(format!("created_at: timestamp {created} out of range"))
                })?,
                deleted: r.get(4).db()?,
            },
        );
    }
    Ok(out)
}

fn check_run(c: &SqlConn, page: &PageWrite, run_id: &str) -> StoreResult<()> {
    let row: Option<(String, String, String)> = c
        .prepare_cached("SELECT connection_id, entity, status FROM sync_runs WHERE id = ?1")
        .db()?
        .query_row([run_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
        .db()?;
    let (connection_id, entity, status) = row.ok_or(StoreError::NotFound)?;
    if connection_id != page.connection_id || entity != page.entity.as_str() {
        return Err(StoreError::Backend(format!(
            "sync run {run_id} belongs to {connection_id}/{entity}, not {}/{}",
            page.connection_id,
            page.entity.as_str()
        )));
    }
    match RunStatus::parse(&status) {
        Some(RunStatus::Running) => Ok(()),
        Some(_) => Err(StoreError::RunNotRunning),
        None => Err(StoreError::Corrupt(format!(
            "status: unknown run status {status:?}"
        ))),
    }
}

pub(crate) fn apply_page(c: &SqlConn, page: &PageWrite) -> StoreResult<PageOutcome> {
    // Checks first: a refused page writes nothing (and the transaction rolls back anyway).
    // The run is checked before the connection: a disconnect cancels the running runs, and a
    // sync page arriving after it reports that its run was stopped.
    let owner = owner_and_status(c, &page.connection_id)?;
    if owner
        .as_ref()
        .is_none_or(|(ws, _)| *ws != page.workspace_id)
    {
        return Err(StoreError::NotFound);
    }
    if let Some(run_id) = &page.run_id {
        check_run(c, page, run_id)?;
    }
    if matches!(owner, Some((_, ConnectionStatus::Disconnected))) {
        return Err(StoreError::Disconnected);
    }

    let entity = page.entity;
    let now = micros(&page.now);
    let mut remote_ids: Vec<&str> = page.records.iter().map(|r| r.remote_id.as_str()).collect();
    remote_ids.extend(page.deleted_remote_ids.iter().map(String::as_str));
    let mut stored = existing(c, &page.connection_id, entity, &json_list(&remote_ids)?)?;

    let mut insert = c
        .prepare_cached(
            "INSERT INTO records (id, workspace_id, connection_id, entity, remote_id, data, \
             custom_fields, remote_data, display_name, remote_created_at, remote_updated_at, \
             content_hash, created_at, updated_at, deleted_at, rendered) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, NULL, ?14)",
        )
        .db()?;
    // Two updates: one that leaves `deleted_at` alone, so the common update does not touch the
    // partial index of live records, and one that brings a deleted record back.
    let mut update = c
        .prepare_cached(
            "UPDATE records SET data = ?2, custom_fields = ?3, remote_data = ?4, \
             display_name = ?5, remote_created_at = ?6, remote_updated_at = ?7, \
             content_hash = ?8, updated_at = ?9, rendered = ?10 WHERE id = ?1",
        )
        .db()?;
    let mut revive = c
        .prepare_cached(
            "UPDATE records SET data = ?2, custom_fields = ?3, remote_data = ?4, \
             display_name = ?5, remote_created_at = ?6, remote_updated_at = ?7, \
             content_hash = ?8, updated_at = ?9, deleted_at = NULL, rendered = ?10 WHERE id = ?1",
        )
        .db()?;

    let mut out = PageOutcome::default();
    let mut changes: Vec<(&'static str, Value)> = Vec::new();
    for r in &page.records {
        // `Some(revive)`: the stored row is updated (and brought back when `revive`); `None`:
        // a new row is inserted.
        let (kind, id, created_at, revive_or_update) = match stored.get(&r.remote_id) {
            // Same content, still live: not written, no event.
            Some(e) if !e.deleted && e.content_hash == r.content_hash => {
                out.unchanged += 1;
                continue;
            }
            // A record that reappears after its deletion is created again for readers.
            Some(e) if e.deleted => ("created", e.id.clone(), e.created_at, Some(true)),
            Some(e) => ("updated", e.id.clone(), e.created_at, Some(false)),
            None => ("created", r.id.clone(), page.now, None),
        };
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
            updated_at: page.now,
            deleted_at: None,
            remote_data: None,
        });
        let rendered = data.to_string();
        match revive_or_update {
            Some(revived) => {
                let stmt = if revived { &mut revive } else { &mut update };
                stmt.execute(params![
                    id,
                    json_text(&r.data),
                    json_text(&r.custom_fields),
                    remote_data_text(&r.remote_data),
                    r.display_name,
                    micros_opt(&r.remote_created_at),
                    micros_opt(&r.remote_updated_at),
                    r.content_hash,
                    now,
                    rendered,
                ])
                .db()?;
            }
            None => {
                insert
                    .execute(params![
                        r.id,
                        page.workspace_id,
                        page.connection_id,
                        entity.as_str(),
                        r.remote_id,
                        json_text(&r.data),
                        json_text(&r.custom_fields),
                        remote_data_text(&r.remote_data),
                        r.display_name,
                        micros_opt(&r.remote_created_at),
                        micros_opt(&r.remote_updated_at),
                        r.content_hash,
                        now,
                        rendered,
                    ])
                    .db()?;
            }
        }
        if kind == "created" {
            out.created += 1;
        } else {
            out.updated += 1;
        }
        changes.push((kind, data));
        // A remote id repeated later in the page compares against what was just written.
        stored.insert(
            r.remote_id.clone(),
            Existing {
                id: id.clone(),
                content_hash: r.content_hash.clone(),
                created_at,
                deleted: false,
            },
        );
        out.changed_ids.push(id);
    }

    if !page.deleted_remote_ids.is_empty() {
        let sql = format!(
            "UPDATE records SET deleted_at = ?1, updated_at = ?1 WHERE connection_id = ?2 \
             AND entity = ?3 AND deleted_at IS NULL \
             AND remote_id IN (SELECT value FROM json_each(?4)) RETURNING {RECORD_COLS}"
        );
        let deleted = all(
            c.prepare_cached(&sql).db()?,
            params![
                now,
                page.connection_id,
                entity.as_str(),
                json_list(&page.deleted_remote_ids)?
            ],
            decode::record,
        )?;
        // RETURNING has no order: events follow the input order of the deleted ids.
        let mut by_remote: HashMap<String, StoredRecord> = deleted
            .into_iter()
            .map(|r| (r.remote_id.clone(), r))
            .collect();
        // The rendering follows the deletion (reads with `include_deleted` show `deleted_at`).
        let mut render = c
            .prepare_cached("UPDATE records SET rendered = ?2 WHERE id = ?1")
            .db()?;
        for remote_id in &page.deleted_remote_ids {
            if let Some(r) = by_remote.remove(remote_id) {
                out.deleted += 1;
                let data = stored_json(&r);
                render.execute(params![r.id, data.to_string()]).db()?;
                changes.push(("deleted", data));
            }
        }
    }

    for (kind, data) in changes {
        events::insert(
            c,
            &NewEvent {
                id: new_id(prefix::EVENT),
                workspace_id: page.workspace_id.clone(),
                connection_id: Some(page.connection_id.clone()),
                event_type: format!("{}.{kind}", entity.event_name()),
                data,
                created_at: page.now,
            },
        )?;
    }

    if let Some(run_id) = &page.run_id {
        c.prepare_cached(
            "UPDATE sync_runs SET pages = pages + 1, created = created + ?2, \
             updated = updated + ?3, deleted = deleted + ?4, unchanged = unchanged + ?5, \
             checkpoint = ?6 WHERE id = ?1",
        )
        .db()?
        .execute(params![
            run_id,
            out.created as i64,
            out.updated as i64,
            out.deleted as i64,
            out.unchanged as i64,
            page.checkpoint,
        ])
        .db()?;
    }
    Ok(out)
}

/// A stored record as events and reads show it (no `remote_data`).
fn stored_json(r: &StoredRecord) -> Value {
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

pub(crate) fn get(
    c: &SqlConn,
    workspace_id: &str,
    connection_id: &str,
    entity: Entity,
    id: &str,
) -> StoreResult<Option<StoredRecord>> {
    let sql = format!(
        "SELECT {RECORD_COLS} FROM records \
         WHERE id = ?1 AND workspace_id = ?2 AND connection_id = ?3 AND entity = ?4"
    );
    optional(
        c.prepare_cached(&sql).db()?,
        params![id, workspace_id, connection_id, entity.as_str()],
        decode::record,
    )
}

/// The text of a `json_each` row's value as PostgreSQL's `->>` gives it: strings unquoted,
/// numbers and booleans as written, JSON null as SQL NULL (so it matches nothing).
const TEXT_OF_F: &str = "CASE f.type WHEN 'null' THEN NULL WHEN 'true' THEN 'true' \
     WHEN 'false' THEN 'false' ELSE CAST(f.value AS TEXT) END";
const TEXT_OF_E: &str = "CASE e.type WHEN 'null' THEN NULL WHEN 'true' THEN 'true' \
     WHEN 'false' THEN 'false' ELSE CAST(e.value AS TEXT) END";

pub(crate) fn list(
    c: &SqlConn,
    workspace_id: &str,
    connection_id: &str,
    entity: Entity,
    q: &RecordQuery,
) -> StoreResult<RecordPage> {
    let cols = decode::record_cols(q.with_remote_data, q.rendered);
    let mut sql = format!(
        "SELECT {cols} FROM records WHERE connection_id = ? AND entity = ? \
         AND workspace_id = ?"
    );
    let mut args: Vec<SqlValue> = vec![
        connection_id.to_owned().into(),
        entity.as_str().to_owned().into(),
        workspace_id.to_owned().into(),
    ];
    if !q.include_deleted {
        sql.push_str(" AND deleted_at IS NULL");
    }
    if let Some(t) = &q.modified_after {
        sql.push_str(" AND updated_at >= ?");
        args.push(micros(t).into());
    }
    if let Some(t) = &q.modified_before {
        sql.push_str(" AND updated_at < ?");
        args.push(micros(t).into());
    }
    // The top-level field is found with json_each rather than a JSON path, so a field name
    // needs no escaping; an array field matches when any element does.
    for (field, value) in &q.filters {
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM json_each(records.data) AS f WHERE f.key = ? AND \
             CASE f.type WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(f.value) AS e \
             WHERE {TEXT_OF_E} = ?) ELSE {TEXT_OF_F} = ? END)"
        ));
        args.push(field.clone().into());
        args.push(value.clone().into());
        args.push(value.clone().into());
    }
    if let Some((t, id)) = &q.after {
        sql.push_str(" AND (updated_at, id) > (?, ?)");
        args.push(micros(t).into());
        args.push(id.clone().into());
    }
    sql.push_str(" ORDER BY updated_at, id LIMIT ?");
    args.push(SqlValue::Integer(i64::from(q.limit) + 1));
    let mut items = all(
        c.prepare_cached(&sql).db()?,
        rusqlite::params_from_iter(args),
        decode::record,
    )?;
    let more = items.len() > q.limit as usize;
    items.truncate(q.limit as usize);
    let next_after = if more {
        items.last().map(|r| (r.updated_at, r.id.clone()))
    } else {
        None
    };
    Ok(RecordPage { items, next_after })
}

pub(crate) fn live_remote_ids(
    c: &SqlConn,
    connection_id: &str,
    entity: Entity,
) -> StoreResult<Vec<String>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT remote_id FROM records \
             WHERE connection_id = ?1 AND entity = ?2 AND deleted_at IS NULL",
        )
        .db()?;
    let rows = stmt
        .query_map(params![connection_id, entity.as_str()], |r| r.get(0))
        .db()?;
    rows.collect::<rusqlite::Result<Vec<String>>>().db()
}
