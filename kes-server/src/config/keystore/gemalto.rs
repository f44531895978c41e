//! `keystore.gemalto.keysecure`: Thales CipherTrust Manager / Gemalto KeySecure.

use std::path::PathBuf;

use super::super::error::ConfigError;
use super::super::fields::{Map, Walker};
use super::super::secret::Secret;
use super::{ca, required, required_secret};

pub(super) const FIELDS: &[&str] = &["endpoint", "credentials", "tls"];

const ERR: &str = "kesconf: invalid gemalto keysecure keystore:";

/// A KeySecure keystore.
#[derive(Clone, Debug)]
pub struct GemaltoConfig {
    pub endpoint: String,
    /// `credentials.token`: the refresh token.
    pub token: Secret,
    /// `credentials.domain`; unset: the root domain.
    pub domain: Option<String>,
    /// `tls.ca`: trusted CAs for the KeySecure certificate.
    pub ca: Option<PathBuf>,
}

pub(super) fn read(
    walker: &mut Walker<'_>,
    keysecure: &Map<'_>,
) -> Result<GemaltoConfig, ConfigError> {
    let endpoint = required(
        keysecure.value(walker, "endpoint")?,
        &format!("{ERR} no endpoint specified"),
    )?;
    let credentials = keysecure.map(walker, "credentials", &["token", "domain"], &["retry"])?;
    let (token, domain) = match &credentials {
        Some(c) => (c.value(walker, "token")?, c.value(walker, "domain")?),
        None => (None, None),
    };
    Ok(GemaltoConfig {
        endpoint,
        token: required_secret(token, &format!("{ERR} no token specified"))?,
        domain: domain.map(|v| v.into_string()),
        ca: ca(walker, keysecure)?,
    })
}
