//! Every error class the server can produce is an RFC 9457 problem with the right status.
//! The body/query/path classes use test-only probe routes built from the library's own
//! extractors, mounted on the real server.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::json;
use soleus_api::db::{self, DbPool};
use soleus_api::error::ApiError;
use soleus_api::http::{Json, Query};
use validator::Validate;

use crate::helpers::{TestApp, assert_problem, spawn_app, spawn_app_with};

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ProbeSet {
    #[validate(range(min = 0, max = 1000))]
    reps: u32,
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ProbeBody {
    #[validate(length(min = 1, max = 20))]
    name: String,
    #[validate(range(min = 0, max = 10))]
    rpe: u8,
    #[serde(default)]
    #[validate(nested)]
    sets: Vec<ProbeSet>,
}

#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
struct ProbeQuery {
    #[validate(range(min = 1, max = 100))]
    limit: Option<u32>,
}

#[post("/__probe/json")]
async fn probe_json(body: Json<ProbeBody>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"name": body.name, "rpe": body.rpe, "sets": body.sets.len()}))
}

#[get("/__probe/query")]
async fn probe_query(query: Query<ProbeQuery>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"limit": query.limit}))
}

#[get("/__probe/path/{n}")]
async fn probe_path(n: web::Path<u32>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"n": n.into_inner()}))
}

#[get("/__probe/db-error")]
async fn probe_db_error(pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    use diesel::RunQueryDsl as _;
    db::query(&pool, |conn| {
        diesel::sql_query("SELECT * FROM secret_missing_table").execute(conn)
    })
    .await?;
    Ok(HttpResponse::Ok().finish())
}

fn probes(cfg: &mut web::ServiceConfig) {
    cfg.service(probe_json)
        .service(probe_query)
        .service(probe_path)
        .service(probe_db_error);
}

async fn probe_app() -> TestApp {
    spawn_app_with(|s| s.max_body_bytes = 4096, Some(probes)).await
}

#[actix_web::test]
async fn unknown_route_is_a_404_problem() {
    let app = spawn_app().await;
    let res = app.get("/v1/no-such-thing").await;
    let body = assert_problem(&res, 404);
    assert_eq!(body["type"], "https://soleus-api.dev/problems/not-found");
    assert_eq!(body["instance"], "/v1/no-such-thing");
}

#[actix_web::test]
async fn wrong_method_on_a_known_path_is_a_405_problem_with_allow() {
    let app = spawn_app().await;
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        let req = app.client.request(method.parse().unwrap(), app.url("/v1/meta"));
        let res = app.send(req, None).await;
        let body = assert_problem(&res, 405);
        assert_eq!(res.header("allow"), Some("GET, HEAD"), "{method}");
        assert_eq!(body["type"], "https://soleus-api.dev/problems/method-not-allowed");
    }
}

#[actix_web::test]
async fn a_valid_body_is_accepted_including_integral_floats() {
    let app = probe_app().await;
    let res = app
        .post_json(
            "/__probe/json",
            &json!({"name": "a", "rpe": 7.0, "sets": [{"reps": 611.0}]}),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{:?}", res.body);
    assert_eq!(res.json(), json!({"name": "a", "rpe": 7, "sets": 1}));
}

#[actix_web::test]
async fn malformed_json_is_a_400_problem() {
    let app = probe_app().await;
    for (case, raw) in [
        ("truncated", "{\"name\": \"a\","),
        ("not json", "name=a"),
        ("empty", ""),
    ] {
        let res = app
            .post_raw("/__probe/json", "application/json", raw.as_bytes())
            .await;
        let body = assert_problem(&res, 400);
        assert_eq!(
            body["type"], "https://soleus-api.dev/problems/bad-request",
            "{case}"
        );
        assert!(
            body["detail"].as_str().unwrap().contains("JSON"),
            "{case}: {body}"
        );
    }
}

#[actix_web::test]
async fn an_unknown_field_is_a_422_naming_it_never_dropped() {
    let app = probe_app().await;
    let res = app
        .post_json(
            "/__probe/json",
            &json!({"name": "a", "rpe": 3, "sets": [{"reps": 1, "weight": 20}]}),
        )
        .await;
    let body = assert_problem(&res, 422);
    assert_eq!(
        body["errors"],
        json!([{"field": "sets[0].weight", "pointer": "/sets/0/weight", "code": "unknown_field",
                "message": "is not a field of this object; remove it"}])
    );
    let res = app
        .post_json("/__probe/json", &json!({"name": "a", "rpe": 3, "colour": "red"}))
        .await;
    assert_eq!(assert_problem(&res, 422)["errors"][0]["field"], "colour");
}

#[actix_web::test]
async fn validation_failures_are_a_422_listing_every_field() {
    let app = probe_app().await;
    let res = app
        .post_json(
            "/__probe/json",
            &json!({"name": "", "rpe": 11, "sets": [{"reps": 2000}]}),
        )
        .await;
    let body = assert_problem(&res, 422);
    assert_eq!(body["type"], "https://soleus-api.dev/problems/validation");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "rpe", "sets[0].reps"]);
    assert_eq!(body["errors"][1]["code"], "range");
    assert_eq!(body["errors"][1]["message"], "must be between 0 and 10");
    assert_eq!(body["detail"], "The request has 3 invalid fields.");
}

