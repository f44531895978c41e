//! Backend faults under load: our `kes` binary on a real PostgreSQL keystore reached through a
//! TCP proxy written here, while 16 clients run mixed operations. The database is slowed
//! (latency on every packet), blackholed (connections accepted, nothing forwarded), stopped and
//! started again. Throughout: every request finishes within a bound (no hung connection),
//! keystore operations fail only with the spec's 502 errors, cached keys keep generating and
//! decrypting (offline caching), the server recovers by itself, and its thread count and open
//! descriptors do not grow.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{KesProcess, Usage};
use tests::backends::postgres::Postgres;
use tests::{Client, Method, Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// No request may take longer: the keystore timeout (5 s) plus slack.
const BOUND: Duration = Duration::from_secs(12);
const BLACKHOLE: u64 = u64::MAX;

/// A TCP proxy to `upstream` whose behaviour can change at any time: pass through, add
/// latency to every chunk, or blackhole (hold connections and forward nothing).
struct Proxy {
    port: u16,
    /// 0 = pass, [`BLACKHOLE`], otherwise added latency in ms.
    mode: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = Arc::new(AtomicU64::new(0));
        let task = {
            let mode = Arc::clone(&mode);
            tokio::spawn(async move {
                loop {
                    let Ok((client, _)) = listener.accept().await else {
                        continue;
                    };
                    let mode = Arc::clone(&mode);
                    tokio::spawn(async move {
                        let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                            return; // database down: the client sees the connection close
                        };
                        let (cr, cw) = client.into_split();
                        let (sr, sw) = server.into_split();
                        tokio::select! {
                            () = pump(cr, sw, Arc::clone(&mode)) => {}
                            () = pump(sr, cw, mode) => {}
                        }
                    });
                }
            })
        };
        Proxy { port, mode, task }
    }

    fn set(&self, mode: u64) {
        self.mode.store(mode, Ordering::Relaxed);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mode: Arc<AtomicU64>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        loop {
            match mode.load(Ordering::Relaxed) {
                BLACKHOLE => tokio::time::sleep(Duration::from_millis(50)).await,
                0 => break,
                ms => {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    break;
                }
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// What one load phase saw.
#[derive(Debug, Default)]
struct Tally {
    requests: u64,
    ok: u64,
    keystore_errors: u64,
    max_latency: Duration,
    /// The slowest request on the cached key.
    max_cached_latency: Duration,
    unexpected: Vec<String>,
}

/// One client's loop until `stop`. Operations on the cached key `hot` must always succeed;
/// keystore operations may fail only with their catalogue 502.
async fn client_loop(
    c: Client,
    w: String,
    odd: bool,
    hot_ct: Value,
    stop: Arc<AtomicBool>,
) -> Tally {
    let mut t = Tally::default();
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        // Odd clients use only the cached key; even ones only the keystore.
        let op = if odd {
            1 + i % 2
        } else {
            [0, 3, 4][(i % 3) as usize]
        };
        let (method, path, body, allowed_error): (Method, String, Option<String>, Option<&str>) =
            match op {
                0 => (
                    Method::POST,
                    format!("/v1/key/create/f-{w}-{i}"),
                    None,
                    Some("failed to create key"),
                ),
                1 => (
                    Method::POST,
                    "/v1/key/generate/hot".into(),
                    Some(r#"{"context":"aG90"}"#.into()),
                    None,
                ),
                2 => (
                    Method::POST,
                    "/v1/key/decrypt/hot".into(),
                    Some(
                        json!({"ciphertext": hot_ct["ciphertext"], "context": "aG90"}).to_string(),
                    ),
                    None,
                ),
                3 => (
                    Method::GET,
                    format!("/v1/key/describe/f-{w}-{}", i.saturating_sub(1)),
                    None,
                    Some("failed to read key"),
                ),
                _ => (
                    Method::GET,
                    format!("/v1/key/list/f-{w}-"),
                    None,
                    Some("failed to list keys"),
                ),
            };
        let started = Instant::now();
        let reply = c.send(method, &path, body.map(String::into_bytes)).await;
        let latency = started.elapsed();
        t.requests += 1;
        t.max_latency = t.max_latency.max(latency);
        if odd {
            t.max_cached_latency = t.max_cached_latency.max(latency);
        }
        let reply = match reply {
            Ok(reply) => reply,
            Err(err) => {
                t.unexpected.push(format!("{path}: {err}"));
                continue;
            }
        };
        let status = reply.status.as_u16();
        let message = if reply.content_type == "application/json" && status != 200 {
            reply.json()["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        } else {
            String::new()
        };
        match (status, allowed_error) {
            (200, _) => t.ok += 1,
            // A describe of a key whose create failed.
            (404, Some("failed to read key")) if message == "key does not exist" => t.ok += 1,
            (502, Some(allowed)) if message == allowed => t.keystore_errors += 1,
            _ => t.unexpected.push(format!("{path}: {status} {message}")),
        }
        if latency > BOUND {
            t.unexpected.push(format!("{path}: took {latency:?}"));
        }
    }
    t
}

/// Runs 16 clients for `secs` and returns the merged tally and the peak resource usage.
async fn phase(kes: &KesProcess, name: &str, hot_ct: &Value, secs: u64) -> (Tally, Usage) {
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..16)
        .map(|w| {
            tokio::spawn(client_loop(
                kes.client(),
                format!("{name}{w}"),
                w % 2 == 1,
                hot_ct.clone(),
                Arc::clone(&stop),
            ))
        })
        .collect();
    let mut peak = kes.usage();
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let u = kes.usage();
        peak.threads = peak.threads.max(u.threads);
        peak.fds = peak.fds.max(u.fds);
        peak.rss_kib = peak.rss_kib.max(u.rss_kib);
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = Tally::default();
    for worker in workers {
        // Bounded: a hung request would show here.
        let t = tokio::time::timeout(BOUND + Duration::from_secs(5), worker)
            .await
            .expect("a client hung")
            .unwrap();
        total.requests += t.requests;
        total.ok += t.ok;
        total.keystore_errors += t.keystore_errors;
        total.max_latency = total.max_latency.max(t.max_latency);
        total.max_cached_latency = total.max_cached_latency.max(t.max_cached_latency);
        total.unexpected.extend(t.unexpected);
    }
    (total, peak)
}

fn report(name: &str, t: &Tally, u: &Usage) {
    eprintln!(
        "{name}: {} requests, {} ok, {} keystore 502s, max latency {:?} (cached key {:?}), peak threads {}, fds {}, rss {} KiB",
        t.requests,
        t.ok,
        t.keystore_errors,
        t.max_latency,
        t.max_cached_latency,
        u.threads,
        u.fds,
        u.rss_kib
    );
    // Cached keys do not wait for the keystore, whatever state it is in.
    assert!(
        t.max_cached_latency < Duration::from_secs(2),
        "{name}: a cached-key request took {:?}",
        t.max_cached_latency
    );
    assert!(
        t.unexpected.is_empty(),
        "{name}: {} unexpected outcomes, e.g. {:?}",
        t.unexpected.len(),
        &t.unexpected[..t.unexpected.len().min(5)]
    );
}

async fn active_requests(c: &Client) -> String {
    c.get("/v1/metrics")
        .await
        .text()
        .lines()
        .find(|l| l.starts_with("kes_http_request_active"))
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_slowed_blackholed_stopped_and_restarted_under_load() {
    let pg = Postgres::start();
    let pg_port: u16 = pg
        .url()
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let proxy = Proxy::start(pg_port).await;
    let dir = tempfile::tempdir().unwrap();
    let section = format!(
        "keystore:\n  postgres:\n    url: postgres://kes@127.0.0.1:{}/kes?sslmode=disable\n    table: fault_keys\n",
        proxy.port
    );
    let cache = "cache:\n  expiry:\n    any: 1h\n    unused: 1h\n    offline: 1h\n";
    let kes = KesProcess::start(dir.path(), &section, cache).await;
    let c = kes.client();
    c.post("/v1/key/create/hot", "").await.ok();
    let hot_ct = c
        .post("/v1/key/generate/hot", r#"{"context":"aG90"}"#)
        .await
        .ok();

    let (t, base) = phase(&kes, "a", &hot_ct, 3).await;
    report("baseline", &t, &base);
    assert_eq!(t.keystore_errors, 0);

    proxy.set(200);
    let (t, u) = phase(&kes, "b", &hot_ct, 4).await;
    report("slowed (200 ms per packet)", &t, &u);
    assert_eq!(t.keystore_errors, 0, "a slow database is no error");

    proxy.set(BLACKHOLE);
    let (t, u) = phase(&kes, "c", &hot_ct, 8).await;
    report("blackholed", &t, &u);
    assert!(t.keystore_errors > 0, "the blackhole was not noticed");

    proxy.set(0);
    pg.stop();
    let (t, u) = phase(&kes, "d", &hot_ct, 4).await;
    report("stopped", &t, &u);
    assert!(t.keystore_errors > 0, "the outage was not noticed");

    pg.restart();
    let started = Instant::now();
    common::wait_until(Duration::from_secs(30), "recovery", || async {
        c.post(
            &format!("/v1/key/create/probe-{}", started.elapsed().as_millis()),
            "",
        )
        .await
        .status
            == 200
    })
    .await;
    eprintln!("recovered {:?} after the restart", started.elapsed());
    let (t, end) = phase(&kes, "e", &hot_ct, 3).await;
    report("recovered", &t, &end);
    assert_eq!(t.keystore_errors, 0, "errors after recovery");

    // Nothing is left in flight and nothing leaked.
    common::wait_until(Duration::from_secs(5), "no request in flight", || async {
        active_requests(&c).await == "kes_http_request_active 0"
    })
    .await;
    assert!(
        end.threads <= base.threads + 2,
        "threads grew: {} -> {}",
        base.threads,
        end.threads
    );
    assert!(
        end.fds <= base.fds + 16,
        "descriptors grew: {} -> {}",
        base.fds,
        end.fds
    );
}
