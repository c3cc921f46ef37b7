//! [`millwright_store::LinkStore`] on PostgreSQL: Link sessions and workspace branding.
//!
//! Completion and exchange each run in one transaction that moves the session with a
//! conditional `UPDATE … WHERE status = …`; the row lock that update takes makes a racing
//! transaction wait, re-check the condition once the first commits, and find nothing to move.
//! The connection writes reuse the helpers of the crate root (`insert_connection`,
//! `replace_credentials_in`, `rotate_token_in`), so credits, tokens and events follow the same
//! rules as the management API's.

use async_trait::async_trait;
use millwright_core::{status::ConnectionStatus, time::Timestamp};
use millwright_store::{
    Branding, BrandingPatch, LinkCompleted, LinkCompletion, LinkExchange, LinkExchanged,
    LinkOutcome, LinkPurpose, LinkRejection, LinkSession, LinkSessionFilter, LinkSessionStatus,
    LinkStore, NewLinkSession, NewToken, Page, PageRequest, StoreError, StoreResult,
};
use sqlx::{postgres::PgRow, types::Json, Postgres, QueryBuilder, Row, Transaction};

use crate::rows::db_err;
use crate::{
    fetch_connection, insert_connection, page, replace_credentials_in, rotate_token_in,
    PostgresStore,
};

fn corrupt(col: &str, what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("link_sessions.{col}: {what}"))
}

fn col<'r, T>(row: &'r PgRow, name: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(name).map_err(|e| corrupt(name, e))
}

fn session(row: &PgRow) -> StoreResult<LinkSession> {
    let purpose: String = col(row, "purpose")?;
    let status: String = col(row, "status")?;
    Ok(LinkSession {
        id: col(row, "id")?,
        workspace_id: col(row, "workspace_id")?,
        link_token_hash: col(row, "link_token_hash")?,
        purpose: LinkPurpose::parse(&purpose)
            .ok_or_else(|| corrupt("purpose", format!("unknown purpose {purpose:?}")))?,
        connectors: col::<Json<Vec<String>>>(row, "connectors")?.0,
        name: col(row, "name")?,
        metadata: col(row, "metadata")?,
        redirect_uri: col(row, "redirect_uri")?,
        allowed_origins: col::<Json<Vec<String>>>(row, "allowed_origins")?.0,
        connection_id: col(row, "connection_id")?,
        status: LinkSessionStatus::parse(&status)
            .filter(|s| *s != LinkSessionStatus::Expired)
            .ok_or_else(|| corrupt("status", format!("unknown status {status:?}")))?,
        expires_at: col(row, "expires_at")?,
        public_token_hash: col(row, "public_token_hash")?,
        public_token_expires_at: col(row, "public_token_expires_at")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
        completed_at: col(row, "completed_at")?,
        exchanged_at: col(row, "exchanged_at")?,
    })
}

async fn fetch_session(
    tx: &mut Transaction<'static, Postgres>,
    workspace_id: &str,
    id: &str,
) -> StoreResult<LinkSession> {
    let row = sqlx::query("SELECT * FROM link_sessions WHERE workspace_id = $1 AND id = $2")
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?;
    session(&row.ok_or(StoreError::NotFound)?)
}

fn closed_reason(current: &LinkSession, now: Timestamp) -> StoreError {
    match current.status_at(now) {
        LinkSessionStatus::Expired => StoreError::LinkSessionClosed(LinkRejection::Expired),
        _ => StoreError::LinkSessionClosed(LinkRejection::Used),
    }
}

async fn branding_in<'e, E>(executor: E, workspace_id: &str) -> StoreResult<Branding>
where
    E: sqlx::PgExecutor<'e>,
{
    let row = sqlx::query(
        "SELECT w.name, b.logo_data_uri, b.accent_color, b.updated_at FROM workspaces w \
         LEFT JOIN workspace_branding b ON b.workspace_id = w.id WHERE w.id = $1",
    )
    .bind(workspace_id)
    .fetch_optional(executor)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound)?;
    Ok(Branding {
        name: col(&row, "name")?,
        logo_data_uri: col(&row, "logo_data_uri")?,
        accent_color: col(&row, "accent_color")?,
        updated_at: col(&row, "updated_at")?,
    })
}

