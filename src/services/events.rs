//! Events partners hear about: what a change emits (in the transaction of the change), the
//! envelope they receive, and which of them a partner may see. One log serves the partner
//! change feed (`GET /v1/partner/changes`) and the webhook outbox (`services::webhooks`).
//!
//! A partner sees an event of a user only while the user grants it the event's read scope
//! (checked when the event is read or delivered, so a revocation stops both at once); grant
//! events go to the partner they concern, whatever the grant says now.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

use crate::auth::tokens::Scope;
use crate::db::{self, AnyConnection, DbPool};
use crate::error::{ApiError, write_json};
use crate::repository::events::{self as repo, EventRow};
use crate::repository::partners;
use crate::repository::sessions::SessionRow;
use crate::services::paging;
use crate::services::sessions::{Retention, Session};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    /// A session was logged. `data`: the session.
    #[serde(rename = "session.created")]
    SessionCreated,
    /// A session was replaced or patched. `data`: the session.
    #[serde(rename = "session.updated")]
    SessionUpdated,
    /// A session was deleted. `data`: its tombstone (`deleted: true`).
    #[serde(rename = "session.deleted")]
    SessionDeleted,
    /// A programme was generated and stored. `data`: a reference (id, version, status).
    #[serde(rename = "programme.created")]
    ProgrammeCreated,
    /// A programme has a new version after adaptation. `data`: id, version, the rule ids of
    /// the decisions.
    #[serde(rename = "programme.adjusted")]
    ProgrammeAdjusted,
    /// A programme was suspended by a stop rule (STP-*). `data`: id, version, rule ids and
    /// the referral advice.
    #[serde(rename = "programme.suspended")]
    ProgrammeSuspended,
    /// A programme was deleted. `data`: its id.
    #[serde(rename = "programme.deleted")]
    ProgrammeDeleted,
    /// A capacity test result was stored. `data`: the assessment.
    #[serde(rename = "assessment.recorded")]
    AssessmentRecorded,
    /// The user granted this partner access. `data`: the grant.
    #[serde(rename = "grant.created")]
    GrantCreated,
    /// The user revoked this partner's access, or deleted the account. `data`: the grant and
    /// why it ended.
    #[serde(rename = "grant.revoked")]
    GrantRevoked,
}

impl EventType {
    pub const ALL: [Self; 10] = [
        Self::SessionCreated,
        Self::SessionUpdated,
        Self::SessionDeleted,
        Self::ProgrammeCreated,
        Self::ProgrammeAdjusted,
        Self::ProgrammeSuspended,
        Self::ProgrammeDeleted,
        Self::AssessmentRecorded,
        Self::GrantCreated,
        Self::GrantRevoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SessionCreated => "session.created",
            Self::SessionUpdated => "session.updated",
            Self::SessionDeleted => "session.deleted",
            Self::ProgrammeCreated => "programme.created",
            Self::ProgrammeAdjusted => "programme.adjusted",
            Self::ProgrammeSuspended => "programme.suspended",
            Self::ProgrammeDeleted => "programme.deleted",
            Self::AssessmentRecorded => "assessment.recorded",
            Self::GrantCreated => "grant.created",
            Self::GrantRevoked => "grant.revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The scope the user's grant must hold for a partner to see it; `None` for grant events,
    /// which go to the partner they concern.
    pub fn scope(self) -> Option<Scope> {
        match self {
            // Assessments are read with `sessions:read`, as on `/v1/users/{user_id}/assessments`.
            Self::SessionCreated | Self::SessionUpdated | Self::SessionDeleted | Self::AssessmentRecorded => {
                Some(Scope::SessionsRead)
            }
            Self::ProgrammeCreated
            | Self::ProgrammeAdjusted
            | Self::ProgrammeSuspended
            | Self::ProgrammeDeleted => Some(Scope::ProgrammesRead),
            Self::GrantCreated | Self::GrantRevoked => None,
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::SessionCreated => "A session was logged; data is the session.",
            Self::SessionUpdated => "A session was replaced or patched; data is the session.",
            Self::SessionDeleted => "A session was deleted; data is its tombstone.",
            Self::ProgrammeCreated => "A programme was generated and stored; data references it.",
            Self::ProgrammeAdjusted => {
                "A programme has a new version; data names it and the rules that decided."
            }
            Self::ProgrammeSuspended => {
                "A stop rule (STP-*) suspended a programme; data names the rule and the referral."
            }
            Self::ProgrammeDeleted => "A programme was deleted; data is its id.",
            Self::AssessmentRecorded => "A capacity test result was stored; data is the assessment.",
            Self::GrantCreated => "The user granted your platform access; data is the grant.",
            Self::GrantRevoked => "The user revoked your access or deleted the account; data says which.",
        }
    }
}

/// What a webhook delivers and the partner feed lists.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "evt_0193a1c2d3e4f5a6b7c8d9e0f1a2b3c4", "type": "session.created",
    "timestamp": "2026-12-02T08:30:00Z", "user_id": "0c6f…", "position": 3_221_225_472_i64,
    "data": {"id": "0193…", "started_at": "2026-12-02T07:00:00+01:00", "duration_seconds": 1200, "deleted": false}
}))]
pub struct Event {
    /// Stable: every retry and every endpoint gets the same id (`webhook-id`). Dedupe on it.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub timestamp: DateTime<Utc>,
    pub user_id: String,
    /// The event's place in your feed: larger is later.
    pub position: i64,
    /// The resource as the API returns it (sessions, assessments, grants), or a reference
    /// (programmes: id and version; fetch the version for the document).
    #[schema(value_type = Object)]
    pub data: Box<RawValue>,
}

