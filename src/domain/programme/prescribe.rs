//! Exercise selection (domain brief §9.1–§9.3) and weekly dosing with planned progression
//! (§9.4).
//!
//! A programme is a list of *slots* (straight-knee raise, bent-knee raise, balance, …). Each
//! slot climbs a *ladder* of catalogue exercises linked by their `progressions` (bilateral →
//! single-leg → step or load; the §4.4 F-ladder F0–F7), and within one rung it moves one thing a
//! week: reps, then sets, then less support, then load, then the next rung. Every step keeps the
//! slot's weekly volume within 20% of the week before, so the programme's calf volume does too.

use std::sync::Arc;

use chrono::Days;

use super::DEFAULT_WEEKS;
use super::input::{ActivityLevel, ProgrammeRequest};
use super::model::{
    Habit, LegSide, Load, LoadKind, LoadPlacement, Phase, PlannedSession, Prescription, Side, StartLevel,
    WeakerSide, Week, WeekVolume,
};
use super::screening::Limits;
use crate::domain::catalogue::model::{ContractionMode, Dosage, Tempo};
use crate::domain::catalogue::{
    Catalogue, Category, Equipment, Exercise, Goal, Laterality, Position, SoleusBias, SupportLevel,
};

/// Longest planned session, minutes of work and rest [ENG]: Otago's strength and balance
/// sessions take about 30 minutes, and home calf sessions rarely run longer; 35 leaves room.
pub const SESSION_MINUTES_CAP: u16 = 35;
/// Heavy slow resistance rests 2-3 minutes between sets and 5 between exercises (Beyer 2015).
pub const HSR_SESSION_MINUTES_CAP: u16 = 45;
/// Weekly calf volume rises by at most this share a week (§9.4, "≤ ~20%").
pub const VOLUME_STEP: f64 = 0.20;
/// Balance and functional minutes a week on the fall track (Sherrington 2020: ≥ 3 h).
pub const BALANCE_TARGET_MINUTES: u16 = 180;
/// Week 1 of the fall track starts at Sherrington 2011's ≥ 2 h and adds 20 minutes a week [ENG].
pub const BALANCE_START_MINUTES: u16 = 120;
/// Above this body mass, standing work gets no added load: body weight already loads it [ENG].
pub const HEAVY_BODY_MASS_KG: f64 = 120.0;
/// Body mass assumed for load suggestions when none is given [ENG].
pub const REFERENCE_BODY_MASS_KG: f64 = 70.0;
/// Weeks between support or level changes at 80 and over or with fall risk (§9.2).
pub const WEEKS_PER_LEVEL_SLOW: u8 = 2;

/// What an exercise is for in the session; decides how it progresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Dynamic calf work: reps, sets, support, load, then the next rung.
    Calf,
    /// Heavy slow resistance: the RM schedule of Beyer 2015 (§5.2, §9.3 R2/R3).
    Strength,
    /// Alfredson eccentrics: 3 x 15, twice a day (§5.2).
    Eccentric,
    Isometric,
    Balance,
    Functional,
    Plyometric,
    /// A fixed routine (the pre-stand calf pump).
    Routine,
}

/// How added load works on a rung.
#[derive(Debug, Clone, Copy, PartialEq)]
enum LoadRule {
    None,
    /// Repetition maximum (heavy slow resistance).
    Rm,
    /// Kilograms: where the first load starts, the most it goes to, and whether body weight is
    /// part of the load moved (standing) or not (seated: weight on the knees).
    External {
        start: f64,
        max: f64,
        standing: bool,
        required: bool,
    },
}

/// One exercise on a slot's ladder, with its dosage for the slot's goal.
struct Rung<'a> {
    exercise: &'a Exercise,
    role: Role,
    spec_why: &'static str,
    id: Arc<str>,
    name: Arc<str>,
    variant: Option<&'static str>,
    /// The rationale and its deload form, written the first time the rung is prescribed (most
    /// rungs of a ladder never are), after the session cap has settled the ranges.
    why: std::cell::OnceCell<(Arc<str>, Arc<str>)>,
    hold_capped: bool,
    /// Tempo when the slot's goal sets its own (§9.2: 3 s up / 5 s down on the fall track).
    tempo: Option<crate::domain::catalogue::model::Tempo>,
    sets: (u8, u8),
    reps: Option<(u16, u16)>,
    hold: Option<(u16, u16)>,
    supports: Vec<SupportLevel>,
    rest: u16,
    per_week: u8,
    rpe: Option<u8>,
    load: LoadRule,
    /// Seconds one repetition takes (the tempo), for volume and session length.
    rep_seconds: u16,
    single_leg: bool,
    /// Lowest ladder level this rung is prescribed from (§4.4, §8.5).
    min_level: u8,
}

impl Rung<'_> {
    /// The first dose on this rung (at position `index` of its ladder): the bottom of its
    /// ranges at `support`, a required load's starting kilograms, 15RM for heavy slow resistance.
    fn opening(&self, index: usize, support: usize) -> Dose {
        Dose {
            rung: index,
            sets: if self.role == Role::Strength {
                3
            } else {
                self.sets.0
            },
            reps: self.reps.map(|r| r.0),
            hold: self.hold.map(|h| h.0),
            support,
            kg: match self.load {
                LoadRule::External {
                    start,
                    required: true,
                    ..
                } => Some(start),
                _ => None,
            },
            rm: (self.load == LoadRule::Rm).then_some(15),
        }
    }
}

/// A place in the session: a role and the ladder it climbs.
struct Slot<'a> {
    role: Role,
    /// Counts towards calf volume (§9.4): plantar-flexor work, not toe raises or balance.
    calf: bool,
    rungs: Vec<Rung<'a>>,
    start: Dose,
    priority: u8,
    times_per_day: Option<u8>,
}

/// The state of one slot in one week.
#[derive(Debug, Clone, PartialEq)]
struct Dose {
    rung: usize,
    sets: u8,
    reps: Option<u16>,
    hold: Option<u16>,
    support: usize,
    kg: Option<f64>,
    rm: Option<u8>,
}

/// How an exercise moves from one week into the next (the adaptation engine's verdicts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// One planned step up (reps, then sets, then less support, then load, then the next rung).
    Advance,
    /// Same dose again.
    Hold,
    /// Back to the dose before the last step up (one load or level step down).
    Back,
    /// Back to the previous support level (REG-02); from two hands, the rung below (seated F0
    /// at the bottom).
    MoreSupport,
}

/// One planned step, put into words only when a reason needs it ("reps 12 → 14").
#[derive(Debug, Clone, PartialEq)]
pub enum Stepped {
    Reps(u16, u16),
    Hold(u16, u16),
    Sets {
        from: u8,
        to: u8,
        reps: Option<u16>,
        hold: Option<u16>,
    },
    Support(SupportLevel, SupportLevel),
    AddLoad {
        kg: f64,
        reps: Option<(u16, u16)>,
    },
    Load(f64, f64),
    Rm {
        from: u8,
        to: u8,
        sets: Option<u8>,
    },
    Next {
        name: Arc<str>,
        variant: Option<&'static str>,
    },
}

impl std::fmt::Display for Stepped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Reps(a, b) => write!(f, "reps {a} → {b}"),
            Self::Hold(a, b) => write!(f, "hold {a} s → {b} s"),
            Self::Sets { from, to, reps, hold } => {
                write!(f, "sets {from} → {to}")?;
                match (reps, hold) {
                    (Some(r), _) => write!(f, " at {r} reps"),
                    (None, Some(h)) => write!(f, " of {h} s"),
                    _ => Ok(()),
                }
            }
            Self::Support(a, b) => write!(f, "support {} → {}", support_words(*a), support_words(*b)),
            Self::AddLoad { kg, reps } => {
                write!(f, "added load: {} kg", kg_words(*kg))?;
                match reps {
                    Some((a, b)) => write!(f, ", reps {a} → {b}"),
                    None => Ok(()),
                }
            }
            Self::Load(a, b) => write!(f, "load {} kg → {} kg", kg_words(*a), kg_words(*b)),
            Self::Rm { from, to, sets } => {
                write!(f, "load {from}RM → {to}RM")?;
                if let Some(s) = sets {
                    write!(f, ", {s} sets")?;
                }
                write!(f, " (heavy slow resistance schedule)")
            }
            Self::Next {
                name,
                variant: Some(v),
            } => write!(f, "next exercise: {name} ({v})"),
            Self::Next { name, variant: None } => write!(f, "next exercise: {name}"),
        }
    }
}

/// What happened to one slot between two weeks.
#[derive(Debug, Clone, PartialEq)]
pub enum Moved {
    /// The dose changed.
    Changed(Stepped),
    /// An advance was asked for but nothing could change, and why.
    Unchanged(&'static str),
    /// No advance was asked for (hold, regression, or the deload).
    NotAsked,
}

/// What the adaptation rules need to know about a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemKind {
    /// Calf work (pain rules step it back).
    pub calf: bool,
    /// Balance or functional work (balance-loss rule).
    pub balance: bool,
    /// Has a support ladder or more than one rung.
    pub support_graded: bool,
}

