//! `keystore.sqlite`: a project keystore without a reference counterpart (`kes-formats.md` §5.9).

use std::path::PathBuf;

use super::super::error::ConfigError;
use super::super::fields::{Map, Walker};

pub(super) const FIELDS: &[&str] = &["path"];

/// A SQLite keystore: one database file, created if missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqliteConfig {
    /// `path`: the database file.
    pub path: PathBuf,
}

pub(super) fn read(walker: &mut Walker<'_>, sqlite: &Map<'_>) -> Result<SqliteConfig, ConfigError> {
    let path = sqlite.value(walker, "path")?.ok_or_else(|| {
        ConfigError::invalid("kesconf: invalid sqlite keystore: no path specified")
    })?;
    Ok(SqliteConfig {
        path: path.into_path(),
    })
}
