#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! Environment parsing against the upstream vectors and bad values.

use std::collections::HashMap;

use serde_json::Value;

use super::*;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/vectors/minio.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn parse(vars: &[(&str, &str)]) -> Result<KmsConfig, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    KmsConfig::from_env_in(&|name| map.get(name).cloned(), Path::new("/certs"))
}

const API_KEY: &str = "kes:v1:AGtR4PvKXNjz+/MlBX2Djg0qxwS3C4OjoDzsuFSQr82e";

#[test]
fn kms_env_is_present_vectors() {
    let v = vectors();
    let cases = &v["from_tests"]["kms_env_is_present"];
    let all = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .chain(cases["cases_computed_from_code"].as_array().unwrap());
    let mut n = 0;
    for case in all {
        let env: Vec<(&str, &str)> = case["env"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
            .collect();
        let id = &case["id"];
        let result = parse(&env);
        if case["should_fail"].as_bool().unwrap() {
            let err = result.expect_err(&format!("{id} should fail"));
            if let Some(msg) = case["error"].as_str() {
                assert_eq!(err.to_string(), msg, "{id}");
            }
        } else {
            let config = result.unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(
                config.is_present(),
                case["is_present"].as_bool().unwrap(),
                "{id}"
            );
        }
        n += 1;
    }
    assert!(n >= 10);
}

#[test]
fn endpoint_ellipses_vectors() {
    let v = vectors();
    let cases = &v["from_tests"]["endpoint_ellipses"];
    for case in cases["cases"].as_array().unwrap() {
        let id = &case["id"];
        let pattern = case["pattern"].as_str().unwrap();
        let result = ellipses::expand(pattern);
        if case["should_fail"].as_bool() == Some(true) {
            assert!(result.is_err(), "{id}");
            continue;
        }
        let got = result.unwrap();
        if let Some(want) = case["expanded"].as_array() {
            let want: Vec<&str> = want.iter().map(|w| w.as_str().unwrap()).collect();
            assert_eq!(got, want, "{id}");
        }
        if let Some(count) = case["count"].as_u64() {
            assert_eq!(got.len() as u64, count, "{id}");
        }
        if let Some(fl) = case["expanded_first_last"].as_array() {
            assert_eq!(got.first().unwrap(), fl[0].as_str().unwrap(), "{id}");
            assert_eq!(got.last().unwrap(), fl[1].as_str().unwrap(), "{id}");
        }
        if let Some(first) = case["expanded_first_three_joined"].as_array() {
            for (g, w) in got.iter().zip(first) {
                assert_eq!(g, w.as_str().unwrap(), "{id}");
            }
        }
    }
    let example = &cases["minio_example_computed"];
    let want: Vec<&str> = example["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(
        endpoints(example["MINIO_KMS_KES_ENDPOINT"].as_str().unwrap()).unwrap(),
        want
    );
}

#[test]
fn kes_api_key_vectors() {
    let v = vectors();
    let cases = &v["from_tests"]["kes_api_key"];
    for case in cases["parse_cases"].as_array().unwrap() {
        let env = [
            (KES_ENDPOINT, "https://127.0.0.1:7373"),
            (KES_KEY_NAME, "k"),
            (KES_API_KEY, case["key"].as_str().unwrap()),
        ];
        let result = parse(&env);
        assert_eq!(
            result.is_err(),
            case["should_fail"].as_bool().unwrap(),
            "{}",
            case["id"]
        );
        if let Err(e) = result {
            assert!(matches!(e, ConfigError::KesInvalidApiKey(_)), "{e}");
        }
    }
    let minio = &cases["identity_computed_for_minio_test_key"];
    let env = [
        (KES_ENDPOINT, "https://127.0.0.1:7373"),
        (KES_KEY_NAME, "k"),
        (KES_API_KEY, minio["key"].as_str().unwrap()),
    ];
    let KmsConfig::Kes(kes) = parse(&env).unwrap() else {
        panic!("not KES");
    };
    let KesAuth::ApiKey(key) = kes.auth else {
        panic!("not an API key");
    };
    assert_eq!(
        key.identity().to_string(),
        minio["identity"].as_str().unwrap()
    );
}

#[test]
fn exact_messages() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[(KES_KEY_NAME, "k"), (KES_API_KEY, API_KEY)],
            "kms: incomplete configuration for MinIO KES: missing 'MINIO_KMS_KES_ENDPOINT'",
        ),
        (
            &[(KES_ENDPOINT, "https://k"), (KES_API_KEY, API_KEY)],
            "kms: incomplete configuration for MinIO KES: missing 'MINIO_KMS_KES_KEY_NAME'",
        ),
        (
            &[
                (KES_ENDPOINT, "https://k"),
                (KES_KEY_NAME, " "),
                (KES_API_KEY, API_KEY),
            ],
            "kms: incomplete configuration for MinIO KES: missing 'MINIO_KMS_KES_KEY_NAME'",
        ),
        (
            &[
                (KES_ENDPOINT, "https://k"),
                (KES_KEY_NAME, "k"),
                (KES_CERT_FILE, "/c"),
            ],
            "kms: incomplete configuration for MinIO KES: missing 'MINIO_KMS_KES_KEY_FILE'",
        ),
        (
            &[
                (KES_ENDPOINT, "https://k"),
                (KES_KEY_NAME, "k"),
                (KES_KEY_PASSWORD, ""),
            ],
            "kms: incomplete configuration for MinIO KES: missing 'MINIO_KMS_KES_CERT_FILE'",
        ),
        (
            &[
                (KES_ENDPOINT, " , "),
                (KES_KEY_NAME, "k"),
                (KES_API_KEY, API_KEY),
            ],
            "kms: no KES server endpoint provided",
        ),
        (
            &[
                (KES_ENDPOINT, "https://kes{1...x}"),
                (KES_KEY_NAME, "k"),
                (KES_API_KEY, API_KEY),
            ],
            "kms: invalid endpoint 'https://kes{1...x}': invalid range '{1...x}'",
        ),
        (
            &[(KES_CAPATH, "/ca"), (SECRET_KEY, "k:AAAA")],
            "kms: configuration for MinIO KES and static KMS key is present",
        ),
        (
            &[("MINIO_KMS_SERVER", "https://k"), (KES_CAPATH, "")],
            "kms: configuration for MinIO KMS and MinIO KES is present",
        ),
        (
            &[("MINIO_KMS_SSE_KEY", "k")],
            "kms: MinIO KMS (MINIO_KMS_SERVER) is not supported",
        ),
        (
            &[(SECRET_KEY, "k:AAAA"), (SECRET_KEY_FILE, "/")],
            "kms: invalid configuration for static KMS key: 'MINIO_KMS_SECRET_KEY' and 'MINIO_KMS_SECRET_KEY_FILE' are present",
        ),
        (
            &[(KES_CAPATH, "/ca")],
            "kms: incomplete configuration for MinIO KES: missing 'MINIO_KMS_KES_ENDPOINT'",
        ),
    ];
    for (env, want) in cases {
        let err = parse(env).expect_err(want);
        assert_eq!(err.to_string(), *want);
    }
}

