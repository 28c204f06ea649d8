//! [`Acting`]: the one extractor for operations served both to a user's app (`/v1/me/…`, the
//! user's own token) and to partner platforms (`/v1/users/{user_id}/…`, a partner token and
//! the user's active grant). It yields the [`Subject`] the use case acts for, after every check
//! (token kind, scope, grant), so a handler cannot forget one.

use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use super::extract::verified;
use super::partner::PartnerCaller;
use super::tokens::{Scope, TokenKind};
use crate::db::DbPool;
use crate::error::ApiError;
use crate::services::Subject;

/// The scope an operation needs, as a type: `Acting<need::SessionsWrite>`.
pub trait Needs {
    const SCOPE: Scope;
}

/// One type per scope.
pub mod need {
    use super::{Needs, Scope};

    #[derive(Debug)]
    pub struct ProgrammesRead;
    #[derive(Debug)]
    pub struct ProgrammesWrite;
    #[derive(Debug)]
    pub struct SessionsRead;
    #[derive(Debug)]
    pub struct SessionsWrite;

    macro_rules! needs {
        ($($name:ident),*) => {$(
            impl Needs for $name {
                const SCOPE: Scope = Scope::$name;
            }
        )*};
    }
    needs!(ProgrammesRead, ProgrammesWrite, SessionsRead, SessionsWrite);
}

/// Who is acting, checked: the user on `/v1/me/…`, or the partner for `{user_id}`.
#[derive(Debug)]
pub struct Acting<N: Needs> {
    pub subject: Subject,
    need: PhantomData<N>,
}

impl<N: Needs> Acting<N> {
    pub fn into_subject(self) -> Subject {
        self.subject
    }
}

impl<N: Needs + 'static> FromRequest for Acting<N> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let subject = match req.match_info().get("user_id") {
                None => {
                    let (user_id, scopes) = verified(&req, TokenKind::User)?;
                    if !scopes.contains(&N::SCOPE) {
                        return Err(ApiError::InsufficientScope(N::SCOPE.as_str()));
                    }
                    Subject::app(user_id)
                }
                Some(user_id) => {
                    let user_id = user_id.to_owned();
                    let (client_id, scopes) = verified(&req, TokenKind::Partner)?;
                    let pool = req.app_data::<web::Data<DbPool>>().ok_or_else(|| {
                        ApiError::Internal(anyhow::anyhow!("the database pool is not configured"))
                    })?;
                    let partner = PartnerCaller { client_id, scopes };
                    partner.authorize(pool, &user_id, N::SCOPE).await?;
                    Subject::partner(user_id, partner.client_id)
                }
            };
            Ok(Self {
                subject,
                need: PhantomData,
            })
        })
    }
}
