//! Request budgets and per-day quotas, counted in fixed windows aligned to the clock (so every
//! replica counts the same window): the rate limits every route spends (reads, writes, sign-in,
//! the expensive engine calls) and the sessions an account may create per day.
//!
//! Counting happens in process, so a request costs no database round trip. On PostgreSQL a
//! background task adds each replica's counts to the shared `rate_counters` rows every second
//! and reads back the total, so all replicas share one budget; between two syncs a replica
//! sees the others' counts as of the last one (replicas x one second of traffic at most goes
//! over). On SQLite (one process) the counts stay in process.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::db::{DbError, DbPool};

/// The kinds of request with a budget of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    Read,
    Write,
    /// Registration, sign-in and token refresh (on top of the login throttle).
    Auth,
    /// The engine without storage: programme preview and simulation.
    Expensive,
    /// Sessions an account creates per UTC day (a quota, spent by the sessions use case).
    Sessions,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Auth => "auth",
            Self::Expensive => "expensive",
            Self::Sessions => "sessions",
        }
    }
}

/// Requests per window for each kind (`SOLEUS_RATE_LIMIT_*`; 0 turns a kind off). Partner
/// clients act for many users: their budgets are `partner_factor` times larger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    pub read: u32,
    pub write: u32,
    pub auth: u32,
    pub expensive: u32,
    pub partner_factor: u32,
    /// Seconds per window (the sessions quota's window is always a day).
    pub window_secs: u32,
    /// Sessions an account may create per UTC day (`SOLEUS_MAX_SESSIONS_PER_DAY`; 0: no cap).
    pub sessions_per_day: u32,
}

impl Default for Budgets {
    fn default() -> Self {
        Self {
            read: 1200,
            write: 300,
            auth: 30,
            expensive: 30,
            partner_factor: 10,
            window_secs: 60,
            sessions_per_day: 2000,
        }
    }
}

impl Budgets {
    /// No limits at all (the test suite's default).
    pub fn off() -> Self {
        Self {
            read: 0,
            write: 0,
            auth: 0,
            expensive: 0,
            sessions_per_day: 0,
            ..Self::default()
        }
    }

    fn quota(&self, class: Class, partner: bool) -> Option<u32> {
        let q = match class {
            Class::Read => self.read,
            Class::Write => self.write,
            Class::Auth => self.auth,
            Class::Expensive => self.expensive,
            Class::Sessions => self.sessions_per_day,
        };
        (q > 0).then(|| {
            if partner {
                q.saturating_mul(self.partner_factor.max(1))
            } else {
                q
            }
        })
    }
}

/// One caller's count in one window.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// The window's start (Unix seconds, a multiple of the window length).
    start: i64,
    /// Requests this process let through in the window.
    mine: u32,
    /// How many of `mine` the shared counter already holds.
    synced: u32,
    /// Other replicas' requests in the window, as of the last sync.
    others: u32,
}

/// The outcome of one request against its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub class: Class,
    pub quota: u32,
    pub window_secs: u32,
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_secs: u32,
    pub allowed: bool,
}

/// The counters of this process.
#[derive(Debug)]
pub struct Limiter {
    budgets: Budgets,
    slots: Mutex<HashMap<(Class, String), Slot>>,
}

