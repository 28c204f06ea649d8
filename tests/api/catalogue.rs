use std::collections::HashSet;

use diesel::prelude::*;
use serde_json::Value;
use soleus_api::db::schema::{app_meta, exercises};
use soleus_api::domain::catalogue::{Catalogue, REQUIRED_IDS};

use crate::helpers::{TestApp, assert_problem, spawn_app};

async fn ids(app: &TestApp, query: &str) -> Vec<String> {
    let res = app.get(&format!("/v1/exercises?limit=100&{query}")).await;
    assert_eq!(
        res.status.as_u16(),
        200,
        "{query}: {}",
        String::from_utf8_lossy(&res.body)
    );
    let body = res.json();
    assert!(
        body["next_cursor"].is_null(),
        "{query}: one page of 100 holds everything"
    );
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn exercise(app: &TestApp, id: &str) -> Value {
    let res = app.get(&format!("/v1/exercises/{id}")).await;
    assert_eq!(res.status.as_u16(), 200, "{id}");
    res.json()
}

#[actix_web::test]
async fn every_seed_exercise_is_present_with_complete_fields() {
    let app = spawn_app().await;
    for id in REQUIRED_IDS {
        let e = exercise(&app, id).await;
        for field in ["name", "summary", "code"] {
            assert!(e[field].as_str().is_some_and(|s| !s.is_empty()), "{id}.{field}");
        }
        for field in [
            "instructions",
            "coaching_cues",
            "common_mistakes",
            "goals",
            "equipment",
            "support_levels",
            "evidence",
        ] {
            assert!(e[field].as_array().is_some_and(|a| !a.is_empty()), "{id}.{field}");
        }
        for field in ["position", "soleus_bias", "laterality", "contraction", "category"] {
            assert!(e[field].is_string(), "{id}.{field}");
        }
        assert!(e.as_object().unwrap().contains_key("knee_angle_deg"), "{id}");
        assert!((1..=5).contains(&e["difficulty"].as_u64().unwrap()), "{id}");
        for g in e["goals"].as_array().unwrap() {
            let goal = g["goal"].as_str().unwrap();
            assert!(!g["reason"].as_str().unwrap().is_empty(), "{id} {goal}");
            assert!(e["dosage"][goal].is_object(), "{id} has no dosage for {goal}");
        }
    }
}

#[actix_web::test]
async fn exercise_links_resolve_to_id_and_name_both_ways() {
    let app = spawn_app().await;
    let e = exercise(&app, "standing-heel-raise").await;
    assert_eq!(e["soleus_bias"], "low");
    assert_eq!(e["knee_angle_deg"], 0);
    assert_eq!(
        e["support_levels"],
        serde_json::json!(["two_hands", "one_hand", "fingertip", "none"])
    );
    let progressions: Vec<&str> = e["progressions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        progressions,
        ["bent-knee-wall-calf-raise", "single-leg-heel-raise"]
    );
    assert_eq!(
        e["regressions"],
        serde_json::json!([{"id": "seated-calf-raise", "name": "Seated calf (soleus) raise, bodyweight"}])
    );
    let cautions = e["cautions"].as_array().unwrap();
    assert!(
        cautions
            .iter()
            .any(|c| c["rules"] == serde_json::json!(["SCR-11"]))
    );
}

#[actix_web::test]
async fn each_filter_narrows_the_list_correctly() {
    let app = spawn_app().await;
    let all = ids(&app, "").await;
    assert!(all.len() >= 24);

    for (query, field, value) in [
        ("position=seated", "position", "seated"),
        ("laterality=single_leg", "laterality", "single_leg"),
        ("soleus_bias=high", "soleus_bias", "high"),
        ("category=balance", "category", "balance"),
    ] {
        let some = ids(&app, query).await;
        assert!(!some.is_empty() && some.len() < all.len(), "{query}");
        for id in &some {
            assert_eq!(exercise(&app, id).await[field], value, "{query}: {id}");
        }
        let excluded: Vec<&String> = all.iter().filter(|id| !some.contains(id)).collect();
        for id in excluded.iter().take(3) {
            assert_ne!(
                exercise(&app, id).await[field],
                value,
                "{query} left out {id} wrongly"
            );
        }
    }

    let fall = ids(&app, "goal=fall_prevention").await;
    for id in &fall {
        let goals = exercise(&app, id).await["goals"].clone();
        assert!(
            goals
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["goal"] == "fall_prevention"),
            "{id}"
        );
    }

    let easy = ids(&app, "max_difficulty=1").await;
    assert!(!easy.is_empty());
    for id in &easy {
        assert_eq!(exercise(&app, id).await["difficulty"], 1, "{id}");
    }

    let two_hands = ids(&app, "support_level=two_hands").await;
    assert!(two_hands.contains(&"standing-heel-raise".to_owned()));
    assert!(!two_hands.contains(&"seated-calf-raise".to_owned()));

    assert_eq!(ids(&app, "q=push-up").await, ["soleus-pushup"]);
    assert_eq!(ids(&app, "q=WALL%20sit").await, ["wall-sit-soleus-raise"]);
}

