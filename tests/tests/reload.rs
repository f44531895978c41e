//! Configuration reload (spec §1.1, §6.1, §7.2): the running server re-reads its config file
//! and applies policies, the admin identity, `api:` overrides, `keys:` and the TLS certificate
//! to new requests and connections; a broken file is rejected and the old settings stay.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use kes_client::ApiKey;
use tests::{CertFiles, Client, TestServer, Value};

/// Replaces the server's config file with `edit` applied to its current text.
fn edit_config(server: &TestServer, edit: impl FnOnce(String) -> String) {
    let path = server.config_path();
    let yaml = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, edit(yaml)).unwrap();
}

/// A policy named `app` that allows `path` to `identity`.
fn policy(path: &str, identity: &ApiKey) -> String {
    format!(
        "policy:\n  app:\n    allow:\n    - {path}\n    identities:\n    - {}\n",
        identity.identity()
    )
}

#[tokio::test]
async fn policy_change_applies_to_new_requests() {
    let app = ApiKey::generate().unwrap();
    let server = TestServer::start("").await;
    let base = std::fs::read_to_string(server.config_path()).unwrap();
    // One client throughout: its pooled connection outlives both reloads.
    let client = server.client(&app);
    client
        .get("/v1/status")
        .await
        .assert_error(403, "not authorized: insufficient permissions");

    std::fs::write(
        server.config_path(),
        format!("{base}{}", policy("/v1/status", &app)),
    )
    .unwrap();
    server.reload().await.unwrap();
    client.get("/v1/status").await.ok();
    let names = server.admin_client().get("/v1/policy/list/*").await.ok();
    assert_eq!(names["names"], Value::from(vec!["app"]));

    std::fs::write(server.config_path(), &base).unwrap();
    server.reload().await.unwrap();
    client
        .get("/v1/status")
        .await
        .assert_error(403, "not authorized: insufficient permissions");
    server.stop().await;
}

#[tokio::test]
async fn admin_change_applies() {
    let server = TestServer::start("").await;
    let old_admin = server.admin_client();
    let new_key = ApiKey::generate().unwrap();
    let new_admin = server.client(&new_key);
    old_admin.get("/v1/key/list/*").await.ok();
    new_admin
        .get("/v1/key/list/*")
        .await
        .assert_error(403, "not authorized: insufficient permissions");

    let old_identity = server.admin.identity().to_string();
    edit_config(&server, |yaml| {
        yaml.replace(&old_identity, &new_key.identity().to_string())
    });
    server.reload().await.unwrap();
    new_admin.get("/v1/key/list/*").await.ok();
    old_admin
        .get("/v1/key/list/*")
        .await
        .assert_error(403, "not authorized: insufficient permissions");
    server.stop().await;
}

#[tokio::test]
async fn api_overrides_and_declared_keys_apply() {
    let server = TestServer::start("").await;
    let stranger = server.client(&ApiKey::generate().unwrap());
    stranger
        .get("/v1/status")
        .await
        .assert_error(403, "not authorized: insufficient permissions");

    edit_config(&server, |yaml| {
        format!(
            "{yaml}api:\n  /v1/status:\n    skip_auth: true\n    timeout: 7s\nkeys:\n  - name: declared-on-reload\n"
        )
    });
    server.reload().await.unwrap();
    stranger.get("/v1/status").await.ok();
    let apis = server.admin_client().get("/v1/api").await.ok();
    let status = apis
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["path"] == "/v1/status")
        .unwrap()
        .clone();
    assert_eq!(status["timeout"], 7);
    // skip_auth makes the client certificate optional for new handshakes.
    let anonymous = Client::anonymous(&server.url(), Some(&server.server_cert.cert_der));
    anonymous.get("/v1/status").await.ok();
    let described = server
        .admin_client()
        .get("/v1/key/describe/declared-on-reload")
        .await
        .ok();
    assert_eq!(described["name"], "declared-on-reload");
    server.stop().await;
}

#[tokio::test]
async fn broken_config_is_rejected_and_old_settings_stay() {
    let app = ApiKey::generate().unwrap();
    let server = TestServer::start(&policy("/v1/status", &app)).await;
    let client = server.client(&app);
    let stranger = server.client(&ApiKey::generate().unwrap());
    let good = std::fs::read_to_string(server.config_path()).unwrap();
    let mut errors = server.admin_client().stream("/v1/log/error").await;

    let missing_cert = server.dir.path().join("missing.cert");
    let broken: [(&str, String); 4] = [
        ("invalid YAML", format!("{good}policy: [\n")),
        ("unknown field 'bogus'", format!("{good}bogus: 1\n")),
        (
            "missing.cert",
            good.replace(
                &server.server_cert.cert.display().to_string(),
                &missing_cert.display().to_string(),
            ),
        ),
        (
            "is already admin",
            format!(
                "{good}  other:\n    allow:\n    - /v1/key/*\n    identities:\n    - {}\n",
                server.admin.identity()
            ),
        ),
    ];
    for (expected, yaml) in broken {
        std::fs::write(server.config_path(), yaml).unwrap();
        let err = server.reload().await.unwrap_err();
        assert!(err.contains(expected), "{expected}: {err}");
        let logged = next_reload_failure(&mut errors).await;
        assert!(logged.contains(expected), "{expected}: {logged}");
        client.get("/v1/status").await.ok();
        stranger
            .get("/v1/status")
            .await
            .assert_error(403, "not authorized: insufficient permissions");
    }

    // The old certificate is still served to new connections after a failed TLS reload.
    let fresh = server.client(&app);
    fresh.get("/v1/status").await.ok();
    server.stop().await;
}

