//! The load generator: N keep-alive HTTP/1.1 connections over mTLS, each sending one request
//! after the other, a warm-up, then a measured phase bounded by a duration or an operation count.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde::Serialize;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A boxed error with a message.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One kind of load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Op {
    /// `POST /v1/key/generate/<key>` with a context.
    Generate,
    /// `POST /v1/key/decrypt/<key>` of a ciphertext generated during setup.
    Decrypt,
    /// `POST /v1/key/encrypt/<key>` of 32 bytes.
    Encrypt,
    /// `GET /v1/key/describe/<key>`.
    Describe,
    /// `POST /v1/key/create/<unique>` then `DELETE /v1/key/delete/<unique>` (one operation).
    CreateDelete,
    /// 4 generate : 4 decrypt : 1 encrypt : 1 describe.
    Mix,
}

impl Op {
    /// Every operation, in the order `--help` lists them.
    pub const ALL: [Op; 6] = [
        Op::Generate,
        Op::Decrypt,
        Op::Encrypt,
        Op::Describe,
        Op::CreateDelete,
        Op::Mix,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Op::Generate => "generate",
            Op::Decrypt => "decrypt",
            Op::Encrypt => "encrypt",
            Op::Describe => "describe",
            Op::CreateDelete => "create-delete",
            Op::Mix => "mix",
        }
    }
}

impl FromStr for Op {
    type Err = String;
    fn from_str(s: &str) -> Result<Op, String> {
        Op::ALL
            .into_iter()
            .find(|op| op.name() == s)
            .ok_or_else(|| format!("unknown operation '{s}'"))
    }
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Target {
    /// The server's address.
    pub addr: SocketAddr,
    /// The client TLS configuration (client certificate, trusted server certificate).
    pub tls: Arc<rustls::ClientConfig>,
    /// The key the operations use.
    pub key: String,
}

impl Target {
    /// A target at `addr` authenticating with `identity` and trusting `server_cert`
    /// (or any certificate when `None`, as `kes --insecure`).
    pub fn new(
        addr: SocketAddr,
        identity: (CertificateDer<'static>, PrivateKeyDer<'static>),
        server_cert: Option<CertificateDer<'static>>,
        key: &str,
    ) -> Result<Target, BoxError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&[&rustls::version::TLS13])?;
        let builder = match server_cert {
            Some(cert) => {
                let mut roots = rustls::RootCertStore::empty();
                roots.add(cert)?;
                builder.with_root_certificates(roots)
            }
            None => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAny(provider))),
        };
        let tls = builder.with_client_auth_cert(vec![identity.0], identity.1)?;
        Ok(Target {
            addr,
            tls: Arc::new(tls),
            key: key.to_owned(),
        })
    }

    /// A new keep-alive connection.
    pub async fn connect(&self) -> Result<Conn, BoxError> {
        let tcp = TcpStream::connect(self.addr).await?;
        tcp.set_nodelay(true)?;
        let name = ServerName::IpAddress(self.addr.ip().into());
        let tls = TlsConnector::from(Arc::clone(&self.tls))
            .connect(name, tcp)
            .await?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(conn);
        Ok(Conn {
            sender,
            host: self.addr.to_string(),
        })
    }
}

/// One keep-alive connection.
#[derive(Debug)]
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Conn {
    /// Sends one request and reads the whole response.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), BoxError> {
        self.sender.ready().await?;
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, &self.host)
            .header(http::header::CONTENT_LENGTH, body.len())
            .body(Full::new(body))?;
        let resp = self.sender.send_request(req).await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

/// Accepts any server certificate (`--insecure`).
#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The request bodies, prepared once.
#[derive(Debug, Clone)]
pub struct Payloads {
    generate: Bytes,
    decrypt: Bytes,
    encrypt: Bytes,
}

/// The context MinIO-like callers bind a data key to.
const CONTEXT: &[u8] = b"{\"bucket\":\"photos\",\"object\":\"2026/11/cat.jpg\"}";

