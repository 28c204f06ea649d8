//! Workout sessions: idempotent create, preconditions, tombstones, paging, the change feed,
//! concurrency, ownership and partner upserts.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use serde_json::{Value, json};
use soleus_api::db::schema::sessions;

use crate::helpers::{Response, TestApp, assert_problem, spawn_app, spawn_app_with};

fn session(id: Option<&str>, started: &str) -> Value {
    let mut s = json!({
        "started_at": started, "duration_seconds": 1200, "rpe": 6, "pain_during": 1,
        "sets": [
            {"exercise_id": "single-leg-bent-knee-heel-raise", "set_number": 1, "side": "left", "reps": 15, "completed": true},
            {"exercise_id": "single-leg-bent-knee-heel-raise", "set_number": 2, "side": "right", "reps": 14, "load_kg": 5.0, "completed": true}
        ]
    });
    if let Some(id) = id {
        s["id"] = id.into();
    }
    s
}

impl TestApp {
    async fn send_with_headers(
        &self,
        method: &str,
        path: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Response {
        let mut req = self
            .client
            .request(method.parse().unwrap(), self.url(path))
            .insert_header(("Authorization", format!("Bearer {token}")));
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        match body {
            Some(b) => {
                let req = req.insert_header(("Content-Type", "application/json"));
                self.send(req, Some(b.to_string().as_bytes())).await
            }
            None => self.send(req, None).await,
        }
    }

    /// Follows the change feed from `since` to the end; returns the changes and the last cursor.
    async fn follow(
        &self,
        base: &str,
        token: &str,
        since: Option<String>,
        limit: u32,
    ) -> (Vec<Value>, String) {
        let mut changes = Vec::new();
        let mut since = since;
        loop {
            let mut path = format!("{base}?limit={limit}");
            if let Some(s) = &since {
                path.push_str(&format!("&since={s}"));
            }
            let page = self.get_with(&path, token).await;
            assert_eq!(
                page.status.as_u16(),
                200,
                "{}",
                String::from_utf8_lossy(&page.body)
            );
            let page = page.json();
            changes.extend(page["changes"].as_array().unwrap().iter().cloned());
            since = Some(page["next"].as_str().unwrap().to_owned());
            if page["has_more"] == false {
                return (changes, since.unwrap());
            }
        }
    }
}

fn stored_ids(app: &TestApp) -> Vec<String> {
    let mut conn = app.raw_connection();
    sessions::table
        .select(sessions::id)
        .order(sessions::id)
        .load(&mut conn)
        .unwrap()
}

#[actix_web::test]
async fn an_offline_id_replayed_gives_one_row_and_a_conflicting_replay_is_409() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("sync@example.com").await;
    let id = "0b6c1f7e-5b8a-4d0e-9a55-3c2f1d9e8a71";
    let body = session(Some(id), "2026-12-07T07:30:00+01:00");

