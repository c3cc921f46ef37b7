//! Connection health: the probes the health layer records and the daily figures read back.
//!
//! A probe is one light authenticated call to a connection's source. Each is kept as a row (the
//! 24-hour history at full resolution) and also becomes the connection's latest
//! [`crate::HealthSnapshot`]; daily aggregates for the 90-day view are computed from the rows.

use chrono::NaiveDate;
use millwright_core::time::Timestamp;

/// How a probe ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProbeStatus {
    /// The source answered and accepted the stored credentials.
    Ok,
    /// Connection refused, DNS failure, timeout or a 5xx outage page.
    Unreachable,
    /// The source answered and refused the stored credentials.
    Rejected,
    /// The source answered with something else (permission denied, rate limited, an
    /// unexpected status, a misconfigured connection).
    Error,
    /// Not sent: the connection waits for the customer to reauthorize, and probing a login that
    /// is known to fail would only risk locking the customer's account.
    RequiresReauthorization,
}

impl ProbeStatus {
    pub const ALL: [ProbeStatus; 5] = [
        ProbeStatus::Ok,
        ProbeStatus::Unreachable,
        ProbeStatus::Rejected,
        ProbeStatus::Error,
        ProbeStatus::RequiresReauthorization,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProbeStatus::Ok => "ok",
            ProbeStatus::Unreachable => "unreachable",
            ProbeStatus::Rejected => "rejected",
            ProbeStatus::Error => "error",
            ProbeStatus::RequiresReauthorization => "requires_reauthorization",
        }
    }

    pub fn parse(s: &str) -> Option<ProbeStatus> {
        ProbeStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A probe to record with [`crate::Store::record_probe`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewProbe {
    pub workspace_id: String,
    pub connection_id: String,
    pub checked_at: Timestamp,
    pub status: ProbeStatus,
    /// How long the upstream call took; `None` when no call was made.
    pub latency_ms: Option<i64>,
    pub error: Option<String>,
}

/// A recorded probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub connection_id: String,
    pub checked_at: Timestamp,
    pub status: ProbeStatus,
    pub latency_ms: Option<i64>,
    pub error: Option<String>,
}

/// One UTC day of a connection's probes.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeDay {
    pub day: NaiveDate,
    pub probes: i64,
    /// Probes with status [`ProbeStatus::Ok`].
    pub ok: i64,
    /// Mean latency of the `ok` probes only: a failed probe's latency is the time it took to
    /// fail (up to the timeout), which says nothing about how fast the source answers.
    pub avg_latency_ms: Option<f64>,
}
