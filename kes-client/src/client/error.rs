//! The client's error type. KES API errors compare equal on (status, message), as kms-go's do.

use std::borrow::Cow;
use std::fmt;

/// An error answer of a KES server: its HTTP status and message.
///
/// Two values are equal exactly when both status and message are equal; the legacy spellings of
/// §4 are mapped to their modern values by [`ApiError::new`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiError {
    status: u16,
    message: Cow<'static, str>,
}

impl ApiError {
    /// 400 `key already exists`.
    pub const KEY_EXISTS: ApiError = ApiError::constant(400, "key already exists");
    /// 404 `key does not exist`.
    pub const KEY_NOT_FOUND: ApiError = ApiError::constant(404, "key does not exist");
    /// 403 `not authorized: insufficient permissions`.
    pub const NOT_ALLOWED: ApiError =
        ApiError::constant(403, "not authorized: insufficient permissions");
    /// 400 `decryption failed: ciphertext is not authentic`.
    pub const DECRYPT: ApiError =
        ApiError::constant(400, "decryption failed: ciphertext is not authentic");
    /// 404 `policy does not exist`.
    pub const POLICY_NOT_FOUND: ApiError = ApiError::constant(404, "policy does not exist");
    /// 404 `identity does not exist`.
    pub const IDENTITY_NOT_FOUND: ApiError = ApiError::constant(404, "identity does not exist");
    /// 503 `change committed but not replicated`.
    pub const PARTIAL_WRITE: ApiError =
        ApiError::constant(503, "change committed but not replicated");
    /// 404 `secret does not exist`.
    pub const SECRET_NOT_FOUND: ApiError = ApiError::constant(404, "secret does not exist");
    /// 404 `secret version does not exist`.
    pub const SECRET_VERSION_NOT_FOUND: ApiError =
        ApiError::constant(404, "secret version does not exist");
    /// 404 `secret already exists` (sic: kms-go's status).
    pub const SECRET_EXISTS: ApiError = ApiError::constant(404, "secret already exists");
    /// 400 `policy already exists`.
    pub const POLICY_EXISTS: ApiError = ApiError::constant(400, "policy already exists");
    /// 400 `identity already exists`.
    pub const IDENTITY_EXISTS: ApiError = ApiError::constant(400, "identity already exists");
    /// 400 `enclave already exists`.
    pub const ENCLAVE_EXISTS: ApiError = ApiError::constant(400, "enclave already exists");
    /// 404 `enclave does not exist`.
    pub const ENCLAVE_NOT_FOUND: ApiError = ApiError::constant(404, "enclave does not exist");

    const fn constant(status: u16, message: &'static str) -> ApiError {
        ApiError {
            status,
            message: Cow::Borrowed(message),
        }
    }

    /// The error for `status` and `message`; 400 `key does already exist` becomes
    /// [`ApiError::KEY_EXISTS`] and 403 `prohibited by policy` becomes [`ApiError::NOT_ALLOWED`].
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        let message = message.into();
        match (status, message.as_str()) {
            (400, "key does already exist") => ApiError::KEY_EXISTS,
            (403, "prohibited by policy") => ApiError::NOT_ALLOWED,
            _ => ApiError {
                status,
                message: Cow::Owned(message),
            },
        }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The message, as the server sent it (legacy spellings already mapped).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

/// Everything a [`Client`](super::Client) call can fail with.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a status ≥ 400.
    Api(ApiError),
    /// Every attempt failed on the network; the text is the last transport error.
    Connection(String),
    /// The per-request timeout of the client expired.
    Timeout,
    /// The server answered 2xx with a body this client cannot decode.
    InvalidResponse(String),
    /// The client could not be built: TLS material, endpoints or options.
    Config(String),
}

impl Error {
    /// The KES API error, if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            Error::Connection(_)
            | Error::Timeout
            | Error::InvalidResponse(_)
            | Error::Config(_) => None,
        }
    }
}

impl PartialEq<ApiError> for Error {
    fn eq(&self, other: &ApiError) -> bool {
        self.api() == Some(other)
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Error {
        Error::Api(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(e) => write!(f, "{e}"),
            Error::Connection(e) => write!(f, "kes: connection error: {e}"),
            Error::Timeout => f.write_str("kes: request timeout exceeded"),
            Error::InvalidResponse(e) => write!(f, "kes: invalid response: {e}"),
            Error::Config(e) => write!(f, "kes: invalid client configuration: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Api(e) => Some(e),
            Error::Connection(_)
            | Error::Timeout
            | Error::InvalidResponse(_)
            | Error::Config(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_is_status_and_message() {
        // (status, message, the error it is compared with, equal?)
        let cases = [
            (400, "key already exists", ApiError::KEY_EXISTS, true),
            (409, "key already exists", ApiError::KEY_EXISTS, false),
            (400, "key already exists.", ApiError::KEY_EXISTS, false),
            (400, "key does already exist", ApiError::KEY_EXISTS, true),
            (403, "prohibited by policy", ApiError::NOT_ALLOWED, true),
            (400, "prohibited by policy", ApiError::NOT_ALLOWED, false),
        ];
        for (status, message, known, equal) in cases {
            let err = ApiError::new(status, message);
            assert_eq!(err == known, equal, "{status} {message:?} vs {known:?}");
        }
        assert_eq!(
            Error::Api(ApiError::new(404, "key does not exist")),
            ApiError::KEY_NOT_FOUND
        );
    }
}
