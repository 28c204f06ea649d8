//! Stored programmes (owner-only) and partner access through grants.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};

fn request() -> Value {
    json!({
        "age": 40, "activity_level": "active", "goals": ["circulation"], "start_date": "2027-01-04", "weeks": 4,
        "screening": {"chest_pain": false, "dizziness_or_fainting": false, "calf_swelling_warmth_redness": false, "acute_calf_strain": false}
    })
}

impl TestApp {
    /// Registers a partner through the CLI code path; returns (client id, secret).
    pub fn partner(&self, scopes: &str) -> (String, String) {
        self.partner_with(&["--name", "Acme Sync", "--scopes", scopes])
    }

    /// `partners create` with these arguments; returns (client id, secret).
    pub fn partner_with(&self, args: &[&str]) -> (String, String) {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_soleus-api"))
            .args(["partners", "create"])
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("SOLEUS_DATA_DIR", self.data_dir())
            .env("RUST_LOG", "off")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_owned())
                .unwrap()
        };
        (field("client_id:"), field("client_secret:"))
    }

    /// A registered partner with these scopes, and an access token for all of them:
    /// (client id, secret, token).
    pub async fn partner_access(&self, scopes: &str) -> (String, String, String) {
        let (id, secret) = self.partner(scopes);
        let token = self.partner_token(&id, &secret, None).await.json()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        (id, secret, token)
    }

    pub async fn partner_token(
        &self,
        id: &str,
        secret: &str,
        scope: Option<&str>,
    ) -> crate::helpers::Response {
        let mut form = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
        if let Some(scope) = scope {
            form.push_str(&format!("&scope={}", scope.replace(' ', "+")));
        }
        self.post_raw(
            "/v1/oauth/token",
            "application/x-www-form-urlencoded",
            form.as_bytes(),
        )
        .await
    }
}

#[actix_web::test]
async fn a_user_stores_lists_reads_and_deletes_only_their_own_programmes() {
    let app = spawn_app().await;
    let (_, a, _) = app.user("owner@example.com").await;
    let (_, b, _) = app.user("other@example.com").await;

    let created = app
        .send_json_with("POST", "/v1/me/programmes", &a, &request())
        .await;
    assert_eq!(
        created.status.as_u16(),
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let body = created.json();
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/me/programmes/{id}").as_str())
    );
    assert_eq!(body["source"], "app");
    assert_eq!(body["programme"]["weeks"].as_array().unwrap().len(), 4);

    let list = app.get_with("/v1/me/programmes", &a).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], id.as_str());
    assert_eq!(list["items"][0]["safety_status"], "cleared");

    let one = app.get_with(&format!("/v1/me/programmes/{id}"), &a).await;
    assert_eq!(one.status.as_u16(), 200);
    assert_eq!(one.json()["programme"], body["programme"]);
    let tag = one.header("etag").unwrap().to_owned();
    let req = app
        .client
        .get(app.url(&format!("/v1/me/programmes/{id}")))
        .insert_header(("Authorization", format!("Bearer {a}")))
        .insert_header(("If-None-Match", tag));
    assert_eq!(app.send(req, None).await.status.as_u16(), 304);

    // User B cannot see, read, export or delete A's programme: it does not exist for them.
    assert_eq!(
        app.get_with("/v1/me/programmes", &b).await.json()["items"],
        json!([])
    );
    for path in [
        format!("/v1/me/programmes/{id}"),
        format!("/v1/me/programmes/{id}/calendar.ics"),
    ] {
        assert_problem(&app.get_with(&path, &b).await, 404);
    }
    assert_problem(
        &app.delete_with(&format!("/v1/me/programmes/{id}"), &b).await,
        404,
    );
    assert_eq!(
        app.get_with(&format!("/v1/me/programmes/{id}"), &a)
            .await
            .status
            .as_u16(),
        200,
        "still there"
    );

    assert_eq!(
        app.delete_with(&format!("/v1/me/programmes/{id}"), &a)
            .await
            .status
            .as_u16(),
        204
    );
    assert_problem(&app.get_with(&format!("/v1/me/programmes/{id}"), &a).await, 404);
    assert_problem(&app.get("/v1/me/programmes").await, 401);
}

