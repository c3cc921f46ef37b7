//! The conformance suite of [`crate::LinkStore`]: Link sessions, their completion and the
//! exchange of their public tokens (each exactly once, also under concurrency), and workspace
//! branding. Backends invoke [`link_conformance_suite!`](crate::link_conformance_suite) the way
//! they invoke [`conformance_suite!`](crate::conformance_suite); each test is a
//! `pub async fn name(store: Arc<dyn Store>)` run against a fresh, migrated store.

use std::sync::Arc;

use chrono::Duration;
use millwright_core::{
    credits::Deployment,
    ids::{new_id, prefix},
    scope::Scope,
    secrets,
    status::ConnectionStatus,
    time,
};
use serde_json::json;

use crate::{
    BrandingPatch, Connection, EventFilter, LinkCompleted, LinkCompletion, LinkExchange,
    LinkExchanged, LinkOutcome, LinkPurpose, LinkRejection, LinkSession, LinkSessionFilter,
    LinkSessionStatus, NewConnection, NewEvent, NewLinkSession, NewToken, NewWorkspace,
    PageRequest, Store, StoreError, Workspace,
};

/// Expands into one `#[tokio::test]` per Link conformance test, exactly as
/// [`conformance_suite!`](crate::conformance_suite) does for the core suite (same fixture
/// expression, same requirements on the invoking crate).
///
/// ```ignore
/// millwright_store::link_conformance_suite!(fresh_store());
/// ```
///
/// `link_conformance_suite!(@names)` evaluates to a `&[&str]` of every test name instead.
#[macro_export]
macro_rules! link_conformance_suite {
    (@names) => {
        $crate::__link_conformance_tests!(@names)
    };
    ($make:expr $(,)?) => {
        $crate::__link_conformance_tests!(@tests conformance_link $make);
    };
}

/// The single list of Link conformance tests; a unit test keeps it in step with the
/// `pub async fn`s of `conformance_link.rs`.
#[doc(hidden)]
#[macro_export]
macro_rules! __link_conformance_tests {
    ($($how:tt)+) => {
        $crate::__conformance_expand! {
            $($how)+;
            link_session_round_trip_and_lookup,
            reauthorize_sessions_need_a_live_connection_of_the_workspace,
            list_link_sessions_filters_by_status_and_paginates,
            completing_a_create_session_creates_the_connection_once,
            completion_is_refused_when_expired_or_short_of_credits,
            exchange_issues_the_token_exactly_once,
            exchange_refuses_unknown_expired_and_foreign_tokens,
            concurrent_exchanges_have_exactly_one_winner,
            concurrent_completions_have_exactly_one_winner,
            reauthorize_session_replaces_credentials_and_keeps_the_token,
            exchange_after_disconnect_is_refused_and_writes_nothing,
            branding_defaults_patches_and_clears,
        }
    };
}

// --- sessions ----------------------------------------------------------------------------

