//! [`ConfigError`]: MinIO's KMS configuration errors, with MinIO's exact messages.

use std::fmt;

use crate::ApiKeyError;

/// A rejected `MINIO_KMS_*` environment. `Display` gives MinIO's message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// MinKMS and KES variables are both present.
    MinKmsAndKes,
    /// MinKMS and static-key variables are both present.
    MinKmsAndStaticKey,
    /// KES and static-key variables are both present.
    KesAndStaticKey,
    /// Both `MINIO_KMS_SECRET_KEY` and `MINIO_KMS_SECRET_KEY_FILE`.
    StaticKeyTwice,
    /// A required KES variable is missing (its name).
    KesMissing(&'static str),
    /// Neither an API key nor a client certificate.
    KesMissingAuth,
    /// An API key and client certificate variables together.
    KesApiKeyAndCertificate,
    /// `MINIO_KMS_KES_ENDPOINT` lists no endpoint.
    KesNoEndpoint,
    /// An endpoint whose ellipses do not expand.
    KesInvalidEndpoint {
        /// The endpoint as configured.
        endpoint: String,
        /// Why it is invalid.
        reason: String,
    },
    /// `MINIO_KMS_KES_API_KEY` does not parse.
    KesInvalidApiKey(ApiKeyError),
    /// MinKMS (`MINIO_KMS_SERVER`) was selected; this crate does not speak its protocol.
    MinKmsUnsupported,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::MinKmsAndKes => {
                f.write_str("kms: configuration for MinIO KMS and MinIO KES is present")
            }
            ConfigError::MinKmsAndStaticKey => {
                f.write_str("kms: configuration for MinIO KMS and static KMS key is present")
            }
            ConfigError::KesAndStaticKey => {
                f.write_str("kms: configuration for MinIO KES and static KMS key is present")
            }
            ConfigError::StaticKeyTwice => f.write_str(
                "kms: invalid configuration for static KMS key: 'MINIO_KMS_SECRET_KEY' and 'MINIO_KMS_SECRET_KEY_FILE' are present",
            ),
            ConfigError::KesMissing(var) => {
                write!(f, "kms: incomplete configuration for MinIO KES: missing '{var}'")
            }
            ConfigError::KesMissingAuth => f.write_str(
                "kms: incomplete configuration for MinIO KES: missing authentication method",
            ),
            ConfigError::KesApiKeyAndCertificate => f.write_str(
                "kms: invalid configuration for MinIO KES: 'MINIO_KMS_KES_API_KEY' and client certificate is present",
            ),
            ConfigError::KesNoEndpoint => f.write_str("kms: no KES server endpoint provided"),
            ConfigError::KesInvalidEndpoint { endpoint, reason } => {
                write!(f, "kms: invalid endpoint '{endpoint}': {reason}")
            }
            ConfigError::KesInvalidApiKey(e) => write!(f, "kms: invalid KES API key: {e}"),
            ConfigError::MinKmsUnsupported => {
                f.write_str("kms: MinIO KMS (MINIO_KMS_SERVER) is not supported")
            }
        }
    }
}

impl std::error::Error for ConfigError {}
