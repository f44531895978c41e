//! The Vault keystore against a real OpenBao dev server (`tests::backends::openbao`), started by
//! each test on 127.0.0.1 and a free port and killed afterwards: KV v1 and v2, AppRole, a
//! namespace, transit (with a key rotation), TLS with a client certificate, token renewal; the
//! layout shared with the upstream Go KES v0.24.0 in both directions; and `kes migrate` from fs
//! to Vault and back. If OpenBao (or the Go peer) is missing the test fails; it never skips.
//! `scripts/install-peers` installs both.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kes_client::ApiKey;
use keystores::vault::{
    AppRole, KvVersion, Transit, VaultAuth, VaultKeyStore, VaultOptions, VaultTls,
};
use keystores::{Error, KeyStore};
use tests::backends::openbao::{OpenBao, ROOT_TOKEN};
use tests::{CertFiles, Client, GoServer, Method, TestServer, Value, json};
use zeroize::Zeroizing;

/// Options for a store at `engine` (`version`) with AppRole credentials `(id, secret)`.
fn options(
    bao: &OpenBao,
    engine: &str,
    version: KvVersion,
    approle: (String, String),
) -> VaultOptions {
    VaultOptions {
        endpoint: bao.url().to_owned(),
        engine: engine.to_owned(),
        version,
        namespace: None,
        prefix: None,
        auth: VaultAuth::AppRole(AppRole {
            engine: "approle".to_owned(),
            namespace: None,
            id: approle.0,
            secret: Zeroizing::new(approle.1),
        }),
        transit: None,
        tls: VaultTls::default(),
        timeout: Duration::from_secs(5),
    }
}

