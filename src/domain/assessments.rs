//! Capacity tests: the wire types, their validation, and their interpretation against the norms
//! of domain brief §4.3 and §8 (pure: no HTTP, no database, no clock).

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::domain::programme::input::{HeelRaiseTest, Sex};
use crate::domain::programme::{heel_raise_level, level_code};
use crate::validation::FieldError;

use crate::domain::norms::{ASYMMETRY_FLAG, MDC_CALF_RAISE_SENIOR_REPS, MDC_HEEL_RAISE_REPS};
const MDC_HEEL_RAISE: f64 = MDC_HEEL_RAISE_REPS as f64;
const MDC_CALF_RAISE_SENIOR: f64 = MDC_CALF_RAISE_SENIOR_REPS as f64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    /// Single-leg heel-raise endurance test: reps to fatigue per side at 60 bpm (§8.1).
    SingleLegHeelRaise,
    /// Calf-Raise Senior: both-leg calf raises in 30 s (§8.3).
    CalfRaiseSenior,
    /// 30-second chair stand (STEADI, §4.3).
    #[serde(rename = "chair_stand_30s")]
    ChairStand30s,
    /// 4-stage balance test (STEADI, §4.3).
    FourStageBalance,
    /// Timed Up and Go (STEADI, §4.3).
    TimedUpAndGo,
}

impl TestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SingleLegHeelRaise => "single_leg_heel_raise",
            Self::CalfRaiseSenior => "calf_raise_senior",
            Self::ChairStand30s => "chair_stand_30s",
            Self::FourStageBalance => "four_stage_balance",
            Self::TimedUpAndGo => "timed_up_and_go",
        }
    }
}

/// Where the heel-raise test was done. The reference protocol is a 10° incline board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Surface {
    Incline,
    Floor,
}

/// Knee position during the heel-raise test. Norms exist for the straight knee only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Knee {
    Straight,
    Bent,
}

/// A capacity test result. Which fields a test takes:
/// `single_leg_heel_raise`: `left_reps`, `right_reps`, optional `surface` (default `incline`)
/// and `knee` (default `straight`); `calf_raise_senior` and `chair_stand_30s`: `reps`;
/// `four_stage_balance`: `balance_stage`; `timed_up_and_go`: `seconds`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"test": "single_leg_heel_raise", "performed_at": "2026-12-07T08:00:00+01:00",
    "left_reps": 22, "right_reps": 26, "surface": "incline", "knee": "straight"}))]
pub struct AssessmentInput {
    pub test: TestKind,
    /// RFC 3339 with the offset the client used; default: when the server receives it (a test
    /// was taken now unless dated). Stored results always carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performed_at: Option<DateTime<FixedOffset>>,
    #[validate(range(max = 200))]
    #[schema(maximum = 200)]
    pub left_reps: Option<u16>,
    #[validate(range(max = 200))]
    #[schema(maximum = 200)]
    pub right_reps: Option<u16>,
    pub surface: Option<Surface>,
    pub knee: Option<Knee>,
    #[validate(range(max = 200))]
    #[schema(maximum = 200)]
    pub reps: Option<u16>,
    /// The highest stage held for 10 s: 0 none, 1 feet together, 2 semi-tandem, 3 tandem,
    /// 4 single leg.
    #[validate(range(max = 4))]
    #[schema(maximum = 4)]
    pub balance_stage: Option<u8>,
    #[validate(range(min = 1.0, max = 300.0))]
    #[schema(minimum = 1, maximum = 300)]
    pub seconds: Option<f64>,
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub notes: Option<String>,
}

impl AssessmentInput {
    /// The fields each test needs, and no others: errors name each offending field.
    pub fn check_fields(&self) -> Vec<FieldError> {
        let test = self.test.as_str();
        let fields: [(&str, bool); 7] = [
            ("left_reps", self.left_reps.is_some()),
            ("right_reps", self.right_reps.is_some()),
            ("surface", self.surface.is_some()),
            ("knee", self.knee.is_some()),
            ("reps", self.reps.is_some()),
            ("balance_stage", self.balance_stage.is_some()),
            ("seconds", self.seconds.is_some()),
        ];
        let (required, optional): (&[&str], &[&str]) = match self.test {
            TestKind::SingleLegHeelRaise => (&["left_reps", "right_reps"], &["surface", "knee"]),
            TestKind::CalfRaiseSenior | TestKind::ChairStand30s => (&["reps"], &[]),
            TestKind::FourStageBalance => (&["balance_stage"], &[]),
            TestKind::TimedUpAndGo => (&["seconds"], &[]),
        };
        let mut errors = Vec::new();
        for (name, present) in fields {
            if required.contains(&name) && !present {
                errors.push(FieldError::new(
                    name,
                    "required",
                    format!("is required for the {test} test"),
                ));
            } else if present && !required.contains(&name) && !optional.contains(&name) {
                errors.push(FieldError::new(
                    name,
                    "not_allowed",
                    format!("does not apply to the {test} test"),
                ));
            }
        }
        errors
    }

