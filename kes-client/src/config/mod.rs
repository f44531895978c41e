//! MinIO's KMS configuration from the environment (spec `minio-client.md` §1): which KMS
//! family is configured, whether the configuration is complete, and the typed result from
//! which a KES [`Client`] is built.
//!
//! - this file: [`KmsConfig`], [`KesConfig`], [`StaticKeyConfig`] and the presence rules;
//! - `ellipses`: `{1...3}` expansion of endpoint lists;
//! - `error`: [`ConfigError`] with MinIO's exact messages.
//!
//! The environment is injected as a lookup function, so tests never touch the process
//! environment. Only the variables are parsed here; the builtin single-key KMS itself lives
//! elsewhere.

mod ellipses;
mod error;

use std::fmt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::ApiKey;
use crate::client::{Client, ClientBuilder, Credentials, Error, ServerTrust};

pub use error::ConfigError;

/// KES endpoints, comma-separated, with optional ellipses.
pub const KES_ENDPOINT: &str = "MINIO_KMS_KES_ENDPOINT";
/// The default key name.
pub const KES_KEY_NAME: &str = "MINIO_KMS_KES_KEY_NAME";
/// A `kes:v1:` API key.
pub const KES_API_KEY: &str = "MINIO_KMS_KES_API_KEY";
/// Client certificate PEM file.
pub const KES_CERT_FILE: &str = "MINIO_KMS_KES_CERT_FILE";
/// Client private key PEM file.
pub const KES_KEY_FILE: &str = "MINIO_KMS_KES_KEY_FILE";
/// Password of a legacy encrypted private key.
pub const KES_KEY_PASSWORD: &str = "MINIO_KMS_KES_KEY_PASSWORD";
/// CA file or directory for the KES server certificate.
pub const KES_CAPATH: &str = "MINIO_KMS_KES_CAPATH";
/// The builtin static key, `<name>:<base64 of 32 bytes>`.
pub const SECRET_KEY: &str = "MINIO_KMS_SECRET_KEY";
/// A file holding the builtin static key.
pub const SECRET_KEY_FILE: &str = "MINIO_KMS_SECRET_KEY_FILE";
/// MinKMS variables: detected only for the exclusion rules.
const MINKMS_VARS: [&str; 4] = [
    "MINIO_KMS_SERVER",
    "MINIO_KMS_ENCLAVE",
    "MINIO_KMS_API_KEY",
    "MINIO_KMS_SSE_KEY",
];
/// Every variable whose presence makes KES present (`MINIO_KMS_KES_ENCLAVE` is ignored).
const KES_VARS: [&str; 7] = [
    KES_ENDPOINT,
    KES_KEY_NAME,
    KES_API_KEY,
    KES_KEY_FILE,
    KES_CERT_FILE,
    KES_KEY_PASSWORD,
    KES_CAPATH,
];

/// An environment lookup: the value of a variable if it is set (possibly empty).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The KMS MinIO is configured to use.
#[derive(Debug)]
pub enum KmsConfig {
    /// No KMS variable is present: MinIO runs without a KMS.
    None,
    /// A KES server (cluster).
    Kes(KesConfig),
    /// The builtin single-key KMS.
    StaticKey(StaticKeyConfig),
}

/// A complete KES configuration.
#[derive(Debug)]
pub struct KesConfig {
    /// The expanded endpoints, in configured order.
    pub endpoints: Vec<String>,
    /// The default key (`MINIO_KMS_KES_KEY_NAME`).
    pub key_name: String,
    /// How the client authenticates.
    pub auth: KesAuth,
    /// CA file or directory added to the system roots; `<certs-dir>/CAs` by default.
    pub ca_path: PathBuf,
}

/// KES client authentication. `Debug` never prints secrets.
pub enum KesAuth {
    /// `MINIO_KMS_KES_API_KEY`.
    ApiKey(ApiKey),
    /// `MINIO_KMS_KES_CERT_FILE`, `MINIO_KMS_KES_KEY_FILE` and the optional password.
    Certificate {
        /// The certificate file (absolute).
        cert_file: PathBuf,
        /// The private key file (absolute).
        key_file: PathBuf,
        /// `MINIO_KMS_KES_KEY_PASSWORD`, if non-empty.
        password: Option<Zeroizing<String>>,
    },
}

/// Where the builtin static key comes from; its value is parsed by the builtin KMS. `Debug`
/// never prints the key.
pub enum StaticKeyConfig {
    /// `MINIO_KMS_SECRET_KEY`, as set.
    Value(Zeroizing<String>),
    /// `MINIO_KMS_SECRET_KEY_FILE`: an existing path, read raw by the builtin KMS.
    File(PathBuf),
}

impl fmt::Debug for KesAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KesAuth::ApiKey(key) => f.debug_tuple("ApiKey").field(key).finish(),
            KesAuth::Certificate {
                cert_file,
                key_file,
                password,
            } => f
                .debug_struct("Certificate")
                .field("cert_file", cert_file)
                .field("key_file", key_file)
                .field("password", &password.as_ref().map(|_| "[redacted]"))
                .finish(),
        }
    }
}

impl fmt::Debug for StaticKeyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StaticKeyConfig::Value(_) => f.write_str("Value([redacted])"),
            StaticKeyConfig::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

