//! `keystore.azure.keyvault`: Azure Key Vault (secrets API).

use super::super::error::ConfigError;
use super::super::fields::{Map, Walker};
use super::super::secret::Secret;
use super::{required, required_secret};

pub(super) const FIELDS: &[&str] = &["endpoint", "credentials", "managed_identity"];

const ERR: &str = "kesconf: invalid Azure keyvault keystore:";

/// A Key Vault keystore.
#[derive(Clone, Debug)]
pub struct AzureConfig {
    pub endpoint: String,
    pub auth: AzureAuth,
}

/// How the server authenticates to Azure.
#[derive(Clone, Debug)]
pub enum AzureAuth {
    /// `credentials`: a client secret; all three keys are required once the block is present.
    ClientSecret {
        tenant_id: String,
        client_id: String,
        client_secret: Secret,
    },
    /// `managed_identity.client_id`.
    ManagedIdentity { client_id: String },
    /// Neither block: the Azure default credential chain.
    Default,
}

pub(super) fn read(walker: &mut Walker<'_>, kv: &Map<'_>) -> Result<AzureConfig, ConfigError> {
    let endpoint = required(
        kv.value(walker, "endpoint")?,
        &format!("{ERR} no endpoint specified"),
    )?;
    let credentials = kv.map(
        walker,
        "credentials",
        &["tenant_id", "client_id", "client_secret"],
        &[],
    )?;
    let managed = kv.map(walker, "managed_identity", &["client_id"], &[])?;
    let no_client_id = format!("{ERR} no client ID specified");
    let auth = match (credentials, managed) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::invalid(format!(
                "{ERR} more than one authentication method specified"
            )));
        }
        (Some(c), None) => AzureAuth::ClientSecret {
            tenant_id: required(
                c.value(walker, "tenant_id")?,
                &format!("{ERR} no tenant ID specified"),
            )?,
            client_id: required(c.value(walker, "client_id")?, &no_client_id)?,
            client_secret: required_secret(
                c.value(walker, "client_secret")?,
                &format!("{ERR} no client secret specified"),
            )?,
        },
        (None, Some(m)) => AzureAuth::ManagedIdentity {
            client_id: required(m.value(walker, "client_id")?, &no_client_id)?,
        },
        (None, None) => AzureAuth::Default,
    };
    Ok(AzureConfig { endpoint, auth })
}
