//! The `kes-client` API client against our server and the upstream Go KES server v0.24.0:
//! every call, error equality, multi-endpoint failover, retries and error parsing (the last
//! two against a small loopback HTTP server of this file's own).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kes_client::ApiKey;
use kes_client::client::{
    ApiError, CiphertextItem, Client, Credentials, Error, KeyAlgorithm, ServerTrust,
};
use kes_client::config::{KesAuth, KmsConfig};
use tests::compat::{self, Cells, Op};
use tests::{CertFiles, GoServer, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(10);

fn copy_key(key: &ApiKey) -> ApiKey {
    ApiKey::parse(&key.to_text()).unwrap()
}

/// A client of `urls` trusting exactly `certs`.
fn client(urls: &[String], key: &ApiKey, certs: &[&CertFiles]) -> Client {
    Client::builder(urls, Credentials::ApiKey(copy_key(key)))
        .server_trust(ServerTrust::Roots(
            certs.iter().map(|c| c.cert_der.clone()).collect(),
        ))
        .build()
        .unwrap()
}

/// The policy section giving `user` the key routes (but not delete) and status.
fn policy(user: &ApiKey) -> String {
    format!(
        "policy:\n  app:\n    allow:\n    - /v1/key/*\n    - /v1/status\n    deny:\n    - /v1/key/delete/*\n    identities:\n    - {}\n",
        user.identity()
    )
}

/// The matrix cells [`every_call`] fills.
const EVERY_CALL_CELLS: [Op; 12] = [
    Op::ApiKeyAuth,
    Op::Status,
    Op::CreateKey,
    Op::ImportKey,
    Op::DescribeKey,
    Op::ListKeys,
    Op::GenerateDek,
    Op::Decrypt,
    Op::Encrypt,
    Op::Hmac,
    Op::DeleteKey,
    Op::Identity,
];

/// Exercises every route through `admin` and `user`; `ours` enables the checks where the
/// upstream server deliberately differs (bulk decrypt, log events, non-admin self-describe).
/// The upstream server's results go to the compatibility matrix.
async fn every_call(admin: &Client, user: &Client, admin_id: &str, user_id: &str, ours: bool) {
    let peers = if ours {
        vec![]
    } else {
        vec![compat::kes_server("")]
    };
    let mut cells = Cells::new(&peers, &EVERY_CALL_CELLS);
    let version = admin.version().await.unwrap();
    assert!(!version.version.is_empty());
    admin.ready().await.unwrap();
    let status = admin.status().await.unwrap();
    assert!(!status.os.is_empty() && status.cpus > 0 && !status.keystore_unreachable);
    let apis = admin.apis().await.unwrap();
    assert!(
        apis.iter()
            .any(|a| a.path == "/v1/key/create/" && a.timeout == Duration::from_secs(15)),
        "{apis:?}"
    );
    cells.pass(Op::Status);

    // Keys.
    admin.create_key("k1").await.unwrap();
    assert_eq!(
        admin.create_key("k1").await.unwrap_err(),
        ApiError::KEY_EXISTS
    );
    cells.pass(Op::CreateKey);
    admin
        .import_key("k2", &[7; 32], KeyAlgorithm::Aes256)
        .await
        .unwrap();
    cells.pass(Op::ImportKey);
    let info = admin.describe_key("k1").await.unwrap();
    assert_eq!(
        (info.name.as_str(), info.created_by.as_str()),
        ("k1", admin_id)
    );
    assert!(info.algorithm.is_some());
    assert_eq!(
        admin.describe_key("k2").await.unwrap().algorithm,
        Some(KeyAlgorithm::Aes256)
    );
    cells.pass(Op::DescribeKey);
    let mut all = admin.list_keys("").await.unwrap();
    all.sort();
    assert_eq!(all, ["k1", "k2"]);
    assert_eq!(admin.list_keys("*").await.unwrap().len(), 2);
    assert_eq!(admin.list_keys("k1").await.unwrap(), ["k1"]);
    cells.pass(Op::ListKeys);

    let dek = admin.generate_key("k1", b"ctx").await.unwrap();
    assert_eq!(dek.plaintext.len(), 32);
    assert_eq!(dek.ciphertext.len(), 76);
    let plain = user.decrypt("k1", &dek.ciphertext, b"ctx").await.unwrap();
    assert_eq!(plain, dek.plaintext);
    assert_eq!(
        admin
            .decrypt("k1", &dek.ciphertext, b"other")
            .await
            .unwrap_err(),
        ApiError::DECRYPT
    );
    cells.pass(Op::GenerateDek);
    let dek2 = user.generate_key("k2", b"").await.unwrap();
    let ct = user.encrypt("k2", b"hello", b"").await.unwrap();
    assert_eq!(ct.len(), 5 + 44);
    assert_eq!(&user.decrypt("k2", &ct, b"").await.unwrap()[..], b"hello");
    cells.pass(Op::Encrypt);
    cells.pass(Op::Decrypt);
    let items = [
        CiphertextItem {
            ciphertext: dek.ciphertext.clone(),
            context: b"ctx".to_vec(),
        },
        CiphertextItem {
            ciphertext: dek2.ciphertext.clone(),
            context: Vec::new(),
        },
    ];
    let bulk = admin.bulk_decrypt("k1", &items[..1]).await;
    if ours {
        assert_eq!(bulk.unwrap()[0], dek.plaintext);
        let bulk = admin.bulk_decrypt("k2", &items[1..]).await.unwrap();
        assert_eq!(bulk[0], dek2.plaintext);
    } else {
        // The route was removed upstream in 2023-10: Go's 404 text page.
        let err = bulk.unwrap_err();
        assert_eq!(err.api().unwrap().status(), 404, "{err}");
    }
    let mac = admin.hmac("k1", b"message").await.unwrap();
    assert_eq!(mac.len(), 32);
    assert_eq!(user.hmac("k1", b"message").await.unwrap(), mac);
    cells.pass(Op::Hmac);
    assert_eq!(
        user.delete_key("k2").await.unwrap_err(),
        ApiError::NOT_ALLOWED
    );
    admin.delete_key("k2").await.unwrap();
    assert_eq!(
        admin.describe_key("k2").await.unwrap_err(),
        ApiError::KEY_NOT_FOUND
    );
    assert_eq!(
        admin.generate_key("missing", b"").await.unwrap_err(),
        ApiError::KEY_NOT_FOUND
    );
    cells.pass(Op::DeleteKey);

    // Policies and identities.
    let p = admin.describe_policy("app").await.unwrap();
    assert_eq!(p.name, "app");
    let p = admin.get_policy("app").await.unwrap();
    assert!(p.allow.contains("/v1/key/*") && p.deny.contains("/v1/key/delete/*"));
    assert_eq!(admin.list_policies("").await.unwrap(), ["app"]);
    assert_eq!(
        admin.describe_policy("nope").await.unwrap_err(),
        ApiError::POLICY_NOT_FOUND
    );
    assert_eq!(
        user.describe_policy("app").await.unwrap_err(),
        ApiError::NOT_ALLOWED
    );
    let i = admin.describe_identity(user_id).await.unwrap();
    assert_eq!((i.policy.as_str(), i.admin), ("app", false));
    assert!(admin.describe_identity(admin_id).await.unwrap().admin);
    assert_eq!(
        admin.describe_identity(&"0".repeat(64)).await.unwrap_err(),
        ApiError::IDENTITY_NOT_FOUND
    );
    assert!(
        admin
            .list_identities("")
            .await
            .unwrap()
            .contains(&user_id.to_owned())
    );
    let me = admin.describe_self().await.unwrap();
    assert!(me.admin && me.identity == admin_id, "{me:?}");
    if ours {
        let me = user.describe_self().await.unwrap();
        assert_eq!(
            (me.identity.as_str(), me.policy_name.as_str()),
            (user_id, "app")
        );
        assert!(me.policy.allow.contains("/v1/status"));
    }
    cells.pass(Op::Identity);

    // Log streams. The upstream server never writes to them, not even the response
    // headers (bug B1), so they are only opened on ours.
    if ours {
        let mut audit = admin.audit_log().await.unwrap();
        admin.create_key("k3").await.unwrap();
        let event = loop {
            let event = tokio::time::timeout(WAIT, audit.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            if event.path == "/v1/key/create/k3" {
                break event;
            }
        };
        assert_eq!(event.status, 200);
        assert_eq!(event.identity.as_deref(), Some(admin_id));
    }

    let metrics = admin.metrics().await.unwrap();
    assert!(
        metrics.requests_ok > 0 && metrics.requests_err > 0,
        "{metrics:?}"
    );
    assert!(metrics.cpus > 0, "{metrics:?}");
    cells.pass(Op::ApiKeyAuth);
}

#[tokio::test]
async fn every_call_against_our_server() {
    let user = ApiKey::generate().unwrap();
    let server = TestServer::start(&policy(&user)).await;
    let admin = client(&[server.url()], &server.admin, &[&server.server_cert]);
    let user_client = client(&[server.url()], &user, &[&server.server_cert]);
    every_call(
        &admin,
        &user_client,
        &server.admin.identity().to_string(),
        &user.identity().to_string(),
        true,
    )
    .await;

    // An error-log event, triggered by a body our client never sends.
    let mut errors = admin.error_log().await.unwrap();
    server
        .admin_client()
        .post("/v1/key/encrypt/k1", "{")
        .await
        .assert_error(400, "invalid request body");
    let event = tokio::time::timeout(WAIT, errors.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(event.message.contains("invalid request body"), "{event:?}");
    server.stop().await;
}

#[tokio::test]
async fn every_call_against_the_go_server() {
    let user = ApiKey::generate().unwrap();
    let ours = TestServer::start("").await;
    let keystore = ours.dir.path().join("go-keys");
    let go = GoServer::start_with(
        ours.dir.path(),
        &keystore,
        &ours.server_cert,
        &ours.admin,
        &policy(&user),
    )
    .await;
    let admin = client(
        std::slice::from_ref(&go.url),
        &ours.admin,
        &[&ours.server_cert],
    );
    let user_client = client(std::slice::from_ref(&go.url), &user, &[&ours.server_cert]);
    every_call(
        &admin,
        &user_client,
        &ours.admin.identity().to_string(),
        &user.identity().to_string(),
        false,
    )
    .await;
    drop(go);
    ours.stop().await;
}

#[tokio::test]
async fn certificate_files_trust_modes_and_minio_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let cert = CertFiles::generate(dir.path(), "user", "user");
    let config = format!(
        "policy:\n  files:\n    allow:\n    - /v1/key/*\n    identities:\n    - {}\n",
        cert.identity()
    );
    let server = TestServer::start(&config).await;

    // Client certificate from PEM files; trust from a CA directory.
    let cas = dir.path().join("CAs");
    std::fs::create_dir(&cas).unwrap();
    std::fs::copy(&server.server_cert.cert, cas.join("kes.pem")).unwrap();
    std::fs::write(cas.join("junk.txt"), "not a certificate").unwrap();
    let files = Client::builder(
        &[server.url()],
        Credentials::Files {
            cert: cert.cert.clone(),
            key: cert.key.clone(),
            password: None,
        },
    )
    .server_trust(ServerTrust::SystemAndCaPath(cas))
    .build()
    .unwrap();
    files.create_key("from-files").await.unwrap();
    assert_eq!(files.status().await.unwrap_err(), ApiError::NOT_ALLOWED);

    // A CA file without a certificate is rejected with MinIO's message.
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "junk").unwrap();
    let err = Client::builder(
        &[server.url()],
        Credentials::ApiKey(copy_key(&server.admin)),
    )
    .server_trust(ServerTrust::SystemAndCaPath(junk.clone()))
    .build()
    .unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "cert: \"{}\" does not contain a valid X.509 PEM-encoded certificate",
            junk.display()
        )),
        "{err}"
    );

    // System roots do not trust the test certificate; the danger mode does.
    let system = Client::builder(
        &[server.url()],
        Credentials::ApiKey(copy_key(&server.admin)),
    )
    .build()
    .unwrap();
    let err = system.version().await.unwrap_err();
    assert!(matches!(err, Error::Connection(_)), "{err}");
    assert!(
        err.to_string().starts_with("kes: connection error: "),
        "{err}"
    );
    let insecure = Client::builder(
        &[server.url()],
        Credentials::ApiKey(copy_key(&server.admin)),
    )
    .server_trust(ServerTrust::DangerAcceptInvalidCerts)
    .build()
    .unwrap();
    insecure.version().await.unwrap();

    // MinIO's environment, then its startup probe: generate, auto-create on "not found".
    let url = format!("  {}/ ,", server.url());
    let api_key = server.admin.to_text();
    let ca = server.server_cert.cert.to_str().unwrap().to_owned();
    let env = move |name: &str| match name {
        "MINIO_KMS_KES_ENDPOINT" => Some(url.clone()),
        "MINIO_KMS_KES_KEY_NAME" => Some("minio-default".to_owned()),
        "MINIO_KMS_KES_API_KEY" => Some(api_key.to_string()),
        "MINIO_KMS_KES_CAPATH" => Some(ca.clone()),
        _ => None,
    };
    let KmsConfig::Kes(kes) = KmsConfig::from_env(&env).unwrap() else {
        panic!("KES expected");
    };
    assert!(matches!(kes.auth, KesAuth::ApiKey(_)));
    let minio = kes.client().unwrap();
    let probe = minio.generate_key(&kes.key_name, b"{}").await;
    assert_eq!(probe.unwrap_err(), ApiError::KEY_NOT_FOUND);
    minio.create_key(&kes.key_name).await.unwrap();
    let dek = minio.generate_key(&kes.key_name, b"{}").await.unwrap();
    assert_eq!(
        minio
            .decrypt(&kes.key_name, &dek.ciphertext, b"{}")
            .await
            .unwrap(),
        dek.plaintext
    );
    server.stop().await;
}

