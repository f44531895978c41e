//! Hostile input against a running server: a table of distinct cases — malformed and deeply
//! nested JSON, wrong types, duplicate fields, bad base64, bodies over the limit (with and
//! without `Content-Length`, chunked), over-long URLs and headers, illegal and encoded key names,
//! slow and idle clients, TLS without a client certificate, TLS 1.0/1.1, certificates whose
//! signatures do not verify, unknown and forged identities, tampered and replayed ciphertexts.
//! Each case states its exact outcome (status and message, or how the connection ends). After
//! all of them the server is healthy and every stored key file is byte-identical.
//!
//! Every request is written byte by byte over a raw TLS (or TCP) stream, so nothing between the
//! test and the server normalises it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use kes_client::ApiKey;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::sign::CertifiedKey;
use tests::{CertFiles, TestServer, json, tls_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const NOT_AUTHENTIC: &str = "decryption failed: ciphertext is not authentic";
const BAD_BODY: &str = "invalid request body";
const DENIED: &str = "not authorized: insufficient permissions";
/// The routes' body limit (1 MB) and bulk decrypt's (1 MiB).
const MB: usize = 1_000_000;
const MIB: usize = 1 << 20;

/// Who opens the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Admin,
    /// A valid API key that is neither admin nor in a policy.
    Stranger,
    /// No client certificate at all.
    NoCert,
    /// The admin's certificate, with the handshake signed by another key.
    ForgedAdmin,
    /// A certificate whose subject CN claims to be the admin, on its own key.
    AdminLookalike,
    /// The admin's certificate plus a second leaf certificate.
    TwoCerts,
    /// A stranger's certificate whose own signature is corrupted (default mode: chains are not
    /// verified, so only the handshake signature counts).
    BrokenSelfSignature,
    /// The admin, offering only an ALPN protocol the server does not speak.
    AlpnSpdy,
    /// The admin over TLS 1.2 only.
    AdminTls12,
}

/// What a case does.
enum Act {
    /// Writes these bytes (an HTTP/1.1 request) over TLS as `Who`, then reads the answer.
    Http(Who, Vec<u8>),
    /// Like `Http` on the `auth: on` server.
    HttpVerified(VerifiedWho, Vec<u8>),
    /// Like `Http` without a client certificate, on a server where `skip_auth` on
    /// `/v1/status` makes certificates optional.
    HttpOptionalNoCert(Vec<u8>),
    /// Sends a hand-made ClientHello offering only this legacy protocol version, with or
    /// without the `signature_algorithms` extension (OpenSSL's `-tls1` client sends none).
    LegacyHello(u16, bool),
    /// Writes these bytes over plain TCP, no TLS.
    PlainTcp(Vec<u8>),
    /// Writes the request head one header every 250 ms and never finishes it.
    Slowloris,
    /// Finishes the TLS handshake, then sends nothing.
    IdleAfterHandshake,
    /// Connects TCP and sends nothing.
    IdleTcp,
    /// One request that succeeds, then the keep-alive connection stays idle.
    IdleKeepAlive,
    /// One request, quiet for longer than the header timeout (but not the idle timeout),
    /// then a second request on the same connection.
    KeepAliveReuse,
    /// Sends the head and half of the body, then stalls.
    StalledBody,
    /// Opens an HTTP/2 connection (preface and SETTINGS), then sends nothing more.
    IdleH2,
    /// Opens the error-log stream and waits past the idle timeout for events.
    QuietLogStream,
}

/// Who connects to the `auth: on` server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VerifiedWho {
    /// A certificate issued by the configured CA.
    Issued,
    /// The issued certificate with one byte of its signature flipped.
    TamperedSignature,
    /// A self-signed certificate (an API key).
    SelfSigned,
}

