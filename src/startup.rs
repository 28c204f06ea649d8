//! Builds the application (database, keys, listener, routes) and runs it.
//!
//! `build` binds the listener first, so tests can ask for port 0 and read back the real port.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, Condition, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context as _;
use utoipa_actix_web::AppExt as _;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::auth::AuthState;
use crate::auth::keys::{KeySet, SigningKeys, VerifyingKey};
use crate::auth::rate_limit::LoginLimiter;
use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::domain::catalogue::Catalogue;
use crate::error::ApiError;
use crate::http::fallback::{self, RouteTable};
use crate::http::rate_limit;
use crate::http::{BodyLimit, BodyTimeout, middleware};
use crate::limits::{self, Limiter};
use crate::repository;
use crate::routes::{self, meta};
use crate::services::sessions::{self as sessions, Retention};
use crate::services::webhooks;

/// Extra (non-API) routes to mount; tests use this to exercise the extractors.
pub type ExtraRoutes = fn(&mut web::ServiceConfig);

pub struct Application {
    port: u16,
    server: Server,
    pool: DbPool,
    limiter: web::Data<Limiter>,
    retention: Retention,
    purge_interval: std::time::Duration,
    webhooks: crate::services::webhooks::Policy,
}

impl Application {
    /// Opens the database (running migrations), loads or creates the signing key and binds the
    /// listener. Any failure is an error whose message names the setting at fault.
    pub fn build(settings: &Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, None)
    }

    pub fn build_with(settings: &Settings, extra: Option<ExtraRoutes>) -> anyhow::Result<Self> {
        let pool = db::connect(&settings.database_url, settings.db_pool_size)?;
        let catalogue = Catalogue::embedded()?;
        let report = repository::exercises::sync(&mut *pool.get()?, &catalogue)
            .context("DATABASE_URL: cannot write the exercise catalogue")?;
        tracing::info!(
            dataset_version = catalogue.version(),
            exercises = catalogue.all().len(),
            inserted = report.inserted,
            updated = report.updated,
            retired = report.retired,
            "catalogue loaded"
        );
        let keys = KeySet {
            current: SigningKeys::load_or_create(
                &settings.jwt_private_key_file,
                !settings.jwt_key_configured,
            )?,
            previous: settings
                .jwt_previous_key_file
                .as_deref()
                .map(VerifyingKey::load)
                .transpose()?,
        };
        let listener = TcpListener::bind((settings.host.as_str(), settings.port)).with_context(|| {
            format!(
                "SOLEUS_HOST/SOLEUS_PORT: cannot listen on {}:{}",
                settings.host, settings.port
            )
        })?;
        let port = listener.local_addr()?.port();

        let retention = Retention(chrono::Duration::days(i64::from(
            settings.tombstone_retention_days,
        )));
        let api = crate::openapi::build_openapi();
        let limiter = web::Data::new(Limiter::new(settings.rate_limits));
        let state = State {
            routes: web::Data::new(RouteTable::from_openapi(&api)),
            meta: web::Data::new(meta::Meta {
                api_version: "v1",
                build: meta::Build::CURRENT,
                storage: db::Backend::from_url(&settings.database_url),
                catalogue_version: Some(catalogue.version().to_owned()),
                min_client_version: settings.min_client_version.clone(),
            }),
            pool: web::Data::new(pool.clone()),
            catalogue: web::Data::new(catalogue),
            auth: web::Data::new(AuthState {
                keys,
                config: settings.tokens.clone(),
                login_limiter: LoginLimiter::new(
                    "login",
                    std::time::Duration::from_secs(15 * 60),
                    settings.login_failures_per_account,
                    settings.login_failures_per_address,
                ),
                register_limiter: LoginLimiter::new(
                    "register",
                    std::time::Duration::from_secs(3600),
                    u32::MAX,
                    settings.registrations_per_address,
                ),
                trusted_proxies: settings.trusted_proxies.clone(),
                public_url: settings.public_url.clone(),
                verified: Default::default(),
            }),
            quotas: web::Data::new(settings.quotas),
            webhooks: web::Data::new(settings.webhooks.clone()),
            limiter: limiter.clone(),
            // One group commit for new sessions per process (its task runs on the main
            // runtime), so that one user's creates on two workers share a group.
            writer: web::Data::new(crate::services::sessions::Writer::start(pool.clone())),
            body_limit: BodyLimit(settings.max_body_bytes),
            body_timeout: BodyTimeout(std::time::Duration::from_secs(
                settings.body_read_timeout_secs.max(1),
            )),
            deprecations: web::Data::new(settings.deprecations.clone()),
            metrics: settings
                .metrics_token
                .clone()
                .map(|t| web::Data::new(middleware::MetricsToken(t))),
        };
        let cors_origins = settings.cors_origins.clone();
        let server = HttpServer::new(move || {
            let state = state.clone();
            App::new()
                .wrap(from_fn(rate_limit::limit))
                // Preflights are answered here: after the request id is set, before any budget.
                .wrap(Condition::new(!cors_origins.is_empty(), cors(&cors_origins)))
                .wrap(from_fn(middleware::request_context))
                .wrap(Compress::default())
                .wrap(from_fn(middleware::single_vary))
                .app_data(state.routes)
                .app_data(state.meta)
                .app_data(state.writer)
                .app_data(state.pool)
                .app_data(state.catalogue)
                .app_data(state.auth)
                .app_data(state.quotas)
                .app_data(state.webhooks)
                .app_data(state.limiter)
                .app_data(state.body_limit)
                .app_data(state.body_timeout)
                .app_data(state.deprecations)
                .configure(|cfg| {
                    if let Some(token) = state.metrics {
                        cfg.app_data(token);
                    }
                })
                // Every body extractor (not only `Json`) takes the configured limit, not actix's
                // 256 KiB default.
                .app_data(web::PayloadConfig::new(state.body_limit.0))
                .app_data(web::PathConfig::default().error_handler(|err, _| {
                    ApiError::bad_request(format!("A path parameter is invalid: {err}.")).into()
                }))
                .into_utoipa_app()
                .configure(routes::configure)
                .into_app()
                .configure(|cfg| {
                    if let Some(extra) = extra {
                        extra(cfg);
                    }
                })
                .service(web::resource("/docs").route(web::get().to(docs_redirect)))
                .service(
                    SwaggerUi::new("/docs/{_:.*}")
                        .url("/openapi.json", api.clone())
                        .config(
                            Config::from("/openapi.json")
                                .validator_url("none")
                                .try_it_out_enabled(true)
                                // A token pasted into Authorize survives a reload of /docs.
                                .persist_authorization(true),
                        ),
                )
                .default_service(web::to(fallback::not_matched))
        })
        .workers(settings.workers)
        // Blocking work is database work (argon2 has its own thread): more threads than pooled
        // connections would only wait for one, each holding a stack.
        .worker_max_blocking_threads(settings.db_pool_size as usize + 2)
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            pool,
            limiter,
            retention,
            purge_interval: settings.tombstone_purge_interval,
            webhooks: settings.webhooks.clone(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The pool the server uses (tests read stored rows through it).
    pub fn pool(&self) -> DbPool {
        self.pool.clone()
    }

    /// Serves until SIGINT/SIGTERM, then stops accepting and lets in-flight requests finish
    /// (up to `SOLEUS_SHUTDOWN_TIMEOUT_SECS`).
    /// Background work runs beside it: tombstones past the retention window are purged every
    /// `SOLEUS_TOMBSTONE_PURGE_INTERVAL_SECS`, starting now.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (pool, retention, every) = (self.pool.clone(), self.retention, self.purge_interval);
        let window = std::time::Duration::from_secs(u64::from(self.limiter.window_secs()));
        let purge = actix_web::rt::spawn(async move {
            let mut ticks = actix_web::rt::time::interval(every);
            loop {
                ticks.tick().await;
                match sessions::purge_tombstones(&pool, retention).await {
                    Ok(0) => {}
                    Ok(purged) => tracing::info!(purged, "tombstones purged"),
                    Err(e) => tracing::warn!(error = %e, "tombstone purge failed"),
                }
                // The longest limiter window is a day (sessions per day), or the configured one.
                let longest = std::time::Duration::from_secs(86_400).max(window);
                if let Err(e) = crate::services::oauth::purge_codes(&pool).await {
                    tracing::warn!(error = %e, "expired authorization codes were not purged");
                }
                if let Err(e) = crate::auth::rate_limit::purge_expired(&pool, longest).await {
                    tracing::warn!(error = %e, "expired rate-limit windows were not purged");
                }
                // Events and delivery logs are kept as long as tombstones.
                match crate::services::events::purge(&pool, retention).await {
                    Ok(0) => {}
                    Ok(purged) => tracing::info!(purged, "events purged"),
                    Err(e) => tracing::warn!(error = %e, "event purge failed"),
                }
                if let Err(e) = webhooks::purge_deliveries(&pool, retention).await {
                    tracing::warn!(error = %e, "webhook delivery logs were not purged");
                }
            }
        });
        // Rate-limit counts meet the other replicas' every second (PostgreSQL).
        let (pool, limiter) = (self.pool.clone(), self.limiter.clone());
        let share = actix_web::rt::spawn(async move {
            let mut ticks = actix_web::rt::time::interval(std::time::Duration::from_secs(1));
            loop {
                ticks.tick().await;
                if let Err(e) = limits::sync(&limiter, &pool).await {
                    tracing::warn!(error = %e, "rate-limit counts were not shared");
                }
            }
        });
        let deliver = actix_web::rt::spawn(deliver_webhooks(self.pool.clone(), self.webhooks.clone()));
        let result = self.server.await;
        purge.abort();
        share.abort();
        deliver.abort();
        result
    }
}