#[tokio::test]
async fn failover_across_three_servers_when_one_stops() {
    let user = ApiKey::generate().unwrap();
    let extra = policy(&user);
    let first = TestServer::start(&extra).await;
    let keystore = first.keystore_dir();
    let second = TestServer::start_in(tempfile::tempdir().unwrap(), &keystore, &extra).await;
    let third = TestServer::start_in(tempfile::tempdir().unwrap(), &keystore, &extra).await;
    let urls = [first.url(), second.url(), third.url()];
    let c = client(
        &urls,
        &user,
        &[&first.server_cert, &second.server_cert, &third.server_cert],
    );
    assert_eq!(c.endpoints().await, urls, "ties keep the configured order");
    c.create_key("shared").await.unwrap();
    let mut servers = vec![Some(first), Some(second), Some(third)];
    for i in 0..40 {
        if i == 10 {
            servers[1].take().unwrap().stop().await;
        }
        let dek = c.generate_key("shared", b"ctx").await.unwrap();
        let plain = c.decrypt("shared", &dek.ciphertext, b"ctx").await.unwrap();
        assert_eq!(plain, dek.plaintext, "request {i}");
    }
    for server in servers.into_iter().flatten() {
        server.stop().await;
    }
}

/// One canned answer of [`Fake`].
#[derive(Clone)]
struct Answer {
    status: u16,
    content_type: &'static str,
    body: String,
}

