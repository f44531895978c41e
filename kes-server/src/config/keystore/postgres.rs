//! `keystore.postgres`: a project keystore without a reference counterpart (`kes-formats.md` §5.9).

use super::super::error::ConfigError;
use super::super::fields::{Map, Walker};
use super::super::secret::Secret;
use super::required_secret;

pub(super) const FIELDS: &[&str] = &["url", "table"];

const ERR: &str = "kesconf: invalid postgres keystore:";

/// A PostgreSQL keystore.
#[derive(Clone, Debug)]
pub struct PostgresConfig {
    /// `url`: `postgres://user:password@host:port/database?sslmode=…`. A secret: it may carry a
    /// password.
    pub url: Secret,
    /// `table`: a plain SQL identifier; `kes_keys` if unset.
    pub table: String,
}

pub(super) fn read(
    walker: &mut Walker<'_>,
    postgres: &Map<'_>,
) -> Result<PostgresConfig, ConfigError> {
    let url = required_secret(
        postgres.value(walker, "url")?,
        &format!("{ERR} no url specified"),
    )?;
    // The message never repeats the URL: it may carry a password.
    if !["postgres://", "postgresql://"]
        .iter()
        .any(|scheme| url.expose().starts_with(scheme))
    {
        return Err(ConfigError::invalid(format!(
            "{ERR} url must start with 'postgres://' or 'postgresql://'"
        )));
    }
    let table = match postgres.value(walker, "table")? {
        None => keystores::sql::DEFAULT_TABLE.to_owned(),
        Some(v) if keystores::sql::valid_table_name(&v.text) => v.into_string(),
        Some(v) => {
            return Err(v.invalid(
                "must be a letter or '_' followed by letters, digits or '_', at most 63 characters",
            ));
        }
    };
    Ok(PostgresConfig { url, table })
}
