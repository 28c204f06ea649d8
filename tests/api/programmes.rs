//! The programme engine through six personas (golden documents plus explicit checks) and the
//! preview endpoint over HTTP.

use serde_json::{Value, json};
use soleus_api::domain::catalogue::Catalogue;
use soleus_api::domain::programme::{self, input::ProgrammeRequest};

use crate::helpers::{assert_problem, spawn_app};

const GOLDEN_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");

/// The six personas of the programme issue (shared with `benches/engine.rs`).
fn personas() -> Vec<(String, Value)> {
    let list: Vec<Value> = serde_json::from_str(include_str!("../golden/personas.json")).unwrap();
    list.into_iter()
        .map(|p| (p["name"].as_str().unwrap().to_owned(), p["request"].clone()))
        .collect()
}

fn generate(request: &Value) -> Value {
    let req: ProgrammeRequest = serde_json::from_value(request.clone()).expect("persona parses");
    let catalogue = Catalogue::embedded().unwrap();
    serde_json::to_value(programme::generate(&req, &catalogue)).unwrap()
}

fn first_week_ids(p: &Value) -> Vec<String> {
    p["weeks"][0]["sessions"][0]["exercises"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["exercise_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn persona_documents_match_their_golden_files() {
    for (name, request) in personas() {
        let path = format!("{GOLDEN_DIR}/{name}.json");
        let generated = serde_json::to_string_pretty(&generate(&request)).unwrap() + "\n";
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(GOLDEN_DIR).unwrap();
            std::fs::write(&path, &generated).unwrap();
            continue;
        }
        let golden = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{path} missing: UPDATE_GOLDEN=1 cargo test --test api persona"));
        assert!(
            golden == generated,
            "{name} differs from {path}; review, then UPDATE_GOLDEN=1 cargo test --test api persona"
        );
    }
}

#[test]
fn the_trained_runner_gets_a_heavy_progressive_block() {
    let p = generate(&personas()[0].1);
    assert_eq!(p["safety"]["status"], "cleared");
    assert_eq!(p["start_level"]["code"], "L8");
    assert_eq!(p["sessions_per_week"], 3);
    let ids = first_week_ids(&p);
    for id in [
        "seated-soleus-raise-loaded",
        "single-leg-bent-knee-step-heel-raise",
        "single-leg-heel-raise-dumbbell",
    ] {
        assert!(ids.contains(&id.to_owned()), "{id} in {ids:?}");
    }
    let seated = &p["weeks"][0]["sessions"][0]["exercises"][0];
    assert_eq!(
        seated["load"],
        json!({"kind": "repetition_maximum", "repetition_maximum": 15, "placement": "on_knees"})
    );
    assert_eq!(seated["reps"], 15);
    assert_eq!(seated["rpe_target"], 9, "an RM set is near-maximal");
    // Standing load is kilograms in hand, about 5% of 60 kg to start.
    let dumbbell = &p["weeks"][0]["sessions"][0]["exercises"][2];
    assert_eq!(
        dumbbell["load"],
        json!({"kind": "external", "kg": 3.0, "placement": "in_hand"})
    );
    // The session fits the 45-minute cap of heavy slow resistance.
    for week in p["weeks"].as_array().unwrap() {
        assert!(week["volume"]["longest_session_minutes"].as_u64().unwrap() <= 45);
    }
    assert_eq!(
        seated["tempo"],
        json!({"up_seconds": 3, "hold_seconds": 1, "down_seconds": 3})
    );
    assert_eq!(
        p["weeks"][8]["sessions"][0]["exercises"][0]["load"]["repetition_maximum"], 8,
        "15RM towards 6RM, the schedule paused over the week-4 and week-8 deloads"
    );
    assert_eq!(
        p["weeks"][10]["sessions"][0]["exercises"][0]["load"]["repetition_maximum"],
        6
    );
    let days: Vec<u64> = p["weeks"][0]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["day"].as_u64().unwrap())
        .collect();
    assert_eq!(days, [1, 3, 5]);
    assert_eq!(p["weeks"][0]["sessions"][1]["date"], "2026-12-09");
    assert_eq!(p["weeks"][3]["deload"], true);
    assert_eq!(p["retest"]["weeks"], json!([4, 8, 12]));
}

