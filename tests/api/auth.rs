//! Accounts and tokens, including the attack cases of the auth issue.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::prelude::*;
use ed25519_dalek::pkcs8::{EncodePrivateKey as _, spki::der::pem::LineEnding};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use soleus_api::db::schema::{programmes, refresh_tokens, users};

use crate::helpers::{Response, TestApp, assert_problem, spawn_app};

const PASSWORD: &str = "calves of steel 2026";

impl TestApp {
    pub async fn register(&self, email: &str) -> Value {
        let res = self
            .post_json(
                "/v1/auth/register",
                &json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
        res.json()
    }

    pub async fn login(&self, email: &str) -> Value {
        let res = self
            .post_json("/v1/auth/token", &json!({"email": email, "password": PASSWORD}))
            .await;
        assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
        res.json()
    }

    /// Registers and logs in; returns (user id, access token, refresh token).
    pub async fn user(&self, email: &str) -> (String, String, String) {
        let id = self.register(email).await["id"].as_str().unwrap().to_owned();
        let tokens = self.login(email).await;
        (
            id,
            tokens["access_token"].as_str().unwrap().to_owned(),
            tokens["refresh_token"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn get_with(&self, path: &str, token: &str) -> Response {
        let req = self
            .client
            .get(self.url(path))
            .insert_header(("Authorization", format!("Bearer {token}")));
        self.send(req, None).await
    }

    pub async fn send_json_with(&self, method: &str, path: &str, token: &str, body: &Value) -> Response {
        let req = self
            .client
            .request(method.parse().unwrap(), self.url(path))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header(("Content-Type", "application/json"));
        self.send(req, Some(body.to_string().as_bytes())).await
    }

    pub async fn delete_with(&self, path: &str, token: &str) -> Response {
        let req = self
            .client
            .delete(self.url(path))
            .insert_header(("Authorization", format!("Bearer {token}")));
        self.send(req, None).await
    }

    fn signing_pem(&self) -> String {
        std::fs::read_to_string(self.data_dir().join("jwt-ed25519.pem")).unwrap()
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(sub: &str, changes: Value) -> Value {
    let t = now();
    let mut c = json!({
        "iss": "soleus-api", "aud": "soleus-api", "sub": sub, "iat": t, "nbf": t, "exp": t + 600,
        "jti": "test", "scope": "sessions:read", "typ": "user"
    });
    for (k, v) in changes.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

fn ed_token(pem: &str, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

async fn assert_invalid_token(app: &TestApp, token: &str, case: &str) {
    let res = app.get_with("/v1/me", token).await;
    let body = assert_problem(&res, 401);
    let challenge = res.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer") && challenge.contains("error=\"invalid_token\""),
        "{case}: {challenge}"
    );
    assert_eq!(
        body["type"], "https://soleus-api.dev/problems/unauthorized",
        "{case}"
    );
}

#[actix_web::test]
async fn register_login_and_read_the_account() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": "Jane@Example.com", "password": PASSWORD, "profile": {"birth_year": 1990, "activity_level": "active"}}),
        )
        .await;
    assert_eq!(res.status.as_u16(), 201);
    assert_eq!(res.header("location"), Some("/v1/me"));
    let user = res.json();
    assert_eq!(user["email"], "jane@example.com");
    assert_eq!(user["profile"]["activity_level"], "active");
    assert!(
        !String::from_utf8_lossy(&res.body).contains("argon2"),
        "no password hash in responses"
    );

    let tokens = app.login("JANE@example.com").await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let access = tokens["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(access).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    let payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(access.split('.').nth(1).unwrap()).unwrap()).unwrap();
    for claim in ["iss", "aud", "sub", "iat", "nbf", "exp", "scope"] {
        assert!(payload.get(claim).is_some(), "{claim}");
    }
    assert_eq!(
        payload["exp"].as_u64().unwrap() - payload["iat"].as_u64().unwrap(),
        900
    );

    let me = app.get_with("/v1/me", access).await;
    assert_eq!(me.status.as_u16(), 200);
    assert_eq!(me.json()["id"], user["id"]);

    let jwks = app.get("/.well-known/jwks.json").await.json();
    assert_eq!(jwks["keys"][0]["kid"], header.kid.unwrap());
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");
}

#[actix_web::test]
async fn registration_rejects_weak_passwords_bad_emails_and_duplicates() {
    let app = spawn_app().await;
    for (body, field) in [
        (json!({"email": "a@example.com", "password": "short"}), "password"),
        (
            json!({"email": "a@example.com", "password": "password123"}),
            "password",
        ),
        (
            json!({"email": "a@example.com", "password": "x".repeat(129)}),
            "password",
        ),
        (json!({"email": "not-an-email", "password": PASSWORD}), "email"),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "role": "admin"}),
            "role",
        ),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "profile": {"preferred_days": 9}}),
            "profile.preferred_days",
        ),
    ] {
        let body = assert_problem(&app.post_json("/v1/auth/register", &body).await, 422);
        assert_eq!(body["errors"][0]["field"], field, "{body}");
    }
    app.register("dup@example.com").await;
    let body = assert_problem(
        &app.post_json(
            "/v1/auth/register",
            &json!({"email": "DUP@example.com", "password": PASSWORD}),
        )
        .await,
        409,
    );
    assert_eq!(body["detail"], "An account with this email already exists.");
}

