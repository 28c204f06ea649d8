//! The OpenAPI document: built from the same registration table as the routes
//! (`routes::configure`), then completed with the error responses every operation can produce.
//!
//! `openapi/openapi.json` is this document, committed; `tests/api/openapi.rs` fails when it drifts.
//! Regenerate with `UPDATE_OPENAPI=1 cargo test --test api openapi`.

use utoipa::OpenApi;
use utoipa::openapi::security::{
    AuthorizationCode, ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa_actix_web::AppExt as _;

use crate::error::{PROBLEM_JSON, Problem};

const DESCRIPTION: &str = "\
Exercise catalogue, personalised soleus programmes and workout-session sync for fitness apps, \
partner platforms and clinicians' tools.

## Getting started

1. **Browse without an account.** `GET /v1/exercises?goal=circulation&available_equipment=chair` \
lists exercises; `POST /v1/programmes/preview` with `{\"age\": 45, \"activity_level\": \"sedentary\", \
\"goals\": [\"circulation\"]}` returns a screened, explained 12-week programme. Nothing is stored.
2. **Register and get a token.** `POST /v1/auth/register` with `{\"email\", \"password\"}` (10+ \
characters), then `POST /v1/auth/token` with the same: the answer's `access_token` is valid for \
15 minutes. Click **Authorize** (below this introduction, on the right), choose `bearer_auth` and paste it: every \"Try it out\" now \
acts as you.
3. **Store your first programme.** `POST /v1/me/programmes` with the preview's body; keep its `id`.
4. **Log your first session.** `POST /v1/me/sessions` with `{\"started_at\": \
\"2026-12-07T07:30:00+01:00\", \"duration_seconds\": 1200, \"programme_id\": \"<id>\", \"sets\": \
[{\"exercise_id\": \"seated-soleus-raise-loaded\", \"set_number\": 1, \"side\": \"both\", \"reps\": 15}]}` \
(send an `Idempotency-Key` header to make retries safe). `GET /v1/me/changes` then follows every change.

## Authentication

- **End users** (`bearer_auth`): `POST /v1/auth/token` gives an access token (EdDSA JWT, 15 \
minutes; keys at `/.well-known/jwks.json`) and a refresh token. `POST /v1/auth/refresh` spends \
the refresh token for a new pair (rotation): presenting a spent one again revokes the whole login, \
except a retry within a few seconds. `POST /v1/auth/logout` ends it.
- **Partner platforms** (`partner_oauth`): registered by an operator. The user consents on our page \
(`GET /v1/oauth/authorize`, authorization code with PKCE S256) or grants access from their app \
(`POST /v1/me/partner-grants`); the partner's token (from `POST /v1/oauth/token`: \
`authorization_code`, `refresh_token` or `client_credentials`, client authenticated with HTTP Basic \
or the `client_id`/`client_secret` form fields) acts on `/v1/users/{user_id}/…` only while that \
user's grant is active, within both scopes. Metadata: `/.well-known/oauth-authorization-server`.
- **Limits.** Every response carries `RateLimit-Policy` and `RateLimit` (remaining `r`, reset `t` \
seconds) for the budget it spent; past it, 429 with `Retry-After`.

**Versioning.** Everything under `/v1` only ever changes additively: new fields, new endpoints, new \
enum values never appear in requests you already send. `GET /v1/meta` reports the build, the storage \
engine, the catalogue dataset version and the minimum supported client version.

**Errors.** Every error is an RFC 9457 `application/problem+json` document with `type`, `title`, \
`status`, `detail`, `instance` and `request_id`; input errors add `errors: [{field, pointer, code, \
message}]`. 400 means the request is malformed (not JSON, a bad query or path parameter); 422 means \
well-formed JSON that breaks a rule (wrong type, missing or unknown field, out of range). Unknown \
fields are rejected, never silently dropped. 4xx errors are permanent: do not retry unchanged. 429 \
and 503 are temporary: retry after `Retry-After` seconds. Quote the `X-Request-Id` response header \
when reporting a problem; send your own `X-Request-Id` (1-128 visible ASCII characters) to have it echoed.

**Numbers.** Integer fields accept integral JSON numbers written as floats (`12.0`).

**Medical honesty.** The API screens, explains and refers; it does not diagnose.";

#[derive(OpenApi)]
#[openapi(
    servers((url = "/", description = "This server (the document's own origin)")),
    info(
        title = "soleus-api",
        description = DESCRIPTION,
        license(name = "MIT", identifier = "MIT"),
        contact(name = "soleus-api maintainers", url = "https://soleus-api.dev/"),
    ),
    tags(
        (name = "catalogue", description = "Soleus and calf exercises with knee angle, soleus bias, support levels, dosage per goal, \
cautions tied to screening rules, and evidence. Public: no token needed. Cache with `ETag`; refresh when `dataset_version` changes."),
        (name = "programmes", description = "Personalised, progressive soleus programmes from age, activity level and goals: \
screened against red-flag rules (`SCR-*`), placed on the level ladder, dosed per the goal tables and explained per exercise. \
Stored programmes adapt to logged sessions and retests (progress, hold, regress, deload; `STP-*` suspends), keep every version \
with the decisions that made it, and can be simulated without storing."),
        (name = "account", description = "Your own account and profile. Needs an end-user access token."),
        (name = "sessions", description = "Workout sessions: idempotent create with a client id, ETag/If-Match on updates, \
tombstones on delete, cursor paging, and a change feed in commit order for sync."),
        (name = "assessments", description = "Capacity tests (single-leg heel raise, Calf-Raise Senior, 30-second chair stand, \
4-stage balance, Timed Up and Go), each interpreted: norm for age and sex with its source and certainty, change against the \
minimal detectable change, left/right asymmetry, implied level."),
        (name = "auth", description = "Accounts and tokens: register, log in, refresh (rotated; reuse revokes the login), log out, and the \
public keys (JWKS) that verify access tokens."),
        (name = "partners", description = "Partner platforms: the OAuth consent page (authorization code with PKCE), \
tokens (authorization code, refresh, client credentials), revocation, and the grants users give partners. \
Partners are registered by an operator: `soleus-api partners create --name … --scopes … --redirect-uris …`."),
        (name = "webhooks", description = "Signed push (Standard Webhooks 1.0) for partner platforms: register \
endpoints, choose event types, rotate secrets, read the delivery log, retry. Each event is delivered once per endpoint \
in feed order (retried on failure for about a day); the payloads are listed under `webhooks` in this document."),
        (name = "meta", description = "What this server is: API version, build, storage engine, dataset and client versions."),
        (name = "operations", description = "Liveness and readiness probes for orchestrators and load balancers."),
    ),
    components(schemas(Problem, crate::error::FieldError)),
    modifiers(&SecuritySchemes),
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer_auth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "End-user access token from `POST /v1/auth/token`: an EdDSA-signed JWT \
                         (RFC 8725 practices: algorithm pinned, `iss`/`aud`/`exp`/`nbf` checked), \
                         valid for about 15 minutes.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The operator's `SOLEUS_METRICS_TOKEN`, for `GET /metrics` only.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "partner_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "Partner client authentication at `POST /v1/oauth/token` (RFC 6749 §2.3.1).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "partner_oauth",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [
                    Flow::AuthorizationCode(AuthorizationCode::with_refresh_url(
                        "/v1/oauth/authorize",
                        "/v1/oauth/token",
                        partner_scopes(),
                        "/v1/oauth/token",
                    )),
                    Flow::ClientCredentials(ClientCredentials::new("/v1/oauth/token", partner_scopes())),
                ],
                "Partner platforms. A user consents on the consent page (authorization code with PKCE, \
                 S256 only: RFC 6749 §4.1, RFC 7636), or grants access from their app; the partner's \
                 token (authorization code or client credentials, RFC 6749 §4.4) acts on a user's data \
                 only while that user's grant is active, within both the token's and the grant's scopes.",
            )),
        );
    }
}