#[test]
fn complete_configurations() {
    let KmsConfig::Kes(kes) = parse(&[
        (
            KES_ENDPOINT,
            "https://kes{1...2}:7373,https://10.0.0.9:7373/",
        ),
        (KES_KEY_NAME, " minio-key "),
        (KES_CERT_FILE, "client.crt"),
        (KES_KEY_FILE, "/k/client.key"),
        (KES_KEY_PASSWORD, "secret"),
        (KES_CAPATH, ""),
        ("MINIO_KMS_KES_ENCLAVE", "ignored"),
    ])
    .unwrap() else {
        panic!("not KES");
    };
    assert_eq!(
        kes.endpoints,
        [
            "https://kes1:7373",
            "https://kes2:7373",
            "https://10.0.0.9:7373/"
        ]
    );
    assert_eq!(kes.key_name, "minio-key");
    assert_eq!(kes.ca_path, Path::new("/certs/CAs"));
    assert!(
        !format!("{kes:?}").contains("secret"),
        "Debug leaks the password"
    );
    let KesAuth::Certificate {
        cert_file,
        key_file,
        password,
    } = kes.auth
    else {
        panic!("not certificate auth");
    };
    assert!(cert_file.is_absolute() && cert_file.ends_with("client.crt"));
    assert_eq!(key_file, Path::new("/k/client.key"));
    assert_eq!(password.as_deref().map(String::as_str), Some("secret"));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("key");
    std::fs::write(&file, "k:AAAA\n").unwrap();
    let config = parse(&[(SECRET_KEY_FILE, file.to_str().unwrap()), (SECRET_KEY, "")]).unwrap();
    assert!(matches!(config, KmsConfig::StaticKey(StaticKeyConfig::File(p)) if p == file));
    assert!(matches!(
        parse(&[("MINIO_KMS_KES_ENCLAVE", "x")]).unwrap(),
        KmsConfig::None
    ));
    let home = KmsConfig::from_env(&|name: &str| match name {
        "HOME" => Some("/home/u".to_owned()),
        KES_ENDPOINT => Some("https://k".to_owned()),
        KES_KEY_NAME => Some("k".to_owned()),
        KES_API_KEY => Some(API_KEY.to_owned()),
        _ => None,
    })
    .unwrap();
    let KmsConfig::Kes(kes) = home else {
        panic!("not KES");
    };
    assert_eq!(kes.ca_path, Path::new("/home/u/.minio/certs/CAs"));
}
