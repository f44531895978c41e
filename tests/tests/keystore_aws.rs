//! The AWS Secrets Manager keystore against a real moto server (`tests::backends::moto`),
//! started by each test on 127.0.0.1 and a free port and killed afterwards: the conformance
//! suite, the stored layout, the server end to end, layout compatibility with the upstream Go
//! KES v0.24.0 on the same moto, and `kes migrate` from fs to the backend and back. If moto or
//! the Go server cannot be started the test fails; it never skips. `scripts/install-peers`
//! installs both.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use keystores::aws::{AwsKeyStore, AwsOptions, StaticCredentials};
use keystores::{Error, KeyStore};
use tests::backends::moto::{ACCESS_KEY, Moto, REGION};
use tests::{CertFiles, Client, GoServer, TestServer, Value, json, our_kes};
use zeroize::Zeroizing;

fn options(moto: &Moto, kms_key: Option<&str>) -> AwsOptions {
    AwsOptions {
        endpoint: moto.endpoint(),
        region: REGION.to_owned(),
        kms_key: kms_key.map(str::to_owned),
        credentials: Some(StaticCredentials {
            access_key: ACCESS_KEY.to_owned(),
            secret_key: Zeroizing::new(ACCESS_KEY.to_owned()),
            session_token: None,
        }),
    }
}

fn store(moto: &Moto) -> AwsKeyStore {
    AwsKeyStore::new(options(moto, None)).unwrap()
}

/// DescribeSecret of `name`, as moto reports it.
fn describe(moto: &Moto, name: &str) -> Value {
    moto.call("DescribeSecret", &json!({ "SecretId": name }).to_string())
}

/// The secret carries nothing but its name and value: no description, no tags.
fn assert_plain_layout(moto: &Moto, name: &str, value: &[u8]) {
    let described = describe(moto, name);
    assert_eq!(described["Name"], name);
    assert!(described["Description"].is_null(), "{described}");
    assert!(
        described["Tags"].as_array().is_none_or(Vec::is_empty),
        "{described}"
    );
    let stored = moto.call("GetSecretValue", &json!({ "SecretId": name }).to_string());
    assert_eq!(
        stored["SecretString"].as_str().unwrap().as_bytes(),
        value,
        "{stored}"
    );
    assert!(stored["SecretBinary"].is_null(), "{stored}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance_layout_and_outage() {
    let started = Instant::now();
    let mut moto = Moto::start();
    eprintln!("moto up in {:?}", started.elapsed());

    let store = Arc::new(store(&moto));
    keystores::conformance::run(store.as_ref()).await.unwrap();
    keystores::conformance::concurrent_creates(store.clone(), 32)
        .await
        .unwrap();

    // Byte order, case-sensitive prefixes (the service's own name filter ignores case).
    for name in ["b", "Ab", "ab", "aB", "a-b", "a_b"] {
        store.create(name, name.as_bytes()).await.unwrap();
    }
    assert_eq!(
        store.list("").await.unwrap(),
        ["Ab", "a-b", "aB", "a_b", "ab", "b"]
    );
    assert_eq!(store.list("a").await.unwrap(), ["a-b", "aB", "a_b", "ab"]);
    assert_eq!(store.list("aB").await.unwrap(), ["aB"]);
    assert_eq!(store.list("A").await.unwrap(), ["Ab"]);

    // The upstream layout: Name = key name, SecretString = value, nothing else; no KMS key
    // unless configured.
    assert_plain_layout(&moto, "ab", b"ab");
    assert!(describe(&moto, "ab")["KmsKeyId"].is_null());
    let with_kms = AwsKeyStore::new(options(&moto, Some("alias/kes-test"))).unwrap();
    with_kms.create("kms-key", b"value").await.unwrap();
    assert_eq!(describe(&moto, "kms-key")["KmsKeyId"], "alias/kes-test");
    assert_eq!(with_kms.get("kms-key").await.unwrap().as_slice(), b"value");

    // A secret written as SecretBinary by another tool is read as its bytes.
    moto.call(
        "CreateSecret",
        &json!({ "Name": "binary", "SecretBinary": "AAEC/w==" }).to_string(),
    );
    assert_eq!(
        store.get("binary").await.unwrap().as_slice(),
        [0, 1, 2, 255]
    );

    // A secret scheduled for deletion (not forced) is gone for get and list; delete purges it,
    // and the name can be used again.
    moto.call("DeleteSecret", &json!({ "SecretId": "b" }).to_string());
    assert!(matches!(store.get("b").await, Err(Error::NotFound)));
    assert!(!store.list("").await.unwrap().contains(&"b".to_owned()));
    store.delete("b").await.unwrap();
    assert!(matches!(store.delete("b").await, Err(Error::NotFound)));
    store.create("b", b"again").await.unwrap();
    assert_eq!(store.get("b").await.unwrap().as_slice(), b"again");

    // The server end to end, from a config with `keystore.aws.secretsmanager`.
    let server =
        TestServer::start_with_keystore(tempfile::tempdir().unwrap(), &moto.keystore_section(), "")
            .await;
    let c = server.admin_client();
    c.get("/v1/ready").await.ok();
    c.post("/v1/key/create/server-key", "").await.ok();
    c.post("/v1/key/create/server-key", "")
        .await
        .assert_error(400, "key already exists");
    let dek = c.post("/v1/key/generate/server-key", "{}").await.ok();
    let body = json!({ "ciphertext": dek["ciphertext"] }).to_string();
    let plain = c.post("/v1/key/decrypt/server-key", &body).await.ok();
    assert_eq!(plain["plaintext"], dek["plaintext"]);
    let stored = store.get("server-key").await.unwrap();
    assert_plain_layout(&moto, "server-key", &stored);
    c.delete("/v1/key/delete/server-key").await.ok();
    c.get("/v1/key/describe/server-key")
        .await
        .assert_error(404, "key does not exist");
    server.stop().await;

    // A dead endpoint: every operation fails fast with Unreachable, never hangs.
    let timeout = Duration::from_secs(1);
    let store = AwsKeyStore::new(options(&moto, None))
        .unwrap()
        .with_timeout(timeout);
    store.status().await.unwrap();
    moto.stop();
    assert!(!moto.running());
    for _ in 0..2 {
        let start = Instant::now();
        let err = store.get("ab").await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err}");
        assert!(start.elapsed() < timeout * 3, "{:?}", start.elapsed());
        let err = store.status().await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err}");
        let err = store.list("").await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err}");
    }
    eprintln!("aws conformance test took {:?}", started.elapsed());
}

