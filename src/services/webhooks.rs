//! Webhooks (Standard Webhooks 1.0): partners' endpoints, and delivering the event log to
//! them.
//!
//! **Delivery.** Each endpoint keeps the last log position it delivered. A worker on every
//! replica claims due endpoints (one replica per endpoint, see `repository::webhooks`), sends
//! the next events the partner may see and the endpoint subscribes to, one at a time and in
//! feed order, and moves the position on after each 2xx. A failure keeps the event at the head
//! and waits along the retry schedule; when the schedule is used up the endpoint is disabled
//! with a reason the partner can read. Every attempt is logged.
//!
//! **SSRF.** URLs must be `https` and resolve only to public addresses, checked at
//! registration and again at every connection (the sender's resolver refuses non-public
//! addresses, so a DNS change cannot aim a delivery inside the network). Redirects are not
//! followed. `SOLEUS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS` lifts both for local development.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::events::{self, Event, EventType};
use super::paging::{self, Listing};
use crate::db::{self, DbPool};
use crate::domain::webhooks as rules;
use crate::error::ApiError;
use crate::repository::events as log;
use crate::repository::webhooks::{self as repo, DeliveryRow, EndpointRow};

/// Delivery settings (`SOLEUS_WEBHOOK_*`, see `config`).
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub allow_private_networks: bool,
    /// The wait after each consecutive failure; one more failure disables the endpoint.
    pub retry_schedule: Vec<Duration>,
    pub poll_interval: Duration,
    /// How long one attempt may take, connecting included (10 s; tests shorten it).
    pub attempt_timeout: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            allow_private_networks: false,
            retry_schedule: rules::DEFAULT_SCHEDULE_SECS
                .iter()
                .map(|s| Duration::from_secs(*s))
                .collect(),
            poll_interval: Duration::from_millis(500),
            attempt_timeout: Duration::from_secs(10),
        }
    }
}

/// The most endpoints one partner may register.
pub const MAX_ENDPOINTS: usize = 10;
/// How long a secret replaced by a rotation still signs.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;
/// How long a worker holds an endpoint between writes (well above one attempt's 10 s).
const LEASE_SECS: i64 = 60;
/// Events one claim delivers before giving the endpoint back.
const EVENTS_PER_CLAIM: usize = 500;

/// A partner's webhook endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1c2-…", "url": "https://partner.example/hooks/soleus", "description": "Production",
    "event_types": ["session.created", "session.updated", "session.deleted"], "enabled": true,
    "disabled_reason": null, "consecutive_failures": 0, "created_at": "2026-12-02T08:00:00Z"
}))]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub description: String,
    pub event_types: Vec<EventType>,
    /// False once disabled, by you or after the retry schedule ran out.
    pub enabled: bool,
    /// Why it was disabled by the server.
    pub disabled_reason: Option<String>,
    /// Failed attempts in a row at the event now due.
    pub consecutive_failures: i32,
    pub created_at: DateTime<Utc>,
    /// The signing secret (`whsec_…`): only in the answers to create and rotate-secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl Endpoint {
    fn from_row(row: EndpointRow, secret: Option<String>) -> Self {
        Self {
            event_types: types_of(&row.event_types),
            id: row.id,
            url: row.url,
            description: row.description,
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            consecutive_failures: row.failures,
            created_at: row.created_at.and_utc(),
            secret,
        }
    }
}

fn types_of(stored: &str) -> Vec<EventType> {
    stored.split(' ').filter_map(EventType::parse).collect()
}

fn join_types(types: &[EventType]) -> String {
    let mut names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(" ")
}

/// A new endpoint.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://partner.example/hooks/soleus", "event_types": ["session.created", "grant.revoked"], "description": "Production"}))]
pub struct NewEndpoint {
    /// `https://` on a public address.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000, format = "uri")]
    pub url: String,
    /// Default: every type.
    #[validate(length(min = 1, max = 20))]
    #[schema(min_items = 1, max_items = 20)]
    pub event_types: Option<Vec<EventType>>,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub description: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
}

