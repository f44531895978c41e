//! `keystore.vault`: HashiCorp Vault / OpenBao K/V engine.

use std::path::{MAIN_SEPARATOR, PathBuf};
use std::time::Duration;

use super::super::error::ConfigError;
use super::super::fields::{Map, Walker};
use super::super::secret::Secret;
use super::required;

pub(super) const FIELDS: &[&str] = &[
    "endpoint",
    "engine",
    "version",
    "namespace",
    "prefix",
    "approle",
    "kubernetes",
    "token",
    "transit",
    "tls",
    "status",
];

const ERR: &str = "kesconf: invalid vault keystore:";

/// A Vault K/V keystore.
#[derive(Clone, Debug)]
pub struct VaultConfig {
    pub endpoint: String,
    /// K/V engine mount path. Default `kv`.
    pub engine: String,
    /// K/V engine version. Default v1.
    pub version: VaultKvVersion,
    /// Sent as `X-Vault-Namespace` when set.
    pub namespace: Option<String>,
    /// A directory inside the engine that holds the keys.
    pub prefix: Option<String>,
    pub auth: VaultAuth,
    /// Encrypt stored values with a Vault transit key.
    pub transit: Option<VaultTransit>,
    pub tls: VaultTls,
    /// Health-check interval. Default 15 s; `0` also means the default.
    pub status_ping: Duration,
}

/// The K/V secrets engine version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VaultKvVersion {
    V1,
    V2,
}

/// How the server logs in to Vault: exactly one method.
#[derive(Clone, Debug)]
pub enum VaultAuth {
    AppRole(VaultAppRole),
    Kubernetes(VaultKubernetes),
    /// `keystore.vault.token`: a fixed Vault token, used as is. This project's extension;
    /// upstream KES has no static-token login.
    Token(Secret),
}

/// `keystore.vault.approle`.
#[derive(Clone, Debug)]
pub struct VaultAppRole {
    /// Auth mount path. Default `approle`.
    pub engine: String,
    /// Namespace for the login only; `/` is the root namespace. Unset: the keystore's namespace.
    pub namespace: Option<String>,
    pub id: String,
    pub secret: Secret,
}

/// `keystore.vault.kubernetes`.
#[derive(Clone, Debug)]
pub struct VaultKubernetes {
    /// Auth mount path. Default `kubernetes`.
    pub engine: String,
    /// Namespace for the login only; `/` is the root namespace. Unset: the keystore's namespace.
    pub namespace: Option<String>,
    pub role: Option<String>,
    pub jwt: VaultJwt,
}

/// The service-account token for the Kubernetes login.
#[derive(Clone, Debug)]
pub enum VaultJwt {
    /// The token itself.
    Token(Secret),
    /// A file holding the token: the value contained a path separator. Read at each login.
    File(PathBuf),
}

/// `keystore.vault.transit`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultTransit {
    /// Transit mount path. Default `transit`.
    pub engine: String,
    pub key: String,
}

/// `keystore.vault.tls`: the client side of the connection to Vault.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VaultTls {
    /// Client certificate for mTLS to Vault.
    pub client: Option<ClientCertificate>,
    /// PEM file or directory of trusted CAs for Vault's certificate.
    pub ca: Option<PathBuf>,
}

/// A client certificate and its private key, both PEM files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCertificate {
    pub key: PathBuf,
    pub cert: PathBuf,
}

const DEFAULT_STATUS_PING: Duration = Duration::from_secs(15);

