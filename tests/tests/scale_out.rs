//! Scale-out: three `kes server` processes share one keystore — a real PostgreSQL database, and
//! a real OpenBao KV v2 engine. A key created through one server is usable through the others at
//! once (no server holds state of its own), and a `kes-client` configured with all three
//! endpoints keeps working, with no failed request, while one server is killed (SIGKILL).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kes_client::ApiKey;
use kes_client::client::{Client as KesClient, Credentials, ServerTrust};
use tests::backends::free_port;
use tests::backends::openbao::{OpenBao, ROOT_TOKEN};
use tests::backends::postgres::Postgres;
use tests::{CertFiles, Client, Method, json, our_kes};

/// One `kes server` process, killed on drop.
struct Node {
    child: Child,
    url: String,
}

impl Node {
    /// Starts `kes server` on a free port with `keystore` (a whole `keystore:` section) and
    /// `extra` config; waits until `/v1/status` answers.
    async fn start(
        dir: &Path,
        n: usize,
        keystore: &str,
        cert: &CertFiles,
        admin: &ApiKey,
        extra: &str,
    ) -> Node {
        let port = free_port();
        let config = dir.join(format!("node-{n}.yml"));
        tests::write_server_config(&config, port, admin, cert, keystore, extra);
        let mut child = Command::new(our_kes())
            .args(["server", "--config"])
            .arg(&config)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("https://127.0.0.1:{port}");
        let probe = Client::with_api_key(&url, admin, Some(&cert.cert_der));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(reply) = probe.send(Method::GET, "/v1/status", None).await
                && reply.status.is_success()
            {
                return Node { child, url };
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("kes server {n} exited: {status}");
            }
            assert!(Instant::now() < deadline, "kes server {n} did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs the scale-out checks on three servers sharing `keystore`.
async fn three_servers_share(keystore: &str) {
    let dir = tempfile::tempdir().unwrap();
    let cert = CertFiles::generate(dir.path(), "server", "localhost");
    let admin = ApiKey::generate().unwrap();
    let user = ApiKey::generate().unwrap();
    let policy = format!(
        "policy:\n  app:\n    allow:\n    - /v1/key/create/*\n    - /v1/key/generate/*\n    - /v1/key/decrypt/*\n    identities:\n    - {}\n",
        user.identity()
    );
    let mut nodes = Vec::new();
    for n in 0..3 {
        nodes.push(Node::start(dir.path(), n, keystore, &cert, &admin, &policy).await);
    }
    let admins: Vec<Client> = nodes
        .iter()
        .map(|node| Client::with_api_key(&node.url, &admin, Some(&cert.cert_der)))
        .collect();

    // A key created through any server is usable through every other one at once.
    for (i, creator) in admins.iter().enumerate() {
        let name = format!("made-by-{i}");
        creator
            .post(&format!("/v1/key/create/{name}"), "")
            .await
            .ok();
        for (j, other) in admins.iter().enumerate().filter(|(j, _)| *j != i) {
            other
                .post(&format!("/v1/key/create/{name}"), "")
                .await
                .assert_error(400, "key already exists");
            let dek = other
                .post(&format!("/v1/key/generate/{name}"), "{}")
                .await
                .ok();
            let body = json!({"ciphertext": dek["ciphertext"]}).to_string();
            let third = &admins[3 - i - j];
            let plain = third
                .post(&format!("/v1/key/decrypt/{name}"), &body)
                .await
                .ok();
            assert_eq!(plain["plaintext"], dek["plaintext"]);
        }
    }
    let names = admins[2].get("/v1/key/list/made-by-*").await.ok()["names"].clone();
    assert_eq!(names, json!(["made-by-0", "made-by-1", "made-by-2"]));

    // kes-client with every endpoint: no request fails while a server is killed.
    let urls: Vec<String> = nodes.iter().map(|node| node.url.clone()).collect();
    let client = KesClient::builder(&urls, Credentials::ApiKey(user))
        .server_trust(ServerTrust::Roots(vec![cert.cert_der.clone()]))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    client.create_key("fleet").await.unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let load = {
        let done = Arc::clone(&done);
        let client = client.clone();
        tokio::spawn(async move {
            for i in 0..150 {
                let dek = client
                    .generate_key("fleet", b"ctx")
                    .await
                    .unwrap_or_else(|err| panic!("generate {i} failed: {err}"));
                let plain = client
                    .decrypt("fleet", &dek.ciphertext, b"ctx")
                    .await
                    .unwrap_or_else(|err| panic!("decrypt {i} failed: {err}"));
                assert_eq!(plain, dek.plaintext, "request {i}");
                done.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while done.load(Ordering::Relaxed) < 50 {
        assert!(Instant::now() < deadline, "the load made no progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    nodes[1].kill();
    load.await.unwrap();
    assert_eq!(done.load(Ordering::Relaxed), 150);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_servers_on_one_postgres_database() {
    let pg = Postgres::start();
    let section = format!(
        "keystore:\n  postgres:\n    url: {}\n    table: fleet_keys\n",
        pg.url()
    );
    three_servers_share(&section).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_servers_on_one_openbao_engine() {
    let bao = OpenBao::start().await;
    let section = format!(
        "keystore:\n  vault:\n    endpoint: {}\n    engine: secret\n    version: v2\n    prefix: fleet\n    token: {ROOT_TOKEN}\n",
        bao.url()
    );
    three_servers_share(&section).await;
}