impl Limiter {
    pub fn new(budgets: Budgets) -> Self {
        Self {
            budgets,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<(Class, String), Slot>> {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The window of the rate limits, in seconds.
    pub fn window_secs(&self) -> u32 {
        self.budgets.window_secs.max(1)
    }

    fn window(&self, class: Class) -> i64 {
        match class {
            Class::Sessions => DAY,
            _ => i64::from(self.window_secs()),
        }
    }

    /// Counts one request of `caller` (`user:…`, `partner:…` or `address:…`) at `now` (Unix
    /// seconds), unless its budget is spent. `None` when the kind is not limited.
    pub fn check(&self, class: Class, caller: &str, partner: bool, now: i64) -> Option<Verdict> {
        self.take(class, caller, partner, now, 1)
    }

    /// Whether `caller` has budget left, counting nothing (`None`: not limited).
    pub fn peek(&self, class: Class, caller: &str, now: i64) -> Option<Verdict> {
        self.take(class, caller, false, now, 0)
    }

    /// Counts `units` already spent by `caller` (such as sessions just created), whatever is
    /// left: the next [`Self::peek`] sees them.
    pub fn add(&self, class: Class, caller: &str, units: u32, now: i64) {
        if units == 0 || self.budgets.quota(class, false).is_none() {
            return;
        }
        let start = now - now.rem_euclid(self.window(class));
        let mut slots = self.slots();
        let slot = slots.entry((class, caller.to_owned())).or_default();
        if slot.start != start {
            *slot = Slot {
                start,
                ..Slot::default()
            };
        }
        slot.mine = slot.mine.saturating_add(units);
    }

    /// Counts `units` (0 or 1) when the budget has room.
    fn take(&self, class: Class, caller: &str, partner: bool, now: i64, units: u32) -> Option<Verdict> {
        let quota = self.budgets.quota(class, partner)?;
        let window = self.window(class);
        let start = now - now.rem_euclid(window);
        let reset_secs = u32::try_from(start + window - now).unwrap_or(1);
        let mut slots = self.slots();
        let slot = slots.entry((class, caller.to_owned())).or_default();
        if slot.start != start {
            *slot = Slot {
                start,
                ..Slot::default()
            };
        }
        let used = slot.mine.saturating_add(slot.others);
        let allowed = used < quota;
        let spent = if allowed { units } else { 0 };
        slot.mine += spent;
        Some(Verdict {
            class,
            quota,
            window_secs: u32::try_from(window).unwrap_or(u32::MAX),
            remaining: quota.saturating_sub(used + spent),
            reset_secs,
            allowed,
        })
    }

    /// Forgets windows that ended before `now`, and returns every current window as the
    /// shared counters need it: (key, window start, requests not yet added), in key order (so
    /// two replicas lock the rows in the same order). Windows with nothing to add are still
    /// listed, to learn the other replicas' counts.
    pub fn pending(&self, now: i64) -> Vec<(String, i64, u32)> {
        let mut slots = self.slots();
        slots.retain(|(class, _), slot| slot.start + self.window(*class) > now);
        let mut out: Vec<(String, i64, u32)> = slots
            .iter()
            .map(|((class, caller), slot)| {
                (
                    shared_key(*class, caller, slot.start),
                    slot.start,
                    slot.mine - slot.synced,
                )
            })
            .collect();
        out.sort();
        out
    }

    /// Takes in the shared totals after this process added `pending` to them.
    pub fn absorb(&self, pending: &[(String, i64, u32)], totals: &HashMap<String, i64>) {
        let added: HashMap<&str, u32> = pending.iter().map(|(k, _, n)| (k.as_str(), *n)).collect();
        let mut slots = self.slots();
        for ((class, caller), slot) in slots.iter_mut() {
            let key = shared_key(*class, caller, slot.start);
            let (Some(added), Some(total)) = (added.get(key.as_str()), totals.get(&key)) else {
                continue;
            };
            slot.synced += added;
            let total = u32::try_from(*total).unwrap_or(u32::MAX);
            slot.others = total.saturating_sub(slot.synced);
        }
    }
}

const DAY: i64 = 86_400;

fn shared_key(class: Class, caller: &str, start: i64) -> String {
    format!("rl:{}:{caller}:{start}", class.as_str())
}

/// One sync with the shared counters (PostgreSQL only; on SQLite it only forgets old windows).
pub async fn sync(limiter: &std::sync::Arc<Limiter>, pool: &DbPool) -> Result<(), DbError> {
    let now = chrono::Utc::now().timestamp();
    let pending = limiter.pending(now);
    if pending.is_empty() || pool.backend() != crate::db::Backend::Postgres {
        return Ok(());
    }
    let rows = pending.clone();
    let totals = crate::db::autocommit(pool, move |conn| {
        crate::repository::rate_counters::add_many(conn, &rows)
    })
    .await?;
    limiter.absorb(&pending, &totals.into_iter().collect());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budgets(read: u32) -> Budgets {
        Budgets {
            read,
            window_secs: 60,
            ..Budgets::default()
        }
    }

    #[test]
    fn requests_are_counted_per_caller_and_kind_until_the_window_ends() {
        let limiter = Limiter::new(budgets(2));
        let at = 1_200; // a window start
        let first = limiter.check(Class::Read, "user:a", false, at);
        assert_eq!(
            first.map(|d| (d.allowed, d.remaining, d.reset_secs)),
            Some((true, 1, 60))
        );
        assert_eq!(
            limiter
                .check(Class::Read, "user:a", false, at + 1)
                .map(|d| d.remaining),
            Some(0)
        );
        let refused = limiter.check(Class::Read, "user:a", false, at + 30);
        assert_eq!(refused.map(|d| (d.allowed, d.reset_secs)), Some((false, 30)));
        // Another caller and another kind have budgets of their own.
        assert_eq!(
            limiter
                .check(Class::Read, "user:b", false, at + 30)
                .map(|d| d.allowed),
            Some(true)
        );
        assert_eq!(
            limiter
                .check(Class::Write, "user:a", false, at + 30)
                .map(|d| d.allowed),
            Some(true)
        );
        // The next window starts afresh.
        assert_eq!(
            limiter
                .check(Class::Read, "user:a", false, at + 60)
                .map(|d| d.allowed),
            Some(true)
        );
    }

    #[test]
    fn a_quota_counts_what_was_spent_and_refuses_once_it_is_used() {
        let limiter = Limiter::new(Budgets {
            sessions_per_day: 10,
            ..Budgets::default()
        });
        let day = 86_400 * 20_000;
        assert_eq!(
            limiter.peek(Class::Sessions, "user:a", day).map(|v| v.remaining),
            Some(10)
        );
        limiter.add(Class::Sessions, "user:a", 9, day + 5);
        let left = limiter.peek(Class::Sessions, "user:a", day + 6);
        assert_eq!(left.map(|v| (v.allowed, v.remaining)), Some((true, 1)));
        // A batch may take it past the quota; then nothing more until the next UTC day.
        limiter.add(Class::Sessions, "user:a", 4, day + 7);
        let refused = limiter.peek(Class::Sessions, "user:a", day + 8);
        assert_eq!(refused.map(|v| (v.allowed, v.reset_secs)), Some((false, 86_392)));
        assert_eq!(
            limiter
                .peek(Class::Sessions, "user:a", day + 86_400)
                .map(|v| v.allowed),
            Some(true)
        );
        assert_eq!(
            limiter.peek(Class::Sessions, "user:b", day).map(|v| v.allowed),
            Some(true)
        );
    }

    #[test]
    fn partners_get_the_larger_budget_and_zero_turns_a_kind_off() {
        let limiter = Limiter::new(Budgets {
            read: 1,
            write: 0,
            partner_factor: 3,
            ..Budgets::default()
        });
        let allowed = (0..4)
            .filter(|_| {
                limiter
                    .check(Class::Read, "partner:p", true, 0)
                    .is_some_and(|d| d.allowed)
            })
            .count();
        assert_eq!(allowed, 3);
        assert_eq!(limiter.check(Class::Write, "user:a", false, 0), None);
    }

    #[test]
    fn the_shared_total_counts_against_every_replica() {
        let (one, two) = (Limiter::new(budgets(5)), Limiter::new(budgets(5)));
        let mut shared: HashMap<String, i64> = HashMap::new();
        let sync = |limiter: &Limiter, shared: &mut HashMap<String, i64>| {
            let pending = limiter.pending(10);
            for (key, _, added) in &pending {
                *shared.entry(key.clone()).or_default() += i64::from(*added);
            }
            limiter.absorb(&pending, shared);
        };
        for _ in 0..3 {
            assert!(
                one.check(Class::Read, "user:a", false, 10)
                    .is_some_and(|d| d.allowed)
            );
        }
        sync(&one, &mut shared);
        assert!(
            two.check(Class::Read, "user:a", false, 10)
                .is_some_and(|d| d.allowed)
        );
        sync(&two, &mut shared); // two learns of one's 3
        assert_eq!(
            two.check(Class::Read, "user:a", false, 10)
                .map(|d| (d.allowed, d.remaining)),
            Some((true, 0))
        );
        assert!(
            !two.check(Class::Read, "user:a", false, 10)
                .is_some_and(|d| d.allowed)
        );
        sync(&two, &mut shared);
        sync(&one, &mut shared); // one learns of two's 2
        assert!(
            !one.check(Class::Read, "user:a", false, 10)
                .is_some_and(|d| d.allowed)
        );
        assert_eq!(shared.values().sum::<i64>(), 5, "{shared:?}");
        // Ended windows are forgotten.
        assert!(one.pending(10_000).is_empty());
    }
}
