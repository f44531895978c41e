//! MinIO's server-side-encryption key handling, byte-compatible with MinIO
//! (`internal/crypto`, `internal/kms`, `internal/config/crypto.go`).
//!
//! Layout:
//! - [`context`]: the canonical `kms.Context` encoding and Go's `path.Join`.
//! - [`kms`]: DEKs, the [`KeyManager`] trait MinIO's sealing calls, KMS errors.
//! - [`builtin_kms`]: the single-key KMS of `MINIO_KMS_SECRET_KEY`.
//! - [`object_key`]: OEK generation, KEK derivation, seal/unseal, derived keys.
//! - [`metadata`]: internal metadata keys, classification and parsing.
//! - [`headers`]: S3 request header names and lookup.
//! - [`sse_s3`], [`sse_kms`], [`sse_c`]: request parsing, seal, unseal, rotation.
//! - [`etag`], [`multipart`]: ETag sealing, part keys and nonces.
//! - [`config_crypto`]: the config/IAM blob format.
//! - [`error`]: error values with MinIO's messages.
//!
//! Sealed keys and ETags are single DARE 2.0 packages; a private minimal
//! single-package DARE (`dare.rs`) handles them until the crate-wide `dare`
//! module is wired in.

pub mod builtin_kms;
pub mod config_crypto;
pub mod context;
mod dare;
pub mod error;
pub mod etag;
pub mod headers;
pub mod kms;
pub mod metadata;
pub mod multipart;
pub mod object_key;
mod primitives;
pub mod sse_c;
pub mod sse_kms;
pub mod sse_s3;
#[cfg(test)]
mod test_vectors;

pub use builtin_kms::{BuiltinKms, SecretKeyError};
pub use context::{Context, path_join};
pub use error::{CryptoError, SseError, SseRequestError};
pub use kms::{Dek, KeyManager, KmsError, KmsFuture};
pub use metadata::Metadata;
pub use object_key::{ObjectKey, SealAlgorithm, SealedKey, SseKind};
pub use primitives::{Cipher, RandomnessError};