/// The webhook worker of this replica: every poll interval it claims endpoints with events
/// due (up to 16 in flight) and delivers to each in a task of its own, so a slow receiver
/// holds up only itself.
async fn deliver_webhooks(pool: DbPool, policy: webhooks::Policy) {
    use std::cell::Cell;
    use std::rc::Rc;
    const IN_FLIGHT: usize = 16;
    let owner = uuid::Uuid::new_v4().to_string();
    let sender = Rc::new(crate::outbound::WebhookSender::new(&policy));
    let (pool, policy, busy) = (Rc::new(pool), Rc::new(policy), Rc::new(Cell::new(0usize)));
    loop {
        actix_web::rt::time::sleep(policy.poll_interval).await;
        let room = IN_FLIGHT.saturating_sub(busy.get());
        if room == 0 {
            continue;
        }
        let claimed = match webhooks::claim_due(&pool, &owner, room).await {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "webhook endpoints were not claimed");
                continue;
            }
        };
        for endpoint in claimed {
            busy.set(busy.get() + 1);
            let (pool, policy, sender, busy, owner) = (
                Rc::clone(&pool),
                Rc::clone(&policy),
                Rc::clone(&sender),
                Rc::clone(&busy),
                owner.clone(),
            );
            actix_web::rt::spawn(async move {
                if let Err(e) = webhooks::deliver(&pool, &policy, &*sender, &owner, endpoint).await {
                    tracing::warn!(error = %e, "webhook delivery stopped");
                }
                busy.set(busy.get().saturating_sub(1));
            });
        }
    }
}

