//! Password rules and argon2id hashing.

use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 128;

const COMMON: &str = include_str!("common_passwords.txt");

/// Why a password is refused, in words for the 422.
pub fn problem(password: &str, email: &str) -> Option<&'static str> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Some("must be at least 10 characters");
    }
    if chars > MAX_LENGTH {
        return Some("must be at most 128 characters");
    }
    let lower = password.to_lowercase();
    if COMMON.lines().any(|common| common == lower) {
        return Some("is one of the most common passwords; choose another");
    }
    if lower == email.to_lowercase()
        || email
            .split('@')
            .next()
            .is_some_and(|local| lower == local.to_lowercase())
    {
        return Some("must not be your email address");
    }
    None
}

/// At most this many argon2 computations at once: each takes 19 MiB, so a burst of logins
/// cannot run the server's memory up (the rest wait their turn).
const CONCURRENT_HASHES: usize = 2;

static IN_USE: std::sync::Mutex<usize> = std::sync::Mutex::new(0);
static FREED: std::sync::Condvar = std::sync::Condvar::new();

/// One of the `CONCURRENT_HASHES` permits; given back when dropped (also on a panic).
struct Permit;

impl Permit {
    fn take() -> Self {
        let mut busy = IN_USE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while *busy >= CONCURRENT_HASHES {
            busy = FREED
                .wait(busy)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *busy += 1;
        Self
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        *IN_USE.lock().unwrap_or_else(std::sync::PoisonError::into_inner) -= 1;
        FREED.notify_one();
    }
}

/// Runs `f` holding a permit.
fn with_permit<T>(f: impl FnOnce() -> T) -> T {
    let _permit = Permit::take();
    f()
}

/// An argon2id PHC string (default parameters: m = 19 MiB, t = 2, p = 1, as OWASP recommends).
pub fn hash(password: &str) -> anyhow::Result<String> {
    with_permit(|| {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))
    })
}

/// Whether `password` matches `phc`. A malformed hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    with_permit(|| {
        Argon2::default()
            .verify_password(password.as_bytes(), phc)
            .is_ok()
    })
}

/// A valid hash of a random password: verifying against it when the email is unknown makes a
/// failed login take as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash(&uuid::Uuid::new_v4().to_string()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_by_salt() -> anyhow::Result<()> {
        let a = hash("correct horse battery")?;
        let b = hash("correct horse battery")?;
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b);
        assert!(verify("correct horse battery", &a));
        assert!(!verify("correct horse batterY", &a));
        assert!(!verify("anything", "not a hash"));
        Ok(())
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert_eq!(problem("short", "a@b.c"), Some("must be at least 10 characters"));
        assert!(problem(&"x".repeat(129), "a@b.c").is_some());
        assert!(problem("Password123", "a@b.c").is_some());
        assert!(problem("runner.jane", "runner.jane@example.com").is_some());
        assert_eq!(problem("a long unusual phrase", "a@b.c"), None);
    }
}
