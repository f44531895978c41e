//! The one error type of the configuration layer.

use std::fmt;
use std::path::PathBuf;

use super::address::AddressError;

/// Why a configuration file was rejected. `Display` is the exact message for the operator.
///
/// Messages the spec quotes are byte-exact; rules of the reference keep its wording. Every other
/// message starts with `kesconf:` and names the key path and line it is about.
#[derive(Debug)]
pub enum ConfigError {
    /// The file could not be read.
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The text is not well-formed YAML. `line` and `column` are 1-based.
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// A key that is not part of the schema, e.g. a typo.
    UnknownField { path: String, line: usize },
    /// A key that appears twice in the same mapping.
    DuplicateField { path: String, line: usize },
    /// A mapping, list or scalar where the schema expects another kind of node.
    WrongKind {
        path: String,
        line: usize,
        expected: &'static str,
    },
    /// A `${NAME}` reference to a variable that is not set.
    EnvNotFound { name: String, line: usize },
    /// A scalar that does not parse as its type or is out of range.
    InvalidValue {
        path: String,
        line: usize,
        value: String,
        reason: &'static str,
    },
    /// An `address` that is not `ip:port`.
    Address { error: AddressError, line: usize },
    /// A rule of the schema is broken (missing required key, conflicting keys, …); the message
    /// is complete.
    Invalid(String),
}

impl ConfigError {
    pub(super) fn invalid(message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid(message.into())
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { path, error } => {
                write!(f, "kesconf: failed to read '{}': {error}", path.display())
            }
            ConfigError::Syntax {
                line,
                column,
                message,
            } => write!(
                f,
                "kesconf: invalid YAML in line {line}, column {column}: {message}"
            ),
            ConfigError::UnknownField { path, line } => {
                write!(f, "kesconf: unknown field '{path}' in line {line}")
            }
            ConfigError::DuplicateField { path, line } => {
                write!(f, "kesconf: field '{path}' in line {line} is defined twice")
            }
            ConfigError::WrongKind {
                path,
                line,
                expected,
            } => write!(
                f,
                "kesconf: invalid value for '{path}' in line {line}: expected {expected}"
            ),
            ConfigError::EnvNotFound { name, line } => write!(
                f,
                "kesconf: referenced env. variable '{name}' in line '{line}' not found"
            ),
            ConfigError::InvalidValue {
                path,
                line,
                value,
                reason,
            } => write!(
                f,
                "kesconf: invalid value '{value}' for '{path}' in line {line}: {reason}"
            ),
            ConfigError::Address {
                error: error @ AddressError::NotAnIp { .. },
                ..
            } => write!(f, "{error}"),
            ConfigError::Address { error, line } => {
                write!(f, "kesconf: {error} in line {line}")
            }
            ConfigError::Invalid(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Read { error, .. } => Some(error),
            ConfigError::Address { error, .. } => Some(error),
            _ => None,
        }
    }
}
