//! Logging sessions: idempotent create by id, validation, batches, Idempotency-Key, concurrent writers.

use std::collections::BTreeSet;

use diesel::prelude::*;
use serde_json::json;
use soleus_api::db::schema::{events, sessions};

use super::{session, stored_ids};
use crate::helpers::{assert_problem, spawn_app};

#[actix_web::test]
async fn an_offline_id_replayed_gives_one_row_and_a_conflicting_replay_is_409() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("sync@example.com").await;
    let id = "0b6c1f7e-5b8a-4d0e-9a55-3c2f1d9e8a71";
    let body = session(Some(id), "2026-12-07T07:30:00+01:00");

    let first = app.post_session(&token, &body).await;
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

    let replay = app.post_session(&token, &body).await;
    assert_eq!(replay.status.as_u16(), 200);
    assert_eq!(replay.header("sync-result"), Some("unchanged"));
    assert_eq!(replay.json(), created);
    assert_eq!(stored_ids(&app), [id]);

    let mut different = body.clone();
    different["rpe"] = 9.into();
    assert_problem(&app.post_session(&token, &different).await, 409);
    assert_eq!(
        app.get_with(&format!("/v1/me/sessions/{id}"), &token)
            .await
            .json()["rpe"],
        6,
        "nothing changed"
    );

    let server_id = app
        .post_session(&token, &session(None, "2026-12-08T07:30:00Z"))
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
        let problem = assert_problem(&app.post_session(&token, &body).await, 422);
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

/// Many users' new sessions at once, with a deleted account's among them (they go through the
/// group commit): each create gets its own answer, every feed holds each of its user's
/// sessions once, and each stored session has its own position and event.
#[actix_web::test]
async fn concurrent_new_sessions_of_many_users_and_a_deleted_account_each_get_their_own_answer() {
    let app = spawn_app().await;
    let mut tokens = Vec::new();
    for n in 0..9 {
        tokens.push(app.user(&format!("group{n}@example.com")).await.1);
    }
    let gone = app.user("gone@example.com").await.1;
    assert_eq!(app.delete_with("/v1/me", &gone).await.status.as_u16(), 204);
    // Round robin, so that the deleted account's sessions share groups with the others.
    let mut order: Vec<&String> = Vec::new();
    for _ in 0..10 {
        order.extend(tokens.iter());
        order.push(&gone);
    }
    let requests = order.iter().enumerate().map(|(i, token)| {
        let body = session(None, &format!("2026-10-{:02}T06:{:02}:00Z", 1 + i % 28, i % 60));
        let app = &app;
        async move {
            (
                *token,
                app.send_json_with("POST", "/v1/me/sessions", token, &body).await,
            )
        }
    });
    let results = futures_util::future::join_all(requests).await;
    for (token, res) in &results {
        let expected = if *token == &gone { 401 } else { 201 };
        assert_eq!(
            res.status.as_u16(),
            expected,
            "{}",
            String::from_utf8_lossy(&res.body)
        );
    }
    for token in &tokens {
        let mut created: Vec<String> = results
            .iter()
            .filter(|(t, _)| *t == token)
            .map(|(_, res)| res.json()["id"].as_str().unwrap().to_owned())
            .collect();
        created.sort();
        let (feed, _) = app.follow("/v1/me/changes", token, None, 7).await;
        let mut seen: Vec<String> = feed
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        seen.sort();
        assert_eq!(seen, created, "the feed holds each created session once");
    }
    let mut conn = app.raw_connection();
    let seqs: Vec<i64> = sessions::table.select(sessions::seq).load(&mut conn).unwrap();
    assert_eq!(seqs.len(), 90, "nothing stored for the deleted account");
    assert_eq!(
        seqs.iter().collect::<BTreeSet<_>>().len(),
        90,
        "every write has its own position"
    );
    let event_seqs: BTreeSet<i64> = events::table
        .filter(events::kind.eq("session.created"))
        .select(events::seq)
        .load(&mut conn)
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(
        event_seqs,
        seqs.iter().copied().collect::<BTreeSet<_>>(),
        "each stored session has its event at its own position, and no other"
    );
}

