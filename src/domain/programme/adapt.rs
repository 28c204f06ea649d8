//! Adaptation: replays a programme against what was logged and decides, per exercise and week,
//! whether to progress, hold, regress or deload, citing the rule that decided it (domain brief
//! §7.3 and the §9.4 pseudo-spec). A stop signal suspends the programme with a referral.
//!
//! Pure like the generator: the logs, the retests and the week to read up to are inputs. The
//! whole history is replayed from week 1 every time, so the same logs always give the same next
//! version, and a session corrected or deleted later changes the replay the way it should.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::input::ProgrammeRequest;
use super::model::{Finding, LoadKind, Prescription, Programme, SafetyStatus, Severity, Side};
use super::prescribe::{ItemKind, Moved, Plan, Step};
use super::{generate, screening, start_level};
use crate::domain::catalogue::Catalogue;
use crate::domain::sessions::{SessionSet, SetSide, Symptom};

/// Pain during a session above this (0–10) is "too much" (REG-01, Silbernagel 2007).
pub const PAIN_LIMIT: u8 = 5;
/// Next-morning pain at or above this has not settled (above the 0–2 "safe" zone).
pub const MORNING_UNSETTLED: u8 = 3;
use crate::domain::norms::{ASYMMETRY_FLAG, MDC_HEEL_RAISE_REPS};
/// A hold passes 2-for-2 when held this many seconds past the target [ENG: about the 1-2 extra
/// reps the rule asks of rep work].
pub const HOLD_MARGIN_SECONDS: u16 = 5;

/// One logged session as the rules read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"week": 1, "rpe": 6, "pain_during": 1, "pain_next_morning": 0,
    "sets": [{"exercise_id": "single-leg-bent-knee-heel-raise", "set_number": 1, "side": "left", "reps": 16, "completed": true}]}))]
pub struct LoggedSession {
    /// The programme week it belongs to (1-based).
    #[validate(range(min = 1, max = 16))]
    #[schema(minimum = 1, maximum = 16)]
    pub week: u8,
    /// Session effort, 0–10.
    #[validate(range(max = 10))]
    #[schema(maximum = 10)]
    pub rpe: Option<u8>,
    /// Calf or Achilles pain during the session, 0–10.
    #[validate(range(max = 10))]
    #[schema(maximum = 10)]
    pub pain_during: Option<u8>,
    /// Pain the next morning, 0–10.
    #[validate(range(max = 10))]
    #[schema(maximum = 10)]
    pub pain_next_morning: Option<u8>,
    #[validate(length(max = 8))]
    #[schema(max_items = 8)]
    #[serde(default)]
    pub symptoms: Vec<Symptom>,
    #[validate(length(max = 200), nested)]
    #[schema(max_items = 200)]
    #[serde(default)]
    pub sets: Vec<SessionSet>,
}

/// A single-leg heel-raise retest (straight knee, same protocol as the baseline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeelRaiseRetest {
    /// The programme week it was done in.
    #[validate(range(min = 1, max = 16))]
    #[schema(minimum = 1, maximum = 16)]
    pub week: u8,
    #[validate(range(max = 200))]
    #[schema(maximum = 200)]
    pub left: u16,
    #[validate(range(max = 200))]
    #[schema(maximum = 200)]
    pub right: u16,
}

/// How far the logs reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Through {
    /// The last programme week to read.
    pub week: u8,
    /// Whether that week is over (a week in progress is read only if something was logged,
    /// and is never counted as missed).
    pub complete: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// One step up next week.
    Progress,
    /// The same dose next week.
    Hold,
    /// One step down next week.
    Regress,
    /// Next week is a planned lighter week.
    Deload,
    /// Stop: the programme is suspended.
    Stop,
}

/// The verdict on one exercise at the end of a week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"exercise_id": "single-leg-bent-knee-heel-raise", "decision": "regress", "rule": "REG-01",
    "reason": "Pain reached 7/10 during a session (above 5/10): one step back and no progression for a week."}))]
