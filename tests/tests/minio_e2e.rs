//! End to end with the real MinIO server (`tests::backends::minio`): MinIO uses our server as
//! its KMS through the `MINIO_KMS_KES_*` variables only, and an S3 client (the Python `minio`
//! package, `tests/minio_s3.py`) stores and reads encrypted objects.
//!
//! - `minio_with_an_api_key` and `minio_with_client_certificate_files`: two servers of ours on
//!   one fs keystore as MinIO's two endpoints; MinIO creates its default key through us; SSE-S3
//!   (small, multipart, ranged GET), bucket default encryption, SSE-KMS with a named key and a
//!   context, copy with SSE-S3, a key the policy forbids; `kes-client` unseals the object keys
//!   from the metadata in MinIO's `xl.meta` and decrypts the stored data; then the first
//!   endpoint stops, MinIO goes on, restarts and reads everything back.
//! - `minio_migrates_from_the_go_kes_server`: objects written while MinIO used the upstream Go
//!   KES server are read, unchanged on disk, after MinIO is switched to ours on the same
//!   keystore.
//!
//! Every check fills a cell of `COMPATIBILITY.md` (`tests::compat`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use kes_client::ApiKey;
use kes_client::config::KmsConfig;
use kes_client::dare::{DecryptOptions, DecryptReader};
use kes_client::sse::{self, KesKms};
use tests::backends::minio::{Minio, minio_version};
use tests::compat::{Cells, Op, Peer, PeerKind};
use tests::{CertFiles, GoServer, TestServer, Value, json};

const DEFAULT_KEY: &str = "minio-default";
const NAMED_KEY: &str = "minio-named";
const FORBIDDEN_KEY: &str = "forbidden-key";
const BUCKET: &str = "sse";
const DEFAULT_BUCKET: &str = "default-encrypted";
const PART_SIZE: usize = 5 << 20;

/// The policy of MinIO's identity: the keys named `minio-*` only (so `forbidden-key` is
/// denied), plus what MinIO calls besides (status, listing).
fn minio_policy(identity: &str) -> String {
    format!(
        "policy:\n  minio:\n    allow:\n    - /v1/key/create/minio-*\n    - /v1/key/generate/minio-*\n    - /v1/key/decrypt/minio-*\n    - /v1/key/describe/minio-*\n    - /v1/key/list/*\n    - /v1/status\n    identities:\n    - {identity}\n"
    )
}

fn minio_peer() -> Peer {
    Peer::new(PeerKind::Minio, "", &minio_version())
}

/// Deterministic pseudo-random bytes (xorshift), different for each seed.
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// One object of the test: its bucket, name, content and where the content is on disk.
struct Object {
    bucket: &'static str,
    name: &'static str,
    content: Vec<u8>,
    file: PathBuf,
}

impl Object {
    fn new(dir: &Path, bucket: &'static str, name: &'static str, len: usize, seed: u64) -> Object {
        let content = data(len, seed);
        let file = dir.join(format!("{bucket}-{}", name.replace('/', "-")));
        std::fs::write(&file, &content).unwrap();
        Object {
            bucket,
            name,
            content,
            file,
        }
    }

    fn put(&self, sse: Value) -> Value {
        json!({"op": "put", "bucket": self.bucket, "object": self.name,
               "file": self.file, "sse": sse, "part_size": PART_SIZE})
    }

    fn get_to(&self, out: &Path) -> Value {
        json!({"op": "get", "bucket": self.bucket, "object": self.name, "file": out})
    }
}

/// GETs every object and compares it with its content; panics on the first difference.
async fn read_back(minio: &Minio, objects: &[&Object], scratch: &Path) {
    let ops: Vec<Value> = objects
        .iter()
        .enumerate()
        .map(|(i, o)| o.get_to(&scratch.join(format!("read-{i}"))))
        .collect();
    let results = minio.s3(Value::Array(ops)).await;
    for (i, (object, result)) in objects.iter().zip(&results).enumerate() {
        assert_eq!(
            result["ok"],
            true,
            "GET {}/{}: {result}\nMinIO's log:\n{}",
            object.bucket,
            object.name,
            minio.log()
        );
        let got = std::fs::read(scratch.join(format!("read-{i}"))).unwrap();
        assert!(
            got == object.content,
            "{}/{} read back differs ({} bytes, {} expected)",
            object.bucket,
            object.name,
            got.len(),
            object.content.len()
        );
    }
}

