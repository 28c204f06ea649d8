//! Screening (domain brief §7.2, §7.4, §9.0): each rule is a small named check that cites its id
//! and either refers, adapts the programme through [`Limits`], or informs.

use super::input::{ProgrammeRequest, Screening, TendinopathyType};
use super::model::{Finding, Safety, SafetyStatus, Severity};
use crate::domain::catalogue::Goal;

pub const DISCLAIMER: &str = "General exercise guidance, not medical advice or a diagnosis. \
New calf swelling, warmth or redness: stop and get a medical assessment the same day (call \
emergency services if you are also breathless or have chest pain). Chest pain, dizziness or \
severe breathlessness: stop and contact a doctor. A sudden sharp calf or Achilles pain: stop and \
see a clinician.";

/// What the screening allows; the prescription obeys these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Highest ladder level the programme may start at.
    pub max_start_level: u8,
    /// No external load (SCR-04, unanswered screening, undiagnosed pain).
    pub bodyweight_only: bool,
    pub rpe_cap: u8,
    /// Longest isometric hold, seconds (SCR-04).
    pub max_hold_seconds: u16,
    /// No heel drops below a step edge (SCR-07 insertional, SCR-13).
    pub no_step_edge: bool,
    /// Single-leg work keeps a hand on support (SCR-13).
    pub single_leg_supported: bool,
    pub no_plyometrics: bool,
    /// Runner tendon track: heavy slow resistance and isometrics (SCR-07).
    pub tendon_track: bool,
    /// Pre-stand calf-pump routine and a seated start (SCR-12).
    pub orthostatic: bool,
    /// Fall-risk track: F0–F2 start, two-hand support, balance work (SCR-11).
    pub fall_risk: bool,
    /// Balance bundle whatever the goal (65 and over, §9.0).
    pub balance_bundle: bool,
    /// 65 and over: load steps of 2–5% (§9.0).
    pub older: bool,
    /// At least two weeks between support or level changes (§9.2: 80 and over, fall risk).
    pub slow_levels: bool,
    /// Pregnant: no lying on the back for exercise, moderate effort (ACOG).
    pub pregnant: bool,
    /// Insertional tendinopathy: no end-range dorsiflexion (no stretch below level, no plate
    /// under the forefoot) (SCR-07).
    pub no_end_range: bool,
    /// Heel-raise test sides differ by more than 10%: the weaker leg gets an extra set.
    pub weaker_side: Option<super::model::LegSide>,
    /// Walking is dosed to claudication pain (SCR-08).
    pub claudication: bool,
    /// Body mass of 120 kg or more: no added load on standing work (ENG-05).
    pub heavy_body: bool,
}

use crate::domain::norms::ASYMMETRY_FLAG;

/// Runs every rule. Returns the safety section and the limits for the prescription.
pub fn screen(req: &ProgrammeRequest) -> (Safety, Limits, Vec<String>) {
    let s = req.screening.clone().unwrap_or_default();
    let mut out = Outcome {
        findings: Vec::new(),
        recommendations: Vec::new(),
        limits: Limits {
            max_start_level: 8,
            bodyweight_only: false,
            rpe_cap: 9,
            max_hold_seconds: 45,
            no_step_edge: false,
            single_leg_supported: false,
            no_plyometrics: false,
            tendon_track: false,
            orthostatic: false,
            fall_risk: false,
            balance_bundle: false,
            older: req.age >= 65,
            slow_levels: false,
            pregnant: false,
            no_end_range: false,
            weaker_side: None,
            claudication: false,
            heavy_body: false,
        },
    };
    red_flags(&s, req, &mut out);
    adaptations(&s, req, &mut out);
    let status = out
        .findings
        .iter()
        .map(|f| match f.severity {
            Severity::Refer => SafetyStatus::Refer,
            Severity::Adapt => SafetyStatus::Adapted,
            Severity::Info => SafetyStatus::Cleared,
        })
        .max()
        .unwrap_or(SafetyStatus::Cleared);
    if status == SafetyStatus::Refer {
        // No programme follows a referral, so nothing may describe one: keep the referrals and
        // the plain information, drop the programme changes.
        out.findings.retain(|f| f.severity != Severity::Adapt);
        let mut referrals: Vec<String> = Vec::new();
        for f in &out.findings {
            if let Some(text) = referral(&f.rule).filter(|_| f.severity == Severity::Refer)
                && !referrals.iter().any(|r| r == text)
            {
                referrals.push(text.to_owned());
            }
        }
        referrals.push("Bring this summary with you.".to_owned());
        out.recommendations = referrals;
    }
    (
        Safety {
            status,
            findings: out.findings,
            disclaimer: DISCLAIMER,
        },
        out.limits,
        out.recommendations,
    )
}

