//! Programmes: `POST /v1/programmes/preview` generates without storing; `/v1/me/programmes`
//! stores them for their owner; `/v1/users/{user_id}/programmes` is the partner view, under the
//! user's grant. Both views share one implementation. Versions and adaptation: `adaptation`.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Acting, need};
use crate::auth::{AuthState, AuthUser};
use crate::db::DbPool;
use crate::domain::catalogue::Catalogue;
use crate::domain::programme::{self, input::ProgrammeRequest, model::Programme};
use crate::error::{ApiError, PROBLEM_JSON as PROBLEMS, Problem};
use crate::http::conditional::{cached_json, cached_text, etag};
use crate::http::{Id, Json, PageQuery, Query};
use crate::services::Quotas;
use crate::services::Subject;
use crate::services::programmes::{self as service, ProgrammeSummary, StoredProgramme};

/// Preview a personalised programme.
///
/// Generates a multi-week soleus programme from age, activity level and goals, screened
/// against the red-flag rules (SCR-*) and explained per exercise. Nothing is stored and no
/// account is needed. The same request always gives the same programme for a given
/// `generator_version`. A referral (`safety.status = "refer"`) is a 200 with no weeks: the
/// request was fine, the answer is "see a clinician first".
#[utoipa::path(
    tag = "programmes",
    request_body(
        content = ProgrammeRequest,
        examples(
            ("runner" = (summary = "28-year-old trained runner", value = json!({
                "age": 28, "activity_level": "trained", "goals": ["runner_endurance"], "sex": "female",
                "body_mass_kg": 60, "equipment": ["step", "free_weight"], "days_per_week": 3, "weeks": 12,
                "start_date": "2026-12-07",
                "screening": {"chest_pain": false, "dizziness_or_fainting": false, "calf_swelling_warmth_redness": false, "acute_calf_strain": false},
                "baseline_heel_raise": {"left": 31, "right": 32}, "weekly_running_km": 40, "achilles_pain": 0
            }))),
            ("fall_prevention" = (summary = "72-year-old with a fall last year", value = json!({
                "age": 72, "activity_level": "lightly_active", "goals": ["fall_prevention"],
                "screening": {"chest_pain": false, "dizziness_or_fainting": false, "calf_swelling_warmth_redness": false, "acute_calf_strain": false},
                "fall_risk": {"fallen_past_year": true, "feels_unsteady": false, "worries_about_falling": true, "uses_walking_aid": false}
            }))),
            ("circulation" = (summary = "45-year-old desk worker", value = json!({
                "age": 45, "activity_level": "sedentary", "goals": ["circulation"], "days_per_week": 2,
                "screening": {"chest_pain": false, "dizziness_or_fainting": false, "calf_swelling_warmth_redness": false, "acute_calf_strain": false}
            }))),
        ),
    ),
    responses(
        (status = 200, description = "The programme (or a referral with no exercise).", body = Programme),
        (status = 422, description = "A field is invalid, unknown or out of range; under-18s are out of scope (SCR-14).",
         body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/programmes/preview")]
pub async fn preview_programme(
    body: Json<ProgrammeRequest>,
    catalogue: web::Data<Catalogue>,
) -> HttpResponse {
    let programme = programme::generate(&body, &catalogue);
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(programme)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammeList {
    /// Newest first (by creation time, then id).
    pub items: Vec<ProgrammeSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Options for creating a programme.
#[derive(Debug, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CreateQuery {
    /// Adapt the programme each time a session linked to it is logged (default false). Either
    /// way, `POST /v1/me/programmes/{id}/adapt` adapts it on demand.
    pub auto_adapt: Option<bool>,
}

user_and_partner! {
    /// Create a programme.
    ///
    /// Generates a programme like the preview does and stores it as yours, as version 1. An
    /// account stores at most `SOLEUS_MAX_PROGRAMMES_PER_USER` programmes (default 100): past
    /// that, 409 `quota-exceeded` until one is deleted.
    #[user(post, "/me/programmes", tag = "programmes")]
    /// Create a programme for a user (partner).
    ///
    /// Needs `programmes:write` in the partner token and in the user's active grant.
    #[partner(partner_create_programme, "/users/{user_id}/programmes", "programmes:write")]
    #[openapi(
        params(CreateQuery),
        request_body = ProgrammeRequest,
        responses(
            (status = 201, description = "Stored.", body = StoredProgramme, headers(("Location" = String))),
            (status = 409, description = "The account stores the most programmes allowed (`quota-exceeded`).",
             body = Problem, content_type = PROBLEMS),
        ),
    )]
    pub async fn create_programme(
        acting: Acting<need::ProgrammesWrite>,
        pool: web::Data<DbPool>,
        catalogue: web::Data<Catalogue>,
        quotas: web::Data<Quotas>,
        query: Query<CreateQuery>,
        body: Json<ProgrammeRequest>,
    ) -> Result<HttpResponse, ApiError> {
        let subject = acting.authorize(&pool).await?;
        let location = subject.collection("programmes");
        let auto_adapt = query.auto_adapt.unwrap_or(false);
        let stored = service::create(&pool, &catalogue, subject, **quotas, body.into_inner(), auto_adapt).await?;
        Ok(HttpResponse::Created()
            .insert_header(("Location", format!("{location}/{}", stored.id)))
            .json(stored))
    }
}

user_and_partner! {
    /// Your programmes.
    ///
    /// Newest first; page with `cursor` (or `Link: rel="next"`).
    #[user(get, "/me/programmes", tag = "programmes")]
    /// A user's programmes (partner).
    ///
    /// Needs `programmes:read` in the partner token and in the user's active grant.
    #[partner(partner_list_programmes, "/users/{user_id}/programmes", "programmes:read")]
    #[openapi(
        params(PageQuery),
        responses((status = 200, description = "A page of programmes, newest first.", body = ProgrammeList, headers(("Link" = String)))),
    )]
    pub async fn list_programmes(
        req: HttpRequest,
        acting: Acting<need::ProgrammesRead>,
        pool: web::Data<DbPool>,
        q: Query<PageQuery>,
    ) -> Result<HttpResponse, ApiError> {
        let subject = acting.authorize(&pool).await?;
        let page = service::list(&pool, subject, q.cursor.as_deref(), q.limit.unwrap_or(20)).await?;
        let mut builder = HttpResponse::Ok();
        builder.insert_header(("Cache-Control", "no-store"));
        if let Some(cursor) = &page.next_cursor {
            builder.insert_header(("Link", crate::http::next_link(&req, cursor)));
        }
        Ok(builder.json(ProgrammeList {
            items: page.items,
            next_cursor: page.next_cursor,
        }))
    }
}