pub struct ExerciseDecision {
    pub exercise_id: String,
    pub decision: Decision,
    /// The rule that decided (2-FOR-2, DELOAD, RETEST, REG-*, STP-*; see the programme's `rules`).
    pub rule: &'static str,
    /// Why, in plain language.
    pub reason: String,
}

/// The decisions taken at the end of one week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WeekReview {
    pub week: u8,
    pub sessions_logged: u32,
    pub decisions: Vec<ExerciseDecision>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProgrammeStatus {
    Active,
    /// A stop signal was logged: no further sessions until a clinician has been seen.
    Suspended,
}

impl ProgrammeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }
}

/// The decisions of a replay (stored with each programme version).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Record {
    /// The last week whose logs were read (0 = none yet).
    pub evaluated_through_week: u8,
    /// One review per week read, oldest first.
    pub reviews: Vec<WeekReview>,
    /// Set when the programme is suspended: what to do now.
    pub referral: Option<String>,
    pub recommendations: Vec<String>,
}

/// The outcome of a replay: the decisions and the programme they lead to.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Adaptation {
    pub status: ProgrammeStatus,
    #[serde(flatten)]
    pub record: Record,
    /// The programme as it now stands: past weeks as they were prescribed, later weeks planned
    /// from the adapted doses. Suspended programmes end with the week of the stop signal.
    pub programme: Programme,
}

fn stop_rule(symptom: Symptom) -> Option<(&'static str, &'static str)> {
    match symptom {
        Symptom::CalfSwellingWarmthRedness => Some((
            "STP-01",
            "New calf swelling, warmth or redness was reported. Stop the programme and get urgent medical assessment today: these can be signs of a blood clot (SCR-01).",
        )),
        Symptom::ChestPain | Symptom::Dizziness | Symptom::SevereBreathlessness => Some((
            "STP-02",
            "Chest pain, dizziness or severe breathlessness was reported. Stop the programme and contact a doctor before exercising again.",
        )),
        Symptom::SuddenSharpPain => Some((
            "STP-03",
            "A sudden sharp calf or Achilles pain (or a 'pop') was reported. Stop the programme and see a clinician before loading the calf again.",
        )),
        Symptom::BalanceLoss | Symptom::HeelHeightLost | Symptom::Illness | Symptom::Fall => None,
    }
}

/// Replays `req`'s programme against the logs up to `through` and returns the next version.
pub fn adapt(
    req: &ProgrammeRequest,
    catalogue: &Catalogue,
    sessions: &[LoggedSession],
    retests: &[HeelRaiseRetest],
    through: Through,
) -> Adaptation {
    let mut programme = generate(req, catalogue);
    let mut adaptation = Adaptation {
        status: ProgrammeStatus::Active,
        record: Record {
            evaluated_through_week: 0,
            reviews: Vec::new(),
            referral: None,
            recommendations: Vec::new(),
        },
        programme: programme.clone(),
    };
    if programme.safety.status == SafetyStatus::Refer {
        return adaptation;
    }
    let (_, limits, _) = screening::screen(req);
    let start = start_level(req, &limits);
    let plan = Plan::new(req, &limits, &start, catalogue);
    let mut rules = Rules::new(req, plan.kinds(), through);
    let (weeks, moves) =
        plan.weeks_gated(|week, prescribed| rules.gate(&plan, week, prescribed, sessions, retests));
    programme.weeks = weeks;
    // A progression must change the prescription, and its reason says what changed.
    for review in &mut rules.reviews {
        let Some(moved) = moves.get(usize::from(review.week).saturating_sub(1)) else {
            continue;
        };
        for (decision, moved) in review.decisions.iter_mut().zip(moved) {
            if decision.decision != Decision::Progress {
                continue;
            }
            match moved {
                Moved::Changed(what) => decision.reason = format!("{}: {what}.", decision.reason),
                Moved::Unchanged(why) => {
                    decision.decision = Decision::Hold;
                    decision.reason = format!("{}, but this exercise is {why}.", decision.reason);
                }
                Moved::NotAsked => {}
            }
        }
    }
    adaptation.record.evaluated_through_week = rules.reviews.last().map_or(0, |r| r.week);
    adaptation.record.reviews = rules.reviews;
    adaptation.record.recommendations = rules.recommendations;
    if let Some((rule, message)) = rules.stopped {
        adaptation.status = ProgrammeStatus::Suspended;
        adaptation.record.referral = Some(message.to_owned());
        programme.safety.status = SafetyStatus::Refer;
        programme.safety.findings.push(Finding {
            rule: rule.to_owned(),
            severity: Severity::Refer,
            message: message.to_owned(),
        });
    }
    adaptation.programme = programme;
    adaptation
}

