//! Changing sessions: ETags and If-Match, PUT and PATCH, tombstones, concurrent updates.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::session;
use crate::helpers::{assert_problem, spawn_app, spawn_app_with};

#[actix_web::test]
async fn etags_preconditions_patch_and_tombstones() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("etag@example.com").await;
    let id = "5d7c2b7e-0000-4000-8000-000000000001";
    let created = app
        .post_session(&token, &session(Some(id), "2026-12-07T07:30:00Z"))
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
        &app.post_session(&token, &session(Some(id), "2026-12-07T07:30:00Z"))
            .await,
        409,
    );
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
    app.post_session(&token, &session(Some(id), "2026-12-07T07:30:00Z"))
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
