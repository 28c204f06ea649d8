//! Partners' webhook endpoints and the log of delivery attempts. Every query about an
//! endpoint names its partner, except the worker's, which holds a lease instead.
//!
//! **One replica per endpoint.** The delivery worker of each replica claims due endpoints:
//! on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so two replicas never claim the same one, and
//! a lease (`lease_owner`, `lease_expires_at`) that every later write of the worker checks. A
//! replica that dies loses its lease when it expires; the event it was sending is sent again
//! (same `webhook-id`), never skipped.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{webhook_deliveries, webhook_endpoints};

#[derive(Debug, Clone, PartialEq, Queryable, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointRow {
    pub id: String,
    pub partner_id: String,
    pub url: String,
    pub description: String,
    pub event_types: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    pub delivered_seq: i64,
    pub failures: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub event_seq: i64,
    pub event_id: String,
    pub event_type: String,
    pub attempt: i32,
    pub cause: String,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub latency_ms: i32,
    pub succeeded: bool,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut AnyConnection, row: &EndpointRow) -> QueryResult<()> {
    diesel::insert_into(webhook_endpoints::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The partner's endpoints, oldest first.
pub fn list(conn: &mut AnyConnection, partner_id: &str) -> QueryResult<Vec<EndpointRow>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::partner_id.eq(partner_id))
        .order((webhook_endpoints::created_at, webhook_endpoints::id))
        .load(conn)
}

pub fn find(conn: &mut AnyConnection, partner_id: &str, id: &str) -> QueryResult<Option<EndpointRow>> {
    webhook_endpoints::table
        .find(id)
        .filter(webhook_endpoints::partner_id.eq(partner_id))
        .first(conn)
        .optional()
}

