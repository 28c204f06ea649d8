//! Programme adaptation over HTTP: the simulate endpoint on the 12-week scripted runner, stored
//! versions and their diff, automatic adaptation, suspension, assessments, and ownership.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};

const SL: &str = "single-leg-bent-knee-step-heel-raise";

fn screening() -> Value {
    json!({"chest_pain": false, "dizziness_or_fainting": false, "calf_swelling_warmth_redness": false, "acute_calf_strain": false})
}

fn runner() -> Value {
    json!({"age": 28, "activity_level": "trained", "goals": ["runner_endurance"], "sex": "female",
        "body_mass_kg": 60, "equipment": ["step", "free_weight"], "days_per_week": 3, "weeks": 12,
        "start_date": "2026-12-07", "baseline_heel_raise": {"left": 31, "right": 32}, "screening": screening()})
}

/// The sets of `week`'s session `index` of a programme document, each done with `over` reps
/// (or seconds) beyond the target.
fn sets_for(programme: &Value, week: usize, index: usize, over: i64) -> Vec<Value> {
    let exercises = programme["weeks"][week - 1]["sessions"][index]["exercises"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut sets = Vec::new();
    for x in exercises {
        let sides: &[&str] = if x["side"] == "each_leg" {
            &["left", "right"]
        } else {
            &["both"]
        };
        for side in sides {
            for n in 1..=x["sets"].as_u64().unwrap_or(1) {
                let mut set = json!({"exercise_id": x["exercise_id"], "set_number": n, "side": side, "rpe": 6, "completed": true});
                if let Some(r) = x["reps"].as_i64() {
                    set["reps"] = json!(r + over);
                }
                if let Some(h) = x["hold_seconds"].as_i64() {
                    // Holds pass 5 s past the target: "over" 2 reps is 5 s.
                    set["hold_seconds"] = json!(h + over * 5 / 2);
                }
                sets.push(set);
            }
        }
    }
    sets
}

fn decision<'a>(adaptation: &'a Value, week: u64, exercise: &str) -> &'a Value {
    adaptation["reviews"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["week"] == week))
        .and_then(|r| r["decisions"].as_array())
        .and_then(|d| d.iter().find(|d| d["exercise_id"] == exercise))
        .unwrap_or_else(|| panic!("no decision for {exercise} in week {week}"))
}

