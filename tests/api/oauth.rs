//! OAuth 2.0 consent for partner apps: the authorization code flow with PKCE, its failures,
//! partner refresh tokens, revocation and the metadata (the browser test is `.ci/consent.mjs`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::prelude::*;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::helpers::{Response, TestApp, assert_problem, spawn_app};

const REDIRECT: &str = "https://partner.example/oauth/callback";
const VERIFIER: &str = "a-verifier-of-forty-three-characters-or-more-0123456789";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The value of `name` in a URL's query.
fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `name="…" value="…"` of a hidden field in the consent page.
fn hidden(page: &str, name: &str) -> Option<String> {
    let at = page.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &page[at + name.len() + 15..];
    Some(
        rest[..rest.find('"')?]
            .replace("&amp;", "&")
            .replace("&#x2f;", "/"),
    )
}

struct Partner {
    id: String,
    secret: String,
}

impl TestApp {
    /// A partner registered through the CLI with `REDIRECT` as its redirect URI.
    fn consenting_partner(&self, scopes: &str) -> Partner {
        let uris = format!("{REDIRECT},http://127.0.0.1:9/cb");
        let (id, secret) = self.partner_with(&[
            "--name",
            "Acme <Sync>",
            "--scopes",
            scopes,
            "--redirect-uris",
            &uris,
        ]);
        Partner { id, secret }
    }

    async fn authorize(&self, query: &str) -> Response {
        self.get(&format!("/v1/oauth/authorize?{query}")).await
    }

    /// Posts the consent form the page at `query` shows, with the page's cookie.
    async fn decide(&self, query: &str, decision: &str, email: &str, password: &str) -> Response {
        let page = self.authorize(query).await;
        assert_eq!(
            page.status.as_u16(),
            200,
            "{}",
            String::from_utf8_lossy(&page.body)
        );
        let cookie = page
            .header("set-cookie")
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let html = String::from_utf8_lossy(&page.body).into_owned();
        let names = [
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
            "csrf",
        ];
        let mut pairs: Vec<(String, String)> = names
            .iter()
            .filter_map(|n| hidden(&html, n).map(|v| ((*n).to_owned(), v)))
            .collect();
        pairs.extend([
            ("decision".to_owned(), decision.to_owned()),
            ("email".to_owned(), email.to_owned()),
            ("password".to_owned(), password.to_owned()),
        ]);
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let req = self
            .client
            .post(self.url("/v1/oauth/authorize"))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .insert_header(("Cookie", cookie));
        self.send(req, Some(body.as_bytes())).await
    }

    async fn token_form(&self, partner: &Partner, pairs: &[(&str, &str)]) -> Response {
        let mut all = pairs.to_vec();
        all.extend([
            ("client_id", partner.id.as_str()),
            ("client_secret", partner.secret.as_str()),
        ]);
        self.post_raw(
            "/v1/oauth/token",
            "application/x-www-form-urlencoded",
            encode(&all).as_bytes(),
        )
        .await
    }

    async fn exchange(&self, partner: &Partner, code: &str, redirect: &str, verifier: &str) -> Response {
        self.token_form(
            partner,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect),
                ("code_verifier", verifier),
            ],
        )
        .await
    }
}

fn authorize_query(partner: &Partner, scope: &str, state: &str) -> String {
    encode(&[
        ("response_type", "code"),
        ("client_id", &partner.id),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", state),
        ("code_challenge", &challenge(VERIFIER)),
        ("code_challenge_method", "S256"),
    ])
}

/// Consent given by `email` for `scope`: the code from the redirect.
async fn code_for(app: &TestApp, partner: &Partner, email: &str, scope: &str) -> String {
    let res = app
        .decide(
            &authorize_query(partner, scope, "xyz"),
            "approve",
            email,
            "calves of steel 2026",
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", String::from_utf8_lossy(&res.body));
    let location = res.header("location").unwrap().to_owned();
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some("xyz"),
        "state echoed"
    );
    query_param(&location, "code").unwrap()
}

fn oauth_error(res: &Response, status: u16) -> String {
    let body = assert_problem(res, status);
    body["error"].as_str().unwrap_or_default().to_owned()
}