/// How the server answered.
#[derive(Debug)]
enum Outcome {
    Reply {
        status: u16,
        content_type: String,
        location: String,
        body: Vec<u8>,
    },
    /// The TLS handshake failed (for the client, or by an alert before any HTTP byte).
    Refused(#[allow(dead_code)] String),
    /// Raw bytes on a plain TCP connection, then EOF or an error.
    Raw(Vec<u8>),
    /// The server closed the connection without an HTTP answer, after this long.
    Closed(Duration),
    /// The connection was still open when the case stopped waiting.
    StillOpen,
}

/// What a case expects.
#[derive(Debug)]
enum Expect {
    /// A KES error: status, `application/json`, exact message.
    Error(u16, String),
    /// A 200 with a JSON body that has this field.
    OkWith(&'static str),
    /// A status with this exact content type and body.
    Text(u16, &'static str, &'static str),
    /// A status with an empty body (produced by the HTTP layer).
    Bare(u16),
    /// A 301 to this location.
    Redirect(&'static str),
    /// The TLS handshake fails.
    Refused,
    /// A TLS alert record with this description, and no HTTP.
    Alert(u8),
    /// The connection is closed without any HTTP answer within this time.
    ClosedWithin(Duration),
    /// The connection stays open.
    StaysOpen,
}

struct Case {
    name: String,
    act: Act,
    expect: Expect,
}

fn case(name: impl Into<String>, act: Act, expect: Expect) -> Case {
    Case {
        name: name.into(),
        act,
        expect,
    }
}

fn err(status: u16, message: impl Into<String>) -> Expect {
    Expect::Error(status, message.into())
}

fn name_err(shown: &str) -> Expect {
    err(
        400,
        format!("key name '{shown}' is empty, too long or contains invalid characters"),
    )
}

/// An HTTP/1.1 request with `Content-Length` (when there is a body) and `Connection: close`.
fn req(method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    req_with(method, path, "", body)
}

/// Like [`req`] with extra header lines (each ending in `\r\n`).
fn req_with(method: &str, path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let length = if body.is_empty() && method == "GET" {
        String::new()
    } else {
        format!("Content-Length: {}\r\n", body.len())
    };
    let mut out = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{headers}{length}Connection: close\r\n\r\n"
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// A chunked request whose body is `chunks`.
fn req_chunked(method: &str, path: &str, chunks: &[&[u8]]) -> Vec<u8> {
    let mut out = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in chunks {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

fn admin(method: &str, path: &str, body: &[u8]) -> Act {
    Act::Http(Who::Admin, req(method, path, body))
}

fn post(path: &str, body: &str) -> Act {
    admin("POST", path, body.as_bytes())
}

fn get(path: &str) -> Act {
    admin("GET", path, b"")
}

/// A client-certificate resolver that presents `chain` but signs with an unrelated key.
#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl ResolvesClientCert for Fixed {
    fn resolve(&self, _: &[&[u8]], _: &[rustls::SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
    fn has_certs(&self) -> bool {
        true
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn roots(server_cert: &CertificateDer<'static>) -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(server_cert.clone()).unwrap();
    roots
}

/// A TLS config presenting `chain` with the handshake signed by `key` (matching or not).
fn tls_presenting(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    server_cert: &CertificateDer<'static>,
) -> rustls::ClientConfig {
    let signer = provider().key_provider.load_private_key(key).unwrap();
    rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots(server_cert))
        .with_client_cert_resolver(Arc::new(Fixed(Arc::new(CertifiedKey::new(chain, signer)))))
}

/// The certificate `der` with one byte of its trailing signature flipped.
fn corrupt_signature(der: &CertificateDer<'static>) -> CertificateDer<'static> {
    let mut bytes = der.to_vec();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x55;
    CertificateDer::from(bytes)
}

/// The servers and client configurations the cases use.
struct Ctx {
    addr: SocketAddr,
    verified_addr: SocketAddr,
    optional_addr: SocketAddr,
    optional_no_cert: Arc<rustls::ClientConfig>,
    tls: BTreeMap<&'static str, Arc<rustls::ClientConfig>>,
    verified: BTreeMap<&'static str, Arc<rustls::ClientConfig>>,
}

impl Ctx {
    fn config(&self, who: Who) -> Arc<rustls::ClientConfig> {
        Arc::clone(&self.tls[who_key(who)])
    }
}

fn who_key(who: Who) -> &'static str {
    match who {
        Who::Admin => "Admin",
        Who::Stranger => "Stranger",
        Who::NoCert => "NoCert",
        Who::ForgedAdmin => "ForgedAdmin",
        Who::AdminLookalike => "AdminLookalike",
        Who::TwoCerts => "TwoCerts",
        Who::BrokenSelfSignature => "BrokenSelfSignature",
        Who::AlpnSpdy => "AlpnSpdy",
        Who::AdminTls12 => "AdminTls12",
    }
}

/// Connects over TLS; the error text if the handshake fails (from the client's side).
async fn connect(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let connector = tokio_rustls::TlsConnector::from(tls);
    tokio::time::timeout(
        Duration::from_secs(15),
        connector.connect(ServerName::try_from("localhost").unwrap(), tcp),
    )
    .await
    .map_err(|_| "handshake timed out".to_owned())?
    .map_err(|err| err.to_string())
}

/// Reads until EOF (or an error, or 20 s); returns the bytes and the error text, if any.
async fn read_all<R: tokio::io::AsyncRead + Unpin>(r: &mut R) -> (Vec<u8>, Option<String>) {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, r.read(&mut chunk)).await {
            Err(_) => return (buf, Some("read timed out".into())),
            Ok(Ok(0)) => return (buf, None),
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => return (buf, Some(e.to_string())),
        }
    }
}

/// Sends `request` over a fresh TLS connection and parses the answer. The request is written
/// by its own task so that a server that answers before reading everything is seen.
async fn exchange(addr: SocketAddr, tls: Arc<rustls::ClientConfig>, request: Vec<u8>) -> Outcome {
    let stream = match connect(addr, tls).await {
        Ok(stream) => stream,
        Err(e) => return Outcome::Refused(e),
    };
    let (mut rd, mut wr) = tokio::io::split(stream);
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(&request).await;
        let _ = wr.flush().await;
        wr
    });
    let started = Instant::now();
    let (bytes, error) = read_all(&mut rd).await;
    writer.abort();
    if bytes.is_empty() {
        return match error {
            Some(e) if e.contains("alert") || e.contains("certificate") => Outcome::Refused(e),
            _ => Outcome::Closed(started.elapsed()),
        };
    }
    parse_response(&bytes)
}

/// Parses one HTTP/1.1 response (Content-Length, chunked or read-to-EOF body).
fn parse_response(bytes: &[u8]) -> Outcome {
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Outcome::Raw(bytes.to_vec());
    };
    let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let Some(status) = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
    else {
        return Outcome::Raw(bytes.to_vec());
    };
    let mut headers = BTreeMap::new();
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let rest = &bytes[end + 4..];
    let body = if let Some(len) = headers.get("content-length") {
        let len: usize = len.parse().unwrap();
        rest[..len.min(rest.len())].to_vec()
    } else if headers.get("transfer-encoding").map(String::as_str) == Some("chunked") {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Outcome::Reply {
        status,
        content_type: headers.get("content-type").cloned().unwrap_or_default(),
        location: headers.get("location").cloned().unwrap_or_default(),
        body,
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16)
            .unwrap_or_default();
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&rest[start..(start + size).min(rest.len())]);
        rest = rest.get(start + size + 2..).unwrap_or_default();
    }
    out
}

/// A TLS 1.0/1.1-only ClientHello (no `supported_versions` extension) as such clients send it.
fn legacy_client_hello(version: u16, signature_algorithms: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&version.to_be_bytes());
    body.extend_from_slice(&[0x42; 32]); // random
    body.push(0); // session id
    // ECDHE-ECDSA/RSA-AES128-SHA, ECDHE-RSA-AES256-SHA, AES128-SHA, AES256-SHA, 3DES
    let suites: [u16; 6] = [0xc009, 0xc013, 0xc014, 0x002f, 0x0035, 0x000a];
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null
    let mut ext = Vec::new();
    // server_name "localhost"
    let host = b"localhost";
    ext.extend_from_slice(&[0x00, 0x00]);
    ext.extend_from_slice(&((host.len() + 5) as u16).to_be_bytes());
    ext.extend_from_slice(&((host.len() + 3) as u16).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(host.len() as u16).to_be_bytes());
    ext.extend_from_slice(host);
    // signature_algorithms (so that the version is the only thing wrong): ECDSA-SHA256,
    // RSA-PKCS1-SHA256, RSA-PKCS1-SHA1
    if signature_algorithms {
        ext.extend_from_slice(&[
            0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x04, 0x01, 0x02, 0x01,
        ]);
    }
    // supported_groups: x25519, secp256r1; ec_point_formats: uncompressed
    ext.extend_from_slice(&[0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17]);
    ext.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);

