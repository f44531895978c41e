//! The release identifier and git revision this binary was built from.

/// This server's release identifier, reported by `/version` and `/v1/status`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git revision, embedded at build time; `unknown` for builds outside a git checkout.
pub const COMMIT: &str = match option_env!("KES_BUILD_COMMIT") {
    Some(commit) => commit,
    None => "unknown",
};