#[actix_web::test]
async fn wrong_types_and_missing_fields_are_422_naming_the_field() {
    let app = probe_app().await;
    let res = app
        .post_json("/__probe/json", &json!({"name": "a", "rpe": "hard"}))
        .await;
    let body = assert_problem(&res, 422);
    assert_eq!(body["errors"][0]["field"], "rpe");
    assert_eq!(body["errors"][0]["code"], "invalid_type");
    let res = app.post_json("/__probe/json", &json!({"name": "a"})).await;
    let body = assert_problem(&res, 422);
    assert_eq!(
        body["errors"][0],
        json!({"field": "rpe", "pointer": "/rpe", "code": "required", "message": "is required"})
    );
}

#[actix_web::test]
async fn a_body_over_the_limit_is_a_413_problem() {
    let app = probe_app().await;
    let big = json!({"name": "a", "rpe": 1, "sets": vec![json!({"reps": 1}); 1000]});
    let res = app.post_json("/__probe/json", &big).await;
    let body = assert_problem(&res, 413);
    assert_eq!(body["type"], "https://soleus-api.dev/problems/payload-too-large");
    assert_eq!(
        body["detail"],
        "The request body exceeds the limit of 4096 bytes."
    );
}

#[actix_web::test]
async fn a_non_json_content_type_is_a_415_problem() {
    let app = probe_app().await;
    let res = app
        .post_raw("/__probe/json", "text/plain", br#"{"name":"a","rpe":1}"#)
        .await;
    let body = assert_problem(&res, 415);
    assert!(body["detail"].as_str().unwrap().contains("text/plain"));
    let res = app
        .send(
            app.client.post(app.url("/__probe/json")),
            Some(br#"{"name":"a","rpe":1}"#),
        )
        .await;
    assert_problem(&res, 415);
    // A structured-syntax +json type is JSON.
    let res = app
        .post_raw(
            "/__probe/json",
            "application/merge-patch+json",
            br#"{"name":"a","rpe":1}"#,
        )
        .await;
    assert_eq!(res.status.as_u16(), 200);
}

#[actix_web::test]
async fn an_unreadable_query_is_a_400_problem_naming_the_parameter() {
    let app = probe_app().await;
    for (qs, code) in [("limit=ten", "invalid"), ("sort=asc", "unknown_field")] {
        let res = app.get(&format!("/__probe/query?{qs}")).await;
        let body = assert_problem(&res, 400);
        assert_eq!(body["errors"][0]["code"], code, "{qs}: {body}");
        let field = if qs.starts_with("sort") { "sort" } else { "limit" };
        assert_eq!(body["errors"][0]["field"], field, "{qs}");
    }
    assert_eq!(
        app.get("/__probe/query?limit=5").await.json(),
        json!({"limit": 5})
    );
}

#[actix_web::test]
async fn a_malformed_path_parameter_is_a_400_problem() {
    let app = probe_app().await;
    let res = app.get("/__probe/path/minus-one").await;
    let body = assert_problem(&res, 400);
    assert!(
        body["detail"].as_str().unwrap().contains("path parameter"),
        "{body}"
    );
}

#[actix_web::test]
async fn an_unexpected_failure_is_a_500_problem_without_internals() {
    let app = probe_app().await;
    let res = app.get("/__probe/db-error").await;
    let body = assert_problem(&res, 500);
    assert_eq!(body["type"], "https://soleus-api.dev/problems/internal");
    assert!(body.get("detail").is_none(), "{body}");
    assert!(!String::from_utf8_lossy(&res.body).contains("secret_missing_table"));
}

#[actix_web::test]
async fn a_disallowed_query_value_is_a_422_naming_the_parameter() {
    let app = probe_app().await;
    let body = assert_problem(&app.get("/__probe/query?limit=0").await, 422);
    assert_eq!(body["errors"][0]["field"], "limit");
    assert_eq!(body["errors"][0]["code"], "range");
}

/// `{}` names every missing required field, not only the first serde meets.
#[actix_web::test]
async fn an_empty_object_names_every_missing_required_field() {
    let app = spawn_app().await;
    let res = app.post_json("/v1/programmes/preview", &json!({})).await;
    let body = assert_problem(&res, 422);
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["activity_level", "age", "goals"], "{body}");
    assert!(
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["code"] == "required")
    );
    // One missing field is still named alone; a nested one keeps its path.
    let res = app
        .post_json(
            "/v1/programmes/preview",
            &json!({"age": 40, "activity_level": "active"}),
        )
        .await;
    let body = assert_problem(&res, 422);
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["errors"][0]["field"], "goals");
}

