//! The caller's own account: `GET`, `PATCH` and `DELETE /v1/me`.

use actix_web::{HttpResponse, delete, get, patch, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError, ValidationErrors};

use crate::auth::AuthUser;
use crate::db::{self, DbPool};
use crate::error::{ApiError, Problem};
use crate::http::Json;
use crate::programme::input::{ActivityLevel, Sex};
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

/// A JSON merge patch of the profile: a field left out is unchanged, `null` clears it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body_mass_kg": 61.5, "preferred_days": 3, "sex": null}))]
pub struct ProfilePatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i32>, minimum = 1900, maximum = 2100)]
    pub birth_year: Option<Option<i32>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Sex>)]
    pub sex: Option<Option<Sex>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>, minimum = 25, maximum = 350)]
    pub body_mass_kg: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<ActivityLevel>)]
    pub activity_level: Option<Option<ActivityLevel>>,
    /// Cannot be cleared; `metric` or `imperial`.
    pub units: Option<Units>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u8>, minimum = 1, maximum = 7)]
    pub preferred_days: Option<Option<u8>>,
}

/// A field that is present (even as `null`) becomes `Some`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl Validate for ProfilePatch {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let mut range = |field: &'static str, ok: bool, min: f64, max: f64| {
            if !ok {
                let mut e = ValidationError::new("range");
                e.add_param("min".into(), &min);
                e.add_param("max".into(), &max);
                errors.add(field, e);
            }
        };
        range(
            "birth_year",
            self.birth_year
                .flatten()
                .is_none_or(|y| (1900..=2100).contains(&y)),
            1900.0,
            2100.0,
        );
        range(
            "body_mass_kg",
            self.body_mass_kg
                .flatten()
                .is_none_or(|m| (25.0..=350.0).contains(&m)),
            25.0,
            350.0,
        );
        range(
            "preferred_days",
            self.preferred_days.flatten().is_none_or(|d| (1..=7).contains(&d)),
            1.0,
            7.0,
        );
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
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

fn gone() -> ApiError {
    ApiError::InvalidToken("the account no longer exists".into())
}

/// Your account.
#[utoipa::path(
    tag = "account",
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The account and profile.", body = UserResponse),
        (status = 401, description = "No valid access token.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/me")]
pub async fn get_me(user: AuthUser, pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    let row = db::run(&pool, move |conn| users::find(conn, &user.id))
        .await?
        .ok_or_else(gone)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(UserResponse::from(row)))
}

/// Update your profile.
///
/// A JSON merge patch (RFC 7396): fields left out are unchanged, `null` clears a field.
#[utoipa::path(
    tag = "account",
    security(("bearer_auth" = [])),
    request_body(content = ProfilePatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated account.", body = UserResponse),
        (status = 401, description = "No valid access token.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/me")]
pub async fn patch_me(
    user: AuthUser,
    pool: web::Data<DbPool>,
    body: Json<ProfilePatch>,
) -> Result<HttpResponse, ApiError> {
    let p = body.into_inner();
    let changes = ProfileChangeset {
        birth_year: p.birth_year,
        sex: p.sex.map(|s| s.map(|s| wire(&s))),
        body_mass_kg: p.body_mass_kg,
        activity_level: p.activity_level.map(|a| a.map(|a| wire(&a))),
        units: p.units.map(|u| wire(&u)),
        preferred_days: p.preferred_days.map(|d| d.map(i32::from)),
        updated_at: Some(crate::db::now()),
    };
    let row = db::run(&pool, move |conn| users::update_profile(conn, &user.id, &changes))
        .await?
        .ok_or_else(gone)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(UserResponse::from(row)))
}

/// Delete your account.
///
/// Removes the account and everything stored for it, for real (no soft delete). Tokens
/// already issued stop working.
#[utoipa::path(
    tag = "account",
    security(("bearer_auth" = [])),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, description = "No valid access token.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/me")]
pub async fn delete_me(user: AuthUser, pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    let deleted = db::run(&pool, move |conn| users::delete(conn, &user.id)).await?;
    if !deleted {
        return Err(gone());
    }
    Ok(HttpResponse::NoContent().finish())
}
