//! Test harness shared by the end-to-end and interop tests.
//!
//! [`TestServer`] runs our server in-process on 127.0.0.1 port 0 over real mTLS, from a real
//! KES config file in a temporary directory. [`Client`] talks to any KES-compatible server with
//! a `kes:v1:` API key or a certificate. [`go_kes`] locates the upstream Go `kes` binary that
//! the test command installed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kes_client::ApiKey;
use rcgen::{CertificateParams, DnType, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub mod backends;
pub mod compat;
pub mod ledger;

pub use reqwest::{Method, StatusCode};
pub use serde_json::{Value, json};

/// A self-signed certificate and its key, written to PEM files.
#[derive(Debug, Clone)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub cert_der: CertificateDer<'static>,
    pub key_der: Arc<PrivateKeyDer<'static>>,
}

impl CertFiles {
    /// A new CA certificate (ECDSA P-256) in `dir`, and a client certificate it signed.
    pub fn generate_ca_and_client(dir: &Path) -> (CertFiles, CertFiles) {
        let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let ca_files = Self::write(dir, "ca", &ca_cert, &ca_key);

        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "verified client");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        (ca_files, Self::write(dir, "ca-client", &cert, &key))
    }

    fn write(dir: &Path, name: &str, cert: &rcgen::Certificate, key: &KeyPair) -> CertFiles {
        let cert_path = dir.join(format!("{name}.cert"));
        let key_path = dir.join(format!("{name}.key"));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        CertFiles {
            cert: cert_path,
            key: key_path,
            cert_der: cert.der().clone(),
            key_der: Arc::new(PrivatePkcs8KeyDer::from(key.serialize_der()).into()),
        }
    }

    /// A new ECDSA P-256 certificate for `cn`, with `localhost`/127.0.0.1 SANs, in `dir`.
    pub fn generate(dir: &Path, name: &str, cn: &str) -> CertFiles {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        params.distinguished_name.push(DnType::CommonName, cn);
        let cert = params.self_signed(&key).unwrap();
        let cert_path = dir.join(format!("{name}.cert"));
        let key_path = dir.join(format!("{name}.key"));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        CertFiles {
            cert: cert_path,
            key: key_path,
            cert_der: cert.der().clone(),
            key_der: Arc::new(PrivatePkcs8KeyDer::from(key.serialize_der()).into()),
        }
    }

    /// The identity of this certificate.
    pub fn identity(&self) -> String {
        kes_client::identity_of_certificate(&self.cert_der)
            .unwrap()
            .to_string()
    }
}

/// Our server running in-process on an ephemeral loopback port.
#[derive(Debug)]
pub struct TestServer {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub server_cert: CertFiles,
    /// The admin API key (its identity is `admin.identity` in the config).
    pub admin: ApiKey,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// The running server, for [`TestServer::reload`].
    server: Arc<kes_server::state::Server>,
}