struct State {
    dose: Dose,
    /// Doses before each step up, most recent last: a step back restores the last one.
    earlier: Vec<Dose>,
    /// The week the support or rung last changed (week 1 counts as a change).
    last_level_change: u8,
    /// Weeks held or stepped back: schedule-driven progressions (HSR) run this much later.
    lag: u8,
}

struct HabitPlan<'a> {
    exercise: &'a Exercise,
    kind: HabitKind,
    /// Shared by every week's copy of the habit.
    id: Arc<str>,
    name: Arc<str>,
    why: Arc<str>,
    /// The last week's numbers and their words.
    memo: std::cell::RefCell<Option<(HabitKey, Arc<str>)>>,
}

type HabitKey = (Option<u16>, Option<u16>);

#[derive(Clone, Copy)]
enum HabitKind {
    /// Minutes a day, from `start`, `+step` a week, up to `max`.
    DailyMinutes { start: u16, step: u16, max: u16 },
    /// Minutes a week, +10% a week up to `max` (WHO 150–300).
    WeeklyMinutes { start: u16, max: u16 },
    /// Three walks a week dosed to claudication pain, each 30 → 45 minutes (SCR-08).
    ClaudicationWalks,
    /// Daily balance practice topping the week up to the fall-track target.
    BalancePractice,
    /// A routine with a fixed target.
    Routine(&'static str),
}

pub struct Plan<'a> {
    req: &'a ProgrammeRequest,
    slots: Vec<Slot<'a>>,
    habits: Vec<HabitPlan<'a>>,
    sessions_per_week: u8,
    weeks: u8,
    deload_every: Option<u8>,
    /// Load step aimed for, and the most a step may add, as a share of the load moved.
    step: f64,
    max_step: f64,
    slow_levels: bool,
    weaker_side: Option<LegSide>,
    body_mass: f64,
    balance_track: bool,
}

/// A ladder entry: an exercise id, an optional variant and the level it starts from when the
/// catalogue's own ladder does not say.
#[derive(Clone, Copy)]
struct Entry {
    id: &'static str,
    variant: Option<&'static str>,
    min_level: Option<u8>,
}

const fn e(id: &'static str) -> Entry {
    Entry {
        id,
        variant: None,
        min_level: None,
    }
}

/// §4.4 heel raises: seated (F0) → both legs with support (F1–F3) → single leg (F5–F6) → load (F7).
const STRAIGHT: [Entry; 4] = [
    e("seated-calf-raise"),
    e("standing-heel-raise"),
    e("single-leg-heel-raise"),
    e("single-leg-heel-raise-dumbbell"),
];
/// Bent-knee (soleus) raises: seated soleus push-ups (F0) → wall (F1–F3) → free-standing (F4) →
/// single leg (F5–F6) → off a step (F7).
const BENT: [Entry; 5] = [
    e("soleus-pushup"),
    e("bent-knee-wall-calf-raise"),
    e("standing-bent-knee-heel-raise"),
    e("single-leg-bent-knee-heel-raise"),
    e("single-leg-bent-knee-step-heel-raise"),
];
const TOE: [Entry; 2] = [e("seated-toe-raise"), e("standing-toe-raise")];
const BALANCE: [Entry; 3] = [
    e("tandem-stance-and-walk"),
    e("single-leg-stance"),
    Entry {
        id: "single-leg-stance",
        variant: Some("eyes closed, a hand hovering over the counter"),
        // Never a starting point: reached by progressing through eyes-open stance.
        min_level: Some(9),
    },
];

/// A slot a goal asks for.
struct Spec {
    /// Slots with the same key serve the same purpose: when goals combine, the first one wins.
    key: &'static str,
    role: Role,
    goal: Goal,
    ladder: Vec<Entry>,
    why: &'static str,
    /// 1 = essential; larger numbers are dropped first when a session runs too long.
    priority: u8,
    /// Sets, reps and RPE when the track sets its own (R2 endurance).
    dose: Option<Override>,
}

#[derive(Clone, Copy)]
struct Override {
    sets: (u8, u8),
    reps: (u16, u16),
    rpe: u8,
}