#[actix_web::test]
async fn the_code_flow_grants_a_partner_the_consented_scopes_for_that_user() {
    let app = spawn_app().await;
    let partner = app.consenting_partner("sessions:read,sessions:write,programmes:read");
    let (user_id, user_token, _) = app.user("consent@example.com").await;
    let page = app
        .authorize(&authorize_query(&partner, "sessions:read", "xyz"))
        .await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    let html = String::from_utf8_lossy(&page.body);
    assert!(html.contains("Acme &lt;Sync&gt;"), "the partner's name, escaped");
    assert!(
        html.contains("see your workout sessions"),
        "scopes in plain words"
    );
    assert!(!html.contains("<script"), "no JavaScript");
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("form-action 'self' https://partner.example"),
        "{csp}"
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"));

    let code = code_for(&app, &partner, "consent@example.com", "sessions:read").await;
    let res = app.exchange(&partner, &code, REDIRECT, VERIFIER).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let tokens = res.json();
    assert_eq!(tokens["user_id"], user_id.as_str());
    assert_eq!(tokens["scope"], "sessions:read");
    let access = tokens["access_token"].as_str().unwrap();
    // The token reaches that user's sessions, read only.
    let res = app
        .get_with(&format!("/v1/users/{user_id}/sessions"), access)
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    let res = app
        .send_json_with(
            "POST",
            &format!("/v1/users/{user_id}/sessions"),
            access,
            &serde_json::json!({"started_at": "2026-12-01T07:00:00Z", "duration_seconds": 600}),
        )
        .await;
    assert_eq!(res.status.as_u16(), 403);
    // The grant is the same as one made from the app: listed, and revocable there.
    let grants = app.get_with("/v1/me/partner-grants", &user_token).await.json();
    assert_eq!(grants["items"][0]["partner_id"], partner.id.as_str());
    assert_eq!(grants["items"][0]["scopes"], serde_json::json!(["sessions:read"]));

    // Refresh rotates; the old one presented again revokes the consent's tokens.
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    let res = app
        .token_form(
            &partner,
            &[("grant_type", "refresh_token"), ("refresh_token", &first)],
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    let second = res.json()["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    // Past the grace window (10 s by default) a replay is theft; simulate it by ageing the use.
    let mut conn = app.raw_connection();
    diesel::sql_query(
        "UPDATE refresh_tokens SET used_at = used_at - INTERVAL '1 hour' WHERE used_at IS NOT NULL",
    )
    .execute(&mut conn)
    .or_else(|_| {
        diesel::sql_query(
            "UPDATE refresh_tokens SET used_at = datetime(used_at, '-1 hour') WHERE used_at IS NOT NULL",
        )
        .execute(&mut conn)
    })
    .unwrap();
    let res = app
        .token_form(
            &partner,
            &[("grant_type", "refresh_token"), ("refresh_token", &first)],
        )
        .await;
    assert_eq!(oauth_error(&res, 400), "invalid_grant");
    let res = app
        .token_form(
            &partner,
            &[("grant_type", "refresh_token"), ("refresh_token", &second)],
        )
        .await;
    assert_eq!(oauth_error(&res, 400), "invalid_grant", "the family is revoked");

    // A user's own refresh token is no partner's, and a partner's is no user's.
    let code = code_for(&app, &partner, "consent@example.com", "sessions:read").await;
    let partner_refresh = app.exchange(&partner, &code, REDIRECT, VERIFIER).await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .post_json(
            "/v1/auth/refresh",
            &serde_json::json!({"refresh_token": partner_refresh}),
        )
        .await;
    assert_eq!(res.status.as_u16(), 401);

    // Revocation (RFC 7009) ends it; unknown tokens are answered the same.
    for token in [partner_refresh.as_str(), "not-a-token"] {
        let res = app
            .token_form_to("/v1/oauth/revoke", &partner, &[("token", token)])
            .await;
        assert_eq!(res.status.as_u16(), 200);
    }
    let res = app
        .token_form(
            &partner,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &partner_refresh),
            ],
        )
        .await;
    assert_eq!(oauth_error(&res, 400), "invalid_grant");

    // Revoking the grant from the app stops refreshes too.
    let code = code_for(&app, &partner, "consent@example.com", "sessions:read").await;
    let live = app.exchange(&partner, &code, REDIRECT, VERIFIER).await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let grants = app.get_with("/v1/me/partner-grants", &user_token).await.json();
    let grant_id = grants["items"][0]["id"].as_str().unwrap();
    let res = app
        .delete_with(&format!("/v1/me/partner-grants/{grant_id}"), &user_token)
        .await;
    assert_eq!(res.status.as_u16(), 204);
    let res = app
        .token_form(
            &partner,
            &[("grant_type", "refresh_token"), ("refresh_token", &live)],
        )
        .await;
    assert_eq!(oauth_error(&res, 400), "invalid_grant");
    // A new consent does not revive the tokens of the revoked one.
    code_for(&app, &partner, "consent@example.com", "sessions:read").await;
    let res = app
        .token_form(
            &partner,
            &[("grant_type", "refresh_token"), ("refresh_token", &live)],
        )
        .await;
    assert_eq!(oauth_error(&res, 400), "invalid_grant", "revoked with its grant");
}