    let mut handshake = vec![0x01];
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

async fn raw_tcp(addr: SocketAddr, bytes: &[u8]) -> Outcome {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let _ = tcp.write_all(bytes).await;
    let (bytes, _) = read_all(&mut tcp).await;
    Outcome::Raw(bytes)
}

/// Waits until the server closes `stream`; how long that took (or `None` after 30 s).
async fn time_until_closed<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
    started: Instant,
) -> Outcome {
    let (bytes, _) = read_all(stream).await;
    if bytes.is_empty() {
        Outcome::Closed(started.elapsed())
    } else {
        parse_response(&bytes)
    }
}

/// Sends `GET /version` on a keep-alive connection and reads exactly its answer (the body is
/// one JSON line with a Content-Length), leaving the connection open.
async fn keep_alive_version<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
) -> Outcome {
    if stream
        .write_all(b"GET /version HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .is_err()
    {
        return Outcome::Closed(Duration::ZERO);
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk).await {
            Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return Outcome::Closed(Duration::ZERO),
        }
        let reply = parse_response(&buf);
        if let Outcome::Reply { body, .. } = &reply
            && body.ends_with(b"\n")
        {
            return reply;
        }
    }
}

async fn run(ctx: &Ctx, act: Act) -> Outcome {
    match act {
        Act::Http(who, bytes) => exchange(ctx.addr, ctx.config(who), bytes).await,
        Act::HttpVerified(who, bytes) => {
            let key = format!("{who:?}");
            exchange(
                ctx.verified_addr,
                Arc::clone(&ctx.verified[key.as_str()]),
                bytes,
            )
            .await
        }
        Act::HttpOptionalNoCert(bytes) => {
            exchange(ctx.optional_addr, Arc::clone(&ctx.optional_no_cert), bytes).await
        }
        Act::LegacyHello(version, sigalgs) => {
            raw_tcp(ctx.addr, &legacy_client_hello(version, sigalgs)).await
        }
        Act::PlainTcp(bytes) => raw_tcp(ctx.addr, &bytes).await,
        Act::IdleTcp => {
            let started = Instant::now();
            let mut tcp = TcpStream::connect(ctx.addr).await.unwrap();
            time_until_closed(&mut tcp, started).await
        }
        Act::IdleAfterHandshake => {
            let mut stream = connect(ctx.addr, ctx.config(Who::Admin)).await.unwrap();
            time_until_closed(&mut stream, Instant::now()).await
        }
        Act::Slowloris => {
            let stream = connect(ctx.addr, ctx.config(Who::Admin)).await.unwrap();
            let (mut rd, mut wr) = tokio::io::split(stream);
            let started = Instant::now();
            let trickle = tokio::spawn(async move {
                let _ = wr.write_all(b"GET /v1/status HTTP/1.1\r\n").await;
                for i in 0..120 {
                    let line = format!("X-Slow-{i}: x\r\n");
                    if wr.write_all(line.as_bytes()).await.is_err() || wr.flush().await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            });
            let outcome = time_until_closed(&mut rd, started).await;
            trickle.abort();
            outcome
        }
        Act::IdleKeepAlive => {
            let mut stream = connect(ctx.addr, ctx.config(Who::Admin)).await.unwrap();
            let _ = keep_alive_version(&mut stream).await;
            time_until_closed(&mut stream, Instant::now()).await
        }
        Act::KeepAliveReuse => {
            let mut stream = connect(ctx.addr, ctx.config(Who::Admin)).await.unwrap();
            let _ = keep_alive_version(&mut stream).await;
            tokio::time::sleep(HOSTILE_LIMITS.header_read_timeout + Duration::from_secs(1)).await;
            keep_alive_version(&mut stream).await
        }
        Act::IdleH2 => {
            let mut h2 = (*ctx.config(Who::Admin)).clone();
            h2.alpn_protocols = vec![b"h2".to_vec()];
            let mut stream = connect(ctx.addr, Arc::new(h2)).await.unwrap();
            stream
                .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
                .await
                .unwrap();
            let started = Instant::now();
            // The server's SETTINGS (and ACK) arrive first; then wait for the close.
            let (_, _) = read_all(&mut stream).await;
            Outcome::Closed(started.elapsed())
        }
        Act::QuietLogStream => {
            let mut stream = connect(ctx.addr, ctx.config(Who::Admin)).await.unwrap();
            stream
                .write_all(b"GET /v1/log/error HTTP/1.1\r\nHost: localhost\r\n\r\n")
                .await
                .unwrap();
            // The response head arrives at once; then nothing until an event.
            let mut head = [0u8; 4096];
            let n = stream.read(&mut head).await.unwrap();
            assert!(head[..n].starts_with(b"HTTP/1.1 200"), "log stream refused");
            // Events from other cases may arrive; the stream must stay open for 7 s in all,
            // most of it quiet, longer than the 4 s idle timeout.
            let mut more = [0u8; 4096];
            let deadline = Instant::now() + Duration::from_secs(7);
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left, stream.read(&mut more)).await {
                    Err(_) => return Outcome::StillOpen,
                    Ok(Ok(0)) | Ok(Err(_)) => {
                        return Outcome::Closed(Duration::from_secs(7) - left);
                    }
                    Ok(Ok(_)) => {}
                }
            }
        }
        Act::StalledBody => {
            let mut stream = connect(ctx.addr, ctx.config(Who::Admin)).await.unwrap();
            let body = br#"{"plaintext":"aGVsbG8="}"#;
            let head = format!(
                "POST /v1/key/encrypt/kept HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            stream.write_all(&body[..10]).await.unwrap();
            stream.flush().await.unwrap();
            time_until_closed(&mut stream, Instant::now()).await
        }
    }
}