/// The rule state carried from week to week.
struct Rules<'r> {
    req: &'r ProgrammeRequest,
    kinds: Vec<ItemKind>,
    through: Through,
    /// Consecutive passed sessions per exercise since its last change.
    streak: Vec<u8>,
    /// No progression up to and including this week's end (REG-01's week of hold).
    frozen_through: Vec<u8>,
    missed_run: u8,
    balance_loss_weeks: u8,
    last_week_pain: Option<u8>,
    reviews: Vec<WeekReview>,
    recommendations: Vec<String>,
    stopped: Option<(&'static str, &'static str)>,
}

impl<'r> Rules<'r> {
    fn new(req: &'r ProgrammeRequest, kinds: Vec<ItemKind>, through: Through) -> Self {
        let n = kinds.len();
        Self {
            req,
            kinds,
            through,
            streak: vec![0; n],
            frozen_through: vec![0; n],
            missed_run: 0,
            balance_loss_weeks: 0,
            last_week_pain: None,
            reviews: Vec::new(),
            recommendations: Vec::new(),
            stopped: None,
        }
    }

    /// The steps out of `week`: read from the logs for weeks already lived, planned after.
    fn gate(
        &mut self,
        plan: &Plan<'_>,
        week: u8,
        prescribed: &[Prescription],
        sessions: &[LoggedSession],
        retests: &[HeelRaiseRetest],
    ) -> Option<Vec<Step>> {
        let logs: Vec<&LoggedSession> = sessions.iter().filter(|s| s.week == week).collect();
        let lived = week < self.through.week
            || (week == self.through.week && (self.through.complete || !logs.is_empty()));
        if !lived {
            return Some(
                (0..self.kinds.len())
                    .map(|i| {
                        if self.frozen_through.get(i).is_some_and(|f| week <= *f) {
                            Step::Hold
                        } else {
                            Step::Advance
                        }
                    })
                    .collect(),
            );
        }
        let next_deload = plan.is_deload(week + 1);
        let verdicts = self.review(week, prescribed, &logs, retests);
        let mut steps = Vec::with_capacity(verdicts.len());
        let mut decisions = Vec::with_capacity(verdicts.len());
        for (p, (step, decision, rule, reason)) in prescribed.iter().zip(verdicts) {
            let (decision, rule, reason) = match decision {
                Decision::Progress | Decision::Hold if next_deload && rule == "2-FOR-2" => (
                    Decision::Deload,
                    "DELOAD",
                    format!(
                        "Week {} is a planned lighter week: fewer sets, same intensity (§9.4). {reason}",
                        week + 1
                    ),
                ),
                _ => (decision, rule, reason),
            };
            steps.push(step);
            decisions.push(ExerciseDecision {
                exercise_id: p.exercise_id.to_string(),
                decision,
                rule,
                reason,
            });
        }
        self.reviews.push(WeekReview {
            week,
            sessions_logged: u32::try_from(logs.len()).unwrap_or(u32::MAX),
            decisions,
        });
        if self.stopped.is_some() {
            return None;
        }
        Some(steps)
    }

