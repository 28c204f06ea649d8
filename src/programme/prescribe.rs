//! Exercise selection (domain brief §9.1–§9.3) and weekly dosing with planned progression
//! (§9.4): one change per exercise per week, load steps within ACSM limits, deload weeks.

use std::sync::Arc;

use chrono::Days;

use super::DEFAULT_WEEKS;
use super::input::{ActivityLevel, ProgrammeRequest};
use super::model::{Habit, Load, LoadKind, Phase, PlannedSession, Prescription, Side, StartLevel, Week};
use super::screening::Limits;
use crate::catalogue::model::Dosage;
use crate::catalogue::{Catalogue, Category, Equipment, Exercise, Goal, Laterality, SupportLevel};

/// What an exercise is for in the session; decides how it progresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Dynamic calf work progressed by reps, sets, support, then load.
    Calf,
    /// Heavy slow resistance: RM-based load schedule (§5.2, §9.3 R2).
    Strength,
    Isometric,
    Balance,
    Functional,
    Mobility,
    Plyometric,
}

/// The state of one exercise in one week.
#[derive(Debug, Clone, PartialEq)]
struct Dose {
    sets: u8,
    reps: Option<u16>,
    hold: Option<u16>,
    support: usize,
    fraction: Option<f64>,
    rm: Option<u8>,
}

/// How an exercise moves from one week into the next (the adaptation engine's verdicts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// One planned step up (reps, then sets, then less support, then load).
    Advance,
    /// Same dose again.
    Hold,
    /// Back to the dose before the last step up (one load or level step down).
    Back,
    /// Back to the previous support level (REG-02).
    MoreSupport,
}

/// What the adaptation rules need to know about an exercise in the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemKind {
    pub exercise_id: String,
    /// Loaded calf work (pain rules regress it).
    pub calf: bool,
    /// Balance or functional work (balance-loss rule).
    pub balance: bool,
    /// Has a support ladder.
    pub support_graded: bool,
}

/// One exercise's place on its ladder while the weeks are rendered.
struct State {
    dose: Dose,
    /// Doses before each step up, most recent last: a step back restores the last one.
    earlier: Vec<Dose>,
    last_support_change: u8,
    /// Weeks held or stepped back: schedule-driven progressions (HSR) run this much later.
    lag: u8,
}

/// A dose one step easier than `dose` when there is no earlier one to return to.
fn easier(item: &Item<'_>, dose: &Dose) -> Dose {
    let mut next = dose.clone();
    if let Some(rm) = dose.rm {
        next.rm = Some(RM_LADDER.iter().rev().copied().find(|r| *r > rm).unwrap_or(rm));
    } else if let Some(f) = dose.fraction.filter(|f| *f > 0.0) {
        next.fraction = Some(round3((f - 0.05).max(0.0)));
    } else if dose.support > 0 {
        next.support -= 1;
    } else if let (Some(reps), Some(start)) = (dose.reps, item.start.reps) {
        next.reps = Some(reps.saturating_sub(2).max(start.saturating_sub(4)).max(1));
    } else if let (Some(hold), Some(start)) = (dose.hold, item.start.hold) {
        next.hold = Some(hold.saturating_sub(5).max(start.saturating_sub(10)).max(5));
    } else {
        next.sets = dose.sets.saturating_sub(1).max(1);
    }
    next
}

struct Item<'a> {
    exercise: &'a Exercise,
    /// Shared by every prescription of this exercise (cloning is a reference-count bump).
    id: Arc<str>,
    name: Arc<str>,
    why: Arc<str>,
    why_deload: Arc<str>,
    role: Role,
    start: Dose,
    sets_max: u8,
    reps_max: Option<u16>,
    hold_max: Option<u16>,
    /// Support levels this exercise may use, most support first.
    supports: Vec<SupportLevel>,
    /// Heaviest extra load as a fraction of body weight; `None` = no added load.
    max_fraction: Option<f64>,
    rest: u16,
    rpe: Option<u8>,
    /// Sessions a week this exercise belongs in (from its dosage; e.g. hops 1-2 a week).
    per_week: u8,
}

