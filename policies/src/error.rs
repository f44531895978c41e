//! Policy configuration errors (spec §6.3).

use std::fmt;

/// Why a set of policies was rejected. `Display` gives the exact KES error text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyError {
    /// The admin identity is empty.
    NoAdminIdentity,
    /// A policy lists the admin identity.
    IdentityIsAdmin {
        /// The policy name.
        policy: String,
        /// The admin identity.
        identity: String,
    },
    /// A policy name breaks the name rule (§1.5).
    InvalidPolicyName(String),
    /// Two policies share one name.
    DuplicatePolicyName(String),
    /// A policy identity breaks the name rule (§1.5); this includes the empty identity.
    InvalidIdentity(String),
    /// An identity is listed twice, in one policy or in two.
    IdentityHasPolicy {
        /// The policy that lists the identity again.
        policy: String,
        /// The identity.
        identity: String,
    },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::NoAdminIdentity => {
                f.write_str("kesconf: invalid admin identity: no admin identity")
            }
            PolicyError::IdentityIsAdmin { policy, identity } => {
                write!(
                    f,
                    "kesconf: invalid policy '{policy}': identity '{identity}' is already admin"
                )
            }
            PolicyError::InvalidPolicyName(name) => {
                write!(
                    f,
                    "kes: policy name '{name}' is empty, too long or contains invalid characters"
                )
            }
            PolicyError::DuplicatePolicyName(name) => {
                write!(f, "kesconf: policy '{name}' is defined more than once")
            }
            PolicyError::InvalidIdentity(identity) => {
                write!(
                    f,
                    "kes: identity '{identity}' is empty, too long or contains invalid characters"
                )
            }
            PolicyError::IdentityHasPolicy { policy, identity } => {
                write!(
                    f,
                    "kes: cannot assign policy '{policy}' to '{identity}': identity already has a policy"
                )
            }
        }
    }
}

impl std::error::Error for PolicyError {}
