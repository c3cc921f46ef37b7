//! The conformance suite: the behaviour every [`Store`] backend must show, written once against
//! the trait so that SQLite and PostgreSQL run exactly the same tests.
//!
//! Each test is a `pub async fn name(store: Arc<dyn Store>)` that panics on failure and expects
//! a fresh, migrated store of its own. Backends do not call them one by one: they invoke
//! [`conformance_suite!`](crate::conformance_suite) from an integration test, which expands to
//! one `#[tokio::test]` per test so that each shows up by name in `cargo test` output.
//!
//! Tests build their inputs with the helpers at the bottom of this file; identifiers come from
//! [`new_id`] and times from [`time::now`] (microsecond precision, so values round-trip exactly
//! through either database and can be compared with `==`). Where a test needs order it sorts
//! ids instead of relying on creation order: ULIDs made within one millisecond are not ordered.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use chrono::Duration;
use millwright_core::{
    credits::{CreditUsage, Deployment},
    ids::{new_id, prefix},
    record::{content_hash, record_id, record_json, RecordParts},
    scope::Scope,
    secrets,
    status::ConnectionStatus,
    time::{self, Timestamp},
    Entity,
};
use serde_json::json;

use crate::{
    AttemptOutcome, ClaimedDelivery, Connection, ConnectionFilter, ConnectionPatch, Delivery,
    DeliveryAttempt, DeliveryFilter, DeliveryStatus, Event, EventFilter, FanOut, HealthSnapshot,
    IdempotentResponse, Job, JobState, NewConnection, NewDelivery, NewEvent, NewJob, NewProbe,
    NewSyncRun, NewToken, NewUser, NewWebhookEndpoint, NewWorkspace, PageOutcome, PageRequest,
    PageWrite, Probe, ProbeDay, ProbeStatus, RecordQuery, RecordWrite, RequestLog,
    RequestLogFilter, RunEnd, RunStatus, Store, StoreError, StoredRecord, SyncMode, SyncRun,
    SyncState, TokenRecord, WebhookEndpoint, WebhookEndpointPatch, Workspace,
};

/// What the expression given to [`conformance_suite!`](crate::conformance_suite) yields once
/// awaited: a fresh, migrated store, alone or paired with a guard that must outlive the test
/// (for SQLite, the temporary directory holding the database file).
pub trait Fixture {
    /// The store under test.
    fn store(&self) -> Arc<dyn Store>;
}

impl Fixture for Arc<dyn Store> {
    fn store(&self) -> Arc<dyn Store> {
        self.clone()
    }
}

impl<G> Fixture for (Arc<dyn Store>, G) {
    fn store(&self) -> Arc<dyn Store> {
        self.0.clone()
    }
}

/// Expands into one `#[tokio::test]` (multi-threaded runtime, two workers) per conformance
/// test, each named after the test and running it against the store produced by `$make`.
///
/// `$make` is an expression evaluated once per test that yields a future whose output is an
/// `Arc<dyn Store>` or an `(Arc<dyn Store>, guard)` pair (see [`conformance::Fixture`]); the
/// store must be fresh (no rows) and migrated. The guard, if any, is dropped after the test and
/// after the store.
///
/// The invoking crate needs `tokio` (features `macros` and `rt-multi-thread`) as a
/// (dev-)dependency, since the expansion uses `#[tokio::test]`.
///
/// ```ignore
/// // crates/store-sqlite/tests/conformance.rs
/// use std::sync::Arc;
/// use millwright_store::Store;
/// use millwright_store_sqlite::SqliteStore;
///
/// async fn fresh_store() -> (Arc<dyn Store>, tempfile::TempDir) {
///     let dir = tempfile::tempdir().unwrap();
///     let store = SqliteStore::open(&dir.path().join("test.db")).unwrap();
///     store.migrate().await.unwrap();
///     (Arc::new(store), dir)
/// }
///
/// millwright_store::conformance_suite!(fresh_store());
/// ```
///
/// `conformance_suite!(@names)` evaluates to a `&[&str]` of every test name instead.
///
/// [`conformance::Fixture`]: crate::conformance::Fixture
#[macro_export]
macro_rules! conformance_suite {
    (@names) => {
        $crate::__conformance_tests!(@names)
    };
    ($make:expr $(,)?) => {
        $crate::__conformance_tests!(@tests conformance $make);
    };
}

/// The single list of conformance tests; keep it in step with the `pub async fn`s of
/// `conformance.rs` (a unit test checks that it is).
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    ($($how:tt)+) => {
        $crate::__conformance_expand! {
            $($how)+;
            readiness_reports_every_migration_applied,
            workspace_round_trip_and_key_lookup,
            user_emails_are_unique_case_insensitively,
            create_connection_and_find_token,
            failed_create_connection_writes_nothing,
            credits_are_counted_and_refusal_writes_nothing,
            concurrent_creates_never_overspend,
            update_connection_patches_name_and_metadata,
            replace_credentials_reactivates_and_refuses_disconnected,
            rotate_token_revokes_previous_tokens,
            workspaces_are_isolated,
            disconnect_is_idempotent_and_cancels_jobs,
            delete_connection_data_requires_disconnect,
            list_connections_paginates_newest_first,
            list_connections_filters,
            jobs_dedupe_while_queued_or_running,
            claim_respects_run_at_kinds_and_limit,
            expired_leases_are_reclaimed,
            heartbeats_keep_a_lease,
            complete_and_retry_need_the_lease,
            concurrent_claimers_never_share_a_job,
            request_logs_insert_filter_get_and_purge,
            request_log_batches_are_atomic,
            replace_credentials_appends_reauthorized_only_from_requires_reauthorization,
            transition_connection_happens_once,
            disconnect_cancels_sync_runs_and_appends_its_event_once,
            live_connections_and_connection_settings,
            cancel_queued_jobs_only_cancels_queued_jobs_of_given_kinds,
            apply_page_creates_updates_skips_unchanged_and_deletes,
            apply_page_is_refused_after_disconnect_or_run_end,
            sync_run_counters_and_checkpoint_accumulate,
            start_sync_run_resumes_the_running_run,
            finish_sync_run_updates_state_and_refuses_a_second_finish,
            sync_states_show_counts_pause_and_running_run,
            list_records_orders_filters_and_keysets,
            list_records_pages_2500_records_exactly_once,
            list_records_reads_remote_data_only_when_asked,
            records_keep_their_rendering_through_every_write,
            list_events_filters_and_pages_oldest_first,
            idempotent_responses_are_stored_once_and_purged,
            synced_data_is_isolated_between_workspaces,
            webhook_endpoints_round_trip_list_and_isolation,
            update_webhook_endpoint_patch_semantics,
            delete_webhook_endpoint_cascades,
            fan_out_creates_one_delivery_per_matching_endpoint,
            test_events_carry_their_own_delivery_and_are_never_fanned_out,
            claim_deliveries_respects_due_time_caps_and_disabled_endpoints,
            claim_caps_deliveries_in_flight_per_endpoint,
            delivery_leases_expire_and_only_the_holder_finishes,
            finish_attempt_records_attempts_and_applies_each_outcome,
            finish_attempts_records_a_batch_as_one_by_one,
            list_deliveries_filters_and_pages_newest_first,
            retry_and_recover_requeue_failed_deliveries,
            disable_failing_endpoints_disables_once_with_an_event,
            probes_record_history_daily_and_purge,
            probes_are_isolated_and_refused_after_disconnect,
            job_queue_stats_and_connection_status_counts,
        }
    };
}

/// Expands a suite's list into its test names (`@names`) or into one `#[tokio::test]` per
/// name calling `$crate::<module>::<name>` on a fresh fixture (`@tests <module> <make>`); every
/// suite (`conformance_suite!`, `link_conformance_suite!`, ...) shares it.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_expand {
    (@names; $($name:ident),+ $(,)?) => {
        &[$(stringify!($name)),+]
    };
    (@tests $module:ident $make:expr; $($name:ident),+ $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let fixture = $make.await;
                let store = $crate::conformance::Fixture::store(&fixture);
                $crate::$module::$name(store).await;
                drop(fixture);
            }
        )+
    };
}

// --- migrations --------------------------------------------------------------------------

/// The fresh store is fully migrated, and migrating again is a no-op.
pub async fn readiness_reports_every_migration_applied(store: Arc<dyn Store>) {
    assert!(["sqlite", "postgres"].contains(&store.backend()));
    let r = store.readiness().await.unwrap();
    assert!(r.known_migrations >= 1, "{r:?}");
    assert_eq!(r.applied_migrations, r.known_migrations, "{r:?}");
    assert!(r.is_ready());
    store.migrate().await.unwrap();
    assert_eq!(store.readiness().await.unwrap(), r);
}

// --- workspaces and users ----------------------------------------------------------------

/// Every field survives the round trip; lookup by key hash works; ids and key hashes are
/// unique.
pub async fn workspace_round_trip_and_key_lookup(store: Arc<dyn Store>) {
    let mut input = workspace_input(7);
    input.rate_limit_per_minute = Some(0);
    let created = store.create_workspace(input.clone()).await.unwrap();
    let expected = Workspace {
        id: input.id.clone(),
        name: input.name.clone(),
        credit_limit: 7,
        rate_limit_per_minute: Some(0),
        wrapped_data_key: input.wrapped_data_key.clone(),
        created_at: input.created_at,
    };
    assert_eq!(created, expected);
    assert_eq!(
        store.get_workspace(&input.id).await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        store
            .find_workspace_by_key_hash(&input.secret_key_hash)
            .await
            .unwrap(),
        Some(expected.clone())
    );

    let other = store.create_workspace(workspace_input(10)).await.unwrap();
    assert_eq!(other.rate_limit_per_minute, None);
    assert_ne!(
        store.get_workspace(&other.id).await.unwrap(),
        Some(expected)
    );

    assert_eq!(
        store
            .get_workspace(&new_id(prefix::WORKSPACE))
            .await
            .unwrap(),
        None
    );
    let unknown_hash = secrets::hash_token(&secrets::new_workspace_key());
    assert_eq!(
        store
            .find_workspace_by_key_hash(&unknown_hash)
            .await
            .unwrap(),
        None
    );

    let mut same_key = workspace_input(1);
    same_key.secret_key_hash = input.secret_key_hash.clone();
    assert_err!(
        store.create_workspace(same_key.clone()).await,
        StoreError::Conflict(_)
    );
    assert_eq!(store.get_workspace(&same_key.id).await.unwrap(), None);
    let mut same_id = workspace_input(1);
    same_id.id = input.id.clone();
    assert_err!(
        store.create_workspace(same_id.clone()).await,
        StoreError::Conflict(_)
    );
    assert_eq!(
        store
            .find_workspace_by_key_hash(&same_id.secret_key_hash)
            .await
            .unwrap(),
        None
    );
}

/// E-mails are stored lower-case, found whatever their case, and unique across workspaces.
pub async fn user_emails_are_unique_case_insensitively(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let b = workspace(&store, 10).await;
    let input = NewUser {
        id: new_id(prefix::USER),
        workspace_id: a.id.clone(),
        email: "Alice.Smith@Example.COM".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: time::now(),
    };
    let user = store.create_user(input.clone()).await.unwrap();
    assert_eq!(user.id, input.id);
    assert_eq!(user.workspace_id, a.id);
    assert_eq!(user.email, "alice.smith@example.com");
    assert_eq!(user.password_hash, input.password_hash);
    assert_eq!(user.created_at, input.created_at);
    for probe in [
        "alice.smith@example.com",
        "ALICE.SMITH@EXAMPLE.COM",
        "Alice.Smith@Example.COM",
    ] {
        assert_eq!(
            store.find_user_by_email(probe).await.unwrap(),
            Some(user.clone()),
            "{probe}"
        );
    }
    assert_eq!(
        store.find_user_by_email("bob@example.com").await.unwrap(),
        None
    );

    let clash = NewUser {
        id: new_id(prefix::USER),
        workspace_id: b.id.clone(),
        email: "alice.smith@EXAMPLE.com".into(),
        ..input.clone()
    };
    assert_err!(store.create_user(clash).await, StoreError::Conflict(_));
    // The first user is untouched by the failed attempt.
    assert_eq!(
        store
            .find_user_by_email("alice.smith@example.com")
            .await
            .unwrap(),
        Some(user)
    );

    let bob = NewUser {
        id: new_id(prefix::USER),
        workspace_id: b.id.clone(),
        email: "bob@example.com".into(),
        ..input
    };
    let bob = store.create_user(bob).await.unwrap();
    assert_eq!(
        store.find_user_by_email("BOB@example.com").await.unwrap(),
        Some(bob)
    );
}

// --- connections and tokens --------------------------------------------------------------

