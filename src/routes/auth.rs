//! End-user accounts and tokens: register, log in, refresh (with rotation and reuse
//! detection), log out, and the public keys that verify access tokens.

use std::time::Instant;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{Duration, Utc};
use diesel::Connection as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::keys::Jwk;
use crate::auth::tokens::{self, Scope, TokenKind};
use crate::auth::{AuthState, password};
use crate::db::{self, DbPool};
use crate::error::{ApiError, Problem};
use crate::http::Json;
use crate::repository::refresh_tokens::{self, RefreshTokenRow};
use crate::repository::users::{self, UserRow};
use crate::services::accounts::{ProfileInput, UserResponse, wire};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "jane@example.com", "password": "calves of steel 2026", "profile": {"birth_year": 1990, "activity_level": "active"}}))]
pub struct RegisterRequest {
    #[validate(email, length(max = 254))]
    #[schema(format = "email", max_length = 254)]
    pub email: String,
    /// 10–128 characters, not one of the most common passwords.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    #[validate(nested)]
    pub profile: Option<ProfileInput>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "jane@example.com", "password": "calves of steel 2026"}))]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 254))]
    #[schema(min_length = 1, max_length = 254)]
    pub email: String,
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub refresh_token: String,
}

/// An access token and the refresh token that renews it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// EdDSA-signed JWT; send as `Authorization: Bearer …`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// Opaque; use once with `POST /v1/auth/refresh`. Using it twice revokes the whole session.
    pub refresh_token: String,
    #[schema(example = 2_592_000)]
    pub refresh_token_expires_in: u64,
    #[schema(example = "catalogue:read programmes:read programmes:write sessions:read sessions:write")]
    pub scope: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Issues an access token and a new refresh token in `family` (a new family when `None`).
fn issue_pair(
    conn: &mut db::AnyConnection,
    auth: &AuthState,
    user_id: &str,
    family: Option<String>,
) -> Result<TokenResponse, ApiError> {
    let now = Utc::now();
    let access = tokens::issue(
        &auth.keys,
        &auth.config,
        user_id,
        TokenKind::User,
        &Scope::ALL,
        now.timestamp().unsigned_abs(),
    )
    .map_err(|e| ApiError::Internal(e.into()))?;
    let (refresh, hash) = tokens::new_refresh_token();
    let ttl = auth.config.refresh_ttl_secs;
    refresh_tokens::insert(
        conn,
        &RefreshTokenRow {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: user_id.to_owned(),
            family_id: family.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            token_hash: hash,
            created_at: now.naive_utc(),
            expires_at: (now + Duration::seconds(i64::try_from(ttl).unwrap_or(i64::MAX / 2))).naive_utc(),
            used_at: None,
            revoked_at: None,
        },
    )?;
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: auth.config.access_ttl_secs,
        refresh_token: refresh,
        refresh_token_expires_in: ttl,
        scope: Scope::join(&Scope::ALL),
    })
}

