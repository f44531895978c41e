//! The MinIO side on our server: configured from `MINIO_KMS_KES_*` only, the startup probe
//! creates the default key, and an SSE-S3 object round-trips (sealed key + DARE data).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::io::Read as _;

use kes_client::ApiKey;
use kes_client::config::KmsConfig;
use kes_client::dare::{DecryptOptions, DecryptReader, EncryptReader, SealOptions};
use kes_client::sse::{self, KesKms, KmsError};
use tests::TestServer;

fn kms_from_env(server: &TestServer, api_key: &ApiKey) -> KesKms {
    let vars: HashMap<&str, String> = HashMap::from([
        ("MINIO_KMS_KES_ENDPOINT", server.url()),
        ("MINIO_KMS_KES_KEY_NAME", "minio-default".to_owned()),
        ("MINIO_KMS_KES_API_KEY", api_key.to_text().to_string()),
        (
            "MINIO_KMS_KES_CAPATH",
            server.server_cert.cert.display().to_string(),
        ),
    ]);
    let env = |name: &str| vars.get(name).cloned();
    let KmsConfig::Kes(config) = KmsConfig::from_env(&env).unwrap() else {
        panic!("KES configuration expected");
    };
    KesKms::new(config.client().unwrap(), config.key_name.clone())
}

#[tokio::test]
async fn sse_s3_object_round_trip_through_kes() {
    let server = TestServer::start("").await;
    let kms = kms_from_env(&server, &server.admin);
    server
        .admin_client()
        .get("/v1/key/describe/minio-default")
        .await
        .assert_error(404, "key does not exist");
    kms.startup().await.unwrap();
    server
        .admin_client()
        .get("/v1/key/describe/minio-default")
        .await
        .ok();
    kms.startup().await.unwrap();

    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut metadata = sse::Metadata::new();
    let key = sse::sse_s3::seal_object_key(&kms, "bucket", "dir/object", &mut metadata)
        .await
        .unwrap();
    let mut stored = Vec::new();
    EncryptReader::new(&data[..], key.as_bytes(), &SealOptions::default())
        .unwrap()
        .read_to_end(&mut stored)
        .unwrap();

    let key = sse::sse_s3::unseal_object_key(&kms, &metadata, "bucket", "dir/object")
        .await
        .unwrap();
    let mut plain = Vec::new();
    DecryptReader::new(&stored[..], key.as_bytes(), &DecryptOptions::default())
        .unwrap()
        .read_to_end(&mut plain)
        .unwrap();
    assert_eq!(plain, data);

    // The sealed key is bound to the object's name.
    assert!(
        sse::sse_s3::unseal_object_key(&kms, &metadata, "bucket", "other")
            .await
            .is_err()
    );
    server.stop().await;
}

#[tokio::test]
async fn startup_accepts_an_identity_without_permissions_and_maps_errors() {
    let minio = ApiKey::generate().unwrap();
    let config = format!(
        "policy:\n  minio:\n    allow:\n    - /v1/key/decrypt/minio-default\n    identities:\n    - {}\n",
        minio.identity()
    );
    let server = TestServer::start(&config).await;
    let kms = kms_from_env(&server, &minio);
    // Neither generate nor create is allowed: MinIO accepts the permission error at startup.
    kms.startup().await.unwrap();
    let mut metadata = sse::Metadata::new();
    let err = sse::sse_s3::seal_object_key(&kms, "b", "o", &mut metadata)
        .await
        .unwrap_err();
    assert!(
        matches!(err, sse::SseError::Kms(KmsError::Permission)),
        "{err:?}"
    );
    server.stop().await;
}
