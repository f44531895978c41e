//! A real MinIO server (`backends.md` §7) on 127.0.0.1 and free ports, single drive (MinIO's
//! `xl-single` layout) in a temporary directory, with the `MINIO_KMS_*` variables the test
//! gives and nothing inherited from the environment. Killed on drop. Starting it panics with
//! MinIO's output when the binary is missing or MinIO exits or is not ready within the deadline;
//! a test never skips. `scripts/install-peers` builds MinIO into `<peers cache>/minio/minio`
//! and the S3 client (the `minio` package from PyPI) into `<peers cache>/minio/venv`;
//! [`Minio::s3`] drives it through `tests/minio_s3.py`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::{Child, Command};

use serde_json::{Value, json};

use super::{free_port, peers_cache};

/// The root user of every MinIO started here.
pub const ROOT_USER: &str = "kes-test-root";
/// Its password.
pub const ROOT_PASSWORD: &str = "kes-test-root-password";

/// A running (or stopped) MinIO server; killed on drop.
#[derive(Debug)]
pub struct Minio {
    child: Option<Child>,
    dir: tempfile::TempDir,
    port: u16,
    env: Vec<(String, String)>,
    /// How many times it was started: each start logs to `log.<n>`.
    starts: u32,
}

impl Minio {
    /// Starts MinIO with `env` (the `MINIO_KMS_*` variables) and waits until it is ready:
    /// `/minio/health/ready` answers 200, which needs the KMS to generate a key.
    pub async fn start(env: &[(&str, String)]) -> Minio {
        let dir = tempfile::Builder::new()
            .prefix("kes-minio-")
            .tempdir()
            .unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        let mut minio = Minio {
            child: None,
            dir,
            port: 0,
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            starts: 0,
        };
        minio.launch().await;
        minio
    }

    /// Stops MinIO (if running) and starts it again on the same data, with `env` instead of
    /// the variables it had (e.g. another KMS endpoint), and waits until it is ready.
    pub async fn restart_with(&mut self, env: &[(&str, String)]) {
        self.env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        self.restart().await;
    }

    /// Stops MinIO (if running) and starts it again on the same data and variables.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.launch().await;
    }

    /// Spawns MinIO on new ports, logging to a new file; does not wait.
    fn launch_process(&mut self) {
        let bin = minio_bin();
        self.starts += 1;
        self.port = free_port();
        let console = loop {
            let port = free_port();
            if port != self.port {
                break port;
            }
        };
        let log = std::fs::File::create(self.log_path()).unwrap();
        let mut cmd = Command::new(&bin);
        cmd.args([
            "server",
            "--quiet",
            "--address",
            &format!("127.0.0.1:{}", self.port),
            "--console-address",
            &format!("127.0.0.1:{console}"),
            "--certs-dir",
        ])
        .arg(self.dir.path().join("certs"))
        .arg(self.data());
        cmd.env_clear()
            .env("HOME", self.dir.path())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("MINIO_ROOT_USER", ROOT_USER)
            .env("MINIO_ROOT_PASSWORD", ROOT_PASSWORD)
            .env("MINIO_BROWSER", "off")
            .env("MINIO_UPDATE", "off")
            .env("MINIO_CI_CD", "on")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .unwrap_or_else(|err| panic!("cannot run MinIO {}: {err}", bin.display()));
        self.child = Some(child);
    }

    async fn launch(&mut self) {
        self.launch_process();
        self.wait_ready().await;
    }

    /// Polls the readiness endpoint until it answers 200; MinIO's KMS startup (the default key
    /// probe) happens before it listens, and readiness asks the KMS for a key.
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(90);
        let url = format!("http://127.0.0.1:{}/minio/health/ready", self.port);
        loop {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                self.child = None;
                panic!(
                    "MinIO exited ({status}) before it was ready:\n{}",
                    self.log()
                );
            }
            if http_status(self.port, "/minio/health/ready").await == Some(200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "MinIO did not become ready ({url}) within 90 s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills MinIO; its data stays for [`Minio::restart`].
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// `127.0.0.1:<port>`, the S3 endpoint.
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The drive: objects are at `<data>/<bucket>/<object>/xl.meta` (+ `<data dir>/part.N`).
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A scratch directory for object files, removed with the server.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("log.{}", self.starts))
    }

    /// What the current (or last) MinIO process printed.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Runs `ops` with the S3 client as the root user (see `tests/minio_s3.py` for the
    /// operations) and returns one result per operation.
    pub async fn s3(&self, ops: Value) -> Vec<Value> {
        let request = json!({
            "endpoint": self.endpoint(),
            "access_key": ROOT_USER,
            "secret_key": ROOT_PASSWORD,
            "ops": ops,
        });
        let python = peers_cache().join("minio/venv/bin/python");
        assert!(
            python.is_file(),
            "the S3 client is not installed at {} (run scripts/install-peers)",
            python.display()
        );
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("minio_s3.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", python.display()));
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(request.to_string().as_bytes())
            .await
            .unwrap();
        drop(stdin);
        let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
            .await
            .expect("the S3 driver did not finish within 120 s")
            .unwrap();
        assert!(
            out.status.success(),
            "the S3 driver failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|err| {
            panic!(
                "the S3 driver printed no JSON ({err}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Like [`Minio::s3`] for one operation, which must succeed; returns its result.
    pub async fn s3_ok(&self, op: Value) -> Value {
        let result = self.s3(json!([op])).await.remove(0);
        assert_eq!(
            result["ok"],
            true,
            "S3 {op} failed: {result}\nMinIO's log:\n{}",
            self.log()
        );
        result
    }
}

impl Drop for Minio {
    /// Kills a server still running; never panics, it may run while unwinding.
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}

/// The HTTP status of `GET path` on 127.0.0.1:`port`, over a plain TCP connection with short
/// timeouts; `None` when nothing answers.
async fn http_status(port: u16, path: &str) -> Option<u16> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.ok()?;
        std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .ok()
        .flatten()
}

/// `$KES_MINIO_BIN`, else `<peers cache>/minio/minio`; panics with instructions if missing.
pub fn minio_bin() -> PathBuf {
    let bin = std::env::var_os("KES_MINIO_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| peers_cache().join("minio/minio"));
    assert!(
        bin.is_file(),
        "MinIO is not installed at {} (run scripts/install-peers, or set KES_MINIO_BIN)",
        bin.display()
    );
    bin
}

/// The pinned MinIO version (the Go module version compiled into the binary).
pub fn minio_version() -> String {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION
        .get_or_init(|| crate::compat::go_module_version(&minio_bin(), "github.com/minio/minio"))
        .clone()
}
