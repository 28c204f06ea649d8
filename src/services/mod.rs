//! Use cases: one module per capability. Each holds the rules that need storage and owns its
//! transactions; it takes the acting [`Subject`] and plain inputs, and returns domain results
//! (never an HTTP response). Handlers in `routes/` parse, call one of these and respond.
//!
//! - `accounts`: the profile given at registration and the account as answered.
//! - `auth`: register, log in, rotate refresh tokens, log out.
//! - `partners`: partner tokens (client credentials) and the grants users give partners.
//! - `oauth`: the consent flow for partner apps (authorization code with PKCE), their refresh
//!   tokens, revocation.
//! - `sessions`: log, batch-sync, replace, delete, read and page sessions; the change feed.
//! - `programmes`: generate and store programmes, list, read, delete.
//! - `adaptation`: replay a stored programme against its logs; versions and their diff.
//! - `assessments`: store capacity tests and interpret them against the user's profile.
//! - `paging`: the keyset cursor that session and programme lists share.

pub mod accounts;
pub mod adaptation;
pub mod assessments;
pub mod auth;
pub mod events;
pub mod exports;
pub mod oauth;
pub mod paging;
pub mod partners;
pub mod programmes;
pub mod sessions;
pub mod webhooks;

/// Per-user caps on what may be stored (`SOLEUS_MAX_PROGRAMMES_PER_USER`,
/// `SOLEUS_MAX_ASSESSMENTS_PER_USER`): one account cannot fill the disk for everyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    pub programmes: u32,
    pub assessments: u32,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            programmes: 100,
            assessments: 1000,
        }
    }
}

/// Who a use case acts for: the user whose data it touches, and who is writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub user_id: String,
    pub source: Source,
}

/// Who is writing: the user's own app, or a partner platform under the user's grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    App,
    Partner { client_id: String },
}

impl Subject {
    pub fn app(user_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            source: Source::App,
        }
    }

    pub fn partner(user_id: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            source: Source::Partner {
                client_id: client_id.into(),
            },
        }
    }

    /// The `source` stored on what this subject writes: `app`, or the partner's client id.
    pub fn source_name(&self) -> &str {
        match &self.source {
            Source::App => "app",
            Source::Partner { client_id } => client_id,
        }
    }

    pub fn is_app(&self) -> bool {
        self.source == Source::App
    }

    /// Whose Idempotency-Keys these are: the user, or this partner acting for this user.
    pub fn key_scope(&self) -> String {
        match &self.source {
            Source::App => format!("user:{}", self.user_id),
            Source::Partner { client_id } => format!("partner:{client_id}:user:{}", self.user_id),
        }
    }

    /// Where this subject's collection of `resource` lives (`/v1/me/sessions` or
    /// `/v1/users/{user_id}/sessions`), for `Location` headers.
    pub fn collection(&self, resource: &str) -> String {
        match &self.source {
            Source::App => format!("/v1/me/{resource}"),
            Source::Partner { .. } => format!("/v1/users/{}/{resource}", self.user_id),
        }
    }
}