/// Creates `target.key` if it does not exist, generates one data key, and returns the request
/// bodies every operation sends (the decrypt body holds that data key's ciphertext).
pub async fn prepare(target: &Target) -> Result<Payloads, BoxError> {
    let mut conn = target.connect().await?;
    let key = &target.key;
    let (status, body) = conn
        .send(Method::POST, &format!("/v1/key/create/{key}"), Bytes::new())
        .await?;
    // 400/409 with "already exists" are both fine.
    if !status.is_success() && !String::from_utf8_lossy(&body).contains("already exists") {
        return Err(format!(
            "creating key '{key}': {status} {}",
            String::from_utf8_lossy(&body)
        )
        .into());
    }
    let context = STANDARD.encode(CONTEXT);
    let generate = Bytes::from(format!("{{\"context\":\"{context}\"}}"));
    let (status, body) = conn
        .send(
            Method::POST,
            &format!("/v1/key/generate/{key}"),
            generate.clone(),
        )
        .await?;
    if !status.is_success() {
        return Err(format!("generate: {status} {}", String::from_utf8_lossy(&body)).into());
    }
    let reply: serde_json::Value = serde_json::from_slice(&body)?;
    let ciphertext = reply["ciphertext"]
        .as_str()
        .ok_or("generate: the reply has no ciphertext")?;
    let decrypt = Bytes::from(format!(
        "{{\"ciphertext\":\"{ciphertext}\",\"context\":\"{context}\"}}"
    ));
    let encrypt = Bytes::from(format!(
        "{{\"plaintext\":\"{}\",\"context\":\"{context}\"}}",
        STANDARD.encode([7u8; 32])
    ));
    Ok(Payloads {
        generate,
        decrypt,
        encrypt,
    })
}

/// How long and how hard.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// The operation.
    pub op: Op,
    /// Concurrent connections, each with one request in flight.
    pub connections: usize,
    /// Warm-up before measuring (requests in it are not counted).
    pub warmup: Duration,
    /// The measured phase's length (ignored when `count` is set, except as an upper bound).
    pub duration: Duration,
    /// Stop measuring after this many operations (all connections together).
    pub count: Option<u64>,
}

/// What one measured phase produced.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    /// The operation.
    pub op: Op,
    /// Concurrent connections.
    pub connections: usize,
    /// Successful operations in the measured phase.
    pub ops: u64,
    /// Failed operations (non-2xx or transport errors) in the measured phase.
    pub errors: u64,
    /// The first error seen, if any.
    pub first_error: Option<String>,
    /// The measured phase's length in seconds.
    pub seconds: f64,
    /// Successful operations per second.
    pub ops_per_sec: f64,
    /// Latency percentiles in microseconds.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Mean latency.
    pub mean_us: f64,
}

const WARMUP: u8 = 0;
const MEASURE: u8 = 1;
const STOP: u8 = 2;

#[derive(Debug, Default)]
struct WorkerResult {
    latencies_ns: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

/// Runs one load against `target`: connects all connections first, then warms up, then
/// measures. `hook(true)` runs as the measured phase begins, `hook(false)` as it ends (the
/// driver samples server CPU time there).
pub async fn run(
    target: &Target,
    payloads: &Payloads,
    cfg: &LoadConfig,
    mut hook: impl FnMut(bool),
) -> Result<LoadReport, BoxError> {
    let mut conns = Vec::with_capacity(cfg.connections);
    for _ in 0..cfg.connections {
        conns.push(target.connect().await?);
    }
    let phase = Arc::new(AtomicU8::new(WARMUP));
    let done = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(tokio::sync::Notify::new());
    let mut workers = Vec::with_capacity(cfg.connections);
    for (index, conn) in conns.into_iter().enumerate() {
        let worker = Worker {
            conn,
            target: target.clone(),
            payloads: payloads.clone(),
            op: cfg.op,
            index,
            phase: Arc::clone(&phase),
            done: Arc::clone(&done),
            count: cfg.count,
            finished: Arc::clone(&finished),
        };
        workers.push(tokio::spawn(worker.run()));
    }
    tokio::time::sleep(cfg.warmup).await;
    hook(true);
    let start = Instant::now();
    phase.store(MEASURE, Ordering::SeqCst);
    let limit = if cfg.count.is_some() {
        cfg.duration.max(Duration::from_secs(3600))
    } else {
        cfg.duration
    };
    tokio::select! {
        () = tokio::time::sleep(limit) => {}
        () = finished.notified(), if cfg.count.is_some() => {}
    }
    phase.store(STOP, Ordering::SeqCst);
    let seconds = start.elapsed().as_secs_f64();
    hook(false);
    let mut all = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for worker in workers {
        let result = worker.await?;
        all.extend(result.latencies_ns);
        errors += result.errors;
        if first_error.is_none() {
            first_error = result.first_error;
        }
    }
    all.sort_unstable();
    let ops = all.len() as u64;
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return 0.0;
        }
        // Nearest rank.
        let rank = ((p / 100.0) * all.len() as f64).ceil() as usize;
        all[rank.clamp(1, all.len()) - 1] as f64 / 1000.0
    };
    let mean_us = if all.is_empty() {
        0.0
    } else {
        all.iter().map(|&ns| ns as f64).sum::<f64>() / all.len() as f64 / 1000.0
    };
    Ok(LoadReport {
        op: cfg.op,
        connections: cfg.connections,
        ops,
        errors,
        first_error,
        seconds,
        ops_per_sec: ops as f64 / seconds,
        p50_us: pct(50.0),
        p90_us: pct(90.0),
        p99_us: pct(99.0),
        p999_us: pct(99.9),
        mean_us,
    })
}