#[test]
fn the_desk_worker_gets_daily_circulation_habits() {
    let p = generate(&personas()[1].1);
    assert_eq!(p["safety"]["status"], "cleared");
    assert_eq!(p["sessions_per_week"], 2);
    let habits = p["weeks"][0]["habits"].as_array().unwrap();
    let spu = habits
        .iter()
        .find(|h| h["exercise_id"] == "soleus-pushup")
        .expect("soleus push-up habit");
    assert_eq!(spu["minutes_per_day"], 10);
    assert_eq!(
        p["weeks"][2]["habits"][0]["minutes_per_day"], 20,
        "+5 minutes a day each week"
    );
    let walking = habits.iter().find(|h| h["exercise_id"] == "walking").unwrap();
    assert_eq!(walking["minutes_per_week"], 60);
    let text = serde_json::to_string(&p).unwrap().to_lowercase();
    assert!(!text.contains("prevents dvt") && !text.contains("blood clots are prevented"));
}

#[test]
fn the_72_year_old_with_a_fall_starts_supported_with_balance_work() {
    let p = generate(&personas()[2].1);
    assert_eq!(p["safety"]["status"], "adapted");
    let rules: Vec<&str> = p["safety"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"SCR-11") && rules.contains(&"SCR-12"),
        "{rules:?}"
    );
    assert!(p["start_level"]["level"].as_u64().unwrap() <= 2);
    assert_eq!(p["start_level"]["support"], "two_hands");
    assert_eq!(
        p["sessions_per_week"], 3,
        "WHO: balance and strength 3 days a week"
    );
    for week in p["weeks"].as_array().unwrap() {
        for session in week["sessions"].as_array().unwrap() {
            let ids: Vec<&str> = session["exercises"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["exercise_id"].as_str().unwrap())
                .collect();
            assert!(
                ids.contains(&"single-leg-stance") && ids.contains(&"sit-to-stand"),
                "balance bundle in every session: {ids:?}"
            );
            assert_eq!(
                ids[0], "pre-stand-calf-pump",
                "SCR-12: every session starts seated"
            );
        }
    }
    let habits: Vec<&str> = p["weeks"][0]["habits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["exercise_id"].as_str().unwrap())
        .collect();
    assert!(habits.contains(&"pre-stand-calf-pump"), "{habits:?}");
    // Sherrington 2020: 3 hours or more of balance work a week from week 4.
    for week in p["weeks"].as_array().unwrap() {
        let minutes = week["volume"]["balance_minutes"].as_u64().unwrap();
        assert!(minutes >= 120, "{minutes}");
        if week["number"].as_u64().unwrap() >= 4 {
            assert!(minutes >= 180, "{minutes}");
        }
    }
}

#[test]
fn the_84_year_old_with_a_walking_aid_starts_seated_or_with_two_hands() {
    let p = generate(&personas()[3].1);
    assert_eq!(p["safety"]["status"], "adapted");
    assert!(p["start_level"]["level"].as_u64().unwrap() <= 1);
    for x in p["weeks"][0]["sessions"][0]["exercises"].as_array().unwrap() {
        assert!(
            ["chair", "two_hands"].contains(&x["support_level"].as_str().unwrap()),
            "{x}"
        );
        assert_eq!(x["load"]["kind"], "bodyweight");
    }
    assert!(
        p["recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("supervised"))
    );
    assert_eq!(
        p["weeks"][5]["deload"], true,
        "fall-only programmes deload every 6th week"
    );
}

#[test]
fn red_flags_refer_without_any_exercise() {
    for (persona, rule) in [(4, "SCR-06"), (5, "SCR-01")] {
        let p = generate(&personas()[persona].1);
        assert_eq!(p["safety"]["status"], "refer");
        assert!(
            p["safety"]["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"] == rule && f["severity"] == "refer")
        );
        assert_eq!(p["weeks"], json!([]));
        assert!(p["start_level"].is_null());
        assert!(!p["recommendations"].as_array().unwrap().is_empty());
    }
}

#[actix_web::test]
async fn preview_returns_the_engine_output_and_stores_nothing() {
    let app = spawn_app().await;
    let (_, request) = personas().remove(0);
    let res = app.post_json("/v1/programmes/preview", &request).await;
    assert_eq!(res.status.as_u16(), 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let body = res.json();
    assert_eq!(body, generate(&request));
    assert_eq!(body["generator_version"], programme::GENERATOR_VERSION);
    assert_eq!(
        body["catalogue_version"],
        Catalogue::embedded().unwrap().version()
    );
    let again = app.post_json("/v1/programmes/preview", &request).await;
    assert_eq!(again.body, res.body, "byte for byte");
}

#[actix_web::test]
async fn a_referral_is_a_200_with_no_weeks() {
    let app = spawn_app().await;
    let res = app.post_json("/v1/programmes/preview", &personas()[5].1).await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.json()["safety"]["status"], "refer");
}

