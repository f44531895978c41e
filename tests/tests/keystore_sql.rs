//! The SQL keystores end to end: the server started from a config with `keystore.sqlite`
//! creates keys, encrypts and decrypts with them, and finds them again after a restart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tests::TestServer;

fn sqlite_section(db: &std::path::Path) -> String {
    format!("keystore:\n  sqlite:\n    path: {}\n", db.display())
}

#[tokio::test]
async fn server_with_sqlite_keystore_creates_and_decrypts() {
    let keys = tempfile::tempdir().unwrap();
    let db = keys.path().join("keys.db");
    let server =
        TestServer::start_with_keystore(tempfile::tempdir().unwrap(), &sqlite_section(&db), "")
            .await;
    let c = server.admin_client();
    c.post("/v1/key/create/my-key", "").await.ok();
    c.post("/v1/key/create/my-key", "")
        .await
        .assert_error(400, "key already exists");
    let dek = c
        .post("/v1/key/generate/my-key", r#"{"context":"YnVja2V0"}"#)
        .await
        .ok();
    let body = serde_json::json!({"ciphertext": dek["ciphertext"], "context": "YnVja2V0"});
    let plain = c
        .post("/v1/key/decrypt/my-key", &body.to_string())
        .await
        .ok();
    assert_eq!(plain["plaintext"], dek["plaintext"]);
    let status = c.get("/v1/status").await.ok();
    assert!(status["keystore_latency"].is_u64(), "{status}");
    server.stop().await;

    // A new server on the same database file decrypts the same ciphertext.
    let server =
        TestServer::start_with_keystore(tempfile::tempdir().unwrap(), &sqlite_section(&db), "")
            .await;
    let c = server.admin_client();
    let again = c
        .post("/v1/key/decrypt/my-key", &body.to_string())
        .await
        .ok();
    assert_eq!(again["plaintext"], dek["plaintext"]);
    let list = c.get("/v1/key/list/*").await.text();
    assert!(list.contains("my-key"), "{list}");
    c.delete("/v1/key/delete/my-key").await.ok();
    c.delete("/v1/key/delete/my-key")
        .await
        .assert_error(404, "key does not exist");
    server.stop().await;
}

#[tokio::test]
async fn the_table_is_created_at_startup() {
    let keys = tempfile::tempdir().unwrap();
    let db = keys.path().join("keys.db");
    let server =
        TestServer::start_with_keystore(tempfile::tempdir().unwrap(), &sqlite_section(&db), "")
            .await;
    // No request yet: the startup probe created the database and its table (the schema may
    // still be in the write-ahead log).
    let mut bytes = std::fs::read(&db).unwrap();
    bytes.extend(std::fs::read(keys.path().join("keys.db-wal")).unwrap_or_default());
    let schema = String::from_utf8_lossy(&bytes);
    assert!(
        schema.contains("CREATE TABLE \"kes_keys\""),
        "no table in {}",
        db.display()
    );
    server.stop().await;
}
