//! Storage for dashboard sign-in: browser sessions, CSRF secrets and sign-in throttling (issue #7).
//!
//! A browser session is found by the SHA-256 hash of the secret in the visitor's cookie (the
//! secret itself is never stored), so a leaked database does not hand out live sessions. Each
//! session carries its own CSRF secret, from which the web layer derives the token of every form.
//!
//! Sign-in throttling counts failed attempts per e-mail address (lower-cased) in a fixed window;
//! reaching the limit locks the address for a while. Counting and locking happen in one atomic
//! statement per call, so concurrent failures on several nodes cannot slip past the limit.

use async_trait::async_trait;
use chrono::Duration;
use millwright_core::time::Timestamp;

use crate::StoreResult;

/// How stale a session's `last_seen_at` may get before a touch writes it: the idle timeout is
/// hours, so minute precision is plenty.
pub const SESSION_TOUCH_EVERY: Duration = Duration::minutes(1);

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserSession {
    /// Lower-case hex SHA-256 of the cookie's secret.
    pub id_hash: String,
    pub user_id: String,
    /// The user's e-mail at sign-in (shown in the page header).
    pub user_email: String,
    pub workspace_id: String,
    /// Random secret from which CSRF tokens are derived; never leaves the server as such.
    pub csrf_secret: String,
    pub created_at: Timestamp,
    /// Last request seen with this session (the idle timeout counts from here).
    pub last_seen_at: Timestamp,
    /// Absolute end of the session, whatever the activity.
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// What [`DashboardStore::create_browser_session`] inserts.
#[derive(Debug, Clone)]
pub struct NewBrowserSession {
    pub id_hash: String,
    pub user_id: String,
    pub user_email: String,
    pub workspace_id: String,
    pub csrf_secret: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// The rules of sign-in throttling, passed to each call so that the store keeps no policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures counted within this window since the first one…
    pub window: Duration,
    /// …lock the address once they reach this number…
    pub max_failures: u32,
    /// …for this long.
    pub lock_for: Duration,
}

impl Default for ThrottlePolicy {
    /// Five failures within 15 minutes lock the address for 15 minutes.
    fn default() -> Self {
        ThrottlePolicy {
            window: Duration::minutes(15),
            max_failures: 5,
            lock_for: Duration::minutes(15),
        }
    }
}

/// The throttling state of one e-mail address after a failure was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInThrottle {
    /// Failures in the current window, this one included.
    pub failures: u32,
    /// Set when the address is locked: no sign-in is attempted before this time.
    pub locked_until: Option<Timestamp>,
}

/// Part of [`crate::Store`]: dashboard sign-in: browser sessions, CSRF secrets and sign-in throttling (issue #7).
#[async_trait]
pub trait DashboardStore: Send + Sync {
    /// Inserts a session. [`crate::StoreError::Conflict`] if the hash exists (a 256-bit random
    /// secret never repeats; this guards against a broken generator).
    async fn create_browser_session(&self, new: NewBrowserSession) -> StoreResult<BrowserSession>;

    /// The live session with this hash, its `last_seen_at` moved to `now` when it is at least
    /// [`SESSION_TOUCH_EVERY`] old (a session used more often is only read, so browsing the
    /// dashboard does not take the database's write path on every page). `None` (and nothing
    /// written) when unknown, revoked, past `expires_at`, or idle for `idle_timeout` or longer.
    async fn touch_browser_session(
        &self,
        id_hash: &str,
        now: Timestamp,
        idle_timeout: Duration,
    ) -> StoreResult<Option<BrowserSession>>;

    /// Revokes the session (sign-out). `false` when it was unknown or already revoked.
    async fn revoke_browser_session(&self, id_hash: &str, now: Timestamp) -> StoreResult<bool>;

    /// Deletes sessions that ended (expired or revoked) before `before`; returns how many.
    async fn purge_browser_sessions(&self, before: Timestamp) -> StoreResult<u64>;

    /// When the address (compared lower-case) is locked at `now`, until when.
    async fn sign_in_locked_until(
        &self,
        email: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Timestamp>>;

    /// Counts a failed sign-in for the address, atomically: a failure outside the current window
    /// (or after a lock ended) starts a new window at 1; reaching `policy.max_failures` sets
    /// `locked_until = now + policy.lock_for`. Returns the state after this failure.
    async fn record_sign_in_failure(
        &self,
        email: &str,
        now: Timestamp,
        policy: ThrottlePolicy,
    ) -> StoreResult<SignInThrottle>;

    /// Forgets the address's failures (after a successful sign-in).
    async fn clear_sign_in_failures(&self, email: &str) -> StoreResult<()>;
}
