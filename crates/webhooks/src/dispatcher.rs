//! The dispatcher: drains the event outbox into deliveries and sends them.
//!
//! One loop per worker node: fan out new events into deliveries (one per matching endpoint,
//! unique per (endpoint, event), so crashes and several nodes create no duplicates), claim due
//! deliveries with a lease (at most a few per endpoint, so one slow receiver cannot starve the
//! others), send each with the Standard Webhooks headers, and record the attempt and what comes
//! next: success, a retry on the 24-hour schedule, failure, or a disabled endpoint on `410`.

use std::{collections::HashMap, sync::Arc, time::Duration};

use millwright_core::{keyring::Keyring, time};
use millwright_store::{AttemptOutcome, ClaimedDelivery, DeliveryAttempt, Event, Store};
use rand::Rng;
use tokio::sync::{mpsc, watch, Notify, OwnedSemaphorePermit, Semaphore};

use crate::{
    deliver::{DeliveryRequest, WebhookClient},
    retry::{next_attempt, Outcome},
    signature::Secret,
};

/// Delivery attempts made, by outcome: `succeeded`, `retry` (another attempt is scheduled),
/// `failed` (retries exhausted) and `gone` (the receiver answered 410; its endpoint is disabled).
pub const WEBHOOK_ATTEMPTS_TOTAL: &str = "millwright_webhook_attempts_total";

/// Registers the help text of the dispatcher's series (call once, after installing a recorder).
pub fn describe_metrics() {
    metrics::describe_counter!(
        WEBHOOK_ATTEMPTS_TOTAL,
        metrics::Unit::Count,
        "Webhook delivery attempts made, by outcome (succeeded, retry, failed, gone)."
    );
}

/// How the dispatcher paces itself.
#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    /// Allow loopback and private targets (development only).
    pub allow_private: bool,
    /// How long a claimed delivery is leased (longer than the 10 s request limit).
    pub lease: chrono::Duration,
    /// Deliveries in flight per endpoint, across all nodes (the store counts leased ones), so
    /// a slow receiver cannot take the slots of the others.
    pub per_endpoint: u32,
    /// Deliveries in flight on this node.
    pub concurrency: usize,
    /// Pause between passes when there is nothing to do.
    pub idle: Duration,
    /// An endpoint whose deliveries have all failed this long is disabled.
    pub disable_after: chrono::Duration,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        DispatcherConfig {
            allow_private: false,
            lease: chrono::Duration::seconds(60),
            per_endpoint: 8,
            concurrency: 128,
            idle: Duration::from_millis(200),
            disable_after: chrono::Duration::days(5),
        }
    }
}

/// The most attempts recorded in one `finish_attempts` call.
const RECORD_BATCH: usize = 256;

/// A sent delivery waiting to be recorded, with the slot it holds until then.
struct Finished {
    attempt: DeliveryAttempt,
    outcome: AttemptOutcome,
    _slot: OwnedSemaphorePermit,
}

/// Fans events out into deliveries and sends them; one per worker node.
pub struct Dispatcher {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    client: WebhookClient,
    config: DispatcherConfig,
    worker: String,
    /// Workspace data keys (wrapped, as stored) by workspace id: read once, not per delivery.
    wrapped_keys: std::sync::Mutex<HashMap<String, Vec<u8>>>,
    /// Told when recorded attempts free slots, so that an idle pass that found every endpoint
    /// at its cap claims again at once instead of sleeping `idle`.
    freed: Arc<Notify>,
}

/// The event as every delivery of it carries it (spec §6); the same bytes on every retry.
pub fn event_body(e: &Event) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "id": e.id,
        "type": e.event_type,
        "timestamp": time::format(&e.created_at),
        "workspace_id": e.workspace_id,
        "connection_id": e.connection_id,
        "data": e.data,
    }))
    .expect("JSON values serialise")
}

impl Dispatcher {
    /// A dispatcher sending with the SSRF-safe client of `config.allow_private`.
    pub fn new(
        store: Arc<dyn Store>,
        keyring: Arc<Keyring>,
        config: DispatcherConfig,
    ) -> Dispatcher {
        Dispatcher {
            client: WebhookClient::new(config.allow_private),
            store,
            keyring,
            config,
            worker: format!(
                "dispatcher-{}-{}",
                std::process::id(),
                millwright_core::ids::new_id("w")
            ),
            wrapped_keys: std::sync::Mutex::new(HashMap::new()),
            freed: Arc::new(Notify::new()),
        }
    }