user_and_partner! {
    /// One of your programmes.
    ///
    /// At its latest version, with `ETag` (send `If-None-Match` for a 304). Someone else's
    /// programme is a 404, like one that does not exist.
    #[user(get, "/me/programmes/{id}", tag = "programmes")]
    /// One of a user's programmes (partner).
    #[partner(partner_get_programme, "/users/{user_id}/programmes/{id}", "programmes:read")]
    #[openapi(
        params(("id" = String, Path, description = "Programme id", max_length = 100)),
        responses(
            (status = 200, description = "The programme.", body = StoredProgramme, headers(("ETag" = String))),
            (status = 304, description = "Not modified."),
            (status = 404, description = "Not this user's, or no such programme.", body = Problem, content_type = PROBLEMS),
        ),
    )]
    pub async fn get_programme(
        req: HttpRequest,
        acting: Acting<need::ProgrammesRead>,
        pool: web::Data<DbPool>,
    ) -> Result<HttpResponse, ApiError> {
        let id = req.match_info().query("id").to_owned();
        let stored = service::get(&pool, acting.authorize(&pool).await?, id).await?;
        // A programme changes only by gaining versions (and the auto-adapt flag).
        let tag = etag(&[&stored.id, &stored.version.to_string(), &stored.auto_adapt.to_string()]);
        Ok(cached_json(&req, &tag, "private, no-cache", &[], &stored))
    }
}

user_and_partner! {
    /// Delete one of your programmes.
    ///
    /// With all its versions. Sessions linked to it keep their `programme_id`.
    #[user(delete, "/me/programmes/{id}", tag = "programmes")]
    /// Delete one of a user's programmes (partner). Needs `programmes:write`.
    #[partner(partner_delete_programme, "/users/{user_id}/programmes/{id}", "programmes:write")]
    #[openapi(
        params(("id" = String, Path, description = "Programme id", max_length = 100)),
        responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "Not yours, or no such programme.", body = Problem, content_type = PROBLEMS),
    ),
    )]
    pub async fn delete_programme(
        acting: Acting<need::ProgrammesWrite>,
        pool: web::Data<DbPool>,
        id: Id,
    ) -> Result<HttpResponse, ApiError> {
        service::delete(&pool, acting.authorize(&pool).await?, id.into_inner()).await?;
        Ok(HttpResponse::NoContent().finish())
    }
}

