//! Load soak: 64 connections (one client each) run mixed operations against our `kes` binary on
//! the fs keystore, over loopback only, for `KES_SOAK_SECS` seconds (default 20; RELIABILITY.md
//! reports a 300 s run). Every request must succeed; after warm-up (the first fifth of the run)
//! the server's resident memory stays flat and its open descriptors and threads do not grow.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use common::{KesProcess, Rng, Usage};
use tests::{Client, Method, json};

const CONNECTIONS: usize = 64;

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    errors: AtomicU64,
    max_latency_us: AtomicU64,
}

/// Sends one request; anything but a 200 counts as an error (and is printed, without bodies).
async fn call(
    c: &Client,
    n: &Counters,
    method: Method,
    path: &str,
    body: Option<String>,
) -> Option<serde_json::Value> {
    let started = Instant::now();
    let reply = c.send(method, path, body.map(String::into_bytes)).await;
    let us = started.elapsed().as_micros() as u64;
    n.requests.fetch_add(1, Ordering::Relaxed);
    n.max_latency_us.fetch_max(us, Ordering::Relaxed);
    match reply {
        Ok(reply) if reply.status == 200 => Some(if reply.body.is_empty() {
            serde_json::Value::Null
        } else {
            reply.json()
        }),
        Ok(reply) => {
            n.errors.fetch_add(1, Ordering::Relaxed);
            eprintln!("{path}: {}", reply.status);
            None
        }
        Err(err) => {
            n.errors.fetch_add(1, Ordering::Relaxed);
            eprintln!("{path}: {err}");
            None
        }
    }
}

