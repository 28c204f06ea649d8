//! Reading many sessions: pages, the change feed, tombstone retention.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::session;
use crate::helpers::{assert_problem, spawn_app, spawn_app_with};

#[actix_web::test]
async fn listing_pages_newest_first_without_gaps_or_duplicates() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("list@example.com").await;
    for day in 1..=7 {
        let started = format!("2026-12-{day:02}T07:00:00Z");
        app.post_session(&token, &session(None, &started)).await;
    }
    // Two sessions at the same instant: the id breaks the tie.
    app.post_session(&token, &session(None, "2026-12-04T07:00:00Z"))
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
                    let res = app.post_session(&token, &session(None, &started)).await;
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
        .post_session(&token, &session(None, "2026-12-01T07:00:00Z"))
        .await
        .json();
    let gone = app
        .post_session(&token, &session(None, "2026-12-02T07:00:00Z"))
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

/// The purge horizon is each user's own: a purge of one user's tombstones sends a 410 to
/// that user's older cursors only, never to a quiet user who deleted nothing.
#[actix_web::test]
async fn another_users_purged_tombstones_do_not_invalidate_a_quiet_users_cursor() {
    let app = spawn_app_with(
        |s| {
            s.tombstone_retention_days = 0;
            s.tombstone_purge_interval = std::time::Duration::from_millis(50);
        },
        None,
    )
    .await;
    let (_, busy, _) = app.user("busy@example.com").await;
    let (_, quiet, _) = app.user("quiet@example.com").await;
    app.post_session(&quiet, &session(None, "2026-12-01T07:00:00Z"))
        .await;
    let (_, quiet_cursor) = app.follow("/v1/me/changes", &quiet, None, 10).await;
    let gone = app
        .post_session(&busy, &session(None, "2026-12-02T07:00:00Z"))
        .await
        .json();
    let (_, busy_cursor) = app.follow("/v1/me/changes", &busy, None, 10).await;
    let path = format!("/v1/me/sessions/{}", gone["id"].as_str().unwrap());
    assert_eq!(app.delete_with(&path, &busy).await.status.as_u16(), 204);

    // Wait for the purge to reach the busy user's tombstone (their old cursor turns 410).
    let mut busy_status = 200;
    for _ in 0..100 {
        busy_status = app
            .get_with(&format!("/v1/me/changes?since={busy_cursor}"), &busy)
            .await
            .status
            .as_u16();
        if busy_status == 410 {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(busy_status, 410, "the busy user's tombstone was purged");
    let quiet_page = app
        .get_with(&format!("/v1/me/changes?since={quiet_cursor}"), &quiet)
        .await;
    assert_eq!(
        quiet_page.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&quiet_page.body)
    );
}