    let first = app.send_json_with("POST", "/v1/me/sessions", &token, &body).await;
    assert_eq!(
        first.status.as_u16(),
        201,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    assert_eq!(
        first.header("location"),
        Some(format!("/v1/me/sessions/{id}").as_str())
    );
    assert_eq!(first.header("sync-result"), Some("created"));
    let created = first.json();
    assert_eq!(
        created["started_at"], "2026-12-07T07:30:00+01:00",
        "the client's offset is kept"
    );
    assert_eq!(created["source"], "app");
    assert_eq!(created["version"], 1);

    let replay = app.send_json_with("POST", "/v1/me/sessions", &token, &body).await;
    assert_eq!(replay.status.as_u16(), 200);
    assert_eq!(replay.header("sync-result"), Some("unchanged"));
    assert_eq!(replay.json(), created);
    assert_eq!(stored_ids(&app), [id]);

    let mut different = body.clone();
    different["rpe"] = 9.into();
    assert_problem(
        &app.send_json_with("POST", "/v1/me/sessions", &token, &different)
            .await,
        409,
    );
    assert_eq!(
        app.get_with(&format!("/v1/me/sessions/{id}"), &token)
            .await
            .json()["rpe"],
        6,
        "nothing changed"
    );

    let server_id = app
        .send_json_with(
            "POST",
            "/v1/me/sessions",
            &token,
            &session(None, "2026-12-08T07:30:00Z"),
        )
        .await;
    assert_eq!(server_id.status.as_u16(), 201);
    assert_eq!(stored_ids(&app).len(), 2);
}

#[actix_web::test]
async fn invalid_sessions_are_422_naming_the_field_and_store_nothing() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("v@example.com").await;
    let cases = [
        (
            json!({"sets": [{"exercise_id": "moon-walk", "set_number": 1, "side": "both", "completed": true}]}),
            "sets[0].exercise_id",
        ),
        (json!({"rpe": 11}), "rpe"),
        (json!({"pain_next_morning": -1}), "pain_next_morning"),
        (
            json!({"sets": [{"exercise_id": "walking", "set_number": 1, "side": "middle", "completed": true}]}),
            "sets[0].side",
        ),
        (
            json!({"sets": [{"exercise_id": "walking", "set_number": 1, "side": "both", "completed": true, "weight": 3}]}),
            "sets[0].weight",
        ),
        (json!({"duration_seconds": 90_000}), "duration_seconds"),
        (json!({"started_at": "yesterday"}), "started_at"),
        (json!({"external_id": "abc"}), "external_id"),
        (json!({"source": "garmin"}), "source"),
    ];
    for (change, field) in cases {
        let mut body = session(None, "2026-12-07T07:30:00Z");
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let problem = assert_problem(
            &app.send_json_with("POST", "/v1/me/sessions", &token, &body).await,
            422,
        );
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{field}: {problem}"
        );
    }
    assert!(stored_ids(&app).is_empty());
}

#[actix_web::test]
async fn etags_preconditions_patch_and_tombstones() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("etag@example.com").await;
    let id = "5d7c2b7e-0000-4000-8000-000000000001";
    let created = app
        .send_json_with(
            "POST",
            "/v1/me/sessions",
            &token,
            &session(Some(id), "2026-12-07T07:30:00Z"),
        )
        .await;
    let path = format!("/v1/me/sessions/{id}");
    let tag = created.header("etag").unwrap().to_owned();

    let cached = app
        .send_with_headers("GET", &path, &token, &[("If-None-Match", &tag)], None)
        .await;
    assert_eq!(cached.status.as_u16(), 304);

    let patch = app
        .send_with_headers(
            "PATCH",
            &path,
            &token,
            &[("If-Match", &tag)],
            Some(&json!({"pain_next_morning": 2, "rpe": null})),
        )
        .await;
    assert_eq!(
        patch.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&patch.body)
    );
    let patched = patch.json();
    assert_eq!(
        (
            patched["pain_next_morning"].clone(),
            patched["rpe"].clone(),
            patched["version"].clone()
        ),
        (json!(2), Value::Null, json!(2))
    );
    assert_eq!(
        patched["sets"].as_array().unwrap().len(),
        2,
        "untouched fields stay"
    );
    let new_tag = patch.header("etag").unwrap().to_owned();
    assert_ne!(new_tag, tag);

    // A writer holding the old tag cannot overwrite the newer version.
    let stale = app
        .send_with_headers(
            "PUT",
            &path,
            &token,
            &[("If-Match", &tag)],
            Some(&session(Some(id), "2026-12-07T07:30:00Z")),
        )
        .await;
    assert_problem(&stale, 412);
    assert_problem(
        &app.send_with_headers(
            "PATCH",
            &path,
            &token,
            &[("If-Match", &tag)],
            Some(&json!({"rpe": 3})),
        )
        .await,
        412,
    );
    assert_eq!(
        app.get_with(&path, &token).await.json()["pain_next_morning"],
        2,
        "nothing was lost"
    );
    let bad_patch = app
        .send_with_headers("PATCH", &path, &token, &[], Some(&json!({"rpe": 40})))
        .await;
    assert_eq!(assert_problem(&bad_patch, 422)["errors"][0]["field"], "rpe");

    let put = app
        .send_with_headers(
            "PUT",
            &path,
            &token,
            &[("If-Match", &new_tag)],
            Some(&session(None, "2026-12-07T07:30:00Z")),
        )
        .await;
    assert_eq!(put.status.as_u16(), 200);
    assert_eq!(put.json()["version"], 3);

    assert_problem(
        &app.send_with_headers("DELETE", &path, &token, &[("If-Match", &tag)], None)
            .await,
        412,
    );
    assert_eq!(app.delete_with(&path, &token).await.status.as_u16(), 204);
    assert_eq!(
        app.delete_with(&path, &token).await.status.as_u16(),
        204,
        "a second delete still succeeds"
    );
    assert_problem(&app.get_with(&path, &token).await, 404);
    assert_eq!(
        app.get_with("/v1/me/sessions", &token).await.json()["items"],
        json!([])
    );
    let (feed, _) = app.follow("/v1/me/changes", &token, None, 100).await;
    assert_eq!(feed.len(), 1);
    assert_eq!(
        (feed[0]["id"].as_str(), feed[0]["deleted"].as_bool()),
        (Some(id), Some(true)),
        "the tombstone is in the feed"
    );
    assert_problem(
        &app.send_json_with(
            "POST",
            "/v1/me/sessions",
            &token,
            &session(Some(id), "2026-12-07T07:30:00Z"),
        )
        .await,
        409,
    );
}

