//! `keystore.fortanix.sdkms`: Fortanix Data Security Manager (SDKMS).

use std::path::PathBuf;

use super::super::error::ConfigError;
use super::super::fields::{Map, Walker};
use super::super::secret::Secret;
use super::{ca, required, required_secret};

pub(super) const FIELDS: &[&str] = &["endpoint", "group_id", "credentials", "tls"];

const ERR: &str = "kesconf: invalid fortanix SDKMS keystore:";

/// A Fortanix SDKMS keystore.
#[derive(Clone, Debug)]
pub struct FortanixConfig {
    pub endpoint: String,
    /// Group for new keys; unset: the application's default group.
    pub group_id: Option<String>,
    /// `credentials.key`: the application API key.
    pub api_key: Secret,
    /// `tls.ca`: trusted CAs for the SDKMS certificate.
    pub ca: Option<PathBuf>,
}

pub(super) fn read(
    walker: &mut Walker<'_>,
    sdkms: &Map<'_>,
) -> Result<FortanixConfig, ConfigError> {
    let endpoint = required(
        sdkms.value(walker, "endpoint")?,
        &format!("{ERR} no endpoint specified"),
    )?;
    let credentials = sdkms.map(walker, "credentials", &["key"], &[])?;
    let api_key = match &credentials {
        Some(credentials) => credentials.value(walker, "key")?,
        None => None,
    };
    Ok(FortanixConfig {
        endpoint,
        group_id: sdkms.value(walker, "group_id")?.map(|v| v.into_string()),
        api_key: required_secret(api_key, &format!("{ERR} no API key specified"))?,
        ca: ca(walker, sdkms)?,
    })
}