#[actix_web::test]
async fn invalid_requests_are_422_naming_the_field() {
    let app = spawn_app().await;
    let base = json!({"age": 40, "activity_level": "active", "goals": ["circulation"]});
    let cases = [
        (json!({"age": 16}), "age", "out_of_scope"),
        (json!({"age": 121}), "age", "range"),
        (json!({"goals": []}), "goals", "length"),
        (
            json!({"goals": ["circulation", "circulation"]}),
            "goals",
            "duplicate",
        ),
        (json!({"goals": ["flying"]}), "goals[0]", "invalid_value"),
        (
            json!({"activity_level": "couch"}),
            "activity_level",
            "invalid_value",
        ),
        (json!({"weeks": 30}), "weeks", "range"),
        (json!({"achilles_pain": 11}), "achilles_pain", "range"),
        (
            json!({"screening": {"resting_blood_pressure": {"systolic": 500, "diastolic": 80}}}),
            "screening.resting_blood_pressure.systolic",
            "range",
        ),
        (
            json!({"screening": {"chest_pains": false}}),
            "screening.chest_pains",
            "unknown_field",
        ),
        (json!({"start_date": "next monday"}), "start_date", "invalid"),
        (
            json!({"favourite_colour": "red"}),
            "favourite_colour",
            "unknown_field",
        ),
    ];
    for (change, field, code) in cases {
        let mut request = base.clone();
        for (k, v) in change.as_object().unwrap() {
            request[k] = v.clone();
        }
        let body = assert_problem(&app.post_json("/v1/programmes/preview", &request).await, 422);
        let error = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["field"] == field);
        let error = error.unwrap_or_else(|| panic!("{field}: {body}"));
        assert_eq!(error["code"], code, "{field}: {body}");
    }
    let body = assert_problem(
        &app.post_json(
            "/v1/programmes/preview",
            &json!({"age": 16, "activity_level": "active", "goals": ["circulation"]}),
        )
        .await,
        422,
    );
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("SCR-14"));
    let missing = assert_problem(
        &app.post_json("/v1/programmes/preview", &json!({"age": 40})).await,
        422,
    );
    assert_eq!(missing["errors"][0]["code"], "required");
}

fn persona(name: &str) -> Value {
    let (_, request) = personas().into_iter().find(|(n, _)| n == name).unwrap();
    generate(&request)
}

