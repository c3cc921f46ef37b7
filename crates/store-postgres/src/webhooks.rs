//! Webhooks on PostgreSQL (migration 0003): endpoints, the fan-out of the events outbox into
//! per-endpoint deliveries, leased delivery claims, attempts, retries and the automatic
//! disabling of failing endpoints.
//!
//! Several nodes run the fan-out and the delivery workers against one database:
//! - `fan_out_events` locks the events it takes `FOR UPDATE SKIP LOCKED`, so two nodes take
//!   disjoint batches, and inserts with `ON CONFLICT (endpoint_id, event_id) DO NOTHING`, so
//!   even a batch taken twice creates each delivery once;
//! - `claim_deliveries` locks the endpoints it claims for `FOR NO KEY UPDATE SKIP LOCKED`, so
//!   claims of one endpoint are serialised and its cap, which counts the deliveries already in
//!   flight, holds across nodes; then it locks its candidates `FOR UPDATE SKIP LOCKED`;
//! - `finish_attempt` and `finish_attempts` write only while the worker still holds the lease.
//!
//! Lock order, so that none of these transactions can deadlock another: an endpoint row before
//! its deliveries (`delete_webhook_endpoint` deletes the endpoint, then cascades to its
//! deliveries; `finish_attempt` with [`AttemptOutcome::Gone`] locks the endpoint before updating
//! the delivery, `finish_attempts` the endpoints of all its `Gone` entries before any delivery),
//! and events before endpoints (`fan_out_events`).

use std::collections::{HashMap, HashSet};

use millwright_core::{
    ids::{new_id, prefix},
    time::Timestamp,
    webhook,
};
use millwright_store::{
    AttemptOutcome, ClaimedDelivery, Delivery, DeliveryAttempt, DeliveryFilter, DeliveryStatus,
    Event, FanOut, NewDelivery, NewEvent, NewWebhookEndpoint, Page, PageRequest, StoreError,
    StoreResult, WebhookEndpoint, WebhookEndpointPatch,
};
use serde_json::json;
use sqlx::{types::Json, PgPool, Postgres, QueryBuilder};

use crate::rows::{self, db_err};
use crate::synced;

/// The prefix of delivery ids (`whd_…`).
const DELIVERY_PREFIX: &str = "whd";
/// The type of test events, which are never fanned out.
const TEST_EVENT_TYPE: &str = "webhook.test";
/// The type of the event appended when an endpoint is disabled for failing.
const DISABLED_EVENT_TYPE: &str = "webhook.endpoint.disabled";
/// `disabled_reason` of an endpoint disabled by `disable_failing_endpoints`.
const REASON_FAILING: &str = "failing for 5 days";
/// `disabled_reason` of an endpoint whose receiver answered `410 Gone`.
const REASON_GONE: &str = "410 Gone";
/// `disabled_reason` of an endpoint the workspace disabled.
const REASON_WORKSPACE: &str = "by the workspace";

// --- endpoints -------------------------------------------------------------------------------

pub(crate) async fn create_endpoint(
    pool: &PgPool,
    new: NewWebhookEndpoint,
) -> StoreResult<WebhookEndpoint> {
    let row = sqlx::query(
        "INSERT INTO webhook_endpoints (id, workspace_id, url, description, event_types, \
         connection_ids, disabled, disabled_reason, sealed_secret, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING *",
    )
    .bind(&new.id)
    .bind(&new.workspace_id)
    .bind(&new.url)
    .bind(&new.description)
    .bind(Json(&new.event_types))
    .bind(Json(&new.connection_ids))
    .bind(new.disabled)
    // Created disabled: the workspace's choice.
    .bind(new.disabled.then_some(REASON_WORKSPACE))
    .bind(&new.sealed_secret)
    .bind(new.created_at)
    .fetch_one(pool)
    .await
    .map_err(db_err)?;
    rows::webhook_endpoint(&row)
}

pub(crate) async fn get_endpoint(
    pool: &PgPool,
    workspace_id: &str,
    id: &str,
) -> StoreResult<Option<WebhookEndpoint>> {
    let row = sqlx::query("SELECT * FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2")
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    row.as_ref().map(rows::webhook_endpoint).transpose()
}

