//! In-process benchmarks of the pure engine: programme generation for the six personas, JSON
//! serialisation of a full programme, catalogue filtering, and adaptation of a 12-week history.
//! Run: `cargo bench --bench engine` (figures in benches/README.md).

// A benchmark, like a test, may stop at the first surprise.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use soleus_api::domain::catalogue::{Catalogue, Equipment, Filter, Goal};
use soleus_api::domain::programme::adapt::{LoggedSession, Through, adapt};
use soleus_api::domain::programme::generate;
use soleus_api::domain::programme::input::ProgrammeRequest;
use soleus_api::domain::programme::model::{Programme, Side};

fn personas() -> Vec<(String, ProgrammeRequest)> {
    let list: Vec<Value> =
        serde_json::from_str(include_str!("../tests/golden/personas.json")).expect("personas.json");
    list.into_iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap_or_default().to_owned();
            (
                name,
                serde_json::from_value(p["request"].clone()).expect("a persona request"),
            )
        })
        .collect()
}

/// Three sessions a week for 12 weeks, each set done 2 reps over target, with 7/10 pain in
/// week 6 (the scripted runner of the adaptation issue).
fn history(programme: &Programme) -> Vec<LoggedSession> {
    let mut out = Vec::new();
    for week in &programme.weeks {
        for session in &week.sessions {
            let mut sets = Vec::new();
            for x in &session.exercises {
                let sides = if x.side == Side::EachLeg {
                    vec!["left", "right"]
                } else {
                    vec!["both"]
                };
                for side in sides {
                    for n in 1..=x.sets {
                        sets.push(json!({"exercise_id": x.exercise_id, "set_number": n, "side": side,
                            "reps": x.reps.map(|r| r + 2), "hold_seconds": x.hold_seconds, "rpe": 6, "completed": true}));
                    }
                }
            }
            let pain = if week.number == 6 { 7 } else { 1 };
            out.push(
                serde_json::from_value(json!({"week": week.number, "rpe": 6, "pain_during": pain,
                    "pain_next_morning": 0, "sets": sets}))
                .expect("a logged session"),
            );
        }
    }
    out
}

fn benches(c: &mut Criterion) {
    let catalogue = Catalogue::embedded().expect("the embedded catalogue");
    let personas = personas();

    let mut group = c.benchmark_group("generate");
    for (name, req) in &personas {
        group.bench_function(name.as_str(), |b| b.iter(|| generate(black_box(req), &catalogue)));
    }
    group.finish();

    let (_, runner) = personas.first().expect("the runner persona");
    let programme = generate(runner, &catalogue);
    c.bench_function("serialise/runner-28-trained", |b| {
        b.iter(|| serde_json::to_vec(black_box(&programme)).map(|v| v.len()))
    });

    let filter = Filter {
        goal: Some(Goal::Circulation),
        available_equipment: Some(vec![Equipment::Chair]),
        ..Filter::default()
    };
    c.bench_function("catalogue/filter-circulation-chair-only", |b| {
        b.iter(|| catalogue.page(black_box(&filter), None, 100).total)
    });
    let text = Filter {
        text: Some("bent knee".into()),
        ..Filter::default()
    };
    c.bench_function("catalogue/text-search", |b| {
        b.iter(|| catalogue.page(black_box(&text), None, 100).total)
    });

    let logs = history(&programme);
    let through = Through {
        week: 12,
        complete: true,
    };
    c.bench_function("adapt/runner-12-weeks", |b| {
        b.iter(|| adapt(black_box(runner), &catalogue, black_box(&logs), &[], through))
    });
}

criterion_group!(engine, benches);
criterion_main!(engine);