fn partner_scopes() -> Scopes {
    Scopes::from_iter([
        ("catalogue:read", "Read the exercise catalogue"),
        ("programmes:read", "Read a consenting user's programmes"),
        ("programmes:write", "Create programmes for a consenting user"),
        ("sessions:read", "Read a consenting user's workout sessions"),
        (
            "sessions:write",
            "Create and sync a consenting user's workout sessions",
        ),
    ])
}

/// Reusable error responses, referenced from every operation that can produce them.
const COMMON_RESPONSES: [(&str, &str, &str); 6] = [
    (
        "400",
        "BadRequest",
        "Malformed request: the body is not JSON, or a query or path parameter is invalid.",
    ),
    ("404", "NotFound", "No such resource."),
    (
        "413",
        "PayloadTooLarge",
        "The request body exceeds the size limit.",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The request body is not `application/json`.",
    ),
    (
        "422",
        "ValidationFailed",
        "A well-formed body or query value breaks a rule; `errors` names each field.",
    ),
    (
        "500",
        "InternalError",
        "Unexpected failure. No internals are disclosed; quote the request id.",
    ),
];

fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// Adds the errors the framework can produce to each operation that has not declared them:
/// 500 everywhere; 400 with parameters or a body; 413 and 415 with a body; 422 with a body or
/// query parameters; 404 with path parameters.
fn add_common_responses(api: &mut utoipa::openapi::OpenApi) {
    let components = api.components.get_or_insert_with(Default::default);
    for (_, name, description) in COMMON_RESPONSES {
        components
            .responses
            .insert(name.to_owned(), RefOr::T(problem_response(description)));
    }
    for op in operations(api) {
        let has_body = op.request_body.is_some();
        let params = op.parameters.as_deref().unwrap_or_default();
        let has_params = !params.is_empty();
        let has_in = |place: utoipa::openapi::path::ParameterIn| {
            params
                .iter()
                .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place))
        };
        let has_path_params = has_in(utoipa::openapi::path::ParameterIn::Path);
        let has_query_params = has_in(utoipa::openapi::path::ParameterIn::Query);
        for (status, name, _) in COMMON_RESPONSES {
            let wanted = match status {
                "400" => has_body || has_params,
                "404" => has_path_params,
                "413" | "415" => has_body,
                "422" => has_body || has_query_params,
                _ => true,
            };
            if wanted {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
            }
        }
    }
}

