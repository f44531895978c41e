//! moto (`backends.md` §4): a local AWS Secrets Manager on 127.0.0.1 and a free port, state in
//! memory, killed on drop; plain HTTP, or HTTPS with a given certificate ([`Moto::start_tls`]).
//! moto accepts any credentials and does not check signatures, which [`Moto::call`] relies on
//! to inspect the stored layout with plain HTTP. Starting it panics with
//! the reason when moto is missing or fails; a test never skips. `scripts/install-peers`
//! (`scripts/peers/moto.sh`) installs it into `<peers cache>/moto`.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, peers_cache};

/// The region the tests use; moto serves any.
pub const REGION: &str = "us-east-1";
/// The static access key (and secret key) the tests use; moto accepts any.
pub const ACCESS_KEY: &str = "testing";

/// How long moto may take to answer its first request.
const STARTUP: Duration = Duration::from_secs(30);

/// A running moto server; killed on drop.
#[derive(Debug)]
pub struct Moto {
    child: Option<Child>,
    port: u16,
    tls: bool,
    dir: tempfile::TempDir,
}

impl Moto {
    /// Starts moto and waits until Secrets Manager answers, or panics saying why.
    pub fn start() -> Moto {
        Self::launch(None)
    }

    /// Starts moto serving HTTPS with the PEM files `cert` and `key` (the SANs must cover
    /// 127.0.0.1), and waits until it accepts connections. [`Moto::call`] is not available.
    pub fn start_tls(cert: &Path, key: &Path) -> Moto {
        Self::launch(Some((cert, key)))
    }

    fn launch(tls: Option<(&Path, &Path)>) -> Moto {
        let bin = moto_bin();
        let dir = tempfile::Builder::new()
            .prefix("kes-moto-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("log")).unwrap();
        let mut cmd = Command::new(&bin);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        if let Some((cert, key)) = tls {
            cmd.arg("-c").arg(cert).arg("-k").arg(key);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", bin.display()));
        let mut moto = Moto {
            child: Some(child),
            port,
            tls: tls.is_some(),
            dir,
        };
        let deadline = Instant::now() + STARTUP;
        loop {
            // Over TLS, an accepted connection: the server listens only once it serves.
            let ready = match moto.tls {
                false => matches!(moto.try_call("ListSecrets", "{}"), Ok((200, _))),
                true => TcpStream::connect(("127.0.0.1", moto.port)).is_ok(),
            };
            if ready {
                return moto;
            }
            if let Some(status) = moto
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("moto exited during startup ({status}):\n{}", moto.log());
            }
            assert!(
                Instant::now() < deadline,
                "moto did not answer within {STARTUP:?}:\n{}",
                moto.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The endpoint URL, `http://127.0.0.1:<port>` (`https://` with TLS).
    pub fn endpoint(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The `keystore:` config section (upstream `keystore.aws.secretsmanager`) for this server
    /// with static credentials.
    pub fn keystore_section(&self) -> String {
        format!(
            "keystore:\n  aws:\n    secretsmanager:\n      endpoint: {}\n      region: {REGION}\n      credentials:\n        accesskey: {ACCESS_KEY}\n        secretkey: {ACCESS_KEY}\n",
            self.endpoint()
        )
    }

    /// Calls the Secrets Manager action `action` (e.g. `DescribeSecret`) with the JSON `body`,
    /// unsigned; panics unless it answers 200. Returns the JSON reply.
    pub fn call(&self, action: &str, body: &str) -> serde_json::Value {
        assert!(!self.tls, "Moto::call speaks plain HTTP only");
        let (status, reply) = self
            .try_call(action, body)
            .unwrap_or_else(|err| panic!("moto {action}: {err}"));
        assert_eq!(status, 200, "moto {action} {body}: {reply}");
        serde_json::from_str(&reply).unwrap()
    }

    /// One HTTP/1.1 request to moto: the status and the body.
    fn try_call(&self, action: &str, body: &str) -> std::io::Result<(u16, String)> {
        let mut conn = TcpStream::connect(("127.0.0.1", self.port))?;
        conn.set_read_timeout(Some(Duration::from_secs(10)))?;
        let request = format!(
            "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
             X-Amz-Target: secretsmanager.{action}\r\n\
             Content-Type: application/x-amz-json-1.1\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20260101/{REGION}/secretsmanager/aws4_request, SignedHeaders=host, Signature=0\r\n\
             Content-Length: {len}\r\n\r\n{body}",
            port = self.port,
            len = body.len(),
        );
        conn.write_all(request.as_bytes())?;
        let mut reply = String::new();
        conn.read_to_string(&mut reply)?;
        let status = reply
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = reply
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        Ok((status, body))
    }

    /// Kills the server at once, as an outage would.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the server process is still running.
    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }
}

impl Drop for Moto {
    /// Kills a server still running; never panics, it may run while unwinding.
    fn drop(&mut self) {
        self.stop();
    }
}

/// `$KES_MOTO_SERVER`, else `moto_server` in the venv that `scripts/peers/moto.sh` made.
fn moto_bin() -> PathBuf {
    let bin = std::env::var_os("KES_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| peers_cache().join("moto/bin/moto_server"));
    assert!(
        bin.is_file(),
        "moto is not installed: {} is missing (scripts/install-peers installs it; or set KES_MOTO_SERVER)",
        bin.display()
    );
    bin
}
