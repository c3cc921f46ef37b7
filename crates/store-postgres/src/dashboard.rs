//! [`millwright_store::DashboardStore`] on PostgreSQL: browser sessions and sign-in throttling.

use async_trait::async_trait;
use chrono::Duration;
use millwright_core::time::Timestamp;
use millwright_store::{
    BrowserSession, DashboardStore, NewBrowserSession, SignInThrottle, StoreError, StoreResult,
    ThrottlePolicy, SESSION_TOUCH_EVERY,
};
use sqlx::{postgres::PgRow, Row};

use crate::rows::db_err;
use crate::PostgresStore;

fn col<'r, T>(row: &'r PgRow, name: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(name)
        .map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
}

fn session(row: &PgRow) -> StoreResult<BrowserSession> {
    Ok(BrowserSession {
        id_hash: col(row, "id_hash")?,
        user_id: col(row, "user_id")?,
        user_email: col(row, "user_email")?,
        workspace_id: col(row, "workspace_id")?,
        csrf_secret: col(row, "csrf_secret")?,
        created_at: col(row, "created_at")?,
        last_seen_at: col(row, "last_seen_at")?,
        expires_at: col(row, "expires_at")?,
        revoked_at: col(row, "revoked_at")?,
    })
}

fn throttle(row: &PgRow) -> StoreResult<SignInThrottle> {
    let failures: i64 = col(row, "failures")?;
    Ok(SignInThrottle {
        failures: u32::try_from(failures)
            .map_err(|_| StoreError::Corrupt(format!("failures: {failures} out of range")))?,
        locked_until: col(row, "locked_until")?,
    })
}

#[async_trait]
impl DashboardStore for PostgresStore {
    async fn create_browser_session(&self, new: NewBrowserSession) -> StoreResult<BrowserSession> {
        let row = sqlx::query(
            "INSERT INTO browser_sessions (id_hash, user_id, user_email, workspace_id, \
             csrf_secret, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING *",
        )
        .bind(&new.id_hash)
        .bind(&new.user_id)
        .bind(&new.user_email)
        .bind(&new.workspace_id)
        .bind(&new.csrf_secret)
        .bind(new.created_at)
        .bind(new.expires_at)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        session(&row)
    }

    async fn touch_browser_session(
        &self,
        id_hash: &str,
        now: Timestamp,
        idle_timeout: Duration,
    ) -> StoreResult<Option<BrowserSession>> {
        // One statement: the live session, updated only when last seen a minute or more ago
        // (browsing does not write a row version per page).
        let row = sqlx::query(
            "WITH live AS ( \
                 SELECT * FROM browser_sessions \
                 WHERE id_hash = $1 AND revoked_at IS NULL AND expires_at > $2 \
                   AND last_seen_at > $3), \
             moved AS ( \
                 UPDATE browser_sessions b SET last_seen_at = $2 FROM live \
                 WHERE b.id_hash = live.id_hash AND live.last_seen_at <= $4 RETURNING b.*) \
             SELECT * FROM moved \
             UNION ALL SELECT * FROM live WHERE NOT EXISTS (SELECT 1 FROM moved)",
        )
        .bind(id_hash)
        .bind(now)
        .bind(now - idle_timeout)
        .bind(now - SESSION_TOUCH_EVERY)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(session).transpose()
    }

    async fn revoke_browser_session(&self, id_hash: &str, now: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE browser_sessions SET revoked_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL",
        )
        .bind(id_hash)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn purge_browser_sessions(&self, before: Timestamp) -> StoreResult<u64> {
        let done =
            sqlx::query("DELETE FROM browser_sessions WHERE expires_at < $1 OR revoked_at < $1")
                .bind(before)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn sign_in_locked_until(
        &self,
        email: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Timestamp>> {
        sqlx::query_scalar(
            "SELECT locked_until FROM sign_in_throttle WHERE email = $1 AND locked_until > $2",
        )
        .bind(email.to_lowercase())
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn record_sign_in_failure(
        &self,
        email: &str,
        now: Timestamp,
        policy: ThrottlePolicy,
    ) -> StoreResult<SignInThrottle> {
        // One upsert: the row lock taken by ON CONFLICT serialises concurrent failures for an
        // address, and the SET expressions read the row as it was before this failure.
        let row = sqlx::query(
            "INSERT INTO sign_in_throttle AS t (email, failures, window_started_at, locked_until) \
             VALUES ($1, 1, $2, CASE WHEN 1 >= $5 THEN $4 ELSE NULL END) \
             ON CONFLICT (email) DO UPDATE SET \
               failures = CASE WHEN t.window_started_at <= $3 OR t.locked_until <= $2 \
                          THEN 1 ELSE t.failures + 1 END, \
               window_started_at = CASE WHEN t.window_started_at <= $3 OR t.locked_until <= $2 \
                          THEN $2 ELSE t.window_started_at END, \
               locked_until = CASE \
                 WHEN (CASE WHEN t.window_started_at <= $3 OR t.locked_until <= $2 \
                       THEN 1 ELSE t.failures + 1 END) >= $5 THEN $4 \
                 WHEN t.window_started_at <= $3 OR t.locked_until <= $2 THEN NULL \
                 ELSE t.locked_until END \
             RETURNING failures, locked_until",
        )
        .bind(email.to_lowercase())
        .bind(now)
        .bind(now - policy.window)
        .bind(now + policy.lock_for)
        .bind(i64::from(policy.max_failures))
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        throttle(&row)
    }

    async fn clear_sign_in_failures(&self, email: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sign_in_throttle WHERE email = $1")
            .bind(email.to_lowercase())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
