//! Property tests: thousands of random profiles, every rule checked on every output.

use proptest::prelude::*;

use super::input::*;
use super::model::*;
use super::*;
use crate::catalogue::{Category, Equipment};

pub(crate) fn catalogue() -> &'static Catalogue {
    static CATALOGUE: std::sync::LazyLock<Catalogue> =
        std::sync::LazyLock::new(|| Catalogue::embedded().unwrap_or_else(|e| panic!("{e}")));
    &CATALOGUE
}

fn answer() -> impl Strategy<Value = Option<bool>> {
    // Mostly "no", sometimes unanswered, rarely "yes": red flags should not drown everything.
    prop_oneof![6 => Just(Some(false)), 2 => Just(None), 1 => Just(Some(true))]
}

prop_compose! {
    fn screening()(
        a in proptest::collection::vec(answer(), 18),
        rupture in proptest::option::of(0u16..60),
        bp in proptest::option::of((90u16..200, 50u16..120)),
    ) -> Screening {
        Screening {
            heart_condition: a[0], chest_pain: a[1], dizziness_or_fainting: a[2], chronic_condition: a[3],
            chronic_medication: a[4], bone_joint_problem: a[5], supervised_activity_only: a[6],
            calf_swelling_warmth_redness: a[7], recent_immobilisation: a[8], prior_blood_clot: a[9],
            achilles_rupture_months_ago: rupture, acute_calf_strain: a[10], claudication: a[11],
            rest_pain_or_foot_ulcer: a[12], pregnant: a[13], pregnancy_contraindication: a[14],
            foot_numbness: a[15], dizziness_on_standing: a[16],
            resting_blood_pressure: bp.map(|(systolic, diastolic)| BloodPressure { systolic, diastolic }),
            uncontrolled_blood_pressure: a[17],
        }
    }
}

prop_compose! {
    fn request()(
        age in 18u8..=100,
        activity in prop_oneof![Just(ActivityLevel::Sedentary), Just(ActivityLevel::LightlyActive), Just(ActivityLevel::Active), Just(ActivityLevel::Trained)],
        goals in proptest::sample::subsequence(vec![Goal::RunnerEndurance, Goal::FallPrevention, Goal::Circulation], 1..=3),
        equipment in proptest::option::of(proptest::sample::subsequence(Equipment::ALL.to_vec(), 0..=7)),
        days in proptest::option::of(1u8..=7),
        weeks in proptest::option::of(4u8..=16),
        start in proptest::option::of(0i64..800),
        screening in proptest::option::of(screening()),
        fall in proptest::option::of((answer(), answer(), answer(), answer())),
        heel in proptest::option::of((0u16..45, 0u16..45)),
        mass in proptest::option::of(40.0f64..140.0),
        pain in proptest::option::of(0u8..=10),
        tendinopathy in proptest::option::of(prop_oneof![Just(TendinopathyType::MidPortion), Just(TendinopathyType::Insertional)]),
    ) -> ProgrammeRequest {
        ProgrammeRequest {
            age, activity_level: activity, goals, sex: None, body_mass_kg: mass, equipment,
            days_per_week: days, weeks,
            start_date: start.and_then(|d| chrono::NaiveDate::from_ymd_opt(2026, 1, 1).and_then(|s| s.checked_add_signed(chrono::Duration::days(d)))),
            screening,
            fall_risk: fall.map(|(a, b, c, d)| FallRisk { fallen_past_year: a, feels_unsteady: b, worries_about_falling: c, uses_walking_aid: d }),
            baseline_heel_raise: heel.map(|(left, right)| HeelRaiseTest { left, right }),
            weekly_running_km: None, achilles_pain: pain, achilles_tendinopathy: tendinopathy,
        }
    }
}

fn yes(a: Option<bool>) -> bool {
    a == Some(true)
}