/// Every operation of the document.
fn operations(
    api: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    operations_at(api).map(|(_, _, op)| op)
}

/// Every operation of the document, with its path and method (upper case).
fn operations_at(
    api: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = (&String, &'static str, &mut utoipa::openapi::path::Operation)> {
    api.paths.paths.iter_mut().flat_map(|(path, item)| {
        [
            ("GET", &mut item.get),
            ("POST", &mut item.post),
            ("PUT", &mut item.put),
            ("PATCH", &mut item.patch),
            ("DELETE", &mut item.delete),
            ("HEAD", &mut item.head),
        ]
        .into_iter()
        .filter_map(move |(method, op)| op.as_mut().map(|op| (path, method, op)))
    })
}

/// The responses an operation's security implies, added where it has not declared its own:
/// 401 for every token-protected operation; 403 for a token of the wrong kind or scope, and
/// for partners a missing grant.
fn add_auth_responses(api: &mut utoipa::openapi::OpenApi) {
    let inline = |description: &str| RefOr::T(problem_response(description));
    for op in operations(api) {
        // Public operations say so (`security: []`), so no generator guesses.
        let schemes: Vec<String> = op
            .security
            .get_or_insert_with(Vec::new)
            .iter()
            .filter_map(|requirement| serde_json::to_value(requirement).ok())
            .filter_map(|v| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()))
            .flatten()
            .collect();
        let forbidden = if schemes.iter().any(|s| s == "partner_oauth") {
            "No active grant, or a missing scope."
        } else if schemes.iter().any(|s| s == "bearer_auth") {
            "The token is not an end user's, or lacks a scope this operation needs."
        } else {
            continue;
        };
        let responses = &mut op.responses.responses;
        responses
            .entry("401".to_owned())
            .or_insert_with(|| inline("No valid access token."));
        responses
            .entry("403".to_owned())
            .or_insert_with(|| inline(forbidden));
    }
}

/// Paths served from memory (the catalogue, metadata, keys, liveness, the pure engine): they
/// answer without the database. Everything else can answer 503 while it is unavailable.
const IN_MEMORY: [&str; 7] = [
    "/v1/exercises",
    "/v1/catalogue",
    "/v1/meta",
    "/v1/programmes/",
    "/.well-known/",
    "/healthz",
    "/metrics",
];

