//! Login throttling: failed attempts per account and per client address, in fixed windows.
//!
//! Each attempt is reserved before the password is checked, so parallel attempts cannot pass
//! the limit. Kept in process memory: with several replicas each enforces its own budget
//! (documented; sharing it through PostgreSQL is open work).

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

    /// Reserves one attempt for `account` from `address`, counting it as a failure at once so
    /// that parallel attempts cannot all pass a check made before any of them failed.
    /// `Err(seconds to wait)` when the account or the address has used its failures.
    pub fn reserve(&self, account: &str, address: &str, now: Instant) -> Result<(), u64> {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now.saturating_duration_since(*start) < self.window);
        }
        let keys = [
            (format!("account:{account}"), self.per_account),
            (format!("address:{address}"), self.per_address),
        ];
        for (key, limit) in &keys {
            if let Some((start, count)) = map.get(key) {
                let elapsed = now.saturating_duration_since(*start);
                if elapsed < self.window && *count >= *limit {
                    return Err((self.window - elapsed).as_secs().max(1));
                }
            }
        }
        for (key, _) in keys {
            let entry = map.entry(key).or_insert((now, 0));
            if now.saturating_duration_since(entry.0) >= self.window {
                *entry = (now, 0);
            }
            entry.1 += 1;
        }
        Ok(())
    }

    /// A successful login clears the account's failures and gives the address its reserved
    /// attempt back.
    pub fn record_success(&self, account: &str, address: &str) {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.remove(&format!("account:{account}"));
        if let Some(entry) = map.get_mut(&format!("address:{address}")) {
            entry.1 = entry.1.saturating_sub(1);
        }
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
            assert!(limiter.reserve("a", "ip1", t0).is_ok());
        }
        assert_eq!(
            limiter.reserve("a", "ip2", t0),
            Err(60),
            "per account, whatever the address"
        );
        assert!(
            limiter.reserve("b", "ip1", t0).is_ok(),
            "other accounts are unaffected"
        );
        assert!(limiter.reserve("a", "ip1", t0 + Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn an_address_is_limited_across_accounts() {
        let limiter = LoginLimiter::new(Duration::from_secs(60), 100, 2);
        let t0 = Instant::now();
        assert!(limiter.reserve("a", "ip", t0).is_ok());
        assert!(limiter.reserve("b", "ip", t0).is_ok());
        assert!(limiter.reserve("c", "ip", t0).is_err());
        assert!(limiter.reserve("c", "other", t0).is_ok());
    }

    #[test]
    fn success_clears_the_account_and_refunds_the_address() {
        let limiter = LoginLimiter::new(Duration::from_secs(60), 2, 2);
        let t0 = Instant::now();
        assert!(limiter.reserve("a", "ip", t0).is_ok());
        limiter.record_success("a", "ip");
        assert!(limiter.reserve("a", "ip", t0).is_ok());
        assert!(limiter.reserve("a", "ip", t0).is_ok());
        assert!(limiter.reserve("a", "ip", t0).is_err());
    }

    #[test]
    fn parallel_reservations_never_exceed_the_limit() {
        let limiter = std::sync::Arc::new(LoginLimiter::new(Duration::from_secs(60), 5, 1000));
        let t0 = Instant::now();
        let granted: usize = (0..50)
            .map(|_| {
                let limiter = std::sync::Arc::clone(&limiter);
                std::thread::spawn(move || limiter.reserve("a", "ip", t0).is_ok())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| usize::from(h.join().unwrap_or(false)))
            .sum();
        assert_eq!(granted, 5);
    }
}