fn red_flag(req: &ProgrammeRequest) -> bool {
    let s = req.screening.clone().unwrap_or_default();
    yes(s.calf_swelling_warmth_redness)
        || yes(s.chest_pain)
        || yes(s.dizziness_or_fainting)
        || s.resting_blood_pressure
            .is_some_and(|bp| bp.systolic >= 180 || bp.diastolic >= 110)
        || yes(s.uncontrolled_blood_pressure)
        || s.achilles_rupture_months_ago.is_some_and(|m| m < 12)
        || yes(s.acute_calf_strain)
        || req.achilles_pain.is_some_and(|p| p > 5)
        || yes(s.rest_pain_or_foot_ulcer)
        || (yes(s.pregnant) && yes(s.pregnancy_contraindication))
        || yes(s.supervised_activity_only)
}

/// Number of parameters that got harder from `a` to `b`.
fn increases(a: &Prescription, b: &Prescription) -> usize {
    let support_rank =
        |s: crate::catalogue::SupportLevel| crate::catalogue::SupportLevel::ALL.iter().position(|x| *x == s);
    [
        b.sets > a.sets,
        b.reps > a.reps && a.load.kind != LoadKind::RepetitionMaximum,
        b.hold_seconds > a.hold_seconds,
        support_rank(b.support_level) > support_rank(a.support_level),
        b.load.intensity() > a.load.intensity() + 1e-9,
    ]
    .iter()
    .filter(|x| **x)
    .count()
}

