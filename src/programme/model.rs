//! The programme document the engine produces.

use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::input::ProgrammeRequest;
use crate::catalogue::{SupportLevel, model::Tempo};

/// Overall screening outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
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
    Bodyweight,
    /// Extra load as a fraction of body weight (a backpack or dumbbells).
    BodyWeightFraction,
    /// The heaviest load you can lift for the given number of repetitions.
    RepetitionMaximum,
}

/// How heavy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({"kind": "body_weight_fraction", "fraction_of_body_weight": 0.1, "kg": 6.0}))]
pub struct Load {
    pub kind: LoadKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fraction_of_body_weight: Option<f64>,
    /// The fraction in kilograms, when body mass is known (rounded to 0.5 kg).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kg: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repetition_maximum: Option<u8>,
}

impl Load {
    pub const BODYWEIGHT: Self = Self {
        kind: LoadKind::Bodyweight,
        fraction_of_body_weight: None,
        kg: None,
        repetition_maximum: None,
    };

    /// Relative intensity used to check load steps: total load as a multiple of body weight
    /// for body-weight loads, %1RM for RM loads (domain brief §6.1).
    pub fn intensity(&self) -> f64 {
        match self.kind {
            LoadKind::Bodyweight => 1.0,
            LoadKind::BodyWeightFraction => 1.0 + self.fraction_of_body_weight.unwrap_or(0.0),
            LoadKind::RepetitionMaximum => rm_to_percent(self.repetition_maximum.unwrap_or(20)),
        }
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
    pub exercise_id: String,
    pub name: String,
    /// The target for this week, in words.
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes_per_day: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes_per_week: Option<u16>,
    pub rationale: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Week {
    pub number: u8,
    pub phase: Phase,
    /// A lighter week: fewer sets, same intensity (domain brief §9.4).
    pub deload: bool,
    pub sessions: Vec<PlannedSession>,
    pub habits: Vec<Habit>,
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
    /// Catalogue id of the test, or the name of a clinic test.
    pub tests: Vec<String>,
    /// Weeks at whose end to retest.
    pub weeks: Vec<u8>,
    pub note: &'static str,
}

/// A generated programme. The same request and generator version always give the same
/// document, byte for byte.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Programme {
    #[schema(example = "soleus-engine/1.1.0")]
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
