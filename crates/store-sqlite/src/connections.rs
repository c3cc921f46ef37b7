//! Connections, their tokens and the credit pool.
//!
//! Every function that writes takes the connection of an IMMEDIATE transaction (see
//! [`crate::pool::Pool::write`]): the write lock is held from the first check to the commit,
//! which is what serialises credit accounting per workspace (and per file, across processes).

use millwright_core::{credits::CreditUsage, status::ConnectionStatus, time::Timestamp};
use millwright_store::{
    Connection, ConnectionFilter, ConnectionPatch, Disconnected, NewConnection, NewEvent, NewToken,
    Page, PageRequest, StoreError, StoreResult, TokenLookup, TokenRecord,
};
use rusqlite::{params, types::Value as SqlValue, Connection as SqlConn, OptionalExtension};

use crate::decode::{
    self, all, json_text, micros, micros_opt, optional, scopes_text, CONNECTION_COLS, TOKEN_COLS,
};
use crate::error::Db;
use crate::events;
use crate::workspaces::inserted_nothing;

const DISCONNECTED: &str = "disconnected";

fn credit_limit(c: &SqlConn, workspace_id: &str) -> StoreResult<Option<i64>> {
    c.prepare_cached("SELECT credit_limit FROM workspaces WHERE id = ?1")
        .db()?
        .query_row([workspace_id], |r| r.get(0))
        .optional()
        .db()
}

/// Credits held by the workspace's connections that are not disconnected.
fn used_credits(c: &SqlConn, workspace_id: &str) -> StoreResult<i64> {
    c.prepare_cached(
        "SELECT COALESCE(SUM(credits), 0) FROM connections \
         WHERE workspace_id = ?1 AND status <> 'disconnected'",
    )
    .db()?
    .query_row([workspace_id], |r| r.get(0))
    .db()
}

/// The status of a connection of this workspace, or `NotFound` (also for another workspace's
/// connection, so that ids of other tenants cannot be probed).
pub(crate) fn status_of(
    c: &SqlConn,
    workspace_id: &str,
    id: &str,
) -> StoreResult<ConnectionStatus> {
    let text: Option<String> = c
        .prepare_cached("SELECT status FROM connections WHERE workspace_id = ?1 AND id = ?2")
        .db()?
        .query_row([workspace_id, id], |r| r.get(0))
        .optional()
        .db()?;
    let text = text.ok_or(StoreError::NotFound)?;
    ConnectionStatus::parse(&text)
        .ok_or_else(|| StoreError::Corrupt(format!("status: unknown status {text:?}")))
}

/// A token must belong to the connection it is stored for; anything else is a caller bug that
/// would otherwise plant a token on the wrong tenant.
fn check_token_owner(token: &NewToken, workspace_id: &str, connection_id: &str) -> StoreResult<()> {
    if token.workspace_id != workspace_id || token.connection_id != connection_id {
        return Err(StoreError::Backend(format!(
            "token {} names connection {} of workspace {}, expected connection {connection_id} \
             of workspace {workspace_id}",
            token.id, token.connection_id, token.workspace_id
        )));
    }
    Ok(())
}

fn insert_token(c: &SqlConn, t: &NewToken) -> StoreResult<TokenRecord> {
    let sql = format!(
        "INSERT INTO connection_tokens (id, connection_id, workspace_id, token_hash, scopes, \
         expires_at, revoked_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7) \
         RETURNING {TOKEN_COLS}"
    );
    let stmt = c.prepare_cached(&sql).db()?;
    let p = params![
        t.id,
        t.connection_id,
        t.workspace_id,
        t.token_hash,
        scopes_text(&t.scopes),
        micros_opt(&t.expires_at),
        micros(&t.created_at),
    ];
    optional(stmt, p, decode::token)?.ok_or_else(|| inserted_nothing("token"))
}