/// Unfolds RFC 5545 content lines and returns each VEVENT as a list of (name, value).
fn parse_ics(text: &str) -> Vec<Vec<(String, String)>> {
    assert!(
        text.lines().all(|l| l.len() <= 76),
        "lines are folded at 75 octets"
    );
    let unfolded = text.replace("\r\n ", "");
    let mut events = Vec::new();
    let mut current: Option<Vec<(String, String)>> = None;
    for line in unfolded.split("\r\n").filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').unwrap();
        match (name, value) {
            ("BEGIN", "VEVENT") => current = Some(Vec::new()),
            ("END", "VEVENT") => events.push(current.take().unwrap()),
            _ => {
                if let Some(event) = current.as_mut() {
                    event.push((name.to_owned(), value.to_owned()));
                }
            }
        }
    }
    events
}

#[actix_web::test]
async fn the_calendar_has_one_event_per_session_on_its_date() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("cal@example.com").await;
    let body = app
        .send_json_with("POST", "/v1/me/programmes", &token, &request())
        .await
        .json();
    let id = body["id"].as_str().unwrap();
    let res = app
        .get_with(&format!("/v1/me/programmes/{id}/calendar.ics"), &token)
        .await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.header("content-type"), Some("text/calendar; charset=utf-8"));
    let text = String::from_utf8(res.body.to_vec()).unwrap();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
    let events = parse_ics(&text);
    let sessions: Vec<&Value> = body["programme"]["weeks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w["sessions"].as_array().unwrap())
        .collect();
    assert_eq!(events.len(), sessions.len());
    let get = |event: &Vec<(String, String)>, name: &str| {
        event
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    for (event, session) in events.iter().zip(&sessions) {
        let date = session["date"].as_str().unwrap().replace('-', "");
        assert_eq!(get(event, "DTSTART;VALUE=DATE"), date);
        assert!(get(event, "UID").starts_with(id));
        assert!(get(event, "SUMMARY").starts_with("Soleus session\\, week"));
        let first = session["exercises"][0]["name"]
            .as_str()
            .unwrap()
            .replace(',', "\\,");
        assert!(get(event, "DESCRIPTION").contains(&first), "{first}");
    }
    assert_eq!(get(&events[0], "DTSTART;VALUE=DATE"), "20270104");
}

/// The printable page: the owner's (or a granted partner's) alone, every week on it, cacheable.
#[actix_web::test]
async fn the_print_page_shows_every_week_to_the_owner_and_a_granted_partner_only() {
    let app = spawn_app().await;
    let (user_id, token, _) = app.user("print@example.com").await;
    let (_, other, _) = app.user("print-other@example.com").await;
    let body = app
        .send_json_with("POST", "/v1/me/programmes", &token, &request())
        .await
        .json();
    let id = body["id"].as_str().unwrap();
    let path = format!("/v1/me/programmes/{id}/print");
    let res = app.get_with(&path, &token).await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
    let page = String::from_utf8(res.body.to_vec()).unwrap();
    let weeks = body["programme"]["weeks"].as_array().unwrap();
    for week in weeks {
        let n = &week["number"];
        assert!(
            page.contains(&format!("<h2 id=\"week-{n}\">Week {n}: ")),
            "week {n}"
        );
        assert!(page.contains(&format!("Week {n} log: tick")), "log of week {n}");
    }
    for finding in body["programme"]["safety"]["findings"].as_array().unwrap() {
        assert!(page.contains(finding["rule"].as_str().unwrap()));
    }
    assert!(!page.contains("<script"), "no script");
    let etag = res.header("etag").unwrap().to_owned();
    let again = app
        .send_with_headers("GET", &path, &token, &[("If-None-Match", &etag)], None)
        .await;
    assert_eq!(again.status.as_u16(), 304);

    assert_problem(&app.get_with(&path, &other).await, 404);
    let (partner_id, _, partner) = app.partner_access("programmes:read").await;
    let twin = format!("/v1/users/{user_id}/programmes/{id}/print");
    assert_problem(&app.get_with(&twin, &partner).await, 403);
    let grant = json!({"partner_id": partner_id, "scopes": ["programmes:read"]});
    let res = app
        .send_json_with("POST", "/v1/me/partner-grants", &token, &grant)
        .await;
    assert_eq!(res.status.as_u16(), 201);
    let res = app.get_with(&twin, &partner).await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.body, page.as_bytes());
}

