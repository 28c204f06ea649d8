//! The printable programme: one self-contained HTML page (no script, no external asset) in large
//! type, a section per phase, each week a table of its sessions' exercises and a tick-box log
//! sheet, the safety findings and the stop/regress rules in plain words.
//!
//! The words are chosen here, from the stored document; `print.html` only lays them out, with
//! HTML escaping on (minijinja escapes every value of a `.html` template).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;

const TEMPLATE: &str = include_str!("print.html");

/// What the page says about the stored programme besides its document.
pub struct Print<'a> {
    pub version: i64,
    /// A suspended programme (an STP-* rule stopped it): the page says so first.
    pub suspended: bool,
    /// Sessions are dated from the document's start date, or from this when it has none.
    pub fallback_start: NaiveDate,
    /// The picture of an exercise by catalogue id: an SVG document (`<svg …>…</svg>`) whose
    /// `<title>` says what it shows, and its alt text.
    pub illustration: &'a dyn Fn(&str) -> Option<(String, String)>,
}

#[derive(Serialize)]
struct Page {
    title: String,
    about: Vec<String>,
    suspended: bool,
    status: &'static str,
    referral: bool,
    findings: Vec<Finding>,
    disclaimer: String,
    stop_rules: Vec<RuleText>,
    ease_rules: Vec<RuleText>,
    progress_rules: Vec<RuleText>,
    recommendations: Vec<String>,
    phases: Vec<Phase>,
    pictures: Vec<Picture>,
}

#[derive(Serialize)]
struct Finding {
    rule: String,
    message: String,
    refer: bool,
}

#[derive(Serialize)]
struct RuleText {
    id: String,
    text: String,
}

#[derive(Serialize)]
struct Phase {
    name: String,
    weeks: Vec<Week>,
}

#[derive(Serialize)]
struct Week {
    number: u64,
    heading: String,
    /// Sessions with the same exercises and doses share one table.
    groups: Vec<Group>,
    habits: Vec<Habit>,
    log: Log,
}

#[derive(Serialize)]
struct Group {
    caption: String,
    rows: Vec<Row>,
}

#[derive(Serialize)]
struct Row {
    name: String,
    picture: Option<String>,
    alt: String,
    dose: String,
    tempo: String,
    load: String,
    support: String,
}

#[derive(Serialize)]
struct Habit {
    name: String,
    target: String,
}

#[derive(Serialize)]
struct Log {
    sessions: Vec<String>,
    exercises: Vec<LogRow>,
}

#[derive(Serialize)]
struct LogRow {
    name: String,
    /// One per session: whether this exercise is in it.
    planned: Vec<bool>,
}

/// One picture, drawn once in the page and shown beside every row of its exercise.
#[derive(Serialize)]
struct Picture {
    id: String,
    svg: String,
}

/// Renders the page of a stored programme document.
pub fn html(print: &Print<'_>, document: &Value) -> Result<String, minijinja::Error> {
    let page = page(print, document);
    let mut env = minijinja::Environment::new();
    env.add_template("print.html", TEMPLATE)?;
    env.get_template("print.html")?.render(&page)
}

