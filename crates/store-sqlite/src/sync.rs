//! Sync runs and per-entity sync state. The partial unique index on running runs keeps at most
//! one run per (connection, entity); the single writer makes "find the running run, else
//! insert" race-free within the file.

use millwright_core::{status::ConnectionStatus, time::Timestamp, Entity};
use millwright_store::{
    NewSyncRun, Page, PageRequest, RunEnd, RunStatus, StoreError, StoreResult, SyncRun, SyncState,
};
use rusqlite::{params, types::Value as SqlValue, Connection as SqlConn};

use crate::connections::owner_and_status;
use crate::decode::{self, all, micros, micros_opt, optional, SYNC_RUN_COLS};
use crate::error::Db;
use crate::events;
use crate::workspaces::inserted_nothing;

/// Creates the state row of (connection, entity) if it does not exist yet.
fn ensure_state(c: &SqlConn, connection_id: &str, entity: Entity) -> StoreResult<()> {
    c.prepare_cached(
        "INSERT INTO sync_state (connection_id, entity) VALUES (?1, ?2) \
         ON CONFLICT (connection_id, entity) DO NOTHING",
    )
    .db()?
    .execute(params![connection_id, entity.as_str()])
    .db()?;
    Ok(())
}

fn require_connection(c: &SqlConn, connection_id: &str) -> StoreResult<()> {
    owner_and_status(c, connection_id)?
        .map(|_| ())
        .ok_or(StoreError::NotFound)
}

pub(crate) fn start(c: &SqlConn, run: &NewSyncRun) -> StoreResult<SyncRun> {
    match owner_and_status(c, &run.connection_id)? {
        Some((ws, _)) if ws != run.workspace_id => return Err(StoreError::NotFound),
        Some((_, ConnectionStatus::Disconnected)) => return Err(StoreError::Disconnected),
        Some(_) => {}
        None => return Err(StoreError::NotFound),
    }
    let sql = format!(
        "SELECT {SYNC_RUN_COLS} FROM sync_runs \
         WHERE connection_id = ?1 AND entity = ?2 AND status = 'running'"
    );
    let running = optional(
        c.prepare_cached(&sql).db()?,
        params![run.connection_id, run.entity.as_str()],
        decode::sync_run,
    )?;
    if let Some(running) = running {
        return Ok(running);
    }
    // The state row exists from the first start, so sync_states shows the run in progress.
    ensure_state(c, &run.connection_id, run.entity)?;
    let sql = format!(
        "INSERT INTO sync_runs (id, workspace_id, connection_id, entity, mode, status, \
         cursor_from, started_at) VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6, ?7) \
         RETURNING {SYNC_RUN_COLS}"
    );
    optional(
        c.prepare_cached(&sql).db()?,
        params![
            run.id,
            run.workspace_id,
            run.connection_id,
            run.entity.as_str(),
            run.mode.as_str(),
            run.cursor_from,
            micros(&run.started_at),
        ],
        decode::sync_run,
    )?
    .ok_or_else(|| inserted_nothing("sync run"))
}

pub(crate) fn finish(c: &SqlConn, run_id: &str, end: &RunEnd) -> StoreResult<SyncRun> {
    if end.status == RunStatus::Running {
        return Err(StoreError::Backend(format!(
            "sync run {run_id} cannot finish with status running"
        )));
    }
    let now = micros(&end.now);
    let sql = format!(
        "UPDATE sync_runs SET status = ?2, error = ?3, finished_at = ?4 \
         WHERE id = ?1 AND status = 'running' RETURNING {SYNC_RUN_COLS}"
    );
    let run = optional(
        c.prepare_cached(&sql).db()?,
        params![run_id, end.status.as_str(), end.error, now],
        decode::sync_run,
    )?;
    let run = match run {
        Some(run) => run,
        None => {
            let exists = c
                .prepare_cached("SELECT 1 FROM sync_runs WHERE id = ?1")
                .db()?
                .exists([run_id])
                .db()?;
            return Err(if exists {
                StoreError::RunNotRunning
            } else {
                StoreError::NotFound
            });
        }
    };
    let success = end.status == RunStatus::Completed;
    ensure_state(c, &run.connection_id, run.entity)?;
    // The cursor moves only on success (and only when the run produced one).
    c.prepare_cached(
        "UPDATE sync_state SET last_run_at = ?3, last_status = ?4, error = ?5, \
         cursor = CASE WHEN ?6 THEN COALESCE(?7, cursor) ELSE cursor END, \
         last_success_at = CASE WHEN ?6 THEN ?3 ELSE last_success_at END \
         WHERE connection_id = ?1 AND entity = ?2",
    )
    .db()?
    .execute(params![
        run.connection_id,
        run.entity.as_str(),
        now,
        end.status.as_str(),
        end.error,
        success,
        end.new_cursor,
    ])
    .db()?;
    if success {
        c.prepare_cached("UPDATE connections SET last_sync_at = ?2 WHERE id = ?1")
            .db()?
            .execute(params![run.connection_id, now])
            .db()?;
    }
    if let Some(event) = &end.event {
        events::insert(c, event)?;
    }
    Ok(run)
}