/// The next `reload failed` line of the error log stream.
async fn next_reload_failure(stream: &mut tests::LineStream) -> String {
    let message = next_log_line_containing(stream, "reload failed: ").await;
    assert!(message.contains("level=ERROR"), "{message}");
    message
}

/// A new connection that trusts only `old_cert` fails: the server presents another certificate.
async fn assert_old_certificate_gone(
    server: &TestServer,
    app: &ApiKey,
    old_cert: &rustls::pki_types::CertificateDer<'static>,
) {
    let trusts_old = Client::with_api_key(&server.url(), app, Some(old_cert));
    assert!(
        trusts_old
            .send(tests::Method::GET, "/v1/status", None)
            .await
            .is_err(),
        "a new connection still got the old certificate"
    );
}

#[tokio::test]
async fn new_certificate_for_new_connections_only() {
    let app = ApiKey::generate().unwrap();
    let server = TestServer::start(&policy("/v1/status", &app)).await;
    // An open connection that trusts only the old certificate.
    let open = server.client(&app);
    open.get("/v1/status").await.ok();

    let new_cert = CertFiles::generate(server.dir.path(), "server2", "localhost");
    edit_config(&server, |yaml| {
        yaml.replace(
            &server.server_cert.cert.display().to_string(),
            &new_cert.cert.display().to_string(),
        )
        .replace(
            &server.server_cert.key.display().to_string(),
            &new_cert.key.display().to_string(),
        )
    });
    server.reload().await.unwrap();

    // The open connection keeps working: a new one would fail, as the next client shows.
    open.get("/v1/status").await.ok();
    assert_old_certificate_gone(&server, &app, &server.server_cert.cert_der).await;
    let trusts_new = Client::with_api_key(&server.url(), &app, Some(&new_cert.cert_der));
    trusts_new.get("/v1/status").await.ok();
    server.stop().await;
}

/// Upstream reads its TLS files again every 15 minutes, so a certificate renewed in place
/// (cert-manager, ACME) is served without a restart; here the interval is 200 ms.
#[tokio::test]
async fn periodic_tls_reload_serves_a_renewed_certificate_and_nothing_else() {
    let app = ApiKey::generate().unwrap();
    let server = TestServer::start(&policy("/v1/status", &app)).await;
    let old_cert = server.server_cert.cert_der.clone();
    // Opened while the old certificate is served; the stream's connection outlives the change.
    let mut errors = server.admin_client().stream("/v1/log/error").await;
    let reloader = server.reload_tls_every(Duration::from_millis(200));

    // A policy edit is not applied by the TLS reload (that needs SIGHUP).
    edit_config(&server, |yaml| {
        yaml.replace("- /v1/status", "- /v1/key/list/*")
    });
    // The certificate is renewed in place: same file names, new key and certificate.
    let renew = tempfile::tempdir().unwrap();
    let renewed = CertFiles::generate(renew.path(), "server", "localhost");
    std::fs::copy(&renewed.cert, &server.server_cert.cert).unwrap();
    std::fs::copy(&renewed.key, &server.server_cert.key).unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let trusts_new = Client::with_api_key(&server.url(), &app, Some(&renewed.cert_der));
        if trusts_new
            .send(tests::Method::GET, "/v1/status", None)
            .await
            .is_ok_and(|r| r.status == 200)
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the renewed certificate was not served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_old_certificate_gone(&server, &app, &old_cert).await;
    let client = Client::with_api_key(&server.url(), &app, Some(&renewed.cert_der));
    client
        .get("/v1/key/list/*")
        .await
        .assert_error(403, "not authorized: insufficient permissions");

    // A broken certificate file is logged and the renewed certificate stays.
    std::fs::write(&server.server_cert.cert, "not a certificate").unwrap();
    let failure = next_log_line_containing(&mut errors, "TLS reload failed: ").await;
    assert!(failure.contains("level=ERROR"), "{failure}");
    client.get("/v1/status").await.ok();
    reloader.abort();
    server.stop().await;
}

/// The next error-log message of `stream` that contains `text`.
async fn next_log_line_containing(stream: &mut tests::LineStream, text: &str) -> String {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let line = stream.next_line().await;
            let event: Value = serde_json::from_str(&line).unwrap();
            let message = event["message"].as_str().unwrap().to_owned();
            if message.contains(text) {
                return message;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {text:?} line in the error log"))
}