impl<'a> Plan<'a> {
    pub fn new(
        req: &'a ProgrammeRequest,
        limits: &Limits,
        start: &StartLevel,
        catalogue: &'a Catalogue,
    ) -> Self {
        let kit = Kit::from(req);
        let level = start.level;
        let trained = req.activity_level == ActivityLevel::Trained;
        let mut specs: Vec<Spec> = Vec::new();
        // The most conservative track first: its choice wins when goals ask for the same slot.
        for goal in [Goal::FallPrevention, Goal::RunnerEndurance, Goal::Circulation] {
            if req.goals.contains(&goal) {
                specs.extend(select(goal, level, limits, &kit, trained));
            }
        }
        if limits.balance_bundle && !req.goals.contains(&Goal::FallPrevention) {
            specs.extend(
                select(Goal::FallPrevention, level, limits, &kit, trained)
                    .into_iter()
                    .filter(|s| matches!(s.role, Role::Balance | Role::Functional)),
            );
        }
        if limits.orthostatic {
            specs.insert(
                0,
                Spec {
                    key: "pre-stand",
                    role: Role::Routine,
                    goal: Goal::Circulation,
                    ladder: vec![e("pre-stand-calf-pump")],
                    why: "SCR-12: each session starts seated with the pre-stand calf pump (10-20 heel and toe raises), then you rise slowly.",
                    priority: 0,
                    dose: None,
                },
            );
        }
        let ctx = Ctx {
            req,
            limits,
            kit: &kit,
            start,
        };
        let mut slots: Vec<Slot<'a>> = Vec::new();
        let mut keys: Vec<&'static str> = Vec::new();
        for spec in specs {
            // SCR-07: with tendinopathy the protocol is the only calf loading.
            let extra_calf =
                limits.tendon_track && spec.goal != Goal::RunnerEndurance && spec.role == Role::Calf;
            if keys.contains(&spec.key) || extra_calf {
                continue;
            }
            if let Some(slot) = ctx.slot(&spec, catalogue)
                && !slots
                    .iter()
                    .any(|s| slot_rung(s, &s.start).id == slot_rung(&slot, &slot.start).id)
            {
                keys.push(spec.key);
                slots.push(slot);
            }
        }
        let tendon = limits.tendon_track;
        let alfredson = slots.iter().any(|s| s.role == Role::Eccentric);
        let hsr = slots.iter().any(|s| s.role == Role::Strength);
        let sessions_per_week = if alfredson {
            7
        } else if limits.balance_bundle || tendon {
            3
        } else if req.activity_level == ActivityLevel::Sedentary {
            // §9.0: strength 2 days a week for sedentary adults.
            2
        } else {
            req.days_per_week.unwrap_or(3).clamp(2, 3)
        };
        let session_cap = if hsr {
            HSR_SESSION_MINUTES_CAP
        } else {
            SESSION_MINUTES_CAP
        };
        fit_sessions(&mut slots, session_cap, limits.weaker_side.is_some());
        let habits = habits(req, limits, catalogue);
        Self {
            req,
            slots,
            habits,
            sessions_per_week,
            weeks: req.weeks.unwrap_or(DEFAULT_WEEKS),
            // R3: the tendon protocols have no planned deloads.
            deload_every: if tendon {
                None
            } else if req.goals == [Goal::FallPrevention] && (limits.older || limits.fall_risk) {
                // §9.2: every 6th week at 65+ (and at fall risk); every 4th at 50-64.
                Some(6)
            } else {
                Some(4)
            },
            step: if limits.older { 0.03 } else { 0.05 },
            max_step: if limits.older { 0.05 } else { 0.10 },
            slow_levels: limits.slow_levels,
            weaker_side: limits.weaker_side,
            body_mass: req.body_mass_kg.unwrap_or(REFERENCE_BODY_MASS_KG),
            balance_track: req.goals.contains(&Goal::FallPrevention) || limits.fall_risk,
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
            .0
    }

    /// What each slot is, for the adaptation rules.
    pub fn kinds(&self) -> Vec<ItemKind> {
        self.slots
            .iter()
            .map(|s| ItemKind {
                calf: matches!(
                    s.role,
                    Role::Calf | Role::Strength | Role::Eccentric | Role::Isometric | Role::Plyometric
                ),
                balance: matches!(s.role, Role::Balance | Role::Functional),
                support_graded: s.rungs.len() > 1 || s.rungs.iter().any(|r| r.supports.len() > 1),
            })
            .collect()
    }

    /// Whether week `number` is a deload week.
    pub fn is_deload(&self, number: u8) -> bool {
        self.deload_every
            .is_some_and(|every| number.is_multiple_of(every))
    }

    /// Renders the weeks, asking `gate` at the end of each week how each slot moves into the
    /// next one. `gate` gets the week's number and its prescriptions (one per slot, in plan
    /// order) and answers one step per slot, or `None` to stop: no further weeks. An `Advance`
    /// into a deload week is held (deloads change volume, not the level).
    ///
    /// Also returns, per week that led into another, what each slot's step changed.
    pub fn weeks_gated(
        &self,
        mut gate: impl FnMut(u8, &[Prescription]) -> Option<Vec<Step>>,
    ) -> (Vec<Week>, Vec<Vec<Moved>>) {
        let offsets: Vec<u16> = match self.sessions_per_week {
            2 => vec![0, 3],
            3 => vec![0, 2, 4],
            n => (0..u16::from(n)).collect(),
        };
        let mut states: Vec<State> = self
            .slots
            .iter()
            .map(|s| State {
                dose: s.start.clone(),
                earlier: Vec::new(),
                last_level_change: 1,
                lag: 0,
            })
            .collect();
        let mut out: Vec<Week> = Vec::new();
        let mut moves: Vec<Vec<Moved>> = Vec::new();
        let mut previous: Option<Vec<Prescription>> = None;
        let mut stopped = false;
        for number in 1..=self.weeks {
            let deload = self.is_deload(number);
            if let Some(prescribed) = &previous {
                let Some(steps) = gate(number - 1, prescribed) else {
                    stopped = true;
                    break;
                };
                let moved = self
                    .slots
                    .iter()
                    .zip(states.iter_mut())
                    .enumerate()
                    .map(|(index, (slot, state))| {
                        let step = steps.get(index).copied().unwrap_or(Step::Hold);
                        self.apply(slot, state, step, number, deload)
                    })
                    .collect();
                moves.push(moved);
            }
            let exercises: Vec<Prescription> = self
                .slots
                .iter()
                .zip(&states)
                .map(|(slot, state)| self.render(slot, &state.dose, deload))
                .collect();
            out.push(self.week(number, deload, &exercises, &states, &offsets));
            previous = Some(exercises);
        }
        // The last week is reviewed too (its steps lead nowhere), unless a stop ended the plan:
        // then the stop week was reviewed already.
        if !stopped && let (Some(prescribed), Some(last)) = (&previous, out.last()) {
            let _ = gate(last.number, prescribed);
        }
        (out, moves)
    }

    /// One week's document: sessions, habits and totals.
    fn week(
        &self,
        number: u8,
        deload: bool,
        exercises: &[Prescription],
        states: &[State],
        offsets: &[u16],
    ) -> Week {
        let n = offsets.len();
        let (mut calf_seconds, mut balance_seconds, mut longest) = (0u32, 0u32, 0u32);
        // One pass builds each session and adds up its time and volume.
        let sessions: Vec<PlannedSession> = offsets
            .iter()
            .enumerate()
            .map(|(index, offset)| {
                let mut total = 0u32;
                let mut chosen = Vec::new();
                for ((slot, x), state) in self.slots.iter().zip(exercises).zip(states) {
                    let rung = slot_rung(slot, &state.dose);
                    if !in_session(index, n, rung.per_week) {
                        continue;
                    }
                    let seconds = seconds_with_rest(rung, x);
                    total += seconds;
                    if slot.calf {
                        calf_seconds +=
                            work_seconds_per_leg(rung, x) * u32::from(x.times_per_day.unwrap_or(1));
                    }
                    if matches!(slot.role, Role::Balance | Role::Functional) {
                        balance_seconds += seconds;
                    }
                    chosen.push(x.clone());
                }
                longest = longest.max(total);
                let day = u16::from(number - 1) * 7 + offset + 1;
                PlannedSession {
                    day,
                    date: self
                        .req
                        .start_date
                        .and_then(|d| d.checked_add_days(Days::new(u64::from(day - 1)))),
                    exercises: chosen,
                }
            })
            .collect();
        let session_balance = u16::try_from(balance_seconds.div_ceil(60)).unwrap_or(u16::MAX);
        let target = balance_target(number);
        let practice_per_day = target.saturating_sub(session_balance).div_ceil(7).max(5);
        let habits: Vec<Habit> = self
            .habits
            .iter()
            .map(|h| habit_for_week(h, number, practice_per_day))
            .collect();
        let balance_minutes = if self.balance_track {
            session_balance + practice_per_day * 7
        } else {
            session_balance
        };
        Week {
            number,
            phase: match number {
                1..=4 => Phase::Foundation,
                5..=8 => Phase::Build,
                _ => Phase::Consolidate,
            },
            deload,
            sessions,
            habits,
            volume: WeekVolume {
                calf_seconds_per_leg: calf_seconds,
                balance_minutes,
                longest_session_minutes: u16::try_from(longest.div_ceil(60)).unwrap_or(u16::MAX),
            },
        }
    }

    /// Moves one slot into week `number`.
    fn apply(&self, slot: &Slot<'_>, state: &mut State, step: Step, number: u8, deload: bool) -> Moved {
        let before = state.dose.clone();
        match step {
            Step::Advance if deload => {
                // The HSR schedule pauses over a deload, so its rungs keep their weeks (Beyer).
                if slot.role == Role::Strength {
                    state.lag = state.lag.saturating_add(1);
                }
                return Moved::NotAsked;
            }
            Step::Advance => {
                let level_ok = !self.slow_levels
                    || number.saturating_sub(state.last_level_change) >= WEEKS_PER_LEVEL_SLOW;
                return match self.advance(slot, &state.dose, number.saturating_sub(state.lag), level_ok) {
                    Ok((next, what)) => {
                        if next.support != before.support || next.rung != before.rung {
                            state.last_level_change = number;
                        }
                        state.earlier.push(std::mem::replace(&mut state.dose, next));
                        Moved::Changed(what)
                    }
                    Err(why) => Moved::Unchanged(why),
                };
            }
            Step::Hold => state.lag = state.lag.saturating_add(1),
            Step::MoreSupport => {
                if state.dose.support > 0 {
                    state.dose.support -= 1;
                    // Earlier doses never had less support than now: a later step back then
                    // changes one thing only.
                    let (rung, cap) = (state.dose.rung, state.dose.support);
                    state
                        .earlier
                        .iter_mut()
                        .filter(|d| d.rung == rung)
                        .for_each(|d| d.support = d.support.min(cap));
                } else if state.dose.rung > 0 {
                    state.dose = self.first_dose(slot, state.dose.rung - 1, true);
                    let rung = state.dose.rung;
                    state.earlier.retain(|d| d.rung <= rung);
                }
                state.lag = state.lag.saturating_add(1);
            }
            Step::Back => {
                let easier = state
                    .earlier
                    .pop()
                    .unwrap_or_else(|| self.easier(slot, &state.dose));
                state.dose = easier;
                state.lag = state.lag.saturating_add(1);
            }
        }
        if state.dose.support != before.support || state.dose.rung != before.rung {
            state.last_level_change = number;
        }
        Moved::NotAsked
    }

    /// The first dose on rung `index`: the start of its ranges, the most support (or, coming
    /// down, `least_support`: the least support it has, the level just below the rung above).
    fn first_dose(&self, slot: &Slot<'_>, index: usize, least_support: bool) -> Dose {
        let rung = slot.rungs.get(index).or(slot.rungs.first());
        let Some(rung) = rung else {
            return slot.start.clone();
        };
        let support = if least_support {
            rung.supports.len().saturating_sub(1)
        } else {
            0
        };
        rung.opening(index.min(slot.rungs.len().saturating_sub(1)), support)
    }

    /// A dose one step easier than `dose` when there is no earlier one to return to.
    fn easier(&self, slot: &Slot<'_>, dose: &Dose) -> Dose {
        let rung = slot_rung(slot, dose);
        let mut next = dose.clone();
        if let Some(rm) = dose.rm {
            next.rm = Some(RM_LADDER.iter().rev().copied().find(|r| *r > rm).unwrap_or(rm));
        } else if let (Some(kg), LoadRule::External { start, required, .. }) = (dose.kg, rung.load) {
            // REG-03: about 10% lighter.
            let lighter = round_half_down(kg * 0.9);
            next.kg = if lighter >= start || required {
                Some(lighter.max(0.5))
            } else {
                None
            };
        } else if dose.support > 0 {
            next.support -= 1;
        } else if let (Some(reps), Some((min, _))) = (dose.reps, rung.reps) {
            next.reps = Some(reps.saturating_sub(2).max(min.saturating_sub(4)).max(1));
        } else if let (Some(hold), Some((min, _))) = (dose.hold, rung.hold) {
            next.hold = Some(hold.saturating_sub(5).max(min.saturating_sub(10)).max(5));
        } else if dose.sets > 1 {
            next.sets -= 1;
        } else if dose.rung > 0 {
            return self.first_dose(slot, dose.rung - 1, true);
        }
        next
    }

    /// The next week's dose and what changed, or why nothing could.
    fn advance(
        &self,
        slot: &Slot<'_>,
        dose: &Dose,
        week: u8,
        level_ok: bool,
    ) -> Result<(Dose, Stepped), &'static str> {
        let rung = slot_rung(slot, dose);
        let mut next = dose.clone();
        if slot.role == Role::Strength {
            let (sets, target) = hsr_schedule(week);
            // One rung of the RM ladder at a time, never past this week's schedule.
            if let Some(current) = dose.rm.filter(|current| target < *current) {
                let rm = RM_LADDER
                    .iter()
                    .copied()
                    .find(|r| *r < current)
                    .unwrap_or(target)
                    .max(target);
                next.rm = Some(rm);
                next.sets = sets.max(dose.sets);
                let sets = (next.sets > dose.sets).then_some(next.sets);
                return Ok((
                    next,
                    Stepped::Rm {
                        from: current,
                        to: rm,
                        sets,
                    },
                ));
            }
            return Err("already at this week's step of the heavy slow resistance schedule");
        }
        if slot.role == Role::Routine {
            return Err("a fixed routine: it does not progress");
        }
        let volume = |d: &Dose| {
            d.sets as f64
                * f64::from(
                    d.reps.map_or(0, |r| u32::from(r) * u32::from(rung.rep_seconds))
                        + d.hold.map_or(0, u32::from),
                )
        };
        if let (Some(reps), Some((_, max))) = (dose.reps, rung.reps)
            && reps < max
        {
            let reps_next = (reps + (reps / 5).clamp(1, 2)).min(max);
            next.reps = Some(reps_next);
            return Ok((next, Stepped::Reps(reps, reps_next)));
        }
        if let (Some(hold), Some((_, max))) = (dose.hold, rung.hold)
            && hold < max
        {
            let hold_next = (hold + (hold / 5).clamp(1, 5)).min(max);
            next.hold = Some(hold_next);
            return Ok((next, Stepped::Hold(hold, hold_next)));
        }
        // On the fall track support is the main lever (§9.2): it comes before sets.
        let support_first =
            self.balance_track && matches!(slot.role, Role::Calf | Role::Balance | Role::Functional);
        if support_first && let Some(Ok(step)) = support_step(rung, dose, level_ok) {
            return Ok(step);
        }
        if dose.sets < rung.sets.1 {
            // One more set, with fewer reps (or shorter holds) so the week's volume rises by at
            // most 20%; the reps then climb again.
            let sets = f64::from(dose.sets);
            let rebalance = |x: u16, min: u16| {
                let fitted = (sets * f64::from(x) * (1.0 + VOLUME_STEP) / (sets + 1.0)).floor() as u16;
                (fitted >= min).then_some(fitted.min(x))
            };
            let reps = match (dose.reps, rung.reps) {
                (Some(r), Some((min, _))) => rebalance(r, min).map(Some),
                _ => Some(None),
            };
            let hold = match (dose.hold, rung.hold) {
                (Some(h), Some((min, _))) => rebalance(h, min).map(Some),
                _ => Some(None),
            };
            if let (Some(reps), Some(hold)) = (reps, hold) {
                let mut candidate = dose.clone();
                candidate.sets += 1;
                candidate.reps = reps.or(dose.reps);
                candidate.hold = hold.or(dose.hold);
                if volume(&candidate) <= volume(dose) * (1.0 + VOLUME_STEP) + 1e-9 {
                    let what = Stepped::Sets {
                        from: dose.sets,
                        to: candidate.sets,
                        reps: candidate.reps.filter(|r| Some(*r) != dose.reps),
                        hold: candidate.hold.filter(|h| Some(*h) != dose.hold),
                    };
                    return Ok((candidate, what));
                }
            }
        }
        if let Some(step) = support_step(rung, dose, level_ok) {
            return step;
        }
        if let LoadRule::External {
            start, max, standing, ..
        } = rung.load
        {
            match dose.kg {
                None => {
                    next.kg = Some(start);
                    // §9.3 R1: load goes on and the reps drop back to the bottom of the range.
                    next.reps = rung.reps.map(|r| r.0).or(dose.reps);
                    let reps = match (dose.reps, next.reps) {
                        (Some(a), Some(b)) if a != b => Some((a, b)),
                        _ => None,
                    };
                    return Ok((next, Stepped::AddLoad { kg: start, reps }));
                }
                Some(kg) => {
                    if let Some(heavier) = self.heavier(kg, max, standing) {
                        next.kg = Some(heavier);
                        return Ok((next, Stepped::Load(kg, heavier)));
                    }
                }
            }
        }
        if dose.rung + 1 < slot.rungs.len() {
            if !level_ok {
                return Err("level changes at most every 2 weeks at 80 and over or with fall risk (§9.2)");
            }
            let mut candidate = self.first_dose(slot, dose.rung + 1, false);
            // A new exercise starts no bigger than this one's volume plus 20%: fewer sets first,
            // then fewer reps, but never under 5 a set (so a later +1 rep stays within 20%).
            let new = slot_rung(slot, &candidate);
            if let Some(reps) = candidate.reps {
                let allowed = volume(dose) * (1.0 + VOLUME_STEP);
                let per_set_at = |r: u16| f64::from(r) * f64::from(new.rep_seconds.max(1));
                while candidate.sets > 1 && f64::from(candidate.sets) * per_set_at(reps.min(5)) > allowed {
                    candidate.sets -= 1;
                }
                let fitted = (allowed / (f64::from(candidate.sets) * per_set_at(1))).floor() as u16;
                candidate.reps = Some(reps.min(fitted).max(5.min(reps)));
            }
            let what = Stepped::Next {
                name: Arc::clone(&new.name),
                variant: new.variant,
            };
            return Ok((candidate, what));
        }
        Err("at the top of its ladder: keep this dose and retest")
    }

