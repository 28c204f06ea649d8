//! Login throttling and registration limits: attempts per account and per client address, in
//! fixed windows, counted in the database so every replica shares one budget.
//!
//! Each attempt is reserved before the password is checked, in one transaction that locks the
//! keys it counts (`db::lock_key`), so parallel attempts, on one replica or several, cannot
//! pass the limit.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::QueryResult;

use crate::db::{self, AnyConnection, DbError, DbPool};
use crate::repository::rate_counters;

/// Where the counts live: the database, or a map in the unit tests.
pub trait Counters {
    fn get(&mut self, key: &str) -> QueryResult<Option<(NaiveDateTime, i32)>>;
    fn put(&mut self, key: &str, start: NaiveDateTime, count: i32) -> QueryResult<()>;
    fn remove(&mut self, key: &str) -> QueryResult<()>;
}

impl Counters for AnyConnection {
    fn get(&mut self, key: &str) -> QueryResult<Option<(NaiveDateTime, i32)>> {
        rate_counters::get(self, key)
    }
    fn put(&mut self, key: &str, start: NaiveDateTime, count: i32) -> QueryResult<()> {
        rate_counters::put(self, key, start, count)
    }
    fn remove(&mut self, key: &str) -> QueryResult<()> {
        rate_counters::remove(self, key)
    }
}

impl Counters for HashMap<String, (NaiveDateTime, i32)> {
    fn get(&mut self, key: &str) -> QueryResult<Option<(NaiveDateTime, i32)>> {
        Ok(HashMap::get(self, key).copied())
    }
    fn put(&mut self, key: &str, start: NaiveDateTime, count: i32) -> QueryResult<()> {
        self.insert(key.to_owned(), (start, count));
        Ok(())
    }
    fn remove(&mut self, key: &str) -> QueryResult<()> {
        HashMap::remove(self, key);
        Ok(())
    }
}

/// A limit on attempts per account and per address within a window.
#[derive(Debug, Clone)]
pub struct LoginLimiter {
    /// Prefix of this limiter's keys (`login`, `register`).
    name: &'static str,
    window: Duration,
    per_account: u32,
    per_address: u32,
}

impl LoginLimiter {
    pub fn new(name: &'static str, window: std::time::Duration, per_account: u32, per_address: u32) -> Self {
        Self {
            name,
            window: Duration::from_std(window).unwrap_or(Duration::MAX),
            per_account,
            per_address,
        }
    }

    /// The keys this attempt counts against; an unlimited one (`u32::MAX`, e.g. registration's
    /// per-account side) is not counted at all, so it is no shared row every attempt locks.
    fn keys(&self, account: &str, address: &str) -> Vec<(String, u32)> {
        [
            (format!("{}:account:{account}", self.name), self.per_account),
            (format!("{}:address:{address}", self.name), self.per_address),
        ]
        .into_iter()
        .filter(|(_, limit)| *limit != u32::MAX)
        .collect()
    }

    /// Counts one attempt for `account` and `address` unless either has used its budget:
    /// then `Err(seconds until the window ends)` and nothing is counted.
    pub fn reserve_in(
        &self,
        counters: &mut impl Counters,
        account: &str,
        address: &str,
        now: NaiveDateTime,
    ) -> QueryResult<Result<(), u64>> {
        let keys = self.keys(account, address);
        let mut windows = Vec::with_capacity(keys.len());
        for (key, limit) in &keys {
            let (start, count) = match counters.get(key)? {
                Some((start, count)) if now - start < self.window => (start, count),
                _ => (now, 0),
            };
            if u32::try_from(count).unwrap_or(u32::MAX) >= *limit {
                let left = self.window - (now - start);
                return Ok(Err(u64::try_from(left.num_seconds()).unwrap_or(0).max(1)));
            }
            windows.push((key, start, count));
        }
        for (key, start, count) in windows {
            counters.put(key, start, count.saturating_add(1))?;
        }
        Ok(Ok(()))
    }

    /// A success clears the account's failures and refunds the address its attempt.
    pub fn success_in(&self, counters: &mut impl Counters, account: &str, address: &str) -> QueryResult<()> {
        let account_key = format!("{}:account:{account}", self.name);
        let address_key = format!("{}:address:{address}", self.name);
        counters.remove(&account_key)?;
        if let Some((start, count)) = counters.get(&address_key)? {
            counters.put(&address_key, start, (count - 1).max(0))?;
        }
        Ok(())
    }

