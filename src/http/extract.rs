//! Request extractors that turn every kind of bad input into a problem naming the field.
//!
//! * [`Json`]: 415 unless the body is JSON, 413 over the size limit, 400 when it is not valid
//!   JSON, 422 with a field path for wrong types, missing or unknown fields and validator rules.
//! * [`Query`]: 400 with the parameter name for anything wrong in the query string.
//!
//! Integral floats (`611.0`) are accepted wherever an integer is expected: JSON Schema counts
//! them as integers, and generated clients send them.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;
use validator::Validate;

use crate::error::{ApiError, FieldError};

/// Largest accepted request body, in bytes (from `SOLEUS_MAX_BODY_BYTES`).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// How long a client may take to send a body (from `SOLEUS_BODY_READ_TIMEOUT_SECS`): a
/// connection trickling a byte a second is cut off with 408.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub std::time::Duration);

/// A JSON request body, deserialised strictly and validated.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + Validate + utoipa::PartialSchema + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().map_or(1024 * 1024, |l| l.0);
        let timeout = req
            .app_data::<BodyTimeout>()
            .map_or(std::time::Duration::from_secs(10), |t| t.0);
        let content_type = check_content_type(req);
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            content_type?;
            if declared_len.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            let bytes = actix_web::rt::time::timeout(timeout, body)
                .await
                .map_err(|_| ApiError::RequestTimeout {
                    seconds: timeout.as_secs(),
                })?
                .map_err(|e| match e.as_error::<actix_web::error::PayloadError>() {
                    Some(actix_web::error::PayloadError::Overflow) => ApiError::PayloadTooLarge { limit },
                    _ => ApiError::bad_request("The request body could not be read."),
                })?;
            if bytes.len() > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            parse_json(&bytes).map(Json)
        })
    }
}

fn check_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    let raw = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = raw.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json")) {
        Ok(())
    } else if essence.is_empty() {
        Err(ApiError::UnsupportedMediaType(
            "The request has no Content-Type; send the body as application/json.".into(),
        ))
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type `{essence}` is not supported; send the body as application/json."
        )))
    }
}

/// Parses and validates a JSON document into `T` (used by [`Json`] and by batch endpoints).
pub fn parse_json<T: DeserializeOwned + Validate + utoipa::PartialSchema>(
    bytes: &[u8],
) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "The request body is empty; send a JSON object.",
        ));
    }
    // A NUL character is valid JSON (`\u0000`) but no text column takes it (PostgreSQL
    // refuses it outright): refuse it here, naming the field, on both engines.
    if contains(bytes, b"\\u0000") {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|_| ApiError::bad_request("The request body is not valid JSON."))?;
        if let Some(path) = nul_path(&value, String::new()) {
            return Err(ApiError::Validation(vec![FieldError::new(
                if path.is_empty() { "body".into() } else { path },
                "nul_character",
                "must not contain the NUL character (\\u0000)",
            )]));
        }
    }
    // Fast path: straight from the bytes. Whatever it rejects (including integral floats such
    // as `15.0` for an integer field, which are accepted) takes the careful path below, which
    // also words the errors; so both paths accept exactly the same bodies.
    if let Ok(parsed) = serde_json::from_slice::<T>(bytes) {
        parsed.validate()?;
        return Ok(parsed);
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "The request body is not valid JSON (line {}, column {}): {}.",
            e.line(),
            e.column(),
            strip_position(&e.to_string())
        ))
    })?;
    from_value(value)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The path (`sets[0].notes`) of the first string or key holding a NUL character.
fn nul_path(value: &Value, path: String) -> Option<String> {
    match value {
        Value::String(s) => s.contains('\0').then_some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_path(v, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = join(&path, k);
            if k.contains('\0') {
                Some(here)
            } else {
                nul_path(v, here)
            }
        }),
        _ => None,
    }
}

/// Deserialises an already-parsed JSON value into `T` (integral floats accepted for integers)
/// and validates it.
pub fn from_value<T: DeserializeOwned + Validate + utoipa::PartialSchema>(
    value: Value,
) -> Result<T, ApiError> {
    let parsed: T = match T::deserialize(&value) {
        Ok(parsed) => parsed,
        Err(_) => {
            let missing = missing_required::<T>(&value);
            serde_path_to_error::deserialize(normalise_integral_floats(value)).map_err(|e| {
                let error = field_error(&e.path().to_string(), &e.into_inner().to_string());
                // serde stops at the first missing field; name every one the object lacks.
                if error.code == "required" && !error.field.contains(['.', '[']) && missing.len() > 1 {
                    ApiError::Validation(
                        missing
                            .into_iter()
                            .map(|field| FieldError::new(field, "required", "is required"))
                            .collect(),
                    )
                } else {
                    ApiError::Validation(vec![error])
                }
            })?
        }
    };
    parsed.validate()?;
    Ok(parsed)
}

