//! `keystore.gcp.secretmanager`: GCP Secret Manager.

use super::super::error::ConfigError;
use super::super::fields::{Map, Walker};
use super::super::secret::Secret;
use super::{required, required_secret};

pub(super) const FIELDS: &[&str] = &["project_id", "endpoint", "scopes", "credentials"];

const ERR: &str = "kesconf: invalid GCP secretmanager keystore:";

/// The endpoint used when none is configured.
pub const GCP_DEFAULT_ENDPOINT: &str = "secretmanager.googleapis.com:443";

/// A Secret Manager keystore.
#[derive(Clone, Debug)]
pub struct GcpConfig {
    pub project_id: String,
    /// Default [`GCP_DEFAULT_ENDPOINT`].
    pub endpoint: String,
    /// OAuth2 scopes; empty: the GCP default scopes. Empty entries are dropped.
    pub scopes: Vec<String>,
    /// A service account; `None` (all four keys empty) uses the ambient credentials.
    pub credentials: Option<GcpCredentials>,
}

/// `credentials.{client_email,client_id,private_key_id,private_key}`: all four, or none.
#[derive(Clone, Debug)]
pub struct GcpCredentials {
    pub client_email: String,
    pub client_id: String,
    pub private_key_id: String,
    pub private_key: Secret,
}

pub(super) fn read(walker: &mut Walker<'_>, sm: &Map<'_>) -> Result<GcpConfig, ConfigError> {
    let project_id = required(
        sm.value(walker, "project_id")?,
        &format!("{ERR} no project ID specified"),
    )?;
    const CREDENTIALS: &[&str] = &["client_email", "client_id", "private_key_id", "private_key"];
    let credentials = match sm.map(walker, "credentials", CREDENTIALS, &[])? {
        None => None,
        Some(c) => {
            let email = c.value(walker, "client_email")?;
            let id = c.value(walker, "client_id")?;
            let key_id = c.value(walker, "private_key_id")?;
            let key = c.value(walker, "private_key")?;
            if email.is_none() && id.is_none() && key_id.is_none() && key.is_none() {
                None
            } else {
                Some(GcpCredentials {
                    client_email: required(email, &format!("{ERR} no client email specified"))?,
                    client_id: required(id, &format!("{ERR} no client ID specified"))?,
                    private_key_id: required(
                        key_id,
                        &format!("{ERR} no private key ID specified"),
                    )?,
                    private_key: required_secret(key, &format!("{ERR} no private key specified"))?,
                })
            }
        }
    };
    Ok(GcpConfig {
        project_id,
        endpoint: sm
            .value(walker, "endpoint")?
            .map_or_else(|| GCP_DEFAULT_ENDPOINT.to_owned(), |v| v.into_string()),
        scopes: sm
            .values(walker, "scopes")?
            .into_iter()
            .filter(|v| !v.text.is_empty())
            .map(|v| v.into_string())
            .collect(),
        credentials,
    })
}