/// CORS for the configured origins (`SOLEUS_CORS_ORIGINS`): the methods and request headers
/// the API uses, and the response headers a browser page needs to read.
fn cors(origins: &[String]) -> actix_cors::Cors {
    use actix_web::http::header;
    origins
        .iter()
        .fold(actix_cors::Cors::default(), |cors, origin| {
            cors.allowed_origin(origin)
        })
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("traceparent"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::LINK,
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("ratelimit"),
            header::HeaderName::from_static("ratelimit-policy"),
            header::HeaderName::from_static("sync-result"),
            header::HeaderName::from_static("idempotent-replayed"),
            header::HeaderName::from_static("x-dataset-version"),
            header::HeaderName::from_static("traceresponse"),
            header::HeaderName::from_static("deprecation"),
            header::HeaderName::from_static("sunset"),
        ])
        .max_age(3600)
}

/// Per-worker copies of the shared state (cheap: every member is an `Arc`).
#[derive(Clone)]
struct State {
    routes: web::Data<RouteTable>,
    meta: web::Data<meta::Meta>,
    pool: web::Data<DbPool>,
    catalogue: web::Data<Catalogue>,
    auth: web::Data<AuthState>,
    quotas: web::Data<crate::services::Quotas>,
    webhooks: web::Data<webhooks::Policy>,
    limiter: web::Data<Limiter>,
    writer: web::Data<crate::services::sessions::Writer>,
    body_limit: BodyLimit,
    body_timeout: BodyTimeout,
    metrics: Option<web::Data<middleware::MetricsToken>>,
    deprecations: web::Data<Vec<crate::http::deprecation::Deprecation>>,
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", "/docs/"))
        .finish()
}
