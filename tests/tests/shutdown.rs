//! Graceful shutdown (the path SIGINT and SIGTERM take): the server stops accepting connections
//! at once, but a request already in flight — here one whose body is still being uploaded —
//! is completed and answered.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use tests::{TestServer, json, tls_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_requests_finish_after_shutdown_begins() {
    let server = TestServer::start("").await;
    let addr = server.addr;
    let admin = server.admin.certificate().unwrap();
    let tls = tls_config(
        Some((admin.cert_der, admin.key_der)),
        Some(&server.server_cert.cert_der),
    );
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut conn = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();

    // Half of an import request: the server is now reading its body.
    let body = json!({"key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "cipher": "AES256"})
        .to_string();
    let head = format!(
        "POST /v1/key/import/in-flight HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(first).await.unwrap();
    conn.flush().await.unwrap();

    // Shut down only once the server is working on the request (it counts as active).
    let observer = server.admin_client();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let metrics = observer.get("/v1/metrics").await.text();
        if metrics.lines().any(|l| l == "kes_http_request_active 1") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the request never became active:\n{metrics}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stopping = tokio::spawn(server.stop());
    // New connections are refused once shutdown has begun.
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(addr).await.is_ok() {
        assert!(Instant::now() < deadline, "still accepting connections");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The request in flight completes.
    conn.write_all(rest).await.unwrap();
    conn.flush().await.unwrap();
    let mut response = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut response)).await;
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "{read:?}: {response}");
    stopping.await.unwrap();
}
