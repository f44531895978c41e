//! End to end over real mTLS: the key cache in front of the fs keystore and the keystore
//! health check (spec §8, §3.2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use tests::{Client, TestServer, Value, json};

/// Long enough that no expiry timer fires during a test.
const KEEP: &str = "cache:\n  expiry:\n    any: 1h\n    unused: 1h\n";

/// Creates `name` and generates a data key with it, which puts the key into the cache. Returns
/// a decrypt request body for that data key and its plaintext.
async fn create_and_use(c: &Client, name: &str) -> (String, Value) {
    c.post(&format!("/v1/key/create/{name}"), "").await.ok();
    let dek = c
        .post(&format!("/v1/key/generate/{name}"), r#"{"context":"Y3R4"}"#)
        .await
        .ok();
    let body = json!({"ciphertext": dek["ciphertext"], "context": "Y3R4"}).to_string();
    (body, dek["plaintext"].clone())
}

#[tokio::test]
async fn cached_keys_outlive_their_files_until_deleted() {
    let server = TestServer::start(KEEP).await;
    let c = server.admin_client();

    let (body, plaintext) = create_and_use(&c, "cached").await;
    std::fs::remove_file(server.keystore_dir().join("cached")).unwrap();
    let reply = c.post("/v1/key/decrypt/cached", &body).await.ok();
    assert_eq!(reply["plaintext"], plaintext);
    assert_eq!(
        c.get("/v1/key/describe/cached").await.ok()["name"],
        "cached"
    );
    // List always asks the keystore.
    let names = c.get("/v1/key/list/*").await.ok()["names"].clone();
    assert_eq!(names, json!([]));

    // Create writes through without caching: a key never read is gone with its file.
    c.post("/v1/key/create/uncached", "").await.ok();
    std::fs::remove_file(server.keystore_dir().join("uncached")).unwrap();
    c.post("/v1/key/generate/uncached", "")
        .await
        .assert_error(404, "key does not exist");

    // Delete through the API evicts at once.
    let (body, _) = create_and_use(&c, "deleted").await;
    assert!(c.delete("/v1/key/delete/deleted").await.ok().is_null());
    c.post("/v1/key/decrypt/deleted", &body)
        .await
        .assert_error(404, "key does not exist");
    c.get("/v1/key/describe/deleted")
        .await
        .assert_error(404, "key does not exist");
    server.stop().await;
}

#[tokio::test]
async fn health_check_marks_a_removed_keystore_offline() {
    // `any` and `unused` keep entries; the offline timer drops them every second, but only once
    // the health check has marked the keystore offline. So a cached key that stops decrypting
    // shows that the health check ran.
    let server = TestServer::start(&format!("{KEEP}    offline: 1s\n")).await;
    let c = server.admin_client();
    let (body, plaintext) = create_and_use(&c, "my-key").await;
    c.get("/v1/ready").await.ok();

    std::fs::remove_dir_all(server.keystore_dir()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let reply = c.post("/v1/key/decrypt/my-key", &body).await;
        if reply.status.is_success() {
            assert_eq!(reply.json()["plaintext"], plaintext);
        } else {
            assert_eq!(
                reply.status,
                404,
                "{:?}",
                String::from_utf8_lossy(&reply.body)
            );
            break;
        }
        assert!(Instant::now() < deadline, "the health check never ran");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = c.get("/v1/status").await.ok();
    assert_eq!(status["keystore_unreachable"], true, "{status}");
    assert_eq!(status["keystore_unavailable"], true, "{status}");
    assert!(status.get("keystore_latency").is_none(), "{status}");
    c.get("/v1/ready")
        .await
        .assert_error(504, "key store is not reachable");
    server.stop().await;
}
