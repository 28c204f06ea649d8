//! Field-level validation errors: the leaf type every layer can name (domain checks, extractors,
//! use cases) without depending on the HTTP error policy in `error.rs`.

use serde::Serialize;
use utoipa::ToSchema;

/// One field-level error inside a 400 or 422 problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"field": "sets[0].reps", "pointer": "/sets/0/reps", "code": "range", "message": "must be between 0 and 1000"}))]
pub struct FieldError {
    /// Path of the offending field in the request, dotted with `[index]` for arrays
    /// (`sets[0].reps`); for query and path parameters, the parameter name.
    pub field: String,
    /// The same location as an RFC 6901 JSON Pointer into the request body (RFC 9457 §3 style).
    pub pointer: String,
    /// Machine-readable reason: `required`, `unknown_field`, `invalid_type`, `range`, `length`, …
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        Self {
            pointer: pointer_from_field(&field),
            field,
            code: code.into(),
            message: message.into(),
        }
    }
}

/// `sets[0].reps` → `/sets/0/reps`.
pub fn pointer_from_field(field: &str) -> String {
    if field.is_empty() {
        return String::new();
    }
    let mut out = String::with_capacity(field.len() + 1);
    for part in field.split(['.', '[']) {
        let part = part.trim_end_matches(']');
        if part.is_empty() {
            continue;
        }
        out.push('/');
        out.push_str(&part.replace('~', "~0").replace('/', "~1"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_follow_rfc6901() {
        assert_eq!(pointer_from_field("sets[0].reps"), "/sets/0/reps");
        assert_eq!(pointer_from_field("age"), "/age");
        assert_eq!(pointer_from_field("a/b"), "/a~1b");
        assert_eq!(pointer_from_field(""), "");
    }
}
