//! Crash safety: our `kes` binary on the fs, SQLite and PostgreSQL keystores is SIGKILLed at
//! random moments while clients create, encrypt with and delete keys, then restarted. After each
//! restart the server starts cleanly, every key whose create was acknowledged (and not deleted)
//! exists and decrypts every ciphertext it produced before the crash, every acknowledged delete
//! holds, and no key is partial: every stored key can be read (a torn file or row would answer
//! 502), and the fs keystore holds no leftover temporary files.
//!
//! The kill moments come from a seeded RNG (`KES_CRASH_SEED`, printed); `KES_CRASH_KILLS` sets
//! the kills per backend (default 4).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use common::{KesProcess, Rng};
use tests::backends::postgres::Postgres;
use tests::{Client, json};

/// What the clients learnt about one key.
#[derive(Debug, Default)]
struct KeyFacts {
    /// The create was answered 200.
    created: bool,
    /// A delete was answered 200.
    deleted: bool,
    /// A create or delete was sent but its answer was lost: the key may or may not exist.
    uncertain: bool,
    /// (ciphertext, plaintext) pairs the server returned.
    ciphertexts: Vec<(String, String)>,
}

/// One client's storm: create a key, encrypt with it, sometimes delete an earlier one, until
/// `stop`. Returns what it learnt.
async fn storm(
    c: Client,
    prefix: String,
    mut rng: Rng,
    stop: Arc<AtomicBool>,
) -> BTreeMap<String, KeyFacts> {
    let mut facts: BTreeMap<String, KeyFacts> = BTreeMap::new();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let name = format!("{prefix}-{i}");
        i += 1;
        let entry = facts.entry(name.clone()).or_default();
        match c
            .send(tests::Method::POST, &format!("/v1/key/create/{name}"), None)
            .await
        {
            Ok(reply) if reply.status == 200 => entry.created = true,
            Ok(reply) => panic!("create {name}: {} {}", reply.status, reply.text()),
            Err(_) => {
                entry.uncertain = true;
                continue;
            }
        }
        for _ in 0..rng.range(1, 3) {
            let len = rng.range(1, 64) as usize;
            let plaintext = B64.encode(rng.bytes(len));
            let body = json!({"plaintext": plaintext, "context": B64.encode(name.as_bytes())});
            match c
                .send(
                    tests::Method::POST,
                    &format!("/v1/key/encrypt/{name}"),
                    Some(body.to_string().into_bytes()),
                )
                .await
            {
                Ok(reply) if reply.status == 200 => {
                    let ct = reply.json()["ciphertext"].as_str().unwrap().to_owned();
                    entry.ciphertexts.push((ct, plaintext));
                }
                Ok(reply) => panic!("encrypt {name}: {} {}", reply.status, reply.text()),
                Err(_) => break,
            }
        }
        // Delete every third key, a few keys back.
        if i % 3 == 0 && i >= 4 {
            let victim = format!("{prefix}-{}", i - 4);
            let Some(entry) = facts.get_mut(&victim) else {
                continue;
            };
            if !entry.created || entry.deleted {
                continue;
            }
            match c
                .send(
                    tests::Method::DELETE,
                    &format!("/v1/key/delete/{victim}"),
                    None,
                )
                .await
            {
                Ok(reply) if reply.status == 200 => entry.deleted = true,
                Ok(reply) => panic!("delete {victim}: {} {}", reply.status, reply.text()),
                Err(_) => entry.uncertain = true,
            }
        }
    }
    facts
}

