//! The exercise catalogue: `GET /v1/exercises`, `GET /v1/exercises/{id}`, `GET /v1/catalogue`.
//!
//! Every response carries a strong `ETag`, `Cache-Control` and `X-Dataset-Version`; a matching
//! `If-None-Match` gets 304.

use actix_web::{HttpRequest, HttpResponse, get, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::domain::catalogue::{
    Catalogue, Category, ContractionMode, Counts, Equipment, Exercise, Filter, Goal, Laterality, Position,
    SoleusBias, SupportLevel,
};
use crate::error::{ApiError, Problem};
use crate::http::conditional::{cached_json, cached_rendered, etag};
use crate::http::extract::{parse_list, parse_query};
use crate::http::next_link;
use crate::http::rendered::{self, Rendered};

/// Catalogue content only changes with a deployment: caches may keep it for an hour and then
/// revalidate cheaply with the ETag.
const CACHE_CONTROL: &str = "public, max-age=3600";
const DATASET_HEADER: &str = "X-Dataset-Version";
const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// Filters and paging for the exercise list. Every filter given must match.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExerciseListQuery {
    /// Exercises that serve this goal.
    pub goal: Option<Goal>,
    /// Exercises that use this item; `none` selects exercises that need no equipment at all.
    pub equipment: Option<Equipment>,
    /// "Only what I have": the equipment you own; exercises needing anything else are left out.
    /// Exercises needing nothing are always included. Repeat the parameter
    /// (`available_equipment=chair&available_equipment=wall`) or give a comma-separated list
    /// (`available_equipment=chair,wall`).
    #[param(value_type = Option<Vec<Equipment>>, style = Form, explode = true, min_items = 1, example = json!(["chair", "wall"]))]
    pub available_equipment: Option<String>,
    pub position: Option<Position>,
    pub laterality: Option<Laterality>,
    pub soleus_bias: Option<SoleusBias>,
    /// Exercises that can be done with this support level.
    pub support_level: Option<SupportLevel>,
    pub category: Option<Category>,
    /// Hardest difficulty to include (1–5).
    #[validate(range(min = 1, max = 5))]
    #[param(minimum = 1, maximum = 5)]
    pub max_difficulty: Option<u8>,
    /// Words that must all appear in the name or summary (case-insensitive).
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100, example = "seated raise")]
    pub q: Option<String>,
    /// Opaque cursor from `next_cursor` (or the `Link: rel="next"` header) of the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    /// Page size, 1–100 (default 20).
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A page of exercises.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExercisePage<'a> {
    /// Each exercise as `GET /v1/exercises/{id}` serves it (pre-serialised at load).
    #[schema(value_type = Vec<Exercise>)]
    pub items: Vec<&'a RawValue>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many exercises match the filters in all.
    pub total: usize,
    pub dataset_version: String,
}

/// What a mobile app needs to cache the catalogue offline and know when to refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueOverview {
    /// Changes whenever any exercise changes; also sent as `X-Dataset-Version`.
    #[schema(example = "1.0.0+3f2a9c1b7d4e")]
    pub dataset_version: String,
    pub exercise_count: usize,
    pub licence: String,
    pub disclaimer: String,
    pub counts: Counts,
    pub vocabularies: Vocabularies,
    /// The level ladder exercises are placed on (domain brief §4.4 and §8.5).
    pub ladder: Vec<LadderLevel>,
}

