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

/// A session a partner logged keeps its external id and version when the user's app changes
/// it (a PATCH the next morning, a PUT without them), so the partner's next sync still finds
/// it instead of creating a duplicate. Changing them from another source is refused.
#[actix_web::test]
async fn the_users_app_edits_a_partner_session_without_taking_its_external_id() {
    let app = spawn_app().await;
    let (user_id, user_token, _) = app.user("mixed@example.com").await;
    let (pid, _, token) = app.partner_access("sessions:read,sessions:write").await;
    app.send_json_with(
        "POST",
        "/v1/me/partner-grants",
        &user_token,
        &json!({"partner_id": pid, "scopes": ["sessions:read", "sessions:write"]}),
    )
    .await;
    let mut logged = session(None, "2026-12-07T07:30:00Z");
    logged["external_id"] = "garmin-7".into();
    logged["external_version"] = 3.into();
    let partner_path = format!("/v1/users/{user_id}/sessions");
    let created = app.send_json_with("POST", &partner_path, &token, &logged).await;
    assert_eq!(created.status.as_u16(), 201);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let mine = format!("/v1/me/sessions/{id}");

    let patched = app
        .send_json_with("PATCH", &mine, &user_token, &json!({"pain_next_morning": 2}))
        .await;
    assert_eq!(
        patched.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&patched.body)
    );
    assert_eq!(
        (
            patched.json()["external_id"].as_str(),
            patched.json()["external_version"].as_i64()
        ),
        (Some("garmin-7"), Some(3))
    );

    let put = app
        .send_json_with("PUT", &mine, &user_token, &session(None, "2026-12-07T07:30:00Z"))
        .await;
    assert_eq!(put.status.as_u16(), 200, "{}", String::from_utf8_lossy(&put.body));
    assert_eq!(put.json()["external_id"], "garmin-7");

    let mut taken = session(None, "2026-12-07T07:30:00Z");
    taken["external_id"] = "mine-now".into();
    let refused = app.send_json_with("PUT", &mine, &user_token, &taken).await;
    assert_eq!(assert_problem(&refused, 422)["errors"][0]["code"], "source_owned");

    // The partner's next sync finds its session: ignored (same version), not a second row.
    let again = app.send_json_with("POST", &partner_path, &token, &logged).await;
    assert_eq!(again.json()["id"], id.as_str());
    let listed = app.get_with("/v1/me/sessions", &user_token).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}