    /// The next load in kilograms, or `None` when the step would be too big or past `max`.
    fn heavier(&self, kg: f64, max: f64, standing: bool) -> Option<f64> {
        let moved = if standing { self.body_mass + kg } else { kg };
        let next = if standing && self.step < 0.05 {
            // Older adults: 1 kg at a time (§9.2: 1-3 kg after F6).
            kg + 1.0
        } else {
            round_half_up(kg + moved * self.step)
        };
        let ok = next <= max + 1e-9 && (next - kg) <= moved * self.max_step + 1e-9;
        ok.then_some(next)
    }

    fn render(&self, slot: &Slot<'_>, dose: &Dose, deload: bool) -> Prescription {
        let rung = slot_rung(slot, dose);
        let e = rung.exercise;
        // A deload keeps the intensity and cuts the volume (§9.4): sets when there are enough
        // (one fewer on the fall track, about 65% otherwise), else reps or hold time.
        let lighter = |x: u16| ((f64::from(x) * 0.65).round() as u16).max(1);
        let (sets, reps_cut) = match (deload, slot.role) {
            (false, _) | (true, Role::Routine) => (dose.sets, false),
            (true, Role::Strength) => (dose.sets.saturating_sub(1).max(1), false),
            (true, _) if self.deload_every == Some(6) && dose.sets > 1 => (dose.sets - 1, false),
            (true, _) if self.deload_every != Some(6) && dose.sets >= 3 => {
                (((f64::from(dose.sets) * 0.65).round() as u8).max(1), false)
            }
            (true, _) => (dose.sets, true),
        };
        let support = rung
            .supports
            .get(dose.support)
            .copied()
            .unwrap_or(SupportLevel::TwoHands);
        let load = match (dose.rm, dose.kg) {
            (Some(rm), _) => Load {
                kind: LoadKind::RepetitionMaximum,
                kg: None,
                repetition_maximum: Some(rm),
                placement: Some(if e.position == Position::Machine {
                    LoadPlacement::Machine
                } else if e.position == Position::Seated {
                    LoadPlacement::OnKnees
                } else {
                    LoadPlacement::InHand
                }),
            },
            (None, Some(kg)) => Load {
                kind: LoadKind::External,
                kg: Some(kg),
                repetition_maximum: None,
                placement: Some(if e.position == Position::Seated {
                    LoadPlacement::OnKnees
                } else if matches!(support, SupportLevel::TwoHands) || slot.role == Role::Eccentric {
                    LoadPlacement::Backpack
                } else {
                    LoadPlacement::InHand
                }),
            },
            _ => Load::BODYWEIGHT,
        };
        let reps = match (slot.role, dose.rm) {
            // At the RM the last reps are RPE 9-10; a lower effort cap stops that many reps short.
            (Role::Strength, Some(rm)) => {
                let short = 9u8.saturating_sub(rung.rpe.unwrap_or(9));
                Some(u16::from(rm.saturating_sub(short).max(1)))
            }
            _ if reps_cut => dose.reps.map(lighter),
            _ => dose.reps,
        };
        Prescription {
            exercise_id: Arc::clone(&rung.id),
            name: Arc::clone(&rung.name),
            sets,
            reps,
            hold_seconds: if reps_cut {
                dose.hold.map(lighter)
            } else {
                dose.hold
            },
            minutes: None,
            tempo: rung.tempo,
            load,
            rpe_target: rung.rpe,
            support_level: support,
            rest_seconds: rung.rest,
            side: if rung.single_leg {
                Side::EachLeg
            } else {
                Side::Both
            },
            variant: rung.variant,
            weaker_side: self
                .weaker_side
                .filter(|_| rung.single_leg && slot.calf)
                .map(|side| WeakerSide { side, extra_sets: 1 }),
            times_per_day: slot.times_per_day,
            rationale: {
                let (deload_why, why) = explained(rung, DELOAD_WORDS);
                Arc::clone(if deload { deload_why } else { why })
            },
        }
    }
}

