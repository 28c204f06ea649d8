//! Hardening: what the attack and fault run of the hardening issue found, one test per defect.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};

fn field_of(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or_default()
}

fn session() -> Value {
    json!({"started_at": "2026-12-07T07:30:00+01:00", "duration_seconds": 1200})
}

#[actix_web::test]
async fn a_nul_character_is_a_422_naming_the_field_never_a_500() {
    let app = spawn_app().await;
    // Unauthenticated: the login email.
    let res = app
        .post_json(
            "/v1/auth/token",
            &json!({"email": "a\u{0}@example.com", "password": "x"}),
        )
        .await;
    let body = assert_problem(&res, 422);
    assert_eq!(
        (field_of(&body), body["errors"][0]["code"].as_str()),
        ("email", Some("nul_character"))
    );
    // Registration, and a nested field of a session.
    let res = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": "nul@example.com", "password": "nul\u{0}password 2026"}),
        )
        .await;
    assert_eq!(field_of(&assert_problem(&res, 422)), "password");
    let (_, token, _) = app.user("nul-user@example.com").await;
    let mut body = session();
    body["sets"] = json!([{"exercise_id": "seated\u{0}calf-raise", "set_number": 1}]);
    let res = app.send_json_with("POST", "/v1/me/sessions", &token, &body).await;
    let problem = assert_problem(&res, 422);
    assert_eq!(field_of(&problem), "sets[0].exercise_id");
    assert_eq!(problem["errors"][0]["pointer"], "/sets/0/exercise_id");
    // A query parameter, a path segment and the OAuth form.
    let res = app.get_with("/v1/me/sessions?programme_id=a%00b", &token).await;
    assert_eq!(field_of(&assert_problem(&res, 422)), "programme_id");
    assert_problem(&app.get_with("/v1/me/sessions/a%00b", &token).await, 400);
    let res = app
        .post_raw(
            "/v1/oauth/token",
            "application/x-www-form-urlencoded",
            b"grant_type=client_credentials&client_id=a%00b&client_secret=x",
        )
        .await;
    assert_eq!(res.status.as_u16(), 400);
    assert_eq!(res.json()["error"], "invalid_request");
    // Nothing was stored.
    let list = app.get_with("/v1/me/sessions", &token).await.json();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));
}

#[actix_web::test]
async fn a_deleted_accounts_token_is_401_on_writes_too() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("gone@example.com").await;
    assert_eq!(app.delete_with("/v1/me", &token).await.status.as_u16(), 204);
    let res = app
        .send_json_with("POST", "/v1/me/sessions", &token, &session())
        .await;
    assert_problem(&res, 401);
    let programme = json!({"age": 40, "activity_level": "active", "goals": ["circulation"]});
    let res = app
        .send_json_with("POST", "/v1/me/programmes", &token, &programme)
        .await;
    assert_problem(&res, 401);
}

impl TestApp {
    async fn wrong_password(&self, email: &str) -> u16 {
        self.post_json(
            "/v1/auth/token",
            &json!({"email": email, "password": "not the password at all"}),
        )
        .await
        .status
        .as_u16()
    }
}

#[actix_web::test]
async fn parallel_wrong_passwords_get_no_more_than_the_account_limit() {
    let app = spawn_app().await;
    app.register("target@example.com").await;
    let attempts = (0..30).map(|_| app.wrong_password("target@example.com"));
    let statuses = futures_util::future::join_all(attempts).await;
    let guesses = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((guesses, refused), (5, 25), "{statuses:?}");
}

#[actix_web::test]
async fn responses_carry_the_hardening_headers() {
    let app = spawn_app().await;
    let res = app.get("/v1/exercises").await;
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(res.header("referrer-policy"), Some("no-referrer"));
    let docs = app.get("/docs/").await;
    assert_eq!(docs.status.as_u16(), 200);
    assert_eq!(docs.header("x-frame-options"), Some("DENY"));
    assert!(
        docs.header("content-security-policy")
            .is_some_and(|c| c.contains("frame-ancestors 'none'"))
    );
    let (_, token, _) = app.user("headers@example.com").await;
    let me = app.get_with("/v1/me", &token).await;
    assert_eq!(me.status.as_u16(), 200);
    assert_eq!(
        me.header("cache-control"),
        Some("no-store"),
        "user data is not cached"
    );
}