/// One connection's mixed workload until `stop`.
async fn client(c: Client, w: usize, mut rng: Rng, n: Arc<Counters>, stop: Arc<AtomicBool>) {
    let key = format!("soak-{w}");
    call(&c, &n, Method::POST, &format!("/v1/key/create/{key}"), None).await;
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        match i % 7 {
            0 => {
                let dek = call(
                    &c,
                    &n,
                    Method::POST,
                    &format!("/v1/key/generate/{key}"),
                    Some(r#"{"context":"c29haw=="}"#.into()),
                )
                .await;
                if let Some(dek) = dek {
                    let body = json!({"ciphertext": dek["ciphertext"], "context": "c29haw=="});
                    let plain = call(
                        &c,
                        &n,
                        Method::POST,
                        &format!("/v1/key/decrypt/{key}"),
                        Some(body.to_string()),
                    )
                    .await;
                    if let Some(plain) = plain {
                        assert_eq!(plain["plaintext"], dek["plaintext"]);
                    }
                }
            }
            1 => {
                let len = rng.range(1, 4096) as usize;
                let pt = B64.encode(rng.bytes(len));
                let ct = call(
                    &c,
                    &n,
                    Method::POST,
                    &format!("/v1/key/encrypt/{key}"),
                    Some(json!({"plaintext": pt}).to_string()),
                )
                .await;
                if let Some(ct) = ct {
                    let plain = call(
                        &c,
                        &n,
                        Method::POST,
                        &format!("/v1/key/decrypt/{key}"),
                        Some(json!({"ciphertext": ct["ciphertext"]}).to_string()),
                    )
                    .await;
                    if let Some(plain) = plain {
                        assert_eq!(plain["plaintext"], pt.as_str());
                    }
                }
            }
            2 => {
                call(
                    &c,
                    &n,
                    Method::PUT,
                    &format!("/v1/key/hmac/{key}"),
                    Some(r#"{"message":"c29haw=="}"#.into()),
                )
                .await;
            }
            3 => {
                call(
                    &c,
                    &n,
                    Method::GET,
                    &format!("/v1/key/describe/{key}"),
                    None,
                )
                .await;
            }
            4 => {
                call(&c, &n, Method::GET, &format!("/v1/key/list/{key}"), None).await;
            }
            5 => {
                let temp = format!("tmp-{w}-{i}");
                call(
                    &c,
                    &n,
                    Method::POST,
                    &format!("/v1/key/create/{temp}"),
                    None,
                )
                .await;
                call(
                    &c,
                    &n,
                    Method::DELETE,
                    &format!("/v1/key/delete/{temp}"),
                    None,
                )
                .await;
            }
            _ => {
                call(&c, &n, Method::GET, "/v1/status", None).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_connections_mixed_operations() {
    let secs: u64 = std::env::var("KES_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let section = format!(
        "keystore:\n  fs:\n    path: {}\n",
        dir.path().join("keys").display()
    );
    // Audit events go to the log file like in production, not to a terminal.
    let kes = KesProcess::start(dir.path(), &section, "").await;
    let idle = kes.usage();
    let mut rng = Rng::from_env("KES_SOAK_SEED");
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|w| {
            // One client, hence one pooled connection, per worker.
            tokio::spawn(client(
                kes.client(),
                w,
                Rng::from_seed(rng.next()),
                Arc::clone(&counters),
                Arc::clone(&stop),
            ))
        })
        .collect();

    let started = Instant::now();
    let warm_up = Duration::from_secs((secs / 5).max(3));
    let mut samples: Vec<(Duration, Usage)> = Vec::new();
    let mut next_print = Duration::ZERO;
    while started.elapsed() < Duration::from_secs(secs) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let u = kes.usage();
        let t = started.elapsed();
        samples.push((t, u));
        if t >= next_print {
            eprintln!(
                "soak {:>4}s: {} requests, {} errors, rss {} KiB, fds {}, threads {}",
                t.as_secs(),
                counters.requests.load(Ordering::Relaxed),
                counters.errors.load(Ordering::Relaxed),
                u.rss_kib,
                u.fds,
                u.threads
            );
            next_print += Duration::from_secs(30)
                .min(Duration::from_secs(secs / 4).max(Duration::from_secs(5)));
        }
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        tokio::time::timeout(Duration::from_secs(30), c)
            .await
            .expect("a client hung")
            .unwrap();
    }
    let elapsed = started.elapsed();
    let requests = counters.requests.load(Ordering::Relaxed);
    let errors = counters.errors.load(Ordering::Relaxed);

    // RSS after warm-up: the median of the last quarter of the run against the first quarter.
    let after: Vec<&Usage> = samples
        .iter()
        .filter(|(t, _)| *t >= warm_up)
        .map(|(_, u)| u)
        .collect();
    let quarter = (after.len() / 4).max(1);
    let median = |us: &[&Usage]| {
        let mut v: Vec<u64> = us.iter().map(|u| u.rss_kib).collect();
        v.sort_unstable();
        v[v.len() / 2]
    };
    let early_rss = median(&after[..quarter]);
    let late_rss = median(&after[after.len() - quarter..]);
    let peak_fds = after.iter().map(|u| u.fds).max().unwrap();
    let peak_threads = after.iter().map(|u| u.threads).max().unwrap();
    // Once the load stops, the clients close their connections and idle blocking threads exit
    // (10 s): descriptors and threads return to where they were before the load.
    let quiet = Instant::now();
    let mut settled = kes.usage();
    while (settled.fds > idle.fds + 2 || settled.threads > idle.threads + 2)
        && quiet.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(250)).await;
        settled = kes.usage();
    }
    eprintln!(
        "soak: {CONNECTIONS} connections, {secs} s, {requests} requests ({:.0}/s), {errors} errors, max latency {} ms; rss after {warm_up:?} warm-up: first-quarter median {early_rss} KiB, last-quarter median {late_rss} KiB; under load: peak fds {peak_fds}, peak threads {peak_threads}; idle before: fds {}, threads {}, rss {} KiB; idle after ({:?}): fds {}, threads {}, rss {} KiB",
        requests as f64 / elapsed.as_secs_f64(),
        counters.max_latency_us.load(Ordering::Relaxed) / 1000,
        idle.fds,
        idle.threads,
        idle.rss_kib,
        quiet.elapsed(),
        settled.fds,
        settled.threads,
        settled.rss_kib,
    );
    assert_eq!(errors, 0, "requests failed");
    assert!(requests > 0);
    // Flat: no more than 10% (+4 MiB of allocator noise) above the early level.
    assert!(
        late_rss <= early_rss + early_rss / 10 + 4096,
        "rss grew: {early_rss} -> {late_rss} KiB"
    );
    assert!(
        settled.fds <= idle.fds + 2,
        "descriptors leaked: {} before, {} after",
        idle.fds,
        settled.fds
    );
    assert!(
        settled.threads <= idle.threads + 2,
        "threads leaked: {} before, {} after",
        idle.threads,
        settled.threads
    );
}
