//! What changed between two versions of a stored programme, and why (pure, over the stored
//! JSON documents).

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The dose fields compared.
const FIELDS: [&str; 6] = ["sets", "reps", "hold_seconds", "support_level", "load", "minutes"];

/// One changed dose parameter.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({"week": 7, "exercise_id": "single-leg-bent-knee-heel-raise", "field": "reps", "from": 20, "to": 18,
    "rule": "REG-01", "reason": "Pain reached 7/10 during a session (above 5/10, pain-monitoring model). One step back and no progression for a week."}))]
pub struct FieldChange {
    pub week: u64,
    pub exercise_id: String,
    pub field: String,
    /// The older value: a number, a string or an object (a load), as the field holds.
    pub from: Value,
    /// The newer value, of the same kind.
    pub to: Value,
    /// The rule behind the change: the newer version's decision at the end of the week before.
    pub rule: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Diff {
    pub from_version: i32,
    pub to_version: i32,
    pub from_status: String,
    pub to_status: String,
    /// Weeks the newer version no longer has (after a stop signal).
    pub weeks_removed: Vec<u64>,
    pub changes: Vec<FieldChange>,
}

/// Week number → exercise id → its prescription (first session it appears in).
fn doses(doc: &Value) -> Vec<(u64, Vec<(String, &Value)>)> {
    let weeks = doc
        .get("weeks")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    weeks
        .iter()
        .map(|w| {
            let number = w.get("number").and_then(Value::as_u64).unwrap_or(0);
            let mut out: Vec<(String, &Value)> = Vec::new();
            for session in w
                .get("sessions")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice)
            {
                for x in session
                    .get("exercises")
                    .and_then(Value::as_array)
                    .map_or(&[][..], Vec::as_slice)
                {
                    let id = x.get("exercise_id").and_then(Value::as_str).unwrap_or_default();
                    if !out.iter().any(|(seen, _)| seen == id) {
                        out.push((id.to_owned(), x));
                    }
                }
            }
            (number, out)
        })
        .collect()
}

/// The decision on `exercise` at the end of `week` in an adaptation record.
fn why(adaptation: &Value, week: u64, exercise: &str) -> Option<(String, String)> {
    adaptation
        .get("reviews")?
        .as_array()?
        .iter()
        .find(|r| r.get("week").and_then(Value::as_u64) == Some(week))?
        .get("decisions")?
        .as_array()?
        .iter()
        .find(|d| d.get("exercise_id").and_then(Value::as_str) == Some(exercise))
        .map(|d| {
            let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
            (s("rule"), s("reason"))
        })
}

/// Compares two versions' documents; `to_adaptation` explains the changes.
pub fn diff(
    (from_version, from_status, from): (i32, &str, &Value),
    (to_version, to_status, to): (i32, &str, &Value),
    to_adaptation: &Value,
) -> Diff {
    let old = doses(from);
    let new = doses(to);
    let mut changes = Vec::new();
    for (week, exercises) in &new {
        let Some((_, before)) = old.iter().find(|(w, _)| w == week) else {
            continue;
        };
        for (id, after) in exercises {
            let Some((_, prior)) = before.iter().find(|(x, _)| x == id) else {
                continue;
            };
            for field in FIELDS {
                let (a, b) = (prior.get(field), after.get(field));
                if a != b {
                    let reason = why(to_adaptation, week.saturating_sub(1), id);
                    changes.push(FieldChange {
                        week: *week,
                        exercise_id: id.clone(),
                        field: field.to_owned(),
                        from: a.cloned().unwrap_or(Value::Null),
                        to: b.cloned().unwrap_or(Value::Null),
                        rule: reason.as_ref().map(|r| r.0.clone()),
                        reason: reason.map(|r| r.1),
                    });
                }
            }
        }
    }
    Diff {
        from_version,
        to_version,
        from_status: from_status.to_owned(),
        to_status: to_status.to_owned(),
        weeks_removed: old
            .iter()
            .map(|(w, _)| *w)
            .filter(|w| !new.iter().any(|(n, _)| n == w))
            .collect(),
        changes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_changed_fields_with_the_rule_that_changed_them() {
        let week = |n: u64, reps: u64| json!({"number": n, "sessions": [{"exercises": [{"exercise_id": "a", "sets": 3, "reps": reps}]}]});
        let v1 = json!({"weeks": [week(1, 12), week(2, 14)]});
        let v2 = json!({"weeks": [week(1, 12), week(2, 12)]});
        let why = json!({"reviews": [{"week": 1, "decisions": [{"exercise_id": "a", "rule": "2-FOR-2", "reason": "1 of 2"}]}]});
        let d = diff((1, "active", &v1), (2, "active", &v2), &why);
        assert_eq!(d.changes.len(), 1);
        let c = &d.changes[0];
        assert_eq!(
            (c.week, c.field.as_str(), &c.from, &c.to),
            (2, "reps", &json!(14), &json!(12))
        );
        assert_eq!(c.rule.as_deref(), Some("2-FOR-2"));
        let v3 = json!({"weeks": [week(1, 12)]});
        assert_eq!(
            diff((2, "active", &v2), (3, "suspended", &v3), &json!({})).weeks_removed,
            vec![2]
        );
    }
}