/// Where each referral rule sends the person, in its own words (domain brief §7.2).
pub fn referral(rule: &str) -> Option<&'static str> {
    Some(match rule {
        "SCR-01" => {
            "Today: get a same-day medical assessment (an urgent appointment with your doctor, an urgent care centre or an emergency department). If you also have chest pain or sudden breathlessness, call emergency services now."
        }
        "SCR-02" => {
            "See a doctor before you start any exercise programme: chest pain, fainting or losing balance from dizziness needs a medical assessment first. If chest pain is happening now, call emergency services."
        }
        "SCR-03" => {
            "See your doctor about your blood pressure before resistance training, and bring your readings."
        }
        "SCR-05" => {
            "Keep following the rupture or surgery rehabilitation led by your surgeon or physiotherapist; this programme is for after they discharge you."
        }
        "SCR-06" => {
            "Have the calf or Achilles assessed by a physiotherapist or sports doctor before loading it."
        }
        "SCR-09" => {
            "See your doctor or a podiatrist soon about foot pain at rest or a wound that is not healing."
        }
        "SCR-10" => {
            "Talk to your maternity (obstetric) team: with this pregnancy complication, exercise should be guided by them."
        }
        "PARQ-7" => "Follow your doctor's advice and exercise under medical supervision.",
        _ => return None,
    })
}

struct Outcome {
    findings: Vec<Finding>,
    recommendations: Vec<String>,
    limits: Limits,
}

impl Outcome {
    fn add(&mut self, rule: &str, severity: Severity, message: &str) {
        self.findings.push(Finding {
            rule: rule.to_owned(),
            severity,
            message: message.to_owned(),
        });
    }
}

fn yes(answer: Option<bool>) -> bool {
    answer == Some(true)
}