/// Writes what a partner may change (URL, types, description, enabled state and reason,
/// failures and next attempt when re-enabled, secrets).
pub fn save(conn: &mut AnyConnection, row: &EndpointRow) -> QueryResult<bool> {
    diesel::update(
        webhook_endpoints::table
            .find(&row.id)
            .filter(webhook_endpoints::partner_id.eq(&row.partner_id)),
    )
    .set((
        webhook_endpoints::url.eq(&row.url),
        webhook_endpoints::description.eq(&row.description),
        webhook_endpoints::event_types.eq(&row.event_types),
        webhook_endpoints::enabled.eq(row.enabled),
        webhook_endpoints::disabled_reason.eq(&row.disabled_reason),
        webhook_endpoints::secret.eq(&row.secret),
        webhook_endpoints::previous_secret.eq(&row.previous_secret),
        webhook_endpoints::previous_secret_expires_at.eq(row.previous_secret_expires_at),
        webhook_endpoints::failures.eq(row.failures),
        webhook_endpoints::next_attempt_at.eq(row.next_attempt_at),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

pub fn delete(conn: &mut AnyConnection, partner_id: &str, id: &str) -> QueryResult<bool> {
    diesel::delete(
        webhook_endpoints::table
            .find(id)
            .filter(webhook_endpoints::partner_id.eq(partner_id)),
    )
    .execute(conn)
    .map(|n| n == 1)
}

/// Whether any endpoint is due (a read, so an idle worker never takes SQLite's writer).
pub fn any_due(conn: &mut AnyConnection, now: NaiveDateTime, newest: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        webhook_endpoints::table
            .filter(webhook_endpoints::enabled)
            .filter(webhook_endpoints::next_attempt_at.le(now))
            .filter(webhook_endpoints::delivered_seq.lt(newest)),
    ))
    .get_result(conn)
}

/// Claims up to `limit` enabled endpoints that are due, not leased by a live worker, and
/// behind `newest` (the log's last position), for `owner` until `until`. Run in a write
/// transaction.
pub fn claim(
    conn: &mut AnyConnection,
    owner: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
    newest: i64,
    limit: i64,
) -> QueryResult<Vec<EndpointRow>> {
    let due = webhook_endpoints::table
        // Bare `enabled` so the partial index `WHERE enabled` applies.
        .filter(webhook_endpoints::enabled)
        .filter(webhook_endpoints::next_attempt_at.le(now))
        .filter(webhook_endpoints::delivered_seq.lt(newest))
        .filter(
            webhook_endpoints::lease_expires_at
                .is_null()
                .or(webhook_endpoints::lease_expires_at.lt(now)),
        )
        .order(webhook_endpoints::next_attempt_at)
        .select(webhook_endpoints::id)
        .limit(limit);
    let ids: Vec<String> = match conn {
        AnyConnection::Postgresql(c) => due.for_update().skip_locked().load(c)?,
        // One writer at a time: nobody else is claiming.
        AnyConnection::Sqlite(c) => due.load(c)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(webhook_endpoints::table.filter(webhook_endpoints::id.eq_any(&ids)))
        .set((
            webhook_endpoints::lease_owner.eq(owner),
            webhook_endpoints::lease_expires_at.eq(until),
        ))
        .execute(conn)?;
    webhook_endpoints::table
        .filter(webhook_endpoints::id.eq_any(&ids))
        .load(conn)
}

fn leased<'a>(
    id: &'a str,
    owner: &'a str,
) -> diesel::dsl::Filter<
    diesel::dsl::Find<webhook_endpoints::table, &'a str>,
    diesel::dsl::Eq<webhook_endpoints::lease_owner, &'a str>,
> {
    webhook_endpoints::table
        .find(id)
        .filter(webhook_endpoints::lease_owner.eq(owner))
}

/// Everything up to `seq` was delivered (or was not for this endpoint): move on, keep the
/// lease until `until`. `false` if the lease was lost.
pub fn advance(
    conn: &mut AnyConnection,
    id: &str,
    owner: &str,
    seq: i64,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(leased(id, owner))
        .set((
            webhook_endpoints::delivered_seq.eq(seq),
            webhook_endpoints::failures.eq(0),
            webhook_endpoints::lease_expires_at.eq(until),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// The attempt at the head failed: count it, and try again at `next` or, with a reason,
/// disable the endpoint. Releases the lease.
pub fn fail(
    conn: &mut AnyConnection,
    id: &str,
    owner: &str,
    failures: i32,
    next: NaiveDateTime,
    disabled_reason: Option<&str>,
) -> QueryResult<bool> {
    diesel::update(leased(id, owner))
        .set((
            webhook_endpoints::failures.eq(failures),
            webhook_endpoints::next_attempt_at.eq(next),
            webhook_endpoints::enabled.eq(disabled_reason.is_none()),
            webhook_endpoints::disabled_reason.eq(disabled_reason),
            webhook_endpoints::lease_owner.eq(None::<String>),
            webhook_endpoints::lease_expires_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Gives the endpoint back; it is due again at `next`.
pub fn release(conn: &mut AnyConnection, id: &str, owner: &str, next: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(leased(id, owner))
        .set((
            webhook_endpoints::next_attempt_at.eq(next),
            webhook_endpoints::lease_owner.eq(None::<String>),
            webhook_endpoints::lease_expires_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// A manual retry delivered the endpoint's head event (the next after `head_after`): the worker
/// moves past it instead of sending it again. Only while no worker holds the endpoint and it is
/// still at `head_after`; otherwise nothing changes (the worker may then send it once more, which
/// receivers dedupe by `webhook-id`).
pub fn skip_delivered_head(
    conn: &mut AnyConnection,
    id: &str,
    head_after: i64,
    seq: i64,
) -> QueryResult<bool> {
    diesel::update(
        webhook_endpoints::table
            .find(id)
            .filter(webhook_endpoints::lease_owner.is_null())
            .filter(webhook_endpoints::delivered_seq.eq(head_after)),
    )
    .set((
        webhook_endpoints::delivered_seq.eq(seq),
        webhook_endpoints::failures.eq(0),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Makes an endpoint due now (after a manual retry), unless it is leased.
pub fn due_now(conn: &mut AnyConnection, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        webhook_endpoints::table
            .find(id)
            .filter(webhook_endpoints::lease_owner.is_null()),
    )
    .set(webhook_endpoints::next_attempt_at.eq(now))
    .execute(conn)
    .map(drop)
}

pub fn insert_delivery(conn: &mut AnyConnection, row: &DeliveryRow) -> QueryResult<()> {
    diesel::insert_into(webhook_deliveries::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// An endpoint's attempts, newest first, strictly after `after` = (created_at, id).
pub fn deliveries(
    conn: &mut AnyConnection,
    endpoint_id: &str,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            webhook_deliveries::created_at
                .lt(at)
                .or(webhook_deliveries::created_at
                    .eq(at)
                    .and(webhook_deliveries::id.lt(id))),
        );
    }
    query
        .order((
            webhook_deliveries::created_at.desc(),
            webhook_deliveries::id.desc(),
        ))
        .limit(limit)
        .load(conn)
}

pub fn find_delivery(
    conn: &mut AnyConnection,
    endpoint_id: &str,
    id: &str,
) -> QueryResult<Option<DeliveryRow>> {
    webhook_deliveries::table
        .find(id)
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .first(conn)
        .optional()
}

/// Deletes attempts logged before `before` (kept as long as events are).
pub fn purge_deliveries(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::created_at.lt(before))).execute(conn)
}
