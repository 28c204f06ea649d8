//! The exercise catalogue: one reviewed data file (`exercises.json`), validated when loaded,
//! held in memory and filtered here. Pure Rust: no HTTP, no database.
//!
//! The database gets a copy of every exercise at start-up (see `repository::exercises`) so that
//! stored sessions can reference exercise ids; the API reads from this in-memory catalogue.

pub mod illustration;
pub mod model;
mod validate;

use std::collections::{BTreeMap, HashMap};

use serde_json::value::RawValue;
use sha2::{Digest as _, Sha256};

pub use model::{
    Category, ContractionMode, Equipment, Exercise, ExerciseLink, Goal, Laterality, Media, Position,
    SoleusBias, SupportLevel,
};
pub use validate::REQUIRED_IDS;

/// The catalogue shipped in the binary.
pub const EMBEDDED: &str = include_str!("exercises.json");
/// How each exercise is drawn: `{id: {alt, pose}}` (see [`illustration`]).
pub const POSES: &str = include_str!("poses.json");

/// (up, hold, down) seconds of the animation: the exercise's tempo, or for rhythmic work its
/// cadence (40% up, 20% at the top, 40% down).
pub(crate) fn drawing_tempo(exercise: &Exercise) -> (f64, f64, f64) {
    let cycle = exercise
        .cadence_per_minute
        .as_ref()
        .map_or(2.5, |c| 120.0 / f64::from((c.min + c.max).max(1)));
    exercise
        .tempo
        .as_ref()
        .map_or((0.4 * cycle, 0.2 * cycle, 0.4 * cycle), |t| {
            (
                f64::from(t.up_seconds),
                f64::from(t.hold_seconds),
                f64::from(t.down_seconds),
            )
        })
}

/// Why a data file was rejected: every problem found, one per line.
#[derive(Debug, thiserror::Error)]
#[error("the exercise catalogue is invalid:\n- {}", .0.join("\n- "))]
pub struct CatalogueError(pub Vec<String>);

/// The validated catalogue, sorted by id.
#[derive(Debug, Clone)]
pub struct Catalogue {
    version: String,
    licence: String,
    disclaimer: String,
    exercises: Vec<Exercise>,
    /// Each exercise serialised once, at load: pages are assembled from these.
    json: Vec<Box<RawValue>>,
    index: HashMap<String, usize>,
}

impl Catalogue {
    /// Loads the catalogue compiled into the binary.
    pub fn embedded() -> Result<Self, CatalogueError> {
        Self::from_json(EMBEDDED)
    }

