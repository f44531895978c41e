//! The comparison driver: starts our server and the upstream one with the same configuration,
//! alternately, and runs the same loads against each while it samples `/proc`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Method;
use kes_client::ApiKey;
use rcgen::{CertificateParams, DnType, KeyPair, SanType};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};

use crate::load::{self, BoxError, LoadConfig, LoadReport, Op, Target};
use crate::procfs;

/// Which server a session ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Which {
    /// This repository's `kes`.
    Ours,
    /// MinIO KES v0.24.0.
    Upstream,
}

/// What the driver runs.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Our `kes` binary.
    pub ours: PathBuf,
    /// The upstream `kes` binary.
    pub upstream: PathBuf,
    /// Sessions per server; they alternate ours, upstream, ours, …
    pub pairs: usize,
    /// The loads each session runs.
    pub loads: Vec<(Op, usize)>,
    /// Warm-up per load.
    pub warmup: Duration,
    /// Measured phase per load.
    pub duration: Duration,
}

/// One load's figures within a session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadFigures {
    /// The operation's name.
    pub op: String,
    /// Concurrent connections.
    pub connections: usize,
    /// Successful operations per second.
    pub ops_per_sec: f64,
    /// Latency percentiles, microseconds.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Failed operations.
    pub errors: u64,
    /// The first error.
    pub first_error: Option<String>,
    /// Server CPU seconds per 1,000 successful operations.
    pub cpu_s_per_1000: f64,
    /// The largest RSS sampled during the load, bytes.
    pub peak_rss: u64,
    /// The load tool's own CPU seconds per 1,000 operations (it shares the cores).
    #[serde(default)]
    pub client_cpu_s_per_1000: f64,
}

/// One server process's life: start-up, idle, then every load.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// The server.
    pub which: Which,
    /// The pair (0-based).
    pub pair: usize,
    /// From spawning the process to the first successful `GET /v1/status`, milliseconds.
    pub startup_ms: f64,
    /// RSS after start-up, one key in the cache, and a second of idling, bytes.
    pub idle_rss: u64,
    /// The loads.
    pub loads: Vec<LoadFigures>,
}

/// The run's description and sessions (`bench/results.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    /// CPU model, core count, kernel.
    pub machine: String,
    /// `kes --version` of ours.
    pub ours_version: String,
    /// `kes --version` of upstream.
    pub upstream_version: String,
    /// Seconds of warm-up and of measurement per load.
    pub warmup_s: f64,
    /// Measured seconds per load.
    pub duration_s: f64,
    /// When the run started (RFC 3339).
    pub date: String,
    /// Every session in run order.
    pub sessions: Vec<Session>,
}

/// The server certificate, client identity and the key the loads use; shared by all sessions.
struct Fixture {
    dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
    cert_der: CertificateDer<'static>,
    client: ApiKey,
}

impl Fixture {
    fn new() -> Result<Fixture, BoxError> {
        let dir = tempfile::tempdir()?;
        // ECDSA P-256, as `kes identity new` and most deployments use; the same files for both.
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
        params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        params
            .distinguished_name
            .push(DnType::CommonName, "kes-bench");
        let cert = params.self_signed(&key)?;
        let cert_path = dir.path().join("server.cert");
        let key_path = dir.path().join("server.key");
        std::fs::write(&cert_path, cert.pem())?;
        std::fs::write(&key_path, key.serialize_pem())?;
        Ok(Fixture {
            cert: cert_path,
            key: key_path,
            cert_der: cert.der().clone(),
            client: ApiKey::generate()?,
            dir,
        })
    }

    fn target(&self, addr: SocketAddr) -> Result<Target, BoxError> {
        let cert = self.client.certificate()?;
        let key: PrivateKeyDer<'static> = cert.key_der;
        Target::new(
            addr,
            (cert.cert_der, key),
            Some(self.cert_der.clone()),
            "bench-key",
        )
    }

    /// The shared configuration: fs keystore, default cache, error log only.
    fn config(&self, port: u16, keystore: &Path) -> String {
        format!(
            "address: 127.0.0.1:{port}\nadmin:\n  identity: {}\ntls:\n  key: {}\n  cert: {}\n\
             cache:\n  expiry:\n    any: 5m\n    unused: 30s\n\
             log:\n  error: on\n  audit: off\n\
             keystore:\n  fs:\n    path: {}\n",
            self.client.identity(),
            self.key.display(),
            self.cert.display(),
            keystore.display(),
        )
    }
}

