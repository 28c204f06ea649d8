//! What answers when no route matched: 405 with `Allow` for a known path, 404 otherwise.
//!
//! The table of known paths is read from the OpenAPI document, so routes and this table cannot
//! disagree.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;

/// Path templates of the API and the methods each accepts.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Vec<Method>)>,
}

#[derive(Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param,
}

impl RouteTable {
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> Self {
        let routes = api
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let segments = template
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        if s.starts_with('{') && s.ends_with('}') {
                            Segment::Param
                        } else {
                            Segment::Literal(s.to_owned())
                        }
                    })
                    .collect();
                let mut methods = Vec::new();
                let ops = [
                    (Method::GET, item.get.is_some()),
                    (Method::HEAD, item.get.is_some() || item.head.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                ];
                methods.extend(ops.into_iter().filter(|(_, present)| *present).map(|(m, _)| m));
                (segments, methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods allowed on `path`, if it is a known path. An empty segment
    /// (`/v1/me/programmes//versions`, a trailing `/`) fills no parameter: that path is unknown.
    pub fn allowed(&self, path: &str) -> Option<&[Method]> {
        let parts: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
        self.routes
            .iter()
            .find(|(segments, _)| {
                segments.len() == parts.len()
                    && segments.iter().zip(&parts).all(|(seg, part)| match seg {
                        Segment::Param => !part.is_empty(),
                        Segment::Literal(lit) => lit == part,
                    })
            })
            .map(|(_, methods)| methods.as_slice())
    }
}

/// The default service of the App.
#[allow(clippy::unused_async)]
pub async fn not_matched(req: HttpRequest, table: web::Data<RouteTable>) -> Result<HttpResponse, ApiError> {
    Err(match table.allowed(req.path()) {
        Some(allow) if !allow.is_empty() => ApiError::MethodNotAllowed {
            allow: allow.to_vec(),
        },
        _ => ApiError::NotFound(format!("There is no resource at {}.", req.path())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};

    #[test]
    fn templates_match_by_segment() {
        let paths = PathsBuilder::new()
            .path(
                "/v1/exercises/{id}",
                PathItem::new(HttpMethod::Get, OperationBuilder::new()),
            )
            .path(
                "/v1/meta",
                PathItem::new(HttpMethod::Post, OperationBuilder::new()),
            )
            .build();
        let api = utoipa::openapi::OpenApiBuilder::new().paths(paths).build();
        let table = RouteTable::from_openapi(&api);
        assert_eq!(
            table.allowed("/v1/exercises/seated-calf-raise"),
            Some(&[Method::GET, Method::HEAD][..])
        );
        assert_eq!(table.allowed("/v1/meta"), Some(&[Method::POST][..]));
        assert_eq!(table.allowed("/v1/exercises"), None);
        assert_eq!(table.allowed("/v1/exercises/a/b"), None);
        // Empty segments fill no parameter (this was a 405 naming the wrong resource).
        assert_eq!(table.allowed("/v1/exercises/"), None);
        assert_eq!(table.allowed("/v1//seated-calf-raise"), None);
        assert_eq!(table.allowed("/v1/exercises//"), None);
    }
}