pub(crate) async fn list_endpoints(
    pool: &PgPool,
    workspace_id: &str,
    page: &PageRequest,
) -> StoreResult<Page<WebhookEndpoint>> {
    let mut q =
        QueryBuilder::<Postgres>::new("SELECT * FROM webhook_endpoints WHERE workspace_id = ");
    q.push_bind(workspace_id.to_owned());
    if let Some(after) = &page.after {
        q.push(" AND id < ").push_bind(after.clone());
    }
    q.push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    let found = q.build().fetch_all(pool).await.map_err(db_err)?;
    let items = found
        .iter()
        .map(rows::webhook_endpoint)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |e| e.id.clone()))
}

pub(crate) async fn update_endpoint(
    pool: &PgPool,
    workspace_id: &str,
    id: &str,
    patch: WebhookEndpointPatch,
    now: Timestamp,
) -> StoreResult<WebhookEndpoint> {
    let (rotated_secret, previous_expires_at) = match patch.rotate_secret {
        Some((secret, expires_at)) => (Some(secret), Some(expires_at)),
        None => (None, None),
    };
    // Right-hand sides read the row as it was, so a rotation moves the current secret to the
    // previous one in the same statement. Re-enabling clears the reason; disabling an endpoint
    // that is already disabled keeps the reason it has.
    let row = sqlx::query(
        "UPDATE webhook_endpoints SET \
             url = COALESCE($3, url), \
             description = CASE WHEN $4 THEN $5 ELSE description END, \
             event_types = COALESCE($6, event_types), \
             connection_ids = COALESCE($7, connection_ids), \
             disabled_reason = CASE \
                 WHEN $8 IS NULL THEN disabled_reason \
                 WHEN $8 THEN COALESCE(CASE WHEN disabled THEN disabled_reason END, $9) \
                 ELSE NULL END, \
             disabled = COALESCE($8, disabled), \
             sealed_previous_secret = CASE WHEN $10::bytea IS NULL THEN sealed_previous_secret \
                 ELSE sealed_secret END, \
             previous_secret_expires_at = CASE WHEN $10::bytea IS NULL \
                 THEN previous_secret_expires_at ELSE $11 END, \
             sealed_secret = COALESCE($10, sealed_secret), \
             updated_at = $12 \
         WHERE workspace_id = $1 AND id = $2 RETURNING *",
    )
    .bind(workspace_id)
    .bind(id)
    .bind(patch.url)
    .bind(patch.description.is_some())
    .bind(patch.description.flatten())
    .bind(patch.event_types.map(Json))
    .bind(patch.connection_ids.map(Json))
    .bind(patch.disabled)
    .bind(REASON_WORKSPACE)
    .bind(rotated_secret)
    .bind(previous_expires_at)
    .bind(now)
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    rows::webhook_endpoint(&row.ok_or(StoreError::NotFound)?)
}

