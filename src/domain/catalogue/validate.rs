//! Rules every catalogue data file must pass before the server will start with it.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::illustration::{Base, Illustrated, Prop};
use super::model::{Category, DataFile, Equipment, Exercise, Goal, Laterality, Position};

/// Exercises the seed articles and the programme tables (domain brief §9) need.
pub const REQUIRED_IDS: &[&str] = &[
    "seated-calf-raise",
    "seated-soleus-raise-loaded",
    "soleus-pushup",
    "bent-knee-wall-calf-raise",
    "wall-sit-soleus-raise",
    "standing-bent-knee-heel-raise",
    "standing-heel-raise",
    "single-leg-bent-knee-heel-raise",
    "single-leg-heel-raise-dumbbell",
    "step-heel-raise",
    "eccentric-heel-drop-straight-knee",
    "eccentric-heel-drop-bent-knee",
    "leg-press-soleus-press",
    "single-leg-bent-knee-isometric-hold",
    "loaded-carry-bent-knee",
    "walking",
    "stair-climbing",
    "bent-knee-soleus-stretch",
    "straight-knee-calf-stretch",
    "seated-toe-raise",
    "ankle-pumps",
    "pre-stand-calf-pump",
    "single-leg-stance",
    "tandem-stance-and-walk",
    "sit-to-stand",
    "single-leg-heel-raise-test",
];

/// Claims the evidence does not support (domain brief §3.6, §11); no text may make them.
const FORBIDDEN_CLAIMS: &[&str] = &[
    "prevents blood clots",
    "prevent blood clots",
    "prevents dvt",
    "prevent dvt",
    "lowers blood pressure",
    "lower your blood pressure",
    "reduces mortality",
    "cognitive",
    "burns fat",
    "cures",
    "second heart",
];

/// Every problem with the file (empty when it is valid).
pub fn problems(file: &DataFile) -> Vec<String> {
    let mut out = Vec::new();
    let mut ids = HashSet::new();
    for e in &file.exercises {
        if !ids.insert(e.id.as_str()) {
            out.push(format!("{}: duplicate id", e.id));
        }
        exercise_problems(e, &mut out);
    }
    for e in &file.exercises {
        for p in &e.progressions {
            if !ids.contains(p.id.as_str()) {
                out.push(format!("{}: progression `{}` is not an exercise", e.id, p.id));
            }
            if p.id == e.id {
                out.push(format!("{}: lists itself as a progression", e.id));
            }
        }
    }
    if let Some(cycle) = find_cycle(&file.exercises) {
        out.push(format!("progression cycle: {}", cycle.join(" -> ")));
    }
    for id in REQUIRED_IDS {
        if !ids.contains(id) {
            out.push(format!("required exercise `{id}` is missing"));
        }
    }
    coverage_problems(&file.exercises, &mut out);
    out
}

