//! Password rules and argon2id hashing.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Params, Version};

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

/// Threads that compute argon2 hashes. Each keeps its 19 MiB of working memory for the next
/// hash (see `MEMORY`), so memory stays flat however many logins arrive; one thread computes
/// about 40 hashes a second here, and waiting logins queue. Raise it for login-heavy replicas.
const HASHER_THREADS: usize = 1;

type Job = Box<dyn FnOnce() + Send>;

fn hashers() -> &'static std::sync::Mutex<std::sync::mpsc::Sender<Job>> {
    static QUEUE: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<Job>>> =
        std::sync::OnceLock::new();
    QUEUE.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for n in 0..HASHER_THREADS {
            let rx = std::sync::Arc::clone(&rx);
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    loop {
                        let job = rx.lock().map_err(drop).and_then(|r| r.recv().map_err(drop));
                        match job {
                            Ok(job) => job(),
                            Err(()) => break,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password-hashing thread");
            }
        }
        std::sync::Mutex::new(tx)
    })
}

/// Queues `f` for a hashing thread; the receiver gets its result (`Err` if the job panicked).
/// Runs `f` at once on the calling thread if the hashing threads are gone.
fn submit<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> tokio::sync::oneshot::Receiver<T> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = reply.send(f());
    });
    let queue = hashers()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Err(unsent) = queue.send(job) {
        drop(queue);
        (unsent.0)();
    }
    answer
}

/// Runs `f` on a hashing thread and waits for its result, blocking this thread (for callers
/// outside the async runtime: start-up, the CLI, tests). `None` if the job panicked.
fn on_hasher<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    submit(f).blocking_recv().ok()
}

thread_local! {
    /// This thread's argon2 working memory (19 MiB), allocated once and reused: allocating it
    /// per hash fragments glibc's heap (64-byte-aligned blocks), and a server then kept about
    /// 20 MiB more after each of its first ten or so logins.
    static MEMORY: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Argon2 of `password` and `salt` into `out`, over this thread's reusable memory.
fn compute(argon: &Argon2<'_>, params: &Params, password: &[u8], salt: &[u8], out: &mut [u8]) -> bool {
    MEMORY.with_borrow_mut(|memory| {
        let blocks = params.block_count();
        if memory.len() < blocks {
            memory.resize(blocks, argon2::Block::default());
        }
        argon
            .hash_password_into_with_memory(password, salt, out, memory.as_mut_slice())
            .is_ok()
    })
}

/// An argon2id PHC string (default parameters: m = 19 MiB, t = 2, p = 1, as OWASP recommends).
pub fn hash(password: &str) -> anyhow::Result<String> {
    let password = password.to_owned();
    on_hasher(move || hash_here(&password))
        .unwrap_or_else(|| Err(anyhow::anyhow!("argon2: the hashing job failed")))
}

/// [`hash`] on this thread.
fn hash_here(password: &str) -> anyhow::Result<String> {
    {
        let params = Params::default();
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let salt = Salt::generate();
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        if !compute(&argon, &params, password.as_bytes(), &salt, &mut out) {
            return Err(anyhow::anyhow!("argon2: hashing failed"));
        }
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("argon2: {e}"))?,
            salt: Some(salt),
            hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("argon2: {e}"))?),
        };
        Ok(phc.to_string())
    }
}

/// Whether `password` matches `phc` (any argon2 variant and parameters the PHC string names).
/// A malformed hash never matches. Outputs are compared in constant time.
pub fn verify(password: &str, phc: &str) -> bool {
    let (password, phc) = (password.to_owned(), phc.to_owned());
    on_hasher(move || verify_here(&password, &phc)).unwrap_or(false)
}

/// [`verify`] on this thread.
fn verify_here(password: &str, phc: &str) -> bool {
    {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return false;
        };
        let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
            return false;
        };
        let version = match parsed.version.map(Version::try_from).transpose() {
            Ok(v) => v.unwrap_or_default(),
            Err(_) => return false,
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return false;
        };
        let argon = Argon2::new(algorithm, version, params.clone());
        let mut out = vec![0u8; expected.len()];
        compute(&argon, &params, password.as_bytes(), salt, &mut out)
            && Output::new(&out).is_ok_and(|computed| computed == *expected)
    }
}

/// A valid hash of a random password: verifying against it when the email is unknown makes a
/// failed login take as long as a wrong password.
/// Hashes waiting for or running on the hashing threads; past this, new sign-ins and
/// registrations are turned away with 503 and `Retry-After` rather than queueing without end.
pub const MAX_QUEUED: usize = 32;

static QUEUED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The hashing queue is full.
#[derive(Debug)]
pub struct Busy;

/// Holds one place in the hashing queue while it lives.
struct Place;

impl Place {
    fn take() -> Result<Self, Busy> {
        use std::sync::atomic::Ordering;
        let before = QUEUED.fetch_add(1, Ordering::AcqRel);
        if before >= MAX_QUEUED {
            QUEUED.fetch_sub(1, Ordering::AcqRel);
            return Err(Busy);
        }
        Ok(Self)
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        QUEUED.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// [`hash`] on the hashing thread within the queue bound, awaited: the request holds no
/// database connection and no blocking thread while it waits, so reads go on beside a flood.
pub async fn hash_queued(password: String) -> Result<anyhow::Result<String>, Busy> {
    let place = Place::take()?;
    let result = submit(move || hash_here(&password)).await;
    drop(place);
    Ok(result.unwrap_or_else(|_| Err(anyhow::anyhow!("argon2: the hashing job failed"))))
}

/// [`verify`] against `phc` (or the dummy hash, so unknown accounts take as long) on the
/// hashing thread within the queue bound, awaited like [`hash_queued`].
pub async fn verify_queued(password: String, phc: Option<String>) -> Result<bool, Busy> {
    let place = Place::take()?;
    let result = submit(move || verify_here(&password, phc.as_deref().unwrap_or_else(|| dummy_hash()))).await;
    drop(place);
    Ok(result.unwrap_or(false))
}

pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    // Computed where it is first needed (on the hashing thread, in a login): not queued behind
    // itself.
    DUMMY.get_or_init(|| hash_here(&uuid::Uuid::new_v4().to_string()).unwrap_or_default())
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

#[cfg(test)]
mod compatibility {
    use argon2::PasswordHasher as _;

    #[test]
    fn hashes_made_by_the_argon2_crate_itself_still_verify_and_ours_verify_there() {
        let theirs = argon2::Argon2::default()
            .hash_password(b"calves of steel 2026")
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(super::verify("calves of steel 2026", &theirs));
        assert!(!super::verify("calves of steel 2027", &theirs));
        let ours = super::hash("calves of steel 2026").unwrap_or_default();
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{ours}");
        let parsed = argon2::PasswordHash::new(&ours).unwrap_or_else(|e| panic!("{e}"));
        use argon2::PasswordVerifier as _;
        assert!(
            argon2::Argon2::default()
                .verify_password(b"calves of steel 2026", &parsed)
                .is_ok()
        );
        assert!(!super::verify(
            "calves of steel 2026",
            "$argon2id$v=19$m=19456,t=2,p=1$bm90IGEgaGFzaA"
        ));
    }
}
