//! Login throttling: failed attempts per account and per client address, in fixed windows.
//!
//! Kept in process memory: with several replicas each enforces its own budget (documented).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct LoginLimiter {
    window: Duration,
    per_account: u32,
    per_address: u32,
    failures: Mutex<HashMap<String, (Instant, u32)>>,
}

impl LoginLimiter {
    pub fn new(window: Duration, per_account: u32, per_address: u32) -> Self {
        Self {
            window,
            per_account,
            per_address,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds to wait)` when the account or the address has used its failures.
    pub fn check(&self, account: &str, address: &str, now: Instant) -> Result<(), u64> {
        let map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let wait = |key: String, limit: u32| {
            map.get(&key).and_then(|(start, count)| {
                let elapsed = now.saturating_duration_since(*start);
                (elapsed < self.window && *count >= limit).then(|| (self.window - elapsed).as_secs().max(1))
            })
        };
        match wait(format!("account:{account}"), self.per_account)
            .or(wait(format!("address:{address}"), self.per_address))
        {
            Some(secs) => Err(secs),
            None => Ok(()),
        }
    }

    pub fn record_failure(&self, account: &str, address: &str, now: Instant) {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now.saturating_duration_since(*start) < self.window);
        }
        for key in [format!("account:{account}"), format!("address:{address}")] {
            let entry = map.entry(key).or_insert((now, 0));
            if now.saturating_duration_since(entry.0) >= self.window {
                *entry = (now, 0);
            }
            entry.1 += 1;
        }
    }

    /// A successful login clears the account's failures (not the address's).
    pub fn record_success(&self, account: &str) {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.remove(&format!("account:{account}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_locked_after_its_failures_until_the_window_ends() {
        let limiter = LoginLimiter::new(Duration::from_secs(60), 3, 10);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check("a", "ip1", t0).is_ok());
            limiter.record_failure("a", "ip1", t0);
        }
        assert_eq!(
            limiter.check("a", "ip2", t0),
            Err(60),
            "per account, whatever the address"
        );
        assert!(
            limiter.check("b", "ip1", t0).is_ok(),
            "other accounts are unaffected"
        );
        assert!(limiter.check("a", "ip1", t0 + Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn an_address_is_limited_across_accounts() {
        let limiter = LoginLimiter::new(Duration::from_secs(60), 100, 2);
        let t0 = Instant::now();
        limiter.record_failure("a", "ip", t0);
        limiter.record_failure("b", "ip", t0);
        assert!(limiter.check("c", "ip", t0).is_err());
        assert!(limiter.check("c", "other", t0).is_ok());
    }
}
