//! The exercise catalogue's types: one struct serves the data file (`exercises.json`) and the
//! API, so the two cannot drift. `regressions` and link names are derived when loading.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Declares a closed vocabulary: a snake_case enum with its list of values.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The wire name (the same as serde's).
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }
    };
}

vocabulary! {
    /// A training goal a programme (and an exercise) serves.
    Goal { RunnerEndurance = "runner_endurance", FallPrevention = "fall_prevention", Circulation = "circulation" }
}

vocabulary! {
    /// Body position the exercise is done in (its starting position for transitions).
    Position { Seated = "seated", Standing = "standing", WallSit = "wall_sit", Machine = "machine", Walking = "walking" }
}

vocabulary! {
    /// How much of the plantar-flexor work goes to the soleus rather than the gastrocnemius,
    /// from the knee angle (domain brief §2.2): high at ~90° (seated), moderate at 30–45°, low
    /// with a straight knee; `not_applicable` for exercises that are not ankle plantar flexion.
    SoleusBias { High = "high", Moderate = "moderate", Low = "low", NotApplicable = "not_applicable" }
}

vocabulary! {
    /// One leg or two.
    Laterality { Bilateral = "bilateral", SingleLeg = "single_leg", Alternating = "alternating" }
}

vocabulary! {
    /// How the muscle works.
    ContractionMode {
        ConcentricEccentric = "concentric_eccentric",
        EccentricOnly = "eccentric_only",
        Isometric = "isometric",
        Rhythmic = "rhythmic",
        StaticStretch = "static_stretch",
    }
}

vocabulary! {
    /// Equipment an exercise needs. `none` means nothing at all; `free_weight` is anything heavy
    /// to hold or rest on the knees (dumbbell, kettlebell, plates, a loaded backpack);
    /// `sturdy_support` is a kitchen counter, rail or solid table (never something that moves).
    Equipment {
        None = "none",
        Chair = "chair",
        Wall = "wall",
        SturdySupport = "sturdy_support",
        Step = "step",
        FreeWeight = "free_weight",
        LegPressMachine = "leg_press_machine",
    }
}

vocabulary! {
    /// What the person holds on to, from most to least support (the Otago grading).
    SupportLevel { Chair = "chair", TwoHands = "two_hands", OneHand = "one_hand", Fingertip = "fingertip", None = "none" }
}

vocabulary! {
    /// What kind of work the exercise is.
    Category {
        CalfStrength = "calf_strength",
        Isometric = "isometric",
        TendonRehab = "tendon_rehab",
        Plyometric = "plyometric",
        Balance = "balance",
        Functional = "functional",
        Circulation = "circulation",
        Aerobic = "aerobic",
        Mobility = "mobility",
        Assessment = "assessment",
    }
}

/// An inclusive range of whole numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"min": 10, "max": 15}))]
pub struct Range {
    pub min: u32,
    pub max: u32,
}

/// Tempo of one repetition in seconds: rising, holding at the top, lowering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"up_seconds": 3, "hold_seconds": 1, "down_seconds": 5}))]
pub struct Tempo {
    pub up_seconds: u32,
    pub hold_seconds: u32,
    pub down_seconds: u32,
}

/// Default dosage of an exercise for one goal. Absent members do not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dosage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sets: Option<Range>,
    /// Repetitions per set (per leg for single-leg exercises).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reps: Option<Range>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_seconds: Option<Range>,
    /// Minutes per bout or session, for time-based work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<Range>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_seconds: Option<Range>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions_per_week: Option<Range>,
    /// For habits spread across the day (circulation "exercise snacks").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bouts_per_day: Option<Range>,
    /// How it is loaded, in words (bodyweight, a fraction of body weight, RM-based…).
    pub load: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// Why an exercise serves a goal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalReason {
    pub goal: Goal,
    /// One sentence, within what the evidence supports.
    pub reason: String,
}

/// A caution and the screening or in-programme rules it relates to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"rules": ["SCR-07"], "text": "With insertional Achilles tendinopathy, do not let the heel drop below the level of the step."}))]
pub struct Caution {
    /// Rule ids from the domain brief (SCR-*, STP-*, REG-*).
    pub rules: Vec<String>,
    pub text: String,
}

/// A reference behind the exercise's use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub source: String,
    /// Evidence strength: E1 (guideline / systematic review), E2 (single trial or cohort),
    /// E3 (small or indirect), EO (expert opinion).
    pub level: String,
    /// What the source supports, in one sentence.
    pub supports: String,
}

/// A link to another exercise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ExerciseLink {
    pub id: String,
    pub name: String,
}

