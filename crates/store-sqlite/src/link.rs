//! [`millwright_store::LinkStore`] on SQLite: Link sessions and workspace branding.
//!
//! Completion and exchange run in one IMMEDIATE transaction each (see [`crate::pool::Pool::write`])
//! and move the session with a conditional `UPDATE … WHERE status = …`: of two racing requests
//! the second finds the row already moved and is refused. The connection writes they cause reuse
//! the helpers of [`crate::connections`], so credits, tokens and events follow the same rules as
//! the management API's.

use async_trait::async_trait;
use chrono::DateTime;
use millwright_core::{status::ConnectionStatus, time::Timestamp};
use millwright_store::{
    Branding, BrandingPatch, LinkCompleted, LinkCompletion, LinkExchange, LinkExchanged,
    LinkOutcome, LinkPurpose, LinkRejection, LinkSession, LinkSessionFilter, LinkSessionStatus,
    LinkStore, NewLinkSession, NewToken, Page, PageRequest, StoreError, StoreResult,
};
use rusqlite::{params, types::Value as SqlValue, Connection as SqlConn, OptionalExtension, Row};

use crate::connections;
use crate::decode::{all, json_text, micros, optional, string_list_text};
use crate::error::Db;
use crate::workspaces::inserted_nothing;
use crate::SqliteStore;

const SESSION_COLS: &str = "id, workspace_id, link_token_hash, purpose, connectors, name, \
     metadata, redirect_uri, allowed_origins, connection_id, status, expires_at, \
     public_token_hash, public_token_expires_at, created_at, updated_at, completed_at, \
     exchanged_at";

fn corrupt(col: &str, what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("link_sessions.{col}: {what}"))
}

fn ts_from(col: &str, v: i64) -> StoreResult<Timestamp> {
    DateTime::from_timestamp_micros(v).ok_or_else(|| corrupt(col, format!("timestamp {v}")))
}

fn ts(row: &Row<'_>, col: &str) -> StoreResult<Timestamp> {
    ts_from(col, row.get(col).db()?)
}

fn ts_opt(row: &Row<'_>, col: &str) -> StoreResult<Option<Timestamp>> {
    row.get::<_, Option<i64>>(col)
        .db()?
        .map(|v| ts_from(col, v))
        .transpose()
}

fn strings(row: &Row<'_>, col: &str) -> StoreResult<Vec<String>> {
    let text: String = row.get(col).db()?;
    serde_json::from_str(&text).map_err(|e| corrupt(col, e))
}

fn session(row: &Row<'_>) -> StoreResult<LinkSession> {
    let purpose: String = row.get("purpose").db()?;
    let status: String = row.get("status").db()?;
    let metadata: String = row.get("metadata").db()?;
    Ok(LinkSession {
        id: row.get("id").db()?,
        workspace_id: row.get("workspace_id").db()?,
        link_token_hash: row.get("link_token_hash").db()?,
        purpose: LinkPurpose::parse(&purpose)
            .ok_or_else(|| corrupt("purpose", format!("unknown purpose {purpose:?}")))?,
        connectors: strings(row, "connectors")?,
        name: row.get("name").db()?,
        metadata: serde_json::from_str(&metadata).map_err(|e| corrupt("metadata", e))?,
        redirect_uri: row.get("redirect_uri").db()?,
        allowed_origins: strings(row, "allowed_origins")?,
        connection_id: row.get("connection_id").db()?,
        status: LinkSessionStatus::parse(&status)
            .filter(|s| *s != LinkSessionStatus::Expired)
            .ok_or_else(|| corrupt("status", format!("unknown status {status:?}")))?,
        expires_at: ts(row, "expires_at")?,
        public_token_hash: row.get("public_token_hash").db()?,
        public_token_expires_at: ts_opt(row, "public_token_expires_at")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
        completed_at: ts_opt(row, "completed_at")?,
        exchanged_at: ts_opt(row, "exchanged_at")?,
    })
}