/// Runs the conformance suite, then the concurrent-create check, on `store`.
async fn conformance(store: VaultKeyStore) -> Arc<VaultKeyStore> {
    keystores::conformance::run(&store).await.unwrap();
    let store = Arc::new(store);
    keystores::conformance::concurrent_creates(store.clone(), 32)
        .await
        .unwrap();
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kv_v1_with_approle_and_prefix() {
    let started = Instant::now();
    let mut bao = OpenBao::start().await;
    bao.enable_kv(None, "kv", 1).await;
    let approle = bao.approle(None, "kes", &["kv/*"], "60s", "120s").await;
    let mut opts = options(&bao, "kv", KvVersion::V1, approle);
    opts.prefix = Some("/kes//keys/".to_owned());
    let store = conformance(VaultKeyStore::new(opts.clone()).unwrap()).await;

    // The upstream layout: one secret per key at <engine>/<prefix>/<name>, one field named
    // after the key holding the value as a string.
    store.create("layout", b"dmFsdWU=").await.unwrap();
    let raw = bao.api(Method::GET, "kv/kes/keys/layout", None, None).await;
    assert_eq!(raw["data"], json!({"layout": "dmFsdWU="}));
    // Entries without the field, and sub-directories, are not keys.
    bao.api(
        Method::PUT,
        "kv/kes/keys/foreign",
        None,
        Some(json!({"other": "x"})),
    )
    .await;
    bao.api(
        Method::PUT,
        "kv/kes/keys/dir/x",
        None,
        Some(json!({"x": "x"})),
    )
    .await;
    assert!(matches!(
        store.get("foreign").await,
        Err(Error::Unavailable(_))
    ));
    assert!(matches!(
        store.create("foreign", b"v").await,
        Err(Error::AlreadyExists)
    ));
    assert_eq!(store.list("").await.unwrap(), ["foreign", "layout"]);

    // A dead Vault: every operation fails fast with Unreachable, never hangs.
    bao.kill();
    for _ in 0..2 {
        let start = Instant::now();
        let err = store.get("layout").await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err}");
        let err = store.status().await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err}");
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }
    eprintln!("kv v1 test took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kv_v2_creates_with_check_and_set_and_reads_version_1() {
    let bao = OpenBao::start().await;
    // The dev server mounts KV v2 at secret/.
    let approle = bao.approle(None, "kes", &["secret/*"], "60s", "120s").await;
    let store =
        conformance(VaultKeyStore::new(options(&bao, "secret", KvVersion::V2, approle)).unwrap())
            .await;

    store.create("layout", b"first").await.unwrap();
    assert!(matches!(
        store.create("layout", b"second").await,
        Err(Error::AlreadyExists)
    ));
    let raw = bao
        .api(Method::GET, "secret/data/layout?version=1", None, None)
        .await;
    assert_eq!(raw["data"]["data"], json!({"layout": "first"}));
    let meta = bao
        .api(Method::GET, "secret/metadata/layout", None, None)
        .await;
    assert_eq!(meta["data"]["current_version"], 1);
    // Someone else writes version 2: KES keeps reading version 1, never a substituted key.
    bao.api(
        Method::POST,
        "secret/data/layout",
        None,
        Some(json!({"data": {"layout": "substituted"}})),
    )
    .await;
    assert_eq!(store.get("layout").await.unwrap().as_slice(), b"first");
    // Delete removes every version: the name can be created again.
    store.delete("layout").await.unwrap();
    assert!(matches!(store.get("layout").await, Err(Error::NotFound)));
    store.create("layout", b"again").await.unwrap();
    assert_eq!(store.get("layout").await.unwrap().as_slice(), b"again");
    store.status().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transit_wraps_stored_values_across_key_rotation() {
    let bao = OpenBao::start().await;
    bao.enable_transit(None, "transit", "kes").await;
    let approle = bao
        .approle(None, "kes", &["secret/*", "transit/*"], "60s", "120s")
        .await;
    let mut opts = options(&bao, "secret", KvVersion::V2, approle);
    opts.transit = Some(Transit {
        engine: "transit".to_owned(),
        key: "kes".to_owned(),
    });
    let store = conformance(VaultKeyStore::new(opts.clone()).unwrap()).await;

    store.create("wrapped-1", b"value-1").await.unwrap();
    let raw = bao
        .api(Method::GET, "secret/data/wrapped-1", None, None)
        .await;
    let stored = raw["data"]["data"]["wrapped-1"].as_str().unwrap();
    assert!(stored.starts_with("vault:v1:"), "{stored}");
    // After a rotation Vault answers `vault:v2:`; both versions are accepted and read.
    bao.rotate_transit_key(None, "transit", "kes").await;
    store.create("wrapped-2", b"value-2").await.unwrap();
    let raw = bao
        .api(Method::GET, "secret/data/wrapped-2", None, None)
        .await;
    let stored = raw["data"]["data"]["wrapped-2"].as_str().unwrap();
    assert!(stored.starts_with("vault:v2:"), "{stored}");
    assert_eq!(store.get("wrapped-1").await.unwrap().as_slice(), b"value-1");
    assert_eq!(store.get("wrapped-2").await.unwrap().as_slice(), b"value-2");

    // Without transit configured, a wrapped value is an error, not the ciphertext.
    opts.transit = None;
    let plain = VaultKeyStore::new(opts).unwrap();
    assert!(matches!(
        plain.get("wrapped-1").await,
        Err(Error::Unavailable(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn namespace_with_its_own_and_a_root_login() {
    let bao = OpenBao::start().await;
    bao.create_namespace("team").await;
    let ns = Some("team");
    bao.enable_kv(ns, "kv", 1).await;
    bao.enable_kv(ns, "kv2", 2).await;
    bao.enable_transit(ns, "transit", "kes").await;

    // AppRole inside the namespace; the login uses the keystore's namespace.
    let approle = bao
        .approle(ns, "kes", &["kv/*", "kv2/*", "transit/*"], "60s", "120s")
        .await;
    let mut opts = options(&bao, "kv", KvVersion::V1, approle.clone());
    opts.namespace = Some("team".to_owned());
    conformance(VaultKeyStore::new(opts.clone()).unwrap()).await;
    let mut opts2 = options(&bao, "kv2", KvVersion::V2, approle);
    opts2.namespace = Some("team".to_owned());
    opts2.transit = Some(Transit {
        engine: "transit".to_owned(),
        key: "kes".to_owned(),
    });
    let store2 = conformance(VaultKeyStore::new(opts2).unwrap()).await;
    store2.create("in-team", b"v").await.unwrap();
    let raw = bao.api(Method::GET, "kv2/data/in-team", ns, None).await;
    assert!(
        raw["data"]["data"]["in-team"]
            .as_str()
            .unwrap()
            .starts_with("vault:v1:")
    );

    // AppRole in the root namespace (`namespace: /`) whose policy grants the team's engine.
    let root_role = bao
        .approle(None, "kes-root", &["team/kv/*"], "60s", "120s")
        .await;
    let mut root_login = options(&bao, "kv", KvVersion::V1, root_role);
    root_login.namespace = Some("team".to_owned());
    if let VaultAuth::AppRole(approle) = &mut root_login.auth {
        approle.namespace = Some("/".to_owned());
    }
    let store = VaultKeyStore::new(root_login).unwrap();
    store.create("from-root-login", b"v").await.unwrap();
    let raw = bao.api(Method::GET, "kv/from-root-login", ns, None).await;
    assert_eq!(raw["data"], json!({"from-root-login": "v"}));
    // The health check ignores the namespace (OpenBao refuses it inside one).
    store.status().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tls_with_a_ca_file_or_directory_and_a_fixed_token() {
    let bao = OpenBao::start_tls().await;
    assert!(bao.url().starts_with("https://"));
    let dir = tempfile::tempdir().unwrap();
    let client = CertFiles::generate(dir.path(), "vault-client", "kes");
    let opts = VaultOptions {
        endpoint: bao.url().to_owned(),
        engine: "secret".to_owned(),
        version: KvVersion::V2,
        namespace: None,
        prefix: Some("tls".to_owned()),
        auth: VaultAuth::Token(Zeroizing::new(ROOT_TOKEN.to_owned())),
        transit: None,
        tls: VaultTls {
            ca: Some(bao.ca().unwrap().to_owned()),
            client: Some((client.cert.clone(), client.key.clone())),
        },
        timeout: Duration::from_secs(5),
    };
    conformance(VaultKeyStore::new(opts.clone()).unwrap()).await;
    // A CA directory works too.
    let ca_dir = dir.path().join("cas");
    std::fs::create_dir(&ca_dir).unwrap();
    std::fs::copy(bao.ca().unwrap(), ca_dir.join("vault-ca.pem")).unwrap();
    let mut by_dir = opts.clone();
    by_dir.tls.ca = Some(ca_dir);
    by_dir.tls.client = None;
    VaultKeyStore::new(by_dir).unwrap().status().await.unwrap();
    // The server end to end, with the `token` extension and the `tls` section.
    let section = format!(
        "keystore:\n  vault:\n    endpoint: {}\n    engine: secret\n    version: v2\n    token: {ROOT_TOKEN}\n    tls:\n      ca: {}\n      key: {}\n      cert: {}\n",
        bao.url(),
        bao.ca().unwrap().display(),
        client.key.display(),
        client.cert.display()
    );
    let server = TestServer::start_with_keystore(tempfile::tempdir().unwrap(), &section, "").await;
    let admin = server.admin_client();
    admin.post("/v1/key/create/over-tls", "").await.ok();
    let dek = dek(&admin, "over-tls").await;
    assert_decrypts(&admin, "over-tls", &dek).await;
    server.stop().await;

    // Without the CA, Vault's certificate is not trusted.
    let mut untrusted = opts;
    untrusted.tls.ca = None;
    let err = VaultKeyStore::new(untrusted)
        .unwrap()
        .status()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unreachable(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_certificate_for_a_listener_that_requires_one() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, client) = CertFiles::generate_ca_and_client(dir.path());
    let bao = OpenBao::start_with_mtls_listener(&ca.cert).await;
    let (url, server_cert) = bao.mtls().unwrap();
    let approle = bao.approle(None, "kes", &["secret/*"], "60s", "120s").await;
    let mut opts = options(&bao, "secret", KvVersion::V2, approle);
    opts.endpoint = url.to_owned();
    opts.tls = VaultTls {
        ca: Some(server_cert.to_owned()),
        client: Some((client.cert.clone(), client.key.clone())),
    };
    let store = VaultKeyStore::new(opts.clone()).unwrap();
    store.status().await.unwrap();
    store.create("mtls", b"v").await.unwrap();
    assert_eq!(store.get("mtls").await.unwrap().as_slice(), b"v");
    // Without the client certificate the listener refuses the connection.
    opts.tls.client = None;
    let err = VaultKeyStore::new(opts)
        .unwrap()
        .get("mtls")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unreachable(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token_is_renewed_and_replaced_by_a_new_login() {
    let bao = OpenBao::start().await;
    // Tokens live 1 s and renew up to 2 s: within 3 s the store renews, then logs in again.
    let approle = bao.approle(None, "kes", &["secret/*"], "1s", "2s").await;
    let store = VaultKeyStore::new(options(&bao, "secret", KvVersion::V2, approle)).unwrap();
    store.create("renewed", b"v").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut reads = 0;
    while Instant::now() < deadline {
        assert_eq!(store.get("renewed").await.unwrap().as_slice(), b"v");
        reads += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reads > 10);

    // Tokens revoked early: the 403 makes the store log in again once.
    bao.api(
        Method::PUT,
        "sys/leases/revoke-prefix/auth/approle/login",
        None,
        None,
    )
    .await;
    assert_eq!(store.get("renewed").await.unwrap().as_slice(), b"v");
}

/// A `keystore:` section (ours and the Go server's share the syntax) for AppRole `(id, secret)`.
fn keystore_yaml(bao: &OpenBao, engine: &str, version: &str, approle: &(String, String)) -> String {
    format!(
        "keystore:\n  vault:\n    endpoint: {}\n    engine: {engine}\n    version: {version}\n    prefix: kes\n    approle:\n      id: {}\n      secret: {}\n",
        bao.url(),
        approle.0,
        approle.1
    )
}

/// Generates a DEK with `key` through `client`: (plaintext, ciphertext, context).
async fn dek(client: &Client, key: &str) -> (Value, Value) {
    let reply = client
        .post(
            &format!("/v1/key/generate/{key}"),
            &json!({"context": "Y29udGV4dA=="}).to_string(),
        )
        .await
        .ok();
    (reply["plaintext"].clone(), reply["ciphertext"].clone())
}

async fn assert_decrypts(client: &Client, key: &str, (plaintext, ciphertext): &(Value, Value)) {
    let body = json!({"ciphertext": ciphertext, "context": "Y29udGV4dA=="}).to_string();
    let reply = client
        .post(&format!("/v1/key/decrypt/{key}"), &body)
        .await
        .ok();
    assert_eq!(&reply["plaintext"], plaintext, "decrypting with {key}");
}

/// The Go KES v0.24.0 and ours share one OpenBao engine: each reads the other's keys.
/// With `transit`, both wrap the stored keys with the transit key `kes`.
async fn layout_compatible_with_go(engine: &str, version: &str, transit: bool) {
    let bao = OpenBao::start().await;
    if version == "v1" {
        bao.enable_kv(None, engine, 1).await;
    }
    if transit {
        bao.enable_transit(None, "transit", "kes").await;
    }
    let approle = bao
        .approle(
            None,
            "kes",
            &[&format!("{engine}/*"), "transit/*"],
            "60s",
            "120s",
        )
        .await;
    let mut section = keystore_yaml(&bao, engine, version, &approle);
    if transit {
        section.push_str("    transit:\n      engine: transit\n      key: kes\n");
    }

    let dir = tempfile::tempdir().unwrap();
    let cert = CertFiles::generate(dir.path(), "go-server", "localhost");
    let admin = ApiKey::generate().unwrap();
    let go = GoServer::start_with_keystore(dir.path(), &section, &cert, &admin, "").await;
    let go_client = Client::with_api_key(&go.url, &admin, Some(&cert.cert_der));
    let ours = TestServer::start_with_keystore(tempfile::tempdir().unwrap(), &section, "").await;
    let our_client = ours.admin_client();

    // Go creates, ours reads.
    go_client.post("/v1/key/create/from-go", "").await.ok();
    let go_dek = dek(&go_client, "from-go").await;
    assert_decrypts(&our_client, "from-go", &go_dek).await;
    our_client
        .post("/v1/key/create/from-go", "")
        .await
        .assert_error(400, "key already exists");
    // Ours creates, Go reads.
    our_client.post("/v1/key/create/from-rust", "").await.ok();
    let our_dek = dek(&our_client, "from-rust").await;
    assert_decrypts(&go_client, "from-rust", &our_dek).await;
    go_client
        .post("/v1/key/create/from-rust", "")
        .await
        .assert_error(400, "key already exists");
    // Both list both keys.
    for client in [&go_client, &our_client] {
        let names = client.get("/v1/key/list/*").await.text();
        assert!(
            names.contains("from-go") && names.contains("from-rust"),
            "{names}"
        );
    }
    // Same stored layout: one field named after the key, at <engine>/[data/]kes/<name>.
    let path = match version {
        "v1" => format!("{engine}/kes/from-go"),
        _ => format!("{engine}/data/kes/from-go"),
    };
    let raw = bao.api(Method::GET, &path, None, None).await;
    let data = if version == "v1" {
        &raw["data"]
    } else {
        &raw["data"]["data"]
    };
    assert_eq!(
        data.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["from-go"]
    );
    assert_eq!(
        data["from-go"].as_str().unwrap().starts_with("vault:v1:"),
        transit
    );
    ours.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn layout_compatible_with_go_kes_kv_v1() {
    layout_compatible_with_go("kv", "v1", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn layout_compatible_with_go_kes_kv_v2() {
    layout_compatible_with_go("secret", "v2", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn layout_compatible_with_go_kes_kv_v2_and_transit() {
    layout_compatible_with_go("secret", "v2", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrate_from_fs_to_vault_and_back() {
    let bao = OpenBao::start().await;
    let approle = bao.approle(None, "kes", &["secret/*"], "60s", "120s").await;
    let root = tempfile::tempdir().unwrap();
    let (src, back) = (root.path().join("src"), root.path().join("back"));

    let source = TestServer::start_in(tempfile::tempdir().unwrap(), &src, "").await;
    let admin = source.admin_client();
    let names = ["mig-a", "mig-b", "mig-c"];
    let mut deks = Vec::new();
    for name in names {
        admin.post(&format!("/v1/key/create/{name}"), "").await.ok();
        deks.push(dek(&admin, name).await);
    }
    let config = std::fs::read_to_string(source.config_path()).unwrap();
    source.stop().await;

    let fs_section = |path: &Path| format!("keystore:\n  fs:\n    path: {}\n", path.display());
    let vault_section = keystore_yaml(&bao, "secret", "v2", &approle);
    assert!(config.contains(&fs_section(&src)));
    let write = |file: &str, section: &str| {
        let path = root.path().join(file);
        std::fs::write(&path, config.replace(&fs_section(&src), section)).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let from_fs = write("from-fs.yml", &fs_section(&src));
    let vault = write("vault.yml", &vault_section);
    let to_fs = write("to-fs.yml", &fs_section(&back));

    let migrate = |from: String, to: String| {
        let out = std::process::Command::new(tests::our_kes())
            .args(["migrate", "--from", &from, "--to", &to])
            .current_dir(root.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "kes migrate {from} -> {to}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let out = migrate(from_fs, vault.clone());
    assert!(out.contains("Migrated      3 keys successfully!"), "{out}");

    let on_vault =
        TestServer::start_with_keystore(tempfile::tempdir().unwrap(), &vault_section, "").await;
    let client = on_vault.admin_client();
    for (name, dek) in names.iter().zip(&deks) {
        assert_decrypts(&client, name, dek).await;
    }
    on_vault.stop().await;

    let out = migrate(vault, to_fs);
    assert!(out.contains("Migrated      3 keys successfully!"), "{out}");
    for name in names {
        assert_eq!(
            std::fs::read(src.join(name)).unwrap(),
            std::fs::read(back.join(name)).unwrap(),
            "{name} changed on the round trip"
        );
    }
    let on_fs = TestServer::start_in(tempfile::tempdir().unwrap(), &back, "").await;
    let client = on_fs.admin_client();
    for (name, dek) in names.iter().zip(&deks) {
        assert_decrypts(&client, name, dek).await;
    }
    on_fs.stop().await;
}