    /// The number the test is tracked by: the weaker side for the heel raise.
    pub fn value(&self) -> f64 {
        match self.test {
            TestKind::SingleLegHeelRaise => {
                f64::from(self.left_reps.unwrap_or(0).min(self.right_reps.unwrap_or(0)))
            }
            TestKind::CalfRaiseSenior | TestKind::ChairStand30s => f64::from(self.reps.unwrap_or(0)),
            TestKind::FourStageBalance => f64::from(self.balance_stage.unwrap_or(0)),
            TestKind::TimedUpAndGo => self.seconds.unwrap_or(0.0),
        }
    }

    /// Same test, same protocol: results that may be compared.
    pub fn comparable(&self, other: &Self) -> bool {
        self.test == other.test
            && self.surface.unwrap_or(Surface::Incline) == other.surface.unwrap_or(Surface::Incline)
            && self.knee.unwrap_or(Knee::Straight) == other.knee.unwrap_or(Knee::Straight)
    }

    /// The heel-raise result as the programme engine takes it (straight knee only).
    pub fn heel_raise(&self) -> Option<HeelRaiseTest> {
        (self.test == TestKind::SingleLegHeelRaise && self.knee.unwrap_or(Knee::Straight) == Knee::Straight)
            .then(|| HeelRaiseTest {
                left: self.left_reps.unwrap_or(0),
                right: self.right_reps.unwrap_or(0),
            })
    }
}

/// How sure the brief is of a norm (its ✔ / ◐ / ○ tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Certainty {
    /// Checked against the source.
    Verified,
    /// Reproduced by secondary sources; not checked against the paper.
    Secondary,
    /// Not verified: needs a clinician's or guideline check.
    Unverified,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// At or better than the typical value.
    AtOrAbove,
    /// Below the typical value by less than the test's measurement noise.
    WithinNoise,
    Below,
    /// Below the screening threshold: increased fall risk.
    AtRisk,
    /// Not below the screening threshold.
    NotAtRisk,
}

/// The norm a result was compared with.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Norm {
    /// The table or study.
    pub source: &'static str,
    /// The population row used (age band, sex).
    pub population: String,
    pub certainty: Certainty,
    /// The typical value, or the screening threshold.
    pub value: f64,
    pub comparison: Comparison,
    pub note: &'static str,
}

/// The change since the last comparable result.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Change {
    pub previous_value: f64,
    pub previous_performed_at: DateTime<FixedOffset>,
    pub delta: f64,
    /// Absent when the test has no established minimal detectable change.
    pub minimal_detectable_change: Option<f64>,
    /// Whether the change is at least the minimal detectable change (absent without one).
    pub real_change: Option<bool>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Asymmetry {
    /// |left − right| / the stronger side.
    pub ratio: f64,
    /// More than 10% (return-to-play criteria).
    pub flag: bool,
    pub weaker_side: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ImpliedLevel {
    pub level: u8,
    #[schema(example = "F6/L6")]
    pub code: &'static str,
    pub reason: String,
}

/// What a result means.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Interpretation {
    /// The tracked value: the weaker side's reps for the heel raise.
    pub value: f64,
    pub summary: String,
    pub norm: Option<Norm>,
    pub change: Option<Change>,
    pub asymmetry: Option<Asymmetry>,
    /// The §8.5 ladder level (straight-knee heel raise only).
    pub implied_level: Option<ImpliedLevel>,
    /// Caveats: protocol, missing profile data, what the test cannot say.
    pub notes: Vec<String>,
}

/// The person, as far as the norms need.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Person {
    pub age: Option<u8>,
    pub sex: Option<Sex>,
}

/// Hébert-Losier 2017 age × sex table as reproduced by clinic sites (§8.1, ◐): (from age, men,
/// women), midpoints where the sites differ.
const HRET_AGE_TABLE: [(u8, f64, f64); 7] = [
    (20, 37.0, 30.5),
    (30, 32.5, 27.0),
    (40, 28.0, 24.5),
    (50, 23.5, 21.5),
    (60, 19.0, 19.0),
    (70, 14.5, 16.5),
    (80, 10.0, 13.5),
];