user_and_partner! {
    /// Programme calendar.
    ///
    /// The sessions as iCalendar (RFC 5545), one all-day event per session, to import into any
    /// calendar app. Dated from the programme's start date, or from the day it was created.
    #[user(get, "/me/programmes/{id}/calendar.ics", tag = "programmes")]
    /// A user's programme calendar (partner). As `GET /v1/me/programmes/{id}/calendar.ics`; needs `programmes:read`.
    #[partner(partner_programme_calendar, "/users/{user_id}/programmes/{id}/calendar.ics", "programmes:read")]
    #[openapi(
        params(("id" = String, Path, description = "Programme id", max_length = 100)),
        responses(
        (status = 200, description = "The calendar.", body = String, content_type = "text/calendar"),
        (status = 404, description = "Not yours, or no such programme.", body = Problem, content_type = PROBLEMS),
    ),
    )]
    pub async fn programme_calendar(
        acting: Acting<need::ProgrammesRead>,
        pool: web::Data<DbPool>,
        id: Id,
    ) -> Result<HttpResponse, ApiError> {
        let body = service::calendar(&pool, acting.authorize(&pool).await?, id.into_inner()).await?;
        Ok(HttpResponse::Ok()
            .content_type("text/calendar; charset=utf-8")
            .insert_header((
                "Content-Disposition",
                "attachment; filename=\"soleus-programme.ics\"",
            ))
            .body(body))
    }
}

user_and_partner! {
    /// Printable programme.
    ///
    /// One HTML page to print on A4 or US Letter, or to save as PDF: large type, the safety
    /// findings and the stop and make-it-easier rules in plain words, then each week on a new page
    /// as a table of its sessions' exercises (picture, sets and reps or holds, tempo, load,
    /// support) and a tick-box log sheet. No script and no external file: it works offline.
    #[user(get, "/me/programmes/{id}/print", tag = "programmes")]
    /// A user's printable programme (partner). As `GET /v1/me/programmes/{id}/print`; needs `programmes:read`.
    #[partner(partner_programme_print, "/users/{user_id}/programmes/{id}/print", "programmes:read")]
    #[openapi(
        params(("id" = String, Path, description = "Programme id", max_length = 100)),
        responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html", headers(("ETag" = String))),
        (status = 304, description = "Not modified."),
        (status = 404, description = "Not yours, or no such programme.", body = Problem, content_type = PROBLEMS),
    ),
    )]
    pub async fn programme_print(
        req: HttpRequest,
        acting: Acting<need::ProgrammesRead>,
        pool: web::Data<DbPool>,
        catalogue: web::Data<Catalogue>,
        id: Id,
    ) -> Result<HttpResponse, ApiError> {
        let body = service::print(&pool, &catalogue, acting.authorize(&pool).await?, id.into_inner()).await?;
        Ok(cached_text(&req, &etag(&[&body]), "private, no-cache", "text/html; charset=utf-8", body))
    }
}

user_and_partner! {
    /// Programme as FHIR.
    ///
    /// The programme at its latest version as a FHIR R4 `Bundle` (`application/fhir+json`) built
    /// along the HL7 Physical Activity IG: a US Core Patient (our user id, sex and birth year; the
    /// name masked), a `pa-careplan` with the safety status and findings as notes, a `pa-goal` per
    /// goal (LOINC 82291-6, strengthening days a week), and the exercise prescription as a
    /// ServiceRequest (SNOMED CT 229065009 exercise therapy) with the weekly dose as
    /// `occurrenceTiming` and in words. Generated by software, the prescription is a `proposal`
    /// with no requester until a clinician signs it. Ids are stable across exports.
    #[user(get, "/me/programmes/{id}/fhir", tag = "programmes")]
    /// A user's programme as FHIR (partner). As `GET /v1/me/programmes/{id}/fhir`; needs `programmes:read`.
    #[partner(partner_programme_fhir, "/users/{user_id}/programmes/{id}/fhir", "programmes:read")]
    #[openapi(
        params(("id" = String, Path, description = "Programme id", max_length = 100)),
        responses(
        (status = 200, description = "A FHIR R4 Bundle (type collection).", body = Object, content_type = "application/fhir+json"),
        (status = 404, description = "Not yours, or no such programme.", body = Problem, content_type = PROBLEMS),
    ),
    )]
    pub async fn programme_fhir(
        acting: Acting<need::ProgrammesRead>,
        pool: web::Data<DbPool>,
        id: Id,
    ) -> Result<HttpResponse, ApiError> {
        let body = crate::services::exports::programme(&pool, acting.authorize(&pool).await?, id.into_inner()).await?;
        Ok(crate::http::fhir_response(&body))
    }
}

