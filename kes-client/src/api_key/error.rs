//! Errors of API keys and client certificates.

use std::fmt;

/// Why an API key or a certificate could not be parsed or made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiKeyError {
    /// The key text (after the optional `kes:v1:` prefix) is not standard base64.
    InvalidBase64,
    /// The key does not decode to 33 bytes.
    InvalidLength,
    /// The key type byte is not 0 (Ed25519).
    UnsupportedType,
    /// The system random generator failed.
    Randomness,
    /// The crypto library refused to build the Ed25519 key pair.
    KeyPair,
    /// The certificate could not be built or signed.
    Certificate(String),
    /// The bytes are not one DER X.509 certificate.
    InvalidCertificate(String),
}

impl fmt::Display for ApiKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiKeyError::InvalidBase64 => f.write_str("kes: invalid API key: invalid base64"),
            ApiKeyError::InvalidLength => f.write_str("kes: invalid API key: invalid length"),
            ApiKeyError::UnsupportedType => f.write_str("kes: invalid API key: unsupported type"),
            ApiKeyError::Randomness => f.write_str("kes: failed to read random bytes"),
            ApiKeyError::KeyPair => f.write_str("kes: failed to derive the Ed25519 key pair"),
            ApiKeyError::Certificate(detail) => {
                write!(f, "kes: failed to create client certificate: {detail}")
            }
            ApiKeyError::InvalidCertificate(detail) => {
                write!(f, "kes: invalid certificate: {detail}")
            }
        }
    }
}

impl std::error::Error for ApiKeyError {}