/// The group statement itself, on a real database: the sessions it can store share one
/// transaction (PostgreSQL: one xid in their positions) and take consecutive positions, with
/// their events at the same ones; a deleted account's and (PostgreSQL) a busy user's are left
/// out for the caller, and nothing of theirs is stored.
#[actix_web::test]
async fn a_group_is_one_transaction_and_leaves_out_the_busy_and_the_gone() {
    use soleus_api::repository::events::EventRow;
    use soleus_api::repository::sessions::{Locks, SessionRow, insert_new_many};
    let app = spawn_app().await;
    let postgres = app.database_url.starts_with("postgres");
    let (a, token, _) = app.user("group-a@example.com").await;
    let (busy, _, _) = app.user("group-busy@example.com").await;
    let (gone, gone_token, _) = app.user("group-gone@example.com").await;
    assert_eq!(app.delete_with("/v1/me", &gone_token).await.status.as_u16(), 204);
    let template = app
        .post_session(&token, &session(None, "2026-10-01T06:00:00Z"))
        .await;
    assert_eq!(template.status.as_u16(), 201);
    let mut conn = app.raw_connection();
    let row: SessionRow = sessions::table.first(&mut conn).unwrap();

    let mut holder = app.raw_connection();
    if postgres {
        diesel::sql_query("BEGIN").execute(&mut holder).unwrap();
        diesel::sql_query(format!(
            "SELECT pg_advisory_xact_lock(hashtextextended('sessions:{busy}', 0))"
        ))
        .execute(&mut holder)
        .unwrap();
    }
    let write_for = |owner: &String| {
        let id = uuid::Uuid::now_v7().to_string();
        let session = SessionRow {
            id: id.clone(),
            user_id: owner.clone(),
            ..row.clone()
        };
        let event = EventRow {
            seq: 0,
            id: format!("evt_{}", id.replace('-', "")),
            user_id: owner.clone(),
            partner_id: None,
            kind: "session.created".into(),
            data: "{}".into(),
            created_at: row.created_at,
        };
        (session, event)
    };
    let owners = [&a, &a, &busy, &gone, &a];
    let mut writes: Vec<(SessionRow, EventRow)> = owners.iter().map(|o| write_for(o)).collect();
    let done = insert_new_many(&mut conn, &mut writes, Locks::Try).unwrap();
    if postgres {
        // The busy user's sessions on their own wait for the lock, then share one transaction.
        let mut theirs = vec![write_for(&busy), write_for(&busy)];
        let url = app.database_url.clone();
        let (sent, finished) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let mut conn = soleus_api::db::AnyConnection::establish(&url).unwrap();
            let done = insert_new_many(&mut conn, &mut theirs, Locks::Wait).unwrap();
            sent.send(()).unwrap();
            (done, theirs)
        });
        assert!(
            finished
                .recv_timeout(std::time::Duration::from_millis(300))
                .is_err(),
            "Locks::Wait waits for the lock"
        );
        diesel::sql_query("COMMIT").execute(&mut holder).unwrap();
        let (done, theirs) = waiter.join().unwrap();
        assert_eq!(done, [true, true]);
        assert_eq!(theirs[0].0.seq >> 20, theirs[1].0.seq >> 20, "one transaction");
        assert_eq!(theirs[1].0.seq, theirs[0].0.seq + 1);
    }
    assert_eq!(done, [true, true, !postgres, false, true]);

    let stored: Vec<i64> = writes
        .iter()
        .zip(&done)
        .filter(|(_, d)| **d)
        .map(|((r, _), _)| r.seq)
        .collect();
    let ids: Vec<String> = writes.iter().map(|(r, _)| r.id.clone()).collect();
    let event_ids: Vec<String> = writes.iter().map(|(_, e)| e.id.clone()).collect();
    let in_db: BTreeSet<i64> = sessions::table
        .filter(sessions::id.eq_any(ids))
        .select(sessions::seq)
        .load::<i64>(&mut conn)
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(
        in_db,
        stored.iter().copied().collect(),
        "exactly the reported sessions are stored"
    );
    let events_in_db = BTreeSet::from_iter(
        events::table
            .filter(events::id.eq_any(event_ids))
            .select(events::seq)
            .load::<i64>(&mut conn)
            .unwrap(),
    );
    assert_eq!(
        events_in_db, in_db,
        "each stored session's event has its position"
    );
    if postgres {
        let xids: BTreeSet<i64> = stored.iter().map(|s| s >> 20).collect();
        assert_eq!(xids.len(), 1, "one transaction for the group: {stored:?}");
        // The statement is prepared once per connection, not parsed and planned each time.
        let mut again = vec![write_for(&a), write_for(&a)];
        assert_eq!(
            insert_new_many(&mut conn, &mut again, Locks::Try).unwrap(),
            [true, true]
        );
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let prepared = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE 'WITH input AS%'",
        )
        .get_result::<Count>(&mut conn)
        .unwrap();
        assert_eq!(prepared.n, 1, "one prepared group statement, used twice");
    } else {
        assert!(
            stored.windows(2).all(|w| w[1] == w[0] + 1),
            "consecutive positions: {stored:?}"
        );
    }
}