#[actix_web::test]
async fn unknown_email_and_wrong_password_get_the_same_answer_and_are_throttled() {
    let app = spawn_app().await;
    app.register("kim@example.com").await;
    let unknown = app
        .post_json(
            "/v1/auth/token",
            &json!({"email": "nobody@example.com", "password": PASSWORD}),
        )
        .await;
    let wrong = app
        .post_json(
            "/v1/auth/token",
            &json!({"email": "kim@example.com", "password": "not the password"}),
        )
        .await;
    let (a, b) = (assert_problem(&unknown, 401), assert_problem(&wrong, 401));
    assert_eq!(a["detail"], b["detail"]);
    assert_eq!(a["detail"], "Invalid email or password.");

    for _ in 0..4 {
        app.post_json(
            "/v1/auth/token",
            &json!({"email": "kim@example.com", "password": "not the password"}),
        )
        .await;
    }
    let locked = app
        .post_json(
            "/v1/auth/token",
            &json!({"email": "kim@example.com", "password": PASSWORD}),
        )
        .await;
    assert_problem(&locked, 429);
    let retry: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry));
}

#[actix_web::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = spawn_app().await;
    let (_, _, first) = app.user("rota@example.com").await;
    let second = app
        .post_json("/v1/auth/refresh", &json!({"refresh_token": first}))
        .await;
    assert_eq!(second.status.as_u16(), 200);
    let second = second.json();
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first);
    assert_eq!(
        app.get_with("/v1/me", second["access_token"].as_str().unwrap())
            .await
            .status
            .as_u16(),
        200
    );

    // The client moves on with the new token...
    let third = app
        .post_json("/v1/auth/refresh", &json!({"refresh_token": second_refresh}))
        .await;
    assert_eq!(third.status.as_u16(), 200);
    let third_refresh = third.json()["refresh_token"].as_str().unwrap().to_owned();

    // ...so replaying the first, spent token is theft or a bug: the whole login is revoked,
    // including the newest token.
    let replay = app
        .post_json("/v1/auth/refresh", &json!({"refresh_token": first}))
        .await;
    assert!(
        assert_problem(&replay, 401)["detail"]
            .as_str()
            .unwrap()
            .contains("already used")
    );
    let after = app
        .post_json("/v1/auth/refresh", &json!({"refresh_token": third_refresh}))
        .await;
    assert_problem(&after, 401);

    let mut conn = app.raw_connection();
    let stored: Vec<(String, Option<chrono::NaiveDateTime>)> = refresh_tokens::table
        .select((refresh_tokens::token_hash, refresh_tokens::revoked_at))
        .load(&mut conn)
        .unwrap();
    assert_eq!(stored.len(), 3);
    assert!(
        stored
            .iter()
            .all(|(hash, revoked)| revoked.is_some() && hash.len() == 64 && *hash != first),
        "only hashes are stored"
    );

    assert_problem(
        &app.post_json("/v1/auth/refresh", &json!({"refresh_token": "made-up"}))
            .await,
        401,
    );
}

#[actix_web::test]
async fn logout_revokes_the_login() {
    let app = spawn_app().await;
    let (_, _, refresh) = app.user("out@example.com").await;
    let res = app
        .post_json("/v1/auth/logout", &json!({"refresh_token": refresh}))
        .await;
    assert_eq!(res.status.as_u16(), 204);
    assert_problem(
        &app.post_json("/v1/auth/refresh", &json!({"refresh_token": refresh}))
            .await,
        401,
    );
    assert_eq!(
        app.post_json("/v1/auth/logout", &json!({"refresh_token": refresh}))
            .await
            .status
            .as_u16(),
        204,
        "idempotent"
    );
}