fn slot_rung<'s, 'a>(slot: &'s Slot<'a>, dose: &Dose) -> &'s Rung<'a> {
    // A slot always has at least one rung (`Ctx::slot` returns `None` otherwise).
    #[allow(clippy::indexing_slicing)]
    slot.rungs.get(dose.rung).unwrap_or(&slot.rungs[0])
}

/// Whether the session at `index` (of `n` in the week) includes work done `per_week` times:
/// spread evenly, never on consecutive sessions when there is room.
fn in_session(index: usize, n: usize, per_week: u8) -> bool {
    let k = usize::from(per_week).max(1);
    if k >= n {
        return true;
    }
    let spacing = n.div_ceil(k);
    index.is_multiple_of(spacing) && index / spacing < k
}

/// Balance and functional minutes the fall track aims for in week `number`.
pub fn balance_target(number: u8) -> u16 {
    (BALANCE_START_MINUTES + 20 * u16::from(number.saturating_sub(1))).min(BALANCE_TARGET_MINUTES)
}

/// Seconds of work per leg in one session of this prescription.
fn work_seconds_per_leg(rung: &Rung<'_>, x: &Prescription) -> u32 {
    let per_set = match (x.reps, x.hold_seconds) {
        (Some(r), _) => u32::from(r) * u32::from(rung.rep_seconds),
        (None, Some(h)) => u32::from(h),
        (None, None) => 0,
    };
    u32::from(x.sets) * per_set
}

/// Seconds one session of this prescription takes: both legs' work and the rests.
fn seconds_with_rest(rung: &Rung<'_>, x: &Prescription) -> u32 {
    let legs = if rung.single_leg { 2 } else { 1 };
    let extra = u32::from(x.weaker_side.map_or(0, |w| w.extra_sets));
    let per_set_work = work_seconds_per_leg(rung, x) / u32::from(x.sets.max(1));
    let sets = u32::from(x.sets);
    (sets * legs + extra) * per_set_work + (sets + extra) * u32::from(rung.rest)
}

/// The session length a slot can reach, seconds: its largest dose on any rung.
fn max_seconds(slot: &Slot<'_>, weaker_side: bool) -> u32 {
    slot.rungs
        .iter()
        .map(|r| {
            let legs = if r.single_leg { 2 } else { 1 };
            let extra = u32::from(weaker_side && r.single_leg && slot.calf);
            let work = r.reps.map_or(0, |x| u32::from(x.1) * u32::from(r.rep_seconds))
                + r.hold.map_or(0, |x| u32::from(x.1));
            let sets = u32::from(if slot.role == Role::Strength { 4 } else { r.sets.1 });
            (sets * legs + extra) * work + (sets + extra) * u32::from(r.rest)
        })
        .max()
        .unwrap_or(0)
}

/// Keeps the longest possible session under `cap` minutes: drops the least essential slots
/// first (stretches and hops, then the second exercise of a pattern), then trims the top of
/// the set ranges of the largest slots.
fn fit_sessions(slots: &mut Vec<Slot<'_>>, cap: u16, weaker_side: bool) {
    let cap = u32::from(cap) * 60;
    loop {
        let total: u32 = slots.iter().map(|s| max_seconds(s, weaker_side)).sum();
        if total <= cap {
            return;
        }
        if let Some((index, _)) = slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.priority > 1)
            .max_by_key(|(i, s)| (s.priority, *i))
        {
            slots.remove(index);
            continue;
        }
        let trimmable = |r: &Rung<'_>| {
            r.sets.1 > 1 || r.reps.is_some_and(|(lo, hi)| hi > lo) || r.hold.is_some_and(|(lo, hi)| hi > lo)
        };
        let largest = slots
            .iter_mut()
            .filter(|s| !matches!(s.role, Role::Strength | Role::Eccentric) && s.rungs.iter().any(trimmable))
            .max_by_key(|s| max_seconds(s, weaker_side));
        let Some(slot) = largest else {
            return;
        };
        // Sets above the range's minimum first, then the top of the rep range and of the hold
        // range a tenth at a time, and last sets below the catalogue's minimum (never under 1).
        for r in slot.rungs.iter_mut() {
            let tenth = |(lo, hi): (u16, u16)| (lo, (hi - (hi / 10).max(1)).max(lo));
            if r.sets.1 > r.sets.0.max(1) {
                r.sets.1 -= 1;
            } else if let Some(reps) = r.reps.filter(|(lo, hi)| hi > lo) {
                r.reps = Some(tenth(reps));
            } else if let Some(hold) = r.hold.filter(|(lo, hi)| hi > lo) {
                r.hold = Some(tenth(hold));
            } else if r.sets.1 > 1 {
                r.sets.1 -= 1;
                r.sets.0 = r.sets.0.min(r.sets.1);
            }
        }
        // The starting dose stays inside the trimmed ranges.
        let start = slot.start.clone();
        if let Some(r) = slot.rungs.get(start.rung) {
            slot.start.sets = start.sets.min(r.sets.1).max(1);
            slot.start.reps = start.reps.map(|x| r.reps.map_or(x, |(_, hi)| x.min(hi)));
            slot.start.hold = start.hold.map(|x| r.hold.map_or(x, |(_, hi)| x.min(hi)));
        }
    }
}

/// What the builder needs to turn specs into slots.
struct Ctx<'r> {
    req: &'r ProgrammeRequest,
    limits: &'r Limits,
    kit: &'r Kit,
    start: &'r StartLevel,
}