/// Every field survives the round trip; a session is found by its link token hash and only
/// by its own workspace by id.
pub async fn link_session_round_trip_and_lookup(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let other = workspace(&store, 10).await;
    let mut input = session_input(&ws, Duration::hours(1));
    input.name = Some("Plant 7".into());
    input.redirect_uri = Some("https://app.example/done".into());
    input.allowed_origins = vec!["https://app.example".into(), "http://localhost:3000".into()];
    input.metadata = json!({"customer": "acme"});
    let created = store.create_link_session(input.clone()).await.unwrap();
    let expected = LinkSession {
        id: input.id.clone(),
        workspace_id: ws.id.clone(),
        link_token_hash: input.link_token_hash.clone(),
        purpose: LinkPurpose::Create,
        connectors: input.connectors.clone(),
        name: Some("Plant 7".into()),
        metadata: json!({"customer": "acme"}),
        redirect_uri: Some("https://app.example/done".into()),
        allowed_origins: input.allowed_origins.clone(),
        connection_id: None,
        status: LinkSessionStatus::Pending,
        expires_at: input.expires_at,
        public_token_hash: None,
        public_token_expires_at: None,
        created_at: input.created_at,
        updated_at: input.created_at,
        completed_at: None,
        exchanged_at: None,
    };
    assert_eq!(created, expected);
    assert_eq!(
        store.get_link_session(&ws.id, &input.id).await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        store
            .find_link_session(&input.link_token_hash)
            .await
            .unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        store.get_link_session(&other.id, &input.id).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .find_link_session(&secrets::hash_token("mw_lt_nope"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(created.status_at(time::now()), LinkSessionStatus::Pending);
    assert_eq!(
        created.status_at(input.expires_at),
        LinkSessionStatus::Expired,
        "a session expires at its expires_at"
    );
    // Token hashes are unique.
    let mut dup = session_input(&ws, Duration::hours(1));
    dup.link_token_hash = input.link_token_hash.clone();
    assert_err!(
        store.create_link_session(dup).await,
        StoreError::Conflict(_)
    );
}

/// A reauthorization session names a connection of its own workspace that is not
/// disconnected; nothing is written otherwise.
pub async fn reauthorize_sessions_need_a_live_connection_of_the_workspace(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let other = workspace(&store, 10).await;
    let (conn, _) = connection(&store, &ws, ConnectionStatus::Active).await;

    let foreign = reauthorize_input(&other, &conn.id);
    assert_err!(
        store.create_link_session(foreign.clone()).await,
        StoreError::NotFound
    );
    assert_eq!(
        store
            .get_link_session(&other.id, &foreign.id)
            .await
            .unwrap(),
        None
    );

    let ok = store
        .create_link_session(reauthorize_input(&ws, &conn.id))
        .await
        .unwrap();
    assert_eq!(ok.purpose, LinkPurpose::Reauthorize);
    assert_eq!(ok.connection_id.as_deref(), Some(conn.id.as_str()));

    store
        .disconnect_connection(
            &ws.id,
            &conn.id,
            event(&ws, &conn.id, "connection.disconnected"),
            time::now(),
        )
        .await
        .unwrap();
    let refused = reauthorize_input(&ws, &conn.id);
    assert_err!(
        store.create_link_session(refused.clone()).await,
        StoreError::Disconnected
    );
    assert_eq!(
        store.get_link_session(&ws.id, &refused.id).await.unwrap(),
        None
    );
}

/// `pending` and `expired` are told apart by the clock; completed and exchanged sessions by
/// their stored status; pages are newest first.
pub async fn list_link_sessions_filters_by_status_and_paginates(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let other = workspace(&store, 10).await;
    store
        .create_link_session(session_input(&other, Duration::hours(1)))
        .await
        .unwrap();
    let mut pending = Vec::new();
    for _ in 0..3 {
        let s = store
            .create_link_session(session_input(&ws, Duration::hours(1)))
            .await
            .unwrap();
        pending.push(s.id);
    }
    let expired = store
        .create_link_session(session_input(&ws, Duration::seconds(-5)))
        .await
        .unwrap();
    let completed = store
        .create_link_session(session_input(&ws, Duration::hours(1)))
        .await
        .unwrap();
    complete_create(&store, &ws, &completed, &secrets::new_public_token())
        .await
        .unwrap();
    let exchanged = store
        .create_link_session(session_input(&ws, Duration::hours(1)))
        .await
        .unwrap();
    let public = secrets::new_public_token();
    complete_create(&store, &ws, &exchanged, &public)
        .await
        .unwrap();
    exchange(&store, &ws, &public).await.unwrap();

    let ids = |status: Option<LinkSessionStatus>| {
        let store = store.clone();
        let ws = ws.id.clone();
        async move {
            let filter = LinkSessionFilter {
                status,
                now: time::now(),
            };
            let page = store
                .list_link_sessions(&ws, &filter, &PageRequest::first(100))
                .await
                .unwrap();
            page.items.into_iter().map(|s| s.id).collect::<Vec<_>>()
        }
    };
    let mut newest_first = pending.clone();
    newest_first.sort();
    newest_first.reverse();
    assert_eq!(ids(Some(LinkSessionStatus::Pending)).await, newest_first);
    assert_eq!(
        ids(Some(LinkSessionStatus::Expired)).await,
        vec![expired.id.clone()]
    );
    assert_eq!(
        ids(Some(LinkSessionStatus::Completed)).await,
        vec![completed.id.clone()]
    );
    assert_eq!(
        ids(Some(LinkSessionStatus::Exchanged)).await,
        vec![exchanged.id.clone()]
    );
    assert_eq!(
        ids(None).await.len(),
        6,
        "every session of the workspace, none of the other"
    );

    // Keyset pages of two walk all pending sessions once.
    let filter = LinkSessionFilter {
        status: Some(LinkSessionStatus::Pending),
        now: time::now(),
    };
    let first = store
        .list_link_sessions(&ws.id, &filter, &PageRequest::first(2))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    let next = PageRequest {
        after: first.next_after.clone(),
        limit: 2,
    };
    assert!(next.after.is_some());
    let second = store
        .list_link_sessions(&ws.id, &filter, &next)
        .await
        .unwrap();
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.next_after, None);
    let walked: Vec<String> = first
        .items
        .iter()
        .chain(second.items.iter())
        .map(|s| s.id.clone())
        .collect();
    assert_eq!(walked, newest_first);
}

// --- completion --------------------------------------------------------------------------

/// Completing a create session inserts the connection (credits held, `connection.created`
/// appended) in the same transaction that marks the session completed; a second completion is
/// refused and writes nothing.
pub async fn completing_a_create_session_creates_the_connection_once(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let s = store
        .create_link_session(session_input(&ws, Duration::hours(1)))
        .await
        .unwrap();
    let public = secrets::new_public_token();
    let done = complete_create(&store, &ws, &s, &public).await.unwrap();
    assert_eq!(done.previous_status, None);
    assert_eq!(done.session.status, LinkSessionStatus::Completed);
    assert_eq!(
        done.session.connection_id.as_deref(),
        Some(done.connection.id.as_str())
    );
    assert_eq!(
        done.session.public_token_hash.as_deref(),
        Some(secrets::hash_token(&public).as_str())
    );
    assert!(done.session.public_token_expires_at.is_some());
    assert!(done.session.completed_at.is_some());
    assert_eq!(
        store.get_link_session(&ws.id, &s.id).await.unwrap(),
        Some(done.session.clone())
    );
    assert_eq!(
        store
            .get_connection(&ws.id, &done.connection.id)
            .await
            .unwrap(),
        Some(done.connection.clone())
    );
    assert_eq!(store.credit_usage(&ws.id).await.unwrap().used, 1);
    assert_eq!(
        connection_events(&store, &ws, &done.connection.id).await,
        vec!["connection.created"]
    );

    let again = complete_create(&store, &ws, &s, &secrets::new_public_token()).await;
    assert_err!(again, StoreError::LinkSessionClosed(LinkRejection::Used));
    assert_eq!(
        store.credit_usage(&ws.id).await.unwrap().used,
        1,
        "no second connection"
    );
    assert_eq!(
        store.get_link_session(&ws.id, &s.id).await.unwrap(),
        Some(done.session),
        "the refused completion changed nothing"
    );

    let unknown = LinkCompletion {
        session_id: new_id(prefix::LINK_SESSION),
        ..completion_create(&ws, &s, &secrets::new_public_token())
    };
    assert_err!(
        store.complete_link_session(unknown).await,
        StoreError::NotFound
    );
}

/// An expired session cannot be completed; a completion whose connection does not fit in the
/// credit pool writes nothing and leaves the session pending.
pub async fn completion_is_refused_when_expired_or_short_of_credits(store: Arc<dyn Store>) {
    let ws = workspace(&store, 1).await;
    let expired = store
        .create_link_session(session_input(&ws, Duration::seconds(-1)))
        .await
        .unwrap();
    assert_err!(
        complete_create(&store, &ws, &expired, &secrets::new_public_token()).await,
        StoreError::LinkSessionClosed(LinkRejection::Expired)
    );
    assert_eq!(
        store
            .get_link_session(&ws.id, &expired.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        LinkSessionStatus::Pending
    );

    connection(&store, &ws, ConnectionStatus::Active).await; // uses the only credit
    let s = store
        .create_link_session(session_input(&ws, Duration::hours(1)))
        .await
        .unwrap();
    let refused = complete_create(&store, &ws, &s, &secrets::new_public_token()).await;
    assert_err!(refused, StoreError::InsufficientCredits { .. });
    let after = store
        .get_link_session(&ws.id, &s.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        after, s,
        "the session is untouched and can be completed later"
    );
}

// --- exchange ----------------------------------------------------------------------------

/// The exchange of a create session's public token issues the connection's token in the same
/// transaction; a second exchange is refused as used.
pub async fn exchange_issues_the_token_exactly_once(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let s = store
        .create_link_session(session_input(&ws, Duration::hours(1)))
        .await
        .unwrap();
    let public = secrets::new_public_token();
    let done = complete_create(&store, &ws, &s, &public).await.unwrap();
    let x = exchange_input(&ws, &public);
    let got = store.exchange_public_token(x.clone()).await.unwrap();
    assert_eq!(got.connection.id, done.connection.id);
    assert_eq!(got.session.status, LinkSessionStatus::Exchanged);
    assert!(got.session.exchanged_at.is_some());
    let token = got.token.clone().expect("a create session issues a token");
    assert_eq!(token.connection_id, done.connection.id);
    assert_eq!(token.workspace_id, ws.id);
    assert_eq!(token.token_hash, x.token_hash);
    assert_eq!(token.scopes, Scope::ALL.to_vec());
    assert_eq!(token.revoked_at, None);
    let found = store
        .find_token_by_hash(&x.token_hash)
        .await
        .unwrap()
        .expect("the issued token authenticates");
    assert_eq!(found.token, token);

    let second = exchange_input(&ws, &public);
    assert_err!(
        store.exchange_public_token(second.clone()).await,
        StoreError::PublicTokenRejected(LinkRejection::Used)
    );
    assert_eq!(
        store.find_token_by_hash(&second.token_hash).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .find_token_by_hash(&x.token_hash)
            .await
            .unwrap()
            .unwrap()
            .token
            .revoked_at,
        None,
        "the refused exchange did not rotate the token away"
    );
}

/// Unknown tokens, another workspace's tokens, tokens of sessions not completed and tokens
/// past their own expiry are refused, writing nothing.
pub async fn exchange_refuses_unknown_expired_and_foreign_tokens(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let other = workspace(&store, 10).await;
    assert_err!(
        exchange(&store, &ws, &secrets::new_public_token()).await,
        StoreError::PublicTokenRejected(LinkRejection::Unknown)
    );

    let s = store
        .create_link_session(session_input(&ws, Duration::hours(1)))
        .await
        .unwrap();
    let public = secrets::new_public_token();
    complete_create(&store, &ws, &s, &public).await.unwrap();
    assert_err!(
        exchange(&store, &other, &public).await,
        StoreError::PublicTokenRejected(LinkRejection::Unknown)
    );

    let stale = store
        .create_link_session(session_input(&ws, Duration::hours(1)))
        .await
        .unwrap();
    let stale_public = secrets::new_public_token();
    let mut c = completion_create(&ws, &stale, &stale_public);
    c.public_token_expires_at = time::now() - Duration::seconds(1);
    store.complete_link_session(c).await.unwrap();
    assert_err!(
        exchange(&store, &ws, &stale_public).await,
        StoreError::PublicTokenRejected(LinkRejection::Expired)
    );
    assert_eq!(
        store
            .get_link_session(&ws.id, &stale.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        LinkSessionStatus::Completed
    );
    // The token of the first session still works for its own workspace.
    exchange(&store, &ws, &public).await.unwrap();
}

/// Several exchanges of one public token at once: exactly one succeeds, and only its token
/// authenticates.
pub async fn concurrent_exchanges_have_exactly_one_winner(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let s = store
        .create_link_session(session_input(&ws, Duration::hours(1)))
        .await
        .unwrap();
    let public = secrets::new_public_token();
    complete_create(&store, &ws, &s, &public).await.unwrap();
    let attempts: Vec<LinkExchange> = (0..8).map(|_| exchange_input(&ws, &public)).collect();
    let mut handles = Vec::new();
    for x in attempts.clone() {
        let store = store.clone();
        handles.push(tokio::spawn(
            async move { store.exchange_public_token(x).await },
        ));
    }
    let mut winners = Vec::new();
    for (i, h) in handles.into_iter().enumerate() {
        match h.await.unwrap() {
            Ok(_) => winners.push(i),
            Err(StoreError::PublicTokenRejected(LinkRejection::Used)) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one exchange wins");
    for (i, x) in attempts.iter().enumerate() {
        let found = store.find_token_by_hash(&x.token_hash).await.unwrap();
        assert_eq!(found.is_some(), i == winners[0], "attempt {i}");
    }
}

/// Several completions of one session at once: exactly one succeeds and exactly one
/// connection exists.
pub async fn concurrent_completions_have_exactly_one_winner(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let s = store
        .create_link_session(session_input(&ws, Duration::hours(1)))
        .await
        .unwrap();
    let mut handles = Vec::new();
    for _ in 0..6 {
        let c = completion_create(&ws, &s, &secrets::new_public_token());
        let store = store.clone();
        handles.push(tokio::spawn(
            async move { store.complete_link_session(c).await },
        ));
    }
    let mut won = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::LinkSessionClosed(LinkRejection::Used)) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(store.credit_usage(&ws.id).await.unwrap().used, 1);
    let all = store
        .list_connections(&ws.id, &Default::default(), &PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
}

/// A reauthorization session replaces the credentials of its connection (lifting
/// `requires_reauthorization`, with `connection.reauthorized`); its exchange issues no token
/// and the connection keeps the one it had.
pub async fn reauthorize_session_replaces_credentials_and_keeps_the_token(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let (conn, token) = connection(&store, &ws, ConnectionStatus::RequiresReauthorization).await;
    let s = store
        .create_link_session(reauthorize_input(&ws, &conn.id))
        .await
        .unwrap();
    let public = secrets::new_public_token();
    let sealed = secrets::random_bytes::<32>().to_vec();
    let c = LinkCompletion {
        session_id: s.id.clone(),
        workspace_id: ws.id.clone(),
        public_token_hash: secrets::hash_token(&public),
        public_token_expires_at: time::now() + Duration::minutes(10),
        outcome: LinkOutcome::Reauthorize {
            sealed_credentials: sealed.clone(),
            reauthorized: event(&ws, &conn.id, "connection.reauthorized"),
        },
        now: time::now(),
    };
    // An outcome of the wrong kind is a caller bug, refused without writing.
    let wrong = LinkCompletion {
        outcome: completion_create(&ws, &s, &public).outcome,
        ..c.clone()
    };
    assert_err!(
        store.complete_link_session(wrong).await,
        StoreError::Backend(_)
    );
    assert_eq!(
        store
            .get_link_session(&ws.id, &s.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        LinkSessionStatus::Pending
    );

    let done = store.complete_link_session(c).await.unwrap();
    assert_eq!(done.connection.id, conn.id);
    assert_eq!(
        done.previous_status,
        Some(ConnectionStatus::RequiresReauthorization)
    );
    assert_eq!(done.connection.status, ConnectionStatus::Active);
    assert_eq!(done.connection.sealed_credentials, sealed);
    assert_eq!(
        done.session.connection_id.as_deref(),
        Some(conn.id.as_str())
    );
    assert_eq!(
        connection_events(&store, &ws, &conn.id).await,
        vec!["connection.created", "connection.reauthorized"]
    );

    let got = store
        .exchange_public_token(exchange_input(&ws, &public))
        .await
        .unwrap();
    assert!(
        got.token.is_none(),
        "a reauthorization keeps the connection's token"
    );
    assert_eq!(got.connection.id, conn.id);
    assert_eq!(got.session.status, LinkSessionStatus::Exchanged);
    let kept = store
        .find_token_by_hash(&token.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.token.revoked_at, None);
    assert_eq!(kept.connection_status, ConnectionStatus::Active);
    assert_eq!(
        store.credit_usage(&ws.id).await.unwrap().used,
        1,
        "no new connection"
    );
}

/// A connection disconnected between completion and exchange gets no token: the exchange is
/// refused and the session stays completed.
pub async fn exchange_after_disconnect_is_refused_and_writes_nothing(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let s = store
        .create_link_session(session_input(&ws, Duration::hours(1)))
        .await
        .unwrap();
    let public = secrets::new_public_token();
    let done = complete_create(&store, &ws, &s, &public).await.unwrap();
    store
        .disconnect_connection(
            &ws.id,
            &done.connection.id,
            event(&ws, &done.connection.id, "connection.disconnected"),
            time::now(),
        )
        .await
        .unwrap();
    let x = exchange_input(&ws, &public);
    assert_err!(
        store.exchange_public_token(x.clone()).await,
        StoreError::Disconnected
    );
    assert_eq!(store.find_token_by_hash(&x.token_hash).await.unwrap(), None);
    assert_eq!(
        store
            .get_link_session(&ws.id, &s.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        LinkSessionStatus::Completed
    );
}

// --- branding ----------------------------------------------------------------------------

/// Branding starts empty with the workspace's name; patches change given fields only,
/// `Some(None)` clears one, and the name is the workspace's own.
pub async fn branding_defaults_patches_and_clears(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let b = store.get_branding(&ws.id).await.unwrap();
    assert_eq!(b.name, ws.name);
    assert_eq!(b.logo_data_uri, None);
    assert_eq!(b.accent_color, None);
    assert_eq!(b.updated_at, None);
    assert_err!(store.get_branding("ws_missing").await, StoreError::NotFound);

    let logo = "data:image/png;base64,iVBORw0KGgo=".to_string();
    let t1 = time::now();
    let b = store
        .update_branding(
            &ws.id,
            BrandingPatch {
                name: Some("Acme Analytics".into()),
                logo_data_uri: Some(Some(logo.clone())),
                accent_color: Some(Some("#0a7cff".into())),
            },
            t1,
        )
        .await
        .unwrap();
    assert_eq!(b.name, "Acme Analytics");
    assert_eq!(b.logo_data_uri.as_deref(), Some(logo.as_str()));
    assert_eq!(b.accent_color.as_deref(), Some("#0a7cff"));
    assert_eq!(b.updated_at, Some(t1));
    assert_eq!(store.get_branding(&ws.id).await.unwrap(), b);
    assert_eq!(
        store.get_workspace(&ws.id).await.unwrap().unwrap().name,
        "Acme Analytics"
    );

    let t2 = time::now();
    let b = store
        .update_branding(
            &ws.id,
            BrandingPatch {
                accent_color: Some(None),
                ..Default::default()
            },
            t2,
        )
        .await
        .unwrap();
    assert_eq!(b.accent_color, None);
    assert_eq!(b.logo_data_uri.as_deref(), Some(logo.as_str()), "untouched");
    assert_eq!(b.name, "Acme Analytics");
    assert_eq!(b.updated_at, Some(t2));
    assert_err!(
        store
            .update_branding("ws_missing", BrandingPatch::default(), t2)
            .await,
        StoreError::NotFound
    );
}

// --- helpers -----------------------------------------------------------------------------

async fn workspace(store: &Arc<dyn Store>, credit_limit: i64) -> Workspace {
    store
        .create_workspace(NewWorkspace {
            id: new_id(prefix::WORKSPACE),
            name: "Acme Manufacturing".into(),
            credit_limit,
            rate_limit_per_minute: None,
            secret_key_hash: secrets::hash_token(&secrets::new_workspace_key()),
            wrapped_data_key: secrets::random_bytes::<48>().to_vec(),
            created_at: time::now(),
        })
        .await
        .unwrap()
}

fn event(ws: &Workspace, connection_id: &str, event_type: &str) -> NewEvent {
    NewEvent {
        id: new_id(prefix::EVENT),
        workspace_id: ws.id.clone(),
        connection_id: Some(connection_id.to_owned()),
        event_type: event_type.to_owned(),
        data: json!({"connection_id": connection_id}),
        created_at: time::now(),
    }
}

fn connection_input(ws: &Workspace, status: ConnectionStatus) -> NewConnection {
    NewConnection {
        id: new_id(prefix::CONNECTION),
        workspace_id: ws.id.clone(),
        connector: "maintainx".into(),
        deployment: Deployment::Cloud,
        name: "MaintainX".into(),
        status,
        credits: 1,
        metadata: json!({"customer": "acme"}),
        sealed_credentials: secrets::random_bytes::<40>().to_vec(),
        sync_settings: json!({"frequency_minutes": 15}),
        field_mappings: json!({}),
        created_at: time::now(),
    }
}

/// A connection made through the management API (with its token).
async fn connection(
    store: &Arc<dyn Store>,
    ws: &Workspace,
    status: ConnectionStatus,
) -> (Connection, NewToken) {
    let input = connection_input(ws, status);
    let token = NewToken {
        id: new_id(prefix::TOKEN),
        connection_id: input.id.clone(),
        workspace_id: ws.id.clone(),
        token_hash: secrets::hash_token(&secrets::new_connection_token()),
        scopes: Scope::ALL.to_vec(),
        expires_at: None,
        created_at: input.created_at,
    };
    let created = event(ws, &input.id, "connection.created");
    let conn = store
        .create_connection(input, token.clone(), created)
        .await
        .unwrap();
    (conn, token)
}

fn session_input(ws: &Workspace, expires_in: Duration) -> NewLinkSession {
    let now = time::now();
    NewLinkSession {
        id: new_id(prefix::LINK_SESSION),
        workspace_id: ws.id.clone(),
        link_token_hash: secrets::hash_token(&secrets::new_link_token()),
        purpose: LinkPurpose::Create,
        connectors: vec!["maintainx".into()],
        name: None,
        metadata: json!({}),
        redirect_uri: None,
        allowed_origins: vec![],
        connection_id: None,
        expires_at: now + expires_in,
        created_at: now,
    }
}

fn reauthorize_input(ws: &Workspace, connection_id: &str) -> NewLinkSession {
    NewLinkSession {
        purpose: LinkPurpose::Reauthorize,
        connection_id: Some(connection_id.to_owned()),
        ..session_input(ws, Duration::hours(1))
    }
}

fn completion_create(ws: &Workspace, s: &LinkSession, public: &str) -> LinkCompletion {
    let connection = connection_input(ws, ConnectionStatus::Pending);
    let event = event(ws, &connection.id, "connection.created");
    LinkCompletion {
        session_id: s.id.clone(),
        workspace_id: ws.id.clone(),
        public_token_hash: secrets::hash_token(public),
        public_token_expires_at: time::now() + Duration::minutes(10),
        outcome: LinkOutcome::Create {
            connection: Box::new(connection),
            event,
        },
        now: time::now(),
    }
}

async fn complete_create(
    store: &Arc<dyn Store>,
    ws: &Workspace,
    s: &LinkSession,
    public: &str,
) -> Result<LinkCompleted, StoreError> {
    store
        .complete_link_session(completion_create(ws, s, public))
        .await
}

fn exchange_input(ws: &Workspace, public: &str) -> LinkExchange {
    LinkExchange {
        workspace_id: ws.id.clone(),
        public_token_hash: secrets::hash_token(public),
        token_id: new_id(prefix::TOKEN),
        token_hash: secrets::hash_token(&secrets::new_connection_token()),
        token_scopes: Scope::ALL.to_vec(),
        now: time::now(),
    }
}

async fn exchange(
    store: &Arc<dyn Store>,
    ws: &Workspace,
    public: &str,
) -> Result<LinkExchanged, StoreError> {
    store
        .exchange_public_token(exchange_input(ws, public))
        .await
}

/// The types of the connection's events, oldest first.
async fn connection_events(
    store: &Arc<dyn Store>,
    ws: &Workspace,
    connection_id: &str,
) -> Vec<String> {
    let filter = EventFilter {
        connection_id: Some(connection_id.to_owned()),
        ..Default::default()
    };
    store
        .list_events(&ws.id, &filter, &PageRequest::first(100))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

#[cfg(test)]
mod tests {
    /// The macro's list and the `pub async fn`s of this file name the same tests.
    #[test]
    fn the_macro_lists_every_test() {
        let source = include_str!("conformance_link.rs");
        let mut defined: Vec<&str> = source
            .lines()
            .filter_map(|l| l.strip_prefix("pub async fn "))
            .map(|rest| rest.split('(').next().unwrap())
            .collect();
        let mut listed: Vec<&str> = crate::link_conformance_suite!(@names).to_vec();
        assert_eq!(listed.len(), defined.len(), "duplicates or missing names");
        defined.sort_unstable();
        listed.sort_unstable();
        assert_eq!(listed, defined);
    }
}
