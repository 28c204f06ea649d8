//! The programme's sessions as an iCalendar (RFC 5545) file: one all-day event per session.

use chrono::{Days, NaiveDate, NaiveDateTime};
use serde_json::Value;

/// What the calendar says about the programme besides its document.
#[derive(Debug, Clone, Copy)]
pub struct Calendar<'a> {
    /// Event UIDs derive from it and the session's day, so they are stable across versions.
    pub programme_id: &'a str,
    /// Sessions are dated from the document's start date, or from this when it has none.
    pub fallback_start: NaiveDate,
    pub stamp: NaiveDateTime,
    /// RFC 5545 `SEQUENCE`: rises with every new version, so subscribed calendars update.
    pub sequence: u32,
    /// A suspended programme: every event is `STATUS:CANCELLED` (REG/STP rules stopped it).
    pub cancelled: bool,
}

/// Renders the sessions of a stored programme document.
pub fn ics(calendar: &Calendar<'_>, document: &Value) -> String {
    let Calendar {
        programme_id,
        fallback_start,
        stamp,
        sequence,
        cancelled,
    } = *calendar;
    let start = at(document, "/input/start_date")
        .as_str()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .unwrap_or(fallback_start);
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//soleus-api//programme//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        format!("X-WR-CALNAME:{}", escape("Soleus programme")),
    ];
    for week in at(document, "/weeks").as_array().into_iter().flatten() {
        let number = at(week, "/number").as_u64().unwrap_or(0);
        let deload = at(week, "/deload").as_bool().unwrap_or(false);
        for session in at(week, "/sessions").as_array().into_iter().flatten() {
            let day = at(session, "/day").as_u64().unwrap_or(1);
            let Some(date) = start.checked_add_days(Days::new(day.saturating_sub(1))) else {
                continue;
            };
            let exercises: Vec<String> = at(session, "/exercises")
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| {
                    let sets = at(x, "/sets");
                    let amount = match (at(x, "/reps").as_u64(), at(x, "/hold_seconds").as_u64()) {
                        (Some(reps), _) => format!("{sets} x {reps}"),
                        (None, Some(hold)) => format!("{sets} x {hold} s"),
                        _ => format!("{sets} sets"),
                    };
                    format!("- {}: {amount}", at(x, "/name").as_str().unwrap_or(""))
                })
                .collect();
            let title = match (cancelled, deload) {
                (true, _) => {
                    format!("Paused: soleus session, week {number} (see your programme's safety advice)")
                }
                (false, true) => format!("Soleus session, week {number} (lighter week)"),
                (false, false) => format!("Soleus session, week {number}"),
            };
            lines.extend([
                "BEGIN:VEVENT".to_owned(),
                format!("UID:{programme_id}-d{day}@soleus-api"),
                format!("SEQUENCE:{sequence}"),
                format!("DTSTAMP:{}", stamp.format("%Y%m%dT%H%M%SZ")),
                format!("DTSTART;VALUE=DATE:{}", date.format("%Y%m%d")),
                format!(
                    "DTEND;VALUE=DATE:{}",
                    date.succ_opt().unwrap_or(date).format("%Y%m%d")
                ),
                format!("SUMMARY:{}", escape(&title)),
                format!("DESCRIPTION:{}", escape(&exercises.join("\n"))),
                "TRANSP:TRANSPARENT".to_owned(),
            ]);
            if cancelled {
                lines.push("STATUS:CANCELLED".to_owned());
            }
            lines.push("END:VEVENT".to_owned());
        }
    }
    lines.push("END:VCALENDAR".to_owned());
    lines.iter().map(|l| fold(l)).collect::<Vec<_>>().join("")
}

/// The value at a JSON pointer, or `null`.
fn at<'a>(value: &'a Value, pointer: &str) -> &'a Value {
    value.pointer(pointer).unwrap_or(&Value::Null)
}

/// RFC 5545 §3.3.11 text escaping.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
}

/// RFC 5545 §3.1: lines of at most 75 octets, continued with CRLF + space, ending in CRLF.
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut width = 0;
    for ch in line.chars() {
        let len = ch.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += len;
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let folded = fold(&format!("DESCRIPTION:{}", "é".repeat(60)));
        for line in folded.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{}", line.len());
        }
        assert_eq!(
            folded.replace("\r\n ", ""),
            format!("DESCRIPTION:{}\r\n", "é".repeat(60))
        );
    }

    #[test]
    fn uids_are_stable_across_versions_while_sequence_rises_and_suspension_cancels() {
        let doc = serde_json::json!({"input": {"start_date": "2026-12-07"}, "weeks": [
            {"number": 1, "sessions": [{"day": 1, "exercises": [{"name": "Seated raise", "sets": 3, "reps": 15}]},
                                       {"day": 3, "exercises": []}]}]});
        let stamp = NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap();
        let mut calendar = Calendar {
            programme_id: "p1",
            fallback_start: stamp.date(),
            stamp,
            sequence: 0,
            cancelled: false,
        };
        let uids = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| l.starts_with("UID:"))
                .map(str::to_owned)
                .collect()
        };
        let first = ics(&calendar, &doc);
        calendar.sequence = 2;
        calendar.cancelled = true;
        let later = ics(&calendar, &doc);
        assert_eq!(uids(&first), ["UID:p1-d1@soleus-api", "UID:p1-d3@soleus-api"]);
        assert_eq!(uids(&first), uids(&later));
        assert_eq!(first.matches("SEQUENCE:0\r\n").count(), 2);
        assert_eq!(later.matches("SEQUENCE:2\r\n").count(), 2);
        assert!(!first.contains("STATUS:CANCELLED"));
        assert_eq!(later.matches("STATUS:CANCELLED\r\n").count(), 2);
        assert!(first.contains("DTSTART;VALUE=DATE:20261209"));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a, b; c\\d\ne"), "a\\, b\\; c\\\\d\\ne");
    }
}