fn check(expect: &Expect, outcome: &Outcome) -> Result<(), String> {
    let fail = || Err(format!("expected {expect:?}, got {outcome:?}"));
    let reply = match outcome {
        Outcome::Reply {
            status,
            content_type,
            location,
            body,
        } => Some((*status, content_type.as_str(), location.as_str(), body)),
        _ => None,
    };
    match (expect, reply) {
        (Expect::Error(want, message), Some((status, ct, _, body))) => {
            let json: serde_json::Value = serde_json::from_slice(body)
                .map_err(|e| format!("{e}: {}", String::from_utf8_lossy(body)))?;
            if status == *want && ct == "application/json" && json["message"] == **message {
                return Ok(());
            }
            Err(format!(
                "expected {want} {message:?}, got {status} {ct} {}",
                String::from_utf8_lossy(body)
            ))
        }
        (Expect::OkWith(field), Some((200, _, _, body))) => {
            let json: serde_json::Value =
                serde_json::from_slice(body).map_err(|e| e.to_string())?;
            if json.get(field).is_some() {
                Ok(())
            } else {
                fail()
            }
        }
        (Expect::Text(want, want_ct, want_body), Some((status, ct, _, body)))
            if status == *want && ct == *want_ct && body == want_body.as_bytes() =>
        {
            Ok(())
        }
        (Expect::Bare(want), Some((status, _, _, body))) if status == *want && body.is_empty() => {
            Ok(())
        }
        (Expect::Redirect(want), Some((301, _, location, _))) if location == *want => Ok(()),
        (Expect::Refused, _) if matches!(outcome, Outcome::Refused(_)) => Ok(()),
        (Expect::Alert(desc), _) => match outcome {
            // An alert record: type 21, version, length 2, level 2 (fatal), description.
            Outcome::Raw(bytes)
                if bytes.len() >= 7 && bytes[0] == 0x15 && bytes[5] == 2 && bytes[6] == *desc =>
            {
                Ok(())
            }
            _ => fail(),
        },
        (Expect::StaysOpen, _) if matches!(outcome, Outcome::StillOpen) => Ok(()),
        (Expect::ClosedWithin(limit), _) => match outcome {
            Outcome::Closed(after) if after <= limit => Ok(()),
            _ => fail(),
        },
        _ => fail(),
    }
}

fn nested(depth: usize, open: &str, close: &str) -> String {
    format!("{}{}", open.repeat(depth), close.repeat(depth))
}

