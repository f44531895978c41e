//! Shared by the reliability tests (crash, faults, soak): our `kes` binary as a subprocess that
//! can be SIGKILLed and restarted on the same port, its thread/memory/descriptor counts from
//! `/proc`, and a small seeded RNG whose seed the tests print.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kes_client::ApiKey;
use tests::backends::free_port;
use tests::{CertFiles, Client, Method, our_kes};

/// One `kes server` process with a fixed config file and port; killed on drop.
pub struct KesProcess {
    child: Option<Child>,
    config: PathBuf,
    log: PathBuf,
    pub url: String,
    pub admin: ApiKey,
    pub cert: CertFiles,
}

impl KesProcess {
    /// Writes a config (server certificate, fresh admin, `keystore` section, then `extra`) in
    /// `dir` and starts the server; waits until `/v1/status` answers.
    pub async fn start(dir: &Path, keystore: &str, extra: &str) -> KesProcess {
        let cert = CertFiles::generate(dir, "server", "localhost");
        let admin = ApiKey::generate().unwrap();
        let port = free_port();
        let config = dir.join("kes.yml");
        tests::write_server_config(&config, port, &admin, &cert, keystore, extra);
        let mut kes = KesProcess {
            child: None,
            config,
            log: dir.join("kes.log"),
            url: format!("https://127.0.0.1:{port}"),
            admin,
            cert,
        };
        kes.spawn().await;
        kes
    }

    /// A client authenticated as the admin.
    pub fn client(&self) -> Client {
        Client::with_api_key(&self.url, &self.admin, Some(&self.cert.cert_der))
    }

    /// The process id of the running server.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server not running").id()
    }

    /// Starts the server (again) with the same config and port; panics with its log if it
    /// exits or does not answer within 30 s.
    pub async fn spawn(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(our_kes())
            .args(["server", "--config"])
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let probe = self.client();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(reply) = probe.send(Method::GET, "/v1/status", None).await
                && reply.status.is_success()
            {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("kes server exited ({status}):\n{}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "kes server did not start:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILLs the server and reaps it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the server process is still running.
    pub fn running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => child.try_wait().unwrap().is_none(),
            None => false,
        }
    }

    /// The server's output so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Threads, resident memory (KiB) and open file descriptors of the server process.
    pub fn usage(&self) -> Usage {
        usage(self.pid())
    }
}

impl Drop for KesProcess {
    /// Kills the server and copies its log into the test output, where `scripts/test` scans
    /// every log for the secrets the tests used.
    fn drop(&mut self) {
        self.kill9();
        eprint!("{}", self.log_text());
    }
}

/// Resource counts of a process from `/proc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub threads: u64,
    pub rss_kib: u64,
    pub fds: u64,
}

pub fn usage(pid: u32) -> Usage {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count() as u64;
    Usage {
        threads: field("Threads:"),
        rss_kib: field("VmRSS:"),
        fds,
    }
}

/// SplitMix64: a tiny deterministic RNG, seeded from `$var` or the clock (the seed is printed
/// so a failing run can be repeated).
pub struct Rng {
    state: u64,
    /// The seed this generator started from.
    pub seed: u64,
}

impl Rng {
    pub fn from_env(var: &str) -> Rng {
        let seed = std::env::var(var)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("{var}={seed} (set it to repeat this run)");
        Rng::from_seed(seed)
    }

    pub fn from_seed(seed: u64) -> Rng {
        Rng { state: seed, seed }
    }

    pub fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Polls `f` every 20 ms until it returns true, panicking with `what` after `limit`.
pub async fn wait_until<F, Fut>(limit: Duration, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
