//! Webhooks and the partner feed: signed deliveries in feed order to a real HTTP receiver,
//! retries and the delivery log, disabling and resuming, secret rotation, revoked grants,
//! SSRF refusals, and the feed across users. Three replica processes delivering each event
//! once are in `replicas.rs`.
//! (`.ci/webhooks.py` verifies the signatures again with the `standardwebhooks` package.)

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use rand::{Rng as _, SeedableRng as _};
use serde_json::{Value, json};
use soleus_api::domain::webhooks::{sign, signing_key};

use crate::helpers::{TestApp, assert_problem, spawn_app, spawn_app_with};
use crate::sessions::session;

/// What the receiver does with the next request.
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    Status(u16),
    /// Answers 204 after this long.
    Slow(Duration),
    Redirect(String),
}

#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Received {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone, Default)]
pub(crate) struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    plan: Arc<Mutex<VecDeque<Plan>>>,
    pub(crate) url: String,
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<Receiver>) -> HttpResponse {
    let plan = state
        .plan
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Plan::Status(204));
    state.received.lock().unwrap().push(Received {
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body: body.to_vec(),
    });
    if let Plan::Slow(wait) = &plan {
        actix_web::rt::time::sleep(*wait).await;
    }
    match plan {
        Plan::Status(code) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap()).finish()
        }
        Plan::Slow(_) => HttpResponse::NoContent().finish(),
        Plan::Redirect(to) => HttpResponse::Found().insert_header(("Location", to)).finish(),
    }
}

impl Receiver {
    pub(crate) fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let receiver = Receiver {
            url: format!("http://127.0.0.1:{}/hooks", listener.local_addr().unwrap().port()),
            ..Receiver::default()
        };
        let state = web::Data::new(receiver.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        receiver
    }

    pub(crate) fn plan(&self, steps: impl IntoIterator<Item = Plan>) {
        self.plan.lock().unwrap().extend(steps);
    }

    fn events(&self) -> Vec<Value> {
        self.received.lock().unwrap().iter().map(Received::json).collect()
    }

    pub(crate) fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `n` requests arrived (at most 15 s).
    pub(crate) async fn wait_for(&self, n: usize) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let got = self.all();
            if got.len() >= n {
                return got;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "only {} of {n} deliveries arrived",
                got.len()
            );
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Checks the Standard Webhooks headers against `secret`: one of the signatures matches.
fn signed_with(received: &Received, secret: &str) -> bool {
    let id = &received.headers["webhook-id"];
    let timestamp: i64 = received.headers["webhook-timestamp"].parse().unwrap();
    let expected = sign(&signing_key(secret).unwrap(), id, timestamp, &received.body);
    received.headers["webhook-signature"]
        .split(' ')
        .any(|s| s == expected)
}

struct Partner {
    token: String,
}

impl TestApp {
    /// A partner with these scopes, and `users` users who granted it `grant`.
    async fn partner_with_users(
        &self,
        scopes: &str,
        grant: &[&str],
        users: usize,
    ) -> (Partner, Vec<(String, String)>) {
        let (id, _, token) = self.partner_access(scopes).await;
        let mut out = Vec::new();
        for n in 0..users {
            let (user_id, user_token, _) = self.user(&format!("user{n}-{}@example.com", &id[..8])).await;
            let res = self
                .send_json_with(
                    "POST",
                    "/v1/me/partner-grants",
                    &user_token,
                    &json!({"partner_id": id, "scopes": grant}),
                )
                .await;
            assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
            out.push((user_id, user_token));
        }
        (Partner { token }, out)
    }

