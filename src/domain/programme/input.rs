//! What the engine needs to know about a person. Every optional answer left out is "unknown",
//! and the engine treats unknown conservatively.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::domain::catalogue::{Equipment, Goal};

/// Activity level (domain brief §9.0): `active` means active without resistance training,
/// `trained` means 6 months or more of consistent resistance training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActivityLevel {
    Sedentary,
    LightlyActive,
    Active,
    Trained,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TendinopathyType {
    MidPortion,
    Insertional,
}

/// Screening answers: the PAR-Q+ items and the soleus-specific items of domain brief §7.1.
/// `true` = yes, `false` = no, absent = not answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct Screening {
    /// PAR-Q+ 1: a doctor said you have a heart condition or high blood pressure.
    pub heart_condition: Option<bool>,
    /// PAR-Q+ 2: chest pain at rest, in daily activities or during activity.
    pub chest_pain: Option<bool>,
    /// PAR-Q+ 3: lost balance from dizziness or lost consciousness in the last 12 months.
    pub dizziness_or_fainting: Option<bool>,
    /// PAR-Q+ 4: another diagnosed chronic medical condition.
    pub chronic_condition: Option<bool>,
    /// PAR-Q+ 5: prescribed medication for a chronic condition.
    pub chronic_medication: Option<bool>,
    /// PAR-Q+ 6: a bone, joint or soft-tissue problem that activity could worsen.
    pub bone_joint_problem: Option<bool>,
    /// PAR-Q+ 7: a doctor said you should only do medically supervised activity.
    pub supervised_activity_only: Option<bool>,
    /// Right now, one calf swollen, warm, red or painful, or one leg swollen (item 8).
    pub calf_swelling_warmth_redness: Option<bool>,
    /// Last 12 weeks: leg surgery, cast or boot, 3 or more days bed-bound, or a long-haul trip
    /// (item 9, the clot risk factor).
    pub recent_immobilisation: Option<bool>,
    /// Calf pain that started after such surgery, immobilisation or trip (item 9, the
    /// symptom): a possible clot, referred the same day (SCR-01).
    pub calf_pain_after_immobilisation: Option<bool>,
    /// Ever had a blood clot (DVT or PE) (item 10).
    pub prior_blood_clot: Option<bool>,
    /// Months since an Achilles rupture or Achilles/ankle surgery, if ever (item 11).
    #[validate(range(max = 1200))]
    #[schema(maximum = 1200)]
    pub achilles_rupture_months_ago: Option<u16>,
    /// After an Achilles rupture or surgery: has the treating clinician discharged you from
    /// rehabilitation? (SCR-05: not yet discharged means clinician-led rehab.)
    pub achilles_rehab_discharged: Option<bool>,
    /// Sudden sharp calf pain or "pop" in the last 6 weeks, or pain when walking (item 12).
    pub acute_calf_strain: Option<bool>,
    /// Calf pain when walking that eases with rest (item 13).
    pub claudication: Option<bool>,
    /// Foot pain at rest, or non-healing foot wounds or ulcers (item 13).
    pub rest_pain_or_foot_ulcer: Option<bool>,
    /// Pregnant (item 14).
    pub pregnant: Option<bool>,
    /// Any ACOG absolute contraindication to exercise in pregnancy (item 14).
    pub pregnancy_contraindication: Option<bool>,
    /// Diabetes with numb feet, or other loss of feeling in the feet (item 15).
    pub foot_numbness: Option<bool>,
    /// Dizziness or fainting when standing up (item 16).
    pub dizziness_on_standing: Option<bool>,
    /// Resting blood pressure, if measured.
    #[validate(nested)]
    pub resting_blood_pressure: Option<BloodPressure>,
    /// Told that your blood pressure is uncontrolled.
    pub uncontrolled_blood_pressure: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"systolic": 128, "diastolic": 82}))]
pub struct BloodPressure {
    #[validate(range(min = 60, max = 300))]
    #[schema(minimum = 60, maximum = 300)]
    pub systolic: u16,
    #[validate(range(min = 30, max = 200))]
    #[schema(minimum = 30, maximum = 200)]
    pub diastolic: u16,
}

/// CDC STEADI fall-risk answers (domain brief §4.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct FallRisk {
    pub fallen_past_year: Option<bool>,
    pub feels_unsteady: Option<bool>,
    pub worries_about_falling: Option<bool>,
    pub uses_walking_aid: Option<bool>,
}