impl TestServer {
    /// Starts a server whose config is `extra` appended to a base config (fs keystore in the
    /// temporary directory, the generated server certificate, a fresh admin API key).
    pub async fn start(extra: &str) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        Self::start_in(dir, &keys, extra).await
    }

    /// Like [`TestServer::start`], with the fs keystore at `keystore`.
    pub async fn start_in(dir: tempfile::TempDir, keystore: &Path, extra: &str) -> TestServer {
        Self::start_with(dir, keystore, "", extra).await
    }

    /// Like [`TestServer::start_in`]; `tls_extra` is added to the `tls:` section (indented
    /// lines such as `  auth: on\n`).
    pub async fn start_with(
        dir: tempfile::TempDir,
        keystore: &Path,
        tls_extra: &str,
        extra: &str,
    ) -> TestServer {
        let keystore = format!("keystore:\n  fs:\n    path: {}\n", keystore.display());
        Self::launch(dir, tls_extra, &keystore, extra).await
    }

    /// Like [`TestServer::start`], with `keystore` (a whole `keystore:` section, e.g.
    /// `"keystore:\n  sqlite:\n    path: /tmp/k.db\n"`) instead of the fs keystore in `dir`.
    pub async fn start_with_keystore(
        dir: tempfile::TempDir,
        keystore: &str,
        extra: &str,
    ) -> TestServer {
        Self::launch(dir, "", keystore, extra).await
    }

    /// Like [`TestServer::start`], serving with connection `limits` (e.g. a short idle timeout).
    pub async fn start_with_limits(extra: &str, limits: kes_server::serve::Limits) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let keystore = format!(
            "keystore:\n  fs:\n    path: {}\n",
            dir.path().join("keys").display()
        );
        Self::launch_with(dir, "", &keystore, extra, limits).await
    }

    /// Writes `config.yml` in `dir` (generated server certificate, fresh admin API key, then
    /// `tls_extra` inside `tls:`, the `keystore` section and `extra`) and serves it on port 0.
    async fn launch(
        dir: tempfile::TempDir,
        tls_extra: &str,
        keystore: &str,
        extra: &str,
    ) -> TestServer {
        let limits = kes_server::serve::Limits::default();
        Self::launch_with(dir, tls_extra, keystore, extra, limits).await
    }

    async fn launch_with(
        dir: tempfile::TempDir,
        tls_extra: &str,
        keystore: &str,
        extra: &str,
        limits: kes_server::serve::Limits,
    ) -> TestServer {
        let server_cert = CertFiles::generate(dir.path(), "server", "localhost");
        let admin = ApiKey::generate().unwrap();
        let yaml = format!(
            "version: v1\naddress: 127.0.0.1:0\nadmin:\n  identity: {admin}\ntls:\n  key: {key}\n  cert: {cert}\n{tls_extra}{keystore}{extra}",
            admin = admin.identity(),
            key = server_cert.key.display(),
            cert = server_cert.cert.display(),
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, &yaml).unwrap();
        let config = kes_server::config::Config::load(&config_path).unwrap();
        let prepared = kes_server::startup::prepare(&config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = Arc::clone(&prepared.server);
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            kes_server::serve::serve_with(
                listener,
                prepared.tls,
                prepared.server,
                shutdown,
                limits,
            )
            .await
            .unwrap();
        });
        TestServer {
            addr,
            dir,
            server_cert,
            admin,
            shutdown: Some(tx),
            task: Some(task),
            server,
        }
    }

    /// The server's URL, `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// A client authenticated as the admin.
    pub fn admin_client(&self) -> Client {
        Client::with_api_key(&self.url(), &self.admin, Some(&self.server_cert.cert_der))
    }

    /// A client presenting `api_key`'s certificate, trusting this server.
    pub fn client(&self, api_key: &ApiKey) -> Client {
        Client::with_api_key(&self.url(), api_key, Some(&self.server_cert.cert_der))
    }

    /// A client presenting `cert`, trusting this server.
    pub fn client_with_cert(&self, cert: &CertFiles) -> Client {
        Client::with_cert(&self.url(), cert, Some(&self.server_cert.cert_der))
    }

    /// The fs keystore directory.
    pub fn keystore_dir(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    /// The server's config file (`config.yml` in the temporary directory).
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.yml")
    }

    /// Reloads the server from its config file, as SIGHUP does.
    pub async fn reload(&self) -> Result<(), String> {
        self.server.reload_file(&self.config_path()).await
    }

    /// Starts the periodic TLS reload `kes server --config` runs every 15 minutes, with
    /// `every` instead; it stops when the returned task is aborted.
    pub fn reload_tls_every(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(Arc::clone(&self.server).reload_tls_every(self.config_path(), every))
    }

    /// Stops the server and waits until it has stopped.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
    }
}

/// An HTTPS client with a client certificate (from an API key or a certificate file).
#[derive(Debug, Clone)]
pub struct Client {
    pub base: String,
    http: reqwest::Client,
}

