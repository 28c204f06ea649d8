//! Partner platforms and the grants users give them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{partner_grants, partners};

#[derive(Debug, Clone, PartialEq, Queryable, Insertable)]
#[diesel(table_name = partners)]
pub struct PartnerRow {
    pub id: String,
    pub name: String,
    pub secret_hash: String,
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    /// One per line.
    pub redirect_uris: String,
}

impl PartnerRow {
    /// The registered redirect URIs.
    pub fn redirect_uris(&self) -> impl Iterator<Item = &str> {
        self.redirect_uris
            .lines()
            .map(str::trim)
            .filter(|u| !u.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Insertable)]
#[diesel(table_name = partner_grants)]
pub struct GrantRow {
    pub id: String,
    pub user_id: String,
    pub partner_id: String,
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut AnyConnection, row: &PartnerRow) -> QueryResult<()> {
    diesel::insert_into(partners::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<PartnerRow>> {
    partners::table.find(id).first(conn).optional()
}

pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<PartnerRow>> {
    partners::table.order(partners::created_at).load(conn)
}

/// Revokes a partner; its tokens stop working on their next request. `false` if unknown.
/// Replaces the active partner's redirect URIs (one per line); `false` if there is none.
pub fn set_redirect_uris(conn: &mut AnyConnection, id: &str, uris: &str) -> QueryResult<bool> {
    diesel::update(partners::table.find(id).filter(partners::revoked_at.is_null()))
        .set(partners::redirect_uris.eq(uris))
        .execute(conn)
        .map(|n| n == 1)
}

pub fn revoke(conn: &mut AnyConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(partners::table.find(id).filter(partners::revoked_at.is_null()))
        .set(partners::revoked_at.eq(now))
        .execute(conn)
        .map(|n| n == 1)
}

/// Records a grant, replacing the user's active grant to the same partner.
pub fn grant(conn: &mut AnyConnection, row: &GrantRow) -> QueryResult<()> {
    // Two grants to one partner at once must not both stay active: they take turns.
    crate::db::lock_key(conn, &format!("grant:{}:{}", row.user_id, row.partner_id))?;
    revoke_grants_to(conn, &row.user_id, &row.partner_id, row.created_at)?;
    diesel::insert_into(partner_grants::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Revokes the user's grants to the partner, and with them every refresh token the partner
/// holds for the user: a later consent starts from fresh tokens, never revives old ones.
pub fn revoke_grants_to(
    conn: &mut AnyConnection,
    user_id: &str,
    partner_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let revoked = diesel::update(
        partner_grants::table
            .filter(partner_grants::user_id.eq(user_id))
            .filter(partner_grants::partner_id.eq(partner_id))
            .filter(partner_grants::revoked_at.is_null()),
    )
    .set(partner_grants::revoked_at.eq(now))
    .execute(conn)?;
    revoke_partner_tokens(conn, user_id, partner_id, now)?;
    Ok(revoked)
}

fn revoke_partner_tokens(
    conn: &mut AnyConnection,
    user_id: &str,
    partner_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    use crate::db::schema::refresh_tokens;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::client_id.eq(partner_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)
}

/// The user's active grants, oldest first.
pub fn grants_of(conn: &mut AnyConnection, user_id: &str) -> QueryResult<Vec<GrantRow>> {
    partner_grants::table
        .filter(partner_grants::user_id.eq(user_id))
        .filter(partner_grants::revoked_at.is_null())
        .order((partner_grants::created_at, partner_grants::id))
        .load(conn)
}

/// Revokes one of the user's own grants and the partner's refresh tokens for the user.
/// The grant as it was, or `None` if it is not theirs or not active.
pub fn revoke_grant(
    conn: &mut AnyConnection,
    user_id: &str,
    grant_id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<GrantRow>> {
    let grant: Option<GrantRow> = partner_grants::table
        .find(grant_id)
        .filter(partner_grants::user_id.eq(user_id))
        .filter(partner_grants::revoked_at.is_null())
        .first(conn)
        .optional()?;
    let Some(grant) = grant else {
        return Ok(None);
    };
    revoke_grants_to(conn, user_id, &grant.partner_id, now)?;
    Ok(Some(grant))
}

/// The active grant from `user_id` to an active `partner_id`, if any.
pub fn active_grant(
    conn: &mut AnyConnection,
    partner_id: &str,
    user_id: &str,
) -> QueryResult<Option<GrantRow>> {
    partner_grants::table
        .inner_join(partners::table)
        .filter(partner_grants::partner_id.eq(partner_id))
        .filter(partner_grants::user_id.eq(user_id))
        .filter(partner_grants::revoked_at.is_null())
        .filter(partners::revoked_at.is_null())
        .select(partner_grants::all_columns)
        // The newest, should an older race have left two active.
        .order((partner_grants::created_at.desc(), partner_grants::id.desc()))
        .first(conn)
        .optional()
}

/// The active grants to an active `partner_id` from any of `user_ids`.
pub fn grants_from(
    conn: &mut AnyConnection,
    partner_id: &str,
    user_ids: &[&str],
) -> QueryResult<Vec<GrantRow>> {
    let mut out = Vec::new();
    for chunk in user_ids.chunks(500) {
        out.extend(
            partner_grants::table
                .inner_join(partners::table)
                .filter(partner_grants::partner_id.eq(partner_id))
                .filter(partner_grants::user_id.eq_any(chunk))
                .filter(partner_grants::revoked_at.is_null())
                .filter(partners::revoked_at.is_null())
                .select(partner_grants::all_columns)
                .load::<GrantRow>(conn)?,
        );
    }
    Ok(out)
}

/// The active grants to `partner_id`, newest first, strictly after `after` = (created_at, id).
pub fn grants_to(
    conn: &mut AnyConnection,
    partner_id: &str,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<GrantRow>> {
    let mut query = partner_grants::table
        .filter(partner_grants::partner_id.eq(partner_id))
        .filter(partner_grants::revoked_at.is_null())
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            partner_grants::created_at
                .lt(at)
                .or(partner_grants::created_at.eq(at).and(partner_grants::id.lt(id))),
        );
    }
    query
        .order((partner_grants::created_at.desc(), partner_grants::id.desc()))
        .limit(limit)
        .load(conn)
}

/// The user's active grants, revoked now (account deletion): the rows that were active.
pub fn revoke_all_of(
    conn: &mut AnyConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<Vec<GrantRow>> {
    let active = grants_of(conn, user_id)?;
    for grant in &active {
        revoke_grants_to(conn, user_id, &grant.partner_id, now)?;
    }
    Ok(active)
}