/// Rules that stop the programme: referral, no exercise.
fn red_flags(s: &Screening, req: &ProgrammeRequest, out: &mut Outcome) {
    use Severity::Refer;
    if yes(s.calf_swelling_warmth_redness) {
        out.add("SCR-01", Refer, "A swollen, warm, red or painful calf, or a swollen leg, can be a sign of a blood clot and needs a medical assessment today. Do not exercise it until a doctor has seen it.");
    }
    if yes(s.calf_pain_after_immobilisation) && !yes(s.calf_swelling_warmth_redness) {
        out.add("SCR-01", Refer, "Calf pain that started after surgery, a cast or boot, bed rest or a long trip can be a sign of a blood clot and needs a medical assessment today.");
    }
    if yes(s.chest_pain) || yes(s.dizziness_or_fainting) {
        out.add("SCR-02", Refer, "Chest pain, fainting or losing balance from dizziness needs a doctor's assessment before you start exercising.");
    }
    let bp_high = s
        .resting_blood_pressure
        .is_some_and(|bp| bp.systolic >= 180 || bp.diastolic >= 110);
    if bp_high || yes(s.uncontrolled_blood_pressure) {
        out.add("SCR-03", Refer, "Blood pressure of 180/110 or higher, or uncontrolled blood pressure, needs a doctor's clearance before resistance training.");
    }
    if s.achilles_rupture_months_ago.is_some_and(|m| m < 12) {
        out.add(
            "SCR-05",
            Refer,
            "An Achilles rupture or surgery in the last 12 months needs clinician-led rehabilitation.",
        );
    } else if s.achilles_rupture_months_ago.is_some() && s.achilles_rehab_discharged == Some(false) {
        out.add(
            "SCR-05",
            Refer,
            "You have not yet been discharged from rehabilitation after an Achilles rupture or surgery: that rehabilitation comes first.",
        );
    }
    if yes(s.acute_calf_strain) {
        out.add("SCR-06", Refer, "A sudden sharp calf pain or 'pop' in the last 6 weeks, or pain on walking, needs a clinician's assessment first.");
    }
    if req.achilles_pain.is_some_and(|p| p > 5) {
        out.add(
            "SCR-06",
            Refer,
            "Achilles or calf pain above 5/10 needs a clinician's assessment before any calf loading.",
        );
    }
    if yes(s.rest_pain_or_foot_ulcer) {
        out.add(
            "SCR-09",
            Refer,
            "Foot pain at rest or a foot wound or ulcer that is not healing needs a clinician first.",
        );
    }
    if yes(s.pregnant) && yes(s.pregnancy_contraindication) {
        out.add("SCR-10", Refer, "A pregnancy complication that rules out exercise (ACOG) means exercise should be guided by your obstetric team.");
    }
    if yes(s.supervised_activity_only) {
        out.add(
            "PARQ-7",
            Refer,
            "A doctor has advised medically supervised activity only: please follow that advice.",
        );
    }
}