fn check(req: &ProgrammeRequest, p: &Programme, c: &Catalogue) {
    // Referral: exactly when a red flag is present, and then no prescription.
    assert_eq!(
        p.safety.status == SafetyStatus::Refer,
        red_flag(req),
        "{:?}",
        p.safety
    );
    if p.safety.status == SafetyStatus::Refer {
        assert!(p.weeks.is_empty() && p.start_level.is_none());
        assert!(p.safety.findings.iter().any(|f| f.severity == Severity::Refer));
        return;
    }
    let start = p.start_level.as_ref().expect("a start level");
    let older = req.age >= 65;
    let fall = req.fall_risk.unwrap_or_default();
    let steadi = yes(fall.fallen_past_year)
        || yes(fall.feels_unsteady)
        || yes(fall.worries_about_falling)
        || yes(fall.uses_walking_aid);
    if req.age >= 80 {
        assert!(start.level <= 1, "80+ starts at F0-F1");
    }
    if steadi {
        assert!(start.level <= 2, "STEADI positive starts at F0-F2");
        assert!(matches!(
            start.support,
            crate::catalogue::SupportLevel::TwoHands | crate::catalogue::SupportLevel::Chair
        ));
    }
    assert_eq!(p.weeks.len(), usize::from(req.weeks.unwrap_or(DEFAULT_WEEKS)));
    assert!(
        (2..=3).contains(&p.sessions_per_week),
        "at most three calf sessions a week"
    );
    let s = req.screening.clone().unwrap_or_default();
    let bodyweight_only = req.screening.is_none()
        || [
            s.calf_swelling_warmth_redness,
            s.chest_pain,
            s.dizziness_or_fainting,
            s.acute_calf_strain,
        ]
        .iter()
        .any(Option::is_none)
        || s.resting_blood_pressure
            .is_some_and(|bp| bp.systolic >= 160 || bp.diastolic >= 100)
        || (req.achilles_tendinopathy.is_none() && req.achilles_pain.is_some_and(|x| x >= 1));
    let no_step = yes(s.foot_numbness) || req.achilles_tendinopathy == Some(TendinopathyType::Insertional);
    let mut days = Vec::new();
    let mut previous: Option<&Week> = None;
    for week in &p.weeks {
        assert_eq!(week.sessions.len(), usize::from(p.sessions_per_week));
        let deload_every = if req.goals == [Goal::FallPrevention] { 6 } else { 4 };
        assert_eq!(week.deload, week.number % deload_every == 0, "deload cadence");
        for session in &week.sessions {
            days.push(session.day);
            if let Some(start_date) = req.start_date {
                assert_eq!(
                    session.date,
                    start_date.checked_add_days(chrono::Days::new(u64::from(session.day - 1)))
                );
            }
            if req.goals.contains(&Goal::FallPrevention) || older || steadi {
                assert!(
                    session.exercises.iter().any(|x| c
                        .get(&x.exercise_id)
                        .is_some_and(|e| e.category == Category::Balance)),
                    "fall prevention and 65+ always bundle balance work"
                );
            }
            for x in &session.exercises {
                let e = c.get(&x.exercise_id).expect("exercise exists in the catalogue");
                assert!(e.support_levels.contains(&x.support_level), "{} support", e.id);
                if bodyweight_only {
                    assert_eq!(x.load.kind, LoadKind::Bodyweight, "{}: bodyweight only", e.id);
                }
                if no_step {
                    assert!(
                        !(e.equipment.contains(&Equipment::Step) && e.category != Category::Aerobic),
                        "{}: no step edge",
                        e.id
                    );
                }
                if e.clinician_cleared_only {
                    assert!(
                        req.achilles_tendinopathy.is_some(),
                        "{}: clinician-cleared only",
                        e.id
                    );
                }
                if e.category == Category::Plyometric {
                    assert!(
                        req.achilles_tendinopathy.is_none()
                            && req.achilles_pain.unwrap_or(0) == 0
                            && !bodyweight_only
                    );
                }
                if s.resting_blood_pressure
                    .is_some_and(|bp| bp.systolic >= 160 || bp.diastolic >= 100)
                {
                    assert!(
                        x.hold_seconds.unwrap_or(0) <= 15 && x.rpe_target.unwrap_or(0) <= 5,
                        "SCR-04"
                    );
                }
                if let Some(eq) = &req.equipment {
                    assert!(
                        e.equipment
                            .iter()
                            .all(|q| super::prescribe::HOUSEHOLD.contains(q) || eq.contains(q)),
                        "{}: equipment",
                        e.id
                    );
                }
                assert!(!x.rationale.is_empty());
            }
        }
        if let Some(prev) = previous
            && !week.deload
        {
            let before = prev.sessions.first().map(|s| &s.exercises);
            let after = week.sessions.first().map(|s| &s.exercises);
            if let (Some(before), Some(after)) = (before, after) {
                for (a, b) in before.iter().zip(after) {
                    assert_eq!(a.exercise_id, b.exercise_id);
                    assert!(
                        increases(a, b) <= 1,
                        "one change per exercise per week: {a:?} -> {b:?}"
                    );
                    let ratio = b.load.intensity() / a.load.intensity();
                    let max = if older { 1.05 } else { 1.10 };
                    assert!(ratio <= max + 1e-9, "load step {ratio} over {max}");
                    assert!(ratio >= 1.0 - 1e-9, "planned load never drops outside deloads");
                    if ratio > 1.0 + 1e-9 {
                        assert!(ratio >= 1.02 - 1e-9, "load steps are at least 2%");
                    }
                }
            }
        }
        if !week.deload {
            previous = Some(week);
        }
    }
    days.windows(2)
        .for_each(|w| assert!(w[1] >= w[0] + 2, "sessions on non-consecutive days: {days:?}"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_rule_holds_for_random_profiles(req in request()) {
        let c = catalogue();
        let p = generate(&req, c);
        check(&req, &p, c);
        // Same input, same generator: the same document (serialisation has no unordered maps,
        // so equal documents are equal bytes; the golden tests compare the bytes).
        prop_assert_eq!(&p, &generate(&req, c));
    }
}

#[test]
fn the_engine_depends_on_no_framework_database_or_clock() {
    for (name, source) in [
        ("mod.rs", include_str!("mod.rs")),
        ("prescribe.rs", include_str!("prescribe.rs")),
        ("screening.rs", include_str!("screening.rs")),
        ("input.rs", include_str!("input.rs")),
        ("model.rs", include_str!("model.rs")),
        ("calendar.rs", include_str!("calendar.rs")),
    ] {
        for forbidden in [
            "actix",
            "diesel",
            "Utc::now",
            "Local::now",
            "SystemTime",
            "Instant::now",
            "crate::db",
            "crate::http",
        ] {
            assert!(!source.contains(forbidden), "{name} mentions {forbidden}");
        }
    }
}
