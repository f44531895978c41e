//! The accepted fixtures, every parsed value checked.

use std::path::Path;
use std::time::Duration;

use super::*;

#[test]
fn fs() {
    let config = load("fs.yml");
    assert_eq!(config.address, Some("127.0.0.1:7373".parse().unwrap()));
    assert_eq!(config.admin, ADMIN);
    assert_eq!(config.tls.key, path("./kes-server.key"));
    assert_eq!(config.tls.cert, path("./kes-server.crt"));
    assert_eq!(config.keystore.backend_name(), "fs");
    let KeystoreConfig::Fs { path: dir } = &config.keystore else {
        panic!("{:?}", config.keystore)
    };
    assert_eq!(dir, &path("/var/lib/kes/keys"));
    assert!(config.warnings.is_empty());
}

#[test]
fn sqlite() {
    let config = load("sqlite.yml");
    assert_eq!(config.keystore.backend_name(), "sqlite");
    let KeystoreConfig::Sqlite(sqlite) = &config.keystore else {
        panic!("{:?}", config.keystore)
    };
    assert_eq!(sqlite.path, path("/var/lib/kes/keys.db"));
    assert!(config.warnings.is_empty());
}

#[test]
fn postgres_url_from_the_environment_is_a_secret() {
    let url = "postgres://kes:hunter2@db.internal:5432/kes?sslmode=require";
    let env = |name: &str| (name == "KES_POSTGRES_URL").then(|| url.to_owned());
    let config = Config::parse(&read("postgres.yml"), &env).unwrap();
    assert_eq!(config.keystore.backend_name(), "postgres");
    let KeystoreConfig::Postgres(postgres) = &config.keystore else {
        panic!("{:?}", config.keystore)
    };
    assert_eq!(postgres.url.expose(), url);
    assert_eq!(postgres.table, "kes_prod_keys");
    assert!(!format!("{config:?}").contains("hunter2"));
}

#[test]
fn postgres_table_defaults_to_kes_keys() {
    let yaml = read("postgres.yml").replace("    table: kes_prod_keys\n", "");
    let env = |_: &str| Some("postgresql://kes@127.0.0.1/kes".to_owned());
    let config = Config::parse(&yaml, &env).unwrap();
    let KeystoreConfig::Postgres(postgres) = &config.keystore else {
        panic!("{:?}", config.keystore)
    };
    assert_eq!(postgres.table, "kes_keys");
}

#[test]
fn defaults() {
    let config = load("minimal.yml");
    assert_eq!(config.address, None);
    assert_eq!(config.admin, "disabled");
    assert_eq!(config.tls.key, path("server.key"));
    assert!(config.tls.password.is_none());
    assert_eq!(config.tls.auth, ClientAuth::Off);
    assert_eq!(config.tls.ca, None);
    assert_eq!(config.tls.proxy, ProxyConfig::default());
    assert_eq!(
        config.cache,
        CacheConfig {
            any: secs(300),
            unused: secs(30),
            offline: Duration::ZERO
        }
    );
    assert_eq!(config.cache, CacheConfig::default());
    assert_eq!(config.log.error, Level::INFO);
    assert_eq!(config.log.audit, Level::INFO);
    assert!(config.api.is_empty());
    assert!(config.policies.is_empty());
    assert!(config.keys.is_empty());
    assert!(config.warnings.is_empty());
}

pub(super) fn vault(config: &Config) -> &VaultConfig {
    match &config.keystore {
        KeystoreConfig::Vault(vault) => vault,
        other => panic!("{other:?}"),
    }
}

#[test]
fn vault_with_approle() {
    let config = load("vault.yml");
    let v = vault(&config);
    assert_eq!(config.keystore.backend_name(), "vault");
    assert_eq!(v.endpoint, "https://vault.example.net:8200");
    assert_eq!(v.engine, "kv-kes");
    assert_eq!(v.version, VaultKvVersion::V2);
    assert_eq!(v.namespace.as_deref(), Some("team-a"));
    assert_eq!(v.prefix.as_deref(), Some("cluster-1"));
    let VaultAuth::AppRole(approle) = &v.auth else {
        panic!("{:?}", v.auth)
    };
    assert_eq!(approle.engine, "approle");
    assert_eq!(approle.namespace, None);
    assert_eq!(approle.id, "5f3c9a2e-1b7d-4c60-9e2f-0a8b6d4c3e21");
    assert_eq!(
        approle.secret.expose(),
        "0d9e8f7a-6b5c-4d3e-2f1a-9b8c7d6e5f40"
    );
    assert_eq!(v.transit, None);
    assert_eq!(v.tls, VaultTls::default());
    assert_eq!(v.status_ping, secs(15));
}

