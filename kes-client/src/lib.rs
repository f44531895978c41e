//! Client side of KES-compatible servers.
//!
//! For now this crate holds the caller's credentials: [`api_key`] parses and generates
//! `kes:v1:` API keys (spec `kes-api.md` §2.2), derives their identity, and builds the
//! self-signed client certificate a KES client presents over mTLS. The HTTP client and the
//! MinIO side follow in their own modules.

pub mod api_key;

pub use api_key::{ApiKey, ApiKeyError, ClientCertificate, identity_of_certificate};
