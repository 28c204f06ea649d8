//! A partner's webhook endpoints (`/v1/partner/webhooks`), their delivery log, tests and
//! secret rotation. Delivery itself runs in the background (`services::webhooks`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::PartnerCaller;
use crate::db::DbPool;
use crate::error::{ApiError, PROBLEM_JSON as PROBLEMS, Problem};
use crate::http::{Id, Json, PageQuery, Query};
use crate::outbound::WebhookSender;
use crate::services::webhooks::{
    self as service, Delivery, Endpoint, EndpointPatch, EventTypeInfo, NewEndpoint, Policy,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointList {
    /// Oldest first.
    pub items: Vec<Endpoint>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeList {
    pub items: Vec<EventTypeInfo>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    /// Newest first.
    pub items: Vec<Delivery>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

fn no_store(mut builder: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    builder.insert_header((header::CACHE_CONTROL, "no-store"));
    builder
}

/// The event types.
///
/// What each type carries, and the scope a user's grant must hold for you to receive it.
#[utoipa::path(
    tag = "webhooks",
    security(("partner_oauth" = [])),
    responses((status = 200, description = "Every event type.", body = EventTypeList)),
)]
#[get("/partner/webhooks/event-types")]
pub async fn list_event_types(
    caller: PartnerCaller,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    caller.registered(&pool).await?;
    Ok(HttpResponse::Ok().json(EventTypeList {
        items: service::event_types(),
    }))
}

/// Register a webhook endpoint.
///
/// Events from now on are POSTed to `url`, signed per Standard Webhooks 1.0 (`webhook-id`,
/// `webhook-timestamp`, `webhook-signature`) with the `secret` in this answer; it is shown
/// only here and after a rotation. The URL must be `https` and resolve to public addresses.
/// Answer 2xx within 10 s; anything else is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h
/// and 10 h (±20 %), and then the endpoint is disabled. At most 10 endpoints per platform.
#[utoipa::path(
    tag = "webhooks",
    security(("partner_oauth" = [])),
    request_body = NewEndpoint,
    responses(
        (status = 201, description = "Registered; the answer holds the secret.", body = Endpoint, headers(("Location" = String))),
        (status = 409, description = "Your platform has the most endpoints allowed (`quota-exceeded`).", body = Problem, content_type = PROBLEMS),
        (status = 422, description = "The URL is not https, does not resolve, or resolves to a non-public address; or a field is invalid.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[post("/partner/webhooks")]
pub async fn create_webhook(
    caller: PartnerCaller,
    pool: web::Data<DbPool>,
    policy: web::Data<Policy>,
    body: Json<NewEndpoint>,
) -> Result<HttpResponse, ApiError> {
    let partner = caller.registered(&pool).await?;
    let endpoint = service::create(&pool, &policy, partner, body.into_inner()).await?;
    Ok(no_store(HttpResponse::Created())
        .insert_header(("Location", format!("/v1/partner/webhooks/{}", endpoint.id)))
        .json(endpoint))
}

/// Your webhook endpoints.
///
/// Oldest first, without secrets, each with its state: enabled, or why it was disabled.
#[utoipa::path(
    tag = "webhooks",
    security(("partner_oauth" = [])),
    responses((status = 200, description = "Your endpoints (without secrets).", body = EndpointList)),
)]
#[get("/partner/webhooks")]
pub async fn list_webhooks(caller: PartnerCaller, pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    let partner = caller.registered(&pool).await?;
    let items = service::list(&pool, partner).await?;
    Ok(no_store(HttpResponse::Ok()).json(EndpointList { items }))
}

/// One webhook endpoint.
///
/// With `disabled_reason` when the server disabled it after the retry schedule ran out.
#[utoipa::path(
    tag = "webhooks",
    security(("partner_oauth" = [])),
    params(("id" = String, Path, description = "The endpoint's id", max_length = 100)),
    responses(
        (status = 200, description = "The endpoint.", body = Endpoint),
        (status = 404, description = "You have no endpoint with this id.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[get("/partner/webhooks/{id}")]
pub async fn get_webhook(
    caller: PartnerCaller,
    pool: web::Data<DbPool>,
    id: Id,
) -> Result<HttpResponse, ApiError> {
    let partner = caller.registered(&pool).await?;
    Ok(no_store(HttpResponse::Ok()).json(service::get(&pool, partner, id.into_inner()).await?))
}

/// Change a webhook endpoint.
///
/// Only the fields sent change. `enabled: true` on a disabled endpoint resumes delivery at
/// the event it stopped at, with a fresh retry schedule.
#[utoipa::path(
    tag = "webhooks",
    security(("partner_oauth" = [])),
    params(("id" = String, Path, description = "The endpoint's id", max_length = 100)),
    request_body = EndpointPatch,
    responses(
        (status = 200, description = "The endpoint as changed.", body = Endpoint),
        (status = 404, description = "You have no endpoint with this id.", body = Problem, content_type = PROBLEMS),
        (status = 422, description = "A field is invalid (a URL as at registration).", body = Problem, content_type = PROBLEMS),
    ),
)]
#[patch("/partner/webhooks/{id}")]
pub async fn patch_webhook(
    caller: PartnerCaller,
    pool: web::Data<DbPool>,
    policy: web::Data<Policy>,
    id: Id,
    body: Json<EndpointPatch>,
) -> Result<HttpResponse, ApiError> {
    let partner = caller.registered(&pool).await?;
    let endpoint = service::update(&pool, &policy, partner, id.into_inner(), body.into_inner()).await?;
    Ok(no_store(HttpResponse::Ok()).json(endpoint))
}

/// Delete a webhook endpoint.
///
/// Deliveries stop at once; its delivery log goes with it.
#[utoipa::path(
    tag = "webhooks",
    security(("partner_oauth" = [])),
    params(("id" = String, Path, description = "The endpoint's id", max_length = 100)),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "You have no endpoint with this id.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[delete("/partner/webhooks/{id}")]
pub async fn delete_webhook(
    caller: PartnerCaller,
    pool: web::Data<DbPool>,
    id: Id,
) -> Result<HttpResponse, ApiError> {
    let partner = caller.registered(&pool).await?;
    service::delete(&pool, partner, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Send a test event.
///
/// POSTs a signed `webhook.test` event to the endpoint now and answers the attempt (status,
/// latency, error). Real events are not affected.
#[utoipa::path(
    tag = "webhooks",
    security(("partner_oauth" = [])),
    params(("id" = String, Path, description = "The endpoint's id", max_length = 100)),
    responses(
        (status = 200, description = "The attempt, whatever the receiver answered.", body = Delivery),
        (status = 404, description = "You have no endpoint with this id.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[post("/partner/webhooks/{id}/test")]
pub async fn test_webhook(
    caller: PartnerCaller,
    pool: web::Data<DbPool>,
    policy: web::Data<Policy>,
    id: Id,
) -> Result<HttpResponse, ApiError> {
    let partner = caller.registered(&pool).await?;
    let sender = WebhookSender::new(&policy);
    let delivery = service::send_test(&pool, &sender, partner, id.into_inner()).await?;
    Ok(no_store(HttpResponse::Ok()).json(delivery))
}

/// Rotate the signing secret.
///
/// Answers the new secret (once). For 24 hours deliveries carry two signatures, with the new
/// and the old secret, so you can switch receivers without losing an event.
#[utoipa::path(
    tag = "webhooks",
    security(("partner_oauth" = [])),
    params(("id" = String, Path, description = "The endpoint's id", max_length = 100)),
    responses(
        (status = 200, description = "The endpoint with its new secret.", body = Endpoint),
        (status = 404, description = "You have no endpoint with this id.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[post("/partner/webhooks/{id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    caller: PartnerCaller,
    pool: web::Data<DbPool>,
    id: Id,
) -> Result<HttpResponse, ApiError> {
    let partner = caller.registered(&pool).await?;
    let endpoint = service::rotate_secret(&pool, partner, id.into_inner()).await?;
    Ok(no_store(HttpResponse::Ok()).json(endpoint))
}

/// The endpoint's delivery attempts.
///
/// Newest first: each attempt's event, status code, latency and error. Kept as long as events.
#[utoipa::path(
    tag = "webhooks",
    security(("partner_oauth" = [])),
    params(("id" = String, Path, description = "The endpoint's id", max_length = 100), PageQuery),
    responses(
        (status = 200, description = "A page of attempts.", body = DeliveryList, headers(("Link" = String))),
        (status = 404, description = "You have no endpoint with this id.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[get("/partner/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    req: HttpRequest,
    caller: PartnerCaller,
    pool: web::Data<DbPool>,
    id: Id,
    q: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let partner = caller.registered(&pool).await?;
    let page = service::deliveries(
        &pool,
        partner,
        id.into_inner(),
        q.cursor.as_deref(),
        q.limit.unwrap_or(20),
    )
    .await?;
    let mut builder = no_store(HttpResponse::Ok());
    if let Some(cursor) = &page.next_cursor {
        builder.insert_header(("Link", crate::http::next_link(&req, cursor)));
    }
    Ok(builder.json(DeliveryList {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// Retry a delivery.
///
/// Sends that attempt's event again now (same `webhook-id`: dedupe on it) and answers the new
/// attempt. If the endpoint's queue is waiting on a failed event, it is tried again at once.
#[utoipa::path(
    tag = "webhooks",
    security(("partner_oauth" = [])),
    params(
        ("id" = String, Path, description = "The endpoint's id", max_length = 100),
        ("delivery_id" = String, Path, description = "The attempt's id", max_length = 100),
    ),
    responses(
        (status = 200, description = "The new attempt, whatever the receiver answered.", body = Delivery),
        (status = 404, description = "No such endpoint or attempt.", body = Problem, content_type = PROBLEMS),
        (status = 409, description = "A test delivery cannot be retried.", body = Problem, content_type = PROBLEMS),
        (status = 410, description = "The event is past retention, or the user's grant ended.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[post("/partner/webhooks/{id}/deliveries/{delivery_id}/retry")]
pub async fn retry_delivery(
    caller: PartnerCaller,
    pool: web::Data<DbPool>,
    policy: web::Data<Policy>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let partner = caller.registered(&pool).await?;
    let (id, delivery_id) = path.into_inner();
    let sender = WebhookSender::new(&policy);
    let delivery = service::retry(&pool, &sender, partner, id, delivery_id).await?;
    Ok(no_store(HttpResponse::Ok()).json(delivery))
}