/// Inserts a connection after the credit check, with its first token when given (a connection
/// made through Link gets its token only when the public token is exchanged).
pub(crate) fn create(
    c: &SqlConn,
    new: &NewConnection,
    token: Option<&NewToken>,
    event: &NewEvent,
) -> StoreResult<Connection> {
    if let Some(token) = token {
        check_token_owner(token, &new.workspace_id, &new.id)?;
    }
    let limit = credit_limit(c, &new.workspace_id)?.ok_or(StoreError::NotFound)?;
    let used = used_credits(c, &new.workspace_id)?;
    if used + new.credits > limit {
        return Err(StoreError::InsufficientCredits {
            limit,
            used,
            requested: new.credits,
        });
    }
    let sql = format!(
        "INSERT INTO connections (id, workspace_id, connector, deployment, name, status, credits, \
         metadata, sealed_credentials, sync_settings, field_mappings, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12) RETURNING {CONNECTION_COLS}"
    );
    let stmt = c.prepare_cached(&sql).db()?;
    let p = params![
        new.id,
        new.workspace_id,
        new.connector,
        new.deployment.as_str(),
        new.name,
        new.status.as_str(),
        new.credits,
        json_text(&new.metadata),
        new.sealed_credentials,
        json_text(&new.sync_settings),
        json_text(&new.field_mappings),
        micros(&new.created_at),
    ];
    let conn =
        optional(stmt, p, decode::connection)?.ok_or_else(|| inserted_nothing("connection"))?;
    if let Some(token) = token {
        insert_token(c, token)?;
    }
    events::insert(c, event)?;
    Ok(conn)
}

pub(crate) fn get(c: &SqlConn, workspace_id: &str, id: &str) -> StoreResult<Option<Connection>> {
    let sql =
        format!("SELECT {CONNECTION_COLS} FROM connections WHERE workspace_id = ?1 AND id = ?2");
    optional(
        c.prepare_cached(&sql).db()?,
        [workspace_id, id],
        decode::connection,
    )
}

pub(crate) fn list(
    c: &SqlConn,
    workspace_id: &str,
    filter: &ConnectionFilter,
    page: &PageRequest,
) -> StoreResult<Page<Connection>> {
    let mut sql = format!("SELECT {CONNECTION_COLS} FROM connections WHERE workspace_id = ?");
    let mut args: Vec<SqlValue> = vec![workspace_id.to_owned().into()];
    if let Some(status) = filter.status {
        sql.push_str(" AND status = ?");
        args.push(status.as_str().to_owned().into());
    }
    if let Some(connector) = &filter.connector {
        sql.push_str(" AND connector = ?");
        args.push(connector.clone().into());
    }
    // json_each rather than json_extract: a key may contain any character (dots, quotes) that
    // a JSON path would need escaping for, and only string values may match.
    for (key, value) in &filter.metadata {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM json_each(connections.metadata) AS m \
             WHERE m.key = ? AND m.type = 'text' AND m.value = ?)",
        );
        args.push(key.clone().into());
        args.push(value.clone().into());
    }
    if let Some(after) = &page.after {
        sql.push_str(" AND id < ?");
        args.push(after.clone().into());
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    args.push(SqlValue::Integer(i64::from(page.limit) + 1));
    let rows = all(
        c.prepare_cached(&sql).db()?,
        rusqlite::params_from_iter(args),
        decode::connection,
    )?;
    Ok(Page::from_overfetch(rows, page.limit, |x| x.id.clone()))
}

pub(crate) fn update(
    c: &SqlConn,
    workspace_id: &str,
    id: &str,
    patch: &ConnectionPatch,
    now: &Timestamp,
) -> StoreResult<Connection> {
    let sql = format!(
        "UPDATE connections SET name = COALESCE(?3, name), metadata = COALESCE(?4, metadata), \
         updated_at = ?5 WHERE workspace_id = ?1 AND id = ?2 RETURNING {CONNECTION_COLS}"
    );
    let stmt = c.prepare_cached(&sql).db()?;
    let p = params![
        workspace_id,
        id,
        patch.name,
        patch.metadata.as_ref().map(json_text),
        micros(now),
    ];
    optional(stmt, p, decode::connection)?.ok_or(StoreError::NotFound)
}