pub(super) fn read(walker: &mut Walker<'_>, vault: &Map<'_>) -> Result<VaultConfig, ConfigError> {
    let endpoint = required(
        vault.value(walker, "endpoint")?,
        &format!("{ERR} no endpoint specified"),
    )?;
    let approle = vault.map(
        walker,
        "approle",
        &["engine", "namespace", "id", "secret"],
        &["retry"],
    )?;
    let kubernetes = vault.map(
        walker,
        "kubernetes",
        &["engine", "namespace", "role", "jwt"],
        &["retry"],
    )?;
    let token = vault.value(walker, "token")?;
    let methods = usize::from(approle.is_some())
        + usize::from(kubernetes.is_some())
        + usize::from(token.is_some());
    if methods > 1 {
        return Err(ConfigError::invalid(format!(
            "{ERR} more than one authentication method specified"
        )));
    }
    let auth = match (approle, kubernetes) {
        // An empty `token` (an unset environment variable) counts as unset.
        (None, None) => match token {
            Some(token) => VaultAuth::Token(token.into_secret()),
            None => {
                return Err(ConfigError::invalid(format!(
                    "{ERR} no authentication method specified"
                )));
            }
        },
        (Some(_), Some(_)) => {
            return Err(ConfigError::invalid(format!(
                "{ERR} more than one authentication method specified"
            )));
        }
        (Some(approle), None) => VaultAuth::AppRole(VaultAppRole {
            engine: engine(walker, &approle, "approle")?,
            namespace: approle.value(walker, "namespace")?.map(|v| v.into_string()),
            id: required(
                approle.value(walker, "id")?,
                &format!("{ERR} invalid approle config: no approle ID specified"),
            )?,
            secret: approle
                .value(walker, "secret")?
                .map(|v| v.into_secret())
                .ok_or_else(|| {
                    ConfigError::invalid(format!(
                        "{ERR} invalid approle config: no approle secret specified"
                    ))
                })?,
        }),
        (None, Some(k8s)) => {
            let jwt = k8s.value(walker, "jwt")?.ok_or_else(|| {
                ConfigError::invalid(format!("{ERR} invalid kubernetes config: no JWT specified"))
            })?;
            let jwt = if jwt.text.contains(['/', MAIN_SEPARATOR]) {
                VaultJwt::File(jwt.into_path())
            } else {
                VaultJwt::Token(jwt.into_secret())
            };
            VaultAuth::Kubernetes(VaultKubernetes {
                engine: engine(walker, &k8s, "kubernetes")?,
                namespace: k8s.value(walker, "namespace")?.map(|v| v.into_string()),
                role: k8s.value(walker, "role")?.map(|v| v.into_string()),
                jwt,
            })
        }
    };
    let transit = match vault.map(walker, "transit", &["engine", "key"], &[])? {
        None => None,
        Some(transit) => Some(VaultTransit {
            engine: engine(walker, &transit, "transit")?,
            key: required(
                transit.value(walker, "key")?,
                &format!("{ERR} invalid transit config: no key name specified"),
            )?,
        }),
    };
    let tls = match vault.map(walker, "tls", &["key", "cert", "ca"], &[])? {
        None => VaultTls::default(),
        Some(tls) => {
            let key = tls.value(walker, "key")?.map(|v| v.into_path());
            let cert = tls.value(walker, "cert")?.map(|v| v.into_path());
            let client = match (key, cert) {
                (Some(key), Some(cert)) => Some(ClientCertificate { key, cert }),
                (None, None) => None,
                (Some(_), None) => {
                    return Err(ConfigError::invalid(format!(
                        "{ERR} invalid tls config: no TLS certificate provided"
                    )));
                }
                (None, Some(_)) => {
                    return Err(ConfigError::invalid(format!(
                        "{ERR} invalid tls config: no TLS private key provided"
                    )));
                }
            };
            VaultTls {
                client,
                ca: tls.value(walker, "ca")?.map(|v| v.into_path()),
            }
        }
    };
    let version = match vault.value(walker, "version")? {
        None => VaultKvVersion::V1,
        Some(v) if v.text.as_str() == "v1" => VaultKvVersion::V1,
        Some(v) if v.text.as_str() == "v2" => VaultKvVersion::V2,
        Some(v) => return Err(v.invalid("must be 'v1' or 'v2'")),
    };
    let status_ping = match vault.map(walker, "status", &["ping"], &[])? {
        Some(status) => match status.value(walker, "ping")? {
            Some(ping) => Some(ping.duration()?),
            None => None,
        },
        None => None,
    }
    .filter(|ping| !ping.is_zero())
    .unwrap_or(DEFAULT_STATUS_PING);
    Ok(VaultConfig {
        endpoint,
        engine: engine(walker, vault, "kv")?,
        version,
        namespace: vault.value(walker, "namespace")?.map(|v| v.into_string()),
        prefix: vault.value(walker, "prefix")?.map(|v| v.into_string()),
        auth,
        transit,
        tls,
        status_ping,
    })
}

/// The `engine` of `map`, or `default` when unset.
fn engine(walker: &Walker<'_>, map: &Map<'_>, default: &str) -> Result<String, ConfigError> {
    Ok(map
        .value(walker, "engine")?
        .map_or_else(|| default.to_owned(), |v| v.into_string()))
}
