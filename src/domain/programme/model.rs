//! The programme document the engine produces.

use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::input::ProgrammeRequest;
use crate::domain::catalogue::{SupportLevel, model::Tempo};

/// Overall screening outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SafetyStatus {
    /// No rule changed the programme.
    Cleared,
    /// Rules changed the programme (lower intensity, more support, extra exercises, advice).
    Adapted,
    /// See a clinician first: no exercise is prescribed.
    Refer,
}

/// How strongly a rule acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Adapt,
    Refer,
}

/// A screening rule that fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"rule": "SCR-11", "severity": "adapt", "message": "You have fallen in the past year or feel unsteady: the programme starts with two-hand support and balance work. An instructor-led programme such as Otago is recommended."}))]
pub struct Finding {
    /// Rule id from the domain brief (SCR-*, PARQ-*, ENG-*).
    pub rule: String,
    pub severity: Severity,
    /// Plain-language explanation for the user.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Safety {
    pub status: SafetyStatus,
    pub findings: Vec<Finding>,
    pub disclaimer: &'static str,
}

/// Where on the level ladder the programme starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StartLevel {
    /// 0–8 (see `GET /v1/catalogue` → `ladder`).
    pub level: u8,
    #[schema(example = "F2")]
    pub code: String,
    /// The support level standing exercises start with.
    pub support: SupportLevel,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Weeks 1–4: technique and endurance reps.
    Foundation,
    /// Weeks 5–8: more load or less support.
    Build,
    /// Week 9 on: consolidate and strengthen.
    Consolidate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Both legs together (or alternating).
    Both,
    /// Each leg in turn: the sets and reps are per leg.
    EachLeg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoadKind {
    /// No added load: the body (standing) or nothing (seated) is the load.
    Bodyweight,
    /// Added load in kilograms: dumbbells, a backpack, or weight resting on the knees.
    External,
    /// The heaviest load you can lift for the given number of repetitions (heavy slow
    /// resistance): the prescribed reps are done at that load, so the last ones are hard
    /// (RPE 9-10).
    RepetitionMaximum,
}

/// Where added load goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoadPlacement {
    /// A dumbbell or weight plate resting on the knees (seated work: body weight is not lifted).
    OnKnees,
    /// A dumbbell in the free hand, the other hand on the support.
    InHand,
    /// A backpack, so both hands stay on the support.
    Backpack,
    /// The machine's weight stack or sled.
    Machine,
}

/// How heavy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({"kind": "external", "kg": 10.0, "placement": "on_knees"}))]
pub struct Load {
    pub kind: LoadKind,
    /// Added load in kilograms (rounded to 0.5 kg): a starting suggestion. Use a weight you can
    /// lift the prescribed reps with 2-3 in reserve, and adjust on the first session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kg: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repetition_maximum: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement: Option<LoadPlacement>,
}

impl Load {
    pub const BODYWEIGHT: Self = Self {
        kind: LoadKind::Bodyweight,
        kg: None,
        repetition_maximum: None,
        placement: None,
    };

    /// The load the calf moves, to check load steps (domain brief §6.1, §9.4): kilograms moved
    /// (body mass plus added load when standing, the added load alone when seated), or %1RM for
    /// RM loads.
    pub fn moved(&self, body_mass_kg: f64, standing: bool) -> f64 {
        let body = if standing { body_mass_kg } else { 0.0 };
        match self.kind {
            LoadKind::Bodyweight => body,
            LoadKind::External => body + self.kg.unwrap_or(0.0),
            LoadKind::RepetitionMaximum => rm_to_percent(self.repetition_maximum.unwrap_or(20)),
        }
    }
}

#[cfg(test)]
impl Load {
    /// Load moved for a standing exercise at the reference body mass (tests compare steps).
    pub fn intensity(&self) -> f64 {
        self.moved(70.0, true)
    }
}

