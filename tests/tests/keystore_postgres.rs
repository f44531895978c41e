//! The SQL keystore against a real PostgreSQL: a throwaway cluster (`tests::backends::postgres`)
//! started by this test on 127.0.0.1 and a free port, trust authentication, fsync off, stopped
//! and removed afterwards. If PostgreSQL cannot be started the test fails; it never skips.
//! `scripts/install-peers` installs Debian's `postgresql` package when `initdb` is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use keystores::sql::SqlKeyStore;
use keystores::{Error, KeyStore};
use tests::TestServer;
use tests::backends::postgres::Postgres;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_keystore() {
    let started = Instant::now();
    let cluster = Postgres::start();
    eprintln!("cluster up in {:?}", started.elapsed());

    // The conformance suite, on a fresh default table created at first use.
    let store = Arc::new(SqlKeyStore::postgres(&cluster.url(), "kes_keys").unwrap());
    keystores::conformance::run(store.as_ref()).await.unwrap();
    keystores::conformance::concurrent_creates(store.clone(), 32)
        .await
        .unwrap();

    // Byte order, whatever the database's collation; LIKE wildcards are plain characters.
    let other = SqlKeyStore::postgres(&cluster.url(), "other_keys").unwrap();
    for name in ["b", "B", "a-b", "a_b", "aB", "a%", "ab"] {
        other.create(name, name.as_bytes()).await.unwrap();
    }
    assert_eq!(
        other.list("").await.unwrap(),
        ["B", "a%", "a-b", "aB", "a_b", "ab", "b"]
    );
    assert_eq!(other.list("a_").await.unwrap(), ["a_b"]);
    assert_eq!(other.list("a%").await.unwrap(), ["a%"]);
    // Tables are separate, and a second store on the same table sees the keys.
    assert!(store.list("").await.unwrap().is_empty());
    let reopened = SqlKeyStore::postgres(&cluster.url(), "other_keys").unwrap();
    assert_eq!(reopened.get("aB").await.unwrap().as_slice(), b"aB");

    // The server end to end, from a config with `keystore.postgres`.
    let section = format!(
        "keystore:\n  postgres:\n    url: {}\n    table: server_keys\n",
        cluster.url()
    );
    let server = TestServer::start_with_keystore(tempfile::tempdir().unwrap(), &section, "").await;
    let c = server.admin_client();
    c.post("/v1/key/create/pg-key", "").await.ok();
    c.post("/v1/key/create/pg-key", "")
        .await
        .assert_error(400, "key already exists");
    let dek = c.post("/v1/key/generate/pg-key", "{}").await.ok();
    let body = serde_json::json!({"ciphertext": dek["ciphertext"]}).to_string();
    let plain = c.post("/v1/key/decrypt/pg-key", &body).await.ok();
    assert_eq!(plain["plaintext"], dek["plaintext"]);
    server.stop().await;

    // A dead server: every operation fails fast with Unreachable, never hangs.
    let timeout = Duration::from_millis(500);
    let store = SqlKeyStore::postgres(&cluster.url(), "kes_keys")
        .unwrap()
        .with_timeout(timeout);
    store.status().await.unwrap();
    cluster.stop();
    assert!(!cluster.running());
    for _ in 0..2 {
        let start = Instant::now();
        let err = store.get("k").await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err}");
        assert!(start.elapsed() < timeout * 3, "{:?}", start.elapsed());
        let err = store.status().await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err}");
    }
    eprintln!("postgres test took {:?}", started.elapsed());
}