impl TestApp {
    async fn token_form_to(&self, path: &str, partner: &Partner, pairs: &[(&str, &str)]) -> Response {
        let mut all = pairs.to_vec();
        all.extend([
            ("client_id", partner.id.as_str()),
            ("client_secret", partner.secret.as_str()),
        ]);
        self.post_raw(path, "application/x-www-form-urlencoded", encode(&all).as_bytes())
            .await
    }
}

#[actix_web::test]
async fn pkce_and_code_failures_are_invalid_grant_and_a_reused_code_revokes_its_tokens() {
    let app = spawn_app().await;
    let partner = app.consenting_partner("sessions:read");
    let other = app.consenting_partner("sessions:read");
    app.user("pkce@example.com").await;

    // A wrong verifier; the code is spent by the attempt.
    let code = code_for(&app, &partner, "pkce@example.com", "sessions:read").await;
    let wrong = "another-verifier-of-forty-three-characters-or-more-xyz";
    assert_eq!(
        oauth_error(&app.exchange(&partner, &code, REDIRECT, wrong).await, 400),
        "invalid_grant"
    );
    assert_eq!(
        oauth_error(&app.exchange(&partner, &code, REDIRECT, VERIFIER).await, 400),
        "invalid_grant"
    );

    // Another client, or another redirect URI, cannot use the code.
    let code = code_for(&app, &partner, "pkce@example.com", "sessions:read").await;
    assert_eq!(
        oauth_error(&app.exchange(&other, &code, REDIRECT, VERIFIER).await, 400),
        "invalid_grant"
    );
    let code = code_for(&app, &partner, "pkce@example.com", "sessions:read").await;
    let res = app
        .exchange(&partner, &code, "http://127.0.0.1:9/cb", VERIFIER)
        .await;
    assert_eq!(oauth_error(&res, 400), "invalid_grant");

    // A reused code: the second exchange fails and the first one's tokens are revoked.
    let code = code_for(&app, &partner, "pkce@example.com", "sessions:read").await;
    let first = app.exchange(&partner, &code, REDIRECT, VERIFIER).await;
    assert_eq!(first.status.as_u16(), 200);
    let first = first.json();
    let (refresh, user_id) = (
        first["refresh_token"].as_str().unwrap().to_owned(),
        first["user_id"].as_str().unwrap().to_owned(),
    );
    let access = first["access_token"].as_str().unwrap().to_owned();
    let sessions = format!("/v1/users/{user_id}/sessions");
    assert_eq!(app.get_with(&sessions, &access).await.status.as_u16(), 200);
    assert_eq!(
        oauth_error(&app.exchange(&partner, &code, REDIRECT, VERIFIER).await, 400),
        "invalid_grant"
    );
    let res = app
        .token_form(
            &partner,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
    assert_eq!(oauth_error(&res, 400), "invalid_grant");
    // Access came from the consent's grant: the replay revoked it, so the access token of the
    // first exchange reads nothing more either.
    assert_eq!(app.get_with(&sessions, &access).await.status.as_u16(), 403);

    // An expired code (older than 60 s).
    let code = code_for(&app, &partner, "pkce@example.com", "sessions:read").await;
    app.execute_sql("UPDATE oauth_codes SET expires_at = created_at WHERE used_at IS NULL");
    assert_eq!(
        oauth_error(&app.exchange(&partner, &code, REDIRECT, VERIFIER).await, 400),
        "invalid_grant"
    );

    // Wrong client credentials are invalid_client (401).
    let impostor = Partner {
        id: partner.id.clone(),
        secret: "wrong".into(),
    };
    let code = code_for(&app, &partner, "pkce@example.com", "sessions:read").await;
    assert_eq!(
        oauth_error(&app.exchange(&impostor, &code, REDIRECT, VERIFIER).await, 401),
        "invalid_client"
    );
    let stored: i64 = {
        use soleus_api::db::schema::oauth_codes;
        oauth_codes::table
            .count()
            .get_result(&mut app.raw_connection())
            .unwrap()
    };
    assert!(stored >= 6, "{stored}");
}

#[actix_web::test]
async fn bad_authorization_requests_show_a_page_or_go_back_with_the_error_and_state() {
    let app = spawn_app().await;
    let partner = app.consenting_partner("sessions:read");
    let base = |overrides: &[(&str, &str)]| {
        let c = challenge(VERIFIER);
        let mut pairs: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", partner.id.as_str()),
            ("redirect_uri", REDIRECT),
            ("scope", "sessions:read"),
            ("state", "s-1"),
            ("code_challenge_method", "S256"),
        ];
        pairs.retain(|(k, _)| !overrides.iter().any(|(o, _)| o == k));
        pairs.extend(overrides.iter().filter(|(_, v)| !v.is_empty()));
        let mut query = encode(&pairs);
        if !overrides.iter().any(|(k, _)| *k == "code_challenge") {
            query.push_str(&format!("&code_challenge={c}"));
        }
        query
    };
    // Unknown client, and a redirect URI one character off: a page, no redirect.
    for query in [
        base(&[("client_id", "no-such-client")]),
        base(&[("redirect_uri", "https://partner.example/oauth/callbacks")]),
        base(&[("redirect_uri", "https://partner.example/oauth/callback/")]),
    ] {
        let res = app.authorize(&query).await;
        assert_eq!(res.status.as_u16(), 400, "{query}");
        assert!(res.header("location").is_none());
        assert!(res.header("content-type").unwrap().starts_with("text/html"));
    }
    // Everything else goes back to the partner with the error and the state.
    for (overrides, error) in [
        (vec![("scope", "sessions:read programmes:write")], "invalid_scope"),
        (vec![("scope", "flying:high")], "invalid_scope"),
        (vec![("response_type", "token")], "unsupported_response_type"),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("code_challenge", "")], "invalid_request"),
    ] {
        let res = app.authorize(&base(&overrides)).await;
        assert_eq!(res.status.as_u16(), 303, "{overrides:?}");
        let location = res.header("location").unwrap();
        assert!(location.starts_with(REDIRECT), "{location}");
        assert_eq!(
            query_param(location, "error").as_deref(),
            Some(error),
            "{overrides:?}"
        );
        assert_eq!(query_param(location, "state").as_deref(), Some("s-1"));
    }
    // Deny: access_denied with the state. A wrong password: the page again, 401.
    app.user("denier@example.com").await;
    let query = authorize_query(&partner, "sessions:read", "st");
    let res = app.decide(&query, "deny", "", "").await;
    assert_eq!(res.status.as_u16(), 303);
    let location = res.header("location").unwrap();
    assert_eq!(query_param(location, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(location, "state").as_deref(), Some("st"));
    let res = app
        .decide(&query, "approve", "denier@example.com", "wrong password!")
        .await;
    assert_eq!(res.status.as_u16(), 401);
    assert!(String::from_utf8_lossy(&res.body).contains("The email or password is wrong."));
    // A form another site posted is refused, whatever it carries.
    let page = app.authorize(&query).await;
    let set_cookie = page.header("set-cookie").unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    assert!(
        cookie.starts_with("__Host-") && set_cookie.contains("Secure"),
        "{set_cookie}"
    );
    let csrf = hidden(&String::from_utf8_lossy(&page.body), "csrf").unwrap();
    let body = encode(&[("decision", "deny"), ("csrf", &csrf), ("client_id", &partner.id)]);
    let req = app
        .client
        .post(app.url("/v1/oauth/authorize"))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .insert_header(("Cookie", cookie))
        .insert_header(("Sec-Fetch-Site", "cross-site"));
    assert_eq!(app.send(req, Some(body.as_bytes())).await.status.as_u16(), 403);
    // A form without the page's cookie is refused (CSRF).
    let body = encode(&[
        ("decision", "approve"),
        ("csrf", "forged"),
        ("client_id", &partner.id),
    ]);
    let res = app
        .post_raw(
            "/v1/oauth/authorize",
            "application/x-www-form-urlencoded",
            body.as_bytes(),
        )
        .await;
    assert_eq!(res.status.as_u16(), 403);
}