pub(crate) fn get(c: &SqlConn, run_id: &str) -> StoreResult<Option<SyncRun>> {
    let sql = format!("SELECT {SYNC_RUN_COLS} FROM sync_runs WHERE id = ?1");
    optional(c.prepare_cached(&sql).db()?, [run_id], decode::sync_run)
}

pub(crate) fn list(
    c: &SqlConn,
    workspace_id: &str,
    connection_id: &str,
    page: &PageRequest,
) -> StoreResult<Page<SyncRun>> {
    let mut sql = format!(
        "SELECT {SYNC_RUN_COLS} FROM sync_runs WHERE connection_id = ? AND workspace_id = ?"
    );
    let mut args: Vec<SqlValue> = vec![
        connection_id.to_owned().into(),
        workspace_id.to_owned().into(),
    ];
    if let Some(after) = &page.after {
        sql.push_str(" AND id < ?");
        args.push(after.clone().into());
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    args.push(SqlValue::Integer(i64::from(page.limit) + 1));
    let rows = all(
        c.prepare_cached(&sql).db()?,
        rusqlite::params_from_iter(args),
        decode::sync_run,
    )?;
    Ok(Page::from_overfetch(rows, page.limit, |r| r.id.clone()))
}

pub(crate) fn states(c: &SqlConn, connection_id: &str) -> StoreResult<Vec<SyncState>> {
    let mut states = all(
        c.prepare_cached(
            "SELECT s.connection_id, s.entity, s.cursor, s.last_success_at, s.last_run_at, \
             s.next_run_at, s.last_status, s.error, s.paused, \
             (SELECT count(*) FROM records r WHERE r.connection_id = s.connection_id \
              AND r.entity = s.entity AND r.deleted_at IS NULL) AS record_count, \
             (SELECT id FROM sync_runs u WHERE u.connection_id = s.connection_id \
              AND u.entity = s.entity AND u.status = 'running') AS running_run_id \
             FROM sync_state s WHERE s.connection_id = ?1",
        )
        .db()?,
        [connection_id],
        decode::sync_state,
    )?;
    states.sort_by_key(|s| s.entity);
    Ok(states)
}

pub(crate) fn set_next_run(
    c: &SqlConn,
    connection_id: &str,
    entity: Entity,
    next_run_at: Option<&Timestamp>,
) -> StoreResult<()> {
    require_connection(c, connection_id)?;
    c.prepare_cached(
        "INSERT INTO sync_state (connection_id, entity, next_run_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (connection_id, entity) DO UPDATE SET next_run_at = excluded.next_run_at",
    )
    .db()?
    .execute(params![
        connection_id,
        entity.as_str(),
        micros_opt(&next_run_at.copied())
    ])
    .db()?;
    Ok(())
}

pub(crate) fn set_paused(
    c: &SqlConn,
    connection_id: &str,
    entities: &[Entity],
    paused: bool,
) -> StoreResult<()> {
    require_connection(c, connection_id)?;
    let mut stmt = c
        .prepare_cached(
            "INSERT INTO sync_state (connection_id, entity, paused) VALUES (?1, ?2, ?3) \
             ON CONFLICT (connection_id, entity) DO UPDATE SET paused = excluded.paused",
        )
        .db()?;
    for e in entities {
        stmt.execute(params![connection_id, e.as_str(), paused])
            .db()?;
    }
    Ok(())
}