fn all_exercises(p: &Value) -> Vec<&Value> {
    p["weeks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w["sessions"].as_array().unwrap())
        .flat_map(|s| s["exercises"].as_array().unwrap())
        .collect()
}

#[test]
fn a_heavy_sedentary_adult_gets_no_added_standing_load() {
    let p = persona("heavy-sedentary-190kg");
    assert_eq!(
        p["sessions_per_week"], 2,
        "§9.0: strength 2 days a week when sedentary"
    );
    // Standing work carries no added load; the loaded work is seated, weight on the knees.
    let catalogue = Catalogue::embedded().unwrap();
    let mut seated_loaded = 0;
    for x in all_exercises(&p) {
        let e = catalogue.get(x["exercise_id"].as_str().unwrap()).unwrap();
        if e.position == soleus_api::domain::catalogue::Position::Seated {
            seated_loaded += usize::from(x["load"]["placement"] == "on_knees");
        } else {
            assert_eq!(x["load"]["kind"], "bodyweight", "{x}");
        }
    }
    assert!(seated_loaded > 0, "a seated loaded raise is prescribed");
    assert!(
        p["safety"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "ENG-05")
    );
}

#[test]
fn an_unanswered_pregnancy_complication_question_adapts_and_asks() {
    let p = persona("pregnant-complication-unanswered");
    assert_eq!(p["safety"]["status"], "adapted");
    let f = p["safety"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "SCR-10")
        .unwrap();
    assert_eq!(f["severity"], "adapt");
    assert!(f["message"].as_str().unwrap().contains("Please answer"));
    assert!(
        all_exercises(&p)
            .iter()
            .all(|x| x["load"]["kind"] == "bodyweight" && x["rpe_target"].as_u64().unwrap_or(0) <= 6)
    );
    let habits = p["weeks"][0]["habits"].as_array().unwrap();
    assert!(
        habits.iter().all(|h| h["exercise_id"] != "ankle-pumps"),
        "no lying on the back"
    );
}

#[test]
fn an_83_year_old_climbs_the_ladder_two_weeks_a_level() {
    let p = persona("older-83-fall-track");
    let weeks = p["weeks"].as_array().unwrap();
    let first = &weeks[0]["sessions"][0]["exercises"][0];
    assert_eq!(first["exercise_id"], "standing-heel-raise");
    assert_eq!(
        (first["sets"].as_u64(), first["reps"].as_u64()),
        (Some(1), Some(5)),
        "§9.2 80+: 1 x 5 to start"
    );
    assert_eq!(first["support_level"], "two_hands");
    let last = &weeks[15]["sessions"][0]["exercises"][0];
    assert_ne!(first, last, "the plan progresses");
    // Support changes at least two weeks apart.
    let supports: Vec<&str> = weeks
        .iter()
        .map(|w| {
            w["sessions"][0]["exercises"][0]["support_level"]
                .as_str()
                .unwrap()
        })
        .collect();
    let changes: Vec<usize> = (1..supports.len())
        .filter(|i| supports[*i] != supports[i - 1])
        .collect();
    assert!(changes.windows(2).all(|w| w[1] - w[0] >= 2), "{supports:?}");
    assert!(
        !changes.is_empty(),
        "support does get less over 16 weeks: {supports:?}"
    );
}

#[test]
fn a_runner_with_numb_feet_gets_no_hops_and_no_step_edge() {
    let p = persona("runner-foot-numbness");
    let ids: Vec<&str> = all_exercises(&p)
        .iter()
        .map(|x| x["exercise_id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"pogo-hops"));
    assert!(ids.iter().all(|id| !id.contains("step")), "{ids:?}");
    assert!(
        all_exercises(&p)
            .iter()
            .filter(|x| x["side"] == "each_leg")
            .all(|x| x["support_level"] != "none")
    );
}

#[test]
fn mid_portion_tendinopathy_follows_heavy_slow_resistance_without_deloads() {
    let p = persona("tendinopathy-mid-portion");
    let weeks = p["weeks"].as_array().unwrap();
    assert!(
        weeks.iter().all(|w| w["deload"] == false),
        "R3: no planned deloads"
    );
    let schedule: Vec<(u64, u64)> = weeks
        .iter()
        .map(|w| {
            let x = &w["sessions"][0]["exercises"][0];
            (
                x["sets"].as_u64().unwrap(),
                x["load"]["repetition_maximum"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        schedule,
        [
            (3, 15),
            (3, 12),
            (3, 12),
            (4, 10),
            (4, 10),
            (4, 8),
            (4, 8),
            (4, 8),
            (4, 6),
            (4, 6),
            (4, 6),
            (4, 6)
        ],
        "Beyer 2015"
    );
    let ids: Vec<&str> = weeks[0]["sessions"][0]["exercises"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["exercise_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "seated-soleus-raise-loaded",
            "leg-press-soleus-press",
            "single-leg-bent-knee-isometric-hold"
        ],
        "no endurance volume"
    );
}

#[test]
fn insertional_tendinopathy_without_weights_gets_floor_eccentrics_twice_a_day() {
    let p = persona("tendinopathy-insertional");
    assert_eq!(p["sessions_per_week"], 7);
    for x in all_exercises(&p) {
        let id = x["exercise_id"].as_str().unwrap();
        assert!(!id.contains("step") && !id.contains("stretch"), "{id}");
        if x["times_per_day"] == 2 {
            assert_eq!(
                (x["sets"].as_u64(), x["reps"].as_u64()),
                (Some(3), Some(15)),
                "Alfredson 3 x 15"
            );
        }
    }
}

#[test]
fn an_asymmetric_test_after_a_rupture_is_flagged_and_dosed_per_side() {
    let p = persona("post-rupture-asymmetric-runner");
    assert_eq!(p["safety"]["status"], "adapted");
    assert!(
        p["safety"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "ENG-04")
    );
    for x in all_exercises(&p).iter().filter(|x| x["side"] == "each_leg") {
        assert_eq!(x["weaker_side"], json!({"side": "left", "extra_sets": 1}));
    }
}

#[test]
fn referrals_are_worded_per_rule() {
    let p = persona("swollen-warm-calf");
    let first = p["recommendations"][0].as_str().unwrap();
    assert!(
        first.starts_with("Today: get a same-day medical assessment"),
        "{first}"
    );
    assert!(first.contains("emergency services"));
    assert!(
        p["safety"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] != "adapt")
    );
}