#[test]
fn vault_with_a_fixed_token() {
    let config = load("vault-token.yml");
    let VaultAuth::Token(token) = &vault(&config).auth else {
        panic!("{:?}", vault(&config).auth)
    };
    assert_eq!(token.expose(), "s.fixture-token");
    assert_eq!(format!("{token:?}"), "[redacted]");
}

#[test]
fn vault_approle_defaults() {
    let config = load("vault-approle.yml");
    let v = vault(&config);
    assert_eq!(v.endpoint, "https://127.0.0.1:8200");
    assert_eq!(v.engine, "kv");
    assert_eq!(v.version, VaultKvVersion::V1);
    assert_eq!(v.namespace, None);
    assert_eq!(v.prefix, None);
    let VaultAuth::AppRole(approle) = &v.auth else {
        panic!("{:?}", v.auth)
    };
    assert_eq!(approle.engine, "kes-approle");
    assert_eq!(approle.namespace.as_deref(), Some("/"));
    assert_eq!(approle.id, "4a6b2c8d-0e1f-4a3b-8c5d-6e7f8a9b0c1d");
    assert_eq!(
        approle.secret.expose(),
        "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e"
    );
}

fn kubernetes(config: &Config) -> &VaultKubernetes {
    let v = vault(config);
    assert_eq!(v.endpoint, "https://vault.example.net:8201");
    assert_eq!(v.engine, "secret");
    assert_eq!(v.version, VaultKvVersion::V1);
    assert_eq!(v.namespace.as_deref(), Some("team-b"));
    assert_eq!(v.prefix.as_deref(), Some("cluster-2"));
    let VaultAuth::Kubernetes(k8s) = &v.auth else {
        panic!("{:?}", v.auth)
    };
    assert_eq!(k8s.engine, "kubernetes");
    assert_eq!(k8s.namespace, None);
    assert_eq!(k8s.role.as_deref(), Some("kes-server"));
    k8s
}

#[test]
fn vault_with_kubernetes() {
    let config = load("vault-k8s.yml");
    let VaultJwt::Token(jwt) = &kubernetes(&config).jwt else {
        panic!("{config:?}")
    };
    assert_eq!(jwt.expose(), JWT);
}

#[test]
fn vault_with_kubernetes_service_account_file() {
    let config = load("vault-k8s-with-service-account-file.yml");
    let VaultJwt::File(file) = &kubernetes(&config).jwt else {
        panic!("{config:?}")
    };
    // The path stays relative; the keystore reads it (from the working directory) at login.
    assert_eq!(
        file,
        &path("./tests/fixtures/config/vault-k8s-service-account")
    );
    let token = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
    assert_eq!(token, JWT);
}

pub(super) fn aws(config: &Config) -> &AwsConfig {
    match &config.keystore {
        KeystoreConfig::Aws(aws) => aws,
        other => panic!("{other:?}"),
    }
}

#[test]
fn aws_with_credentials() {
    let config = load("aws.yml");
    let a = aws(&config);
    assert_eq!(config.keystore.backend_name(), "aws.secretsmanager");
    assert_eq!(a.endpoint, "secretsmanager.eu-central-1.amazonaws.com");
    assert_eq!(a.region, "eu-central-1");
    assert_eq!(a.kms_key.as_deref(), Some("alias/kes-keys"));
    let credentials = a.credentials.as_ref().unwrap();
    assert_eq!(credentials.access_key, "AKIAKESFIXTURE000001");
    assert_eq!(
        credentials.secret_key.expose(),
        "kes/fixture+secret+key/0000000000000000000"
    );
    assert_eq!(
        credentials.session_token.as_ref().map(Secret::expose),
        Some("fixture-session-token")
    );
}

#[test]
fn aws_without_credentials() {
    let config = load("aws-no-credentials.yml");
    let a = aws(&config);
    assert_eq!(a.endpoint, "secretsmanager.eu-central-1.amazonaws.com");
    assert_eq!(a.region, "eu-central-1");
    assert_eq!(a.kms_key, None);
    assert!(a.credentials.is_none());
}

#[test]
fn custom_api() {
    let config = load("custom-api.yml");
    assert_eq!(config.address, Some("0.0.0.0:7373".parse().unwrap()));
    assert_eq!(config.admin, "disabled");
    assert_eq!(config.tls.key, path("./private.key"));
    assert_eq!(config.tls.cert, path("./public.crt"));
    assert_eq!(
        config.cache,
        CacheConfig {
            any: secs(600),
            unused: secs(90),
            offline: Duration::ZERO
        }
    );
    let api: Vec<_> = config
        .api
        .iter()
        .map(|(path, o)| (path.as_str(), o.skip_auth, o.timeout))
        .collect();
    assert_eq!(
        api,
        [
            ("/v1/key/create/", false, Some(Duration::ZERO)),
            ("/v1/metrics", true, Some(secs(22))),
            ("/v1/ready", true, None),
            ("/v1/status", true, Some(secs(17))),
        ]
    );
}