pub(crate) async fn delete_endpoint(
    pool: &PgPool,
    workspace_id: &str,
    id: &str,
) -> StoreResult<()> {
    // Deliveries and their attempts go with it (ON DELETE CASCADE).
    let deleted = sqlx::query("DELETE FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2")
        .bind(workspace_id)
        .bind(id)
        .execute(pool)
        .await
        .map_err(db_err)?
        .rows_affected();
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

// --- fan-out ---------------------------------------------------------------------------------

/// `id, workspace_id, event_types, connection_ids` of an endpoint.
type TargetRow = (String, String, Json<Vec<String>>, Json<Vec<String>>);

/// The filters of an enabled endpoint, as the fan-out needs them.
struct Target {
    id: String,
    event_types: Vec<String>,
    connection_ids: Vec<String>,
}

pub(crate) async fn fan_out_events(
    pool: &PgPool,
    limit: u32,
    now: Timestamp,
) -> StoreResult<FanOut> {
    if limit == 0 {
        return Ok(FanOut::default());
    }
    let mut tx = pool.begin().await.map_err(db_err)?;
    // SKIP LOCKED: another node's batch is passed over, not waited for. An event another node
    // fanned out and committed after this statement's snapshot is re-checked when locked and no
    // longer qualifies. A `webhook.test` event appended on its own is taken (and marked done)
    // like any other, but delivered nowhere; `insert_test_event` writes its event fanned out.
    let events: Vec<(String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT id, workspace_id, connection_id, type FROM events WHERE NOT fanned_out \
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    if events.is_empty() {
        return Ok(FanOut::default());
    }

    // The enabled endpoints of the batch's workspaces, once for the batch. FOR KEY SHARE (what
    // the deliveries' foreign key takes anyway) makes a concurrent delete of an endpoint wait
    // for this transaction, or this read wait for the delete and then not see the endpoint.
    let workspaces: Vec<String> = events
        .iter()
        .map(|(_, w, _, _)| w.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let endpoint_rows: Vec<TargetRow> = sqlx::query_as(
        "SELECT id, workspace_id, event_types, connection_ids FROM webhook_endpoints \
         WHERE workspace_id = ANY($1) AND NOT disabled ORDER BY id FOR KEY SHARE",
    )
    .bind(&workspaces)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    let mut targets: HashMap<String, Vec<Target>> = HashMap::new();
    for (id, workspace_id, event_types, connection_ids) in endpoint_rows {
        targets.entry(workspace_id).or_default().push(Target {
            id,
            event_types: event_types.0,
            connection_ids: connection_ids.0,
        });
    }

    let mut ids = Vec::new();
    let mut workspace_ids = Vec::new();
    let mut endpoint_ids = Vec::new();
    let mut event_ids = Vec::new();
    let mut event_types = Vec::new();
    for (event_id, workspace_id, connection_id, event_type) in &events {
        if event_type == TEST_EVENT_TYPE {
            continue;
        }
        for target in targets.get(workspace_id).into_iter().flatten() {
            if webhook::matches(
                &target.event_types,
                &target.connection_ids,
                event_type,
                connection_id.as_deref(),
            ) {
                ids.push(new_id(DELIVERY_PREFIX));
                workspace_ids.push(workspace_id.clone());
                endpoint_ids.push(target.id.clone());
                event_ids.push(event_id.clone());
                event_types.push(event_type.clone());
            }
        }
    }

    let mut deliveries = 0;
    if !ids.is_empty() {
        // One statement for the batch; each column travels as one array parameter.
        deliveries = sqlx::query(
            "INSERT INTO webhook_deliveries (id, workspace_id, endpoint_id, event_id, event_type, \
             status, attempts, next_attempt_at, created_at) \
             SELECT d.id, d.workspace_id, d.endpoint_id, d.event_id, d.event_type, 'pending', 0, $6, $6 \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) \
                 AS d(id, workspace_id, endpoint_id, event_id, event_type) \
             ON CONFLICT (endpoint_id, event_id) DO NOTHING",
        )
        .bind(ids)
        .bind(workspace_ids)
        .bind(endpoint_ids)
        .bind(event_ids)
        .bind(event_types)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
    }

    let taken: Vec<String> = events.iter().map(|(id, _, _, _)| id.clone()).collect();
    sqlx::query("UPDATE events SET fanned_out = true WHERE id = ANY($1)")
        .bind(&taken)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(FanOut {
        events: events.len() as u64,
        deliveries,
    })
}

pub(crate) async fn insert_test_event(
    pool: &PgPool,
    event: NewEvent,
    delivery: NewDelivery,
) -> StoreResult<Delivery> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    // The endpoint must be the workspace's; locked so that a concurrent delete orders around us.
    let found: Option<String> = sqlx::query_scalar(
        "SELECT id FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2 FOR KEY SHARE",
    )
    .bind(&delivery.workspace_id)
    .bind(&delivery.endpoint_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    if found.is_none() {
        return Err(StoreError::NotFound);
    }
    // Written fanned out: its one delivery is the one below, and no fan-out pass takes it.
    sqlx::query(
        "INSERT INTO events (id, workspace_id, connection_id, type, data, created_at, fanned_out) \
         VALUES ($1, $2, $3, $4, $5, $6, true)",
    )
    .bind(&event.id)
    .bind(&event.workspace_id)
    .bind(&event.connection_id)
    .bind(&event.event_type)
    .bind(&event.data)
    .bind(event.created_at)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    let row = sqlx::query(
        "INSERT INTO webhook_deliveries (id, workspace_id, endpoint_id, event_id, event_type, status, \
         attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7) \
         RETURNING *",
    )
    .bind(&delivery.id)
    .bind(&delivery.workspace_id)
    .bind(&delivery.endpoint_id)
    .bind(&delivery.event_id)
    .bind(&delivery.event_type)
    .bind(delivery.next_attempt_at)
    .bind(delivery.created_at)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let delivery = rows::delivery(&row)?;
    tx.commit().await.map_err(db_err)?;
    Ok(delivery)
}

// --- claims and attempts ---------------------------------------------------------------------

pub(crate) async fn claim_deliveries(
    pool: &PgPool,
    worker: &str,
    now: Timestamp,
    lease: chrono::Duration,
    per_endpoint: u32,
    limit: u32,
) -> StoreResult<Vec<ClaimedDelivery>> {
    if per_endpoint == 0 || limit == 0 {
        return Ok(Vec::new());
    }
    let lease_expires_at = now.checked_add_signed(lease).ok_or_else(|| {
        StoreError::Backend(format!("lease of {lease} from {now} is out of range"))
    })?;
    let mut tx = pool.begin().await.map_err(db_err)?;
    // The cap counts deliveries already in flight (leased by any worker, lease not expired), so
    // two claimers must not both count an endpoint's in-flight deliveries and both fill up to
    // the cap. Claims are serialised per endpoint by locking the endpoint rows first, in their
    // own statement:
    // - a row lock rather than an advisory lock: it is keyed exactly by the endpoint (no hash
    //   collisions, no shared advisory namespace), it follows the lock order (an endpoint before
    //   its deliveries), and FOR NO KEY UPDATE does not conflict with the FOR KEY SHARE that the
    //   fan-out and the deliveries' foreign key take, so it never slows the fan-out down;
    // - SKIP LOCKED: an endpoint another claimer is claiming right now is that claimer's to fill
    //   in this pass; this claim passes over it instead of queueing behind it. The claim thus
    //   never waits on a lock and cannot take part in a deadlock (even with a multi-row UPDATE of
    //   endpoints in another order, such as `disable_failing_endpoints`);
    // - only enabled endpoints with something due are locked, in id order;
    // - a separate statement, because under READ COMMITTED the next statement takes its snapshot
    //   after these locks are held: it sees every lease committed by the endpoint's previous
    //   claimer, and no later claimer can lease for the endpoint before this one commits;
    // - "something due" is a LATERAL … LIMIT 1 per endpoint, not EXISTS: PostgreSQL turns that
    //   EXISTS into a hash semi-join over every due delivery (15 ms per claim with a 20,000
    //   backlog), whereas this reads each endpoint's first due row from its pending index.
    let claimable: Vec<String> = sqlx::query_scalar(
        "SELECT e.id FROM webhook_endpoints e \
         CROSS JOIN LATERAL ( \
             SELECT 1 FROM webhook_deliveries d \
             WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= $1 \
               AND (d.lease_expires_at IS NULL OR d.lease_expires_at < $1) \
             LIMIT 1) due \
         WHERE NOT e.disabled \
         ORDER BY e.id FOR NO KEY UPDATE OF e SKIP LOCKED",
    )
    .bind(now)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    if claimable.is_empty() {
        tx.rollback().await.map_err(db_err)?;
        return Ok(Vec::new());
    }
    // - `locked` takes, per endpoint locked above, its oldest due deliveries not locked by
    //   another transaction (SKIP LOCKED), at most `per_endpoint` minus the endpoint's deliveries
    //   in flight: an endpoint at its cap contributes nothing, a backlog on one endpoint neither
    //   starves the others nor is locked wholesale. MATERIALIZED: computed (and locked) once.
    // - `picked` keeps the `limit` oldest due of them.
    // - the UPDATE leases exactly those; the locked rows left out are released at commit.
    let claimed = sqlx::query(
        "WITH locked AS MATERIALIZED ( \
             SELECT c.id, c.next_attempt_at \
             FROM webhook_endpoints e \
             CROSS JOIN LATERAL ( \
                 SELECT count(*) AS n FROM webhook_deliveries f \
                 WHERE f.endpoint_id = e.id AND f.status = 'pending' \
                   AND f.lease_expires_at >= $2) in_flight \
             CROSS JOIN LATERAL ( \
                 SELECT d.id, d.next_attempt_at FROM webhook_deliveries d \
                 WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= $2 \
                   AND (d.lease_expires_at IS NULL OR d.lease_expires_at < $2) \
                 ORDER BY d.next_attempt_at, d.id \
                 LIMIT GREATEST($4 - in_flight.n, 0) \
                 FOR UPDATE OF d SKIP LOCKED) c \
             WHERE e.id = ANY($6) AND NOT e.disabled AND in_flight.n < $4), \
         picked AS ( \
             SELECT id FROM locked ORDER BY next_attempt_at, id LIMIT $5) \
         UPDATE webhook_deliveries AS d SET lease_owner = $1, lease_expires_at = $3 \
         FROM picked WHERE d.id = picked.id \
         RETURNING d.*",
    )
    .bind(worker)
    .bind(now)
    .bind(lease_expires_at)
    .bind(i64::from(per_endpoint))
    .bind(i64::from(limit))
    .bind(&claimable)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    let mut deliveries = claimed
        .iter()
        .map(rows::delivery)
        .collect::<StoreResult<Vec<Delivery>>>()?;
    if deliveries.is_empty() {
        // Ended here, not by dropping `tx`: sqlx rolls a dropped transaction back only when its
        // connection is next used, and until then the endpoint locks taken above would make
        // other claims pass over those endpoints.
        tx.rollback().await.map_err(db_err)?;
        return Ok(Vec::new());
    }
    // RETURNING has no defined order; callers get the oldest due first.
    deliveries.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));

    // What sending needs, read in the same transaction: a concurrent delete of an endpoint waits
    // for the endpoint and delivery rows locked above, so the endpoints are still there.
    let event_ids: Vec<String> = deliveries.iter().map(|d| d.event_id.clone()).collect();
    let endpoint_ids: Vec<String> = deliveries.iter().map(|d| d.endpoint_id.clone()).collect();
    let events = sqlx::query("SELECT * FROM events WHERE id = ANY($1)")
        .bind(&event_ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| rows::event(row).map(|e| (e.id.clone(), e)))
        .collect::<StoreResult<HashMap<String, Event>>>()?;
    let endpoints = sqlx::query("SELECT * FROM webhook_endpoints WHERE id = ANY($1)")
        .bind(&endpoint_ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| rows::webhook_endpoint(row).map(|e| (e.id.clone(), e)))
        .collect::<StoreResult<HashMap<String, WebhookEndpoint>>>()?;
    tx.commit().await.map_err(db_err)?;

    deliveries
        .into_iter()
        .map(|delivery| {
            let event = events.get(&delivery.event_id).cloned().ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "delivery {}: event {} is missing",
                    delivery.id, delivery.event_id
                ))
            })?;
            let endpoint = endpoints
                .get(&delivery.endpoint_id)
                .cloned()
                .ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "delivery {}: endpoint {} is missing",
                        delivery.id, delivery.endpoint_id
                    ))
                })?;
            Ok(ClaimedDelivery {
                delivery,
                event,
                endpoint,
            })
        })
        .collect()
}