/// Changes to an endpoint (JSON merge patch: fields left out stay as they are). Enabling a
/// disabled endpoint resumes delivery at the event it stopped at.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true}))]
pub struct EndpointPatch {
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000, format = "uri")]
    pub url: Option<String>,
    #[validate(length(min = 1, max = 20))]
    #[schema(min_items = 1, max_items = 20)]
    pub event_types: Option<Vec<EventType>>,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

/// One attempt to deliver an event.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1c2-…", "event_id": "evt_0193a1c2d3e4f5a6b7c8d9e0f1a2b3c4", "event_type": "session.created",
    "attempt": 2, "cause": "scheduled", "status_code": 500, "error": "HTTP 500", "latency_ms": 41,
    "succeeded": false, "created_at": "2026-12-02T08:30:05Z"
}))]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    /// An event type, or `webhook.test`.
    pub event_type: String,
    /// 1 for the first scheduled attempt at this event.
    pub attempt: i32,
    /// `scheduled` (the worker), `manual` (a retry you asked for) or `test`.
    pub cause: String,
    /// The receiver's status; absent when no response came (refused, timed out).
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub latency_ms: i32,
    /// 2xx.
    pub succeeded: bool,
    pub created_at: DateTime<Utc>,
}

impl From<DeliveryRow> for Delivery {
    fn from(row: DeliveryRow) -> Self {
        Self {
            id: row.id,
            event_id: row.event_id,
            event_type: row.event_type,
            attempt: row.attempt,
            cause: row.cause,
            status_code: row.status_code,
            error: row.error,
            latency_ms: row.latency_ms,
            succeeded: row.succeeded,
            created_at: row.created_at.and_utc(),
        }
    }
}

/// What the receiver answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: u32,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Sends one signed request (the outbound HTTP client, in `crate::outbound`).
pub trait Sender {
    fn post(
        &self,
        url: &str,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    ) -> impl Future<Output = Outcome>;
}

fn not_found() -> ApiError {
    ApiError::NotFound("You have no webhook endpoint with this id.".into())
}

fn secret() -> String {
    let mut key = [0u8; 32];
    rand::thread_rng().fill(&mut key);
    rules::secret_from_key(&key)
}