fn create(c: &SqlConn, new: &NewLinkSession) -> StoreResult<LinkSession> {
    match (new.purpose, &new.connection_id) {
        (LinkPurpose::Reauthorize, Some(id)) => {
            if connections::status_of(c, &new.workspace_id, id)? == ConnectionStatus::Disconnected {
                return Err(StoreError::Disconnected);
            }
        }
        (LinkPurpose::Create, None) => {}
        (purpose, _) => {
            return Err(StoreError::Backend(format!(
                "a {} link session {} a connection id",
                purpose.as_str(),
                if purpose == LinkPurpose::Create {
                    "must not name"
                } else {
                    "needs"
                }
            )))
        }
    }
    let sql = format!(
        "INSERT INTO link_sessions (id, workspace_id, link_token_hash, purpose, connectors, name, \
         metadata, redirect_uri, allowed_origins, connection_id, status, expires_at, created_at, \
         updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'pending', ?11, ?12, ?12) \
         RETURNING {SESSION_COLS}"
    );
    let p = params![
        new.id,
        new.workspace_id,
        new.link_token_hash,
        new.purpose.as_str(),
        string_list_text(&new.connectors)?,
        new.name,
        json_text(&new.metadata),
        new.redirect_uri,
        string_list_text(&new.allowed_origins)?,
        new.connection_id,
        micros(&new.expires_at),
        micros(&new.created_at),
    ];
    optional(c.prepare_cached(&sql).db()?, p, session)?
        .ok_or_else(|| inserted_nothing("link session"))
}

fn get(c: &SqlConn, workspace_id: &str, id: &str) -> StoreResult<Option<LinkSession>> {
    let sql =
        format!("SELECT {SESSION_COLS} FROM link_sessions WHERE workspace_id = ?1 AND id = ?2");
    optional(c.prepare_cached(&sql).db()?, [workspace_id, id], session)
}

fn find(c: &SqlConn, link_token_hash: &str) -> StoreResult<Option<LinkSession>> {
    let sql = format!("SELECT {SESSION_COLS} FROM link_sessions WHERE link_token_hash = ?1");
    optional(c.prepare_cached(&sql).db()?, [link_token_hash], session)
}

fn list(
    c: &SqlConn,
    workspace_id: &str,
    filter: &LinkSessionFilter,
    page: &PageRequest,
) -> StoreResult<Page<LinkSession>> {
    let mut sql = format!("SELECT {SESSION_COLS} FROM link_sessions WHERE workspace_id = ?");
    let mut args: Vec<SqlValue> = vec![workspace_id.to_owned().into()];
    let now = SqlValue::Integer(micros(&filter.now));
    match filter.status {
        None => {}
        Some(LinkSessionStatus::Pending) => {
            sql.push_str(" AND status = 'pending' AND expires_at > ?");
            args.push(now);
        }
        Some(LinkSessionStatus::Expired) => {
            sql.push_str(" AND status = 'pending' AND expires_at <= ?");
            args.push(now);
        }
        Some(other) => {
            sql.push_str(" AND status = ?");
            args.push(other.as_str().to_owned().into());
        }
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
        session,
    )?;
    Ok(Page::from_overfetch(rows, page.limit, |s| s.id.clone()))
}

/// Why a session that the conditional update did not move is closed.
fn closed_reason(current: &LinkSession, now: Timestamp) -> StoreError {
    match current.status_at(now) {
        LinkSessionStatus::Expired => StoreError::LinkSessionClosed(LinkRejection::Expired),
        _ => StoreError::LinkSessionClosed(LinkRejection::Used),
    }
}