    async fn add_endpoint(&self, partner: &Partner, body: &Value) -> Value {
        let res = self
            .send_json_with("POST", "/v1/partner/webhooks", &partner.token, body)
            .await;
        assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
        res.json()
    }
}

#[actix_web::test]
async fn deliveries_are_signed_in_feed_order_and_a_refused_write_emits_nothing() {
    let app = spawn_app().await;
    let receiver = Receiver::start();
    let (partner, users) = app
        .partner_with_users("sessions:read", &["sessions:read"], 1)
        .await;
    let (user_id, token) = &users[0];
    let endpoint = app
        .add_endpoint(&partner, &json!({"url": receiver.url, "event_types": ["session.created", "session.updated", "session.deleted"], "description": "test"}))
        .await;
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let id = endpoint["id"].as_str().unwrap();
    // The secret is shown once.
    let read = app
        .get_with(&format!("/v1/partner/webhooks/{id}"), &partner.token)
        .await;
    assert_eq!(read.status.as_u16(), 200);
    assert!(read.json().get("secret").is_none());
    // Another partner cannot see it.
    let (_, _, other) = app.partner_access("sessions:read").await;
    assert_problem(
        &app.get_with(&format!("/v1/partner/webhooks/{id}"), &other).await,
        404,
    );

    let created = app
        .post_session(token, &session(None, "2026-12-01T07:00:00+01:00"))
        .await;
    let etag = created.header("etag").unwrap().to_owned();
    let first = created.json();
    let second = app
        .post_session(token, &session(None, "2026-12-02T07:00:00+01:00"))
        .await
        .json();
    let sid = first["id"].as_str().unwrap();
    // Refused writes: a stale If-Match (412) and a create on a deleted id (409) change nothing.
    let path = format!("/v1/me/sessions/{sid}");
    let patched = app
        .send_with_headers(
            "PATCH",
            &path,
            token,
            &[("If-Match", &etag)],
            Some(&json!({"rpe": 8})),
        )
        .await;
    assert_eq!(
        patched.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&patched.body)
    );
    let stale = app
        .send_with_headers(
            "PATCH",
            &path,
            token,
            &[("If-Match", &etag)],
            Some(&json!({"rpe": 9})),
        )
        .await;
    assert_problem(&stale, 412);
    assert_eq!(app.delete_with(&path, token).await.status.as_u16(), 204);
    assert_problem(
        &app.post_session(token, &session(Some(sid), "2026-12-01T07:00:00+01:00"))
            .await,
        409,
    );