fn page(print: &Print<'_>, doc: &Value) -> Page {
    let input = at(doc, "/input");
    let start = at(input, "/start_date")
        .as_str()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .unwrap_or(print.fallback_start);
    let weeks = array(doc, "/weeks");
    let goals: Vec<&str> = array(input, "/goals")
        .iter()
        .filter_map(Value::as_str)
        .map(goal_words)
        .collect();
    let mut about = Vec::new();
    if let Some(age) = at(input, "/age").as_u64() {
        about.push(format!("Age {age}"));
    }
    if !goals.is_empty() {
        about.push(format!("Goals: {}", goals.join(", ")));
    }
    if !weeks.is_empty() {
        about.push(format!(
            "{} weeks from {}, {} sessions a week",
            weeks.len(),
            long_date(start),
            at(doc, "/sessions_per_week").as_u64().unwrap_or(0)
        ));
    }
    about.push(format!("Version {}", print.version));

    let status = at(doc, "/safety/status").as_str().unwrap_or("");
    let findings = array(doc, "/safety/findings")
        .iter()
        .map(|f| Finding {
            rule: text(f, "/rule"),
            message: text(f, "/message"),
            refer: at(f, "/severity") == "refer",
        })
        .collect();
    let rules: Vec<RuleText> = array(doc, "/rules")
        .iter()
        .map(|r| RuleText {
            id: text(r, "/id"),
            text: text(r, "/rule"),
        })
        .collect();
    let (stop_rules, rest): (Vec<_>, Vec<_>) = rules.into_iter().partition(|r| r.id.starts_with("STP-"));
    let (ease_rules, progress_rules): (Vec<_>, Vec<_>) =
        rest.into_iter().partition(|r| r.id.starts_with("REG-"));

    let mut pictures: BTreeMap<String, Picture> = BTreeMap::new();
    let mut picture_of = |id: &str| -> (Option<String>, String) {
        match (print.illustration)(id) {
            Some((svg, alt)) => {
                let key = format!("pic-{id}");
                pictures.entry(id.to_owned()).or_insert_with(|| Picture {
                    id: key.clone(),
                    svg: symbol(&svg, &key),
                });
                (Some(key), alt)
            }
            None => (None, String::new()),
        }
    };
    let mut phases: Vec<Phase> = Vec::new();
    for week in weeks {
        let phase = text(week, "/phase");
        let built = week_of(week, start, &mut picture_of);
        match phases.last_mut() {
            Some(last) if last.name == title_case(&phase) => last.weeks.push(built),
            _ => phases.push(Phase {
                name: title_case(&phase),
                weeks: vec![built],
            }),
        }
    }
    Page {
        title: "Your soleus programme".to_owned(),
        about,
        suspended: print.suspended,
        status: match status {
            "cleared" => "Cleared: no answer in your screening changes the plan.",
            "adapted" => "Adapted: some of your answers changed the plan, as listed here.",
            "refer" => "Not started: an answer needs a clinician first. This programme has no exercises.",
            _ => "",
        },
        referral: status == "refer",
        findings,
        disclaimer: text(doc, "/safety/disclaimer"),
        stop_rules,
        ease_rules,
        progress_rules,
        recommendations: array(doc, "/recommendations")
            .iter()
            .filter_map(|r| r.as_str().map(str::to_owned))
            .collect(),
        phases,
        pictures: pictures.into_values().collect(),
    }
}