    /// Parses and validates a data file; on success, derives regressions and link names.
    pub fn from_json(text: &str) -> Result<Self, CatalogueError> {
        let file: model::DataFile = serde_json::from_str(text)
            .map_err(|e| CatalogueError(vec![format!("the data file does not parse: {e}")]))?;
        let poses: BTreeMap<String, illustration::Illustrated> = serde_json::from_str(POSES)
            .map_err(|e| CatalogueError(vec![format!("poses.json does not parse: {e}")]))?;
        let mut problems = validate::problems(&file);
        problems.extend(validate::pose_problems(&file.exercises, &poses));
        if !problems.is_empty() {
            return Err(CatalogueError(problems));
        }
        let mut hasher = Sha256::new();
        hasher.update(text.as_bytes());
        hasher.update(POSES.as_bytes());
        let hash = hasher.finalize();
        let version = format!("{}+{}", file.version, &hex(&hash)[..12]);
        let mut exercises = file.exercises;
        exercises.sort_by(|a, b| a.id.cmp(&b.id));
        let names: HashMap<String, String> =
            exercises.iter().map(|e| (e.id.clone(), e.name.clone())).collect();
        let link = |id: &str| ExerciseLink {
            id: id.to_owned(),
            name: names.get(id).cloned().unwrap_or_default(),
        };
        let mut regressions: HashMap<String, Vec<ExerciseLink>> = HashMap::new();
        for e in &exercises {
            for p in &e.progressions {
                regressions.entry(p.id.clone()).or_default().push(link(&e.id));
            }
        }
        for e in &mut exercises {
            e.pose = poses.get(&e.id).cloned();
            e.media = illustration::Frame::ALL
                .iter()
                .map(|frame| Media {
                    url: format!("/v1/exercises/{}/illustration.svg?frame={}", e.id, frame.as_str()),
                    media_type: "image/svg+xml".to_owned(),
                    frame: frame.as_str().to_owned(),
                    alt: e.pose.as_ref().map(|p| p.alt.clone()).unwrap_or_default(),
                    licence: file.licence.clone(),
                })
                .collect();
            e.progressions = e.progressions.iter().map(|p| link(&p.id)).collect();
            e.regressions = regressions.remove(&e.id).unwrap_or_default();
            e.regressions.sort_by(|a, b| a.id.cmp(&b.id));
        }
        let index = exercises
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.clone(), i))
            .collect();
        let json = exercises
            .iter()
            .map(serde_json::value::to_raw_value)
            .collect::<Result<_, _>>()
            .map_err(|e| CatalogueError(vec![format!("an exercise does not serialise: {e}")]))?;
        Ok(Self {
            version,
            licence: file.licence,
            disclaimer: file.disclaimer,
            exercises,
            json,
            index,
        })
    }

    /// Dataset version: the file's semantic version plus a content hash, so it changes
    /// whenever the content does.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn licence(&self) -> &str {
        &self.licence
    }

    pub fn disclaimer(&self) -> &str {
        &self.disclaimer
    }

    pub fn all(&self) -> &[Exercise] {
        &self.exercises
    }

    pub fn get(&self, id: &str) -> Option<&Exercise> {
        self.index.get(id).and_then(|&i| self.exercises.get(i))
    }

    /// The exercise's picture as a standalone SVG document: its name as the title, its alt
    /// text as the description, animated at its tempo (1 s up and down when it has none).
    pub fn illustration(&self, id: &str, frame: illustration::Frame) -> Option<String> {
        let exercise = self.get(id)?;
        let drawn = exercise.pose.as_ref()?;
        Some(illustration::render(
            &drawn.pose,
            frame,
            &exercise.name,
            &drawn.alt,
            drawing_tempo(exercise),
        ))
    }

    /// The exercise as the API serves it, serialised once at load.
    pub fn json(&self, id: &str) -> Option<&RawValue> {
        self.index
            .get(id)
            .and_then(|&i| self.json.get(i))
            .map(AsRef::as_ref)
    }

    /// The page of exercises matching `filter` whose id sorts after `after`.
    pub fn page(&self, filter: &Filter, after: Option<&str>, limit: usize) -> Page<'_> {
        let matching: Vec<&Exercise> = self.exercises.iter().filter(|e| filter.matches(e)).collect();
        let total = matching.len();
        let start = after.map_or(0, |a| matching.partition_point(|e| e.id.as_str() <= a));
        let rest = matching.get(start..).unwrap_or_default();
        let items: Vec<&Exercise> = rest.iter().take(limit).copied().collect();
        let next_after = (rest.len() > items.len())
            .then(|| items.last().map(|e| e.id.clone()))
            .flatten();
        Page {
            items,
            next_after,
            total,
        }
    }

    /// Counts per vocabulary value, for clients that cache the catalogue.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for e in &self.exercises {
            for g in &e.goals {
                *counts.goal.entry(g.goal.as_str()).or_default() += 1;
            }
            *counts.position.entry(e.position.as_str()).or_default() += 1;
            *counts.category.entry(e.category.as_str()).or_default() += 1;
            for q in &e.equipment {
                *counts.equipment.entry(q.as_str()).or_default() += 1;
            }
        }
        counts
    }
}

/// Number of exercises per goal, position, category and equipment item.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub goal: BTreeMap<&'static str, usize>,
    pub position: BTreeMap<&'static str, usize>,
    pub category: BTreeMap<&'static str, usize>,
    pub equipment: BTreeMap<&'static str, usize>,
}

/// One page of a filtered listing.
#[derive(Debug)]
pub struct Page<'a> {
    pub items: Vec<&'a Exercise>,
    /// The id to continue after, when more results follow.
    pub next_after: Option<String>,
    /// How many exercises match the filter in all.
    pub total: usize,
}

/// Catalogue filters; every present filter must match.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Filter {
    pub goal: Option<Goal>,
    /// Exercises that use this item; `none` selects exercises that need no equipment.
    pub equipment: Option<Equipment>,
    /// Only exercises doable with this equipment ("only what I have").
    pub available_equipment: Option<Vec<Equipment>>,
    pub position: Option<Position>,
    pub laterality: Option<Laterality>,
    pub soleus_bias: Option<SoleusBias>,
    pub support_level: Option<SupportLevel>,
    pub category: Option<Category>,
    pub max_difficulty: Option<u8>,
    /// Words that must all appear in the name or summary (case-insensitive).
    pub text: Option<String>,
}

