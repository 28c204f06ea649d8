//! Authentication: signing keys, access and refresh tokens, passwords, login throttling and
//! the extractor that decides who is calling.

pub mod acting;
pub mod extract;
pub mod keys;
pub mod partner;
pub mod password;
pub mod rate_limit;
pub mod state;
pub mod tokens;

pub use acting::{Acting, need};
pub use extract::AuthUser;
pub use partner::PartnerCaller;
pub use state::AuthState;