/// The required top-level fields of `T` (from its OpenAPI schema) that the object `value` lacks.
fn missing_required<T: utoipa::PartialSchema>(value: &Value) -> Vec<String> {
    use utoipa::openapi::{RefOr, Schema};
    let Some(object) = value.as_object() else {
        return Vec::new();
    };
    match T::schema() {
        RefOr::T(Schema::Object(schema)) => schema
            .required
            .into_iter()
            .filter(|field| !object.contains_key(field))
            .collect(),
        _ => Vec::new(),
    }
}

/// serde_json appends " at line X column Y"; the problem says where in its own words.
fn strip_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

/// Turns a serde message at `path` into a field error with a stable code.
fn field_error(path: &str, message: &str) -> FieldError {
    let path = if path == "." { "" } else { path };
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(|name| join(path, name))
    };
    if message.starts_with("unknown field `") {
        // The path already ends with the unknown key.
        return FieldError::new(path, "unknown_field", "is not a field of this object; remove it");
    }
    if let Some(field) = named("missing field `") {
        return FieldError::new(field, "required", "is required");
    }
    let code = if message.starts_with("invalid type") {
        "invalid_type"
    } else if message.starts_with("unknown variant") {
        "invalid_value"
    } else {
        "invalid"
    };
    let message = strip_position(message).replace('`', "'");
    // chrono's parse errors say what went wrong, not what is wanted.
    const DATE_TIME_ERRORS: [&str; 6] = [
        "premature end of input",
        "input contains invalid characters",
        "trailing input",
        "input is out of range",
        "input is not enough for unique date and time",
        "no possible date and time matching input",
    ];
    let message = if DATE_TIME_ERRORS.contains(&message.as_str()) {
        format!(
            "must be an RFC 3339 date-time with its UTC offset, e.g. 2026-12-07T07:30:00+01:00 ({message})"
        )
    } else {
        message
    };
    FieldError::new(if path.is_empty() { "body" } else { path }, code, message)
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// `611.0` → `611`, recursively. Non-integral and out-of-range numbers are left alone.
fn normalise_integral_floats(value: Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
            Some(f) if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => Value::from(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(normalise_integral_floats).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, normalise_integral_floats(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Query-string parameters, deserialised strictly and validated.
///
/// A query that cannot be read (an unknown parameter, a number that is not a number) is a 400;
/// a readable value that is not allowed (an unknown enum value, out of range) is a 422. Both
/// name the parameter.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + Validate> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

/// Parses a query string into `T` (see [`Query`] for the status rules).
pub fn parse_query<T: DeserializeOwned + Validate>(query: &str) -> Result<T, ApiError> {
    let pairs = form_urlencoded::parse(query.as_bytes());
    if let Some((name, _)) = pairs.clone().find(|(k, v)| k.contains('\0') || v.contains('\0')) {
        return Err(ApiError::Validation(vec![FieldError::new(
            name.replace('\0', ""),
            "nul_character",
            "must not contain the NUL character (%00)",
        )]));
    }
    // A repeated parameter (`a=x&a=y`, what generated clients send for arrays) is read as the
    // comma list `a=x,y`: list parameters accept both forms, and a repeated single-valued
    // parameter is an error naming it.
    let mut merged: Vec<(std::borrow::Cow<'_, str>, String)> = Vec::new();
    for (name, value) in pairs {
        match merged.iter_mut().find(|(n, _)| *n == name) {
            Some((_, joined)) => {
                joined.push(',');
                joined.push_str(&value);
            }
            None => merged.push((name, value.into_owned())),
        }
    }
    let pairs = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&merged)
        .finish();
    let pairs = form_urlencoded::parse(pairs.as_bytes());
    let parsed: T =
        serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(pairs)).map_err(|e| {
            let error = field_error(&e.path().to_string(), &e.into_inner().to_string());
            if error.code == "invalid_value" {
                ApiError::Validation(vec![error])
            } else {
                ApiError::BadRequest {
                    detail: format!("Query parameter `{}` {}.", error.field, error.message),
                    errors: vec![error],
                }
            }
        })?;
    parsed.validate()?;
    Ok(parsed)
}

/// Parses a comma-separated query value into a list of `T` (enum values, usually);
/// an unknown item is a 422 naming `param`.
pub fn parse_list<T: DeserializeOwned>(param: &str, raw: &str) -> Result<Vec<T>, ApiError> {
    raw.split(',')
        .map(str::trim)
        .map(|item| {
            T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(
                item,
            ))
            .map_err(|e| {
                ApiError::invalid_field(
                    param,
                    "invalid_value",
                    strip_position(&e.to_string()).replace('`', "'"),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
    #[serde(deny_unknown_fields)]
    struct Set {
        #[validate(range(min = 0, max = 1000))]
        reps: u32,
    }

    #[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
    #[serde(deny_unknown_fields)]
    struct Body {
        #[allow(dead_code)]
        name: String,
        #[validate(nested)]
        sets: Vec<Set>,
    }

    fn err(json: &str) -> Vec<FieldError> {
        match parse_json::<Body>(json.as_bytes()) {
            Err(ApiError::Validation(errors)) => errors,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn unknown_fields_are_named_with_their_path() {
        let e = err(r#"{"name":"a","sets":[{"reps":1,"rpe":3}]}"#);
        assert_eq!(
            (e[0].field.as_str(), e[0].code.as_str()),
            ("sets[0].rpe", "unknown_field")
        );
        let e = err(r#"{"name":"a","sets":[],"colour":"red"}"#);
        assert_eq!(
            (e[0].field.as_str(), e[0].pointer.as_str()),
            ("colour", "/colour")
        );
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        let e = err(r#"{"sets":[]}"#);
        assert_eq!((e[0].field.as_str(), e[0].code.as_str()), ("name", "required"));
        let e = err(r#"{"name":"a","sets":[{"reps":"ten"}]}"#);
        assert_eq!(
            (e[0].field.as_str(), e[0].code.as_str()),
            ("sets[0].reps", "invalid_type")
        );
    }

    #[test]
    fn validator_rules_report_nested_paths() {
        let e = err(r#"{"name":"a","sets":[{"reps":1},{"reps":5000}]}"#);
        assert_eq!(
            (e[0].field.as_str(), e[0].code.as_str()),
            ("sets[1].reps", "range")
        );
        assert_eq!(e[0].message, "must be between 0 and 1000");
    }

    #[test]
    fn integral_floats_are_integers() -> Result<(), ApiError> {
        let b: Body = parse_json(br#"{"name":"a","sets":[{"reps":611.0}]}"#)?;
        assert_eq!(b.sets[0].reps, 611);
        let e = err(r#"{"name":"a","sets":[{"reps":6.5}]}"#);
        assert_eq!(e[0].code, "invalid_type");
        Ok(())
    }

    #[test]
    fn broken_json_is_a_400_with_position() {
        match parse_json::<Body>(b"{\"name\": ") {
            Err(ApiError::BadRequest { detail, .. }) => assert!(detail.contains("line 1"), "{detail}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_json::<Body>(b"  "),
            Err(ApiError::BadRequest { .. })
        ));
    }

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields)]
    struct Q {
        #[validate(range(min = 1, max = 100))]
        limit: Option<u32>,
    }

    #[test]
    fn unreadable_queries_are_400_and_disallowed_values_422() {
        for (qs, field) in [("limit=abc", "limit"), ("colour=red", "colour")] {
            match parse_query::<Q>(qs) {
                Err(ApiError::BadRequest { errors, detail }) => {
                    assert_eq!(errors[0].field, field, "{qs}");
                    assert!(detail.contains(field), "{qs}: {detail}");
                }
                other => panic!("{qs}: {other:?}"),
            }
        }
        match parse_query::<Q>("limit=500") {
            Err(ApiError::Validation(errors)) => assert_eq!(errors[0].field, "limit"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse_query::<Q>("limit=5"), Ok(Q { limit: Some(5) })));
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kit {
        Chair,
        Step,
    }

    #[test]
    fn lists_parse_each_item_and_name_the_parameter() {
        assert_eq!(
            parse_list::<Kit>("kit", "chair, step").ok(),
            Some(vec![Kit::Chair, Kit::Step])
        );
        for empty in ["", "chair,", "chair,,step"] {
            assert!(
                matches!(parse_list::<Kit>("kit", empty), Err(ApiError::Validation(_))),
                "{empty:?}"
            );
        }
        match parse_list::<Kit>("kit", "chair,rocket") {
            Err(ApiError::Validation(errors)) => {
                assert_eq!(
                    (errors[0].field.as_str(), errors[0].code.as_str()),
                    ("kit", "invalid_value")
                );
                assert!(errors[0].message.contains("rocket"), "{}", errors[0].message);
            }
            other => panic!("{other:?}"),
        }
    }
}

/// The `{id}` path parameter, by name: one handler serves `/v1/me/…/{id}` and its partner twin
/// `/v1/users/{user_id}/…/{id}`, where a positional `web::Path` cannot.
#[derive(Debug, Clone)]
pub struct Id(String);

impl Id {
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The `{version}` path parameter (a programme version number, 1 or more).
#[derive(Debug, Clone, Copy)]
pub struct VersionNumber(pub i32);

fn path_param(req: &actix_web::HttpRequest, name: &str) -> Result<String, ApiError> {
    req.match_info()
        .get(name)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::bad_request(format!("A path parameter is invalid: `{name}` is missing.")))
}

impl actix_web::FromRequest for Id {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(path_param(req, "id").map(Self))
    }
}

impl actix_web::FromRequest for VersionNumber {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(path_param(req, "version").and_then(|v| {
            v.parse().map(Self).map_err(|e| {
                ApiError::bad_request(format!(
                    "A path parameter is invalid: can not parse {v:?} to a i32 ({e})."
                ))
            })
        }))
    }
}