    let got = receiver.wait_for(4).await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let got_after = receiver.all();
    assert_eq!(
        got_after.len(),
        4,
        "no event for refused writes: {:?}",
        receiver.events()
    );
    let types: Vec<String> = got
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        types,
        [
            "session.created",
            "session.created",
            "session.updated",
            "session.deleted"
        ]
    );
    let positions: Vec<i64> = got
        .iter()
        .map(|r| r.json()["position"].as_i64().unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    for r in &got {
        let event = r.json();
        assert!(signed_with(r, &secret), "signature verifies");
        assert_eq!(r.headers["webhook-id"], event["id"].as_str().unwrap());
        assert_eq!(r.headers["content-type"], "application/json");
        assert_eq!(event["user_id"], user_id.as_str());
    }
    assert_eq!(got[0].json()["data"]["id"], first["id"]);
    assert_eq!(got[1].json()["data"]["id"], second["id"]);
    assert_eq!(got[2].json()["data"]["rpe"], 8);
    assert_eq!(got[3].json()["data"]["deleted"], true);
    // The stored log holds exactly the committed changes.
    let mut conn = app.raw_connection();
    use diesel::prelude::*;
    use soleus_api::db::schema::events;
    let stored: i64 = events::table
        .filter(events::kind.like("session.%"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(stored, 4);

    // The log, newest first, shows each success.
    let log = app
        .get_with(&format!("/v1/partner/webhooks/{id}/deliveries"), &partner.token)
        .await
        .json();
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert!(
        items
            .iter()
            .all(|d| d["succeeded"] == true && d["status_code"] == 204 && d["attempt"] == 1)
    );
    assert_eq!(items[0]["event_type"], "session.deleted");
}

#[actix_web::test]
async fn failures_are_retried_in_order_logged_then_disable_the_endpoint_until_enabled() {
    let app = spawn_app_with(|s| s.webhooks.attempt_timeout = Duration::from_millis(300), None).await;
    let receiver = Receiver::start();
    let (partner, users) = app
        .partner_with_users("sessions:read", &["sessions:read"], 1)
        .await;
    let token = &users[0].1;
    let endpoint = app
        .add_endpoint(
            &partner,
            &json!({"url": receiver.url, "event_types": ["session.created"]}),
        )
        .await;
    let id = endpoint["id"].as_str().unwrap();
    // A 500, then a timeout, then success: the first event arrives on the third attempt and
    // the second only after it.
    receiver.plan([Plan::Status(500), Plan::Slow(Duration::from_millis(800))]);
    let a = app
        .post_session(token, &session(None, "2026-12-01T07:00:00+01:00"))
        .await
        .json();
    let b = app
        .post_session(token, &session(None, "2026-12-02T07:00:00+01:00"))
        .await
        .json();
    let got = receiver.wait_for(4).await;
    let ids: Vec<Value> = got.iter().map(|r| r.json()["data"]["id"].clone()).collect();
    assert_eq!(
        ids,
        [a["id"].clone(), a["id"].clone(), a["id"].clone(), b["id"].clone()]
    );
    assert!(
        got.iter()
            .take(3)
            .all(|r| r.headers["webhook-id"] == got[0].headers["webhook-id"]),
        "retries repeat the id"
    );
    // Give the worker time to log the success of the last one.
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let log = app
        .get_with(
            &format!("/v1/partner/webhooks/{id}/deliveries?limit=10"),
            &partner.token,
        )
        .await
        .json();
    let attempts: Vec<(i64, bool, Value)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|d| {
            (
                d["attempt"].as_i64().unwrap(),
                d["succeeded"].as_bool().unwrap(),
                d["status_code"].clone(),
            )
        })
        .collect();
    assert_eq!(
        attempts,
        [
            (1, false, json!(500)),
            (2, false, Value::Null),
            (3, true, json!(204)),
            (1, true, json!(204))
        ]
    );
    let timeout = &log["items"].as_array().unwrap()[2];
    assert!(
        timeout["error"].as_str().unwrap().contains("no answer"),
        "{timeout}"
    );

    // Four failures in a row (the first attempt and three retries) disable it, with a reason.
    receiver.plan(std::iter::repeat_n(Plan::Status(503), 4));
    let c = app
        .post_session(token, &session(None, "2026-12-03T07:00:00+01:00"))
        .await
        .json();
    receiver.wait_for(8).await;
    let started = Instant::now();
    let disabled = loop {
        let ep = app
            .get_with(&format!("/v1/partner/webhooks/{id}"), &partner.token)
            .await
            .json();
        if ep["enabled"] == false {
            break ep;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "not disabled: {ep}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        disabled["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("4 failed attempts"),
        "{disabled}"
    );
    // Nothing more is sent while disabled.
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.all().len(), 8);
    // Enabled again, it resumes at the event it stopped at.
    let resumed = app
        .send_json_with(
            "PATCH",
            &format!("/v1/partner/webhooks/{id}"),
            &partner.token,
            &json!({"enabled": true}),
        )
        .await;
    assert_eq!(resumed.json()["enabled"], true);
    let got = receiver.wait_for(9).await;
    assert_eq!(got[8].json()["data"]["id"], c["id"]);

    // A manual retry of an earlier attempt sends its event again with the same id.
    let log = app
        .get_with(
            &format!("/v1/partner/webhooks/{id}/deliveries?limit=100"),
            &partner.token,
        )
        .await
        .json();
    let first = log["items"].as_array().unwrap().last().unwrap().clone();
    let retried = app
        .send_json_with(
            "POST",
            &format!(
                "/v1/partner/webhooks/{id}/deliveries/{}/retry",
                first["id"].as_str().unwrap()
            ),
            &partner.token,
            &json!({}),
        )
        .await;
    assert_eq!(
        retried.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&retried.body)
    );
    assert_eq!(retried.json()["cause"], "manual");
    assert_eq!(retried.json()["event_id"], first["event_id"]);
    let got = receiver.wait_for(10).await;
    assert_eq!(got[9].headers["webhook-id"], first["event_id"].as_str().unwrap());
}