#[actix_web::test]
async fn simulate_follows_a_runner_who_progresses_hurts_regresses_and_recovers() {
    let app = spawn_app().await;
    let mut sessions: Vec<Value> = Vec::new();
    let mut programme = app.post_json("/v1/programmes/preview", &runner()).await.json();
    let mut last = Value::Null;
    for week in 1..=12usize {
        let pain = match week {
            6 => 7,
            7 => 3,
            _ => 1,
        };
        for index in 0..3 {
            sessions.push(
                json!({"week": week, "rpe": 6, "pain_during": pain, "pain_next_morning": 0,
                "sets": sets_for(&programme, week, index, 2)}),
            );
        }
        let res = app
            .post_json(
                "/v1/programmes/simulate",
                &json!({"programme": runner(), "sessions": sessions, "through_week": week}),
            )
            .await;
        assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
        last = res.json();
        programme = last["programme"].clone();
    }
    assert_eq!(last["status"], "active");
    let path: Vec<(String, String)> = (1..=12)
        .map(|w| {
            let d = decision(&last, w, SL);
            (
                d["decision"].as_str().unwrap().to_owned(),
                d["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("progress", "2-FOR-2"),
        ("progress", "2-FOR-2"),
        ("deload", "DELOAD"),
        ("progress", "2-FOR-2"),
        ("progress", "2-FOR-2"),
        ("regress", "REG-01"),
        ("hold", "REG-01"),
        ("progress", "2-FOR-2"),
        ("progress", "2-FOR-2"),
        ("progress", "2-FOR-2"),
        ("deload", "DELOAD"),
        ("progress", "2-FOR-2"),
    ];
    assert_eq!(
        path,
        expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
    assert!(
        decision(&last, 6, SL)["reason"]
            .as_str()
            .unwrap()
            .contains("7/10")
    );
    let reps = |w: usize| {
        programme["weeks"][w - 1]["sessions"][0]["exercises"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["exercise_id"] == SL)
            .unwrap()["reps"]
            .as_u64()
    };
    // Week 6 one step up, week 7 one step back after the pain, and by week 12 load is on.
    assert_eq!((reps(6), reps(7)), (Some(28), Some(26)));
    let week12 = &programme["weeks"][11]["sessions"][0]["exercises"][1];
    assert_eq!(
        (week12["exercise_id"].as_str(), week12["load"]["kind"].as_str()),
        (Some(SL), Some("external"))
    );
}

#[actix_web::test]
async fn simulate_suspends_on_a_stop_signal_and_names_bad_fields() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/v1/programmes/simulate",
            &json!({"programme": runner(), "sessions": [{"week": 2, "symptoms": ["calf_swelling_warmth_redness"]}]}),
        )
        .await;
    let body = res.json();
    assert_eq!(body["status"], "suspended");
    assert_eq!(body["programme"]["weeks"].as_array().unwrap().len(), 2);
    assert_eq!(body["programme"]["safety"]["status"], "refer");
    assert!(body["referral"].as_str().unwrap().contains("urgent medical"));
    let problem = assert_problem(
        &app.post_json(
            "/v1/programmes/simulate",
            &json!({"programme": runner(), "sessions": [{"week": 1, "symptoms": ["headache"]}]}),
        )
        .await,
        422,
    );
    assert!(
        problem.to_string().contains("sessions[0].symptoms[0]"),
        "{problem}"
    );
    let problem = assert_problem(
        &app.post_json(
            "/v1/programmes/simulate",
            &json!({"programme": runner(), "sessions": [{"week": 17}]}),
        )
        .await,
        422,
    );
    assert!(problem.to_string().contains("sessions[0].week"), "{problem}");
}

/// A stored runner programme that started 8 days ago (week 2 is under way).
async fn stored(app: &TestApp, token: &str, auto: bool) -> String {
    let start = (chrono::Utc::now().date_naive() - chrono::Days::new(8)).to_string();
    let mut body = runner();
    body["start_date"] = json!(start);
    let path = if auto {
        "/v1/me/programmes?auto_adapt=true"
    } else {
        "/v1/me/programmes"
    };
    let res = app.send_json_with("POST", path, token, &body).await;
    assert_eq!(res.status.as_u16(), 201);
    let created = res.json();
    assert_eq!(
        (created["version"].as_i64(), created["auto_adapt"].as_bool()),
        (Some(1), Some(auto))
    );
    created["id"].as_str().unwrap().to_owned()
}

fn logged(programme_id: &str, week: u64, pain: u8, sets: Vec<Value>) -> Value {
    json!({"programme_id": programme_id, "programme_week": week, "started_at": "2026-12-07T07:00:00Z",
        "duration_seconds": 1500, "pain_during": pain, "pain_next_morning": 0, "sets": sets})
}

#[actix_web::test]
async fn adapting_a_stored_programme_adds_versions_with_their_reasons_and_a_diff() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("adapt@example.com").await;
    let id = stored(&app, &token, false).await;
    let doc = app
        .get_with(&format!("/v1/me/programmes/{id}"), &token)
        .await
        .json()["programme"]
        .clone();
    for (index, pain) in [(0, 1), (1, 7)] {
        let s = logged(&id, 1, pain, sets_for(&doc, 1, index, 2));
        let res = app.send_json_with("POST", "/v1/me/sessions", &token, &s).await;
        assert_eq!(res.status.as_u16(), 201);
    }
    // Not opted in: logging did not adapt.
    let versions = app
        .get_with(&format!("/v1/me/programmes/{id}/versions"), &token)
        .await
        .json();
    assert_eq!(versions["items"].as_array().unwrap().len(), 1);

    let res = app
        .send_json_with(
            "POST",
            &format!("/v1/me/programmes/{id}/adapt"),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(
        res.header("location"),
        Some(format!("/v1/me/programmes/{id}/versions/2").as_str())
    );
    let v2 = res.json();
    assert_eq!(
        (v2["version"].as_i64(), v2["cause"].as_str()),
        (Some(2), Some("adapt"))
    );
    let d = decision(&v2["adaptation"], 1, SL);
    assert_eq!(
        (d["decision"].as_str(), d["rule"].as_str()),
        (Some("regress"), Some("REG-01"))
    );

    // Nothing new: the same version again, 200.
    let again = app
        .send_json_with(
            "POST",
            &format!("/v1/me/programmes/{id}/adapt"),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(
        (again.status.as_u16(), again.json()["version"].as_i64()),
        (200, Some(2))
    );

    let diff = app
        .get_with(&format!("/v1/me/programmes/{id}/diff"), &token)
        .await
        .json();
    assert_eq!(
        (diff["from_version"].as_i64(), diff["to_version"].as_i64()),
        (Some(1), Some(2))
    );
    let change = diff["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["week"] == 2 && c["exercise_id"] == SL && c["field"] == "reps")
        .unwrap_or_else(|| panic!("{diff}"));
    assert_eq!(
        (change["from"].as_u64(), change["to"].as_u64()),
        (Some(22), Some(20))
    );
    assert_eq!(change["rule"], "REG-01");

    let programme = app
        .get_with(&format!("/v1/me/programmes/{id}"), &token)
        .await
        .json();
    assert_eq!(programme["version"], 2);
    assert_eq!(
        programme["programme"], v2["programme"],
        "the programme is its latest version"
    );
    let v1 = app
        .get_with(&format!("/v1/me/programmes/{id}/versions/1"), &token)
        .await
        .json();
    assert_eq!(v1["programme"], doc, "version 1 is kept as generated");
    assert!(v1["adaptation"].is_null());
    assert_problem(
        &app.get_with(&format!("/v1/me/programmes/{id}/versions/9"), &token)
            .await,
        404,
    );
    assert_problem(
        &app.get_with(&format!("/v1/me/programmes/{id}/diff?from=x"), &token)
            .await,
        400,
    );

    // A stop signal suspends.
    let mut stop = logged(&id, 2, 1, vec![]);
    stop["symptoms"] = json!(["sudden_sharp_pain"]);
    app.send_json_with("POST", "/v1/me/sessions", &token, &stop).await;
    let v3 = app
        .send_json_with(
            "POST",
            &format!("/v1/me/programmes/{id}/adapt"),
            &token,
            &json!({}),
        )
        .await
        .json();
    assert_eq!(
        (v3["version"].as_i64(), v3["status"].as_str()),
        (Some(3), Some("suspended"))
    );
    assert!(
        v3["adaptation"]["referral"]
            .as_str()
            .unwrap()
            .contains("clinician")
    );
    let list = app.get_with("/v1/me/programmes", &token).await.json();
    assert_eq!(list["items"][0]["status"], "suspended");
}

#[actix_web::test]
async fn opted_in_programmes_adapt_when_a_linked_session_is_logged() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("auto@example.com").await;
    let id = stored(&app, &token, true).await;
    let mut s = logged(&id, 1, 8, vec![]);
    s["sets"] = json!([{"exercise_id": SL, "set_number": 1, "side": "left", "reps": 5, "completed": true}]);
    assert_eq!(
        app.send_json_with("POST", "/v1/me/sessions", &token, &s)
            .await
            .status
            .as_u16(),
        201
    );
    let versions = app
        .get_with(&format!("/v1/me/programmes/{id}/versions"), &token)
        .await
        .json();
    let items = versions["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{versions}");
    assert_eq!(
        (
            items[1]["cause"].as_str(),
            items[1]["evaluated_through_week"].as_u64()
        ),
        (Some("session"), Some(1))
    );
}

#[actix_web::test]
async fn another_user_cannot_see_or_adapt_my_programme_or_assessments() {
    let app = spawn_app().await;
    let (_, mine, _) = app.user("owner-adapt@example.com").await;
    let (_, theirs, _) = app.user("other-adapt@example.com").await;
    let id = stored(&app, &mine, false).await;
    for path in [
        format!("/v1/me/programmes/{id}/versions"),
        format!("/v1/me/programmes/{id}/versions/1"),
        format!("/v1/me/programmes/{id}/diff"),
    ] {
        assert_problem(&app.get_with(&path, &theirs).await, 404);
    }
    assert_problem(
        &app.send_json_with(
            "POST",
            &format!("/v1/me/programmes/{id}/adapt"),
            &theirs,
            &json!({}),
        )
        .await,
        404,
    );
    assert_problem(
        &app.post_json(&format!("/v1/me/programmes/{id}/adapt"), &json!({}))
            .await,
        401,
    );
    let test = json!({"test": "single_leg_heel_raise", "performed_at": "2026-12-07T08:00:00Z", "left_reps": 20, "right_reps": 22});
    assert_eq!(
        app.send_json_with("POST", "/v1/me/assessments", &mine, &test)
            .await
            .status
            .as_u16(),
        201
    );
    assert_eq!(
        app.get_with("/v1/me/assessments", &theirs).await.json()["items"],
        json!([])
    );
    assert_eq!(
        app.get_with("/v1/me/assessments", &mine).await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[actix_web::test]
async fn assessments_come_back_with_norms_change_asymmetry_and_level() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("tests@example.com").await;
    let res = app
        .send_json_with(
            "PATCH",
            "/v1/me",
            &token,
            &json!({"birth_year": 1981, "sex": "female"}),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    let first = json!({"test": "single_leg_heel_raise", "performed_at": "2026-12-07T08:00:00+01:00", "left_reps": 18, "right_reps": 26});
    let res = app
        .send_json_with("POST", "/v1/me/assessments", &token, &first)
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    let a = res.json();
    let i = &a["interpretation"];
    assert_eq!(i["value"], 18.0);
    assert_eq!(i["norm"]["population"], "women 40-49", "45 at the test");
    assert_eq!(
        (i["norm"]["value"].as_f64(), i["norm"]["certainty"].as_str()),
        (Some(24.5), Some("secondary"))
    );
    assert_eq!(i["norm"]["comparison"], "below");
    assert_eq!(
        (i["asymmetry"]["ratio"].as_f64(), i["asymmetry"]["flag"].as_bool()),
        (Some(0.308), Some(true))
    );
    assert_eq!(i["asymmetry"]["weaker_side"], "left");
    assert_eq!(i["implied_level"]["code"], "F6/L6");
    assert!(i["change"].is_null());

    let second = json!({"test": "single_leg_heel_raise", "performed_at": "2027-01-07T08:00:00+01:00", "left_reps": 23, "right_reps": 26});
    let i = app
        .send_json_with("POST", "/v1/me/assessments", &token, &second)
        .await
        .json()["interpretation"]
        .clone();
    assert_eq!(
        (
            i["change"]["delta"].as_f64(),
            i["change"]["real_change"].as_bool()
        ),
        (Some(5.0), Some(false))
    );
    assert!(
        i["change"]["message"]
            .as_str()
            .unwrap()
            .contains("no real change")
    );

    // Older-adult battery.
    let chair = json!({"test": "chair_stand_30s", "performed_at": "2026-12-07T08:00:00Z", "reps": 9});
    let i = app
        .send_json_with("POST", "/v1/me/assessments", &token, &chair)
        .await
        .json()["interpretation"]
        .clone();
    assert!(i["norm"].is_null(), "no chair-stand norm under 60");

    // Each test takes its own fields; errors name them.
    let bad = json!({"test": "timed_up_and_go", "performed_at": "2026-12-07T08:00:00Z", "reps": 3});
    let problem = assert_problem(
        &app.send_json_with("POST", "/v1/me/assessments", &token, &bad)
            .await,
        422,
    );
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["reps", "seconds"]);
    let list = app
        .get_with("/v1/me/assessments?test=single_leg_heel_raise", &token)
        .await
        .json();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_problem(&app.get_with("/v1/me/assessments?test=vo2max", &token).await, 422);
}

/// A test was taken now unless dated: `performed_at` may be left out, and the stored result
/// carries the moment the server received it.
#[actix_web::test]
async fn an_undated_assessment_is_dated_now() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("undated@example.com").await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    let res = app
        .send_json_with(
            "POST",
            "/v1/me/assessments",
            &token,
            &json!({"test": "chair_stand_30s", "reps": 11}),
        )
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", String::from_utf8_lossy(&res.body));
    let at: chrono::DateTime<chrono::FixedOffset> =
        serde_json::from_value(res.json()["result"]["performed_at"].clone()).unwrap();
    assert!(
        at >= before && at <= chrono::Utc::now() + chrono::Duration::seconds(1),
        "{at}"
    );
    let listed = app.get_with("/v1/me/assessments", &token).await.json();
    assert_eq!(
        listed["items"][0]["result"]["performed_at"],
        res.json()["result"]["performed_at"]
    );
}

#[actix_web::test]
async fn a_calendar_subscription_follows_the_programme_as_it_adapts_until_revoked() {
    let app = spawn_app().await;
    let (_, token, _) = app.user("calendar@example.com").await;
    let (_, other, _) = app.user("calendar-other@example.com").await;
    let id = stored(&app, &token, false).await;
    let subscribe = |who: &str| {
        let (app, path, who) = (
            &app,
            format!("/v1/me/programmes/{id}/calendar-subscription"),
            who.to_owned(),
        );
        async move { app.send_json_with("POST", &path, &who, &json!({})).await }
    };
    // Only the owner, with a token.
    assert_problem(
        &app.post_json(
            &format!("/v1/me/programmes/{id}/calendar-subscription"),
            &json!({}),
        )
        .await,
        401,
    );
    assert_problem(&subscribe(&other).await, 404);
    let created = subscribe(&token).await;
    assert_eq!(
        created.status.as_u16(),
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let url = created.json()["url"].as_str().unwrap().to_owned();
    let webcal = created.json()["webcal_url"].as_str().unwrap().to_owned();
    assert_eq!(webcal.replacen("webcal://", "http://", 1), url);
    let path = &url[url.find("/v1/calendars/").unwrap()..];

    // No token needed; polling with the ETag is a 304.
    let first = app.get(path).await;
    assert_eq!(first.status.as_u16(), 200);
    assert!(first.header("content-type").unwrap().starts_with("text/calendar"));
    assert_eq!(first.header("cache-control"), Some("private, max-age=300"));
    let text = String::from_utf8_lossy(&first.body).into_owned();
    let uids = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.starts_with("UID:"))
            .map(str::to_owned)
            .collect()
    };
    assert!(!uids(&text).is_empty() && text.contains("SEQUENCE:0\r\n"));
    let tag = first.header("etag").unwrap().to_owned();
    let again = app
        .send(
            app.client
                .get(app.url(path))
                .insert_header(("If-None-Match", tag.as_str())),
            None,
        )
        .await;
    assert_eq!(again.status.as_u16(), 304);

    // An adaptation: the same events (UIDs), a higher SEQUENCE, a new ETag.
    let doc = app
        .get_with(&format!("/v1/me/programmes/{id}"), &token)
        .await
        .json()["programme"]
        .clone();
    for (index, pain) in [(0, 1), (1, 7)] {
        let s = logged(&id, 1, pain, sets_for(&doc, 1, index, 2));
        assert_eq!(
            app.send_json_with("POST", "/v1/me/sessions", &token, &s)
                .await
                .status
                .as_u16(),
            201
        );
    }
    let adapted = app
        .send_json_with(
            "POST",
            &format!("/v1/me/programmes/{id}/adapt"),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(adapted.status.as_u16(), 201);
    let later = app.get(path).await;
    let later_text = String::from_utf8_lossy(&later.body).into_owned();
    assert_eq!(uids(&later_text), uids(&text), "stable UIDs");
    assert!(later_text.contains("SEQUENCE:1\r\n") && !later_text.contains("SEQUENCE:0\r\n"));
    assert_ne!(later.header("etag").unwrap(), tag);

    // A new address replaces the old; revoking ends the new one; deleting the programme too.
    let renewed = subscribe(&token).await.json()["url"].as_str().unwrap().to_owned();
    let renewed_path = &renewed[renewed.find("/v1/calendars/").unwrap()..];
    assert_problem(&app.get(path).await, 404);
    assert_eq!(app.get(renewed_path).await.status.as_u16(), 200);
    let revoke = format!("/v1/me/programmes/{id}/calendar-subscription");
    assert_problem(&app.delete_with(&revoke, &other).await, 404);
    assert_eq!(app.delete_with(&revoke, &token).await.status.as_u16(), 204);
    assert_problem(&app.get(renewed_path).await, 404);
    assert_eq!(
        app.delete_with(&revoke, &token).await.status.as_u16(),
        204,
        "revoking twice is fine"
    );
    let third = subscribe(&token).await.json()["url"].as_str().unwrap().to_owned();
    let third_path = &third[third.find("/v1/calendars/").unwrap()..];
    assert_eq!(
        app.delete_with(&format!("/v1/me/programmes/{id}"), &token)
            .await
            .status
            .as_u16(),
        204
    );
    assert_problem(&app.get(third_path).await, 404);
}
