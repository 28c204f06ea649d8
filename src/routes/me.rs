//! The caller's own account: `GET`, `PATCH` and `DELETE /v1/me`.

use actix_web::{HttpResponse, delete, get, patch, web};
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;
use validator::{Validate, ValidationError, ValidationErrors};

use crate::auth::AuthUser;
use crate::db::DbPool;
use crate::domain::programme::input::{ActivityLevel, Sex};
use crate::error::ApiError;
use crate::http::Json;
use crate::services::Subject;
use crate::services::accounts::{self, ProfileChanges, Units, UserResponse};

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

/// Your account.
///
/// Your email and profile (birth year, sex, body mass, activity level, units, preferred days),
/// which programmes and test norms use. A token whose account was deleted gets 401.
#[utoipa::path(
    tag = "account",
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The account and profile.", body = UserResponse),
    ),
)]
#[get("/me")]
pub async fn get_me(user: AuthUser, pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    let account = accounts::get(&pool, Subject::app(user.id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(account))
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
    ),
)]
#[patch("/me")]
pub async fn patch_me(
    user: AuthUser,
    pool: web::Data<DbPool>,
    body: Json<ProfilePatch>,
) -> Result<HttpResponse, ApiError> {
    let p = body.into_inner();
    let changes = ProfileChanges {
        birth_year: p.birth_year,
        sex: p.sex,
        body_mass_kg: p.body_mass_kg,
        activity_level: p.activity_level,
        units: p.units,
        preferred_days: p.preferred_days,
    };
    let account = accounts::update(&pool, Subject::app(user.id), changes).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(account))
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
    ),
)]
#[delete("/me")]
pub async fn delete_me(user: AuthUser, pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    accounts::delete(&pool, Subject::app(user.id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
