//! The conformance suite of [`crate::DashboardStore`]: browser sessions and sign-in throttling,
//! run against every backend like [`crate::conformance`] (same [`Fixture`] contract: each test
//! takes a fresh, migrated store of its own).
//!
//! [`Fixture`]: crate::conformance::Fixture

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Duration;
use millwright_core::{
    ids::{new_id, prefix},
    secrets,
    time::{self, Timestamp},
};

use crate::{
    BrowserSession, NewBrowserSession, NewUser, NewWorkspace, Store, StoreError, ThrottlePolicy,
    User, Workspace,
};

/// Expands into one `#[tokio::test]` per dashboard conformance test, exactly like
/// [`conformance_suite!`](crate::conformance_suite) does for the main suite (same `$make`
/// contract). `dashboard_conformance_suite!(@names)` evaluates to the list of test names.
///
/// ```ignore
/// // crates/store-sqlite/tests/conformance_dashboard.rs
/// millwright_store::dashboard_conformance_suite!(fresh_store());
/// ```
#[macro_export]
macro_rules! dashboard_conformance_suite {
    (@names) => {
        $crate::__dashboard_conformance_tests!(@names)
    };
    ($make:expr $(,)?) => {
        $crate::__dashboard_conformance_tests!(@tests conformance_dashboard $make);
    };
}

/// The single list of dashboard conformance tests; a unit test keeps it in step with the
/// `pub async fn`s of this file.
#[doc(hidden)]
#[macro_export]
macro_rules! __dashboard_conformance_tests {
    ($($how:tt)+) => {
        $crate::__conformance_expand! {
            $($how)+;
            browser_sessions_round_trip_touch_and_revoke,
            browser_sessions_end_after_idle_timeout_or_absolute_expiry,
            purge_removes_only_ended_sessions,
            five_failures_lock_an_address_case_insensitively,
            failure_windows_and_locks_expire_and_clear,
            concurrent_failures_are_each_counted_once,
        }
    };
}

// --- browser sessions --------------------------------------------------------------------

