//! SIGHUP reloads `kes server --config FILE`: checked with the real binary, `kill -HUP` and curl.
//! A changed admin identity and policy apply to the next request; a broken file is rejected
//! and the server keeps its old configuration.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `kes server`, killed on drop; its stderr lines arrive on `stderr`.
struct Server {
    child: Child,
    port: u16,
    stderr: mpsc::Receiver<String>,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kes"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, stderr) = mpsc::channel();
        let err = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in err.lines().map_while(Result::ok) {
                eprintln!("{line}");
                let _ = tx.send(line);
            }
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut port = None;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(url) = line.strip_prefix("API      https://") {
                port = Some(url.rsplit(':').next().unwrap().parse().unwrap());
            }
            if line.contains("Server is up and running") {
                break;
            }
        }
        std::thread::spawn(move || lines.for_each(drop));
        Server {
            child,
            port: port.expect("no API line in the banner"),
            stderr,
        }
    }

    fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args([name, &pid])
                .status()
                .unwrap()
                .success()
        );
    }

    /// Waits for a stderr line containing `text`, failing after a deadline.
    fn wait_for_log(&self, text: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(_) => panic!("no log line containing {text:?}"),
            }
        }
    }

    fn stop(mut self) {
        self.signal("-TERM");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "server exited with {status}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The HTTP status of `GET path` with the data directory's client certificate.
fn status(dir: &Path, port: u16, path: &str) -> u16 {
    let out = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg("--cacert")
        .arg(dir.join("server.cert"))
        .arg("--cert")
        .arg(dir.join("client.cert"))
        .arg("--key")
        .arg(dir.join("client.key"))
        .arg(format!("https://localhost:{port}{path}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().parse().unwrap()
}

#[test]
fn sighup_reloads_the_config_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("kes-data");
    let d = dir.to_str().unwrap();
    // `--data` writes a config file, certificates and a client certificate for the admin.
    Server::start(&["server", "--data", d, "--addr", "127.0.0.1:0"]).stop();
    let config_path = dir.join("config.yml");
    let config = config_path.to_str().unwrap();
    let good = std::fs::read_to_string(&config_path).unwrap();
    let identity = good
        .lines()
        .find_map(|l| l.trim().strip_prefix("identity: "))
        .unwrap()
        .to_owned();

    let server = Server::start(&["server", "--config", config, "--addr", "127.0.0.1:0"]);
    assert_eq!(status(&dir, server.port, "/v1/key/list/*"), 200);

    // The client is no longer admin; a policy lets it read the status only.
    let demoted = format!(
        "{}policy:\n  ops:\n    allow:\n    - /v1/status\n    identities:\n    - {identity}\n",
        good.replace(&format!("identity: {identity}"), "identity: disabled")
    );
    std::fs::write(&config_path, demoted).unwrap();
    server.signal("-HUP");
    server.wait_for_log("configuration reloaded");
    assert_eq!(status(&dir, server.port, "/v1/key/list/*"), 403);
    assert_eq!(status(&dir, server.port, "/v1/status"), 200);

    // A broken file is rejected; the demoted configuration stays.
    std::fs::write(&config_path, format!("{good}bogus: 1\n")).unwrap();
    server.signal("-HUP");
    let line = server.wait_for_log("reload failed");
    assert!(line.contains("level=ERROR"), "{line}");
    assert!(line.contains("unknown field 'bogus'"), "{line}");
    assert_eq!(status(&dir, server.port, "/v1/key/list/*"), 403);
    assert_eq!(status(&dir, server.port, "/v1/status"), 200);

    // Restoring the file restores the admin.
    std::fs::write(&config_path, &good).unwrap();
    server.signal("-HUP");
    server.wait_for_log("configuration reloaded");
    assert_eq!(status(&dir, server.port, "/v1/key/list/*"), 200);
    server.stop();
}
