//! Rate limits on every route: a budget per caller (a user's token, a partner's client, or the
//! client address for anonymous calls) and per kind of request (reads, writes, sign-in, and
//! the expensive engine calls), in fixed windows aligned to the clock, so every replica counts
//! the same window.
//!
//! Counting happens in process, so a request costs no database round trip. On PostgreSQL a
//! background task adds each replica's counts to the shared `rate_counters` rows every second
//! and reads back the total, so all replicas share one budget; between two syncs a replica
//! sees the others' counts as of the last one (replicas x one second of traffic at most goes
//! over). On SQLite (one process) the counts stay in process.
//!
//! Every limited response carries the IETF `RateLimit-Policy` and `RateLimit` fields
//! (draft-ietf-httpapi-ratelimit-headers): `"read";q=1200;w=60` and `"read";r=1187;t=23`.
//! A refused request is a 429 problem with `Retry-After`.

use std::collections::HashMap;
use std::sync::Mutex;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage as _, web};

use crate::auth::AuthState;
use crate::auth::tokens::{self, Claims, TokenKind};
use crate::db::{DbError, DbPool};
use crate::error::ApiError;

pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// The kinds of request with a budget of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    Read,
    Write,
    /// Registration, sign-in and token refresh (on top of the login throttle).
    Auth,
    /// The engine without storage: programme preview and simulation.
    Expensive,
}

impl Class {
    pub const ALL: [Self; 4] = [Self::Read, Self::Write, Self::Auth, Self::Expensive];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Auth => "auth",
            Self::Expensive => "expensive",
        }
    }

    /// The budget a request spends, or `None` for the probes orchestrators poll.
    pub fn of(method: &Method, path: &str) -> Option<Self> {
        if matches!(path, "/healthz" | "/readyz") {
            return None;
        }
        Some(
            if path.starts_with("/v1/auth/") || path.starts_with("/v1/oauth/") {
                Self::Auth
            } else if path == "/v1/programmes/preview" || path == "/v1/programmes/simulate" {
                Self::Expensive
            } else if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
                Self::Read
            } else {
                Self::Write
            },
        )
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
    /// Seconds per window.
    pub window_secs: u32,
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
            ..Self::default()
        }
    }

    fn quota(&self, class: Class, partner: bool) -> Option<u32> {
        let q = match class {
            Class::Read => self.read,
            Class::Write => self.write,
            Class::Auth => self.auth,
            Class::Expensive => self.expensive,
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

    pub fn window_secs(&self) -> u32 {
        self.budgets.window_secs.max(1)
    }

    fn window(&self) -> i64 {
        i64::from(self.budgets.window_secs.max(1))
    }

    /// Counts one request of `caller` (`user:…`, `partner:…` or `address:…`) at `now` (Unix
    /// seconds), unless its budget is spent. `None` when the kind is not limited.
    pub fn check(&self, class: Class, caller: &str, partner: bool, now: i64) -> Option<Verdict> {
        let quota = self.budgets.quota(class, partner)?;
        let window = self.window();
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
        if allowed {
            slot.mine += 1;
        }
        Some(Verdict {
            class,
            quota,
            remaining: quota.saturating_sub(used + u32::from(allowed)),
            reset_secs,
            allowed,
        })
    }

    /// Forgets windows that ended before `now`, and returns every current window as the
    /// shared counters need it: (key, window start, requests not yet added), in key order (so
    /// two replicas lock the rows in the same order). Windows with nothing to add are still
    /// listed, to learn the other replicas' counts.
    pub fn pending(&self, now: i64) -> Vec<(String, i64, u32)> {
        let window = self.window();
        let mut slots = self.slots();
        slots.retain(|_, slot| slot.start + window > now);
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

/// Who is calling, for the budget: a valid token's subject, else the client address. The
/// verified claims are kept for the route's extractor, which then does not verify again.
fn caller(req: &ServiceRequest, auth: &AuthState) -> (String, bool) {
    let token = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    if let Some(claims) = token.and_then(|t| tokens::verify(&auth.keys, &auth.config, t).ok()) {
        let partner = claims.typ == TokenKind::Partner;
        let who = format!("{}:{}", if partner { "partner" } else { "user" }, claims.sub);
        req.extensions_mut().insert(Verified(claims));
        return (who, partner);
    }
    (format!("address:{}", auth.client_address(req.request())), false)
}

/// A bearer token the rate limiter already verified for this request.
#[derive(Debug, Clone)]
pub struct Verified(pub Claims);

/// The middleware: counts the request, refuses it with 429 past the budget, and adds the
/// `RateLimit` fields to the response.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let limiter = req.app_data::<web::Data<Limiter>>().cloned();
    let auth = req.app_data::<web::Data<AuthState>>().cloned();
    let (Some(limiter), Some(auth), Some(class)) = (limiter, auth, Class::of(req.method(), req.path()))
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let (who, partner) = caller(&req, &auth);
    let Some(decision) = limiter.check(class, &who, partner, chrono::Utc::now().timestamp()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let mut res = if decision.allowed {
        next.call(req).await?.map_into_boxed_body()
    } else {
        tracing::info!(class = class.as_str(), caller = %who, "rate limited");
        req.error_response(ApiError::TooManyRequests {
            retry_after_secs: u64::from(decision.reset_secs.max(1)),
        })
    };
    let name = decision.class.as_str();
    let fields = [
        (
            RATELIMIT_POLICY,
            format!(
                "\"{name}\";q={};w={}",
                decision.quota,
                limiter.budgets.window_secs.max(1)
            ),
        ),
        (
            RATELIMIT,
            format!("\"{name}\";r={};t={}", decision.remaining, decision.reset_secs),
        ),
    ];
    for (header, value) in fields {
        if let Ok(value) = HeaderValue::from_str(&value) {
            res.headers_mut().insert(header, value);
        }
    }
    Ok(res)
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

    #[test]
    fn each_request_spends_the_budget_of_its_kind() {
        assert_eq!(Class::of(&Method::GET, "/v1/exercises"), Some(Class::Read));
        assert_eq!(Class::of(&Method::POST, "/v1/me/sessions"), Some(Class::Write));
        assert_eq!(Class::of(&Method::POST, "/v1/auth/token"), Some(Class::Auth));
        assert_eq!(Class::of(&Method::POST, "/v1/oauth/token"), Some(Class::Auth));
        assert_eq!(
            Class::of(&Method::POST, "/v1/programmes/preview"),
            Some(Class::Expensive)
        );
        assert_eq!(Class::of(&Method::GET, "/healthz"), None);
        assert_eq!(Class::of(&Method::GET, "/readyz"), None);
    }
}