fn assert_ok(minio: &Minio, what: &str, result: &Value) {
    assert_eq!(
        result["ok"],
        true,
        "{what}: {result}\nMinIO's log:\n{}",
        minio.log()
    );
}

/// The encryption headers of a `stat` result.
fn sse_headers(stat: &Value) -> (String, String) {
    let h = &stat["headers"];
    (
        h["x-amz-server-side-encryption"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        h["x-amz-server-side-encryption-aws-kms-key-id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// The MinIO variables for `endpoints`, with `auth` (the API key or certificate variables)
/// and the CA path.
fn kms_env(
    endpoints: &[String],
    auth: &[(&'static str, String)],
    ca_path: &Path,
) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("MINIO_KMS_KES_ENDPOINT", endpoints.join(",")),
        ("MINIO_KMS_KES_KEY_NAME", DEFAULT_KEY.to_owned()),
        ("MINIO_KMS_KES_CAPATH", ca_path.display().to_string()),
    ];
    env.extend(auth.iter().cloned());
    env
}

/// Our crate configured from the same variables as MinIO.
fn kes_client_from(env: &[(&'static str, String)]) -> KesKms {
    let vars: HashMap<&str, String> = env.iter().cloned().collect();
    let lookup = |name: &str| vars.get(name).cloned();
    let KmsConfig::Kes(config) = KmsConfig::from_env(&lookup).unwrap() else {
        panic!("KES configuration expected");
    };
    KesKms::new(config.client().unwrap(), config.key_name.clone())
}

/// Reads `object`'s metadata and first stored bytes from MinIO's drive, unseals the object key
/// with `kms` as MinIO would and decrypts the first DARE package; returns where the data was.
async fn unseal_first_package(minio: &Minio, kms: &KesKms, object: &Object) -> String {
    let meta = minio
        .s3_ok(json!({"op": "xl_meta", "data": minio.data(),
                      "bucket": object.bucket, "object": object.name}))
        .await;
    let metadata: sse::Metadata = meta["meta_sys"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let key = match sse::metadata::encryption_of(&metadata) {
        sse::metadata::Encryption::Sse(sse::SseKind::S3) => {
            sse::sse_s3::unseal_object_key(kms, &metadata, object.bucket, object.name).await
        }
        sse::metadata::Encryption::Sse(sse::SseKind::Kms) => {
            sse::sse_kms::unseal_object_key(kms, &metadata, object.bucket, object.name).await
        }
        other => panic!(
            "{}/{}: unexpected encryption {other:?}",
            object.bucket, object.name
        ),
    }
    .unwrap_or_else(|err| panic!("unsealing {}/{}: {err}", object.bucket, object.name));
    let stored = base64::engine::general_purpose::STANDARD
        .decode(meta["first_bytes"].as_str().unwrap())
        .unwrap();
    let options = DecryptOptions {
        limit: Some(1 << 16),
        ..DecryptOptions::default()
    };
    let mut plain = Vec::new();
    DecryptReader::new(&stored[..], key.as_bytes(), &options)
        .unwrap()
        .read_to_end(&mut plain)
        .unwrap_or_else(|err| panic!("decrypting {}/{}: {err}", object.bucket, object.name));
    let n = object.content.len().min(1 << 16);
    assert!(
        plain == object.content[..n],
        "{}/{}: the first package decrypts to other data",
        object.bucket,
        object.name
    );
    meta["stored_at"].as_str().unwrap().to_owned()
}

/// The whole MinIO session against two servers of ours on one keystore, with `auth` (MinIO's
/// identity: `identity`, and its variables); `ca_path` trusts both servers' certificates.
async fn minio_session(
    auth_op: Op,
    identity: &str,
    auth: &[(&'static str, String)],
    ca_path: impl Fn(&[&CertFiles]) -> PathBuf,
) {
    let mut cells = Cells::new(
        &[minio_peer()],
        &[
            auth_op,
            Op::Startup,
            Op::SseS3,
            Op::Multipart,
            Op::RangedGet,
            Op::BucketDefault,
            Op::SseKms,
            Op::CopySseS3,
            Op::PolicyDenied,
            Op::KesClientUnseal,
            Op::Failover,
            Op::Restart,
        ],
    );
    let keys = tempfile::tempdir().unwrap();
    let policy = minio_policy(identity);
    let first = TestServer::start_in(tempfile::tempdir().unwrap(), keys.path(), &policy).await;
    let second = TestServer::start_in(tempfile::tempdir().unwrap(), keys.path(), &policy).await;
    let ca_path = ca_path(&[&first.server_cert, &second.server_cert]);
    let env = kms_env(&[first.url(), second.url()], auth, &ca_path);
    let admin = first.admin_client();

    // Startup: MinIO creates its default key through us.
    admin
        .get(&format!("/v1/key/describe/{DEFAULT_KEY}"))
        .await
        .assert_error(404, "key does not exist");
    let mut minio = Minio::start(&env).await;
    admin
        .get(&format!("/v1/key/describe/{DEFAULT_KEY}"))
        .await
        .ok();
    cells.pass(auth_op);
    cells.pass(Op::Startup);
    for key in [NAMED_KEY, FORBIDDEN_KEY] {
        admin.post(&format!("/v1/key/create/{key}"), "").await.ok();
    }

    let files = tempfile::tempdir().unwrap();
    let dir = files.path();
    let small = Object::new(dir, BUCKET, "small", 10_000, 1);
    let medium = Object::new(dir, BUCKET, "dir/medium", 200_000, 2);
    let big = Object::new(dir, BUCKET, "big", 2 * PART_SIZE + 123_457, 3);
    let plain = Object::new(dir, DEFAULT_BUCKET, "plain", 70_000, 4);
    let kms = Object::new(dir, BUCKET, "kms", 100_000, 5);
    let copy = Object {
        name: "copy-of-small",
        content: small.content.clone(),
        file: small.file.clone(),
        bucket: BUCKET,
    };
    let denied = Object::new(dir, BUCKET, "denied", 1_000, 6);
    let after = Object::new(dir, BUCKET, "after-failover", 150_000, 7);

    // SSE-S3, single part.
    for result in minio
        .s3(json!([
            {"op": "make_bucket", "bucket": BUCKET},
            small.put(json!("s3")),
            medium.put(json!("s3")),
        ]))
        .await
    {
        assert_ok(&minio, "PUT SSE-S3", &result);
    }
    read_back(&minio, &[&small, &medium], dir).await;
    let stat = minio
        .s3_ok(json!({"op": "stat", "bucket": BUCKET, "object": small.name}))
        .await;
    assert_eq!(sse_headers(&stat).0, "AES256", "{stat}");
    cells.pass(Op::SseS3);

    // SSE-S3, multipart (three parts).
    let result = minio.s3_ok(big.put(json!("s3"))).await;
    assert!(
        result["etag"].as_str().unwrap().ends_with("-3"),
        "a three-part upload: {result}"
    );
    read_back(&minio, &[&big], dir).await;
    cells.pass(Op::Multipart);

    // Ranged GETs: inside one DARE package, across packages, across parts.
    for (object, offset, length) in [
        (&medium, 100, 1_000),
        (&medium, 60_000, 100_000),
        (&big, PART_SIZE - 70_000, 200_000),
    ] {
        let out = dir.join("range");
        let result = minio
            .s3_ok(
                json!({"op": "get", "bucket": object.bucket, "object": object.name,
                          "file": out, "offset": offset, "length": length}),
            )
            .await;
        assert_eq!(result["status"], 206, "{result}");
        let got = std::fs::read(&out).unwrap();
        assert!(
            got == object.content[offset..offset + length],
            "{}: range {offset}+{length} differs",
            object.name
        );
    }
    cells.pass(Op::RangedGet);

    // Bucket default encryption: a PUT without SSE headers is stored with SSE-S3.
    for result in minio
        .s3(json!([
            {"op": "make_bucket", "bucket": DEFAULT_BUCKET},
            {"op": "set_bucket_encryption", "bucket": DEFAULT_BUCKET},
            plain.put(Value::Null),
            {"op": "stat", "bucket": DEFAULT_BUCKET, "object": plain.name},
        ]))
        .await
    {
        assert_ok(&minio, "bucket default encryption", &result);
        if result.get("headers").is_some() {
            assert_eq!(sse_headers(&result).0, "AES256", "{result}");
        }
    }
    read_back(&minio, &[&plain], dir).await;
    cells.pass(Op::BucketDefault);

    // SSE-KMS with a named key and an encryption context.
    let sse_kms =
        json!({"kms": NAMED_KEY, "context": {"purpose": "kes-rs e2e", "team": "storage"}});
    minio.s3_ok(kms.put(sse_kms)).await;
    let stat = minio
        .s3_ok(json!({"op": "stat", "bucket": BUCKET, "object": kms.name}))
        .await;
    assert_eq!(
        sse_headers(&stat),
        ("aws:kms".to_owned(), format!("arn:aws:kms:{NAMED_KEY}")),
        "{stat}"
    );
    read_back(&minio, &[&kms], dir).await;
    cells.pass(Op::SseKms);

    // Server-side copy into a new SSE-S3 object.
    minio
        .s3_ok(json!({"op": "copy", "bucket": BUCKET, "object": copy.name,
                      "source": small.name, "sse": "s3"}))
        .await;
    let stat = minio
        .s3_ok(json!({"op": "stat", "bucket": BUCKET, "object": copy.name}))
        .await;
    assert_eq!(sse_headers(&stat).0, "AES256", "{stat}");
    read_back(&minio, &[&copy], dir).await;
    cells.pass(Op::CopySseS3);

    // A key outside MinIO's policy: KES says 403, MinIO refuses the PUT.
    let result = minio
        .s3(json!([denied.put(json!({"kms": FORBIDDEN_KEY}))]))
        .await
        .remove(0);
    assert_eq!(
        (result["ok"].as_bool(), result["status"].as_u64()),
        (Some(false), Some(403)),
        "{result}"
    );
    assert_eq!(result["code"], "kms:NotAuthorized", "{result}");
    let result = minio
        .s3(json!([{"op": "stat", "bucket": BUCKET, "object": denied.name}]))
        .await
        .remove(0);
    assert_eq!(result["status"], 404, "the denied object exists: {result}");
    cells.pass(Op::PolicyDenied);

    // Our crate, configured like MinIO, unseals what MinIO wrote: a part file and inline data.
    let client = kes_client_from(&env);
    let at = unseal_first_package(&minio, &client, &medium).await;
    assert!(at.ends_with("/part.1"), "{at}");
    let at = unseal_first_package(&minio, &client, &kms).await;
    assert_eq!(at, "inline in xl.meta");
    unseal_first_package(&minio, &client, &plain).await;
    cells.pass(Op::KesClientUnseal);

    // The first endpoint stops: MinIO goes on with the second.
    first.stop().await;
    minio.s3_ok(after.put(json!("s3"))).await;
    read_back(&minio, &[&small, &kms, &after], dir).await;
    cells.pass(Op::Failover);

    // Restart (the first endpoint still down) and read everything back.
    minio.restart().await;
    read_back(
        &minio,
        &[&small, &medium, &big, &plain, &kms, &copy, &after],
        dir,
    )
    .await;
    cells.pass(Op::Restart);

    drop(minio);
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minio_with_an_api_key() {
    let key = ApiKey::generate().unwrap();
    let auth = [("MINIO_KMS_KES_API_KEY", key.to_text().to_string())];
    let cas = tempfile::tempdir().unwrap();
    // MINIO_KMS_KES_CAPATH as a directory: every certificate file in it is trusted.
    let ca_dir = |certs: &[&CertFiles]| {
        for (i, cert) in certs.iter().enumerate() {
            std::fs::copy(&cert.cert, cas.path().join(format!("kes-{i}.crt"))).unwrap();
        }
        cas.path().to_owned()
    };
    minio_session(Op::ApiKeyAuth, &key.identity().to_string(), &auth, ca_dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minio_with_client_certificate_files() {
    let dir = tempfile::tempdir().unwrap();
    let cert = CertFiles::generate(dir.path(), "minio-client", "minio");
    let auth = [
        ("MINIO_KMS_KES_CERT_FILE", cert.cert.display().to_string()),
        ("MINIO_KMS_KES_KEY_FILE", cert.key.display().to_string()),
    ];
    // MINIO_KMS_KES_CAPATH as one file holding both certificates.
    let ca_file = |certs: &[&CertFiles]| {
        let path = dir.path().join("kes-cas.pem");
        let pem: String = certs
            .iter()
            .map(|c| std::fs::read_to_string(&c.cert).unwrap())
            .collect();
        std::fs::write(&path, pem).unwrap();
        path
    };
    minio_session(Op::CertAuth, &cert.identity(), &auth, ca_file).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minio_migrates_from_the_go_kes_server() {
    let mut cells = Cells::new(&[minio_peer()], &[Op::Migration]);
    let dir = tempfile::tempdir().unwrap();
    let keystore = dir.path().join("keys");
    let go_cert = CertFiles::generate(dir.path(), "go-kes", "localhost");
    let go_admin = ApiKey::generate().unwrap();
    let key = ApiKey::generate().unwrap();
    let policy = minio_policy(&key.identity().to_string());
    let auth = [("MINIO_KMS_KES_API_KEY", key.to_text().to_string())];

    // MinIO on the upstream Go KES server writes SSE-S3 (single part, multipart, bucket
    // default) and SSE-KMS objects.
    let go = GoServer::start_with(dir.path(), &keystore, &go_cert, &go_admin, &policy).await;
    tests::Client::with_api_key(&go.url, &go_admin, Some(&go_cert.cert_der))
        .post(&format!("/v1/key/create/{NAMED_KEY}"), "")
        .await
        .ok();
    let mut minio = Minio::start(&kms_env(
        std::slice::from_ref(&go.url),
        &auth,
        &go_cert.cert,
    ))
    .await;
    let files = tempfile::tempdir().unwrap();
    let dir_files = files.path();
    let small = Object::new(dir_files, BUCKET, "small", 5_000, 11);
    let big = Object::new(dir_files, BUCKET, "big", PART_SIZE + 1_000, 12);
    let kms = Object::new(dir_files, BUCKET, "kms", 300_000, 13);
    let plain = Object::new(dir_files, DEFAULT_BUCKET, "plain", 20_000, 14);
    for result in minio
        .s3(json!([
            {"op": "make_bucket", "bucket": BUCKET},
            small.put(json!("s3")),
            big.put(json!("s3")),
            kms.put(json!({"kms": NAMED_KEY, "context": {"origin": "go"}})),
            {"op": "make_bucket", "bucket": DEFAULT_BUCKET},
            {"op": "set_bucket_encryption", "bucket": DEFAULT_BUCKET},
            plain.put(Value::Null),
        ]))
        .await
    {
        assert_ok(&minio, "writing through the Go KES server", &result);
    }
    let objects = [&small, &big, &kms, &plain];
    let on_disk = |minio: &Minio| -> Vec<Vec<u8>> {
        objects
            .iter()
            .map(|o| {
                std::fs::read(minio.data().join(o.bucket).join(o.name).join("xl.meta")).unwrap()
            })
            .collect()
    };
    let before = on_disk(&minio);

    // Switch: MinIO and the Go server stop; ours starts on the same keystore.
    minio.stop().await;
    drop(go);
    let ours = TestServer::start_in(tempfile::tempdir().unwrap(), &keystore, &policy).await;
    minio
        .restart_with(&kms_env(&[ours.url()], &auth, &ours.server_cert.cert))
        .await;
    read_back(&minio, &objects, dir_files).await;
    assert!(
        on_disk(&minio) == before,
        "an object's xl.meta changed: MinIO re-encrypted"
    );
    // And new objects work as before.
    let new = Object::new(dir_files, BUCKET, "new", 30_000, 15);
    minio.s3_ok(new.put(json!("s3"))).await;
    read_back(&minio, &[&new, &kms], dir_files).await;
    cells.pass(Op::Migration);

    drop(minio);
    ours.stop().await;
}