/// Every value each filterable attribute can take.
#[derive(Debug, Serialize, ToSchema)]
pub struct Vocabularies {
    pub goals: &'static [Goal],
    pub positions: &'static [Position],
    pub equipment: &'static [Equipment],
    pub support_levels: &'static [SupportLevel],
    pub lateralities: &'static [Laterality],
    pub soleus_biases: &'static [SoleusBias],
    pub contraction_modes: &'static [ContractionMode],
    pub categories: &'static [Category],
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LadderLevel {
    pub level: u8,
    /// The rung's name in the domain brief (F0–F4 fall track; F5/L5 … L8 shared scale).
    pub code: &'static str,
    pub description: &'static str,
}

const LADDER: [(u8, &str, &str); 9] = [
    (0, "F0", "Seated heel and toe raises"),
    (1, "F1", "Standing both-leg heel raise, two hands on a counter"),
    (2, "F2", "Standing both-leg heel raise, one hand"),
    (3, "F3", "Standing both-leg heel raise, fingertip or no support"),
    (4, "F4", "Both-leg bent-knee heel raise, fingertip support"),
    (
        5,
        "F5/L5",
        "Single-leg heel raise with support, bodyweight (heel-raise test 5-14)",
    ),
    (
        6,
        "F6/L6",
        "Single-leg heel raise, floor or step, little or no support (test 15-24)",
    ),
    (
        7,
        "F7/L7",
        "Single-leg loaded work; runner strength block (test 25 or more)",
    ),
    (
        8,
        "L8",
        "Runner maintenance and heavy tendon-durability block (test 30 or more, asymmetry 10% or less)",
    ),
];

impl ExerciseListQuery {
    fn filter(&self) -> Result<Filter, ApiError> {
        Ok(Filter {
            goal: self.goal,
            equipment: self.equipment,
            available_equipment: self
                .available_equipment
                .as_deref()
                .map(|raw| parse_list("available_equipment", raw))
                .transpose()?,
            position: self.position,
            laterality: self.laterality,
            soleus_bias: self.soleus_bias,
            support_level: self.support_level,
            category: self.category,
            max_difficulty: self.max_difficulty,
            text: self.q.clone(),
        })
    }
}

/// Cursor: base64url of `<filter fingerprint>:<last id>`, so a cursor only works with the
/// filters that produced it.
fn encode_cursor(filter: &Filter, after: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{after}", filter.fingerprint()))
}

fn decode_cursor(filter: &Filter, cursor: &str) -> Result<String, ApiError> {
    let invalid = |why: &str| ApiError::BadRequest {
        detail: format!("The cursor is invalid: {why}. Start again without `cursor`."),
        errors: vec![crate::error::FieldError::new("cursor", "invalid", why)],
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid("it is not a cursor this API issued"))?;
    let text = String::from_utf8(bytes).map_err(|_| invalid("it is not a cursor this API issued"))?;
    let (fingerprint, after) = text
        .split_once(':')
        .ok_or_else(|| invalid("it is not a cursor this API issued"))?;
    if fingerprint != filter.fingerprint() {
        return Err(invalid("it was issued for different filters"));
    }
    Ok(after.to_owned())
}

/// List exercises.
///
/// Filter by goal, equipment (`equipment=none` for no equipment, `available_equipment` for
/// "only what I have"), position, laterality, soleus bias, support level, category, maximum
/// difficulty and free text. Results are ordered by id; page with `cursor`.
#[utoipa::path(
    tag = "catalogue",
    params(ExerciseListQuery),
    responses(
        (status = 200, description = "A page of exercises.", body = ExercisePage,
         headers(
            ("ETag" = String, description = "Strong validator of this page"),
            ("Link" = String, description = "`<…>; rel=\"next\"` when more results follow"),
            ("X-Dataset-Version" = String, description = "Catalogue dataset version"),
         )),
        (status = 304, description = "Not modified (the `If-None-Match` tag matches)."),
        (status = 400, description = "Unreadable query, unknown parameter or invalid cursor.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A filter value that does not exist, or out of range.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/exercises")]
pub async fn list_exercises(
    req: HttpRequest,
    catalogue: web::Data<Catalogue>,
) -> Result<HttpResponse, ApiError> {
    // The parameters are read on a miss only: a page is rendered once per worker and query.
    let page = rendered::get_or_render(catalogue.version(), &req, || {
        let query: ExerciseListQuery = parse_query(req.query_string())?;
        render_page(&req, &query, &catalogue)
    })?;
    Ok(cached_rendered(&req, &page, CACHE_CONTROL))
}

fn render_page(
    req: &HttpRequest,
    query: &ExerciseListQuery,
    catalogue: &Catalogue,
) -> Result<Rendered, ApiError> {
    let filter = query.filter()?;
    let after = query
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| decode_cursor(&filter, c))
        .transpose()?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT) as usize;
    let page = catalogue.page(&filter, after.as_deref(), limit);
    let next_cursor = page
        .next_after
        .as_deref()
        .map(|after| encode_cursor(&filter, after));
    let mut headers = vec![(DATASET_HEADER, catalogue.version().to_owned())];
    if let Some(cursor) = &next_cursor {
        headers.push(("Link", next_link(req, cursor)));
    }
    let body = ExercisePage {
        items: page.items.iter().filter_map(|e| catalogue.json(&e.id)).collect(),
        next_cursor,
        total: page.total,
        dataset_version: catalogue.version().to_owned(),
    };
    Ok(Rendered {
        etag: etag(&[catalogue.version(), req.query_string()]),
        body: serde_json::to_vec(&body)
            .map_err(|e| ApiError::Internal(e.into()))?
            .into(),
        headers,
    })
}

/// Get one exercise.
///
/// The full exercise, with its easier (`regressions`) and harder (`progressions`) variants
/// resolved to id and name.
#[utoipa::path(
    tag = "catalogue",
    params(("id" = String, Path, description = "Exercise id (a stable slug)", example = "seated-calf-raise", max_length = 100)),
    responses(
        (status = 200, description = "The exercise.", body = Exercise,
         headers(("ETag" = String), ("X-Dataset-Version" = String))),
        (status = 304, description = "Not modified."),
        (status = 404, description = "No exercise has this id.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/exercises/{id}")]
