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
        #[cfg(feature = "vault")]
        KeystoreConfig::Vault(vault) => keystores::vault::VaultKeyStore::new(vault_options(vault))
            .map(|store| Arc::new(store) as Arc<dyn KeyStore>)
            .map_err(|err| format!("failed to open vault keystore: {err}")),
        #[cfg(feature = "aws")]
        KeystoreConfig::Aws(aws) => open_aws(aws),
        #[cfg(feature = "azure")]
        KeystoreConfig::Azure(azure) => open_azure(azure),
        other => Err(format!(
            "keystore '{}' is not supported by this build yet",
            other.backend_name()
        )),
    }
}

/// The keystore options for `keystore.vault`. `status.ping` has no counterpart: the server
/// probes the keystore's health endpoint when it needs to.
#[cfg(feature = "vault")]
fn vault_options(config: &crate::config::VaultConfig) -> keystores::vault::VaultOptions {
    use crate::config::{VaultAuth, VaultJwt, VaultKvVersion};
    use keystores::vault as v;
    use zeroize::Zeroizing;

    let secret = |s: &crate::config::Secret| Zeroizing::new(s.expose().to_owned());
    let auth = match &config.auth {
        VaultAuth::Token(token) => v::VaultAuth::Token(secret(token)),
        VaultAuth::AppRole(approle) => v::VaultAuth::AppRole(v::AppRole {
            engine: approle.engine.clone(),
            namespace: approle.namespace.clone(),
            id: approle.id.clone(),
            secret: secret(&approle.secret),
        }),
        VaultAuth::Kubernetes(k8s) => v::VaultAuth::Kubernetes(v::Kubernetes {
            engine: k8s.engine.clone(),
            namespace: k8s.namespace.clone(),
            role: k8s.role.clone().unwrap_or_default(),
            jwt: match &k8s.jwt {
                VaultJwt::Token(jwt) => v::Jwt::Token(secret(jwt)),
                VaultJwt::File(path) => v::Jwt::File(path.clone()),
            },
        }),
    };
    v::VaultOptions {
        endpoint: config.endpoint.clone(),
        engine: config.engine.clone(),
        version: match config.version {
            VaultKvVersion::V1 => v::KvVersion::V1,
            VaultKvVersion::V2 => v::KvVersion::V2,
        },
        namespace: config.namespace.clone(),
        prefix: config.prefix.clone(),
        auth,
        transit: config.transit.as_ref().map(|t| v::Transit {
            engine: t.engine.clone(),
            key: t.key.clone(),
        }),
        tls: v::VaultTls {
            ca: config.tls.ca.clone(),
            client: config
                .tls
                .client
                .as_ref()
                .map(|c| (c.cert.clone(), c.key.clone())),
        },
        timeout: v::DEFAULT_TIMEOUT,
    }
}

/// Maps `keystore.aws.secretsmanager` to the AWS keystore's options. An empty `kmskey` means the
/// account's default key.
#[cfg(feature = "aws")]
fn open_aws(config: &crate::config::AwsConfig) -> Result<Arc<dyn KeyStore>, String> {
    use keystores::aws::{AwsKeyStore, AwsOptions, StaticCredentials};
    use zeroize::Zeroizing;
    let options = AwsOptions {
        endpoint: config.endpoint.clone(),
        region: config.region.clone(),
        kms_key: config.kms_key.clone().filter(|key| !key.is_empty()),
        credentials: config.credentials.as_ref().map(|c| StaticCredentials {
            access_key: c.access_key.clone(),
            secret_key: Zeroizing::new(c.secret_key.expose().to_owned()),
            session_token: c
                .session_token
                .as_ref()
                .map(|t| Zeroizing::new(t.expose().to_owned())),
        }),
    };
    AwsKeyStore::new(options)
        .map(|store| Arc::new(store) as Arc<dyn KeyStore>)
        .map_err(|err| format!("failed to open aws secretsmanager keystore: {err}"))
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