    /// Runs until `shutdown` turns true; deliveries in flight then finish.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let me = Arc::new(self);
        let slots = Arc::new(Semaphore::new(me.config.concurrency));
        // Sent deliveries are recorded in batches by one task: one store transaction for all
        // the attempts that finished while the previous batch was being written. Each holds its
        // slot until recorded, so the lease and the slot are released together.
        let (finished, to_record) = mpsc::unbounded_channel();
        let recorder = tokio::spawn(record(
            me.store.clone(),
            me.worker.clone(),
            me.freed.clone(),
            to_record,
        ));
        let mut last_sweep = std::time::Instant::now() - Duration::from_secs(3600);
        loop {
            if *shutdown.borrow() {
                break;
            }
            let mut busy = false;
            match me.store.fan_out_events(500, time::now()).await {
                Ok(f) => busy |= f.events > 0,
                Err(e) => tracing::warn!(error = %e, "webhook fan-out failed"),
            }
            let free = slots.available_permits() as u32;
            if free > 0 {
                match me
                    .store
                    .claim_deliveries(
                        &me.worker,
                        time::now(),
                        me.config.lease,
                        me.config.per_endpoint,
                        free.min(256),
                    )
                    .await
                {
                    Ok(claimed) => {
                        busy |= !claimed.is_empty();
                        for c in claimed {
                            let permit =
                                slots.clone().acquire_owned().await.expect("semaphore open");
                            let (me, finished) = (me.clone(), finished.clone());
                            tokio::spawn(async move {
                                if let Some((attempt, outcome)) = me.send(c).await {
                                    // The recorder outlives every sender: it stops once the
                                    // last sender is dropped.
                                    let _ = finished.send(Finished {
                                        attempt,
                                        outcome,
                                        _slot: permit,
                                    });
                                }
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "could not claim webhook deliveries"),
                }
            }
            if last_sweep.elapsed() > Duration::from_secs(3600) {
                last_sweep = std::time::Instant::now();
                let now = time::now();
                match me
                    .store
                    .disable_failing_endpoints(now - me.config.disable_after, now)
                    .await
                {
                    Ok(disabled) => {
                        for e in disabled {
                            tracing::warn!(endpoint = %e.id, url = %e.url, "webhook endpoint disabled: failing for 5 days");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "could not check failing webhook endpoints")
                    }
                }
            }
            if !busy {
                tokio::select! {
                    _ = tokio::time::sleep(me.config.idle) => {}
                    _ = me.freed.notified() => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        // Let deliveries in flight be sent and recorded.
        drop(finished);
        let _ = slots.acquire_many(me.config.concurrency as u32).await;
        let _ = recorder.await;
    }

    /// The signing secrets of an endpoint now: the current one, and the previous one while its
    /// rotation overlap lasts.
    async fn secrets(
        &self,
        c: &ClaimedDelivery,
        cache: &std::sync::Mutex<HashMap<String, Vec<u8>>>,
    ) -> Result<Vec<Secret>, String> {
        let ws_id = &c.endpoint.workspace_id;
        let cached = cache.lock().ok().and_then(|m| m.get(ws_id).cloned());
        let wrapped = match cached {
            Some(w) => w,
            None => {
                let ws = self
                    .store
                    .get_workspace(ws_id)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("no workspace {ws_id}"))?;
                if let Ok(mut m) = cache.lock() {
                    m.insert(ws_id.clone(), ws.wrapped_data_key.clone());
                }
                ws.wrapped_data_key
            }
        };
        let open = |sealed: &[u8]| -> Result<Secret, String> {
            let plain = self
                .keyring
                .open(ws_id, &wrapped, &c.endpoint.id, sealed)
                .map_err(|e| e.to_string())?;
            Secret::parse(&String::from_utf8_lossy(&plain)).map_err(|e| e.to_string())
        };
        let mut secrets = vec![open(&c.endpoint.sealed_secret)?];
        if let (Some(prev), Some(until)) = (
            &c.endpoint.sealed_previous_secret,
            c.endpoint.previous_secret_expires_at,
        ) {
            if until > time::now() {
                secrets.push(open(prev)?);
            }
        }
        Ok(secrets)
    }

    /// Sends one delivery; the attempt to record and its outcome, or `None` when it could not
    /// be signed (nothing was sent: the lease expires and a later pass tries again).
    async fn send(&self, c: ClaimedDelivery) -> Option<(DeliveryAttempt, AttemptOutcome)> {
        let body = event_body(&c.event);
        let secrets = match self.secrets(&c, &self.wrapped_keys).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(delivery = %c.delivery.id, error = %e, "cannot sign a delivery");
                return None;
            }
        };
        let refs: Vec<&Secret> = secrets.iter().collect();
        let attempt = self
            .client
            .deliver(&DeliveryRequest {
                url: &c.endpoint.url,
                msg_id: &c.event.id,
                secrets: &refs,
                body: &body,
            })
            .await;
        let now = time::now();
        let outcome = match attempt.outcome() {
            Outcome::Delivered => AttemptOutcome::Succeeded,
            Outcome::DisableEndpoint => AttemptOutcome::Gone,
            Outcome::Retry => {
                let first = c.delivery.first_attempt_at.unwrap_or(attempt.started_at);
                let number = (c.delivery.attempts + 1).max(1) as u32;
                let jitter: f64 = rand::thread_rng().gen();
                match next_attempt(first, number, now, attempt.retry_after, jitter) {
                    Some(at) => AttemptOutcome::RetryAt(at),
                    None => AttemptOutcome::Failed,
                }
            }
        };
        // Counted whether or not the attempt is recorded below: the receiver was called either
        // way, and that is what the series measures.
        let label = match outcome {
            AttemptOutcome::Succeeded => "succeeded",
            AttemptOutcome::RetryAt(_) => "retry",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Gone => "gone",
        };
        metrics::counter!(WEBHOOK_ATTEMPTS_TOTAL, "outcome" => label).increment(1);
        let record = DeliveryAttempt {
            delivery_id: c.delivery.id.clone(),
            attempted_at: attempt.started_at,
            status_code: attempt.status.map(i64::from),
            duration_ms: attempt.duration.as_millis() as i64,
            response_excerpt: (!attempt.response_excerpt.is_empty())
                .then(|| attempt.response_excerpt.clone()),
            error: attempt.error.as_ref().map(|e| e.to_string()),
        };
        Some((record, outcome))
    }
}

/// Records sent deliveries until every sender is gone: each time, all that are waiting (at most
/// [`RECORD_BATCH`]) in one `finish_attempts` call.
async fn record(
    store: Arc<dyn Store>,
    worker: String,
    freed: Arc<Notify>,
    mut to_record: mpsc::UnboundedReceiver<Finished>,
) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while to_record.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        let attempts: Vec<(DeliveryAttempt, AttemptOutcome)> = batch
            .iter()
            .map(|f| (f.attempt.clone(), f.outcome))
            .collect();
        let ids: Vec<String> = attempts
            .iter()
            .map(|(a, _)| a.delivery_id.clone())
            .collect();
        let results = match store.finish_attempts(&worker, attempts).await {
            Ok(results) => results.into_iter().map(Ok).collect(),
            Err(e) => {
                // Nothing of the batch was written. One by one, so that a failure confined to
                // one delivery does not send the others again when their leases expire.
                tracing::warn!(error = %e, attempts = batch.len(), "could not record a batch of delivery attempts; recording them one by one");
                let mut results = Vec::with_capacity(batch.len());
                for f in &batch {
                    let id = &f.attempt.delivery_id;
                    results.push(
                        store
                            .finish_attempt(id, &worker, f.attempt.clone(), f.outcome)
                            .await,
                    );
                }
                results
            }
        };
        for (id, result) in ids.iter().zip(results) {
            match result {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(delivery = %id, "lost the lease of a delivery; its attempt is not recorded")
                }
                Err(e) => {
                    tracing::error!(delivery = %id, error = %e, "could not record a delivery attempt")
                }
            }
        }
        // Dropping the batch releases its slots.
        batch.clear();
        freed.notify_one();
    }
}
