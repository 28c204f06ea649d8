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

#[actix_web::test]
async fn the_documented_maximum_batch_fits_the_configured_body_limit() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("batch-max@example.com").await;
    // 500 sessions of 8 sets each, the documented maximum (about 650 KB), over actix's 256 KiB
    // default payload limit.
    let sessions: Vec<Value> = (0..500)
        .map(|i| {
            let sets: Vec<Value> = (1..=8)
                .map(|n| json!({"exercise_id": "single-leg-bent-knee-heel-raise", "set_number": n, "side": "left", "reps": 15, "rpe": 7, "load_kg": 2.5, "completed": true}))
                .collect();
            json!({
                "id": uuid::Uuid::now_v7(),
                "started_at": format!("2026-12-{:02}T{:02}:{:02}:00+01:00", 1 + i / 96, (i % 96) / 4, (i % 4) * 15),
                "duration_seconds": 1200, "rpe": 6, "pain_during": 1,
                "notes": "Felt steady on both legs; kept the heel high on every rep and paused at the top.",
                "sets": sets
            })
        })
        .collect();
    let body = json!({ "sessions": sessions });
    let size = body.to_string().len();
    assert!(size > 600_000, "{size} bytes");
    let res = app
        .send_json_with("POST", "/v1/me/sessions/batch", &token, &body)
        .await;
    assert_eq!(
        res.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&res.body[..res.body.len().min(400)])
    );
    let results = res.json()["results"].as_array().map(Vec::len);
    assert_eq!(results, Some(500));
    // Over the configured limit: a 413 that names that limit.
    let big = json!({ "sessions": [ { "started_at": "2026-12-07T07:30:00+01:00", "duration_seconds": 1, "notes": "x".repeat(1_100_000) } ] });
    let problem = assert_problem(
        &app.send_json_with("POST", "/v1/me/sessions/batch", &token, &big)
            .await,
        413,
    );
    assert!(
        problem["detail"].as_str().unwrap_or_default().contains("1048576"),
        "{problem}"
    );
}

