//! Settings from environment variables, with defaults that make `cargo run` just work.
//!
//! No global statics: `Settings` is built once in `main` (or by a test) and passed in.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, anyhow};

/// Every setting the server reads. The README's configuration table lists the same variables.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `SOLEUS_HOST` (default `127.0.0.1`).
    pub host: String,
    /// `SOLEUS_PORT` (default `8080`; `0` picks a free port).
    pub port: u16,
    /// `SOLEUS_DATA_DIR` (default `data`): the SQLite file and generated keys live here.
    pub data_dir: PathBuf,
    /// `DATABASE_URL` (default `<data dir>/soleus.db`): a file path, or `postgres://…`.
    pub database_url: String,
    /// `SOLEUS_DB_POOL_SIZE` (default 8 on PostgreSQL, 4 on SQLite).
    pub db_pool_size: u32,
    /// `SOLEUS_WORKERS` (default: one per core).
    pub workers: usize,
    /// `SOLEUS_MAX_BODY_BYTES` (default 1 MiB): larger request bodies get 413.
    pub max_body_bytes: usize,
    /// `SOLEUS_BODY_READ_TIMEOUT_SECS` (10): how long a request body may take to arrive.
    pub body_read_timeout_secs: u64,
    /// `SOLEUS_SHUTDOWN_TIMEOUT_SECS` (default 30): grace period for in-flight requests.
    pub shutdown_timeout: Duration,
    /// `SOLEUS_JWT_PRIVATE_KEY_FILE` (default `<data dir>/jwt-ed25519.pem`, created when missing).
    pub jwt_private_key_file: PathBuf,
    /// Whether `SOLEUS_JWT_PRIVATE_KEY_FILE` was set explicitly (then a missing file is an error).
    pub jwt_key_configured: bool,
    /// `SOLEUS_JWT_PREVIOUS_KEY_FILE`: the key before the last rotation (private or public PEM);
    /// tokens it signed stay valid until they expire.
    pub jwt_previous_key_file: Option<PathBuf>,
    /// `SOLEUS_JWT_ISSUER`, `SOLEUS_JWT_AUDIENCE` (default `soleus-api`), access-token lifetime
    /// `SOLEUS_ACCESS_TOKEN_TTL_SECS` (900) and refresh-token lifetime
    /// `SOLEUS_REFRESH_TOKEN_TTL_DAYS` (30).
    pub tokens: crate::auth::tokens::TokenConfig,
    /// `SOLEUS_LOGIN_FAILURES_PER_ACCOUNT` (5) and `SOLEUS_LOGIN_FAILURES_PER_ADDRESS` (20):
    /// failed logins allowed per 15 minutes before 429.
    pub login_failures_per_account: u32,
    /// `SOLEUS_TOMBSTONE_RETENTION_DAYS` (default 90): deleted sessions stay in the change feed
    /// this long; a feed cursor older than that gets 410 (resync in full).
    pub tombstone_retention_days: u32,
    /// `SOLEUS_TOMBSTONE_PURGE_INTERVAL_SECS` (default 3600): how often the server deletes
    /// tombstones past the retention window (also once at start-up).
    pub tombstone_purge_interval: Duration,
    pub login_failures_per_address: u32,
    /// `SOLEUS_REGISTRATIONS_PER_ADDRESS` (20): new accounts per client address per hour.
    pub registrations_per_address: u32,
    /// `SOLEUS_TRUSTED_PROXIES` (none): comma-separated addresses of reverse proxies whose
    /// `X-Forwarded-For` is believed; without it every client is its TCP peer, and behind a proxy
    /// everyone would share one address (and one login throttle).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// `SOLEUS_PUBLIC_URL` (none): the server's public base URL (`https://api.example`), used
    /// for the OAuth metadata's issuer and endpoints; without it they follow the request's host.
    pub public_url: Option<String>,
    /// `SOLEUS_CORS_ORIGINS` (none): comma-separated origins (`https://app.example`) whose
    /// browser pages may call the API; without it, no CORS headers are sent.
    pub cors_origins: Vec<String>,
    /// `SOLEUS_METRICS_TOKEN`: the bearer token `GET /metrics` requires; unset, no metrics.
    pub metrics_token: Option<String>,
    /// Not from the environment: the build's deprecated operations
    /// ([`crate::http::deprecation::DEPRECATED`]); tests substitute their own.
    pub deprecations: Vec<crate::http::deprecation::Deprecation>,
    /// `SOLEUS_MIN_CLIENT_VERSION` (default `1.0.0`): clients older than this should upgrade.
    pub min_client_version: String,
    /// `SOLEUS_LOG_FORMAT`: `json` (default) or `pretty`.
    pub log_format: LogFormat,
    /// `SOLEUS_MAX_PROGRAMMES_PER_USER` (100) and `SOLEUS_MAX_ASSESSMENTS_PER_USER` (1000).
    pub quotas: crate::services::Quotas,
    /// `SOLEUS_RATE_LIMIT_READ` (1200), `_WRITE` (300), `_AUTH` (30), `_EXPENSIVE` (30):
    /// requests per caller per `SOLEUS_RATE_LIMIT_WINDOW_SECS` (60); 0 turns one off. Partner
    /// clients get `SOLEUS_RATE_LIMIT_PARTNER_FACTOR` (10) times as much. Also
    /// `SOLEUS_MAX_SESSIONS_PER_DAY` (2000): sessions one account may create per UTC day.
    pub rate_limits: crate::limits::Budgets,
    /// Webhook delivery: `SOLEUS_WEBHOOK_RETRY_SCHEDULE_SECS` (default
    /// `5,300,1800,7200,18000,36000,36000`: the waits after each consecutive failure, ±20 %;
    /// after the last the endpoint is disabled), `SOLEUS_WEBHOOK_POLL_INTERVAL_MS` (500: how
    /// often each replica looks for due deliveries) and
    /// `SOLEUS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS` (false; for local development and tests only:
    /// allows `http://` URLs and loopback or private addresses).
    pub webhooks: crate::services::webhooks::Policy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads settings through `lookup` (tests pass a map instead of mutating the environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let get = |key: &str| lookup(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let data_dir = PathBuf::from(get("SOLEUS_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url =
            get("DATABASE_URL").unwrap_or_else(|| data_dir.join("soleus.db").to_string_lossy().into_owned());
        let is_pg = crate::db::Backend::from_url(&database_url) == crate::db::Backend::Postgres;
        let jwt_key = get("SOLEUS_JWT_PRIVATE_KEY_FILE");
        Ok(Self {
            host: get("SOLEUS_HOST").unwrap_or_else(|| "127.0.0.1".into()),
            port: parse(&get, "SOLEUS_PORT", 8080, "a port number (0-65535)")?,
            db_pool_size: parse(
                &get,
                "SOLEUS_DB_POOL_SIZE",
                if is_pg { 8 } else { 4 },
                "a number from 1 to 256",
            )
            .and_then(|n: u32| {
                (1..=256)
                    .contains(&n)
                    .then_some(n)
                    .ok_or_else(|| anyhow!("SOLEUS_DB_POOL_SIZE must be a number from 1 to 256"))
            })?,
            workers: parse(&get, "SOLEUS_WORKERS", default_workers(), "a positive number").and_then(
                |n: usize| {
                    (n > 0)
                        .then_some(n)
                        .ok_or_else(|| anyhow!("SOLEUS_WORKERS must be a positive number"))
                },
            )?,
            max_body_bytes: parse(&get, "SOLEUS_MAX_BODY_BYTES", 1024 * 1024, "a number of bytes")?,
            body_read_timeout_secs: parse(&get, "SOLEUS_BODY_READ_TIMEOUT_SECS", 10, "a number of seconds")?,
            shutdown_timeout: Duration::from_secs(parse(
                &get,
                "SOLEUS_SHUTDOWN_TIMEOUT_SECS",
                30,
                "a number of seconds",
            )?),
            jwt_key_configured: jwt_key.is_some(),
            jwt_previous_key_file: get("SOLEUS_JWT_PREVIOUS_KEY_FILE").map(PathBuf::from),
            login_failures_per_account: parse(&get, "SOLEUS_LOGIN_FAILURES_PER_ACCOUNT", 5, "a number")?,
            tombstone_retention_days: parse(&get, "SOLEUS_TOMBSTONE_RETENTION_DAYS", 90, "a number of days")?,
            tombstone_purge_interval: Duration::from_secs(
                parse(
                    &get,
                    "SOLEUS_TOMBSTONE_PURGE_INTERVAL_SECS",
                    3600,
                    "a number of seconds",
                )?
                .max(1),
            ),
            login_failures_per_address: parse(&get, "SOLEUS_LOGIN_FAILURES_PER_ADDRESS", 20, "a number")?,
            registrations_per_address: parse(&get, "SOLEUS_REGISTRATIONS_PER_ADDRESS", 20, "a number")?,
            trusted_proxies: match get("SOLEUS_TRUSTED_PROXIES") {
                None => Vec::new(),
                Some(list) => list
                    .split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(|a| {
                        a.parse().map_err(|_| {
                            anyhow::anyhow!("SOLEUS_TRUSTED_PROXIES: `{a}` is not an IP address")
                        })
                    })
                    .collect::<anyhow::Result<_>>()?,
            },
            tokens: crate::auth::tokens::TokenConfig {
                issuer: get("SOLEUS_JWT_ISSUER").unwrap_or_else(|| "soleus-api".into()),
                audience: get("SOLEUS_JWT_AUDIENCE").unwrap_or_else(|| "soleus-api".into()),
                access_ttl_secs: parse(&get, "SOLEUS_ACCESS_TOKEN_TTL_SECS", 900, "a number of seconds")?,
                refresh_ttl_secs: parse::<u64>(
                    &get,
                    "SOLEUS_REFRESH_TOKEN_TTL_DAYS",
                    30,
                    "a number of days",
                )?
                .saturating_mul(24 * 3600),
                leeway_secs: 30,
                refresh_grace_secs: parse(&get, "SOLEUS_REFRESH_GRACE_SECS", 10, "a number of seconds")?,
            },
            jwt_private_key_file: jwt_key.map_or_else(|| data_dir.join("jwt-ed25519.pem"), PathBuf::from),
            rate_limits: {
                let default = crate::limits::Budgets::default();
                crate::limits::Budgets {
                    read: parse(&get, "SOLEUS_RATE_LIMIT_READ", default.read, "a number")?,
                    write: parse(&get, "SOLEUS_RATE_LIMIT_WRITE", default.write, "a number")?,
                    auth: parse(&get, "SOLEUS_RATE_LIMIT_AUTH", default.auth, "a number")?,
                    expensive: parse(&get, "SOLEUS_RATE_LIMIT_EXPENSIVE", default.expensive, "a number")?,
                    partner_factor: parse(
                        &get,
                        "SOLEUS_RATE_LIMIT_PARTNER_FACTOR",
                        default.partner_factor,
                        "a number",
                    )?,
                    window_secs: parse(
                        &get,
                        "SOLEUS_RATE_LIMIT_WINDOW_SECS",
                        default.window_secs,
                        "a number of seconds",
                    )?
                    .max(1),
                    sessions_per_day: parse(
                        &get,
                        "SOLEUS_MAX_SESSIONS_PER_DAY",
                        default.sessions_per_day,
                        "a number",
                    )?,
                }
            },
            quotas: {
                let default = crate::services::Quotas::default();
                crate::services::Quotas {
                    programmes: parse(
                        &get,
                        "SOLEUS_MAX_PROGRAMMES_PER_USER",
                        default.programmes,
                        "a number",
                    )?,
                    assessments: parse(
                        &get,
                        "SOLEUS_MAX_ASSESSMENTS_PER_USER",
                        default.assessments,
                        "a number",
                    )?,
                }
            },
            webhooks: crate::services::webhooks::Policy {
                allow_private_networks: match get("SOLEUS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS").as_deref() {
                    None | Some("false" | "0") => false,
                    Some("true" | "1") => true,
                    Some(other) => {
                        return Err(anyhow!(
                            "SOLEUS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS must be true or false, not `{other}`"
                        ));
                    }
                },
                retry_schedule: match get("SOLEUS_WEBHOOK_RETRY_SCHEDULE_SECS") {
                    None => crate::services::webhooks::Policy::default().retry_schedule,
                    Some(list) => list
                        .split(',')
                        .map(|s| {
                            s.trim()
                                .parse::<f64>()
                                .ok()
                                .filter(|secs| secs.is_finite() && *secs >= 0.0 && *secs <= 7.0 * 86_400.0)
                                .map(Duration::from_secs_f64)
                                .ok_or_else(|| {
                                    anyhow!(
                                        "SOLEUS_WEBHOOK_RETRY_SCHEDULE_SECS must be a comma-separated list of seconds (at most a week each), not `{list}`"
                                    )
                                })
                        })
                        .collect::<anyhow::Result<_>>()?,
                },
                poll_interval: Duration::from_millis(
                    parse(&get, "SOLEUS_WEBHOOK_POLL_INTERVAL_MS", 500, "a number of milliseconds")?.max(10),
                ),
                attempt_timeout: Duration::from_secs(10),
            },
            public_url: get("SOLEUS_PUBLIC_URL")
                .map(|u| u.trim_end_matches('/').to_owned())
                .map(|u| {
                    if u.starts_with("https://") || u.starts_with("http://") {
                        Ok(u)
                    } else {
                        Err(anyhow!("SOLEUS_PUBLIC_URL must be an absolute http(s) URL, not `{u}`"))
                    }
                })
                .transpose()?,
            deprecations: crate::http::deprecation::DEPRECATED.to_vec(),
            metrics_token: match get("SOLEUS_METRICS_TOKEN") {
                None => None,
                Some(t) if t.len() >= 16 && t.bytes().all(|b| b.is_ascii_graphic()) => Some(t),
                Some(_) => {
                    return Err(anyhow!(
                        "SOLEUS_METRICS_TOKEN must be at least 16 visible ASCII characters (try `openssl rand -hex 32`)"
                    ));
                }
            },
            cors_origins: match get("SOLEUS_CORS_ORIGINS") {
                None => Vec::new(),
                Some(list) => list
                    .split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(|o| {
                        let origin = o.trim_end_matches('/');
                        let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
                            && !origin.split_once("://").is_some_and(|(_, rest)| rest.is_empty() || rest.contains('/'));
                        if ok {
                            Ok(origin.to_owned())
                        } else {
                            Err(anyhow!(
                                "SOLEUS_CORS_ORIGINS: `{o}` is not an origin (scheme://host[:port], e.g. https://app.example)"
                            ))
                        }
                    })
                    .collect::<anyhow::Result<_>>()?,
            },
            min_client_version: get("SOLEUS_MIN_CLIENT_VERSION").unwrap_or_else(|| "1.0.0".into()),
            log_format: match get("SOLEUS_LOG_FORMAT").as_deref() {
                None | Some("json") => LogFormat::Json,
                Some("pretty") => LogFormat::Pretty,
                Some(other) => {
                    return Err(anyhow!(
                        "SOLEUS_LOG_FORMAT must be `json` or `pretty`, not `{other}`"
                    ));
                }
            },
            data_dir,
            database_url,
        })
    }

    /// Settings for tests: a random port, the given data folder and database.
    pub fn for_tests(data_dir: PathBuf, database_url: String) -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 0,
            jwt_private_key_file: data_dir.join("jwt-ed25519.pem"),
            jwt_key_configured: false,
            jwt_previous_key_file: None,
            login_failures_per_account: 5,
            login_failures_per_address: 20,
            registrations_per_address: 20,
            trusted_proxies: Vec::new(),
            tombstone_retention_days: 90,
            tombstone_purge_interval: Duration::from_secs(3600),
            tokens: crate::auth::tokens::TokenConfig::default(),
            data_dir,
            database_url,
            db_pool_size: 4,
            workers: 2,
            max_body_bytes: 1024 * 1024,
            body_read_timeout_secs: 10,
            shutdown_timeout: Duration::from_secs(1),
            min_client_version: "1.0.0".into(),
            log_format: LogFormat::Json,
            quotas: crate::services::Quotas::default(),
            cors_origins: Vec::new(),
            metrics_token: None,
            deprecations: crate::http::deprecation::DEPRECATED.to_vec(),
            public_url: None,
            rate_limits: crate::limits::Budgets::off(),
            // Receivers in tests listen on loopback; retries come quickly.
            webhooks: crate::services::webhooks::Policy {
                allow_private_networks: true,
                retry_schedule: vec![Duration::from_millis(50); 3],
                poll_interval: Duration::from_millis(20),
                attempt_timeout: Duration::from_secs(2),
            },
        }
    }
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

fn parse<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    key: &str,
    default: T,
    expected: &str,
) -> anyhow::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match get(key) {
        None => Ok(default),
        Some(raw) => raw
            .parse()
            .with_context(|| format!("{key} must be {expected}, not `{raw}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_make_cargo_run_work() -> anyhow::Result<()> {
        let s = settings(&[])?;
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 8080));
        assert_eq!(s.database_url, "data/soleus.db");
        assert_eq!(s.jwt_private_key_file, PathBuf::from("data/jwt-ed25519.pem"));
        assert!(!s.jwt_key_configured);
        assert_eq!(s.db_pool_size, 4);
        Ok(())
    }

    #[test]
    fn the_data_dir_moves_the_defaults() -> anyhow::Result<()> {
        let s = settings(&[("SOLEUS_DATA_DIR", "/var/lib/soleus")])?;
        assert_eq!(s.database_url, "/var/lib/soleus/soleus.db");
        Ok(())
    }

    #[test]
    fn postgres_gets_a_bigger_pool() -> anyhow::Result<()> {
        let s = settings(&[("DATABASE_URL", "postgres://u:p@localhost/db")])?;
        assert_eq!(s.db_pool_size, 8);
        Ok(())
    }

    #[test]
    fn a_bad_value_names_the_variable() {
        for (key, value) in [
            ("SOLEUS_PORT", "80800"),
            ("SOLEUS_PORT", "http"),
            ("SOLEUS_WORKERS", "0"),
            ("SOLEUS_DB_POOL_SIZE", "1000"),
            ("SOLEUS_LOG_FORMAT", "xml"),
            ("SOLEUS_MAX_BODY_BYTES", "-1"),
        ] {
            let err = settings(&[(key, value)])
                .err()
                .map(|e| format!("{e:#}"))
                .unwrap_or_default();
            assert!(err.contains(key), "{key}={value}: {err}");
        }
    }
}
