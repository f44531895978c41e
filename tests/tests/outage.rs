//! A keystore outage end to end (spec §8): our server on a real PostgreSQL keystore whose
//! database is stopped and started again in the middle of the test. With offline caching on,
//! cached keys keep decrypting while the database is down, everything else fails with the
//! spec's errors, status and readiness say so, the error log records both transitions, and
//! service resumes by itself when the database is back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use tests::backends::postgres::Postgres;
use tests::{Client, LineStream, TestServer, Value, json};

/// The health check runs every 10 s; a transition must be seen within two runs.
const HEALTH_DEADLINE: Duration = Duration::from_secs(25);

/// Creates `name` and generates a data key with it (which caches the key). Returns a decrypt
/// request body for that data key and its plaintext.
async fn create_and_use(c: &Client, name: &str) -> (String, Value) {
    c.post(&format!("/v1/key/create/{name}"), "").await.ok();
    let dek = c
        .post(
            &format!("/v1/key/generate/{name}"),
            r#"{"context":"b3V0YWdl"}"#,
        )
        .await
        .ok();
    let body = json!({"ciphertext": dek["ciphertext"], "context": "b3V0YWdl"}).to_string();
    (body, dek["plaintext"].clone())
}

/// Polls `/v1/status` until `keystore_unreachable` is `want`, failing after the deadline.
async fn wait_for_unreachable(c: &Client, want: bool) -> Value {
    let deadline = Instant::now() + HEALTH_DEADLINE;
    loop {
        let status = c.get("/v1/status").await.ok();
        // Like upstream, the field is left out when false.
        if (status["keystore_unreachable"] == true) == want {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "keystore_unreachable never became {want}: {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Reads error-log events until one contains `text`, failing after the deadline.
async fn wait_for_log(errors: &mut LineStream, text: &str) {
    let deadline = Instant::now() + HEALTH_DEADLINE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = tokio::time::timeout(left, errors.next_line())
            .await
            .unwrap_or_else(|_| panic!("no error-log event containing {text:?}"));
        if line.contains(text) {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cached_keys_serve_through_a_database_outage() {
    let pg = Postgres::start();
    let section = format!(
        "keystore:\n  postgres:\n    url: {}\n    table: outage_keys\n",
        pg.url()
    );
    let cache = "cache:\n  expiry:\n    any: 1h\n    unused: 1h\n    offline: 1h\n";
    let server =
        TestServer::start_with_keystore(tempfile::tempdir().unwrap(), &section, cache).await;
    let c = server.admin_client();
    let mut errors = c.stream("/v1/log/error").await;

    let (cached_body, cached_plain) = create_and_use(&c, "cached").await;
    c.post("/v1/key/create/uncached", "").await.ok();
    c.get("/v1/ready").await.ok();

    let phase = Instant::now();
    pg.stop();
    let status = wait_for_unreachable(&c, true).await;
    assert_eq!(status["keystore_unavailable"], true, "{status}");
    wait_for_log(&mut errors, "keystore is offline").await;
    c.get("/v1/ready")
        .await
        .assert_error(504, "key store is not reachable");

    // A cached key still decrypts and generates; every keystore operation fails with the
    // catalogue's 502 errors, never a hang.
    let reply = c.post("/v1/key/decrypt/cached", &cached_body).await.ok();
    assert_eq!(reply["plaintext"], cached_plain);
    c.post("/v1/key/generate/cached", "{}").await.ok();
    // (Concurrently: each waits for the keystore's bounded timeout.)
    let started = Instant::now();
    let (generate, create, delete, list) = tokio::join!(
        c.post("/v1/key/generate/uncached", "{}"),
        c.post("/v1/key/create/new-key", ""),
        c.delete("/v1/key/delete/uncached"),
        c.get("/v1/key/list/*"),
    );
    generate.assert_error(502, "failed to read key");
    create.assert_error(502, "failed to create key");
    delete.assert_error(502, "failed to delete key");
    list.assert_error(502, "failed to list keys");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "keystore errors took {:?}",
        started.elapsed()
    );

    eprintln!("outage phase took {:?}", phase.elapsed());

    // The database returns: service resumes without a restart, and nothing was lost.
    let phase = Instant::now();
    pg.restart();
    wait_for_unreachable(&c, false).await;
    eprintln!("recovery took {:?}", phase.elapsed());
    wait_for_log(&mut errors, "keystore is online again").await;
    c.get("/v1/ready").await.ok();
    c.post("/v1/key/generate/uncached", "{}").await.ok();
    c.post("/v1/key/create/new-key", "").await.ok();
    let names = c.get("/v1/key/list/*").await.ok()["names"].clone();
    assert_eq!(names, json!(["cached", "new-key", "uncached"]));
    let reply = c.post("/v1/key/decrypt/cached", &cached_body).await.ok();
    assert_eq!(reply["plaintext"], cached_plain);
    server.stop().await;
}