/// A response: status, content type and body.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts a KES error: exact status, `application/json`, exact message.
    pub fn assert_error(&self, status: u16, message: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        assert_eq!(
            self.content_type,
            "application/json",
            "body: {}",
            self.text()
        );
        assert_eq!(self.json()["message"], message);
    }

    /// Asserts a 200 and returns the JSON body (or `Null` for an empty body).
    pub fn ok(&self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.text());
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }
}

/// A TLS client configuration presenting `identity` (if any) and trusting exactly
/// `server_cert` (if any), for tests that speak HTTP over a raw TLS stream.
pub fn tls_config(
    identity: Option<(CertificateDer<'static>, PrivateKeyDer<'static>)>,
    server_cert: Option<&CertificateDer<'static>>,
) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    if let Some(cert) = server_cert {
        roots.add(cert.clone()).unwrap();
    }
    let builder = builder.with_root_certificates(roots);
    match identity {
        Some((cert, key)) => builder.with_client_auth_cert(vec![cert], key).unwrap(),
        None => builder.with_no_client_auth(),
    }
}

impl Client {
    /// A client presenting the self-signed certificate of `api_key`.
    pub fn with_api_key(
        base: &str,
        api_key: &ApiKey,
        server_cert: Option<&CertificateDer<'static>>,
    ) -> Client {
        let cert = api_key.certificate().unwrap();
        Self::with_tls(
            base,
            tls_config(Some((cert.cert_der, cert.key_der)), server_cert),
        )
    }

    /// A client presenting `cert`.
    pub fn with_cert(
        base: &str,
        cert: &CertFiles,
        server_cert: Option<&CertificateDer<'static>>,
    ) -> Client {
        let key = cert.key_der.clone_key();
        Self::with_tls(
            base,
            tls_config(Some((cert.cert_der.clone(), key)), server_cert),
        )
    }

    /// A client presenting no certificate.
    pub fn anonymous(base: &str, server_cert: Option<&CertificateDer<'static>>) -> Client {
        Self::with_tls(base, tls_config(None, server_cert))
    }

    /// A client with a caller-built TLS configuration.
    pub fn with_tls(base: &str, tls: rustls::ClientConfig) -> Client {
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Client {
            base: base.trim_end_matches('/').to_owned(),
            http,
        }
    }

    /// Sends `method path` with an optional raw body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Reply, reqwest::Error> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            ledger::record(&body);
            req = req.body(body);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = resp.bytes().await?.to_vec();
        ledger::record(&body);
        Ok(Reply {
            status,
            content_type,
            headers,
            body,
        })
    }

    /// Opens a streaming GET (the log routes) and checks its content type. The stream is not
    /// bound by the client's 30 s request timeout; reads are bounded by their callers.
    pub async fn stream(&self, path: &str) -> LineStream {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            resp.headers()[reqwest::header::CONTENT_TYPE],
            "application/x-ndjson"
        );
        LineStream {
            resp,
            buf: Vec::new(),
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await.unwrap()
    }

    pub async fn post(&self, path: &str, body: &str) -> Reply {
        self.send(Method::POST, path, Some(body.as_bytes().to_vec()))
            .await
            .unwrap()
    }

    pub async fn put(&self, path: &str, body: &str) -> Reply {
        self.send(Method::PUT, path, Some(body.as_bytes().to_vec()))
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None).await.unwrap()
    }
}

/// A streaming response read line by line.
#[derive(Debug)]
pub struct LineStream {
    resp: reqwest::Response,
    buf: Vec<u8>,
}

impl LineStream {
    /// The next complete line, without its newline.
    pub async fn next_line(&mut self) -> String {
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                return String::from_utf8_lossy(&line[..pos]).into_owned();
            }
            let chunk = self.resp.chunk().await.unwrap().expect("stream ended");
            self.buf.extend_from_slice(&chunk);
        }
    }
}

