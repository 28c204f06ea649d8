//! The one error type handlers return, rendered as RFC 9457 `application/problem+json`.
//!
//! Policy lives here and only here: which library error becomes which status, and what a
//! client may see. 4xx means "do not retry this request unchanged"; 429 and 503 mean
//! "retry later"; 500 carries no internals (the cause chain is logged with the request id).

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Base of the problem `type` URIs. They are stable identifiers, listed in the README.
pub const PROBLEM_BASE: &str = "https://soleus-api.dev/problems/";

pub use crate::validation::FieldError;

/// RFC 9457 problem details. Every error response of this API has this shape.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://soleus-api.dev/problems/validation",
    "title": "Unprocessable Content",
    "status": 422,
    "detail": "The request body has 1 invalid field.",
    "instance": "/v1/programmes/preview",
    "request_id": "6f1c7a0e-6c1b-4f7e-9d5a-8f3c2b1a0d9e",
    "errors": [{"field": "age", "pointer": "/age", "code": "range", "message": "must be between 18 and 120"}]
}))]
pub struct Problem {
    /// URI identifying the problem type (see the README's list of problem types).
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary of the problem type (the HTTP reason phrase).
    pub title: String,
    /// The HTTP status code, repeated for convenience.
    pub status: u16,
    /// Explanation specific to this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path that produced the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Same value as the `X-Request-Id` response header; quote it when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// RFC 6749 §5.2 error code, on errors of the OAuth token endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// RFC 6749 §5.2 error description (the same text as `detail`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// Field-level errors (validation and malformed-input problems).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 200)]
    pub errors: Vec<FieldError>,
}