#[test]
fn gcp_with_ambient_credentials() {
    let config = load("gcp-ambient-credentials.yml");
    let KeystoreConfig::Gcp(gcp) = &config.keystore else {
        panic!("{:?}", config.keystore)
    };
    assert_eq!(gcp.project_id, "kes-fixture-project");
    assert_eq!(gcp.endpoint, GCP_DEFAULT_ENDPOINT);
    assert!(gcp.scopes.is_empty());
    assert!(gcp.credentials.is_none());
}

#[test]
fn azure_with_default_credential() {
    let config = load("azure-default-credential.yml");
    let KeystoreConfig::Azure(azure) = &config.keystore else {
        panic!("{:?}", config.keystore)
    };
    assert_eq!(azure.endpoint, "https://kes-fixture.vault.azure.net");
    assert!(matches!(azure.auth, AzureAuth::Default));
}

#[test]
fn legacy_keys_are_ignored_with_a_warning() {
    let config = load("legacy.yml");
    assert_eq!(vault(&config).endpoint, "https://127.0.0.1:8200");
    assert_eq!(
        config.warnings,
        [
            "kesconf: field 'keystore.generic' in line 8 is no longer supported and is ignored",
            "kesconf: field 'keystore.kes' in line 12 is no longer supported and is ignored",
            "kesconf: field 'keystore.vault.approle.retry' in line 25 is no longer supported and is ignored",
        ]
    );
}

#[test]
fn environment_substitution() {
    let env = |name: &str| -> Option<String> {
        let value = match name {
            "KES_ADDR" => "127.0.0.1:7001",
            "KES_ADMIN" => ADMIN,
            "KES_TLS_KEY" => "/etc/kes/server.key",
            "KES_TLS_PASSWORD" => "p@ss word",
            "KES_TLS_AUTH" => "ON",
            "KES_CACHE_ANY" => "1h30m",
            "KES_CACHE_OFFLINE" => "0",
            "KES_LOG_ERROR" => "warn",
            "KES_LOG_AUDIT" => "off",
            "KES_METRICS_PUBLIC" => "true",
            "KES_METRICS_TIMEOUT" => "45s",
            "KES_APP_IDENTITY" => APP_1,
            "KES_EMPTY" => "",
            "KES_DEFAULT_KEY" => "minio-default-key",
            "KES_VAULT_ENDPOINT" => "https://vault:8200",
            "A:-b" => "ns-from-odd-name",
            "KES_APPROLE_ID" => "role-id",
            "KES_APPROLE_SECRET" => "secret-id",
            _ => return None,
        };
        Some(value.to_owned())
    };
    let config = Config::parse(&read("env.yml"), &env).unwrap();
    assert_eq!(config.address, Some("127.0.0.1:7001".parse().unwrap()));
    assert_eq!(config.admin, ADMIN);
    assert_eq!(config.tls.key, path("/etc/kes/server.key"));
    // No partial interpolation: the value stays as written.
    assert_eq!(config.tls.cert, path("/etc/kes/${KES_TLS_CERT}"));
    assert_eq!(
        config.tls.password.as_ref().map(Secret::expose),
        Some("p@ss word")
    );
    assert_eq!(config.tls.auth, ClientAuth::On);
    assert_eq!(config.cache.any, secs(5400));
    assert_eq!(config.cache.unused, secs(30));
    assert_eq!(config.cache.offline, Duration::ZERO);
    assert_eq!(config.log.error, Level::WARN);
    assert_eq!(config.log.audit, Level::OFF);
    assert_eq!(
        config.api["/v1/metrics"],
        ApiOverride {
            skip_auth: true,
            timeout: Some(secs(45))
        }
    );
    // Map keys and allow/deny patterns are never substituted; identities are.
    assert_eq!(
        config.policies,
        [PolicyConfig {
            name: "${KES_POLICY}".into(),
            allow: vec!["${KES_ALLOW}".into()],
            deny: vec![],
            identities: vec![APP_1.into(), String::new()],
        }]
    );
    assert_eq!(config.keys, ["minio-default-key"]);
    let v = vault(&config);
    assert_eq!(v.endpoint, "https://vault:8200");
    assert_eq!(v.namespace.as_deref(), Some("ns-from-odd-name"));
    let VaultAuth::AppRole(approle) = &v.auth else {
        panic!("{:?}", v.auth)
    };
    assert_eq!(approle.id, "role-id");
    assert_eq!(approle.secret.expose(), "secret-id");
}
