use std::fmt;

/// A keystore failure. The server maps each variant to an HTTP status in one place.
#[derive(Debug)]
pub enum Error {
    /// No value is stored under the name.
    NotFound,
    /// A value is already stored under the name.
    AlreadyExists,
    /// The name cannot be stored by this backend (for example it would escape its directory).
    InvalidName(String),
    /// The backend cannot be reached (network error, timeout, missing directory).
    Unreachable(String),
    /// The backend answered but failed the operation.
    Unavailable(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound => f.write_str("key does not exist"),
            Error::AlreadyExists => f.write_str("key already exists"),
            Error::InvalidName(name) => write!(f, "keystore: invalid key name '{name}'"),
            Error::Unreachable(msg) => write!(f, "keystore: unreachable: {msg}"),
            Error::Unavailable(msg) => write!(f, "keystore: unavailable: {msg}"),
        }
    }
}

impl std::error::Error for Error {}