impl Event {
    pub fn from_row(row: EventRow) -> Result<Self, ApiError> {
        Ok(Self {
            kind: EventType::parse(&row.kind)
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("unknown event type {}", row.kind)))?,
            data: RawValue::from_string(row.data).map_err(|e| ApiError::Internal(e.into()))?,
            id: row.id,
            timestamp: row.created_at.and_utc(),
            user_id: row.user_id,
            position: row.seq,
        })
    }
}

/// An event about to be stored; its position is set by [`emit`] (or by the session write it
/// belongs to, through [`session`]).
fn draft(
    kind: EventType,
    user_id: &str,
    partner_id: Option<&str>,
    data: &impl Serialize,
) -> Result<EventRow, ApiError> {
    Ok(EventRow {
        seq: 0,
        id: format!("evt_{}", uuid::Uuid::now_v7().simple()),
        user_id: user_id.to_owned(),
        partner_id: partner_id.map(str::to_owned),
        kind: kind.as_str().to_owned(),
        data: write_json(data)?,
        created_at: db::now(),
    })
}

/// The event of a session write, at the session's position (set `seq` after the write when
/// the position is assigned by the insert itself).
pub fn session(kind: EventType, row: &SessionRow) -> Result<EventRow, ApiError> {
    let mut event = draft(kind, &row.user_id, None, &Session::from_row(row.clone())?)?;
    event.seq = row.seq;
    Ok(event)
}

/// An event about the user's data, for every partner the user grants the event's scope.
pub fn about_user(kind: EventType, user_id: &str, data: &impl Serialize) -> Result<EventRow, ApiError> {
    draft(kind, user_id, None, data)
}

/// An event for one partner only (grants).
pub fn for_partner(
    kind: EventType,
    user_id: &str,
    partner_id: &str,
    data: &impl Serialize,
) -> Result<EventRow, ApiError> {
    draft(kind, user_id, Some(partner_id), data)
}

/// Stores events whose position is already set (session writes).
pub fn store(conn: &mut AnyConnection, events: &[EventRow]) -> Result<(), ApiError> {
    Ok(repo::insert_many(conn, events)?)
}

/// Stores events of a write transaction that stores no session, at positions of their own.
/// Call once per transaction.
pub fn emit(conn: &mut AnyConnection, mut events: Vec<EventRow>) -> Result<(), ApiError> {
    if events.is_empty() {
        return Ok(());
    }
    let positions = repo::positions(conn, events.len())?;
    for (event, seq) in events.iter_mut().zip(positions) {
        event.seq = seq;
    }
    store(conn, &events)
}

