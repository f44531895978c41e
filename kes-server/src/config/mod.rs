//! The KES YAML configuration file (spec §7), parsed into validated types.
//!
//! The file is read into a YAML tree that keeps a line number on every node (`yaml.rs`), then
//! walked section by section against the schema (`fields.rs`): unknown keys are rejected with
//! their full path and line, legacy keys are accepted and reported in [`Config::warnings`], and
//! scalars get `${VAR}` substitution (`env.rs`). Each section lives in its own file and turns
//! its part of the tree into a typed value; `keystore/` has one file per backend. The fixtures
//! of `tests.rs` are in `kes-server/tests/fixtures/config/`.
//!
//! Semantic checks on policy names, patterns and identities (§1.5, §6.3) belong to the
//! `policies` crate; this module checks only the rules that involve `tls.proxy`.

mod address;
mod api;
mod cache;
pub(crate) mod duration;
mod env;
mod error;
mod fields;
mod keys;
mod keystore;
mod log;
mod policy;
mod secret;
mod tls;
mod yaml;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use zeroize::Zeroizing;

pub use address::{AddressError, parse_address};
pub use api::ApiOverride;
pub use cache::CacheConfig;
pub use env::Env;
pub use error::ConfigError;
pub use keystore::{
    AwsConfig, AwsCredentials, AzureAuth, AzureConfig, ClientCertificate, EntrustConfig,
    FortanixConfig, GCP_DEFAULT_ENDPOINT, GcpConfig, GcpCredentials, GemaltoConfig, KeystoreConfig,
    PostgresConfig, SqliteConfig, VaultAppRole, VaultAuth, VaultConfig, VaultJwt, VaultKubernetes,
    VaultKvVersion, VaultTls, VaultTransit,
};
pub use log::{Level, LogConfig};
pub use policy::PolicyConfig;
pub use secret::{Password, Secret};
pub use tls::{ClientAuth, ProxyConfig, TlsConfig};

use fields::{Map, Walker};
use yaml::Node;

/// The top-level keys of the schema.
const TOP_LEVEL: &[&str] = &[
    "version", "address", "admin", "tls", "cache", "log", "api", "policy", "keys", "keystore",
];

/// A validated KES server configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// `address`; `None` when unset (the CLI's `--addr` or `0.0.0.0:7373` applies).
    pub address: Option<SocketAddr>,
    /// `admin.identity`: never empty; a non-hex value such as `disabled` matches no client.
    pub admin: String,
    pub tls: TlsConfig,
    pub cache: CacheConfig,
    pub log: LogConfig,
    /// `api.<path>` overrides by route path, unknown paths included.
    pub api: BTreeMap<String, ApiOverride>,
    /// The policies in file order.
    pub policies: Vec<PolicyConfig>,
    /// `keys[].name`: keys to create at startup, without duplicates.
    pub keys: Vec<String>,
    pub keystore: KeystoreConfig,
    /// One line per ignored legacy key, for the server to log at startup.
    pub warnings: Vec<String>,
}

impl Config {
    /// Parses a configuration file's text. `env` resolves `${VAR}` references.
    pub fn parse(yaml: &str, env: Env<'_>) -> Result<Config, ConfigError> {
        Config::from_tree(&yaml::load(yaml)?, env)
    }

    fn from_tree(tree: &Node, env: Env<'_>) -> Result<Config, ConfigError> {
        let mut walker = Walker::new(env);
        let root = match tree {
            Node::Map { .. } => Map::open(&mut walker, tree, "", TOP_LEVEL, &[])?,
            Node::Null { .. } => {
                return Err(ConfigError::invalid(
                    "kesconf: invalid config: the file is empty",
                ));
            }
            other => {
                return Err(ConfigError::invalid(format!(
                    "kesconf: invalid config: expected a mapping of settings in line {}",
                    other.line()
                )));
            }
        };

        if let Some(version) = root.raw_value("version")?
            && version.text.as_str() != "v1"
        {
            return Err(version.invalid("only 'v1' is supported"));
        }
        let admin = match root.map(&mut walker, "admin", &["identity"], &[])? {
            Some(admin) => admin.value(&walker, "identity")?,
            None => None,
        }
        .ok_or_else(|| ConfigError::invalid("kesconf: invalid admin identity: no admin identity"))?
        .into_string();
        let tls = TlsConfig::read(&mut walker, &root)?;
        let policies = policy::read(&mut walker, &root)?;
        check_proxies(&admin, &tls.proxy, &policies)?;
        let cache = CacheConfig::read(&mut walker, &root)?;
        let log = LogConfig::read(&mut walker, &root)?;
        let api = api::read(&mut walker, &root)?;
        let keys = keys::read(&mut walker, &root)?;
        let keystore = keystore::read(&mut walker, &root)?;
        let address = root
            .value(&walker, "address")?
            .map(|value| {
                parse_address(&value.text).map_err(|error| ConfigError::Address {
                    error,
                    line: value.line,
                })
            })
            .transpose()?;
        Ok(Config {
            address,
            admin,
            tls,
            cache,
            log,
            api,
            policies,
            keys,
            keystore,
            warnings: walker.warnings,
        })
    }

    /// Reads and parses the file at `path`, resolving `${VAR}` from the process environment.
    /// Relative paths inside the file are kept as written.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map(Zeroizing::new)
            .map_err(|error| ConfigError::Read {
                path: path.to_owned(),
                error,
            })?;
        Config::parse(&text, &|name| std::env::var(name).ok())
    }
}

/// A TLS proxy identity may be neither the admin nor in a policy, as in the reference.
fn check_proxies(
    admin: &str,
    proxy: &ProxyConfig,
    policies: &[PolicyConfig],
) -> Result<(), ConfigError> {
    if let Some(id) = proxy.identities.iter().find(|id| id.as_str() == admin) {
        return Err(ConfigError::invalid(format!(
            "kesconf: invalid tls proxy: identity '{id}' is already admin"
        )));
    }
    for policy in policies {
        if let Some(id) = policy
            .identities
            .iter()
            .find(|id| proxy.identities.contains(id))
        {
            return Err(ConfigError::invalid(format!(
                "kesconf: invalid policy '{}': identity '{id}' is already a TLS proxy",
                policy.name
            )));
        }
    }
    Ok(())
}
