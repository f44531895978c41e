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
        #[cfg(feature = "aws")]
        KeystoreConfig::Aws(aws) => {
            let options = keystores::aws::AwsOptions {
                endpoint: aws.endpoint.clone(),
                region: aws.region.clone(),
                kms_key: aws.kms_key.clone().filter(|key| !key.is_empty()),
                credentials: aws
                    .credentials
                    .as_ref()
                    .map(|c| keystores::aws::StaticCredentials {
                        access_key: c.access_key.clone(),
                        secret_key: zeroize::Zeroizing::new(c.secret_key.expose().to_owned()),
                        session_token: c
                            .session_token
                            .as_ref()
                            .map(|t| zeroize::Zeroizing::new(t.expose().to_owned())),
                    }),
            };
            keystores::aws::AwsKeyStore::new(options)
                .map(|store| Arc::new(store) as Arc<dyn KeyStore>)
                .map_err(|err| format!("failed to open aws secretsmanager keystore: {err}"))
        }
        other => Err(format!(
            "keystore '{}' is not supported by this build yet",
            other.backend_name()
        )),
    }
}
