//! `tls`: the server certificate, client-certificate verification and the legacy TLS proxy.

use std::path::PathBuf;

use super::error::ConfigError;
use super::fields::{Map, Walker};
use super::secret::Password;

/// The server's TLS settings.
#[derive(Clone, Debug)]
pub struct TlsConfig {
    /// PEM private key file, as written (relative paths are relative to the working directory).
    pub key: PathBuf,
    /// PEM certificate file, as written.
    pub cert: PathBuf,
    /// Decrypts a legacy encrypted PEM private key (`Proc-Type: 4,ENCRYPTED`).
    pub password: Option<Password>,
    pub auth: ClientAuth,
    /// A PEM file or a directory of PEM files with extra trusted CAs.
    pub ca: Option<PathBuf>,
    pub proxy: ProxyConfig,
}

/// How client certificates are checked (`tls.auth`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// `off` or unset: a certificate is required but its chain is not verified.
    Off,
    /// `on`: the chain is verified against the system roots plus `tls.ca`.
    On,
}

/// `tls.proxy`: parsed and validated, but not honoured (spec §2.4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyConfig {
    pub identities: Vec<String>,
    /// `tls.proxy.header.cert`: the header carrying the forwarded client certificate.
    pub cert_header: Option<String>,
}

impl TlsConfig {
    pub(super) fn read(walker: &mut Walker<'_>, root: &Map<'_>) -> Result<TlsConfig, ConfigError> {
        const FIELDS: &[&str] = &["key", "cert", "password", "auth", "ca", "proxy"];
        let tls = root.map(walker, "tls", FIELDS, &[])?;
        let value = |key| match &tls {
            Some(tls) => tls.value(walker, key),
            None => Ok(None),
        };
        let key = value("key")?
            .ok_or_else(|| ConfigError::invalid("kesconf: invalid tls config: no private key"))?
            .into_path();
        let cert = value("cert")?
            .ok_or_else(|| ConfigError::invalid("kesconf: invalid tls config: no certificate"))?
            .into_path();
        let password = value("password")?.map(|v| v.into_secret());
        let auth = match value("auth")? {
            None => ClientAuth::Off,
            Some(v) if v.text.eq_ignore_ascii_case("off") => ClientAuth::Off,
            Some(v) if v.text.eq_ignore_ascii_case("on") => ClientAuth::On,
            Some(v) => return Err(v.invalid("must be 'on' or 'off'")),
        };
        let ca = value("ca")?.map(|v| v.into_path());
        let proxy = match &tls {
            Some(tls) => ProxyConfig::read(walker, tls)?,
            None => ProxyConfig::default(),
        };
        Ok(TlsConfig {
            key,
            cert,
            password,
            auth,
            ca,
            proxy,
        })
    }
}

impl ProxyConfig {
    fn read(walker: &mut Walker<'_>, tls: &Map<'_>) -> Result<ProxyConfig, ConfigError> {
        let Some(proxy) = tls.map(walker, "proxy", &["identities", "header"], &[])? else {
            return Ok(ProxyConfig::default());
        };
        let identities = proxy
            .values(walker, "identities")?
            .into_iter()
            .map(|v| v.into_string())
            .collect();
        let cert_header = match proxy.map(walker, "header", &["cert"], &[])? {
            Some(header) => header.value(walker, "cert")?.map(|v| v.into_string()),
            None => None,
        };
        Ok(ProxyConfig {
            identities,
            cert_header,
        })
    }
}