/// A failed event retried by hand and delivered is not sent again by the worker, which goes on
/// with the next event at once (it used to send the retried event a second time).
#[actix_web::test]
async fn a_successful_manual_retry_moves_the_queue_on_without_a_second_copy() {
    // Production's schedule: the next scheduled attempt would be seconds away.
    let app = spawn_app_with(
        |s| s.webhooks.retry_schedule = soleus_api::services::webhooks::Policy::default().retry_schedule,
        None,
    )
    .await;
    let receiver = Receiver::start();
    receiver.plan([Plan::Status(503)]);
    let (partner, users) = app
        .partner_with_users("sessions:read", &["sessions:read"], 1)
        .await;
    let (_, token) = &users[0];
    let endpoint = app
        .add_endpoint(
            &partner,
            &json!({"url": receiver.url, "event_types": ["session.created"]}),
        )
        .await;
    let hook = format!("/v1/partner/webhooks/{}", endpoint["id"].as_str().unwrap());
    app.post_session(token, &session(None, "2026-12-01T07:00:00+01:00"))
        .await;
    let failed = receiver.wait_for(1).await;
    let first_id = failed[0].headers["webhook-id"].clone();
    let delivery = loop {
        let page = app
            .get_with(&format!("{hook}/deliveries"), &partner.token)
            .await
            .json();
        if let Some(id) = page["items"][0]["id"].as_str() {
            break id.to_owned();
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    };
    let retried = app
        .send_json_with(
            "POST",
            &format!("{hook}/deliveries/{delivery}/retry"),
            &partner.token,
            &json!({}),
        )
        .await;
    assert_eq!(retried.json()["succeeded"], true);
    app.post_session(token, &session(None, "2026-12-02T07:00:00+01:00"))
        .await;
    let got = receiver.wait_for(3).await;
    // Give a duplicate the time to show up.
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;
    let ids: Vec<String> = receiver
        .all()
        .iter()
        .map(|r| r.headers["webhook-id"].clone())
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(ids[0], first_id);
    assert_eq!(ids[1], first_id, "the manual retry");
    assert_ne!(ids[2], first_id, "the next event, not the retried one again");
    assert_eq!(got[2].json()["type"], "session.created");
}

#[actix_web::test]
async fn a_rotation_signs_with_both_secrets_and_a_test_event_is_logged() {
    let app = spawn_app().await;
    let receiver = Receiver::start();
    let (partner, users) = app
        .partner_with_users("sessions:read", &["sessions:read"], 1)
        .await;
    let endpoint = app.add_endpoint(&partner, &json!({"url": receiver.url})).await;
    let (id, old) = (
        endpoint["id"].as_str().unwrap(),
        endpoint["secret"].as_str().unwrap(),
    );
    let rotated = app
        .send_json_with(
            "POST",
            &format!("/v1/partner/webhooks/{id}/rotate-secret"),
            &partner.token,
            &json!({}),
        )
        .await
        .json();
    let new = rotated["secret"].as_str().unwrap();
    assert_ne!(new, old);
    app.post_session(&users[0].1, &session(None, "2026-12-01T07:00:00+01:00"))
        .await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].headers["webhook-signature"].split(' ').count(), 2);
    assert!(signed_with(&got[0], new) && signed_with(&got[0], old));

    let test = app
        .send_json_with(
            "POST",
            &format!("/v1/partner/webhooks/{id}/test"),
            &partner.token,
            &json!({}),
        )
        .await;
    assert_eq!(test.status.as_u16(), 200);
    assert_eq!(test.json()["succeeded"], true);
    assert_eq!(test.json()["cause"], "test");
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1].json()["type"], "webhook.test");
    assert!(signed_with(&got[1], new));
    let types = app
        .get_with("/v1/partner/webhooks/event-types", &partner.token)
        .await
        .json();
    assert_eq!(types["items"].as_array().unwrap().len(), 10);
}