pub(crate) fn replace_credentials(
    c: &SqlConn,
    workspace_id: &str,
    id: &str,
    sealed: &[u8],
    reauthorized: &NewEvent,
    now: &Timestamp,
) -> StoreResult<Connection> {
    let before = status_of(c, workspace_id, id)?;
    if before == ConnectionStatus::Disconnected {
        return Err(StoreError::Disconnected);
    }
    // New credentials are what a connection needing reauthorization was waiting for; other
    // statuses (offline, syncing, …) are the health layer's to change.
    let sql = format!(
        "UPDATE connections SET sealed_credentials = ?3, updated_at = ?4, \
         status = CASE status WHEN 'requires_reauthorization' THEN 'active' ELSE status END \
         WHERE workspace_id = ?1 AND id = ?2 RETURNING {CONNECTION_COLS}"
    );
    let stmt = c.prepare_cached(&sql).db()?;
    let conn = optional(
        stmt,
        params![workspace_id, id, sealed, micros(now)],
        decode::connection,
    )?
    .ok_or(StoreError::NotFound)?;
    // The status was read under the write lock, so it is still what the UPDATE saw.
    if before == ConnectionStatus::RequiresReauthorization {
        events::insert(c, reauthorized)?;
    }
    Ok(conn)
}

pub(crate) fn rotate_token(
    c: &SqlConn,
    workspace_id: &str,
    connection_id: &str,
    token: &NewToken,
) -> StoreResult<TokenRecord> {
    if status_of(c, workspace_id, connection_id)? == ConnectionStatus::Disconnected {
        return Err(StoreError::Disconnected);
    }
    check_token_owner(token, workspace_id, connection_id)?;
    c.prepare_cached(
        "UPDATE connection_tokens SET revoked_at = ?2 WHERE connection_id = ?1 AND revoked_at IS NULL",
    )
    .db()?
    .execute(params![connection_id, micros(&token.created_at)])
    .db()?;
    insert_token(c, token)
}

pub(crate) fn disconnect(
    c: &SqlConn,
    workspace_id: &str,
    id: &str,
    event: &NewEvent,
    now: &Timestamp,
) -> StoreResult<Disconnected> {
    let current = get(c, workspace_id, id)?.ok_or(StoreError::NotFound)?;
    if current.status == ConnectionStatus::Disconnected {
        return Ok(Disconnected {
            connection: current,
            changed: false,
            jobs_cancelled: 0,
        });
    }
    let now = micros(now);
    let sql = format!(
        "UPDATE connections SET status = '{DISCONNECTED}', disconnected_at = ?3, updated_at = ?3 \
         WHERE workspace_id = ?1 AND id = ?2 RETURNING {CONNECTION_COLS}"
    );
    let connection = optional(
        c.prepare_cached(&sql).db()?,
        params![workspace_id, id, now],
        decode::connection,
    )?
    .ok_or(StoreError::NotFound)?;
    c.prepare_cached(
        "UPDATE connection_tokens SET revoked_at = ?2 WHERE connection_id = ?1 AND revoked_at IS NULL",
    )
    .db()?
    .execute(params![id, now])
    .db()?;
    let jobs_cancelled = c
        .prepare_cached(
            "UPDATE jobs SET state = 'cancelled', finished_at = ?2 \
             WHERE connection_id = ?1 AND state IN ('queued', 'running')",
        )
        .db()?
        .execute(params![id, now])
        .db()?;
    // A page or finish arriving after this fails with RunNotRunning and writes nothing.
    c.prepare_cached(
        "UPDATE sync_runs SET status = 'cancelled', finished_at = ?2 \
         WHERE connection_id = ?1 AND status = 'running'",
    )
    .db()?
    .execute(params![id, now])
    .db()?;
    events::insert(c, event)?;
    Ok(Disconnected {
        connection,
        changed: true,
        jobs_cancelled: jobs_cancelled as u64,
    })
}

pub(crate) fn delete_data(
    c: &SqlConn,
    workspace_id: &str,
    id: &str,
    now: &Timestamp,
) -> StoreResult<u64> {
    if status_of(c, workspace_id, id)? != ConnectionStatus::Disconnected {
        return Err(StoreError::NotDisconnected);
    }
    let deleted = c
        .prepare_cached("DELETE FROM records WHERE connection_id = ?1")
        .db()?
        .execute([id])
        .db()?;
    c.prepare_cached(
        "UPDATE connections SET data_deleted_at = ?3 WHERE workspace_id = ?1 AND id = ?2",
    )
    .db()?
    .execute(params![workspace_id, id, micros(now)])
    .db()?;
    Ok(deleted as u64)
}