/// 503 (with `Retry-After`) on every operation that needs the database; 429 (with
/// `Retry-After`) on every rate-limited one; `X-Request-Id` on every response, and the
/// `RateLimit` fields on every response of a rate-limited operation.
fn add_storage_limits_and_headers(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::header::{Header, HeaderBuilder};
    use utoipa::openapi::{ObjectBuilder, Type};
    let header = |schema: Type, description: &str| -> RefOr<Header> {
        RefOr::T(
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(schema).build()))
                .description(Some(description))
                .build(),
        )
    };
    let retry_after = header(Type::Integer, "Seconds to wait before retrying");
    let request_id = header(
        Type::String,
        "This request's id (yours, when you sent a valid `X-Request-Id`); quote it when reporting a problem.",
    );
    let everywhere = [
        ("X-Request-Id", request_id),
        (
            "traceresponse",
            header(
                Type::String,
                "W3C Trace Context (Level 2): your trace id and flags (when you sent a valid `traceparent`) with this request's span id, else a new trace.",
            ),
        ),
    ];
    let limits = [
        (
            "RateLimit-Policy",
            header(
                Type::String,
                "The budget this request counts against (draft-ietf-httpapi-ratelimit-headers): its \
                 name, quota `q` and window `w` in seconds, e.g. `\"read\";q=1200;w=60`.",
            ),
        ),
        (
            "RateLimit",
            header(
                Type::String,
                "What is left of that budget: remaining requests `r` and seconds `t` until the window \
                 resets, e.g. `\"read\";r=1187;t=23`.",
            ),
        ),
    ];
    let shared = [
        (
            "503",
            "ServiceUnavailable",
            "The database is temporarily unavailable or cannot take writes (a full disk, a read-only \
             database, a saturated pool); retry after `Retry-After` seconds.",
        ),
        (
            "429",
            "TooManyRequests",
            "This caller spent the budget of this kind of request (see `RateLimit-Policy`); retry \
             after `Retry-After` seconds.",
        ),
    ];
    let components = api.components.get_or_insert_with(Default::default);
    for (_, name, description) in shared {
        let mut response = problem_response(description);
        response
            .headers
            .insert("Retry-After".to_owned(), retry_after.clone());
        components.responses.insert(name.to_owned(), RefOr::T(response));
    }
    for (path, _, op) in operations_at(api) {
        let limited = crate::http::rate_limit::class_of(&actix_web::http::Method::GET, path).is_some();
        let mut wanted = Vec::new();
        if !IN_MEMORY.iter().any(|p| path.starts_with(p)) {
            wanted.push(shared[0]);
        }
        if limited {
            wanted.push(shared[1]);
        }
        for (status, name, _) in wanted {
            op.responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
        }
        for response in op.responses.responses.values_mut() {
            let RefOr::T(response) = response else { continue };
            for (name, header) in &everywhere {
                response
                    .headers
                    .entry((*name).to_owned())
                    .or_insert_with(|| header.clone());
            }
            if limited {
                for (name, header) in &limits {
                    response
                        .headers
                        .entry((*name).to_owned())
                        .or_insert_with(|| header.clone());
                }
            }
        }
    }
    // Shared responses serve limited and unlimited operations alike: they list the fields,
    // which the probes (`/healthz`, `/readyz`) simply do not send.
    for response in api.components.iter_mut().flat_map(|c| c.responses.values_mut()) {
        let RefOr::T(response) = response else { continue };
        for (name, header) in &everywhere {
            response
                .headers
                .entry((*name).to_owned())
                .or_insert_with(|| header.clone());
        }
        for (name, header) in &limits {
            response
                .headers
                .entry((*name).to_owned())
                .or_insert_with(|| header.clone());
        }
    }
}