struct HabitPlan<'a> {
    exercise: &'a Exercise,
    kind: HabitKind,
    why: &'static str,
}

#[derive(Clone, Copy)]
enum HabitKind {
    /// Minutes a day, from `start`, `+step` a week, up to `max`.
    DailyMinutes { start: u16, step: u16, max: u16 },
    /// Minutes a week, +10% a week up to `max` (WHO 150–300).
    WeeklyMinutes { start: u16, max: u16 },
    /// A routine with a fixed target.
    Routine(&'static str),
}

pub struct Plan<'a> {
    req: &'a ProgrammeRequest,
    items: Vec<Item<'a>>,
    habits: Vec<HabitPlan<'a>>,
    sessions_per_week: u8,
    weeks: u8,
    deload_every: u8,
    step: f64,
    fall_risk: bool,
}

impl<'a> Plan<'a> {
    pub fn new(
        req: &'a ProgrammeRequest,
        limits: &Limits,
        start: &StartLevel,
        catalogue: &'a Catalogue,
    ) -> Self {
        let kit = Kit::from(req);
        let mut picks: Vec<(&'static str, Role, Goal, String)> = Vec::new();
        for goal in &req.goals {
            picks.extend(select(*goal, start.level, limits, &kit, req));
        }
        if limits.balance_bundle && !req.goals.contains(&Goal::FallPrevention) {
            picks.extend(
                select(Goal::FallPrevention, start.level, limits, &kit, req)
                    .into_iter()
                    .filter(|(_, role, _, _)| matches!(role, Role::Balance | Role::Functional)),
            );
        }
        let mut items: Vec<Item<'a>> = Vec::new();
        for (id, role, goal, why) in picks {
            if items.iter().any(|i| i.exercise.id == id) {
                continue;
            }
            if let Some(exercise) = catalogue.get(id).filter(|e| allowed(e, limits, &kit))
                && let Some(item) = item(exercise, role, goal, why, req, limits, start)
            {
                items.push(item);
            }
        }
        let mut sessions_per_week = req.days_per_week.unwrap_or(3).clamp(2, 3);
        if limits.balance_bundle || limits.tendon_track {
            sessions_per_week = 3;
        }
        let habits = habits(req, limits, catalogue);
        Self {
            req,
            items,
            habits,
            sessions_per_week,
            weeks: req.weeks.unwrap_or(DEFAULT_WEEKS),
            deload_every: if req.goals == [Goal::FallPrevention] { 6 } else { 4 },
            step: if limits.older { 0.03 } else { 0.05 },
            fall_risk: limits.fall_risk,
        }
    }

    pub fn sessions_per_week(&self) -> u8 {
        self.sessions_per_week
    }

    pub fn weeks_total(&self) -> u8 {
        self.weeks
    }

    /// The planned programme: every exercise advances one step a week (assuming the sessions
    /// pass), except into deload weeks.
    pub fn weeks(&self) -> Vec<Week> {
        self.weeks_gated(|_, prescriptions| Some(vec![Step::Advance; prescriptions.len()]))
    }

    /// What each exercise is, for the adaptation rules.
    pub fn kinds(&self) -> Vec<ItemKind> {
        self.items
            .iter()
            .map(|i| ItemKind {
                exercise_id: i.exercise.id.clone(),
                calf: matches!(
                    i.role,
                    Role::Calf | Role::Strength | Role::Isometric | Role::Plyometric
                ),
                balance: matches!(i.role, Role::Balance | Role::Functional),
                support_graded: i.supports.len() > 1,
            })
            .collect()
    }

    /// Whether week `number` is a deload week.
    pub fn is_deload(&self, number: u8) -> bool {
        number.is_multiple_of(self.deload_every)
    }

    /// Renders the weeks, asking `gate` at the end of each week how each exercise moves into the
    /// next one. `gate` gets the week's number and its prescriptions (one per exercise, in plan
    /// order) and answers one step per exercise, or `None` to stop: no further weeks. An
    /// `Advance` into a deload week is held (deloads change volume, not the level).
    pub fn weeks_gated(&self, mut gate: impl FnMut(u8, &[Prescription]) -> Option<Vec<Step>>) -> Vec<Week> {
        let offsets: &[u16] = if self.sessions_per_week == 2 {
            &[0, 3]
        } else {
            &[0, 2, 4]
        };
        let mut states: Vec<State> = self
            .items
            .iter()
            .map(|i| State {
                dose: i.start.clone(),
                earlier: Vec::new(),
                last_support_change: 0,
                lag: 0,
            })
            .collect();
        let mut out: Vec<Week> = Vec::new();
        let mut previous: Option<Vec<Prescription>> = None;
        for number in 1..=self.weeks {
            let deload = self.is_deload(number);
            if let Some(prescribed) = &previous {
                let Some(steps) = gate(number - 1, prescribed) else {
                    break;
                };
                for (index, (item, state)) in self.items.iter().zip(states.iter_mut()).enumerate() {
                    let step = steps.get(index).copied().unwrap_or(Step::Hold);
                    self.apply(item, state, step, number, deload);
                }
            }
            let exercises: Vec<Prescription> = self
                .items
                .iter()
                .zip(&states)
                .map(|(item, state)| self.render(item, &state.dose, deload))
                .collect();
            let sessions = offsets
                .iter()
                .enumerate()
                .map(|(index, offset)| {
                    let day = u16::from(number - 1) * 7 + offset + 1;
                    PlannedSession {
                        day,
                        date: self
                            .req
                            .start_date
                            .and_then(|d| d.checked_add_days(Days::new(u64::from(day - 1)))),
                        exercises: self
                            .items
                            .iter()
                            .zip(&exercises)
                            .filter(|(item, _)| index < usize::from(item.per_week))
                            .map(|(_, x)| x.clone())
                            .collect(),
                    }
                })
                .collect();
            out.push(Week {
                number,
                phase: match number {
                    1..=4 => Phase::Foundation,
                    5..=8 => Phase::Build,
                    _ => Phase::Consolidate,
                },
                deload,
                sessions,
                habits: self.habits.iter().map(|h| habit_for_week(h, number)).collect(),
            });
            previous = Some(exercises);
        }
        // The last week is reviewed too (its steps lead nowhere).
        if let (Some(prescribed), Some(last)) = (&previous, out.last()) {
            let _ = gate(last.number, prescribed);
        }
        out
    }

    /// Moves one exercise into week `number`.
    fn apply(&self, item: &Item<'_>, state: &mut State, step: Step, number: u8, deload: bool) {
        match step {
            Step::Advance if deload => {}
            Step::Advance => {
                let support_ok = !self.fall_risk || number.saturating_sub(state.last_support_change) >= 2;
                if let Some(next) =
                    self.advance(item, &state.dose, number.saturating_sub(state.lag), support_ok)
                {
                    if next.support != state.dose.support {
                        state.last_support_change = number;
                    }
                    state.earlier.push(std::mem::replace(&mut state.dose, next));
                }
            }
            Step::Hold => state.lag = state.lag.saturating_add(1),
            Step::MoreSupport if state.dose.support > 0 => {
                state.dose.support -= 1;
                // Earlier doses never had less support than now: a later step back then changes
                // one thing only.
                let cap = state.dose.support;
                state
                    .earlier
                    .iter_mut()
                    .for_each(|d| d.support = d.support.min(cap));
                state.last_support_change = number;
                state.lag = state.lag.saturating_add(1);
            }
            Step::Back | Step::MoreSupport => {
                let easier = state.earlier.pop().unwrap_or_else(|| easier(item, &state.dose));
                if easier.support != state.dose.support {
                    state.last_support_change = number;
                }
                state.dose = easier;
                state.lag = state.lag.saturating_add(1);
            }
        }
    }

    /// The next week's dose: exactly one change, or none when everything is at its target.
    fn advance(&self, item: &Item<'_>, dose: &Dose, week: u8, support_ok: bool) -> Option<Dose> {
        let mut next = dose.clone();
        if item.role == Role::Strength {
            let target = hsr_rm(week);
            // One rung of the RM ladder at a time, never past this week's schedule.
            if let Some(current) = dose.rm.filter(|current| target < *current) {
                let rung = RM_LADDER.iter().copied().find(|r| *r < current).unwrap_or(target);
                next.rm = Some(rung.max(target));
                return Some(next);
            }
            return None;
        }
        if let (Some(reps), Some(max)) = (dose.reps, item.reps_max)
            && reps < max
        {
            next.reps = Some((reps + 2).min(max));
            return Some(next);
        }
        if let (Some(hold), Some(max)) = (dose.hold, item.hold_max)
            && hold < max
        {
            next.hold = Some((hold + 5).min(max));
            return Some(next);
        }
        if dose.sets < item.sets_max {
            next.sets += 1;
            return Some(next);
        }
        if support_ok && dose.support + 1 < item.supports.len() {
            next.support += 1;
            return Some(next);
        }
        if let Some(max) = item.max_fraction {
            let current = dose.fraction.unwrap_or(0.0);
            // The step is relative to the total load moved (body weight + extra).
            let stepped = round3((1.0 + current) * (1.0 + self.step) - 1.0);
            if stepped <= max + 1e-9 {
                next.fraction = Some(stepped);
                return Some(next);
            }
        }
        None
    }

    fn render(&self, item: &Item<'_>, dose: &Dose, deload: bool) -> Prescription {
        let e = item.exercise;
        let sets = if deload {
            if self.deload_every == 6 {
                dose.sets.saturating_sub(1).max(1)
            } else {
                // About 60-70% of the volume (§9.4).
                ((f64::from(dose.sets) * 0.65).round() as u8).max(1)
            }
        } else {
            dose.sets
        };
        let load = match (dose.rm, dose.fraction) {
            (Some(rm), _) => Load {
                kind: LoadKind::RepetitionMaximum,
                fraction_of_body_weight: None,
                kg: None,
                repetition_maximum: Some(rm),
            },
            (None, Some(f)) if f > 0.0 => Load {
                kind: LoadKind::BodyWeightFraction,
                fraction_of_body_weight: Some(f),
                kg: self.req.body_mass_kg.map(|m| (m * f * 2.0).round() / 2.0),
                repetition_maximum: None,
            },
            _ => Load::BODYWEIGHT,
        };
        let reps = match (item.role, dose.rm) {
            (Role::Strength, Some(rm)) => Some(u16::from(rm)),
            _ => dose.reps,
        };
        let rationale = if deload {
            Arc::clone(&item.why_deload)
        } else {
            Arc::clone(&item.why)
        };
        Prescription {
            exercise_id: Arc::clone(&item.id),
            name: Arc::clone(&item.name),
            sets,
            reps,
            hold_seconds: dose.hold,
            minutes: None,
            tempo: e.tempo,
            load,
            rpe_target: item.rpe,
            support_level: item
                .supports
                .get(dose.support)
                .copied()
                .unwrap_or(SupportLevel::TwoHands),
            rest_seconds: item.rest,
            side: if e.laterality == Laterality::SingleLeg {
                Side::EachLeg
            } else {
                Side::Both
            },
            rationale,
        }
    }
}

/// The repetition maximums heavy slow resistance steps through, lightest first.
const RM_LADDER: [u8; 6] = [18, 15, 12, 10, 8, 6];

/// Heavy slow resistance RM for a week (Beyer 2015: 15RM → 6RM over 12 weeks).
fn hsr_rm(week: u8) -> u8 {
    match week {
        0..=1 => 15,
        2..=3 => 12,
        4..=5 => 10,
        6..=8 => 8,
        _ => 6,
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Household basics every home has; always assumed, whatever the equipment list says.
pub const HOUSEHOLD: [Equipment; 4] = [
    Equipment::None,
    Equipment::Chair,
    Equipment::Wall,
    Equipment::SturdySupport,
];

/// What the person has to train with: the household basics plus the listed equipment.
/// Unknown equipment (no list) means the basics only.
struct Kit(Vec<Equipment>);

impl From<&ProgrammeRequest> for Kit {
    fn from(req: &ProgrammeRequest) -> Self {
        let mut kit = HOUSEHOLD.to_vec();
        kit.extend(req.equipment.iter().flatten().copied());
        Self(kit)
    }
}

impl Kit {
    fn has(&self, q: Equipment) -> bool {
        self.0.contains(&q)
    }

    fn can_do(&self, e: &Exercise) -> bool {
        e.equipment.iter().all(|q| self.has(*q))
    }
}

fn needs_load(e: &Exercise) -> bool {
    e.equipment
        .iter()
        .any(|q| matches!(q, Equipment::FreeWeight | Equipment::LegPressMachine))
}

fn step_edge(e: &Exercise) -> bool {
    e.equipment.contains(&Equipment::Step) && e.category != Category::Aerobic
}

/// Whether the screening limits and the equipment allow an exercise at all.
fn allowed(e: &Exercise, limits: &Limits, kit: &Kit) -> bool {
    kit.can_do(e)
        && !(limits.bodyweight_only && needs_load(e))
        && !(limits.no_step_edge && step_edge(e))
        && !(limits.no_plyometrics && e.category == Category::Plyometric)
        && (!e.clinician_cleared_only || limits.tendon_track)
}

type Pick = (&'static str, Role, Goal, String);

/// The exercises a goal asks for at a level, best option first where there are alternatives.
fn select(goal: Goal, level: u8, limits: &Limits, kit: &Kit, req: &ProgrammeRequest) -> Vec<Pick> {
    let mut out: Vec<Pick> = Vec::new();
    let mut add = |id: &'static str, role: Role, why: &str| out.push((id, role, goal, why.to_owned()));
    let loaded = kit.has(Equipment::FreeWeight) && !limits.bodyweight_only;
    let machine = kit.has(Equipment::LegPressMachine) && !limits.bodyweight_only;
    match goal {
        Goal::RunnerEndurance => {
            let why_r1 =
                "§9.3 R1: single-leg soleus endurance, 3 sets building to 25 reps, then load (2-for-2).";
            let why_r2 = "§9.3 R2 strength block: heavy slow resistance, 3 s up / 3 s down, 15RM towards 6RM (Beyer 2015).";
            let hsr = (limits.tendon_track || (level >= 7 && req.activity_level == ActivityLevel::Trained))
                && (loaded || machine)
                && !limits.older;
            if hsr {
                let why = if limits.tendon_track {
                    "§9.3 R3 option B: heavy slow resistance for Achilles tendinopathy, 3 days a week for 12 weeks (SCR-07)."
                } else {
                    why_r2
                };
                if loaded {
                    add("seated-soleus-raise-loaded", Role::Strength, why);
                }
                if machine {
                    add("leg-press-soleus-press", Role::Strength, why);
                }
            } else if limits.tendon_track && kit.has(Equipment::Step) && !limits.no_step_edge {
                let why = "§9.3 R3 option A: Alfredson eccentrics, straight and bent knee, with the pain-monitoring rule (SCR-07).";
                add("eccentric-heel-drop-straight-knee", Role::Calf, why);
                add("eccentric-heel-drop-bent-knee", Role::Calf, why);
            }
            if level <= 4 {
                let why = "§9.3 with §8.5: both-leg bent-knee raises build capacity before single-leg work.";
                add("standing-bent-knee-heel-raise", Role::Calf, why);
                add(
                    "standing-heel-raise",
                    Role::Calf,
                    "Straight-knee work keeps the gastrocnemius trained (§2.2).",
                );
            } else {
                add("single-leg-bent-knee-heel-raise", Role::Calf, why_r1);
                if level >= 7 && loaded {
                    add(
                        "single-leg-heel-raise-dumbbell",
                        Role::Calf,
                        "§9.3: straight-knee single-leg raise with added load (2-10% steps).",
                    );
                } else {
                    add(
                        "single-leg-heel-raise",
                        Role::Calf,
                        "§9.3 R1: straight-knee single-leg raise; keeps the gastrocnemius trained (§2.2).",
                    );
                }
                if !hsr && loaded {
                    add(
                        "seated-soleus-raise-loaded",
                        Role::Calf,
                        "§9.3 R1: seated soleus raise with a dumbbell on the knees.",
                    );
                }
            }
            add(
                "single-leg-bent-knee-isometric-hold",
                Role::Isometric,
                "§5.4: bent-knee holds of 30-45 s at RPE 7-8, also a pain-day option.",
            );
            if level >= 8 {
                add(
                    "pogo-hops",
                    Role::Plyometric,
                    "§9.3 R2 / §8.5 L8: plyometric hops once the heel-raise test is 30 or more with under 10% asymmetry.",
                );
            }
            add(
                "bent-knee-soleus-stretch",
                Role::Mobility,
                "Keeps ankle range (ACSM flexibility, about 60 s per leg).",
            );
        }
        Goal::FallPrevention => {
            let why_calf = "§9.2 and the §4.4 ladder: support-graded heel raises, 3 s up / 5 s down.";
            match level {
                0 => {
                    add(
                        "seated-calf-raise",
                        Role::Calf,
                        "§4.4 F0: seated heel raises, 2 x 15 easy.",
                    );
                    add("seated-toe-raise", Role::Calf, "§4.4 F0: seated toe raises.");
                }
                1..=3 => {
                    add("standing-heel-raise", Role::Calf, why_calf);
                    add(
                        "standing-toe-raise",
                        Role::Calf,
                        "§4.4: support-graded toe raises (Otago).",
                    );
                }
                4 => {
                    add(
                        "standing-bent-knee-heel-raise",
                        Role::Calf,
                        "§4.4 F4: both-leg bent-knee heel raise with fingertip support.",
                    );
                    add(
                        "standing-toe-raise",
                        Role::Calf,
                        "§4.4: support-graded toe raises (Otago).",
                    );
                }
                _ => {
                    add(
                        "single-leg-heel-raise",
                        Role::Calf,
                        "§4.4 F5-F7: single-leg heel raises, support-graded.",
                    );
                    add(
                        "single-leg-bent-knee-heel-raise",
                        Role::Calf,
                        "§9.2: bent-knee single-leg raise for the soleus.",
                    );
                }
            }
            let why_balance =
                "§4.2: fall prevention always bundles balance work (Sherrington 2019/2020; STEADI).";
            add("tandem-stance-and-walk", Role::Balance, why_balance);
            if level >= 2 {
                add("single-leg-stance", Role::Balance, why_balance);
            }
            add(
                "sit-to-stand",
                Role::Functional,
                "§9.2: sit-to-stand, part of the strength and balance bundle.",
            );
        }
        Goal::Circulation => {
            match level {
                0..=1 => add(
                    "seated-calf-raise",
                    Role::Calf,
                    "§9.1: seated calf raises move blood in the leg veins.",
                ),
                2..=3 => {
                    add(
                        "standing-heel-raise",
                        Role::Calf,
                        "§9.1: standing calf raise, 2-3 sets building to 25 reps (2-for-2).",
                    );
                    add(
                        "bent-knee-wall-calf-raise",
                        Role::Calf,
                        "§9.1: bent-knee raise for the soleus, the main calf-pump muscle.",
                    );
                }
                _ => {
                    add(
                        "standing-bent-knee-heel-raise",
                        Role::Calf,
                        "§9.1: bent-knee raise for the soleus, the main calf-pump muscle.",
                    );
                    add(
                        "standing-heel-raise",
                        Role::Calf,
                        "§9.1: standing calf raise, 2-3 sets building to 25 reps (2-for-2).",
                    );
                }
            }
            if req.age >= 65 {
                add(
                    "seated-toe-raise",
                    Role::Calf,
                    "§9.1 (65 and over): seated toe raises alongside heel raises.",
                );
            }
        }
    }
    out
}

/// Builds the starting dose of an exercise from its catalogue dosage for `goal`.
fn item<'a>(
    e: &'a Exercise,
    role: Role,
    goal: Goal,
    why: String,
    req: &ProgrammeRequest,
    limits: &Limits,
    start: &StartLevel,
) -> Option<Item<'a>> {
    let dosage: &Dosage = e.dosage.get(&goal).or_else(|| e.dosage.values().next())?;
    let novice = matches!(
        req.activity_level,
        ActivityLevel::Sedentary | ActivityLevel::LightlyActive
    );
    let sets_range = dosage
        .sets
        .unwrap_or(crate::catalogue::model::Range { min: 2, max: 3 });
    let sets_min = u8::try_from(sets_range.min).unwrap_or(2).max(1);
    let sets_max = u8::try_from(sets_range.max).unwrap_or(3).max(sets_min);
    let reps = dosage.reps.map(|r| {
        (
            u16::try_from(r.min).unwrap_or(10),
            u16::try_from(r.max).unwrap_or(15),
        )
    });
    let cap_hold = |s: u32| u16::try_from(s).unwrap_or(45).min(limits.max_hold_seconds);
    let hold = dosage.hold_seconds.map(|h| (cap_hold(h.min), cap_hold(h.max)));
    let mut supports: Vec<SupportLevel> = e.support_levels.clone();
    if limits.single_leg_supported && e.laterality == Laterality::SingleLeg {
        supports.retain(|s| *s != SupportLevel::None);
    }
    if limits.fall_risk {
        supports.retain(|s| *s != SupportLevel::None);
    }
    if supports.is_empty() {
        return None;
    }
    let wanted = SupportLevel::ALL
        .iter()
        .position(|s| *s == start.support)
        .unwrap_or(1);
    // The least support that still gives at least the support the start level calls for.
    let support = supports
        .iter()
        .rposition(|s| SupportLevel::ALL.iter().position(|a| a == s).unwrap_or(0) <= wanted)
        .unwrap_or(0);
    let can_load = !limits.bodyweight_only
        && req
            .equipment
            .as_ref()
            .is_some_and(|kit| kit.contains(&Equipment::FreeWeight))
        && matches!(role, Role::Calf)
        && !e.clinician_cleared_only;
    let max_fraction = match goal {
        _ if !can_load => None,
        Goal::RunnerEndurance => Some(0.2),
        Goal::Circulation if !limits.older => Some(0.1),
        Goal::FallPrevention if start.level >= 6 && !limits.fall_risk => Some(0.05),
        _ => None,
    };
    let needs_weight = e.equipment.contains(&Equipment::FreeWeight);
    let rpe_base = match role {
        Role::Strength | Role::Isometric => Some(8),
        Role::Calf | Role::Plyometric => Some(if novice { 6 } else { 7 }),
        _ => None,
    };
    Some(Item {
        exercise: e,
        id: Arc::from(e.id.as_str()),
        name: Arc::from(e.name.as_str()),
        why_deload: Arc::from(format!("{why} Deload week: fewer sets, same intensity (§9.4).")),
        why: Arc::from(why),
        role,
        start: Dose {
            sets: if role == Role::Strength { 3 } else { sets_min },
            reps: reps.map(|r| r.0),
            hold: hold.map(|h| h.0),
            support,
            fraction: if needs_weight && role != Role::Strength {
                Some(0.05)
            } else {
                None
            },
            rm: (role == Role::Strength).then_some(15),
        },
        sets_max: if role == Role::Strength { 3 } else { sets_max },
        reps_max: reps.map(|r| r.1),
        hold_max: hold.map(|h| h.1),
        supports,
        max_fraction: if needs_weight && role != Role::Strength {
            Some(max_fraction.unwrap_or(0.05_f64).max(0.05))
        } else {
            max_fraction
        },
        rest: dosage
            .rest_seconds
            .map_or(60, |r| u16::try_from(r.min).unwrap_or(60)),
        per_week: dosage
            .sessions_per_week
            .map_or(7, |w| u8::try_from(w.max).unwrap_or(7))
            .max(1),
        rpe: rpe_base.map(|r| r.min(limits.rpe_cap)),
    })
}

fn habits<'a>(req: &ProgrammeRequest, limits: &Limits, catalogue: &'a Catalogue) -> Vec<HabitPlan<'a>> {
    let mut out = Vec::new();
    let mut add = |id: &str, kind: HabitKind, why: &'static str| {
        if let Some(exercise) = catalogue.get(id)
            && !out.iter().any(|h: &HabitPlan<'_>| h.exercise.id == id)
        {
            out.push(HabitPlan { exercise, kind, why });
        }
    };
    if req.goals.contains(&Goal::Circulation) {
        add(
            "soleus-pushup",
            HabitKind::DailyMinutes {
                start: 10,
                step: 5,
                max: 30,
            },
            "§9.1: seated soleus push-ups in 1-3 minute bouts every 30-60 minutes of sitting, +5 minutes a day each week.",
        );
        let start = match req.activity_level {
            ActivityLevel::Sedentary => 60,
            ActivityLevel::LightlyActive => 90,
            ActivityLevel::Active => 120,
            ActivityLevel::Trained => 150,
        };
        let walk_why = "§9.1 and WHO 2020: build towards 150-300 minutes of moderate activity a week, about 10% more each week.";
        if limits.fall_risk {
            add(
                "walking",
                HabitKind::DailyMinutes {
                    start: 10,
                    step: 2,
                    max: 30,
                },
                "§9.2: short daily walks at a comfortable pace; no brisk-walking programme at high fall risk (Sherrington 2011).",
            );
        } else {
            add("walking", HabitKind::WeeklyMinutes { start, max: 300 }, walk_why);
        }
        add(
            "ankle-pumps",
            HabitKind::Routine("During travel or long sitting: 1-3 minutes every 30-60 minutes."),
            "§9.1: ankle pumps keep the calves moving on long journeys.",
        );
    }
    if req.goals.contains(&Goal::FallPrevention) || limits.balance_bundle {
        add(
            "walking",
            HabitKind::DailyMinutes {
                start: if limits.fall_risk { 10 } else { 20 },
                step: 2,
                max: 30,
            },
            "§9.2: walking on the days between strength and balance sessions (Otago); comfortable pace.",
        );
    }
    if limits.orthostatic || (req.goals.contains(&Goal::Circulation) && req.age >= 65) {
        add(
            "pre-stand-calf-pump",
            HabitKind::Routine(
                "Every time you get up after sitting or lying for a while: 10-20 heel and toe raises, then rise slowly.",
            ),
            "§9.1 and SCR-12: calf pumping before standing helps when you feel light-headed on getting up.",
        );
    }
    out
}

fn habit_for_week(h: &HabitPlan<'_>, week: u8) -> Habit {
    let w = u16::from(week.saturating_sub(1));
    let (target, per_day, per_week) = match h.kind {
        HabitKind::DailyMinutes { start, step, max } => {
            let m = (start + step * w).min(max);
            (format!("{m} minutes a day, in short bouts."), Some(m), None)
        }
        HabitKind::WeeklyMinutes { start, max } => {
            let mut m = f64::from(start);
            for _ in 0..w {
                m = (m * 1.1 / 5.0).round() * 5.0;
            }
            let m = (m as u16).min(max);
            (
                format!("{m} minutes this week, spread over most days."),
                None,
                Some(m),
            )
        }
        HabitKind::Routine(text) => (text.to_owned(), None, None),
    };
    Habit {
        exercise_id: h.exercise.id.clone(),
        name: h.exercise.name.clone(),
        target,
        minutes_per_day: per_day,
        minutes_per_week: per_week,
        rationale: h.why.to_owned(),
    }
}
