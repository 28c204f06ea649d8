use crate::helpers::{assert_problem, spawn_app, spawn_app_with};

#[actix_web::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.json(), serde_json::json!({"status": "ok"}));
}

#[actix_web::test]
async fn readyz_reports_the_engine_in_use() {
    let app = spawn_app().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status.as_u16(), 200);
    let expected = if std::env::var_os("TEST_DATABASE_URL").is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(
        res.json(),
        serde_json::json!({"status": "ready", "database": expected})
    );
}

#[actix_web::test]
async fn readyz_is_a_503_problem_when_the_database_is_broken() {
    let app = spawn_app().await;
    app.execute_sql("DROP TABLE app_meta");
    let res = app.get("/readyz").await;
    let body = assert_problem(&res, 503);
    assert_eq!(res.header("retry-after"), Some("5"));
    assert_eq!(body["type"], "https://soleus-api.dev/problems/unavailable");
}

#[actix_web::test]
async fn every_response_carries_a_request_id_and_a_sane_one_is_echoed() {
    let app = spawn_app().await;
    let generated = app.get("/healthz").await;
    let id = generated.header("x-request-id").expect("generated id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

    let req = app
        .client
        .get(app.url("/healthz"))
        .insert_header(("X-Request-Id", "client-trace-42"));
    let echoed = app.send(req, None).await;
    assert_eq!(echoed.header("x-request-id"), Some("client-trace-42"));

    let too_long = "x".repeat(129);
    let req = app
        .client
        .get(app.url("/healthz"))
        .insert_header(("X-Request-Id", too_long.as_str()));
    let replaced = app.send(req, None).await;
    assert_ne!(replaced.header("x-request-id"), Some(too_long.as_str()));
    assert!(uuid::Uuid::parse_str(replaced.header("x-request-id").unwrap()).is_ok());
}

#[actix_web::test]
async fn head_is_answered_like_get_without_a_body() {
    let app = spawn_app().await;
    let res = app.send(app.client.head(app.url("/v1/meta")), None).await;
    assert_eq!(res.status.as_u16(), 200);
    assert!(res.body.is_empty());
}

#[actix_web::test]
async fn the_docs_are_served_offline() {
    let app = spawn_app().await;
    let redirect = app.get("/docs").await;
    assert_eq!(redirect.status.as_u16(), 308);
    assert_eq!(redirect.header("location"), Some("/docs/"));

    let page = app.get("/docs/").await;
    assert_eq!(page.status.as_u16(), 200);
    let html = String::from_utf8_lossy(&page.body);
    assert!(html.contains("swagger-ui-bundle.js"), "{html}");
    // The bundle is vendored into the binary: no CDN is needed to browse the docs.
    let bundle = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status.as_u16(), 200);
    assert!(bundle.body.len() > 100_000);
    let init = app.get("/docs/swagger-initializer.js").await;
    assert!(String::from_utf8_lossy(&init.body).contains("/openapi.json"));
}

#[actix_web::test]
async fn metrics_need_their_token_and_count_requests_by_route_template() {
    let off = spawn_app().await;
    let refused = assert_problem(&off.get("/metrics").await, 401);
    assert!(refused["detail"].as_str().unwrap().contains("not enabled"));

    let token = "metrics-token-0123456789abcdef";
    let app = spawn_app_with(|s| s.metrics_token = Some(token.into()), None).await;
    for id in ["seated-calf-raise", "no-such-exercise"] {
        app.get(&format!("/v1/exercises/{id}")).await;
    }
    assert_problem(&app.get("/metrics").await, 401);
    let wrong = app
        .send(
            app.client
                .get(app.url("/metrics"))
                .insert_header(("Authorization", "Bearer metrics-token-0123456789abcdeX")),
            None,
        )
        .await;
    assert_problem(&wrong, 401);
    let res = app
        .send(
            app.client
                .get(app.url("/metrics"))
                .insert_header(("Authorization", format!("Bearer {token}"))),
            None,
        )
        .await;
    assert_eq!(res.status.as_u16(), 200);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = String::from_utf8_lossy(&res.body).into_owned();
    // Ids never become labels: both requests are under the template, by status.
    for status in ["200", "404"] {
        assert!(
            text.contains(&format!(
                "soleus_http_requests_total{{method=\"GET\",route=\"/v1/exercises/{{id}}\",status=\"{status}\"}}"
            )),
            "{text}"
        );
    }
    assert!(!text.contains("seated-calf-raise"));
    assert!(text.contains("soleus_db_pool_connections{pool=\"reads\",state=\"idle\"}"));
    assert!(text.contains("soleus_http_request_duration_seconds_bucket"));
}
