//! Whose sessions: cross-user isolation and partner upserts under a grant.

use serde_json::{Value, json};

use super::{session, stored_ids};
use crate::helpers::{assert_problem, spawn_app};

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
    let (pid, secret, token) = app.partner_access("sessions:read,sessions:write").await;
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
