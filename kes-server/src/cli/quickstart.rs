//! Servers that need no prepared config: the ephemeral `--dev` server, and the persistent
//! `--data DIR` server that initialises DIR on its first start.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kes_client::ApiKey;
use rcgen::{CertificateParams, DnType, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::config::Config;
use crate::pem;
use crate::startup::{self, Prepared};

/// How long a generated server certificate is valid.
const CERT_VALIDITY: Duration = Duration::days(365);
/// A data directory's certificate is renewed at start when it expires sooner than this.
const CERT_RENEWAL: Duration = Duration::days(30);

/// A self-signed ECDSA P-256 server certificate for localhost, 127.0.0.1 and ::1.
struct ServerCertificate {
    cert_pem: String,
    key_pem: Zeroizing<String>,
    cert_der: CertificateDer<'static>,
    key_der: PrivateKeyDer<'static>,
}

fn server_certificate() -> Result<ServerCertificate, String> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|e| e.to_string())?;
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned()]).map_err(|e| e.to_string())?;
    params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    params
        .subject_alt_names
        .push(SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()));
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::minutes(1);
    params.not_after = now + CERT_VALIDITY;
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    Ok(ServerCertificate {
        cert_pem: cert.pem(),
        key_pem: Zeroizing::new(key.serialize_pem()),
        cert_der: cert.der().clone(),
        key_der: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    })
}

/// The `--dev` server: in-memory keystore, fresh certificate, `api_key` as the admin.
pub async fn dev_server(api_key: &ApiKey) -> Result<Prepared, String> {
    let yaml = format!(
        "version: v1\nadmin:\n  identity: {}\ntls:\n  key: <in-memory>\n  cert: <in-memory>\ncache:\n  expiry:\n    any: 5m\n    unused: 30s\n    offline: 0s\nkeystore:\n  fs:\n    path: <in-memory>\n",
        api_key.identity()
    );
    let config = Config::parse(&yaml, &|_| None).map_err(|e| e.to_string())?;
    let cert = server_certificate()?;
    let keystore = Arc::new(keystores::mem::MemKeyStore::new());
    startup::prepare_with(&config, keystore, vec![cert.cert_der], cert.key_der).await
}

/// A data directory, ready to serve from.
#[derive(Debug)]
pub struct DataDir {
    pub config_path: PathBuf,
    dir: PathBuf,
    identity: String,
    key_line: String,
}

impl DataDir {
    /// What to print at startup for a server listening on `port`: the admin credentials and
    /// how to use them.
    pub fn banner(&self, port: u16) -> String {
        let d = self.dir.display();
        format!(
            "Data     {d}\nAdmin    {identity}\n\n{key_line}\n\
             Try it:\n\
             \x20   curl --cacert {d}/server.cert --cert {d}/client.cert --key {d}/client.key \\\n\
             \x20        -X POST https://localhost:{port}/v1/key/create/my-key\n\
             \x20   export KES_SERVER=https://localhost:{port} KES_API_KEY=$(cat {d}/admin.key)\n\
             \x20   kes key dek my-key -k",
            identity = self.identity,
            key_line = self.key_line,
        )
    }
}

/// Initialises `dir` on first use (config.yml, keys/, server and client certificates, admin
/// API key; secrets 0600, directories 0700) and renews its certificates when needed.
pub fn data_dir(dir: &Path) -> Result<DataDir, String> {
    let err = |what: &str, e: std::io::Error| format!("{what} in '{}': {e}", dir.display());
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| err("failed to create data directory", e))?;
    let dir = dir
        .canonicalize()
        .map_err(|e| err("failed to resolve data directory", e))?;
    let config_path = dir.join("config.yml");
    let api_key_path = dir.join("admin.key");
    let first_start = !config_path.exists();

    if first_start {
        let api_key = ApiKey::generate().map_err(|e| e.to_string())?;
        write_private(&api_key_path, api_key.to_text().as_bytes())
            .map_err(|e| err("failed to write admin.key", e))?;
    }
    let api_key_text = Zeroizing::new(
        fs::read_to_string(&api_key_path).map_err(|e| err("failed to read admin.key", e))?,
    );
    let api_key = ApiKey::parse(api_key_text.trim()).map_err(|e| e.to_string())?;

    renew_server_certificate(&dir).map_err(|e| err("failed to write the server certificate", e))?;
    let client = api_key.certificate().map_err(|e| e.to_string())?;
    write_public(
        &dir.join("client.cert"),
        &pem::encode("CERTIFICATE", &client.cert_der),
    )
    .map_err(|e| err("failed to write client.cert", e))?;
    let client_key = Zeroizing::new(pem::encode("PRIVATE KEY", client.key_der.secret_der()));
    write_private(&dir.join("client.key"), client_key.as_bytes())
        .map_err(|e| err("failed to write client.key", e))?;

    if first_start {
        let config = format!(
            "# KES server configuration, generated by `kes server --data`.\n\
             # It is an ordinary KES config file: edit it, or run `kes server --config {path}`.\n\
             version: v1\n\
             address: 0.0.0.0:7373\n\
             admin:\n  identity: {identity}\n\
             tls:\n  key: {dir}/server.key\n  cert: {dir}/server.cert\n\
             keystore:\n  fs:\n    path: {dir}/keys\n",
            path = config_path.display(),
            identity = api_key.identity(),
            dir = dir.display(),
        );
        write_private(&config_path, config.as_bytes())
            .map_err(|e| err("failed to write config.yml", e))?;
    }

    let d = dir.display();
    let key_line = if first_start {
        format!(
            "Admin API key (shown once, also in {d}/admin.key):\n    {}\n",
            api_key_text.trim()
        )
    } else {
        format!("Admin API key: in {d}/admin.key\n")
    };
    Ok(DataDir {
        config_path,
        identity: api_key.identity().to_string(),
        key_line,
        dir,
    })
}

/// Writes a new server certificate unless a valid one exists that does not expire soon.
fn renew_server_certificate(dir: &Path) -> std::io::Result<()> {
    let cert_path = dir.join("server.cert");
    let key_path = dir.join("server.key");
    if key_path.exists() && !expires_soon(&cert_path) {
        return Ok(());
    }
    let cert = server_certificate().map_err(std::io::Error::other)?;
    write_private(&key_path, cert.key_pem.as_bytes())?;
    write_public(&cert_path, &cert.cert_pem)
}

fn expires_soon(cert_path: &Path) -> bool {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let Ok(certs) = pem::load_certificates(cert_path) else {
        return true;
    };
    let Some(Ok((_, cert))) = certs.first().map(|c| X509Certificate::from_der(c)) else {
        return true;
    };
    let not_after = cert.validity().not_after.to_datetime();
    not_after - OffsetDateTime::now_utc() < CERT_RENEWAL
}

/// Replaces `path` with `data`, readable by the owner only.
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    write_atomically(path, data, 0o600)
}

fn write_public(path: &Path, text: &str) -> std::io::Result<()> {
    write_atomically(path, text.as_bytes(), 0o644)
}

fn write_atomically(path: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    let temp = path.with_extension("tmp");
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&temp)?;
    file.write_all(data)?;
    file.sync_all()?;
    fs::rename(&temp, path)
}