/// The rule ids an adaptation record cites (every `rule` in it), sorted and unique.
pub fn rule_ids(record: &serde_json::Value) -> Vec<String> {
    fn walk(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map {
                    match (key.as_str(), v) {
                        ("rule", serde_json::Value::String(rule)) => out.push(rule.clone()),
                        _ => walk(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(record, &mut out);
    out.sort_unstable();
    out.dedup();
    out
}

/// How many log rows one read scans at most before answering (a partner with few users
/// among many must not make one request read the whole log).
const SCAN_LIMIT: usize = 5000;
const SCAN_BATCH: i64 = 500;

/// What a scan of the log found for a partner.
#[derive(Debug)]
pub struct Scan {
    pub events: Vec<EventRow>,
    /// The last position read: the next scan starts after it.
    pub through: i64,
    /// The scan stopped before the end of the log (limit or scan cap).
    pub more: bool,
}

/// Up to `limit` events after `after` that `partner_id` may see and `wants`, in feed order.
pub fn visible(
    conn: &mut AnyConnection,
    partner_id: &str,
    after: i64,
    limit: usize,
    wants: impl Fn(EventType) -> bool,
) -> Result<Scan, ApiError> {
    let (mut events, mut through, mut scanned) = (Vec::new(), after, 0);
    loop {
        let rows = repo::after(conn, partner_id, through, SCAN_BATCH)?;
        let full = rows.len() as i64 == SCAN_BATCH;
        let mut users: Vec<&str> = rows.iter().map(|r| r.user_id.as_str()).collect();
        users.sort_unstable();
        users.dedup();
        let grants: HashMap<String, Vec<Scope>> = partners::grants_from(conn, partner_id, &users)?
            .into_iter()
            .map(|g| (g.user_id, Scope::parse_list(&g.scopes).unwrap_or_default()))
            .collect();
        for row in rows {
            scanned += 1;
            through = row.seq;
            let Some(kind) = EventType::parse(&row.kind) else {
                continue;
            };
            let allowed = match kind.scope() {
                None => row.partner_id.as_deref() == Some(partner_id),
                Some(scope) => grants.get(&row.user_id).is_some_and(|s| s.contains(&scope)),
            };
            if allowed && wants(kind) {
                events.push(row);
                if events.len() >= limit {
                    return Ok(Scan {
                        events,
                        through,
                        more: true,
                    });
                }
            }
        }
        if !full {
            return Ok(Scan {
                events,
                through,
                more: false,
            });
        }
        if scanned >= SCAN_LIMIT {
            return Ok(Scan {
                events,
                through,
                more: true,
            });
        }
    }
}

/// Every event the partner may see after `since`, across all users who grant it access, in
/// commit order. The same cursor rules as a user's feed: 410 once a cursor predates purged
/// events.
pub async fn partner_changes(
    pool: &DbPool,
    partner_id: String,
    since: Option<&str>,
    limit: u32,
    types: Option<Vec<EventType>>,
) -> Result<paging::FeedPage<Event>, ApiError> {
    let given = since
        .filter(|c| !c.is_empty())
        .map(|c| paging::parse_feed_cursor("since", c))
        .transpose()?;
    let (since, seen_horizon) = given.unwrap_or((0, 0));
    let limit = limit.clamp(1, 500) as usize;
    let (scan, horizon) = db::run(pool, move |conn| -> Result<_, ApiError> {
        let scan = visible(conn, &partner_id, since, limit, |kind| {
            types.as_ref().is_none_or(|t| t.contains(&kind))
        })?;
        Ok((scan, repo::horizon(conn)?))
    })
    .await?;
    if given.is_some() && seen_horizon < horizon && since < horizon {
        return Err(paging::stale_feed_cursor());
    }
    let seen = if given.is_some() { seen_horizon } else { horizon };
    Ok(paging::FeedPage {
        next: paging::feed_cursor(scan.through, seen),
        has_more: scan.more,
        changes: scan
            .events
            .into_iter()
            .map(Event::from_row)
            .collect::<Result<_, _>>()?,
    })
}

/// Deletes events older than the retention window; run periodically by the server.
pub async fn purge(pool: &DbPool, retention: Retention) -> Result<usize, ApiError> {
    let before = db::now() - retention.0;
    Ok(db::write_query(pool, move |conn| repo::purge(conn, before)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_reads_back_and_names_its_scope() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(kind.scope().is_none(), kind.as_str().starts_with("grant."));
        }
    }

    #[test]
    fn rule_ids_are_collected_from_anywhere_in_a_record() {
        let record = serde_json::json!({
            "reviews": [{"decisions": [{"rule": "REG-01"}, {"rule": "2-FOR-2"}]}, {"stop": {"rule": "STP-01"}}],
            "rules": "not a rule id", "other": [{"rule": "REG-01"}]
        });
        assert_eq!(rule_ids(&record), ["2-FOR-2", "REG-01", "STP-01"]);
    }
}
