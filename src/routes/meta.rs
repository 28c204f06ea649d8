//! `GET /v1/meta`: what this server is.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::Backend;

/// Static facts about the running server, assembled once at start-up.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "api_version": "v1",
    "build": {"version": "0.1.0", "commit": null},
    "storage": "sqlite",
    "catalogue_version": null,
    "min_client_version": "1.0.0"
}))]
pub struct Meta {
    /// The API version this server speaks (the URL prefix).
    pub api_version: &'static str,
    pub build: Build,
    /// The storage engine in use.
    pub storage: Backend,
    /// Version of the exercise catalogue dataset, once loaded (also sent as `X-Dataset-Version`).
    pub catalogue_version: Option<String>,
    /// Clients older than this should ask the user to upgrade (semantic version).
    #[schema(example = "1.0.0")]
    pub min_client_version: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Build {
    /// Crate version of the server.
    #[schema(example = "0.1.0")]
    pub version: &'static str,
    /// Source commit, when the build recorded one (`SOLEUS_BUILD_COMMIT` at build time).
    pub commit: Option<&'static str>,
}

impl Build {
    pub const CURRENT: Self = Self {
        version: env!("CARGO_PKG_VERSION"),
        commit: option_env!("SOLEUS_BUILD_COMMIT"),
    };
}

/// Server metadata.
///
/// API version, build, storage engine, catalogue dataset version and the minimum supported
/// client version (so mobile apps can ask users to upgrade).
#[utoipa::path(
    tag = "meta",
    responses((status = 200, description = "Server metadata.", body = Meta)),
)]
#[get("/meta")]
pub async fn get_meta(meta: web::Data<Meta>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-cache"))
        .json(meta.as_ref())
}
