//! Error values with MinIO's exact messages (`internal/crypto/error.go`,
//! `metadata.go`, `sse-*.go`).

use std::fmt;

use super::kms::KmsError;
use super::object_key::SseKind;
use super::primitives::RandomnessError;

/// Errors about object keys and their metadata: what MinIO calls `crypto.Error`.
///
/// All map to 400 `XMinioEncryptionError` except [`CryptoError::SecretKeyMismatch`]
/// (403 `AccessDenied`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// The key, the object name, the domain or the sealed key do not match.
    SecretKeyMismatch,
    /// `…-Iv` is absent.
    MissingInternalIv,
    /// `…-Seal-Algorithm` is absent.
    MissingInternalSealAlgorithm,
    /// The sealed-key entry for the SSE type is absent (MinIO says "SSE-S3"
    /// for SSE-KMS objects too).
    MissingSealedKey(SseKind),
    /// `…-S3-Kms-Sealed-Key` is present without `…-S3-Kms-Key-Id`.
    MissingKmsKeyId,
    /// `…-S3-Kms-Key-Id` is present without `…-S3-Kms-Sealed-Key`.
    MissingKmsDataKey,
    /// `…-Iv` is not base64 of 32 bytes.
    InvalidInternalIv,
    /// `…-Seal-Algorithm` is not supported for this SSE type.
    InvalidInternalSealAlgorithm,
    /// The sealed key is not base64 of 64 bytes.
    InvalidSealedKey(SseKind),
    /// `…-S3-Kms-Sealed-Key` is not base64.
    InvalidKmsDataKey(SseKind),
    /// `…-Context` is not base64.
    InvalidContextEncoding,
    /// `…-Context` is not a JSON object of strings.
    InvalidContext(String),
    /// The object is not encrypted with the SSE type the caller expected.
    NotEncrypted(SseKind),
    /// The CSPRNG failed.
    Randomness,
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SecretKeyMismatch => {
                f.write_str("The secret key does not match the secret key used during upload")
            }
            Self::MissingInternalIv => {
                f.write_str("The object metadata is missing the internal encryption IV")
            }
            Self::MissingInternalSealAlgorithm => {
                f.write_str("The object metadata is missing the internal seal algorithm")
            }
            Self::MissingSealedKey(kind) => {
                let label = match kind {
                    SseKind::C => "SSE-C",
                    // MinIO's SSE-KMS parser reuses the SSE-S3 text.
                    SseKind::S3 | SseKind::Kms => "SSE-S3",
                };
                write!(
                    f,
                    "The object metadata is missing the internal sealed key for {label}"
                )
            }
            Self::MissingKmsKeyId => {
                f.write_str("The object metadata is missing the internal KMS key-ID for SSE-S3")
            }
            Self::MissingKmsDataKey => f.write_str(
                "The object metadata is missing the internal sealed KMS data key for SSE-S3",
            ),
            Self::InvalidInternalIv => f.write_str("The internal encryption IV is malformed"),
            Self::InvalidInternalSealAlgorithm => {
                f.write_str("The internal seal algorithm is invalid and not supported")
            }
            Self::InvalidSealedKey(kind) => {
                write!(f, "The internal sealed key for {kind} is invalid")
            }
            Self::InvalidKmsDataKey(kind) => {
                write!(f, "The internal sealed KMS data key for {kind} is invalid")
            }
            Self::InvalidContextEncoding => {
                f.write_str("The internal KMS context is not base64-encoded")
            }
            Self::InvalidContext(e) => write!(f, "The internal sealed KMS context is invalid {e}"),
            Self::NotEncrypted(kind) => write!(f, "The object is not encrypted with {kind}"),
            Self::Randomness => f.write_str("Unable to read enough randomness from the system"),
        }
    }
}

impl std::error::Error for CryptoError {}

impl From<RandomnessError> for CryptoError {
    fn from(_: RandomnessError) -> Self {
        Self::Randomness
    }
}

/// Errors in SSE request headers (`internal/crypto/error.go`, `sse-kms.go`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SseRequestError {
    /// `ErrInvalidEncryptionMethod`.
    InvalidEncryptionMethod,
    /// `ErrInvalidCustomerAlgorithm`.
    InvalidCustomerAlgorithm,
    /// `ErrMissingCustomerKey`.
    MissingCustomerKey,
    /// `ErrMissingCustomerKeyMD5`.
    MissingCustomerKeyMd5,
    /// `ErrInvalidCustomerKey`.
    InvalidCustomerKey,
    /// `ErrCustomerKeyMD5Mismatch`.
    CustomerKeyMd5Mismatch,
    /// `ErrIncompatibleEncryptionMethod`.
    IncompatibleEncryptionMethod,
    /// `ErrInvalidEncryptionKeyID`: the key id has leading or trailing spaces.
    InvalidEncryptionKeyId,
    /// The SSE-KMS context header is not base64 of a JSON string map.
    InvalidContext(String),
    /// `errInvalidSSEParameters` (400 `InvalidArgument`): an SSE-C rotation
    /// with identical old and new keys that do not unseal the object.
    InvalidSseParameters,
}

impl fmt::Display for SseRequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidEncryptionMethod => f.write_str("The encryption method is not supported"),
            Self::InvalidCustomerAlgorithm => f.write_str("The SSE-C algorithm is not supported"),
            Self::MissingCustomerKey => {
                f.write_str("The SSE-C request is missing the customer key")
            }
            Self::MissingCustomerKeyMd5 => {
                f.write_str("The SSE-C request is missing the customer key MD5")
            }
            Self::InvalidCustomerKey => f.write_str("The SSE-C client key is invalid"),
            Self::CustomerKeyMd5Mismatch => f.write_str(
                "The provided SSE-C key MD5 does not match the computed MD5 of the SSE-C key",
            ),
            Self::IncompatibleEncryptionMethod => {
                f.write_str("Server side encryption specified with both SSE-C and SSE-S3 headers")
            }
            Self::InvalidEncryptionKeyId => {
                f.write_str("KMS KeyID contains unsupported characters")
            }
            Self::InvalidContext(e) => write!(f, "{e}"),
            Self::InvalidSseParameters => f.write_str(
                "The provided encryption parameters did not match the ones used originally.",
            ),
        }
    }
}

impl std::error::Error for SseRequestError {}

/// Any failure of an SSE workflow (seal or unseal an object key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SseError {
    /// Bad request headers.
    Request(SseRequestError),
    /// Bad metadata or a key mismatch.
    Crypto(CryptoError),
    /// The KMS refused or failed.
    Kms(KmsError),
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Request(e) => e.fmt(f),
            Self::Crypto(e) => e.fmt(f),
            Self::Kms(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for SseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Request(e) => Some(e),
            Self::Crypto(e) => Some(e),
            Self::Kms(e) => Some(e),
        }
    }
}

impl From<SseRequestError> for SseError {
    fn from(e: SseRequestError) -> Self {
        Self::Request(e)
    }
}

impl From<CryptoError> for SseError {
    fn from(e: CryptoError) -> Self {
        Self::Crypto(e)
    }
}

impl From<KmsError> for SseError {
    fn from(e: KmsError) -> Self {
        Self::Kms(e)
    }
}

impl From<RandomnessError> for SseError {
    fn from(_: RandomnessError) -> Self {
        Self::Crypto(CryptoError::Randomness)
    }
}