#[actix_web::test]
async fn a_revoked_grant_stops_delivery_of_that_users_events_at_once() {
    // The retry comes a second after the failure, well after the revocation below (with the
    // tests' 50 ms it could come first and rightly deliver the event before the grant ended).
    let app = spawn_app_with(
        |s| s.webhooks.retry_schedule = vec![Duration::from_secs(1); 3],
        None,
    )
    .await;
    let receiver = Receiver::start();
    let (partner, users) = app
        .partner_with_users("sessions:read", &["sessions:read"], 2)
        .await;
    let (revoker, kept) = (&users[0], &users[1]);
    app.add_endpoint(&partner, &json!({"url": receiver.url})).await;
    // The receiver is down while the user logs a session and then revokes.
    receiver.plan([Plan::Status(500)]);
    app.post_session(&revoker.1, &session(None, "2026-12-01T07:00:00+01:00"))
        .await;
    receiver.wait_for(1).await;
    let grants = app.get_with("/v1/me/partner-grants", &revoker.1).await.json();
    let grant = grants["items"][0]["id"].as_str().unwrap();
    assert_eq!(
        app.delete_with(&format!("/v1/me/partner-grants/{grant}"), &revoker.1)
            .await
            .status
            .as_u16(),
        204
    );
    app.post_session(&revoker.1, &session(None, "2026-12-02T07:00:00+01:00"))
        .await;
    app.post_session(&kept.1, &session(None, "2026-12-02T08:00:00+01:00"))
        .await;
    let got = receiver.wait_for(3).await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let events: Vec<(String, String)> = receiver
        .events()
        .iter()
        .skip(1)
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["user_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("grant.revoked".to_owned(), revoker.0.clone()),
            ("session.created".to_owned(), kept.0.clone())
        ],
        "the pending event of the revoker is dropped, later ones never sent"
    );
    assert_eq!(got[1].json()["data"]["reason"], "revoked_by_user");
    // The feed says the same.
    let feed = app.get_with("/v1/partner/changes", &partner.token).await.json();
    let users_seen: Vec<&str> = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] != "grant.created" && e["type"] != "grant.revoked")
        .map(|e| e["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(users_seen, [kept.0.as_str()]);
    let connected = app.get_with("/v1/partner/users", &partner.token).await.json();
    let ids: Vec<&str> = connected["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [kept.0.as_str()]);
}

#[actix_web::test]
async fn private_addresses_and_redirects_are_refused() {
    let app = spawn_app_with(|s| s.webhooks.allow_private_networks = false, None).await;
    let (partner, _) = app
        .partner_with_users("sessions:read", &["sessions:read"], 0)
        .await;
    for (url, code) in [
        ("http://93.184.216.34/hooks", "insecure"),
        ("https://127.0.0.1/hooks", "private_address"),
        ("https://10.1.2.3/hooks", "private_address"),
        ("https://169.254.169.254/latest/meta-data", "private_address"),
        ("https://[::1]/hooks", "private_address"),
        ("https://[::ffff:10.0.0.1]/hooks", "private_address"),
        ("https://localhost:8443/hooks", "private_address"),
        ("https://user:pw@93.184.216.34/hooks", "invalid"),
        ("not a url", "invalid"),
    ] {
        let res = app
            .send_json_with(
                "POST",
                "/v1/partner/webhooks",
                &partner.token,
                &json!({"url": url}),
            )
            .await;
        let problem = assert_problem(&res, 422);
        assert_eq!(problem["errors"][0]["field"], "url", "{url}");
        assert_eq!(problem["errors"][0]["code"], code, "{url}: {problem}");
    }
    assert_eq!(
        app.get_with("/v1/partner/webhooks", &partner.token).await.json()["items"],
        json!([])
    );

    // At delivery the sender refuses them too, whatever the URL was when registered.
    use soleus_api::services::webhooks::{Policy, Sender as _};
    let receiver = Receiver::start();
    let strict = soleus_api::outbound::WebhookSender::new(&Policy::default());
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    for url in [receiver.url.as_str(), by_name.as_str()] {
        let outcome = strict.post(url, vec![], b"{}".to_vec()).await;
        assert_eq!(outcome.status, None, "{url}");
        assert!(
            outcome.error.as_deref().unwrap_or_default().contains("public"),
            "{outcome:?}"
        );
    }
    assert!(receiver.all().is_empty());

    // A redirect is a failed attempt and is not followed.
    let lenient = spawn_app().await;
    let target = Receiver::start();
    let (partner, users) = lenient
        .partner_with_users("sessions:read", &["sessions:read"], 1)
        .await;
    receiver.plan([Plan::Redirect(target.url.clone())]);
    let endpoint = lenient
        .add_endpoint(&partner, &json!({"url": receiver.url}))
        .await;
    let test = lenient
        .send_json_with(
            "POST",
            &format!("/v1/partner/webhooks/{}/test", endpoint["id"].as_str().unwrap()),
            &partner.token,
            &json!({}),
        )
        .await
        .json();
    assert_eq!(test["succeeded"], false);
    assert_eq!(test["status_code"], 302);
    assert!(
        test["error"]
            .as_str()
            .unwrap()
            .contains("redirects are not followed")
    );
    assert!(target.all().is_empty());
    let _ = users;
}

/// Folds a partner feed into each user's live sessions (id → version).
pub(crate) fn live_sets(events: &[Value]) -> BTreeMap<String, BTreeMap<String, i64>> {
    let mut sets: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for e in events {
        let kind = e["type"].as_str().unwrap();
        if !kind.starts_with("session.") {
            continue;
        }
        let set = sets.entry(e["user_id"].as_str().unwrap().to_owned()).or_default();
        let id = e["data"]["id"].as_str().unwrap().to_owned();
        if kind == "session.deleted" {
            set.remove(&id);
        } else {
            set.insert(id, e["data"]["version"].as_i64().unwrap());
        }
    }
    sets
}

#[actix_web::test]
async fn the_partner_feed_follows_random_writes_across_users_to_their_live_sets() {
    let app = spawn_app().await;
    let (partner, users) = app
        .partner_with_users("sessions:read,programmes:read", &["sessions:read"], 3)
        .await;
    // A user who granted nothing: never in the feed.
    let (_, outsider, _) = app.user("outsider@example.com").await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut live: Vec<Vec<String>> = vec![Vec::new(); users.len()];
    let (mut events, mut since) = (Vec::new(), None);
    for round in 0..60 {
        let u = rng.gen_range(0..users.len());
        let token = &users[u].1;
        match rng.gen_range(0..4) {
            0 | 1 => {
                let s = app
                    .post_session(
                        token,
                        &session(None, &format!("2026-10-{:02}T07:00:00Z", 1 + round % 28)),
                    )
                    .await;
                live[u].push(s.json()["id"].as_str().unwrap().to_owned());
            }
            2 if !live[u].is_empty() => {
                let id = &live[u][rng.gen_range(0..live[u].len())];
                let res = app
                    .send_json_with(
                        "PATCH",
                        &format!("/v1/me/sessions/{id}"),
                        token,
                        &json!({"rpe": rng.gen_range(1..10)}),
                    )
                    .await;
                assert_eq!(res.status.as_u16(), 200);
            }
            _ if !live[u].is_empty() => {
                let at = rng.gen_range(0..live[u].len());
                let id = live[u].swap_remove(at);
                assert_eq!(
                    app.delete_with(&format!("/v1/me/sessions/{id}"), token)
                        .await
                        .status
                        .as_u16(),
                    204
                );
            }
            _ => {}
        }
        app.post_session(&outsider, &session(None, "2026-10-01T07:00:00Z"))
            .await;
        // Read as we go, in small pages.
        if round % 7 == 0 {
            let (page, next) = app
                .follow("/v1/partner/changes", &partner.token, since.take(), 3)
                .await;
            events.extend(page);
            since = Some(next);
        }
    }
    let (page, _) = app.follow("/v1/partner/changes", &partner.token, since, 3).await;
    events.extend(page);
    let positions: Vec<i64> = events.iter().map(|e| e["position"].as_i64().unwrap()).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "commit order, nothing twice"
    );
    let from_feed = live_sets(&events);
    for (n, (user_id, token)) in users.iter().enumerate() {
        let listed = app.get_with("/v1/me/sessions?limit=100", token).await.json();
        let stored: BTreeMap<String, i64> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["id"].as_str().unwrap().to_owned(),
                    s["version"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(stored.len(), live[n].len());
        assert_eq!(
            from_feed.get(user_id).cloned().unwrap_or_default(),
            stored,
            "user {n}"
        );
    }
    assert_eq!(
        events.iter().filter(|e| e["type"] == "grant.created").count(),
        users.len()
    );
    // A filter by type, and a made-up cursor.
    let only = app
        .get_with(
            "/v1/partner/changes?types=session.deleted&limit=500",
            &partner.token,
        )
        .await
        .json();
    assert!(
        only["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["type"] == "session.deleted")
    );
    let bad = app
        .get_with("/v1/partner/changes?types=session.exploded", &partner.token)
        .await;
    assert_eq!(assert_problem(&bad, 422)["errors"][0]["field"], "types");
    let bad = app
        .get_with("/v1/partner/changes?since=bogus", &partner.token)
        .await;
    assert_eq!(assert_problem(&bad, 400)["errors"][0]["field"], "since");
    // A user's token is refused.
    assert_problem(&app.get_with("/v1/partner/changes", &users[0].1).await, 403);
}

/// The purge walks positions from the oldest and stops at the first event younger than the
/// cutoff (there is no index on age): older events before it go and the horizon rises to the
/// last of them; an old event after a younger one waits for a later purge.
#[actix_web::test]
async fn purging_events_stops_at_the_first_younger_one_and_raises_the_horizon() {
    use soleus_api::repository::events::{self as repo, EventRow};
    let app = spawn_app().await;
    let now = chrono::Utc::now().naive_utc();
    let cutoff = now - chrono::Duration::days(30);
    let event = |seq: i64, days_old: i64| EventRow {
        seq,
        id: format!("evt_purge_{seq}"),
        user_id: "purge-user".into(),
        partner_id: None,
        kind: "session.created".into(),
        data: "{}".into(),
        created_at: now - chrono::Duration::days(days_old),
    };
    let mut conn = app.raw_connection();
    let rows = [event(10, 40), event(20, 35), event(30, 1), event(40, 31)];
    repo::insert_many(&mut conn, &rows).unwrap();
    let seqs = |conn: &mut soleus_api::db::AnyConnection| -> Vec<i64> {
        use diesel::prelude::*;
        use soleus_api::db::schema::events;
        events::table
            .select(events::seq)
            .order(events::seq.asc())
            .load(conn)
            .unwrap()
    };

    assert_eq!(repo::purge(&mut conn, cutoff).unwrap(), 2);
    assert_eq!(seqs(&mut conn), [30, 40]);
    assert_eq!(repo::horizon(&mut conn).unwrap(), 20);
    // Nothing older before the first younger event: nothing goes, the horizon stays.
    assert_eq!(repo::purge(&mut conn, cutoff).unwrap(), 0);
    assert_eq!(repo::horizon(&mut conn).unwrap(), 20);
    // Once the younger one is old too, both go.
    assert_eq!(
        repo::purge(&mut conn, now + chrono::Duration::seconds(1)).unwrap(),
        2
    );
    assert!(seqs(&mut conn).is_empty());
    assert_eq!(repo::horizon(&mut conn).unwrap(), 40);
}