/// Builds the complete document without a database or a running server.
pub fn build_openapi() -> utoipa::openapi::OpenApi {
    let (_app, mut api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    add_auth_responses(&mut api);
    add_common_responses(&mut api);
    add_storage_limits_and_headers(&mut api);
    describe_partner_twins(&mut api);
    add_examples_and_headers(&mut api);
    add_captured_examples(&mut api);
    add_webhooks(&mut api);
    name_enum_members(&mut api);
    mark_deprecated(&mut api, crate::http::deprecation::DEPRECATED);
    api
}

/// Operations listed in [`crate::http::deprecation::DEPRECATED`] are `deprecated: true`.
fn mark_deprecated(api: &mut utoipa::openapi::OpenApi, list: &[crate::http::deprecation::Deprecation]) {
    use utoipa::openapi::Deprecated;
    for d in list {
        let Some(item) = api.paths.paths.get_mut(d.route) else {
            continue;
        };
        let op = match d.method {
            "GET" => item.get.as_mut(),
            "POST" => item.post.as_mut(),
            "PUT" => item.put.as_mut(),
            "PATCH" => item.patch.as_mut(),
            "DELETE" => item.delete.as_mut(),
            _ => None,
        };
        if let Some(op) = op {
            op.deprecated = Some(Deprecated::True);
        }
    }
}

/// Generators name enum members after their values, so `sessions:read` became `SESSIONSREAD`.
/// Enums with values that are not identifiers get `x-enum-varnames` (read by
/// openapi-python-client and OpenAPI Generator): `SESSIONS_READ`, `SESSION_CREATED`.
fn name_enum_members(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::extensions::ExtensionsBuilder;
    use utoipa::openapi::schema::{ArrayItems, Schema};
    fn visit(schema: &mut Schema) {
        let children: Vec<&mut RefOr<Schema>> = match schema {
            Schema::Object(object) => {
                let names: Option<Vec<String>> = object
                    .enum_values
                    .as_ref()
                    .and_then(|values| values.iter().map(|v| v.as_str().map(member_name)).collect());
                let needed = object.enum_values.as_ref().is_some_and(|values| {
                    values.iter().any(|v| {
                        v.as_str()
                            .is_some_and(|s| !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                    })
                });
                if let Some(names) = names.filter(|_| needed) {
                    let names = ExtensionsBuilder::new().add("x-enum-varnames", names).build();
                    object
                        .extensions
                        .get_or_insert_with(Default::default)
                        .merge(names);
                }
                object.properties.values_mut().collect()
            }
            Schema::Array(array) => match &mut array.items {
                ArrayItems::RefOrSchema(item) => vec![item.as_mut()],
                _ => Vec::new(),
            },
            Schema::OneOf(one) => one.items.iter_mut().collect(),
            Schema::AllOf(all) => all.items.iter_mut().collect(),
            Schema::AnyOf(any) => any.items.iter_mut().collect(),
            _ => Vec::new(),
        };
        for child in children {
            if let RefOr::T(child) = child {
                visit(child);
            }
        }
    }
    for schema in api.components.iter_mut().flat_map(|c| c.schemas.values_mut()) {
        if let RefOr::T(schema) = schema {
            visit(schema);
        }
    }
}

/// `sessions:read` → `SESSIONS_READ`, `session.created` → `SESSION_CREATED`.
fn member_name(value: &str) -> String {
    value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(str::to_ascii_uppercase)
        .collect::<Vec<_>>()
        .join("_")
}

/// The OpenAPI 3.1 `webhooks`: one entry per event type, each the POST a partner's endpoint
/// receives (the `Event` envelope, signed with the Standard Webhooks headers).
fn add_webhooks(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::{ObjectBuilder, PathsBuilder, Required, Type};
    let header = |name: &str, description: &str, example: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::True)
            .description(Some(description))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
            .example(Some(serde_json::json!(example)))
            .build()
    };
    let mut paths = PathsBuilder::new();
    for kind in crate::services::events::EventType::ALL {
        let scope = kind.scope().map_or_else(
            || "Sent to the partner the grant concerns.".to_owned(),
            |s| format!("Sent for users whose grant holds `{}`.", s.as_str()),
        );
        let operation = OperationBuilder::new()
            .tag("webhooks")
            .operation_id(Some(format!("webhook_{}", kind.as_str().replace('.', "_"))))
            .summary(Some(kind.as_str()))
            // The receiver authenticates us by the signature, not by a scheme of this API.
            .securities(Some(Vec::<utoipa::openapi::security::SecurityRequirement>::new()))
            .description(Some(format!(
                "{} {scope} Verify `webhook-signature` (HMAC-SHA256 of `{{webhook-id}}.{{webhook-timestamp}}.{{body}}` \
                 with the endpoint secret, Standard Webhooks 1.0) and dedupe on `webhook-id`; answer 2xx within 10 s.",
                kind.description()
            )))
            .parameter(header("webhook-id", "The event id: the same on every retry.", "evt_0193a1c2d3e4f5a6b7c8d9e0f1a2b3c4"))
            .parameter(header("webhook-timestamp", "Unix seconds of this attempt; reject ones far from now.", "1764664200"))
            .parameter(header(
                "webhook-signature",
                "Space-separated `v1,<base64>` signatures: two during a secret rotation.",
                "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            ))
            .request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Event")))
                            .build(),
                    )
                    .build(),
            ))
            .response(
                "200",
                ResponseBuilder::new().description("Received (any 2xx). Anything else, or no answer within 10 s, is retried."),
            )
            .build();
        paths = paths.path(kind.as_str(), PathItem::new(HttpMethod::Post, operation));
    }
    api.webhooks = Some(paths.build());
}

