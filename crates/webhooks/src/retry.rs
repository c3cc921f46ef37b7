//! The retry policy of spec §6 as pure functions: when to try a failed delivery again, and what
//! a response means for the delivery and its endpoint.
//!
//! Schedule: the first retry 30 s after the first attempt fails, then doubling (1, 2, 4 … min),
//! each wait capped at one hour and stretched by up to 20 % of jitter so that the deliveries of
//! an endpoint that comes back do not all arrive at once. Retries continue until 24 h after the
//! first attempt; a wait that would end past that deadline is shortened to end on it, so the
//! last attempt happens at the 24 h mark and the delivery is then `failed`.
//!
//! The clock and the jitter are parameters so that tests can walk the whole 24 h schedule.

use std::time::Duration;

use chrono::{DateTime, Utc};
use millwright_core::time::Timestamp;

/// The wait before the first retry.
pub const FIRST_RETRY_DELAY: Duration = Duration::from_secs(30);
/// The longest wait between two attempts, whether from the schedule or from `Retry-After`,
/// before jitter (jitter still spreads the hourly retries of many deliveries).
pub const MAX_WAIT: Duration = Duration::from_secs(60 * 60);
/// Retries stop this long after the first attempt.
pub const RETRY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);
/// The largest fraction by which jitter lengthens a wait.
pub const JITTER_FRACTION: f64 = 0.2;

/// The scheduled wait after attempt number `attempt_number` (1-based) failed, before jitter:
/// 30 s, 1 min, 2 min, … capped at [`MAX_WAIT`].
pub fn backoff(attempt_number: u32) -> Duration {
    let doublings = attempt_number.max(1) - 1;
    // 30 s · 2^7 already exceeds the cap; stopping there also keeps the shift from overflowing.
    if doublings >= 7 {
        return MAX_WAIT;
    }
    (FIRST_RETRY_DELAY * (1u32 << doublings)).min(MAX_WAIT)
}

/// When to make the next attempt after attempt `attempt_number` (1-based: 1 is the first
/// attempt) failed at `now`, or `None` to give up and mark the delivery `failed`.
///
/// - `first_attempt_at`: when the first attempt was made; retries end 24 h later.
/// - `retry_after`: the receiver's `Retry-After`, if any (see [`parse_retry_after`]). It can
///   lengthen the wait, never shorten it below the schedule, and is capped at [`MAX_WAIT`] so a
///   receiver cannot park a delivery for days.
/// - `jitter`: a uniform sample from `[0, 1)`; it lengthens the wait by up to 20 %. Values
///   outside the range (or NaN) are clamped, so a bad source cannot break the schedule.
pub fn next_attempt(
    first_attempt_at: Timestamp,
    attempt_number: u32,
    now: Timestamp,
    retry_after: Option<Duration>,
    jitter: f64,
) -> Option<Timestamp> {
    let deadline = first_attempt_at + chrono::Duration::from_std(RETRY_WINDOW).ok()?;
    if now >= deadline {
        return None;
    }
    let jitter = if jitter.is_nan() {
        0.0
    } else {
        jitter.clamp(0.0, 1.0)
    };
    let scheduled = backoff(attempt_number).mul_f64(1.0 + JITTER_FRACTION * jitter);
    let wait = match retry_after {
        Some(asked) => scheduled.max(asked.min(MAX_WAIT)),
        None => scheduled,
    };
    let at = now + chrono::Duration::from_std(wait).ok()?;
    Some(at.min(deadline))
}

/// What a delivery attempt's result means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Any 2xx: the delivery is done.
    Delivered,
    /// `410 Gone`: the receiver says the endpoint no longer exists; disable it (no retry).
    DisableEndpoint,
    /// Anything else — other statuses (3xx included, as redirects are not followed), timeouts,
    /// connection errors, refusals by the SSRF policy: try again per [`next_attempt`].
    Retry,
}

