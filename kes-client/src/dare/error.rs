//! The single error type of the DARE module.

use std::fmt;
use std::io;

/// Why a DARE operation failed.
///
/// Where minio/sio has an error for the same condition, `Display` prints sio's exact message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DareError {
    /// A package header carries a version this reader does not accept.
    UnsupportedVersion,
    /// A package names an unknown cipher, or a different cipher than the stream's first package.
    UnsupportedCipher,
    /// A package's length does not match its header, or a non-final package is not 64 KiB.
    InvalidPayloadSize,
    /// The AEAD tag did not verify: wrong key, tampered or reordered data.
    Authentication,
    /// A DARE 1.0 package carries an unexpected sequence number (reordered or dropped).
    SequenceMismatch,
    /// A DARE 2.0 package's header nonce differs from the stream's first package.
    NonceMismatch,
    /// The stream ended inside a package or before the final DARE 2.0 package.
    UnexpectedEof,
    /// Data follows the final DARE 2.0 package.
    UnexpectedData,
    /// A size exceeds what DARE can address (2^48 plaintext bytes, 2^32 packages).
    SizeTooLarge,
    /// An encrypted size that no plaintext size maps to.
    InvalidSize,
    /// A requested plaintext range lies outside the object.
    InvalidRange,
    /// The operating system's random number generator failed.
    Random,
    /// The AEAD implementation refused the key (not expected for 32-byte keys).
    KeySetup,
}

impl fmt::Display for DareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnsupportedVersion => "sio: unsupported version",
            Self::UnsupportedCipher => "sio: unsupported cipher suite",
            Self::InvalidPayloadSize => "sio: invalid payload size",
            Self::Authentication => "sio: authentication failed",
            Self::SequenceMismatch => "sio: sequence number mismatch",
            Self::NonceMismatch => "sio: header nonce mismatch",
            Self::UnexpectedEof => "sio: unexpected EOF",
            Self::UnexpectedData => "sio: unexpected data after final package",
            Self::SizeTooLarge => "sio: size is too large for DARE",
            Self::InvalidSize => "sio: size is not valid",
            Self::InvalidRange => "dare: the requested range is outside the object",
            Self::Random => "dare: the random number generator failed",
            Self::KeySetup => "dare: the AEAD key could not be set up",
        })
    }
}

impl std::error::Error for DareError {}

impl From<DareError> for io::Error {
    /// Truncation maps to `UnexpectedEof`, everything else to `InvalidData`; the `DareError`
    /// stays reachable through `io::Error::get_ref` and [`DareError::from_io`].
    fn from(err: DareError) -> Self {
        let kind = match err {
            DareError::UnexpectedEof => io::ErrorKind::UnexpectedEof,
            DareError::Random | DareError::KeySetup => io::ErrorKind::Other,
            DareError::UnsupportedVersion
            | DareError::UnsupportedCipher
            | DareError::InvalidPayloadSize
            | DareError::Authentication
            | DareError::SequenceMismatch
            | DareError::NonceMismatch
            | DareError::UnexpectedData
            | DareError::SizeTooLarge
            | DareError::InvalidSize
            | DareError::InvalidRange => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, err)
    }
}

impl DareError {
    /// The `DareError` inside an `io::Error` returned by this module's readers, if it is one.
    pub fn from_io(err: &io::Error) -> Option<Self> {
        err.get_ref()
            .and_then(|inner| inner.downcast_ref::<Self>())
            .copied()
    }
}