/// A realistic problem document for `status`, as this server sends it.
fn problem_example(status: &str) -> Option<serde_json::Value> {
    let (slug, title, detail, extra) = match status {
        "400" => (
            "bad-request",
            "Bad Request",
            "Query parameter `limit` is not a valid number.",
            serde_json::json!({"errors": [{"field": "limit", "pointer": "/limit", "code": "invalid", "message": "invalid digit found in string"}]}),
        ),
        "401" => (
            "unauthorized",
            "Unauthorized",
            "the token has expired",
            serde_json::json!({}),
        ),
        "403" => (
            "insufficient-scope",
            "Forbidden",
            "The token lacks the `sessions:write` scope.",
            serde_json::json!({}),
        ),
        "404" => (
            "not-found",
            "Not Found",
            "No session of this user has this id.",
            serde_json::json!({}),
        ),
        "409" => (
            "conflict",
            "Conflict",
            "A different session already has this id. Replaying a create must send the same content.",
            serde_json::json!({}),
        ),
        "412" => (
            "precondition-failed",
            "Precondition Failed",
            "The session changed since you read it (If-Match does not match its ETag). Read it again.",
            serde_json::json!({}),
        ),
        "413" => (
            "payload-too-large",
            "Payload Too Large",
            "The request body exceeds the limit of 1048576 bytes.",
            serde_json::json!({}),
        ),
        "415" => (
            "unsupported-media-type",
            "Unsupported Media Type",
            "Content-Type `text/plain` is not supported; send the body as application/json.",
            serde_json::json!({}),
        ),
        "422" => (
            "validation",
            "Unprocessable Entity",
            "The request has 2 invalid fields.",
            serde_json::json!({"errors": [
                {"field": "started_at", "pointer": "/started_at", "code": "required", "message": "is required"},
                {"field": "duration_seconds", "pointer": "/duration_seconds", "code": "required", "message": "is required"}
            ]}),
        ),
        "429" => (
            "rate-limited",
            "Too Many Requests",
            "Rate limit exceeded; retry after 23 seconds.",
            serde_json::json!({}),
        ),
        "500" => (
            "internal",
            "Internal Server Error",
            "An unexpected error occurred; quote the request id when reporting it.",
            serde_json::json!({}),
        ),
        "503" => (
            "unavailable",
            "Service Unavailable",
            "The database is unavailable; retry in a moment.",
            serde_json::json!({}),
        ),
        _ => return None,
    };
    let mut example = serde_json::json!({
        "type": format!("https://soleus-api.dev/problems/{slug}"),
        "title": title,
        "status": status.parse::<u16>().unwrap_or_default(),
        "detail": detail,
        "instance": "/v1/me/sessions",
        "request_id": "6f1c7a0e-6c1b-4f7e-9d5a-8f3c2b1a0d9e",
    });
    if let (Some(target), Some(more)) = (example.as_object_mut(), extra.as_object()) {
        target.extend(more.clone());
    }
    Some(example)
}

/// Each problem response gets an example of its own status (not the one schema example for
/// all); 401s document `WWW-Authenticate`, and operations taking an `Idempotency-Key`
/// document `Idempotent-Replayed` on their successes.
fn add_examples_and_headers(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::{ObjectBuilder, Type};
    let text_header = |description: &str| {
        RefOr::T(
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
                .description(Some(description))
                .build(),
        )
    };
    let with_example = |status: &str, response: &mut Response| {
        if let (Some(RefOr::T(content)), Some(example)) =
            (response.content.get_mut(PROBLEM_JSON), problem_example(status))
            && content.example.is_none()
        {
            content.example = Some(example);
        }
    };
    for op in operations(api) {
        let idempotent = op
            .parameters
            .iter()
            .flatten()
            .any(|p| matches!(p, RefOr::T(p) if p.name == "Idempotency-Key"));
        for (status, response) in &mut op.responses.responses {
            let RefOr::T(response) = response else { continue };
            with_example(status, response);
            if status == "401" {
                response.headers.entry("WWW-Authenticate".to_owned()).or_insert_with(|| {
                    text_header("RFC 6750: `Bearer realm=\"soleus-api\", error=\"invalid_token\", error_description=\"…\"`.")
                });
            }
            if idempotent && status.starts_with('2') {
                response.headers.entry("Idempotent-Replayed".to_owned()).or_insert_with(|| {
                    text_header("`true` when this is the stored answer to an earlier request with the same Idempotency-Key.")
                });
            }
        }
    }
    let statuses = [
        ("BadRequest", "400"),
        ("NotFound", "404"),
        ("PayloadTooLarge", "413"),
        ("UnsupportedMediaType", "415"),
        ("ValidationFailed", "422"),
        ("InternalError", "500"),
        ("ServiceUnavailable", "503"),
        ("TooManyRequests", "429"),
    ];
    for (name, response) in api.components.iter_mut().flat_map(|c| c.responses.iter_mut()) {
        let (RefOr::T(response), Some((_, status))) = (response, statuses.iter().find(|(n, _)| n == name))
        else {
            continue;
        };
        with_example(status, response);
    }
}

/// Real answers (and the request bodies that had no example), captured from a running server by
/// `tests/api/examples.rs`: `METHOD /template STATUS` or `METHOD /template request` → body.
const CAPTURED_EXAMPLES: &str = include_str!("../openapi/examples.json");