/// Everything that can go wrong in a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed syntax: broken JSON, a query or path parameter of the wrong type.
    #[error("bad request: {detail}")]
    BadRequest { detail: String, errors: Vec<FieldError> },
    /// Missing credentials, or a failed login.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// A bearer token that is malformed, expired, or not ours (RFC 6750 `invalid_token`).
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// The token lacks a scope the operation needs (RFC 6750 `insufficient_scope`).
    #[error("insufficient scope: {0}")]
    InsufficientScope(&'static str),
    /// Authenticated but not allowed.
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<Method> },
    #[error("conflict: {0}")]
    Conflict(String),
    /// A per-user cap on stored resources is reached (`SOLEUS_MAX_*_PER_USER`).
    #[error("quota exceeded: {0}")]
    QuotaExceeded(String),
    /// The resource (or the history a cursor points into) is gone for good.
    #[error("gone: {0}")]
    Gone(String),
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    #[error("payload too large (limit {limit} bytes)")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// Well-formed but semantically invalid input.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// The account created the most sessions allowed today (`SOLEUS_MAX_SESSIONS_PER_DAY`).
    #[error("daily quota of {limit} sessions spent")]
    SessionsPerDay { limit: u32, retry_after_secs: u64 },
    /// The client did not send the whole body in time.
    #[error("request timeout")]
    RequestTimeout { seconds: u64 },
    /// A dependency (the database) is unavailable; retry later.
    #[error("service unavailable: {0}")]
    ServiceUnavailable(String),
    /// An OAuth 2.0 token-endpoint error (RFC 6749 §5.2): `invalid_request`, `invalid_client`,
    /// `invalid_scope`, `unsupported_grant_type`…: 401 for `invalid_client`, otherwise 400.
    #[error("oauth error {error}: {description}")]
    OAuth {
        error: &'static str,
        description: String,
    },
    /// Anything unexpected. The cause is logged, never sent.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// 503: no database connection could be had (nothing was written).
    pub fn database_unavailable() -> Self {
        Self::ServiceUnavailable("The database is temporarily unavailable; retry later.".into())
    }

    pub fn invalid_field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }

    /// Problem type slug: the last segment of the `type` URI.
    pub fn slug(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "bad-request",
            Self::Unauthorized(_) | Self::InvalidToken(_) => "unauthorized",
            Self::InsufficientScope(_) => "insufficient-scope",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::MethodNotAllowed { .. } => "method-not-allowed",
            Self::Conflict(_) => "conflict",
            Self::QuotaExceeded(_) => "quota-exceeded",
            Self::Gone(_) => "gone",
            Self::PreconditionFailed(_) => "precondition-failed",
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::Validation(_) => "validation",
            Self::TooManyRequests { .. } => "rate-limited",
            Self::SessionsPerDay { .. } => "quota-exceeded",
            Self::RequestTimeout { .. } => "request-timeout",
            Self::ServiceUnavailable(_) => "unavailable",
            Self::OAuth { .. } => "oauth",
            Self::Internal(_) => "internal",
        }
    }

    fn detail(&self) -> Option<String> {
        Some(match self {
            Self::BadRequest { detail, .. } => detail.clone(),
            Self::Unauthorized(d)
            | Self::InvalidToken(d)
            | Self::Forbidden(d)
            | Self::NotFound(d)
            | Self::Conflict(d)
            | Self::QuotaExceeded(d)
            | Self::Gone(d)
            | Self::PreconditionFailed(d)
            | Self::UnsupportedMediaType(d)
            | Self::ServiceUnavailable(d)
            | Self::OAuth { description: d, .. } => d.clone(),
            Self::MethodNotAllowed { allow } => format!(
                "This resource supports: {}.",
                allow.iter().map(Method::as_str).collect::<Vec<_>>().join(", ")
            ),
            Self::InsufficientScope(scope) => format!("The token lacks the `{scope}` scope."),
            Self::PayloadTooLarge { limit } => {
                format!("The request body exceeds the limit of {limit} bytes.")
            }
            Self::Validation(errors) => match errors.len() {
                1 => "The request has 1 invalid field.".to_owned(),
                n => format!("The request has {n} invalid fields."),
            },
            Self::TooManyRequests { retry_after_secs } => {
                format!("Rate limit exceeded; retry after {retry_after_secs} seconds.")
            }
            Self::SessionsPerDay {
                limit,
                retry_after_secs,
            } => format!(
                "This account created {limit} sessions today (UTC), the most allowed per day; retry after \
                 {retry_after_secs} seconds. Idempotency-Key replays, PUT, PATCH and DELETE still work."
            ),
            Self::RequestTimeout { seconds } => {
                format!("The request body did not arrive within {seconds} seconds.")
            }
            Self::Internal(_) => return None,
        })
    }

    /// The problem body (without request-specific members).
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        Problem {
            type_uri: format!("{PROBLEM_BASE}{}", self.slug()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            instance: None,
            request_id: None,
            error: match self {
                Self::OAuth { error, .. } => Some((*error).to_owned()),
                _ => None,
            },
            error_description: match self {
                Self::OAuth { description, .. } => Some(description.clone()),
                _ => None,
            },
            errors: match self {
                Self::Validation(errors) | Self::BadRequest { errors, .. } => errors.clone(),
                _ => Vec::new(),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) | Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) | Self::QuotaExceeded(_) => StatusCode::CONFLICT,
            Self::Gone(_) => StatusCode::GONE,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } | Self::SessionsPerDay { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::OAuth {
                error: "invalid_client",
                ..
            } => StatusCode::UNAUTHORIZED,
            Self::OAuth { .. } => StatusCode::BAD_REQUEST,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(error.cause_chain = ?cause, "internal error");
        }
        let mut builder = HttpResponse::build(self.status_code());
        builder.insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            Self::MethodNotAllowed { allow } => {
                let allow = allow.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
                builder.insert_header((header::ALLOW, allow));
            }
            Self::Unauthorized(_) => {
                builder.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"soleus-api\""));
            }
            Self::InvalidToken(why) => {
                let why = why.replace('"', "'");
                builder.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!(
                        "Bearer realm=\"soleus-api\", error=\"invalid_token\", error_description=\"{why}\""
                    ),
                ));
            }
            Self::InsufficientScope(scope) => {
                builder.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!("Bearer realm=\"soleus-api\", error=\"insufficient_scope\", scope=\"{scope}\""),
                ));
            }
            Self::TooManyRequests { retry_after_secs } | Self::SessionsPerDay { retry_after_secs, .. } => {
                builder.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::ServiceUnavailable(_) => {
                builder.insert_header((header::RETRY_AFTER, "5"));
            }
            Self::RequestTimeout { .. } => {
                builder.insert_header((header::CONNECTION, "close"));
            }
            Self::OAuth {
                error: "invalid_client",
                ..
            } => {
                builder.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"soleus-api\""));
            }
            _ => {}
        }
        // The request-id middleware fills in `instance` and `request_id` on the way out.
        builder.content_type(PROBLEM_JSON).json(self.problem())
    }
}