pub(crate) async fn finish_attempt(
    pool: &PgPool,
    delivery_id: &str,
    worker: &str,
    attempt: DeliveryAttempt,
    outcome: AttemptOutcome,
) -> StoreResult<bool> {
    let (status, next_attempt_at) = match outcome {
        AttemptOutcome::Succeeded => (DeliveryStatus::Succeeded, None),
        AttemptOutcome::RetryAt(at) => (DeliveryStatus::Pending, Some(at)),
        AttemptOutcome::Failed | AttemptOutcome::Gone => (DeliveryStatus::Failed, None),
    };
    let mut tx = pool.begin().await.map_err(db_err)?;
    if outcome == AttemptOutcome::Gone {
        // The endpoint first (the lock order: endpoint, then its deliveries), so a concurrent
        // delete of the endpoint cannot deadlock with this. A delivery never changes endpoint.
        let endpoint_id: Option<String> =
            sqlx::query_scalar("SELECT endpoint_id FROM webhook_deliveries WHERE id = $1")
                .bind(delivery_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        let Some(endpoint_id) = endpoint_id else {
            return Ok(false);
        };
        sqlx::query(
            "UPDATE webhook_endpoints SET disabled = true, disabled_reason = $2, updated_at = $3 \
             WHERE id = $1 AND NOT disabled",
        )
        .bind(&endpoint_id)
        .bind(REASON_GONE)
        .bind(attempt.attempted_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    // Only while the worker holds the lease; releasing it in the same statement.
    let updated = sqlx::query(
        "UPDATE webhook_deliveries SET status = $3, attempts = attempts + 1, next_attempt_at = $4, \
         last_attempt_at = $5, first_attempt_at = COALESCE(first_attempt_at, $5), \
         lease_owner = NULL, lease_expires_at = NULL \
         WHERE id = $1 AND lease_owner = $2",
    )
    .bind(delivery_id)
    .bind(worker)
    .bind(status.as_str())
    .bind(next_attempt_at)
    .bind(attempt.attempted_at)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?
    .rows_affected();
    if updated == 0 {
        // Rolled back, the endpoint's disabling included; explicitly, since a dropped `tx` would
        // keep the endpoint row locked (and claims passing over it) until its connection's next
        // use.
        tx.rollback().await.map_err(db_err)?;
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, duration_ms, \
         response_excerpt, error) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(delivery_id)
    .bind(attempt.attempted_at)
    .bind(attempt.status_code)
    .bind(attempt.duration_ms)
    .bind(&attempt.response_excerpt)
    .bind(&attempt.error)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(true)
}

/// [`finish_attempt`] for a batch, in one transaction of a few statements whatever its size:
/// one `UPDATE … FROM unnest(…)` of the deliveries still leased to `worker`, one `INSERT … SELECT
/// FROM unnest(…)` of their attempts and, for `410` answers, one update of their endpoints.
pub(crate) async fn finish_attempts(
    pool: &PgPool,
    worker: &str,
    attempts: &[(DeliveryAttempt, AttemptOutcome)],
) -> StoreResult<Vec<bool>> {
    // A delivery named again later in the batch: its first entry releases the lease, so, as
    // with `finish_attempt` called in order, the later entries write nothing.
    let mut seen = HashSet::new();
    let first: Vec<bool> = attempts
        .iter()
        .map(|(a, _)| seen.insert(a.delivery_id.as_str()))
        .collect();
    let batch: Vec<&(DeliveryAttempt, AttemptOutcome)> = attempts
        .iter()
        .zip(&first)
        .filter_map(|(entry, first)| first.then_some(entry))
        .collect();
    if batch.is_empty() {
        return Ok(first);
    }
    let mut tx = pool.begin().await.map_err(db_err)?;
    let gone: Vec<&str> = batch
        .iter()
        .filter(|(_, o)| *o == AttemptOutcome::Gone)
        .map(|(a, _)| a.delivery_id.as_str())
        .collect();
    if !gone.is_empty() {
        // The lock order (an endpoint before its deliveries): the endpoints of the `410`
        // answers are locked first, in id order, before any delivery row is updated.
        sqlx::query(
            "SELECT e.id FROM webhook_endpoints e WHERE e.id IN ( \
                 SELECT endpoint_id FROM webhook_deliveries WHERE id = ANY($1)) \
             ORDER BY e.id FOR NO KEY UPDATE OF e",
        )
        .bind(&gone)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    let mut ids = Vec::with_capacity(batch.len());
    let mut statuses = Vec::with_capacity(batch.len());
    let mut nexts: Vec<Option<Timestamp>> = Vec::with_capacity(batch.len());
    let mut ats = Vec::with_capacity(batch.len());
    for (a, outcome) in &batch {
        let (status, next) = match outcome {
            AttemptOutcome::Succeeded => (DeliveryStatus::Succeeded, None),
            AttemptOutcome::RetryAt(at) => (DeliveryStatus::Pending, Some(*at)),
            AttemptOutcome::Failed | AttemptOutcome::Gone => (DeliveryStatus::Failed, None),
        };
        ids.push(a.delivery_id.as_str());
        statuses.push(status.as_str());
        nexts.push(next);
        ats.push(a.attempted_at);
    }
    // Only the deliveries still leased to `worker`, releasing the lease in the same statement.
    let updated: Vec<(String, String)> = sqlx::query_as(
        "UPDATE webhook_deliveries AS d SET status = i.status, attempts = d.attempts + 1, \
         next_attempt_at = i.next_attempt_at, last_attempt_at = i.attempted_at, \
         first_attempt_at = COALESCE(d.first_attempt_at, i.attempted_at), \
         lease_owner = NULL, lease_expires_at = NULL \
         FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) \
             AS i(id, status, next_attempt_at, attempted_at) \
         WHERE d.id = i.id AND d.lease_owner = $1 \
         RETURNING d.id, d.endpoint_id",
    )
    .bind(worker)
    .bind(&ids)
    .bind(&statuses)
    .bind(&nexts)
    .bind(&ats)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    if updated.is_empty() {
        // Explicitly, since a dropped `tx` would keep the endpoints locked above until its
        // connection's next use.
        tx.rollback().await.map_err(db_err)?;
        return Ok(vec![false; attempts.len()]);
    }
    let endpoint_of: HashMap<&str, &str> = updated
        .iter()
        .map(|(id, endpoint)| (id.as_str(), endpoint.as_str()))
        .collect();
    let recorded: Vec<&(DeliveryAttempt, AttemptOutcome)> = batch
        .into_iter()
        .filter(|(a, _)| endpoint_of.contains_key(a.delivery_id.as_str()))
        .collect();

    // Each endpoint that answered 410, with the time of its first such attempt in the batch
    // (the one that disables it when they are recorded one after the other).
    let mut disabled = HashSet::new();
    let (mut gone_endpoints, mut gone_at) = (Vec::new(), Vec::new());
    for (a, outcome) in &recorded {
        let endpoint = endpoint_of[a.delivery_id.as_str()];
        if *outcome == AttemptOutcome::Gone && disabled.insert(endpoint) {
            gone_endpoints.push(endpoint);
            gone_at.push(a.attempted_at);
        }
    }
    if !gone_endpoints.is_empty() {
        sqlx::query(
            "UPDATE webhook_endpoints AS e SET disabled = true, disabled_reason = $3, \
             updated_at = g.at \
             FROM unnest($1::text[], $2::timestamptz[]) AS g(id, at) \
             WHERE e.id = g.id AND NOT e.disabled",
        )
        .bind(&gone_endpoints)
        .bind(&gone_at)
        .bind(REASON_GONE)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }

    // In batch order (WITH ORDINALITY), so that attempt ids, which order a delivery's
    // attempts, follow it.
    let delivery_ids: Vec<&str> = recorded
        .iter()
        .map(|(a, _)| a.delivery_id.as_str())
        .collect();
    let attempted_at: Vec<Timestamp> = recorded.iter().map(|(a, _)| a.attempted_at).collect();
    let status_codes: Vec<Option<i64>> = recorded.iter().map(|(a, _)| a.status_code).collect();
    let durations: Vec<i64> = recorded.iter().map(|(a, _)| a.duration_ms).collect();
    let excerpts: Vec<Option<&str>> = recorded
        .iter()
        .map(|(a, _)| a.response_excerpt.as_deref())
        .collect();
    let errors: Vec<Option<&str>> = recorded.iter().map(|(a, _)| a.error.as_deref()).collect();
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, duration_ms, \
         response_excerpt, error) \
         SELECT delivery_id, attempted_at, status_code, duration_ms, response_excerpt, error \
         FROM unnest($1::text[], $2::timestamptz[], $3::int8[], $4::int8[], $5::text[], \
                     $6::text[]) WITH ORDINALITY \
             AS a(delivery_id, attempted_at, status_code, duration_ms, response_excerpt, error, n) \
         ORDER BY n",
    )
    .bind(&delivery_ids)
    .bind(&attempted_at)
    .bind(&status_codes)
    .bind(&durations)
    .bind(&excerpts)
    .bind(&errors)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;

    Ok(attempts
        .iter()
        .zip(first)
        .map(|((a, _), first)| first && endpoint_of.contains_key(a.delivery_id.as_str()))
        .collect())
}

// --- reads, retries, recovery ----------------------------------------------------------------

pub(crate) async fn list_deliveries(
    pool: &PgPool,
    workspace_id: &str,
    filter: &DeliveryFilter,
    page: &PageRequest,
) -> StoreResult<Page<Delivery>> {
    let mut q =
        QueryBuilder::<Postgres>::new("SELECT * FROM webhook_deliveries WHERE workspace_id = ");
    q.push_bind(workspace_id.to_owned());
    if let Some(endpoint_id) = &filter.endpoint_id {
        q.push(" AND endpoint_id = ").push_bind(endpoint_id.clone());
    }
    if let Some(status) = filter.status {
        q.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(event_id) = &filter.event_id {
        q.push(" AND event_id = ").push_bind(event_id.clone());
    }
    if let Some(after) = &page.after {
        q.push(" AND id < ").push_bind(after.clone());
    }
    q.push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    let found = q.build().fetch_all(pool).await.map_err(db_err)?;
    let items = found
        .iter()
        .map(rows::delivery)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, |d| d.id.clone()))
}

pub(crate) async fn get_delivery(
    pool: &PgPool,
    workspace_id: &str,
    id: &str,
) -> StoreResult<Option<Delivery>> {
    let row = sqlx::query("SELECT * FROM webhook_deliveries WHERE workspace_id = $1 AND id = $2")
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    row.as_ref().map(rows::delivery).transpose()
}

pub(crate) async fn delivery_attempts(
    pool: &PgPool,
    workspace_id: &str,
    delivery_ids: &[String],
) -> StoreResult<Vec<DeliveryAttempt>> {
    if delivery_ids.is_empty() {
        return Ok(Vec::new());
    }
    // Another workspace's deliveries contribute nothing.
    let found = sqlx::query(
        "SELECT a.* FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id \
         WHERE d.workspace_id = $1 AND a.delivery_id = ANY($2) ORDER BY a.id",
    )
    .bind(workspace_id)
    .bind(delivery_ids)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    found.iter().map(rows::delivery_attempt).collect()
}

pub(crate) async fn retry_delivery(
    pool: &PgPool,
    workspace_id: &str,
    id: &str,
    now: Timestamp,
) -> StoreResult<Delivery> {
    // A lease in flight is left alone: its worker still finishes (or loses) it as usual, and no
    // second worker can send the same delivery meanwhile.
    let row = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3, \
         first_attempt_at = NULL WHERE workspace_id = $1 AND id = $2 RETURNING *",
    )
    .bind(workspace_id)
    .bind(id)
    .bind(now)
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    rows::delivery(&row.ok_or(StoreError::NotFound)?)
}