#[async_trait]
impl LinkStore for PostgresStore {
    async fn create_link_session(&self, new: NewLinkSession) -> StoreResult<LinkSession> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        match (new.purpose, &new.connection_id) {
            (LinkPurpose::Reauthorize, Some(id)) => {
                // FOR UPDATE: a disconnect cannot slip in between the check and the insert.
                if PostgresStore::lock_connection(&mut tx, &new.workspace_id, id).await?
                    == ConnectionStatus::Disconnected
                {
                    return Err(StoreError::Disconnected);
                }
            }
            (LinkPurpose::Create, None) => {}
            (purpose, _) => {
                return Err(StoreError::Backend(format!(
                    "a {} link session has a connection id exactly when it reauthorizes",
                    purpose.as_str()
                )))
            }
        }
        let row = sqlx::query(
            "INSERT INTO link_sessions (id, workspace_id, link_token_hash, purpose, connectors, \
             name, metadata, redirect_uri, allowed_origins, connection_id, status, expires_at, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', \
             $11, $12, $12) RETURNING *",
        )
        .bind(&new.id)
        .bind(&new.workspace_id)
        .bind(&new.link_token_hash)
        .bind(new.purpose.as_str())
        .bind(Json(&new.connectors))
        .bind(&new.name)
        .bind(&new.metadata)
        .bind(&new.redirect_uri)
        .bind(Json(&new.allowed_origins))
        .bind(&new.connection_id)
        .bind(new.expires_at)
        .bind(new.created_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let created = session(&row)?;
        tx.commit().await.map_err(db_err)?;
        Ok(created)
    }