/// A created connection reads back field for field; its token is found by hash with the
/// connection's status.
pub async fn create_connection_and_find_token(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let mut input = connection_input(&ws, "maximo", 4);
    input.deployment = Deployment::OnPremise;
    input.status = ConnectionStatus::Pending;
    input.metadata = json!({"team": "north", "site": "Lyon"});
    input.sync_settings =
        json!({"frequency_minutes": 60, "history_days": 30, "entities": ["assets"]});
    input.field_mappings = json!({"work_orders": {"priority": "custom.prio"}});
    let mut token = token_input(&input.id, &ws.id, input.created_at);
    token.scopes = vec![Scope::Read, Scope::Write];
    token.expires_at = Some(input.created_at + Duration::days(30));

    let event = created_event(&input);
    let created = store
        .create_connection(input.clone(), token.clone(), event.clone())
        .await
        .unwrap();
    assert_eq!(
        all_events(&store, &ws.id, &EventFilter::default(), 10).await,
        vec![event],
        "the connection.created event is written with the connection"
    );
    assert_eq!(created, expected_connection(&input));
    assert_eq!(
        store.get_connection(&ws.id, &input.id).await.unwrap(),
        Some(created.clone())
    );
    assert_eq!(
        store
            .get_connection(&ws.id, &new_id(prefix::CONNECTION))
            .await
            .unwrap(),
        None
    );

    let lookup = store
        .find_token_by_hash(&token.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lookup.token, expected_token(&token, None));
    assert_eq!(lookup.connection_status, ConnectionStatus::Pending);
    let unknown = secrets::hash_token(&secrets::new_connection_token());
    assert_eq!(store.find_token_by_hash(&unknown).await.unwrap(), None);

    let page = store
        .list_connections(
            &ws.id,
            &ConnectionFilter::default(),
            &PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(page.items, vec![created]);
    assert_eq!(page.next_after, None);
    assert_eq!(
        store.credit_usage(&ws.id).await.unwrap(),
        CreditUsage::new(10, 4)
    );
}

/// A create that fails on a unique constraint (connection id, token hash) or on an unknown
/// workspace leaves neither the connection nor its token behind.
pub async fn failed_create_connection_writes_nothing(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let (first, first_token) = connection(&store, &ws, 1).await;

    // Same connection id, fresh token: the token must not survive the failed insert.
    let mut dup = connection_input(&ws, "maintainx", 1);
    dup.id = first.id.clone();
    let dup_token = token_input(&dup.id, &ws.id, dup.created_at);
    assert_err!(
        create_conn(&store, dup, dup_token.clone()).await,
        StoreError::Conflict(_)
    );
    assert_eq!(
        store
            .find_token_by_hash(&dup_token.token_hash)
            .await
            .unwrap(),
        None
    );

    // Fresh connection, token hash already taken: the connection must not survive.
    let fresh = connection_input(&ws, "maintainx", 1);
    let mut clash = token_input(&fresh.id, &ws.id, fresh.created_at);
    clash.token_hash = first_token.token_hash.clone();
    assert_err!(
        create_conn(&store, fresh.clone(), clash).await,
        StoreError::Conflict(_)
    );
    assert_eq!(store.get_connection(&ws.id, &fresh.id).await.unwrap(), None);

    // A workspace that does not exist.
    let ghost = workspace_input(10);
    let orphan = NewConnection {
        workspace_id: ghost.id.clone(),
        ..connection_input(&ws, "maximo", 1)
    };
    let orphan_token = token_input(&orphan.id, &ghost.id, orphan.created_at);
    assert_err!(
        create_conn(&store, orphan, orphan_token.clone()).await,
        StoreError::NotFound
    );
    assert_eq!(
        store
            .find_token_by_hash(&orphan_token.token_hash)
            .await
            .unwrap(),
        None
    );

    assert_eq!(
        list_ids(&store, &ws.id, &ConnectionFilter::default(), 10).await,
        vec![first.id.clone()]
    );
    let events = all_events(&store, &ws.id, &EventFilter::default(), 10).await;
    assert_eq!(
        types(&events),
        vec!["connection.created"],
        "a failed create writes no event"
    );
    assert_eq!(events[0].connection_id.as_deref(), Some(first.id.as_str()));
    assert!(all_events(&store, &ghost.id, &EventFilter::default(), 10)
        .await
        .is_empty());
    assert_eq!(
        store.credit_usage(&ws.id).await.unwrap(),
        CreditUsage::new(10, 1)
    );
    assert_eq!(
        store.get_connection(&ws.id, &first.id).await.unwrap(),
        Some(first)
    );
}

/// used = sum of credits of connections not disconnected; a create that does not fit is
/// refused with the pool's numbers and writes nothing; disconnecting returns credits.
pub async fn credits_are_counted_and_refusal_writes_nothing(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    assert_eq!(
        store.credit_usage(&ws.id).await.unwrap(),
        CreditUsage {
            limit: 10,
            used: 0,
            available: 10
        }
    );
    let (four, _) = connection(&store, &ws, 4).await;
    connection(&store, &ws, 2).await;
    assert_eq!(
        store.credit_usage(&ws.id).await.unwrap(),
        CreditUsage {
            limit: 10,
            used: 6,
            available: 4
        }
    );

    let too_big = connection_input(&ws, "sap_s4hana", 5);
    let too_big_token = token_input(&too_big.id, &ws.id, too_big.created_at);
    assert_err!(
        create_conn(&store, too_big.clone(), too_big_token.clone()).await,
        StoreError::InsufficientCredits {
            limit: 10,
            used: 6,
            requested: 5
        }
    );
    assert_eq!(
        store.get_connection(&ws.id, &too_big.id).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .find_token_by_hash(&too_big_token.token_hash)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        list_ids(&store, &ws.id, &ConnectionFilter::default(), 10)
            .await
            .len(),
        2
    );
    assert_eq!(store.credit_usage(&ws.id).await.unwrap().used, 6);
    assert_eq!(
        all_events(&store, &ws.id, &EventFilter::default(), 10)
            .await
            .len(),
        2,
        "a refused create writes no event"
    );

    // Exactly filling the pool is allowed; one more credit is not.
    connection(&store, &ws, 4).await;
    assert_eq!(
        store.credit_usage(&ws.id).await.unwrap(),
        CreditUsage {
            limit: 10,
            used: 10,
            available: 0
        }
    );
    let one = connection_input(&ws, "maintainx", 1);
    let one_token = token_input(&one.id, &ws.id, one.created_at);
    assert_err!(
        create_conn(&store, one.clone(), one_token).await,
        StoreError::InsufficientCredits {
            limit: 10,
            used: 10,
            requested: 1
        }
    );

    // Disconnecting gives the credits back, and they can be spent again.
    store
        .disconnect_connection(
            &ws.id,
            &four.id,
            disconnected_event(&ws.id, &four.id),
            time::now(),
        )
        .await
        .unwrap();
    assert_eq!(
        store.credit_usage(&ws.id).await.unwrap(),
        CreditUsage {
            limit: 10,
            used: 6,
            available: 4
        }
    );
    connection(&store, &ws, 4).await;
    assert_eq!(store.credit_usage(&ws.id).await.unwrap().used, 10);

    // Another workspace has its own pool.
    let other = workspace(&store, 3).await;
    assert_eq!(
        store.credit_usage(&other.id).await.unwrap(),
        CreditUsage::new(3, 0)
    );
    assert_err!(
        store.credit_usage(&new_id(prefix::WORKSPACE)).await,
        StoreError::NotFound
    );
}

/// 25 concurrent one-credit creates on a pool of 10: exactly 10 succeed.
pub async fn concurrent_creates_never_overspend(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let mut tasks = Vec::new();
    for _ in 0..25 {
        let store = store.clone();
        let input = connection_input(&ws, "maintainx", 1);
        let token = token_input(&input.id, &ws.id, input.created_at);
        tasks.push(tokio::spawn(async move {
            let id = input.id.clone();
            (id, create_conn(&store, input, token).await)
        }));
    }
    let mut created = BTreeSet::new();
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            (id, Ok(c)) => {
                assert_eq!(c.id, id);
                created.insert(id);
            }
            // A one-credit create can only be refused when the pool is exactly full.
            (
                _,
                Err(StoreError::InsufficientCredits {
                    limit: 10,
                    used: 10,
                    requested: 1,
                }),
            ) => refused += 1,
            (_, Err(e)) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(created.len(), 10);
    assert_eq!(refused, 15);
    assert_eq!(
        store.credit_usage(&ws.id).await.unwrap(),
        CreditUsage::new(10, 10)
    );
    let listed: BTreeSet<String> = list_ids(&store, &ws.id, &ConnectionFilter::default(), 100)
        .await
        .into_iter()
        .collect();
    assert_eq!(listed, created);
}

/// A patch changes only what it names; metadata is replaced whole.
pub async fn update_connection_patches_name_and_metadata(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let mut input = connection_input(&ws, "maintainx", 1);
    input.metadata = json!({"team": "north", "env": "prod"});
    let token = token_input(&input.id, &ws.id, input.created_at);
    let original = create_conn(&store, input, token).await.unwrap();

    let t1 = original.created_at + Duration::seconds(1);
    let renamed = store
        .update_connection(
            &ws.id,
            &original.id,
            ConnectionPatch {
                name: Some("Plant 2".into()),
                metadata: None,
            },
            t1,
        )
        .await
        .unwrap();
    assert_eq!(
        renamed,
        Connection {
            name: "Plant 2".into(),
            updated_at: t1,
            ..original.clone()
        }
    );
    assert_eq!(
        store.get_connection(&ws.id, &original.id).await.unwrap(),
        Some(renamed.clone())
    );

    let t2 = t1 + Duration::seconds(1);
    let patch = ConnectionPatch {
        name: None,
        metadata: Some(json!({"team": "south"})),
    };
    let retagged = store
        .update_connection(&ws.id, &original.id, patch, t2)
        .await
        .unwrap();
    assert_eq!(
        retagged,
        Connection {
            metadata: json!({"team": "south"}),
            updated_at: t2,
            ..renamed.clone()
        }
    );

    let t3 = t2 + Duration::seconds(1);
    let patch = ConnectionPatch {
        name: Some("Plant 3".into()),
        metadata: Some(json!({})),
    };
    let both = store
        .update_connection(&ws.id, &original.id, patch, t3)
        .await
        .unwrap();
    assert_eq!(
        both,
        Connection {
            name: "Plant 3".into(),
            metadata: json!({}),
            updated_at: t3,
            ..original.clone()
        }
    );
    assert_eq!(
        store.get_connection(&ws.id, &original.id).await.unwrap(),
        Some(both)
    );

    let patch = ConnectionPatch {
        name: Some("x".into()),
        metadata: None,
    };
    assert_err!(
        store
            .update_connection(&ws.id, &new_id(prefix::CONNECTION), patch, t3)
            .await,
        StoreError::NotFound
    );
}

/// New credentials bring a connection needing reauthorization back to active, leave other
/// statuses alone, and are refused on a disconnected connection.
pub async fn replace_credentials_reactivates_and_refuses_disconnected(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let reauth =
        connection_with_status(&store, &ws, ConnectionStatus::RequiresReauthorization).await;
    let offline = connection_with_status(&store, &ws, ConnectionStatus::Offline).await;
    let gone = connection_with_status(&store, &ws, ConnectionStatus::Active).await;

    let t1 = reauth.created_at + Duration::minutes(1);
    let updated = store
        .replace_credentials(
            &ws.id,
            &reauth.id,
            b"sealed-v2".to_vec(),
            reauthorized_event(&ws.id, &reauth.id),
            t1,
        )
        .await
        .unwrap();
    assert_eq!(
        updated,
        Connection {
            status: ConnectionStatus::Active,
            sealed_credentials: b"sealed-v2".to_vec(),
            updated_at: t1,
            ..reauth.clone()
        }
    );
    assert_eq!(
        store.get_connection(&ws.id, &reauth.id).await.unwrap(),
        Some(updated)
    );

    let updated = store
        .replace_credentials(
            &ws.id,
            &offline.id,
            b"sealed-v3".to_vec(),
            reauthorized_event(&ws.id, &offline.id),
            t1,
        )
        .await
        .unwrap();
    assert_eq!(updated.status, ConnectionStatus::Offline);
    assert_eq!(updated.sealed_credentials, b"sealed-v3".to_vec());

    let disconnected = store
        .disconnect_connection(&ws.id, &gone.id, disconnected_event(&ws.id, &gone.id), t1)
        .await
        .unwrap()
        .connection;
    assert_err!(
        store
            .replace_credentials(
                &ws.id,
                &gone.id,
                b"sealed-v4".to_vec(),
                reauthorized_event(&ws.id, &gone.id),
                t1
            )
            .await,
        StoreError::Disconnected
    );
    assert_eq!(
        store.get_connection(&ws.id, &gone.id).await.unwrap(),
        Some(disconnected)
    );

    assert_err!(
        store
            .replace_credentials(
                &ws.id,
                &new_id(prefix::CONNECTION),
                vec![1],
                reauthorized_event(&ws.id, &new_id(prefix::CONNECTION)),
                t1
            )
            .await,
        StoreError::NotFound
    );
}

/// Rotation revokes every live token at the new token's creation time and inserts the new one;
/// it is refused on a disconnected or unknown connection without inserting anything.
pub async fn rotate_token_revokes_previous_tokens(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let (conn, t1) = connection(&store, &ws, 1).await;

    let mut t2 = token_input(&conn.id, &ws.id, t1.created_at + Duration::minutes(1));
    t2.scopes = vec![Scope::Read];
    t2.expires_at = Some(t2.created_at + Duration::days(1));
    let record = store
        .rotate_token(&ws.id, &conn.id, t2.clone())
        .await
        .unwrap();
    assert_eq!(record, expected_token(&t2, None));
    let old = store
        .find_token_by_hash(&t1.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.token, expected_token(&t1, Some(t2.created_at)));
    let new = store
        .find_token_by_hash(&t2.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(new.token, record);
    assert_eq!(new.connection_status, conn.status);

    let t3 = token_input(&conn.id, &ws.id, t2.created_at + Duration::minutes(1));
    store
        .rotate_token(&ws.id, &conn.id, t3.clone())
        .await
        .unwrap();
    let lookup = |hash: String| {
        let store = store.clone();
        async move {
            store
                .find_token_by_hash(&hash)
                .await
                .unwrap()
                .unwrap()
                .token
        }
    };
    // An already revoked token keeps its original revocation time.
    assert_eq!(
        lookup(t1.token_hash.clone()).await.revoked_at,
        Some(t2.created_at)
    );
    assert_eq!(
        lookup(t2.token_hash.clone()).await.revoked_at,
        Some(t3.created_at)
    );
    assert_eq!(lookup(t3.token_hash.clone()).await.revoked_at, None);

    let unknown = new_id(prefix::CONNECTION);
    let stray = token_input(&unknown, &ws.id, time::now());
    assert_err!(
        store.rotate_token(&ws.id, &unknown, stray.clone()).await,
        StoreError::NotFound
    );
    assert_eq!(
        store.find_token_by_hash(&stray.token_hash).await.unwrap(),
        None
    );

    store
        .disconnect_connection(
            &ws.id,
            &conn.id,
            disconnected_event(&ws.id, &conn.id),
            time::now(),
        )
        .await
        .unwrap();
    let t4 = token_input(&conn.id, &ws.id, time::now());
    assert_err!(
        store.rotate_token(&ws.id, &conn.id, t4.clone()).await,
        StoreError::Disconnected
    );
    assert_eq!(
        store.find_token_by_hash(&t4.token_hash).await.unwrap(),
        None
    );
}

/// A workspace can neither see nor change another workspace's connections, tokens or logs.
pub async fn workspaces_are_isolated(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let b = workspace(&store, 10).await;
    let (conn, token) = connection(&store, &a, 3).await;
    let now = time::now();

    assert_eq!(store.get_connection(&b.id, &conn.id).await.unwrap(), None);
    assert!(list_ids(&store, &b.id, &ConnectionFilter::default(), 10)
        .await
        .is_empty());
    let patch = ConnectionPatch {
        name: Some("hijacked".into()),
        metadata: Some(json!({"x": "y"})),
    };
    assert_err!(
        store.update_connection(&b.id, &conn.id, patch, now).await,
        StoreError::NotFound
    );
    assert_err!(
        store
            .replace_credentials(
                &b.id,
                &conn.id,
                vec![9],
                reauthorized_event(&b.id, &conn.id),
                now
            )
            .await,
        StoreError::NotFound
    );
    let foreign = token_input(&conn.id, &b.id, now);
    assert_err!(
        store.rotate_token(&b.id, &conn.id, foreign.clone()).await,
        StoreError::NotFound
    );
    assert_err!(
        store
            .disconnect_connection(&b.id, &conn.id, disconnected_event(&b.id, &conn.id), now)
            .await,
        StoreError::NotFound
    );
    assert_err!(
        store.delete_connection_data(&b.id, &conn.id, now).await,
        StoreError::NotFound
    );
    assert_eq!(
        store.credit_usage(&b.id).await.unwrap(),
        CreditUsage::new(10, 0)
    );

    // Nothing of A changed.
    assert_eq!(
        store.get_connection(&a.id, &conn.id).await.unwrap(),
        Some(conn.clone())
    );
    let live = store
        .find_token_by_hash(&token.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(live.token.revoked_at, None);
    assert_eq!(live.connection_status, conn.status);
    assert_eq!(
        store.find_token_by_hash(&foreign.token_hash).await.unwrap(),
        None
    );
    assert_eq!(
        store.credit_usage(&a.id).await.unwrap(),
        CreditUsage::new(10, 3)
    );

    let log = request_log(Some(&a.id), Some(&conn.id), 200, now);
    store
        .insert_request_logs(std::slice::from_ref(&log))
        .await
        .unwrap();
    assert_eq!(
        store.get_request_log(&b.id, &log.request_id).await.unwrap(),
        None
    );
    let page = store
        .list_request_logs(&b.id, &RequestLogFilter::default(), &PageRequest::first(10))
        .await
        .unwrap();
    assert!(page.items.is_empty());
    assert_eq!(
        store.get_request_log(&a.id, &log.request_id).await.unwrap(),
        Some(log)
    );
}

/// Disconnecting marks the connection, revokes its tokens, returns its credits and cancels its
/// queued and running jobs (only its own); a second call changes nothing.
pub async fn disconnect_is_idempotent_and_cancels_jobs(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let (conn, token) = connection(&store, &ws, 3).await;
    let (other, other_token) = connection(&store, &ws, 2).await;
    let t0 = time::now();
    let lease = Duration::minutes(5);

    let queued = job_for(&conn, "sync", t0);
    let future = job_for(&conn, "sync", t0 + Duration::hours(1));
    let running = job_for(&conn, "probe", t0);
    let done = job_for(&conn, "webhook", t0);
    let others = job_for(&other, "sync", t0 + Duration::hours(2));
    for j in [&queued, &future, &running, &done, &others] {
        assert!(store.enqueue_job(j.clone()).await.unwrap());
    }
    assert_eq!(
        ids(&store
            .claim_jobs(&["probe"], "w1", t0, lease, 10)
            .await
            .unwrap()),
        vec![running.id.clone()]
    );
    assert_eq!(
        ids(&store
            .claim_jobs(&["webhook"], "w1", t0, lease, 10)
            .await
            .unwrap()),
        vec![done.id.clone()]
    );
    assert!(store.complete_job(&done.id, "w1", t0).await.unwrap());

    let t1 = t0 + Duration::seconds(10);
    let d = store
        .disconnect_connection(&ws.id, &conn.id, disconnected_event(&ws.id, &conn.id), t1)
        .await
        .unwrap();
    assert!(d.changed);
    assert_eq!(d.jobs_cancelled, 3);
    assert_eq!(d.connection.id, conn.id);
    assert_eq!(d.connection.status, ConnectionStatus::Disconnected);
    assert_eq!(d.connection.disconnected_at, Some(t1));
    assert_eq!(d.connection.name, conn.name);
    assert_eq!(d.connection.credits, conn.credits);
    assert_eq!(
        store.get_connection(&ws.id, &conn.id).await.unwrap(),
        Some(d.connection.clone())
    );

    let lookup = store
        .find_token_by_hash(&token.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lookup.token.revoked_at, Some(t1));
    assert_eq!(lookup.connection_status, ConnectionStatus::Disconnected);
    let other_lookup = store
        .find_token_by_hash(&other_token.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other_lookup.token.revoked_at, None);
    assert_eq!(
        store.credit_usage(&ws.id).await.unwrap(),
        CreditUsage::new(10, 2)
    );

    for j in [&queued, &future, &running] {
        let job = store.get_job(&j.id).await.unwrap().unwrap();
        assert_eq!(job.state, JobState::Cancelled, "{}", j.kind);
        assert_eq!(job.finished_at, Some(t1));
    }
    let done_job = store.get_job(&done.id).await.unwrap().unwrap();
    assert_eq!(
        (done_job.state, done_job.finished_at),
        (JobState::Done, Some(t0))
    );
    assert_eq!(
        store.get_job(&others.id).await.unwrap().unwrap().state,
        JobState::Queued
    );
    // The worker that held the cancelled job can no longer finish or requeue it.
    assert!(!store.complete_job(&running.id, "w1", t1).await.unwrap());
    assert!(!store
        .retry_job(&running.id, "w1", t1, "late")
        .await
        .unwrap());
    assert_eq!(
        store.get_job(&running.id).await.unwrap().unwrap().state,
        JobState::Cancelled
    );
    // Cancelled jobs are never claimed again; the other connection's job still is.
    let later = t0 + Duration::days(1);
    let claimed = store
        .claim_jobs(&["sync", "probe", "webhook"], "w2", later, lease, 10)
        .await
        .unwrap();
    assert_eq!(ids(&claimed), vec![others.id.clone()]);

    let t2 = t1 + Duration::seconds(10);
    let again = store
        .disconnect_connection(&ws.id, &conn.id, disconnected_event(&ws.id, &conn.id), t2)
        .await
        .unwrap();
    assert!(!again.changed);
    assert_eq!(again.jobs_cancelled, 0);
    assert_eq!(again.connection, d.connection);
    assert_eq!(
        store.get_connection(&ws.id, &conn.id).await.unwrap(),
        Some(d.connection)
    );
    let lookup = store
        .find_token_by_hash(&token.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lookup.token.revoked_at, Some(t1));
    assert_eq!(
        store.credit_usage(&ws.id).await.unwrap(),
        CreditUsage::new(10, 2)
    );

    assert_err!(
        store
            .disconnect_connection(
                &ws.id,
                &new_id(prefix::CONNECTION),
                disconnected_event(&ws.id, &new_id(prefix::CONNECTION)),
                t2
            )
            .await,
        StoreError::NotFound
    );
}

/// Synced data can only be deleted once the connection is disconnected; the connection itself
/// stays readable.
pub async fn delete_connection_data_requires_disconnect(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let (conn, _) = connection(&store, &ws, 1).await;
    let now = time::now();
    assert_err!(
        store.delete_connection_data(&ws.id, &conn.id, now).await,
        StoreError::NotDisconnected
    );
    assert_err!(
        store
            .delete_connection_data(&ws.id, &new_id(prefix::CONNECTION), now)
            .await,
        StoreError::NotFound
    );
    let disconnected = store
        .disconnect_connection(&ws.id, &conn.id, disconnected_event(&ws.id, &conn.id), now)
        .await
        .unwrap()
        .connection;
    assert_eq!(
        store
            .delete_connection_data(&ws.id, &conn.id, now)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .delete_connection_data(&ws.id, &conn.id, now)
            .await
            .unwrap(),
        0
    );
    let after = store
        .get_connection(&ws.id, &conn.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.status, ConnectionStatus::Disconnected);
    assert_eq!(after.disconnected_at, disconnected.disconnected_at);
}

// --- lists -------------------------------------------------------------------------------

/// Pages are newest first by id, at most `limit` long, chained by `next_after`, and together
/// hold every connection of the workspace exactly once.
pub async fn list_connections_paginates_newest_first(store: Arc<dyn Store>) {
    let ws = workspace(&store, 100).await;
    let other = workspace(&store, 100).await;
    let mut expected = Vec::new();
    for _ in 0..7 {
        expected.push(connection(&store, &ws, 1).await.0.id);
        connection(&store, &other, 1).await;
    }
    expected.sort_by(|a, b| b.cmp(a));

    let all = ConnectionFilter::default();
    let first = store
        .list_connections(&ws.id, &all, &PageRequest::first(3))
        .await
        .unwrap();
    assert_eq!(ids(&first.items), expected[0..3]);
    assert_eq!(first.next_after.as_deref(), Some(expected[2].as_str()));
    let second = store
        .list_connections(
            &ws.id,
            &all,
            &PageRequest {
                after: first.next_after,
                limit: 3,
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&second.items), expected[3..6]);
    assert_eq!(second.next_after.as_deref(), Some(expected[5].as_str()));
    let last = store
        .list_connections(
            &ws.id,
            &all,
            &PageRequest {
                after: second.next_after,
                limit: 3,
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&last.items), expected[6..]);
    assert_eq!(last.next_after, None);

    // A page that ends exactly at the last item says there is nothing more.
    let whole = store
        .list_connections(&ws.id, &all, &PageRequest::first(7))
        .await
        .unwrap();
    assert_eq!(ids(&whole.items), expected);
    assert_eq!(whole.next_after, None);
    for size in [1, 2, 4, 100] {
        assert_eq!(
            list_ids(&store, &ws.id, &all, size).await,
            expected,
            "page size {size}"
        );
    }
}

/// Status, connector and metadata filters combine with AND; each metadata pair matches the
/// value under exactly that key (whatever characters the key holds); paging a filtered list
/// returns each match once.
pub async fn list_connections_filters(store: Arc<dyn Store>) {
    let ws = workspace(&store, 100).await;
    let make = |connector: &'static str, status: ConnectionStatus, metadata: serde_json::Value| {
        let store = store.clone();
        let ws = ws.clone();
        async move {
            let mut input = connection_input(&ws, connector, 1);
            input.status = status;
            input.metadata = metadata;
            let token = token_input(&input.id, &ws.id, input.created_at);
            create_conn(&store, input, token).await.unwrap().id
        }
    };
    use ConnectionStatus::*;
    let c1 = make(
        "maintainx",
        Active,
        json!({"team": "north", "env": "prod", "a.b c": "x"}),
    )
    .await;
    let c2 = make("maintainx", Pending, json!({"team": "north", "env": "dev"})).await;
    let c3 = make("maximo", Active, json!({"team": "south", "env": "prod"})).await;
    let c4 = make("maximo", Active, json!({"team": "north"})).await;
    let c5 = make(
        "sap_s4hana",
        Offline,
        json!({"team": "north", "env": "prod"}),
    )
    .await;
    store
        .disconnect_connection(&ws.id, &c4, disconnected_event(&ws.id, &c4), time::now())
        .await
        .unwrap();

    let md = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let cases: Vec<(ConnectionFilter, Vec<&String>)> = vec![
        (ConnectionFilter::default(), vec![&c1, &c2, &c3, &c4, &c5]),
        (
            ConnectionFilter {
                status: Some(Active),
                ..Default::default()
            },
            vec![&c1, &c3],
        ),
        (
            ConnectionFilter {
                status: Some(Disconnected),
                ..Default::default()
            },
            vec![&c4],
        ),
        (
            ConnectionFilter {
                status: Some(Syncing),
                ..Default::default()
            },
            vec![],
        ),
        (
            ConnectionFilter {
                connector: Some("maximo".into()),
                ..Default::default()
            },
            vec![&c3, &c4],
        ),
        (
            ConnectionFilter {
                connector: Some("tryton".into()),
                ..Default::default()
            },
            vec![],
        ),
        (
            ConnectionFilter {
                metadata: md(&[("team", "north")]),
                ..Default::default()
            },
            vec![&c1, &c2, &c4, &c5],
        ),
        (
            ConnectionFilter {
                metadata: md(&[("team", "north"), ("env", "prod")]),
                ..Default::default()
            },
            vec![&c1, &c5],
        ),
        (
            ConnectionFilter {
                metadata: md(&[("a.b c", "x")]),
                ..Default::default()
            },
            vec![&c1],
        ),
        (
            ConnectionFilter {
                metadata: md(&[("team", "nowhere")]),
                ..Default::default()
            },
            vec![],
        ),
        // The value must sit under the named key, not under any key.
        (
            ConnectionFilter {
                metadata: md(&[("env", "north")]),
                ..Default::default()
            },
            vec![],
        ),
        (
            ConnectionFilter {
                status: Some(Active),
                connector: Some("maintainx".into()),
                metadata: md(&[("team", "north")]),
            },
            vec![&c1],
        ),
        (
            ConnectionFilter {
                status: Some(Active),
                metadata: md(&[("env", "prod")]),
                ..Default::default()
            },
            vec![&c1, &c3],
        ),
    ];
    for (filter, matching) in cases {
        let mut expected: Vec<String> = matching.into_iter().cloned().collect();
        expected.sort_by(|a, b| b.cmp(a));
        for size in [1, 2, 50] {
            assert_eq!(
                list_ids(&store, &ws.id, &filter, size).await,
                expected,
                "{filter:?}, page size {size}"
            );
        }
    }
}

// --- jobs --------------------------------------------------------------------------------

/// A dedupe key admits one queued-or-running job; once that job is done the key is free.
pub async fn jobs_dedupe_while_queued_or_running(store: Arc<dyn Store>) {
    let t0 = time::now();
    let lease = Duration::minutes(5);
    let mut first = job("sync", t0);
    first.workspace_id = Some(new_id(prefix::WORKSPACE));
    first.connection_id = Some(new_id(prefix::CONNECTION));
    first.payload = json!({"entities": ["assets", "work_orders"], "full": true});
    first.dedupe_key = Some("sync:con_1".into());
    assert!(store.enqueue_job(first.clone()).await.unwrap());
    assert_eq!(
        store.get_job(&first.id).await.unwrap(),
        Some(Job {
            id: first.id.clone(),
            kind: "sync".into(),
            workspace_id: first.workspace_id.clone(),
            connection_id: first.connection_id.clone(),
            payload: first.payload.clone(),
            state: JobState::Queued,
            run_at: t0,
            attempts: 0,
            lease_owner: None,
            lease_expires_at: None,
            last_error: None,
            dedupe_key: Some("sync:con_1".into()),
            created_at: first.created_at,
            finished_at: None,
        })
    );

    let dup = |kind: &str| NewJob {
        id: new_id(prefix::JOB),
        kind: kind.into(),
        ..first.clone()
    };
    let queued_dup = dup("sync");
    assert!(!store.enqueue_job(queued_dup.clone()).await.unwrap());
    assert_eq!(store.get_job(&queued_dup.id).await.unwrap(), None);

    assert_eq!(
        ids(&store
            .claim_jobs(&["sync"], "w1", t0, lease, 10)
            .await
            .unwrap()),
        vec![first.id.clone()]
    );
    let running_dup = dup("sync");
    assert!(!store.enqueue_job(running_dup.clone()).await.unwrap());
    assert_eq!(store.get_job(&running_dup.id).await.unwrap(), None);

    // A retried job is queued again and still holds its key.
    assert!(store.retry_job(&first.id, "w1", t0, "boom").await.unwrap());
    assert!(!store.enqueue_job(dup("sync")).await.unwrap());
    assert_eq!(
        store
            .claim_jobs(&["sync"], "w1", t0, lease, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store.complete_job(&first.id, "w1", t0).await.unwrap());

    let after_done = dup("sync");
    assert!(store.enqueue_job(after_done.clone()).await.unwrap());
    assert_eq!(
        store.get_job(&after_done.id).await.unwrap().unwrap().state,
        JobState::Queued
    );
    assert!(!store.enqueue_job(dup("sync")).await.unwrap());

    // Other keys, and jobs without a key, are independent.
    let mut other_key = dup("sync");
    other_key.dedupe_key = Some("sync:con_2".into());
    assert!(store.enqueue_job(other_key).await.unwrap());
    let keyless = NewJob {
        dedupe_key: None,
        ..dup("probe")
    };
    assert!(store.enqueue_job(keyless.clone()).await.unwrap());
    assert!(store
        .enqueue_job(NewJob {
            id: new_id(prefix::JOB),
            ..keyless
        })
        .await
        .unwrap());
    assert_eq!(
        store
            .claim_jobs(&["probe"], "w1", t0, lease, 10)
            .await
            .unwrap()
            .len(),
        2
    );
}

/// Only due jobs of the asked kinds are claimed, oldest `run_at` first, at most `limit`, and
/// each claim sets the lease and counts an attempt.
pub async fn claim_respects_run_at_kinds_and_limit(store: Arc<dyn Store>) {
    let t0 = time::now();
    let lease = Duration::hours(1);
    let a1 = job("a", t0 - Duration::seconds(3));
    let a2 = job("a", t0 - Duration::seconds(2));
    let a3 = job("a", t0 - Duration::seconds(1));
    let a_future = job("a", t0 + Duration::seconds(60));
    let b1 = job("b", t0 - Duration::seconds(5));
    let c1 = job("c", t0 - Duration::seconds(10));
    // Enqueued out of order: claims follow run_at, not insertion.
    for j in [&a3, &a_future, &c1, &a1, &b1, &a2] {
        assert!(store.enqueue_job(j.clone()).await.unwrap());
    }

    assert!(store
        .claim_jobs(&[], "w1", t0, lease, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .claim_jobs(&["c"], "w1", t0, lease, 0)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .claim_jobs(&["nothing"], "w1", t0, lease, 10)
        .await
        .unwrap()
        .is_empty());

    let claimed = store.claim_jobs(&["a"], "w1", t0, lease, 2).await.unwrap();
    assert_eq!(ids(&claimed), vec![a1.id.clone(), a2.id.clone()]);
    for j in &claimed {
        assert_eq!(j.state, JobState::Running);
        assert_eq!(j.attempts, 1);
        assert_eq!(j.lease_owner.as_deref(), Some("w1"));
        assert_eq!(j.lease_expires_at, Some(t0 + lease));
        assert_eq!(store.get_job(&j.id).await.unwrap().as_ref(), Some(j));
    }
    assert_eq!(
        ids(&store.claim_jobs(&["a"], "w1", t0, lease, 10).await.unwrap()),
        vec![a3.id.clone()]
    );
    // a_future is not due yet.
    assert!(store
        .claim_jobs(&["a"], "w1", t0, lease, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.get_job(&a_future.id).await.unwrap().unwrap().state,
        JobState::Queued
    );

    // run_at <= now: due at exactly its run_at; several kinds at once, still oldest first.
    let t1 = t0 + Duration::seconds(60);
    let claimed = store
        .claim_jobs(&["a", "b"], "w2", t1, lease, 10)
        .await
        .unwrap();
    assert_eq!(ids(&claimed), vec![b1.id.clone(), a_future.id.clone()]);
    assert!(claimed
        .iter()
        .all(|j| j.lease_owner.as_deref() == Some("w2") && j.lease_expires_at == Some(t1 + lease)));

    let c = store.get_job(&c1.id).await.unwrap().unwrap();
    assert_eq!(
        (c.state, c.attempts, c.lease_owner),
        (JobState::Queued, 0, None)
    );
}

/// A live lease keeps a job from other workers; once it has expired (strictly), another worker
/// reclaims it with one more attempt, and the first worker's lease is gone.
pub async fn expired_leases_are_reclaimed(store: Arc<dyn Store>) {
    let t0 = time::now();
    let lease = Duration::seconds(30);
    let j = job("sync", t0);
    store.enqueue_job(j.clone()).await.unwrap();
    let first = store
        .claim_jobs(&["sync"], "w1", t0, lease, 10)
        .await
        .unwrap();
    assert_eq!(ids(&first), vec![j.id.clone()]);
    assert_eq!(first[0].attempts, 1);

    assert!(store
        .claim_jobs(&["sync"], "w2", t0 + Duration::seconds(10), lease, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .claim_jobs(&["sync"], "w2", t0 + lease, lease, 10)
        .await
        .unwrap()
        .is_empty());

    let t1 = t0 + Duration::seconds(31);
    let second = store
        .claim_jobs(&["sync"], "w2", t1, lease, 10)
        .await
        .unwrap();
    assert_eq!(ids(&second), vec![j.id.clone()]);
    assert_eq!(second[0].attempts, 2);
    assert_eq!(second[0].lease_owner.as_deref(), Some("w2"));
    assert_eq!(second[0].lease_expires_at, Some(t1 + lease));

    assert!(!store.complete_job(&j.id, "w1", t1).await.unwrap());
    assert!(!store
        .retry_job(&j.id, "w1", t1, "stale worker")
        .await
        .unwrap());
    let still = store.get_job(&j.id).await.unwrap().unwrap();
    assert_eq!(
        (still.state, still.lease_owner.as_deref(), still.last_error),
        (JobState::Running, Some("w2"), None)
    );

    let t2 = t1 + Duration::seconds(5);
    assert!(store.complete_job(&j.id, "w2", t2).await.unwrap());
    let done = store.get_job(&j.id).await.unwrap().unwrap();
    assert_eq!((done.state, done.finished_at), (JobState::Done, Some(t2)));
    // A finished job is never claimed again, however late.
    assert!(store
        .claim_jobs(&["sync"], "w3", t0 + Duration::days(1), lease, 10)
        .await
        .unwrap()
        .is_empty());
}

/// A heartbeat extends the holder's lease, so a long job is not taken over while its worker is
/// alive; nobody else can extend it, and an ended job has no lease to extend.
pub async fn heartbeats_keep_a_lease(store: Arc<dyn Store>) {
    let t0 = time::now();
    let lease = Duration::seconds(30);
    let j = job("sync", t0);
    store.enqueue_job(j.clone()).await.unwrap();
    assert_eq!(
        ids(&store
            .claim_jobs(&["sync"], "w1", t0, lease, 10)
            .await
            .unwrap()),
        vec![j.id.clone()]
    );
    assert!(store
        .extend_lease(&j.id, "w1", t0 + Duration::seconds(90))
        .await
        .unwrap());
    assert!(
        !store
            .extend_lease(&j.id, "w2", t0 + Duration::days(1))
            .await
            .unwrap(),
        "not the holder"
    );
    // Past the first lease, within the extended one: not claimable.
    assert!(store
        .claim_jobs(&["sync"], "w2", t0 + Duration::seconds(60), lease, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .get_job(&j.id)
            .await
            .unwrap()
            .unwrap()
            .lease_expires_at,
        Some(t0 + Duration::seconds(90))
    );
    // Past the extended lease: a crashed holder's job is taken over.
    let taken = store
        .claim_jobs(&["sync"], "w2", t0 + Duration::seconds(91), lease, 10)
        .await
        .unwrap();
    assert_eq!(ids(&taken), vec![j.id.clone()]);
    assert!(
        !store
            .extend_lease(&j.id, "w1", t0 + Duration::days(1))
            .await
            .unwrap(),
        "the lease was lost"
    );
    assert!(store
        .complete_job(&j.id, "w2", t0 + Duration::seconds(92))
        .await
        .unwrap());
    assert!(
        !store
            .extend_lease(&j.id, "w2", t0 + Duration::days(1))
            .await
            .unwrap(),
        "ended"
    );
}

/// Only the worker holding the lease of a running job can complete or retry it; a retry
/// requeues the job for later with the error and no lease.
pub async fn complete_and_retry_need_the_lease(store: Arc<dyn Store>) {
    let t0 = time::now();
    let lease = Duration::minutes(5);
    let j = job("deliver", t0);
    store.enqueue_job(j.clone()).await.unwrap();
    assert!(
        !store.complete_job(&j.id, "w1", t0).await.unwrap(),
        "queued, not claimed"
    );
    assert!(
        !store.retry_job(&j.id, "w1", t0, "x").await.unwrap(),
        "queued, not claimed"
    );

    store
        .claim_jobs(&["deliver"], "w1", t0, lease, 1)
        .await
        .unwrap();
    assert!(!store.retry_job(&j.id, "w2", t0, "not mine").await.unwrap());
    assert!(!store.complete_job(&j.id, "w2", t0).await.unwrap());
    let held = store.get_job(&j.id).await.unwrap().unwrap();
    assert_eq!(
        (held.state, held.lease_owner.as_deref()),
        (JobState::Running, Some("w1"))
    );

    let later = t0 + Duration::minutes(10);
    assert!(store
        .retry_job(&j.id, "w1", later, "upstream 503")
        .await
        .unwrap());
    let requeued = store.get_job(&j.id).await.unwrap().unwrap();
    assert_eq!(requeued.state, JobState::Queued);
    assert_eq!(requeued.run_at, later);
    assert_eq!(requeued.last_error.as_deref(), Some("upstream 503"));
    assert_eq!(
        (requeued.lease_owner, requeued.lease_expires_at),
        (None, None)
    );
    assert_eq!(requeued.attempts, 1);
    assert_eq!(requeued.finished_at, None);
    assert!(!store.retry_job(&j.id, "w1", later, "twice").await.unwrap());
    assert!(!store.complete_job(&j.id, "w1", later).await.unwrap());

    // Not due before its new run_at.
    assert!(store
        .claim_jobs(&["deliver"], "w3", t0 + Duration::minutes(9), lease, 1)
        .await
        .unwrap()
        .is_empty());
    let again = store
        .claim_jobs(&["deliver"], "w3", later, lease, 1)
        .await
        .unwrap();
    assert_eq!(ids(&again), vec![j.id.clone()]);
    assert_eq!(again[0].attempts, 2);
    assert!(!store.complete_job(&j.id, "w1", later).await.unwrap());
    assert!(store.complete_job(&j.id, "w3", later).await.unwrap());
    assert!(
        !store.complete_job(&j.id, "w3", later).await.unwrap(),
        "already done"
    );
    assert_eq!(
        store.get_job(&j.id).await.unwrap().unwrap().state,
        JobState::Done
    );

    let unknown = new_id(prefix::JOB);
    assert!(!store.complete_job(&unknown, "w1", t0).await.unwrap());
    assert!(!store.retry_job(&unknown, "w1", t0, "x").await.unwrap());
    assert_eq!(store.get_job(&unknown).await.unwrap(), None);
}

/// Several workers claiming in parallel get disjoint sets of jobs that together are all jobs.
pub async fn concurrent_claimers_never_share_a_job(store: Arc<dyn Store>) {
    let t0 = time::now();
    let mut enqueued = HashSet::new();
    for _ in 0..40 {
        let j = job("work", t0);
        enqueued.insert(j.id.clone());
        assert!(store.enqueue_job(j).await.unwrap());
    }
    let mut workers = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        workers.push(tokio::spawn(async move {
            let worker = format!("worker-{w}");
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .claim_jobs(&["work"], &worker, t0, Duration::minutes(5), 3)
                    .await
                    .unwrap();
                if batch.is_empty() {
                    break mine;
                }
                for j in batch {
                    assert_eq!(j.lease_owner.as_deref(), Some(worker.as_str()));
                    assert!(
                        store.complete_job(&j.id, &worker, t0).await.unwrap(),
                        "{} lost",
                        j.id
                    );
                    mine.push(j.id);
                }
            }
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for w in workers {
        for id in w.await.unwrap() {
            total += 1;
            assert!(seen.insert(id.clone()), "{id} claimed twice");
        }
    }
    assert_eq!(total, 40);
    assert_eq!(seen, enqueued);
    for id in &enqueued {
        let j = store.get_job(id).await.unwrap().unwrap();
        assert_eq!((j.state, j.attempts), (JobState::Done, 1));
    }
}

// --- request logs ------------------------------------------------------------------------

/// Logs insert in batches, list newest first (by request id) within one workspace with
/// filters combined by AND, read back by id only in their workspace, and purge by age.
pub async fn request_logs_insert_filter_get_and_purge(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await.id;
    let b = workspace(&store, 10).await.id;
    let (c1, c2) = (new_id(prefix::CONNECTION), new_id(prefix::CONNECTION));
    let t0 = time::now();
    let ago = |m: i64| t0 - Duration::minutes(m);
    let mut full = request_log(Some(&a), Some(&c1), 500, ago(5));
    full.request_body = Some(r#"{"name":"pump"}"#.into());
    full.response_body = Some(r#"{"error":{}}"#.into());
    full.error_code = Some("UPSTREAM_ERROR".into());
    full.request_headers =
        json!({"content-type": "application/json", "authorization": "[redacted]"});
    let logs_a = vec![
        full,
        request_log(Some(&a), Some(&c1), 200, ago(4)),
        request_log(Some(&a), Some(&c2), 404, ago(3)),
        request_log(Some(&a), Some(&c1), 200, ago(2)),
        request_log(Some(&a), None, 201, ago(1)),
        request_log(Some(&a), Some(&c2), 200, t0),
    ];
    let logs_b = vec![
        request_log(Some(&b), Some(&c1), 200, ago(10)),
        request_log(Some(&b), None, 200, t0),
    ];
    let anonymous = request_log(None, None, 401, ago(10));
    let mut batch = logs_a.clone();
    batch.extend(logs_b.clone());
    batch.push(anonymous.clone());
    store.insert_request_logs(&batch).await.unwrap();
    store.insert_request_logs(&[]).await.unwrap();

    let newest_first = |logs: Vec<&RequestLog>| {
        let mut v: Vec<RequestLog> = logs.into_iter().cloned().collect();
        v.sort_by(|x, y| y.request_id.cmp(&x.request_id));
        v
    };
    let list = |filter: RequestLogFilter, size: u32| {
        let store = store.clone();
        let a = a.clone();
        async move {
            let mut out = Vec::new();
            let mut page = PageRequest::first(size);
            loop {
                let p = store.list_request_logs(&a, &filter, &page).await.unwrap();
                assert!(p.items.len() <= size as usize);
                out.extend(p.items);
                match p.next_after {
                    Some(after) => {
                        assert_eq!(Some(&after), out.last().map(|l: &RequestLog| &l.request_id));
                        page = PageRequest {
                            after: Some(after),
                            limit: size,
                        };
                    }
                    None => break out,
                }
            }
        }
    };

    let everything = newest_first(logs_a.iter().collect());
    assert_eq!(list(RequestLogFilter::default(), 100).await, everything);
    assert_eq!(list(RequestLogFilter::default(), 4).await, everything);
    let first = store
        .list_request_logs(&a, &RequestLogFilter::default(), &PageRequest::first(4))
        .await
        .unwrap();
    assert_eq!(first.items, everything[..4]);
    assert_eq!(
        first.next_after.as_deref(),
        Some(everything[3].request_id.as_str())
    );

    let by =
        |f: &dyn Fn(&RequestLog) -> bool| newest_first(logs_a.iter().filter(|l| f(l)).collect());
    let cases = vec![
        (
            RequestLogFilter {
                status: Some(200),
                ..Default::default()
            },
            by(&|l| l.status == 200),
        ),
        (
            RequestLogFilter {
                connection_id: Some(c1.clone()),
                ..Default::default()
            },
            by(&|l| l.connection_id.as_deref() == Some(c1.as_str())),
        ),
        (
            RequestLogFilter {
                request_id: Some(logs_a[2].request_id.clone()),
                ..Default::default()
            },
            vec![logs_a[2].clone()],
        ),
        (
            RequestLogFilter {
                request_id: Some(logs_b[0].request_id.clone()),
                ..Default::default()
            },
            vec![],
        ),
        // `since` is inclusive.
        (
            RequestLogFilter {
                since: Some(ago(2)),
                ..Default::default()
            },
            by(&|l| l.created_at >= ago(2)),
        ),
        (
            RequestLogFilter {
                connection_id: Some(c1.clone()),
                status: Some(200),
                since: Some(ago(3)),
                ..Default::default()
            },
            vec![logs_a[3].clone()],
        ),
        (
            RequestLogFilter {
                status: Some(418),
                ..Default::default()
            },
            vec![],
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(list(filter.clone(), 1).await, expected, "{filter:?}");
        assert_eq!(list(filter.clone(), 50).await, expected, "{filter:?}");
    }

    assert_eq!(
        store
            .get_request_log(&a, &logs_a[0].request_id)
            .await
            .unwrap(),
        Some(logs_a[0].clone())
    );
    assert_eq!(
        store
            .get_request_log(&b, &logs_a[0].request_id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .get_request_log(&b, &logs_b[1].request_id)
            .await
            .unwrap(),
        Some(logs_b[1].clone())
    );
    assert_eq!(
        store
            .get_request_log(&a, &new_id(prefix::REQUEST))
            .await
            .unwrap(),
        None
    );

    // Strictly older than `before`, in every workspace (and none).
    assert_eq!(store.purge_request_logs(ago(3)).await.unwrap(), 4);
    assert_eq!(
        list(RequestLogFilter::default(), 100).await,
        newest_first(logs_a[2..].iter().collect())
    );
    assert_eq!(
        store
            .get_request_log(&b, &logs_b[0].request_id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .get_request_log(&b, &logs_b[1].request_id)
            .await
            .unwrap(),
        Some(logs_b[1].clone())
    );
    assert_eq!(store.purge_request_logs(ago(3)).await.unwrap(), 0);
}

/// A batch with one bad row (a duplicate request id) writes none of its rows.
pub async fn request_log_batches_are_atomic(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await.id;
    let t0 = time::now();
    let existing = request_log(Some(&ws), None, 200, t0);
    store
        .insert_request_logs(std::slice::from_ref(&existing))
        .await
        .unwrap();
    let fresh = request_log(Some(&ws), None, 201, t0);
    let dup = RequestLog {
        status: 500,
        ..existing.clone()
    };
    assert_err!(
        store.insert_request_logs(&[fresh.clone(), dup]).await,
        StoreError::Conflict(_)
    );
    assert_eq!(
        store.get_request_log(&ws, &fresh.request_id).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .get_request_log(&ws, &existing.request_id)
            .await
            .unwrap(),
        Some(existing)
    );
}

// --- connection events and lifecycle ------------------------------------------------------

/// `connection.reauthorized` is appended only when new credentials end a
/// `requires_reauthorization`; other statuses, repeats and refusals append nothing.
pub async fn replace_credentials_appends_reauthorized_only_from_requires_reauthorization(
    store: Arc<dyn Store>,
) {
    let ws = workspace(&store, 10).await;
    let reauth =
        connection_with_status(&store, &ws, ConnectionStatus::RequiresReauthorization).await;
    let active = connection_with_status(&store, &ws, ConnectionStatus::Active).await;
    let gone = connection_with_status(&store, &ws, ConnectionStatus::Active).await;
    let t1 = time::now();
    let reauthorized = |e: &[Event]| -> Vec<Event> {
        e.iter()
            .filter(|e| e.event_type == "connection.reauthorized")
            .cloned()
            .collect()
    };

    let ev = reauthorized_event(&ws.id, &reauth.id);
    let updated = store
        .replace_credentials(&ws.id, &reauth.id, b"v2".to_vec(), ev.clone(), t1)
        .await
        .unwrap();
    assert_eq!(updated.status, ConnectionStatus::Active);
    assert_eq!(
        events_after_creation(&store, &ws.id, 10).await,
        vec![ev.clone()]
    );

    // Already active again: the credentials change, no second event.
    let again = store
        .replace_credentials(
            &ws.id,
            &reauth.id,
            b"v3".to_vec(),
            reauthorized_event(&ws.id, &reauth.id),
            t1,
        )
        .await
        .unwrap();
    assert_eq!(again.sealed_credentials, b"v3".to_vec());
    store
        .replace_credentials(
            &ws.id,
            &active.id,
            b"v4".to_vec(),
            reauthorized_event(&ws.id, &active.id),
            t1,
        )
        .await
        .unwrap();
    let disconnect = disconnected_event(&ws.id, &gone.id);
    store
        .disconnect_connection(&ws.id, &gone.id, disconnect.clone(), t1)
        .await
        .unwrap();
    assert_err!(
        store
            .replace_credentials(
                &ws.id,
                &gone.id,
                b"v5".to_vec(),
                reauthorized_event(&ws.id, &gone.id),
                t1
            )
            .await,
        StoreError::Disconnected
    );
    let events = events_after_creation(&store, &ws.id, 10).await;
    assert_eq!(reauthorized(&events), vec![ev]);
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[1], disconnect);
}

/// A transition happens only from one of the listed statuses, and its event with it: a second
/// caller with the same `from` gets `None` and appends nothing, even when racing.
pub async fn transition_connection_happens_once(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let conn = connection_with_status(&store, &ws, ConnectionStatus::Pending).await;
    let t1 = conn.created_at + Duration::seconds(1);
    let ev = event_for(&ws.id, &conn.id, "connection.active");
    let moved = store
        .transition_connection(
            &conn.id,
            &[ConnectionStatus::Pending],
            ConnectionStatus::Active,
            Some(ev.clone()),
            t1,
        )
        .await
        .unwrap();
    let expected = Connection {
        status: ConnectionStatus::Active,
        updated_at: t1,
        ..conn.clone()
    };
    assert_eq!(moved, Some(expected.clone()));
    let t2 = t1 + Duration::seconds(1);
    let second = store
        .transition_connection(
            &conn.id,
            &[ConnectionStatus::Pending],
            ConnectionStatus::Active,
            Some(event_for(&ws.id, &conn.id, "connection.active")),
            t2,
        )
        .await
        .unwrap();
    assert_eq!(second, None);
    assert_eq!(
        store.get_connection(&ws.id, &conn.id).await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        events_after_creation(&store, &ws.id, 10).await,
        vec![ev.clone()]
    );

    // Several `from` statuses; no event given, none written.
    let offline = store
        .transition_connection(
            &conn.id,
            &[ConnectionStatus::Syncing, ConnectionStatus::Active],
            ConnectionStatus::Offline,
            None,
            t2,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(offline.status, ConnectionStatus::Offline);
    assert_eq!(offline.updated_at, t2);

    // Eight racing callers: exactly one wins, exactly one event.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let ev = event_for(&ws.id, &conn.id, "connection.back_online");
        let id = conn.id.clone();
        tasks.push(tokio::spawn(async move {
            store
                .transition_connection(
                    &id,
                    &[ConnectionStatus::Offline],
                    ConnectionStatus::Active,
                    Some(ev),
                    time::now(),
                )
                .await
                .unwrap()
        }));
    }
    let mut winners = 0;
    for t in tasks {
        if t.await.unwrap().is_some() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
    let filter = EventFilter {
        event_type: Some("connection.back_online".into()),
        ..EventFilter::default()
    };
    assert_eq!(all_events(&store, &ws.id, &filter, 10).await.len(), 1);
    assert_eq!(
        store
            .get_connection(&ws.id, &conn.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ConnectionStatus::Active
    );
    assert_eq!(
        store
            .transition_connection(
                &new_id(prefix::CONNECTION),
                &[ConnectionStatus::Active],
                ConnectionStatus::Offline,
                None,
                t2
            )
            .await
            .unwrap(),
        None
    );
}

/// Disconnecting cancels the connection's running sync runs (only those) and appends its event
/// once; the idempotent second call appends nothing.
pub async fn disconnect_cancels_sync_runs_and_appends_its_event_once(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let (conn, _) = connection(&store, &ws, 1).await;
    let (other, _) = connection(&store, &ws, 1).await;
    let assets = store
        .start_sync_run(run_input(&conn, Entity::Assets, SyncMode::Initial))
        .await
        .unwrap();
    let locations = store
        .start_sync_run(run_input(&conn, Entity::Locations, SyncMode::Full))
        .await
        .unwrap();
    let vendors = store
        .start_sync_run(run_input(&conn, Entity::Vendors, SyncMode::Initial))
        .await
        .unwrap();
    let finished = store
        .finish_sync_run(
            &vendors.id,
            run_end(RunStatus::Completed, Some("c1"), None, time::now()),
        )
        .await
        .unwrap();
    let others = store
        .start_sync_run(run_input(&other, Entity::Assets, SyncMode::Initial))
        .await
        .unwrap();

    let t1 = time::now() + Duration::seconds(1);
    let ev = disconnected_event(&ws.id, &conn.id);
    let d = store
        .disconnect_connection(&ws.id, &conn.id, ev.clone(), t1)
        .await
        .unwrap();
    assert!(d.changed);
    for run in [&assets, &locations] {
        let now = store.get_sync_run(&run.id).await.unwrap().unwrap();
        assert_eq!(
            now,
            SyncRun {
                status: RunStatus::Cancelled,
                finished_at: Some(t1),
                ..(*run).clone()
            }
        );
    }
    assert_eq!(
        store.get_sync_run(&vendors.id).await.unwrap(),
        Some(finished)
    );
    assert_eq!(store.get_sync_run(&others.id).await.unwrap(), Some(others));
    assert!(store
        .sync_states(&conn.id)
        .await
        .unwrap()
        .iter()
        .all(|s| s.running_run_id.is_none()));
    let filter = EventFilter {
        event_type: Some("connection.disconnected".into()),
        ..EventFilter::default()
    };
    assert_eq!(
        all_events(&store, &ws.id, &filter, 10).await,
        vec![ev.clone()]
    );

    let again = store
        .disconnect_connection(
            &ws.id,
            &conn.id,
            disconnected_event(&ws.id, &conn.id),
            t1 + Duration::seconds(1),
        )
        .await
        .unwrap();
    assert!(!again.changed);
    assert_eq!(all_events(&store, &ws.id, &filter, 10).await, vec![ev]);
    assert_eq!(events_after_creation(&store, &ws.id, 10).await.len(), 1);
}

/// The scheduler sees every connection not disconnected, across workspaces; settings and
/// mappings are replaced independently.
pub async fn live_connections_and_connection_settings(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let b = workspace(&store, 10).await;
    let (a1, _) = connection(&store, &a, 1).await;
    let a2 = connection_with_status(&store, &a, ConnectionStatus::Pending).await;
    let (a3, _) = connection(&store, &a, 1).await;
    let (b1, _) = connection(&store, &b, 1).await;
    store
        .disconnect_connection(
            &a.id,
            &a3.id,
            disconnected_event(&a.id, &a3.id),
            time::now(),
        )
        .await
        .unwrap();
    let mut live = store.live_connections().await.unwrap();
    live.sort_by(|x, y| x.id.cmp(&y.id));
    let mut expected = vec![a1.clone(), a2, b1];
    expected.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(live, expected);

    let t1 = a1.created_at + Duration::seconds(1);
    let settings = json!({"frequency_minutes": 15, "history_days": 7, "entities": ["assets"]});
    let s1 = store
        .update_connection_settings(&a.id, &a1.id, Some(settings.clone()), None, t1)
        .await
        .unwrap();
    assert_eq!(
        s1,
        Connection {
            sync_settings: settings.clone(),
            updated_at: t1,
            ..a1.clone()
        }
    );
    let t2 = t1 + Duration::seconds(1);
    let mappings = json!({"work_orders": {"shift": "custom.Shift"}});
    let s2 = store
        .update_connection_settings(&a.id, &a1.id, None, Some(mappings.clone()), t2)
        .await
        .unwrap();
    assert_eq!(
        s2,
        Connection {
            field_mappings: mappings,
            updated_at: t2,
            ..s1
        }
    );
    assert_eq!(store.get_connection(&a.id, &a1.id).await.unwrap(), Some(s2));
    assert_err!(
        store
            .update_connection_settings(&b.id, &a1.id, Some(json!({})), None, t2)
            .await,
        StoreError::NotFound
    );
    assert_err!(
        store
            .update_connection_settings(&a.id, &new_id(prefix::CONNECTION), None, None, t2)
            .await,
        StoreError::NotFound
    );
}

/// Only queued jobs of the connection whose kind is listed are cancelled; running jobs, other
/// kinds and other connections are left alone.
pub async fn cancel_queued_jobs_only_cancels_queued_jobs_of_given_kinds(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let (conn, _) = connection(&store, &ws, 1).await;
    let (other, _) = connection(&store, &ws, 1).await;
    let t0 = time::now();
    let running = job_for(&conn, "sync", t0 - Duration::hours(1));
    let queued = job_for(&conn, "sync", t0);
    let later = job_for(&conn, "sync", t0 + Duration::hours(1));
    let probe = job_for(&conn, "probe", t0);
    let foreign = job_for(&other, "sync", t0);
    for j in [&running, &queued, &later, &probe, &foreign] {
        assert!(store.enqueue_job(j.clone()).await.unwrap());
    }
    let claimed = store
        .claim_jobs(&["sync"], "w1", t0, Duration::minutes(5), 1)
        .await
        .unwrap();
    assert_eq!(ids(&claimed), vec![running.id.clone()]);

    let t1 = t0 + Duration::seconds(1);
    assert_eq!(
        store
            .cancel_queued_jobs(&conn.id, &["sync", "webhook"], t1)
            .await
            .unwrap(),
        2
    );
    for j in [&queued, &later] {
        let job = store.get_job(&j.id).await.unwrap().unwrap();
        assert_eq!(
            (job.state, job.finished_at),
            (JobState::Cancelled, Some(t1))
        );
    }
    assert_eq!(
        store.get_job(&running.id).await.unwrap().unwrap().state,
        JobState::Running
    );
    assert_eq!(
        store.get_job(&probe.id).await.unwrap().unwrap().state,
        JobState::Queued
    );
    assert_eq!(
        store.get_job(&foreign.id).await.unwrap().unwrap().state,
        JobState::Queued
    );
    assert_eq!(
        store
            .cancel_queued_jobs(&conn.id, &["sync"], t1)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store.cancel_queued_jobs(&conn.id, &[], t1).await.unwrap(),
        0
    );
    // A cancelled job's dedupe key is free again.
    assert!(store.complete_job(&running.id, "w1", t1).await.unwrap());
}

// --- synced records ----------------------------------------------------------------------

/// New records are created, changed ones updated, equal hashes neither written nor announced,
/// reported deletions soft-delete; each change has its event, in input order, in the same
/// write, whose data is the record as reads show it.
pub async fn apply_page_creates_updates_skips_unchanged_and_deletes(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let (conn, _) = connection(&store, &ws, 1).await;
    let e = Entity::WorkOrders;
    let t0 = time::now();
    let mut a = record_write(
        &conn.id,
        e,
        "1",
        json!({"title": "Fix pump", "status": "open"}),
    );
    a.custom_fields = json!({"Shift": "B"});
    a.remote_created_at = Some(t0 - Duration::days(2));
    a.remote_updated_at = Some(t0 - Duration::days(1));
    rehash(&mut a);
    let b = record_write(&conn.id, e, "2", json!({"title": "Oil", "status": "open"}));
    let c = record_write(&conn.id, e, "3", json!({"title": "Belt", "status": "done"}));

    let out = store
        .apply_page(page_write(
            &conn,
            e,
            None,
            vec![a.clone(), b.clone(), c.clone()],
            &[],
            t0,
        ))
        .await
        .unwrap();
    assert_eq!(
        out,
        PageOutcome {
            created: 3,
            changed_ids: vec![a.id.clone(), b.id.clone(), c.id.clone()],
            ..PageOutcome::default()
        }
    );
    let stored_a = store
        .get_record(&ws.id, &conn.id, e, &a.id)
        .await
        .unwrap()
        .unwrap();
    let mut want_a = StoredRecord {
        id: a.id.clone(),
        workspace_id: ws.id.clone(),
        connection_id: conn.id.clone(),
        entity: e,
        remote_id: "1".into(),
        data: a.data.clone(),
        custom_fields: a.custom_fields.clone(),
        remote_data: a.remote_data.clone(),
        display_name: a.display_name.clone(),
        remote_created_at: a.remote_created_at,
        remote_updated_at: a.remote_updated_at,
        content_hash: a.content_hash.clone(),
        created_at: t0,
        updated_at: t0,
        deleted_at: None,
        rendered: None,
    };
    want_a.rendered = Some(record_view(&want_a).to_string());
    assert_eq!(stored_a, want_a);
    let events = events_after_creation(&store, &ws.id, 2).await;
    assert_eq!(types(&events), vec!["work_order.created"; 3]);
    for (ev, w) in events.iter().zip([&a, &b, &c]) {
        let rec = store
            .get_record(&ws.id, &conn.id, e, &w.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ev.data, record_view(&rec));
        assert!(ev.data.get("remote_data").is_none());
        assert_eq!(ev.workspace_id, ws.id);
        assert_eq!(ev.connection_id.as_deref(), Some(conn.id.as_str()));
        assert_eq!(ev.created_at, t0);
    }
    assert_eq!(events[0].data["custom_fields"]["Shift"], "B");

    // Second page: a unchanged (only its raw payload differs, which the hash ignores), b
    // updated, d new, c deleted, an unknown deletion ignored.
    let t1 = t0 + Duration::minutes(1);
    let mut a2 = a.clone();
    a2.remote_data = json!({"raw": "not part of the hash"});
    let mut b2 = b.clone();
    b2.data = json!({"title": "Oil change", "status": "done"});
    b2.display_name = Some("Oil change".into());
    rehash(&mut b2);
    let d = record_write(
        &conn.id,
        e,
        "4",
        json!({"title": "Valve", "status": "open"}),
    );
    let out = store
        .apply_page(page_write(
            &conn,
            e,
            None,
            vec![a2.clone(), b2.clone(), d.clone()],
            &["3", "999"],
            t1,
        ))
        .await
        .unwrap();
    assert_eq!(
        out,
        PageOutcome {
            created: 1,
            updated: 1,
            unchanged: 1,
            deleted: 1,
            changed_ids: vec![b.id.clone(), d.id.clone()],
        }
    );
    assert_eq!(
        store.get_record(&ws.id, &conn.id, e, &a.id).await.unwrap(),
        Some(stored_a.clone()),
        "an unchanged record is not written"
    );
    let stored_b = store
        .get_record(&ws.id, &conn.id, e, &b.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            &stored_b.data,
            &stored_b.display_name,
            &stored_b.content_hash,
            stored_b.created_at,
            stored_b.updated_at
        ),
        (&b2.data, &b2.display_name, &b2.content_hash, t0, t1)
    );
    let stored_c = store
        .get_record(&ws.id, &conn.id, e, &c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored_c.deleted_at, Some(t1));
    assert_eq!(stored_c.updated_at, t1, "a deletion is a modification");
    assert_eq!(stored_c.data, c.data);
    let stored_d = store
        .get_record(&ws.id, &conn.id, e, &d.id)
        .await
        .unwrap()
        .unwrap();

    let events = events_after_creation(&store, &ws.id, 2).await;
    assert_eq!(events.len(), 6);
    assert_eq!(
        types(&events[3..]),
        vec![
            "work_order.updated",
            "work_order.created",
            "work_order.deleted"
        ]
    );
    assert_eq!(events[3].data, record_view(&stored_b));
    assert_eq!(events[4].data, record_view(&stored_d));
    assert_eq!(events[5].data, record_view(&stored_c));
    assert_eq!(events[5].data["deleted_at"], json!(time::format(&t1)));
    assert!(events.iter().all(|e| e.created_at <= t1));

    // The same page again: nothing changes, nothing is announced; a deleted record is not
    // deleted twice.
    let t2 = t1 + Duration::minutes(1);
    let out = store
        .apply_page(page_write(
            &conn,
            e,
            None,
            vec![b2.clone(), d.clone()],
            &["3"],
            t2,
        ))
        .await
        .unwrap();
    assert_eq!(
        out,
        PageOutcome {
            unchanged: 2,
            ..PageOutcome::default()
        }
    );
    assert_eq!(events_after_creation(&store, &ws.id, 10).await.len(), 6);
    assert_eq!(
        store.get_record(&ws.id, &conn.id, e, &b.id).await.unwrap(),
        Some(stored_b)
    );

    // A deleted record that comes back is live again, created anew for readers.
    let t3 = t2 + Duration::minutes(1);
    let out = store
        .apply_page(page_write(&conn, e, None, vec![c.clone()], &[], t3))
        .await
        .unwrap();
    assert_eq!((out.created, out.changed_ids), (1, vec![c.id.clone()]));
    let back = store
        .get_record(&ws.id, &conn.id, e, &c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (back.deleted_at, back.created_at, back.updated_at),
        (None, t0, t3)
    );
    let events = events_after_creation(&store, &ws.id, 10).await;
    assert_eq!(events.len(), 7);
    assert_eq!(events[6].event_type, "work_order.created");
    assert_eq!(events[6].data, record_view(&back));

    let mut live = store.live_remote_ids(&conn.id, e).await.unwrap();
    live.sort();
    assert_eq!(live, vec!["1", "2", "3", "4"]);

    // Entities are separate: the same remote id is another record of another entity.
    let asset = record_write(&conn.id, Entity::Assets, "1", json!({"name": "Pump"}));
    let out = store
        .apply_page(page_write(
            &conn,
            Entity::Assets,
            None,
            vec![asset.clone()],
            &[],
            t3,
        ))
        .await
        .unwrap();
    assert_eq!(out.created, 1);
    assert_eq!(
        store
            .live_remote_ids(&conn.id, Entity::Assets)
            .await
            .unwrap(),
        vec!["1"]
    );
    assert_eq!(
        store
            .get_record(&ws.id, &conn.id, e, &asset.id)
            .await
            .unwrap(),
        None
    );
    let last = events_after_creation(&store, &ws.id, 10).await;
    assert_eq!(last.last().unwrap().event_type, "asset.created");
}

/// A page for a run that ended (finished, or cancelled by a disconnect) fails with
/// `RunNotRunning`; a page for a disconnected connection fails with `Disconnected`; neither
/// writes a record, an event or a run counter.
pub async fn apply_page_is_refused_after_disconnect_or_run_end(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let (conn, _) = connection(&store, &ws, 1).await;
    let e = Entity::Assets;
    let t0 = time::now();
    let r1 = record_write(&conn.id, e, "a1", json!({"name": "Pump"}));
    let r2 = record_write(&conn.id, e, "a2", json!({"name": "Fan"}));

    let run = store
        .start_sync_run(run_input(&conn, e, SyncMode::Initial))
        .await
        .unwrap();
    store
        .apply_page(page_write(
            &conn,
            e,
            Some(&run.id),
            vec![r1.clone()],
            &[],
            t0,
        ))
        .await
        .unwrap();
    let finished = store
        .finish_sync_run(&run.id, run_end(RunStatus::Completed, Some("c1"), None, t0))
        .await
        .unwrap();
    let events_before = events_after_creation(&store, &ws.id, 10).await;
    assert_err!(
        store
            .apply_page(page_write(
                &conn,
                e,
                Some(&run.id),
                vec![r2.clone()],
                &["a1"],
                t0
            ))
            .await,
        StoreError::RunNotRunning
    );
    assert_eq!(store.get_sync_run(&run.id).await.unwrap(), Some(finished));
    assert_eq!(
        store.get_record(&ws.id, &conn.id, e, &r2.id).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .get_record(&ws.id, &conn.id, e, &r1.id)
            .await
            .unwrap()
            .unwrap()
            .deleted_at,
        None
    );
    assert_eq!(
        events_after_creation(&store, &ws.id, 10).await,
        events_before
    );

    // A run interrupted by a disconnect.
    let run2 = store
        .start_sync_run(run_input(&conn, e, SyncMode::Incremental))
        .await
        .unwrap();
    store
        .disconnect_connection(&ws.id, &conn.id, disconnected_event(&ws.id, &conn.id), t0)
        .await
        .unwrap();
    let cancelled = store.get_sync_run(&run2.id).await.unwrap().unwrap();
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    let events_before = events_after_creation(&store, &ws.id, 10).await;
    let mut page = page_write(&conn, e, Some(&run2.id), vec![r2.clone()], &["a1"], t0);
    page.checkpoint = Some("p9".into());
    assert_err!(store.apply_page(page).await, StoreError::RunNotRunning);
    assert_err!(
        store
            .apply_page(page_write(&conn, e, None, vec![r2.clone()], &["a1"], t0))
            .await,
        StoreError::Disconnected
    );
    assert_eq!(store.get_sync_run(&run2.id).await.unwrap(), Some(cancelled));
    assert_eq!(
        store.get_record(&ws.id, &conn.id, e, &r2.id).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .get_record(&ws.id, &conn.id, e, &r1.id)
            .await
            .unwrap()
            .unwrap()
            .deleted_at,
        None
    );
    assert_eq!(
        events_after_creation(&store, &ws.id, 10).await,
        events_before
    );

    let (live, _) = connection(&store, &ws, 1).await;
    let mut ghost = page_write(&live, e, None, vec![], &[], t0);
    ghost.connection_id = new_id(prefix::CONNECTION);
    assert_err!(store.apply_page(ghost).await, StoreError::NotFound);
}

/// Each page adds its counts to the run, counts one page and replaces the checkpoint; writes
/// through the API (no run) leave the run alone.
pub async fn sync_run_counters_and_checkpoint_accumulate(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let (conn, _) = connection(&store, &ws, 1).await;
    let e = Entity::InventoryItems;
    let mut input = run_input(&conn, e, SyncMode::Full);
    input.cursor_from = Some("c0".into());
    let run = store.start_sync_run(input.clone()).await.unwrap();
    assert_eq!(
        run,
        SyncRun {
            id: input.id.clone(),
            workspace_id: ws.id.clone(),
            connection_id: conn.id.clone(),
            entity: e,
            mode: SyncMode::Full,
            status: RunStatus::Running,
            cursor_from: Some("c0".into()),
            checkpoint: None,
            pages: 0,
            created: 0,
            updated: 0,
            deleted: 0,
            unchanged: 0,
            error: None,
            started_at: input.started_at,
            finished_at: None,
        }
    );
    let t0 = time::now();
    let w: Vec<RecordWrite> = (0..4)
        .map(|i| {
            record_write(
                &conn.id,
                e,
                &format!("i{i}"),
                json!({"name": format!("Part {i}")}),
            )
        })
        .collect();
    let mut p1 = page_write(&conn, e, Some(&run.id), w[..3].to_vec(), &[], t0);
    p1.checkpoint = Some("p1".into());
    store.apply_page(p1).await.unwrap();
    let after1 = store.get_sync_run(&run.id).await.unwrap().unwrap();
    assert_eq!(
        (
            after1.pages,
            after1.created,
            after1.updated,
            after1.deleted,
            after1.unchanged
        ),
        (1, 3, 0, 0, 0)
    );
    assert_eq!(after1.checkpoint.as_deref(), Some("p1"));

    let mut changed = w[1].clone();
    changed.data = json!({"name": "Part 1b"});
    rehash(&mut changed);
    let mut p2 = page_write(
        &conn,
        e,
        Some(&run.id),
        vec![w[0].clone(), changed, w[3].clone()],
        &["i2"],
        t0 + Duration::seconds(1),
    );
    p2.checkpoint = Some("p2".into());
    store.apply_page(p2).await.unwrap();
    // A write through the API is not part of the run.
    let api = record_write(&conn.id, e, "api", json!({"name": "Made by API"}));
    store
        .apply_page(page_write(&conn, e, None, vec![api], &[], t0))
        .await
        .unwrap();
    let after2 = store.get_sync_run(&run.id).await.unwrap().unwrap();
    assert_eq!(
        after2,
        SyncRun {
            checkpoint: Some("p2".into()),
            pages: 2,
            created: 4,
            updated: 1,
            deleted: 1,
            unchanged: 1,
            ..run.clone()
        }
    );
    // An empty page still counts and moves the checkpoint.
    let mut p3 = page_write(&conn, e, Some(&run.id), vec![], &[], t0);
    p3.checkpoint = Some("p3".into());
    assert_eq!(store.apply_page(p3).await.unwrap(), PageOutcome::default());
    let after3 = store.get_sync_run(&run.id).await.unwrap().unwrap();
    assert_eq!(
        (after3.pages, after3.checkpoint.as_deref()),
        (3, Some("p3"))
    );
    let listed = store
        .list_sync_runs(&ws.id, &conn.id, &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(listed.items, vec![after3]);
}

/// Starting while a run of the entity is running returns that run (to resume from its
/// checkpoint), even under concurrent starts; other entities get their own; a finished run
/// makes room for a new one; a disconnected connection starts nothing.
pub async fn start_sync_run_resumes_the_running_run(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let (conn, _) = connection(&store, &ws, 1).await;
    let first = store
        .start_sync_run(run_input(&conn, Entity::Assets, SyncMode::Initial))
        .await
        .unwrap();
    let mut p = page_write(
        &conn,
        Entity::Assets,
        Some(&first.id),
        vec![],
        &[],
        time::now(),
    );
    p.checkpoint = Some("page-2".into());
    store.apply_page(p).await.unwrap();

    let retry = run_input(&conn, Entity::Assets, SyncMode::Incremental);
    let resumed = store.start_sync_run(retry.clone()).await.unwrap();
    assert_eq!(resumed.id, first.id);
    assert_eq!(resumed.mode, SyncMode::Initial);
    assert_eq!(resumed.checkpoint.as_deref(), Some("page-2"));
    assert_eq!(resumed.pages, 1);
    assert_eq!(store.get_sync_run(&retry.id).await.unwrap(), None);

    let locations = store
        .start_sync_run(run_input(&conn, Entity::Locations, SyncMode::Initial))
        .await
        .unwrap();
    assert_ne!(locations.id, first.id);

    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let input = run_input(&conn, Entity::Vendors, SyncMode::Initial);
        tasks.push(tokio::spawn(async move {
            store.start_sync_run(input).await.unwrap().id
        }));
    }
    let mut vendor_ids = HashSet::new();
    for t in tasks {
        vendor_ids.insert(t.await.unwrap());
    }
    assert_eq!(vendor_ids.len(), 1, "never two running runs");
    let all = all_runs(&store, &ws.id, &conn.id, 2).await;
    assert_eq!(all.len(), 3);

    store
        .finish_sync_run(
            &first.id,
            run_end(RunStatus::Completed, Some("c1"), None, time::now()),
        )
        .await
        .unwrap();
    let next = store
        .start_sync_run(run_input(&conn, Entity::Assets, SyncMode::Incremental))
        .await
        .unwrap();
    assert_ne!(next.id, first.id);
    assert_eq!(
        (next.status, next.pages, next.checkpoint),
        (RunStatus::Running, 0, None)
    );
    let runs = all_runs(&store, &ws.id, &conn.id, 2).await;
    assert_eq!(runs.len(), 4);
    assert_eq!(runs[0].id, next.id, "newest first");

    store
        .disconnect_connection(
            &ws.id,
            &conn.id,
            disconnected_event(&ws.id, &conn.id),
            time::now(),
        )
        .await
        .unwrap();
    assert_err!(
        store
            .start_sync_run(run_input(&conn, Entity::Assets, SyncMode::Full))
            .await,
        StoreError::Disconnected
    );
    assert_eq!(all_runs(&store, &ws.id, &conn.id, 10).await.len(), 4);
    let mut ghost = run_input(&conn, Entity::Assets, SyncMode::Full);
    ghost.connection_id = new_id(prefix::CONNECTION);
    assert_err!(store.start_sync_run(ghost).await, StoreError::NotFound);
}

/// Finishing records the outcome on the run and the entity's state (the cursor only on
/// success), stamps the connection's `last_sync_at` on success, writes the event, and refuses
/// a second finish.
pub async fn finish_sync_run_updates_state_and_refuses_a_second_finish(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let (conn, _) = connection(&store, &ws, 1).await;
    let e = Entity::WorkOrders;
    let r1 = store
        .start_sync_run(run_input(&conn, e, SyncMode::Initial))
        .await
        .unwrap();
    let t1 = time::now() + Duration::seconds(1);
    let failed_ev = event_for(&ws.id, &conn.id, "sync.failed");
    let mut end = run_end(
        RunStatus::Failed,
        Some("ignored"),
        Some(failed_ev.clone()),
        t1,
    );
    end.error = Some("upstream 500".into());
    let failed = store.finish_sync_run(&r1.id, end).await.unwrap();
    assert_eq!(
        failed,
        SyncRun {
            status: RunStatus::Failed,
            error: Some("upstream 500".into()),
            finished_at: Some(t1),
            ..r1.clone()
        }
    );
    assert_eq!(
        store.get_sync_run(&r1.id).await.unwrap(),
        Some(failed.clone())
    );
    let state_after_failure = SyncState {
        connection_id: conn.id.clone(),
        entity: e,
        cursor: None,
        last_success_at: None,
        last_run_at: Some(t1),
        next_run_at: None,
        last_status: Some(RunStatus::Failed),
        error: Some("upstream 500".into()),
        paused: false,
        record_count: 0,
        running_run_id: None,
    };
    assert_eq!(
        store.sync_states(&conn.id).await.unwrap(),
        vec![state_after_failure.clone()]
    );
    assert_eq!(
        store
            .get_connection(&ws.id, &conn.id)
            .await
            .unwrap()
            .unwrap()
            .last_sync_at,
        None
    );
    assert_eq!(
        events_after_creation(&store, &ws.id, 10).await,
        vec![failed_ev.clone()]
    );

    // A second finish is refused and changes nothing.
    let completed_ev = event_for(&ws.id, &conn.id, "sync.completed");
    assert_err!(
        store
            .finish_sync_run(
                &r1.id,
                run_end(RunStatus::Completed, Some("c1"), Some(completed_ev), t1)
            )
            .await,
        StoreError::RunNotRunning
    );
    assert_eq!(store.get_sync_run(&r1.id).await.unwrap(), Some(failed));
    assert_eq!(
        store.sync_states(&conn.id).await.unwrap(),
        vec![state_after_failure]
    );
    assert_eq!(
        events_after_creation(&store, &ws.id, 10).await,
        vec![failed_ev.clone()]
    );

    // Success: cursor, last_success_at, the connection's last_sync_at, the event.
    let r2 = store
        .start_sync_run(run_input(&conn, e, SyncMode::Initial))
        .await
        .unwrap();
    let t2 = t1 + Duration::seconds(1);
    let records: Vec<RecordWrite> = (0..2)
        .map(|i| {
            record_write(
                &conn.id,
                e,
                &format!("w{i}"),
                json!({"title": format!("WO {i}")}),
            )
        })
        .collect();
    store
        .apply_page(page_write(&conn, e, Some(&r2.id), records, &[], t2))
        .await
        .unwrap();
    let done_ev = event_for(&ws.id, &conn.id, "sync.completed");
    let done = store
        .finish_sync_run(
            &r2.id,
            run_end(
                RunStatus::Completed,
                Some("cur-2"),
                Some(done_ev.clone()),
                t2,
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        (done.status, done.finished_at, done.created),
        (RunStatus::Completed, Some(t2), 2)
    );
    let success_state = SyncState {
        connection_id: conn.id.clone(),
        entity: e,
        cursor: Some("cur-2".into()),
        last_success_at: Some(t2),
        last_run_at: Some(t2),
        next_run_at: None,
        last_status: Some(RunStatus::Completed),
        error: None,
        paused: false,
        record_count: 2,
        running_run_id: None,
    };
    assert_eq!(
        store.sync_states(&conn.id).await.unwrap(),
        vec![success_state.clone()]
    );
    assert_eq!(
        store
            .get_connection(&ws.id, &conn.id)
            .await
            .unwrap()
            .unwrap()
            .last_sync_at,
        Some(t2)
    );
    let filter = EventFilter {
        event_type: Some("sync.*".into()),
        ..EventFilter::default()
    };
    assert_eq!(
        all_events(&store, &ws.id, &filter, 10).await,
        vec![failed_ev, done_ev]
    );

    // A later failure keeps the cursor and the last success.
    let r3 = store
        .start_sync_run(run_input(&conn, e, SyncMode::Incremental))
        .await
        .unwrap();
    let t3 = t2 + Duration::seconds(1);
    let mut end = run_end(RunStatus::Failed, Some("cur-3"), None, t3);
    end.error = Some("timeout".into());
    store.finish_sync_run(&r3.id, end).await.unwrap();
    assert_eq!(
        store.sync_states(&conn.id).await.unwrap(),
        vec![SyncState {
            last_run_at: Some(t3),
            last_status: Some(RunStatus::Failed),
            error: Some("timeout".into()),
            ..success_state
        }]
    );
    assert_eq!(
        store
            .get_connection(&ws.id, &conn.id)
            .await
            .unwrap()
            .unwrap()
            .last_sync_at,
        Some(t2)
    );
    assert_err!(
        store
            .finish_sync_run(
                &new_id(RUN_PREFIX),
                run_end(RunStatus::Completed, None, None, t3)
            )
            .await,
        StoreError::NotFound
    );
}

/// Sync state rows carry the live record count, pause flag, next run and the running run.
pub async fn sync_states_show_counts_pause_and_running_run(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let (conn, _) = connection(&store, &ws, 1).await;
    let (other, _) = connection(&store, &ws, 1).await;
    assert_eq!(store.sync_states(&conn.id).await.unwrap(), vec![]);
    let blank = |entity: Entity| SyncState {
        connection_id: conn.id.clone(),
        entity,
        cursor: None,
        last_success_at: None,
        last_run_at: None,
        next_run_at: None,
        last_status: None,
        error: None,
        paused: false,
        record_count: 0,
        running_run_id: None,
    };

    store
        .set_paused(&conn.id, &[Entity::Assets, Entity::WorkOrders], true)
        .await
        .unwrap();
    assert_eq!(
        sorted_states(&store, &conn.id).await,
        vec![
            SyncState {
                paused: true,
                ..blank(Entity::Assets)
            },
            SyncState {
                paused: true,
                ..blank(Entity::WorkOrders)
            },
        ]
    );

    let t0 = time::now();
    let w: Vec<RecordWrite> = (0..3)
        .map(|i| {
            record_write(
                &conn.id,
                Entity::Assets,
                &format!("a{i}"),
                json!({"name": i}),
            )
        })
        .collect();
    store
        .apply_page(page_write(&conn, Entity::Assets, None, w, &[], t0))
        .await
        .unwrap();
    store
        .apply_page(page_write(&conn, Entity::Assets, None, vec![], &["a0"], t0))
        .await
        .unwrap();
    // Another connection's records do not count.
    let foreign = record_write(&other.id, Entity::Assets, "a1", json!({"name": 1}));
    store
        .apply_page(page_write(
            &other,
            Entity::Assets,
            None,
            vec![foreign],
            &[],
            t0,
        ))
        .await
        .unwrap();
    let run = store
        .start_sync_run(run_input(&conn, Entity::Assets, SyncMode::Incremental))
        .await
        .unwrap();
    let next = t0 + Duration::minutes(15);
    store
        .set_next_run(&conn.id, Entity::Assets, Some(next))
        .await
        .unwrap();
    store
        .set_next_run(&conn.id, Entity::Vendors, Some(next))
        .await
        .unwrap();
    store
        .set_paused(&conn.id, &[Entity::Assets], false)
        .await
        .unwrap();
    assert_eq!(
        sorted_states(&store, &conn.id).await,
        vec![
            SyncState {
                record_count: 2,
                next_run_at: Some(next),
                running_run_id: Some(run.id.clone()),
                ..blank(Entity::Assets)
            },
            SyncState {
                paused: true,
                ..blank(Entity::WorkOrders)
            },
            SyncState {
                next_run_at: Some(next),
                ..blank(Entity::Vendors)
            },
        ]
    );
    store
        .set_next_run(&conn.id, Entity::Vendors, None)
        .await
        .unwrap();
    let states = sorted_states(&store, &conn.id).await;
    assert_eq!(states[2], blank(Entity::Vendors));

    let other_states = store.sync_states(&other.id).await.unwrap();
    assert!(other_states.is_empty(), "{other_states:?}");
    let ghost = new_id(prefix::CONNECTION);
    assert_err!(
        store.set_paused(&ghost, &[Entity::Assets], true).await,
        StoreError::NotFound
    );
    assert_err!(
        store.set_next_run(&ghost, Entity::Assets, Some(next)).await,
        StoreError::NotFound
    );
    assert!(store.sync_states(&ghost).await.unwrap().is_empty());
}

/// Ordered by (`updated_at`, `id`); `after` is exclusive; `modified_after` inclusive,
/// `modified_before` exclusive; deleted records only on request; filters on scalar fields by
/// text and on array fields by membership.
/// Lists skip the raw source record unless asked for it; a single record always has it.
pub async fn list_records_reads_remote_data_only_when_asked(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let (conn, _) = connection(&store, &ws, 1).await;
    let e = Entity::Assets;
    let w = record_write(&conn.id, e, "raw-1", json!({"name": "Pump"}));
    store
        .apply_page(page_write(
            &conn,
            e,
            None,
            vec![w.clone()],
            &[],
            time::now(),
        ))
        .await
        .unwrap();
    let lean = RecordQuery {
        limit: 10,
        ..RecordQuery::default()
    };
    let page = store
        .list_records(&ws.id, &conn.id, e, &lean)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].remote_data, serde_json::Value::Null);
    assert_eq!(page.items[0].data, w.data);
    let full = RecordQuery {
        with_remote_data: true,
        ..lean
    };
    let page = store
        .list_records(&ws.id, &conn.id, e, &full)
        .await
        .unwrap();
    assert_eq!(page.items[0].remote_data, w.remote_data);
    let one = store
        .get_record(&ws.id, &conn.id, e, &w.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.remote_data, w.remote_data);
}

/// Every write keeps the record's rendering (its JSON as reads show it, without
/// `remote_data`) in step: created, updated, unchanged, deleted and revived. A list asking for
/// renderings gets them instead of the decoded fields; other reads get both.
pub async fn records_keep_their_rendering_through_every_write(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let (conn, _) = connection(&store, &ws, 1).await;
    let e = Entity::WorkOrders;
    let rendering = |r: &StoredRecord| Some(record_view(r).to_string());
    let mut a = record_write(
        &conn.id,
        e,
        "r-a",
        json!({"title": "Fix \"pump\" ü", "estimated_hours": 1.5, "assignee_ids": ["x", "y"]}),
    );
    a.custom_fields = json!({"Shift": "B", "Nested": {"k": [1, null, true]}});
    a.remote_created_at = Some(time::now() - chrono::Duration::days(3));
    a.remote_updated_at = Some(time::now() - chrono::Duration::days(1));
    rehash(&mut a);
    let mut b = record_write(&conn.id, e, "r-b", json!({"title": "Oil"}));
    b.display_name = None;
    rehash(&mut b);
    let t1 = time::now();
    store
        .apply_page(page_write(
            &conn,
            e,
            None,
            vec![a.clone(), b.clone()],
            &[],
            t1,
        ))
        .await
        .unwrap();
    let get = |id: String| {
        let store = store.clone();
        let (ws, conn) = (ws.id.clone(), conn.id.clone());
        async move { store.get_record(&ws, &conn, e, &id).await.unwrap().unwrap() }
    };
    let stored_a = get(a.id.clone()).await;
    assert_eq!(stored_a.data, a.data);
    assert_eq!(stored_a.rendered, rendering(&stored_a));
    let events = events_after_creation(&store, &ws.id, 50).await;
    let created: Vec<&Event> = events
        .iter()
        .filter(|ev| ev.event_type == "work_order.created")
        .collect();
    assert_eq!(created.len(), 2);
    assert_eq!(Some(created[0].data.to_string()), stored_a.rendered);

    let rendered_q = RecordQuery {
        limit: 10,
        rendered: true,
        include_deleted: true,
        ..RecordQuery::default()
    };
    let check_list = |mut want: Vec<StoredRecord>| {
        want.sort_by(|x, y| (x.updated_at, &x.id).cmp(&(y.updated_at, &y.id)));
        let store = store.clone();
        let (ws, conn, q) = (ws.id.clone(), conn.id.clone(), rendered_q.clone());
        async move {
            let page = store.list_records(&ws, &conn, e, &q).await.unwrap();
            assert_eq!(record_ids(&page.items), record_ids(&want));
            for (got, want) in page.items.iter().zip(&want) {
                assert_eq!(got.rendered, rendering(want), "{}", got.id);
                // Not decoded: the rendering says it all.
                assert_eq!(got.data, serde_json::Value::Null);
                assert_eq!(got.custom_fields, serde_json::Value::Null);
                assert_eq!(
                    (got.updated_at, got.deleted_at),
                    (want.updated_at, want.deleted_at)
                );
            }
            // Without asking, the fields are decoded and the rendering comes along.
            let plain = RecordQuery {
                rendered: false,
                ..q
            };
            let page = store.list_records(&ws, &conn, e, &plain).await.unwrap();
            let lean: Vec<StoredRecord> = want
                .into_iter()
                .map(|r| StoredRecord {
                    remote_data: serde_json::Value::Null,
                    ..r
                })
                .collect();
            assert_eq!(page.items, lean);
        }
    };
    let stored_b = get(b.id.clone()).await;
    assert_eq!(stored_b.rendered, rendering(&stored_b));
    check_list(vec![stored_a.clone(), stored_b.clone()]).await;

    // Updated: new fields and `updated_at`; unchanged: the rendering stays as it was.
    let t2 = t1 + chrono::Duration::seconds(5);
    a.data["title"] = json!("Fixed");
    rehash(&mut a);
    store
        .apply_page(page_write(
            &conn,
            e,
            None,
            vec![a.clone(), b.clone()],
            &[],
            t2,
        ))
        .await
        .unwrap();
    let updated_a = get(a.id.clone()).await;
    assert_eq!(updated_a.updated_at, t2);
    assert_eq!(updated_a.rendered, rendering(&updated_a));
    assert!(updated_a.rendered.as_deref().unwrap().contains("\"Fixed\""));
    assert_eq!(get(b.id.clone()).await, stored_b);

    // Deleted: the rendering shows `deleted_at`.
    let t3 = t2 + chrono::Duration::seconds(5);
    store
        .apply_page(page_write(&conn, e, None, vec![], &["r-b"], t3))
        .await
        .unwrap();
    let deleted_b = get(b.id.clone()).await;
    assert_eq!(deleted_b.deleted_at, Some(t3));
    assert_eq!(deleted_b.rendered, rendering(&deleted_b));
    check_list(vec![updated_a.clone(), deleted_b.clone()]).await;

    // Revived: created again for readers, `deleted_at` null again.
    let t4 = t3 + chrono::Duration::seconds(5);
    store
        .apply_page(page_write(&conn, e, None, vec![b.clone()], &[], t4))
        .await
        .unwrap();
    let revived_b = get(b.id.clone()).await;
    assert_eq!(revived_b.deleted_at, None);
    assert_eq!(revived_b.rendered, rendering(&revived_b));
    check_list(vec![updated_a, revived_b]).await;
}

pub async fn list_records_orders_filters_and_keysets(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let (conn, _) = connection(&store, &ws, 1).await;
    let (other, _) = connection(&store, &ws, 1).await;
    let e = Entity::WorkOrders;
    let t0 = time::now();
    let (t1, t2, t3) = (
        t0 + Duration::seconds(1),
        t0 + Duration::seconds(2),
        t0 + Duration::seconds(3),
    );
    let r = |id: &str, data: serde_json::Value| record_write(&conn.id, e, id, data);
    let r1 = r(
        "1",
        json!({"status": "open", "priority": "high", "assignee_ids": ["usr_a", "usr_b"], "estimate": 3, "urgent": true}),
    );
    let r2 = r(
        "2",
        json!({"status": "done", "priority": "low", "assignee_ids": ["usr_b"], "estimate": 5}),
    );
    let r3 = r(
        "3",
        json!({"status": "open", "priority": null, "assignee_ids": []}),
    );
    let r4 = r(
        "4",
        json!({"status": "open", "priority": "high", "assignee_ids": ["usr_c"]}),
    );
    let r5 = r("5", json!({"status": "on_hold"}));
    let r6 = r(
        "6",
        json!({"status": "open", "assignee_ids": ["usr_a"], "urgent": false}),
    );
    for (recs, t) in [
        (vec![r1.clone(), r2.clone(), r3.clone()], t0),
        (vec![r4.clone(), r5.clone()], t1),
        (vec![r6.clone()], t2),
    ] {
        store
            .apply_page(page_write(&conn, e, None, recs, &[], t))
            .await
            .unwrap();
    }
    store
        .apply_page(page_write(&conn, e, None, vec![], &["5"], t3))
        .await
        .unwrap();
    // Noise that must never show: another connection, another entity.
    store
        .apply_page(page_write(
            &other,
            e,
            None,
            vec![record_write(&other.id, e, "1", json!({"status": "open"}))],
            &[],
            t0,
        ))
        .await
        .unwrap();
    store
        .apply_page(page_write(
            &conn,
            Entity::Assets,
            None,
            vec![record_write(
                &conn.id,
                Entity::Assets,
                "1",
                json!({"status": "open"}),
            )],
            &[],
            t0,
        ))
        .await
        .unwrap();

    // Expected order: by time, then id.
    let keyed = |w: &RecordWrite, t: Timestamp| (t, w.id.clone());
    let mut expected = vec![
        keyed(&r1, t0),
        keyed(&r2, t0),
        keyed(&r3, t0),
        keyed(&r4, t1),
        keyed(&r6, t2),
    ];
    expected.sort();
    let ids_of = |v: &[(Timestamp, String)]| v.iter().map(|x| x.1.clone()).collect::<Vec<_>>();
    let q = RecordQuery {
        limit: 100,
        ..RecordQuery::default()
    };
    let all = all_records(&store, &ws.id, &conn.id, e, &q, 2).await;
    assert_eq!(record_ids(&all), ids_of(&expected));
    assert!(all
        .iter()
        .all(|x| x.connection_id == conn.id && x.entity == e));

    let mut with_deleted = expected.clone();
    with_deleted.push(keyed(&r5, t3));
    let q_del = RecordQuery {
        include_deleted: true,
        ..q.clone()
    };
    let all_del = all_records(&store, &ws.id, &conn.id, e, &q_del, 4).await;
    assert_eq!(record_ids(&all_del), ids_of(&with_deleted));
    assert_eq!(all_del.last().unwrap().deleted_at, Some(t3));

    // `after` is exclusive on the pair.
    let from_third = store
        .list_records(
            &ws.id,
            &conn.id,
            e,
            &RecordQuery {
                after: Some(expected[2].clone()),
                ..q.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(record_ids(&from_third.items), ids_of(&expected[3..]));
    assert_eq!(from_third.next_after, None);

    let window = |after: Option<Timestamp>, before: Option<Timestamp>| RecordQuery {
        modified_after: after,
        modified_before: before,
        ..q.clone()
    };
    let list = |q: RecordQuery| {
        let store = store.clone();
        let (ws, conn) = (ws.id.clone(), conn.id.clone());
        async move { record_ids(&all_records(&store, &ws, &conn, e, &q, 100).await) }
    };
    assert_eq!(
        list(window(Some(t1), None)).await,
        vec![r4.id.clone(), r6.id.clone()]
    );
    assert_eq!(list(window(None, Some(t1))).await, ids_of(&expected[..3]));
    assert_eq!(list(window(Some(t1), Some(t2))).await, vec![r4.id.clone()]);
    let deleted_since = RecordQuery {
        include_deleted: true,
        ..window(Some(t3), None)
    };
    assert_eq!(list(deleted_since).await, vec![r5.id.clone()]);

    let filtered = |pairs: &[(&str, &str)]| RecordQuery {
        filters: pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..q.clone()
    };
    let in_order = |ws: &[&RecordWrite]| {
        expected
            .iter()
            .filter(|(_, id)| ws.iter().any(|w| &w.id == id))
            .map(|x| x.1.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list(filtered(&[("status", "open")])).await,
        in_order(&[&r1, &r3, &r4, &r6])
    );
    assert_eq!(
        list(filtered(&[("status", "open"), ("priority", "high")])).await,
        in_order(&[&r1, &r4])
    );
    assert_eq!(
        list(filtered(&[("assignee_ids", "usr_a")])).await,
        in_order(&[&r1, &r6])
    );
    assert_eq!(
        list(filtered(&[("assignee_ids", "usr_b")])).await,
        in_order(&[&r1, &r2])
    );
    assert_eq!(list(filtered(&[("estimate", "3")])).await, in_order(&[&r1]));
    assert_eq!(
        list(filtered(&[("urgent", "true")])).await,
        in_order(&[&r1])
    );
    assert_eq!(
        list(filtered(&[("urgent", "false")])).await,
        in_order(&[&r6])
    );
    assert!(list(filtered(&[("priority", "null")])).await.is_empty());
    assert!(list(filtered(&[("assignee_ids", "usr_")])).await.is_empty());
    assert!(list(filtered(&[("status", "OPEN")])).await.is_empty());
    assert!(list(filtered(&[("nope", "open")])).await.is_empty());
    let on_hold = RecordQuery {
        include_deleted: true,
        ..filtered(&[("status", "on_hold")])
    };
    assert_eq!(list(on_hold).await, vec![r5.id.clone()]);
    // Filters and keyset together, one record a page.
    let open_pages = all_records(
        &store,
        &ws.id,
        &conn.id,
        e,
        &filtered(&[("status", "open")]),
        1,
    )
    .await;
    assert_eq!(record_ids(&open_pages), in_order(&[&r1, &r3, &r4, &r6]));
}

/// 2,500 records written in pages of 1,000 and read in pages of 1,000 come back each exactly
/// once, in order; reconciliation sees every live remote id.
pub async fn list_records_pages_2500_records_exactly_once(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let (conn, _) = connection(&store, &ws, 1).await;
    let e = Entity::Assets;
    let t0 = time::now();
    let all: Vec<RecordWrite> = (0..2500)
        .map(|i| {
            record_write(
                &conn.id,
                e,
                &format!("asset-{i}"),
                json!({"name": format!("Asset {i}"), "location_ids": [format!("loc-{}", i % 7)]}),
            )
        })
        .collect();
    let run = store
        .start_sync_run(run_input(&conn, e, SyncMode::Initial))
        .await
        .unwrap();
    // Two pages share a timestamp, so the id breaks ties across a page boundary.
    for (i, chunk) in all.chunks(1000).enumerate() {
        let t = if i < 2 { t0 } else { t0 + Duration::seconds(1) };
        let out = store
            .apply_page(page_write(&conn, e, Some(&run.id), chunk.to_vec(), &[], t))
            .await
            .unwrap();
        assert_eq!(out.created as usize, chunk.len());
    }
    let run = store.get_sync_run(&run.id).await.unwrap().unwrap();
    assert_eq!((run.pages, run.created), (3, 2500));

    let q = RecordQuery {
        limit: 1000,
        ..RecordQuery::default()
    };
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut query = q.clone();
    loop {
        let page = store
            .list_records(&ws.id, &conn.id, e, &query)
            .await
            .unwrap();
        sizes.push(page.items.len());
        seen.extend(page.items.iter().map(|r| (r.updated_at, r.id.clone())));
        match page.next_after {
            Some(after) => {
                assert_eq!(Some(&after), seen.last());
                query.after = Some(after);
            }
            None => break,
        }
    }
    assert_eq!(sizes, vec![1000, 1000, 500]);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "strictly ascending");
    let got: HashSet<String> = seen.iter().map(|x| x.1.clone()).collect();
    let want: HashSet<String> = all.iter().map(|w| w.id.clone()).collect();
    assert_eq!(got, want);

    let live: HashSet<String> = store
        .live_remote_ids(&conn.id, e)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(live.len(), 2500);
    assert!(all.iter().all(|w| live.contains(&w.remote_id)));
    // Array membership over many records.
    let loc3 = RecordQuery {
        filters: vec![("location_ids".into(), "loc-3".into())],
        ..q
    };
    let n = all_records(&store, &ws.id, &conn.id, e, &loc3, 1000)
        .await
        .len();
    assert_eq!(n, (0..2500).filter(|i| i % 7 == 3).count());
}

// --- events ------------------------------------------------------------------------------

/// Events list oldest first, filtered by exact type or `prefix.*`, connection and time, and
/// only the workspace's own.
pub async fn list_events_filters_and_pages_oldest_first(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let b = workspace(&store, 10).await;
    // Events need no connection row; bare ids keep `connection.created` events out.
    let (c1, c2, cb) = (
        new_id(prefix::CONNECTION),
        new_id(prefix::CONNECTION),
        new_id(prefix::CONNECTION),
    );
    let t0 = time::now();
    let ev = |ws: &Workspace, conn: Option<&String>, ty: &str, secs: i64| NewEvent {
        id: new_id(prefix::EVENT),
        workspace_id: ws.id.clone(),
        connection_id: conn.cloned(),
        event_type: ty.into(),
        data: json!({"n": secs, "nested": {"ok": true}}),
        created_at: t0 + Duration::seconds(secs),
    };
    let e0 = ev(&a, Some(&c1), "work_order.created", 0);
    let e1 = ev(&a, Some(&c2), "work_order.updated", 1);
    let e2 = ev(&a, Some(&c1), "asset.created", 2);
    let e3 = ev(&a, Some(&c1), "work_order_line.created", 3);
    let e4 = ev(&b, Some(&cb), "work_order.created", 4);
    let e5 = ev(&a, None, "workspace.updated", 5);
    let e6 = ev(&a, Some(&c1), "work_order.deleted", 6);
    for e in [&e0, &e1, &e2, &e3, &e4, &e5, &e6] {
        store.append_event(e.clone()).await.unwrap();
    }
    let f = |ty: Option<&str>, conn: Option<&str>, since: Option<i64>| EventFilter {
        event_type: ty.map(str::to_owned),
        connection_id: conn.map(str::to_owned),
        since: since.map(|s| t0 + Duration::seconds(s)),
    };
    let list = |filter: EventFilter| {
        let store = store.clone();
        let ws = a.id.clone();
        async move { all_events(&store, &ws, &filter, 2).await }
    };
    assert_eq!(
        list(f(None, None, None)).await,
        vec![
            e0.clone(),
            e1.clone(),
            e2.clone(),
            e3.clone(),
            e5.clone(),
            e6.clone()
        ]
    );
    assert_eq!(
        list(f(Some("work_order.updated"), None, None)).await,
        vec![e1.clone()]
    );
    assert_eq!(
        list(f(Some("work_order.*"), None, None)).await,
        vec![e0.clone(), e1.clone(), e6.clone()]
    );
    assert!(list(f(Some("work_order"), None, None)).await.is_empty());
    assert!(list(f(Some("work_order.x*"), None, None)).await.is_empty());
    assert_eq!(
        list(f(None, Some(&c1), None)).await,
        vec![e0.clone(), e2.clone(), e3.clone(), e6.clone()]
    );
    assert_eq!(
        list(f(Some("work_order.*"), Some(&c1), None)).await,
        vec![e0.clone(), e6.clone()]
    );
    assert_eq!(
        list(f(None, None, Some(2))).await,
        vec![e2.clone(), e3.clone(), e5.clone(), e6.clone()]
    );
    assert_eq!(
        list(f(Some("work_order.*"), Some(&c1), Some(1))).await,
        vec![e6.clone()]
    );
    assert_eq!(events_after_creation(&store, &b.id, 1).await, vec![e4]);
    assert!(list(f(None, Some(&cb), None)).await.is_empty());

    // Paging from the middle.
    let page = store
        .list_events(
            &a.id,
            &EventFilter::default(),
            &PageRequest {
                after: Some(e2.id.clone()),
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items, vec![e3.clone(), e5.clone()]);
    assert_eq!(page.next_after, Some(e5.id.clone()));
    assert_err!(store.append_event(e0).await, StoreError::Conflict(_));
}

// --- idempotency -------------------------------------------------------------------------

/// The first answer for (workspace, key) is kept; keys are per workspace; old answers purge.
pub async fn idempotent_responses_are_stored_once_and_purged(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let b = workspace(&store, 10).await;
    let now = time::now();
    let old = IdempotentResponse {
        workspace_id: a.id.clone(),
        key: "key-1".into(),
        request_hash: "h1".into(),
        status: 201,
        body: r#"{"id":"con_1"}"#.into(),
        created_at: now - Duration::hours(25),
    };
    assert!(store.put_idempotent_response(old.clone()).await.unwrap());
    assert_eq!(
        store.get_idempotent_response(&a.id, "key-1").await.unwrap(),
        Some(old.clone())
    );
    let second = IdempotentResponse {
        request_hash: "h2".into(),
        status: 500,
        body: "{}".into(),
        created_at: now,
        ..old.clone()
    };
    assert!(!store.put_idempotent_response(second).await.unwrap());
    assert_eq!(
        store.get_idempotent_response(&a.id, "key-1").await.unwrap(),
        Some(old.clone())
    );
    let in_b = IdempotentResponse {
        workspace_id: b.id.clone(),
        created_at: now,
        body: "b".into(),
        ..old.clone()
    };
    assert!(store.put_idempotent_response(in_b.clone()).await.unwrap());
    assert_eq!(
        store.get_idempotent_response(&b.id, "key-1").await.unwrap(),
        Some(in_b.clone())
    );
    let fresh = IdempotentResponse {
        key: "key-2".into(),
        created_at: now,
        ..old.clone()
    };
    assert!(store.put_idempotent_response(fresh.clone()).await.unwrap());
    assert_eq!(
        store.get_idempotent_response(&a.id, "key-3").await.unwrap(),
        None
    );

    assert_eq!(
        store
            .purge_idempotent_responses(now - Duration::hours(24))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.get_idempotent_response(&a.id, "key-1").await.unwrap(),
        None
    );
    assert_eq!(
        store.get_idempotent_response(&a.id, "key-2").await.unwrap(),
        Some(fresh)
    );
    assert_eq!(
        store.get_idempotent_response(&b.id, "key-1").await.unwrap(),
        Some(in_b)
    );
    // The key is free again once purged.
    assert!(store.put_idempotent_response(old).await.unwrap());
}

/// Records, events and sync runs of one workspace are invisible to another, and a page or
/// run naming another workspace's connection is refused without writing.
pub async fn synced_data_is_isolated_between_workspaces(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let b = workspace(&store, 10).await;
    let (conn, _) = connection(&store, &a, 1).await;
    let e = Entity::Vendors;
    let t0 = time::now();
    let run = store
        .start_sync_run(run_input(&conn, e, SyncMode::Initial))
        .await
        .unwrap();
    let w = record_write(&conn.id, e, "v1", json!({"name": "Acme Parts"}));
    store
        .apply_page(page_write(
            &conn,
            e,
            Some(&run.id),
            vec![w.clone()],
            &[],
            t0,
        ))
        .await
        .unwrap();
    let q = RecordQuery {
        limit: 10,
        include_deleted: true,
        ..RecordQuery::default()
    };

    assert_eq!(
        store.get_record(&b.id, &conn.id, e, &w.id).await.unwrap(),
        None
    );
    assert!(store
        .list_records(&b.id, &conn.id, e, &q)
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(events_after_creation(&store, &b.id, 10).await.is_empty());
    let filter = EventFilter {
        connection_id: Some(conn.id.clone()),
        ..EventFilter::default()
    };
    assert!(all_events(&store, &b.id, &filter, 10).await.is_empty());
    assert!(all_runs(&store, &b.id, &conn.id, 10).await.is_empty());

    let mut foreign = page_write(
        &conn,
        e,
        None,
        vec![record_write(&conn.id, e, "v2", json!({}))],
        &["v1"],
        t0,
    );
    foreign.workspace_id = b.id.clone();
    assert_err!(store.apply_page(foreign).await, StoreError::NotFound);
    let mut foreign_run = run_input(&conn, Entity::Assets, SyncMode::Initial);
    foreign_run.workspace_id = b.id.clone();
    assert_err!(
        store.start_sync_run(foreign_run.clone()).await,
        StoreError::NotFound
    );
    assert_eq!(store.get_sync_run(&foreign_run.id).await.unwrap(), None);

    // A's data is intact.
    let mine = store.list_records(&a.id, &conn.id, e, &q).await.unwrap();
    assert_eq!(record_ids(&mine.items), vec![w.id.clone()]);
    assert_eq!(mine.items[0].deleted_at, None);
    assert_eq!(events_after_creation(&store, &a.id, 10).await.len(), 1);
    assert_eq!(all_runs(&store, &a.id, &conn.id, 10).await.len(), 1);
}

// --- webhooks ----------------------------------------------------------------------------

/// Endpoints round-trip every field, a disabled one says why, lists go newest first, and one
/// workspace never sees another's.
pub async fn webhook_endpoints_round_trip_list_and_isolation(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let b = workspace(&store, 10).await;
    let mut input = endpoint_input(&a, &["work_order.*", "sync.completed"], &["con_x"]);
    input.description = Some("Plant floor".into());
    let created = store.create_webhook_endpoint(input.clone()).await.unwrap();
    let expected = WebhookEndpoint {
        id: input.id.clone(),
        workspace_id: a.id.clone(),
        url: input.url.clone(),
        description: Some("Plant floor".into()),
        event_types: vec!["work_order.*".into(), "sync.completed".into()],
        connection_ids: vec!["con_x".into()],
        disabled: false,
        disabled_reason: None,
        sealed_secret: input.sealed_secret.clone(),
        sealed_previous_secret: None,
        previous_secret_expires_at: None,
        created_at: input.created_at,
        updated_at: input.created_at,
    };
    assert_eq!(created, expected);
    assert_eq!(
        store.get_webhook_endpoint(&a.id, &input.id).await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        store.get_webhook_endpoint(&b.id, &input.id).await.unwrap(),
        None
    );
    assert_eq!(
        store.get_webhook_endpoint(&a.id, "whe_nope").await.unwrap(),
        None
    );
    assert_err!(
        store.create_webhook_endpoint(input).await,
        StoreError::Conflict(_)
    );

    // Created disabled: by the workspace. Empty filters round-trip as empty lists.
    let off = NewWebhookEndpoint {
        disabled: true,
        ..endpoint_input(&a, &[], &[])
    };
    let off = store.create_webhook_endpoint(off).await.unwrap();
    assert!(off.disabled);
    assert_eq!(off.disabled_reason.as_deref(), Some("by the workspace"));
    assert!(off.event_types.is_empty() && off.connection_ids.is_empty());
    assert_eq!(off.description, None);

    let mut made = vec![created.id.clone(), off.id.clone()];
    for _ in 0..3 {
        made.push(endpoint(&store, &a, &[], &[]).await.id);
    }
    endpoint(&store, &b, &[], &[]).await;
    made.sort();
    made.reverse();
    let listed = all_endpoints(&store, &a.id, 2).await;
    assert_eq!(
        listed.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        made
    );
    assert_eq!(listed.iter().find(|e| e.id == created.id), Some(&expected));
    assert_eq!(all_endpoints(&store, &b.id, 2).await.len(), 1);
    let page = store
        .list_webhook_endpoints(
            &a.id,
            &PageRequest {
                after: Some(made[1].clone()),
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        made[2..4].to_vec()
    );
    assert_eq!(page.next_after, Some(made[3].clone()));
}

/// A patch changes only what it names: `Some(None)` clears the description, re-enabling
/// clears the reason, a rotation moves the current secret to the previous one with its expiry.
/// Unknown and foreign endpoints are `NotFound`, and nothing changes.
pub async fn update_webhook_endpoint_patch_semantics(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let b = workspace(&store, 10).await;
    let mut input = endpoint_input(&a, &["asset.*"], &["con_1"]);
    input.description = Some("first".into());
    let original = store.create_webhook_endpoint(input.clone()).await.unwrap();
    let t0 = time::now();
    let at = |s: i64| t0 + Duration::seconds(s);

    // An empty patch only touches updated_at.
    let same = store
        .update_webhook_endpoint(&a.id, &input.id, WebhookEndpointPatch::default(), at(1))
        .await
        .unwrap();
    assert_eq!(
        same,
        WebhookEndpoint {
            updated_at: at(1),
            ..original.clone()
        }
    );

    let patch = WebhookEndpointPatch {
        url: Some("https://hooks.example.com/v2".into()),
        event_types: Some(vec!["work_order.created".into()]),
        connection_ids: Some(vec![]),
        ..WebhookEndpointPatch::default()
    };
    let changed = store
        .update_webhook_endpoint(&a.id, &input.id, patch, at(2))
        .await
        .unwrap();
    let mut expected = WebhookEndpoint {
        url: "https://hooks.example.com/v2".into(),
        event_types: vec!["work_order.created".into()],
        connection_ids: vec![],
        updated_at: at(2),
        ..original.clone()
    };
    assert_eq!(changed, expected);
    assert_eq!(changed.description.as_deref(), Some("first"));

    let set = WebhookEndpointPatch {
        description: Some(Some("second".into())),
        ..WebhookEndpointPatch::default()
    };
    expected.description = Some("second".into());
    expected.updated_at = at(3);
    assert_eq!(
        store
            .update_webhook_endpoint(&a.id, &input.id, set, at(3))
            .await
            .unwrap(),
        expected
    );
    let clear = WebhookEndpointPatch {
        description: Some(None),
        ..WebhookEndpointPatch::default()
    };
    expected.description = None;
    expected.updated_at = at(4);
    assert_eq!(
        store
            .update_webhook_endpoint(&a.id, &input.id, clear, at(4))
            .await
            .unwrap(),
        expected
    );

    let disable = WebhookEndpointPatch {
        disabled: Some(true),
        ..WebhookEndpointPatch::default()
    };
    let off = store
        .update_webhook_endpoint(&a.id, &input.id, disable, at(5))
        .await
        .unwrap();
    assert!(off.disabled);
    assert_eq!(off.disabled_reason.as_deref(), Some("by the workspace"));
    let enable = WebhookEndpointPatch {
        disabled: Some(false),
        ..WebhookEndpointPatch::default()
    };
    let on = store
        .update_webhook_endpoint(&a.id, &input.id, enable, at(6))
        .await
        .unwrap();
    expected.updated_at = at(6);
    assert_eq!(on, expected, "re-enabling clears the reason");

    // Rotation: current → previous until the given time; a second rotation moves again.
    let s2 = secrets::random_bytes::<32>().to_vec();
    let rotate = WebhookEndpointPatch {
        rotate_secret: Some((s2.clone(), at(86_400))),
        ..WebhookEndpointPatch::default()
    };
    let rotated = store
        .update_webhook_endpoint(&a.id, &input.id, rotate, at(7))
        .await
        .unwrap();
    expected.sealed_secret = s2.clone();
    expected.sealed_previous_secret = Some(input.sealed_secret.clone());
    expected.previous_secret_expires_at = Some(at(86_400));
    expected.updated_at = at(7);
    assert_eq!(rotated, expected);
    let s3 = secrets::random_bytes::<32>().to_vec();
    let rotate = WebhookEndpointPatch {
        rotate_secret: Some((s3.clone(), at(90_000))),
        ..WebhookEndpointPatch::default()
    };
    let rotated = store
        .update_webhook_endpoint(&a.id, &input.id, rotate, at(8))
        .await
        .unwrap();
    assert_eq!(rotated.sealed_secret, s3);
    assert_eq!(rotated.sealed_previous_secret, Some(s2));
    assert_eq!(rotated.previous_secret_expires_at, Some(at(90_000)));
    assert_eq!(
        store.get_webhook_endpoint(&a.id, &input.id).await.unwrap(),
        Some(rotated.clone())
    );

    let everything = WebhookEndpointPatch {
        url: Some("https://evil.example.com".into()),
        disabled: Some(true),
        ..WebhookEndpointPatch::default()
    };
    assert_err!(
        store
            .update_webhook_endpoint(&b.id, &input.id, everything.clone(), at(9))
            .await,
        StoreError::NotFound
    );
    assert_err!(
        store
            .update_webhook_endpoint(&a.id, "whe_unknown", everything, at(9))
            .await,
        StoreError::NotFound
    );
    assert_eq!(
        store.get_webhook_endpoint(&a.id, &input.id).await.unwrap(),
        Some(rotated)
    );
}

/// Deleting an endpoint deletes its deliveries and their attempts, and nothing of other
/// endpoints; another workspace cannot delete it.
pub async fn delete_webhook_endpoint_cascades(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let b = workspace(&store, 10).await;
    let gone = endpoint(&store, &a, &[], &[]).await;
    let kept = endpoint(&store, &a, &[], &[]).await;
    let t0 = time::now();
    let mut doomed = Vec::new();
    for ep in [&gone, &gone, &kept] {
        let d = test_delivery(&store, ep, t0).await;
        doomed.push(d.id);
    }
    let claimed = store
        .claim_deliveries("w1", t0, Duration::seconds(30), 10, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 3);
    for c in &claimed {
        let outcome = AttemptOutcome::RetryAt(t0 + Duration::minutes(1));
        let att = attempt(&c.delivery.id, t0, Some(500));
        assert!(store
            .finish_attempt(&c.delivery.id, "w1", att, outcome)
            .await
            .unwrap());
    }
    assert_eq!(
        store.delivery_attempts(&a.id, &doomed).await.unwrap().len(),
        3
    );

    assert_err!(
        store.delete_webhook_endpoint(&b.id, &gone.id).await,
        StoreError::NotFound
    );
    assert!(store
        .get_webhook_endpoint(&a.id, &gone.id)
        .await
        .unwrap()
        .is_some());
    store
        .delete_webhook_endpoint(&a.id, &gone.id)
        .await
        .unwrap();
    assert_eq!(
        store.get_webhook_endpoint(&a.id, &gone.id).await.unwrap(),
        None
    );
    assert_err!(
        store.delete_webhook_endpoint(&a.id, &gone.id).await,
        StoreError::NotFound
    );
    for id in &doomed[..2] {
        assert_eq!(store.get_delivery(&a.id, id).await.unwrap(), None);
    }
    let left = all_deliveries(&store, &a.id, &DeliveryFilter::default(), 10).await;
    assert_eq!(
        left.iter().map(|d| d.id.clone()).collect::<Vec<_>>(),
        vec![doomed[2].clone()]
    );
    let attempts = store.delivery_attempts(&a.id, &doomed).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].delivery_id, doomed[2]);
    assert_eq!(all_endpoints(&store, &a.id, 10).await, vec![kept]);
}

/// One pending delivery, due now, per enabled endpoint of the event's workspace whose filters
/// match; a second pass creates nothing; events appended later are picked next time, oldest
/// first up to the limit.
pub async fn fan_out_creates_one_delivery_per_matching_endpoint(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let b = workspace(&store, 10).await;
    let (c1, c2) = (new_id(prefix::CONNECTION), new_id(prefix::CONNECTION));
    let every = endpoint(&store, &a, &[], &[]).await;
    let exact = endpoint(&store, &a, &["work_order.created"], &[]).await;
    let prefixed = endpoint(&store, &a, &["work_order.*", "sync.completed"], &[]).await;
    let of_c1 = endpoint(&store, &a, &[], &[c1.as_str()]).await;
    let off = store
        .create_webhook_endpoint(NewWebhookEndpoint {
            disabled: true,
            ..endpoint_input(&a, &[], &[])
        })
        .await
        .unwrap();
    let other = endpoint(&store, &b, &[], &[]).await;

    let t0 = time::now();
    let e_wo = bare_event(&a, Some(&c1), "work_order.created", t0);
    let e_upd = bare_event(&a, Some(&c2), "work_order.updated", t0);
    let e_asset = bare_event(&a, Some(&c1), "asset.created", t0);
    let e_line = bare_event(&a, Some(&c2), "work_order_line.created", t0);
    let e_sync = bare_event(&a, None, "sync.completed", t0);
    let e_test = bare_event(&a, Some(&c1), "webhook.test", t0);
    let e_b = bare_event(&b, Some(&c1), "work_order.created", t0);
    for e in [&e_wo, &e_upd, &e_asset, &e_line, &e_sync, &e_test, &e_b] {
        store.append_event(e.clone()).await.unwrap();
    }

    let now = t0 + Duration::seconds(5);
    let expected: BTreeSet<(String, String)> = [
        (&every, &e_wo),
        (&every, &e_upd),
        (&every, &e_asset),
        (&every, &e_line),
        (&every, &e_sync),
        (&exact, &e_wo),
        (&prefixed, &e_wo),
        (&prefixed, &e_upd),
        (&prefixed, &e_sync),
        (&of_c1, &e_wo),
        (&of_c1, &e_asset),
        (&other, &e_b),
    ]
    .iter()
    .map(|(ep, ev)| (ep.id.clone(), ev.id.clone()))
    .collect();
    let done = store.fan_out_events(100, now).await.unwrap();
    assert_eq!(
        done,
        FanOut {
            events: 7,
            deliveries: expected.len() as u64
        }
    );
    let mut got = all_deliveries(&store, &a.id, &DeliveryFilter::default(), 5).await;
    got.extend(all_deliveries(&store, &b.id, &DeliveryFilter::default(), 5).await);
    let pairs: BTreeSet<(String, String)> = got
        .iter()
        .map(|d| (d.endpoint_id.clone(), d.event_id.clone()))
        .collect();
    assert_eq!(pairs, expected);
    assert_eq!(
        got.len(),
        expected.len(),
        "one delivery per (endpoint, event)"
    );
    assert!(got.iter().all(|d| d.endpoint_id != off.id));
    let events = [&e_wo, &e_upd, &e_asset, &e_line, &e_sync, &e_b];
    for d in &got {
        let ev = events.iter().find(|e| e.id == d.event_id).unwrap();
        assert!(d.id.starts_with("whd_"), "{}", d.id);
        assert_eq!(
            d,
            &Delivery {
                id: d.id.clone(),
                workspace_id: ev.workspace_id.clone(),
                endpoint_id: d.endpoint_id.clone(),
                event_id: ev.id.clone(),
                event_type: ev.event_type.clone(),
                status: DeliveryStatus::Pending,
                attempts: 0,
                next_attempt_at: Some(now),
                first_attempt_at: None,
                last_attempt_at: None,
                created_at: now,
            }
        );
    }

    // A second pass finds nothing to do.
    assert_eq!(
        store.fan_out_events(100, now).await.unwrap(),
        FanOut::default()
    );

    // Events appended later are picked next time, oldest first, `limit` at a time; the
    // endpoint enabled in between gets only those.
    let enable = WebhookEndpointPatch {
        disabled: Some(false),
        ..WebhookEndpointPatch::default()
    };
    store
        .update_webhook_endpoint(&a.id, &off.id, enable, now)
        .await
        .unwrap();
    let later: Vec<NewEvent> = (0..3)
        .map(|_| bare_event(&a, Some(&c2), "asset.updated", now))
        .collect();
    for e in &later {
        store.append_event(e.clone()).await.unwrap();
    }
    let first = store.fan_out_events(2, now).await.unwrap();
    assert_eq!(
        first,
        FanOut {
            events: 2,
            deliveries: 4
        }
    );
    let by_event = |id: &str| {
        let store = store.clone();
        let (ws, id) = (a.id.clone(), id.to_owned());
        async move {
            let filter = DeliveryFilter {
                event_id: Some(id),
                ..DeliveryFilter::default()
            };
            let mut eps: Vec<String> = all_deliveries(&store, &ws, &filter, 10)
                .await
                .into_iter()
                .map(|d| d.endpoint_id)
                .collect();
            eps.sort();
            eps
        }
    };
    let mut both = vec![every.id.clone(), off.id.clone()];
    both.sort();
    let mut sorted_later: Vec<&NewEvent> = later.iter().collect();
    sorted_later.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(by_event(&sorted_later[0].id).await, both);
    assert_eq!(by_event(&sorted_later[1].id).await, both);
    assert!(
        by_event(&sorted_later[2].id).await.is_empty(),
        "beyond the limit"
    );
    assert_eq!(
        store.fan_out_events(2, now).await.unwrap(),
        FanOut {
            events: 1,
            deliveries: 2
        }
    );
    assert_eq!(by_event(&sorted_later[2].id).await, both);
    assert_eq!(
        store.fan_out_events(2, now).await.unwrap(),
        FanOut::default()
    );
    assert!(
        by_event(&e_test.id).await.is_empty(),
        "webhook.test is never fanned out"
    );
}

/// A test event comes with exactly its one delivery and is never fanned out again; an endpoint
/// of another workspace is refused with nothing written.
pub async fn test_events_carry_their_own_delivery_and_are_never_fanned_out(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let b = workspace(&store, 10).await;
    let target = endpoint(&store, &a, &[], &[]).await;
    let bystander = endpoint(&store, &a, &[], &[]).await;
    let foreign = endpoint(&store, &b, &[], &[]).await;
    let t0 = time::now();

    let (event, new) = test_event_input(&target, t0);
    let delivery = store
        .insert_test_event(event.clone(), new.clone())
        .await
        .unwrap();
    assert_eq!(
        delivery,
        Delivery {
            id: new.id.clone(),
            workspace_id: a.id.clone(),
            endpoint_id: target.id.clone(),
            event_id: event.id.clone(),
            event_type: "webhook.test".into(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(t0),
            first_attempt_at: None,
            last_attempt_at: None,
            created_at: t0,
        }
    );
    assert_eq!(
        store.get_delivery(&a.id, &new.id).await.unwrap(),
        Some(delivery.clone())
    );
    let listed = all_events(&store, &a.id, &EventFilter::default(), 10).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, event.id);
    assert_eq!(listed[0].data, event.data);
    assert_eq!(
        store.fan_out_events(100, t0).await.unwrap(),
        FanOut::default()
    );

    // Appended on its own, a webhook.test event is marked done without any delivery.
    store
        .append_event(bare_event(&a, None, "webhook.test", t0))
        .await
        .unwrap();
    assert_eq!(
        store.fan_out_events(100, t0).await.unwrap(),
        FanOut {
            events: 1,
            deliveries: 0
        }
    );
    let all = all_deliveries(&store, &a.id, &DeliveryFilter::default(), 10).await;
    assert_eq!(all, vec![delivery]);
    assert!(all.iter().all(|d| d.endpoint_id != bystander.id));

    // Another workspace's endpoint: refused, nothing written.
    let (mut event, mut new) = test_event_input(&foreign, t0);
    event.workspace_id = a.id.clone();
    new.workspace_id = a.id.clone();
    assert_err!(
        store.insert_test_event(event.clone(), new.clone()).await,
        StoreError::NotFound
    );
    assert_eq!(store.get_delivery(&a.id, &new.id).await.unwrap(), None);
    assert_eq!(store.get_delivery(&b.id, &new.id).await.unwrap(), None);
    assert!(all_events(&store, &a.id, &EventFilter::default(), 10)
        .await
        .iter()
        .all(|e| e.id != event.id));
}

/// Claims take due, pending, unleased deliveries of enabled endpoints, oldest due first, at
/// most `per_endpoint` per endpoint and `limit` in all, with their event and endpoint.
pub async fn claim_deliveries_respects_due_time_caps_and_disabled_endpoints(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let e1 = endpoint(&store, &a, &[], &[]).await;
    let e2 = endpoint(&store, &a, &[], &[]).await;
    let e3 = endpoint(&store, &a, &[], &[]).await;
    let t0 = time::now();
    let at = |s: i64| t0 + Duration::seconds(s);
    let d1a = test_delivery(&store, &e1, at(-9)).await;
    let d1b = test_delivery(&store, &e1, at(-8)).await;
    let d1c = test_delivery(&store, &e1, at(-7)).await;
    let d1f = test_delivery(&store, &e1, at(60)).await;
    let d2a = test_delivery(&store, &e2, at(-5)).await;
    let d2b = test_delivery(&store, &e2, at(-4)).await;
    let d3a = test_delivery(&store, &e3, at(-10)).await;
    let disable = WebhookEndpointPatch {
        disabled: Some(true),
        ..WebhookEndpointPatch::default()
    };
    store
        .update_webhook_endpoint(&a.id, &e3.id, disable, t0)
        .await
        .unwrap();
    let hour = Duration::hours(1);

    assert!(store
        .claim_deliveries("w", t0, hour, 2, 0)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .claim_deliveries("w", t0, hour, 0, 10)
        .await
        .unwrap()
        .is_empty());

    let claimed = store.claim_deliveries("w1", t0, hour, 2, 3).await.unwrap();
    assert_eq!(
        claimed_ids(&claimed),
        vec![d1a.id.clone(), d1b.id.clone(), d2a.id.clone()],
        "capped per endpoint and in all, oldest due first"
    );
    let e2_now = store
        .get_webhook_endpoint(&a.id, &e2.id)
        .await
        .unwrap()
        .unwrap();
    let events = all_events(&store, &a.id, &EventFilter::default(), 50).await;
    for c in &claimed {
        assert_eq!(
            Some(&c.delivery),
            store
                .get_delivery(&a.id, &c.delivery.id)
                .await
                .unwrap()
                .as_ref(),
            "claiming changes no visible field"
        );
        assert_eq!(c.delivery.status, DeliveryStatus::Pending);
        assert_eq!(
            Some(&c.event),
            events.iter().find(|e| e.id == c.delivery.event_id)
        );
        assert_eq!(c.endpoint.id, c.delivery.endpoint_id);
    }
    assert_eq!(claimed[2].endpoint, e2_now);

    // The rest that is due: not the leased ones, the future one or the disabled endpoint's.
    let claimed = store
        .claim_deliveries("w2", t0, hour, 10, 10)
        .await
        .unwrap();
    assert_eq!(claimed_ids(&claimed), vec![d1c.id.clone(), d2b.id.clone()]);
    assert!(store
        .claim_deliveries("w3", at(30), hour, 10, 10)
        .await
        .unwrap()
        .is_empty());

    let enable = WebhookEndpointPatch {
        disabled: Some(false),
        ..WebhookEndpointPatch::default()
    };
    store
        .update_webhook_endpoint(&a.id, &e3.id, enable, t0)
        .await
        .unwrap();
    let claimed = store
        .claim_deliveries("w3", at(30), hour, 10, 10)
        .await
        .unwrap();
    assert_eq!(claimed_ids(&claimed), vec![d3a.id.clone()]);
    assert!(!claimed[0].endpoint.disabled);
    let claimed = store
        .claim_deliveries("w3", at(60), hour, 10, 10)
        .await
        .unwrap();
    assert_eq!(claimed_ids(&claimed), vec![d1f.id.clone()], "due at last");
}

/// The per-endpoint cap counts deliveries already in flight (leased, lease not expired, by any
/// worker), not only those of the current claim: a finish frees one slot, and expired leases
/// stop counting and are claimable again.
pub async fn claim_caps_deliveries_in_flight_per_endpoint(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let e1 = endpoint(&store, &a, &[], &[]).await;
    let e2 = endpoint(&store, &a, &[], &[]).await;
    let t0 = time::now();
    let at = |s: i64| t0 + Duration::seconds(s);
    let d1a = test_delivery(&store, &e1, at(-9)).await;
    let d1b = test_delivery(&store, &e1, at(-8)).await;
    let d1c = test_delivery(&store, &e1, at(-7)).await;
    let _d1d = test_delivery(&store, &e1, at(-6)).await;
    let d2a = test_delivery(&store, &e2, at(-5)).await;
    let d2b = test_delivery(&store, &e2, at(-4)).await;
    let _d2c = test_delivery(&store, &e2, at(-3)).await;
    let lease = Duration::seconds(30);

    // Leases until at(30): e1 is full (d1a, d1b), e2 has one in flight (d2a).
    let claimed = store.claim_deliveries("w1", t0, lease, 2, 3).await.unwrap();
    assert_eq!(
        claimed_ids(&claimed),
        vec![d1a.id.clone(), d1b.id.clone(), d2a.id.clone()]
    );
    // Another worker: nothing more of e1, only e2's remaining slot (leased until at(31)).
    let claimed = store
        .claim_deliveries("w2", at(1), lease, 2, 10)
        .await
        .unwrap();
    assert_eq!(
        claimed_ids(&claimed),
        vec![d2b.id.clone()],
        "deliveries in flight count against the cap"
    );
    assert!(store
        .claim_deliveries("w3", at(2), lease, 2, 10)
        .await
        .unwrap()
        .is_empty());

    // A finish frees one slot of e1 (d1c, leased until at(33)), and only one.
    assert!(store
        .finish_attempt(
            &d1a.id,
            "w1",
            attempt(&d1a.id, at(3), Some(200)),
            AttemptOutcome::Succeeded
        )
        .await
        .unwrap());
    let claimed = store
        .claim_deliveries("w3", at(3), lease, 2, 10)
        .await
        .unwrap();
    assert_eq!(claimed_ids(&claimed), vec![d1c.id.clone()]);
    assert!(store
        .claim_deliveries("w3", at(4), lease, 2, 10)
        .await
        .unwrap()
        .is_empty());

    // At at(32) the leases of d1b, d2a and d2b have expired and no longer count; d1c's has
    // not, so e1 has one slot (its oldest, d1b) and e2 two (d2a, d2b).
    let claimed = store
        .claim_deliveries("w4", at(32), lease, 2, 10)
        .await
        .unwrap();
    assert_eq!(
        claimed_ids(&claimed),
        vec![d1b.id.clone(), d2a.id.clone(), d2b.id.clone()],
        "expired leases are claimable again and stop counting"
    );
    assert!(store
        .claim_deliveries("w5", at(32), lease, 2, 10)
        .await
        .unwrap()
        .is_empty());
}

/// A lease keeps a delivery from other workers until it expires; only the holder of the lease
/// can finish it, and a finish by anyone else writes nothing.
pub async fn delivery_leases_expire_and_only_the_holder_finishes(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let ep = endpoint(&store, &a, &[], &[]).await;
    let t0 = time::now();
    let at = |s: i64| t0 + Duration::seconds(s);
    let d = test_delivery(&store, &ep, at(-1)).await;
    let lease = Duration::seconds(30);

    assert_eq!(
        claimed_ids(&store.claim_deliveries("w1", t0, lease, 5, 5).await.unwrap()),
        vec![d.id.clone()]
    );
    assert!(store
        .claim_deliveries("w2", at(10), lease, 5, 5)
        .await
        .unwrap()
        .is_empty());
    let outcome = AttemptOutcome::Succeeded;
    assert!(!store
        .finish_attempt(&d.id, "w2", attempt(&d.id, at(10), Some(200)), outcome)
        .await
        .unwrap());
    assert_eq!(
        store.get_delivery(&a.id, &d.id).await.unwrap(),
        Some(d.clone())
    );
    assert!(store
        .delivery_attempts(&a.id, std::slice::from_ref(&d.id))
        .await
        .unwrap()
        .is_empty());

    // Expired: another worker takes it over; the first one has lost it.
    assert_eq!(
        claimed_ids(
            &store
                .claim_deliveries("w2", at(31), lease, 5, 5)
                .await
                .unwrap()
        ),
        vec![d.id.clone()]
    );
    assert!(!store
        .finish_attempt(&d.id, "w1", attempt(&d.id, at(32), Some(200)), outcome)
        .await
        .unwrap());
    assert_eq!(
        store.get_delivery(&a.id, &d.id).await.unwrap(),
        Some(d.clone())
    );
    let retry_at = at(90);
    let att = attempt(&d.id, at(33), None);
    assert!(store
        .finish_attempt(&d.id, "w2", att.clone(), AttemptOutcome::RetryAt(retry_at))
        .await
        .unwrap());
    let after = store.get_delivery(&a.id, &d.id).await.unwrap().unwrap();
    assert_eq!(
        after,
        Delivery {
            attempts: 1,
            next_attempt_at: Some(retry_at),
            first_attempt_at: Some(at(33)),
            last_attempt_at: Some(at(33)),
            ..d.clone()
        }
    );
    assert_eq!(
        store
            .delivery_attempts(&a.id, std::slice::from_ref(&d.id))
            .await
            .unwrap(),
        vec![att]
    );
    // The lease is released: finishing again fails, and the retry is claimable when due.
    assert!(!store
        .finish_attempt(&d.id, "w2", attempt(&d.id, at(34), Some(200)), outcome)
        .await
        .unwrap());
    assert!(store
        .claim_deliveries("w3", at(89), lease, 5, 5)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        claimed_ids(
            &store
                .claim_deliveries("w3", at(90), lease, 5, 5)
                .await
                .unwrap()
        ),
        vec![d.id.clone()]
    );
}

/// Each outcome's effect: retries keep the delivery pending with its first attempt time, a
/// success or failure ends it, `Gone` also disables the endpoint (only that one). Attempts are
/// listed oldest first, per workspace.
pub async fn finish_attempt_records_attempts_and_applies_each_outcome(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let b = workspace(&store, 10).await;
    let ep = endpoint(&store, &a, &[], &[]).await;
    let doomed = endpoint(&store, &a, &[], &[]).await;
    let t0 = time::now();
    let at = |s: i64| t0 + Duration::seconds(s);
    let lease = Duration::seconds(30);
    let retried = test_delivery(&store, &ep, t0).await;
    let failed = test_delivery(&store, &ep, t0).await;
    let gone = test_delivery(&store, &doomed, t0).await;

    // Claims one delivery at `now` and finishes it with `outcome`.
    let run = |d: &Delivery, now: Timestamp, att: DeliveryAttempt, outcome: AttemptOutcome| {
        let store = store.clone();
        let id = d.id.clone();
        async move {
            let worker = new_id("wrk");
            let claimed = store
                .claim_deliveries(&worker, now, lease, 10, 10)
                .await
                .unwrap();
            assert!(claimed_ids(&claimed).contains(&id), "{id} is due at {now}");
            assert!(store
                .finish_attempt(&id, &worker, att, outcome)
                .await
                .unwrap());
        }
    };

    let a1 = attempt(&retried.id, at(1), Some(503));
    run(
        &retried,
        at(1),
        a1.clone(),
        AttemptOutcome::RetryAt(at(100)),
    )
    .await;
    let a2 = attempt(&retried.id, at(100), None);
    run(
        &retried,
        at(100),
        a2.clone(),
        AttemptOutcome::RetryAt(at(200)),
    )
    .await;
    let mid = store
        .get_delivery(&a.id, &retried.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mid.status, DeliveryStatus::Pending);
    assert_eq!(mid.attempts, 2);
    assert_eq!(mid.next_attempt_at, Some(at(200)));
    assert_eq!(mid.first_attempt_at, Some(at(1)), "set once per window");
    assert_eq!(mid.last_attempt_at, Some(at(100)));
    let a3 = attempt(&retried.id, at(200), Some(204));
    run(&retried, at(200), a3.clone(), AttemptOutcome::Succeeded).await;
    let done = store
        .get_delivery(&a.id, &retried.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        done,
        Delivery {
            status: DeliveryStatus::Succeeded,
            attempts: 3,
            next_attempt_at: None,
            first_attempt_at: Some(at(1)),
            last_attempt_at: Some(at(200)),
            ..retried.clone()
        }
    );
    assert_eq!(
        store
            .delivery_attempts(&a.id, std::slice::from_ref(&retried.id))
            .await
            .unwrap(),
        vec![a1.clone(), a2.clone(), a3.clone()]
    );

    let f1 = attempt(&failed.id, at(300), Some(500));
    run(&failed, at(300), f1.clone(), AttemptOutcome::Failed).await;
    assert_eq!(
        store
            .get_delivery(&a.id, &failed.id)
            .await
            .unwrap()
            .unwrap(),
        Delivery {
            status: DeliveryStatus::Failed,
            attempts: 1,
            next_attempt_at: None,
            first_attempt_at: Some(at(300)),
            last_attempt_at: Some(at(300)),
            ..failed.clone()
        }
    );

    let g1 = attempt(&gone.id, at(400), Some(410));
    run(&gone, at(400), g1.clone(), AttemptOutcome::Gone).await;
    let g = store.get_delivery(&a.id, &gone.id).await.unwrap().unwrap();
    assert_eq!(g.status, DeliveryStatus::Failed);
    assert_eq!(g.next_attempt_at, None);
    let disabled = store
        .get_webhook_endpoint(&a.id, &doomed.id)
        .await
        .unwrap()
        .unwrap();
    assert!(disabled.disabled);
    assert_eq!(disabled.disabled_reason.as_deref(), Some("410 Gone"));
    let fine = store
        .get_webhook_endpoint(&a.id, &ep.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!fine.disabled && fine.disabled_reason.is_none());

    // Ended deliveries are never claimed again.
    assert!(store
        .claim_deliveries("late", at(10_000), lease, 10, 10)
        .await
        .unwrap()
        .is_empty());

    // Attempts of several deliveries, oldest first; none through another workspace.
    let ids = vec![gone.id.clone(), retried.id.clone(), failed.id.clone()];
    assert_eq!(
        store.delivery_attempts(&a.id, &ids).await.unwrap(),
        vec![a1, a2, a3, f1, g1]
    );
    assert!(store
        .delivery_attempts(&b.id, &ids)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .delivery_attempts(&a.id, &[])
        .await
        .unwrap()
        .is_empty());
}

/// A batch has, entry by entry, the effect of `finish_attempt` called in its order, in one
/// call: each outcome applied, `first_attempt_at` kept across windows' retries, `Gone`
/// disabling its endpoint once (at its first such attempt), and nothing written for an entry
/// whose lease is lost (held by another worker), already released, or named again.
pub async fn finish_attempts_records_a_batch_as_one_by_one(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let ep = endpoint(&store, &a, &[], &[]).await;
    let doomed = endpoint(&store, &a, &[], &[]).await;
    let t0 = time::now();
    let at = |s: i64| t0 + Duration::seconds(s);
    let lease = Duration::seconds(30);
    assert_eq!(
        store.finish_attempts("w1", Vec::new()).await.unwrap(),
        Vec::<bool>::new()
    );

    // `lost` is leased to w0 (claimed alone: it is the oldest due); w1 holds the others.
    let lost = test_delivery(&store, &ep, at(-10)).await;
    let ok = test_delivery(&store, &ep, at(-5)).await;
    let retried = test_delivery(&store, &ep, at(-5)).await;
    let failed = test_delivery(&store, &ep, at(-5)).await;
    let g1 = test_delivery(&store, &doomed, at(-5)).await;
    let g2 = test_delivery(&store, &doomed, at(-5)).await;
    assert_eq!(
        claimed_ids(
            &store
                .claim_deliveries("w0", t0, lease, 10, 1)
                .await
                .unwrap()
        ),
        vec![lost.id.clone()]
    );
    assert_eq!(
        store
            .claim_deliveries("w1", t0, lease, 10, 10)
            .await
            .unwrap()
            .len(),
        5
    );

    let a_ok = attempt(&ok.id, at(1), Some(200));
    let a_retry = attempt(&retried.id, at(2), None);
    let a_failed = attempt(&failed.id, at(3), Some(500));
    let a_g2 = attempt(&g2.id, at(4), Some(410));
    let a_g1 = attempt(&g1.id, at(5), Some(410));
    let results = store
        .finish_attempts(
            "w1",
            vec![
                (a_ok.clone(), AttemptOutcome::Succeeded),
                (
                    attempt(&lost.id, at(1), Some(200)),
                    AttemptOutcome::Succeeded,
                ),
                (a_retry.clone(), AttemptOutcome::RetryAt(at(60))),
                (a_failed.clone(), AttemptOutcome::Failed),
                (a_g2.clone(), AttemptOutcome::Gone),
                (attempt(&ok.id, at(6), Some(200)), AttemptOutcome::Succeeded),
                (a_g1.clone(), AttemptOutcome::Gone),
            ],
        )
        .await
        .unwrap();
    assert_eq!(results, vec![true, false, true, true, true, false, true]);

    let get = |id: &str| {
        let (store, ws, id) = (store.clone(), a.id.clone(), id.to_owned());
        async move { store.get_delivery(&ws, &id).await.unwrap().unwrap() }
    };
    let ended = |d: &Delivery, status, t| Delivery {
        status,
        attempts: 1,
        next_attempt_at: None,
        first_attempt_at: Some(t),
        last_attempt_at: Some(t),
        ..d.clone()
    };
    assert_eq!(
        get(&ok.id).await,
        ended(&ok, DeliveryStatus::Succeeded, at(1))
    );
    assert_eq!(
        get(&failed.id).await,
        ended(&failed, DeliveryStatus::Failed, at(3))
    );
    assert_eq!(get(&g1.id).await, ended(&g1, DeliveryStatus::Failed, at(5)));
    assert_eq!(get(&g2.id).await, ended(&g2, DeliveryStatus::Failed, at(4)));
    assert_eq!(
        get(&retried.id).await,
        Delivery {
            attempts: 1,
            next_attempt_at: Some(at(60)),
            first_attempt_at: Some(at(2)),
            last_attempt_at: Some(at(2)),
            ..retried.clone()
        }
    );
    // The lost lease: nothing written, w0 still holds it.
    assert_eq!(get(&lost.id).await, lost);
    let ids = vec![
        ok.id.clone(),
        lost.id.clone(),
        retried.id.clone(),
        failed.id.clone(),
        g1.id.clone(),
        g2.id.clone(),
    ];
    let mut recorded = store.delivery_attempts(&a.id, &ids).await.unwrap();
    recorded.sort_by_key(|r| r.attempted_at);
    assert_eq!(
        recorded,
        vec![a_ok.clone(), a_retry.clone(), a_failed.clone(), a_g2, a_g1]
    );
    // Disabled once, by the first 410 of the batch; the other endpoint untouched.
    let d = store
        .get_webhook_endpoint(&a.id, &doomed.id)
        .await
        .unwrap()
        .unwrap();
    assert!(d.disabled);
    assert_eq!(d.disabled_reason.as_deref(), Some("410 Gone"));
    assert_eq!(d.updated_at, at(4));
    assert_eq!(
        store.get_webhook_endpoint(&a.id, &ep.id).await.unwrap(),
        Some(ep.clone())
    );
    assert!(
        !store
            .finish_attempts("w0", vec![(a_ok.clone(), AttemptOutcome::Succeeded)])
            .await
            .unwrap()[0]
    );

    // The retry's next window: w0's lease has expired, w2 takes both; `first_attempt_at` stays.
    let mut claimed = claimed_ids(
        &store
            .claim_deliveries("w2", at(60), lease, 10, 10)
            .await
            .unwrap(),
    );
    claimed.sort();
    let mut expected = vec![lost.id.clone(), retried.id.clone()];
    expected.sort();
    assert_eq!(claimed, expected);
    let a_retry2 = attempt(&retried.id, at(61), Some(204));
    let a_lost = attempt(&lost.id, at(61), Some(200));
    assert_eq!(
        store
            .finish_attempts(
                "w2",
                vec![
                    (a_retry2.clone(), AttemptOutcome::Succeeded),
                    (a_lost.clone(), AttemptOutcome::Succeeded),
                ],
            )
            .await
            .unwrap(),
        vec![true, true]
    );
    assert_eq!(
        get(&retried.id).await,
        Delivery {
            status: DeliveryStatus::Succeeded,
            attempts: 2,
            next_attempt_at: None,
            first_attempt_at: Some(at(2)),
            last_attempt_at: Some(at(61)),
            ..retried.clone()
        }
    );
    assert_eq!(
        get(&lost.id).await,
        ended(&lost, DeliveryStatus::Succeeded, at(61))
    );
    assert_eq!(
        store
            .delivery_attempts(&a.id, std::slice::from_ref(&retried.id))
            .await
            .unwrap(),
        vec![a_retry, a_retry2]
    );
}

/// Deliveries list newest first with keyset paging, filtered by endpoint, status and event,
/// and only the workspace's own.
pub async fn list_deliveries_filters_and_pages_newest_first(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let b = workspace(&store, 10).await;
    let e1 = endpoint(&store, &a, &[], &[]).await;
    let e2 = endpoint(&store, &a, &[], &[]).await;
    let eb = endpoint(&store, &b, &[], &[]).await;
    let t0 = time::now();
    let events: Vec<NewEvent> = (0..3)
        .map(|_| bare_event(&a, None, "asset.created", t0))
        .collect();
    for e in &events {
        store.append_event(e.clone()).await.unwrap();
    }
    store
        .append_event(bare_event(&b, None, "asset.created", t0))
        .await
        .unwrap();
    assert_eq!(
        store.fan_out_events(10, t0).await.unwrap(),
        FanOut {
            events: 4,
            deliveries: 7
        }
    );
    // Every delivery to e2 fails; e1's stay pending.
    let claimed = store
        .claim_deliveries("w", t0, Duration::seconds(30), 10, 10)
        .await
        .unwrap();
    for c in claimed.iter().filter(|c| c.endpoint.id == e2.id) {
        let att = attempt(&c.delivery.id, t0, Some(500));
        assert!(store
            .finish_attempt(&c.delivery.id, "w", att, AttemptOutcome::Failed)
            .await
            .unwrap());
    }

    let all = all_deliveries(&store, &a.id, &DeliveryFilter::default(), 2).await;
    assert_eq!(all.len(), 6);
    assert!(all.iter().all(|d| d.workspace_id == a.id));
    let f = |endpoint: Option<&str>, status: Option<DeliveryStatus>, event: Option<&str>| {
        DeliveryFilter {
            endpoint_id: endpoint.map(str::to_owned),
            status,
            event_id: event.map(str::to_owned),
        }
    };
    let expect = |pred: &dyn Fn(&Delivery) -> bool| -> Vec<String> {
        all.iter()
            .filter(|d| pred(d))
            .map(|d| d.id.clone())
            .collect()
    };
    let list = |filter: DeliveryFilter| {
        let store = store.clone();
        let ws = a.id.clone();
        async move {
            all_deliveries(&store, &ws, &filter, 2)
                .await
                .into_iter()
                .map(|d| d.id)
                .collect::<Vec<_>>()
        }
    };
    let of_e1 = list(f(Some(&e1.id), None, None)).await;
    assert_eq!(of_e1.len(), 3);
    assert_eq!(of_e1, expect(&|d| d.endpoint_id == e1.id));
    let failed = list(f(None, Some(DeliveryStatus::Failed), None)).await;
    assert_eq!(failed, expect(&|d| d.endpoint_id == e2.id));
    assert_eq!(failed.len(), 3);
    assert_eq!(
        list(f(None, Some(DeliveryStatus::Pending), None)).await,
        of_e1
    );
    assert!(list(f(None, Some(DeliveryStatus::Succeeded), None))
        .await
        .is_empty());
    let of_event = list(f(None, None, Some(&events[1].id))).await;
    assert_eq!(of_event.len(), 2);
    assert_eq!(of_event, expect(&|d| d.event_id == events[1].id));
    let one = list(f(
        Some(&e2.id),
        Some(DeliveryStatus::Failed),
        Some(&events[2].id),
    ))
    .await;
    assert_eq!(
        one,
        expect(&|d| d.endpoint_id == e2.id && d.event_id == events[2].id)
    );
    assert_eq!(one.len(), 1);
    assert!(list(f(Some(&e1.id), Some(DeliveryStatus::Failed), None))
        .await
        .is_empty());
    assert!(list(f(Some(&eb.id), None, None)).await.is_empty());

    // Paging from the middle.
    let page = store
        .list_deliveries(
            &a.id,
            &DeliveryFilter::default(),
            &PageRequest {
                after: Some(all[1].id.clone()),
                limit: 3,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items, all[2..5].to_vec());
    assert_eq!(page.next_after, Some(all[4].id.clone()));

    // Isolation.
    let theirs = all_deliveries(&store, &b.id, &DeliveryFilter::default(), 2).await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].endpoint_id, eb.id);
    assert_eq!(store.get_delivery(&b.id, &all[0].id).await.unwrap(), None);
    assert_eq!(
        store.get_delivery(&a.id, &theirs[0].id).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .get_delivery(&a.id, &all[0].id)
            .await
            .unwrap()
            .as_ref(),
        Some(&all[0])
    );
}

/// A manual retry puts any delivery back to pending, due now, with a fresh window; recovery
/// does so for the failed deliveries of one endpoint created since a time.
pub async fn retry_and_recover_requeue_failed_deliveries(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let b = workspace(&store, 10).await;
    let ep = endpoint(&store, &a, &["asset.*"], &[]).await;
    let neighbour = endpoint(&store, &a, &["asset.*"], &[]).await;
    let t0 = time::now();
    let at = |s: i64| t0 + Duration::seconds(s);
    // Deliveries created two hours, one hour and zero hours before t0.
    for created in [at(-7200), at(-3600), t0] {
        store
            .append_event(bare_event(&a, None, "asset.created", created))
            .await
            .unwrap();
        store.fan_out_events(10, created).await.unwrap();
    }
    let claimed = store
        .claim_deliveries("w", t0, Duration::seconds(30), 10, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 6);
    let mut succeeded = None;
    for c in &claimed {
        let outcome = if c.endpoint.id == ep.id && c.delivery.created_at == at(-3600) {
            succeeded = Some(c.delivery.id.clone());
            AttemptOutcome::Succeeded
        } else {
            AttemptOutcome::Failed
        };
        let att = attempt(&c.delivery.id, t0, Some(500));
        assert!(store
            .finish_attempt(&c.delivery.id, "w", att, outcome)
            .await
            .unwrap());
    }
    let succeeded = succeeded.unwrap();
    let before = all_deliveries(&store, &a.id, &DeliveryFilter::default(), 10).await;

    // Another workspace recovers nothing.
    assert_eq!(
        store
            .recover_deliveries(&b.id, &ep.id, at(-10_000), at(5))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        all_deliveries(&store, &a.id, &DeliveryFilter::default(), 10).await,
        before
    );

    // Since one hour ago: the failed one created at t0 only (the one an hour ago succeeded).
    let n = store
        .recover_deliveries(&a.id, &ep.id, at(-3600), at(5))
        .await
        .unwrap();
    assert_eq!(n, 1);
    let after = all_deliveries(&store, &a.id, &DeliveryFilter::default(), 10).await;
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(old.id, new.id);
        if old.endpoint_id == ep.id && old.created_at == t0 {
            assert_eq!(
                new,
                &Delivery {
                    status: DeliveryStatus::Pending,
                    next_attempt_at: Some(at(5)),
                    first_attempt_at: None,
                    ..old.clone()
                }
            );
            assert_eq!(new.attempts, 1);
            assert_eq!(new.last_attempt_at, Some(t0));
        } else {
            assert_eq!(old, new, "untouched");
        }
    }
    let n = store
        .recover_deliveries(&a.id, &ep.id, at(-7200), at(6))
        .await
        .unwrap();
    assert_eq!(
        n, 1,
        "the one created two hours ago; the pending one is no longer failed"
    );
    let neighbours = all_deliveries(
        &store,
        &a.id,
        &DeliveryFilter {
            endpoint_id: Some(neighbour.id.clone()),
            ..DeliveryFilter::default()
        },
        10,
    )
    .await;
    assert!(neighbours
        .iter()
        .all(|d| d.status == DeliveryStatus::Failed));

    // A manual retry, of a succeeded delivery too.
    assert_err!(
        store.retry_delivery(&b.id, &succeeded, at(7)).await,
        StoreError::NotFound
    );
    assert_err!(
        store.retry_delivery(&a.id, "whd_unknown", at(7)).await,
        StoreError::NotFound
    );
    let old = store
        .get_delivery(&a.id, &succeeded)
        .await
        .unwrap()
        .unwrap();
    let retried = store
        .retry_delivery(&a.id, &succeeded, at(7))
        .await
        .unwrap();
    assert_eq!(
        retried,
        Delivery {
            status: DeliveryStatus::Pending,
            next_attempt_at: Some(at(7)),
            first_attempt_at: None,
            ..old
        }
    );
    assert_eq!(
        store.get_delivery(&a.id, &succeeded).await.unwrap(),
        Some(retried)
    );

    // Everything re-queued is claimable again; the new window starts at the next attempt.
    let claimed = store
        .claim_deliveries("w2", at(7), Duration::seconds(30), 10, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 3);
    assert!(claimed.iter().all(|c| c.endpoint.id == ep.id));
    let c = &claimed[0];
    let att = attempt(&c.delivery.id, at(8), None);
    let retry = AttemptOutcome::RetryAt(at(60));
    assert!(store
        .finish_attempt(&c.delivery.id, "w2", att, retry)
        .await
        .unwrap());
    let d = store
        .get_delivery(&a.id, &c.delivery.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.first_attempt_at, Some(at(8)));
    assert_eq!(d.attempts, 2);
}

/// Endpoints whose deliveries have all failed since the cutoff are disabled once, each with one
/// `webhook.endpoint.disabled` event in its workspace (which is then fanned out like any other).
pub async fn disable_failing_endpoints_disables_once_with_an_event(store: Arc<dyn Store>) {
    let a = workspace(&store, 10).await;
    let b = workspace(&store, 10).await;
    let t0 = time::now();
    let days = |d: i64| t0 - Duration::days(d);
    let cutoff = days(5);
    let failing = endpoint(&store, &a, &[], &[]).await;
    let recent = endpoint(&store, &a, &[], &[]).await;
    let recovered = endpoint(&store, &a, &[], &[]).await;
    let by_hand = endpoint(&store, &a, &[], &[]).await;
    let quiet = endpoint(&store, &a, &[], &[]).await;
    let theirs = endpoint(&store, &b, &[], &[]).await;

    // Each delivery is attempted once, at `attempted`, with `outcome`.
    let deliver = |ep: &WebhookEndpoint, attempted: Timestamp, outcome: AttemptOutcome| {
        let store = store.clone();
        let ep = ep.clone();
        async move {
            let d = test_delivery(&store, &ep, attempted).await;
            let worker = new_id("wrk");
            let claimed = store
                .claim_deliveries(&worker, attempted, Duration::seconds(30), 100, 100)
                .await
                .unwrap();
            assert!(claimed_ids(&claimed).contains(&d.id));
            let att = attempt(&d.id, attempted, Some(500));
            assert!(store
                .finish_attempt(&d.id, &worker, att, outcome)
                .await
                .unwrap());
        }
    };
    let failed = AttemptOutcome::Failed;
    deliver(&failing, days(6), failed).await;
    deliver(&failing, days(2), failed).await;
    deliver(&recent, days(1), failed).await;
    deliver(&recovered, days(6), failed).await;
    deliver(&recovered, days(1), AttemptOutcome::Succeeded).await;
    deliver(&by_hand, days(7), failed).await;
    deliver(&theirs, days(5), failed).await;
    let off = WebhookEndpointPatch {
        disabled: Some(true),
        ..WebhookEndpointPatch::default()
    };
    store
        .update_webhook_endpoint(&a.id, &by_hand.id, off, days(1))
        .await
        .unwrap();
    // Everything so far is fanned out (the test events never are; this drains nothing else).
    assert_eq!(
        store.fan_out_events(100, t0).await.unwrap(),
        FanOut::default()
    );

    let disabled = store.disable_failing_endpoints(cutoff, t0).await.unwrap();
    let mut got: Vec<&str> = disabled.iter().map(|e| e.id.as_str()).collect();
    got.sort_unstable();
    let mut want = vec![failing.id.as_str(), theirs.id.as_str()];
    want.sort_unstable();
    assert_eq!(got, want);
    for e in &disabled {
        assert!(e.disabled);
        assert_eq!(e.disabled_reason.as_deref(), Some("failing for 5 days"));
        assert_eq!(e.updated_at, t0);
        let stored = store
            .get_webhook_endpoint(&e.workspace_id, &e.id)
            .await
            .unwrap();
        assert_eq!(stored.as_ref(), Some(e));
    }
    for (ws, ep) in [(&a, &recent), (&a, &recovered), (&a, &quiet)] {
        let stored = store
            .get_webhook_endpoint(&ws.id, &ep.id)
            .await
            .unwrap()
            .unwrap();
        assert!(!stored.disabled, "{} stays enabled", ep.id);
    }
    let hand = store
        .get_webhook_endpoint(&a.id, &by_hand.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hand.disabled_reason.as_deref(), Some("by the workspace"));

    let filter = EventFilter {
        event_type: Some("webhook.endpoint.disabled".into()),
        ..EventFilter::default()
    };
    for (ws, ep) in [(&a, &failing), (&b, &theirs)] {
        let events = all_events(&store, &ws.id, &filter, 10).await;
        assert_eq!(events.len(), 1, "one event in {}", ws.id);
        let e = &events[0];
        assert!(e.id.starts_with("evt_"), "{}", e.id);
        assert_eq!(e.connection_id, None);
        assert_eq!(e.created_at, t0);
        assert_eq!(
            e.data,
            json!({"endpoint": {
                "id": ep.id,
                "url": ep.url,
                "disabled_reason": "failing for 5 days",
            }})
        );
    }

    // Not twice.
    assert!(store
        .disable_failing_endpoints(cutoff, t0)
        .await
        .unwrap()
        .is_empty());
    for ws in [&a, &b] {
        assert_eq!(all_events(&store, &ws.id, &filter, 10).await.len(), 1);
    }

    // The events go out to the endpoints still enabled in their workspace.
    assert_eq!(
        store.fan_out_events(100, t0).await.unwrap(),
        FanOut {
            events: 2,
            deliveries: 3
        }
    );
    let event_filter = DeliveryFilter {
        status: Some(DeliveryStatus::Pending),
        ..DeliveryFilter::default()
    };
    let mut to: Vec<String> = all_deliveries(&store, &a.id, &event_filter, 10)
        .await
        .into_iter()
        .map(|d| d.endpoint_id)
        .collect();
    to.sort();
    let mut want = vec![recent.id.clone(), recovered.id.clone(), quiet.id.clone()];
    want.sort();
    assert_eq!(to, want);
    assert!(all_deliveries(&store, &b.id, &event_filter, 10)
        .await
        .is_empty());
}

// --- operations --------------------------------------------------------------------------

/// The operator aggregates: queue stats count every queued job of a kind (due or not) and date
/// the oldest due one, leaving out running, finished and cancelled jobs; connection counts
/// group every connection, disconnected ones included, by status.
pub async fn job_queue_stats_and_connection_status_counts(store: Arc<dyn Store>) {
    let now = time::now();
    let lease = Duration::minutes(5);
    assert_eq!(store.job_queue_stats(now).await.unwrap(), vec![]);
    assert_eq!(store.connection_status_counts().await.unwrap(), vec![]);

    let (older, old, later) = (
        now - Duration::minutes(30),
        now - Duration::minutes(10),
        now + Duration::hours(1),
    );
    let oldest_sync = job("sync", older);
    for j in [
        oldest_sync.clone(),
        job("sync", old),
        job("sync", later),
        job("purge", later),
        job("held", older),
        job("finished", older),
    ] {
        assert!(store.enqueue_job(j).await.unwrap());
    }
    let claimed = store
        .claim_jobs(&["held", "finished"], "w1", now, lease, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    let finished = claimed.iter().find(|j| j.kind == "finished").unwrap();
    assert!(store.complete_job(&finished.id, "w1", now).await.unwrap());

    let stats = |mut v: Vec<crate::JobQueueStat>| {
        v.sort_by(|a, b| a.kind.cmp(&b.kind));
        v
    };
    assert_eq!(
        stats(store.job_queue_stats(now).await.unwrap()),
        vec![
            crate::JobQueueStat {
                kind: "purge".into(),
                queued: 1,
                oldest_due_at: None,
            },
            crate::JobQueueStat {
                kind: "sync".into(),
                queued: 3,
                oldest_due_at: Some(older),
            },
        ]
    );
    // Claiming the oldest due job moves the lag to the next one.
    let taken = store
        .claim_jobs(&["sync"], "w1", now, lease, 1)
        .await
        .unwrap();
    assert_eq!(ids(&taken), vec![oldest_sync.id.clone()]);
    assert_eq!(
        stats(store.job_queue_stats(now).await.unwrap())[1],
        crate::JobQueueStat {
            kind: "sync".into(),
            queued: 2,
            oldest_due_at: Some(old),
        }
    );

    let ws = workspace(&store, 100).await;
    let a = connection_with_status(&store, &ws, ConnectionStatus::Active).await;
    connection_with_status(&store, &ws, ConnectionStatus::Active).await;
    connection_with_status(&store, &ws, ConnectionStatus::Offline).await;
    let other = workspace(&store, 100).await;
    connection_with_status(&store, &other, ConnectionStatus::RequiresReauthorization).await;
    store
        .disconnect_connection(&ws.id, &a.id, disconnected_event(&ws.id, &a.id), now)
        .await
        .unwrap();
    let mut counts = store.connection_status_counts().await.unwrap();
    counts.sort_by_key(|c| c.status.as_str());
    let counts: Vec<(&str, i64)> = counts
        .iter()
        .map(|c| (c.status.as_str(), c.count))
        .collect();
    assert_eq!(
        counts,
        vec![
            ("active", 1),
            ("disconnected", 1),
            ("offline", 1),
            ("requires_reauthorization", 1),
        ]
    );
}

// --- health ------------------------------------------------------------------------------

/// A UTC time on a fixed day, so probes fall on known dates whatever the test's clock says.
fn at(day: u32, hour: u32, minute: u32) -> Timestamp {
    chrono::NaiveDate::from_ymd_opt(2024, 3, day)
        .unwrap()
        .and_hms_opt(hour, minute, 0)
        .unwrap()
        .and_utc()
}

fn probe_input(
    conn: &Connection,
    checked_at: Timestamp,
    status: ProbeStatus,
    latency_ms: Option<i64>,
) -> NewProbe {
    NewProbe {
        workspace_id: conn.workspace_id.clone(),
        connection_id: conn.id.clone(),
        checked_at,
        status,
        latency_ms,
        error: (status != ProbeStatus::Ok).then(|| format!("{} at {checked_at}", status.as_str())),
    }
}

fn recorded(p: &NewProbe) -> Probe {
    Probe {
        connection_id: p.connection_id.clone(),
        checked_at: p.checked_at,
        status: p.status,
        latency_ms: p.latency_ms,
        error: p.error.clone(),
    }
}

/// Probes are appended oldest first, the latest becomes the connection's `health` (status and
/// `updated_at` untouched), the history filters by time and connection, daily aggregates count
/// per UTC day with the mean latency of the `ok` probes, and the purge removes old rows only.
pub async fn probes_record_history_daily_and_purge(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let (conn, _) = connection(&store, &ws, 1).await;
    let (other, _) = connection(&store, &ws, 1).await;
    assert_eq!(conn.health, None);

    let probes = [
        probe_input(&conn, at(10, 10, 0), ProbeStatus::Ok, Some(100)),
        probe_input(&conn, at(10, 11, 0), ProbeStatus::Unreachable, Some(5000)),
        probe_input(&conn, at(10, 23, 59), ProbeStatus::Rejected, Some(40)),
        probe_input(&conn, at(11, 0, 0), ProbeStatus::Ok, Some(300)),
        probe_input(&conn, at(11, 0, 5), ProbeStatus::Ok, Some(200)),
        probe_input(&conn, at(11, 9, 0), ProbeStatus::Error, Some(70)),
        probe_input(
            &conn,
            at(11, 9, 5),
            ProbeStatus::RequiresReauthorization,
            None,
        ),
    ];
    for p in &probes {
        store.record_probe(p.clone()).await.unwrap();
    }
    store
        .record_probe(probe_input(&other, at(10, 12, 0), ProbeStatus::Ok, Some(1)))
        .await
        .unwrap();

    let latest = probes.last().unwrap();
    let read = store
        .get_connection(&ws.id, &conn.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        read,
        Connection {
            health: Some(HealthSnapshot {
                status: "requires_reauthorization".into(),
                checked_at: latest.checked_at,
                latency_ms: None,
                error: latest.error.clone(),
            }),
            ..conn.clone()
        },
        "health is the latest probe; status and updated_at are untouched"
    );
    // A later ok probe replaces every field, clearing the error.
    let ok = probe_input(&other, at(10, 13, 0), ProbeStatus::Ok, Some(2));
    store.record_probe(ok.clone()).await.unwrap();
    assert_eq!(
        store
            .get_connection(&ws.id, &other.id)
            .await
            .unwrap()
            .unwrap()
            .health,
        Some(HealthSnapshot {
            status: "ok".into(),
            checked_at: ok.checked_at,
            latency_ms: Some(2),
            error: None,
        })
    );

    let all: Vec<Probe> = probes.iter().map(recorded).collect();
    assert_eq!(
        store
            .probe_history(&ws.id, &conn.id, at(1, 0, 0))
            .await
            .unwrap(),
        all
    );
    assert_eq!(
        store
            .probe_history(&ws.id, &conn.id, at(10, 11, 0))
            .await
            .unwrap(),
        all[1..].to_vec(),
        "since is inclusive"
    );
    assert_eq!(
        store
            .probe_history(&ws.id, &conn.id, at(12, 0, 0))
            .await
            .unwrap(),
        vec![]
    );

    let day = |d| chrono::NaiveDate::from_ymd_opt(2024, 3, d).unwrap();
    assert_eq!(
        store
            .probe_daily(&ws.id, &conn.id, at(1, 0, 0))
            .await
            .unwrap(),
        vec![
            ProbeDay {
                day: day(10),
                probes: 3,
                ok: 1,
                avg_latency_ms: Some(100.0),
            },
            ProbeDay {
                day: day(11),
                probes: 4,
                ok: 2,
                avg_latency_ms: Some(250.0),
            },
        ]
    );
    assert_eq!(
        store
            .probe_daily(&ws.id, &conn.id, at(11, 9, 0))
            .await
            .unwrap(),
        vec![ProbeDay {
            day: day(11),
            probes: 4,
            ok: 2,
            avg_latency_ms: Some(250.0),
        }],
        "whole days from the day of `since`"
    );
    assert_eq!(
        store
            .probe_daily(&ws.id, &other.id, at(1, 0, 0))
            .await
            .unwrap(),
        vec![ProbeDay {
            day: day(10),
            probes: 2,
            ok: 2,
            avg_latency_ms: Some(1.5),
        }]
    );

    // Purge: raw rows strictly before the cut, every connection; the days stay.
    assert_eq!(store.purge_probes(at(11, 0, 0), day(1)).await.unwrap(), 5);
    assert_eq!(
        store
            .probe_daily(&ws.id, &conn.id, at(1, 0, 0))
            .await
            .unwrap()
            .len(),
        2,
        "the daily view outlives the raw rows"
    );
    assert_eq!(
        store
            .probe_history(&ws.id, &conn.id, at(1, 0, 0))
            .await
            .unwrap(),
        all[3..].to_vec()
    );
    assert_eq!(
        store
            .probe_history(&ws.id, &other.id, at(1, 0, 0))
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(store.purge_probes(at(11, 0, 0), day(1)).await.unwrap(), 0);
    // Days strictly before the cut go: day 10 of both connections.
    assert_eq!(store.purge_probes(at(11, 0, 0), day(11)).await.unwrap(), 2);
    assert_eq!(
        store
            .probe_daily(&ws.id, &conn.id, at(1, 0, 0))
            .await
            .unwrap()
            .iter()
            .map(|d| d.day)
            .collect::<Vec<_>>(),
        vec![day(11)]
    );
    // The latest health stays on the connection after its row is purged.
    assert!(store
        .get_connection(&ws.id, &other.id)
        .await
        .unwrap()
        .unwrap()
        .health
        .is_some());
}

/// Probes belong to one workspace: another workspace can neither record nor read them, an
/// unknown connection is not found, and a disconnected connection takes no more probes.
pub async fn probes_are_isolated_and_refused_after_disconnect(store: Arc<dyn Store>) {
    let ws = workspace(&store, 10).await;
    let intruder = workspace(&store, 10).await;
    let (conn, _) = connection(&store, &ws, 1).await;
    let first = probe_input(&conn, time::now(), ProbeStatus::Ok, Some(12));
    store.record_probe(first.clone()).await.unwrap();

    let mut foreign = probe_input(&conn, time::now(), ProbeStatus::Error, Some(1));
    foreign.workspace_id = intruder.id.clone();
    assert_err!(store.record_probe(foreign).await, StoreError::NotFound);
    let mut unknown = probe_input(&conn, time::now(), ProbeStatus::Ok, Some(1));
    unknown.connection_id = new_id(prefix::CONNECTION);
    assert_err!(store.record_probe(unknown).await, StoreError::NotFound);
    let since = first.checked_at - Duration::hours(1);
    assert_eq!(
        store
            .probe_history(&intruder.id, &conn.id, since)
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(
        store
            .probe_daily(&intruder.id, &conn.id, since)
            .await
            .unwrap(),
        vec![]
    );

    store
        .disconnect_connection(
            &ws.id,
            &conn.id,
            disconnected_event(&ws.id, &conn.id),
            time::now(),
        )
        .await
        .unwrap();
    let late = probe_input(&conn, time::now(), ProbeStatus::Unreachable, Some(3));
    assert_err!(store.record_probe(late).await, StoreError::Disconnected);
    assert_eq!(
        store.probe_history(&ws.id, &conn.id, since).await.unwrap(),
        vec![recorded(&first)],
        "a refused probe writes nothing"
    );
    assert_eq!(
        store
            .get_connection(&ws.id, &conn.id)
            .await
            .unwrap()
            .unwrap()
            .health
            .map(|h| h.status),
        Some("ok".to_string())
    );
}

// --- helpers -----------------------------------------------------------------------------

/// A new workspace input with a random key hash and data key.
fn workspace_input(credit_limit: i64) -> NewWorkspace {
    NewWorkspace {
        id: new_id(prefix::WORKSPACE),
        name: "Acme Manufacturing".into(),
        credit_limit,
        rate_limit_per_minute: None,
        secret_key_hash: secrets::hash_token(&secrets::new_workspace_key()),
        wrapped_data_key: secrets::random_bytes::<48>().to_vec(),
        created_at: time::now(),
    }
}

async fn workspace(store: &Arc<dyn Store>, credit_limit: i64) -> Workspace {
    store
        .create_workspace(workspace_input(credit_limit))
        .await
        .unwrap()
}

fn connection_input(ws: &Workspace, connector: &str, credits: i64) -> NewConnection {
    NewConnection {
        id: new_id(prefix::CONNECTION),
        workspace_id: ws.id.clone(),
        connector: connector.into(),
        deployment: Deployment::Cloud,
        name: format!("{connector} plant"),
        status: ConnectionStatus::Active,
        credits,
        metadata: json!({}),
        sealed_credentials: secrets::random_bytes::<40>().to_vec(),
        sync_settings: json!({"frequency_minutes": 15}),
        field_mappings: json!({}),
        created_at: time::now(),
    }
}

/// A token for `connection_id` with every scope and no expiry.
fn token_input(connection_id: &str, workspace_id: &str, created_at: Timestamp) -> NewToken {
    NewToken {
        id: new_id(prefix::TOKEN),
        connection_id: connection_id.into(),
        workspace_id: workspace_id.into(),
        token_hash: secrets::hash_token(&secrets::new_connection_token()),
        scopes: Scope::ALL.to_vec(),
        expires_at: None,
        created_at,
    }
}

/// Creates an active `maintainx` connection of `credits` credits and returns it with its token.
async fn connection(
    store: &Arc<dyn Store>,
    ws: &Workspace,
    credits: i64,
) -> (Connection, NewToken) {
    let input = connection_input(ws, "maintainx", credits);
    let token = token_input(&input.id, &ws.id, input.created_at);
    (
        create_conn(store, input, token.clone()).await.unwrap(),
        token,
    )
}

async fn connection_with_status(
    store: &Arc<dyn Store>,
    ws: &Workspace,
    status: ConnectionStatus,
) -> Connection {
    let input = NewConnection {
        status,
        ..connection_input(ws, "maintainx", 1)
    };
    let token = token_input(&input.id, &ws.id, input.created_at);
    create_conn(store, input, token).await.unwrap()
}

/// What a freshly created connection must read back as.
fn expected_connection(input: &NewConnection) -> Connection {
    Connection {
        id: input.id.clone(),
        workspace_id: input.workspace_id.clone(),
        connector: input.connector.clone(),
        deployment: input.deployment,
        name: input.name.clone(),
        status: input.status,
        credits: input.credits,
        metadata: input.metadata.clone(),
        sealed_credentials: input.sealed_credentials.clone(),
        sync_settings: input.sync_settings.clone(),
        field_mappings: input.field_mappings.clone(),
        created_at: input.created_at,
        updated_at: input.created_at,
        disconnected_at: None,
        last_sync_at: None,
        health: None,
    }
}

fn expected_token(input: &NewToken, revoked_at: Option<Timestamp>) -> TokenRecord {
    TokenRecord {
        id: input.id.clone(),
        connection_id: input.connection_id.clone(),
        workspace_id: input.workspace_id.clone(),
        token_hash: input.token_hash.clone(),
        scopes: input.scopes.clone(),
        expires_at: input.expires_at,
        revoked_at,
        created_at: input.created_at,
    }
}

/// Creates a connection with its `connection.created` event, as the API does.
async fn create_conn(
    store: &Arc<dyn Store>,
    new: NewConnection,
    token: NewToken,
) -> Result<Connection, StoreError> {
    let event = created_event(&new);
    store.create_connection(new, token, event).await
}

fn created_event(new: &NewConnection) -> NewEvent {
    event_for(&new.workspace_id, &new.id, "connection.created")
}

fn event_for(workspace_id: &str, connection_id: &str, event_type: &str) -> NewEvent {
    NewEvent {
        id: new_id(prefix::EVENT),
        workspace_id: workspace_id.to_owned(),
        connection_id: Some(connection_id.to_owned()),
        event_type: event_type.to_owned(),
        data: json!({"connection_id": connection_id}),
        created_at: time::now(),
    }
}

fn disconnected_event(workspace_id: &str, connection_id: &str) -> NewEvent {
    event_for(workspace_id, connection_id, "connection.disconnected")
}

fn reauthorized_event(workspace_id: &str, connection_id: &str) -> NewEvent {
    event_for(workspace_id, connection_id, "connection.reauthorized")
}

/// A record as a connector would hand it over: stable id and content hash computed the way
/// the sync engine does.
fn record_write(
    connection_id: &str,
    entity: Entity,
    remote_id: &str,
    data: serde_json::Value,
) -> RecordWrite {
    let mut w = RecordWrite {
        id: record_id(connection_id, entity, remote_id),
        remote_id: remote_id.to_owned(),
        data,
        custom_fields: json!({}),
        remote_data: json!({"raw": remote_id}),
        display_name: Some(format!("Record {remote_id}")),
        remote_created_at: None,
        remote_updated_at: None,
        content_hash: String::new(),
    };
    rehash(&mut w);
    w
}

fn rehash(w: &mut RecordWrite) {
    w.content_hash = content_hash(&w.data, &w.custom_fields, w.remote_updated_at.as_ref());
}

fn page_write(
    conn: &Connection,
    entity: Entity,
    run_id: Option<&str>,
    records: Vec<RecordWrite>,
    deleted: &[&str],
    now: Timestamp,
) -> PageWrite {
    PageWrite {
        workspace_id: conn.workspace_id.clone(),
        connection_id: conn.id.clone(),
        entity,
        run_id: run_id.map(str::to_owned),
        records,
        deleted_remote_ids: deleted.iter().map(|s| (*s).to_owned()).collect(),
        checkpoint: None,
        now,
    }
}

/// How reads and events show a stored record (without `remote_data`).
fn record_view(r: &StoredRecord) -> serde_json::Value {
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

fn record_ids(items: &[StoredRecord]) -> Vec<String> {
    items.iter().map(|r| r.id.clone()).collect()
}

fn types(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

/// Sync run ids are `run_…` (millwright_core::ids::prefix has no constant for them yet).
const RUN_PREFIX: &str = "run";

fn run_input(conn: &Connection, entity: Entity, mode: SyncMode) -> NewSyncRun {
    NewSyncRun {
        id: new_id(RUN_PREFIX),
        workspace_id: conn.workspace_id.clone(),
        connection_id: conn.id.clone(),
        entity,
        mode,
        cursor_from: None,
        started_at: time::now(),
    }
}

fn run_end(
    status: RunStatus,
    new_cursor: Option<&str>,
    event: Option<NewEvent>,
    now: Timestamp,
) -> RunEnd {
    RunEnd {
        status,
        error: None,
        new_cursor: new_cursor.map(str::to_owned),
        event,
        now,
    }
}

/// Every event of the workspace but the `connection.created` of its connections, oldest first.
async fn events_after_creation(
    store: &Arc<dyn Store>,
    workspace_id: &str,
    size: u32,
) -> Vec<Event> {
    all_events(store, workspace_id, &EventFilter::default(), size)
        .await
        .into_iter()
        .filter(|e| e.event_type != "connection.created")
        .collect()
}

/// Pages through a workspace's events, checking the page contract, oldest first.
async fn all_events(
    store: &Arc<dyn Store>,
    workspace_id: &str,
    filter: &EventFilter,
    size: u32,
) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    let mut page = PageRequest::first(size);
    loop {
        let p = store
            .list_events(workspace_id, filter, &page)
            .await
            .unwrap();
        assert!(p.items.len() <= size as usize, "page longer than its limit");
        assert!(p.items.iter().all(|e| e.workspace_id == workspace_id));
        out.extend(p.items);
        assert!(out.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
        match p.next_after {
            Some(after) => {
                assert_eq!(Some(&after), out.last().map(|e| &e.id));
                page.after = Some(after);
            }
            None => return out,
        }
    }
}

/// Pages through a connection's sync runs, newest first.
async fn all_runs(
    store: &Arc<dyn Store>,
    workspace_id: &str,
    connection_id: &str,
    size: u32,
) -> Vec<SyncRun> {
    let mut out: Vec<SyncRun> = Vec::new();
    let mut page = PageRequest::first(size);
    loop {
        let p = store
            .list_sync_runs(workspace_id, connection_id, &page)
            .await
            .unwrap();
        assert!(p.items.len() <= size as usize, "page longer than its limit");
        out.extend(p.items);
        assert!(out.windows(2).all(|w| w[0].id > w[1].id), "newest first");
        match p.next_after {
            Some(after) => {
                assert_eq!(Some(&after), out.last().map(|r| &r.id));
                page.after = Some(after);
            }
            None => return out,
        }
    }
}

/// Pages through a record list, checking the keyset contract.
async fn all_records(
    store: &Arc<dyn Store>,
    workspace_id: &str,
    connection_id: &str,
    entity: Entity,
    query: &RecordQuery,
    size: u32,
) -> Vec<StoredRecord> {
    let mut out: Vec<StoredRecord> = Vec::new();
    let mut q = RecordQuery {
        limit: size,
        after: None,
        ..query.clone()
    };
    loop {
        let p = store
            .list_records(workspace_id, connection_id, entity, &q)
            .await
            .unwrap();
        assert!(p.items.len() <= size as usize, "page longer than its limit");
        out.extend(p.items);
        assert!(
            out.windows(2)
                .all(|w| (w[0].updated_at, &w[0].id) < (w[1].updated_at, &w[1].id)),
            "ascending by (updated_at, id)"
        );
        match p.next_after {
            Some(after) => {
                let last = out.last().unwrap();
                assert_eq!(after, (last.updated_at, last.id.clone()));
                q.after = Some(after);
            }
            None => return out,
        }
    }
}

async fn sorted_states(store: &Arc<dyn Store>, connection_id: &str) -> Vec<SyncState> {
    let mut states = store.sync_states(connection_id).await.unwrap();
    states.sort_by_key(|s| s.entity);
    states
}

fn job(kind: &str, run_at: Timestamp) -> NewJob {
    NewJob {
        id: new_id(prefix::JOB),
        kind: kind.into(),
        workspace_id: None,
        connection_id: None,
        payload: json!({}),
        run_at,
        dedupe_key: None,
        created_at: time::now(),
    }
}

fn job_for(conn: &Connection, kind: &str, run_at: Timestamp) -> NewJob {
    NewJob {
        workspace_id: Some(conn.workspace_id.clone()),
        connection_id: Some(conn.id.clone()),
        ..job(kind, run_at)
    }
}

fn request_log(
    workspace_id: Option<&str>,
    connection_id: Option<&str>,
    status: i64,
    created_at: Timestamp,
) -> RequestLog {
    RequestLog {
        request_id: new_id(prefix::REQUEST),
        workspace_id: workspace_id.map(str::to_owned),
        connection_id: connection_id.map(str::to_owned),
        method: "GET".into(),
        path: "/api/v1/work-orders".into(),
        status,
        duration_ms: 12,
        request_headers: json!({"accept": "application/json"}),
        request_body: None,
        response_body: None,
        error_code: None,
        created_at,
    }
}

/// Ids of connections or jobs, in the order given.
fn ids<T: HasId>(items: &[T]) -> Vec<String> {
    items.iter().map(|x| x.id().to_owned()).collect()
}

trait HasId {
    fn id(&self) -> &str;
}

impl HasId for Connection {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for Job {
    fn id(&self) -> &str {
        &self.id
    }
}

/// Pages through a filtered connection list, checking the page contract on the way, and
/// returns every id in the order received.
async fn list_ids(
    store: &Arc<dyn Store>,
    workspace_id: &str,
    filter: &ConnectionFilter,
    size: u32,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut page = PageRequest::first(size);
    loop {
        let p = store
            .list_connections(workspace_id, filter, &page)
            .await
            .unwrap();
        assert!(p.items.len() <= size as usize, "page longer than its limit");
        assert!(p.items.iter().all(|c| c.workspace_id == workspace_id));
        out.extend(ids(&p.items));
        match p.next_after {
            Some(after) => {
                assert_eq!(
                    Some(&after),
                    out.last(),
                    "next_after must be the last id of the page"
                );
                page = PageRequest {
                    after: Some(after),
                    limit: size,
                };
            }
            None => return out,
        }
    }
}

/// A new enabled endpoint input of `ws` with these filters and a random sealed secret.
fn endpoint_input(
    ws: &Workspace,
    event_types: &[&str],
    connection_ids: &[&str],
) -> NewWebhookEndpoint {
    let owned = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    NewWebhookEndpoint {
        id: new_id(ENDPOINT_PREFIX),
        workspace_id: ws.id.clone(),
        url: "https://hooks.example.com/millwright".into(),
        description: None,
        event_types: owned(event_types),
        connection_ids: owned(connection_ids),
        disabled: false,
        sealed_secret: secrets::random_bytes::<48>().to_vec(),
        created_at: time::now(),
    }
}

async fn endpoint(
    store: &Arc<dyn Store>,
    ws: &Workspace,
    event_types: &[&str],
    connection_ids: &[&str],
) -> WebhookEndpoint {
    store
        .create_webhook_endpoint(endpoint_input(ws, event_types, connection_ids))
        .await
        .unwrap()
}

/// An event of `ws`, optionally of a connection (events need no connection row).
fn bare_event(
    ws: &Workspace,
    connection_id: Option<&String>,
    event_type: &str,
    created_at: Timestamp,
) -> NewEvent {
    NewEvent {
        id: new_id(prefix::EVENT),
        workspace_id: ws.id.clone(),
        connection_id: connection_id.cloned(),
        event_type: event_type.to_owned(),
        data: json!({"type": event_type, "nested": {"ok": true}}),
        created_at,
    }
}

/// A `webhook.test` event to `ep` and its delivery, due (and created) at `due`.
fn test_event_input(ep: &WebhookEndpoint, due: Timestamp) -> (NewEvent, NewDelivery) {
    let event = NewEvent {
        id: new_id(prefix::EVENT),
        workspace_id: ep.workspace_id.clone(),
        connection_id: None,
        event_type: "webhook.test".into(),
        data: json!({"endpoint_id": ep.id}),
        created_at: due,
    };
    let delivery = NewDelivery {
        id: new_id(DELIVERY_PREFIX),
        workspace_id: ep.workspace_id.clone(),
        endpoint_id: ep.id.clone(),
        event_id: event.id.clone(),
        event_type: event.event_type.clone(),
        next_attempt_at: due,
        created_at: due,
    };
    (event, delivery)
}

/// A pending delivery to `ep` due at `due` (through a test event, which fan-out never touches).
async fn test_delivery(store: &Arc<dyn Store>, ep: &WebhookEndpoint, due: Timestamp) -> Delivery {
    let (event, delivery) = test_event_input(ep, due);
    store.insert_test_event(event, delivery).await.unwrap()
}

/// An attempt answered with `status_code`, or failing without an answer when `None`.
fn attempt(
    delivery_id: &str,
    attempted_at: Timestamp,
    status_code: Option<i64>,
) -> DeliveryAttempt {
    DeliveryAttempt {
        delivery_id: delivery_id.to_owned(),
        attempted_at,
        status_code,
        duration_ms: 120,
        response_excerpt: status_code.map(|c| format!("{{\"status\": {c}}}")),
        error: status_code
            .is_none()
            .then(|| "connection refused".to_owned()),
    }
}

fn claimed_ids(claimed: &[ClaimedDelivery]) -> Vec<String> {
    claimed.iter().map(|c| c.delivery.id.clone()).collect()
}

/// Pages through a workspace's deliveries, checking the page contract, newest first.
async fn all_deliveries(
    store: &Arc<dyn Store>,
    workspace_id: &str,
    filter: &DeliveryFilter,
    size: u32,
) -> Vec<Delivery> {
    let mut out: Vec<Delivery> = Vec::new();
    let mut page = PageRequest::first(size);
    loop {
        let p = store
            .list_deliveries(workspace_id, filter, &page)
            .await
            .unwrap();
        assert!(p.items.len() <= size as usize, "page longer than its limit");
        assert!(p.items.iter().all(|d| d.workspace_id == workspace_id));
        out.extend(p.items);
        assert!(out.windows(2).all(|w| w[0].id > w[1].id), "newest first");
        match p.next_after {
            Some(after) => {
                assert_eq!(Some(&after), out.last().map(|d| &d.id));
                page.after = Some(after);
            }
            None => return out,
        }
    }
}

/// Pages through a workspace's endpoints, newest first.
async fn all_endpoints(
    store: &Arc<dyn Store>,
    workspace_id: &str,
    size: u32,
) -> Vec<WebhookEndpoint> {
    let mut out: Vec<WebhookEndpoint> = Vec::new();
    let mut page = PageRequest::first(size);
    loop {
        let p = store
            .list_webhook_endpoints(workspace_id, &page)
            .await
            .unwrap();
        assert!(p.items.len() <= size as usize, "page longer than its limit");
        assert!(p.items.iter().all(|e| e.workspace_id == workspace_id));
        out.extend(p.items);
        assert!(out.windows(2).all(|w| w[0].id > w[1].id), "newest first");
        match p.next_after {
            Some(after) => {
                assert_eq!(Some(&after), out.last().map(|e| &e.id));
                page.after = Some(after);
            }
            None => return out,
        }
    }
}

/// Webhook endpoint and delivery ids: `whe_…` and `whd_…` (no constants in
/// millwright_core::ids::prefix yet).
const ENDPOINT_PREFIX: &str = "whe";
const DELIVERY_PREFIX: &str = "whd";

#[cfg(test)]
mod tests {
    /// The macro's list and the `pub async fn`s of this file name the same tests, so a new test
    /// cannot be written and then silently never run.
    #[test]
    fn the_macro_lists_every_test() {
        let source = include_str!("conformance.rs");
        let mut defined: Vec<&str> = source
            .lines()
            .filter_map(|l| l.strip_prefix("pub async fn "))
            .map(|rest| rest.split('(').next().unwrap())
            .collect();
        let mut listed: Vec<&str> = crate::conformance_suite!(@names).to_vec();
        assert_eq!(listed.len(), defined.len(), "duplicates or missing names");
        defined.sort_unstable();
        listed.sort_unstable();
        assert_eq!(listed, defined);
    }
}