/// The case table. `ct` is a ciphertext of "secret" under key `kept` with context "c";
/// `replayed` is a ciphertext made under an earlier key that was also named `recreated`.
fn cases(ct: &str, replayed: &str) -> Vec<Case> {
    let raw = B64.decode(ct).unwrap();
    let tampered = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut bytes = raw.clone();
        f(&mut bytes);
        json!({"ciphertext": B64.encode(&bytes), "context": "Yw=="}).to_string()
    };
    let decrypt = |body: String| post("/v1/key/decrypt/kept", &body);
    let enc = |body: &str| post("/v1/key/encrypt/kept", body);
    let long_name = "x".repeat(8_000);
    let mut c = vec![
        // --- malformed JSON and wrong types (encrypt unless named) ---
        case("truncated JSON", enc(r#"{"plaintext":"aGk="#), err(400, BAD_BODY)),
        case("not JSON", enc("nonsense"), err(400, BAD_BODY)),
        case("empty body", enc(""), err(400, BAD_BODY)),
        case("array instead of object", enc("[1,2]"), err(400, BAD_BODY)),
        case("JSON null", enc("null"), err(400, BAD_BODY)),
        case(
            "100000 nested arrays",
            enc(&nested(100_000, "[", "]")),
            err(400, BAD_BODY),
        ),
        case(
            "50000 nested objects as a field value",
            enc(&format!(
                r#"{{"plaintext":{}}}"#,
                nested(50_000, r#"{"a":"#, "}")
            )),
            err(400, BAD_BODY),
        ),
        case("number for bytes", enc(r#"{"plaintext":5}"#), err(400, BAD_BODY)),
        case(
            "bool for context",
            enc(r#"{"plaintext":"aGk=","context":true}"#),
            err(400, BAD_BODY),
        ),
        case(
            "object for ciphertext",
            decrypt(r#"{"ciphertext":{"a":1}}"#.into()),
            err(400, BAD_BODY),
        ),
        case(
            "array of bytes for plaintext",
            enc(r#"{"plaintext":[104,105]}"#),
            err(400, BAD_BODY),
        ),
        case(
            "duplicate field",
            enc(r#"{"plaintext":"aGk=","plaintext":"aGk="}"#),
            err(400, BAD_BODY),
        ),
        case("invalid base64", enc(r#"{"plaintext":"%%%"}"#), err(400, BAD_BODY)),
        case("unpadded base64", enc(r#"{"plaintext":"aGk"}"#), err(400, BAD_BODY)),
        case(
            "URL-safe base64 alphabet",
            enc(r#"{"plaintext":"a-k_"}"#),
            err(400, BAD_BODY),
        ),
        case(
            "space inside base64",
            enc(r#"{"plaintext":"aG k="}"#),
            err(400, BAD_BODY),
        ),
        case(
            "invalid UTF-8 in a JSON string",
            admin("POST", "/v1/key/encrypt/kept", b"{\"plaintext\":\"\xff\xfe\"}"),
            err(400, BAD_BODY),
        ),
        case(
            "byte-order mark before the JSON",
            admin(
                "POST",
                "/v1/key/encrypt/kept",
                b"\xef\xbb\xbf{\"plaintext\":\"aGk=\"}",
            ),
            err(400, BAD_BODY),
        ),
        case(
            "lone UTF-16 surrogate escape",
            enc(r#"{"plaintext":"\ud800"}"#),
            err(400, BAD_BODY),
        ),
        case(
            "number out of range",
            enc(r#"{"plaintext":"aGk=","context":1e999999}"#),
            err(400, BAD_BODY),
        ),
        case(
            "unicode escapes spelling valid base64",
            enc(r#"{"plaintext":"\u0061\u0047\u006b="}"#),
            Expect::OkWith("ciphertext"),
        ),
        case(
            "generate with a wrong-typed context",
            post("/v1/key/generate/kept", r#"{"context":[]}"#),
            err(400, BAD_BODY),
        ),
        case(
            "hmac with a wrong-typed message",
            admin("PUT", "/v1/key/hmac/kept", br#"{"message":{}}"#),
            err(400, BAD_BODY),
        ),
        // --- import ---
        case(
            "import: malformed body",
            post("/v1/key/import/kept", r#"{"key":"#),
            err(400, "invalid import key request body"),
        ),
        case(
            "import: 31-byte key",
            post(
                "/v1/key/import/kept",
                &json!({"key": B64.encode([0u8; 31])}).to_string(),
            ),
            err(406, "invalid key size for 'AES256'"),
        ),
        case(
            "import: unknown cipher with a NUL",
            post(
                "/v1/key/import/kept",
                &json!({"key": B64.encode([0u8; 32]), "cipher": "AES256\u{0}"}).to_string(),
            ),
            err(406, "algorithm 'AES256\u{0}' is not supported"),
        ),
        case(
            "import over an existing key",
            post(
                "/v1/key/import/kept",
                &json!({"key": B64.encode([0u8; 32])}).to_string(),
            ),
            err(400, "key already exists"),
        ),
        // --- bulk decrypt ---
        case(
            "bulk: object instead of array",
            post("/v1/key/bulk/decrypt/kept", "{}"),
            err(400, BAD_BODY),
        ),
        case(
            "bulk: 1001 items",
            post(
                "/v1/key/bulk/decrypt/kept",
                &serde_json::Value::from(vec![json!({"ciphertext": ct}); 1001]).to_string(),
            ),
            err(400, "too many ciphertexts"),
        ),
        case(
            "bulk: one tampered item among good ones",
            post(
                "/v1/key/bulk/decrypt/kept",
                &json!([
                    {"ciphertext": ct, "context": "Yw=="},
                    {"ciphertext": ct, "context": "ZA=="},
                ])
                .to_string(),
            ),
            err(400, NOT_AUTHENTIC),
        ),
        // --- bodies over the limit ---
        case(
            "encrypt: 1 MB + 1 with Content-Length",
            admin("POST", "/v1/key/encrypt/kept", &over_limit(MB + 1)),
            err(400, BAD_BODY),
        ),
        case(
            "encrypt: 1 MB + 1 chunked, no Content-Length",
            Act::Http(
                Who::Admin,
                req_chunked(
                    "POST",
                    "/v1/key/encrypt/kept",
                    &over_limit(MB + 1).chunks(64 * 1024).collect::<Vec<_>>(),
                ),
            ),
            err(400, BAD_BODY),
        ),
        case(
            "decrypt: 1 MB + 1 in one chunk",
            Act::Http(
                Who::Admin,
                req_chunked("POST", "/v1/key/decrypt/kept", &[&over_limit(MB + 1)]),
            ),
            err(400, BAD_BODY),
        ),
        case(
            "import: 1 MB + 1",
            admin("POST", "/v1/key/import/big", &over_limit(MB + 1)),
            err(400, "invalid import key request body"),
        ),
        case(
            "bulk decrypt: 1 MiB + 1",
            admin("POST", "/v1/key/bulk/decrypt/kept", &vec![b' '; MIB + 1]),
            err(400, BAD_BODY),
        ),
        case(
            "create ignores a body (max body 0)",
            admin("POST", "/v1/key/create/kept", &vec![b'x'; 64 * 1024]),
            err(400, "key already exists"),
        ),
        case(
            "chunked: invalid chunk size",
            Act::Http(
                Who::Admin,
                b"POST /v1/key/encrypt/kept HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n".to_vec(),
            ),
            err(400, BAD_BODY),
        ),
        case(
            "Content-Length that overflows",
            Act::Http(
                Who::Admin,
                b"POST /v1/key/encrypt/kept HTTP/1.1\r\nHost: localhost\r\nContent-Length: 99999999999999999999999\r\nConnection: close\r\n\r\n{}".to_vec(),
            ),
            Expect::Bare(400),
        ),
        case(
            "two different Content-Length headers",
            Act::Http(
                Who::Admin,
                b"POST /v1/key/encrypt/kept HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{}".to_vec(),
            ),
            Expect::Bare(400),
        ),
        // --- URLs and headers ---
        case(
            "70 KB URL",
            get(&format!("/v1/key/describe/{}", "a".repeat(70_000))),
            Expect::Bare(414),
        ),
        case(
            "8 KB key name",
            get(&format!("/v1/key/describe/{long_name}")),
            name_err(&long_name),
        ),
        case(
            "81-byte key name",
            get(&format!("/v1/key/describe/{}", "k".repeat(81))),
            name_err(&"k".repeat(81)),
        ),
        case(
            "80-byte key name is valid (and absent)",
            get(&format!("/v1/key/describe/{}", "k".repeat(80))),
            err(404, "key does not exist"),
        ),
        case(
            "2 MB header",
            Act::Http(
                Who::Admin,
                req_with(
                    "GET",
                    "/v1/status",
                    &format!("X-Big: {}\r\n", "a".repeat(2_000_000)),
                    b"",
                ),
            ),
            Expect::Bare(431),
        ),
        case(
            "150 headers",
            Act::Http(
                Who::Admin,
                req_with(
                    "GET",
                    "/v1/status",
                    &(0..150).map(|i| format!("X-H{i}: v\r\n")).collect::<String>(),
                    b"",
                ),
            ),
            Expect::Bare(431),
        ),
        case(
            "control byte in a header value",
            Act::Http(
                Who::Admin,
                req_with("GET", "/v1/status", "X-Bad: a\x01b\r\n", b""),
            ),
            Expect::Bare(400),
        ),
        case(
            "garbage request line",
            Act::Http(Who::Admin, b"GARBAGE\r\n\r\n".to_vec()),
            Expect::Bare(400),
        ),
        case(
            "unknown method",
            admin("FOO", "/v1/status", b""),
            err(405, "received method 'FOO' expected 'GET'"),
        ),
        case(
            "GET on a PUT route",
            get("/v1/key/create/kept"),
            err(405, "received method 'GET' expected 'PUT'"),
        ),
        case(
            "unknown path",
            get("/v1/nothing/here"),
            Expect::Text(404, "text/plain; charset=utf-8", "404 page not found\n"),
        ),
        case(
            "raw ../ traversal is redirected, never served",
            get("/v1/key/describe/../../../etc/passwd"),
            Expect::Redirect("/etc/passwd"),
        ),
        case(
            "query string is ignored",
            get("/v1/key/describe/kept?name=../../etc/passwd"),
            Expect::OkWith("created_at"),
        ),
        // --- key names ---
        case("empty name", post("/v1/key/create/", ""), name_err("")),
        case("leading dash", post("/v1/key/create/-a", ""), name_err("-a")),
        case("trailing dash", post("/v1/key/create/a-", ""), name_err("a-")),
        case("lone underscore", post("/v1/key/create/_", ""), name_err("_")),
        case("dot in name", post("/v1/key/create/a.b", ""), name_err("a.b")),
        case(
            "encoded traversal",
            post("/v1/key/create/..%2F..%2Fetc%2Fpasswd", ""),
            name_err("../../etc/passwd"),
        ),
        case("encoded ..", post("/v1/key/create/%2E%2E", ""), name_err("..")),
        case("encoded slash", get("/v1/key/describe/a%2Fb"), name_err("a/b")),
        case("encoded backslash", get("/v1/key/describe/a%5Cb"), name_err("a\\b")),
        case("encoded NUL", get("/v1/key/describe/a%00b"), name_err("a\0b")),
        case("encoded space", get("/v1/key/describe/a%20b"), name_err("a b")),
        case("encoded unicode", get("/v1/key/describe/%C3%A4"), name_err("ä")),
        case(
            "raw UTF-8 in the path",
            admin("GET", "/v1/key/describe/\u{e4}", b""),
            name_err("\u{e4}"),
        ),
        case(
            "percent-encoded invalid UTF-8",
            get("/v1/key/describe/%FF"),
            Expect::Text(
                400,
                "text/plain; charset=utf-8",
                "400 Bad Request: invalid URL escape",
            ),
        ),
        case(
            "malformed percent escape",
            get("/v1/key/describe/%zz"),
            Expect::Text(
                400,
                "text/plain; charset=utf-8",
                "400 Bad Request: invalid URL escape",
            ),
        ),
        case(
            "list pattern with an inner star",
            get("/v1/key/list/a*b"),
            err(400, "listing pattern 'a*b' is empty, too long or is invalid"),
        ),
        case(
            "list pattern of two stars",
            get("/v1/key/list/**"),
            err(400, "listing pattern '**' is empty, too long or is invalid"),
        ),
        case(
            "policy name with a dot",
            get("/v1/policy/describe/a.b"),
            err(
                400,
                "policy name 'a.b' is empty, too long or contains invalid characters",
            ),
        ),
        case(
            "identity with encoded traversal",
            get("/v1/identity/describe/..%2Fx"),
            err(
                400,
                "identity '../x' is empty, too long or contains invalid characters",
            ),
        ),
        // --- ciphertexts ---
        case(
            "flipped ciphertext byte",
            decrypt(tampered(&|b| b[0] ^= 1)),
            err(400, NOT_AUTHENTIC),
        ),
        case(
            "flipped tag byte",
            decrypt(tampered(&|b| {
                let i = b.len() - 29;
                b[i] ^= 0x80
            })),
            err(400, NOT_AUTHENTIC),
        ),
        case(
            "flipped IV byte",
            decrypt(tampered(&|b| {
                let i = b.len() - 20;
                b[i] ^= 1
            })),
            err(400, NOT_AUTHENTIC),
        ),
        case(
            "flipped nonce byte",
            decrypt(tampered(&|b| *b.last_mut().unwrap() ^= 1)),
            err(400, NOT_AUTHENTIC),
        ),
        case(
            "truncated by one byte",
            decrypt(tampered(&|b| {
                b.pop();
            })),
            err(400, NOT_AUTHENTIC),
        ),
        case(
            "truncated to 28 bytes",
            decrypt(tampered(&|b| b.truncate(28))),
            err(400, NOT_AUTHENTIC),
        ),
        case(
            "one byte appended",
            decrypt(tampered(&|b| b.push(0))),
            err(400, NOT_AUTHENTIC),
        ),
        case(
            "empty ciphertext",
            decrypt(json!({"ciphertext": ""}).to_string()),
            err(400, NOT_AUTHENTIC),
        ),
        case(
            "wrong context",
            decrypt(json!({"ciphertext": ct, "context": "ZA=="}).to_string()),
            err(400, NOT_AUTHENTIC),
        ),
        case(
            "missing context",
            decrypt(json!({"ciphertext": ct}).to_string()),
            err(400, NOT_AUTHENTIC),
        ),
        case(
            "replayed to another key",
            post(
                "/v1/key/decrypt/other",
                &json!({"ciphertext": ct, "context": "Yw=="}).to_string(),
            ),
            err(400, NOT_AUTHENTIC),
        ),
        case(
            "replayed to a re-created key of the same name",
            post(
                "/v1/key/decrypt/recreated",
                &json!({"ciphertext": replayed}).to_string(),
            ),
            err(400, NOT_AUTHENTIC),
        ),
        case(
            "forged legacy JSON framing",
            decrypt(
                json!({"ciphertext": B64.encode(br#"{"aead":"AES-256-GCM-HMAC-SHA-256","iv":"AAAAAAAAAAAAAAAAAAAAAA==","nonce":"AAAAAAAAAAAAAAAA","bytes":"AAAAAAAAAAAAAAAAAAAAAA=="}"#)})
                    .to_string(),
            ),
            err(400, NOT_AUTHENTIC),
        ),
        case(
            "forged msgpack-looking framing",
            decrypt(json!({"ciphertext": B64.encode([0x84u8; 80])}).to_string()),
            err(400, NOT_AUTHENTIC),
        ),
        case(
            "ciphertext for an absent key",
            post(
                "/v1/key/decrypt/absent",
                &json!({"ciphertext": ct}).to_string(),
            ),
            err(404, "key does not exist"),
        ),
        // --- identities and TLS ---
        case(
            "no client certificate",
            Act::Http(Who::NoCert, req("GET", "/version", b"")),
            Expect::Refused,
        ),
        // protocol_version (70) when only the version is wrong; handshake_failure (40) for
        // the hello OpenSSL's `s_client -tls1`/`-tls1_1` sends (no signature_algorithms).
        case("TLS 1.0 ClientHello", Act::LegacyHello(0x0301, true), Expect::Alert(70)),
        case("TLS 1.1 ClientHello", Act::LegacyHello(0x0302, true), Expect::Alert(70)),
        case("SSL 3.0 ClientHello", Act::LegacyHello(0x0300, true), Expect::Alert(70)),
        case("OpenSSL-style TLS 1.0 ClientHello", Act::LegacyHello(0x0301, false), Expect::Alert(40)),
        case("OpenSSL-style TLS 1.1 ClientHello", Act::LegacyHello(0x0302, false), Expect::Alert(40)),
        case(
            "plain HTTP on the TLS port",
            Act::PlainTcp(b"GET /v1/status HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec()),
            Expect::Alert(50),
        ),
        case(
            "admin certificate, handshake signed by another key (forged API key)",
            Act::Http(Who::ForgedAdmin, req("GET", "/v1/status", b"")),
            Expect::Refused,
        ),
        case(
            "certificate whose CN claims the admin identity",
            Act::Http(Who::AdminLookalike, req("GET", "/v1/status", b"")),
            err(403, DENIED),
        ),
        case(
            "unknown identity",
            Act::Http(Who::Stranger, req("GET", "/v1/key/describe/kept", b"")),
            err(403, DENIED),
        ),
        case(
            "unknown identity describes itself",
            Act::Http(Who::Stranger, req("GET", "/v1/identity/self/describe", b"")),
            err(404, "identity does not exist"),
        ),
        case(
            "unknown identity deletes a key",
            Act::Http(Who::Stranger, req("DELETE", "/v1/key/delete/kept", b"")),
            err(403, DENIED),
        ),
        case(
            "two leaf certificates",
            Act::Http(Who::TwoCerts, req("GET", "/v1/status", b"")),
            err(400, "tls: received more than one client certificate"),
        ),
        case(
            "default mode: broken certificate self-signature, unknown key",
            Act::Http(Who::BrokenSelfSignature, req("GET", "/v1/status", b"")),
            err(403, DENIED),
        ),
        case(
            "ALPN offering only spdy/1",
            Act::Http(Who::AlpnSpdy, req("GET", "/version", b"")),
            Expect::Refused,
        ),
        case(
            "TLS 1.2 still works",
            Act::Http(Who::AdminTls12, req("GET", "/v1/key/describe/kept", b"")),
            Expect::OkWith("name"),
        ),
        case(
            "optional certificates: none sent, skip_auth route",
            Act::HttpOptionalNoCert(req("GET", "/v1/status", b"")),
            Expect::OkWith("version"),
        ),
        case(
            "optional certificates: none sent, policy route",
            Act::HttpOptionalNoCert(req("GET", "/v1/key/describe/kept", b"")),
            err(400, "tls: client certificate is required"),
        ),
        case(
            "optional certificates: none sent, self-describe",
            Act::HttpOptionalNoCert(req("GET", "/v1/identity/self/describe", b"")),
            err(404, "identity does not exist"),
        ),
        case(
            "auth on: CA-issued certificate",
            Act::HttpVerified(VerifiedWho::Issued, req("GET", "/v1/key/list/", b"")),
            Expect::OkWith("names"),
        ),
        case(
            "auth on: issued certificate whose signature does not verify",
            Act::HttpVerified(VerifiedWho::TamperedSignature, req("GET", "/version", b"")),
            Expect::Refused,
        ),
        case(
            "auth on: self-signed certificate",
            Act::HttpVerified(VerifiedWho::SelfSigned, req("GET", "/version", b"")),
            Expect::Refused,
        ),
    ];
    // --- slow and idle clients (run concurrently) ---
    c.extend([
        case(
            "slowloris header trickle",
            Act::Slowloris,
            Expect::ClosedWithin(Duration::from_secs(8)),
        ),
        case(
            "idle after the TLS handshake",
            Act::IdleAfterHandshake,
            Expect::ClosedWithin(Duration::from_secs(8)),
        ),
        case(
            "idle TCP, no handshake",
            Act::IdleTcp,
            Expect::ClosedWithin(Duration::from_secs(13)),
        ),
        case(
            "idle keep-alive connection",
            Act::IdleKeepAlive,
            Expect::ClosedWithin(Duration::from_secs(8)),
        ),
        case(
            "keep-alive connection reused after the header timeout",
            Act::KeepAliveReuse,
            Expect::OkWith("version"),
        ),
        case(
            "idle HTTP/2 connection",
            Act::IdleH2,
            Expect::ClosedWithin(Duration::from_secs(8)),
        ),
        case(
            "a quiet log stream outlives the idle timeout",
            Act::QuietLogStream,
            Expect::StaysOpen,
        ),
        case(
            "body stalls half-way",
            Act::StalledBody,
            err(503, "request timeout exceeded"),
        ),
    ]);
    c
}

/// A JSON body just over `size` bytes: `{"plaintext":"AAAA…"}`.
fn over_limit(size: usize) -> Vec<u8> {
    let mut body = br#"{"plaintext":""#.to_vec();
    body.resize(size - 2, b'A');
    body.extend_from_slice(b"\"}");
    body
}

fn is_slow(act: &Act) -> bool {
    matches!(
        act,
        Act::Slowloris
            | Act::IdleAfterHandshake
            | Act::IdleTcp
            | Act::IdleKeepAlive
            | Act::KeepAliveReuse
            | Act::StalledBody
            | Act::IdleH2
            | Act::QuietLogStream
    )
}

/// Short timeouts (90 s idle and 5 s header by default) keep the slow-client cases bounded.
const HOSTILE_LIMITS: kes_server::serve::Limits = kes_server::serve::Limits {
    idle_timeout: Duration::from_secs(4),
    header_read_timeout: Duration::from_secs(2),
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_suite() {
    let server = TestServer::start_with_limits("", HOSTILE_LIMITS).await;
    let c = server.admin_client();
    for name in ["kept", "other", "recreated"] {
        c.post(&format!("/v1/key/create/{name}"), "").await.ok();
    }
    let ct = c
        .post(
            "/v1/key/encrypt/kept",
            r#"{"plaintext":"c2VjcmV0","context":"Yw=="}"#,
        )
        .await
        .ok()["ciphertext"]
        .as_str()
        .unwrap()
        .to_owned();
    // A ciphertext of an earlier key named `recreated`, which is then deleted and re-created.
    let replayed = c
        .post("/v1/key/encrypt/recreated", r#"{"plaintext":"aGk="}"#)
        .await
        .ok()["ciphertext"]
        .as_str()
        .unwrap()
        .to_owned();
    c.delete("/v1/key/delete/recreated").await.ok();
    c.post("/v1/key/create/recreated", "").await.ok();
    let before = tests::dir_files(&server.keystore_dir());

    // A second server with `auth: on` and a CA, for certificate-chain cases.
    let dir = tempfile::tempdir().unwrap();
    let (ca, issued) = CertFiles::generate_ca_and_client(dir.path());
    let policy = format!(
        "policy:\n  verified:\n    allow:\n    - /v1/key/list/*\n    identities:\n    - {}\n",
        issued.identity()
    );
    let keys = dir.path().join("keys");
    let verified = TestServer::start_with(
        dir,
        &keys,
        &format!("  auth: on\n  ca: {}\n", ca.cert.display()),
        &policy,
    )
    .await;

    // A third server where `skip_auth` makes the client certificate optional.
    let optional = TestServer::start("api:\n  /v1/status:\n    skip_auth: true\n").await;

    let admin_cert = server.admin.certificate().unwrap();
    let stranger = ApiKey::generate().unwrap().certificate().unwrap();
    let other = ApiKey::generate().unwrap().certificate().unwrap();
    let sc = &server.server_cert.cert_der;
    let pair = |cert: &kes_client::ClientCertificate| {
        Some((cert.cert_der.clone(), cert.key_der.clone_key()))
    };
    let lookalike_dir = tempfile::tempdir().unwrap();
    let lookalike = CertFiles::generate(
        lookalike_dir.path(),
        "lookalike",
        &server.admin.identity().to_string(),
    );
    let mut tls: BTreeMap<&'static str, Arc<rustls::ClientConfig>> = BTreeMap::new();
    let mut add = |who: Who, config: rustls::ClientConfig| {
        tls.insert(who_key(who), Arc::new(config));
    };
    add(Who::Admin, tls_config(pair(&admin_cert), Some(sc)));
    add(Who::Stranger, tls_config(pair(&stranger), Some(sc)));
    add(Who::NoCert, tls_config(None, Some(sc)));
    add(
        Who::ForgedAdmin,
        tls_presenting(
            vec![admin_cert.cert_der.clone()],
            other.key_der.clone_key(),
            sc,
        ),
    );
    add(
        Who::AdminLookalike,
        tls_config(
            Some((lookalike.cert_der.clone(), lookalike.key_der.clone_key())),
            Some(sc),
        ),
    );
    add(
        Who::TwoCerts,
        tls_presenting(
            vec![admin_cert.cert_der.clone(), stranger.cert_der.clone()],
            admin_cert.key_der.clone_key(),
            sc,
        ),
    );
    add(
        Who::BrokenSelfSignature,
        tls_presenting(
            vec![corrupt_signature(&stranger.cert_der)],
            stranger.key_der.clone_key(),
            sc,
        ),
    );
    let mut spdy = tls_config(pair(&admin_cert), Some(sc));
    spdy.alpn_protocols = vec![b"spdy/1".to_vec()];
    add(Who::AlpnSpdy, spdy);
    add(
        Who::AdminTls12,
        rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS12])
            .unwrap()
            .with_root_certificates(roots(sc))
            .with_client_auth_cert(
                vec![admin_cert.cert_der.clone()],
                admin_cert.key_der.clone_key(),
            )
            .unwrap(),
    );
    let vsc = &verified.server_cert.cert_der;
    let mut verified_tls = BTreeMap::new();
    verified_tls.insert(
        "Issued",
        Arc::new(tls_config(
            Some((issued.cert_der.clone(), issued.key_der.clone_key())),
            Some(vsc),
        )),
    );
    verified_tls.insert(
        "TamperedSignature",
        Arc::new(tls_presenting(
            vec![corrupt_signature(&issued.cert_der)],
            issued.key_der.clone_key(),
            vsc,
        )),
    );
    verified_tls.insert(
        "SelfSigned",
        Arc::new(tls_config(pair(&stranger), Some(vsc))),
    );
    let ctx = Arc::new(Ctx {
        addr: server.addr,
        verified_addr: verified.addr,
        optional_addr: optional.addr,
        optional_no_cert: Arc::new(tls_config(None, Some(&optional.server_cert.cert_der))),
        tls,
        verified: verified_tls,
    });

    let table = cases(&ct, &replayed);
    let total = table.len();
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut slow = Vec::new();
    let mut fast = Vec::new();
    for case in table {
        if is_slow(&case.act) {
            slow.push(case);
        } else {
            fast.push(case);
        }
    }
    let slow: Vec<_> = slow
        .into_iter()
        .map(|case| {
            let ctx = Arc::clone(&ctx);
            tokio::spawn(async move {
                let outcome = run(&ctx, case.act).await;
                (case.name, check(&case.expect, &outcome))
            })
        })
        .collect();
    for case in fast {
        let outcome = run(&ctx, case.act).await;
        if let Err(e) = check(&case.expect, &outcome) {
            failures.push(format!("{}: {e}", case.name));
        }
    }
    for task in slow {
        let (name, result) = task.await.unwrap();
        if let Err(e) = result {
            failures.push(format!("{name}: {e}"));
        }
    }
    eprintln!(
        "hostile input: {total} cases in {:?}, {} failed",
        started.elapsed(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total >= 60, "only {total} cases");

    // The server is healthy and no stored key changed.
    let status = c.get("/v1/status").await.ok();
    assert!(status.get("keystore_unreachable").is_none(), "{status}");
    c.get("/v1/ready").await.ok();
    assert_eq!(
        before,
        tests::dir_files(&server.keystore_dir()),
        "a hostile request changed the keystore"
    );
    let body = json!({"ciphertext": ct, "context": "Yw=="}).to_string();
    assert_eq!(
        c.post("/v1/key/decrypt/kept", &body).await.ok()["plaintext"],
        "c2VjcmV0"
    );
    verified.stop().await;
    optional.stop().await;
    server.stop().await;
}
