//! `keystore`: exactly one backend (spec §7.3). One file per backend; adding a backend adds a
//! file, a variant and a line in [`read`].

mod aws;
mod azure;
mod entrust;
mod fortanix;
mod gcp;
mod gemalto;
mod postgres;
mod sqlite;
mod vault;

use std::path::PathBuf;

pub use aws::{AwsConfig, AwsCredentials};
pub use azure::{AzureAuth, AzureConfig};
pub use entrust::EntrustConfig;
pub use fortanix::FortanixConfig;
pub use gcp::{GCP_DEFAULT_ENDPOINT, GcpConfig, GcpCredentials};
pub use gemalto::GemaltoConfig;
pub use postgres::PostgresConfig;
pub use sqlite::SqliteConfig;
pub use vault::{
    ClientCertificate, VaultAppRole, VaultAuth, VaultConfig, VaultJwt, VaultKubernetes,
    VaultKvVersion, VaultTls, VaultTransit,
};

use super::error::ConfigError;
use super::fields::{Map, Value, Walker};
use super::secret::Secret;

/// The configured keystore backend.
#[derive(Clone, Debug)]
pub enum KeystoreConfig {
    /// `keystore.fs.path`: one file per key in a directory (development only).
    Fs {
        path: PathBuf,
    },
    Vault(VaultConfig),
    Fortanix(FortanixConfig),
    Gemalto(GemaltoConfig),
    Gcp(GcpConfig),
    Aws(AwsConfig),
    Azure(AzureConfig),
    Entrust(EntrustConfig),
    /// `keystore.sqlite`: one table in a SQLite database file.
    Sqlite(SqliteConfig),
    /// `keystore.postgres`: one table in a PostgreSQL database.
    Postgres(PostgresConfig),
}

impl KeystoreConfig {
    /// The backend's key path below `keystore`, e.g. `aws.secretsmanager`, for messages.
    pub fn backend_name(&self) -> &'static str {
        match self {
            KeystoreConfig::Fs { .. } => "fs",
            KeystoreConfig::Vault(_) => "vault",
            KeystoreConfig::Fortanix(_) => "fortanix.sdkms",
            KeystoreConfig::Gemalto(_) => "gemalto.keysecure",
            KeystoreConfig::Gcp(_) => "gcp.secretmanager",
            KeystoreConfig::Aws(_) => "aws.secretsmanager",
            KeystoreConfig::Azure(_) => "azure.keyvault",
            KeystoreConfig::Entrust(_) => "entrust.keycontrol",
            KeystoreConfig::Sqlite(_) => "sqlite",
            KeystoreConfig::Postgres(_) => "postgres",
        }
    }
}

const BACKENDS: &[&str] = &[
    "fs", "vault", "fortanix", "gemalto", "gcp", "aws", "azure", "entrust", "sqlite", "postgres",
    "kes",
];

