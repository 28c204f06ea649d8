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
pub mod print;
pub mod screening;

use crate::domain::catalogue::{Catalogue, Goal, SupportLevel};
use input::{ActivityLevel, ProgrammeRequest};
use model::{Programme, Retest, RetestItem, Rule, SafetyStatus, StartLevel};
use screening::Limits;

/// Bumped whenever a rule or table changes, so stored programmes say which rules made them.
pub const GENERATOR_VERSION: &str = "soleus-engine/2.0.0";

/// Default programme length in weeks.
pub const DEFAULT_WEEKS: u8 = 12;

/// Rules that apply while training (domain brief §7.3, §9, §9.4).
pub const RULES: [Rule; 15] = [
    Rule {
        id: "2-FOR-2",
        rule: "Progress an exercise after 2 consecutive passed sessions at 1-2 reps above target (ACSM 2009, applied twice for safety).",
    },
    Rule {
        id: "ONE-CHANGE",
        rule: "At most one progression change per exercise per 7 days: reps, then sets, then less support, then load, then the next exercise on its ladder (the catalogue's progressions: both legs, single leg, step or load; F0-F7 on the fall track). A progression always changes the prescription; at the top of a ladder the dose holds.",
    },
    Rule {
        id: "LOAD-STEP",
        rule: "Load steps of 2-10% of the load moved (at most 5% at 65 and over), as ACSM recommends: body weight plus added load when standing, the weight on the knees alone when seated. Standing added load is 1-3 kg in 1 kg steps at 65 and over (§9.2), at most 10-20% of body weight otherwise, and none above 120 kg body mass [ENG].",
    },
    Rule {
        id: "VOLUME",
        rule: "Weekly calf volume (seconds under load per leg) rises by at most 20% over the last full week (§9.4); after a deload that is the week before it. A set is added with fewer reps, which then climb again.",
    },
    Rule {
        id: "SESSION-CAP",
        rule: "A session lasts at most 35 minutes including rests (45 for heavy slow resistance, whose rests are 2-3 minutes) [ENG, after Otago's 30-minute sessions]; when goals combine, one exercise serves each purpose and the least essential go first.",
    },
    Rule {
        id: "LEVEL-PACE",
        rule: "At 80 and over, or with fall risk, support and level change at most every 2 weeks, and only without balance losses (§9.2).",
    },
    Rule {
        id: "DELOAD",
        rule: "Every 4th week (6th on the fall track) is lighter: about 60-70% of the sets (one set fewer on the fall track), same intensity. The tendon protocols have none (R3).",
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
        rule: "Loss of balance needing a grab or a step: return to the previous support level; from two hands, seated work (F0) and a falls review. A new fall: the same, and re-screen (SCR-11).",
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

/// Women's heel-raise counts run about 3 reps below men's (Hébert-Losier 2017 medians 21 vs 24);
/// the L6/L7 bands are read that much lower for women [ENG, §8.5 "adjust for sex"]. The L8
/// return-to-run standard (30 reps, §5.1) is the same for everyone.
pub const FEMALE_HEEL_RAISE_ADJUSTMENT: u16 = 3;

/// The ladder level a single-leg heel-raise test (straight knee) implies (domain brief §8.5),
/// adjusted for sex when it is known.
pub fn heel_raise_level(test: input::HeelRaiseTest, sex: Option<input::Sex>) -> u8 {
    let weaker = test.weaker();
    let adjusted = if sex == Some(input::Sex::Female) && (15..30).contains(&weaker) {
        (weaker + FEMALE_HEEL_RAISE_ADJUSTMENT).min(29)
    } else {
        weaker
    };
    match adjusted {
        0 => 1,
        1..=2 => 2,
        3..=4 => 3,
        5..=14 => 5,
        15..=24 => 6,
        _ if weaker >= 30 && test.asymmetry() <= crate::domain::norms::ASYMMETRY_FLAG => 8,
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
            let level = heel_raise_level(test, req.sex);
            let sex_note = if req.sex == Some(input::Sex::Female) && (15..30).contains(&weaker) {
                " Read against women's norms (about 3 reps below men's, Hébert-Losier 2017)."
            } else {
                ""
            };
            (
                level,
                format!("Single-leg heel-raise test: {weaker} reps on the weaker side (§8.5).{sex_note}"),
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
    let mut tests = Vec::new();
    if start.level >= 3 || req.goals.contains(&Goal::RunnerEndurance) {
        tests.push(RetestItem {
            test: "single-leg-heel-raise-test",
            note: "Same protocol each time (10-degree incline or floor, straight knee, 60 beats a minute). A change of fewer than 6 reps is within measurement noise (§8.1); sides more than 10% apart are flagged.",
        });
    }
    if req.age >= 65 {
        tests.push(RetestItem {
            test: "calf-raise-senior",
            note: "Calf-Raise Senior (both legs, 30 seconds, §8.3): no population norms, so compare with your own earlier results; a change of 6 or more is real (from its 2-rep standard error).",
        });
    }
    if start.level < 3 || req.goals.contains(&Goal::FallPrevention) {
        tests.push(RetestItem {
            test: "30-second chair stand",
            note: "Same chair (about 43 cm), arms crossed. Compare with your own earlier results and the STEADI cut-offs for your age (§4.3).",
        });
        tests.push(RetestItem {
            test: "4-stage balance test",
            note: "Feet together, semi-tandem, tandem, one leg, 10 seconds each; not holding tandem for 10 seconds means a higher fall risk (§4.3).",
        });
    }
    Retest {
        tests,
        weeks: (1..=weeks).filter(|w| w % every == 0).collect(),
    }
}

#[cfg(test)]
mod tests;
