//! [`Acting`]: the one extractor for operations served both to a user's app (`/v1/me/…`, the
//! user's own token) and to partner platforms (`/v1/users/{user_id}/…`, a partner token and
//! the user's active grant). The [`Subject`] the use case acts for comes only out of
//! [`Acting::authorize`], after every check (token kind, scope, grant), so a handler cannot
//! forget one.

use std::marker::PhantomData;

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

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

/// Who is acting: the token is verified (and of the right kind for the route) when the
/// handler runs; the scope, and for partners the user's grant, are checked by
/// [`Acting::authorize`], the only way to the [`Subject`]. That keeps the order of answers of
/// every route: 401 (token), then 400/413/415/422 (the request itself), then 403 (scope, grant).
#[derive(Debug)]
pub struct Acting<N: Needs> {
    caller: Caller,
    need: PhantomData<N>,
}

#[derive(Debug)]
enum Caller {
    User { id: String, scopes: Vec<Scope> },
    Partner { partner: PartnerCaller, user_id: String },
}

impl<N: Needs> Acting<N> {
    /// The subject, once the token's scope (and a partner's active grant) allow the operation.
    pub async fn authorize(self, pool: &DbPool) -> Result<Subject, ApiError> {
        match self.caller {
            Caller::User { id, scopes } => {
                if scopes.contains(&N::SCOPE) {
                    Ok(Subject::app(id))
                } else {
                    Err(ApiError::InsufficientScope(N::SCOPE.as_str()))
                }
            }
            Caller::Partner { partner, user_id } => {
                partner.authorize(pool, &user_id, N::SCOPE).await?;
                Ok(Subject::partner(user_id, partner.client_id))
            }
        }
    }
}

impl<N: Needs> FromRequest for Acting<N> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = match req.match_info().get("user_id") {
            None => verified(req, TokenKind::User).map(|(id, scopes)| Caller::User { id, scopes }),
            Some(user_id) => verified(req, TokenKind::Partner).map(|(client_id, scopes)| Caller::Partner {
                partner: PartnerCaller { client_id, scopes },
                user_id: user_id.to_owned(),
            }),
        };
        ready(caller.map(|caller| Self {
            caller,
            need: PhantomData,
        }))
    }
}