#[actix_web::test]
async fn the_server_metadata_describes_the_flow() {
    // With a public URL configured, it names that and may be cached.
    let public =
        crate::helpers::spawn_app_with(|s| s.public_url = Some("https://api.example".into()), None).await;
    let req = public
        .client
        .get(public.url("/.well-known/oauth-authorization-server"))
        .insert_header(("X-Forwarded-Host", "evil.example"));
    let res = public.send(req, None).await;
    assert_eq!(res.json()["token_endpoint"], "https://api.example/v1/oauth/token");
    assert_eq!(res.header("cache-control"), Some("public, max-age=3600"));
    // Without one it follows the request's host, which a caller controls: never cached.
    let app = spawn_app().await;
    let res = app.get("/.well-known/oauth-authorization-server").await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let meta: Value = res.json();
    assert_eq!(meta["issuer"], app.url(""));
    assert_eq!(meta["authorization_endpoint"], app.url("/v1/oauth/authorize"));
    assert_eq!(meta["token_endpoint"], app.url("/v1/oauth/token"));
    assert_eq!(meta["revocation_endpoint"], app.url("/v1/oauth/revoke"));
    assert_eq!(
        meta["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(meta["response_types_supported"], serde_json::json!(["code"]));
    let grants = meta["grant_types_supported"].as_array().unwrap();
    assert!(grants.iter().any(|g| g == "authorization_code") && !grants.iter().any(|g| g == "implicit"));
}
