//! Refresh tokens, stored as hashes, in rotation families.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::refresh_tokens;

#[derive(Debug, Clone, PartialEq, Queryable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub id: String,
    pub user_id: String,
    pub family_id: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    /// The partner holding it for the user; `None` for the user's own login.
    pub client_id: Option<String>,
    /// The scopes a partner's token was granted.
    pub scopes: Option<String>,
}

pub fn insert(conn: &mut AnyConnection, row: &RefreshTokenRow) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find_by_hash(conn: &mut AnyConnection, hash: &str) -> QueryResult<Option<RefreshTokenRow>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .first(conn)
        .optional()
}

/// Marks a token used, only if it is still unused and not revoked. `false` means someone used
/// it first (a replay, or a race): the caller treats that as reuse.
pub fn mark_used(conn: &mut AnyConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        refresh_tokens::table
            .find(id)
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(conn)
    .map(|n| n == 1)
}

/// Whether the family moved on after `since`: a token of it other than `except` was used since.
pub fn family_used_since(
    conn: &mut AnyConnection,
    family_id: &str,
    except: &str,
    since: NaiveDateTime,
) -> QueryResult<bool> {
    use diesel::dsl::count_star;
    refresh_tokens::table
        .filter(refresh_tokens::family_id.eq(family_id))
        .filter(refresh_tokens::id.ne(except))
        .filter(refresh_tokens::used_at.ge(since))
        .select(count_star())
        .first::<i64>(conn)
        .map(|n| n > 0)
}

/// Revokes every token of a family (reuse detected, or logout).
pub fn revoke_family(conn: &mut AnyConnection, family_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)
}