#[actix_web::test]
async fn a_body_that_trickles_in_is_cut_off_with_408() {
    let app = crate::helpers::spawn_app_with(|s| s.body_read_timeout_secs = 1, None).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let client = std::thread::spawn(move || -> String {
        use std::io::{Read as _, Write as _};
        let mut stream = std::net::TcpStream::connect(address).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .ok();
        let head = "POST /v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n";
        stream.write_all(head.as_bytes()).expect("head");
        for byte in b"{\"ema" {
            stream.write_all(&[*byte]).ok();
            std::thread::sleep(std::time::Duration::from_millis(400));
        }
        let mut answer = vec![0u8; 4096];
        let n = stream.read(&mut answer).unwrap_or(0);
        String::from_utf8_lossy(&answer[..n]).into_owned()
    });
    let started = std::time::Instant::now();
    while !client.is_finished() && started.elapsed() < std::time::Duration::from_secs(15) {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let answer = client.join().expect("client thread");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
}

#[actix_web::test]
async fn the_database_file_and_the_signing_key_are_private() {
    let app = spawn_app().await;
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: std::path::PathBuf| {
        std::fs::metadata(&p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    };
    assert_eq!(mode(app.data_dir().join("jwt-ed25519.pem")), 0o600);
    if !app.database_url.starts_with("postgres") {
        assert_eq!(
            mode(std::path::PathBuf::from(&app.database_url)),
            0o600,
            "SQLite file"
        );
        let wal = format!("{}-wal", app.database_url);
        if std::path::Path::new(&wal).exists() {
            assert_eq!(mode(wal.into()), 0o600, "WAL file");
        }
    }
}

#[actix_web::test]
async fn two_parallel_refreshes_never_log_the_user_out() {
    let app = spawn_app().await;
    let (_, _, mut refresh) = app.user("race@example.com").await;
    let mut logouts = 0;
    for _ in 0..20 {
        let body = json!({"refresh_token": refresh});
        let (a, b) = futures_util::future::join(
            app.post_json("/v1/auth/refresh", &body),
            app.post_json("/v1/auth/refresh", &body),
        )
        .await;
        logouts += usize::from(a.status.as_u16() != 200) + usize::from(b.status.as_u16() != 200);
        // The retry's new pair works: it was not treated as theft.
        let rb = b.json()["refresh_token"].clone();
        let next = app
            .post_json("/v1/auth/refresh", &json!({"refresh_token": rb}))
            .await;
        assert_eq!(
            next.status.as_u16(),
            200,
            "{}",
            String::from_utf8_lossy(&next.body)
        );
        refresh = next.json()["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
    }
    assert_eq!(logouts, 0);
}

#[actix_web::test]
async fn a_replay_after_the_grace_window_still_revokes_the_login() {
    let app = crate::helpers::spawn_app_with(|s| s.tokens.refresh_grace_secs = 0, None).await;
    let (_, _, first) = app.user("late@example.com").await;
    let res = app
        .post_json("/v1/auth/refresh", &json!({"refresh_token": first}))
        .await;
    let second = res.json()["refresh_token"].as_str().unwrap().to_owned();
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_problem(
        &app.post_json("/v1/auth/refresh", &json!({"refresh_token": first}))
            .await,
        401,
    );
    assert_problem(
        &app.post_json("/v1/auth/refresh", &json!({"refresh_token": second}))
            .await,
        401,
    );
}

#[actix_web::test]
async fn registrations_are_limited_per_address() {
    let app = crate::helpers::spawn_app_with(|s| s.registrations_per_address = 3, None).await;
    for n in 0..3 {
        app.register(&format!("flood-{n}@example.com")).await;
    }
    let res = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": "flood-4@example.com", "password": "calves of steel 2026"}),
        )
        .await;
    let problem = assert_problem(&res, 429);
    assert!(res.header("retry-after").is_some(), "{problem}");
}

#[actix_web::test]
async fn behind_a_trusted_proxy_the_throttle_counts_the_forwarded_client() {
    let app = crate::helpers::spawn_app_with(
        |s| {
            s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            s.login_failures_per_address = 2;
            s.login_failures_per_account = 100;
        },
        None,
    )
    .await;
    let app = &app;
    let attempt = |client: &'static str, email: &'static str| {
        let req = app
            .client
            .post(app.url("/v1/auth/token"))
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("X-Forwarded-For", client));
        let body = json!({"email": email, "password": "wrong password here"}).to_string();
        async move { app.send(req, Some(body.as_bytes())).await.status.as_u16() }
    };
    assert_eq!(attempt("203.0.113.7", "a@example.com").await, 401);
    assert_eq!(attempt("203.0.113.7", "b@example.com").await, 401);
    assert_eq!(
        attempt("203.0.113.7", "c@example.com").await,
        429,
        "that client is throttled"
    );
    assert_eq!(
        attempt("198.51.100.9", "d@example.com").await,
        401,
        "another client behind the same proxy is not"
    );
}

fn programme_request() -> Value {
    json!({"age": 45, "activity_level": "sedentary", "goals": ["circulation"]})
}

/// Defect 6: a cap on stored programmes and results, exact under parallel creates.
#[actix_web::test]
async fn programmes_and_results_are_capped_per_user_even_in_parallel() {
    let app = crate::helpers::spawn_app_with(
        |s| {
            s.quotas.programmes = 3;
            s.quotas.assessments = 1;
        },
        None,
    )
    .await;
    let (_, token, _) = app.user("quota@example.com").await;
    let (_, other, _) = app.user("quota-other@example.com").await;
    let request = programme_request();
    let creates = (0..6).map(|_| app.send_json_with("POST", "/v1/me/programmes", &token, &request));
    let statuses: Vec<u16> = futures_util::future::join_all(creates)
        .await
        .iter()
        .map(|r| r.status.as_u16())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 3, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 3, "{statuses:?}");
    let res = app
        .send_json_with("POST", "/v1/me/programmes", &token, &programme_request())
        .await;
    let body = assert_problem(&res, 409);
    assert_eq!(body["type"], "https://soleus-api.dev/problems/quota-exceeded");
    assert!(
        body["detail"].as_str().unwrap_or_default().contains('3'),
        "{body}"
    );
    let listed = app.get_with("/v1/me/programmes", &token).await.json();
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(3));
    // Another user has a quota of their own; a deleted programme frees a place.
    let res = app
        .send_json_with("POST", "/v1/me/programmes", &other, &programme_request())
        .await;
    assert_eq!(res.status.as_u16(), 201);
    let id = listed["items"][0]["id"].as_str().unwrap_or_default().to_owned();
    let res = app.delete_with(&format!("/v1/me/programmes/{id}"), &token).await;
    assert_eq!(res.status.as_u16(), 204);
    let res = app
        .send_json_with("POST", "/v1/me/programmes", &token, &programme_request())
        .await;
    assert_eq!(res.status.as_u16(), 201);

    let result = json!({"test": "chair_stand_30s", "reps": 12});
    let res = app
        .send_json_with("POST", "/v1/me/assessments", &token, &result)
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    let res = app
        .send_json_with("POST", "/v1/me/assessments", &token, &result)
        .await;
    assert_eq!(
        assert_problem(&res, 409)["type"],
        "https://soleus-api.dev/problems/quota-exceeded"
    );
    let stored = app.get_with("/v1/me/assessments", &token).await.json();
    assert_eq!(stored["items"].as_array().map(Vec::len), Some(1), "{stored}");
}