impl KmsConfig {
    /// Reads the configuration from `env`, with the CA path default `$HOME/.minio/certs/CAs`.
    pub fn from_env(env: Env<'_>) -> Result<KmsConfig, ConfigError> {
        let home = env("HOME").unwrap_or_default();
        let certs_dir = Path::new(&home).join(".minio").join("certs");
        KmsConfig::from_env_in(env, &certs_dir)
    }

    /// Reads the configuration from `env`; the CA path defaults to `<certs_dir>/CAs`.
    pub fn from_env_in(env: Env<'_>, certs_dir: &Path) -> Result<KmsConfig, ConfigError> {
        let set = |name: &str| env(name).is_some();
        let value = |name: &str| {
            env(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let minkms = MINKMS_VARS.iter().any(|v| set(v));
        let kes = KES_VARS.iter().any(|v| set(v));
        // Set-but-empty static variables, and a key file that does not exist, count as unset.
        let secret_key = env(SECRET_KEY).filter(|v| !v.is_empty());
        let secret_key_file = env(SECRET_KEY_FILE)
            .filter(|v| !v.is_empty() && Path::new(v).exists())
            .map(PathBuf::from);
        let static_key = secret_key.is_some() || secret_key_file.is_some();

        match (minkms, kes, static_key) {
            (true, true, _) => return Err(ConfigError::MinKmsAndKes),
            (true, _, true) => return Err(ConfigError::MinKmsAndStaticKey),
            (_, true, true) => return Err(ConfigError::KesAndStaticKey),
            (true, false, false) => return Err(ConfigError::MinKmsUnsupported),
            _ => {}
        }
        if static_key {
            return match (secret_key, secret_key_file) {
                (Some(_), Some(_)) => Err(ConfigError::StaticKeyTwice),
                (Some(v), None) => Ok(KmsConfig::StaticKey(StaticKeyConfig::Value(
                    Zeroizing::new(v),
                ))),
                (None, Some(path)) => Ok(KmsConfig::StaticKey(StaticKeyConfig::File(path))),
                (None, None) => Ok(KmsConfig::None),
            };
        }
        if !kes {
            return Ok(KmsConfig::None);
        }

        if !set(KES_ENDPOINT) {
            return Err(ConfigError::KesMissing(KES_ENDPOINT));
        }
        // Decision: an empty key name is rejected here rather than at the startup probe.
        let Some(key_name) = value(KES_KEY_NAME) else {
            return Err(ConfigError::KesMissing(KES_KEY_NAME));
        };
        let cert_mode = set(KES_KEY_FILE) || set(KES_CERT_FILE) || set(KES_KEY_PASSWORD);
        let auth = if cert_mode {
            if set(KES_API_KEY) {
                return Err(ConfigError::KesApiKeyAndCertificate);
            }
            let Some(cert_file) = value(KES_CERT_FILE) else {
                return Err(ConfigError::KesMissing(KES_CERT_FILE));
            };
            let Some(key_file) = value(KES_KEY_FILE) else {
                return Err(ConfigError::KesMissing(KES_KEY_FILE));
            };
            KesAuth::Certificate {
                cert_file: absolute(&cert_file),
                key_file: absolute(&key_file),
                password: value(KES_KEY_PASSWORD).map(Zeroizing::new),
            }
        } else {
            let Some(api_key) = value(KES_API_KEY).map(Zeroizing::new) else {
                return Err(ConfigError::KesMissingAuth);
            };
            KesAuth::ApiKey(ApiKey::parse(&api_key).map_err(ConfigError::KesInvalidApiKey)?)
        };

        let endpoints = endpoints(&env(KES_ENDPOINT).unwrap_or_default())?;
        let ca_path = value(KES_CAPATH)
            .map(PathBuf::from)
            .unwrap_or_else(|| certs_dir.join("CAs"));
        Ok(KmsConfig::Kes(KesConfig {
            endpoints,
            key_name,
            auth,
            ca_path,
        }))
    }

    /// Whether any KMS is configured.
    pub fn is_present(&self) -> bool {
        !matches!(self, KmsConfig::None)
    }
}

impl KesConfig {
    /// A client builder for this configuration: its endpoints, credentials, and the system
    /// roots plus the CA path as server trust.
    pub fn client_builder(&self) -> Result<ClientBuilder, Error> {
        let credentials = match &self.auth {
            KesAuth::ApiKey(key) => {
                let cert = key
                    .certificate()
                    .map_err(|e| Error::Config(format!("API key: {e}")))?;
                Credentials::Der(vec![cert.cert_der], cert.key_der)
            }
            KesAuth::Certificate {
                cert_file,
                key_file,
                password,
            } => Credentials::Files {
                cert: cert_file.clone(),
                key: key_file.clone(),
                password: password.clone(),
            },
        };
        Ok(Client::builder(&self.endpoints, credentials)
            .server_trust(ServerTrust::SystemAndCaPath(self.ca_path.clone())))
    }

    /// The client for this configuration.
    pub fn client(&self) -> Result<Client, Error> {
        self.client_builder()?.build()
    }
}

/// Splits a comma list, trims the elements, skips empty ones and expands ellipses.
pub fn endpoints(list: &str) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::new();
    for element in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let expanded =
            ellipses::expand(element).map_err(|reason| ConfigError::KesInvalidEndpoint {
                endpoint: element.to_owned(),
                reason,
            })?;
        out.extend(expanded);
    }
    if out.is_empty() {
        return Err(ConfigError::KesNoEndpoint);
    }
    Ok(out)
}

fn absolute(path: &str) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| PathBuf::from(path))
}

#[cfg(test)]
mod tests;