#[actix_web::test]
async fn listing_pages_newest_first_without_gaps_or_duplicates() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("list@example.com").await;
    for day in 1..=7 {
        let started = format!("2026-12-{day:02}T07:00:00Z");
        app.send_json_with("POST", "/v1/me/sessions", &token, &session(None, &started))
            .await;
    }
    // Two sessions at the same instant: the id breaks the tie.
    app.send_json_with(
        "POST",
        "/v1/me/sessions",
        &token,
        &session(None, "2026-12-04T07:00:00Z"),
    )
    .await;

    let mut seen = Vec::new();
    let mut next = Some("/v1/me/sessions?limit=3".to_owned());
    while let Some(path) = next {
        let res = app.get_with(&path, &token).await;
        let body = res.json();
        seen.extend(body["items"].as_array().unwrap().iter().map(|s| {
            (
                s["started_at"].as_str().unwrap().to_owned(),
                s["id"].as_str().unwrap().to_owned(),
            )
        }));
        next = res
            .header("link")
            .map(|l| l.trim_start_matches('<').split('>').next().unwrap().to_owned());
        assert_eq!(next.is_some(), body["next_cursor"].is_string());
    }
    assert_eq!(seen.len(), 8);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first, id tie-break");

    let window = app
        .get_with(
            "/v1/me/sessions?from=2026-12-03T00:00:00Z&to=2026-12-05T00:00:00Z",
            &token,
        )
        .await
        .json();
    assert_eq!(window["items"].as_array().unwrap().len(), 3);
    assert_problem(&app.get_with("/v1/me/sessions?cursor=garbage", &token).await, 400);
    assert_problem(&app.get_with("/v1/me/sessions?limit=1000", &token).await, 422);
    assert_problem(&app.get_with("/v1/me/changes?since=zzz", &token).await, 400);
}

