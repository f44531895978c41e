//! The Azure Key Vault keystore (`keystores::azure`) through the official Azure SDK for Rust,
//! against the project's Key Vault **stub** (`tests::backends::kv_stub`): an HTTPS loopback
//! server with its own CA that speaks the secrets REST API, the challenge-based bearer
//! authentication and the Entra ID and App Service managed-identity token endpoints. The real
//! emulator, Lowkey Vault, is not installable from the registries reachable here (see the stub's
//! module docs), so this is not a real-backend test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use keystores::azure::{AzureKeyStore, AzureOptions, BINARY_CONTENT_TYPE, Credential};
use keystores::{Error, KeyStore};
use tests::backends::kv_stub::{self, KeyVaultStub};
use zeroize::Zeroizing;

fn options(stub: &KeyVaultStub, credential: Credential) -> AzureOptions {
    let mut options = AzureOptions::new(stub.endpoint(), credential);
    options.ca = Some(stub.ca().to_owned());
    options.timeout = Duration::from_secs(3);
    options
}

fn token() -> Credential {
    Credential::Token(Zeroizing::new(kv_stub::STATIC_TOKEN.to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn azure_keystore() {
    let started = Instant::now();
    let stub = KeyVaultStub::start().await;

    // The conformance suite with a fixed token.
    let store = Arc::new(AzureKeyStore::new(options(&stub, token())).unwrap());
    keystores::conformance::run(store.as_ref()).await.unwrap();
    keystores::conformance::concurrent_creates(store.clone(), 32)
        .await
        .unwrap();
    eprintln!("conformance done in {:?}", started.elapsed());

    // Layout: the value only, as text; deleted keys are purged.
    store.create("layout", b"key-text").await.unwrap();
    assert_eq!(stub.versions("layout"), [("key-text".to_owned(), None)]);
    store.delete("layout").await.unwrap();
    assert!(stub.versions("layout").is_empty());
    assert!(!stub.is_deleted("layout"));
    // A value that is not UTF-8 is stored as marked base64.
    store.create("binary", &[0xff, 0, 1]).await.unwrap();
    assert_eq!(
        stub.versions("binary"),
        [("/wAB".to_owned(), Some(BINARY_CONTENT_TYPE.to_owned()))]
    );
    assert_eq!(store.get("binary").await.unwrap().as_slice(), [0xff, 0, 1]);
    store.delete("binary").await.unwrap();

    // Names Key Vault cannot hold: refused on create, never found.
    assert!(matches!(
        store.create("my_key", b"v").await,
        Err(Error::InvalidName(name)) if name == "my_key"
    ));
    assert!(matches!(store.get("my_key").await, Err(Error::NotFound)));
    assert!(matches!(store.delete("my_key").await, Err(Error::NotFound)));

    // Get reads the oldest version, as the reference does.
    store.create("versioned", b"first").await.unwrap();
    assert!(matches!(
        store.create("versioned", b"second").await,
        Err(Error::AlreadyExists)
    ));
    assert_eq!(store.get("versioned").await.unwrap().as_slice(), b"first");

    // A soft-deleted but unpurged secret of the same name is purged on create.
    let other = AzureKeyStore::new(options(&stub, token())).unwrap();
    other.create("recreated", b"old").await.unwrap();
    // Soft delete only, the way another client (or a failed purge) leaves it.
    soft_delete(&stub, "recreated").await;
    assert!(stub.is_deleted("recreated"));
    other.create("recreated", b"new").await.unwrap();
    assert_eq!(other.get("recreated").await.unwrap().as_slice(), b"new");

    // Client-secret credentials against the Entra ID token endpoint.
    let mut cs = options(
        &stub,
        Credential::ClientSecret {
            tenant_id: "stub-tenant".into(),
            client_id: "stub-client".into(),
            client_secret: Zeroizing::new(kv_stub::CLIENT_SECRET.into()),
            authority_host: Some(stub.endpoint()),
        },
    );
    let cs_store = AzureKeyStore::new(cs.clone()).unwrap();
    assert_eq!(
        cs_store.get("versioned").await.unwrap().as_slice(),
        b"first"
    );
    assert_eq!(stub.issued().0, 1);
    cs.credential = Credential::ClientSecret {
        tenant_id: "stub-tenant".into(),
        client_id: "stub-client".into(),
        client_secret: Zeroizing::new("wrong".into()),
        authority_host: Some(stub.endpoint()),
    };
    let err = AzureKeyStore::new(cs)
        .unwrap()
        .get("versioned")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err}");
    assert!(!err.to_string().contains("wrong"), "{err}");

    // Without the CA the stub's certificate is refused.
    let mut untrusted = options(&stub, token());
    untrusted.ca = None;
    let err = AzureKeyStore::new(untrusted)
        .unwrap()
        .status()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Unreachable(_) | Error::Unavailable(_)),
        "{err}"
    );

    // The server path: `kes migrate` from fs to Key Vault and back, with the managed identity
    // (App Service protocol) and SSL_CERT_FILE, and every key still decrypting.
    migrate_round_trip(&stub).await;
    assert!(
        stub.issued().1 > 0,
        "the managed identity endpoint was used"
    );

    // A dead endpoint: status and get fail fast with Unreachable.
    stub.stop();
    for _ in 0..2 {
        let start = Instant::now();
        let err = store.get("versioned").await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err}");
        let err = store.status().await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err}");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }
    eprintln!("azure test took {:?}", started.elapsed());
}

