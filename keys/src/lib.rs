//! API keys and what a caller may read.
//!
//! A key is a random secret (`gk_` + 40 hex digits) given once to its
//! holder; the database keeps only its SHA-256 ([`store`]). Each key carries
//! scopes ([`scope`]): layers it may read beyond the public ones, layers
//! whose restricted fields (owner names, certificate numbers) it may see,
//! and admin rights. [`Access`] turns a caller (anonymous or a key) into
//! answers: may it read this layer, which fields, is it an admin. Reads of
//! restricted fields are written to the audit log ([`store::audit`]).

mod access;
pub mod scope;
pub mod store;

pub use access::{Access, KeyInfo};
pub use scope::{Scope, Target};
pub use store::{audit, create, hash_secret, list, lookup, revoke, KeyError, KeyRow, KEYS_CHANNEL};