/// The FHIR exports: the owner's alone, as `application/fhir+json`, with stable ids.
#[actix_web::test]
async fn fhir_exports_are_the_owners_alone_and_keep_their_ids() {
    let app = spawn_app().await;
    let (user_id, token, _) = app.user("fhir@example.com").await;
    let (_, other, _) = app.user("fhir-other@example.com").await;
    let id = app
        .send_json_with("POST", "/v1/me/programmes", &token, &request())
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/me/programmes/{id}/fhir");
    let res = app.get_with(&path, &token).await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.header("content-type"), Some("application/fhir+json"));
    let bundle = res.json();
    assert_eq!(bundle["resourceType"], "Bundle");
    let ids = |b: &Value| -> Vec<String> {
        b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["fullUrl"].as_str().unwrap().to_owned())
            .collect()
    };
    let patient = &bundle["entry"][0]["resource"];
    assert_eq!(patient["identifier"][0]["value"], user_id.as_str());
    assert!(
        !bundle.to_string().contains("fhir@example.com"),
        "no email leaves"
    );
    assert_eq!(ids(&app.get_with(&path, &token).await.json()), ids(&bundle));
    assert_problem(&app.get_with(&path, &other).await, 404);

    let res = app
        .post_session(
            &token,
            &crate::sessions::session(None, "2026-12-07T07:30:00+01:00"),
        )
        .await;
    assert_eq!(res.status.as_u16(), 201);
    let range = "from=2026-12-01T00:00:00Z&to=2026-12-31T00:00:00Z";
    let mine = app
        .get_with(&format!("/v1/me/sessions.fhir?{range}"), &token)
        .await;
    assert_eq!(mine.status.as_u16(), 200);
    let groups = |b: &Value| {
        b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["resource"]["code"]["coding"][0]["code"] == "PAPanel")
            .count()
    };
    assert_eq!(groups(&mine.json()), 1);
    let theirs = app
        .get_with(&format!("/v1/me/sessions.fhir?{range}"), &other)
        .await;
    assert_eq!(
        groups(&theirs.json()),
        0,
        "another user's export holds none of her sessions"
    );
    let bad = app
        .get_with(
            "/v1/me/sessions.fhir?from=2026-12-31T00:00:00Z&to=2026-12-01T00:00:00Z",
            &token,
        )
        .await;
    assert_eq!(assert_problem(&bad, 422)["errors"][0]["field"], "from");
}

#[actix_web::test]
async fn partners_get_tokens_with_client_credentials() {
    let app = spawn_app().await;
    let (id, secret) = app.partner("programmes:read,programmes:write");

    let res = app.partner_token(&id, &secret, None).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["scope"], "programmes:read programmes:write");
    let basic = app
        .send(
            app.client
                .post(app.url("/v1/oauth/token"))
                .insert_header((
                    "Authorization",
                    format!(
                        "Basic {}",
                        base64::Engine::encode(
                            &base64::engine::general_purpose::STANDARD,
                            format!("{id}:{secret}")
                        )
                    ),
                ))
                .insert_header(("Content-Type", "application/x-www-form-urlencoded")),
            Some(b"grant_type=client_credentials&scope=programmes:read"),
        )
        .await;
    assert_eq!(basic.json()["scope"], "programmes:read");

    let wrong = app.partner_token(&id, "wrong-secret", None).await;
    assert_eq!(assert_problem(&wrong, 401)["error"], "invalid_client");
    assert_eq!(
        wrong.header("www-authenticate"),
        Some("Basic realm=\"soleus-api\"")
    );
    assert_eq!(
        assert_problem(
            &app.partner_token(&id, &secret, Some("sessions:write")).await,
            400
        )["error"],
        "invalid_scope"
    );
    assert_eq!(
        assert_problem(&app.partner_token(&id, &secret, Some("admin")).await, 400)["error"],
        "invalid_scope"
    );
    let password_grant = app
        .post_raw(
            "/v1/oauth/token",
            "application/x-www-form-urlencoded",
            b"grant_type=password",
        )
        .await;
    assert_eq!(
        assert_problem(&password_grant, 400)["error"],
        "unsupported_grant_type"
    );
    let twice = app
        .post_raw(
            "/v1/oauth/token",
            "application/x-www-form-urlencoded",
            b"grant_type=client_credentials&grant_type=client_credentials",
        )
        .await;
    assert_eq!(assert_problem(&twice, 400)["error"], "invalid_request");
}

