//! Client side of KES-compatible servers.
//!
//! - [`api_key`]: `kes:v1:` API keys (spec `kes-api.md` §2.2), their identity and the
//!   self-signed client certificate a KES client presents over mTLS;
//! - [`client`]: the async HTTP client for every server route, with kms-go's endpoint
//!   ordering, failover, retries and error values (§11);
//! - [`config`]: MinIO's `MINIO_KMS_*` environment configuration (`minio-client.md` §1);
//! - [`dare`]: MinIO's DARE 2.0 streaming encryption (and DARE 1.0 reading), range reads;
//! - [`pem`]: PEM certificates and keys, including legacy encrypted keys;
//! - [`sse`]: MinIO's SSE-S3, SSE-KMS and SSE-C key sealing, ETags, multipart keys, internal
//!   metadata, config encryption and the builtin single-key KMS.

pub mod api_key;
pub mod client;
pub mod config;
pub mod dare;
pub mod pem;
pub mod sse;

pub use api_key::{ApiKey, ApiKeyError, ClientCertificate, identity_of_certificate};
pub use client::{ApiError, Client, Error};