/// STEADI 30-second chair stand: below these is "below average" (at risk), (from age, men,
/// women) (§4.3, ○).
const CHAIR_STAND_TABLE: [(u8, u16, u16); 7] = [
    (60, 14, 12),
    (65, 12, 11),
    (70, 12, 10),
    (75, 11, 10),
    (80, 10, 9),
    (85, 8, 8),
    (90, 7, 4),
];

fn band<T: Copy>(table: &[(u8, T, T)], age: u8) -> Option<(u8, T, T)> {
    table.iter().rev().find(|(from, _, _)| age >= *from).copied()
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Interprets `result` for `person`; `previous` is the last comparable earlier result.
pub fn interpret(
    result: &AssessmentInput,
    person: Person,
    previous: Option<&AssessmentInput>,
) -> Interpretation {
    let value = result.value();
    let mut notes = Vec::new();
    let (norm, asymmetry, implied_level, summary) = match result.test {
        TestKind::SingleLegHeelRaise => heel_raise(result, person, &mut notes),
        TestKind::CalfRaiseSenior => {
            notes.push("No population norms exist for the Calf-Raise Senior test: it tracks your own change (ICC 0.90, SEM 2.0 reps).".into());
            (None, None, None, format!("{value} calf raises in 30 seconds."))
        }
        TestKind::ChairStand30s => {
            let norm = chair_stand(value, person, &mut notes);
            (norm, None, None, format!("{value} chair stands in 30 seconds."))
        }
        TestKind::FourStageBalance => {
            let at_risk = value < 3.0;
            let norm = Norm {
                source: "CDC STEADI 4-stage balance test",
                population: "adults 65 and over".into(),
                certainty: Certainty::Verified,
                value: 3.0,
                comparison: if at_risk {
                    Comparison::AtRisk
                } else {
                    Comparison::NotAtRisk
                },
                note: "Not holding the tandem stance for 10 seconds indicates an increased risk of falling.",
            };
            (
                Some(norm),
                None,
                None,
                format!("Held stage {value} of 4 for 10 seconds."),
            )
        }
        TestKind::TimedUpAndGo => {
            let at_risk = value >= 12.0;
            let norm = Norm {
                source: "CDC STEADI Timed Up and Go",
                population: "adults 65 and over".into(),
                certainty: Certainty::Unverified,
                value: 12.0,
                comparison: if at_risk {
                    Comparison::AtRisk
                } else {
                    Comparison::NotAtRisk
                },
                note: "12 seconds or more indicates an increased risk of falling (STEADI; some sources use 13.5 s). The threshold awaits a clinician's check.",
            };
            (
                Some(norm),
                None,
                None,
                format!("Timed Up and Go in {value} seconds."),
            )
        }
    };
    if norm.as_ref().is_some_and(|n| n.comparison == Comparison::AtRisk) {
        notes.push("A result in the at-risk range is a reason to talk to a clinician about a falls assessment; it is not a diagnosis.".into());
    }
    Interpretation {
        value,
        summary,
        norm,
        change: previous.map(|p| change(result, p)),
        asymmetry,
        implied_level,
        notes,
    }
}

type Parts = (Option<Norm>, Option<Asymmetry>, Option<ImpliedLevel>, String);

fn heel_raise(result: &AssessmentInput, person: Person, notes: &mut Vec<String>) -> Parts {
    let (left, right) = (result.left_reps.unwrap_or(0), result.right_reps.unwrap_or(0));
    let weaker = left.min(right);
    let test = HeelRaiseTest { left, right };
    let ratio = (test.asymmetry() * 1000.0).round() / 1000.0;
    let asymmetry = Asymmetry {
        ratio,
        flag: test.asymmetry() > ASYMMETRY_FLAG,
        weaker_side: match left.cmp(&right) {
            std::cmp::Ordering::Less => Some("left"),
            std::cmp::Ordering::Greater => Some("right"),
            std::cmp::Ordering::Equal => None,
        },
    };
    let surface = result.surface.unwrap_or(Surface::Incline);
    let knee = result.knee.unwrap_or(Knee::Straight);
    let summary = format!("{left} reps left, {right} right: {weaker} on the weaker side.");
    if knee == Knee::Bent {
        notes.push("Norms are protocol-specific (§8.2): the bent-knee variant has none, so compare it only with your own earlier bent-knee tests.".into());
        return (None, Some(asymmetry), None, summary);
    }
    let value = f64::from(weaker);
    let compare = |typical: f64| {
        if value >= typical {
            Comparison::AtOrAbove
        } else if typical - value < MDC_HEEL_RAISE {
            Comparison::WithinNoise
        } else {
            Comparison::Below
        }
    };
    let norm = match (surface, person.age, person.sex) {
        (Surface::Floor, _, _) => Norm {
            source: "Lunsford & Perry 1995 (floor, n=203, 20-59 y)",
            population: "adults 20-59".into(),
            certainty: Certainty::Verified,
            value: 25.0,
            comparison: compare(25.0),
            note: "Mean 27.9 reps; about 25 is proposed as normal.",
        },
        (Surface::Incline, Some(age), Some(sex @ (Sex::Female | Sex::Male))) => {
            let (from, men, women) = band(&HRET_AGE_TABLE, age).unwrap_or((20, 37.0, 30.5));
            let typical = if sex == Sex::Male { men } else { women };
            let upper = if from >= 80 {
                "+".to_owned()
            } else {
                format!("-{}", from + 9)
            };
            Norm {
                source: "Hébert-Losier et al. 2017 age x sex table (10° incline, 60 bpm)",
                population: format!("{} {from}{upper}", if sex == Sex::Male { "men" } else { "women" }),
                certainty: Certainty::Secondary,
                value: typical,
                comparison: compare(typical),
                note: "Reproduced by clinic websites, not checked against the paper; a large 2025 cohort found no age effect, so your own change over time matters more than this row.",
            }
        }
        (Surface::Incline, _, Some(sex @ (Sex::Female | Sex::Male))) => {
            let typical = if sex == Sex::Male { 24.0 } else { 21.0 };
            Norm {
                source: "Hébert-Losier et al. 2017 (n=566, 20-81 y, 10° incline)",
                population: format!("{}, all ages", if sex == Sex::Male { "men" } else { "women" }),
                certainty: Certainty::Verified,
                value: typical,
                comparison: compare(typical),
                note: "Median for the sex; add your birth year for the age row.",
            }
        }
        (Surface::Incline, _, _) => Norm {
            source: "Sleeswijk Visser et al. 2025 (n=500, 10° incline)",
            population: "adults, mostly active".into(),
            certainty: Certainty::Verified,
            value: 24.0,
            comparison: compare(24.0),
            note: "Median 25 on the dominant and 24 on the non-dominant side; lower in women, with higher BMI and lower activity.",
        },
    };
    if person.age.is_none() || person.sex.is_none() {
        notes.push("Add your birth year and sex to your profile for the age and sex norm.".into());
    }
    if weaker >= 30 && !asymmetry.flag {
        notes.push(
            "Meets the runners' return-to-play standard: 30 or more on each side within 10% (§5.1).".into(),
        );
    }
    if asymmetry.flag {
        notes.push(format!(
            "The sides differ by {:.0}% (over 10%): work the weaker side to close the gap.",
            ratio * 100.0
        ));
    }
    let level = heel_raise_level(test, person.sex);
    let implied = ImpliedLevel {
        level,
        code: level_code(level),
        reason: format!("{weaker} reps on the weaker side (§8.5)."),
    };
    (Some(norm), Some(asymmetry), Some(implied), summary)
}

fn chair_stand(value: f64, person: Person, notes: &mut Vec<String>) -> Option<Norm> {
    let age = person.age?;
    let (from, men, women) = band(&CHAIR_STAND_TABLE, age)?;
    let (threshold, who) = match person.sex {
        Some(Sex::Female) => (women, "women"),
        Some(Sex::Male) => (men, "men"),
        _ => {
            notes.push("Without your sex the men's (higher) threshold is used.".into());
            (men, "adults")
        }
    };
    let threshold = f64::from(threshold);
    let upper = if from >= 90 {
        "+".to_owned()
    } else {
        format!("-{}", from + 4)
    };
    Some(Norm {
        source: "CDC STEADI 30-second chair stand",
        population: format!("{who} {from}{upper}"),
        certainty: if from == 70 {
            Certainty::Secondary
        } else {
            Certainty::Unverified
        },
        value: threshold,
        comparison: if value < threshold {
            Comparison::AtRisk
        } else {
            Comparison::NotAtRisk
        },
        note: "Below the threshold is below average for the age and indicates a risk of falling. The table awaits a clinician's check.",
    })
}

fn change(result: &AssessmentInput, previous: &AssessmentInput) -> Change {
    let (now, before) = (result.value(), previous.value());
    let delta = round1(now - before);
    let mdc = match result.test {
        TestKind::SingleLegHeelRaise => Some(MDC_HEEL_RAISE),
        TestKind::CalfRaiseSenior => Some(MDC_CALF_RAISE_SENIOR),
        _ => None,
    };
    let real = mdc.map(|m| delta.abs() >= m);
    let message = match (real, mdc) {
        (Some(true), Some(m)) => format!("A real change of {delta:+} (at least {m} is needed)."),
        (Some(false), Some(m)) => {
            format!("{delta:+} is no real change: under {m}, within measurement noise.")
        }
        _ => format!("{delta:+} since last time; this test has no established minimal detectable change."),
    };
    Change {
        previous_value: before,
        previous_performed_at: previous.performed_at.unwrap_or_default(),
        delta,
        minimal_detectable_change: mdc,
        real_change: real,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> AssessmentInput {
        serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
    }

    fn hret(left: u16, right: u16) -> AssessmentInput {
        input(
            serde_json::json!({"test": "single_leg_heel_raise", "performed_at": "2026-12-07T08:00:00Z",
            "left_reps": left, "right_reps": right}),
        )
    }

    #[test]
    fn heel_raise_uses_the_age_and_sex_row_and_flags_asymmetry() {
        let person = Person {
            age: Some(45),
            sex: Some(Sex::Female),
        };
        let i = interpret(&hret(18, 26), person, None);
        let norm = i.norm.expect("a norm");
        assert_eq!(norm.value, 24.5);
        assert_eq!(norm.population, "women 40-49");
        assert_eq!(norm.certainty, Certainty::Secondary);
        assert_eq!(norm.comparison, Comparison::Below, "6.5 under the typical 24.5");
    }

    #[test]
    fn comparisons_respect_the_mdc() {
        let person = Person {
            age: Some(45),
            sex: Some(Sex::Female),
        };
        let at = |l| interpret(&hret(l, l), person, None).norm.map(|n| n.comparison);
        assert_eq!(at(25), Some(Comparison::AtOrAbove));
        assert_eq!(at(19), Some(Comparison::WithinNoise), "5.5 under");
        assert_eq!(at(18), Some(Comparison::Below), "6.5 under");
        let i = interpret(&hret(18, 26), person, None);
        let a = i.asymmetry.expect("asymmetry");
        assert_eq!((a.ratio, a.flag, a.weaker_side), (0.308, true, Some("left")));
        assert_eq!(i.implied_level.map(|l| l.code), Some("F6/L6"));
    }

    #[test]
    fn change_under_six_reps_is_no_real_change() {
        let i = interpret(&hret(25, 26), Person::default(), Some(&hret(20, 22)));
        let c = i.change.expect("a change");
        assert_eq!((c.delta, c.real_change), (5.0, Some(false)));
        assert!(c.message.contains("no real change"), "{}", c.message);
        let i = interpret(&hret(26, 27), Person::default(), Some(&hret(20, 22)));
        assert_eq!(i.change.and_then(|c| c.real_change), Some(true));
    }

    #[test]
    fn older_adult_battery_thresholds() {
        let person = Person {
            age: Some(72),
            sex: Some(Sex::Female),
        };
        let chair = input(
            serde_json::json!({"test": "chair_stand_30s", "performed_at": "2026-12-07T08:00:00Z", "reps": 9}),
        );
        let n = interpret(&chair, person, None).norm.expect("norm");
        assert_eq!((n.value, n.comparison), (10.0, Comparison::AtRisk));
        let balance = input(
            serde_json::json!({"test": "four_stage_balance", "performed_at": "2026-12-07T08:00:00Z", "balance_stage": 3}),
        );
        assert_eq!(
            interpret(&balance, person, None).norm.map(|n| n.comparison),
            Some(Comparison::NotAtRisk)
        );
        let tug = input(
            serde_json::json!({"test": "timed_up_and_go", "performed_at": "2026-12-07T08:00:00Z", "seconds": 13.0}),
        );
        let i = interpret(&tug, person, None);
        assert_eq!(i.norm.map(|n| n.comparison), Some(Comparison::AtRisk));
        assert!(i.notes.iter().any(|n| n.contains("not a diagnosis")));
        let crs = input(
            serde_json::json!({"test": "calf_raise_senior", "performed_at": "2026-12-07T08:00:00Z", "reps": 14}),
        );
        assert!(
            interpret(&crs, person, None).norm.is_none(),
            "no CRS population norms"
        );
    }

    #[test]
    fn each_test_takes_its_own_fields() {
        let bad = input(
            serde_json::json!({"test": "chair_stand_30s", "performed_at": "2026-12-07T08:00:00Z", "left_reps": 3}),
        );
        let errors: Vec<(String, String)> = bad
            .check_fields()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect();
        assert_eq!(
            errors,
            vec![
                ("left_reps".into(), "not_allowed".into()),
                ("reps".into(), "required".into())
            ]
        );
        assert!(hret(1, 2).check_fields().is_empty());
    }
}