#[actix_web::test]
async fn a_partner_acts_only_under_an_active_grant_and_within_its_scopes() {
    let app = spawn_app().await;
    let (user_id, user_token, _) = app.user("member@example.com").await;
    let (other_id, other_token, _) = app.user("stranger@example.com").await;
    let (pid, secret, token) = app.partner_access("programmes:read,programmes:write").await;
    let read_only = app
        .partner_token(&pid, &secret, Some("programmes:read"))
        .await
        .json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/users/{user_id}/programmes");

    // No grant yet.
    assert_problem(&app.get_with(&path, &token).await, 403);

    let grant = app
        .send_json_with(
            "POST",
            "/v1/me/partner-grants",
            &user_token,
            &json!({"partner_id": pid, "scopes": ["programmes:read"]}),
        )
        .await;
    assert_eq!(
        grant.status.as_u16(),
        201,
        "{}",
        String::from_utf8_lossy(&grant.body)
    );
    let grant_id = grant.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get_with("/v1/me/partner-grants", &user_token).await.json()["items"][0]["partner_name"],
        "Acme Sync"
    );

    assert_eq!(
        app.get_with(&path, &token).await.status.as_u16(),
        200,
        "read is granted"
    );
    let write = app.send_json_with("POST", &path, &token, &request()).await;
    let body = assert_problem(&write, 403);
    assert_eq!(
        body["type"], "https://soleus-api.dev/problems/insufficient-scope",
        "the grant lacks programmes:write"
    );
    assert!(
        write
            .header("www-authenticate")
            .unwrap()
            .contains("insufficient_scope")
    );

    // A wider grant: the partner may write, but not with a read-only token.
    app.send_json_with(
        "POST",
        "/v1/me/partner-grants",
        &user_token,
        &json!({"partner_id": pid, "scopes": ["programmes:read", "programmes:write"]}),
    )
    .await;
    assert_problem(
        &app.send_json_with("POST", &path, &read_only, &request()).await,
        403,
    );
    let created = app.send_json_with("POST", &path, &token, &request()).await;
    assert_eq!(created.status.as_u16(), 201);
    assert_eq!(created.json()["source"], pid.as_str());
    assert_eq!(
        app.get_with("/v1/me/programmes", &user_token).await.json()["items"][0]["source"],
        pid.as_str(),
        "the user sees what the partner stored"
    );

    // The other user never granted anything; the partner cannot reach them.
    assert_problem(
        &app.get_with(&format!("/v1/users/{other_id}/programmes"), &token)
            .await,
        403,
    );
    assert_eq!(
        app.get_with("/v1/me/programmes", &other_token).await.json()["items"],
        json!([])
    );

    // End-user and partner tokens do not open each other's routes.
    assert_problem(&app.get_with(&path, &user_token).await, 403);
    assert_problem(&app.get_with("/v1/me", &token).await, 403);

    // Revoking takes effect on the next request.
    let grants = app.get_with("/v1/me/partner-grants", &user_token).await.json();
    let active = grants["items"][0]["id"].as_str().unwrap().to_owned();
    assert_ne!(active, grant_id, "the wider grant replaced the first");
    assert_eq!(
        app.delete_with(&format!("/v1/me/partner-grants/{active}"), &user_token)
            .await
            .status
            .as_u16(),
        204
    );
    assert_problem(&app.get_with(&path, &token).await, 403);
    assert_problem(
        &app.delete_with(&format!("/v1/me/partner-grants/{active}"), &other_token)
            .await,
        404,
    );

    // An operator revoking the partner stops its tokens too.
    app.send_json_with(
        "POST",
        "/v1/me/partner-grants",
        &user_token,
        &json!({"partner_id": pid, "scopes": ["programmes:read"]}),
    )
    .await;
    assert_eq!(app.get_with(&path, &token).await.status.as_u16(), 200);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_soleus-api"))
        .args(["partners", "revoke", &pid])
        .env("DATABASE_URL", &app.database_url)
        .env("SOLEUS_DATA_DIR", app.data_dir())
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_problem(&app.get_with(&path, &token).await, 403);
    assert_eq!(
        assert_problem(&app.partner_token(&pid, &secret, None).await, 401)["error"],
        "invalid_client"
    );
}