/// Every field survives the round trip; a touch moves `last_seen_at` only; a duplicate hash is
/// a conflict; revoking is once and ends the session; unknown hashes find nothing.
pub async fn browser_sessions_round_trip_touch_and_revoke(store: Arc<dyn Store>) {
    let (ws, user) = user(&store, "Ops@Example.com").await;
    let now = time::now();
    let input = session_input(&ws, &user, now, now + Duration::days(7));
    let created = store.create_browser_session(input.clone()).await.unwrap();
    let expected = BrowserSession {
        id_hash: input.id_hash.clone(),
        user_id: user.id.clone(),
        user_email: "ops@example.com".into(),
        workspace_id: ws.id.clone(),
        csrf_secret: input.csrf_secret.clone(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + Duration::days(7),
        revoked_at: None,
    };
    assert_eq!(created, expected);
    assert_err!(
        store.create_browser_session(input.clone()).await,
        StoreError::Conflict(_)
    );

    let later = now + Duration::minutes(5);
    let touched = store
        .touch_browser_session(&input.id_hash, later, Duration::hours(12))
        .await
        .unwrap();
    assert_eq!(
        touched,
        Some(BrowserSession {
            last_seen_at: later,
            ..expected.clone()
        })
    );
    // Used again within a minute: returned as it is, nothing written.
    let soon = later + Duration::seconds(30);
    assert_eq!(
        store
            .touch_browser_session(&input.id_hash, soon, Duration::hours(12))
            .await
            .unwrap(),
        touched,
        "last_seen_at moves at most once a minute"
    );
    let a_minute_on = later + crate::SESSION_TOUCH_EVERY;
    assert_eq!(
        store
            .touch_browser_session(&input.id_hash, a_minute_on, Duration::hours(12))
            .await
            .unwrap()
            .map(|s| s.last_seen_at),
        Some(a_minute_on)
    );
    let unknown = secrets::hash_token("not a session");
    assert_eq!(
        store
            .touch_browser_session(&unknown, later, Duration::hours(12))
            .await
            .unwrap(),
        None
    );

    assert!(store
        .revoke_browser_session(&input.id_hash, later)
        .await
        .unwrap());
    assert!(!store
        .revoke_browser_session(&input.id_hash, later)
        .await
        .unwrap());
    assert!(!store.revoke_browser_session(&unknown, later).await.unwrap());
    assert_eq!(
        store
            .touch_browser_session(&input.id_hash, later, Duration::hours(12))
            .await
            .unwrap(),
        None,
        "a revoked session is over"
    );
}

/// A session idle for the timeout or longer is over, and so is one past its absolute expiry,
/// however recently it was used; a failed touch writes nothing.
pub async fn browser_sessions_end_after_idle_timeout_or_absolute_expiry(store: Arc<dyn Store>) {
    let (ws, user) = user(&store, "idle@example.com").await;
    let now = time::now();
    let idle = Duration::hours(12);
    let s = session_input(&ws, &user, now, now + Duration::days(7));
    store.create_browser_session(s.clone()).await.unwrap();
    assert_eq!(
        store
            .touch_browser_session(&s.id_hash, now + idle, idle)
            .await
            .unwrap(),
        None,
        "idle for exactly the timeout"
    );
    // The failed touch did not move last_seen_at: a touch just inside the timeout still works.
    let just_inside = now + idle - Duration::seconds(1);
    let kept = store
        .touch_browser_session(&s.id_hash, just_inside, idle)
        .await
        .unwrap()
        .expect("still live");
    assert_eq!(kept.last_seen_at, just_inside);

    // Kept busy, a session still ends at its absolute expiry.
    let short = session_input(&ws, &user, now, now + Duration::hours(1));
    store.create_browser_session(short.clone()).await.unwrap();
    let mut t = now;
    for _ in 0..3 {
        t += Duration::minutes(20);
        let live = store.touch_browser_session(&short.id_hash, t, idle).await;
        if t < now + Duration::hours(1) {
            assert!(live.unwrap().is_some(), "live at {t}");
        } else {
            assert_eq!(live.unwrap(), None, "expired at {t}");
        }
    }
    assert_eq!(
        store
            .touch_browser_session(&short.id_hash, now + Duration::hours(1), idle)
            .await
            .unwrap(),
        None
    );
}

/// Purging deletes sessions that expired or were revoked before the cut-off, and keeps the rest.
pub async fn purge_removes_only_ended_sessions(store: Arc<dyn Store>) {
    let (ws, user) = user(&store, "purge@example.com").await;
    let now = time::now();
    let expired = session_input(&ws, &user, now - Duration::days(9), now - Duration::days(2));
    let revoked = session_input(&ws, &user, now - Duration::days(3), now + Duration::days(4));
    let live = session_input(&ws, &user, now, now + Duration::days(7));
    for s in [&expired, &revoked, &live] {
        store.create_browser_session(s.clone()).await.unwrap();
    }
    store
        .revoke_browser_session(&revoked.id_hash, now - Duration::days(2))
        .await
        .unwrap();
    assert_eq!(
        store
            .purge_browser_sessions(now - Duration::days(1))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .purge_browser_sessions(now - Duration::days(1))
            .await
            .unwrap(),
        0
    );
    assert!(store
        .touch_browser_session(&live.id_hash, now, Duration::hours(12))
        .await
        .unwrap()
        .is_some());
    // The purged revoked session cannot be revoked again: it is gone.
    assert!(!store
        .revoke_browser_session(&revoked.id_hash, now)
        .await
        .unwrap());
}

// --- sign-in throttling ------------------------------------------------------------------

/// Four failures leave the address open; the fifth locks it for the policy's duration; the
/// address is compared lower-case; other addresses are unaffected.
pub async fn five_failures_lock_an_address_case_insensitively(store: Arc<dyn Store>) {
    let policy = ThrottlePolicy::default();
    let now = time::now();
    for i in 1..=4u32 {
        let t = now + Duration::seconds(i64::from(i));
        let state = store
            .record_sign_in_failure(
                if i % 2 == 0 {
                    "Eve@Example.com"
                } else {
                    "eve@example.com"
                },
                t,
                policy,
            )
            .await
            .unwrap();
        assert_eq!(state.failures, i);
        assert_eq!(state.locked_until, None);
        assert_eq!(
            store
                .sign_in_locked_until("eve@example.com", t)
                .await
                .unwrap(),
            None
        );
    }
    let fifth = now + Duration::seconds(5);
    let state = store
        .record_sign_in_failure("EVE@example.com", fifth, policy)
        .await
        .unwrap();
    assert_eq!(state.failures, 5);
    assert_eq!(state.locked_until, Some(fifth + Duration::minutes(15)));
    assert_eq!(
        store
            .sign_in_locked_until("eve@EXAMPLE.com", fifth + Duration::minutes(1))
            .await
            .unwrap(),
        Some(fifth + Duration::minutes(15))
    );
    assert_eq!(
        store
            .sign_in_locked_until("eve@example.com", fifth + Duration::minutes(15))
            .await
            .unwrap(),
        None,
        "the lock ends after its duration"
    );
    assert_eq!(
        store
            .sign_in_locked_until("someone.else@example.com", fifth)
            .await
            .unwrap(),
        None
    );
}

/// A failure after the window starts a new count; a failure after a lock ended starts afresh;
/// clearing forgets everything.
pub async fn failure_windows_and_locks_expire_and_clear(store: Arc<dyn Store>) {
    let policy = ThrottlePolicy::default();
    let now = time::now();
    let email = "mallory@example.com";
    for i in 0..4 {
        store
            .record_sign_in_failure(email, now + Duration::seconds(i), policy)
            .await
            .unwrap();
    }
    // The window (15 min from the first failure) is over: counting restarts at 1.
    let later = now + Duration::minutes(16);
    let state = store
        .record_sign_in_failure(email, later, policy)
        .await
        .unwrap();
    assert_eq!(state.failures, 1);
    assert_eq!(state.locked_until, None);

    for i in 1..=4 {
        store
            .record_sign_in_failure(email, later + Duration::seconds(i), policy)
            .await
            .unwrap();
    }
    let locked = store
        .sign_in_locked_until(email, later + Duration::seconds(5))
        .await
        .unwrap()
        .expect("locked after five failures");
    // After the lock, one more failure is the first of a new window, not a sixth.
    let state = store
        .record_sign_in_failure(email, locked + Duration::seconds(1), policy)
        .await
        .unwrap();
    assert_eq!(state.failures, 1);
    assert_eq!(state.locked_until, None);

    store
        .clear_sign_in_failures("MALLORY@example.com")
        .await
        .unwrap();
    let state = store
        .record_sign_in_failure(email, locked + Duration::seconds(2), policy)
        .await
        .unwrap();
    assert_eq!(state.failures, 1, "cleared");
    // Clearing an address with no failures is fine.
    store
        .clear_sign_in_failures("nobody@example.com")
        .await
        .unwrap();
}

/// Concurrent failures for one address are each counted exactly once (no lost update), so an
/// attacker cannot slip extra guesses past the limit by sending them in parallel.
pub async fn concurrent_failures_are_each_counted_once(store: Arc<dyn Store>) {
    let policy = ThrottlePolicy {
        max_failures: 100,
        ..ThrottlePolicy::default()
    };
    let now = time::now();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .record_sign_in_failure("race@example.com", now, policy)
                .await
                .unwrap()
                .failures
        }));
    }
    let mut seen = BTreeSet::new();
    for t in tasks {
        seen.insert(t.await.unwrap());
    }
    assert_eq!(seen, (1..=12).collect::<BTreeSet<u32>>());
}