/// A programme's secret calendar address, for calendar apps (they cannot send a token).
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarSubscription {
    /// Poll this with any calendar app; anyone holding it can read the programme's calendar.
    #[schema(example = "https://api.example.com/v1/calendars/Xq3v…Zk.ics")]
    pub url: String,
    /// The same address for apps that subscribe on a click (`webcal://`).
    #[schema(example = "webcal://api.example.com/v1/calendars/Xq3v…Zk.ics")]
    pub webcal_url: String,
}

/// Create a calendar subscription.
///
/// A secret address that serves the programme's calendar (as `calendar.ics`) without a token,
/// for Google Calendar, Apple Calendar or Outlook to poll. It follows the programme as it
/// adapts: events keep their UIDs, `SEQUENCE` rises with each version, and a suspended
/// programme's sessions show as cancelled. Calling this again replaces the address (the old
/// one stops working); `DELETE` revokes it. The address is shown only in this answer.
#[utoipa::path(
    tag = "programmes",
    security(("bearer_auth" = [])),
    params(("id" = String, Path, description = "Programme id", max_length = 100)),
    responses(
        (status = 201, description = "The new secret address.", body = CalendarSubscription),
        (status = 404, description = "Not yours, or no such programme.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[post("/me/programmes/{id}/calendar-subscription")]
pub async fn create_calendar_subscription(
    req: HttpRequest,
    user: AuthUser,
    pool: web::Data<DbPool>,
    auth: web::Data<AuthState>,
    id: Id,
) -> Result<HttpResponse, ApiError> {
    let token = service::subscribe_calendar(&pool, Subject::app(user.id), id.into_inner()).await?;
    let (base, _) = auth.public_base(&req);
    let url = format!("{base}/v1/calendars/{token}.ics");
    let webcal_url = format!(
        "webcal://{}",
        url.split_once("://").map_or(url.as_str(), |(_, rest)| rest)
    );
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(CalendarSubscription { url, webcal_url }))
}

/// Revoke the calendar subscription.
///
/// The programme's secret calendar address stops working at once. Revoking when there is none
/// is not an error.
#[utoipa::path(
    tag = "programmes",
    security(("bearer_auth" = [])),
    params(("id" = String, Path, description = "Programme id", max_length = 100)),
    responses(
        (status = 204, description = "Revoked."),
        (status = 404, description = "Not yours, or no such programme.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[delete("/me/programmes/{id}/calendar-subscription")]
pub async fn delete_calendar_subscription(
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: Id,
) -> Result<HttpResponse, ApiError> {
    service::unsubscribe_calendar(&pool, Subject::app(user.id), id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Subscribed calendar.
///
/// The calendar behind a secret address from `POST /v1/me/programmes/{id}/calendar-subscription`,
/// at the programme's latest version. No token: the address is the credential. Answers
/// `If-None-Match` with 304, so polling is cheap.
#[utoipa::path(
    tag = "programmes",
    params(("token" = String, Path, description = "The secret from the subscription address", max_length = 100)),
    responses(
        (status = 200, description = "The calendar.", body = String, content_type = "text/calendar",
         headers(("ETag" = String))),
        (status = 304, description = "Not modified."),
        (status = 404, description = "No calendar has this address, or it was revoked.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[get("/calendars/{token}.ics")]
pub async fn subscribed_calendar(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let body = service::calendar_by_token(&pool, token.into_inner()).await?;
    // Private: the address is a secret, no shared cache may keep what it opens.
    Ok(cached_text(
        &req,
        &etag(&[&body]),
        "private, max-age=300",
        "text/calendar; charset=utf-8",
        body,
    ))
}