fn complete(c: &SqlConn, x: &LinkCompletion) -> StoreResult<LinkCompleted> {
    let current = get(c, &x.workspace_id, &x.session_id)?.ok_or(StoreError::NotFound)?;
    let now = micros(&x.now);
    // The transition first: if it does not happen, nothing else may.
    let moved = c
        .prepare_cached(
            "UPDATE link_sessions SET status = 'completed', public_token_hash = ?3, \
             public_token_expires_at = ?4, completed_at = ?5, updated_at = ?5 \
             WHERE workspace_id = ?1 AND id = ?2 AND status = 'pending' AND expires_at > ?5",
        )
        .db()?
        .execute(params![
            x.workspace_id,
            x.session_id,
            x.public_token_hash,
            micros(&x.public_token_expires_at),
            now
        ])
        .db()?;
    if moved == 0 {
        return Err(closed_reason(&current, x.now));
    }
    let (connection, previous_status) = match (&x.outcome, current.purpose) {
        (LinkOutcome::Create { connection, event }, LinkPurpose::Create) => {
            if connection.workspace_id != x.workspace_id {
                return Err(StoreError::Backend(
                    "a link completion's connection names another workspace".into(),
                ));
            }
            let created = connections::create(c, connection, None, event)?;
            c.prepare_cached("UPDATE link_sessions SET connection_id = ?2 WHERE id = ?1")
                .db()?
                .execute(params![x.session_id, created.id])
                .db()?;
            (created, None)
        }
        (
            LinkOutcome::Reauthorize {
                sealed_credentials,
                reauthorized,
            },
            LinkPurpose::Reauthorize,
        ) => {
            let id = current
                .connection_id
                .as_deref()
                .ok_or_else(|| corrupt("connection_id", "missing on a reauthorize session"))?;
            let before = connections::status_of(c, &x.workspace_id, id)?;
            let updated = connections::replace_credentials(
                c,
                &x.workspace_id,
                id,
                sealed_credentials,
                reauthorized,
                &x.now,
            )?;
            (updated, Some(before))
        }
        (_, purpose) => {
            return Err(StoreError::Backend(format!(
                "the outcome does not match the session's purpose ({})",
                purpose.as_str()
            )))
        }
    };
    let session = get(c, &x.workspace_id, &x.session_id)?.ok_or(StoreError::NotFound)?;
    Ok(LinkCompleted {
        session,
        connection,
        previous_status,
    })
}

fn exchange(c: &SqlConn, x: &LinkExchange) -> StoreResult<LinkExchanged> {
    let sql = format!(
        "SELECT {SESSION_COLS} FROM link_sessions WHERE workspace_id = ?1 AND public_token_hash = ?2"
    );
    let current = optional(
        c.prepare_cached(&sql).db()?,
        [&x.workspace_id, &x.public_token_hash],
        session,
    )?
    .ok_or(StoreError::PublicTokenRejected(LinkRejection::Unknown))?;
    let now = micros(&x.now);
    let moved = c
        .prepare_cached(
            "UPDATE link_sessions SET status = 'exchanged', exchanged_at = ?2, updated_at = ?2 \
             WHERE id = ?1 AND status = 'completed' AND public_token_expires_at > ?2",
        )
        .db()?
        .execute(params![current.id, now])
        .db()?;
    if moved == 0 {
        return Err(StoreError::PublicTokenRejected(
            if current.status == LinkSessionStatus::Exchanged {
                LinkRejection::Used
            } else {
                LinkRejection::Expired
            },
        ));
    }
    let connection_id = current
        .connection_id
        .as_deref()
        .ok_or_else(|| corrupt("connection_id", "missing on a completed session"))?;
    let token = match current.purpose {
        LinkPurpose::Create => Some(connections::rotate_token(
            c,
            &x.workspace_id,
            connection_id,
            &NewToken {
                id: x.token_id.clone(),
                connection_id: connection_id.to_owned(),
                workspace_id: x.workspace_id.clone(),
                token_hash: x.token_hash.clone(),
                scopes: x.token_scopes.clone(),
                expires_at: None,
                created_at: x.now,
            },
        )?),
        LinkPurpose::Reauthorize => {
            if connections::status_of(c, &x.workspace_id, connection_id)?
                == ConnectionStatus::Disconnected
            {
                return Err(StoreError::Disconnected);
            }
            None
        }
    };
    let connection =
        connections::get(c, &x.workspace_id, connection_id)?.ok_or(StoreError::NotFound)?;
    let session = get(c, &x.workspace_id, &current.id)?.ok_or(StoreError::NotFound)?;
    Ok(LinkExchanged {
        session,
        connection,
        token,
    })
}