    /// [`Self::reserve_in`] in the shared counters.
    pub async fn reserve(
        &self,
        pool: &DbPool,
        account: &str,
        address: &str,
    ) -> Result<Result<(), u64>, DbError> {
        let (limiter, account, address) = (self.clone(), account.to_owned(), address.to_owned());
        db::write(pool, move |conn| -> Result<_, DbError> {
            limiter.lock(conn, &account, &address)?;
            Ok(limiter.reserve_in(conn, &account, &address, db::now())?)
        })
        .await
    }

    /// [`Self::success_in`] in the shared counters.
    pub async fn record_success(&self, pool: &DbPool, account: &str, address: &str) -> Result<(), DbError> {
        let (limiter, account, address) = (self.clone(), account.to_owned(), address.to_owned());
        db::write(pool, move |conn| -> Result<_, DbError> {
            limiter.lock(conn, &account, &address)?;
            Ok(limiter.success_in(conn, &account, &address)?)
        })
        .await
    }

    /// Locks this attempt's keys, always in the same order (no deadlock between two attempts).
    fn lock(&self, conn: &mut AnyConnection, account: &str, address: &str) -> QueryResult<()> {
        let mut keys: Vec<String> = self.keys(account, address).into_iter().map(|(k, _)| k).collect();
        keys.sort();
        keys.iter().try_for_each(|key| db::lock_key(conn, key))
    }
}

/// Deletes windows older than `window`: they no longer limit anything.
pub async fn purge_expired(pool: &DbPool, window: std::time::Duration) -> Result<usize, DbError> {
    let before = db::now() - Duration::from_std(window).unwrap_or(Duration::MAX);
    db::autocommit(pool, move |conn| rate_counters::purge(conn, before)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + secs, 0)
            .unwrap_or_default()
            .naive_utc()
    }

    type Map = HashMap<String, (NaiveDateTime, i32)>;

    #[test]
    fn an_account_is_locked_after_its_failures_until_the_window_ends() -> QueryResult<()> {
        let limiter = LoginLimiter::new("login", std::time::Duration::from_secs(60), 3, 10);
        let mut c = Map::new();
        for _ in 0..3 {
            assert!(limiter.reserve_in(&mut c, "a", "ip1", t(0))?.is_ok());
        }
        assert_eq!(
            limiter.reserve_in(&mut c, "a", "ip2", t(0))?,
            Err(60),
            "per account, whatever the address"
        );
        assert!(
            limiter.reserve_in(&mut c, "b", "ip1", t(0))?.is_ok(),
            "other accounts are unaffected"
        );
        assert!(limiter.reserve_in(&mut c, "a", "ip1", t(61))?.is_ok());
        Ok(())
    }

    #[test]
    fn an_address_is_limited_across_accounts() -> QueryResult<()> {
        let limiter = LoginLimiter::new("login", std::time::Duration::from_secs(60), 100, 2);
        let mut c = Map::new();
        assert!(limiter.reserve_in(&mut c, "a", "ip", t(0))?.is_ok());
        assert!(limiter.reserve_in(&mut c, "b", "ip", t(0))?.is_ok());
        assert!(limiter.reserve_in(&mut c, "c", "ip", t(0))?.is_err());
        assert!(limiter.reserve_in(&mut c, "c", "other", t(0))?.is_ok());
        Ok(())
    }

    #[test]
    fn a_refused_attempt_counts_nothing_and_limiters_do_not_share_keys() -> QueryResult<()> {
        let login = LoginLimiter::new("login", std::time::Duration::from_secs(60), 1, 100);
        let register = LoginLimiter::new("register", std::time::Duration::from_secs(60), 100, 1);
        let mut c = Map::new();
        assert!(login.reserve_in(&mut c, "a", "ip", t(0))?.is_ok());
        assert!(login.reserve_in(&mut c, "a", "ip", t(1))?.is_err());
        assert_eq!(c.get("login:address:ip").map(|w| w.1), Some(1));
        assert!(register.reserve_in(&mut c, "", "ip", t(1))?.is_ok());
        Ok(())
    }

    #[test]
    fn success_clears_the_account_and_refunds_the_address() -> QueryResult<()> {
        let limiter = LoginLimiter::new("login", std::time::Duration::from_secs(60), 2, 2);
        let mut c = Map::new();
        assert!(limiter.reserve_in(&mut c, "a", "ip", t(0))?.is_ok());
        limiter.success_in(&mut c, "a", "ip")?;
        assert!(limiter.reserve_in(&mut c, "a", "ip", t(0))?.is_ok());
        assert!(limiter.reserve_in(&mut c, "a", "ip", t(0))?.is_ok());
        assert!(limiter.reserve_in(&mut c, "a", "ip", t(0))?.is_err());
        Ok(())
    }
}