/// Writes a KES config file for a server on 127.0.0.1:`port` with `cert` as its TLS
/// certificate, `admin` as its admin identity, then `keystore` (a whole `keystore:` section)
/// and `extra` verbatim. Our server and the Go server read the same file.
pub fn write_server_config(
    path: &Path,
    port: u16,
    admin: &ApiKey,
    cert: &CertFiles,
    keystore: &str,
    extra: &str,
) {
    std::fs::write(
        path,
        format!(
            "address: 127.0.0.1:{port}\nadmin:\n  identity: {}\ntls:\n  key: {}\n  cert: {}\n{keystore}{extra}",
            admin.identity(),
            cert.key.display(),
            cert.cert.display(),
        ),
    )
    .unwrap();
}

/// Every file in `dir`: name and content, sorted by name (to compare keystore directories).
pub fn dir_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// The upstream Go `kes` binary (v0.24.0): `$KES_GO_BIN`, else the test command's cache
/// `~/.cache/kes-rs/go/bin/kes`. Panics with instructions if it is missing: interop tests never
/// pass silently without their peer.
pub fn go_kes() -> PathBuf {
    let path = std::env::var_os("KES_GO_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".cache/kes-rs/go/bin/kes")
        });
    assert!(
        path.is_file(),
        "the upstream Go kes binary is missing at {}: run `.ci/install-peers` (the README test command does)",
        path.display()
    );
    path
}

/// The upstream Go KES server (v0.24.0), on an fs keystore unless told otherwise; killed on drop.
#[derive(Debug)]
pub struct GoServer {
    /// Killed when dropped (`kill_on_drop`).
    _child: tokio::process::Child,
    /// `https://127.0.0.1:<port>`.
    pub url: String,
}

impl GoServer {
    /// Starts the Go server with `admin` as admin, `cert` as server certificate and the fs
    /// keystore at `keystore`; waits until `/v1/status` answers.
    pub async fn start(dir: &Path, keystore: &Path, cert: &CertFiles, admin: &ApiKey) -> GoServer {
        Self::start_with(dir, keystore, cert, admin, "").await
    }

    /// Like [`GoServer::start`], with `extra` appended to the YAML config (e.g. policies).
    pub async fn start_with(
        dir: &Path,
        keystore: &Path,
        cert: &CertFiles,
        admin: &ApiKey,
        extra: &str,
    ) -> GoServer {
        let keystore = format!("keystore:\n  fs:\n    path: {}\n", keystore.display());
        Self::start_with_keystore(dir, &keystore, cert, admin, extra).await
    }

    /// Like [`GoServer::start_with`], with `keystore` (a whole `keystore:` section, e.g.
    /// `keystore.aws.secretsmanager`) instead of the fs keystore. Panics with the server's
    /// output if it exits before it answers.
    pub async fn start_with_keystore(
        dir: &Path,
        keystore: &str,
        cert: &CertFiles,
        admin: &ApiKey,
        extra: &str,
    ) -> GoServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.join("go-config.yml");
        write_server_config(&config, port, admin, cert, keystore, extra);
        let log_path = dir.join("go-server.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut child = tokio::process::Command::new(go_kes())
            .args(["server", "--config", config.to_str().unwrap()])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let url = format!("https://127.0.0.1:{port}");
        let client = Client::with_api_key(&url, admin, Some(&cert.cert_der));
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(reply) = client.send(Method::GET, "/v1/status", None).await
                && reply.status.is_success()
            {
                return GoServer { _child: child, url };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the upstream Go KES server exited ({status}):\n{}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the upstream Go KES server did not start:\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Our `kes` binary. The first call runs `cargo build -p kes-server --bin kes` (fast when it is
/// up to date, so a stale binary is never tested) and returns `<target>/debug/kes`
/// (`$CARGO_TARGET_DIR` or the workspace's `target`). Panics if the build fails or the binary
/// is missing afterwards.
pub fn our_kes() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace.join("target"));
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "-p", "kes-server", "--bin", "kes"])
            .current_dir(&workspace)
            .status()
            .expect("running `cargo build -p kes-server --bin kes`");
        assert!(
            status.success(),
            "`cargo build -p kes-server --bin kes` failed"
        );
        let bin = target.join("debug").join("kes");
        assert!(
            bin.is_file(),
            "our kes binary is missing at {} after building it",
            bin.display()
        );
        bin
    })
    .clone()
}