fn branding(c: &SqlConn, workspace_id: &str) -> StoreResult<Branding> {
    c.prepare_cached(
        "SELECT w.name, b.logo_data_uri, b.accent_color, b.updated_at FROM workspaces w \
         LEFT JOIN workspace_branding b ON b.workspace_id = w.id WHERE w.id = ?1",
    )
    .db()?
    .query_row([workspace_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<i64>>(3)?,
        ))
    })
    .optional()
    .db()?
    .map(|(name, logo_data_uri, accent_color, updated_at)| {
        Ok(Branding {
            name,
            logo_data_uri,
            accent_color,
            updated_at: updated_at.map(|v| ts_from("updated_at", v)).transpose()?,
        })
    })
    .transpose()?
    .ok_or(StoreError::NotFound)
}

fn update_branding(
    c: &SqlConn,
    workspace_id: &str,
    patch: &BrandingPatch,
    now: &Timestamp,
) -> StoreResult<Branding> {
    let current = branding(c, workspace_id)?;
    if let Some(name) = &patch.name {
        c.prepare_cached("UPDATE workspaces SET name = ?2 WHERE id = ?1")
            .db()?
            .execute(params![workspace_id, name])
            .db()?;
    }
    if patch.logo_data_uri.is_some() || patch.accent_color.is_some() {
        let logo = patch.logo_data_uri.clone().unwrap_or(current.logo_data_uri);
        let accent = patch.accent_color.clone().unwrap_or(current.accent_color);
        c.prepare_cached(
            "INSERT INTO workspace_branding (workspace_id, logo_data_uri, accent_color, updated_at) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (workspace_id) DO UPDATE SET \
             logo_data_uri = excluded.logo_data_uri, accent_color = excluded.accent_color, \
             updated_at = excluded.updated_at",
        )
        .db()?
        .execute(params![workspace_id, logo, accent, micros(now)])
        .db()?;
    }
    branding(c, workspace_id)
}

#[async_trait]
impl LinkStore for SqliteStore {
    async fn create_link_session(&self, new: NewLinkSession) -> StoreResult<LinkSession> {
        self.pool.write(move |tx| create(tx, &new)).await
    }

    async fn get_link_session(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> StoreResult<Option<LinkSession>> {
        let (ws, id) = (workspace_id.to_owned(), id.to_owned());
        self.pool.read(move |c| get(c, &ws, &id)).await
    }

    async fn find_link_session(&self, link_token_hash: &str) -> StoreResult<Option<LinkSession>> {
        let hash = link_token_hash.to_owned();
        self.pool.read(move |c| find(c, &hash)).await
    }

    async fn list_link_sessions(
        &self,
        workspace_id: &str,
        filter: &LinkSessionFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<LinkSession>> {
        let (ws, filter, page) = (workspace_id.to_owned(), *filter, page.clone());
        self.pool.read(move |c| list(c, &ws, &filter, &page)).await
    }

    async fn complete_link_session(
        &self,
        completion: LinkCompletion,
    ) -> StoreResult<LinkCompleted> {
        self.pool.write(move |tx| complete(tx, &completion)).await
    }

    async fn exchange_public_token(&self, exchange_: LinkExchange) -> StoreResult<LinkExchanged> {
        self.pool.write(move |tx| exchange(tx, &exchange_)).await
    }

    async fn get_branding(&self, workspace_id: &str) -> StoreResult<Branding> {
        let ws = workspace_id.to_owned();
        self.pool.read(move |c| branding(c, &ws)).await
    }

    async fn update_branding(
        &self,
        workspace_id: &str,
        patch: BrandingPatch,
        now: Timestamp,
    ) -> StoreResult<Branding> {
        let ws = workspace_id.to_owned();
        self.pool
            .write(move |tx| update_branding(tx, &ws, &patch, &now))
            .await
    }
}
