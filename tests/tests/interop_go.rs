//! Interop with the real upstream Go KES v0.24.0: its `kes` CLI against our server, and data
//! compatibility both ways with its server on a shared fs keystore directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Stdio;

use tests::compat::{self, Cells, Op};
use tests::{CertFiles, Client, GoServer, TestServer, Value, go_kes, json};

/// Runs the Go `kes` CLI with `env` and `args`; returns stdout, panicking with stderr on failure.
async fn go_cli(env: &[(&str, &str)], args: &[&str]) -> String {
    let out = tokio::process::Command::new(go_kes())
        .args(args)
        .env_clear()
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "kes {args:?} failed: {}\nstdout: {stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The CLI's commands against our server, authenticated as `auth` says (a matrix cell).
async fn cli_session(env: &[(&str, &str)], tag: &str, auth: Op) {
    use Op::*;
    let ops = [
        auth,
        CreateKey,
        ListKeys,
        DescribeKey,
        GenerateDek,
        Decrypt,
        Encrypt,
        Status,
        Identity,
        DeleteKey,
    ];
    let mut cells = Cells::new(&[compat::kes_cli(""), compat::kms_go("")], &ops);
    let key = format!("go-cli-{tag}");
    go_cli(env, &["key", "create", &key, "-k"]).await;
    cells.pass(CreateKey);
    let ls = go_cli(env, &["key", "ls", "-k", "--json"]).await;
    assert!(ls.contains(&key), "{ls}");
    let ls = go_cli(env, &["ls", "-k"]).await;
    assert!(ls.contains(&key), "{ls}");
    cells.pass(ListKeys);

    let info: Value =
        serde_json::from_str(&go_cli(env, &["key", "info", &key, "-k", "--json"]).await).unwrap();
    assert_eq!(info["name"], key, "{info}");
    cells.pass(DescribeKey);

    let dek: Value = serde_json::from_str(&go_cli(env, &["key", "dek", &key, "-k"]).await).unwrap();
    let decrypted: Value = serde_json::from_str(
        &go_cli(
            env,
            &[
                "key",
                "decrypt",
                &key,
                dek["ciphertext"].as_str().unwrap(),
                "-k",
            ],
        )
        .await,
    )
    .unwrap();
    assert_eq!(decrypted["plaintext"], dek["plaintext"]);
    cells.pass(GenerateDek);

    let enc: Value =
        serde_json::from_str(&go_cli(env, &["key", "encrypt", &key, "hello world", "-k"]).await)
            .unwrap();
    let dec: Value = serde_json::from_str(
        &go_cli(
            env,
            &[
                "key",
                "decrypt",
                &key,
                enc["ciphertext"].as_str().unwrap(),
                "-k",
            ],
        )
        .await,
    )
    .unwrap();
    assert_eq!(dec["plaintext"], "aGVsbG8gd29ybGQ=");
    cells.pass(Encrypt);
    cells.pass(Decrypt);

    let status = go_cli(env, &["status", "-k", "--json"]).await;
    assert!(status.contains("version"), "{status}");
    cells.pass(Status);
    let identity = go_cli(env, &["identity", "info", "-k", "--json"]).await;
    assert!(!identity.is_empty());
    cells.pass(Identity);

    go_cli(env, &["key", "rm", &key, "-k"]).await;
    let ls = go_cli(env, &["key", "ls", "-k", "--json"]).await;
    assert!(!ls.contains(&key), "{ls}");
    cells.pass(DeleteKey);
    cells.pass(auth);
}

#[tokio::test]
async fn go_cli_with_an_api_key() {
    let server = TestServer::start("").await;
    let api_key = server.admin.to_text();
    let url = server.url();
    let env = [
        ("KES_SERVER", url.as_str()),
        ("KES_API_KEY", api_key.as_str()),
    ];
    cli_session(&env, "apikey", Op::ApiKeyAuth).await;
    let identity = go_cli(&env, &["identity", "info", "-k"]).await;
    assert!(
        identity.contains(&server.admin.identity().to_string()),
        "{identity}"
    );
    server.stop().await;
}

#[tokio::test]
async fn go_cli_with_certificate_files() {
    let dir = tempfile::tempdir().unwrap();
    let user = CertFiles::generate(dir.path(), "client", "client");
    let config = format!(
        "policy:\n  cli:\n    allow:\n    - /v1/*\n    identities:\n    - {}\n",
        user.identity()
    );
    let server = TestServer::start(&config).await;
    let url = server.url();
    let (cert, key) = (user.cert.to_str().unwrap(), user.key.to_str().unwrap());
    let env = [
        ("KES_SERVER", url.as_str()),
        ("KES_CLIENT_CERT", cert),
        ("KES_CLIENT_KEY", key),
    ];
    cli_session(&env, "cert", Op::CertAuth).await;
    server.stop().await;
}

#[tokio::test]
async fn data_compatibility_with_the_go_server() {
    let mut cells = Cells::new(
        &[compat::kes_server("")],
        &[Op::SharedKeystore, Op::SameErrors],
    );
    let ours = TestServer::start("").await;
    let keystore = ours.keystore_dir();
    let go = GoServer::start(ours.dir.path(), &keystore, &ours.server_cert, &ours.admin).await;
    let theirs = Client::with_api_key(&go.url, &ours.admin, Some(&ours.server_cert.cert_der));
    let mine = ours.admin_client();

    // Keys created and imported by upstream, and its ciphertexts, work on ours.
    theirs.post("/v1/key/create/from-go", "").await.ok();
    theirs
        .post(
            "/v1/key/import/imported-by-go",
            &json!({"key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "cipher": "AES256"})
                .to_string(),
        )
        .await
        .ok();
    let dek = theirs
        .post("/v1/key/generate/from-go", r#"{"context":"Y3R4"}"#)
        .await
        .ok();
    let ct = theirs
        .post(
            "/v1/key/encrypt/imported-by-go",
            r#"{"plaintext":"aGVsbG8="}"#,
        )
        .await
        .ok();
    let body = json!({"ciphertext": dek["ciphertext"], "context": "Y3R4"}).to_string();
    assert_eq!(
        mine.post("/v1/key/decrypt/from-go", &body).await.ok()["plaintext"],
        dek["plaintext"]
    );
    let body = json!({"ciphertext": ct["ciphertext"]}).to_string();
    assert_eq!(
        mine.post("/v1/key/decrypt/imported-by-go", &body)
            .await
            .ok()["plaintext"],
        "aGVsbG8="
    );
    let msg = r#"{"message":"aGk="}"#;
    assert_eq!(
        theirs.put("/v1/key/hmac/from-go", msg).await.ok(),
        mine.put("/v1/key/hmac/from-go", msg).await.ok()
    );
    let (a, b) = (
        theirs.get("/v1/key/describe/from-go").await.ok(),
        mine.get("/v1/key/describe/from-go").await.ok(),
    );
    assert_eq!(a, b, "describe differs");

    // And the other way round.
    mine.post("/v1/key/create/from-rust", "").await.ok();
    mine.post(
        "/v1/key/import/imported-by-rust",
        &json!({"key": "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", "cipher": "AES256"})
            .to_string(),
    )
    .await
    .ok();
    let dek = mine
        .post("/v1/key/generate/from-rust", r#"{"context":"Y3R4"}"#)
        .await
        .ok();
    let ct = mine
        .post(
            "/v1/key/encrypt/imported-by-rust",
            r#"{"plaintext":"aGVsbG8="}"#,
        )
        .await
        .ok();
    let body = json!({"ciphertext": dek["ciphertext"], "context": "Y3R4"}).to_string();
    assert_eq!(
        theirs.post("/v1/key/decrypt/from-rust", &body).await.ok()["plaintext"],
        dek["plaintext"]
    );
    let body = json!({"ciphertext": ct["ciphertext"]}).to_string();
    assert_eq!(
        theirs
            .post("/v1/key/decrypt/imported-by-rust", &body)
            .await
            .ok()["plaintext"],
        "aGVsbG8="
    );
    assert_eq!(
        theirs.put("/v1/key/hmac/from-rust", msg).await.ok(),
        mine.put("/v1/key/hmac/from-rust", msg).await.ok()
    );
    let (a, b) = (
        theirs.get("/v1/key/describe/from-rust").await.ok(),
        mine.get("/v1/key/describe/from-rust").await.ok(),
    );
    assert_eq!(a, b, "describe differs");

    // Both list the same keys, and agree on the errors clients compare.
    assert_eq!(
        theirs.get("/v1/key/list/*").await.ok()["names"],
        mine.get("/v1/key/list/*").await.ok()["names"]
    );
    cells.pass(Op::SharedKeystore);
    for (method, path, body) in [
        ("POST", "/v1/key/create/from-go", ""),
        ("GET", "/v1/key/describe/missing", ""),
        (
            "POST",
            "/v1/key/decrypt/from-go",
            r#"{"ciphertext":"AAAA"}"#,
        ),
        ("POST", "/v1/key/create/bad.name", ""),
        ("GET", "/v1/key/create/x", ""),
    ] {
        let method: tests::Method = method.parse().unwrap();
        let a = theirs
            .send(method.clone(), path, Some(body.as_bytes().to_vec()))
            .await
            .unwrap();
        let b = mine
            .send(method, path, Some(body.as_bytes().to_vec()))
            .await
            .unwrap();
        assert_eq!((a.status, a.json()), (b.status, b.json()), "{path}");
    }
    cells.pass(Op::SameErrors);
    drop(go);
    ours.stop().await;
}