impl Ctx<'_> {
    fn slot<'a>(&self, spec: &Spec, catalogue: &'a Catalogue) -> Option<Slot<'a>> {
        let exercises: Vec<(&'a Exercise, Entry)> = spec
            .ladder
            .iter()
            .filter_map(|entry| catalogue.get(entry.id).map(|x| (x, *entry)))
            .filter(|(x, _)| allowed(x, self.limits, self.kit))
            .collect();
        let count = exercises.len();
        let rungs: Vec<Rung<'a>> = exercises
            .into_iter()
            .enumerate()
            .filter_map(|(index, (x, entry))| self.rung(spec, x, entry, index + 1 == count))
            .collect();
        let first = rungs.first()?;
        let calf = matches!(
            spec.role,
            Role::Calf | Role::Strength | Role::Eccentric | Role::Isometric | Role::Plyometric
        ) && first.exercise.soleus_bias != SoleusBias::NotApplicable;
        let level = self.start.level;
        let index = rungs.iter().rposition(|r| r.min_level <= level).unwrap_or(0);
        let rung = rungs.get(index)?;
        let wanted = support_rank(self.start.support);
        // The least support that still gives at least the support the start level calls for.
        let support = rung
            .supports
            .iter()
            .rposition(|s| support_rank(*s) <= wanted)
            .unwrap_or(0);
        let start = rung.opening(index, support);
        Some(Slot {
            role: spec.role,
            calf,
            times_per_day: (spec.role == Role::Eccentric).then_some(2),
            rungs,
            start,
            priority: spec.priority,
        })
    }

    fn rung<'a>(&self, spec: &Spec, x: &'a Exercise, entry: Entry, last: bool) -> Option<Rung<'a>> {
        let (req, limits) = (self.req, self.limits);
        let dosage: &Dosage = x.dosage.get(&spec.goal).or_else(|| x.dosage.values().next())?;
        let novice = matches!(
            req.activity_level,
            ActivityLevel::Sedentary | ActivityLevel::LightlyActive
        );
        let range8 = |r: Option<crate::domain::catalogue::model::Range>, d: (u8, u8)| {
            r.map_or(d, |r| {
                let lo = u8::try_from(r.min).unwrap_or(d.0).max(1);
                (lo, u8::try_from(r.max).unwrap_or(d.1).max(lo))
            })
        };
        let range16 = |r: crate::domain::catalogue::model::Range| {
            let lo = u16::try_from(r.min).unwrap_or(10).max(1);
            (lo, u16::try_from(r.max).unwrap_or(15).max(lo))
        };
        let single_leg = x.laterality == Laterality::SingleLeg;
        let mut sets = range8(dosage.sets, (2, 3));
        let mut reps = dosage.reps.map(range16);
        let cap = |s: u16| s.min(limits.max_hold_seconds);
        let hold = dosage.hold_seconds.map(range16).map(|(a, b)| (cap(a), cap(b)));
        match spec.role {
            Role::Calf if limits.fall_risk && x.position != Position::Seated => {
                // §9.2, 80 and over or at fall risk: 1 → 2 sets of 5 → 10.
                sets = (1, 2);
                reps = Some((5, 10));
            }
            Role::Strength => {
                sets = (3, 4);
                reps = Some((6, 15));
            }
            Role::Eccentric => {
                sets = (3, 3);
                reps = Some((15, 15));
            }
            Role::Calf
                if spec.goal == Goal::FallPrevention && !limits.older && x.position != Position::Seated =>
            {
                // §9.2, 50-64: 2-3 sets.
                sets = (sets.0, sets.1.max(3));
            }
            _ => {}
        }
        if let Some(o) = spec.dose {
            sets = o.sets;
            reps = Some(o.reps);
        }
        // The novice rule: single-leg work starts below the test's maximum (§9.0, §8.5).
        if let (Some(test), true, Some((lo, hi))) = (
            req.baseline_heel_raise,
            single_leg && spec.role == Role::Calf,
            reps,
        ) {
            let ceiling = (test.weaker() * 4 / 5).max(5);
            if ceiling < lo {
                reps = Some((ceiling, hi.max(ceiling)));
            }
        }
        let mut supports: Vec<SupportLevel> = x.support_levels.clone();
        if limits.single_leg_supported && single_leg {
            supports.retain(|s| *s != SupportLevel::None);
        }
        if limits.fall_risk {
            supports.retain(|s| *s != SupportLevel::None);
        }
        if supports.is_empty() {
            return None;
        }
        let can_load =
            !limits.bodyweight_only && self.kit.has(Equipment::FreeWeight) && !x.clinician_cleared_only;
        let needs_weight = x.equipment.contains(&Equipment::FreeWeight);
        let seated = x.position == Position::Seated;
        let heavy = limits.heavy_body;
        let reference = req.body_mass_kg.unwrap_or(REFERENCE_BODY_MASS_KG).min(90.0);
        let external = |required: bool| -> LoadRule {
            if seated {
                // §9.3: a weight on the knees the person can lift 15-20 times [ENG starting points].
                let start = if limits.older {
                    10.0
                } else {
                    match req.activity_level {
                        ActivityLevel::Sedentary | ActivityLevel::LightlyActive => 5.0,
                        ActivityLevel::Active => 10.0,
                        ActivityLevel::Trained => 15.0,
                    }
                };
                LoadRule::External {
                    start,
                    max: if limits.older { 20.0 } else { 40.0 },
                    standing: false,
                    required,
                }
            } else if limits.older || limits.fall_risk {
                // §9.2: 1-3 kg after F6.
                LoadRule::External {
                    start: 1.0,
                    max: 3.0,
                    standing: true,
                    required,
                }
            } else {
                let share = if spec.goal == Goal::RunnerEndurance {
                    0.20
                } else {
                    0.10
                };
                LoadRule::External {
                    start: round_half_up((reference * 0.05).max(2.0)),
                    max: round_half_up(reference * share),
                    standing: true,
                    required,
                }
            }
        };
        let load = match spec.role {
            Role::Strength => LoadRule::Rm,
            // Alfredson: add load in a backpack once pain-free (§5.2) [ENG: up to 20% of body
            // weight at home, the runners' bound].
            Role::Eccentric if !limits.bodyweight_only && !heavy => LoadRule::External {
                start: if limits.older {
                    1.0
                } else {
                    round_half_up((reference * 0.07).min(5.0))
                },
                // §9.2 keeps standing load at 1-3 kg at 65 and over.
                max: if limits.older {
                    3.0
                } else {
                    round_half_up(reference * 0.20)
                },
                standing: true,
                required: false,
            },
            _ if needs_weight => {
                if !can_load || (!seated && heavy) {
                    return None;
                }
                external(true)
            }
            Role::Calf | Role::Isometric
                if last
                    && can_load
                    && (seated || !heavy)
                    && !(spec.goal == Goal::Circulation && limits.older)
                    && !(spec.role == Role::Isometric && limits.tendon_track) =>
            {
                external(false)
            }
            _ => LoadRule::None,
        };
        let rpe = match spec.role {
            Role::Strength => Some(9),
            Role::Isometric => Some(8),
            Role::Calf | Role::Plyometric | Role::Eccentric => Some(if novice { 6 } else { 7 }),
            _ => None,
        }
        .map(|r: u8| spec.dose.map_or(r, |o| o.rpe))
        .map(|r: u8| r.min(limits.rpe_cap));
        let tempo = match spec.role {
            // Alfredson-style on the floor: a slow lower, an assisted rise.
            Role::Eccentric if x.contraction != ContractionMode::EccentricOnly => Some(Tempo {
                up_seconds: 1,
                hold_seconds: 0,
                down_seconds: 3,
            }),
            // §9.2: 3 s up / 5 s down at 65+ or with fall risk, 3-1-3 at 50-64.
            Role::Calf if spec.goal == Goal::FallPrevention && !seated && x.tempo.is_some() => Some(Tempo {
                up_seconds: 3,
                hold_seconds: 1,
                down_seconds: if limits.older || limits.fall_risk { 5 } else { 3 },
            }),
            _ => x.tempo,
        };
        let rep_seconds = tempo.map_or(2, |t| {
            u16::try_from(t.up_seconds + t.hold_seconds + t.down_seconds).unwrap_or(3)
        });
        let rep_seconds = if x.category == Category::Plyometric {
            1
        } else {
            rep_seconds.max(1)
        };
        Some(Rung {
            exercise: x,
            role: spec.role,
            spec_why: spec.why,
            id: Arc::from(x.id.as_str()),
            name: Arc::from(x.name.as_str()),
            variant: entry.variant,
            why: std::cell::OnceCell::new(),
            hold_capped: limits.max_hold_seconds < 45,
            tempo,
            sets,
            reps,
            hold,
            supports,
            rest: dosage
                .rest_seconds
                .map_or(60, |r| u16::try_from(r.min).unwrap_or(60)),
            per_week: if spec.role == Role::Eccentric {
                7
            } else {
                dosage
                    .sessions_per_week
                    .map_or(7, |w| u8::try_from(w.max).unwrap_or(7))
                    .max(1)
            },
            rpe,
            load,
            rep_seconds,
            single_leg,
            min_level: entry
                .min_level
                .or_else(|| x.ladder.map(|l| u8::try_from(l.min).unwrap_or(0)))
                .unwrap_or(0),
        })
    }
}

const DELOAD_WORDS: &str = "Deload week: fewer sets (or reps), same intensity (§9.4).";

/// One support level less, if the rung has one: or why not yet.
fn support_step(
    rung: &Rung<'_>,
    dose: &Dose,
    level_ok: bool,
) -> Option<Result<(Dose, Stepped), &'static str>> {
    if dose.support + 1 >= rung.supports.len() {
        return None;
    }
    if !level_ok {
        return Some(Err(
            "support changes at most every 2 weeks at 80 and over or with fall risk (§9.2)",
        ));
    }
    let mut next = dose.clone();
    next.support += 1;
    let level = |i: usize| rung.supports.get(i).copied().unwrap_or(SupportLevel::TwoHands);
    let what = Stepped::Support(level(dose.support), level(next.support));
    Some(Ok((next, what)))
}

/// The rung's rationale, and its deload form.
fn explained<'r>(rung: &'r Rung<'_>, deload_words: &'static str) -> &'r (Arc<str>, Arc<str>) {
    rung.why.get_or_init(|| {
        let why = rationale(rung);
        (Arc::from(format!("{why} {deload_words}")), Arc::from(why))
    })
}

/// Why this exercise at this dose: the rule, then the dose range actually prescribed.
fn rationale(rung: &Rung<'_>) -> String {
    let (x, rpe, reps, hold, load) = (rung.exercise, rung.rpe, rung.reps, rung.hold, rung.load);
    let mut why = String::from(rung.spec_why);
    if let Some(v) = rung.variant {
        why.push_str(&format!(" This rung: {} with {v}.", x.name));
    }
    match (reps, hold, rung.role) {
        (_, _, Role::Strength) if rpe.is_some_and(|r| r < 9) => why.push_str(&format!(
            " The load is the heaviest you could lift for the RM count, 3 s up and 3 s down, and each set stops {} reps short of it (about RPE {}, the effort cap); the RM steps from 15 towards 6 over the weeks.",
            9 - rpe.unwrap_or(9),
            rpe.unwrap_or(9)
        )),
        (_, _, Role::Strength) => why.push_str(
            " Each set is done with the heaviest load you can lift for the prescribed reps (RPE 9), 3 s up and 3 s down; the RM steps from 15 towards 6 over the weeks.",
        ),
        (_, _, Role::Routine) => {}
        (Some((a, b)), _, _) if a == b => why.push_str(&format!(" {a} reps a set.")),
        (Some((a, b)), _, _) => why.push_str(&format!(" Reps build from {a} to {b} a set.")),
        (None, Some((a, b)), _) if a == b => why.push_str(&format!(" Holds of {a} s.")),
        (None, Some((a, b)), _) => why.push_str(&format!(" Holds build from {a} to {b} s.")),
        _ => {}
    }
    if let Some(r) = rpe.filter(|_| rung.role != Role::Strength) {
        why.push_str(&format!(" Effort about RPE {r}/10."));
    }
    if let Some(t) = rung
        .tempo
        .filter(|_| reps.is_some() && rung.role != Role::Routine)
    {
        why.push_str(&format!(
            " Tempo {} s up, {} s at the top, {} s down.",
            t.up_seconds, t.hold_seconds, t.down_seconds
        ));
    }
    if rung.hold_capped && hold.is_some() {
        why.push_str(" Holds are capped at 15 s and you keep breathing (SCR-04).");
    }
    if matches!(rung.role, Role::Calf) && reps.is_some() {
        why.push_str(" If the last set feels easy, do 1-2 extra reps: two sessions in a row like that move you up (2-for-2).");
    }
    if let LoadRule::External { standing, .. } = load {
        why.push_str(if standing {
            " Added load comes in small steps of the total load moved (LOAD-STEP); the kilograms are a starting suggestion: adjust on the first day."
        } else {
            " Start with a weight on the knees you could lift 15-20 times (the kilograms are a suggestion), then add 2-10% when you pass 2-for-2."
        });
    }
    why
}