/// Decrypts `dek` (made with `context`) with key `name` through `client`.
async fn decrypts(client: &Client, name: &str, dek: &Value, context: &str) {
    let body = json!({ "ciphertext": dek["ciphertext"], "context": context }).to_string();
    let plain = client
        .post(&format!("/v1/key/decrypt/{name}"), &body)
        .await
        .ok();
    assert_eq!(plain["plaintext"], dek["plaintext"], "{name}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn layout_compatible_with_go_kes() {
    let started = Instant::now();
    let moto = Moto::start();
    let section = moto.keystore_section();

    let dir = tempfile::tempdir().unwrap();
    let cert = CertFiles::generate(dir.path(), "go-server", "localhost");
    let admin = kes_client::ApiKey::generate().unwrap();
    let go = GoServer::start_with_keystore(dir.path(), &section, &cert, &admin, "").await;
    let go = Client::with_api_key(&go.url, &admin, Some(&cert.cert_der));
    let ours = TestServer::start_with_keystore(tempfile::tempdir().unwrap(), &section, "").await;
    let rs = ours.admin_client();
    let context = "Y29udGV4dA==";
    let gen_body = json!({ "context": context }).to_string();

    // Written by Go, read by ours.
    go.post("/v1/key/create/go-key", "").await.ok();
    let go_dek = go.post("/v1/key/generate/go-key", &gen_body).await.ok();
    decrypts(&rs, "go-key", &go_dek, context).await;
    rs.post("/v1/key/create/go-key", "")
        .await
        .assert_error(400, "key already exists");

    // Written by ours, read by Go.
    rs.post("/v1/key/create/rs-key", "").await.ok();
    let rs_dek = rs.post("/v1/key/generate/rs-key", &gen_body).await.ok();
    decrypts(&go, "rs-key", &rs_dek, context).await;
    go.post("/v1/key/create/rs-key", "")
        .await
        .assert_error(400, "key already exists");

    // Both secrets have the same shape: name, string value, nothing else.
    let store = store(&moto);
    for name in ["go-key", "rs-key"] {
        let value = store.get(name).await.unwrap();
        assert_plain_layout(&moto, name, &value);
    }
    let fields = |name: &str| -> Vec<String> {
        let mut keys: Vec<String> = describe(&moto, name)
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(fields("go-key"), fields("rs-key"));

    // Each lists the other's keys; a delete by Go removes the secret ours reads.
    let listed = rs.get("/v1/key/list/").await.ok();
    assert_eq!(listed["names"], json!(["go-key", "rs-key"]));
    let go_listed = go.get("/v1/key/list/").await.ok();
    assert_eq!(go_listed["names"], json!(["go-key", "rs-key"]));
    go.delete("/v1/key/delete/rs-key").await.ok();
    assert!(matches!(store.get("rs-key").await, Err(Error::NotFound)));
    ours.stop().await;
    eprintln!("go layout test took {:?}", started.elapsed());
}

/// Runs our `kes` with `args` in `dir`, the AWS credentials in the environment (the default
/// chain), no shared config files, no instance metadata and no CA file but `ca_file`.
async fn kes_aws(dir: &Path, args: &[&str], ca_file: Option<&Path>) -> std::process::Output {
    let mut cmd = tokio::process::Command::new(our_kes());
    cmd.args(args)
        .current_dir(dir)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", ACCESS_KEY)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_SECRETS_MANAGER")
        .env_remove("SSL_CERT_DIR")
        .kill_on_drop(true);
    match ca_file {
        Some(file) => cmd.env("SSL_CERT_FILE", file),
        None => cmd.env_remove("SSL_CERT_FILE"),
    };
    tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("kes did not finish")
        .unwrap()
}

/// Like [`kes_aws`] without a CA file; asserts success and returns stdout.
async fn kes_with_env_credentials(dir: &Path, args: &[&str]) -> String {
    let out = kes_aws(dir, args, None).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "kes {args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The YAML example of the README's "AWS Secrets Manager" section, pointed at `endpoint`.
fn readme_example(endpoint: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme
        .split("\n### AWS Secrets Manager\n")
        .nth(1)
        .expect("README section AWS Secrets Manager");
    let block = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a yaml block in the README's AWS section");
    let example: String = block
        .lines()
        .map(|line| match line.trim_start().strip_prefix("endpoint:") {
            Some(_) => format!("      endpoint: {endpoint}\n"),
            None => format!("{line}\n"),
        })
        .collect();
    assert!(example.contains("${AWS_SECRET_ACCESS_KEY}"), "{example}");
    assert_ne!(example, block);
    example
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrate_fs_to_aws_and_back() {
    let started = Instant::now();
    let moto = Moto::start();
    let root = tempfile::tempdir().unwrap();
    let (src, back) = (root.path().join("src"), root.path().join("back"));

    // Keys made by our server on the fs keystore, and a ciphertext under each.
    let source = TestServer::start_in(tempfile::tempdir().unwrap(), &src, "").await;
    let admin = source.admin_client();
    let context = "Y29udGV4dA==";
    let mut deks = Vec::new();
    for name in ["mig-a", "mig-b", "other"] {
        admin.post(&format!("/v1/key/create/{name}"), "").await.ok();
        let dek = admin
            .post(
                &format!("/v1/key/generate/{name}"),
                &json!({ "context": context }).to_string(),
            )
            .await
            .ok();
        deks.push((name, dek));
    }

    // Configs that differ only in the keystore. To the backend: the README's example, whose
    // credentials come from `${AWS_*}` references. Back: no credentials, so the SDK's default
    // chain finds them in the environment.
    let config = std::fs::read_to_string(source.config_path()).unwrap();
    let fs_section = |path: &Path| format!("keystore:\n  fs:\n    path: {}\n", path.display());
    let readme_section = readme_example(&moto.endpoint());
    let chain_section = format!(
        "keystore:\n  aws:\n    secretsmanager:\n      endpoint: {}\n      region: {REGION}\n",
        moto.endpoint()
    );
    let write = |file: &str, section: &str| {
        let text = config.replace(&fs_section(&src), section);
        assert_ne!(text, config);
        let path = root.path().join(file);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let from_fs = root.path().join("fs.yml");
    std::fs::write(&from_fs, &config).unwrap();
    let from_fs = from_fs.to_str().unwrap();
    let readme = write("readme.yml", &readme_section);
    let aws = write("aws.yml", &chain_section);
    let to_back = write("back.yml", &fs_section(&back));

    let out = kes_with_env_credentials(
        root.path(),
        &["migrate", "--from", from_fs, "--to", &readme],
    )
    .await;
    assert!(
        out.ends_with("Migrated      3 keys successfully!\n"),
        "{out}"
    );
    let store = store(&moto);
    assert_eq!(store.list("").await.unwrap(), ["mig-a", "mig-b", "other"]);
    for (name, content) in tests::dir_files(&src) {
        assert_eq!(
            store.get(&name).await.unwrap().as_slice(),
            content,
            "{name}"
        );
        assert_plain_layout(&moto, &name, &content);
    }

    let out =
        kes_with_env_credentials(root.path(), &["migrate", "--from", &aws, "--to", &to_back]).await;
    assert!(
        out.ends_with("Migrated      3 keys successfully!\n"),
        "{out}"
    );
    assert_eq!(tests::dir_files(&src), tests::dir_files(&back));
    source.stop().await;

    // Every ciphertext made before the migrations decrypts on the backend and back on fs.
    let on_aws =
        TestServer::start_with_keystore(tempfile::tempdir().unwrap(), &moto.keystore_section(), "")
            .await;
    let on_fs = TestServer::start_in(tempfile::tempdir().unwrap(), &back, "").await;
    for (name, dek) in &deks {
        decrypts(&on_aws.admin_client(), name, dek, context).await;
        decrypts(&on_fs.admin_client(), name, dek, context).await;
    }
    on_aws.stop().await;
    on_fs.stop().await;
    eprintln!("migrate test took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn https_endpoint_verifies_the_certificate() {
    let started = Instant::now();
    let root = tempfile::tempdir().unwrap();
    let cert = CertFiles::generate(root.path(), "moto", "localhost");
    let moto = Moto::start_tls(&cert.cert, &cert.key);
    let (src, back) = (root.path().join("src"), root.path().join("back"));
    let source = TestServer::start_in(tempfile::tempdir().unwrap(), &src, "").await;
    source
        .admin_client()
        .post("/v1/key/create/tls-key", "")
        .await
        .ok();

    let config = std::fs::read_to_string(source.config_path()).unwrap();
    let fs_section = |path: &Path| format!("keystore:\n  fs:\n    path: {}\n", path.display());
    let write = |file: &str, section: &str| {
        let text = config.replace(&fs_section(&src), section);
        assert_ne!(text, config);
        let path = root.path().join(file);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let from_fs = root.path().join("fs.yml");
    std::fs::write(&from_fs, &config).unwrap();
    let from_fs = from_fs.to_str().unwrap().to_owned();
    let tls = write(
        "tls.yml",
        &format!(
            "keystore:\n  aws:\n    secretsmanager:\n      endpoint: {}\n      region: {REGION}\n",
            moto.endpoint()
        ),
    );
    let to_back = write("back.yml", &fs_section(&back));
    let cwd = root.path();

    // Without the certificate in the trust store: refused, nothing sent.
    let out = kes_aws(cwd, &["migrate", "--from", &from_fs, "--to", &tls], None).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unreachable") && stderr.contains("certificate"),
        "{stderr}"
    );

    // Trusted through SSL_CERT_FILE: there and back over HTTPS.
    for (from, to) in [(&from_fs, &tls), (&tls, &to_back)] {
        let out = kes_aws(
            cwd,
            &["migrate", "--from", from, "--to", to],
            Some(&cert.cert),
        )
        .await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.ends_with("Migrated      1 keys successfully!\n"),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(tests::dir_files(&src), tests::dir_files(&back));
    source.stop().await;
    eprintln!("https test took {:?}", started.elapsed());
}