#[actix_web::test]
async fn equipment_none_and_only_what_i_have() {
    let app = spawn_app().await;
    let none = ids(&app, "equipment=none").await;
    assert!(none.contains(&"walking".to_owned()) && none.contains(&"pogo-hops".to_owned()));
    for id in &none {
        assert_eq!(
            exercise(&app, id).await["equipment"],
            serde_json::json!(["none"]),
            "{id}"
        );
    }

    let uses_step = ids(&app, "equipment=step").await;
    for id in &uses_step {
        let kit = exercise(&app, id).await["equipment"].clone();
        assert!(kit.as_array().unwrap().contains(&"step".into()), "{id}");
    }

    let chair_and_wall = ids(&app, "available_equipment=chair,wall").await;
    assert!(chair_and_wall.contains(&"seated-calf-raise".to_owned()));
    assert!(chair_and_wall.contains(&"bent-knee-wall-calf-raise".to_owned()));
    assert!(
        chair_and_wall.contains(&"walking".to_owned()),
        "needs nothing, so always doable"
    );
    assert!(
        !chair_and_wall.contains(&"wall-sit-soleus-raise".to_owned()),
        "also needs a free weight"
    );
    for id in &chair_and_wall {
        for item in exercise(&app, id).await["equipment"].as_array().unwrap() {
            assert!(
                ["chair", "wall", "none"].contains(&item.as_str().unwrap()),
                "{id}: {item}"
            );
        }
    }

    let combined = ids(&app, "available_equipment=chair&goal=circulation&position=seated").await;
    assert!(combined.contains(&"soleus-pushup".to_owned()));
    assert!(!combined.contains(&"seated-soleus-raise-loaded".to_owned()));
}

#[actix_web::test]
async fn pagination_returns_every_exercise_exactly_once() {
    let app = spawn_app().await;
    let mut seen = Vec::new();
    let mut next = Some("/v1/exercises?limit=7".to_owned());
    let mut pages = 0;
    while let Some(path) = next {
        let res = app.get(&path).await;
        assert_eq!(res.status.as_u16(), 200, "{path}");
        let body = res.json();
        seen.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_owned()),
        );
        next = res.header("link").map(|link| {
            assert!(link.ends_with("; rel=\"next\""), "{link}");
            link.trim_start_matches('<').split('>').next().unwrap().to_owned()
        });
        assert_eq!(
            next.is_some(),
            body["next_cursor"].is_string(),
            "Link and next_cursor agree"
        );
        pages += 1;
        assert!(pages < 20);
    }
    let expected: Vec<String> = Catalogue::embedded()
        .unwrap()
        .all()
        .iter()
        .map(|e| e.id.clone())
        .collect();
    assert_eq!(seen, expected, "every exercise once, in id order");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());
}

#[actix_web::test]
async fn a_matching_etag_gets_304_and_a_stale_one_200() {
    let app = spawn_app().await;
    for path in [
        "/v1/exercises?goal=circulation",
        "/v1/exercises/soleus-pushup",
        "/v1/catalogue",
    ] {
        let first = app.get(path).await;
        assert_eq!(first.status.as_u16(), 200);
        let tag = first.header("etag").unwrap().to_owned();
        assert!(tag.starts_with('"'), "strong ETag: {tag}");
        assert_eq!(first.header("cache-control"), Some("public, max-age=3600"));
        assert!(first.header("x-dataset-version").is_some());

        let req = app
            .client
            .get(app.url(path))
            .insert_header(("If-None-Match", tag.as_str()));
        let cached = app.send(req, None).await;
        assert_eq!(cached.status.as_u16(), 304, "{path}");
        assert!(cached.body.is_empty());
        assert_eq!(cached.header("etag"), Some(tag.as_str()));

        let req = app
            .client
            .get(app.url(path))
            .insert_header(("If-None-Match", "\"stale\""));
        assert_eq!(app.send(req, None).await.status.as_u16(), 200, "{path}");
    }
    let a = app.get("/v1/exercises?goal=circulation").await;
    let b = app.get("/v1/exercises?goal=fall_prevention").await;
    assert_ne!(
        a.header("etag"),
        b.header("etag"),
        "different pages, different tags"
    );
}