fn free_port() -> Result<u16, BoxError> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// `<bin> --version`, first line.
pub fn version(bin: &Path) -> String {
    std::process::Command::new(bin)
        .arg("--version")
        .output()
        .ok()
        .map(|out| {
            let text = if out.stdout.is_empty() {
                out.stderr
            } else {
                out.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// CPU model, logical CPUs and kernel release.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split(':').nth(1))
        .unwrap_or("unknown CPU")
        .trim()
        .to_owned();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{model}, {cpus} logical CPUs, Linux {}", kernel.trim())
}

/// Fresh starts per session for the start-up figure.
const STARTS: usize = 5;

/// Spawns `bin server --config config` and polls `GET /v1/status` (a new connection each
/// time) until it succeeds; returns the process and the time from spawn to that answer.
async fn start(
    bin: &Path,
    config: &Path,
    log_path: &Path,
    target: &Target,
) -> Result<(tokio::process::Child, Duration), BoxError> {
    let log = std::fs::File::create(log_path)?;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(bin)
        .arg("server")
        .arg("--config")
        .arg(config)
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()?;
    loop {
        if let Ok(mut conn) = target.connect().await
            && let Ok((status, _)) = conn.send(Method::GET, "/v1/status", Bytes::new()).await
            && status.is_success()
        {
            return Ok((child, started.elapsed()));
        }
        if let Some(status) = child.try_wait()? {
            let log = std::fs::read_to_string(log_path).unwrap_or_default();
            return Err(format!("{} exited ({status}):\n{log}", bin.display()).into());
        }
        if started.elapsed() > Duration::from_secs(30) {
            return Err(format!("{} did not answer within 30 s", bin.display()).into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn session(
    fixture: &Fixture,
    plan: &Plan,
    which: Which,
    pair: usize,
) -> Result<Session, BoxError> {
    let bin = match which {
        Which::Ours => &plan.ours,
        Which::Upstream => &plan.upstream,
    };
    let dir = tempfile::tempdir_in(fixture.dir.path())?;
    let keystore = dir.path().join("keys");
    let port = free_port()?;
    let config = dir.path().join("config.yml");
    std::fs::write(&config, fixture.config(port, &keystore))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let target = fixture.target(addr)?;
    // Start-up is short and noisy: the figure is the median of several starts; the last
    // process stays up for the loads.
    let mut startups = Vec::new();
    let mut kept = None;
    for attempt in 0..STARTS {
        let (child, startup) = start(bin, &config, &dir.path().join("server.log"), &target).await?;
        startups.push(startup.as_secs_f64() * 1000.0);
        if attempt + 1 == STARTS {
            kept = Some(child);
        } else {
            let mut child = child;
            child.kill().await?;
        }
    }
    let mut child = kept.ok_or("no server process")?;
    let pid = child.id().ok_or("the server exited")?;
    let startup_ms = crate::report::median(&startups);
    let payloads = load::prepare(&target).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss = procfs::rss(pid).unwrap_or(0);

    let mut loads = Vec::new();
    for &(op, connections) in &plan.loads {
        let cfg = LoadConfig {
            op,
            connections,
            warmup: plan.warmup,
            duration: plan.duration,
            count: None,
        };
        let peak = Arc::new(AtomicU64::new(procfs::rss(pid).unwrap_or(0)));
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let peak = Arc::clone(&peak);
            let stop = Arc::clone(&stop);
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(rss) = procfs::rss(pid) {
                        peak.fetch_max(rss, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
            })
        };
        let mut cpu = [Duration::ZERO; 2];
        let mut client_cpu = [Duration::ZERO; 2];
        let me = std::process::id();
        let report: LoadReport = load::run(&target, &payloads, &cfg, |begin| {
            cpu[usize::from(!begin)] = procfs::cpu_time(pid).unwrap_or_default();
            client_cpu[usize::from(!begin)] = procfs::cpu_time(me).unwrap_or_default();
        })
        .await?;
        stop.store(true, Ordering::Relaxed);
        sampler.await?;
        let cpu_s = cpu[1].saturating_sub(cpu[0]).as_secs_f64();
        let client_cpu_s = client_cpu[1].saturating_sub(client_cpu[0]).as_secs_f64();
        let per_1000 = |s: f64| {
            if report.ops == 0 {
                0.0
            } else {
                s * 1000.0 / report.ops as f64
            }
        };
        let figures = LoadFigures {
            op: op.name().to_owned(),
            connections,
            ops_per_sec: report.ops_per_sec,
            p50_us: report.p50_us,
            p90_us: report.p90_us,
            p99_us: report.p99_us,
            p999_us: report.p999_us,
            errors: report.errors,
            first_error: report.first_error.clone(),
            cpu_s_per_1000: per_1000(cpu_s),
            peak_rss: peak.load(Ordering::Relaxed),
            client_cpu_s_per_1000: per_1000(client_cpu_s),
        };
        eprintln!(
            "  {:<8} pair {} {:<9} c={:<3} {:>8.0} ops/s  p50 {:>6.0} µs  p99 {:>6.0} µs  cpu {:.3} s/1k (load tool {:.3})  rss {:.1} MiB  errors {}",
            format!("{which:?}").to_lowercase(),
            pair + 1,
            figures.op,
            connections,
            figures.ops_per_sec,
            figures.p50_us,
            figures.p99_us,
            figures.cpu_s_per_1000,
            figures.client_cpu_s_per_1000,
            figures.peak_rss as f64 / 1048576.0,
            figures.errors
        );
        loads.push(figures);
    }
    child.kill().await?;
    Ok(Session {
        which,
        pair,
        startup_ms,
        idle_rss,
        loads,
    })
}

/// Runs the plan: `pairs` × (ours, upstream).
pub async fn run(plan: &Plan) -> Result<Results, BoxError> {
    let fixture = Fixture::new()?;
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut sessions = Vec::new();
    for pair in 0..plan.pairs {
        for which in [Which::Ours, Which::Upstream] {
            let session = session(&fixture, plan, which, pair).await?;
            eprintln!(
                "  {:<8} pair {} start-up {:.1} ms, idle RSS {:.1} MiB",
                format!("{which:?}").to_lowercase(),
                pair + 1,
                session.startup_ms,
                session.idle_rss as f64 / 1048576.0
            );
            sessions.push(session);
        }
    }
    Ok(Results {
        machine: machine(),
        ours_version: version(&plan.ours),
        upstream_version: format!(
            "{} (MinIO KES v0.24.0 as scripts/install-peers builds it; the Go build reports no version)",
            version(&plan.upstream)
        ),
        warmup_s: plan.warmup.as_secs_f64(),
        duration_s: plan.duration.as_secs_f64(),
        date,
        sessions,
    })
}
