//! Deprecating an operation within `/v1` (see CHANGELOG.md's policy): list it in
//! [`DEPRECATED`] and every response of it carries `Deprecation` (RFC 9745, the date it was
//! deprecated), `Sunset` (RFC 8594, when it may stop working, never before the policy's notice)
//! and `Link: <…>; rel="deprecation"` to the migration notes; the OpenAPI document marks it
//! `deprecated`. Nothing is deprecated today.

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use chrono::DateTime;

/// One deprecated operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deprecation {
    /// Upper-case method, e.g. `GET`.
    pub method: &'static str,
    /// The route template as the OpenAPI document writes it, e.g. `/v1/exercises/{id}`.
    pub route: &'static str,
    /// When it was deprecated (Unix seconds).
    pub since: i64,
    /// When it may stop working (Unix seconds), if decided.
    pub sunset: Option<i64>,
    /// Where the migration notes are.
    pub link: &'static str,
}

/// The deprecated operations of this build.
pub const DEPRECATED: &[Deprecation] = &[];

/// The list's entry for `method` on `route`.
pub fn find<'a>(list: &'a [Deprecation], method: &str, route: &str) -> Option<&'a Deprecation> {
    list.iter()
        .find(|d| d.method.eq_ignore_ascii_case(method) && d.route == route)
}

/// Adds the three fields for `deprecation` to a response's headers.
pub fn annotate(headers: &mut HeaderMap, deprecation: &Deprecation) {
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.append(HeaderName::from_static(name), value);
        }
    };
    set("deprecation", format!("@{}", deprecation.since));
    if let Some(sunset) = deprecation.sunset.and_then(|s| DateTime::from_timestamp(s, 0)) {
        set("sunset", sunset.format("%a, %d %b %Y %H:%M:%S GMT").to_string());
    }
    set("link", format!("<{}>; rel=\"deprecation\"", deprecation.link));
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: Deprecation = Deprecation {
        method: "GET",
        route: "/v1/exercises/{id}",
        since: 1_767_225_600,
        sunset: Some(1_798_761_600),
        link: "https://example.com/changelog#exercises",
    };

    #[test]
    fn the_fields_follow_rfc_9745_and_8594() {
        let mut headers = HeaderMap::new();
        annotate(&mut headers, &OLD);
        assert_eq!(headers.get("deprecation").unwrap(), "@1767225600");
        assert_eq!(headers.get("sunset").unwrap(), "Fri, 01 Jan 2027 00:00:00 GMT");
        assert_eq!(
            headers.get("link").unwrap(),
            "<https://example.com/changelog#exercises>; rel=\"deprecation\""
        );
        assert_eq!(find(&[OLD], "get", "/v1/exercises/{id}"), Some(&OLD));
        assert_eq!(find(&[OLD], "DELETE", "/v1/exercises/{id}"), None);
    }
}
