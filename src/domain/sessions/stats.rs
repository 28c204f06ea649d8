//! Progress statistics over a set of sessions (pure: the caller loads them).

use std::collections::BTreeMap;

use chrono::{Datelike as _, NaiveDate, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Content, SetSide};
use crate::domain::norms;

/// One stored session, as the statistics need it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub started_at: NaiveDateTime,
    pub duration_seconds: i32,
    pub programme_id: Option<String>,
    pub content: Content,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WeekStats {
    /// Monday of the ISO week (UTC).
    pub week_start: NaiveDate,
    pub sessions: u32,
    pub minutes: u32,
    /// Sessions logged against the active programme.
    pub programme_sessions: u32,
    /// Sessions the active programme plans per week (absent without one).
    pub planned_sessions: Option<u32>,
    pub mean_pain_during: Option<f64>,
    pub mean_pain_next_morning: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ExerciseStats {
    pub exercise_id: String,
    pub sets: u32,
    pub reps: u32,
    /// Seconds of holds and timed sets.
    pub time_under_load_seconds: u32,
    pub left_reps: u32,
    pub right_reps: u32,
    /// |left − right| / the larger side, when both sides were logged.
    pub asymmetry: Option<f64>,
    /// More than 10% (the return-to-play criterion of domain brief §5.1).
    pub asymmetry_flag: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Stats {
    pub weeks: Vec<WeekStats>,
    pub exercises: Vec<ExerciseStats>,
}

fn week_start(t: NaiveDateTime) -> NaiveDate {
    let d = t.date();
    d - chrono::Days::new(u64::from(d.weekday().num_days_from_monday()))
}

fn mean(values: &[u8]) -> Option<f64> {
    (!values.is_empty()).then(|| {
        let sum: f64 = values.iter().map(|v| f64::from(*v)).sum();
        (sum / values.len() as f64 * 10.0).round() / 10.0
    })
}

/// Statistics per ISO week and per exercise. `programme` is the active programme's id and
/// its planned sessions per week.
pub fn compute(sessions: &[Logged], programme: Option<(&str, u32)>) -> Stats {
    #[derive(Default)]
    struct Week {
        sessions: u32,
        seconds: i64,
        programme: u32,
        pain: Vec<u8>,
        morning: Vec<u8>,
    }
    let mut weeks: BTreeMap<NaiveDate, Week> = BTreeMap::new();
    let mut exercises: BTreeMap<String, ExerciseStats> = BTreeMap::new();
    for s in sessions {
        let w = weeks.entry(week_start(s.started_at)).or_default();
        w.sessions += 1;
        w.seconds += i64::from(s.duration_seconds.max(0));
        if programme.is_some_and(|(id, _)| s.programme_id.as_deref() == Some(id)) {
            w.programme += 1;
        }
        w.pain.extend(s.content.pain_during);
        w.morning.extend(s.content.pain_next_morning);
        for set in s.content.sets.iter().filter(|set| set.completed) {
            let e = exercises
                .entry(set.exercise_id.clone())
                .or_insert_with(|| ExerciseStats {
                    exercise_id: set.exercise_id.clone(),
                    sets: 0,
                    reps: 0,
                    time_under_load_seconds: 0,
                    left_reps: 0,
                    right_reps: 0,
                    asymmetry: None,
                    asymmetry_flag: false,
                });
            let reps = u32::from(set.reps.unwrap_or(0));
            e.sets += 1;
            e.reps += reps;
            e.time_under_load_seconds +=
                u32::from(set.hold_seconds.unwrap_or(0)) + set.duration_seconds.unwrap_or(0);
            match set.side {
                SetSide::Left => e.left_reps += reps,
                SetSide::Right => e.right_reps += reps,
                SetSide::Both => {}
            }
        }
    }
    for e in exercises.values_mut() {
        if e.left_reps > 0 && e.right_reps > 0 {
            let (left, right) = (f64::from(e.left_reps), f64::from(e.right_reps));
            e.asymmetry = Some((norms::asymmetry(left, right) * 1000.0).round() / 1000.0);
            e.asymmetry_flag = norms::asymmetric(left, right);
        }
    }
    Stats {
        weeks: weeks
            .into_iter()
            .map(|(week_start, w)| WeekStats {
                week_start,
                sessions: w.sessions,
                minutes: u32::try_from(w.seconds / 60).unwrap_or(u32::MAX),
                programme_sessions: w.programme,
                planned_sessions: programme.map(|(_, planned)| planned),
                mean_pain_during: mean(&w.pain),
                mean_pain_next_morning: mean(&w.morning),
            })
            .collect(),
        exercises: exercises.into_values().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::SessionSet;
    use super::*;

    fn set(side: SetSide, reps: u16) -> SessionSet {
        SessionSet {
            exercise_id: "single-leg-heel-raise".into(),
            set_number: 1,
            side,
            reps: Some(reps),
            load_kg: None,
            hold_seconds: Some(5),
            duration_seconds: None,
            rpe: None,
            completed: true,
        }
    }

    fn logged(day: u32, programme: Option<&str>, pain: u8, sets: Vec<SessionSet>) -> Logged {
        Logged {
            started_at: NaiveDate::from_ymd_opt(2026, 12, day)
                .and_then(|d| d.and_hms_opt(7, 0, 0))
                .unwrap_or_default(),
            duration_seconds: 1200,
            programme_id: programme.map(str::to_owned),
            content: Content {
                programme_week: None,
                programme_session: None,
                rpe: None,
                pain_during: Some(pain),
                pain_next_morning: None,
                notes: None,
                symptoms: Vec::new(),
                sets,
            },
        }
    }

    #[test]
    fn weeks_adherence_pain_and_asymmetry() {
        // 2026-12-07 is a Monday; the 14th starts the next week.
        let sessions = vec![
            logged(
                7,
                Some("p1"),
                2,
                vec![set(SetSide::Left, 20), set(SetSide::Right, 16)],
            ),
            logged(9, None, 4, vec![set(SetSide::Left, 10), set(SetSide::Right, 10)]),
            logged(14, Some("p1"), 1, vec![]),
        ];
        let stats = compute(&sessions, Some(("p1", 3)));
        assert_eq!(stats.weeks.len(), 2);
        let first = &stats.weeks[0];
        assert_eq!(
            first.week_start,
            NaiveDate::from_ymd_opt(2026, 12, 7).unwrap_or_default()
        );
        assert_eq!(
            (
                first.sessions,
                first.minutes,
                first.programme_sessions,
                first.planned_sessions
            ),
            (2, 40, 1, Some(3))
        );
        assert_eq!(first.mean_pain_during, Some(3.0));
        let e = &stats.exercises[0];
        assert_eq!(
            (
                e.sets,
                e.reps,
                e.left_reps,
                e.right_reps,
                e.time_under_load_seconds
            ),
            (4, 56, 30, 26, 20)
        );
        assert_eq!(e.asymmetry, Some(0.133));
        assert!(e.asymmetry_flag);
    }
}