    async fn get_link_session(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> StoreResult<Option<LinkSession>> {
        let row = sqlx::query("SELECT * FROM link_sessions WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(session).transpose()
    }

    async fn find_link_session(&self, link_token_hash: &str) -> StoreResult<Option<LinkSession>> {
        let row = sqlx::query("SELECT * FROM link_sessions WHERE link_token_hash = $1")
            .bind(link_token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(session).transpose()
    }

    async fn list_link_sessions(
        &self,
        workspace_id: &str,
        filter: &LinkSessionFilter,
        page_request: &PageRequest,
    ) -> StoreResult<Page<LinkSession>> {
        let mut q =
            QueryBuilder::<Postgres>::new("SELECT * FROM link_sessions WHERE workspace_id = ");
        q.push_bind(workspace_id.to_owned());
        match filter.status {
            None => {}
            Some(LinkSessionStatus::Pending) => {
                q.push(" AND status = 'pending' AND expires_at > ")
                    .push_bind(filter.now);
            }
            Some(LinkSessionStatus::Expired) => {
                q.push(" AND status = 'pending' AND expires_at <= ")
                    .push_bind(filter.now);
            }
            Some(other) => {
                q.push(" AND status = ").push_bind(other.as_str());
            }
        }
        if let Some(after) = &page_request.after {
            q.push(" AND id < ").push_bind(after.clone());
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(page_request.limit) + 1);
        let found = q.build().fetch_all(&self.pool).await.map_err(db_err)?;
        page(found, page_request.limit, session, |s| s.id.clone())
    }

    async fn complete_link_session(&self, x: LinkCompletion) -> StoreResult<LinkCompleted> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // The transition first: it locks the row, so a concurrent completion waits here and
        // then finds the session no longer pending.
        let moved = sqlx::query(
            "UPDATE link_sessions SET status = 'completed', public_token_hash = $3, \
             public_token_expires_at = $4, completed_at = $5, updated_at = $5 \
             WHERE workspace_id = $1 AND id = $2 AND status = 'pending' AND expires_at > $5",
        )
        .bind(&x.workspace_id)
        .bind(&x.session_id)
        .bind(&x.public_token_hash)
        .bind(x.public_token_expires_at)
        .bind(x.now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        let current = fetch_session(&mut tx, &x.workspace_id, &x.session_id).await?;
        if moved == 0 {
            return Err(closed_reason(&current, x.now));
        }
        let (connection, previous_status) = match (x.outcome, current.purpose) {
            (LinkOutcome::Create { connection, event }, LinkPurpose::Create) => {
                if connection.workspace_id != x.workspace_id {
                    return Err(StoreError::Backend(
                        "a link completion's connection names another workspace".into(),
                    ));
                }
                let created = insert_connection(&mut tx, &connection, None, &event).await?;
                sqlx::query("UPDATE link_sessions SET connection_id = $2 WHERE id = $1")
                    .bind(&x.session_id)
                    .bind(&created.id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
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
                    .clone()
                    .ok_or_else(|| corrupt("connection_id", "missing on a reauthorize session"))?;
                let (updated, before) = replace_credentials_in(
                    &mut tx,
                    &x.workspace_id,
                    &id,
                    sealed_credentials,
                    &reauthorized,
                    x.now,
                )
                .await?;
                (updated, Some(before))
            }
            (_, purpose) => {
                return Err(StoreError::Backend(format!(
                    "the outcome does not match the session's purpose ({})",
                    purpose.as_str()
                )))
            }
        };
        let session = fetch_session(&mut tx, &x.workspace_id, &x.session_id).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(LinkCompleted {
            session,
            connection,
            previous_status,
        })
    }

    async fn exchange_public_token(&self, x: LinkExchange) -> StoreResult<LinkExchanged> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let moved = sqlx::query(
            "UPDATE link_sessions SET status = 'exchanged', exchanged_at = $3, updated_at = $3 \
             WHERE workspace_id = $1 AND public_token_hash = $2 AND status = 'completed' \
             AND public_token_expires_at > $3 RETURNING *",
        )
        .bind(&x.workspace_id)
        .bind(&x.public_token_hash)
        .bind(x.now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(row) = moved else {
            let current = sqlx::query(
                "SELECT * FROM link_sessions WHERE workspace_id = $1 AND public_token_hash = $2",
            )
            .bind(&x.workspace_id)
            .bind(&x.public_token_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            let why = match current.as_ref().map(session).transpose()? {
                None => LinkRejection::Unknown,
                Some(s) if s.status == LinkSessionStatus::Exchanged => LinkRejection::Used,
                Some(_) => LinkRejection::Expired,
            };
            return Err(StoreError::PublicTokenRejected(why));
        };
        let exchanged = session(&row)?;
        let connection_id = exchanged
            .connection_id
            .clone()
            .ok_or_else(|| corrupt("connection_id", "missing on a completed session"))?;
        let token = match exchanged.purpose {
            LinkPurpose::Create => Some(
                rotate_token_in(
                    &mut tx,
                    &x.workspace_id,
                    &connection_id,
                    NewToken {
                        id: x.token_id.clone(),
                        connection_id: connection_id.clone(),
                        workspace_id: x.workspace_id.clone(),
                        token_hash: x.token_hash.clone(),
                        scopes: x.token_scopes.clone(),
                        expires_at: None,
                        created_at: x.now,
                    },
                )
                .await?,
            ),
            LinkPurpose::Reauthorize => {
                if PostgresStore::lock_connection(&mut tx, &x.workspace_id, &connection_id).await?
                    == ConnectionStatus::Disconnected
                {
                    return Err(StoreError::Disconnected);
                }
                None
            }
        };
        let connection = fetch_connection(&mut tx, &x.workspace_id, &connection_id).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(LinkExchanged {
            session: exchanged,
            connection,
            token,
        })
    }

    async fn get_branding(&self, workspace_id: &str) -> StoreResult<Branding> {
        branding_in(&self.pool, workspace_id).await
    }

    async fn update_branding(
        &self,
        workspace_id: &str,
        patch: BrandingPatch,
        now: Timestamp,
    ) -> StoreResult<Branding> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // Locks the workspace row, so two concurrent patches apply one after the other.
        let exists: Option<String> =
            sqlx::query_scalar("SELECT id FROM workspaces WHERE id = $1 FOR UPDATE")
                .bind(workspace_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        exists.ok_or(StoreError::NotFound)?;
        if let Some(name) = &patch.name {
            sqlx::query("UPDATE workspaces SET name = $2 WHERE id = $1")
                .bind(workspace_id)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        if patch.logo_data_uri.is_some() || patch.accent_color.is_some() {
            let current = branding_in(&mut *tx, workspace_id).await?;
            let logo = patch.logo_data_uri.unwrap_or(current.logo_data_uri);
            let accent = patch.accent_color.unwrap_or(current.accent_color);
            sqlx::query(
                "INSERT INTO workspace_branding (workspace_id, logo_data_uri, accent_color, \
                 updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id) DO UPDATE SET \
                 logo_data_uri = EXCLUDED.logo_data_uri, accent_color = EXCLUDED.accent_color, \
                 updated_at = EXCLUDED.updated_at",
            )
            .bind(workspace_id)
            .bind(logo)
            .bind(accent)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        let branding = branding_in(&mut *tx, workspace_id).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(branding)
    }
}
