use std::fmt;

use crate::KeyType;

/// A failure of a key operation. No variant carries key material.
///
/// The server maps each variant to an HTTP status in one exhaustive `match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Decryption failed: wrong key, wrong associated data, tampering, truncated input or a
    /// malformed legacy framing. KES reports all of these the same way.
    NotAuthentic,
    /// The key has no HMAC key (every legacy JSON key).
    HmacNotSupported,
    /// Secret key bytes that are not 32 bytes long, for the named key type.
    InvalidKeyLength {
        /// The length that was given.
        len: usize,
        /// The key type the bytes were meant for.
        key_type: KeyType,
    },
    /// A stored JSON key names an algorithm that is not one of the accepted names.
    UnsupportedKeyType(String),
    /// A stored protobuf key without its secret key (field 1).
    SecretKeyNotInitialized,
    /// A stored protobuf key without its HMAC key (field 2), or an encode of a key that has none.
    HmacKeyNotInitialized,
    /// A stored key value that is malformed in some other way.
    Format(FormatError),
    /// The system random number generator failed.
    Random,
    /// The AEAD refused to seal the plaintext (it is too large).
    Encrypt,
}

/// How a stored key value is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatError {
    /// Valid JSON that is not a legacy key object of the expected field types.
    Json,
    /// Base64 that does not decode (standard alphabet, padding required).
    Base64,
    /// Bytes that are not a well-formed protobuf `KeyVersion`.
    Protobuf,
    /// A protobuf secret key whose length is not 32 bytes.
    SecretKeyLength(usize),
    /// A protobuf secret key type other than 1 (AES256) or 2 (ChaCha20).
    SecretKeyType(u32),
    /// A protobuf HMAC key whose length is not 32 bytes.
    HmacKeyLength(usize),
    /// A protobuf HMAC hash other than 1 (SHA256).
    HmacHash(u32),
    /// A creation time that cannot be represented (out of range, or not RFC 3339).
    CreatedAt,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotAuthentic => f.write_str("decryption failed: ciphertext is not authentic"),
            Error::HmacNotSupported => f.write_str("key does not support HMAC"),
            Error::InvalidKeyLength { len, key_type } => {
                write!(f, "crypto: invalid key length '{len}' for '{key_type}'")
            }
            Error::UnsupportedKeyType(name) => {
                write!(f, "crypto: secret key type '{name}' is not supported")
            }
            Error::SecretKeyNotInitialized => f.write_str("crypto: secret key is not initialized"),
            Error::HmacKeyNotInitialized => f.write_str("crypto: HMAC key is not initialized"),
            Error::Format(err) => fmt::Display::fmt(err, f),
            Error::Random => f.write_str("crypto: failed to read random bytes"),
            Error::Encrypt => f.write_str("crypto: failed to encrypt plaintext"),
        }
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Json => f.write_str("crypto: invalid JSON key"),
            FormatError::Base64 => f.write_str("crypto: invalid base64 in stored key"),
            FormatError::Protobuf => f.write_str("crypto: invalid protobuf key"),
            FormatError::SecretKeyLength(n) => write!(f, "crypto: invalid secret key length '{n}'"),
            FormatError::SecretKeyType(t) => write!(f, "crypto: invalid secret key type '{t}'"),
            FormatError::HmacKeyLength(n) => write!(f, "crypto: invalid HMAC key length '{n}'"),
            FormatError::HmacHash(h) => write!(f, "crypto: invalid HMAC key hash '{h}'"),
            FormatError::CreatedAt => f.write_str("crypto: invalid key creation time"),
        }
    }
}

impl std::error::Error for Error {}

impl From<FormatError> for Error {
    fn from(err: FormatError) -> Self {
        Error::Format(err)
    }
}