/// Reads JSON the service wrote itself (stored documents and contents): failing to is a server
/// fault, a 500 that discloses nothing, never the client's error.
pub fn read_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::Internal(e.into()))
}

/// Writes a value the service built as JSON (to store or to hash); failing to is a server fault.
pub fn write_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| ApiError::Internal(e.into()))
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut out = Vec::new();
        flatten_validation("", &errors, &mut out);
        Self::Validation(out)
    }
}

fn flatten_validation(prefix: &str, errors: &validator::ValidationErrors, out: &mut Vec<FieldError>) {
    use validator::ValidationErrorsKind as Kind;
    for (field, kind) in errors.errors() {
        // Struct-level rules (validator's `__all__`) concern the object as a whole.
        let field = if *field == "__all__" { "body" } else { field };
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            Kind::Field(list) => out.extend(list.iter().map(|e| {
                let message = e
                    .message
                    .as_ref()
                    .map_or_else(|| default_validation_message(e), ToString::to_string);
                FieldError::new(path.clone(), e.code.as_ref(), message)
            })),
            Kind::Struct(inner) => flatten_validation(&path, inner, out),
            Kind::List(items) => {
                for (index, inner) in items {
                    flatten_validation(&format!("{path}[{index}]"), inner, out);
                }
            }
        }
    }
    out.sort_by(|a, b| a.field.cmp(&b.field));
}

fn default_validation_message(e: &validator::ValidationError) -> String {
    let param = |name: &str| e.params.get(name).map(ToString::to_string);
    match e.code.as_ref() {
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "is out of range".to_owned(),
        },
        "length" => {
            let unit = if e.params.get("value").is_some_and(serde_json::Value::is_array) {
                "items"
            } else {
                "characters"
            };
            match (param("min"), param("max"), param("equal")) {
                (_, _, Some(eq)) => format!("must have exactly {eq} {unit}"),
                (Some(min), Some(max), _) => format!("must have between {min} and {max} {unit}"),
                (Some(min), None, _) => format!("must have at least {min} {unit}"),
                (None, Some(max), _) => format!("must have at most {max} {unit}"),
                _ => "has an invalid length".to_owned(),
            }
        }
        "email" => "must be a valid email address".to_owned(),
        code => format!("is invalid ({code})"),
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        use crate::db::DbError;
        use diesel::result::{DatabaseErrorKind, Error as Diesel};
        match e {
            DbError::Query(Diesel::NotFound) => Self::NotFound("The resource does not exist.".into()),
            DbError::Query(Diesel::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                Self::Conflict("The resource already exists.".into())
            }
            // Every foreign key points at an owner (a user, a partner, a programme): it is gone,
            // so the token acting for it is no longer valid (a deleted account's token).
            DbError::Query(Diesel::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
                Self::InvalidToken("The account this token acts for no longer exists.".into())
            }
            // A full disk or a read-only database: the storage cannot take writes now (503, so
            // clients retry), never a 500 that reads as our bug.
            DbError::Query(Diesel::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, _)) => {
                tracing::warn!("database is read-only");
                Self::ServiceUnavailable("The database cannot accept writes right now; retry later.".into())
            }
            DbError::Query(Diesel::DatabaseError(_, ref info))
                if storage_full_or_read_only(info.message()) =>
            {
                tracing::warn!(error = info.message(), "database cannot write");
                Self::ServiceUnavailable("The database cannot accept writes right now; retry later.".into())
            }
            // The connection died under the request (PostgreSQL restarted, the network
            // dropped): the database is unavailable, as when no connection can be had. A
            // statement in flight at that instant may or may not have committed; a session
            // sent with its own id (or an external id) is safe to retry either way. (libpq
            // cannot send on a dead connection; the other cause of that error, over 65,535
            // bind values, cannot happen here: lists go to PostgreSQL as arrays.)
            DbError::Query(Diesel::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                ref info,
            )) => {
                tracing::warn!(error = info.message(), "database connection lost");
                Self::database_unavailable()
            }
            DbError::Pool(cause) => {
                tracing::warn!(error = %cause, "database pool unavailable");
                Self::database_unavailable()
            }
            other => Self::Internal(anyhow::Error::new(other)),
        }
    }
}

