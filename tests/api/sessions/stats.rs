//! Progress statistics.

use serde_json::json;

use super::session;
use crate::helpers::{assert_problem, spawn_app};

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
        app.post_session(&token, &s).await;
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