/// The README's Azure example parses, and its secret never prints.
#[test]
fn readme_example() {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("### Azure Key Vault")
        .nth(1)
        .expect("README has an Azure Key Vault section");
    let yaml = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|block| block.split("```").next())
        .expect("a yaml block");
    let config = format!(
        "address: 0.0.0.0:7373\nadmin:\n  identity: disabled\ntls:\n  key: k\n  cert: c\n{yaml}"
    );
    let env = |name: &str| (name == "KES_AZURE_CLIENT_SECRET").then(|| "s3cret".to_owned());
    let parsed = kes_server::config::Config::parse(&config, &env).unwrap();
    match &parsed.keystore {
        kes_server::config::KeystoreConfig::Azure(azure) => {
            assert_eq!(azure.endpoint, "https://my-vault.vault.azure.net");
            assert!(matches!(
                azure.auth,
                kes_server::config::AzureAuth::ClientSecret { .. }
            ));
        }
        other => panic!("{other:?}"),
    }
    assert!(!format!("{:?}", parsed.keystore).contains("s3cret"));
}

/// Soft-deletes `name` without purging, through the REST API.
async fn soft_delete(stub: &KeyVaultStub, name: &str) {
    let ca = reqwest_cert(stub.ca());
    let client = reqwest::Client::builder()
        .tls_certs_only([ca])
        .build()
        .unwrap();
    let rsp = client
        .delete(format!(
            "{}/secrets/{name}?api-version=7.6",
            stub.endpoint()
        ))
        .bearer_auth(kv_stub::STATIC_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(rsp.status(), 200);
}

fn reqwest_cert(path: &Path) -> reqwest::Certificate {
    reqwest::Certificate::from_pem(&std::fs::read(path).unwrap()).unwrap()
}

/// Creates keys and ciphertexts on an fs keystore, migrates them to Key Vault, serves them from
/// Key Vault, migrates them back to a fresh fs keystore and decrypts again.
async fn migrate_round_trip(stub: &KeyVaultStub) {
    let dir = tempfile::tempdir().unwrap();
    let names = ["migrate-a", "migrate-b", "minio-key-1"];

    // Keys and ciphertexts on the fs keystore.
    let fs1 = dir.path().join("fs1");
    std::fs::create_dir(&fs1).unwrap();
    let server = tests::TestServer::start_with_keystore(
        tempfile::tempdir().unwrap(),
        &format!("keystore:\n  fs:\n    path: {}\n", fs1.display()),
        "",
    )
    .await;
    let c = server.admin_client();
    let mut deks = Vec::new();
    for name in names {
        c.post(&format!("/v1/key/create/{name}"), "").await.ok();
        deks.push(c.post(&format!("/v1/key/generate/{name}"), "{}").await.ok());
    }
    server.stop().await;

    let azure = format!(
        "keystore:\n  azure:\n    keyvault:\n      endpoint: {}\n      managed_identity:\n        client_id: stub-client\n",
        stub.endpoint()
    );
    let write = |file: &str, keystore: &str| {
        let path = dir.path().join(file);
        std::fs::write(&path, format!("address: 127.0.0.1:0\nadmin:\n  identity: disabled\ntls:\n  key: k\n  cert: c\n{keystore}")).unwrap();
        path
    };
    let from = write(
        "from.yml",
        &format!("keystore:\n  fs:\n    path: {}\n", fs1.display()),
    );
    let to_azure = write("azure.yml", &azure);
    let fs2 = dir.path().join("fs2");
    std::fs::create_dir(&fs2).unwrap();
    let to_fs = write(
        "to.yml",
        &format!("keystore:\n  fs:\n    path: {}\n", fs2.display()),
    );
    let migrate = |from: &Path, to: &Path| {
        let out = std::process::Command::new(tests::our_kes())
            .args(["migrate", "--from"])
            .arg(from)
            .arg("--to")
            .arg(to)
            .env("SSL_CERT_FILE", stub.ca())
            .env("IDENTITY_ENDPOINT", stub.identity_endpoint())
            .env("IDENTITY_HEADER", kv_stub::IDENTITY_HEADER)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kes migrate failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    migrate(&from, &to_azure);
    for name in names {
        assert_eq!(stub.versions(name).len(), 1, "{name} in Key Vault");
    }
    migrate(&to_azure, &to_fs);

    // Every key decrypts its old ciphertexts from the migrated-back fs keystore.
    let server = tests::TestServer::start_with_keystore(
        tempfile::tempdir().unwrap(),
        &format!("keystore:\n  fs:\n    path: {}\n", fs2.display()),
        "",
    )
    .await;
    let c = server.admin_client();
    for (name, dek) in names.iter().zip(&deks) {
        let body = serde_json::json!({"ciphertext": dek["ciphertext"]}).to_string();
        let plain = c.post(&format!("/v1/key/decrypt/{name}"), &body).await.ok();
        assert_eq!(plain["plaintext"], dek["plaintext"], "{name}");
    }
    server.stop().await;
}