/// An empty path segment fills no parameter: 404, not a 405 about another resource.
#[actix_web::test]
async fn an_empty_path_segment_is_not_found() {
    let app = spawn_app().await;
    for path in ["/v1/me/programmes//versions", "/v1/exercises//", "/v1//meta"] {
        let res = app.get(path).await;
        assert_problem(&res, 404);
        assert!(res.header("allow").is_none(), "{path}");
    }
}

/// List parameters take both the repeated form generated clients send and a comma list; a
/// repeated single-valued parameter is refused naming it.
#[actix_web::test]
async fn list_query_parameters_take_both_forms() {
    let app = spawn_app().await;
    let repeated = app
        .get("/v1/exercises?available_equipment=chair&available_equipment=wall&limit=100")
        .await;
    let comma = app
        .get("/v1/exercises?available_equipment=chair,wall&limit=100")
        .await;
    assert_eq!(
        repeated.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&repeated.body)
    );
    assert_eq!(repeated.json()["items"], comma.json()["items"]);
    assert!(repeated.json()["total"].as_u64().unwrap() > 0);
    let res = app.get("/v1/exercises?limit=1&limit=2").await;
    let body = assert_problem(&res, 400);
    assert_eq!(body["errors"][0]["field"], "limit", "{body}");
}

/// `Vary` is sent once, on a 200 and on a 304.
#[actix_web::test]
async fn vary_is_sent_once() {
    let app = spawn_app().await;
    // A large body, asked for compressed: the compressor adds its own `Vary`.
    let req = app
        .client
        .get(app.url("/v1/exercises?limit=100"))
        .insert_header(("Accept-Encoding", "gzip"));
    let res = app.send(req, None).await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.header("content-encoding"), Some("gzip"));
    assert_eq!(res.headers.get_all("vary").count(), 1, "{:?}", res.headers);
    let res = app.get("/v1/exercises/seated-soleus-raise-loaded").await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.headers.get_all("vary").count(), 1, "{:?}", res.headers);
    let etag = res.header("etag").unwrap().to_owned();
    let req = app
        .client
        .get(app.url("/v1/exercises/seated-soleus-raise-loaded"))
        .insert_header(("Accept-Encoding", "gzip"))
        .insert_header(("If-None-Match", etag));
    let res = app.send(req, None).await;
    assert_eq!(res.status.as_u16(), 304);
    assert_eq!(res.headers.get_all("vary").count(), 1, "{:?}", res.headers);
}

/// CORS is off by default; with an allow-list, preflights are answered and pages can read the
/// headers they need.
#[actix_web::test]
async fn cors_answers_the_allowed_origins_only() {
    let off = spawn_app().await;
    let req = off
        .client
        .get(off.url("/v1/exercises"))
        .insert_header(("Origin", "https://app.example"));
    assert!(
        off.send(req, None)
            .await
            .header("access-control-allow-origin")
            .is_none()
    );

    let app =
        crate::helpers::spawn_app_with(|s| s.cors_origins = vec!["https://app.example".into()], None).await;
    let preflight = app
        .client
        .request(actix_web::http::Method::OPTIONS, app.url("/v1/me/sessions"))
        .insert_header(("Origin", "https://app.example"))
        .insert_header(("Access-Control-Request-Method", "POST"))
        .insert_header((
            "Access-Control-Request-Headers",
            "authorization,content-type,idempotency-key",
        ));
    let res = app.send(preflight, None).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    let allowed = res
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("idempotency-key"),
        "{allowed}"
    );
    let req = app
        .client
        .get(app.url("/v1/exercises"))
        .insert_header(("Origin", "https://app.example"));
    let res = app.send(req, None).await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    let exposed = res
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("etag") && exposed.contains("ratelimit"),
        "{exposed}"
    );
    let req = app
        .client
        .get(app.url("/v1/exercises"))
        .insert_header(("Origin", "https://evil.example"));
    assert!(
        app.send(req, None)
            .await
            .header("access-control-allow-origin")
            .is_none()
    );
}