/// Reads `keystore`. Backends are taken in the reference's order: a second one is an error
/// before it is validated.
pub(super) fn read(walker: &mut Walker<'_>, root: &Map<'_>) -> Result<KeystoreConfig, ConfigError> {
    let no_keystore = || ConfigError::invalid("kesconf: no keystore specified");
    let keystore = root
        .map(walker, "keystore", BACKENDS, &["generic"])?
        .ok_or_else(no_keystore)?;
    read_kes(walker, &keystore)?;

    let mut chosen = None;
    if let Some(fs) = keystore.map(walker, "fs", &["path"], &[])? {
        let path = fs.value(walker, "path")?.ok_or_else(|| {
            ConfigError::invalid("kesconf: invalid fs keystore: no path specified")
        })?;
        chosen = Some(KeystoreConfig::Fs {
            path: path.into_path(),
        });
    }
    if let Some(section) = keystore.map(walker, "vault", vault::FIELDS, &[])? {
        first(&chosen)?;
        chosen = Some(KeystoreConfig::Vault(vault::read(walker, &section)?));
    }
    if let Some(section) = nested(walker, &keystore, "fortanix", "sdkms", fortanix::FIELDS)? {
        first(&chosen)?;
        chosen = Some(KeystoreConfig::Fortanix(fortanix::read(walker, &section)?));
    }
    if let Some(section) = nested(walker, &keystore, "gemalto", "keysecure", gemalto::FIELDS)? {
        first(&chosen)?;
        chosen = Some(KeystoreConfig::Gemalto(gemalto::read(walker, &section)?));
    }
    if let Some(section) = nested(walker, &keystore, "gcp", "secretmanager", gcp::FIELDS)? {
        first(&chosen)?;
        chosen = Some(KeystoreConfig::Gcp(gcp::read(walker, &section)?));
    }
    if let Some(section) = nested(walker, &keystore, "aws", "secretsmanager", aws::FIELDS)? {
        first(&chosen)?;
        chosen = Some(KeystoreConfig::Aws(aws::read(walker, &section)?));
    }
    if let Some(section) = nested(walker, &keystore, "azure", "keyvault", azure::FIELDS)? {
        first(&chosen)?;
        chosen = Some(KeystoreConfig::Azure(azure::read(walker, &section)?));
    }
    if let Some(section) = nested(walker, &keystore, "entrust", "keycontrol", entrust::FIELDS)? {
        first(&chosen)?;
        chosen = Some(KeystoreConfig::Entrust(entrust::read(walker, &section)?));
    }
    if let Some(section) = keystore.map(walker, "sqlite", sqlite::FIELDS, &[])? {
        first(&chosen)?;
        chosen = Some(KeystoreConfig::Sqlite(sqlite::read(walker, &section)?));
    }
    if let Some(section) = keystore.map(walker, "postgres", postgres::FIELDS, &[])? {
        first(&chosen)?;
        chosen = Some(KeystoreConfig::Postgres(postgres::read(walker, &section)?));
    }
    chosen.ok_or_else(no_keystore)
}

/// Fails if a backend was already found.
fn first(chosen: &Option<KeystoreConfig>) -> Result<(), ConfigError> {
    match chosen {
        Some(_) => Err(ConfigError::invalid(
            "kesconf: invalid keystore config: more than once keystore specified",
        )),
        None => Ok(()),
    }
}

/// `keystore.<outer>.<inner>` as a mapping with `fields`; `None` if either level is absent.
fn nested<'n>(
    walker: &mut Walker<'_>,
    keystore: &Map<'n>,
    outer: &str,
    inner: &str,
    fields: &[&str],
) -> Result<Option<Map<'n>>, ConfigError> {
    match keystore.map(walker, outer, &[inner], &[])? {
        Some(section) => section.map(walker, inner, fields, &[]),
        None => Ok(None),
    }
}

/// `keystore.kes` (a KES server as keystore) is parsed like the reference does, then ignored
/// with a warning: it has no backend any more.
fn read_kes(walker: &mut Walker<'_>, keystore: &Map<'_>) -> Result<(), ConfigError> {
    let Some(kes) = keystore.map(walker, "kes", &["endpoint", "enclave", "tls"], &[])? else {
        return Ok(());
    };
    kes.values(walker, "endpoint")?;
    kes.value(walker, "enclave")?;
    if let Some(tls) = kes.map(walker, "tls", &["cert", "key", "ca"], &[])? {
        for key in ["cert", "key", "ca"] {
            tls.value(walker, key)?;
        }
    }
    if let Some(line) = keystore.key_line("kes") {
        walker.warnings.push(format!(
            "kesconf: field 'keystore.kes' in line {line} is no longer supported and is ignored"
        ));
    }
    Ok(())
}

/// The text of a required value, or the error `message`.
fn required(value: Option<Value>, message: &str) -> Result<String, ConfigError> {
    value
        .map(Value::into_string)
        .ok_or_else(|| ConfigError::invalid(message))
}

/// A required secret, or the error `message`.
fn required_secret(value: Option<Value>, message: &str) -> Result<Secret, ConfigError> {
    value
        .map(Value::into_secret)
        .ok_or_else(|| ConfigError::invalid(message))
}

/// `tls.ca` of a backend section with a `tls: {ca}` block.
fn ca(walker: &mut Walker<'_>, section: &Map<'_>) -> Result<Option<PathBuf>, ConfigError> {
    match section.map(walker, "tls", &["ca"], &[])? {
        Some(tls) => Ok(tls.value(walker, "ca")?.map(Value::into_path)),
        None => Ok(None),
    }
}