/// A group never waits for a user whose lock another transaction holds (a long batch, another
/// replica's group): that user's creates wait apart, and everyone else's are answered meanwhile.
#[actix_web::test]
async fn a_user_busy_elsewhere_does_not_hold_up_other_users_creates() {
    use futures_util::future::{Either, join_all, select};
    let app = spawn_app().await;
    if !app.database_url.starts_with("postgres") {
        return; // SQLite has one writer: every write waits for the one in progress anyway.
    }
    let (busy_id, busy, _) = app.user("busy@example.com").await;
    let mut others = Vec::new();
    for n in 0..3 {
        others.push(app.user(&format!("free{n}@example.com")).await.1);
    }
    // Another transaction holds the busy user's lock, as a long batch would.
    let mut holder = app.raw_connection();
    diesel::sql_query("BEGIN").execute(&mut holder).unwrap();
    diesel::sql_query(format!(
        "SELECT pg_advisory_xact_lock(hashtextextended('sessions:{busy_id}', 0))"
    ))
    .execute(&mut holder)
    .unwrap();

    let body = |i: usize| session(None, &format!("2026-10-{:02}T06:{:02}:00Z", 1 + i % 28, i % 60));
    let waiting = Box::pin(join_all((0..3).map(|i| {
        let (app, busy, body) = (&app, &busy, body(100 + i));
        async move { app.send_json_with("POST", "/v1/me/sessions", busy, &body).await }
    })));
    let free = Box::pin(join_all((0..45).map(|i| {
        let (app, token, body) = (&app, &others[i % 3], body(i));
        async move { app.send_json_with("POST", "/v1/me/sessions", token, &body).await }
    })));
    let raced = actix_web::rt::time::timeout(std::time::Duration::from_secs(30), select(free, waiting))
        .await
        .expect("other users' creates waited for the busy user's lock");
    let (answered, waiting) = match raced {
        Either::Left(both) => both,
        Either::Right((res, _)) => panic!(
            "the busy user's creates did not wait for its lock: {:?}",
            res[0].status
        ),
    };
    for res in &answered {
        assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    }
    diesel::sql_query("COMMIT").execute(&mut holder).unwrap();
    for res in waiting.await {
        assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    }
    let (feed, _) = app.follow("/v1/me/changes", &busy, None, 7).await;
    assert_eq!(
        feed.len(),
        3,
        "the busy user's sessions are stored once each, after the lock"
    );
}

#[actix_web::test]
async fn a_batch_answers_each_item_in_order_and_one_bad_item_rejects_nothing_else() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("batch@example.com").await;
    let known = "bbbbbbbb-0000-4000-8000-000000000001";
    app.post_session(&token, &session(Some(known), "2026-12-01T07:00:00Z"))
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
async fn a_batch_applies_the_sync_rules_between_its_own_items_and_keeps_the_feed_in_order() {
    let app = spawn_app().await;
    let (user_id, user_token, _) = app.user("bulk@example.com").await;
    let (pid, _, token) = app.partner_access("sessions:read,sessions:write").await;
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

/// What a client gets wrong most often, answered with what is wanted: a start time without its
/// offset, and a set that does not say it was completed (it was) or which leg (both).
#[actix_web::test]
async fn a_start_without_offset_says_what_is_wanted_and_sets_are_done_by_default() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("defaults@example.com").await;
    let no_offset = json!({"started_at": "2026-12-07T07:30:00", "duration_seconds": 600});
    let res = app.post_session(&token, &no_offset).await;
    let problem = assert_problem(&res, 422);
    assert_eq!(problem["errors"][0]["field"], "started_at");
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("RFC 3339") && message.contains("+01:00"),
        "{message}"
    );

    let minimal_set = json!({"started_at": "2026-12-07T07:30:00Z", "duration_seconds": 600,
        "sets": [{"exercise_id": "seated-calf-raise", "set_number": 1, "reps": 20}]});
    let res = app.post_session(&token, &minimal_set).await;
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["sets"][0]["completed"], true);
    assert_eq!(res.json()["sets"][0]["side"], "both");
}