    /// One verdict per exercise for a lived week.
    fn review(
        &mut self,
        week: u8,
        prescribed: &[Prescription],
        logs: &[&LoggedSession],
        retests: &[HeelRaiseRetest],
    ) -> Vec<(Step, Decision, &'static str, String)> {
        let n = self.kinds.len();
        let all = |step: Step, decision: Decision, rule: &'static str, reason: &str| {
            (0..n)
                .map(|_| (step, decision, rule, reason.to_owned()))
                .collect::<Vec<_>>()
        };
        // STP-*: stop, whatever else happened.
        if let Some(stop) = logs
            .iter()
            .flat_map(|s| s.symptoms.iter())
            .filter_map(|s| stop_rule(*s))
            .min_by_key(|(rule, _)| *rule)
        {
            self.stopped = Some(stop);
            return all(Step::Hold, Decision::Stop, stop.0, stop.1);
        }
        // REG-04: two weeks without a session, or illness.
        if logs.is_empty() {
            if week < self.through.week || self.through.complete {
                self.missed_run = self.missed_run.saturating_add(1);
            }
            self.reset_streaks();
            if self.missed_run == 2 {
                return all(
                    Step::Back,
                    Decision::Regress,
                    "REG-04",
                    "Two weeks in a row without a logged session: restart one step lower for a week, then build up again.",
                );
            }
            return all(
                Step::Hold,
                Decision::Hold,
                "2-FOR-2",
                &format!("No session was logged in week {week}: the dose stays the same."),
            );
        }
        self.missed_run = 0;
        if logs.iter().any(|s| s.symptoms.contains(&Symptom::Illness)) {
            self.reset_streaks();
            return all(
                Step::Back,
                Decision::Regress,
                "REG-04",
                "Illness was reported: one step lower for a week (after illness, check with your instructor or clinician if unsure).",
            );
        }
        // HeelRaiseRetest: a real decline (at least the MDC) on the weaker side steps calf work back.
        let decline = self.retest_decline(week, retests);
        let pain = self.pain_rule(logs);
        let fell = logs.iter().any(|s| s.symptoms.contains(&Symptom::Fall));
        let balance_lost = fell || logs.iter().any(|s| s.symptoms.contains(&Symptom::BalanceLoss));
        if balance_lost {
            self.balance_loss_weeks = self.balance_loss_weeks.saturating_add(1);
            if self.balance_loss_weeks == 2 {
                self.recommendations.push(format!("Balance was lost in 2 weeks of the programme (latest week {week}): a falls review with your doctor or a physiotherapist is recommended. If it keeps happening, standing work steps down to seated work (F0) (REG-02)."));
            }
        }
        if fell {
            self.recommendations.push(format!("A fall was reported in week {week}: tell your doctor and ask for a falls review, and answer the fall-risk questions again (re-screen, SCR-11) before the programme moves on."));
        }
        let heel_lost = logs.iter().any(|s| s.symptoms.contains(&Symptom::HeelHeightLost));
        let mut out = Vec::with_capacity(n);
        for (i, (kind, p)) in self.kinds.iter().zip(prescribed).enumerate() {
            // This exercise's sets, per session that logged it, in order.
            let mine: Vec<(&LoggedSession, Vec<&SessionSet>)> = logs
                .iter()
                .map(|s| {
                    (
                        *s,
                        s.sets
                            .iter()
                            .filter(|x| *x.exercise_id == *p.exercise_id)
                            .collect::<Vec<_>>(),
                    )
                })
                .filter(|(_, sets)| !sets.is_empty())
                .collect();
            let current = self.streak.get(i).copied().unwrap_or(0);
            let frozen = self.frozen_through.get(i).is_some_and(|f| week <= *f);
            // Every rule but a plain 2-FOR-2 hold restarts the count of passed sessions.
            let mut next_streak = 0;
            let verdict = if let Some(reason) = pain.as_ref() {
                if let Some(f) = self.frozen_through.get_mut(i) {
                    *f = week + 1;
                }
                if kind.calf {
                    (
                        Step::Back,
                        Decision::Regress,
                        "REG-01",
                        format!("{reason} One step back and no progression for a week."),
                    )
                } else {
                    (
                        Step::Hold,
                        Decision::Hold,
                        "REG-01",
                        format!("{reason} No progression for a week."),
                    )
                }
            } else if let Some(reason) = decline.as_ref().filter(|_| kind.calf) {
                (Step::Back, Decision::Regress, "RETEST", reason.clone())
            } else if balance_lost && (kind.balance || kind.support_graded) && (!mine.is_empty() || fell) {
                if let Some(f) = self.frozen_through.get_mut(i) {
                    *f = week + 1;
                }
                if fell {
                    (
                        Step::MoreSupport,
                        Decision::Regress,
                        "SCR-11",
                        "A fall was reported: back to the previous support level (from two hands, seated work), no progression next week, and re-screen.".to_owned(),
                    )
                } else {
                    (
                        Step::MoreSupport,
                        Decision::Regress,
                        "REG-02",
                        "A loss of balance needing a grab or a step was reported: back to the previous support level (from two hands, seated work), and no progression next week.".to_owned(),
                    )
                }
            } else if let Some(done) = mine
                .iter()
                .map(|(_, sets)| completion(p, sets))
                .find(|c| *c < 0.75)
                .or_else(|| (heel_lost && kind.calf && !mine.is_empty()).then_some(1.0))
            {
                let what = if done < 0.75 {
                    format!(
                        "Only {:.0}% of the prescribed work was completed in a session (under 75%)",
                        done * 100.0
                    )
                } else {
                    "Heel height was lost on more than a third of the reps".to_owned()
                };
                if p.load.kind != LoadKind::Bodyweight {
                    (
                        Step::Back,
                        Decision::Regress,
                        "REG-03",
                        format!("{what}: one step back to a lighter load."),
                    )
                } else {
                    (
                        Step::Hold,
                        Decision::Hold,
                        "REG-03",
                        format!("{what}: repeat the week."),
                    )
                }
            } else if frozen {
                (
                    Step::Hold,
                    Decision::Hold,
                    "REG-01",
                    "Progression is held for a week after this exercise was stepped back.".to_owned(),
                )
            } else if mine.is_empty() {
                next_streak = current;
                (
                    Step::Hold,
                    Decision::Hold,
                    "2-FOR-2",
                    format!("Not logged in week {week}: the dose stays the same."),
                )
            } else {
                let run = mine.iter().fold(current, |run, (session, sets)| {
                    if passed(p, sets, session) {
                        run.saturating_add(1)
                    } else {
                        0
                    }
                });
                if run >= 2 {
                    (
                        Step::Advance,
                        Decision::Progress,
                        "2-FOR-2",
                        "Two sessions in a row passed at 1-2 reps above target (holds: 5 s past it) with the effort on target: one step up".to_owned(),
                    )
                } else {
                    next_streak = run;
                    (
                        Step::Hold,
                        Decision::Hold,
                        "2-FOR-2",
                        format!(
                            "{run} of the 2 consecutive passed sessions needed to progress. A session passes when every set goes 1-2 reps past the target (holds: 5 s past it) at the target effort: when a set feels easy, do 1-2 more."
                        ),
                    )
                }
            };
            if let Some(s) = self.streak.get_mut(i) {
                *s = next_streak;
            }
            out.push(verdict);
        }
        out
    }

    fn reset_streaks(&mut self) {
        self.streak.iter_mut().for_each(|s| *s = 0);
    }

    /// REG-01: the reason, if the pain-monitoring rule fired this week.
    fn pain_rule(&mut self, logs: &[&LoggedSession]) -> Option<String> {
        let during = logs.iter().filter_map(|s| s.pain_during).max();
        let morning = logs.iter().filter_map(|s| s.pain_next_morning).max();
        let last = self.last_week_pain;
        if during.is_some() {
            self.last_week_pain = during;
        }
        if let Some(p) = during.filter(|p| *p > PAIN_LIMIT) {
            return Some(format!(
                "Pain reached {p}/10 during a session (above {PAIN_LIMIT}/10, pain-monitoring model)."
            ));
        }
        if let Some(m) = morning.filter(|m| *m >= MORNING_UNSETTLED) {
            return Some(format!(
                "Pain was {m}/10 the next morning: it had not settled by the next morning."
            ));
        }
        if let (Some(now), Some(before)) = (during, last)
            && now >= MORNING_UNSETTLED
            && now >= before.saturating_add(2)
        {
            return Some(format!(
                "Pain during sessions rose from {before}/10 last week to {now}/10: worse than the previous week."
            ));
        }
        None
    }

    fn retest_decline(&mut self, week: u8, retests: &[HeelRaiseRetest]) -> Option<String> {
        let test = retests.iter().rfind(|r| r.week == week)?;
        let weaker = test.left.min(test.right);
        let as_test = super::input::HeelRaiseTest {
            left: test.left,
            right: test.right,
        };
        if as_test.asymmetry() > ASYMMETRY_FLAG {
            self.recommendations.push(format!(
                "Your heel-raise retest in week {week} differs between legs by {:.0}% (left {}, right {}), more than 10%: work the weaker leg with one extra set of each single-leg exercise, and have it assessed by a physiotherapist if the gap persists (§8.1).",
                as_test.asymmetry() * 100.0,
                test.left,
                test.right
            ));
        }
        let baseline = self.req.baseline_heel_raise?.weaker();
        if weaker.saturating_add(MDC_HEEL_RAISE_REPS) <= baseline {
            return Some(format!(
                "The heel-raise retest fell from {baseline} to {weaker} reps on the weaker side, a real decline (at least {MDC_HEEL_RAISE_REPS} reps): one step back for calf work."
            ));
        }
        if weaker >= baseline.saturating_add(MDC_HEEL_RAISE_REPS) {
            self.recommendations.push(format!(
                "Your heel-raise retest in week {week} rose from {baseline} to {weaker} reps on the weaker side, a real change (at least {MDC_HEEL_RAISE_REPS} reps). Create a new programme with the new result to move up a level (§8.5)."
            ));
        }
        None
    }
}