struct Worker {
    conn: Conn,
    target: Target,
    payloads: Payloads,
    op: Op,
    index: usize,
    phase: Arc<AtomicU8>,
    done: Arc<AtomicU64>,
    count: Option<u64>,
    finished: Arc<tokio::sync::Notify>,
}

/// The mix: 4 generate, 4 decrypt, 1 encrypt, 1 describe in every 10 operations.
const MIX: [Op; 10] = [
    Op::Generate,
    Op::Decrypt,
    Op::Generate,
    Op::Decrypt,
    Op::Encrypt,
    Op::Generate,
    Op::Decrypt,
    Op::Generate,
    Op::Decrypt,
    Op::Describe,
];

impl Worker {
    async fn run(mut self) -> WorkerResult {
        let mut result = WorkerResult::default();
        let mut n: u64 = 0;
        loop {
            let before = self.phase.load(Ordering::Relaxed);
            if before == STOP {
                break;
            }
            let op = match self.op {
                Op::Mix => MIX[(self.index + n as usize) % MIX.len()],
                op => op,
            };
            n += 1;
            let start = Instant::now();
            let outcome = self.one(op, n).await;
            let elapsed = start.elapsed();
            let after = self.phase.load(Ordering::Relaxed);
            let counted = before == MEASURE && after == MEASURE;
            match outcome {
                Ok(()) if counted => {
                    result.latencies_ns.push(elapsed.as_nanos() as u64);
                    if let Some(count) = self.count
                        && self.done.fetch_add(1, Ordering::Relaxed) + 1 >= count
                    {
                        self.phase.store(STOP, Ordering::SeqCst);
                        self.finished.notify_one();
                    }
                }
                Ok(()) => {}
                Err(err) => {
                    if counted {
                        result.errors += 1;
                        if result.first_error.is_none() {
                            result.first_error = Some(err.to_string());
                        }
                    }
                    // The connection may be broken: open a new one (bounded retry pace).
                    if self.conn.sender.is_closed() {
                        match self.target.connect().await {
                            Ok(conn) => self.conn = conn,
                            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                        }
                    }
                }
            }
        }
        result
    }

    async fn one(&mut self, op: Op, n: u64) -> Result<(), BoxError> {
        let key = &self.target.key;
        let (status, body) = match op {
            Op::Generate => {
                let path = format!("/v1/key/generate/{key}");
                let body = self.payloads.generate.clone();
                self.conn.send(Method::POST, &path, body).await?
            }
            Op::Decrypt => {
                let path = format!("/v1/key/decrypt/{key}");
                let body = self.payloads.decrypt.clone();
                self.conn.send(Method::POST, &path, body).await?
            }
            Op::Encrypt => {
                let path = format!("/v1/key/encrypt/{key}");
                let body = self.payloads.encrypt.clone();
                self.conn.send(Method::POST, &path, body).await?
            }
            Op::Describe => {
                let path = format!("/v1/key/describe/{key}");
                self.conn.send(Method::GET, &path, Bytes::new()).await?
            }
            Op::CreateDelete => {
                let name = format!("{key}-tmp-{}-{n}", self.index);
                let (status, body) = self
                    .conn
                    .send(
                        Method::POST,
                        &format!("/v1/key/create/{name}"),
                        Bytes::new(),
                    )
                    .await?;
                if !status.is_success() {
                    return Err(failure("create", status, &body));
                }
                self.conn
                    .send(
                        Method::DELETE,
                        &format!("/v1/key/delete/{name}"),
                        Bytes::new(),
                    )
                    .await?
            }
            Op::Mix => return Err("mix is not a single operation".into()),
        };
        if status.is_success() {
            Ok(())
        } else {
            Err(failure(op.name(), status, &body))
        }
    }
}

fn failure(op: &str, status: StatusCode, body: &[u8]) -> BoxError {
    format!("{op}: {status} {}", String::from_utf8_lossy(body).trim()).into()
}

/// The reports as a fixed-width table.
pub fn table(reports: &[LoadReport]) -> String {
    let mut out = format!(
        "{:<14} {:>5} {:>10} {:>9} {:>9} {:>9} {:>9} {:>8}\n",
        "op", "conns", "ops/s", "p50 µs", "p90 µs", "p99 µs", "p99.9 µs", "errors"
    );
    for r in reports {
        out.push_str(&format!(
            "{:<14} {:>5} {:>10.0} {:>9.0} {:>9.0} {:>9.0} {:>9.0} {:>8}\n",
            r.op.name(),
            r.connections,
            r.ops_per_sec,
            r.p50_us,
            r.p90_us,
            r.p99_us,
            r.p999_us,
            r.errors
        ));
    }
    out
}
