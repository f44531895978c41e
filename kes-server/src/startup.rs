//! Turns a validated configuration into a running server: opens the keystore, builds the
//! policy set and TLS configuration, and creates the declared `keys:`. A reload
//! ([`Server::reload`]) repeats the same steps, except the keystore, on the running server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kes_crypto::{KeyType, KeyVersion};
use keystores::KeyStore;
use policies::{Identity, PolicyDef, PolicySet};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::{ClientAuth, Config};
use crate::logs::{Level, Logs};
use crate::state::{Server, Settings, TlsHandle};
use crate::tls::TlsSettings;
use crate::{keystore, pem, tls};

/// How often `kes server --config` reads its TLS files again (as upstream).
pub const TLS_RELOAD_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// A server ready to accept connections.
#[derive(Debug)]
pub struct Prepared {
    pub server: Arc<Server>,
    /// The server's TLS configuration; [`Server::reload`] replaces what it holds.
    pub tls: TlsHandle,
}

/// Prepares a server from `config`, reading its certificate and key files.
pub async fn prepare(config: &Config) -> Result<Prepared, String> {
    let (certs, key) = load_certificate(config)?;
    let keystore = keystore::open(&config.keystore)?;
    prepare_with(config, keystore, certs, key).await
}

/// Prepares a server from `config` with the given keystore and an already loaded certificate
/// chain and key; `config.keystore` and the TLS file paths are not used.
pub async fn prepare_with(
    config: &Config,
    keystore: Arc<dyn KeyStore>,
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Prepared, String> {
    let settings = settings(config)?;
    let tls = TlsHandle::new(tls_config(config, &settings, certs, key)?);
    let mut logs = Logs::new(config.log.error, config.log.audit);
    if let Some(path) = &config.log.audit_file {
        logs = logs.with_audit_file(path)?;
    }
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
    if config.tls.auth == ClientAuth::Off && config.tls.ca.is_some() {
        logs.error(
            Level::INFO,
            "tls.ca is set but tls.auth is off: client certificates are not verified against it",
            None,
        );
    }
    let admin = settings.policies.admin().clone();
    let server = Arc::new(Server::new(
        keystore,
        config.cache,
        settings,
        tls.clone(),
        restart_only(config),
        logs,
    ));
    // Connects once at startup (SQL keystores create or check their table here), so a
    // misconfigured keystore shows in the log at once instead of at the first request. An
    // unreachable keystore does not stop the server: the health check follows it.
    if let Err(err) = server.keystore().status().await {
        server.logs().error(
            Level::WARN,
            &format!("keystore is not reachable at startup: {err}"),
            None,
        );
    }
    create_declared_keys(&server, &admin, &config.keys).await?;
    Ok(Prepared { server, tls })
}

impl Server {
    /// Applies `config`'s policies, admin identity, `api:` overrides and TLS settings (files
    /// read again) to the running server, and creates its missing `keys:`. Everything is
    /// checked before anything is replaced: on an error the old settings stay, and the error is
    /// logged as `reload failed: <reason>` and returned. Open connections keep their TLS
    /// session; new connections and requests use the new settings.
    ///
    /// The keystore, cache, log levels and address are not reloaded: a change to them is logged
    /// as needing a restart and otherwise ignored.
    pub async fn reload(&self, config: &Config) -> Result<(), String> {
        let result = self.try_reload(config).await;
        match &result {
            Ok(()) => self
                .logs()
                .error(Level::INFO, "configuration reloaded", None),
            Err(reason) => {
                self.logs()
                    .error(Level::ERROR, &format!("reload failed: {reason}"), None);
            }
        }
        result
    }

    /// Reads the configuration file at `path` and [reloads](Server::reload) it.
    pub async fn reload_file(&self, path: &Path) -> Result<(), String> {
        match Config::load(path) {
            Ok(config) => self.reload(&config).await,
            Err(err) => {
                let reason = err.to_string();
                self.logs()
                    .error(Level::ERROR, &format!("reload failed: {reason}"), None);
                Err(reason)
            }
        }
    }

    /// Reads the configuration file at `path` and replaces only the TLS configuration
    /// (certificate, key, `tls.ca`, `tls.auth`) for new connections, as upstream's periodic
    /// reload does; policies and everything else stay. A failure is logged as
    /// `TLS reload failed: <reason>` and returned, and the old configuration stays.
    pub fn reload_tls_file(&self, path: &Path) -> Result<(), String> {
        let result = Config::load(path)
            .map_err(|err| err.to_string())
            .and_then(|config| {
                let (certs, key) = load_certificate(&config)?;
                tls_config(&config, &self.settings(), certs, key)
            });
        match result {
            Ok(tls) => {
                self.replace_tls(tls);
                Ok(())
            }
            Err(reason) => {
                self.logs()
                    .error(Level::ERROR, &format!("TLS reload failed: {reason}"), None);
                Err(reason)
            }
        }
    }

    /// Runs [`Server::reload_tls_file`] every `every`, forever: a renewed certificate
    /// (cert-manager, ACME) applies without a restart or SIGHUP. `kes server --config` runs it
    /// with [`TLS_RELOAD_INTERVAL`].
    pub async fn reload_tls_every(self: Arc<Self>, path: PathBuf, every: Duration) {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            // The outcome is logged by the reload itself.
            let _ = self.reload_tls_file(&path);
        }
    }

    async fn try_reload(&self, config: &Config) -> Result<(), String> {
        let settings = settings(config)?;
        let (certs, key) = load_certificate(config)?;
        let tls = tls_config(config, &settings, certs, key)?;
        create_declared_keys(self, settings.policies.admin(), &config.keys).await?;
        if restart_only(config) != self.restart_only {
            self.logs().error(
                Level::WARN,
                "reload: the keystore, cache, log and address settings changed but apply only after a restart",
                None,
            );
        }
        self.replace(settings, tls);
        Ok(())
    }
}

/// Reads the server certificate chain and private key named by `config.tls`.
fn load_certificate(
    config: &Config,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let certs = pem::load_certificates(&config.tls.cert).map_err(|e| e.to_string())?;
    let password = config.tls.password.as_ref().map(|p| p.expose());
    let key = pem::load_private_key(&config.tls.key, password).map_err(|e| e.to_string())?;
    Ok((certs, key))
}

fn settings(config: &Config) -> Result<Settings, String> {
    Ok(Settings {
        policies: Arc::new(policy_set(config)?),
        api: config.api.clone(),
    })
}

fn tls_config(
    config: &Config,
    settings: &Settings,
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, String> {
    let tls = tls::server_config(TlsSettings {
        certs,
        key,
        auth: config.tls.auth,
        ca: config.tls.ca.as_deref(),
        certificate_optional: settings.skips_auth(),
    })
    .map_err(|e| e.to_string())?;
    Ok(Arc::new(tls))
}

/// A fingerprint of the sections a reload cannot apply. `Debug` prints secrets redacted, so a
/// changed secret alone goes unnoticed; it is only used to warn.
fn restart_only(config: &Config) -> String {
    format!(
        "{:?}",
        (
            &config.address,
            &config.cache,
            &config.log,
            &config.keystore
        )
    )
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

/// Creates each `keys:` entry that does not exist yet, owned by `admin`.
async fn create_declared_keys(
    server: &Server,
    admin: &Identity,
    names: &[String],
) -> Result<(), String> {
    let admin = admin.as_str();
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
