//! Webhook endpoints, the fan-out of events into deliveries, and leased delivery attempts.
//!
//! Every write runs in the IMMEDIATE transaction of [`crate::pool::Pool::write`]: the single
//! writer serialises fan-outs and claims, so two workers can never fan out the same event or
//! claim the same delivery (PostgreSQL needs `FOR UPDATE SKIP LOCKED` for the same guarantee).
//! Endpoint filters (`event_types`, `connection_ids`) are stored as JSON arrays of strings.

use std::collections::{BTreeSet, HashMap};

use millwright_core::{
    ids::{new_id, prefix},
    time::Timestamp,
    webhook,
};
use millwright_store::{
    AttemptOutcome, ClaimedDelivery, Delivery, DeliveryAttempt, DeliveryFilter, Event, FanOut,
    NewDelivery, NewEvent, NewWebhookEndpoint, Page, PageRequest, StoreError, StoreResult,
    WebhookEndpoint, WebhookEndpointPatch,
};
use rusqlite::{params, types::Value as SqlValue, Connection as SqlConn, OptionalExtension};
use serde_json::json;

use crate::decode::{
    self, all, micros, micros_opt, optional, string_list_text, ATTEMPT_COLS, DELIVERY_COLS,
    EVENT_COLS, WEBHOOK_ENDPOINT_COLS,
};
use crate::error::Db;
use crate::events;
use crate::records::json_list;
use crate::workspaces::inserted_nothing;

/// Delivery ids: `whd_…` (millwright_core::ids::prefix has no constant for them).
const DELIVERY_PREFIX: &str = "whd";
/// Events of this type carry their own delivery and are never fanned out.
const TEST_EVENT: &str = "webhook.test";
const ENDPOINT_DISABLED_EVENT: &str = "webhook.endpoint.disabled";
const BY_THE_WORKSPACE: &str = "by the workspace";
const GONE: &str = "410 Gone";
/// The reason `disable_failing` gives. Fixed rather than derived from the cutoff, as on
/// PostgreSQL: the webhook worker's policy is five days.
const FAILING: &str = "failing for 5 days";

// --- endpoints ---------------------------------------------------------------------------

pub(crate) fn create_endpoint(
    c: &SqlConn,
    new: &NewWebhookEndpoint,
) -> StoreResult<WebhookEndpoint> {
    let sql = format!(
        "INSERT INTO webhook_endpoints (id, workspace_id, url, description, event_types, \
         connection_ids, disabled, disabled_reason, sealed_secret, sealed_previous_secret, \
         previous_secret_expires_at, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, NULL, ?10, ?10) \
         RETURNING {WEBHOOK_ENDPOINT_COLS}"
    );
    let p = params![
        new.id,
        new.workspace_id,
        new.url,
        new.description,
        string_list_text(&new.event_types)?,
        string_list_text(&new.connection_ids)?,
        i64::from(new.disabled),
        new.disabled.then_some(BY_THE_WORKSPACE),
        new.sealed_secret,
        micros(&new.created_at),
    ];
    optional(c.prepare_cached(&sql).db()?, p, decode::webhook_endpoint)?
        .ok_or_else(|| inserted_nothing("webhook endpoint"))
}

pub(crate) fn get_endpoint(
    c: &SqlConn,
    workspace_id: &str,
    id: &str,
) -> StoreResult<Option<WebhookEndpoint>> {
    let sql = format!(
        "SELECT {WEBHOOK_ENDPOINT_COLS} FROM webhook_endpoints WHERE workspace_id = ?1 AND id = ?2"
    );
    optional(
        c.prepare_cached(&sql).db()?,
        [workspace_id, id],
        decode::webhook_endpoint,
    )
}

