//! The programme engine: a pure function from a request (and the catalogue) to a programme.
//! No HTTP, no database, no clock: the start date is an input, so the same request and
//! generator version always give the same document.
//!
//! Pipeline: `screening` (SCR-* rules → safety section and limits) → start level (§8.5, §9.0)
//! → exercise selection per goal (§9.1–§9.3, union across goals) → weekly dosing with planned
//! progression, deloads and habits (§9.4).

pub mod adapt;
pub mod calendar;
pub mod diff;
pub mod input;
pub mod model;
pub(crate) mod prescribe;
pub mod screening;

use crate::catalogue::{Catalogue, Goal, SupportLevel};
use input::{ActivityLevel, ProgrammeRequest};
use model::{Programme, Retest, Rule, SafetyStatus, StartLevel};
use screening::Limits;

/// Bumped whenever a rule or table changes, so stored programmes say which rules made them.
pub const GENERATOR_VERSION: &str = "soleus-engine/1.1.0";

/// Default programme length in weeks.
pub const DEFAULT_WEEKS: u8 = 12;

/// Rules that apply while training (domain brief §7.3, §9, §9.4).
pub const RULES: [Rule; 12] = [
    Rule {
        id: "2-FOR-2",
        rule: "Progress an exercise after 2 consecutive passed sessions at 1-2 reps above target (ACSM 2009, applied twice for safety).",
    },
    Rule {
        id: "ONE-CHANGE",
        rule: "At most one progression change per exercise per 7 days: reps, then sets, then less support, then load.",
    },
    Rule {
        id: "LOAD-STEP",
        rule: "Load steps of 2-10% of the total load moved (2-5% at 65 and over), as ACSM recommends.",
    },
    Rule {
        id: "DELOAD",
        rule: "Every 4th week (6th on the fall track) is lighter: about 60-70% of the sets (one set fewer on the fall track), same intensity.",
    },
    Rule {
        id: "RETEST",
        rule: "Retest the heel raise every 4-6 weeks with the same protocol; only a change of 6 reps or more is real. A real decline steps calf work back; a real gain is a reason to re-level.",
    },
    Rule {
        id: "REG-01",
        rule: "Exercise pain above 5/10, pain or stiffness not settled by the next morning, or worse than last week: drop one step and hold progression for a week.",
    },
    Rule {
        id: "REG-02",
        rule: "Loss of balance needing a grab or a step: return to the previous support level.",
    },
    Rule {
        id: "REG-03",
        rule: "Fewer than 75% of the prescribed reps, or heel height lost on more than a third of reps: repeat the week or drop 10% load.",
    },
    Rule {
        id: "REG-04",
        rule: "Two or more weeks missed, or illness: restart one level lower for a week.",
    },
    Rule {
        id: "STP-01",
        rule: "New calf swelling, warmth or redness: stop and seek urgent medical care.",
    },
    Rule {
        id: "STP-02",
        rule: "Chest pain, dizziness or severe breathlessness: stop and contact a doctor.",
    },
    Rule {
        id: "STP-03",
        rule: "Sudden sharp calf or Achilles pain or a 'pop': stop and see a clinician.",
    },
];

/// Generates the programme for `req`. `req` must already be validated (see `input`).
pub fn generate(req: &ProgrammeRequest, catalogue: &Catalogue) -> Programme {
    let (safety, limits, mut recommendations) = screening::screen(req);
    let base = Programme {
        generator_version: GENERATOR_VERSION,
        catalogue_version: catalogue.version().to_owned(),
        input: req.clone(),
        safety,
        start_level: None,
        sessions_per_week: 0,
        weeks: Vec::new(),
        rules: Vec::new(),
        retest: None,
        recommendations: Vec::new(),
    };
    if base.safety.status == SafetyStatus::Refer {
        return Programme {
            recommendations,
            ..base
        };
    }
    let start = start_level(req, &limits);
    let plan = prescribe::Plan::new(req, &limits, &start, catalogue);
    let weeks = plan.weeks();
    if limits.tendon_track {
        recommendations.push("Keep pain during calf work at 5/10 or below and check it has settled the next morning (pain-monitoring model).".into());
    }
    Programme {
        start_level: Some(start.clone()),
        sessions_per_week: plan.sessions_per_week(),
        weeks,
        rules: RULES.to_vec(),
        retest: Some(retest(req, &start, plan.weeks_total())),
        recommendations,
        ..base
    }
}