/// Rules that change the programme or add advice.
fn adaptations(s: &Screening, req: &ProgrammeRequest, out: &mut Outcome) {
    use Severity::{Adapt, Info};
    let unanswered = [
        s.calf_swelling_warmth_redness,
        s.chest_pain,
        s.dizziness_or_fainting,
        s.acute_calf_strain,
    ]
    .iter()
    .any(Option::is_none);
    if unanswered {
        out.add("ENG-01", Adapt, "Some safety questions were not answered, so the programme stays at bodyweight and moderate effort. Answer them to unlock loaded work.");
        out.limits.bodyweight_only = true;
        out.limits.rpe_cap = out.limits.rpe_cap.min(6);
        out.limits.no_plyometrics = true;
        out.limits.max_start_level = out.limits.max_start_level.min(6);
    }
    let bp_moderate = s
        .resting_blood_pressure
        .is_some_and(|bp| (160..180).contains(&bp.systolic) || (100..110).contains(&bp.diastolic));
    if bp_moderate {
        out.add("SCR-04", Adapt, "Blood pressure of 160-179/100-109: bodyweight only at moderate effort, breathe throughout, and holds of 15 seconds at most. Heavier loading needs your doctor's clearance.");
        out.limits.bodyweight_only = true;
        out.limits.rpe_cap = out.limits.rpe_cap.min(5);
        out.limits.max_hold_seconds = 15;
        out.limits.max_start_level = out.limits.max_start_level.min(6);
    }
    for (rule, answer, item) in [
        (
            "PARQ-1",
            s.heart_condition,
            "a heart condition or high blood pressure",
        ),
        ("PARQ-4", s.chronic_condition, "a chronic medical condition"),
        (
            "PARQ-5",
            s.chronic_medication,
            "medication for a chronic condition",
        ),
        (
            "PARQ-6",
            s.bone_joint_problem,
            "a bone, joint or soft-tissue problem",
        ),
    ] {
        if yes(answer) {
            out.add(rule, Info, &format!("You reported {item}: check with your doctor or a qualified exercise professional that this programme suits you (PAR-Q+)."));
        }
    }
    if let Some(kind) = req.achilles_tendinopathy {
        out.add("SCR-07", Adapt, "Diagnosed Achilles tendinopathy: the calf work follows a tendon-loading protocol only (heavy slow resistance, or Alfredson eccentrics when there is no weight to lift), with isometric holds for pain relief and the pain-monitoring rule (pain up to 5/10, settled by next morning). No other calf volume is added.");
        out.limits.tendon_track = true;
        out.limits.no_plyometrics = true;
        if kind == TendinopathyType::Insertional {
            out.add(
                "SCR-07",
                Adapt,
                "Insertional tendinopathy: no heel drops below the level of a step or the floor, no stretching into the end of the range, and any seated raise is done with the feet flat on the floor (no plate under the forefoot).",
            );
            out.limits.no_step_edge = true;
            out.limits.no_end_range = true;
        }
    } else if req.achilles_pain.is_some_and(|p| (1..=5).contains(&p)) {
        out.add("SCR-07", Adapt, "You reported Achilles or calf pain without a diagnosis: the programme stays at bodyweight with the pain-monitoring rule. Have it assessed if it persists.");
        out.limits.bodyweight_only = true;
        out.limits.no_plyometrics = true;
        out.limits.max_start_level = out.limits.max_start_level.min(6);
    }
    if s.achilles_rupture_months_ago.is_some_and(|m| m >= 12) && s.achilles_rehab_discharged.is_none() {
        out.add("SCR-05", Adapt, "An Achilles rupture or surgery more than 12 months ago: if your clinician has not yet discharged you from rehabilitation, follow their programme instead. Until you answer that question, the programme stays at bodyweight with no hopping.");
        out.limits.bodyweight_only = true;
        out.limits.no_plyometrics = true;
        out.limits.max_start_level = out.limits.max_start_level.min(6);
    }
    if s.achilles_rupture_months_ago.is_some_and(|m| m >= 12) && s.achilles_rehab_discharged == Some(true) {
        out.add("SCR-05", Info, "An Achilles rupture or surgery more than 12 months ago, discharged from rehabilitation: this programme may follow. Tendon remodelling takes 12-18 months, so build up steadily and compare the legs at each retest.");
    }
    if let Some(test) = req.baseline_heel_raise
        && test.asymmetry() > ASYMMETRY_FLAG
        && let Some(side) = test.weaker_side()
    {
        let name = match side {
            super::model::LegSide::Left => "left",
            super::model::LegSide::Right => "right",
        };
        out.add("ENG-04", Adapt, &format!("Your heel-raise test differs between legs by {:.0}% ({} vs {} reps), more than the 10% that return-to-run criteria accept (§8.1, §5.1): the {name} leg gets one extra set of each single-leg exercise until the sides are within 10%. If the difference persists, have it assessed by a physiotherapist.", test.asymmetry() * 100.0, test.left, test.right));
        out.limits.weaker_side = Some(side);
    }
    if req
        .body_mass_kg
        .is_some_and(|m| m >= super::prescribe::HEAVY_BODY_MASS_KG)
    {
        out.add("ENG-05", Info, "At your body weight, standing calf raises are already heavily loaded: no extra weight is added to standing work, which progresses through reps and sets first (support and single-leg work come later); any added load is seated, on the knees. Keep a support within reach.");
        out.limits.heavy_body = true;
    }
    if yes(s.claudication) {
        out.add("SCR-08", Info, "Calf pain on walking that eases with rest: ask your doctor about supervised exercise therapy (walking to moderate or strong calf pain, 30-45 minutes at least 3 times a week for 12 weeks); the walking in this programme is dosed that way and calf raises are a useful addition.");
        out.limits.claudication = true;
        out.recommendations.push(
            "Ask your doctor about a supervised exercise therapy programme for walking-related calf pain."
                .into(),
        );
    }
    if yes(s.pregnant) {
        out.limits.pregnant = true;
        out.limits.rpe_cap = out.limits.rpe_cap.min(7);
        out.recommendations.push("Pregnancy (ACOG): stop exercising and contact your maternity team for vaginal bleeding, fluid leaking, regular painful contractions, reduced baby movements, breathlessness before exertion, dizziness, headache, chest pain, muscle weakness, or calf pain or swelling.".into());
        if s.pregnancy_contraindication == Some(false) {
            out.add("SCR-10", Info, "Exercise in an uncomplicated pregnancy is encouraged: moderate effort, nothing lying on your back. Stop and contact your maternity team for bleeding, dizziness, headache, chest pain, calf pain or swelling, contractions or fluid leakage.");
        } else if s.pregnancy_contraindication.is_none() {
            out.add("SCR-10", Adapt, "Please answer the pregnancy complication question (for example bleeding, placenta praevia, pre-eclampsia, preterm labour, or heart or lung disease). Until then the programme stays at bodyweight and moderate effort, and you should check with your maternity team before starting.");
            out.limits.bodyweight_only = true;
            out.limits.rpe_cap = out.limits.rpe_cap.min(6);
            out.limits.no_plyometrics = true;
            // Both legs before single leg while it is unknown (the most conservative track).
            out.limits.max_start_level = out.limits.max_start_level.min(4);
        }
    }
    if yes(s.recent_immobilisation) || yes(s.prior_blood_clot) {
        out.add("SCR-01", Info, "Recent immobilisation or a past blood clot raises clot risk: stop and seek same-day care if a calf becomes swollen, warm, red or painful.");
    }
    let fall = req.fall_risk.unwrap_or_default();
    let steadi = yes(fall.fallen_past_year) || yes(fall.feels_unsteady) || yes(fall.worries_about_falling);
    let aid = yes(fall.uses_walking_aid);
    if steadi || aid || req.age >= 80 {
        out.limits.slow_levels = true;
        out.add("SCR-11", Adapt, "Fall risk (a fall in the past year, feeling unsteady, worry about falling, a walking aid, or age 80+): the programme starts seated or with two hands on a counter and includes balance work. An instructor-led strength and balance programme such as Otago is recommended.");
        out.limits.fall_risk = true;
        out.limits.balance_bundle = true;
        out.limits.max_start_level = out.limits.max_start_level.min(2);
        out.recommendations.push(
            "Where you can, join an instructor-led strength and balance programme (for example Otago)."
                .into(),
        );
    } else if req.fall_risk.is_none() && (req.age >= 65 || req.goals.contains(&Goal::FallPrevention)) {
        out.add("ENG-02", Adapt, "The fall-risk questions (a fall in the past year, feeling unsteady, worry about falling, a walking aid) were not answered: the programme starts with support as if you were at risk. Answer them for a better fit.");
        out.limits.slow_levels = true;
        out.limits.fall_risk = true;
        out.limits.balance_bundle = true;
        out.limits.max_start_level = out.limits.max_start_level.min(2);
    }
    if req.age >= 65 && !out.limits.balance_bundle {
        out.add("ENG-03", Adapt, "At 65 and over, balance work is part of every programme (WHO: balance and strength on 3 or more days a week).");
        out.limits.balance_bundle = true;
    }
    if req.goals.contains(&Goal::FallPrevention) {
        out.limits.balance_bundle = true;
    }
    if yes(s.dizziness_on_standing) {
        out.add("SCR-12", Adapt, "Dizziness on standing: each session starts seated with the pre-stand calf-pump routine, and you do it again whenever you get up after sitting or lying. If you ever faint, stop and see a doctor (SCR-02).");
        out.limits.orthostatic = true;
    }
    if yes(s.foot_numbness) {
        out.add("SCR-13", Adapt, "Reduced feeling in the feet: no step-edge work, no hopping, and single-leg exercises keep a hand on support. Check your feet for marks after training.");
        out.limits.no_step_edge = true;
        out.limits.single_leg_supported = true;
        out.limits.no_plyometrics = true;
    }
    if req.age >= 80 {
        out.limits.slow_levels = true;
        out.recommendations
            .push("At 80 and over, a supervised start is recommended; build the habit slowly.".into());
    }
}