/// One order of answers on every route, whatever the timing: the token (401), then the
/// request itself (422), then the scope or grant (403). Before the grant check moved out of
/// the extractor, "no grant and a bad body" could answer either, depending on which finished
/// first.
#[actix_web::test]
async fn a_partner_without_a_grant_gets_the_request_error_first_then_403() {
    let app = spawn_app().await;
    let (user_id, _, _) = app.user("order@example.com").await;
    let (_, _, token) = app.partner_access("sessions:read sessions:write").await;
    let path = format!("/v1/users/{user_id}/sessions");
    for _ in 0..20 {
        let bad = app
            .send_json_with("POST", &path, &token, &json!({"duration_seconds": -1}))
            .await;
        assert_eq!(
            assert_problem(&bad, 422)["type"],
            "https://soleus-api.dev/problems/validation"
        );
    }
    let good = json!({"started_at": "2026-12-01T07:00:00Z", "duration_seconds": 600});
    let refused = app.send_json_with("POST", &path, &token, &good).await;
    assert_eq!(
        assert_problem(&refused, 403)["type"],
        "https://soleus-api.dev/problems/forbidden"
    );
    let unauthenticated = app.post_json(&path, &good).await;
    assert_problem(&unauthenticated, 401);
}

/// Every route a user has for their own data under `/v1/me/…` exists for a granted partner
/// under `/v1/users/{user_id}/…`, with the same methods (the account itself, the user's
/// grants and calendar subscriptions, credentials to the user's data, are the user's alone).
#[test]
fn every_user_data_route_has_its_partner_twin() {
    let api = serde_json::to_value(soleus_api::openapi::build_openapi()).unwrap();
    let paths = api["paths"].as_object().unwrap();
    let methods = |item: &Value| -> Vec<String> {
        ["get", "post", "put", "patch", "delete"]
            .into_iter()
            .filter(|m| item.get(*m).is_some())
            .map(str::to_owned)
            .collect()
    };
    let mut twins = 0;
    for (path, item) in paths {
        let Some(rest) = path.strip_prefix("/v1/me/") else {
            continue;
        };
        if rest.starts_with("partner-grants") || rest.ends_with("/calendar-subscription") {
            continue;
        }
        let twin = format!("/v1/users/{{user_id}}/{rest}");
        let partner = paths
            .get(&twin)
            .unwrap_or_else(|| panic!("{path} has no partner twin {twin}"));
        assert_eq!(methods(item), methods(partner), "{path} and {twin}");
        for m in methods(partner) {
            assert_eq!(partner[&m]["tags"][0], "partners", "{twin} {m}");
            assert!(
                partner[&m]["responses"].get("403").is_some(),
                "{twin} {m} documents 403"
            );
        }
        twins += 1;
    }
    assert!(twins >= 13, "{twins} twins");
}