impl<'de> Deserialize<'de> for ExerciseLink {
    /// In the data file a link is just the id; the name is filled in when loading.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self {
            id: String::deserialize(d)?,
            name: String::new(),
        })
    }
}

/// One exercise, complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    /// Stable slug; never changes once published.
    #[schema(example = "seated-calf-raise")]
    pub id: String,
    /// Row id in the domain brief's catalogue table (SOL-*, BAL-*, FUN-*, TEST-*).
    #[schema(example = "SOL-02b")]
    pub code: String,
    #[schema(example = "Seated calf (soleus) raise, bodyweight")]
    pub name: String,
    pub summary: String,
    pub category: Category,
    pub instructions: Vec<String>,
    pub coaching_cues: Vec<String>,
    pub common_mistakes: Vec<String>,
    pub position: Position,
    /// Knee flexion in degrees (0 = straight); absent where it does not apply (walking, balance).
    pub knee_angle_deg: Option<u16>,
    pub soleus_bias: SoleusBias,
    pub laterality: Laterality,
    pub contraction: ContractionMode,
    /// Default tempo; absent for holds, rhythmic and time-based work.
    pub tempo: Option<Tempo>,
    /// Movements per minute for rhythmic work and timed tests.
    pub cadence_per_minute: Option<Range>,
    /// Everything needed; `["none"]` when nothing is.
    pub equipment: Vec<Equipment>,
    /// Support levels it can be done with, most supported first.
    pub support_levels: Vec<SupportLevel>,
    /// 1 (easiest) to 5.
    #[schema(minimum = 1, maximum = 5)]
    pub difficulty: u8,
    /// Place on the level ladder (0–8: F0–F4 fall track, 5–8 ≈ F5/L5 … L8); absent for
    /// assessments and clinician-led rehab.
    pub ladder: Option<Range>,
    /// Goals the exercise serves, each with its reason.
    pub goals: Vec<GoalReason>,
    /// Default dosage per goal it serves.
    pub dosage: BTreeMap<Goal, Dosage>,
    pub cautions: Vec<Caution>,
    /// Only for people whose clinician has diagnosed the condition and cleared them (SCR-07).
    pub clinician_cleared_only: bool,
    /// Harder variants.
    pub progressions: Vec<ExerciseLink>,
    /// Easier variants (derived: the exercises that list this one as a progression).
    #[serde(default)]
    pub regressions: Vec<ExerciseLink>,
    pub evidence: Vec<Evidence>,
    /// Pictures drawn from the exercise's pose (derived when loading): animated, start and end.
    #[serde(default)]
    pub media: Vec<Media>,
    /// How the pictures draw it (from `poses.json`, checked against this exercise when loading).
    #[serde(skip)]
    pub pose: Option<super::illustration::Illustrated>,
}

/// A picture of an exercise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Media {
    /// Where to get it (relative to the API's origin).
    #[schema(example = "/v1/exercises/seated-calf-raise/illustration.svg?frame=animated")]
    pub url: String,
    #[serde(rename = "type")]
    #[schema(example = "image/svg+xml")]
    pub media_type: String,
    /// `animated` (start to end and back, at the exercise's tempo), `start` or `end` (static,
    /// for print).
    #[schema(example = "animated")]
    pub frame: String,
    /// What the picture shows, for people who cannot see it.
    pub alt: String,
    #[schema(example = "CC BY 4.0, written by the soleus-api team")]
    pub licence: String,
}

impl Exercise {
    pub fn serves(&self, goal: Goal) -> bool {
        self.goals.iter().any(|g| g.goal == goal)
    }
}

/// The data file's top level.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataFile {
    /// Semantic version of the content, bumped by hand on review.
    pub version: String,
    pub licence: String,
    pub disclaimer: String,
    pub exercises: Vec<Exercise>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire<T: Serialize>(v: T) -> String {
        serde_json::to_value(v)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    #[test]
    fn vocabulary_names_match_serde() {
        for v in Goal::ALL {
            assert_eq!(wire(v), v.as_str());
        }
        for v in Equipment::ALL {
            assert_eq!(wire(v), v.as_str());
        }
        for v in SupportLevel::ALL {
            assert_eq!(wire(v), v.as_str());
        }
        for v in Category::ALL {
            assert_eq!(wire(v), v.as_str());
        }
        for v in ContractionMode::ALL {
            assert_eq!(wire(v), v.as_str());
        }
        for v in Position::ALL {
            assert_eq!(wire(v), v.as_str());
        }
        for v in Laterality::ALL {
            assert_eq!(wire(v), v.as_str());
        }
        for v in SoleusBias::ALL {
            assert_eq!(wire(v), v.as_str());
        }
    }
}