/// Classifies an attempt by its HTTP status; `None` means no response arrived (timeout,
/// connection error, or the target was refused by the SSRF policy).
pub fn classify(status: Option<u16>) -> Outcome {
    match status {
        Some(200..=299) => Outcome::Delivered,
        Some(410) => Outcome::DisableEndpoint,
        _ => Outcome::Retry,
    }
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP date (RFC 9110 §10.2.3), relative to
/// `now`. A date in the past means "now" (zero); an unparseable value is ignored.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Saturate absurdly large values; [`next_attempt`] caps the wait anyway.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let date: DateTime<Utc> = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((date - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    fn secs(s: u64) -> chrono::Duration {
        chrono::Duration::seconds(s as i64)
    }

    /// Walks the schedule as a dispatcher would, with instant attempts and fixed jitter, and
    /// returns the offsets from the first attempt of every attempt made.
    fn walk(jitter: f64) -> Vec<chrono::Duration> {
        let first = t0();
        let mut now = first;
        let mut attempts = vec![chrono::Duration::zero()];
        let mut n = 1;
        while let Some(next) = next_attempt(first, n, now, None, jitter) {
            assert!(next > now, "attempt {n}: time must move forward");
            now = next;
            n += 1;
            attempts.push(now - first);
            assert!(n < 100, "the schedule must end");
        }
        attempts
    }

    #[test]
    fn backoff_doubles_from_30s_and_caps_at_an_hour() {
        let got: Vec<u64> = (1..=10).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(got, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
        assert_eq!(backoff(0), FIRST_RETRY_DELAY);
        assert_eq!(backoff(u32::MAX), MAX_WAIT);
    }

    #[test]
    fn whole_schedule_to_24h_without_jitter() {
        let offsets: Vec<i64> = walk(0.0).iter().map(|d| d.num_seconds()).collect();
        // 0, then 30 s, 1, 2, 4, 8, 16, 32 min between attempts, then hourly.
        let mut expected = vec![0, 30, 90, 210, 450, 930, 1890, 3810];
        let mut t = 3810;
        while t + 3600 < 86_400 {
            t += 3600;
            expected.push(t);
        }
        // The last wait is shortened to end exactly 24 h after the first attempt.
        expected.push(86_400);
        assert_eq!(offsets, expected);
        assert_eq!(offsets.len(), 31);
        // Once the deadline is reached, the delivery fails.
        assert_eq!(next_attempt(t0(), 31, t0() + secs(86_400), None, 0.0), None);
        assert_eq!(next_attempt(t0(), 5, t0() + secs(90_000), None, 0.0), None);
    }

    #[test]
    fn jitter_lengthens_waits_by_at_most_20_percent_and_never_passes_the_deadline() {
        let first = t0();
        for n in 1..=10 {
            let base = backoff(n);
            let now = first + secs(100);
            let low = next_attempt(first, n, now, None, 0.0).unwrap();
            let high = next_attempt(first, n, now, None, 0.999_999).unwrap();
            assert_eq!((low - now).to_std().unwrap(), base);
            let stretched = (high - now).to_std().unwrap();
            assert!(stretched > base && stretched <= base.mul_f64(1.2), "{n}");
        }
        // Out-of-range and NaN jitter are clamped.
        let now = first + secs(100);
        assert_eq!(
            next_attempt(first, 1, now, None, f64::NAN),
            Some(now + secs(30))
        );
        assert_eq!(
            next_attempt(first, 1, now, None, -5.0),
            Some(now + secs(30))
        );
        assert_eq!(next_attempt(first, 1, now, None, 7.0), Some(now + secs(36)));
        let full = walk(0.999);
        assert_eq!(full.last().unwrap().num_seconds(), 86_400);
        assert!(full.len() < walk(0.0).len());
        assert!(full.windows(2).all(|w| w[1] > w[0]));
    }

    #[test]
    fn retry_after_is_honoured_within_bounds() {
        let first = t0();
        let now = first + secs(600);
        // Longer than the schedule: honoured.
        assert_eq!(
            next_attempt(first, 1, now, Some(Duration::from_secs(120)), 0.0),
            Some(now + secs(120))
        );
        // Shorter than the schedule: the schedule wins.
        assert_eq!(
            next_attempt(first, 3, now, Some(Duration::from_secs(5)), 0.0),
            Some(now + secs(120))
        );
        // Capped at an hour.
        assert_eq!(
            next_attempt(first, 1, now, Some(Duration::from_secs(86_400 * 7)), 0.0),
            Some(now + secs(3600))
        );
        // Never past the 24 h deadline.
        let late = first + secs(86_400 - 100);
        assert_eq!(
            next_attempt(first, 20, late, Some(Duration::from_secs(3000)), 0.0),
            Some(first + secs(86_400))
        );
    }

    #[test]
    fn classification() {
        for s in [200, 201, 202, 204, 299] {
            assert_eq!(classify(Some(s)), Outcome::Delivered, "{s}");
        }
        assert_eq!(classify(Some(410)), Outcome::DisableEndpoint);
        for s in [
            100, 301, 302, 307, 308, 400, 401, 404, 429, 500, 502, 503, 504,
        ] {
            assert_eq!(classify(Some(s)), Outcome::Retry, "{s}");
        }
        assert_eq!(classify(None), Outcome::Retry);
    }

    #[test]
    fn retry_after_parsing() {
        let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 20, 0).unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(480))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }
}
