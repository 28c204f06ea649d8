//! Authentication. This module holds the token signing keys; accounts, tokens and partner
//! grants build on them.

pub mod keys;