fn answer(status: u16, content_type: &'static str, body: &str) -> Answer {
    Answer {
        status,
        content_type,
        body: body.to_owned(),
    }
}

/// A loopback HTTP/1.1 server answering request `n` with `answers[n]` (the last repeats),
/// recording each request line and its arrival time.
struct Fake {
    url: String,
    hits: Arc<Mutex<Vec<(String, Instant)>>>,
}

impl Fake {
    async fn start(answers: Vec<Answer>) -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(Mutex::new(Vec::new()));
        let seen = hits.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut conn, _)) = listener.accept().await else {
                    return;
                };
                let seen = seen.clone();
                let answers = answers.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let head_end = loop {
                        let n = conn.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break p + 4;
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    while buf.len() < head_end + length {
                        let n = conn.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let line = head.lines().next().unwrap_or_default().to_owned();
                    let index = {
                        let mut seen = seen.lock().unwrap();
                        seen.push((line, Instant::now()));
                        seen.len() - 1
                    };
                    let a = &answers[index.min(answers.len() - 1)];
                    let response = format!(
                        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                        a.status,
                        a.content_type,
                        a.body.len(),
                        a.body
                    );
                    let _ = conn.write_all(response.as_bytes()).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        Fake { url, hits }
    }

    fn hits(&self) -> Vec<(String, Instant)> {
        self.hits.lock().unwrap().clone()
    }

    fn client(&self) -> Client {
        plain_client(std::slice::from_ref(&self.url))
    }
}