pub(crate) fn credit_usage(c: &SqlConn, workspace_id: &str) -> StoreResult<CreditUsage> {
    // One statement, so the limit and the sum come from the same snapshot.
    let row: Option<(i64, i64)> = c
        .prepare_cached(
            "SELECT w.credit_limit, (SELECT COALESCE(SUM(credits), 0) FROM connections \
             WHERE workspace_id = w.id AND status <> 'disconnected') FROM workspaces w WHERE w.id = ?1",
        )
        .db()?
        .query_row([workspace_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .db()?;
    let (limit, used) = row.ok_or(StoreError::NotFound)?;
    Ok(CreditUsage::new(limit, used))
}

pub(crate) fn find_token(c: &SqlConn, token_hash: &str) -> StoreResult<Option<TokenLookup>> {
    let stmt = c
        .prepare_cached(
            "SELECT t.id AS id, t.connection_id AS connection_id, t.workspace_id AS workspace_id, \
             t.token_hash AS token_hash, t.scopes AS scopes, t.expires_at AS expires_at, \
             t.revoked_at AS revoked_at, t.created_at AS created_at, c.status AS connection_status \
             FROM connection_tokens t JOIN connections c ON c.id = t.connection_id \
             WHERE t.token_hash = ?1",
        )
        .db()?;
    optional(stmt, [token_hash], |row| {
        Ok(TokenLookup {
            token: decode::token(row)?,
            connection_status: decode::connection_status(row)?,
        })
    })
}

/// A conditional `UPDATE … WHERE id = ? AND status IN (…)`: only one caller wins a given
/// transition, and only the winner appends the event.
pub(crate) fn transition(
    c: &SqlConn,
    id: &str,
    from: &[ConnectionStatus],
    to: ConnectionStatus,
    event: Option<&NewEvent>,
    now: &Timestamp,
) -> StoreResult<Option<Connection>> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let from = serde_json::to_string(&from).map_err(|e| StoreError::Backend(e.to_string()))?;
    let sql = format!(
        "UPDATE connections SET status = ?2, updated_at = ?3 \
         WHERE id = ?1 AND status IN (SELECT value FROM json_each(?4)) RETURNING {CONNECTION_COLS}"
    );
    let updated = optional(
        c.prepare_cached(&sql).db()?,
        params![id, to.as_str(), micros(now), from],
        decode::connection,
    )?;
    if let (Some(_), Some(event)) = (&updated, event) {
        events::insert(c, event)?;
    }
    Ok(updated)
}

pub(crate) fn live(c: &SqlConn) -> StoreResult<Vec<Connection>> {
    let sql = format!(
        "SELECT {CONNECTION_COLS} FROM connections WHERE status <> '{DISCONNECTED}' ORDER BY id"
    );
    all(c.prepare_cached(&sql).db()?, [], decode::connection)
}

pub(crate) fn update_settings(
    c: &SqlConn,
    workspace_id: &str,
    id: &str,
    sync_settings: Option<&serde_json::Value>,
    field_mappings: Option<&serde_json::Value>,
    now: &Timestamp,
) -> StoreResult<Connection> {
    let sql = format!(
        "UPDATE connections SET sync_settings = COALESCE(?3, sync_settings), \
         field_mappings = COALESCE(?4, field_mappings), updated_at = ?5 \
         WHERE workspace_id = ?1 AND id = ?2 RETURNING {CONNECTION_COLS}"
    );
    optional(
        c.prepare_cached(&sql).db()?,
        params![
            workspace_id,
            id,
            sync_settings.map(json_text),
            field_mappings.map(json_text),
            micros(now)
        ],
        decode::connection,
    )?
    .ok_or(StoreError::NotFound)
}

/// The workspace and status of a connection, for checks made inside a write.
pub(crate) fn owner_and_status(
    c: &SqlConn,
    id: &str,
) -> StoreResult<Option<(String, ConnectionStatus)>> {
    let row: Option<(String, String)> = c
        .prepare_cached("SELECT workspace_id, status FROM connections WHERE id = ?1")
        .db()?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .db()?;
    row.map(|(ws, text)| {
        ConnectionStatus::parse(&text)
            .map(|s| (ws, s))
            .ok_or_else(|| StoreError::Corrupt(format!("status: unknown status {text:?}")))
    })
    .transpose()
}
