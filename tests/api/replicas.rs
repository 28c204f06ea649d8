//! Three server processes on one database, as a load balancer would run them: interleaved
//! writes of many users through all three, a feed follower reading through another replica
//! while they land, one Idempotency-Key sent to all three at once, and the login throttle
//! counted across them, rate limits shared, the partner feed complete and in order, and each
//! webhook event delivered once, in order, by whichever replica claims it. Runs on SQLite
//! (three processes on one file) and on PostgreSQL.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{TestApp, free_port, spawn_app_with};
use crate::webhooks::{Plan, Receiver, live_sets};

/// A `soleus-api` process, killed when dropped.
struct Replica {
    child: Child,
    app: TestApp,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_replica(primary: &TestApp) -> Replica {
    start_logging_replica(primary, None).await
}

/// A replica whose JSON log lines (`RUST_LOG=info`) go to `log`.
async fn start_logging_replica(primary: &TestApp, log: Option<&std::path::Path>) -> Replica {
    let port = free_port();
    let stderr = match log {
        Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
        None => Stdio::null(),
    };
    let child = Command::new(env!("CARGO_BIN_EXE_soleus-api"))
        .env("DATABASE_URL", &primary.database_url)
        .env("SOLEUS_DATA_DIR", primary.data_dir())
        .env("SOLEUS_PORT", port.to_string())
        .env("SOLEUS_WORKERS", "1")
        .env("SOLEUS_LOGIN_FAILURES_PER_ACCOUNT", "3")
        .env("SOLEUS_TOMBSTONE_PURGE_INTERVAL_SECS", "3600")
        // A small budget to share for the engine calls; a day's window, so the test never
        // straddles two.
        .env("SOLEUS_RATE_LIMIT_EXPENSIVE", "9")
        .env("SOLEUS_RATE_LIMIT_WINDOW_SECS", "86400")
        .env("SOLEUS_RATE_LIMIT_AUTH", "1000")
        .env("SOLEUS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "true")
        .env("SOLEUS_WEBHOOK_POLL_INTERVAL_MS", "20")
        .env("SOLEUS_WEBHOOK_RETRY_SCHEDULE_SECS", "0.2,0.2,0.2")
        .env("RUST_LOG", if log.is_some() { "info" } else { "warn" })
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let replica = Replica {
        child,
        app: primary.at(format!("http://127.0.0.1:{port}")),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = replica
            .app
            .client
            .get(replica.app.url("/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return replica;
        }
        assert!(
            Instant::now() < deadline,
            "replica on port {port} did not become ready"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

fn session(started: &str, rpe: u8) -> Value {
    json!({"started_at": started, "duration_seconds": 600, "rpe": rpe,
           "sets": [{"exercise_id": "seated-calf-raise", "set_number": 1, "side": "both", "reps": 20}]})
}

/// Follows `token`'s feed on `app` from `since` to the end; folds changes by id (latest wins).
async fn follow(app: &TestApp, token: &str, since: &mut Option<String>, seen: &mut BTreeMap<String, Value>) {
    loop {
        let path = match since {
            Some(s) => format!("/v1/me/changes?limit=7&since={s}"),
            None => "/v1/me/changes?limit=7".to_owned(),
        };
        let page = app.get_with(&path, token).await;
        assert_eq!(
            page.status.as_u16(),
            200,
            "{}",
            String::from_utf8_lossy(&page.body)
        );
        let page = page.json();
        for change in page["changes"].as_array().unwrap() {
            let id = change["id"].as_str().unwrap().to_owned();
            if let Some(before) = seen.get(&id) {
                assert!(
                    before["version"].as_i64() < change["version"].as_i64(),
                    "a change came back at an older or equal version: {before} then {change}"
                );
            }
            seen.insert(id, change.clone());
        }
        *since = Some(page["next"].as_str().unwrap().to_owned());
        if page["has_more"] == false {
            return;
        }
    }
}

#[actix_web::test]
async fn three_replicas_share_feeds_idempotency_the_login_throttle_and_rate_limits() {
    // The test's own server never polls for webhooks: only the three processes deliver.
    let primary = spawn_app_with(
        |s| s.webhooks.poll_interval = Duration::from_secs(24 * 3600),
        None,
    )
    .await;
    let replicas = join_all((0..3).map(|_| start_replica(&primary))).await;
    let at = |i: usize| &replicas[i % replicas.len()].app;

    // Six users, registered and logged in through different replicas.
    let mut users = Vec::new();
    for u in 0..6 {
        users.push(at(u).user(&format!("replica-{u}@example.com")).await);
    }

    // A partner every user grants `sessions:read`, with one webhook endpoint whose receiver
    // refuses the first two attempts (so a retry crosses replicas too).
    let (partner_id, _, partner_token) = primary.partner_access("sessions:read").await;
    for (u, (_, token, _)) in users.iter().enumerate() {
        let grant = json!({"partner_id": partner_id, "scopes": ["sessions:read"]});
        let res = at(u)
            .send_json_with("POST", "/v1/me/partner-grants", token, &grant)
            .await;
        assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    }
    let receiver = Receiver::start();
    receiver.plan([Plan::Status(503), Plan::Status(500)]);
    let session_events = ["session.created", "session.updated", "session.deleted"];
    let endpoint = json!({"url": receiver.url, "event_types": session_events});
    let res = at(0)
        .send_json_with("POST", "/v1/partner/webhooks", &partner_token, &endpoint)
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));

    // A follower reads user 0's feed through replica 2 while the writes land.
    let (_, token0, _) = users[0].clone();
    let follower = async {
        let (mut since, mut seen) = (None, BTreeMap::new());
        for _ in 0..15 {
            follow(at(2), &token0, &mut since, &mut seen).await;
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
        (since, seen)
    };
    // 90 creates, round-robin over users and replicas, all in flight together; then every
    // third session of each user is updated and every fifth deleted, again across replicas.
    let writes = async {
        let created = join_all((0..90).map(|i| {
            let (_, token, _) = &users[i % users.len()];
            let started = format!("2026-12-{:02}T07:{:02}:00Z", 1 + i % 28, i % 60);
            async move {
                let res = at(i + 1).post_session(token, &session(&started, 5)).await;
                assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
                (i % 6, res.json()["id"].as_str().unwrap().to_owned())
            }
        }))
        .await;
        join_all(created.iter().enumerate().map(|(n, (u, id))| {
            let token = users[*u].1.clone();
            async move {
                let path = format!("/v1/me/sessions/{id}");
                if n % 5 == 0 {
                    assert_eq!(at(n).delete_with(&path, &token).await.status.as_u16(), 204);
                } else if n % 3 == 0 {
                    let res = at(n + 2)
                        .send_json_with("PATCH", &path, &token, &json!({"rpe": 8}))
                        .await;
                    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
                }
            }
        }))
        .await;
        created
    };
    let ((mut since, mut seen), created) = futures_util::future::join(follower, writes).await;

    // Every user's feed, read through any replica, ends at exactly the live set and versions.
    follow(at(2), &token0, &mut since, &mut seen).await;
    let mut stored_sets = BTreeMap::new();
    for (u, (user_id, token, _)) in users.iter().enumerate() {
        let (mut since, mut fresh) = (None, BTreeMap::new());
        follow(at(u + 1), token, &mut since, &mut fresh).await;
        let followed = if u == 0 { &seen } else { &fresh };
        let live: BTreeMap<String, i64> = followed
            .iter()
            .filter(|(_, c)| c["deleted"] == false)
            .map(|(id, c)| (id.clone(), c["version"].as_i64().unwrap()))
            .collect();
        let listed = at(u).get_with("/v1/me/sessions?limit=100", token).await.json();
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
        assert_eq!(
            live, stored,
            "user {u}: the feed reproduces the live sessions and versions"
        );
        stored_sets.insert(user_id.clone(), stored);
        let mine: BTreeSet<&str> = created
            .iter()
            .filter(|(owner, _)| *owner == u)
            .map(|(_, id)| id.as_str())
            .collect();
        let fed: BTreeSet<&str> = followed.keys().map(String::as_str).collect();
        assert_eq!(
            fed, mine,
            "user {u}: every write, and nobody else's, is in the feed"
        );
    }

    // The partner feed, read through another replica, is in commit order and folds into every
    // user's stored sessions and versions.
    let (feed, _) = at(1)
        .follow("/v1/partner/changes", &partner_token, None, 25)
        .await;
    let feed: Vec<Value> = feed
        .into_iter()
        .filter(|e| session_events.contains(&e["type"].as_str().unwrap()))
        .collect();
    let positions: Vec<i64> = feed.iter().map(|e| e["position"].as_i64().unwrap()).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "the partner feed is in commit order, nothing twice"
    );
    assert_eq!(
        live_sets(&feed),
        stored_sets,
        "the partner feed reproduces every user's sessions"
    );

    // Webhooks: after the two refusals, every event of that feed arrives once and in its order,
    // the retry under the same `webhook-id`.
    receiver.wait_for(feed.len() + 2).await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let all = receiver.all();
    let ids: Vec<&str> = all.iter().map(|r| r.headers["webhook-id"].as_str()).collect();
    let fed: Vec<&str> = feed.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids[..2],
        [fed[0], fed[0]],
        "the refused event is retried under its id"
    );
    assert_eq!(ids[2..], fed[..], "each event delivered once, in feed order");

    // One Idempotency-Key sent to all three replicas at once: one session is created, and
    // every success is that same response.
    let (_, token, _) = &users[1];
    let body = session("2026-11-30T06:00:00Z", 4);
    let answers = join_all((0..3).map(|r| {
        let body = body.clone();
        async move {
            let req = at(r)
                .client
                .post(at(r).url("/v1/me/sessions"))
                .insert_header(("Authorization", format!("Bearer {token}")))
                .insert_header(("Content-Type", "application/json"))
                .insert_header(("Idempotency-Key", "replicated-retry-1"));
            at(r).send(req, Some(body.to_string().as_bytes())).await
        }
    }))
    .await;
    let ok: Vec<_> = answers.iter().filter(|a| a.status.is_success()).collect();
    assert!(!ok.is_empty(), "at least one replica answered");
    for a in &answers {
        assert!(
            matches!(a.status.as_u16(), 201 | 409),
            "a concurrent duplicate is a replay or 'still being processed': {}",
            a.status
        );
    }
    let replay = at(2)
        .send(
            at(2)
                .client
                .post(at(2).url("/v1/me/sessions"))
                .insert_header(("Authorization", format!("Bearer {token}")))
                .insert_header(("Content-Type", "application/json"))
                .insert_header(("Idempotency-Key", "replicated-retry-1")),
            Some(body.to_string().as_bytes()),
        )
        .await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json()["id"], ok[0].json()["id"]);
    let listed = at(0)
        .get_with(
            "/v1/me/sessions?from=2026-11-30T00:00:00Z&to=2026-12-01T00:00:00Z",
            token,
        )
        .await
        .json();
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        1,
        "one stored session for one key"
    );

    // The login throttle is one budget across replicas: 3 failures per account, wherever.
    let email = "replica-5@example.com";
    let mut statuses = Vec::new();
    for attempt in 0..6 {
        let res = at(attempt)
            .post_json(
                "/v1/auth/token",
                &json!({"email": email, "password": "wrong password, surely"}),
            )
            .await;
        statuses.push(res.status.as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429, 429], "shared across replicas");

    // Rate limits: on PostgreSQL one budget across replicas (counts meet every second); on
    // SQLite, where one process is the deployment, each process keeps its own.
    let preview = json!({"age": 45, "activity_level": "sedentary", "goals": ["circulation"]});
    let shared = primary.database_url.starts_with("postgres");
    let mut allowed = 0;
    for _round in 0..4 {
        for r in 0..3 {
            let res = at(r).post_json("/v1/programmes/preview", &preview).await;
            match res.status.as_u16() {
                200 => allowed += 1,
                429 => assert!(res.header("retry-after").is_some()),
                other => panic!("preview answered {other}"),
            }
        }
        if shared {
            // Every replica has added its counts, then each syncs once more to read the others'.
            let deadline = Instant::now() + Duration::from_secs(20);
            while stored_previews(&primary) < allowed {
                assert!(
                    Instant::now() < deadline,
                    "the replicas did not share their counts"
                );
                actix_web::rt::time::sleep(Duration::from_millis(100)).await;
            }
            actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
        }
    }
    assert_eq!(allowed, if shared { 9 } else { 12 }, "previews let through");
}

/// The previews the replicas have added to the shared counters so far.
fn stored_previews(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Total {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(
        "SELECT COALESCE(SUM(count), 0)::bigint AS n FROM rate_counters WHERE key LIKE 'rl:expensive:%'",
    )
    .get_result::<Total>(&mut app.raw_connection())
    .map(|t| t.n)
    .unwrap_or(0)
}

#[actix_web::test]
async fn the_request_log_names_the_caller_and_continues_the_callers_trace() {
    let primary = spawn_app_with(|_| {}, None).await;
    let log = primary.data_dir().join("replica.log");
    let replica = start_logging_replica(&primary, Some(&log)).await;
    let app = &replica.app;
    let (user_id, token, _) = app.user("traced@example.com").await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let res = app
        .send(
            app.client
                .get(app.url("/v1/me"))
                .insert_header(("Authorization", format!("Bearer {token}")))
                .insert_header(("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))),
            None,
        )
        .await;
    assert_eq!(res.status.as_u16(), 200);
    let answered = res.header("traceresponse").unwrap().to_owned();
    assert!(answered.starts_with(&format!("00-{trace}-")) && answered.ends_with("-01"));
    assert!(
        !answered.contains("00f067aa0ba902b7"),
        "our own span id: {answered}"
    );
    // Without one (or with a malformed one) a new trace starts.
    let res = app
        .send(
            app.client
                .get(app.url("/v1/exercises"))
                .insert_header(("traceparent", "00-xyz-00f067aa0ba902b7-01")),
            None,
        )
        .await;
    let fresh = res.header("traceresponse").unwrap();
    let fresh_trace = fresh.split('-').nth(1).unwrap();
    assert!(
        fresh.len() == 55 && fresh.starts_with("00-") && fresh.ends_with("-00"),
        "{fresh}"
    );
    assert!(
        fresh_trace != trace && fresh_trace.bytes().all(|b| b.is_ascii_hexdigit()),
        "{fresh}"
    );

    // The log line of the first request: the caller and the trace, and no secret.
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        let text = std::fs::read_to_string(&log).unwrap();
        let found = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| l["span"]["path"] == "/v1/me" && l["fields"]["status"] == 200);
        if let Some(line) = found {
            assert!(!text.contains(&token), "a token was logged");
            assert!(
                !text.contains("traced@example.com"),
                "an e-mail address was logged"
            );
            break line;
        }
        assert!(Instant::now() < deadline, "no log line for /v1/me: {text}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(line["span"]["caller"], format!("user:{user_id}"));
    assert_eq!(line["span"]["trace_id"], trace);
    assert_eq!(
        line["span"]["span_id"].as_str(),
        answered.split('-').nth(2),
        "the logged span is the one answered"
    );
}