#[actix_web::test]
async fn bad_catalogue_requests_are_problems() {
    let app = spawn_app().await;
    let body = assert_problem(&app.get("/v1/exercises/no-such-exercise").await, 404);
    assert_eq!(body["detail"], "No exercise has the id `no-such-exercise`.");

    for (query, field) in [
        ("goal=flying", "goal"),
        ("position=upside_down", "position"),
        ("available_equipment=chair,rocket", "available_equipment"),
        ("max_difficulty=9", "max_difficulty"),
        ("limit=101", "limit"),
        ("limit=0", "limit"),
    ] {
        let body = assert_problem(&app.get(&format!("/v1/exercises?{query}")).await, 422);
        assert_eq!(body["errors"][0]["field"], field, "{query}");
    }

    for query in ["cursor=garbage!", "limit=ten", "colour=red"] {
        assert_problem(&app.get(&format!("/v1/exercises?{query}")).await, 400);
    }

    // A cursor only works with the filters that produced it.
    let page = app.get("/v1/exercises?limit=2&goal=circulation").await.json();
    let cursor = page["next_cursor"].as_str().unwrap();
    let body = assert_problem(
        &app.get(&format!(
            "/v1/exercises?limit=2&goal=fall_prevention&cursor={cursor}"
        ))
        .await,
        400,
    );
    assert!(body["detail"].as_str().unwrap().contains("different filters"));
}

#[actix_web::test]
async fn the_catalogue_overview_describes_the_dataset() {
    let app = spawn_app().await;
    let res = app.get("/v1/catalogue").await;
    let body = res.json();
    let version = body["dataset_version"].as_str().unwrap();
    assert_eq!(res.header("x-dataset-version"), Some(version));
    assert_eq!(app.get("/v1/meta").await.json()["catalogue_version"], version);
    assert_eq!(
        body["exercise_count"].as_u64().unwrap() as usize,
        Catalogue::embedded().unwrap().all().len()
    );
    for goal in ["runner_endurance", "fall_prevention", "circulation"] {
        assert!(body["counts"]["goal"][goal].as_u64().unwrap() >= 8, "{goal}");
    }
    assert!(
        body["vocabularies"]["equipment"]
            .as_array()
            .unwrap()
            .contains(&"none".into())
    );
    assert_eq!(body["ladder"].as_array().unwrap().len(), 9);
}

