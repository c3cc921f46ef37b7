//! Time in the simulators: the anchor that seeded history hangs from, the clock that stamps
//! writes, and the wire format of a timestamp.
//!
//! Seeded timestamps are spread over the 180 days before the *anchor*, the start of the current
//! UTC day when the simulator was built. A fixed calendar date would make the data drift out of
//! every "last 90 days" window as the years pass; process start time would make two simulators
//! with the same seed differ by milliseconds. The start of the day is recent and shared by every
//! simulator built that day (two built either side of midnight UTC differ; nothing else does).

use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

/// Milliseconds in a day.
pub(crate) const DAY_MS: i64 = 86_400_000;
/// Milliseconds in an hour.
pub(crate) const HOUR_MS: i64 = 3_600_000;
/// Milliseconds in a minute.
pub(crate) const MINUTE_MS: i64 = 60_000;

/// A UTC instant in milliseconds since the Unix epoch; serialises as ISO 8601 with `Z`
/// and millisecond precision (`2026-05-26T19:56:47.622Z`, what JavaScript backends emit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Ts(pub(crate) i64);

impl Ts {
    /// The ISO 8601 form.
    pub(crate) fn iso(self) -> String {
        DateTime::<Utc>::from_timestamp_millis(self.0)
            .unwrap_or_default()
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// The calendar date (`2024-03-14`), for date-only custom fields.
    pub(crate) fn date(self) -> String {
        DateTime::<Utc>::from_timestamp_millis(self.0)
            .unwrap_or_default()
            .format("%Y-%m-%d")
            .to_string()
    }

    /// The calendar year, for human document numbers (`PO-2026-00042`).
    pub(crate) fn year(self) -> i32 {
        use chrono::Datelike;
        DateTime::<Utc>::from_timestamp_millis(self.0)
            .unwrap_or_default()
            .year()
    }

    /// Parses an RFC 3339 timestamp from a request body.
    pub(crate) fn parse(text: &str) -> Option<Ts> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| Ts(t.with_timezone(&Utc).timestamp_millis()))
    }
}

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.iso())
    }
}

/// The anchor for seeded history and a strictly increasing clock for writes.
#[derive(Debug)]
pub(crate) struct Clock {
    anchor: Ts,
    last: Mutex<i64>,
}

impl Clock {
    /// Anchored at the start of the current UTC day.
    pub(crate) fn today() -> Self {
        let now = Utc::now().timestamp_millis();
        Clock {
            anchor: Ts(now - now.rem_euclid(DAY_MS)),
            last: Mutex::new(0),
        }
    }

    /// The instant seeded history ends at.
    pub(crate) fn anchor(&self) -> Ts {
        self.anchor
    }

    /// The current time, strictly later than any instant this clock returned before and than
    /// the anchor, so two writes in the same millisecond still order by `updatedAt`.
    pub(crate) fn now(&self) -> Ts {
        let wall = Utc::now().timestamp_millis();
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let next = wall.max(*last + 1).max(self.anchor.0 + 1);
        *last = next;
        Ts(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_has_millis_and_z() {
        assert_eq!(Ts(1_622_059_007_622).iso(), "2021-05-26T19:56:47.622Z");
        assert_eq!(Ts(0).date(), "1970-01-01");
    }

    #[test]
    fn parse_accepts_offsets() {
        assert_eq!(
            Ts::parse("2021-05-26T21:56:47.622+02:00"),
            Some(Ts(1_622_059_007_622))
        );
        assert_eq!(Ts::parse("yesterday"), None);
    }

    #[test]
    fn now_is_strictly_increasing_and_after_anchor() {
        let clock = Clock::today();
        let a = clock.now();
        let b = clock.now();
        assert!(a > clock.anchor());
        assert!(b > a);
    }
}