fn support_rank(s: SupportLevel) -> usize {
    SupportLevel::ALL.iter().position(|a| *a == s).unwrap_or(0)
}

fn support_words(s: SupportLevel) -> &'static str {
    match s {
        SupportLevel::Chair => "seated",
        SupportLevel::TwoHands => "two hands",
        SupportLevel::OneHand => "one hand",
        SupportLevel::Fingertip => "fingertip",
        SupportLevel::None => "no support",
    }
}

fn kg_words(kg: f64) -> String {
    if (kg - kg.round()).abs() < 1e-9 {
        format!("{kg:.0}")
    } else {
        format!("{kg:.1}")
    }
}

/// The repetition maximums heavy slow resistance steps through, lightest first.
const RM_LADDER: [u8; 6] = [18, 15, 12, 10, 8, 6];

/// Heavy slow resistance sets and RM for a week (Beyer 2015: week 1 3 x 15RM, 2-3 3 x 12RM,
/// 4-5 4 x 10RM, 6-8 4 x 8RM, 9-12 4 x 6RM).
fn hsr_schedule(week: u8) -> (u8, u8) {
    match week {
        0..=1 => (3, 15),
        2..=3 => (3, 12),
        4..=5 => (4, 10),
        6..=8 => (4, 8),
        _ => (4, 6),
    }
}

fn round_half_up(x: f64) -> f64 {
    (x * 2.0 - 1e-9).ceil() / 2.0
}

fn round_half_down(x: f64) -> f64 {
    (x * 2.0 + 1e-9).floor() / 2.0
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

/// The heavy-slow-resistance slots the kit allows (Beyer 2015): seated with a weight on the
/// knees, and the leg press.
fn hsr_slots(loaded: bool, machine: bool) -> impl Iterator<Item = (&'static str, &'static str)> {
    [
        ("hsr-seated", "seated-soleus-raise-loaded", loaded),
        ("hsr-press", "leg-press-soleus-press", machine),
    ]
    .into_iter()
    .filter(|slot| slot.2)
    .map(|(key, exercise, _)| (key, exercise))
}

/// The slots a goal asks for at a level.
fn select(goal: Goal, level: u8, limits: &Limits, kit: &Kit, req_trained: bool) -> Vec<Spec> {
    let mut out: Vec<Spec> = Vec::new();
    let mut add = |key: &'static str, role: Role, ladder: &[Entry], why: &'static str, priority: u8| {
        out.push(Spec {
            key,
            role,
            goal,
            ladder: ladder.to_vec(),
            why,
            priority,
            dose: None,
        });
    };
    let loaded = kit.has(Equipment::FreeWeight) && !limits.bodyweight_only;
    let machine = kit.has(Equipment::LegPressMachine) && !limits.bodyweight_only;
    let mut r2 = false;
    match goal {
        Goal::RunnerEndurance if limits.tendon_track => {
            // §9.3 R3 / SCR-07: the protocol and isometrics only; no other calf volume.
            if loaded || machine {
                let why = "§9.3 R3 option B: heavy slow resistance for Achilles tendinopathy, 3 days a week for 12 weeks, 4 sets from week 4 (Beyer 2015), with the pain-monitoring rule (SCR-07).";
                for (key, exercise) in hsr_slots(loaded, machine) {
                    add(key, Role::Strength, &[e(exercise)], why, 1);
                }
                if loaded && !limits.no_end_range && !machine {
                    add(
                        "hsr-standing",
                        Role::Strength,
                        &[e("single-leg-heel-raise-dumbbell")],
                        why,
                        1,
                    );
                }
            } else if kit.has(Equipment::Step) && !limits.no_step_edge {
                let why = "§9.3 R3 option A: Alfredson eccentrics (no weights to lift, so heavy slow resistance is ruled out): lower slowly on the affected leg, rise on both, twice a day, every day, for 12 weeks (SCR-07). Some discomfort is allowed within the pain-monitoring rule.";
                add(
                    "straight",
                    Role::Eccentric,
                    &[e("eccentric-heel-drop-straight-knee")],
                    why,
                    1,
                );
                add(
                    "bent",
                    Role::Eccentric,
                    &[e("eccentric-heel-drop-bent-knee")],
                    why,
                    1,
                );
            } else {
                let why = "SCR-07 without weights or a step edge: Alfredson-style eccentrics on the floor (the insertional modification: never below floor level): lower slowly on the affected leg over 3 s, twice a day, every day, with the pain-monitoring rule.";
                let floor = |id| Entry {
                    id,
                    variant: Some(
                        "rise on both legs, lower on the affected leg over 3 s, heel no lower than the floor",
                    ),
                    min_level: Some(0),
                };
                add(
                    "bent",
                    Role::Eccentric,
                    &[floor("single-leg-bent-knee-heel-raise")],
                    why,
                    1,
                );
                add(
                    "straight",
                    Role::Eccentric,
                    &[floor("single-leg-heel-raise")],
                    why,
                    1,
                );
            }
            add(
                "iso",
                Role::Isometric,
                &[e("single-leg-bent-knee-isometric-hold")],
                "§5.4 and R3: bent-knee isometric holds, also for pain relief on sore days (Rio 2015).",
                2,
            );
        }
        Goal::RunnerEndurance => {
            // R2: trained (6 months or more of resistance training) and L7 or above (§9.3).
            let hsr =
                level >= 7 && req_trained && (loaded || machine) && !limits.older && !limits.bodyweight_only;
            if hsr {
                let why = "§9.3 R2 strength block: heavy slow resistance, 3 s up / 3 s down, 15RM towards 6RM (Beyer 2015).";
                // Strength slots are never dropped: the 45-minute cap is chosen for them.
                for (key, exercise) in hsr_slots(loaded, machine) {
                    add(key, Role::Strength, &[e(exercise)], why, 1);
                }
            }
            add(
                "bent",
                Role::Calf,
                &BENT[1..],
                if hsr {
                    "§9.3 R2 endurance: single-leg bent-knee raises to RPE 8, 20-30 reps."
                } else {
                    "§9.3 R1: bent-knee soleus endurance: both legs → single leg → harder variants, then load (2-for-2)."
                },
                1,
            );
            r2 = hsr;
            add(
                "straight",
                Role::Calf,
                &STRAIGHT[1..],
                "§9.3 R1: straight-knee raises keep the gastrocnemius trained (§2.2): both legs → single leg → added load.",
                1,
            );
            if !hsr && loaded {
                add(
                    "seated",
                    Role::Calf,
                    &[e("seated-soleus-raise-loaded")],
                    "§9.3 R1: seated soleus raise with a weight on the knees, the strongest soleus isolation (§2.2).",
                    2,
                );
            }
            // R2's durability block is the heavy hold; it is the first to go when the session
            // cap bites (a split A/B week would keep it: see the README).
            add(
                "iso",
                Role::Isometric,
                &[e("single-leg-bent-knee-isometric-hold")],
                if hsr {
                    "§9.3 R2 durability and §5.4: heavy bent-knee isometric holds (tendon loading, Arampatzis 2007; Bohm 2015), also a pain-day option."
                } else {
                    "§5.4: bent-knee isometric holds at a hard but pain-free effort, also a pain-day option."
                },
                2,
            );
            if level >= 8 {
                add(
                    "plyo",
                    Role::Plyometric,
                    &[e("pogo-hops")],
                    "§9.3 R2 / §8.5 L8: hops once the heel-raise test is 30 or more with under 10% asymmetry.",
                    3,
                );
            }
        }
        Goal::FallPrevention => {
            add(
                "straight",
                Role::Calf,
                &STRAIGHT,
                "§9.2 and the §4.4 ladder (F0-F7): heel raises; support is the main lever (two hands → one hand → fingertip), then single leg, then 1-3 kg.",
                1,
            );
            if level >= 1 {
                add(
                    "bent",
                    Role::Calf,
                    &BENT,
                    "§9.2: bent-knee heel raises for the soleus, support-graded like the heel raise (F1-F7).",
                    1,
                );
            }
            add(
                "toe",
                Role::Calf,
                &TOE,
                "§4.4 and Otago: toe raises for the shin muscles, support-graded.",
                2,
            );
            add(
                "balance",
                Role::Balance,
                &BALANCE,
                "§4.2 and §9.2: fall prevention always bundles balance work (Sherrington 2019/2020): tandem stance and walk → single-leg stance → eyes closed, with a counter in reach.",
                1,
            );
            add(
                "sts",
                Role::Functional,
                &[e("sit-to-stand")],
                "§9.2: sit-to-stand, part of the strength and balance bundle (hands → no hands).",
                1,
            );
        }
        Goal::Circulation => {
            add(
                "straight",
                Role::Calf,
                &STRAIGHT,
                "§9.1: calf raises move blood in the leg veins: 2-3 sets building to 25 reps, then single leg, then load (2-for-2).",
                1,
            );
            if level >= 1 {
                add(
                    "bent",
                    Role::Calf,
                    &BENT[1..],
                    "§9.1: bent-knee raises for the soleus, the main calf-pump muscle.",
                    1,
                );
            }
            if limits.older {
                add(
                    "toe",
                    Role::Calf,
                    &TOE,
                    "§9.1 (65 and over): toe raises alongside heel raises.",
                    2,
                );
            }
            if limits.heavy_body && loaded {
                add(
                    "seated",
                    Role::Calf,
                    &[e("seated-soleus-raise-loaded")],
                    "ENG-05 with §9.1: standing raises take no added load at this body weight, so the loaded work is seated, with the weight on the knees only.",
                    // ENG-05 promises it: the trimming of ranges makes room rather than dropping it.
                    1,
                );
            }
        }
    }
    if r2 {
        // §9.3 R2: endurance is 2-3 sets of 20-30 at RPE 8 beside the strength block.
        for spec in out.iter_mut().filter(|s| s.key == "bent") {
            spec.dose = Some(Override {
                sets: (2, 3),
                reps: (20, 30),
                rpe: 8,
            });
        }
    }
    out
}

fn habits<'a>(req: &ProgrammeRequest, limits: &Limits, catalogue: &'a Catalogue) -> Vec<HabitPlan<'a>> {
    let mut out = Vec::new();
    let mut add = |id: &str, kind: HabitKind, why: &'static str| {
        if let Some(exercise) = catalogue.get(id)
            && !out.iter().any(|h: &HabitPlan<'_>| h.exercise.id == id)
        {
            out.push(HabitPlan {
                exercise,
                kind,
                id: Arc::from(exercise.id.as_str()),
                name: Arc::from(exercise.name.as_str()),
                why: Arc::from(why),
                memo: std::cell::RefCell::new(None),
            });
        }
    };
    if limits.claudication {
        add(
            "walking",
            HabitKind::ClaudicationWalks,
            "SCR-08 (ACC/AHA 2016): walking dosed to claudication pain, at least 3 times a week for 12 weeks; a supervised programme is best.",
        );
    }
    if req.goals.contains(&Goal::Circulation) {
        add(
            "soleus-pushup",
            HabitKind::DailyMinutes {
                start: 10,
                step: 5,
                max: 30,
            },
            "§9.1: seated soleus push-ups in 1-3 minute bouts every 30-60 minutes of sitting, +5 minutes a day each week. The lab benefit came from hours a day; shorter doses keep the calves moving but are not shown to change blood sugar.",
        );
        let start = match req.activity_level {
            ActivityLevel::Sedentary => 60,
            ActivityLevel::LightlyActive => 90,
            ActivityLevel::Active => 120,
            ActivityLevel::Trained => 150,
        };
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
            add(
                "walking",
                HabitKind::WeeklyMinutes { start, max: 300 },
                "§9.1 and WHO 2020: build towards 150-300 minutes of moderate activity a week, about 10% more each week.",
            );
        }
        if !limits.pregnant {
            add(
                "ankle-pumps",
                HabitKind::Routine("During travel or long sitting: 1-3 minutes every 30-60 minutes."),
                "§9.1: ankle pumps keep the calves moving on long journeys.",
            );
        }
    }
    if req.goals.contains(&Goal::FallPrevention) || limits.balance_bundle {
        add(
            "walking",
            HabitKind::DailyMinutes {
                start: if limits.fall_risk { 10 } else { 20 },
                step: 2,
                max: 30,
            },
            "§9.2 (Otago): walking on most days, including those between strength and balance sessions; comfortable pace.",
        );
    }
    if req.goals.contains(&Goal::FallPrevention) || limits.fall_risk {
        add(
            "tandem-stance-and-walk",
            HabitKind::BalancePractice,
            "§9.2 (Sherrington 2020: 3 hours or more a week of balance and functional work cut falls by 42%): daily balance practice at the kitchen counter tops the sessions up to this week's total, starting at 2 hours a week and reaching 3 by week 4 [ENG].",
        );
    }
    if req.goals.contains(&Goal::RunnerEndurance) && !limits.no_end_range {
        add(
            "bent-knee-soleus-stretch",
            HabitKind::Routine(
                "2-4 holds of 15-30 seconds per leg after runs or calf sessions, at least 2 days a week.",
            ),
            "ACSM flexibility: about 60 s per leg keeps ankle range; done after training rather than in the session.",
        );
    }
    if limits.orthostatic {
        add(
            "pre-stand-calf-pump",
            HabitKind::Routine(
                "Every time you get up after sitting or lying for a while: 10-20 heel and toe raises, then rise slowly.",
            ),
            "SCR-12 (§3.4): calf pumping before standing helps when you feel light-headed on getting up.",
        );
    } else if req.goals.contains(&Goal::Circulation) && req.age >= 65 {
        add(
            "pre-stand-calf-pump",
            HabitKind::Routine(
                "When you get up after sitting or lying for a while: 10-20 heel and toe raises, then rise slowly.",
            ),
            "§9.1 (65 and over): a short calf pump before standing is part of the circulation routine.",
        );
    }
    out
}

