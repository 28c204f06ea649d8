//! The examples of the OpenAPI document's success responses are real answers: this walk drives a
//! real server through every operation that answers with a body, as an integrator would (a
//! 72-year-old's fall-prevention programme, her sessions and test, a partner that syncs them),
//! and keeps each answer, arrays cut to two items and addresses replaced by `example` hosts.
//!
//! `UPDATE_EXAMPLES=1 cargo test --test api examples` writes `openapi/examples.json`, which
//! `src/openapi.rs` attaches to the document. Otherwise the walk checks that every committed
//! example still has the shape (members and JSON types) of the answer the server gives now, so a
//! new or renamed field cannot leave the documented example behind.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::helpers::{Response, TestApp, spawn_app_with};
use crate::webhooks::Receiver;

const EXAMPLES_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/examples.json");
const HINT: &str = "regenerate with: UPDATE_EXAMPLES=1 cargo test --test api examples, \
                    then UPDATE_OPENAPI=1 cargo test --test api openapi";
const API_HOST: &str = "https://api.soleus.example";
const PARTNER_HOST: &str = "https://partner.example";
const EMAIL: &str = "margaret.hale@example.com";
const PASSWORD: &str = "calves of steel 2026";

/// The answers kept so far, by `METHOD /template STATUS`, and the request bodies the document
/// lacks, by `METHOD /template request`.
struct Recorder {
    app: TestApp,
    kept: BTreeMap<String, Value>,
    /// Test addresses and what the examples show instead.
    hosts: Vec<(String, String)>,
}

impl Recorder {
    /// Asserts the status and keeps the body (JSON, or text as a string) under `key`.
    fn keep(&mut self, key: &str, res: &Response) -> Value {
        let status = key.rsplit(' ').next().unwrap();
        assert_eq!(
            res.status.as_str(),
            status,
            "{key}: {}",
            String::from_utf8_lossy(&res.body)
        );
        let text = String::from_utf8_lossy(&res.body).into_owned();
        let json_body = serde_json::from_slice::<Value>(&res.body).ok();
        let kept = match &json_body {
            Some(value) => trimmed(value),
            None => Value::String(trimmed_text(&text)),
        };
        self.kept.insert(key.to_owned(), self.anonymised(kept));
        json_body.unwrap_or(Value::String(text))
    }

    /// Keeps a request body the document has no example for.
    fn request(&mut self, key: &str, body: &Value) {
        let body = self.anonymised(body.clone());
        self.kept.insert(format!("{key} request"), body);
    }

    fn anonymised(&self, value: Value) -> Value {
        let mut text = value.to_string();
        for (from, to) in &self.hosts {
            text = text.replace(from.as_str(), to);
        }
        serde_json::from_str(&text).unwrap()
    }

    async fn get(&mut self, key: &str, path: &str, token: &str) -> Value {
        let res = if token.is_empty() {
            self.app.get(path).await
        } else {
            self.app.get_with(path, token).await
        };
        self.keep(key, &res)
    }

    async fn send(&mut self, key: &str, method: &str, path: &str, token: &str, body: &Value) -> Value {
        let res = if token.is_empty() {
            self.app.post_json(path, body).await
        } else {
            self.app.send_json_with(method, path, token, body).await
        };
        self.keep(key, &res)
    }
}

/// Arrays cut to their first two items, at every depth.
fn trimmed(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().take(2).map(trimmed).collect()),
        Value::Object(members) => {
            Value::Object(members.iter().map(|(k, v)| (k.clone(), trimmed(v))).collect())
        }
        other => other.clone(),
    }
}

/// A calendar cut to its first two events, a printable programme to its first week; other text
/// as it is.
fn trimmed_text(text: &str) -> String {
    const WEEK: &str = "<section class=\"week\"";
    if let Some((head, rest)) = text.split_once(WEEK) {
        let first = rest.split_once(WEEK).map_or(rest, |(first, _)| first);
        return format!(
            "{head}{WEEK}{first}<!-- … a section like this for every week … -->\n  </section>\n</main>\n</body>\n</html>\n"
        );
    }
    if !text.starts_with("BEGIN:VCALENDAR") {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut events = 0;
    let mut skipping = false;
    for line in text.split_inclusive("\r\n") {
        if line.starts_with("BEGIN:VEVENT") {
            events += 1;
            skipping = events > 2;
        }
        if !skipping || line.starts_with("END:VCALENDAR") {
            out.push_str(line);
        }
        if line.starts_with("END:VEVENT") {
            skipping = false;
        }
    }
    out
}

/// Members and JSON types, without the values: what a generated client depends on.
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(members.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("boolean"),
        Value::Null => json!("null"),
    }
}