/// Repetition maximum → %1RM (domain brief §6.1).
pub fn rm_to_percent(rm: u8) -> f64 {
    match rm {
        0..=5 => 90.0,
        6..=7 => 85.0,
        8..=9 => 80.0,
        10..=11 => 75.0,
        12..=13 => 70.0,
        14..=15 => 65.0,
        _ => 60.0,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LegSide {
    Left,
    Right,
}

/// Extra work for the weaker leg when the heel-raise test differs by more than 10% between
/// sides (domain brief §8.1 `ASYMMETRY_FLAG`, §5.1 return-to-run criteria).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"side": "left", "extra_sets": 1}))]
pub struct WeakerSide {
    pub side: LegSide,
    /// Sets added on that side only.
    pub extra_sets: u8,
}

/// One exercise in a session.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Prescription {
    /// Catalogue id (`GET /v1/exercises/{id}`).
    #[schema(value_type = String)]
    pub exercise_id: Arc<str>,
    #[schema(value_type = String)]
    pub name: Arc<str>,
    pub sets: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reps: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_seconds: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tempo: Option<Tempo>,
    pub load: Load,
    /// Target effort, 0–10.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpe_target: Option<u8>,
    pub support_level: SupportLevel,
    pub rest_seconds: u16,
    pub side: Side,
    /// A harder form of the same exercise (for example eyes closed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<&'static str>,
    /// Extra sets for the weaker leg (single-leg work after an asymmetric test).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weaker_side: Option<WeakerSide>,
    /// Done more than once on the day (Alfredson: morning and evening).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times_per_day: Option<u8>,
    /// Why this dose, citing the rule or table it came from.
    #[schema(value_type = String)]
    pub rationale: Arc<str>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PlannedSession {
    /// 1-based day of the programme (day 1 = the start date).
    pub day: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    pub exercises: Vec<Prescription>,
}

/// Something to do every day rather than in sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Habit {
    #[schema(value_type = String)]
    pub exercise_id: Arc<str>,
    #[schema(value_type = String)]
    pub name: Arc<str>,
    /// The target for this week, in words.
    #[schema(value_type = String)]
    pub target: Arc<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes_per_day: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes_per_week: Option<u16>,
    #[schema(value_type = String)]
    pub rationale: Arc<str>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Week {
    pub number: u8,
    pub phase: Phase,
    /// A lighter week: fewer sets, same intensity (domain brief §9.4).
    pub deload: bool,
    pub sessions: Vec<PlannedSession>,
    pub habits: Vec<Habit>,
    pub volume: WeekVolume,
}

/// The week's totals, so the dose can be checked at a glance (domain brief §9.2, §9.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct WeekVolume {
    /// Seconds under load per leg in calf work this week (reps x tempo, plus holds; the weaker
    /// leg's extra sets come on top): the weekly volume that rises by at most about 20% a week
    /// over the last full week (§9.4).
    pub calf_seconds_per_leg: u32,
    /// Balance and functional minutes this week, sessions plus daily practice (fall
    /// prevention asks for 3 hours or more a week, Sherrington 2020).
    pub balance_minutes: u16,
    /// The estimated length of the longest session, including rests.
    pub longest_session_minutes: u16,
}

/// A rule that governs how the programme changes as sessions are logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Rule {
    #[schema(example = "REG-01")]
    pub id: &'static str,
    pub rule: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Retest {
    pub tests: Vec<RetestItem>,
    /// Weeks at whose end to retest.
    pub weeks: Vec<u8>,
}

/// One test to repeat, with what counts as a real change for that test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RetestItem {
    /// Catalogue id of the test, or the name of a clinic test.
    pub test: &'static str,
    pub note: &'static str,
}

/// A generated programme. The same request and generator version always give the same
/// document, byte for byte.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Programme {
    #[schema(example = "soleus-engine/2.0.0")]
    pub generator_version: &'static str,
    pub catalogue_version: String,
    /// The request, as understood.
    pub input: ProgrammeRequest,
    pub safety: Safety,
    /// Absent when the safety status is `refer`.
    pub start_level: Option<StartLevel>,
    pub sessions_per_week: u8,
    /// Empty when the safety status is `refer`.
    pub weeks: Vec<Week>,
    /// The progression, regression and stop rules that apply while training.
    pub rules: Vec<Rule>,
    pub retest: Option<Retest>,
    /// Advice beyond the sessions (supervision, when to see a clinician).
    pub recommendations: Vec<String>,
}
