//! `keystore.entrust.keycontrol`: Entrust KeyControl.

use std::path::PathBuf;

use super::super::error::ConfigError;
use super::super::fields::{Map, Walker};
use super::super::secret::Secret;
use super::{ca, required, required_secret};

pub(super) const FIELDS: &[&str] = &["endpoint", "vault_id", "box_id", "credentials", "tls"];

const ERR: &str = "kesconf: invalid Entrust KeyControl keystore:";

/// A KeyControl keystore.
#[derive(Clone, Debug)]
pub struct EntrustConfig {
    pub endpoint: String,
    pub vault_id: String,
    /// Box name or ID inside the vault.
    pub box_id: String,
    pub username: String,
    pub password: Secret,
    /// `tls.ca`: trusted CAs for the KeyControl certificate.
    pub ca: Option<PathBuf>,
}

pub(super) fn read(
    walker: &mut Walker<'_>,
    keycontrol: &Map<'_>,
) -> Result<EntrustConfig, ConfigError> {
    let endpoint = required(
        keycontrol.value(walker, "endpoint")?,
        &format!("{ERR} no endpoint specified"),
    )?;
    let vault_id = required(
        keycontrol.value(walker, "vault_id")?,
        &format!("{ERR} no vault ID specified"),
    )?;
    let box_id = required(
        keycontrol.value(walker, "box_id")?,
        &format!("{ERR} no box ID specified"),
    )?;
    let credentials = keycontrol.map(walker, "credentials", &["username", "password"], &[])?;
    let (username, password) = match &credentials {
        Some(c) => (c.value(walker, "username")?, c.value(walker, "password")?),
        None => (None, None),
    };
    Ok(EntrustConfig {
        endpoint,
        vault_id,
        box_id,
        username: required(username, &format!("{ERR} no username specified"))?,
        password: required_secret(password, &format!("{ERR} no password specified"))?,
        ca: ca(walker, keycontrol)?,
    })
}