pub async fn get_exercise(
    req: HttpRequest,
    id: web::Path<String>,
    catalogue: web::Data<Catalogue>,
) -> Result<HttpResponse, ApiError> {
    let exercise = rendered::get_or_render(catalogue.version(), &req, || {
        let json = catalogue
            .json(&id)
            .ok_or_else(|| ApiError::NotFound(format!("No exercise has the id `{id}`.")))?;
        Ok::<_, ApiError>(Rendered {
            etag: etag(&[catalogue.version(), &id]),
            body: web::Bytes::copy_from_slice(json.get().as_bytes()),
            headers: vec![(DATASET_HEADER, catalogue.version().to_owned())],
        })
    })?;
    Ok(cached_rendered(&req, &exercise, CACHE_CONTROL))
}

/// Which picture: the animation, or a static position.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IllustrationFrame {
    /// Start to end and back at the exercise's tempo (SMIL; the start position where animation
    /// is off).
    #[default]
    Animated,
    /// The start position, static (for print).
    Start,
    /// The end position, static.
    End,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IllustrationQuery {
    /// `animated` (default), `start` or `end`.
    #[param(inline)]
    pub frame: Option<IllustrationFrame>,
}

/// Exercise illustration.
///
/// A side-view drawing of the exercise as SVG, drawn from its pose data: the person, the chair,
/// wall, step, counter or machine it needs, and an arrow for the movement. It carries a `<title>`
/// (the exercise's name) and a `<desc>` (its alt text, also in the exercise's `media`). Cacheable:
/// the ETag follows the dataset version.
#[utoipa::path(
    tag = "catalogue",
    params(("id" = String, Path, description = "Exercise id (a stable slug)", example = "seated-calf-raise", max_length = 100), IllustrationQuery),
    responses(
        (status = 200, description = "The drawing.", body = String, content_type = "image/svg+xml",
         headers(("ETag" = String))),
        (status = 304, description = "Not modified."),
        (status = 404, description = "No exercise has this id.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/exercises/{id}/illustration.svg")]
pub async fn get_illustration(
    req: HttpRequest,
    id: web::Path<String>,
    q: crate::http::Query<IllustrationQuery>,
    catalogue: web::Data<Catalogue>,
) -> Result<HttpResponse, ApiError> {
    use crate::domain::catalogue::illustration::Frame;
    let frame = match q.frame.unwrap_or_default() {
        IllustrationFrame::Animated => Frame::Animated,
        IllustrationFrame::Start => Frame::Start,
        IllustrationFrame::End => Frame::End,
    };
    let svg = catalogue
        .illustration(&id, frame)
        .ok_or_else(|| ApiError::NotFound(format!("No exercise has the id `{id}`.")))?;
    Ok(crate::http::conditional::cached_text(
        &req,
        &etag(&[catalogue.version(), &id, frame.as_str()]),
        CACHE_CONTROL,
        "image/svg+xml",
        svg,
    ))
}

/// Catalogue overview.
///
/// Dataset version, counts per goal, position, category and equipment, every vocabulary value
/// and the level ladder, so an app can cache the catalogue offline and refresh it only when
/// `dataset_version` changes.
#[utoipa::path(
    tag = "catalogue",
    responses(
        (status = 200, description = "The overview.", body = CatalogueOverview,
         headers(("ETag" = String), ("X-Dataset-Version" = String))),
        (status = 304, description = "Not modified."),
    ),
)]
#[get("/catalogue")]
pub async fn get_catalogue(req: HttpRequest, catalogue: web::Data<Catalogue>) -> HttpResponse {
    let body = CatalogueOverview {
        dataset_version: catalogue.version().to_owned(),
        exercise_count: catalogue.all().len(),
        licence: catalogue.licence().to_owned(),
        disclaimer: catalogue.disclaimer().to_owned(),
        counts: catalogue.counts(),
        vocabularies: Vocabularies {
            goals: Goal::ALL,
            positions: Position::ALL,
            equipment: Equipment::ALL,
            support_levels: SupportLevel::ALL,
            lateralities: Laterality::ALL,
            soleus_biases: SoleusBias::ALL,
            contraction_modes: ContractionMode::ALL,
            categories: Category::ALL,
        },
        ladder: LADDER
            .iter()
            .map(|&(level, code, description)| LadderLevel {
                level,
                code,
                description,
            })
            .collect(),
    };
    let tag = etag(&[catalogue.version(), "overview"]);
    cached_json(
        &req,
        &tag,
        CACHE_CONTROL,
        &[(DATASET_HEADER, catalogue.version())],
        &body,
    )
}