pub(crate) async fn recover_deliveries(
    pool: &PgPool,
    workspace_id: &str,
    endpoint_id: &str,
    since: Timestamp,
    now: Timestamp,
) -> StoreResult<u64> {
    // Scoped by workspace: another workspace's endpoint recovers nothing.
    let recovered = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $4, \
         first_attempt_at = NULL \
         WHERE workspace_id = $1 AND endpoint_id = $2 AND status = 'failed' AND created_at >= $3",
    )
    .bind(workspace_id)
    .bind(endpoint_id)
    .bind(since)
    .bind(now)
    .execute(pool)
    .await
    .map_err(db_err)?
    .rows_affected();
    Ok(recovered)
}

pub(crate) async fn disable_failing_endpoints(
    pool: &PgPool,
    cutoff: Timestamp,
    now: Timestamp,
) -> StoreResult<Vec<WebhookEndpoint>> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    // A conditional UPDATE: two nodes running this at once queue on the row lock, and the second
    // re-checks `NOT disabled` on the committed row, so each endpoint is disabled (and announced)
    // once. A success is a delivery that succeeded: its last attempt is the successful one.
    let found = sqlx::query(
        "UPDATE webhook_endpoints AS e SET disabled = true, disabled_reason = $2, updated_at = $3 \
         WHERE NOT e.disabled \
           AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = e.id \
                       AND d.status = 'failed' AND d.first_attempt_at <= $1) \
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = e.id \
                           AND d.status = 'succeeded' AND d.last_attempt_at > $1) \
         RETURNING e.*",
    )
    .bind(cutoff)
    .bind(REASON_FAILING)
    .bind(now)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    let mut disabled = found
        .iter()
        .map(rows::webhook_endpoint)
        .collect::<StoreResult<Vec<_>>>()?;
    disabled.sort_by(|a, b| a.id.cmp(&b.id));
    for endpoint in &disabled {
        let event = NewEvent {
            id: new_id(prefix::EVENT),
            workspace_id: endpoint.workspace_id.clone(),
            connection_id: None,
            event_type: DISABLED_EVENT_TYPE.to_owned(),
            data: json!({
                "endpoint": {
                    "id": endpoint.id,
                    "url": endpoint.url,
                    "disabled_reason": endpoint.disabled_reason,
                }
            }),
            created_at: now,
        };
        synced::insert_event(&mut tx, &event).await?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(disabled)
}
