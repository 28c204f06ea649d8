//! Sign-in: create an account, exchange a password for tokens, rotate a refresh token (with
//! reuse detection and a grace window for parallel retries), log out. Passwords are hashed
//! on the hashing thread while no database connection is held.

use chrono::{Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::tokens::{self, Scope, TokenKind};
use crate::auth::{AuthState, password};
use crate::db::{self, DbPool};
use crate::error::ApiError;
use crate::repository::refresh_tokens::{self, RefreshTokenRow};
use crate::repository::users::{self, UserRow};
use crate::services::accounts::{ProfileInput, UserResponse, wire};

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
    let access = tokens::issue(
        &auth.keys,
        &auth.config,
        user_id,
        TokenKind::User,
        &Scope::ALL,
        Utc::now().timestamp().unsigned_abs(),
    )
    .map_err(|e| ApiError::Internal(e.into()))?;
    let refresh = store_refresh_token(conn, auth, user_id, family, None)?;
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: auth.config.access_ttl_secs,
        refresh_token: refresh,
        refresh_token_expires_in: auth.config.refresh_ttl_secs,
        scope: Scope::join(&Scope::ALL),
    })
}

/// Stores a new refresh token of `user_id` in `family` (a new family when `None`), held by
/// the user's own login or, with `partner` = (client id, scopes), by a partner the user
/// consented to. Returns the token (only its hash is stored).
pub(crate) fn store_refresh_token(
    conn: &mut db::AnyConnection,
    auth: &AuthState,
    user_id: &str,
    family: Option<String>,
    partner: Option<(&str, &[Scope])>,
) -> Result<String, ApiError> {
    let now = Utc::now();
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
            client_id: partner.map(|(client, _)| client.to_owned()),
            scopes: partner.map(|(_, scopes)| Scope::join(scopes)),
        },
    )?;
    Ok(refresh)
}

