//! Row types of webhook endpoints, deliveries and their attempts.

use millwright_core::time::Timestamp;

/// A URL that receives the workspace's events.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEndpoint {
    /// `whe_…`
    pub id: String,
    pub workspace_id: String,
    pub url: String,
    pub description: Option<String>,
    /// Exact types or prefixes (`work_order.*`); empty means every type.
    pub event_types: Vec<String>,
    /// Only events of these connections; empty means every connection.
    pub connection_ids: Vec<String>,
    pub disabled: bool,
    /// Why it was disabled (`410 Gone`, `failing for 5 days`, `by the workspace`).
    pub disabled_reason: Option<String>,
    /// The current `whsec_…` secret, sealed under the workspace data key (AAD: endpoint id).
    pub sealed_secret: Vec<u8>,
    /// The secret before the last rotation, still signing until `previous_secret_expires_at`.
    pub sealed_previous_secret: Option<Vec<u8>>,
    pub previous_secret_expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewWebhookEndpoint {
    pub id: String,
    pub workspace_id: String,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
    pub connection_ids: Vec<String>,
    pub disabled: bool,
    pub sealed_secret: Vec<u8>,
    pub created_at: Timestamp,
}

/// Changes to an endpoint; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct WebhookEndpointPatch {
    pub url: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub event_types: Option<Vec<String>>,
    pub connection_ids: Option<Vec<String>>,
    /// `Some(false)` re-enables (and clears `disabled_reason`); `Some(true)` disables "by the
    /// workspace".
    pub disabled: Option<bool>,
    /// A rotation: the new sealed secret; the current one becomes the previous secret until
    /// the given time.
    pub rotate_secret: Option<(Vec<u8>, Timestamp)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Succeeded,
            DeliveryStatus::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// One event on its way to one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// `whd_…`
    pub id: String,
    pub workspace_id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    /// When the next attempt is due (`None` once succeeded or failed).
    pub next_attempt_at: Option<Timestamp>,
    /// The first attempt of the current 24-hour retry window (reset by a manual retry).
    pub first_attempt_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub id: String,
    pub workspace_id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub next_attempt_at: Timestamp,
    pub created_at: Timestamp,
}

/// One HTTP attempt of a delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryAttempt {
    pub delivery_id: String,
    pub attempted_at: Timestamp,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    /// The first 4 KiB of the receiver's answer.
    pub response_excerpt: Option<String>,
    /// Timeout, connection error, refused address…
    pub error: Option<String>,
}

/// What an attempt decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Succeeded,
    /// Try again at this time.
    RetryAt(Timestamp),
    /// Give up: the delivery is `failed` (listed, retryable by hand).
    Failed,
    /// The receiver answered `410 Gone`: the delivery fails and the endpoint is disabled.
    Gone,
}

/// A claimed delivery with what sending it needs.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub delivery: Delivery,
    pub event: crate::Event,
    pub endpoint: WebhookEndpoint,
}

#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub endpoint_id: Option<String>,
    pub status: Option<DeliveryStatus>,
    pub event_id: Option<String>,
}

/// What one fan-out pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FanOut {
    pub events: u64,
    pub deliveries: u64,
}