/// Defect 6: the programme list pages with a cursor and honours `limit`.
#[actix_web::test]
async fn the_programme_list_pages_with_a_cursor() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("pages@example.com").await;
    let mut created = Vec::new();
    for _ in 0..3 {
        let res = app
            .send_json_with("POST", "/v1/me/programmes", &token, &programme_request())
            .await;
        created.push(res.json()["id"].as_str().unwrap_or_default().to_owned());
    }
    created.reverse(); // newest first
    let first = app.get_with("/v1/me/programmes?limit=2", &token).await;
    assert_eq!(first.status.as_u16(), 200);
    let link = first.header("link").unwrap_or_default().to_owned();
    let page = first.json();
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(ids(&page), created[..2]);
    let cursor = page["next_cursor"].as_str().unwrap_or_default().to_owned();
    assert!(
        link.contains(&format!("cursor={cursor}")) && link.ends_with("rel=\"next\""),
        "{link}"
    );
    let rest = app
        .get_with(&format!("/v1/me/programmes?limit=2&cursor={cursor}"), &token)
        .await
        .json();
    assert_eq!(ids(&rest), created[2..]);
    assert!(rest.get("next_cursor").is_none(), "{rest}");
    let res = app.get_with("/v1/me/programmes?cursor=bm90LW91cnM", &token).await;
    assert_eq!(field_of(&assert_problem(&res, 400)), "cursor");
    let res = app.get_with("/v1/me/programmes?limit=101", &token).await;
    assert_eq!(field_of(&assert_problem(&res, 422)), "limit");
}

/// Finding 13: a session links only to one of its user's programmes, on every write path.
#[actix_web::test]
async fn a_session_links_only_to_its_users_own_programme() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("linker@example.com").await;
    let (_, other, _) = app.user("linker-other@example.com").await;
    let mine = app
        .send_json_with("POST", "/v1/me/programmes", &token, &programme_request())
        .await
        .json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let theirs = app
        .send_json_with("POST", "/v1/me/programmes", &other, &programme_request())
        .await
        .json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let with = |programme: &str| {
        let mut s = session();
        s["programme_id"] = json!(programme);
        s
    };
    for wrong in [theirs.as_str(), "no-such-programme"] {
        let res = app
            .send_json_with("POST", "/v1/me/sessions", &token, &with(wrong))
            .await;
        let body = assert_problem(&res, 422);
        assert_eq!(
            (field_of(&body), body["errors"][0]["code"].as_str()),
            ("programme_id", Some("not_found"))
        );
    }
    let res = app
        .send_json_with("POST", "/v1/me/sessions", &token, &with(&mine))
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    let id = res.json()["id"].as_str().unwrap_or_default().to_owned();
    // A replace cannot move it to someone else's programme.
    let res = app
        .send_json_with("PUT", &format!("/v1/me/sessions/{id}"), &token, &with(&theirs))
        .await;
    assert_eq!(field_of(&assert_problem(&res, 422)), "programme_id");
    // A batch refuses that item alone.
    let batch = json!({"sessions": [with(&theirs), with(&mine)]});
    let res = app
        .send_json_with("POST", "/v1/me/sessions/batch", &token, &batch)
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    let results = res.json()["results"].clone();
    assert_eq!(results[0]["status"], 422, "{results}");
    assert_eq!(
        results[0]["problem"]["errors"][0]["field"], "programme_id",
        "{results}"
    );
    assert_eq!(results[1]["result"], "created", "{results}");
    let listed = app.get_with("/v1/me/sessions", &token).await.json();
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(2), "{listed}");
}

