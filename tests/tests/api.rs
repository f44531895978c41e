//! End to end over real mTLS: every route, every error of the catalogue, the policy matrix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kes_client::ApiKey;
use tests::{CertFiles, Client, Method, TestServer, Value, json};

const B64_32_ZERO: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

#[tokio::test]
async fn version_needs_no_policy() {
    let server = TestServer::start("").await;
    let stranger = server.client(&ApiKey::generate().unwrap());
    let reply = stranger.get("/version").await;
    let body = reply.ok();
    assert_eq!(reply.content_type, "application/json");
    assert!(!body["version"].as_str().unwrap().is_empty());
    assert!(!body["commit"].as_str().unwrap().is_empty());
    assert!(reply.body.ends_with(b"\n"));
    server.stop().await;
}

#[tokio::test]
async fn key_lifecycle() {
    let server = TestServer::start("").await;
    let c = server.admin_client();

    let reply = c.post("/v1/key/create/my-key", "").await;
    assert!(reply.ok().is_null());
    assert_eq!(reply.headers["content-length"], "0");
    c.post("/v1/key/create/my-key", "")
        .await
        .assert_error(400, "key already exists");
    c.put("/v1/key/create/other-key", "").await.ok();

    let desc = c.get("/v1/key/describe/my-key").await.ok();
    assert_eq!(desc["name"], "my-key");
    assert!(matches!(
        desc["algorithm"].as_str().unwrap(),
        "AES256" | "ChaCha20"
    ));
    assert_eq!(desc["created_by"], server.admin.identity().to_string());
    assert!(desc["created_at"].as_str().unwrap().ends_with('Z'));

    // generate, then decrypt the DEK with and without its context
    let dek = c
        .post("/v1/key/generate/my-key", r#"{"context":"Y3R4"}"#)
        .await
        .ok();
    let plaintext = dek["plaintext"].as_str().unwrap();
    let ciphertext = dek["ciphertext"].as_str().unwrap();
    assert_eq!(dek.as_object().unwrap().len(), 2, "no version field: {dek}");
    let body = json!({"ciphertext": ciphertext, "context": "Y3R4"}).to_string();
    assert_eq!(
        c.post("/v1/key/decrypt/my-key", &body).await.ok()["plaintext"],
        plaintext
    );
    let body = json!({"ciphertext": ciphertext}).to_string();
    c.post("/v1/key/decrypt/my-key", &body)
        .await
        .assert_error(400, "decryption failed: ciphertext is not authentic");
    let body = json!({"ciphertext": ciphertext, "context": "Y3R4"}).to_string();
    c.post("/v1/key/decrypt/other-key", &body)
        .await
        .assert_error(400, "decryption failed: ciphertext is not authentic");

    // generate without a body, with an empty object, and via PUT
    for (method, body) in [
        (Method::POST, None),
        (Method::POST, Some("{}")),
        (Method::PUT, Some(r#"{"version":"v1"}"#)),
    ] {
        let reply = c
            .send(
                method,
                "/v1/key/generate/my-key",
                body.map(|b| b.as_bytes().to_vec()),
            )
            .await
            .unwrap();
        let dek = reply.ok();
        let body = json!({"ciphertext": dek["ciphertext"]}).to_string();
        assert_eq!(
            c.post("/v1/key/decrypt/my-key", &body).await.ok()["plaintext"],
            dek["plaintext"]
        );
    }

    // encrypt / decrypt
    let ct = c
        .post(
            "/v1/key/encrypt/my-key",
            r#"{"plaintext":"aGVsbG8=","context":"YQ=="}"#,
        )
        .await
        .ok();
    let ct = ct["ciphertext"].as_str().unwrap().to_owned();
    let body = json!({"ciphertext": ct, "context": "YQ=="}).to_string();
    assert_eq!(
        c.post("/v1/key/decrypt/my-key", &body).await.ok()["plaintext"],
        "aGVsbG8="
    );

    // bulk decrypt keeps order
    let body = json!([{"ciphertext": ct, "context": "YQ=="}, {"ciphertext": ciphertext, "context": "Y3R4"}]).to_string();
    let plain = c.post("/v1/key/bulk/decrypt/my-key", &body).await.ok();
    assert_eq!(
        plain,
        json!([{"plaintext": "aGVsbG8="}, {"plaintext": plaintext}])
    );
    let too_many: Vec<Value> = (0..1001).map(|_| json!({"ciphertext": ct})).collect();
    c.post(
        "/v1/key/bulk/decrypt/my-key",
        &Value::from(too_many).to_string(),
    )
    .await
    .assert_error(400, "too many ciphertexts");

    // hmac is deterministic per key, differs between keys, uses PUT (and POST)
    let a = c
        .put("/v1/key/hmac/my-key", r#"{"message":"aGk="}"#)
        .await
        .ok();
    let b = c
        .post("/v1/key/hmac/my-key", r#"{"message":"aGk="}"#)
        .await
        .ok();
    let other = c
        .put("/v1/key/hmac/other-key", r#"{"message":"aGk="}"#)
        .await
        .ok();
    assert_eq!(a, b);
    assert_ne!(a, other);

    // list: prefix semantics
    for (pattern, want) in [
        ("", json!(["my-key", "other-key"])),
        ("*", json!(["my-key", "other-key"])),
        ("my*", json!(["my-key"])),
        ("my", json!(["my-key"])),
        ("zzz", json!([])),
    ] {
        let list = c.get(&format!("/v1/key/list/{pattern}")).await.ok();
        assert_eq!(list["names"], want, "pattern {pattern:?}");
    }
    assert_eq!(
        c.get("/v1/key/list/%2A").await.ok()["names"],
        json!(["my-key", "other-key"])
    );
    assert_eq!(
        c.get("/v1/key/list").await.ok()["names"],
        json!(["my-key", "other-key"])
    );

    // delete
    assert!(c.delete("/v1/key/delete/my-key").await.ok().is_null());
    c.delete("/v1/key/delete/my-key")
        .await
        .assert_error(404, "key does not exist");
    for path in ["/v1/key/describe/my-key"] {
        c.get(path).await.assert_error(404, "key does not exist");
    }
    for path in [
        "/v1/key/generate/my-key",
        "/v1/key/encrypt/my-key",
        "/v1/key/decrypt/my-key",
        "/v1/key/hmac/my-key",
    ] {
        c.post(path, r#"{"plaintext":"","ciphertext":"","message":""}"#)
            .await
            .assert_error(404, "key does not exist");
    }
    server.stop().await;
}

#[tokio::test]
async fn import_rules() {
    let server = TestServer::start("").await;
    let c = server.admin_client();
    c.post(
        "/v1/key/import/imported",
        &json!({"key": B64_32_ZERO, "cipher": "AES256"}).to_string(),
    )
    .await
    .ok();
    assert_eq!(
        c.get("/v1/key/describe/imported").await.ok()["algorithm"],
        "AES256"
    );
    // v0.22 aliases and the ChaCha20 spellings
    c.post(
        "/v1/key/import/legacy-alias",
        &json!({"bytes": B64_32_ZERO, "algorithm": "XCHACHA20-POLY1305"}).to_string(),
    )
    .await
    .ok();
    assert_eq!(
        c.get("/v1/key/describe/legacy-alias").await.ok()["algorithm"],
        "ChaCha20"
    );
    c.post(
        "/v1/key/import/no-cipher",
        &json!({"key": B64_32_ZERO}).to_string(),
    )
    .await
    .ok();
    assert_eq!(
        c.get("/v1/key/describe/no-cipher").await.ok()["algorithm"],
        "AES256"
    );

    c.post(
        "/v1/key/import/imported",
        &json!({"key": B64_32_ZERO, "cipher": "AES256"}).to_string(),
    )
    .await
    .assert_error(400, "key already exists");
    c.post(
        "/v1/key/import/x",
        &json!({"key": B64_32_ZERO, "cipher": "DES"}).to_string(),
    )
    .await
    .assert_error(406, "algorithm 'DES' is not supported");
    c.post(
        "/v1/key/import/x",
        &json!({"key": "AAAA", "cipher": "AES256"}).to_string(),
    )
    .await
    .assert_error(406, "invalid key size for 'AES256'");
    for bad in ["{", r#"{"key":5}"#, r#"{"key":"!!"}"#, "[]", ""] {
        c.post("/v1/key/import/x", bad)
            .await
            .assert_error(400, "invalid import key request body");
    }
    // two imports of the same bytes encrypt identically-decryptable data but HMAC differently
    c.post(
        "/v1/key/import/imported-2",
        &json!({"key": B64_32_ZERO}).to_string(),
    )
    .await
    .ok();
    let ct = c
        .post("/v1/key/encrypt/imported", r#"{"plaintext":"aGk="}"#)
        .await
        .ok();
    let body = json!({"ciphertext": ct["ciphertext"]}).to_string();
    assert_eq!(
        c.post("/v1/key/decrypt/imported-2", &body).await.ok()["plaintext"],
        "aGk="
    );
    let h1 = c
        .put("/v1/key/hmac/imported", r#"{"message":"aGk="}"#)
        .await
        .ok();
    let h2 = c
        .put("/v1/key/hmac/imported-2", r#"{"message":"aGk="}"#)
        .await
        .ok();
    assert_ne!(h1, h2);
    server.stop().await;
}

#[tokio::test]
async fn bad_input_is_rejected_and_loses_nothing() {
    let server = TestServer::start("").await;
    let c = server.admin_client();
    c.post("/v1/key/create/kept", "").await.ok();
    let ct = c
        .post(
            "/v1/key/encrypt/kept",
            r#"{"plaintext":"c2VjcmV0","context":"Yw=="}"#,
        )
        .await
        .ok();
    let ct = ct["ciphertext"].as_str().unwrap().to_owned();
    let before = tests::dir_files(&server.keystore_dir());

    // malformed JSON, wrong types, bad base64 on every body route
    for route in ["generate", "encrypt", "decrypt", "hmac"] {
        for bad in [
            "{",
            "nonsense",
            r#"{"plaintext":5,"ciphertext":5,"context":5,"message":5}"#,
            r#"{"plaintext":"%%%","ciphertext":"%%%","context":"%%%","message":"%%%"}"#,
            r#"{"plaintext":"aGk","ciphertext":"aGk","context":"aGk","message":"aGk"}"#,
            "[1,2]",
        ] {
            c.post(&format!("/v1/key/{route}/kept"), bad)
                .await
                .assert_error(400, "invalid request body");
        }
    }
    for route in ["encrypt", "decrypt", "hmac", "import"] {
        let reply = c.post(&format!("/v1/key/{route}/kept"), "").await;
        assert_eq!(reply.status.as_u16(), 400, "{route}: {}", reply.text());
    }
    // bodies over 1 MB
    let huge = format!(r#"{{"plaintext":"{}"}}"#, "A".repeat(1_000_000));
    c.post("/v1/key/encrypt/kept", &huge)
        .await
        .assert_error(400, "invalid request body");
    c.post(
        "/v1/key/import/big",
        &format!(r#"{{"key":"{}"}}"#, "A".repeat(1_000_000)),
    )
    .await
    .assert_error(400, "invalid import key request body");

    // illegal and path-traversal names
    for (raw, shown) in [
        ("..%2F..%2Fetc%2Fpasswd", "../../etc/passwd"),
        ("a%2Fb", "a/b"),
        ("-leading", "-leading"),
        ("trailing-", "trailing-"),
        ("_", "_"),
        ("has.dot", "has.dot"),
        ("%C3%A4", "ä"),
        (&"x".repeat(81), &"x".repeat(81)),
        ("a%20b", "a b"),
    ] {
        let msg = format!("key name '{shown}' is empty, too long or contains invalid characters");
        c.post(&format!("/v1/key/create/{raw}"), "")
            .await
            .assert_error(400, &msg);
        c.get(&format!("/v1/key/describe/{raw}"))
            .await
            .assert_error(400, &msg);
        c.delete(&format!("/v1/key/delete/{raw}"))
            .await
            .assert_error(400, &msg);
    }
    c.post("/v1/key/create/", "").await.assert_error(
        400,
        "key name '' is empty, too long or contains invalid characters",
    );
    c.get("/v1/key/list/a*b").await.assert_error(
        400,
        "listing pattern 'a*b' is empty, too long or is invalid",
    );

    // tampered, truncated and re-contexted ciphertexts
    let raw = base64_decode(&ct);
    let mut flipped = raw.clone();
    flipped[0] ^= 1;
    let mut flipped_nonce = raw.clone();
    *flipped_nonce.last_mut().unwrap() ^= 1;
    for bad in [
        json!({"ciphertext": base64_encode(&flipped), "context": "Yw=="}),
        json!({"ciphertext": base64_encode(&flipped_nonce), "context": "Yw=="}),
        json!({"ciphertext": base64_encode(&raw[..raw.len() - 1]), "context": "Yw=="}),
        json!({"ciphertext": base64_encode(&raw[..28]), "context": "Yw=="}),
        json!({"ciphertext": "", "context": "Yw=="}),
        json!({"ciphertext": ct, "context": "ZA=="}),
        json!({"ciphertext": ct}),
        json!({"ciphertext": base64_encode(br#"{"aead":"AES-256-GCM","iv":"","nonce":"","bytes":""}"#)}),
    ] {
        c.post("/v1/key/decrypt/kept", &bad.to_string())
            .await
            .assert_error(400, "decryption failed: ciphertext is not authentic");
    }

    assert_eq!(
        before,
        tests::dir_files(&server.keystore_dir()),
        "a failed request changed the keystore"
    );
    let body = json!({"ciphertext": ct, "context": "Yw=="}).to_string();
    assert_eq!(
        c.post("/v1/key/decrypt/kept", &body).await.ok()["plaintext"],
        "c2VjcmV0"
    );
    server.stop().await;
}

#[tokio::test]
async fn legacy_keys_without_hmac() {
    let server = TestServer::start("").await;
    let c = server.admin_client();
    // A key file as KES <= v0.19.1 wrote it.
    std::fs::write(
        server.keystore_dir().join("legacy"),
        format!(r#"{{"bytes":"{B64_32_ZERO}"}}"#),
    )
    .unwrap();
    c.put("/v1/key/hmac/legacy", r#"{"message":"aGk="}"#)
        .await
        .assert_error(409, "key does not support HMAC");
    let desc = c.get("/v1/key/describe/legacy").await.ok();
    assert_eq!(
        desc,
        json!({"name": "legacy", "algorithm": "AES256", "created_at": "0001-01-01T00:00:00Z"})
    );
    // The repository's JSON ciphertext for the zero key decrypts (vector secret_key_decrypt#0).
    let vectors: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/vectors/kes.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let vector = &vectors["secret_key_decrypt"]["vectors"][0];
    assert_eq!(vector["key_b64"], B64_32_ZERO);
    let ct = vector["ciphertext_text"].as_str().unwrap();
    let reply = c
        .post(
            "/v1/key/decrypt/legacy",
            &json!({"ciphertext": base64_encode(ct.as_bytes())}).to_string(),
        )
        .await;
    assert_eq!(reply.ok()["plaintext"], vector["expect"]["plaintext_b64"]);
    // Reading never rewrites the legacy value.
    assert_eq!(
        std::fs::read_to_string(server.keystore_dir().join("legacy")).unwrap(),
        format!(r#"{{"bytes":"{B64_32_ZERO}"}}"#)
    );
    server.stop().await;
}

#[tokio::test]
async fn routing_errors() {
    let server = TestServer::start("").await;
    let c = server.admin_client();
    let reply = c.get("/v1/key/create/x").await;
    reply.assert_error(405, "received method 'GET' expected 'PUT'");
    assert_eq!(reply.headers["accept"], "PUT");
    c.post("/v1/status", "")
        .await
        .assert_error(405, "received method 'POST' expected 'GET'");
    c.get("/v1/key/delete/x")
        .await
        .assert_error(405, "received method 'GET' expected 'DELETE'");

    let reply = c.get("/v1/unknown").await;
    assert_eq!(reply.status.as_u16(), 404);
    assert_eq!(reply.content_type, "text/plain; charset=utf-8");
    assert_eq!(reply.text(), "404 page not found\n");

    let reply = c.post("/v1/key/create", "").await;
    assert_eq!(reply.status.as_u16(), 301);
    assert_eq!(reply.headers["location"], "/v1/key/create/");
    let reply = c.get("/v1//status").await;
    assert_eq!(reply.status.as_u16(), 301);
    assert_eq!(reply.headers["location"], "/v1/status");
    server.stop().await;
}

#[tokio::test]
async fn policy_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let allowed = ApiKey::generate().unwrap();
    let cert_user = CertFiles::generate(dir.path(), "user", "user");
    let config = format!(
        "policy:\n  my-app:\n    allow:\n    - /v1/key/create/my-app*\n    - /v1/key/generate/my-app*\n    - /v1/key/decrypt/my-app*\n    - /v1/key/describe/*\n    - /v1/status\n    deny:\n    - /v1/key/generate/my-app-internal*\n    identities:\n    - {}\n  cert-policy:\n    allow:\n    - /v1/key/list/*\n    identities:\n    - {}\n",
        allowed.identity(),
        cert_user.identity()
    );
    let server = TestServer::start(&config).await;
    let admin = server.admin_client();
    let app = server.client(&allowed);
    let by_cert = server.client_with_cert(&cert_user);
    let stranger = server.client(&ApiKey::generate().unwrap());
    const DENIED: &str = "not authorized: insufficient permissions";

    app.post("/v1/key/create/my-app-key", "").await.ok();
    app.post("/v1/key/create/my-app-internal", "").await.ok();
    app.post("/v1/key/generate/my-app-key", "{}").await.ok();
    app.get("/v1/status").await.ok();
    app.post("/v1/key/generate/my-app-internal", "{}")
        .await
        .assert_error(403, DENIED);
    app.post("/v1/key/create/other", "")
        .await
        .assert_error(403, DENIED);
    app.delete("/v1/key/delete/my-app-key")
        .await
        .assert_error(403, DENIED);
    app.get("/v1/metrics").await.assert_error(403, DENIED);
    // policy before name validation
    app.post("/v1/key/create/bad.name", "")
        .await
        .assert_error(403, DENIED);
    app.post("/v1/key/create/my-app.bad", "")
        .await
        .assert_error(
            400,
            "key name 'my-app.bad' is empty, too long or contains invalid characters",
        );

    assert_eq!(
        by_cert.get("/v1/key/list/*").await.ok()["names"],
        json!(["my-app-internal", "my-app-key"])
    );
    by_cert
        .get("/v1/key/describe/my-app-key")
        .await
        .assert_error(403, DENIED);

    for path in [
        "/v1/status",
        "/v1/key/describe/my-app-key",
        "/v1/key/list/*",
        "/v1/ready",
        "/v1/api",
    ] {
        stranger.get(path).await.assert_error(403, DENIED);
    }
    stranger
        .post("/v1/key/create/my-app-x", "")
        .await
        .assert_error(403, DENIED);
    stranger
        .get("/v1/identity/self/describe")
        .await
        .assert_error(404, "identity does not exist");
    stranger.get("/version").await.ok();

    for path in [
        "/v1/status",
        "/v1/ready",
        "/v1/api",
        "/v1/metrics",
        "/v1/key/list/",
        "/v1/policy/list/",
        "/v1/identity/list/",
    ] {
        let reply = admin.get(path).await;
        assert_eq!(reply.status.as_u16(), 200, "{path}: {}", reply.text());
    }

    // self-describe: admin and flat non-admin form
    let me = admin.get("/v1/identity/self/describe").await.ok();
    assert_eq!(me["identity"], server.admin.identity().to_string());
    assert_eq!(me["admin"], true);
    let me = app.get("/v1/identity/self/describe").await.ok();
    assert_eq!(me["identity"], allowed.identity().to_string());
    assert_eq!(me["policy"], "my-app");
    assert_eq!(me["created_by"], server.admin.identity().to_string());
    assert_eq!(me["allow"]["/v1/key/create/my-app*"], json!({}));
    assert_eq!(me["deny"]["/v1/key/generate/my-app-internal*"], json!({}));
    assert!(me.get("admin").is_none());

    // policy and identity routes
    let policy = admin.get("/v1/policy/read/my-app").await.ok();
    assert_eq!(policy["name"], "my-app");
    assert_eq!(policy["allow"].as_object().unwrap().len(), 5);
    assert_eq!(policy["created_by"], server.admin.identity().to_string());
    let desc = admin.get("/v1/policy/describe/my-app").await.ok();
    assert_eq!(
        desc.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["created_at", "created_by", "name"]
    );
    admin
        .get("/v1/policy/describe/nope")
        .await
        .assert_error(404, "policy does not exist");
    admin.get("/v1/policy/read/bad.name").await.assert_error(
        400,
        "policy name 'bad.name' is empty, too long or contains invalid characters",
    );
    assert_eq!(
        admin.get("/v1/policy/list/").await.ok()["names"],
        json!(["cert-policy", "my-app"])
    );
    assert_eq!(
        admin.get("/v1/policy/list/my*").await.ok()["names"],
        json!(["my-app"])
    );

    let id = admin
        .get(&format!("/v1/identity/describe/{}", allowed.identity()))
        .await
        .ok();
    assert_eq!(id["policy"], "my-app");
    let id = admin
        .get(&format!(
            "/v1/identity/describe/{}",
            server.admin.identity()
        ))
        .await
        .ok();
    assert_eq!(id["admin"], true);
    admin
        .get("/v1/identity/describe/abcdef")
        .await
        .assert_error(404, "identity does not exist");
    admin.get("/v1/identity/describe/a.b").await.assert_error(
        400,
        "identity 'a.b' is empty, too long or contains invalid characters",
    );
    let ids = admin.get("/v1/identity/list/*").await.ok();
    let mut want = vec![
        server.admin.identity().to_string(),
        allowed.identity().to_string(),
        cert_user.identity(),
    ];
    want.sort();
    assert_eq!(ids["identities"], json!(want));
    server.stop().await;
}

#[tokio::test]
async fn status_api_metrics() {
    let server = TestServer::start("keys:\n  - name: declared-key\n").await;
    let c = server.admin_client();
    // declarative keys exist at startup
    c.get("/v1/key/describe/declared-key").await.ok();

    let status = c.get("/v1/status").await.ok();
    for field in [
        "version",
        "os",
        "arch",
        "uptime",
        "num_cpu",
        "num_cpu_used",
        "mem_heap_used",
        "mem_stack_used",
        "keystore_latency",
    ] {
        assert!(status.get(field).is_some(), "missing {field}: {status}");
    }
    assert!(status["keystore_latency"].as_u64().unwrap() >= 1);
    assert!(status.get("keystore_unreachable").is_none());
    assert_eq!(c.get("/v1/ready").await.ok(), Value::Null);

    let apis = c.get("/v1/api").await.ok();
    let apis = apis.as_array().unwrap();
    let create = apis
        .iter()
        .find(|a| a["path"] == "/v1/key/create/")
        .unwrap();
    assert_eq!(
        create,
        &json!({"method": "PUT", "path": "/v1/key/create/", "max_body": 0, "timeout": 15})
    );
    let generate = apis
        .iter()
        .find(|a| a["path"] == "/v1/key/generate/")
        .unwrap();
    assert_eq!(generate["max_body"], 1_000_000);

    c.get("/v1/key/describe/missing").await;
    let metrics = c.get("/v1/metrics").await;
    assert_eq!(
        metrics.content_type,
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = metrics.text();
    assert!(
        text.contains("kes_http_request_success{code=\"200\"}"),
        "{text}"
    );
    assert!(
        text.contains("kes_http_request_error{code=\"404\"} 1"),
        "{text}"
    );
    assert!(text.contains("kes_system_up_time"), "{text}");

    // the keystore directory vanishes: status reports it, ready answers 5xx
    std::fs::remove_dir_all(server.keystore_dir()).unwrap();
    let status = c.get("/v1/status").await.ok();
    assert_eq!(status["keystore_unreachable"], true);
    assert_eq!(status["keystore_unavailable"], true);
    assert!(status.get("keystore_latency").is_none());
    c.get("/v1/ready")
        .await
        .assert_error(504, "key store is not reachable");
    server.stop().await;
}

#[tokio::test]
async fn api_overrides() {
    let config = "api:\n  /v1/status:\n    skip_auth: true\n    timeout: 7s\n  /v1/metrics:\n    timeout: 20s\n";
    let server = TestServer::start(config).await;
    let stranger = server.client(&ApiKey::generate().unwrap());
    stranger.get("/v1/status").await.ok();
    stranger
        .get("/v1/metrics")
        .await
        .assert_error(403, "not authorized: insufficient permissions");
    // skip_auth makes the certificate optional for the handshake
    let anonymous = Client::anonymous(&server.url(), Some(&server.server_cert.cert_der));
    anonymous.get("/v1/status").await.ok();
    anonymous
        .get("/v1/metrics")
        .await
        .assert_error(400, "tls: client certificate is required");
    let apis = server.admin_client().get("/v1/api").await.ok();
    let timeout = |p: &str| {
        apis.as_array()
            .unwrap()
            .iter()
            .find(|a| a["path"] == p)
            .unwrap()["timeout"]
            .clone()
    };
    assert_eq!(timeout("/v1/status"), 7);
    assert_eq!(timeout("/v1/metrics"), 20);
    server.stop().await;
}

#[tokio::test]
async fn tls_requires_a_client_certificate() {
    let server = TestServer::start("").await;
    let anonymous = Client::anonymous(&server.url(), Some(&server.server_cert.cert_der));
    assert!(
        anonymous.send(Method::GET, "/version", None).await.is_err(),
        "handshake must fail"
    );

    // TLS 1.2 and HTTP/2 both work, and the server certificate verifies for 127.0.0.1
    let cert = server.admin.certificate().unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(server.server_cert.cert_der.clone()).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(vec![cert.cert_der], cert.key_der)
        .unwrap();
    tls.alpn_protocols = vec![b"h2".to_vec()];
    let c = Client::with_tls(&server.url(), tls);
    c.get("/v1/status").await.ok();
    server.stop().await;
}

#[tokio::test]
async fn audit_stream_delivers_events() {
    let server = TestServer::start("").await;
    let c = server.admin_client();
    let mut stream = server.admin_client().stream("/v1/log/audit").await;
    c.post("/v1/key/create/audited", "").await.ok();
    // The stream's own request is audited too; wait for the create.
    let event = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let event: Value = serde_json::from_str(&stream.next_line().await).unwrap();
            if event["request"]["path"] != "/v1/log/audit" {
                return event;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(event["request"]["path"], "/v1/key/create/audited");
    assert_eq!(
        event["request"]["identity"],
        server.admin.identity().to_string()
    );
    assert_eq!(event["response"]["code"], 200);
    server.stop().await;
}

#[tokio::test]
async fn audit_file_and_every_stream_subscriber_see_each_request() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.log");
    let keys = dir.path().join("keys");
    let extra = format!("log:\n  audit_file: {}\n", audit.display());
    let server = TestServer::start_in(dir, &keys, &extra).await;
    let c = server.admin_client();
    let mut first = c.stream("/v1/log/audit").await;
    let mut second = c.stream("/v1/log/audit").await;
    c.post("/v1/key/create/audited", "").await.ok();
    c.post("/v1/key/create/audited", "")
        .await
        .assert_error(400, "key already exists");
    for stream in [&mut first, &mut second] {
        let codes = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            let mut codes = Vec::new();
            while codes.len() < 2 {
                let event: Value = serde_json::from_str(&stream.next_line().await).unwrap();
                if event["request"]["path"] == "/v1/key/create/audited" {
                    codes.push(event["response"]["code"].as_u64().unwrap());
                }
            }
            codes
        })
        .await
        .unwrap();
        assert_eq!(codes, [200, 400]);
    }
    // The file has every request, the streams' own included: time, identity, IP, path,
    // status and latency.
    let text = std::fs::read_to_string(&audit).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let creates: Vec<&Value> = events
        .iter()
        .filter(|e| e["request"]["path"] == "/v1/key/create/audited")
        .collect();
    assert_eq!(creates.len(), 2, "{text}");
    for event in creates {
        assert!(event["time"].as_str().unwrap().ends_with('Z'), "{event}");
        assert_eq!(event["request"]["ip"], "127.0.0.1");
        assert_eq!(
            event["request"]["identity"],
            server.admin.identity().to_string()
        );
        assert!(event["response"]["time"].as_u64().unwrap() > 0, "{event}");
    }
    server.stop().await;
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[tokio::test]
async fn keystore_failures_map_to_5xx() {
    let server = TestServer::start("").await;
    let c = server.admin_client();
    c.post("/v1/key/create/good", "").await.ok();
    // A stored value that is no key at all.
    std::fs::write(server.keystore_dir().join("corrupt"), b"not a key").unwrap();
    for (method, route) in [
        ("GET", "describe"),
        ("POST", "generate"),
        ("POST", "encrypt"),
        ("POST", "decrypt"),
        ("PUT", "hmac"),
    ] {
        let reply = c
            .send(
                method.parse().unwrap(),
                &format!("/v1/key/{route}/corrupt"),
                Some(br#"{"plaintext":"","ciphertext":"AAAA","message":""}"#.to_vec()),
            )
            .await
            .unwrap();
        reply.assert_error(502, "failed to read key");
    }
    assert_eq!(
        std::fs::read(server.keystore_dir().join("corrupt")).unwrap(),
        b"not a key"
    );

    // The keystore directory is replaced by a file.
    std::fs::remove_dir_all(server.keystore_dir()).unwrap();
    std::fs::write(server.keystore_dir(), b"").unwrap();
    c.post("/v1/key/create/new", "")
        .await
        .assert_error(502, "failed to create key");
    c.post(
        "/v1/key/import/new",
        &json!({"key": B64_32_ZERO}).to_string(),
    )
    .await
    .assert_error(502, "failed to create key");
    c.get("/v1/key/list/")
        .await
        .assert_error(502, "failed to list keys");
    c.get("/v1/key/describe/good")
        .await
        .assert_error(502, "failed to read key");
    c.delete("/v1/key/delete/good")
        .await
        .assert_error(502, "failed to delete key");
    c.get("/v1/ready")
        .await
        .assert_error(502, "key store is unavailable");
    server.stop().await;
}

#[tokio::test]
async fn more_than_one_client_certificate() {
    let server = TestServer::start("").await;
    let a = server.admin.certificate().unwrap();
    let b = ApiKey::generate().unwrap().certificate().unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(server.server_cert.cert_der.clone()).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(vec![a.cert_der, b.cert_der], a.key_der)
        .unwrap();
    let c = Client::with_tls(&server.url(), tls);
    c.get("/v1/status")
        .await
        .assert_error(400, "tls: received more than one client certificate");
    server.stop().await;
}

#[tokio::test]
async fn verified_client_certificates_with_tls_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, client) = CertFiles::generate_ca_and_client(dir.path());
    let keys = dir.path().join("keys");
    let policy = format!(
        "policy:\n  verified:\n    allow:\n    - /v1/key/*\n    identities:\n    - {}\n",
        client.identity()
    );
    let tls = format!("  auth: on\n  ca: {}\n", ca.cert.display());
    let server = TestServer::start_with(dir, &keys, &tls, &policy).await;

    server
        .client_with_cert(&client)
        .post("/v1/key/create/verified", "")
        .await
        .ok();
    // Self-signed certificates (API keys included) no longer get through the handshake.
    let self_signed = server.client(&ApiKey::generate().unwrap());
    assert!(
        self_signed
            .send(Method::GET, "/version", None)
            .await
            .is_err()
    );
    assert!(
        server
            .admin_client()
            .send(Method::GET, "/version", None)
            .await
            .is_err()
    );
    server.stop().await;
}

#[tokio::test]
async fn error_stream_delivers_events() {
    let server = TestServer::start("").await;
    let c = server.admin_client();
    let mut stream = c.stream("/v1/log/error").await;
    c.post("/v1/key/create/k", "").await.ok();
    c.post("/v1/key/encrypt/k", "{")
        .await
        .assert_error(400, "invalid request body");
    let line = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next_line())
        .await
        .unwrap();
    let event: Value = serde_json::from_str(&line).unwrap();
    let message = event["message"].as_str().unwrap();
    assert!(message.contains("level=ERROR"), "{message}");
    assert!(
        message.contains("msg=\"invalid request body\""),
        "{message}"
    );
    assert!(message.contains("req.path=/v1/key/encrypt/k"), "{message}");
    server.stop().await;
}