/// How many legs a prescription's sets count for.
fn legs(p: &Prescription) -> usize {
    if p.side == Side::EachLeg { 2 } else { 1 }
}

/// The work done as a fraction of the work prescribed (reps, or seconds for holds).
fn completion(p: &Prescription, sets: &[&SessionSet]) -> f64 {
    let per_set = |x: &SessionSet| match (p.reps, p.hold_seconds) {
        (Some(_), _) => f64::from(x.reps.unwrap_or(0)),
        (None, Some(_)) => f64::from(x.hold_seconds.unwrap_or(0)),
        (None, None) => 1.0,
    };
    let target_per_set = match (p.reps, p.hold_seconds) {
        (Some(r), _) => f64::from(r),
        (None, Some(h)) => f64::from(h),
        (None, None) => 1.0,
    };
    let target = target_per_set * f64::from(p.sets) * legs(p) as f64;
    if target <= 0.0 {
        return 1.0;
    }
    (sets.iter().map(|x| per_set(x)).sum::<f64>() / target).min(1.0)
}

/// A passed session for 2-for-2: every prescribed set done, at 1-2 reps above target (holds: the
/// full time), effort at or under target, pain within the limit.
fn passed(p: &Prescription, sets: &[&SessionSet], session: &LoggedSession) -> bool {
    let done: Vec<&&SessionSet> = sets.iter().filter(|x| x.completed).collect();
    let enough = |side: Option<SetSide>| {
        let count = done
            .iter()
            .filter(|x| side.is_none_or(|s| x.side == s || x.side == SetSide::Both))
            .count();
        count >= usize::from(p.sets)
    };
    let all_sets = if legs(p) == 2 {
        enough(Some(SetSide::Left)) && enough(Some(SetSide::Right))
    } else {
        enough(None)
    };
    let above = done.iter().all(|x| match (p.reps, p.hold_seconds) {
        (Some(r), _) => x.reps.is_some_and(|got| got > r),
        (None, Some(h)) => x.hold_seconds.is_some_and(|got| got >= h + HOLD_MARGIN_SECONDS),
        (None, None) => true,
    });
    let effort = |rpe: Option<u8>| match (rpe, p.rpe_target) {
        (Some(got), Some(target)) => got <= target,
        _ => true,
    };
    all_sets
        && above
        && done.iter().all(|x| effort(x.rpe))
        && effort(session.rpe)
        && session.pain_during.is_none_or(|x| x <= PAIN_LIMIT)
}

#[cfg(test)]
mod tests;
