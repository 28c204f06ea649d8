//! The one registration table: every API endpoint is a `#[utoipa::path]` handler registered
//! here with `.service(...)`, so routes and the OpenAPI document come from the same list.
//! State is attached by `startup`, not here, so the document can be built without a database.

/// Declares one operation served twice: on the user's route (`/v1/me/…`, tag of the resource,
/// `bearer_auth`) and on the partner's (`/v1/users/{user_id}/…`, tag `partners`,
/// `partner_oauth` with the scope). One handler body and one OpenAPI description serve both;
/// the partner's operation adds the `user_id` parameter. The 401 and 403 responses come from
/// each operation's security (`openapi::add_auth_responses`). The handler takes an
/// [`crate::auth::Acting`] to learn who it acts for.
macro_rules! user_and_partner {
    (
        $(#[doc = $udoc:literal])+
        #[user($method:ident, $upath:literal, tag = $tag:literal)]
        $(#[doc = $pdoc:literal])+
        #[partner($pfn:ident, $ppath:literal, $scope:literal)]
        #[openapi(params($($params:tt)*), $($rest:tt)*)]
        pub async fn $ufn:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block
    ) => {
        $(#[doc = $udoc])+
        #[utoipa::path(tag = $tag, security(("bearer_auth" = [])), params($($params)*), $($rest)*)]
        #[$method($upath)]
        pub async fn $ufn($($arg: $ty),*) -> $ret $body

        $(#[doc = $pdoc])+
        #[utoipa::path(
            tag = "partners", security(("partner_oauth" = [$scope])),
            params(("user_id" = String, Path, description = "The user's id", max_length = 100), $($params)*),
            $($rest)*
        )]
        #[$method($ppath)]
        pub async fn $pfn($($arg: $ty),*) -> $ret $body
    };
    // Without parameters of its own: the same, with an empty list.
    (
        $(#[doc = $udoc:literal])+
        #[user($method:ident, $upath:literal, tag = $tag:literal)]
        $(#[doc = $pdoc:literal])+
        #[partner($pfn:ident, $ppath:literal, $scope:literal)]
        #[openapi($($rest:tt)*)]
        pub async fn $ufn:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block
    ) => {
        user_and_partner! {
            $(#[doc = $udoc])+
            #[user($method, $upath, tag = $tag)]
            $(#[doc = $pdoc])+
            #[partner($pfn, $ppath, $scope)]
            #[openapi(params(), $($rest)*)]
            pub async fn $ufn($($arg: $ty),*) -> $ret $body
        }
    };
}

pub mod adaptation;
pub mod assessments;
pub mod auth;
pub mod exercises;
pub mod me;
pub mod meta;
pub mod oauth;
pub mod ops;
pub mod partner_feed;
pub mod partners;
pub mod programmes;
pub mod sessions;
pub mod webhooks;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics)
        .service(auth::jwks)
        .service(oauth::server_metadata)
        .service(
            scope::scope("/v1")
                .service(meta::get_meta)
                .service(exercises::get_catalogue)
                .service(exercises::list_exercises)
                .service(exercises::get_illustration)
                .service(exercises::get_exercise)
                .service(programmes::preview_programme)
                .service(programmes::create_programme)
                .service(programmes::list_programmes)
                .service(programmes::get_programme)
                .service(programmes::delete_programme)
                .service(programmes::partner_delete_programme)
                .service(programmes::programme_calendar)
                .service(programmes::partner_programme_calendar)
                .service(programmes::programme_print)
                .service(programmes::partner_programme_print)
                .service(programmes::programme_fhir)
                .service(programmes::partner_programme_fhir)
                .service(programmes::create_calendar_subscription)
                .service(programmes::delete_calendar_subscription)
                .service(programmes::subscribed_calendar)
                .service(adaptation::simulate)
                .service(adaptation::adapt_programme)
                .service(adaptation::partner_adapt_programme)
                .service(adaptation::list_versions)
                .service(adaptation::partner_list_versions)
                .service(adaptation::get_version)
                .service(adaptation::partner_get_version)
                .service(adaptation::diff_versions)
                .service(adaptation::partner_diff_versions)
                .service(assessments::create_assessment)
                .service(assessments::partner_create_assessment)
                .service(assessments::list_assessments)
                .service(assessments::partner_list_assessments)
                .service(programmes::partner_list_programmes)
                .service(programmes::partner_create_programme)
                .service(programmes::partner_get_programme)
                .service(auth::register)
                .service(auth::login)
                .service(auth::rotate_refresh_token)
                .service(auth::logout)
                .service(me::get_me)
                .service(me::patch_me)
                .service(me::delete_me)
                .service(sessions::batch_sessions)
                .service(sessions::create_session)
                .service(sessions::list_sessions)
                .service(sessions::get_session)
                .service(sessions::partner_get_session)
                .service(sessions::put_session)
                .service(sessions::partner_put_session)
                .service(sessions::patch_session)
                .service(sessions::partner_patch_session)
                .service(sessions::delete_session)
                .service(sessions::partner_delete_session)
                .service(sessions::my_changes)
                .service(sessions::my_sessions_fhir)
                .service(sessions::partner_sessions_fhir)
                .service(sessions::my_stats)
                .service(sessions::partner_stats)
                .service(sessions::partner_batch_sessions)
                .service(sessions::partner_create_session)
                .service(sessions::partner_list_sessions)
                .service(sessions::partner_changes)
                .service(oauth::oauth_token)
                .service(oauth::oauth_revoke)
                .service(oauth::authorize_page)
                .service(oauth::authorize_decision)
                .service(partners::create_grant)
                .service(partners::list_grants)
                .service(partners::revoke_grant)
                .service(partner_feed::partner_feed)
                .service(partner_feed::connected_users)
                // Before `/partner/webhooks/{id}`, which would match it.
                .service(webhooks::list_event_types)
                .service(webhooks::create_webhook)
                .service(webhooks::list_webhooks)
                .service(webhooks::get_webhook)
                .service(webhooks::patch_webhook)
                .service(webhooks::delete_webhook)
                .service(webhooks::test_webhook)
                .service(webhooks::rotate_webhook_secret)
                .service(webhooks::list_deliveries)
                .service(webhooks::retry_delivery),
        );
}