/// The URL as a delivery may use it: absolute `https` (or `http` with private networks
/// allowed), no credentials or fragment, a host that resolves only to public addresses.
pub async fn check_url(policy: &Policy, field: &str, url: &str) -> Result<String, ApiError> {
    let invalid = |code: &'static str, message: &str| ApiError::invalid_field(field, code, message);
    let parsed = url::Url::parse(url).map_err(|_| invalid("invalid", "must be an absolute URL"))?;
    let scheme_ok =
        parsed.scheme() == "https" || (policy.allow_private_networks && parsed.scheme() == "http");
    if !scheme_ok {
        return Err(invalid("insecure", "must be an https:// URL"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() || parsed.fragment().is_some() {
        return Err(invalid("invalid", "must not carry credentials or a fragment"));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| invalid("invalid", "needs a host"))?;
    let port = parsed.port_or_known_default().unwrap_or(443);
    if !policy.allow_private_networks {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let addresses: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| invalid("unresolvable", "has a host name that does not resolve"))?
            .collect();
        if addresses.is_empty() || addresses.iter().any(|a| !rules::is_public(a.ip())) {
            return Err(invalid(
                "private_address",
                "resolves to a loopback, private, link-local or otherwise non-public address",
            ));
        }
    }
    Ok(parsed.to_string())
}

/// Registers an endpoint for the partner; it hears about events from now on. The answer
/// carries the secret, once.
pub async fn create(
    pool: &DbPool,
    policy: &Policy,
    partner_id: String,
    input: NewEndpoint,
) -> Result<Endpoint, ApiError> {
    let url = check_url(policy, "url", &input.url).await?;
    let types = input.event_types.unwrap_or_else(|| EventType::ALL.to_vec());
    let now = db::now();
    let row = EndpointRow {
        id: uuid::Uuid::now_v7().to_string(),
        partner_id,
        url,
        description: input.description.unwrap_or_default(),
        event_types: join_types(&types),
        enabled: input.enabled.unwrap_or(true),
        disabled_reason: None,
        secret: secret(),
        previous_secret: None,
        previous_secret_expires_at: None,
        delivered_seq: 0,
        failures: 0,
        next_attempt_at: now,
        lease_owner: None,
        lease_expires_at: None,
        created_at: now,
    };
    let stored = db::write(pool, move |conn| -> Result<EndpointRow, ApiError> {
        db::lock_key(conn, &format!("webhooks:{}", row.partner_id))?;
        if repo::list(conn, &row.partner_id)?.len() >= MAX_ENDPOINTS {
            return Err(ApiError::QuotaExceeded(format!(
                "Your platform already has {MAX_ENDPOINTS} webhook endpoints, the most allowed; delete one first."
            )));
        }
        let row = EndpointRow {
            delivered_seq: log::last(conn)?,
            ..row
        };
        repo::insert(conn, &row)?;
        Ok(row)
    })
    .await?;
    let secret = stored.secret.clone();
    Ok(Endpoint::from_row(stored, Some(secret)))
}

pub async fn list(pool: &DbPool, partner_id: String) -> Result<Vec<Endpoint>, ApiError> {
    let rows = db::query(pool, move |conn| repo::list(conn, &partner_id)).await?;
    Ok(rows.into_iter().map(|r| Endpoint::from_row(r, None)).collect())
}

async fn find(pool: &DbPool, partner_id: String, id: String) -> Result<EndpointRow, ApiError> {
    db::query(pool, move |conn| repo::find(conn, &partner_id, &id))
        .await?
        .ok_or_else(not_found)
}

pub async fn get(pool: &DbPool, partner_id: String, id: String) -> Result<Endpoint, ApiError> {
    Ok(Endpoint::from_row(find(pool, partner_id, id).await?, None))
}

/// Applies `change` to the stored endpoint in one write transaction.
async fn change(
    pool: &DbPool,
    partner_id: String,
    id: String,
    change: impl FnOnce(&mut EndpointRow) + Send + 'static,
) -> Result<EndpointRow, ApiError> {
    db::write(pool, move |conn| -> Result<EndpointRow, ApiError> {
        let mut row = repo::find(conn, &partner_id, &id)?.ok_or_else(not_found)?;
        change(&mut row);
        if !repo::save(conn, &row)? {
            return Err(not_found());
        }
        Ok(row)
    })
    .await
}

pub async fn update(
    pool: &DbPool,
    policy: &Policy,
    partner_id: String,
    id: String,
    patch: EndpointPatch,
) -> Result<Endpoint, ApiError> {
    let url = match &patch.url {
        Some(url) => Some(check_url(policy, "url", url).await?),
        None => None,
    };
    let row = change(pool, partner_id, id, move |row| {
        if let Some(url) = url {
            row.url = url;
        }
        if let Some(types) = &patch.event_types {
            row.event_types = join_types(types);
        }
        if let Some(description) = patch.description {
            row.description = description;
        }
        if let Some(enabled) = patch.enabled {
            if enabled && !row.enabled {
                // Resume at the event it stopped at, now, with a fresh schedule.
                (row.failures, row.disabled_reason, row.next_attempt_at) = (0, None, db::now());
            }
            row.enabled = enabled;
        }
    })
    .await?;
    Ok(Endpoint::from_row(row, None))
}

pub async fn delete(pool: &DbPool, partner_id: String, id: String) -> Result<(), ApiError> {
    let deleted = db::autocommit(pool, move |conn| repo::delete(conn, &partner_id, &id)).await?;
    if deleted { Ok(()) } else { Err(not_found()) }
}

/// A new secret; the old one keeps signing (a second signature) for 24 hours.
pub async fn rotate_secret(pool: &DbPool, partner_id: String, id: String) -> Result<Endpoint, ApiError> {
    let row = change(pool, partner_id, id, |row| {
        row.previous_secret = Some(std::mem::replace(&mut row.secret, secret()));
        row.previous_secret_expires_at = Some(db::now() + chrono::Duration::hours(ROTATION_OVERLAP_HOURS));
    })
    .await?;
    let secret = row.secret.clone();
    Ok(Endpoint::from_row(row, Some(secret)))
}

/// The endpoint's delivery attempts, newest first.
pub async fn deliveries(
    pool: &DbPool,
    partner_id: String,
    id: String,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Listing<Delivery>, ApiError> {
    let after = paging::after(cursor)?;
    let limit = limit.clamp(1, paging::MAX_LIMIT) as usize;
    let rows = db::run(pool, move |conn| -> Result<_, ApiError> {
        repo::find(conn, &partner_id, &id)?.ok_or_else(not_found)?;
        Ok(repo::deliveries(conn, &id, after, limit as i64 + 1)?)
    })
    .await?;
    paging::page(rows, limit, |r| (r.created_at, &r.id), |r| Ok(r.into()))
}

/// The secrets that sign now: the current one, and the previous one during its overlap.
fn signing_secrets(row: &EndpointRow) -> Vec<&str> {
    let mut secrets = vec![row.secret.as_str()];
    if let (Some(previous), Some(until)) = (&row.previous_secret, row.previous_secret_expires_at)
        && until > db::now()
    {
        secrets.push(previous);
    }
    secrets
}

/// Signs and sends one body (Standard Webhooks headers) and returns the logged attempt.
async fn attempt(
    sender: &impl Sender,
    row: &EndpointRow,
    (event_seq, event_id, event_type): (i64, &str, &str),
    body: Vec<u8>,
    (number, cause): (i32, &str),
) -> DeliveryRow {
    let timestamp = Utc::now().timestamp();
    let headers = vec![
        ("content-type", "application/json".to_owned()),
        ("webhook-id", event_id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        (
            "webhook-signature",
            rules::signature_header(&signing_secrets(row), event_id, timestamp, &body),
        ),
    ];
    let outcome = sender.post(&row.url, headers, body).await;
    DeliveryRow {
        id: uuid::Uuid::now_v7().to_string(),
        endpoint_id: row.id.clone(),
        event_seq,
        event_id: event_id.to_owned(),
        event_type: event_type.to_owned(),
        attempt: number,
        cause: cause.to_owned(),
        succeeded: outcome.succeeded(),
        status_code: outcome.status.map(i32::from),
        error: outcome.error.or_else(|| {
            outcome
                .status
                .filter(|s| !(200..300).contains(s))
                .map(|s| format!("HTTP {s}"))
        }),
        latency_ms: i32::try_from(outcome.latency_ms).unwrap_or(i32::MAX),
        created_at: db::now(),
    }
}

fn body_of(row: log::EventRow) -> Result<(i64, String, String, Vec<u8>), ApiError> {
    let (seq, id, kind) = (row.seq, row.id.clone(), row.kind.clone());
    let body = serde_json::to_vec(&Event::from_row(row)?).map_err(|e| ApiError::Internal(e.into()))?;
    Ok((seq, id, kind, body))
}

/// Sends a `webhook.test` event to the endpoint now and answers the attempt (logged with the
/// others). It does not touch the queue of real events.
pub async fn send_test(
    pool: &DbPool,
    sender: &impl Sender,
    partner_id: String,
    id: String,
) -> Result<Delivery, ApiError> {
    let row = find(pool, partner_id, id).await?;
    let event_id = format!("evt_{}", uuid::Uuid::now_v7().simple());
    let body = serde_json::to_vec(&serde_json::json!({
        "id": event_id, "type": "webhook.test", "timestamp": Utc::now(), "user_id": null, "position": 0,
        "data": {"endpoint_id": row.id, "message": "A test delivery from soleus-api: verify its signature, then answer 2xx."},
    }))
    .map_err(|e| ApiError::Internal(e.into()))?;
    let delivery = attempt(sender, &row, (0, &event_id, "webhook.test"), body, (1, "test")).await;
    let stored = delivery.clone();
    db::autocommit(pool, move |conn| repo::insert_delivery(conn, &stored)).await?;
    Ok(delivery.into())
}

/// Sends the event of an earlier attempt again, now, if the partner may still see it, and
/// makes the endpoint due at once (so a queue held up by that event moves on if it now
/// succeeds). Receivers dedupe on the event id.
pub async fn retry(
    pool: &DbPool,
    sender: &impl Sender,
    partner_id: String,
    id: String,
    delivery_id: String,
) -> Result<Delivery, ApiError> {
    let partner = partner_id.clone();
    let (row, earlier, event) = db::run(pool, move |conn| -> Result<_, ApiError> {
        let row = repo::find(conn, &partner, &id)?.ok_or_else(not_found)?;
        let earlier = repo::find_delivery(conn, &id, &delivery_id)?
            .ok_or_else(|| ApiError::NotFound("This endpoint has no delivery with this id.".into()))?;
        if earlier.cause == "test" {
            return Err(ApiError::Conflict(
                "A test delivery cannot be retried; send a new test.".into(),
            ));
        }
        let event = log::find(conn, earlier.event_seq)?;
        let visible = match &event {
            Some(e) => events::visible(conn, &partner, e.seq - 1, 1, |_| true)?
                .events
                .first()
                .is_some_and(|v| v.seq == e.seq),
            None => false,
        };
        Ok((row, earlier, event.filter(|_| visible)))
    })
    .await?;
    let event = event.ok_or_else(|| {
        ApiError::Gone(
            "This event is no longer available to your platform: it is past the retention window, or the user's grant ended."
                .into(),
        )
    })?;
    let (seq, event_id, kind, body) = body_of(event)?;
    let delivery = attempt(
        sender,
        &row,
        (seq, &event_id, &kind),
        body,
        (earlier.attempt, "manual"),
    )
    .await;
    let (stored, endpoint) = (delivery.clone(), row.id.clone());
    db::write(pool, move |conn| -> Result<(), ApiError> {
        repo::insert_delivery(conn, &stored)?;
        // Delivered by hand at the head of the queue: the worker goes on from the next event
        // rather than sending this one again.
        if stored.succeeded
            && let Some(current) = repo::find(conn, &partner_id, &endpoint)?
        {
            let wants = types_of(&current.event_types);
            let head = events::visible(conn, &partner_id, current.delivered_seq, 1, |kind| {
                wants.contains(&kind)
            })?
            .events
            .first()
            .map(|e| e.seq);
            if head == Some(seq) {
                repo::skip_delivered_head(conn, &endpoint, current.delivered_seq, seq)?;
            }
        }
        repo::due_now(conn, &endpoint, db::now())?;
        Ok(())
    })
    .await?;
    Ok(delivery.into())
}

/// An endpoint a worker holds the lease of (from [`claim_due`]), to pass to [`deliver`].
#[derive(Debug)]
pub struct Claimed(EndpointRow);

/// Claims up to `limit` endpoints with events due, for `owner` (a worker of one replica).
pub async fn claim_due(pool: &DbPool, owner: &str, limit: usize) -> Result<Vec<Claimed>, ApiError> {
    let who = owner.to_owned();
    let limit = i64::try_from(limit.min(64)).unwrap_or(1);
    // A read first: an idle worker never takes SQLite's writer. The log's end it read bounds
    // the claim, so the claim need not read it again.
    let newest = db::query(pool, |conn| {
        let newest = log::last(conn)?;
        Ok(repo::any_due(conn, db::now(), newest)?.then_some(newest))
    })
    .await?;
    let Some(newest) = newest else {
        return Ok(Vec::new());
    };
    let claimed = db::write(pool, move |conn| -> Result<Vec<EndpointRow>, ApiError> {
        let now = db::now();
        Ok(repo::claim(
            conn,
            &who,
            now,
            now + chrono::Duration::seconds(LEASE_SECS),
            newest,
            limit,
        )?)
    })
    .await?;
    Ok(claimed.into_iter().map(Claimed).collect())
}

/// Delivers the claimed endpoint's next events in order until none is left, one fails, or
/// the claim's share is done; then gives the endpoint back.
pub async fn deliver(
    pool: &DbPool,
    policy: &Policy,
    sender: &impl Sender,
    owner: &str,
    Claimed(row): Claimed,
) -> Result<usize, ApiError> {
    let wants = types_of(&row.event_types);
    let mut position = row.delivered_seq;
    let mut failures = row.failures;
    for delivered in 0..EVENTS_PER_CLAIM {
        let (partner, types) = (row.partner_id.clone(), wants.clone());
        let scan = db::run(pool, move |conn| {
            events::visible(conn, &partner, position, 1, |kind| types.contains(&kind))
        })
        .await?;
        let Some(event) = scan.events.into_iter().next() else {
            // Nothing (more) for this endpoint: skip what was scanned, give it back.
            let (id, who, through) = (row.id.clone(), owner.to_owned(), scan.through);
            db::write(pool, move |conn| -> Result<(), ApiError> {
                let now = db::now();
                if through > position {
                    repo::advance(conn, &id, &who, through, now)?;
                }
                repo::release(conn, &id, &who, now)?;
                Ok(())
            })
            .await?;
            return Ok(delivered);
        };
        let (seq, event_id, kind, body) = body_of(event)?;
        let log_row = attempt(
            sender,
            &row,
            (seq, &event_id, &kind),
            body,
            (failures + 1, "scheduled"),
        )
        .await;
        let succeeded = log_row.succeeded;
        crate::metrics::webhook_attempt(succeeded);
        let reason = (!succeeded).then(|| {
            let next = u32::try_from(failures + 1).unwrap_or(u32::MAX);
            let spread = rand::thread_rng().r#gen::<f64>();
            match rules::retry_delay(&policy.retry_schedule, next, spread) {
                Some(wait) => (None, wait),
                None => (
                    Some(format!(
                        "Disabled after {} failed attempts in a row at event {event_id}; last error: {}. \
                             Fix the receiver, then PATCH enabled=true to resume from that event.",
                        failures + 1,
                        log_row.error.as_deref().unwrap_or("none")
                    )),
                    Duration::ZERO,
                ),
            }
        });
        let (id, who) = (row.id.clone(), owner.to_owned());
        let kept = db::write(pool, move |conn| -> Result<bool, ApiError> {
            repo::insert_delivery(conn, &log_row)?;
            let now = db::now();
            Ok(match &reason {
                None => repo::advance(conn, &id, &who, seq, now + chrono::Duration::seconds(LEASE_SECS))?,
                Some((disabled, wait)) => {
                    let wait = chrono::Duration::from_std(*wait).unwrap_or_default();
                    repo::fail(conn, &id, &who, failures + 1, now + wait, disabled.as_deref())?;
                    false
                }
            })
        })
        .await?;
        if !succeeded || !kept {
            if !succeeded {
                failures += 1;
                tracing::info!(endpoint_id = %row.id, event_id = %event_id, failures, "webhook attempt failed");
            }
            return Ok(delivered + usize::from(succeeded));
        }
        (position, failures) = (seq, 0);
    }
    let (id, who) = (row.id.clone(), owner.to_owned());
    db::write_query(pool, move |conn| repo::release(conn, &id, &who, db::now())).await?;
    Ok(EVENTS_PER_CLAIM)
}

/// Deletes logged attempts past the retention window (with the events).
pub async fn purge_deliveries(
    pool: &DbPool,
    retention: super::sessions::Retention,
) -> Result<usize, ApiError> {
    let before = db::now() - retention.0;
    Ok(db::write_query(pool, move |conn| repo::purge_deliveries(conn, before)).await?)
}

/// The event types and what each carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeInfo {
    pub name: EventType,
    pub description: &'static str,
    /// The scope the user's grant must hold for you to receive it (none for grant events).
    pub scope: Option<&'static str>,
}

pub fn event_types() -> Vec<EventTypeInfo> {
    EventType::ALL
        .into_iter()
        .map(|t| EventTypeInfo {
            name: t,
            description: t.description(),
            scope: t.scope().map(|s| s.as_str()),
        })
        .collect()
}
