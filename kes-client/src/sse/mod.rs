//! MinIO's server-side-encryption key handling, byte-compatible with MinIO
//! (`internal/crypto`, `internal/kms`, `internal/config/crypto.go`).
//!
//! Layout:
//! - [`context`]: the canonical `kms.Context` encoding and Go's `path.Join`.
//! - [`kms`]: DEKs, the [`KeyManager`] trait MinIO's sealing calls, KMS errors.
//! - [`kes_kms`]: the [`KeyManager`] on a KES server, with MinIO's startup probe.
//! - [`builtin_kms`]: the single-key KMS of `MINIO_KMS_SECRET_KEY`.
//! - [`object_key`]: OEK generation, KEK derivation, seal/unseal, derived keys.
//! - [`metadata`]: internal metadata keys, classification and parsing.
//! - [`headers`]: S3 request header names and lookup.
//! - [`sse_s3`], [`sse_kms`], [`sse_c`]: request parsing, seal, unseal, rotation.
//! - [`etag`], [`multipart`]: ETag sealing, part keys and nonces.
//! - [`config_crypto`]: the config/IAM blob format.
//! - [`error`]: error values with MinIO's messages.
//!
//! Sealed keys and ETags are single DARE 2.0 packages, sealed through the crate's
//! [`crate::dare`] module.
//!
//! # An SSE-S3 object, as MinIO stores it
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use std::io::Read as _;
//! use kes_client::config::KmsConfig;
//! use kes_client::dare::{DecryptOptions, DecryptReader, EncryptReader, SealOptions};
//! use kes_client::sse::{self, KesKms};
//!
//! // MINIO_KMS_KES_ENDPOINT, MINIO_KMS_KES_KEY_NAME, MINIO_KMS_KES_API_KEY, ...
//! let env = |name: &str| std::env::var(name).ok();
//! let KmsConfig::Kes(config) = KmsConfig::from_env(&env)? else { return Ok(()) };
//! let kms = KesKms::new(config.client()?, config.key_name.clone());
//! kms.startup().await?; // creates the default key if it is missing, as MinIO does
//!
//! // PUT: a fresh object key, sealed under a KES data key; the metadata goes with the object.
//! let mut metadata = sse::Metadata::new();
//! let key = sse::sse_s3::seal_object_key(&kms, "bucket", "object", &mut metadata).await?;
//! let mut stored = Vec::new();
//! EncryptReader::new(&b"hello"[..], key.as_bytes(), &SealOptions::default())?
//!     .read_to_end(&mut stored)?;
//!
//! // GET: unseal the object key from the metadata, then decrypt the DARE stream.
//! let key = sse::sse_s3::unseal_object_key(&kms, &metadata, "bucket", "object").await?;
//! let mut plain = Vec::new();
//! DecryptReader::new(&stored[..], key.as_bytes(), &DecryptOptions::default())?
//!     .read_to_end(&mut plain)?;
//! assert_eq!(plain, b"hello");
//! # Ok(())
//! # }
//! ```

pub mod builtin_kms;
pub mod config_crypto;
pub mod context;
mod dare;
mod dek_seal;
pub mod error;
pub mod etag;
pub mod headers;
pub mod kes_kms;
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
pub use kes_kms::KesKms;
pub use kms::{Dek, KeyManager, KmsError, KmsFuture};
pub use metadata::Metadata;
pub use object_key::{ObjectKey, SealAlgorithm, SealedKey, SseKind};
pub use primitives::{Cipher, RandomnessError};
