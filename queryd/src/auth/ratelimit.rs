//! Fixed-window rate limiter keyed by client IP, for the auth endpoints. The table is
//! capped: when full, expired windows are dropped first and then the oldest window.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Maximum number of client IPs tracked at once.
const MAX_KEYS: usize = 10_000;

/// Per-IP attempt counter over one-minute windows.
#[derive(Debug)]
pub struct RateLimiter {
    per_window: u32,
    window: Duration,
    state: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

/// Decision for one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Refuse; retry after this many seconds.
    Limited {
        /// Seconds until the window resets (≥ 1).
        retry_after_secs: u64,
    },
}

impl RateLimiter {
    /// A limiter allowing `per_minute` attempts per IP per minute.
    pub fn per_minute(per_minute: u32) -> Self {
        Self {
            per_window: per_minute,
            window: Duration::from_secs(60),
            state: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt from `ip` and decides.
    pub fn check(&self, ip: IpAddr) -> Decision {
        self.check_at(ip, Instant::now())
    }

    fn check_at(&self, ip: IpAddr, now: Instant) -> Decision {
        let mut state = match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if state.len() >= MAX_KEYS && !state.contains_key(&ip) {
            let window = self.window;
            state.retain(|_, (start, _)| now.duration_since(*start) < window);
            if state.len() >= MAX_KEYS
                && let Some(oldest) = state.iter().min_by_key(|(_, (s, _))| *s).map(|(k, _)| *k)
            {
                state.remove(&oldest);
            }
        }
        let entry = state.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_window {
            let left = self.window.saturating_sub(now.duration_since(entry.0));
            return Decision::Limited {
                retry_after_secs: left.as_secs().max(1),
            };
        }
        entry.1 += 1;
        Decision::Allow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eleventh_attempt_is_limited_then_window_resets() {
        let rl = RateLimiter::per_minute(10);
        let ip: IpAddr = "1.2.3.4".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..10 {
            assert_eq!(rl.check_at(ip, t0), Decision::Allow);
        }
        assert!(matches!(rl.check_at(ip, t0), Decision::Limited { .. }));
        let other: IpAddr = "1.2.3.5".parse().unwrap();
        assert_eq!(rl.check_at(other, t0), Decision::Allow);
        assert_eq!(
            rl.check_at(ip, t0 + Duration::from_secs(61)),
            Decision::Allow
        );
    }
}
