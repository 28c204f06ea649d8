//! End-user accounts and tokens: register, log in, refresh (with rotation and reuse
//! detection), log out, and the public keys that verify access tokens.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::AuthState;
use crate::auth::keys::Jwk;
use crate::db::DbPool;
use crate::error::{ApiError, Problem};
use crate::http::Json;
use crate::services::accounts::{ProfileInput, UserResponse};
use crate::services::auth::{self as service, TokenResponse};

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

#[derive(Debug, Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
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
    let body = body.into_inner();
    let user = service::register(&pool, &auth, &address, &body.email, body.password, body.profile).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", "/v1/me"))
        .json(user))
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
    let address = auth.client_address(&req);
    let body = body.into_inner();
    let tokens = service::login(&pool, &auth.into_inner(), &address, &body.email, body.password).await?;
    Ok(no_store(HttpResponse::Ok()).json(tokens))
}

fn no_store(mut builder: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    builder.insert_header(("Cache-Control", "no-store"));
    builder
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
    let tokens = service::refresh(&pool, &auth.into_inner(), &body.refresh_token).await?;
    Ok(no_store(HttpResponse::Ok()).json(tokens))
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
    service::logout(&pool, &body.refresh_token).await?;
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
