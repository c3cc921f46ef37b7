//! [`millwright_store::DashboardStore`] on SQLite: browser sessions and sign-in throttling.

use async_trait::async_trait;
use chrono::{DateTime, Duration};
use millwright_core::time::Timestamp;
use millwright_store::{
    BrowserSession, DashboardStore, NewBrowserSession, SignInThrottle, StoreError, StoreResult,
    ThrottlePolicy, SESSION_TOUCH_EVERY,
};
use rusqlite::{params, Row};

use crate::decode::{micros, optional};
use crate::error::Db;
use crate::workspaces::inserted_nothing;
use crate::SqliteStore;

const SESSION_COLS: &str = "id_hash, user_id, user_email, workspace_id, csrf_secret, \
created_at, last_seen_at, expires_at, revoked_at";

fn ts(row: &Row<'_>, col: &str) -> StoreResult<Timestamp> {
    let v: i64 = row.get(col).db()?;
    DateTime::from_timestamp_micros(v)
        .ok_or_else(|| StoreError::Corrupt(format!("{col}: timestamp {v} out of range")))
}

fn ts_opt(row: &Row<'_>, col: &str) -> StoreResult<Option<Timestamp>> {
    let v: Option<i64> = row.get(col).db()?;
    v.map(|v| {
        DateTime::from_timestamp_micros(v)
            .ok_or_else(|| StoreError::Corrupt(format!("{col}: timestamp {v} out of range")))
    })
    .transpose()
}

fn session(row: &Row<'_>) -> StoreResult<BrowserSession> {
    Ok(BrowserSession {
        id_hash: row.get("id_hash").db()?,
        user_id: row.get("user_id").db()?,
        user_email: row.get("user_email").db()?,
        workspace_id: row.get("workspace_id").db()?,
        csrf_secret: row.get("csrf_secret").db()?,
        created_at: ts(row, "created_at")?,
        last_seen_at: ts(row, "last_seen_at")?,
        expires_at: ts(row, "expires_at")?,
        revoked_at: ts_opt(row, "revoked_at")?,
    })
}

fn throttle(row: &Row<'_>) -> StoreResult<SignInThrottle> {
    let failures: i64 = row.get("failures").db()?;
    Ok(SignInThrottle {
        failures: u32::try_from(failures)
            .map_err(|_| StoreError::Corrupt(format!("failures: {failures} out of range")))?,
        locked_until: ts_opt(row, "locked_until")?,
    })
}

#[async_trait]
impl DashboardStore for SqliteStore {
    async fn create_browser_session(&self, new: NewBrowserSession) -> StoreResult<BrowserSession> {
        self.pool
            .write(move |tx| {
                let sql = format!(
                    "INSERT INTO browser_sessions (id_hash, user_id, user_email, workspace_id, \
                     csrf_secret, created_at, last_seen_at, expires_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7) RETURNING {SESSION_COLS}"
                );
                let p = params![
                    new.id_hash,
                    new.user_id,
                    new.user_email,
                    new.workspace_id,
                    new.csrf_secret,
                    micros(&new.created_at),
                    micros(&new.expires_at),
                ];
                optional(tx.prepare_cached(&sql).db()?, p, session)?
                    .ok_or_else(|| inserted_nothing("browser session"))
            })
            .await
    }

    async fn touch_browser_session(
        &self,
        id_hash: &str,
        now: Timestamp,
        idle_timeout: Duration,
    ) -> StoreResult<Option<BrowserSession>> {
        let idle_cutoff = micros(&(now - idle_timeout));
        let sql = format!(
            "SELECT {SESSION_COLS} FROM browser_sessions \
             WHERE id_hash = ?1 AND revoked_at IS NULL AND expires_at > ?2 AND last_seen_at > ?3"
        );
        // Read first, on the read pool: a session seen within the last minute is returned as
        // it is, without taking the single writer.
        let hash = id_hash.to_owned();
        let live = self
            .pool
            .read(move |c| {
                optional(
                    c.prepare_cached(&sql).db()?,
                    params![hash, micros(&now), idle_cutoff],
                    session,
                )
            })
            .await?;
        match live {
            None => return Ok(None),
            Some(s) if s.last_seen_at > now - SESSION_TOUCH_EVERY => return Ok(Some(s)),
            Some(_) => {}
        }
        let id_hash = id_hash.to_owned();
        self.pool
            .write(move |tx| {
                // The same conditions again under the write lock: a sign-out or expiry between
                // the read and now wins.
                let sql = format!(
                    "UPDATE browser_sessions SET last_seen_at = ?2 \
                     WHERE id_hash = ?1 AND revoked_at IS NULL AND expires_at > ?2 \
                     AND last_seen_at > ?3 RETURNING {SESSION_COLS}"
                );
                optional(
                    tx.prepare_cached(&sql).db()?,
                    params![id_hash, micros(&now), idle_cutoff],
                    session,
                )
            })
            .await
    }