/// Create an account.
///
/// Registers an end user with email and password (and optionally a profile). Log in with
/// `POST /v1/auth/token` afterwards.
#[utoipa::path(
    tag = "auth",
    request_body(content = inline(RegisterRequest), description = "The new account."),
    responses(
        (status = 201, description = "Created.", body = UserResponse, headers(("Location" = String, description = "/v1/me"))),
        (status = 409, description = "An account with this email exists.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many new accounts from this address (`SOLEUS_REGISTRATIONS_PER_ADDRESS` an hour); see `Retry-After`.", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 503, description = "Too many registrations and sign-ins are being hashed at once; see `Retry-After`.", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[post("/auth/register")]
pub async fn register(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    auth: web::Data<AuthState>,
    body: Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let address = auth.client_address(&req);
    auth.register_limiter
        .reserve("", &address, Instant::now())
        .map_err(|retry_after_secs| {
            tracing::warn!(target: "audit", event = "registration_limited", client = %address, "registration limit reached");
            ApiError::TooManyRequests { retry_after_secs }
        })?;
    let body = body.into_inner();
    let email = normalise_email(&body.email);
    if let Some(why) = password::problem(&body.password, &email) {
        return Err(ApiError::invalid_field("password", "weak_password", why));
    }
    let profile = body.profile.unwrap_or_default();
    // Hash first, holding no database connection (argon2 takes tens of milliseconds).
    let password_hash = password::hash_queued(body.password)
        .await
        .map_err(|_| busy())?
        .map_err(ApiError::Internal)?;
    let row = db::run(&pool, move |conn| -> Result<UserRow, ApiError> {
        let now = crate::db::now();
        let row = UserRow {
            id: uuid::Uuid::new_v4().to_string(),
            email,
            password_hash,
            birth_year: profile.birth_year,
            sex: profile.sex.map(|s| wire(&s)),
            body_mass_kg: profile.body_mass_kg,
            activity_level: profile.activity_level.map(|a| wire(&a)),
            units: profile.units.map_or_else(|| "metric".to_owned(), |u| wire(&u)),
            preferred_days: profile.preferred_days.map(i32::from),
            created_at: now,
            updated_at: now,
        };
        users::insert(conn, &row).map_err(|e| match ApiError::from(e) {
            ApiError::Conflict(_) => ApiError::Conflict("An account with this email already exists.".into()),
            other => other,
        })?;
        Ok(row)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", "/v1/me"))
        .json(UserResponse::from(row)))
}

/// Log in.
///
/// Exchanges email and password for a 15-minute access token and a refresh token. Unknown
/// email and wrong password get the same answer. Repeated failures are throttled per account
/// and per client address (429 with `Retry-After`).
#[utoipa::path(
    tag = "auth",
    request_body(content = inline(LoginRequest), description = "Credentials."),
    responses(
        (status = 200, description = "Tokens.", body = TokenResponse),
        (status = 401, description = "Invalid email or password.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts; see `Retry-After`. Each attempt is counted before the password is checked, so parallel attempts cannot pass the limit.", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 503, description = "Too many sign-ins are being checked at once; see `Retry-After`.", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[post("/auth/token")]
pub async fn login(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    auth: web::Data<AuthState>,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let email = normalise_email(&body.email);
    let address = auth.client_address(&req);
    auth.login_limiter
        .reserve(&email, &address, Instant::now())
        .map_err(|retry_after_secs| {
            tracing::warn!(target: "audit", event = "login_locked", client = %address, retry_after_secs, "login throttled");
            ApiError::TooManyRequests { retry_after_secs }
        })?;
    // Read, verify, write: no pooled connection is held while argon2 runs.
    let account = email.clone();
    let user = db::query(&pool, move |conn| users::find_by_email(conn, &account)).await?;
    let phc = user.as_ref().map(|u| u.password_hash.clone());
    let matches = password::verify_queued(body.password, phc)
        .await
        .map_err(|_| busy())?;
    let known = user.as_ref().map(|u| u.id.clone()).unwrap_or_default();
    let Some(user) = user.filter(|_| matches) else {
        // The account id when the email is known; never the email or the password.
        let account_id = known.as_str();
        tracing::warn!(target: "audit", event = "login_failed", account_id, client = %address, "failed login");
        return Err(ApiError::Unauthorized("Invalid email or password.".into()));
    };
    tracing::info!(target: "audit", event = "login", account_id = %user.id, client = %address, "login");
    let state = auth.clone();
    let tokens = db::run(&pool, move |conn| issue_pair(conn, &state, &user.id, None)).await?;
    auth.login_limiter.record_success(&email, &address);
    Ok(no_store(HttpResponse::Ok()).json(tokens))
}

/// The hashing queue is full: come back in a moment.
fn busy() -> ApiError {
    ApiError::ServiceUnavailable("Too many sign-ins at once; retry in a moment.".into())
}

fn no_store(mut builder: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    builder.insert_header(("Cache-Control", "no-store"));
    builder
}

enum RefreshOutcome {
    Issued(TokenResponse),
    Invalid(&'static str),
}

/// Refresh the access token.
///
/// Spends the refresh token and returns a new pair (rotation). A refresh token can be used
/// once: presenting a used one again revokes every token of that login (RFC 9700), except as a
/// retry within `SOLEUS_REFRESH_GRACE_SECS` (10 s) before the login has moved on, which gets
/// another new pair (so two parallel refreshes do not log the user out).
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair.", body = TokenResponse),
        (status = 401, description = "Unknown, expired, revoked or reused refresh token.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/refresh")]
pub async fn rotate_refresh_token(
    pool: web::Data<DbPool>,
    auth: web::Data<AuthState>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let hash = tokens::hash_refresh_token(&body.refresh_token);
    let state = auth.clone();
    let outcome = db::run(&pool, move |conn| -> Result<RefreshOutcome, ApiError> {
        conn.transaction(|conn| {
            db::lock_for_write(conn)?;
            let now = crate::db::now();
            let Some(mut row) = refresh_tokens::find_by_hash(conn, &hash)? else {
                return Ok(RefreshOutcome::Invalid("The refresh token is not valid."));
            };
            if row.revoked_at.is_some() {
                return Ok(RefreshOutcome::Invalid(
                    "The refresh token has been revoked; log in again.",
                ));
            }
            if row.used_at.is_none() {
                if refresh_tokens::mark_used(conn, &row.id, now)? {
                    if row.expires_at <= now {
                        return Ok(RefreshOutcome::Invalid(
                            "The refresh token has expired; log in again.",
                        ));
                    }
                    return issue_pair(conn, &state, &row.user_id, Some(row.family_id))
                        .map(RefreshOutcome::Issued);
                }
                // A parallel refresh spent it first (PostgreSQL runs both at once): read what it
                // wrote, then treat this one as the retry it is.
                let Some(fresh) = refresh_tokens::find_by_hash(conn, &hash)? else {
                    return Ok(RefreshOutcome::Invalid("The refresh token is not valid."));
                };
                row = fresh;
            }
            // A retry within the grace window, before the login moved on: a new pair in the same
            // family, and nothing revoked (two parallel refreshes must not log the user out).
            let grace =
                chrono::Duration::seconds(i64::try_from(state.config.refresh_grace_secs).unwrap_or(0));
            if let Some(used) = row.used_at
                && row.revoked_at.is_none()
                && now - used <= grace
                && row.expires_at > now
                && !refresh_tokens::family_used_since(conn, &row.family_id, &row.id, used)?
            {
                tracing::info!(family = %row.family_id, "refresh token retried within the grace window");
                return issue_pair(conn, &state, &row.user_id, Some(row.family_id))
                    .map(RefreshOutcome::Issued);
            }
            // Reuse: someone else may hold a copy. End the whole login (RFC 9700 §4.14.2).
            refresh_tokens::revoke_family(conn, &row.family_id, now)?;
            tracing::warn!(target: "audit", event = "refresh_reuse", account_id = %row.user_id, family = %row.family_id, "refresh token reuse: family revoked");
            Ok(RefreshOutcome::Invalid(
                "The refresh token was already used; every session of this login is revoked. Log in again.",
            ))
        })
    })
    .await?;
    match outcome {
        RefreshOutcome::Issued(tokens) => Ok(no_store(HttpResponse::Ok()).json(tokens)),
        RefreshOutcome::Invalid(why) => Err(ApiError::Unauthorized(why.into())),
    }
}

/// Log out.
///
/// Revokes the refresh token and every token rotated from the same login. Always 204, so a
/// retried logout is harmless. Access tokens already issued expire on their own (15 minutes).
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses((status = 204, description = "Logged out.")),
)]
#[post("/auth/logout")]
pub async fn logout(pool: web::Data<DbPool>, body: Json<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    let hash = tokens::hash_refresh_token(&body.refresh_token);
    db::run(&pool, move |conn| -> Result<(), ApiError> {
        if let Some(row) = refresh_tokens::find_by_hash(conn, &hash)? {
            refresh_tokens::revoke_family(conn, &row.family_id, crate::db::now())?;
        }
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Token signing keys.
///
/// The public keys (JWK Set, RFC 7517) that verify access tokens: the current key and, during
/// a rotation, the previous one. Select by the token header's `kid`.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "The key set.", body = Jwks)),
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(auth: web::Data<AuthState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(Jwks {
            keys: auth.keys.jwks(),
        })
}
