//! Opens the keystore a configuration names. This is the only place that maps a
//! [`KeystoreConfig`] to a backend: adding a backend touches the `keystores` crate, the config's
//! backend enum, and this `match`.

use std::sync::Arc;

use keystores::KeyStore;

use crate::config::KeystoreConfig;

/// The keystore for `config`, or why it cannot be opened. A backend that this build does not
/// have yet is an error, never a fallback to another store.
pub fn open(config: &KeystoreConfig) -> Result<Arc<dyn KeyStore>, String> {
    match config {
        KeystoreConfig::Fs { path } => keystores::fs::FsKeyStore::open(path)
            .map(|store| Arc::new(store) as Arc<dyn KeyStore>)
            .map_err(|err| format!("failed to open fs keystore '{}': {err}", path.display())),
        KeystoreConfig::Sqlite(sqlite) => {
            Ok(Arc::new(keystores::sql::SqlKeyStore::sqlite(&sqlite.path)) as Arc<dyn KeyStore>)
        }
        KeystoreConfig::Postgres(postgres) => {
            keystores::sql::SqlKeyStore::postgres(postgres.url.expose(), &postgres.table)
                .map(|store| Arc::new(store) as Arc<dyn KeyStore>)
                .map_err(|err| format!("failed to open postgres keystore: {err}"))
        }
        #[cfg(feature = "azure")]
        KeystoreConfig::Azure(azure) => open_azure(azure),
        other => Err(format!(
            "keystore '{}' is not supported by this build yet",
            other.backend_name()
        )),
    }
}

/// Maps `keystore.azure.keyvault` to the Azure keystore's options. The endpoint's TLS
/// certificate is checked against the system roots, which honour `$SSL_CERT_FILE`.
#[cfg(feature = "azure")]
fn open_azure(config: &crate::config::AzureConfig) -> Result<Arc<dyn KeyStore>, String> {
    use crate::config::AzureAuth;
    use keystores::azure::{AzureKeyStore, AzureOptions, Credential};
    let credential = match &config.auth {
        AzureAuth::ClientSecret {
            tenant_id,
            client_id,
            client_secret,
        } => Credential::ClientSecret {
            tenant_id: tenant_id.clone(),
            client_id: client_id.clone(),
            client_secret: zeroize::Zeroizing::new(client_secret.expose().to_owned()),
            authority_host: None,
        },
        AzureAuth::ManagedIdentity { client_id } => Credential::ManagedIdentity {
            client_id: Some(client_id.clone()),
        },
        AzureAuth::Default => Credential::Default,
    };
    AzureKeyStore::new(AzureOptions::new(config.endpoint.clone(), credential))
        .map(|store| Arc::new(store) as Arc<dyn KeyStore>)
        .map_err(|err| format!("failed to open Azure Key Vault keystore: {err}"))
}