#[actix_web::test]
async fn the_catalogue_is_stored_once_and_resynced_idempotently() {
    let app = spawn_app().await;
    let catalogue = Catalogue::embedded().unwrap();
    let mut conn = app.raw_connection();
    let stored: Vec<(String, String, bool)> = exercises::table
        .select((exercises::id, exercises::dataset_version, exercises::retired))
        .order(exercises::id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(stored.len(), catalogue.all().len());
    assert!(
        stored
            .iter()
            .all(|(_, v, retired)| v == catalogue.version() && !retired)
    );
    let version: String = app_meta::table
        .find("catalogue_version")
        .select(app_meta::value)
        .first(&mut conn)
        .unwrap();
    assert_eq!(version, catalogue.version());

    // A second start with the same dataset changes nothing.
    let again = soleus_api::repository::exercises::sync(&mut conn, &catalogue).unwrap();
    assert_eq!(again, Default::default());

    // An exercise that leaves the catalogue is retired, never deleted.
    diesel::insert_into(exercises::table)
        .values((
            exercises::id.eq("old-exercise"),
            exercises::name.eq("Old"),
            exercises::document.eq("{}"),
            exercises::dataset_version.eq("0.9.0"),
            exercises::retired.eq(false),
            exercises::updated_at.eq(chrono::Utc::now().naive_utc()),
        ))
        .execute(&mut conn)
        .unwrap();
    diesel::update(app_meta::table.find("catalogue_version"))
        .set(app_meta::value.eq("0.9.0"))
        .execute(&mut conn)
        .unwrap();
    let report = soleus_api::repository::exercises::sync(&mut conn, &catalogue).unwrap();
    assert_eq!(
        (report.inserted, report.updated, report.retired),
        (0, catalogue.all().len(), 1)
    );
    let retired: bool = exercises::table
        .find("old-exercise")
        .select(exercises::retired)
        .first(&mut conn)
        .unwrap();
    assert!(retired);
    let total: i64 = exercises::table.count().get_result(&mut conn).unwrap();
    assert_eq!(total as usize, catalogue.all().len() + 1);
}

#[actix_web::test]
async fn a_deprecated_operation_announces_its_deprecation_sunset_and_notes() {
    use soleus_api::http::deprecation::Deprecation;
    let app = crate::helpers::spawn_app_with(
        |s| {
            s.deprecations = vec![Deprecation {
                method: "GET",
                route: "/v1/exercises/{id}",
                since: 1_767_225_600,
                sunset: Some(1_798_761_600),
                link: "https://example.com/changelog#exercise-v2",
            }]
        },
        None,
    )
    .await;
    // Every answer of the operation, a 404 and a 304 included, carries the fields.
    let res = app.get("/v1/exercises/seated-calf-raise").await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.header("deprecation"), Some("@1767225600"));
    assert_eq!(res.header("sunset"), Some("Fri, 01 Jan 2027 00:00:00 GMT"));
    assert_eq!(
        res.header("link"),
        Some("<https://example.com/changelog#exercise-v2>; rel=\"deprecation\"")
    );
    let tag = res.header("etag").unwrap().to_owned();
    let cached = app
        .send(
            app.client
                .get(app.url("/v1/exercises/seated-calf-raise"))
                .insert_header(("If-None-Match", tag)),
            None,
        )
        .await;
    assert_eq!(cached.status.as_u16(), 304);
    assert_eq!(cached.header("deprecation"), Some("@1767225600"));
    let missing = app.get("/v1/exercises/no-such-exercise").await;
    assert_eq!(assert_problem(&missing, 404)["status"], 404);
    assert_eq!(missing.header("deprecation"), Some("@1767225600"));
    // Other operations are untouched.
    let list = app.get("/v1/exercises").await;
    assert!(list.header("deprecation").is_none() && list.header("sunset").is_none());
}

/// Every exercise lists its pictures, and each picture is a titled, described SVG that caches
/// with the dataset version; a bad frame or id is a problem naming it.
#[actix_web::test]
async fn every_exercise_has_titled_cacheable_illustrations() {
    let app = spawn_app().await;
    let list = app.get("/v1/exercises?limit=100").await.json();
    for x in list["items"].as_array().unwrap() {
        let media = x["media"].as_array().unwrap();
        let frames: Vec<&str> = media.iter().map(|m| m["frame"].as_str().unwrap()).collect();
        assert_eq!(frames, ["animated", "start", "end"], "{}", x["id"]);
        for m in media {
            assert_eq!(m["type"], "image/svg+xml");
            assert!(m["alt"].as_str().unwrap().len() > 20);
            assert!(m["licence"].as_str().unwrap().starts_with("CC BY 4.0"));
            let res = app.get(m["url"].as_str().unwrap()).await;
            assert_eq!(res.status.as_u16(), 200, "{}", m["url"]);
            assert_eq!(res.header("content-type"), Some("image/svg+xml"));
            let svg = String::from_utf8(res.body.to_vec()).unwrap();
            assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
            assert!(svg.contains(&format!(
                ">{}</title>",
                x["name"].as_str().unwrap().replace('&', "&amp;")
            )));
            assert!(svg.contains(&format!(
                ">{}</desc>",
                m["alt"].as_str().unwrap().replace('&', "&amp;")
            )));
        }
    }
    let path = "/v1/exercises/seated-calf-raise/illustration.svg?frame=end";
    let res = app.get(path).await;
    let etag = res.header("etag").unwrap().to_owned();
    let req = app
        .client
        .get(app.url(path))
        .insert_header(("If-None-Match", etag.as_str()));
    assert_eq!(app.send(req, None).await.status.as_u16(), 304);
    let other = app
        .get("/v1/exercises/seated-calf-raise/illustration.svg?frame=start")
        .await;
    assert_ne!(
        other.header("etag"),
        Some(etag.as_str()),
        "each frame has its own ETag"
    );
    let bad = assert_problem(
        &app.get("/v1/exercises/seated-calf-raise/illustration.svg?frame=middle")
            .await,
        422,
    );
    assert_eq!(bad["errors"][0]["field"], "frame");
    assert_problem(&app.get("/v1/exercises/moon-walk/illustration.svg").await, 404);
}