impl Filter {
    pub fn matches(&self, e: &Exercise) -> bool {
        fn eq<T: PartialEq>(want: Option<T>, have: T) -> bool {
            want.is_none_or(|w| w == have)
        }
        eq(self.position, e.position)
            && eq(self.laterality, e.laterality)
            && eq(self.soleus_bias, e.soleus_bias)
            && eq(self.category, e.category)
            && self.goal.is_none_or(|g| e.serves(g))
            && self.support_level.is_none_or(|s| e.support_levels.contains(&s))
            && self.max_difficulty.is_none_or(|d| e.difficulty <= d)
            && self.equipment.is_none_or(|q| match q {
                Equipment::None => e.equipment == [Equipment::None],
                q => e.equipment.contains(&q),
            })
            && self.available_equipment.as_ref().is_none_or(|have| {
                e.equipment
                    .iter()
                    .all(|q| *q == Equipment::None || have.contains(q))
            })
            && self.text.as_ref().is_none_or(|text| {
                let haystack = format!("{} {}", e.name, e.summary).to_lowercase();
                text.to_lowercase()
                    .split_whitespace()
                    .all(|w| haystack.contains(w))
            })
    }

    /// A short fingerprint of the filter, so a cursor cannot be reused with other filters.
    pub fn fingerprint(&self) -> String {
        let text = format!("{self:?}");
        hex(&Sha256::digest(text.as_bytes()))[..8].to_owned()
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue::embedded().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_shipped_catalogue_is_valid_and_complete() {
        let c = catalogue();
        assert!(c.all().len() >= 24, "{}", c.all().len());
        for id in REQUIRED_IDS {
            assert!(c.get(id).is_some(), "missing {id}");
        }
        assert!(c.version().starts_with("1.1.0+"), "{}", c.version());
    }

    #[test]
    fn regressions_are_the_inverse_of_progressions() {
        let c = catalogue();
        let seated = c.get("seated-calf-raise").unwrap();
        assert!(
            seated
                .regressions
                .iter()
                .any(|l| l.id == "soleus-pushup" && l.name == "Seated soleus push-up")
        );
        for e in c.all() {
            for p in &e.progressions {
                let target = c.get(&p.id).unwrap();
                assert!(
                    target.regressions.iter().any(|r| r.id == e.id),
                    "{} -> {}",
                    e.id,
                    p.id
                );
                assert_eq!(p.name, target.name);
            }
        }
    }

    #[test]
    fn filters_narrow_and_combine() {
        let c = catalogue();
        let all = c.all().len();
        let by = |f: Filter| {
            c.page(&f, None, 1000)
                .items
                .iter()
                .map(|e| e.id.clone())
                .collect::<Vec<_>>()
        };

        let seated = by(Filter {
            position: Some(Position::Seated),
            ..Filter::default()
        });
        assert!(!seated.is_empty() && seated.len() < all);
        assert!(
            seated
                .iter()
                .all(|id| c.get(id).unwrap().position == Position::Seated)
        );

        let none = by(Filter {
            equipment: Some(Equipment::None),
            ..Filter::default()
        });
        assert!(
            none.iter()
                .all(|id| c.get(id).unwrap().equipment == [Equipment::None])
        );
        assert!(none.contains(&"walking".to_owned()));

        let have = by(Filter {
            available_equipment: Some(vec![Equipment::Chair]),
            ..Filter::default()
        });
        assert!(have.contains(&"seated-calf-raise".to_owned()) && have.contains(&"walking".to_owned()));
        assert!(
            !have.contains(&"seated-soleus-raise-loaded".to_owned()),
            "needs a free weight"
        );

        let both = by(Filter {
            goal: Some(Goal::FallPrevention),
            soleus_bias: Some(SoleusBias::High),
            ..Filter::default()
        });
        assert!(!both.is_empty());
        for id in &both {
            let e = c.get(id).unwrap();
            assert!(
                e.serves(Goal::FallPrevention) && e.soleus_bias == SoleusBias::High,
                "{id}"
            );
        }

        let text = by(Filter {
            text: Some("SOLEUS push".into()),
            ..Filter::default()
        });
        assert_eq!(text, ["soleus-pushup"]);
        let easy = by(Filter {
            max_difficulty: Some(1),
            ..Filter::default()
        });
        assert!(easy.iter().all(|id| c.get(id).unwrap().difficulty == 1));
    }

    #[test]
    fn paging_returns_each_match_exactly_once() {
        let c = catalogue();
        let filter = Filter::default();
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = c.page(&filter, after.as_deref(), 7);
            assert_eq!(page.total, c.all().len());
            seen.extend(page.items.iter().map(|e| e.id.clone()));
            match page.next_after {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let all: Vec<String> = c.all().iter().map(|e| e.id.clone()).collect();
        assert_eq!(seen, all);
    }

    #[test]
    fn counts_cover_every_goal() {
        let counts = catalogue().counts();
        for g in Goal::ALL {
            assert!(counts.goal.get(g.as_str()).copied().unwrap_or(0) >= 8, "{g:?}");
        }
    }
}