/// A small deterministic generator, so a failing mix can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[actix_web::test]
async fn following_the_change_feed_reproduces_the_live_set_after_random_writes() {
    let app = spawn_app().await;
    for seed in [1_u64, 7, 42] {
        let (_, token, _) = app.user(&format!("feed-{seed}@example.com")).await;
        let mut rng = Lcg(seed);
        let mut live: BTreeMap<String, i64> = BTreeMap::new();
        let mut mirror: BTreeMap<String, Value> = BTreeMap::new();
        let mut cursor = None;
        for step in 0..40 {
            match rng.next(10) {
                0..=4 => {
                    let started = format!("2026-11-{:02}T{:02}:00:00Z", 1 + rng.next(28), rng.next(24));
                    let res = app
                        .send_json_with("POST", "/v1/me/sessions", &token, &session(None, &started))
                        .await;
                    let body = res.json();
                    live.insert(
                        body["id"].as_str().unwrap().to_owned(),
                        body["version"].as_i64().unwrap(),
                    );
                }
                5..=7 if !live.is_empty() => {
                    let key = live
                        .keys()
                        .nth(usize::try_from(rng.next(live.len() as u64)).unwrap())
                        .unwrap()
                        .clone();
                    let patch = json!({"pain_next_morning": rng.next(11)});
                    let res = app
                        .send_with_headers(
                            "PATCH",
                            &format!("/v1/me/sessions/{key}"),
                            &token,
                            &[],
                            Some(&patch),
                        )
                        .await;
                    live.insert(key, res.json()["version"].as_i64().unwrap());
                }
                _ if !live.is_empty() => {
                    let key = live
                        .keys()
                        .nth(usize::try_from(rng.next(live.len() as u64)).unwrap())
                        .unwrap()
                        .clone();
                    app.delete_with(&format!("/v1/me/sessions/{key}"), &token).await;
                    live.remove(&key);
                }
                _ => {}
            }
            // The client syncs at random moments, with small pages.
            if rng.next(4) == 0 || step == 39 {
                let limit = 1 + u32::try_from(rng.next(5)).unwrap();
                let (changes, next) = app.follow("/v1/me/changes", &token, cursor.take(), limit).await;
                for change in changes {
                    let id = change["id"].as_str().unwrap().to_owned();
                    if change["deleted"] == true {
                        mirror.remove(&id);
                    } else {
                        mirror.insert(id, change);
                    }
                }
                cursor = Some(next);
            }
        }
        let mirrored: BTreeMap<String, i64> = mirror
            .iter()
            .map(|(k, v)| (k.clone(), v["version"].as_i64().unwrap()))
            .collect();
        assert_eq!(
            mirrored, live,
            "seed {seed}: the feed reproduces the server's live sessions and versions"
        );
    }
}

#[actix_web::test]
async fn fifty_concurrent_writers_lose_and_duplicate_nothing() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("busy@example.com").await;
    let ids: Vec<String> = (0..25)
        .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
        .collect();
    // 50 writers: each of 25 ids is posted twice at the same time.
    let requests = ids.iter().chain(ids.iter()).enumerate().map(|(i, id)| {
        let body = session(Some(id), &format!("2026-10-{:02}T06:00:00Z", 1 + i % 25));
        let app = &app;
        let token = &token;
        async move { app.send_json_with("POST", "/v1/me/sessions", token, &body).await }
    });
    let results = futures_util::future::join_all(requests).await;
    let mut created = 0;
    for res in &results {
        match res.status.as_u16() {
            201 => created += 1,
            200 => assert_eq!(res.header("sync-result"), Some("unchanged")),
            other => panic!("unexpected {other}: {}", String::from_utf8_lossy(&res.body)),
        }
    }
    assert_eq!(created, 25, "each id created exactly once");
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(stored_ids(&app), expected);
    let mut conn = app.raw_connection();
    let seqs: Vec<i64> = sessions::table.select(sessions::seq).load(&mut conn).unwrap();
    assert_eq!(
        seqs.iter().collect::<BTreeSet<_>>().len(),
        25,
        "every change has its own feed position"
    );
    let (feed, _) = app.follow("/v1/me/changes", &token, None, 7).await;
    assert_eq!(feed.len(), 25);
}