fn plain_client(urls: &[String]) -> Client {
    Client::builder(urls, Credentials::ApiKey(ApiKey::generate().unwrap()))
        .build()
        .unwrap()
}

const JSON: &str = "application/json";
const VERSION: &str = r#"{"version":"v1","commit":"c"}"#;

#[tokio::test]
async fn retries_503_and_then_succeeds() {
    let fake = Fake::start(vec![
        answer(503, JSON, r#"{"message":"busy"}"#),
        answer(503, JSON, r#"{"message":"busy"}"#),
        answer(200, JSON, VERSION),
    ])
    .await;
    let v = fake.client().version().await.unwrap();
    assert_eq!(v.version, "v1");
    let hits = fake.hits();
    assert_eq!(hits.len(), 3);
    for pair in hits.windows(2) {
        let gap = pair[1].1 - pair[0].1;
        assert!(
            gap >= Duration::from_millis(200) && gap < Duration::from_millis(1500),
            "{gap:?}"
        );
    }
}

#[tokio::test]
async fn gives_up_after_two_retries_and_does_not_retry_other_errors() {
    let busy = Fake::start(vec![answer(503, JSON, r#"{"message":"busy"}"#)]).await;
    let err = busy.client().version().await.unwrap_err();
    assert_eq!(err, ApiError::new(503, "busy"));
    assert_eq!(busy.hits().len(), 3);

    let broken = Fake::start(vec![answer(500, JSON, r#"{"message":"boom"}"#)]).await;
    let err = broken.client().create_key("k").await.unwrap_err();
    assert_eq!(err, ApiError::new(500, "boom"));
    assert_eq!(broken.hits().len(), 1);

    // Network errors are retried too, then reported as connection errors.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let start = Instant::now();
    let err = plain_client(&[url]).version().await.unwrap_err();
    assert!(matches!(err, Error::Connection(_)), "{err}");
    assert!(start.elapsed() >= Duration::from_millis(400));
}

#[tokio::test]
async fn fails_over_and_quarantines_but_returns_501_and_4xx() {
    let bad = Fake::start(vec![answer(
        502,
        JSON,
        r#"{"message":"failed to read key"}"#,
    )])
    .await;
    let good = Fake::start(vec![answer(200, JSON, VERSION)]).await;
    let c = plain_client(&[bad.url.clone(), good.url.clone()]);
    for _ in 0..5 {
        c.version().await.unwrap();
    }
    assert_eq!(bad.hits().len(), 1, "quarantined after one 502");
    assert!(good.hits().len() >= 5);

    // 501 and 4xx are final answers: no failover to the next endpoint.
    let unsupported =
        Fake::start(vec![answer(501, JSON, r#"{"message":"not implemented"}"#)]).await;
    let other = Fake::start(vec![answer(200, JSON, VERSION)]).await;
    let c = plain_client(&[unsupported.url.clone(), other.url.clone()]);
    let err = c.version().await.unwrap_err();
    assert_eq!(err, ApiError::new(501, "not implemented"));
    let denied = Fake::start(vec![answer(
        403,
        JSON,
        r#"{"message":"prohibited by policy"}"#,
    )])
    .await;
    let c = plain_client(&[denied.url.clone(), other.url.clone()]);
    assert_eq!(c.version().await.unwrap_err(), ApiError::NOT_ALLOWED);
    assert!(other.hits().is_empty());
}

#[tokio::test]
async fn error_bodies_and_legacy_spellings() {
    let cases = [
        (
            answer(400, JSON, r#"{"message":"key does already exist"}"#),
            ApiError::KEY_EXISTS,
        ),
        (
            answer(
                403,
                "application/json; charset=utf-8",
                r#"{"message":"prohibited by policy"}"#,
            ),
            ApiError::NOT_ALLOWED,
        ),
        (
            answer(404, JSON, "{\"message\":\"key does not exist\"\n}"),
            ApiError::KEY_NOT_FOUND,
        ),
        (
            answer(
                400,
                JSON,
                r#"{"message":"x","error":"decryption failed: ciphertext is not authentic"}"#,
            ),
            ApiError::DECRYPT,
        ),
        (
            answer(404, "text/plain; charset=utf-8", "404 page not found\n"),
            ApiError::new(404, "404 page not found\n"),
        ),
        (
            answer(404, "text/plain", "policy does not exist"),
            ApiError::POLICY_NOT_FOUND,
        ),
    ];
    for (a, want) in cases {
        let fake = Fake::start(vec![a]).await;
        assert_eq!(fake.client().describe_key("k").await.unwrap_err(), want);
    }
    assert_ne!(
        ApiError::new(409, "key already exists"),
        ApiError::KEY_EXISTS
    );
}

#[tokio::test]
async fn listing_follows_continue_at_and_reads_legacy_ndjson() {
    let fake = Fake::start(vec![
        answer(200, JSON, r#"{"names":["a1"],"continue_at":"b"}"#),
        answer(200, JSON, r#"{"names":["b1","b2"],"continue_at":""}"#),
    ])
    .await;
    assert_eq!(
        fake.client().list_keys("").await.unwrap(),
        ["a1", "b1", "b2"]
    );
    let lines: Vec<String> = fake.hits().into_iter().map(|h| h.0).collect();
    assert_eq!(
        lines,
        ["GET /v1/key/list/ HTTP/1.1", "GET /v1/key/list/b HTTP/1.1"]
    );

    let legacy = Fake::start(vec![answer(
        200,
        "application/x-ndjson",
        "{\"name\":\"x\"}\n{\"name\":\"y\"}\n",
    )])
    .await;
    assert_eq!(legacy.client().list_keys("*").await.unwrap(), ["x", "y"]);
    assert_eq!(legacy.hits()[0].0, "GET /v1/key/list/%2A HTTP/1.1");
}

#[tokio::test]
async fn per_request_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Accepts and never answers.
    let held = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            conns.push(conn);
        }
    });
    let c = Client::builder(&[url], Credentials::ApiKey(ApiKey::generate().unwrap()))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let start = Instant::now();
    assert!(matches!(c.version().await.unwrap_err(), Error::Timeout));
    assert!(start.elapsed() < WAIT);
    held.abort();
}
