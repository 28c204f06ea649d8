//! Accounts: the profile a user gives at registration and the account as answered. Shared
//! by registration (`routes::auth`) and the account routes (`routes::me`).

use crate::repository::{events, partners};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::Subject;
use crate::db::{self, DbPool};
use crate::domain::programme::input::{ActivityLevel, Sex};
use crate::error::ApiError;
use crate::repository::users::{self, ProfileChangeset, UserRow};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Units {
    Metric,
    Imperial,
}

/// Profile fields given at registration.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    #[validate(range(min = 1900, max = 2100))]
    #[schema(minimum = 1900, maximum = 2100)]
    pub birth_year: Option<i32>,
    pub sex: Option<Sex>,
    #[validate(range(min = 25.0, max = 350.0))]
    #[schema(minimum = 25, maximum = 350)]
    pub body_mass_kg: Option<f64>,
    pub activity_level: Option<ActivityLevel>,
    pub units: Option<Units>,
    /// Preferred training days per week.
    #[validate(range(min = 1, max = 7))]
    #[schema(minimum = 1, maximum = 7)]
    pub preferred_days: Option<u8>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Profile {
    pub birth_year: Option<i32>,
    pub sex: Option<Sex>,
    pub body_mass_kg: Option<f64>,
    pub activity_level: Option<ActivityLevel>,
    pub units: Units,
    pub preferred_days: Option<u8>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub id: String,
    pub email: String,
    pub profile: Profile,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The wire name of a snake_case enum value (how it is stored).
pub fn wire<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn parse_wire<T: for<'de> Deserialize<'de>>(text: Option<&str>) -> Option<T> {
    text.and_then(|t| serde_json::from_value(serde_json::Value::String(t.to_owned())).ok())
}

impl From<UserRow> for UserResponse {
    fn from(row: UserRow) -> Self {
        Self {
            profile: Profile {
                birth_year: row.birth_year,
                sex: parse_wire(row.sex.as_deref()),
                body_mass_kg: row.body_mass_kg,
                activity_level: parse_wire(row.activity_level.as_deref()),
                units: parse_wire(Some(&row.units)).unwrap_or(Units::Metric),
                preferred_days: row.preferred_days.and_then(|d| u8::try_from(d).ok()),
            },
            id: row.id,
            email: row.email,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

/// A profile change: `None` leaves a field, `Some(None)` clears it (units cannot be cleared).
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    pub birth_year: Option<Option<i32>>,
    pub sex: Option<Option<Sex>>,
    pub body_mass_kg: Option<Option<f64>>,
    pub activity_level: Option<Option<ActivityLevel>>,
    pub units: Option<Units>,
    pub preferred_days: Option<Option<u8>>,
}

/// A token whose account was deleted acts for no one.
fn gone() -> ApiError {
    ApiError::InvalidToken("the account no longer exists".into())
}

pub async fn get(pool: &DbPool, subject: Subject) -> Result<UserResponse, ApiError> {
    let row = db::query(pool, move |conn| users::find(conn, &subject.user_id)).await?;
    row.map(UserResponse::from).ok_or_else(gone)
}

pub async fn update(pool: &DbPool, subject: Subject, p: ProfileChanges) -> Result<UserResponse, ApiError> {
    let changes = ProfileChangeset {
        birth_year: p.birth_year,
        sex: p.sex.map(|s| s.map(|s| wire(&s))),
        body_mass_kg: p.body_mass_kg,
        activity_level: p.activity_level.map(|a| a.map(|a| wire(&a))),
        units: p.units.map(|u| wire(&u)),
        preferred_days: p.preferred_days.map(|d| d.map(i32::from)),
        updated_at: Some(db::now()),
    };
    let row = db::write_query(pool, move |conn| {
        users::update_profile(conn, &subject.user_id, &changes)
    })
    .await?;
    row.map(UserResponse::from).ok_or_else(gone)
}

/// Deletes the account and everything stored for it.
pub async fn delete(pool: &DbPool, subject: Subject) -> Result<(), ApiError> {
    let deleted = db::write(pool, move |conn| -> Result<bool, ApiError> {
        // The user's session lock first: a create in flight commits before (and its event is
        // deleted with the rest) or waits and finds the account gone, never lands in between.
        crate::repository::sessions::lock(conn, &subject.user_id)?;
        // Partners hear that their grants ended; the events carrying the user's data go with
        // the account.
        let grants = partners::revoke_all_of(conn, &subject.user_id, db::now())?;
        super::partners::emit_revoked(conn, grants, "account_deleted")?;
        events::delete_user_data(conn, &subject.user_id)?;
        Ok(users::delete(conn, &subject.user_id)?)
    })
    .await?;
    if deleted { Ok(()) } else { Err(gone()) }
}