#[actix_web::test]
async fn a_user_never_sees_or_touches_another_users_sessions() {
    let app = spawn_app().await;
    let (_, a, _) = app.user("alice@example.com").await;
    let (_, b, _) = app.user("bob@example.com").await;
    let id = "aaaaaaaa-0000-4000-8000-000000000001";
    app.send_json_with(
        "POST",
        "/v1/me/sessions",
        &a,
        &session(Some(id), "2026-12-07T07:30:00Z"),
    )
    .await;
    let path = format!("/v1/me/sessions/{id}");
    assert_problem(&app.get_with(&path, &b).await, 404);
    assert_problem(
        &app.send_with_headers(
            "PUT",
            &path,
            &b,
            &[],
            Some(&session(None, "2026-12-07T07:30:00Z")),
        )
        .await,
        404,
    );
    assert_problem(
        &app.send_with_headers("PATCH", &path, &b, &[], Some(&json!({"rpe": 1})))
            .await,
        404,
    );
    assert_problem(&app.delete_with(&path, &b).await, 404);
    assert_eq!(
        app.get_with("/v1/me/sessions", &b).await.json()["items"],
        json!([])
    );
    assert_eq!(
        app.follow("/v1/me/changes", &b, None, 10).await.0,
        Vec::<Value>::new()
    );
    assert_problem(
        &app.send_json_with(
            "POST",
            "/v1/me/sessions",
            &b,
            &session(Some(id), "2026-12-07T07:30:00Z"),
        )
        .await,
        409,
    );
    assert_eq!(
        app.get_with(&path, &a).await.json()["rpe"],
        6,
        "A's session is intact"
    );
}