/// A baseline single-leg heel-raise endurance test (domain brief §8.1): repetitions per side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"left": 22, "right": 25}))]
pub struct HeelRaiseTest {
    #[validate(range(max = 200))]
    #[schema(maximum = 200)]
    pub left: u16,
    #[validate(range(max = 200))]
    #[schema(maximum = 200)]
    pub right: u16,
}

impl HeelRaiseTest {
    pub fn weaker(self) -> u16 {
        self.left.min(self.right)
    }

    /// The weaker side, when the sides differ.
    pub fn weaker_side(self) -> Option<super::model::LegSide> {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self.left.cmp(&self.right) {
            Less => Some(super::model::LegSide::Left),
            Greater => Some(super::model::LegSide::Right),
            Equal => None,
        }
    }

    /// Side-to-side difference as a share of the stronger side (0.0–1.0).
    pub fn asymmetry(self) -> f64 {
        crate::domain::norms::asymmetry(f64::from(self.left), f64::from(self.right))
    }
}

/// The request to generate a programme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "age": 28, "activity_level": "trained", "goals": ["runner_endurance"], "sex": "female",
    "body_mass_kg": 60, "equipment": ["chair", "wall", "step", "free_weight"], "days_per_week": 3,
    "weeks": 12, "start_date": "2026-12-07",
    "screening": {"chest_pain": false, "calf_swelling_warmth_redness": false, "acute_calf_strain": false},
    "baseline_heel_raise": {"left": 31, "right": 32}, "weekly_running_km": 40, "achilles_pain": 0
}))]
pub struct ProgrammeRequest {
    /// Age in years. Adults only: under 18 is out of scope (SCR-14).
    #[validate(range(max = 120), custom(function = "adult"))]
    #[schema(minimum = 18, maximum = 120)]
    pub age: u8,
    pub activity_level: ActivityLevel,
    /// One to three different goals.
    #[validate(length(min = 1, max = 3), custom(function = "distinct_goals"))]
    #[schema(value_type = std::collections::BTreeSet<Goal>, min_items = 1, max_items = 3)]
    pub goals: Vec<Goal>,
    pub sex: Option<Sex>,
    #[validate(range(min = 25.0, max = 350.0))]
    #[schema(minimum = 25, maximum = 350)]
    pub body_mass_kg: Option<f64>,
    /// Equipment available. A chair, a wall and a sturdy counter are always assumed; absent =
    /// unknown, so nothing more.
    #[validate(length(max = 7))]
    #[schema(max_items = 7)]
    pub equipment: Option<Vec<Equipment>>,
    /// Preferred training days per week (2–7). Calf strength days are capped at 3.
    #[validate(range(min = 1, max = 7))]
    #[schema(minimum = 1, maximum = 7)]
    pub days_per_week: Option<u8>,
    /// Programme length in weeks (4–16, default 12).
    #[validate(range(min = 4, max = 16))]
    #[schema(minimum = 4, maximum = 16)]
    pub weeks: Option<u8>,
    /// First training day. Without it, sessions are numbered by week and day offset only.
    pub start_date: Option<NaiveDate>,
    #[validate(nested)]
    pub screening: Option<Screening>,
    #[validate(nested)]
    pub fall_risk: Option<FallRisk>,
    #[validate(nested)]
    pub baseline_heel_raise: Option<HeelRaiseTest>,
    #[validate(range(min = 0.0, max = 400.0))]
    #[schema(minimum = 0, maximum = 400)]
    pub weekly_running_km: Option<f64>,
    /// Current Achilles or calf pain, 0–10.
    #[validate(range(max = 10))]
    #[schema(maximum = 10)]
    pub achilles_pain: Option<u8>,
    /// Clinician-diagnosed Achilles tendinopathy, and which kind.
    pub achilles_tendinopathy: Option<TendinopathyType>,
}

fn adult(age: u8) -> Result<(), ValidationError> {
    if age < 18 {
        let mut e = ValidationError::new("out_of_scope");
        e.message = Some(
            "must be 18 or over: programmes for under-18s are out of scope (SCR-14: consent and growth-plate considerations)"
                .into(),
        );
        return Err(e);
    }
    Ok(())
}

fn distinct_goals(goals: &[Goal]) -> Result<(), ValidationError> {
    let mut seen = goals.to_vec();
    seen.sort_unstable();
    seen.dedup();
    if seen.len() != goals.len() {
        let mut e = ValidationError::new("duplicate");
        e.message = Some("must not list a goal twice".into());
        return Err(e);
    }
    Ok(())
}