fn habit_for_week(h: &HabitPlan<'_>, week: u8, practice_per_day: u16) -> Habit {
    let w = u16::from(week.saturating_sub(1));
    let (per_day, per_week) = match h.kind {
        HabitKind::DailyMinutes { start, step, max } => (Some((start + step * w).min(max)), None),
        HabitKind::WeeklyMinutes { start, max } => {
            let mut m = f64::from(start);
            for _ in 0..w {
                m = (m * 1.1 / 5.0).round() * 5.0;
            }
            (None, Some((m as u16).min(max)))
        }
        HabitKind::ClaudicationWalks => (None, Some((30 + 3 * w).min(45) * 3)),
        HabitKind::BalancePractice => (Some(practice_per_day), Some(practice_per_day * 7)),
        HabitKind::Routine(_) => (None, None),
    };
    // Most weeks repeat last week's numbers: the words are written once per change.
    let mut memo = h.memo.borrow_mut();
    let target = match memo.as_ref() {
        Some((key, text)) if *key == (per_day, per_week) => Arc::clone(text),
        _ => {
            let text: Arc<str> = Arc::from(match h.kind {
                HabitKind::DailyMinutes { .. } => {
                    format!("{} minutes a day, in short bouts.", per_day.unwrap_or(0))
                }
                HabitKind::WeeklyMinutes { .. } => {
                    format!(
                        "{} minutes this week, spread over most days.",
                        per_week.unwrap_or(0)
                    )
                }
                HabitKind::ClaudicationWalks => format!(
                    "3 walks this week of about {} minutes each: walk until the calf pain is moderate to strong, rest until it eases, then walk on.",
                    per_week.unwrap_or(0) / 3
                ),
                HabitKind::BalancePractice => format!(
                    "{practice_per_day} minutes a day of balance practice at a kitchen counter, in short bouts: feet together, tandem stance, tandem walking, single-leg stance as your sessions allow."
                ),
                HabitKind::Routine(text) => text.to_owned(),
            });
            *memo = Some(((per_day, per_week), Arc::clone(&text)));
            text
        }
    };
    Habit {
        exercise_id: Arc::clone(&h.id),
        name: Arc::clone(&h.name),
        target,
        minutes_per_day: per_day,
        minutes_per_week: per_week,
        rationale: Arc::clone(&h.why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each ladder climbs along the catalogue's own `progressions` links (ONE-CHANGE).
    #[test]
    fn ladders_follow_the_catalogue_progressions() {
        let c = crate::domain::programme::tests::catalogue();
        for ladder in [&STRAIGHT[..], &BENT[..], &TOE[..], &BALANCE[..]] {
            for pair in ladder.windows(2) {
                let [a, b] = pair else { continue };
                if a.id == b.id {
                    assert!(b.variant.is_some(), "{} repeats without a variant", a.id);
                    continue;
                }
                let from = c.get(a.id).unwrap_or_else(|| panic!("{} missing", a.id));
                assert!(
                    from.progressions.iter().any(|p| p.id == b.id),
                    "{} does not progress to {} in the catalogue",
                    a.id,
                    b.id
                );
            }
        }
    }
}