fn persona_72() -> Value {
    let personas: Value = serde_json::from_str(include_str!("../golden/personas.json")).unwrap();
    personas
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "older-72-prior-fall")
        .unwrap()["request"]
        .clone()
}

fn spec_example(schema: &str) -> Value {
    let spec = soleus_api::openapi::build_openapi();
    let value = serde_json::to_value(&spec).unwrap();
    value["components"]["schemas"][schema]["example"].clone()
}

async fn walk() -> BTreeMap<String, Value> {
    // Production's retry schedule: the failed attempt stays the latest until retried by hand.
    let app = spawn_app_with(
        |s| s.webhooks.retry_schedule = soleus_api::services::webhooks::Policy::default().retry_schedule,
        None,
    )
    .await;
    let receiver = Receiver::start();
    let receiver_base = receiver.url.trim_end_matches("/hooks").to_owned();
    let bare = |url: &str, host: &str| {
        (
            url.trim_start_matches("http://").to_owned(),
            host.trim_start_matches("https://").to_owned(),
        )
    };
    let hosts = vec![
        (app.address.clone(), API_HOST.to_owned()),
        (receiver_base.clone(), PARTNER_HOST.to_owned()),
        bare(&app.address, API_HOST),
        bare(&receiver_base, PARTNER_HOST),
    ];
    let mut r = Recorder {
        app,
        kept: BTreeMap::new(),
        hosts,
    };

    // Public: health, keys, the catalogue, a preview and a simulation.
    r.get("GET /healthz 200", "/healthz", "").await;
    r.get("GET /readyz 200", "/readyz", "").await;
    r.get("GET /.well-known/jwks.json 200", "/.well-known/jwks.json", "")
        .await;
    r.get(
        "GET /.well-known/oauth-authorization-server 200",
        "/.well-known/oauth-authorization-server",
        "",
    )
    .await;
    r.get("GET /v1/meta 200", "/v1/meta", "").await;
    r.get("GET /v1/catalogue 200", "/v1/catalogue", "").await;
    r.get(
        "GET /v1/exercises 200",
        "/v1/exercises?goal=fall_prevention&equipment=chair&limit=2",
        "",
    )
    .await;
    r.get(
        "GET /v1/exercises/{id} 200",
        "/v1/exercises/seated-calf-raise",
        "",
    )
    .await;
    r.get(
        "GET /v1/exercises/{id}/illustration.svg 200",
        "/v1/exercises/seated-calf-raise/illustration.svg?frame=start",
        "",
    )
    .await;
    let request = persona_72();
    r.send(
        "POST /v1/programmes/preview 200",
        "POST",
        "/v1/programmes/preview",
        "",
        &request,
    )
    .await;
    let simulation = json!({
        "programme": request,
        "sessions": [
            {"week": 1, "pain_during": 1, "sets": [{"exercise_id": "seated-calf-raise", "set_number": 1, "reps": 15}]},
            {"week": 1, "pain_during": 2, "symptoms": ["balance_loss"]}
        ],
        "through_week": 1
    });
    r.send(
        "POST /v1/programmes/simulate 200",
        "POST",
        "/v1/programmes/simulate",
        "",
        &simulation,
    )
    .await;

    // Her account and tokens.
    let register =
        json!({"email": EMAIL, "password": PASSWORD, "profile": {"birth_year": 1954, "sex": "female"}});
    r.request("POST /v1/auth/register", &register);
    r.send(
        "POST /v1/auth/register 201",
        "POST",
        "/v1/auth/register",
        "",
        &register,
    )
    .await;
    let login = json!({"email": EMAIL, "password": PASSWORD});
    r.request("POST /v1/auth/token", &login);
    let tokens = r
        .send("POST /v1/auth/token 200", "POST", "/v1/auth/token", "", &login)
        .await;
    let refresh = json!({"refresh_token": tokens["refresh_token"]});
    r.request("POST /v1/auth/refresh", &refresh);
    let tokens = r
        .send(
            "POST /v1/auth/refresh 200",
            "POST",
            "/v1/auth/refresh",
            "",
            &refresh,
        )
        .await;
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    r.get("GET /v1/me 200", "/v1/me", &token).await;
    let res = r
        .app
        .send(
            r.app
                .client
                .patch(r.app.url("/v1/me"))
                .insert_header(("Authorization", format!("Bearer {token}")))
                .insert_header(("Content-Type", "application/merge-patch+json")),
            Some(br#"{"body_mass_kg": 64.5, "preferred_days": 3}"#),
        )
        .await;
    r.keep("PATCH /v1/me 200", &res);

    // Her programme, its calendar and a subscription a calendar app can poll.
    let programme = r
        .send(
            "POST /v1/me/programmes 201",
            "POST",
            "/v1/me/programmes",
            &token,
            &request,
        )
        .await;
    let id = programme["id"].as_str().unwrap().to_owned();
    r.get("GET /v1/me/programmes 200", "/v1/me/programmes", &token)
        .await;
    r.get(
        "GET /v1/me/programmes/{id} 200",
        &format!("/v1/me/programmes/{id}"),
        &token,
    )
    .await;
    r.get(
        "GET /v1/me/programmes/{id}/calendar.ics 200",
        &format!("/v1/me/programmes/{id}/calendar.ics"),
        &token,
    )
    .await;
    let subscription = r
        .send(
            "POST /v1/me/programmes/{id}/calendar-subscription 201",
            "POST",
            &format!("/v1/me/programmes/{id}/calendar-subscription"),
            &token,
            &json!({}),
        )
        .await;
    r.get(
        "GET /v1/me/programmes/{id}/print 200",
        &format!("/v1/me/programmes/{id}/print"),
        &token,
    )
    .await;
    r.get(
        "GET /v1/me/programmes/{id}/fhir 200",
        &format!("/v1/me/programmes/{id}/fhir"),
        &token,
    )
    .await;
    let feed = subscription["url"].as_str().unwrap();
    let feed = &feed[feed.find("/v1/calendars/").unwrap()..];
    r.get("GET /v1/calendars/{token}.ics 200", feed, "").await;

    // Her sessions: one logged, the same sent again, a batch, a correction, a note next morning.
    let mut first = spec_example("SessionInput");
    first["programme_id"] = json!(id);
    first["sets"] = json!([
        {"exercise_id": "seated-calf-raise", "set_number": 1, "reps": 15},
        {"exercise_id": "seated-calf-raise", "set_number": 2, "reps": 15},
        {"exercise_id": "standing-heel-raise", "set_number": 1, "reps": 10}
    ]);
    r.send(
        "POST /v1/me/sessions 201",
        "POST",
        "/v1/me/sessions",
        &token,
        &first,
    )
    .await;
    r.send(
        "POST /v1/me/sessions 200",
        "POST",
        "/v1/me/sessions",
        &token,
        &first,
    )
    .await;
    let session_id = first["id"].as_str().unwrap().to_owned();
    let batch = json!({"sessions": [
        {"id": "5d1e7a52-8c3b-4f60-9e21-7b4a0c6d2f18", "started_at": "2026-12-09T07:45:00+01:00", "duration_seconds": 1320,
         "rpe": 5, "pain_during": 0, "programme_id": id,
         "sets": [{"exercise_id": "seated-calf-raise", "set_number": 1, "reps": 15}]},
        {"id": "a4c9e0b3-2f71-4d8a-b6e5-91d3c7f04a26", "started_at": "2026-12-11T08:10:00+01:00", "duration_seconds": 1380,
         "rpe": 6, "pain_during": 1, "programme_id": id,
         "sets": [{"exercise_id": "seated-calf-raise", "set_number": 1, "reps": 15, "completed": false}]}
    ]});
    r.request("POST /v1/me/sessions/batch", &batch);
    r.send(
        "POST /v1/me/sessions/batch 200",
        "POST",
        "/v1/me/sessions/batch",
        &token,
        &batch,
    )
    .await;
    r.get("GET /v1/me/sessions 200", "/v1/me/sessions?limit=2", &token)
        .await;
    r.get(
        "GET /v1/me/sessions/{id} 200",
        &format!("/v1/me/sessions/{session_id}"),
        &token,
    )
    .await;
    let mut corrected = first.clone();
    corrected["duration_seconds"] = json!(1560);
    r.send(
        "PUT /v1/me/sessions/{id} 200",
        "PUT",
        &format!("/v1/me/sessions/{session_id}"),
        &token,
        &corrected,
    )
    .await;
    let patch = json!({"pain_next_morning": 1, "notes": "Calves a little tight in the morning."});
    r.request("PATCH /v1/me/sessions/{id}", &patch);
    let res = r
        .app
        .send(
            r.app
                .client
                .patch(r.app.url(&format!("/v1/me/sessions/{session_id}")))
                .insert_header(("Authorization", format!("Bearer {token}")))
                .insert_header(("Content-Type", "application/merge-patch+json")),
            Some(patch.to_string().as_bytes()),
        )
        .await;
    r.keep("PATCH /v1/me/sessions/{id} 200", &res);
    r.get(
        "GET /v1/me/sessions.fhir 200",
        "/v1/me/sessions.fhir?from=2026-12-07T00:00:00%2B01:00&to=2026-12-08T00:00:00%2B01:00",
        &token,
    )
    .await;
    r.get(
        "GET /v1/me/stats 200",
        "/v1/me/stats?from=2026-12-07T00:00:00%2B01:00&to=2026-12-21T00:00:00%2B01:00",
        &token,
    )
    .await;

    // Her heel-raise test, then the programme adapted to the evidence.
    let assessment = json!({"test": "single_leg_heel_raise", "knee": "straight", "left_reps": 14, "right_reps": 17,
                            "performed_at": "2026-12-12T09:00:00+01:00"});
    r.send(
        "POST /v1/me/assessments 201",
        "POST",
        "/v1/me/assessments",
        &token,
        &assessment,
    )
    .await;
    r.get("GET /v1/me/assessments 200", "/v1/me/assessments", &token)
        .await;
    let adapt = format!("/v1/me/programmes/{id}/adapt");
    r.send(
        "POST /v1/me/programmes/{id}/adapt 201",
        "POST",
        &adapt,
        &token,
        &json!({}),
    )
    .await;
    r.send(
        "POST /v1/me/programmes/{id}/adapt 200",
        "POST",
        &adapt,
        &token,
        &json!({}),
    )
    .await;
    r.get(
        "GET /v1/me/programmes/{id}/versions 200",
        &format!("/v1/me/programmes/{id}/versions"),
        &token,
    )
    .await;
    r.get(
        "GET /v1/me/programmes/{id}/versions/{version} 200",
        &format!("/v1/me/programmes/{id}/versions/2"),
        &token,
    )
    .await;
    r.get(
        "GET /v1/me/programmes/{id}/diff 200",
        &format!("/v1/me/programmes/{id}/diff?from=1&to=2"),
        &token,
    )
    .await;
    r.get("GET /v1/me/changes 200", "/v1/me/changes?limit=2", &token)
        .await;

    // A partner she lets read and write her sessions: its consent page, token, feed and webhooks.
    let (client_id, secret) = r.app.partner_with(&[
        "--name",
        "Acme Physio",
        "--scopes",
        "sessions:read sessions:write programmes:read",
        "--redirect-uris",
        &format!("{PARTNER_HOST}/oauth/callback"),
    ]);
    let consent = format!(
        "/v1/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={PARTNER_HOST}/oauth/callback\
         &scope=sessions:read+programmes:read&state=af0ifjsldkj\
         &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGjSstw-cM&code_challenge_method=S256"
    );
    r.get("GET /v1/oauth/authorize 200", &consent, "").await;
    let grant =
        json!({"partner_id": client_id, "scopes": ["sessions:read", "sessions:write", "programmes:read"]});
    r.send(
        "POST /v1/me/partner-grants 201",
        "POST",
        "/v1/me/partner-grants",
        &token,
        &grant,
    )
    .await;
    r.get("GET /v1/me/partner-grants 200", "/v1/me/partner-grants", &token)
        .await;
    let res = r.app.partner_token(&client_id, &secret, None).await;
    let partner = r.keep("POST /v1/oauth/token 200", &res)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    r.get("GET /v1/partner/users 200", "/v1/partner/users", &partner)
        .await;
    r.get(
        "GET /v1/partner/changes 200",
        "/v1/partner/changes?limit=2",
        &partner,
    )
    .await;
    r.get(
        "GET /v1/partner/webhooks/event-types 200",
        "/v1/partner/webhooks/event-types",
        &partner,
    )
    .await;
    let endpoint = r
        .send(
            "POST /v1/partner/webhooks 201",
            "POST",
            "/v1/partner/webhooks",
            &partner,
            &json!({"url": receiver.url, "description": "Production", "event_types": ["session.created", "grant.revoked"]}),
        )
        .await;
    let hook = format!("/v1/partner/webhooks/{}", endpoint["id"].as_str().unwrap());
    r.get("GET /v1/partner/webhooks 200", "/v1/partner/webhooks", &partner)
        .await;
    r.get("GET /v1/partner/webhooks/{id} 200", &hook, &partner).await;
    r.send(
        "PATCH /v1/partner/webhooks/{id} 200",
        "PATCH",
        &hook,
        &partner,
        &json!({"event_types": ["session.created", "session.updated", "grant.revoked"]}),
    )
    .await;
    r.send(
        "POST /v1/partner/webhooks/{id}/rotate-secret 200",
        "POST",
        &format!("{hook}/rotate-secret"),
        &partner,
        &json!({}),
    )
    .await;
    // Her next session reaches the partner's receiver, which is down for the first attempt.
    receiver.plan([crate::webhooks::Plan::Status(503)]);
    let mut next = first.clone();
    next["id"] = json!("e2f4a6c8-1b3d-4e5f-8a7b-9c0d1e2f3a4b");
    next["started_at"] = json!("2026-12-14T07:30:00+01:00");
    let res = r.app.post_session(&token, &next).await;
    assert_eq!(res.status.as_u16(), 201);
    receiver.wait_for(1).await;
    let failed = loop {
        let page = r
            .app
            .get_with(&format!("{hook}/deliveries"), &partner)
            .await
            .json();
        if let Some(first) = page["items"].as_array().and_then(|items| items.first()) {
            break first["id"].as_str().unwrap().to_owned();
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    r.get(
        "GET /v1/partner/webhooks/{id}/deliveries 200",
        &format!("{hook}/deliveries"),
        &partner,
    )
    .await;
    r.send(
        "POST /v1/partner/webhooks/{id}/deliveries/{delivery_id}/retry 200",
        "POST",
        &format!("{hook}/deliveries/{failed}/retry"),
        &partner,
        &json!({}),
    )
    .await;
    r.send(
        "POST /v1/partner/webhooks/{id}/test 200",
        "POST",
        &format!("{hook}/test"),
        &partner,
        &json!({}),
    )
    .await;
    r.kept
}

#[actix_web::test]
async fn committed_examples_have_the_shape_of_real_answers() {
    let fresh = walk().await;
    let text = serde_json::to_string_pretty(&fresh).unwrap() + "\n";
    if std::env::var_os("UPDATE_EXAMPLES").is_some() {
        std::fs::write(EXAMPLES_PATH, text).expect("write openapi/examples.json");
        return;
    }
    let committed: BTreeMap<String, Value> = serde_json::from_str(
        &std::fs::read_to_string(EXAMPLES_PATH)
            .unwrap_or_else(|_| panic!("openapi/examples.json missing; {HINT}")),
    )
    .expect("valid JSON");
    let fresh_keys: Vec<&String> = fresh.keys().collect();
    let committed_keys: Vec<&String> = committed.keys().collect();
    assert_eq!(
        committed_keys, fresh_keys,
        "examples cover other operations now; {HINT}"
    );
    for (key, value) in &fresh {
        assert_eq!(
            shape(&committed[key]),
            shape(value),
            "the example of {key} no longer has the answer's shape; {HINT}"
        );
    }
}