    async fn revoke_browser_session(&self, id_hash: &str, now: Timestamp) -> StoreResult<bool> {
        let id_hash = id_hash.to_owned();
        self.pool
            .write(move |tx| {
                let n = tx
                    .prepare_cached(
                        "UPDATE browser_sessions SET revoked_at = ?2 \
                         WHERE id_hash = ?1 AND revoked_at IS NULL",
                    )
                    .db()?
                    .execute(params![id_hash, micros(&now)])
                    .db()?;
                Ok(n > 0)
            })
            .await
    }

    async fn purge_browser_sessions(&self, before: Timestamp) -> StoreResult<u64> {
        self.pool
            .write(move |tx| {
                let n = tx
                    .prepare_cached(
                        "DELETE FROM browser_sessions WHERE expires_at < ?1 OR revoked_at < ?1",
                    )
                    .db()?
                    .execute([micros(&before)])
                    .db()?;
                Ok(n as u64)
            })
            .await
    }

    async fn sign_in_locked_until(
        &self,
        email: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Timestamp>> {
        let email = email.to_lowercase();
        self.pool
            .read(move |c| {
                let found = optional(
                    c.prepare_cached(
                        "SELECT locked_until FROM sign_in_throttle \
                         WHERE email = ?1 AND locked_until > ?2",
                    )
                    .db()?,
                    params![email, micros(&now)],
                    |r| ts(r, "locked_until"),
                )?;
                Ok(found)
            })
            .await
    }

    async fn record_sign_in_failure(
        &self,
        email: &str,
        now: Timestamp,
        policy: ThrottlePolicy,
    ) -> StoreResult<SignInThrottle> {
        let email = email.to_lowercase();
        let window_cutoff = now - policy.window;
        let lock_until = now + policy.lock_for;
        let max = i64::from(policy.max_failures);
        self.pool
            .write(move |tx| {
                // One upsert: the SET expressions read the row as it was, so `fresh` (the window
                // is over, or a lock has ended) is evaluated once against the old values.
                let sql = "INSERT INTO sign_in_throttle (email, failures, window_started_at, locked_until) \
                     VALUES (?1, 1, ?2, CASE WHEN 1 >= ?5 THEN ?4 ELSE NULL END) \
                     ON CONFLICT (email) DO UPDATE SET \
                       failures = CASE WHEN window_started_at <= ?3 OR locked_until <= ?2 \
                                  THEN 1 ELSE failures + 1 END, \
                       window_started_at = CASE WHEN window_started_at <= ?3 OR locked_until <= ?2 \
                                  THEN ?2 ELSE window_started_at END, \
                       locked_until = CASE \
                         WHEN (CASE WHEN window_started_at <= ?3 OR locked_until <= ?2 \
                               THEN 1 ELSE failures + 1 END) >= ?5 THEN ?4 \
                         WHEN window_started_at <= ?3 OR locked_until <= ?2 THEN NULL \
                         ELSE locked_until END \
                     RETURNING failures, locked_until";
                optional(
                    tx.prepare_cached(sql).db()?,
                    params![
                        email,
                        micros(&now),
                        micros(&window_cutoff),
                        micros(&lock_until),
                        max
                    ],
                    throttle,
                )?
                .ok_or_else(|| inserted_nothing("sign-in throttle"))
            })
            .await
    }

    async fn clear_sign_in_failures(&self, email: &str) -> StoreResult<()> {
        let email = email.to_lowercase();
        self.pool
            .write(move |tx| {
                tx.prepare_cached("DELETE FROM sign_in_throttle WHERE email = ?1")
                    .db()?
                    .execute([email])
                    .db()?;
                Ok(())
            })
            .await
    }
}