#[actix_web::test]
async fn partners_upsert_by_external_version_under_a_grant() {
    let app = spawn_app().await;
    let (user_id, user_token, _) = app.user("partnered@example.com").await;
    let (pid, secret) = app.partner("sessions:read,sessions:write");
    let token = app.partner_token(&pid, &secret, None).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let read_only = app
        .partner_token(&pid, &secret, Some("sessions:read"))
        .await
        .json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/users/{user_id}/sessions");
    let mut v1 = session(None, "2026-12-07T07:30:00Z");
    v1["external_id"] = "garmin-123".into();
    v1["external_version"] = 1.into();

    assert_problem(&app.send_json_with("POST", &path, &token, &v1).await, 403);
    app.send_json_with(
        "POST",
        "/v1/me/partner-grants",
        &user_token,
        &json!({"partner_id": pid, "scopes": ["sessions:read", "sessions:write"]}),
    )
    .await;
    assert_problem(&app.send_json_with("POST", &path, &read_only, &v1).await, 403);

    let created = app.send_json_with("POST", &path, &token, &v1).await;
    assert_eq!(
        created.status.as_u16(),
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let id = created.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(created.json()["source"], pid.as_str());

    let mut v2 = v1.clone();
    v2["external_version"] = 2.into();
    v2["rpe"] = 8.into();
    let replaced = app.send_json_with("POST", &path, &token, &v2).await;
    assert_eq!(replaced.header("sync-result"), Some("replaced"));
    assert_eq!(
        (replaced.json()["id"].as_str(), replaced.json()["rpe"].as_i64()),
        (Some(id.as_str()), Some(8))
    );

    let mut stale = v1.clone();
    stale["rpe"] = 2.into();
    let ignored = app.send_json_with("POST", &path, &token, &stale).await;
    assert_eq!(ignored.status.as_u16(), 200);
    assert_eq!(ignored.header("sync-result"), Some("ignored"));
    assert_eq!(ignored.json()["rpe"], 8, "the newer version stays");
    assert_eq!(stored_ids(&app), std::slice::from_ref(&id));

    let listed = app.get_with(&path, &token).await.json();
    assert_eq!(listed["items"][0]["id"], id.as_str());
    let (feed, _) = app
        .follow(&format!("/v1/users/{user_id}/changes"), &token, None, 10)
        .await;
    assert_eq!(feed.len(), 1);
    assert_eq!(
        app.get_with("/v1/me/sessions", &user_token).await.json()["items"][0]["external_id"],
        "garmin-123"
    );
}

#[actix_web::test]
async fn a_batch_answers_each_item_in_order_and_one_bad_item_rejects_nothing_else() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("batch@example.com").await;
    let known = "bbbbbbbb-0000-4000-8000-000000000001";
    app.send_json_with(
        "POST",
        "/v1/me/sessions",
        &token,
        &session(Some(known), "2026-12-01T07:00:00Z"),
    )
    .await;
    let mut conflicting = session(Some(known), "2026-12-01T07:00:00Z");
    conflicting["rpe"] = 2.into();
    let mut invalid = session(None, "2026-12-02T07:00:00Z");
    invalid["pain_during"] = 12.into();
    let body = json!({"sessions": [
        session(Some("bbbbbbbb-0000-4000-8000-000000000002"), "2026-12-03T07:00:00Z"),
        session(Some(known), "2026-12-01T07:00:00Z"),
        conflicting,
        invalid,
        session(None, "2026-12-04T07:00:00Z"),
    ]});
    let res = app
        .send_json_with("POST", "/v1/me/sessions/batch", &token, &body)
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    let results = res.json()["results"].as_array().unwrap().clone();
    let statuses: Vec<u64> = results.iter().map(|r| r["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [201, 200, 409, 422, 201]);
    assert_eq!(results[1]["result"], "unchanged");
    assert_eq!(results[3]["problem"]["errors"][0]["field"], "pain_during");
    assert_eq!(
        stored_ids(&app).len(),
        3,
        "the two valid new sessions and the original"
    );

    let too_many = json!({"sessions": vec![session(None, "2026-12-04T07:00:00Z"); 501]});
    assert_problem(
        &app.send_json_with("POST", "/v1/me/sessions/batch", &token, &too_many)
            .await,
        422,
    );
}

#[actix_web::test]
async fn an_idempotency_key_replays_the_first_response_and_refuses_a_different_body() {
    let app = spawn_app().await;
    let (_, a, _) = app.user("key-a@example.com").await;
    let (_, b, _) = app.user("key-b@example.com").await;
    let body = session(None, "2026-12-09T07:00:00Z");
    let key = [("Idempotency-Key", "\"8e03978e-40d5-43e8-bc93-6894a57f9324\"")];

    let first = app
        .send_with_headers("POST", "/v1/me/sessions", &a, &key, Some(&body))
        .await;
    assert_eq!(first.status.as_u16(), 201);
    let again = app
        .send_with_headers("POST", "/v1/me/sessions", &a, &key, Some(&body))
        .await;
    assert_eq!(again.status.as_u16(), 201, "the stored response, status included");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json(), first.json());
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(
        stored_ids(&app).len(),
        1,
        "a server-assigned id is still created once"
    );

    let mut other = body.clone();
    other["rpe"] = 3.into();
    let mismatch = app
        .send_with_headers("POST", "/v1/me/sessions", &a, &key, Some(&other))
        .await;
    assert_eq!(
        assert_problem(&mismatch, 422)["errors"][0]["field"],
        "Idempotency-Key"
    );

    let other_user = app
        .send_with_headers("POST", "/v1/me/sessions", &b, &key, Some(&body))
        .await;
    assert_eq!(other_user.status.as_u16(), 201, "keys are per caller");
    assert!(other_user.header("idempotent-replayed").is_none());
    assert_eq!(stored_ids(&app).len(), 2);

    let long = "k".repeat(300);
    assert_problem(
        &app.send_with_headers(
            "POST",
            "/v1/me/sessions",
            &a,
            &[("Idempotency-Key", &long)],
            Some(&body),
        )
        .await,
        400,
    );

    let batch = json!({"sessions": [session(None, "2026-12-10T07:00:00Z")]});
    let batch_key = [("Idempotency-Key", "batch-1")];
    let one = app
        .send_with_headers("POST", "/v1/me/sessions/batch", &a, &batch_key, Some(&batch))
        .await
        .json();
    let two = app
        .send_with_headers("POST", "/v1/me/sessions/batch", &a, &batch_key, Some(&batch))
        .await
        .json();
    assert_eq!(one, two);
    assert_eq!(stored_ids(&app).len(), 3);
}

#[actix_web::test]
async fn concurrent_updates_of_one_session_all_apply_without_errors() {
    // More workers and connections than the default test app, so transactions really overlap.
    let app = spawn_app_with(
        |s| {
            s.workers = 4;
            s.db_pool_size = 8;
        },
        None,
    )
    .await;
    let (_, token, _) = app.user("race@example.com").await;
    let id = "cccccccc-0000-4000-8000-000000000001";
    app.send_json_with(
        "POST",
        "/v1/me/sessions",
        &token,
        &session(Some(id), "2026-12-07T07:30:00Z"),
    )
    .await;
    let path = format!("/v1/me/sessions/{id}");
    // Read-then-write transactions racing on one row: each must wait its turn, not fail.
    let patches = (0..40_u64).map(|i| {
        let (app, token, path) = (&app, &token, &path);
        async move {
            app.send_with_headers(
                "PATCH",
                path,
                token,
                &[],
                Some(&json!({"pain_next_morning": i % 11, "notes": format!("edit {i}")})),
            )
            .await
        }
    });
    let results = futures_util::future::join_all(patches).await;
    for res in &results {
        assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    }
    let versions: BTreeSet<i64> = results
        .iter()
        .map(|r| r.json()["version"].as_i64().unwrap())
        .collect();
    assert_eq!(
        versions.len(),
        40,
        "every edit got its own version: none was lost"
    );
    assert_eq!(app.get_with(&path, &token).await.json()["version"], 41);
}

#[actix_web::test]
async fn stats_report_weeks_adherence_pain_and_asymmetry_for_the_owner_only() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("stats@example.com").await;
    let (_, other, _) = app.user("stats-other@example.com").await;
    let programme = json!({"age": 30, "activity_level": "active", "goals": ["runner_endurance"], "days_per_week": 3,
        "screening": {"chest_pain": false, "dizziness_or_fainting": false, "calf_swelling_warmth_redness": false, "acute_calf_strain": false}});
    let stored = app
        .send_json_with("POST", "/v1/me/programmes", &token, &programme)
        .await
        .json();
    let programme_id = stored["id"].as_str().unwrap();
    for (day, linked) in [("07", true), ("09", true), ("10", false)] {
        let mut s = session(None, &format!("2026-12-{day}T07:00:00Z"));
        if linked {
            s["programme_id"] = programme_id.into();
        }
        app.send_json_with("POST", "/v1/me/sessions", &token, &s).await;
    }
    let res = app
        .get_with(
            "/v1/me/stats?from=2026-12-01T00:00:00Z&to=2026-12-31T00:00:00Z",
            &token,
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    let stats = res.json();
    assert_eq!(stats["weeks"].as_array().unwrap().len(), 1);
    let week = &stats["weeks"][0];
    assert_eq!(week["week_start"], "2026-12-07");
    assert_eq!(
        (week["sessions"].as_u64(), week["minutes"].as_u64()),
        (Some(3), Some(60))
    );
    assert_eq!(
        (
            week["programme_sessions"].as_u64(),
            week["planned_sessions"].as_u64()
        ),
        (Some(2), Some(3))
    );
    assert_eq!(week["mean_pain_during"], 1.0);
    let exercise = &stats["exercises"][0];
    assert_eq!(exercise["exercise_id"], "single-leg-bent-knee-heel-raise");
    assert_eq!(
        (exercise["left_reps"].as_u64(), exercise["right_reps"].as_u64()),
        (Some(45), Some(42))
    );
    assert_eq!(exercise["asymmetry_flag"], false);

    let theirs = app
        .get_with(
            "/v1/me/stats?from=2026-12-01T00:00:00Z&to=2026-12-31T00:00:00Z",
            &other,
        )
        .await
        .json();
    assert_eq!(theirs, json!({"weeks": [], "exercises": []}));
    assert_problem(
        &app.get_with(
            "/v1/me/stats?from=2025-01-01T00:00:00Z&to=2026-12-31T00:00:00Z",
            &token,
        )
        .await,
        422,
    );
}

#[actix_web::test]
async fn a_cursor_older_than_the_tombstone_retention_gets_410_and_a_full_resync_recovers() {
    let app = spawn_app_with(
        |s| {
            s.tombstone_retention_days = 0;
            s.tombstone_purge_interval = std::time::Duration::from_millis(50);
        },
        None,
    )
    .await;
    let (_, token, _) = app.user("retention@example.com").await;
    let keep = app
        .send_json_with(
            "POST",
            "/v1/me/sessions",
            &token,
            &session(None, "2026-12-01T07:00:00Z"),
        )
        .await
        .json();
    let gone = app
        .send_json_with(
            "POST",
            "/v1/me/sessions",
            &token,
            &session(None, "2026-12-02T07:00:00Z"),
        )
        .await
        .json();
    let (_, old_cursor) = app.follow("/v1/me/changes", &token, None, 10).await;

    // With zero retention the tombstone is purged at the next tick: the old cursor could miss it.
    assert_eq!(
        app.delete_with(
            &format!("/v1/me/sessions/{}", gone["id"].as_str().unwrap()),
            &token
        )
        .await
        .status
        .as_u16(),
        204
    );
    let mut stale = app
        .get_with(&format!("/v1/me/changes?since={old_cursor}"), &token)
        .await;
    for _ in 0..100 {
        if stale.status.as_u16() == 410 {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        stale = app
            .get_with(&format!("/v1/me/changes?since={old_cursor}"), &token)
            .await;
    }
    assert_eq!(
        assert_problem(&stale, 410)["type"],
        "https://soleus-api.dev/problems/gone"
    );

    let (full, fresh) = app.follow("/v1/me/changes", &token, None, 10).await;
    let ids: Vec<&str> = full.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [keep["id"].as_str().unwrap()],
        "a full resync holds exactly the live sessions"
    );
    assert_eq!(
        app.get_with(&format!("/v1/me/changes?since={fresh}"), &token)
            .await
            .status
            .as_u16(),
        200
    );
}

#[actix_web::test]
async fn a_batch_applies_the_sync_rules_between_its_own_items_and_keeps_the_feed_in_order() {
    let app = spawn_app().await;
    let (user_id, user_token, _) = app.user("bulk@example.com").await;
    let (pid, secret) = app.partner("sessions:read,sessions:write");
    let token = app.partner_token(&pid, &secret, None).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.send_json_with(
        "POST",
        "/v1/me/partner-grants",
        &user_token,
        &json!({"partner_id": pid, "scopes": ["sessions:read", "sessions:write"]}),
    )
    .await;
    let id = "cccccccc-0000-4000-8000-000000000001";
    let same = session(Some(id), "2026-12-01T07:00:00Z");
    let mut other = same.clone();
    other["rpe"] = 2.into();
    let external = |version: i64, rpe: i64| {
        let mut s = session(None, "2026-12-02T07:00:00Z");
        s["external_id"] = "garmin-9".into();
        s["external_version"] = version.into();
        s["rpe"] = rpe.into();
        s
    };
    let body = json!({"sessions": [same, same, other, external(1, 5), external(3, 7), external(2, 9)]});
    let res = app
        .send_json_with(
            "POST",
            &format!("/v1/users/{user_id}/sessions/batch"),
            &token,
            &body,
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    let results = res.json()["results"].as_array().unwrap().clone();
    let outcome: Vec<(u64, Option<&str>)> = results
        .iter()
        .map(|r| (r["status"].as_u64().unwrap(), r["result"].as_str()))
        .collect();
    assert_eq!(
        outcome,
        [
            (201, Some("created")),
            (200, Some("unchanged")),
            (409, None),
            (201, Some("created")),
            (200, Some("replaced")),
            (200, Some("ignored")),
        ]
    );
    assert_eq!(results[4]["version"], 2, "replaced within the batch: version 2");
    // Stored as the batch left them: two sessions, the external one at version 3's content.
    let list = app.get_with("/v1/me/sessions", &user_token).await.json();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let garmin = items.iter().find(|s| s["external_id"] == "garmin-9").unwrap();
    assert_eq!(
        (garmin["rpe"].as_i64(), garmin["version"].as_i64()),
        (Some(7), Some(2))
    );
    // A write after the batch comes after it in the feed: the counter moved past the batch.
    app.send_json_with(
        "POST",
        "/v1/me/sessions",
        &user_token,
        &session(None, "2026-12-03T07:00:00Z"),
    )
    .await;
    let feed = app.get_with("/v1/me/changes", &user_token).await.json();
    let order: Vec<Option<i64>> = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["rpe"].as_i64())
        .collect();
    assert_eq!(order, [Some(6), Some(7), Some(6)], "{feed}");
}