fn week_of(
    week: &Value,
    start: NaiveDate,
    picture_of: &mut impl FnMut(&str) -> (Option<String>, String),
) -> Week {
    let number = at(week, "/number").as_u64().unwrap_or(0);
    let phase = title_case(&text(week, "/phase"));
    let heading = if at(week, "/deload").as_bool().unwrap_or(false) {
        format!("Week {number}: {phase}, a lighter week")
    } else {
        format!("Week {number}: {phase}")
    };
    let sessions = array(week, "/sessions");
    let dates: Vec<String> = sessions
        .iter()
        .map(|s| {
            let date = at(s, "/date")
                .as_str()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .or_else(|| {
                    let day = at(s, "/day").as_u64().unwrap_or(1).saturating_sub(1);
                    start.checked_add_days(chrono::Days::new(day))
                });
            date.map_or_else(|| format!("Day {}", text(s, "/day")), short_date)
        })
        .collect();
    let mut groups: Vec<(Value, Vec<String>)> = Vec::new();
    for (session, date) in sessions.iter().zip(&dates) {
        let exercises = at(session, "/exercises").clone();
        match groups.iter_mut().find(|(x, _)| *x == exercises) {
            Some((_, days)) => days.push(date.clone()),
            None => groups.push((exercises, vec![date.clone()])),
        }
    }
    let groups = groups
        .into_iter()
        .map(|(exercises, days)| Group {
            caption: match days.as_slice() {
                [one] => format!("Week {number}, session on {one}"),
                _ => format!("Week {number}, each session: {}", days.join(", ")),
            },
            rows: exercises
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| {
                    let (picture, alt) = picture_of(at(x, "/exercise_id").as_str().unwrap_or(""));
                    Row {
                        name: exercise_name(x),
                        picture,
                        alt,
                        dose: dose(x),
                        tempo: tempo(at(x, "/tempo")),
                        load: load(at(x, "/load"), at(x, "/rpe_target").as_u64()),
                        support: support(at(x, "/support_level").as_str().unwrap_or("")),
                    }
                })
                .collect(),
        })
        .collect();
    let mut names: Vec<String> = Vec::new();
    for session in sessions {
        for x in array(session, "/exercises") {
            let name = exercise_name(x);
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    let log = Log {
        sessions: dates,
        exercises: names
            .into_iter()
            .map(|name| LogRow {
                planned: sessions
                    .iter()
                    .map(|s| array(s, "/exercises").iter().any(|x| exercise_name(x) == name))
                    .collect(),
                name,
            })
            .collect(),
    };
    Week {
        number,
        heading,
        groups,
        habits: array(week, "/habits")
            .iter()
            .map(|h| Habit {
                name: text(h, "/name"),
                target: text(h, "/target"),
            })
            .collect(),
        log,
    }
}

/// An SVG document as a `<symbol>` with this id, drawn once and `<use>`d by each row.
fn symbol(svg: &str, id: &str) -> String {
    let open_end = svg.find('>').map_or(0, |i| i + 1);
    let view_box = svg
        .get(..open_end)
        .and_then(|open| open.split("viewBox=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("0 0 100 100");
    let inner = svg
        .get(open_end..)
        .and_then(|rest| rest.rsplit_once("</svg>"))
        .map_or("", |(inner, _)| inner);
    format!("<symbol id=\"{id}\" viewBox=\"{view_box}\">{inner}</symbol>")
}

fn exercise_name(x: &Value) -> String {
    match at(x, "/variant").as_str() {
        Some(variant) => format!("{} ({variant})", text(x, "/name")),
        None => text(x, "/name"),
    }
}

/// "2 × 15 each leg", "3 × 30 s hold", "10 min", with the weaker side's extra sets and
/// twice-a-day work.
pub(crate) fn dose(x: &Value) -> String {
    let sets = at(x, "/sets").as_u64().unwrap_or(1);
    let mut out = match (
        at(x, "/reps").as_u64(),
        at(x, "/hold_seconds").as_u64(),
        at(x, "/minutes").as_u64(),
    ) {
        (Some(reps), _, _) => format!("{sets} × {reps}"),
        (None, Some(hold), _) => format!("{sets} × {hold} s hold"),
        (None, None, Some(minutes)) => format!("{minutes} min"),
        _ => format!("{sets} sets"),
    };
    if at(x, "/side") == "each_leg" {
        out.push_str(" each leg");
    }
    if let (Some(side), Some(extra)) = (
        at(x, "/weaker_side/side").as_str(),
        at(x, "/weaker_side/extra_sets").as_u64(),
    ) {
        let sets = if extra == 1 { "set" } else { "sets" };
        out.push_str(&format!(", +{extra} {sets} on the {side}"));
    }
    if let Some(times) = at(x, "/times_per_day").as_u64().filter(|t| *t > 1) {
        out.push_str(&format!(", {times} times a day"));
    }
    out
}

pub(crate) fn tempo(t: &Value) -> String {
    match (
        at(t, "/up_seconds").as_u64(),
        at(t, "/hold_seconds").as_u64(),
        at(t, "/down_seconds").as_u64(),
    ) {
        (Some(up), Some(hold), Some(down)) => format!("{up} s up, {hold} s hold, {down} s down"),
        _ => "Steady".to_owned(),
    }
}

pub(crate) fn load(l: &Value, rpe: Option<u64>) -> String {
    let placement = match at(l, "/placement").as_str() {
        Some("on_knees") => " on the knees",
        Some("in_hand") => " in one hand",
        Some("backpack") => " in a backpack",
        Some("machine") => " on the machine",
        _ => "",
    };
    let mut out = match at(l, "/kind").as_str() {
        Some("external") => match at(l, "/kg").as_f64() {
            Some(kg) => format!("{} kg{placement}", trim_number(kg)),
            None => format!("Added weight{placement}"),
        },
        Some("repetition_maximum") => format!(
            "The heaviest you can lift {} times{placement}",
            at(l, "/repetition_maximum").as_u64().unwrap_or(0)
        ),
        _ => "Body weight".to_owned(),
    };
    if let Some(rpe) = rpe {
        out.push_str(&format!("; effort {rpe}/10"));
    }
    out
}

pub(crate) fn support(level: &str) -> String {
    match level {
        "chair" => "Seated on a chair",
        "two_hands" => "Two hands on a counter",
        "one_hand" => "One hand on a counter",
        "fingertip" => "Fingertips on a counter",
        "none" => "No support (a counter within reach)",
        _ => "",
    }
    .to_owned()
}

fn goal_words(goal: &str) -> &str {
    match goal {
        "runner_endurance" => "running endurance",
        "fall_prevention" => "fall prevention",
        "circulation" => "circulation",
        other => other,
    }
}

fn trim_number(n: f64) -> String {
    let text = format!("{n:.1}");
    text.strip_suffix(".0").map_or(text.clone(), str::to_owned)
}

fn title_case(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn long_date(d: NaiveDate) -> String {
    d.format("%A %-d %B %Y").to_string()
}

fn short_date(d: NaiveDate) -> String {
    d.format("%a %-d %b").to_string()
}

fn at<'a>(value: &'a Value, pointer: &str) -> &'a Value {
    value.pointer(pointer).unwrap_or(&Value::Null)
}

fn array<'a>(value: &'a Value, pointer: &str) -> &'a [Value] {
    at(value, pointer).as_array().map_or(&[], Vec::as_slice)
}