/// Checks everything the clients learnt against the restarted server; returns the number of
/// keys checked and ciphertexts decrypted.
async fn verify(c: &Client, facts: &BTreeMap<String, KeyFacts>) -> (usize, usize) {
    let mut keys = 0;
    let mut decrypted = 0;
    for (name, f) in facts {
        if f.uncertain {
            continue;
        }
        if f.deleted {
            c.get(&format!("/v1/key/describe/{name}"))
                .await
                .assert_error(404, "key does not exist");
            continue;
        }
        if !f.created {
            continue;
        }
        keys += 1;
        let reply = c.get(&format!("/v1/key/describe/{name}")).await;
        assert_eq!(
            reply.status,
            200,
            "acknowledged key {name} lost: {}",
            reply.text()
        );
        for (ct, pt) in &f.ciphertexts {
            let body = json!({"ciphertext": ct, "context": B64.encode(name.as_bytes())});
            let reply = c
                .post(&format!("/v1/key/decrypt/{name}"), &body.to_string())
                .await;
            assert_eq!(
                reply.ok()["plaintext"].as_str(),
                Some(pt.as_str()),
                "{name} decrypts to something else"
            );
            decrypted += 1;
        }
    }
    // No partial key: every stored key, acknowledged or not, reads back.
    let names = c.get("/v1/key/list/").await.ok()["names"].clone();
    for name in names.as_array().unwrap() {
        let name = name.as_str().unwrap();
        let reply = c.get(&format!("/v1/key/describe/{name}")).await;
        assert_eq!(
            reply.status,
            200,
            "stored key {name} unreadable: {}",
            reply.text()
        );
    }
    (keys, decrypted)
}

/// Runs `kills` rounds of storm, SIGKILL at a random moment, restart and verify.
/// `before_restart` runs while the server is down and returns a figure to print (e.g. the
/// temporary files the kill left behind).
async fn crash_rounds(
    backend: &str,
    dir: &std::path::Path,
    keystore: &str,
    before_restart: impl Fn() -> String,
) {
    let kills: usize = std::env::var("KES_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let mut rng = Rng::from_env("KES_CRASH_SEED");
    eprintln!("{backend}: KES_CRASH_SEED={}", rng.seed);
    let mut kes = KesProcess::start(dir, keystore, "").await;
    let mut all: BTreeMap<String, KeyFacts> = BTreeMap::new();
    let started = Instant::now();
    for round in 0..kills {
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..6)
            .map(|w| {
                tokio::spawn(storm(
                    kes.client(),
                    format!("r{round}-w{w}"),
                    Rng::from_seed(rng.next()),
                    Arc::clone(&stop),
                ))
            })
            .collect();
        let delay = Duration::from_millis(rng.range(100, 1000));
        tokio::time::sleep(delay).await;
        kes.kill9();
        stop.store(true, Ordering::Relaxed);
        for worker in workers {
            all.extend(worker.await.unwrap());
        }
        let note = before_restart();
        kes.spawn().await;
        let c = kes.client();
        let status = c.get("/v1/status").await.ok();
        assert!(status.get("keystore_unreachable").is_none(), "{status}");
        let (keys, decrypted) = verify(&c, &all).await;
        eprintln!(
            "{backend}: kill {} after {delay:?}{note}: {keys} acknowledged keys and {decrypted} ciphertexts intact",
            round + 1
        );
    }
    let acknowledged = all.values().filter(|f| f.created).count();
    eprintln!(
        "{backend}: {kills} kills, {acknowledged} acknowledged creates, 0 lost, in {:?}",
        started.elapsed()
    );
    assert!(acknowledged > 0, "the storm created nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fs_keystore_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let section = format!("keystore:\n  fs:\n    path: {}\n", keys.display());
    let dir_for_count = keys.clone();
    crash_rounds("fs", dir.path(), &section, move || {
        // The kill may leave temporary files; the restart must remove them.
        let temps = std::fs::read_dir(&dir_for_count)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with('.')
            })
            .count();
        format!(" ({temps} temporary files left by the kill)")
    })
    .await;
    let leftovers: Vec<String> = std::fs::read_dir(&keys)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    for entry in std::fs::read_dir(&keys).unwrap() {
        let entry = entry.unwrap();
        assert!(
            entry.metadata().unwrap().len() > 0,
            "empty key file {:?}",
            entry.file_name()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keystore_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let section = format!(
        "keystore:\n  sqlite:\n    path: {}\n",
        dir.path().join("keys.db").display()
    );
    crash_rounds("sqlite", dir.path(), &section, String::new).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keystore_survives_sigkill() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let section = format!(
        "keystore:\n  postgres:\n    url: {}\n    table: crash_keys\n",
        pg.url()
    );
    crash_rounds("postgres", dir.path(), &section, String::new).await;
}