// --- helpers -----------------------------------------------------------------------------

async fn user(store: &Arc<dyn Store>, email: &str) -> (Workspace, User) {
    let ws = store
        .create_workspace(NewWorkspace {
            id: new_id(prefix::WORKSPACE),
            name: "Acme Manufacturing".into(),
            credit_limit: 10,
            rate_limit_per_minute: None,
            secret_key_hash: secrets::hash_token(&secrets::new_workspace_key()),
            wrapped_data_key: secrets::random_bytes::<48>().to_vec(),
            created_at: time::now(),
        })
        .await
        .unwrap();
    let user = store
        .create_user(NewUser {
            id: new_id(prefix::USER),
            workspace_id: ws.id.clone(),
            email: email.into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            created_at: time::now(),
        })
        .await
        .unwrap();
    (ws, user)
}

fn session_input(
    ws: &Workspace,
    user: &User,
    created_at: Timestamp,
    expires_at: Timestamp,
) -> NewBrowserSession {
    NewBrowserSession {
        id_hash: secrets::hash_token(&hex_secret()),
        user_id: user.id.clone(),
        user_email: user.email.clone(),
        workspace_id: ws.id.clone(),
        csrf_secret: hex_secret(),
        created_at,
        expires_at,
    }
}

fn hex_secret() -> String {
    secrets::random_bytes::<32>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    /// The macro's list and the `pub async fn`s of this file name the same tests.
    #[test]
    fn the_macro_lists_every_test() {
        let source = include_str!("conformance_dashboard.rs");
        let mut defined: Vec<&str> = source
            .lines()
            .filter_map(|l| l.strip_prefix("pub async fn "))
            .map(|rest| rest.split('(').next().unwrap())
            .collect();
        let mut listed: Vec<&str> = crate::dashboard_conformance_suite!(@names).to_vec();
        assert_eq!(listed.len(), defined.len(), "duplicates or missing names");
        defined.sort_unstable();
        listed.sort_unstable();
        assert_eq!(listed, defined);
    }
}