/// The messages SQLite and PostgreSQL give when the disk is full or the database is read-only.
fn storage_full_or_read_only(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "database or disk is full",
        "disk i/o error",
        "attempt to write a readonly database",
        "read-only",
        "no space left on device",
        "could not extend file",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        crate::db::DbError::Query(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Info(&'static str);

    impl diesel::result::DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn db_error(kind: diesel::result::DatabaseErrorKind, message: &'static str) -> ApiError {
        ApiError::from(diesel::result::Error::DatabaseError(
            kind,
            Box::new(Info(message)),
        ))
    }

    #[test]
    fn a_full_disk_a_read_only_database_or_a_lost_connection_is_503_and_a_gone_owner_401() {
        use diesel::result::DatabaseErrorKind::{
            ClosedConnection, ForeignKeyViolation, ReadOnlyTransaction, UnableToSendCommand, Unknown,
        };
        for (kind, message) in [
            (ClosedConnection, "server closed the connection unexpectedly"),
            (UnableToSendCommand, "no connection to the server"),
            (Unknown, "database or disk is full"),
            (Unknown, "attempt to write a readonly database"),
            (
                Unknown,
                "could not extend file \"base/16384/2619\": No space left on device",
            ),
            (
                ReadOnlyTransaction,
                "cannot execute INSERT in a read-only transaction",
            ),
        ] {
            let e = db_error(kind, message);
            assert_eq!(e.status_code(), StatusCode::SERVICE_UNAVAILABLE, "{message}");
            assert!(e.error_response().headers().contains_key(header::RETRY_AFTER));
        }
        assert_eq!(
            db_error(ForeignKeyViolation, "fk").status_code(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            db_error(Unknown, "syntax error").status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn internal_errors_carry_no_detail() {
        let p = ApiError::Internal(anyhow::anyhow!("secret table name")).problem();
        assert_eq!(p.status, 500);
        assert!(p.detail.is_none());
        assert_eq!(p.type_uri, "https://soleus-api.dev/problems/internal");
    }

    #[test]
    fn every_status_has_its_slug_and_title() {
        let cases = [
            (ApiError::bad_request("x"), 400, "bad-request"),
            (ApiError::Unauthorized("x".into()), 401, "unauthorized"),
            (
                ApiError::MethodNotAllowed {
                    allow: vec![Method::GET],
                },
                405,
                "method-not-allowed",
            ),
            (ApiError::PayloadTooLarge { limit: 1 }, 413, "payload-too-large"),
            (ApiError::Validation(vec![]), 422, "validation"),
            (
                ApiError::TooManyRequests { retry_after_secs: 3 },
                429,
                "rate-limited",
            ),
        ];
        for (err, status, slug) in cases {
            let p = err.problem();
            assert_eq!(p.status, status, "{slug}");
            assert!(p.type_uri.ends_with(slug), "{slug}");
            assert!(!p.title.is_empty());
        }
    }
}