/// The user twin of a partner path (`/v1/users/{user_id}/x` → `/v1/me/x`): both answer alike.
fn user_twin(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/v1/users/{user_id}/") {
        Some(rest) => format!("/v1/me/{rest}").into(),
        None => path.into(),
    }
}

/// Each success response and request body without an example of its own gets the captured one;
/// partner operations share their user twin's.
fn add_captured_examples(api: &mut utoipa::openapi::OpenApi) {
    let captured: std::collections::BTreeMap<String, serde_json::Value> =
        serde_json::from_str(CAPTURED_EXAMPLES).unwrap_or_default();
    for (path, method, op) in operations_at(api) {
        let twin = user_twin(path);
        if let Some(RefOr::T(body)) = &mut op.request_body {
            for content in body.content.values_mut() {
                if let RefOr::T(content) = content
                    && content.example.is_none()
                {
                    content.example = captured.get(&format!("{method} {twin} request")).cloned();
                }
            }
        }
        for (status, response) in &mut op.responses.responses {
            let RefOr::T(response) = response else { continue };
            let Some(example) = captured.get(&format!("{method} {twin} {status}")) else {
                continue;
            };
            for (media, content) in &mut response.content {
                if let RefOr::T(content) = content
                    && media != PROBLEM_JSON
                {
                    content.example.get_or_insert_with(|| example.clone());
                }
            }
        }
    }
}