/// A granted partner reads and writes through the twins exactly what the user would, and
/// nothing of a user who granted it nothing.
#[actix_web::test]
async fn a_granted_partner_has_the_users_routes_for_that_user_only() {
    let app = spawn_app().await;
    let (user_id, user_token, _) = app.user("parity@example.com").await;
    let (stranger_id, _, _) = app.user("parity-stranger@example.com").await;
    let (pid, _, token) = app
        .partner_access("programmes:read,programmes:write,sessions:read,sessions:write")
        .await;
    let granted = app
        .send_json_with(
            "POST",
            "/v1/me/partner-grants",
            &user_token,
            &json!({"partner_id": pid, "scopes": ["programmes:read", "programmes:write", "sessions:read", "sessions:write"]}),
        )
        .await;
    assert_eq!(granted.status.as_u16(), 201);
    let base = format!("/v1/users/{user_id}");

    // A programme, adapted by the partner; its versions, diff and calendar.
    let created = app
        .send_json_with(
            "POST",
            &format!("{base}/programmes?auto_adapt=false"),
            &token,
            &request(),
        )
        .await;
    assert_eq!(
        created.status.as_u16(),
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let programme = created.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.header("location"),
        Some(format!("{base}/programmes/{programme}").as_str())
    );
    let adapt = app
        .send_json_with(
            "POST",
            &format!("{base}/programmes/{programme}/adapt"),
            &token,
            &json!({}),
        )
        .await;
    assert!(
        matches!(adapt.status.as_u16(), 200 | 201),
        "{}",
        String::from_utf8_lossy(&adapt.body)
    );
    for path in ["versions", "versions/1", "diff?from=1&to=1", "calendar.ics"] {
        let res = app
            .get_with(&format!("{base}/programmes/{programme}/{path}"), &token)
            .await;
        assert_eq!(
            res.status.as_u16(),
            200,
            "{path}: {}",
            String::from_utf8_lossy(&res.body)
        );
    }

    // A session: the Location the create gives is a route that answers, PATCH through it, and
    // the user sees the partner's change.
    let session = json!({"started_at": "2026-12-01T07:00:00Z", "duration_seconds": 600,
                         "sets": [{"exercise_id": "seated-calf-raise", "set_number": 1, "side": "both", "reps": 20}]});
    let created = app
        .send_json_with("POST", &format!("{base}/sessions"), &token, &session)
        .await;
    assert_eq!(created.status.as_u16(), 201);
    let location = created.header("location").unwrap().to_owned();
    assert_eq!(app.get_with(&location, &token).await.status.as_u16(), 200);
    let patched = app
        .send_json_with("PATCH", &location, &token, &json!({"pain_next_morning": 2}))
        .await;
    assert_eq!(
        patched.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&patched.body)
    );
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let mine = app
        .get_with(&format!("/v1/me/sessions/{id}"), &user_token)
        .await
        .json();
    assert_eq!(mine["pain_next_morning"], 2);

    // Assessments and stats.
    let test = json!({"test": "single_leg_heel_raise", "performed_at": "2026-12-01T08:00:00Z", "left_reps": 20, "right_reps": 22});
    let recorded = app
        .send_json_with("POST", &format!("{base}/assessments"), &token, &test)
        .await;
    assert_eq!(
        recorded.status.as_u16(),
        201,
        "{}",
        String::from_utf8_lossy(&recorded.body)
    );
    assert_eq!(
        app.get_with(&format!("{base}/assessments"), &token).await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.get_with(&format!("{base}/stats"), &token)
            .await
            .status
            .as_u16(),
        200
    );

    // The same routes for a user who granted nothing: 403, and nothing of theirs is touched.
    for path in ["sessions", "stats", "assessments", "programmes"] {
        assert_problem(
            &app.get_with(&format!("/v1/users/{stranger_id}/{path}"), &token)
                .await,
            403,
        );
    }
    assert_problem(
        &app.delete_with(&format!("/v1/users/{stranger_id}/sessions/{id}"), &token)
            .await,
        403,
    );
    // And deleting through the twin leaves the user's tombstone.
    assert_eq!(app.delete_with(&location, &token).await.status.as_u16(), 204);
    assert_problem(
        &app.get_with(&format!("/v1/me/sessions/{id}"), &user_token).await,
        404,
    );
}
