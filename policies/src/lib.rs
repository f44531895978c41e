//! Identities, names and allow/deny policies of a KES server (spec `kes-api.md` §1.5, §2.1, §6).
//!
//! Pure code without I/O, shared by the server (authorization on every request) and the client
//! tooling (computing identities).
//!
//! - `name`: the name and list-pattern rules for keys, policies and identities.
//! - `identity`: [`Identity`], the hex SHA-256 of a certificate's public key.
//! - `pattern`: path matching of a single policy pattern.
//! - `policy`: [`Policy`], one allow/deny list pair.
//! - `set`: [`PolicySet`], the admin identity plus every configured policy, and the
//!   authorization decision.
//! - `error`: [`PolicyError`], the configuration errors with their exact texts.

mod error;
mod identity;
mod name;
mod pattern;
mod policy;
mod set;

#[cfg(test)]
mod vectors;

pub use error::PolicyError;
pub use identity::Identity;
pub use name::{is_valid_name, is_valid_pattern};
pub use pattern::pattern_matches;
pub use policy::Policy;
pub use set::{PolicyDef, PolicySet};
