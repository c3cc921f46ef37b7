//! Per-credential rate limiting: a fixed one-minute window per key, in memory on each node.
//! (With several nodes each enforces the limit on its own share of traffic.)

use std::time::{SystemTime, UNIX_EPOCH};

use dashmap::DashMap;

use crate::request_context::RateLimitInfo;

#[derive(Default)]
pub struct RateLimiter {
    windows: DashMap<String, (u64, u64)>,
}

pub enum Decision {
    Allowed(RateLimitInfo),
    Limited(RateLimitInfo),
}

impl RateLimiter {
    /// Counts one request for `key` against `limit` a minute.
    pub fn check(&self, key: &str, limit: u64) -> Decision {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        self.check_at(key, limit, now)
    }

    fn check_at(&self, key: &str, limit: u64, now_secs: u64) -> Decision {
        let window = now_secs / 60;
        let reset_secs = 60 - now_secs % 60;
        let mut entry = self.windows.entry(key.to_string()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        if entry.1 >= limit {
            return Decision::Limited(RateLimitInfo {
                limit,
                remaining: 0,
                reset_secs,
            });
        }
        entry.1 += 1;
        Decision::Allowed(RateLimitInfo {
            limit,
            remaining: limit - entry.1,
            reset_secs,
        })
    }

    /// Drops windows that ended, so idle keys do not accumulate.
    pub fn sweep(&self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
            / 60;
        self.windows.retain(|_, (w, _)| *w == now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_window_and_resets() {
        let rl = RateLimiter::default();
        let t = 6000; // start of a minute
        for i in 0..3 {
            match rl.check_at("k", 3, t + i) {
                Decision::Allowed(info) => assert_eq!(info.remaining, 2 - i),
                Decision::Limited(_) => panic!("limited too early"),
            }
        }
        match rl.check_at("k", 3, t + 10) {
            Decision::Limited(info) => assert_eq!(info.reset_secs, 50),
            Decision::Allowed(_) => panic!("not limited"),
        }
        assert!(matches!(
            rl.check_at("other", 3, t + 10),
            Decision::Allowed(_)
        ));
        assert!(matches!(rl.check_at("k", 3, t + 60), Decision::Allowed(_)));
    }
}