/// Creates an account for `email` (normalised) after the per-address limit and the password
/// rules.
pub async fn register(
    pool: &DbPool,
    auth: &AuthState,
    address: &str,
    email: &str,
    password: String,
    profile: Option<ProfileInput>,
) -> Result<UserResponse, ApiError> {
    auth.register_limiter
        .reserve(pool, "", address)
        .await?
        .map_err(|retry_after_secs| {
            tracing::warn!(target: "audit", event = "registration_limited", client = %address, "registration limit reached");
            crate::metrics::throttled("registration");
            ApiError::TooManyRequests { retry_after_secs }
        })?;
    let email = normalise_email(email);
    if let Some(why) = password::problem(&password, &email) {
        return Err(ApiError::invalid_field("password", "weak_password", why));
    }
    let profile = profile.unwrap_or_default();
    // Hash first, holding no database connection (argon2 takes tens of milliseconds).
    let password_hash = password::hash_queued(password)
        .await
        .map_err(|_| busy())?
        .map_err(ApiError::Internal)?;
    let row = db::write(pool, move |conn| -> Result<UserRow, ApiError> {
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
    Ok(UserResponse::from(row))
}

/// Exchanges `email` and `password` for a token pair. Every attempt counts against the limits
/// before the password is checked; a success clears the account's failures.
pub async fn login(
    pool: &DbPool,
    auth: &std::sync::Arc<AuthState>,
    address: &str,
    email: &str,
    password: String,
) -> Result<TokenResponse, ApiError> {
    let user = sign_in(pool, auth, address, email, password).await?;
    let state = std::sync::Arc::clone(auth);
    db::write(pool, move |conn| issue_pair(conn, &state, &user.id, None)).await
}

/// The account `email` and `password` name, under the login throttle: every attempt is
/// counted before the password is checked, and a success clears the account's failures.
/// Serves the token endpoint and the OAuth consent page alike.
pub(crate) async fn sign_in(
    pool: &DbPool,
    auth: &AuthState,
    address: &str,
    email: &str,
    password: String,
) -> Result<UserRow, ApiError> {
    let email = normalise_email(email);
    auth.login_limiter
        .reserve(pool, &email, address)
        .await?
        .map_err(|retry_after_secs| {
            tracing::warn!(target: "audit", event = "login_locked", client = %address, retry_after_secs, "login throttled");
            crate::metrics::throttled("login");
            ApiError::TooManyRequests { retry_after_secs }
        })?;
    // Read, verify, write: no pooled connection is held while argon2 runs.
    let account = email.clone();
    let user = db::query(pool, move |conn| users::find_by_email(conn, &account)).await?;
    let phc = user.as_ref().map(|u| u.password_hash.clone());
    let matches = password::verify_queued(password, phc).await.map_err(|_| busy())?;
    let known = user.as_ref().map(|u| u.id.clone()).unwrap_or_default();
    let Some(user) = user.filter(|_| matches) else {
        // The account id when the email is known; never the email or the password.
        let account_id = known.as_str();
        tracing::warn!(target: "audit", event = "login_failed", account_id, client = %address, "failed login");
        return Err(ApiError::Unauthorized("Invalid email or password.".into()));
    };
    tracing::info!(target: "audit", event = "login", account_id = %user.id, client = %address, "login");
    // The sign-in stands: failed bookkeeping must not turn it into an error.
    if let Err(e) = auth.login_limiter.record_success(pool, &email, address).await {
        tracing::warn!(error = %e, "a successful login was not cleared from the throttle");
    }
    Ok(user)
}

/// The hashing queue is full: come back in a moment.
fn busy() -> ApiError {
    ApiError::ServiceUnavailable("Too many sign-ins at once; retry in a moment.".into())
}

/// Spends a refresh token for a new pair (rotation). A used token presented again revokes its
/// whole login (RFC 9700), except as a retry within the grace window before the login moved on.
pub async fn refresh(
    pool: &DbPool,
    auth: &std::sync::Arc<AuthState>,
    refresh_token: &str,
) -> Result<TokenResponse, ApiError> {
    let hash = tokens::hash_refresh_token(refresh_token);
    let state = std::sync::Arc::clone(auth);
    let outcome = db::write(pool, move |conn| {
        rotate(conn, &hash, None, state.config.refresh_grace_secs, |conn, row| {
            issue_pair(conn, &state, &row.user_id, Some(row.family_id.clone()))
        })
    })
    .await?;
    match outcome {
        Rotation::Issued(tokens) => Ok(tokens),
        Rotation::Invalid(why) => Err(ApiError::Unauthorized(why.into())),
    }
}

/// What presenting a refresh token led to.
pub(crate) enum Rotation<T> {
    Issued(T),
    Invalid(&'static str),
}

/// The rotation rules, for a user's login (`holder` = `None`) and for a partner's consent
/// (`holder` = its client id): run inside a write. The token with this `hash` is spent and
/// `issue` makes its successor in the same family from the spent row. A used token presented
/// again revokes the family, except as a retry within `grace_secs` before the family moved on
/// (two parallel refreshes must not end the login).
pub(crate) fn rotate<T>(
    conn: &mut db::AnyConnection,
    hash: &str,
    holder: Option<&str>,
    grace_secs: u64,
    issue: impl Fn(&mut db::AnyConnection, &RefreshTokenRow) -> Result<T, ApiError>,
) -> Result<Rotation<T>, ApiError> {
    let now = crate::db::now();
    let Some(mut row) =
        refresh_tokens::find_by_hash(conn, hash)?.filter(|row| row.client_id.as_deref() == holder)
    else {
        return Ok(Rotation::Invalid("The refresh token is not valid."));
    };
    if row.revoked_at.is_some() {
        return Ok(Rotation::Invalid(
            "The refresh token has been revoked; log in again.",
        ));
    }
    if row.used_at.is_none() {
        if refresh_tokens::mark_used(conn, &row.id, now)? {
            if row.expires_at <= now {
                return Ok(Rotation::Invalid("The refresh token has expired; log in again."));
            }
            return issue(conn, &row).map(Rotation::Issued);
        }
        // A parallel refresh spent it first (PostgreSQL runs both at once): read what it
        // wrote, then treat this one as the retry it is.
        let Some(fresh) = refresh_tokens::find_by_hash(conn, hash)? else {
            return Ok(Rotation::Invalid("The refresh token is not valid."));
        };
        row = fresh;
    }
    // A retry within the grace window, before the login moved on: a new pair in the same
    // family, and nothing revoked (two parallel refreshes must not log the user out).
    let grace = chrono::Duration::seconds(i64::try_from(grace_secs).unwrap_or(0));
    if let Some(used) = row.used_at
        && row.revoked_at.is_none()
        && now - used <= grace
        && row.expires_at > now
        && !refresh_tokens::family_used_since(conn, &row.family_id, &row.id, used)?
    {
        tracing::info!(family = %row.family_id, "refresh token retried within the grace window");
        return issue(conn, &row).map(Rotation::Issued);
    }
    // Reuse: someone else may hold a copy. End the whole login (RFC 9700 §4.14.2).
    refresh_tokens::revoke_family(conn, &row.family_id, now)?;
    tracing::warn!(target: "audit", event = "refresh_reuse", account_id = %row.user_id, family = %row.family_id, "refresh token reuse: family revoked");
    Ok(Rotation::Invalid(
        "The refresh token was already used; every session of this login is revoked. Log in again.",
    ))
}

/// Revokes the refresh token and every token rotated from the same login; unknown tokens are
/// ignored, so a retried logout is harmless.
pub async fn logout(pool: &DbPool, refresh_token: &str) -> Result<(), ApiError> {
    let hash = tokens::hash_refresh_token(refresh_token);
    db::write(pool, move |conn| -> Result<(), ApiError> {
        if let Some(row) = refresh_tokens::find_by_hash(conn, &hash)? {
            refresh_tokens::revoke_family(conn, &row.family_id, crate::db::now())?;
        }
        Ok(())
    })
    .await
}