#[actix_web::test]
async fn forged_and_stale_tokens_are_401() {
    let app = spawn_app().await;
    let (id, access, _) = app.user("target@example.com").await;
    let pem = app.signing_pem();
    let kid = kid_of(&access);
    let t = now();

    let other_key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng)
        .to_pkcs8_pem(LineEnding::LF)
        .unwrap();
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let none_claims = URL_SAFE_NO_PAD.encode(claims(&id, json!({})).to_string());
    let public_x = app.get("/.well-known/jwks.json").await.json()["keys"][0]["x"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some(kid.clone());
    let hs256 = jsonwebtoken::encode(
        &hs_header,
        &claims(&id, json!({})),
        &EncodingKey::from_secret(public_x.as_bytes()),
    )
    .unwrap();

    // Sanity: a token we forge correctly is accepted, so the failures below are for the reason named.
    assert_eq!(
        app.get_with("/v1/me", &ed_token(&pem, &kid, &claims(&id, json!({}))))
            .await
            .status
            .as_u16(),
        200
    );

    let cases: Vec<(&str, String)> = vec![
        (
            "expired",
            ed_token(
                &pem,
                &kid,
                &claims(&id, json!({"iat": t - 7200, "nbf": t - 7200, "exp": t - 3600})),
            ),
        ),
        (
            "not yet valid",
            ed_token(
                &pem,
                &kid,
                &claims(&id, json!({"nbf": t + 3600, "exp": t + 7200})),
            ),
        ),
        (
            "signed with another key",
            ed_token(other_key.as_str(), &kid, &claims(&id, json!({}))),
        ),
        (
            "unknown kid",
            ed_token(other_key.as_str(), "some-other-kid", &claims(&id, json!({}))),
        ),
        ("no kid", {
            let header = Header::new(Algorithm::EdDSA);
            jsonwebtoken::encode(
                &header,
                &claims(&id, json!({})),
                &EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
            )
            .unwrap()
        }),
        ("alg none", format!("{none_header}.{none_claims}.")),
        ("HS256 with the public key", hs256),
        (
            "wrong audience",
            ed_token(&pem, &kid, &claims(&id, json!({"aud": "someone-else"}))),
        ),
        (
            "wrong issuer",
            ed_token(&pem, &kid, &claims(&id, json!({"iss": "evil"}))),
        ),
        (
            "issued an hour in the future (beyond the 30 s leeway)",
            ed_token(&pem, &kid, &claims(&id, json!({"iat": now() + 3600}))),
        ),
        ("missing exp", {
            let mut c = claims(&id, json!({}));
            c.as_object_mut().unwrap().remove("exp");
            ed_token(&pem, &kid, &c)
        }),
        ("tampered payload", {
            let mut parts: Vec<String> = access.split('.').map(str::to_owned).collect();
            parts[1] = URL_SAFE_NO_PAD.encode(claims("someone-else", json!({})).to_string());
            parts.join(".")
        }),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (case, token) in cases {
        assert_invalid_token(&app, &token, case).await;
    }

    let missing = app.get("/v1/me").await;
    assert_problem(&missing, 401);
    assert_eq!(
        missing.header("www-authenticate"),
        Some("Bearer realm=\"soleus-api\"")
    );
    let basic = app
        .send(
            app.client
                .get(app.url("/v1/me"))
                .insert_header(("Authorization", "Basic dXNlcjpwYXNz")),
            None,
        )
        .await;
    assert_problem(&basic, 401);
}

#[actix_web::test]
async fn users_change_and_delete_only_their_own_account() {
    let app = spawn_app().await;
    let (a_id, a_token, _) = app.user("a@example.com").await;
    let (b_id, b_token, b_refresh) = app.user("b@example.com").await;

    let res = app
        .send_json_with(
            "PATCH",
            "/v1/me",
            &a_token,
            &json!({"body_mass_kg": 70.5, "preferred_days": 3}),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.json()["profile"]["body_mass_kg"], 70.5);
    let res = app
        .send_json_with("PATCH", "/v1/me", &a_token, &json!({"body_mass_kg": null}))
        .await;
    assert!(res.json()["profile"]["body_mass_kg"].is_null(), "null clears");
    assert_eq!(
        app.get_with("/v1/me", &a_token).await.json()["profile"]["preferred_days"],
        3,
        "absent is unchanged"
    );
    let bad = app
        .send_json_with(
            "PATCH",
            "/v1/me",
            &a_token,
            &json!({"preferred_days": 12, "email": "x@y.z"}),
        )
        .await;
    assert_problem(&bad, 422);

    let b_before = app.get_with("/v1/me", &b_token).await.json();
    assert_eq!(b_before["id"], b_id.as_str());
    assert!(
        b_before["profile"]["preferred_days"].is_null(),
        "A's changes never reach B"
    );

    let programme = json!({"age": 40, "activity_level": "active", "goals": ["circulation"]});
    assert_eq!(
        app.send_json_with("POST", "/v1/me/programmes", &a_token, &programme)
            .await
            .status
            .as_u16(),
        201
    );
    assert_eq!(
        app.send_json_with("POST", "/v1/me/programmes", &b_token, &programme)
            .await
            .status
            .as_u16(),
        201
    );

    assert_eq!(app.delete_with("/v1/me", &a_token).await.status.as_u16(), 204);
    assert_problem(&app.get_with("/v1/me", &a_token).await, 401);
    assert_problem(&app.delete_with("/v1/me", &a_token).await, 401);
    assert_eq!(
        app.get_with("/v1/me", &b_token).await.status.as_u16(),
        200,
        "B is untouched"
    );

    let mut conn = app.raw_connection();
    let remaining: Vec<String> = users::table.select(users::id).load(&mut conn).unwrap();
    assert_eq!(remaining, std::slice::from_ref(&b_id));
    let a_tokens: i64 = refresh_tokens::table
        .filter(refresh_tokens::user_id.eq(&a_id))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(a_tokens, 0, "the account's rows are gone");
    let owners: Vec<String> = programmes::table
        .select(programmes::user_id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(
        owners,
        std::slice::from_ref(&b_id),
        "A's programmes went with the account; B's stayed"
    );
    assert_eq!(
        app.post_json("/v1/auth/refresh", &json!({"refresh_token": b_refresh}))
            .await
            .status
            .as_u16(),
        200
    );
}