/// Each partner operation (`/v1/users/{user_id}/…`) without a description of its own gets its
/// user twin's (`/v1/me/…`), after a sentence saying what the partner needs: one text serves both.
fn describe_partner_twins(api: &mut utoipa::openapi::OpenApi) {
    const PARTNER: &str = "/v1/users/{user_id}/";
    let method_of = |item: &utoipa::openapi::path::PathItem, method: &str| -> Option<String> {
        let op = match method {
            "GET" => item.get.as_ref(),
            "POST" => item.post.as_ref(),
            "PUT" => item.put.as_ref(),
            "PATCH" => item.patch.as_ref(),
            "DELETE" => item.delete.as_ref(),
            _ => None,
        }?;
        op.description.clone()
    };
    let user_texts: std::collections::BTreeMap<(String, &str), Option<String>> = api
        .paths
        .paths
        .iter()
        .filter(|(path, _)| path.starts_with("/v1/me/"))
        .flat_map(|(path, item)| {
            ["GET", "POST", "PUT", "PATCH", "DELETE"]
                .into_iter()
                .map(move |m| ((path.clone(), m), method_of(item, m)))
        })
        .collect();
    for (path, item) in &mut api.paths.paths {
        let Some(rest) = path.strip_prefix(PARTNER) else {
            continue;
        };
        let user_path = format!("/v1/me/{rest}");
        let ops = [
            ("GET", &mut item.get),
            ("POST", &mut item.post),
            ("PUT", &mut item.put),
            ("PATCH", &mut item.patch),
            ("DELETE", &mut item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op.as_mut().filter(|op| op.description.is_none()) else {
                continue;
            };
            let scopes: Vec<String> = serde_json::to_value(&op.security)
                .ok()
                .and_then(|v| v.pointer("/0/partner_oauth").cloned())
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            let mut text = format!(
                "The partner view of `{method} {user_path}`, for a user who granted your platform access: \
                 your token and the user's active grant must both hold `{}`.",
                scopes.join("`, `")
            );
            if let Some(Some(user)) = user_texts.get(&(user_path.clone(), method)) {
                text.push_str("\n\n");
                text.push_str(user);
            }
            op.description = Some(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_operations_document_503_limited_ones_429_and_every_response_its_headers() {
        let api = serde_json::to_value(build_openapi()).unwrap_or_default();
        let paths = api["paths"].as_object().cloned().unwrap_or_default();
        let mut with_storage = 0;
        for (path, item) in &paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                let responses = op["responses"].as_object().cloned().unwrap_or_default();
                let needs_db = path == "/v1/me"
                    || path.starts_with("/v1/me/")
                    || path.starts_with("/v1/users")
                    || path.starts_with("/v1/auth");
                let unlimited = matches!(path.as_str(), "/healthz" | "/readyz" | "/metrics");
                if !unlimited {
                    assert!(responses.contains_key("429"), "{method} {path}");
                }
                if needs_db {
                    with_storage += 1;
                    assert!(responses.contains_key("503"), "{method} {path}");
                }
                for (status, response) in &responses {
                    let headers = if response.get("$ref").is_some() {
                        let name = response["$ref"]
                            .as_str()
                            .unwrap_or_default()
                            .rsplit('/')
                            .next()
                            .unwrap_or_default();
                        api["components"]["responses"][name]["headers"].clone()
                    } else {
                        response["headers"].clone()
                    };
                    assert!(headers.get("X-Request-Id").is_some(), "{method} {path} {status}");
                    assert!(
                        unlimited || headers.get("RateLimit").is_some(),
                        "{method} {path} {status}"
                    );
                }
            }
        }
        assert!(with_storage > 30, "{with_storage}");
    }

    #[test]
    fn a_listed_deprecation_marks_its_operation_only() {
        let mut api = build_openapi();
        let old = crate::http::deprecation::Deprecation {
            method: "GET",
            route: "/v1/exercises/{id}",
            since: 1_767_225_600,
            sunset: None,
            link: "https://example.com/changelog",
        };
        mark_deprecated(&mut api, &[old]);
        let doc = serde_json::to_value(api).unwrap();
        assert_eq!(doc["paths"]["/v1/exercises/{id}"]["get"]["deprecated"], true);
        assert!(doc["paths"]["/v1/exercises"]["get"].get("deprecated").is_none());
    }

    #[test]
    fn enum_values_that_are_not_identifiers_get_member_names() {
        let doc = serde_json::to_value(build_openapi()).unwrap();
        let scope = &doc["components"]["schemas"]["Scope"];
        assert_eq!(scope["enum"][3], "sessions:read");
        assert_eq!(scope["x-enum-varnames"][3], "SESSIONS_READ");
        assert_eq!(member_name("session.created"), "SESSION_CREATED");
        // Plain identifiers need no names.
        assert!(
            doc["components"]["schemas"]["Goal"]
                .get("x-enum-varnames")
                .is_none()
        );
    }

    /// Spectral's `operation-description`: a newcomer reads more than the summary line, and a
    /// partner operation says what the partner needs before its user twin's text.
    #[test]
    fn every_operation_has_a_description() {
        let api = build_openapi();
        for (path, item) in &api.paths.paths {
            for op in [&item.get, &item.post, &item.put, &item.patch, &item.delete]
                .into_iter()
                .flatten()
            {
                let text = op.description.as_deref().unwrap_or_default();
                assert!(!text.trim().is_empty(), "{path}");
                if path.starts_with("/v1/users/{user_id}/") && text.starts_with("The partner view") {
                    assert!(text.contains("active grant must both hold `"), "{path}: {text}");
                }
            }
        }
    }

    /// Each problem response shows an example of its own status, not the schema's one 422.
    #[test]
    fn problem_examples_match_their_status() {
        let api = serde_json::to_value(build_openapi()).unwrap_or_default();
        let mut seen = 0;
        for (path, item) in api["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                for (status, response) in op["responses"].as_object().into_iter().flatten() {
                    let example = &response["content"]["application/problem+json"]["example"];
                    if !example.is_null() {
                        seen += 1;
                        assert_eq!(example["status"].to_string(), *status, "{method} {path}");
                    }
                }
            }
        }
        for (name, response) in api["components"]["responses"].as_object().into_iter().flatten() {
            let example = &response["content"]["application/problem+json"]["example"];
            assert!(example.is_object(), "{name} has no example");
        }
        assert!(seen > 100, "{seen}");
    }

    /// Every answer with a body shows a real one (`tests/api/examples.rs`), and every captured
    /// example belongs to an operation that still exists.
    #[test]
    fn every_success_answer_has_an_example_and_every_example_an_answer() {
        let captured: std::collections::BTreeMap<String, serde_json::Value> =
            serde_json::from_str(CAPTURED_EXAMPLES).unwrap_or_default();
        let mut api = build_openapi();
        let mut used = std::collections::BTreeSet::new();
        for (path, method, op) in operations_at(&mut api) {
            let twin = user_twin(path);
            used.insert(format!("{method} {twin} request"));
            for (status, response) in &op.responses.responses {
                used.insert(format!("{method} {twin} {status}"));
                let RefOr::T(response) = response else { continue };
                for (media, content) in &response.content {
                    if let RefOr::T(content) = content
                        && status.starts_with('2')
                    {
                        assert!(content.example.is_some(), "{method} {path} {status} {media}");
                    }
                }
            }
        }
        for key in captured.keys() {
            assert!(
                used.contains(key),
                "{key} is captured but no operation answers it"
            );
        }
    }

    #[test]
    fn every_operation_documents_a_500_problem() {
        let api = build_openapi();
        for (path, item) in &api.paths.paths {
            for op in [&item.get, &item.post, &item.put, &item.patch, &item.delete]
                .into_iter()
                .flatten()
            {
                assert!(op.responses.responses.contains_key("500"), "{path}");
            }
        }
    }
}