/// Limits on every route: a budget per caller and kind, the `RateLimit` fields on every
/// limited response, a 429 problem with `Retry-After` past the budget.
#[actix_web::test]
async fn every_route_has_a_budget_per_caller_and_kind() {
    let app = crate::helpers::spawn_app_with(
        |s| {
            s.rate_limits = soleus_api::limits::Budgets {
                read: 3,
                write: 2,
                auth: 20,
                // A day: the test never straddles two windows.
                window_secs: 86_400,
                ..soleus_api::limits::Budgets::default()
            };
        },
        None,
    )
    .await;
    let (_, token, _) = app.user("budget@example.com").await;
    let (_, other, _) = app.user("budget-other@example.com").await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let res = app.get_with("/v1/me", &token).await;
        assert_eq!(res.status.as_u16(), 200);
        assert_eq!(res.header("ratelimit-policy"), Some("\"read\";q=3;w=86400"));
        remaining.push(res.header("ratelimit").unwrap_or_default().to_owned());
    }
    assert!(remaining[0].starts_with("\"read\";r=2;t="), "{remaining:?}");
    assert!(remaining[2].starts_with("\"read\";r=0;t="), "{remaining:?}");
    let res = app.get_with("/v1/me/sessions", &token).await;
    let body = assert_problem(&res, 429);
    assert_eq!(body["type"], "https://soleus-api.dev/problems/rate-limited");
    let retry: u64 = res
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!((1..=86_400).contains(&retry), "{retry}");
    assert!(
        res.header("ratelimit")
            .is_some_and(|v| v.starts_with("\"read\";r=0;"))
    );
    // Another user, and anonymous callers (by address), have budgets of their own; so do writes.
    assert_eq!(app.get_with("/v1/me", &other).await.status.as_u16(), 200);
    assert_eq!(app.get("/v1/exercises").await.status.as_u16(), 200);
    let res = app
        .send_json_with("POST", "/v1/me/sessions", &token, &session())
        .await;
    assert_eq!(res.status.as_u16(), 201);
    assert_eq!(res.header("ratelimit-policy"), Some("\"write\";q=2;w=86400"));
    // A forged token naming the user spends the address's budget, never the user's.
    let forged = format!("{}.e30.c2ln", token.split('.').next().unwrap_or_default());
    for _ in 0..2 {
        assert_eq!(app.get_with("/v1/me", &forged).await.status.as_u16(), 401);
    }
    assert_eq!(app.get_with("/v1/me", &other).await.status.as_u16(), 200);
    // The probes are never limited.
    for _ in 0..5 {
        let res = app.get("/healthz").await;
        assert_eq!(res.status.as_u16(), 200);
        assert!(res.header("ratelimit").is_none());
    }
}

/// Defect 6: sessions per day. A batch begun with room left is stored whole; then new sessions
/// wait for the next UTC day, while edits and deletes go on.
#[actix_web::test]
async fn an_account_creates_at_most_its_daily_quota_of_sessions() {
    let app = crate::helpers::spawn_app_with(|s| s.rate_limits.sessions_per_day = 3, None).await;
    let (_, token, _) = app.user("daily@example.com").await;
    let (_, other, _) = app.user("daily-other@example.com").await;
    let mut first = String::new();
    for _ in 0..2 {
        let res = app
            .send_json_with("POST", "/v1/me/sessions", &token, &session())
            .await;
        assert_eq!(res.status.as_u16(), 201);
        first = res.json()["id"].as_str().unwrap_or_default().to_owned();
    }
    let batch = json!({"sessions": [session(), session(), session()]});
    let res = app
        .send_json_with("POST", "/v1/me/sessions/batch", &token, &batch)
        .await;
    assert_eq!(res.status.as_u16(), 200);
    let res = app
        .send_json_with("POST", "/v1/me/sessions", &token, &session())
        .await;
    let body = assert_problem(&res, 429);
    assert_eq!(body["type"], "https://soleus-api.dev/problems/quota-exceeded");
    assert!(
        res.header("retry-after")
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|s| (1..=86_400).contains(&s))
    );
    let res = app
        .send_json_with("POST", "/v1/me/sessions/batch", &token, &batch)
        .await;
    assert_eq!(
        assert_problem(&res, 429)["type"],
        "https://soleus-api.dev/problems/quota-exceeded"
    );
    let stored = app.get_with("/v1/me/sessions?limit=100", &token).await.json();
    assert_eq!(
        stored["items"].as_array().map(Vec::len),
        Some(5),
        "nothing stored past the quota"
    );
    let res = app
        .send_json_with(
            "PATCH",
            &format!("/v1/me/sessions/{first}"),
            &token,
            &json!({"rpe": 6}),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(
        app.delete_with(&format!("/v1/me/sessions/{first}"), &token)
            .await
            .status
            .as_u16(),
        204
    );
    // Another account has its own quota.
    let res = app
        .send_json_with("POST", "/v1/me/sessions", &other, &session())
        .await;
    assert_eq!(res.status.as_u16(), 201);
}
