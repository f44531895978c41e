//! The README's promises, checked with the real binary and curl: `kes server --data DIR` starts
//! on a fresh directory, prints the admin credentials, answers the curl walkthrough, and keeps its
//! keys, certificate and admin key across a restart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `kes server`, terminated (SIGTERM) on drop.
struct Server {
    child: Child,
    port: u16,
    banner: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kes"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = String::new();
        let mut port = None;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(url) = line.strip_prefix("API      https://") {
                port = Some(url.rsplit(':').next().unwrap().parse().unwrap());
            }
            banner.push_str(&line);
            banner.push('\n');
            if line.contains("Server is up and running") {
                break;
            }
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Server {
            child,
            port: port.unwrap_or_else(|| panic!("no API line in the banner:\n{banner}")),
            banner,
        }
    }

    fn stop(mut self) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
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

/// Runs curl with the data directory's client certificate; returns (status, body).
fn curl(dir: &Path, port: u16, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-o", "-", "-w", "\n%{http_code}", "-X", method])
        .arg("--cacert")
        .arg(dir.join("server.cert"))
        .arg("--cert")
        .arg(dir.join("client.cert"))
        .arg("--key")
        .arg(dir.join("client.key"))
        .arg(format!("https://localhost:{port}{path}"));
    if let Some(body) = body {
        cmd.args(["-d", body]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), body.to_owned())
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// As upstream, a server with a config file locks its memory (`MLock    enabled`) where that
/// cannot fail later: with CAP_IPC_LOCK or an unlimited RLIMIT_MEMLOCK (this test's own).
fn assert_memory_locked_where_possible(server: &Server) {
    let field = |status: &str, name: &str| -> String {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let own = std::fs::read_to_string("/proc/self/status").unwrap();
    let ipc_lock = u64::from_str_radix(&field(&own, "CapEff:"), 16).unwrap() >> 14 & 1 == 1;
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let unlimited = field(&limits, "Max locked memory").starts_with("unlimited");
    let locked = server.banner.contains("MLock    enabled");
    assert_eq!(locked, ipc_lock || unlimited, "{}", server.banner);
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let vm_lck: u64 = field(&status, "VmLck:")
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(vm_lck > 0, locked, "VmLck {vm_lck} kB");
}

#[test]
fn data_dir_server_serves_the_curl_walkthrough_and_persists() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("kes-data");
    let d = dir.to_str().unwrap();

    let server = Server::start(&["server", "--data", d, "--addr", "127.0.0.1:0"]);
    let api_key = std::fs::read_to_string(dir.join("admin.key")).unwrap();
    assert!(api_key.starts_with("kes:v1:"));
    assert!(
        server.banner.contains(api_key.trim()),
        "first start prints the API key:\n{}",
        server.banner
    );
    assert!(server.banner.contains("curl "), "{}", server.banner);
    assert_memory_locked_where_possible(&server);
    let example = format!("https://localhost:{}/v1/key/create/my-key", server.port);
    assert!(
        server.banner.contains(&example),
        "the curl example names the real port:\n{}",
        server.banner
    );
    for (file, mode) in [
        ("admin.key", 0o600),
        ("client.key", 0o600),
        ("server.key", 0o600),
        ("config.yml", 0o600),
        ("keys", 0o700),
        ("", 0o700),
    ] {
        let meta = std::fs::metadata(dir.join(file)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, mode, "{file}");
    }

    let (status, body) = curl(&dir, server.port, "POST", "/v1/key/create/my-key", None);
    assert_eq!((status, body.as_str()), (200, ""));
    let (status, body) = curl(
        &dir,
        server.port,
        "POST",
        "/v1/key/generate/my-key",
        Some(r#"{"context":"bXktYnVja2V0"}"#),
    );
    assert_eq!(status, 200, "{body}");
    let dek = json(&body);
    let request =
        serde_json::json!({"ciphertext": dek["ciphertext"], "context": "bXktYnVja2V0"}).to_string();
    let (status, body) = curl(
        &dir,
        server.port,
        "POST",
        "/v1/key/decrypt/my-key",
        Some(&request),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["plaintext"], dek["plaintext"]);
    let wrong =
        serde_json::json!({"ciphertext": dek["ciphertext"], "context": "b3RoZXI="}).to_string();
    let (status, body) = curl(
        &dir,
        server.port,
        "POST",
        "/v1/key/decrypt/my-key",
        Some(&wrong),
    );
    assert_eq!(
        (status, json(&body)["message"].as_str().unwrap()),
        (400, "decryption failed: ciphertext is not authentic")
    );
    server.stop();

    // The second start reuses everything and does not print the key again.
    let server = Server::start(&["server", "--data", d, "--addr", "127.0.0.1:0"]);
    assert_eq!(
        std::fs::read_to_string(dir.join("admin.key")).unwrap(),
        api_key
    );
    assert!(!server.banner.contains(api_key.trim()), "{}", server.banner);
    let (status, body) = curl(
        &dir,
        server.port,
        "POST",
        "/v1/key/decrypt/my-key",
        Some(&request),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["plaintext"], dek["plaintext"]);
    server.stop();

    // The generated config is an ordinary KES config file.
    let server = Server::start(&[
        "server",
        "--config",
        dir.join("config.yml").to_str().unwrap(),
        "--addr",
        "127.0.0.1:0",
    ]);
    let (status, _) = curl(&dir, server.port, "GET", "/v1/key/describe/my-key", None);
    assert_eq!(status, 200);
    server.stop();
}

#[test]
fn refuses_to_start_without_a_keystore_or_config() {
    let out = Command::new(env!("CARGO_BIN_EXE_kes"))
        .arg("server")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("Error: no config file specified"));

    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config.yml");
    std::fs::write(
        &config,
        "admin:\n  identity: disabled\ntls:\n  key: k\n  cert: c\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kes"))
        .args(["server", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("kesconf: no keystore specified"),
        "{stderr}"
    );
}
