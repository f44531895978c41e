//! Turns a validated configuration into a running server: opens the keystore, builds the
//! policy set and TLS configuration, and creates the declared `keys:`.

use std::sync::Arc;

use kes_crypto::{KeyType, KeyVersion};
use keystores::KeyStore;
use policies::{Identity, PolicyDef, PolicySet};
use rustls::ServerConfig;

use crate::config::{ClientAuth, Config};
use crate::logs::{Level, Logs};
use crate::state::Server;
use crate::tls::TlsSettings;
use crate::{keystore, pem, tls};

/// A server ready to accept connections.
#[derive(Debug)]
pub struct Prepared {
    pub server: Arc<Server>,
    pub tls: Arc<ServerConfig>,
}

/// Prepares a server from `config`, reading its certificate and key files.
pub async fn prepare(config: &Config) -> Result<Prepared, String> {
    let certs = pem::load_certificates(&config.tls.cert).map_err(|e| e.to_string())?;
    let password = config.tls.password.as_ref().map(|p| p.expose());
    let key = pem::load_private_key(&config.tls.key, password).map_err(|e| e.to_string())?;
    let keystore = keystore::open(&config.keystore)?;
    prepare_with(config, keystore, certs, key).await
}

/// Prepares a server from `config` with the given keystore and an already loaded certificate
/// chain and key; `config.keystore` and the TLS file paths are not used.
pub async fn prepare_with(
    config: &Config,
    keystore: Arc<dyn KeyStore>,
    certs: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
) -> Result<Prepared, String> {
    let policies = policy_set(config)?;
    let logs = Logs::new(config.log.error, config.log.audit);
    for warning in &config.warnings {
        logs.error(Level::WARN, warning, None);
    }
    if !config.tls.proxy.identities.is_empty() {
        logs.error(
            Level::WARN,
            "tls.proxy is configured but not supported: requests are authenticated by their own client certificate",
            None,
        );
    }
    let server = Arc::new(Server::new(
        keystore,
        config.cache,
        policies,
        &config.api,
        logs,
    ));
    create_declared_keys(&server, &config.keys).await?;

    let tls = tls::server_config(TlsSettings {
        certs,
        key,
        auth: config.tls.auth,
        ca: config.tls.ca.as_deref(),
        certificate_optional: server.skips_auth(),
    })
    .map_err(|e| e.to_string())?;
    if config.tls.auth == ClientAuth::Off && config.tls.ca.is_some() {
        server.logs().error(
            Level::INFO,
            "tls.ca is set but tls.auth is off: client certificates are not verified against it",
            None,
        );
    }
    Ok(Prepared {
        server,
        tls: Arc::new(tls),
    })
}

fn policy_set(config: &Config) -> Result<PolicySet, String> {
    let defs = config
        .policies
        .iter()
        .map(|p| PolicyDef {
            name: p.name.clone(),
            allow: p.allow.clone(),
            deny: p.deny.clone(),
            identities: p.identities.iter().cloned().map(Identity::from).collect(),
        })
        .collect();
    PolicySet::new(Identity::from(config.admin.clone()), defs).map_err(|e| e.to_string())
}

/// Creates each `keys:` entry that does not exist yet, owned by the admin identity.
async fn create_declared_keys(server: &Server, names: &[String]) -> Result<(), String> {
    let admin = server.policies().admin().as_str();
    for name in names {
        if !policies::is_valid_name(name) {
            return Err(format!("kesconf: invalid key name '{name}'"));
        }
        let key = KeyVersion::generate(KeyType::platform_default(), admin)
            .and_then(|key| key.encode())
            .map_err(|err| format!("failed to create key '{name}': {err}"))?;
        match server.keystore().create(name, key.as_bytes()).await {
            Ok(()) | Err(keystores::Error::AlreadyExists) => {}
            Err(err) => return Err(format!("failed to create key '{name}': {err}")),
        }
    }
    Ok(())
}