pub(crate) fn list_endpoints(
    c: &SqlConn,
    workspace_id: &str,
    page: &PageRequest,
) -> StoreResult<Page<WebhookEndpoint>> {
    let mut sql =
        format!("SELECT {WEBHOOK_ENDPOINT_COLS} FROM webhook_endpoints WHERE workspace_id = ?");
    let mut args: Vec<SqlValue> = vec![workspace_id.to_owned().into()];
    if let Some(after) = &page.after {
        sql.push_str(" AND id < ?");
        args.push(after.clone().into());
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    args.push(SqlValue::Integer(i64::from(page.limit) + 1));
    let rows = all(
        c.prepare_cached(&sql).db()?,
        rusqlite::params_from_iter(args),
        decode::webhook_endpoint,
    )?;
    Ok(Page::from_overfetch(rows, page.limit, |e| e.id.clone()))
}

/// Reads the endpoint, applies the patch and writes every column back: the IMMEDIATE
/// transaction holds the write lock from the read to the commit, so nothing slips in between.
pub(crate) fn update_endpoint(
    c: &SqlConn,
    workspace_id: &str,
    id: &str,
    patch: &WebhookEndpointPatch,
    now: &Timestamp,
) -> StoreResult<WebhookEndpoint> {
    let mut e = get_endpoint(c, workspace_id, id)?.ok_or(StoreError::NotFound)?;
    if let Some(url) = &patch.url {
        e.url = url.clone();
    }
    if let Some(description) = &patch.description {
        e.description = description.clone();
    }
    if let Some(types) = &patch.event_types {
        e.event_types = types.clone();
    }
    if let Some(connections) = &patch.connection_ids {
        e.connection_ids = connections.clone();
    }
    match patch.disabled {
        None => {}
        Some(false) => {
            e.disabled = false;
            e.disabled_reason = None;
        }
        // Disabling an endpoint that is already disabled keeps the first reason ("410 Gone").
        Some(true) if e.disabled => {}
        Some(true) => {
            e.disabled = true;
            e.disabled_reason = Some(BY_THE_WORKSPACE.to_owned());
        }
    }
    if let Some((secret, previous_expires_at)) = &patch.rotate_secret {
        e.sealed_previous_secret = Some(std::mem::replace(&mut e.sealed_secret, secret.clone()));
        e.previous_secret_expires_at = Some(*previous_expires_at);
    }
    let sql = format!(
        "UPDATE webhook_endpoints SET url = ?3, description = ?4, event_types = ?5, \
         connection_ids = ?6, disabled = ?7, disabled_reason = ?8, sealed_secret = ?9, \
         sealed_previous_secret = ?10, previous_secret_expires_at = ?11, updated_at = ?12 \
         WHERE workspace_id = ?1 AND id = ?2 RETURNING {WEBHOOK_ENDPOINT_COLS}"
    );
    let p = params![
        workspace_id,
        id,
        e.url,
        e.description,
        string_list_text(&e.event_types)?,
        string_list_text(&e.connection_ids)?,
        i64::from(e.disabled),
        e.disabled_reason,
        e.sealed_secret,
        e.sealed_previous_secret,
        micros_opt(&e.previous_secret_expires_at),
        micros(now),
    ];
    optional(c.prepare_cached(&sql).db()?, p, decode::webhook_endpoint)?.ok_or(StoreError::NotFound)
}

/// Deliveries and their attempts go with the endpoint (`ON DELETE CASCADE`).
pub(crate) fn delete_endpoint(c: &SqlConn, workspace_id: &str, id: &str) -> StoreResult<()> {
    let n = c
        .prepare_cached("DELETE FROM webhook_endpoints WHERE workspace_id = ?1 AND id = ?2")
        .db()?
        .execute([workspace_id, id])
        .db()?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

// --- fan-out -----------------------------------------------------------------------------

fn insert_delivery(c: &SqlConn, d: &NewDelivery) -> StoreResult<bool> {
    let n = c
        .prepare_cached(
            "INSERT INTO webhook_deliveries (id, workspace_id, endpoint_id, event_id, event_type, \
             status, attempts, next_attempt_at, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, ?6, ?7) \
             ON CONFLICT (endpoint_id, event_id) DO NOTHING",
        )
        .db()?
        .execute(params![
            d.id,
            d.workspace_id,
            d.endpoint_id,
            d.event_id,
            d.event_type,
            micros(&d.next_attempt_at),
            micros(&d.created_at),
        ])
        .db()?;
    Ok(n == 1)
}

pub(crate) fn fan_out(c: &SqlConn, limit: u32, now: &Timestamp) -> StoreResult<FanOut> {
    if limit == 0 {
        return Ok(FanOut::default());
    }
    let sql = format!("SELECT {EVENT_COLS} FROM events WHERE fanned_out = 0 ORDER BY id LIMIT ?1");
    let events: Vec<Event> = all(
        c.prepare_cached(&sql).db()?,
        [i64::from(limit)],
        decode::event,
    )?;
    if events.is_empty() {
        return Ok(FanOut::default());
    }

    // The enabled endpoints of every workspace in the batch, loaded once.
    let workspaces: BTreeSet<&str> = events.iter().map(|e| e.workspace_id.as_str()).collect();
    let workspaces: Vec<&str> = workspaces.into_iter().collect();
    let sql = format!(
        "SELECT {WEBHOOK_ENDPOINT_COLS} FROM webhook_endpoints WHERE disabled = 0 \
         AND workspace_id IN (SELECT value FROM json_each(?1)) ORDER BY id"
    );
    let endpoints = all(
        c.prepare_cached(&sql).db()?,
        [json_list(&workspaces)?],
        decode::webhook_endpoint,
    )?;
    let mut by_workspace: HashMap<&str, Vec<&WebhookEndpoint>> = HashMap::new();
    for e in &endpoints {
        by_workspace
            .entry(e.workspace_id.as_str())
            .or_default()
            .push(e);
    }

    let mut deliveries = 0u64;
    for event in events.iter().filter(|e| e.event_type != TEST_EVENT) {
        let candidates = by_workspace.get(event.workspace_id.as_str());
        for endpoint in candidates.into_iter().flatten() {
            if !webhook::matches(
                &endpoint.event_types,
                &endpoint.connection_ids,
                &event.event_type,
                event.connection_id.as_deref(),
            ) {
                continue;
            }
            let inserted = insert_delivery(
                c,
                &NewDelivery {
                    id: new_id(DELIVERY_PREFIX),
                    workspace_id: event.workspace_id.clone(),
                    endpoint_id: endpoint.id.clone(),
                    event_id: event.id.clone(),
                    event_type: event.event_type.clone(),
                    next_attempt_at: *now,
                    created_at: *now,
                },
            )?;
            deliveries += u64::from(inserted);
        }
    }

    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    c.prepare_cached(
        "UPDATE events SET fanned_out = 1 WHERE id IN (SELECT value FROM json_each(?1))",
    )
    .db()?
    .execute([json_list(&ids)?])
    .db()?;
    Ok(FanOut {
        events: events.len() as u64,
        deliveries,
    })
}

pub(crate) fn insert_test_event(
    c: &SqlConn,
    event: &NewEvent,
    delivery: &NewDelivery,
) -> StoreResult<Delivery> {
    if delivery.event_id != event.id
        || delivery.workspace_id != event.workspace_id
        || delivery.event_type != event.event_type
    {
        return Err(StoreError::Backend(format!(
            "delivery {} (event {}, workspace {}, type {}) does not describe event {} \
             (workspace {}, type {})",
            delivery.id,
            delivery.event_id,
            delivery.workspace_id,
            delivery.event_type,
            event.id,
            event.workspace_id,
            event.event_type
        )));
    }
    // The endpoint must be the workspace's own; another tenant's id is as unknown as a made-up one.
    let owned = c
        .prepare_cached("SELECT 1 FROM webhook_endpoints WHERE workspace_id = ?1 AND id = ?2")
        .db()?
        .exists([&delivery.workspace_id, &delivery.endpoint_id])
        .db()?;
    if !owned {
        return Err(StoreError::NotFound);
    }
    events::insert(c, event)?;
    c.prepare_cached("UPDATE events SET fanned_out = 1 WHERE id = ?1")
        .db()?
        .execute([&event.id])
        .db()?;
    if !insert_delivery(c, delivery)? {
        return Err(StoreError::Conflict(format!(
            "a delivery of event {} to endpoint {} exists",
            event.id, delivery.endpoint_id
        )));
    }
    let sql = format!("SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE id = ?1");
    optional(
        c.prepare_cached(&sql).db()?,
        [&delivery.id],
        decode::delivery,
    )?
    .ok_or_else(|| inserted_nothing("delivery"))
}

// --- delivery attempts -------------------------------------------------------------------

/// Leases the due deliveries and returns them, oldest due first, with their event and endpoint.
///
/// Never ranks the whole backlog: per enabled endpoint, the deliveries in flight (pending, lease
/// not expired) are counted from the small `webhook_deliveries_endpoint_leased` index, and at
/// most `min(per_endpoint - in_flight, limit)` of its oldest claimable deliveries are read in
/// order from `webhook_deliveries_endpoint_due`; the oldest `limit` of those candidates are
/// leased. All of it runs in the one IMMEDIATE transaction, so the counts cannot go stale.
pub(crate) fn claim(
    c: &SqlConn,
    worker: &str,
    now: &Timestamp,
    lease: chrono::Duration,
    per_endpoint: u32,
    limit: u32,
) -> StoreResult<Vec<ClaimedDelivery>> {
    if per_endpoint == 0 || limit == 0 {
        return Ok(Vec::new());
    }
    let expires = now
        .checked_add_signed(lease)
        .ok_or_else(|| StoreError::Backend(format!("lease {lease} overflows the time range")))?;
    let now_us = micros(now);

    // Each enabled endpoint with its room under the cap (the cap less its deliveries in flight).
    let mut stmt = c
        .prepare_cached(
            "SELECT e.id, ?1 - (SELECT COUNT(*) FROM webhook_deliveries d \
               INDEXED BY webhook_deliveries_endpoint_leased \
               WHERE d.endpoint_id = e.id AND d.status = 'pending' \
               AND d.lease_expires_at IS NOT NULL AND d.lease_expires_at >= ?2) \
             FROM webhook_endpoints e WHERE e.disabled = 0",
        )
        .db()?;
    let endpoints: Vec<(String, i64)> = stmt
        .query_map(params![i64::from(per_endpoint), now_us], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .db()?
        .collect::<Result<_, _>>()
        .db()?;
    drop(stmt);

    // Each endpoint's oldest claimable deliveries, at most its room (and never more than
    // `limit`, which is all that can be taken in all).
    let mut candidates: Vec<(i64, String)> = Vec::new();
    let mut take = c
        .prepare_cached(
            "SELECT next_attempt_at, id FROM webhook_deliveries \
             INDEXED BY webhook_deliveries_endpoint_due \
             WHERE endpoint_id = ?1 AND status = 'pending' AND next_attempt_at <= ?2 \
             AND (lease_expires_at IS NULL OR lease_expires_at < ?2) \
             ORDER BY next_attempt_at, id LIMIT ?3",
        )
        .db()?;
    for (endpoint_id, room) in &endpoints {
        if *room <= 0 {
            continue;
        }
        let n = (*room).min(i64::from(limit));
        let rows = take
            .query_map(params![endpoint_id, now_us, n], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .db()?;
        for row in rows {
            candidates.push(row.db()?);
        }
    }
    drop(take);
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    // Oldest due first overall (SQLite compares TEXT bytewise, as `String` does).
    candidates.sort_unstable();
    candidates.truncate(limit as usize);
    let ids: Vec<&str> = candidates.iter().map(|(_, id)| id.as_str()).collect();

    let sql = format!(
        "UPDATE webhook_deliveries SET lease_owner = ?1, lease_expires_at = ?2 \
         WHERE id IN (SELECT value FROM json_each(?3)) RETURNING {DELIVERY_COLS}"
    );
    let mut deliveries = all(
        c.prepare_cached(&sql).db()?,
        params![worker, micros(&expires), json_list(&ids)?],
        decode::delivery,
    )?;
    if deliveries.is_empty() {
        return Ok(Vec::new());
    }
    // RETURNING yields rows in no particular order; callers get the oldest due first.
    deliveries.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));

    let event_ids: Vec<&str> = deliveries.iter().map(|d| d.event_id.as_str()).collect();
    let sql =
        format!("SELECT {EVENT_COLS} FROM events WHERE id IN (SELECT value FROM json_each(?1))");
    let events: HashMap<String, Event> = all(
        c.prepare_cached(&sql).db()?,
        [json_list(&event_ids)?],
        decode::event,
    )?
    .into_iter()
    .map(|e| (e.id.clone(), e))
    .collect();
    let endpoint_ids: Vec<&str> = deliveries.iter().map(|d| d.endpoint_id.as_str()).collect();
    let sql = format!(
        "SELECT {WEBHOOK_ENDPOINT_COLS} FROM webhook_endpoints \
         WHERE id IN (SELECT value FROM json_each(?1))"
    );
    let endpoints: HashMap<String, WebhookEndpoint> = all(
        c.prepare_cached(&sql).db()?,
        [json_list(&endpoint_ids)?],
        decode::webhook_endpoint,
    )?
    .into_iter()
    .map(|e| (e.id.clone(), e))
    .collect();

    deliveries
        .into_iter()
        .map(|delivery| {
            // Several deliveries may share an event (one per endpoint): clone, do not move.
            let event = events.get(&delivery.event_id).cloned().ok_or_else(|| {
                StoreError::Backend(format!("event {} vanished", delivery.event_id))
            })?;
            let endpoint = endpoints
                .get(&delivery.endpoint_id)
                .cloned()
                .ok_or_else(|| {
                    StoreError::Backend(format!("endpoint {} vanished", delivery.endpoint_id))
                })?;
            Ok(ClaimedDelivery {
                delivery,
                event,
                endpoint,
            })
        })
        .collect()
}

pub(crate) fn finish_attempt(
    c: &SqlConn,
    delivery_id: &str,
    worker: &str,
    attempt: &DeliveryAttempt,
    outcome: AttemptOutcome,
) -> StoreResult<bool> {
    if attempt.delivery_id != delivery_id {
        return Err(StoreError::Backend(format!(
            "attempt of delivery {} recorded for delivery {delivery_id}",
            attempt.delivery_id
        )));
    }
    let (status, next) = match outcome {
        AttemptOutcome::Succeeded => ("succeeded", None),
        AttemptOutcome::RetryAt(t) => ("pending", Some(t)),
        AttemptOutcome::Failed | AttemptOutcome::Gone => ("failed", None),
    };
    let at = micros(&attempt.attempted_at);
    let endpoint: Option<String> = c
        .prepare_cached(
            "UPDATE webhook_deliveries SET status = ?3, next_attempt_at = ?4, \
             attempts = attempts + 1, last_attempt_at = ?5, \
             first_attempt_at = COALESCE(first_attempt_at, ?5), \
             lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = ?1 AND lease_owner = ?2 AND status = 'pending' RETURNING endpoint_id",
        )
        .db()?
        .query_row(
            params![delivery_id, worker, status, micros_opt(&next), at],
            |r| r.get(0),
        )
        .optional()
        .db()?;
    let Some(endpoint) = endpoint else {
        return Ok(false);
    };
    c.prepare_cached(
        "INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, duration_ms, \
         response_excerpt, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .db()?
    .execute(params![
        delivery_id,
        at,
        attempt.status_code,
        attempt.duration_ms,
        attempt.response_excerpt,
        attempt.error,
    ])
    .db()?;
    if outcome == AttemptOutcome::Gone {
        c.prepare_cached(
            "UPDATE webhook_endpoints SET disabled = 1, disabled_reason = ?2, updated_at = ?3 \
             WHERE id = ?1 AND disabled = 0",
        )
        .db()?
        .execute(params![endpoint, GONE, at])
        .db()?;
    }
    Ok(true)
}

/// [`finish_attempt`] for each entry in order, all in the caller's one IMMEDIATE transaction:
/// the statements are prepared once, and the batch costs one lock and one commit.
pub(crate) fn finish_attempts(
    c: &SqlConn,
    worker: &str,
    attempts: &[(DeliveryAttempt, AttemptOutcome)],
) -> StoreResult<Vec<bool>> {
    attempts
        .iter()
        .map(|(attempt, outcome)| {
            finish_attempt(c, &attempt.delivery_id, worker, attempt, *outcome)
        })
        .collect()
}

// --- reading and re-queueing deliveries --------------------------------------------------

pub(crate) fn list_deliveries(
    c: &SqlConn,
    workspace_id: &str,
    filter: &DeliveryFilter,
    page: &PageRequest,
) -> StoreResult<Page<Delivery>> {
    let mut sql = format!("SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE workspace_id = ?");
    let mut args: Vec<SqlValue> = vec![workspace_id.to_owned().into()];
    if let Some(endpoint_id) = &filter.endpoint_id {
        sql.push_str(" AND endpoint_id = ?");
        args.push(endpoint_id.clone().into());
    }
    if let Some(status) = filter.status {
        sql.push_str(" AND status = ?");
        args.push(status.as_str().to_owned().into());
    }
    if let Some(event_id) = &filter.event_id {
        sql.push_str(" AND event_id = ?");
        args.push(event_id.clone().into());
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
        decode::delivery,
    )?;
    Ok(Page::from_overfetch(rows, page.limit, |d| d.id.clone()))
}

pub(crate) fn get_delivery(
    c: &SqlConn,
    workspace_id: &str,
    id: &str,
) -> StoreResult<Option<Delivery>> {
    let sql = format!(
        "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE workspace_id = ?1 AND id = ?2"
    );
    optional(
        c.prepare_cached(&sql).db()?,
        [workspace_id, id],
        decode::delivery,
    )
}

/// Attempts of the workspace's own deliveries among `delivery_ids`, oldest (first recorded)
/// first.
pub(crate) fn attempts(
    c: &SqlConn,
    workspace_id: &str,
    delivery_ids: &[String],
) -> StoreResult<Vec<DeliveryAttempt>> {
    if delivery_ids.is_empty() {
        return Ok(Vec::new());
    }
    let cols = ATTEMPT_COLS
        .split(", ")
        .map(|col| format!("a.{col}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {cols} FROM webhook_attempts a \
         JOIN webhook_deliveries d ON d.id = a.delivery_id \
         WHERE d.workspace_id = ?1 AND a.delivery_id IN (SELECT value FROM json_each(?2)) \
         ORDER BY a.id"
    );
    all(
        c.prepare_cached(&sql).db()?,
        params![workspace_id, json_list(delivery_ids)?],
        decode::attempt,
    )
}

pub(crate) fn retry(
    c: &SqlConn,
    workspace_id: &str,
    id: &str,
    now: &Timestamp,
) -> StoreResult<Delivery> {
    let sql = format!(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?3, \
         first_attempt_at = NULL WHERE workspace_id = ?1 AND id = ?2 RETURNING {DELIVERY_COLS}"
    );
    optional(
        c.prepare_cached(&sql).db()?,
        params![workspace_id, id, micros(now)],
        decode::delivery,
    )?
    .ok_or(StoreError::NotFound)
}

pub(crate) fn recover(
    c: &SqlConn,
    workspace_id: &str,
    endpoint_id: &str,
    since: &Timestamp,
    now: &Timestamp,
) -> StoreResult<u64> {
    let n = c
        .prepare_cached(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?4, \
             first_attempt_at = NULL WHERE workspace_id = ?1 AND endpoint_id = ?2 \
             AND status = 'failed' AND created_at >= ?3",
        )
        .db()?
        .execute(params![
            workspace_id,
            endpoint_id,
            micros(since),
            micros(now)
        ])
        .db()?;
    Ok(n as u64)
}

/// "All deliveries failed since `cutoff`": an enabled endpoint with a failed delivery whose
/// window began at or before `cutoff` and no delivery that succeeded after it.
pub(crate) fn disable_failing(
    c: &SqlConn,
    cutoff: &Timestamp,
    now: &Timestamp,
) -> StoreResult<Vec<WebhookEndpoint>> {
    let sql = format!(
        "UPDATE webhook_endpoints SET disabled = 1, disabled_reason = ?3, updated_at = ?2 \
         WHERE disabled = 0 \
         AND EXISTS (SELECT 1 FROM webhook_deliveries f WHERE f.endpoint_id = webhook_endpoints.id \
                     AND f.status = 'failed' AND f.first_attempt_at <= ?1) \
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries s \
                         WHERE s.endpoint_id = webhook_endpoints.id \
                         AND s.status = 'succeeded' AND s.last_attempt_at > ?1) \
         RETURNING {WEBHOOK_ENDPOINT_COLS}"
    );
    let mut disabled = all(
        c.prepare_cached(&sql).db()?,
        params![micros(cutoff), micros(now), FAILING],
        decode::webhook_endpoint,
    )?;
    disabled.sort_by(|a, b| a.id.cmp(&b.id));
    for e in &disabled {
        events::insert(
            c,
            &NewEvent {
                id: new_id(prefix::EVENT),
                workspace_id: e.workspace_id.clone(),
                connection_id: None,
                event_type: ENDPOINT_DISABLED_EVENT.to_owned(),
                data: json!({"endpoint": {
                    "id": e.id,
                    "url": e.url,
                    "disabled_reason": e.disabled_reason,
                }}),
                created_at: *now,
            },
        )?;
    }
    Ok(disabled)
}