fn text(value: &Value, pointer: &str) -> String {
    match at(value, pointer) {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::programme::input::ProgrammeRequest;

    fn document(request: serde_json::Value) -> Value {
        let request: ProgrammeRequest = serde_json::from_value(request).unwrap_or_else(|e| panic!("{e}"));
        let catalogue = crate::domain::programme::tests::catalogue();
        serde_json::to_value(crate::domain::programme::generate(&request, catalogue)).unwrap_or_default()
    }

    fn render(doc: &Value) -> String {
        let picture = |id: &str| {
            Some((
                format!(
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 20\"><title>{id}</title><circle cx=\"5\" cy=\"5\" r=\"4\"/></svg>"
                ),
                format!("Drawing of {id}"),
            ))
        };
        html(
            &Print {
                version: 2,
                suspended: false,
                fallback_start: NaiveDate::from_ymd_opt(2026, 12, 7).unwrap_or_default(),
                illustration: &picture,
            },
            doc,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn older_72() -> Value {
        document(serde_json::json!({
            "age": 72, "activity_level": "lightly_active", "goals": ["fall_prevention"],
            "fall_risk": {"fallen_past_year": true},
            "screening": {"chest_pain": false, "dizziness_or_fainting": false, "calf_swelling_warmth_redness": false, "acute_calf_strain": false},
            "start_date": "2026-12-07"
        }))
    }

    #[test]
    fn every_week_has_its_table_and_log_sheet_and_every_exercise_its_picture() {
        let doc = older_72();
        let page = render(&doc);
        let weeks = doc["weeks"].as_array().map_or(0, Vec::len);
        assert_eq!(weeks, 12);
        assert_eq!(page.matches("class=\"week\"").count(), weeks);
        assert_eq!(page.matches("class=\"log\"").count(), weeks);
        for week in doc["weeks"].as_array().into_iter().flatten() {
            for session in week["sessions"].as_array().into_iter().flatten() {
                for x in session["exercises"].as_array().into_iter().flatten() {
                    let id = x["exercise_id"].as_str().unwrap_or_default();
                    assert!(page.contains(&format!("<symbol id=\"pic-{id}\"")), "{id}");
                    assert!(page.contains(&format!("href=\"#pic-{id}\"")), "{id}");
                }
            }
        }
        assert_eq!(
            page.matches("<symbol ").count(),
            page.matches("<title>").count() - 1
        );
        assert!(!page.contains("<script"));
        assert!(!page.contains("http://") || !page.contains("src=\"http"));
    }

    #[test]
    fn the_safety_findings_and_the_stop_rules_are_in_plain_words() {
        let page = render(&older_72());
        assert!(page.contains("SCR-11"), "the fall-risk finding");
        for rule in ["STP-01", "STP-02", "STP-03", "REG-01", "REG-02"] {
            assert!(page.contains(rule), "{rule}");
        }
        assert!(page.contains("not medical advice"));
    }

    #[test]
    fn a_referral_says_so_and_has_no_weeks() {
        let doc = document(serde_json::json!({
            "age": 60, "activity_level": "sedentary", "goals": ["circulation"],
            "screening": {"chest_pain": false, "dizziness_or_fainting": false, "calf_swelling_warmth_redness": true, "acute_calf_strain": false}
        }));
        let page = render(&doc);
        assert!(page.contains("needs a clinician first"));
        assert!(page.contains("SCR-01"));
        assert_eq!(page.matches("class=\"week\"").count(), 0);
    }

    #[test]
    fn values_are_escaped() {
        let mut doc = older_72();
        doc["weeks"][0]["sessions"][0]["exercises"][0]["name"] = "<b>Raise</b> & hold".into();
        let page = render(&doc);
        assert!(
            page.contains("&lt;b&gt;Raise&lt;&#x2f;b&gt; &amp; hold"),
            "escaped"
        );
        assert!(!page.contains("<b>Raise"));
    }

    #[test]
    fn doses_read_as_people_write_them() {
        let x = serde_json::json!({"sets": 2, "reps": 15, "side": "each_leg", "weaker_side": {"side": "left", "extra_sets": 1}});
        assert_eq!(dose(&x), "2 × 15 each leg, +1 set on the left");
        assert_eq!(
            dose(&serde_json::json!({"sets": 3, "hold_seconds": 30})),
            "3 × 30 s hold"
        );
        assert_eq!(
            load(
                &serde_json::json!({"kind": "external", "kg": 2.5, "placement": "in_hand"}),
                Some(7)
            ),
            "2.5 kg in one hand; effort 7/10"
        );
        assert_eq!(
            tempo(&serde_json::json!({"up_seconds": 3, "hold_seconds": 1, "down_seconds": 5})),
            "3 s up, 1 s hold, 5 s down"
        );
    }
}