fn exercise_problems(e: &Exercise, out: &mut Vec<String>) {
    let mut bad = |what: &str| out.push(format!("{}: {what}", e.id));
    let slug = !e.id.is_empty()
        && e.id.split('-').all(|part| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !slug {
        bad("id must be a lowercase slug (a-z, 0-9, single hyphens)");
    }
    for (field, empty) in [
        ("code", e.code.is_empty()),
        ("name", e.name.is_empty()),
        ("summary", e.summary.is_empty()),
        ("instructions", e.instructions.is_empty()),
        ("coaching_cues", e.coaching_cues.is_empty()),
        ("common_mistakes", e.common_mistakes.is_empty()),
        ("goals", e.goals.is_empty()),
        ("evidence", e.evidence.is_empty()),
        ("equipment", e.equipment.is_empty()),
        ("support_levels", e.support_levels.is_empty()),
    ] {
        if empty {
            bad(&format!("{field} must not be empty"));
        }
    }
    if e.equipment.contains(&Equipment::None) && e.equipment.len() > 1 {
        bad("equipment `none` must stand alone");
    }
    if !(1..=5).contains(&e.difficulty) {
        bad("difficulty must be 1 to 5");
    }
    let ranges = e
        .dosage
        .values()
        .flat_map(|d| {
            [
                d.sets,
                d.reps,
                d.hold_seconds,
                d.minutes,
                d.rest_seconds,
                d.sessions_per_week,
                d.bouts_per_day,
            ]
        })
        .chain([e.ladder, e.cadence_per_minute])
        .flatten();
    for r in ranges {
        if r.min > r.max {
            bad(&format!("range {}..{} has min above max", r.min, r.max));
        }
    }
    if e.ladder.is_some_and(|l| l.max > 8) {
        bad("ladder levels run from 0 to 8");
    }
    if e.knee_angle_deg.is_some_and(|k| k > 120) {
        bad("knee angle must be 0-120 degrees");
    }
    let goals: HashSet<Goal> = e.goals.iter().map(|g| g.goal).collect();
    let dosed: HashSet<Goal> = e.dosage.keys().copied().collect();
    if goals != dosed {
        bad("every goal needs a default dosage, and every dosage a goal");
    }
    if goals.len() != e.goals.len() {
        bad("a goal is listed twice");
    }
    for c in &e.cautions {
        if c.rules.is_empty() || !c.rules.iter().all(|r| is_rule_id(r)) {
            bad(&format!(
                "caution rules must be SCR-nn, STP-nn or REG-nn ids: {:?}",
                c.rules
            ));
        }
    }
    for ev in &e.evidence {
        if !["E1", "E2", "E3", "EO"].contains(&ev.level.as_str()) {
            bad(&format!("evidence level `{}` must be E1, E2, E3 or EO", ev.level));
        }
    }
    let text = texts(e).join("\n").to_lowercase();
    for claim in FORBIDDEN_CLAIMS {
        if text.contains(claim) {
            bad(&format!("makes an unsupported claim (`{claim}`)"));
        }
    }
}

fn texts(e: &Exercise) -> Vec<&str> {
    let mut t: Vec<&str> = vec![&e.name, &e.summary];
    t.extend(e.instructions.iter().map(String::as_str));
    t.extend(e.coaching_cues.iter().map(String::as_str));
    t.extend(e.common_mistakes.iter().map(String::as_str));
    t.extend(e.goals.iter().map(|g| g.reason.as_str()));
    t.extend(e.cautions.iter().map(|c| c.text.as_str()));
    t.extend(e.dosage.values().map(|d| d.note.as_str()));
    t
}

fn is_rule_id(r: &str) -> bool {
    r.split_once('-').is_some_and(|(prefix, n)| {
        ["SCR", "STP", "REG"].contains(&prefix) && n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Each goal needs enough exercises for its programmes (domain brief §9).
fn coverage_problems(exercises: &[Exercise], out: &mut Vec<String>) {
    let serving = |g: Goal| exercises.iter().filter(move |e| e.serves(g));
    for g in Goal::ALL {
        let n = serving(*g).count();
        if n < 8 {
            out.push(format!(
                "goal {}: only {n} exercises (at least 8 needed)",
                g.as_str()
            ));
        }
    }
    let count = |g: Goal, c: Category| serving(g).filter(|e| e.category == c).count();
    if count(Goal::FallPrevention, Category::Balance) < 2 {
        out.push("goal fall_prevention: needs at least 2 balance exercises (the bundle of §4.2)".into());
    }
    if count(Goal::FallPrevention, Category::Functional) < 1 {
        out.push("goal fall_prevention: needs a functional exercise such as sit-to-stand".into());
    }
    if count(Goal::Circulation, Category::Circulation) < 2 {
        out.push("goal circulation: needs at least 2 daily-habit (circulation) exercises".into());
    }
    let heavy = serving(Goal::RunnerEndurance)
        .filter(|e| {
            e.equipment
                .iter()
                .any(|q| matches!(q, Equipment::FreeWeight | Equipment::LegPressMachine))
        })
        .count();
    if heavy < 2 {
        out.push(
            "goal runner_endurance: needs at least 2 loaded exercises (tendon adaptation needs heavy load)"
                .into(),
        );
    }
}

/// A progression cycle, if there is one (as the list of ids around it).
fn find_cycle(exercises: &[Exercise]) -> Option<Vec<String>> {
    let edges: HashMap<&str, Vec<&str>> = exercises
        .iter()
        .map(|e| {
            (
                e.id.as_str(),
                e.progressions.iter().map(|p| p.id.as_str()).collect(),
            )
        })
        .collect();
    // 0 = unvisited, 1 = on the current path, 2 = done.
    let mut state: HashMap<&str, u8> = HashMap::new();
    let mut path: Vec<&str> = Vec::new();

    fn visit<'a>(
        node: &'a str,
        edges: &HashMap<&'a str, Vec<&'a str>>,
        state: &mut HashMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(1) => {
                let start = path.iter().position(|n| *n == node).unwrap_or(0);
                let mut cycle: Vec<String> = path
                    .get(start..)
                    .unwrap_or_default()
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            Some(2) => return None,
            _ => {}
        }
        state.insert(node, 1);
        path.push(node);
        for next in edges.get(node).into_iter().flatten() {
            if edges.contains_key(next)
                && let Some(cycle) = visit(next, edges, state, path)
            {
                return Some(cycle);
            }
        }
        path.pop();
        state.insert(node, 2);
        None
    }

    let mut ids: Vec<&str> = edges.keys().copied().collect();
    ids.sort_unstable();
    ids.into_iter()
        .find_map(|id| visit(id, &edges, &mut state, &mut path))
}

/// Each exercise is drawn as it is described: seated ones on a chair, wall sits against the
/// wall, the leg press on its sled, step work with the forefoot on a step and (for heel drops and
/// step raises) the heel below it, single-leg work on one leg, and the knee at the exercise's own
/// angle (within 10°) in both positions (where a transition starts, for sit-to-stand).
pub(super) fn pose_problems(exercises: &[Exercise], poses: &BTreeMap<String, Illustrated>) -> Vec<String> {
    let mut out = Vec::new();
    for e in exercises {
        let Some(drawn) = poses.get(&e.id) else {
            out.push(format!("{}: no pose in poses.json", e.id));
            continue;
        };
        let p = &drawn.pose;
        let id = &e.id;
        let has = |prop: Prop| p.props.contains(&prop);
        if drawn.alt.trim().len() < 20 {
            out.push(format!("{id}: the alt text says too little"));
        }
        match e.position {
            Position::Seated if !(p.base == Base::Seat && has(Prop::Chair)) => {
                out.push(format!("{id}: seated, so drawn on a chair"));
            }
            Position::WallSit if !(p.base == Base::WallSit && has(Prop::Wall)) => {
                out.push(format!("{id}: a wall sit, so drawn with the back on a wall"));
            }
            Position::Machine if !(p.base == Base::Sled && has(Prop::LegPressSled)) => {
                out.push(format!("{id}: on a machine, so drawn on the leg-press sled"));
            }
            _ => {}
        }
        if e.equipment.contains(&Equipment::Step) {
            if !(has(Prop::Step) && matches!(p.base, Base::StepEdge | Base::Stair)) {
                out.push(format!("{id}: uses a step, so drawn on one"));
            }
            if p.base == Base::StepEdge && !p.heel_below_step {
                out.push(format!("{id}: off a step edge, so the heel goes below the step"));
            }
        }
        if e.equipment.contains(&Equipment::Wall) && !has(Prop::Wall) {
            out.push(format!("{id}: uses a wall, so drawn with one"));
        }
        if e.equipment.contains(&Equipment::LegPressMachine) && !has(Prop::LegPressSled) {
            out.push(format!("{id}: uses the leg press, so drawn with it"));
        }
        if e.laterality == Laterality::SingleLeg && !p.single_leg && p.other_leg.is_none() {
            out.push(format!("{id}: single-leg, so drawn on one leg"));
        }
        if let Some(knee) = e.knee_angle_deg {
            let knee = f64::from(knee);
            // A transition (sit-to-stand) holds the angle only where it starts.
            let frames = if p.end_base.is_some() {
                vec![("start", &p.start)]
            } else {
                vec![("start", &p.start), ("end", &p.end)]
            };
            for (frame, joints) in frames {
                if (joints.knee - knee).abs() > 10.0 && e.position != Position::Walking {
                    out.push(format!(
                        "{id}: the {frame} position's knee is {}°, the exercise's {knee}°",
                        joints.knee
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{Catalogue, EMBEDDED};
    use serde_json::Value;

    /// The pose rules on the shipped data with one pose (or exercise) changed.
    fn pose_broken(edit: impl FnOnce(&mut Value, &mut Value)) -> Vec<String> {
        let mut doc: Value = serde_json::from_str(EMBEDDED).unwrap();
        let mut poses: Value = serde_json::from_str(super::super::POSES).unwrap();
        edit(&mut doc, &mut poses);
        let file: super::DataFile = serde_json::from_value(doc).unwrap();
        super::pose_problems(&file.exercises, &serde_json::from_value(poses).unwrap())
    }

    #[test]
    fn every_shipped_pose_passes_and_a_wrong_one_is_named() {
        assert_eq!(pose_broken(|_, _| {}), Vec::<String>::new());
        let standing = pose_broken(|_, p| p["seated-calf-raise"]["pose"]["base"] = "floor".into());
        assert_eq!(standing, ["seated-calf-raise: seated, so drawn on a chair"]);
        let flat =
            pose_broken(|_, p| p["eccentric-heel-drop-bent-knee"]["pose"]["heel_below_step"] = false.into());
        assert_eq!(
            flat,
            ["eccentric-heel-drop-bent-knee: off a step edge, so the heel goes below the step"]
        );
        let knee = pose_broken(|_, p| p["bent-knee-wall-calf-raise"]["pose"]["end"]["knee"] = 0.0.into());
        assert_eq!(
            knee,
            ["bent-knee-wall-calf-raise: the end position's knee is 0°, the exercise's 30°"]
        );
        let two_legs = pose_broken(|_, p| p["single-leg-heel-raise"]["pose"]["single_leg"] = false.into());
        assert_eq!(
            two_legs,
            ["single-leg-heel-raise: single-leg, so drawn on one leg"]
        );
        let missing = pose_broken(|_, p| {
            p.as_object_mut().unwrap().remove("walking");
        });
        assert_eq!(missing, ["walking: no pose in poses.json"]);
    }

    fn broken(edit: impl FnOnce(&mut Value)) -> Vec<String> {
        let mut doc: Value = serde_json::from_str(EMBEDDED).unwrap();
        edit(&mut doc);
        match Catalogue::from_json(&doc.to_string()) {
            Ok(_) => panic!("the broken copy was accepted"),
            Err(e) => e.0,
        }
    }

    fn exercise<'a>(doc: &'a mut Value, id: &str) -> &'a mut Value {
        doc["exercises"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|e| e["id"] == id)
            .unwrap()
    }

    #[test]
    fn a_broken_link_is_rejected() {
        let errors = broken(|doc| {
            exercise(doc, "walking")["progressions"] = serde_json::json!(["moon-walk"]);
        });
        assert!(
            errors
                .iter()
                .any(|e| e == "walking: progression `moon-walk` is not an exercise"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_cycle_is_rejected() {
        let errors = broken(|doc| {
            exercise(doc, "seated-soleus-raise-loaded")["progressions"] =
                serde_json::json!(["soleus-pushup"]);
        });
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("progression cycle:") && e.contains("soleus-pushup")),
            "{errors:?}"
        );
    }

    #[test]
    fn a_missing_seed_exercise_and_an_unsupported_claim_are_rejected() {
        let errors = broken(|doc| {
            doc["exercises"]
                .as_array_mut()
                .unwrap()
                .retain(|e| e["id"] != "wall-sit-soleus-raise");
            exercise(doc, "ankle-pumps")["summary"] = "Prevents DVT on long flights.".into();
        });
        assert!(
            errors
                .iter()
                .any(|e| e.contains("`wall-sit-soleus-raise` is missing")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("ankle-pumps: makes an unsupported claim")),
            "{errors:?}"
        );
    }

    #[test]
    fn structural_mistakes_are_rejected() {
        let errors = broken(|doc| {
            let e = exercise(doc, "walking");
            e["dosage"].as_object_mut().unwrap().remove("circulation");
            e["equipment"] = serde_json::json!(["none", "chair"]);
            e["cautions"][0]["rules"] = serde_json::json!(["SCR-1"]);
        });
        assert!(
            errors
                .iter()
                .any(|e| e.contains("walking: every goal needs a default dosage")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("walking: equipment `none` must stand alone")),
            "{errors:?}"
        );
        assert!(
            errors.iter().any(|e| e.contains("walking: caution rules")),
            "{errors:?}"
        );
    }

    #[test]
    fn an_unknown_field_in_the_file_is_rejected() {
        let errors = broken(|doc| {
            exercise(doc, "walking")["colour"] = "blue".into();
        });
        assert!(
            errors.iter().any(|e| e.contains("unknown field `colour`")),
            "{errors:?}"
        );
    }
}