const LEVEL_CODES: [&str; 9] = ["F0", "F1", "F2", "F3", "F4", "F5/L5", "F6/L6", "F7/L7", "L8"];

/// The ladder level a single-leg heel-raise test (straight knee) implies (domain brief §8.5).
pub fn heel_raise_level(test: input::HeelRaiseTest) -> u8 {
    match test.weaker() {
        0 => 1,
        1..=2 => 2,
        3..=4 => 3,
        5..=14 => 5,
        15..=24 => 6,
        w if w >= 30 && test.asymmetry() <= 0.10 => 8,
        _ => 7,
    }
}

/// The code of a ladder level (`F2`, `F6/L6`, `L8`).
pub fn level_code(level: u8) -> &'static str {
    LEVEL_CODES.get(usize::from(level)).copied().unwrap_or("L8")
}

/// Start level (domain brief §8.5; caps from §9.0, §7.4 and the screening limits).
pub fn start_level(req: &ProgrammeRequest, limits: &Limits) -> StartLevel {
    let (mut level, mut reason) = match req.baseline_heel_raise {
        Some(test) => {
            let weaker = test.weaker();
            let level = heel_raise_level(test);
            (
                level,
                format!("Single-leg heel-raise test: {weaker} reps on the weaker side (§8.5)."),
            )
        }
        None => {
            let level = match req.activity_level {
                ActivityLevel::Sedentary => 3,
                ActivityLevel::LightlyActive => 4,
                ActivityLevel::Active => 5,
                ActivityLevel::Trained => 6,
            };
            (level, "No heel-raise test: start level from your activity level (§9.0). A test would place you more precisely.".to_owned())
        }
    };
    let runner_only = req.goals == [Goal::RunnerEndurance];
    if runner_only && level < 3 {
        level = 3;
        reason.push_str(" Runners start no lower than F3 (§8.5).");
    }
    let mut cap = |max: u8, why: &str| {
        if level > max {
            level = max;
            reason.push(' ');
            reason.push_str(why);
        }
    };
    if req.activity_level == ActivityLevel::Sedentary {
        cap(6, "Capped at L6 while new to training (§9.0).");
    }
    if req.age >= 80 {
        cap(1, "At 80 and over the start is F0-F1 (§7.4).");
    }
    if limits.fall_risk {
        cap(2, "Fall risk: start at F0-F2 with two-hand support (SCR-11).");
    }
    cap(limits.max_start_level, "Capped by the screening answers.");
    if req.age >= 65 && level > 3 && req.baseline_heel_raise.is_none() {
        level = 3;
        reason.push_str(" At 65 and over without a test, start at F3.");
    }
    let support = if limits.fall_risk && level >= 1 {
        SupportLevel::TwoHands
    } else {
        match level {
            0 => SupportLevel::Chair,
            1 | 5 => SupportLevel::TwoHands,
            2 => SupportLevel::OneHand,
            8 => SupportLevel::None,
            _ => SupportLevel::Fingertip,
        }
    };
    StartLevel {
        level,
        code: level_code(level).to_owned(),
        support,
        reason,
    }
}

fn retest(req: &ProgrammeRequest, start: &StartLevel, weeks: u8) -> Retest {
    let every = 4;
    let tests = if start.level >= 3 || req.goals.contains(&Goal::RunnerEndurance) {
        vec!["single-leg-heel-raise-test".to_owned()]
    } else {
        vec![
            "30-second chair stand".to_owned(),
            "4-stage balance test".to_owned(),
        ]
    };
    Retest {
        tests,
        weeks: (1..=weeks).filter(|w| w % every == 0).collect(),
        note: "Retest every 4-6 weeks with the same protocol. A heel-raise change of fewer than 6 reps is within measurement noise.",
    }
}

#[cfg(test)]
mod tests;
