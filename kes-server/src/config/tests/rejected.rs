//! One `bad-*.yml` fixture per rejected configuration, with its exact error text.

use super::*;

/// Every rejected configuration, with its exact error text.
const REJECTED: &[(&str, &str)] = &[
    (
        "bad-unknown-field.yml",
        "kesconf: unknown field 'keystore.fs.paht' in line 9",
    ),
    (
        "bad-unknown-top-level-field.yml",
        "kesconf: unknown field 'adress' in line 7",
    ),
    (
        "bad-unknown-policy-field.yml",
        "kesconf: unknown field 'policy.my-app.alow' in line 9",
    ),
    (
        "bad-unknown-api-field.yml",
        "kesconf: unknown field 'api./v1/status.skipauth' in line 9",
    ),
    (
        "bad-unknown-key-field.yml",
        "kesconf: unknown field 'keys[1].nmae' in line 9",
    ),
    (
        "bad-unknown-vault-field.yml",
        "kesconf: unknown field 'keystore.vault.approle.secert' in line 12",
    ),
    (
        "bad-duplicate-field.yml",
        "kesconf: field 'tls.key' in line 7 is defined twice",
    ),
    (
        "bad-duplicate-field-quoted.yml",
        "kesconf: field 'admin.identity' in line 4 is defined twice",
    ),
    (
        "bad-tls-not-a-mapping.yml",
        "kesconf: invalid value for 'tls' in line 4: expected a mapping",
    ),
    (
        "bad-identities-not-a-list.yml",
        "kesconf: invalid value for 'policy.my-app.identities' in line 10: expected a list",
    ),
    (
        "bad-identity-not-a-scalar.yml",
        "kesconf: invalid value for 'admin.identity' in line 4: expected a single value",
    ),
    (
        "bad-yaml-syntax.yml",
        "kesconf: invalid YAML in line 3, column 13: invalid indentation in quoted scalar",
    ),
    (
        "bad-empty.yml",
        "kesconf: invalid config: the file is empty",
    ),
    (
        "bad-not-a-mapping.yml",
        "kesconf: invalid config: expected a mapping of settings in line 2",
    ),
    (
        "bad-second-document.yml",
        "kesconf: invalid config: a second YAML document starts in line 11",
    ),
    (
        "bad-env-missing.yml",
        "kesconf: referenced env. variable 'KES_FIXTURE_UNSET_TLS_KEY' in line '5' not found",
    ),
    (
        "bad-version.yml",
        "kesconf: invalid value 'v2' for 'version' in line 2: only 'v1' is supported",
    ),
    (
        "bad-address-host.yml",
        "'localhost' is not a valid IP address",
    ),
    (
        "bad-address-port.yml",
        "kesconf: invalid address '0.0.0.0': missing port in line 2",
    ),
    (
        "bad-no-admin.yml",
        "kesconf: invalid admin identity: no admin identity",
    ),
    (
        "bad-tls-no-key.yml",
        "kesconf: invalid tls config: no private key",
    ),
    (
        "bad-tls-no-cert.yml",
        "kesconf: invalid tls config: no certificate",
    ),
    (
        "bad-tls-auth.yml",
        "kesconf: invalid value 'verify' for 'tls.auth' in line 7: must be 'on' or 'off'",
    ),
    (
        "bad-tls-proxy-admin.yml",
        "kesconf: invalid tls proxy: identity '386b5ff16a73e67fddd2f14fc8163d3af64c236cdb7b8506240ea63ef580d304' is already admin",
    ),
    (
        "bad-policy-proxy.yml",
        "kesconf: invalid policy 'my-app': identity '39b77f0b39be3c02447f542e9ffe3ca5c8c19c1158015edfaf6b6d1aee0e43c1' is already a TLS proxy",
    ),
    (
        "bad-cache-any-negative.yml",
        "kesconf: invalid value '-1s' for 'cache.expiry.any' in line 9: must not be negative",
    ),
    (
        "bad-cache-offline-negative.yml",
        "kesconf: invalid value '-5m' for 'cache.expiry.offline' in line 9: must not be negative",
    ),
    (
        "bad-cache-unused-duration.yml",
        "kesconf: invalid value '5 minutes' for 'cache.expiry.unused' in line 9: not a duration such as 30s, 5m or 1h30m",
    ),
    (
        "bad-log-level.yml",
        "kesconf: invalid value 'verbose' for 'log.error' in line 8: not a log level (DEBUG, INFO, WARN, ERROR, ON, OFF, INFO+2, an integer)",
    ),
    (
        "bad-api-timeout-negative.yml",
        "kesconf: invalid value '-30s' for 'api./v1/key/generate/.timeout' in line 9: must not be negative",
    ),
    (
        "bad-api-skip-auth.yml",
        "kesconf: invalid value 'sometimes' for 'api./v1/metrics.skip_auth' in line 9: not a boolean (true or false)",
    ),
    (
        "bad-keys-duplicate.yml",
        "kesconf: invalid key config: key 'minio-default-key' is defined multiple times",
    ),
    (
        "bad-keys-no-name.yml",
        "kesconf: invalid key config: no key name specified in line 9",
    ),
    ("bad-no-keystore.yml", "kesconf: no keystore specified"),
    (
        "bad-keystore-kes-only.yml",
        "kesconf: no keystore specified",
    ),
    (
        "bad-two-keystores.yml",
        "kesconf: invalid keystore config: more than once keystore specified",
    ),
    (
        "bad-fs-no-path.yml",
        "kesconf: invalid fs keystore: no path specified",
    ),
    (
        "bad-sqlite-no-path.yml",
        "kesconf: invalid sqlite keystore: no path specified",
    ),
    (
        "bad-sqlite-unknown-field.yml",
        "kesconf: unknown field 'keystore.sqlite.journal' in line 10",
    ),
    (
        "bad-sqlite-and-postgres.yml",
        "kesconf: invalid keystore config: more than once keystore specified",
    ),
    (
        "bad-postgres-no-url.yml",
        "kesconf: invalid postgres keystore: no url specified",
    ),
    (
        "bad-postgres-url-scheme.yml",
        "kesconf: invalid postgres keystore: url must start with 'postgres://' or 'postgresql://'",
    ),
    (
        "bad-postgres-table.yml",
        "kesconf: invalid value 'keys; DROP TABLE x' for 'keystore.postgres.table' in line 10: must be a letter or '_' followed by letters, digits or '_', at most 63 characters",
    ),
    (
        "bad-vault-no-endpoint.yml",
        "kesconf: invalid vault keystore: no endpoint specified",
    ),
    (
        "bad-vault-no-auth.yml",
        "kesconf: invalid vault keystore: no authentication method specified",
    ),
    (
        "bad-vault-two-auth.yml",
        "kesconf: invalid vault keystore: more than one authentication method specified",
    ),
    (
        "bad-vault-token-and-approle.yml",
        "kesconf: invalid vault keystore: more than one authentication method specified",
    ),
    (
        "bad-vault-empty-token.yml",
        "kesconf: invalid vault keystore: no authentication method specified",
    ),
    (
        "bad-vault-approle-no-id.yml",
        "kesconf: invalid vault keystore: invalid approle config: no approle ID specified",
    ),
    (
        "bad-vault-approle-no-secret.yml",
        "kesconf: invalid vault keystore: invalid approle config: no approle secret specified",
    ),
    (
        "bad-vault-k8s-no-jwt.yml",
        "kesconf: invalid vault keystore: invalid kubernetes config: no JWT specified",
    ),
    (
        "bad-vault-transit-no-key.yml",
        "kesconf: invalid vault keystore: invalid transit config: no key name specified",
    ),
    (
        "bad-vault-tls-no-cert.yml",
        "kesconf: invalid vault keystore: invalid tls config: no TLS certificate provided",
    ),
    (
        "bad-vault-tls-no-key.yml",
        "kesconf: invalid vault keystore: invalid tls config: no TLS private key provided",
    ),
    (
        "bad-vault-version.yml",
        "kesconf: invalid value 'v3' for 'keystore.vault.version' in line 10: must be 'v1' or 'v2'",
    ),
    (
        "bad-vault-status-ping.yml",
        "kesconf: invalid value '-10s' for 'keystore.vault.status.ping' in line 14: must not be negative",
    ),
    (
        "bad-fortanix-no-endpoint.yml",
        "kesconf: invalid fortanix SDKMS keystore: no endpoint specified",
    ),
    (
        "bad-fortanix-no-api-key.yml",
        "kesconf: invalid fortanix SDKMS keystore: no API key specified",
    ),
    (
        "bad-gemalto-no-endpoint.yml",
        "kesconf: invalid gemalto keysecure keystore: no endpoint specified",
    ),
    (
        "bad-gemalto-no-token.yml",
        "kesconf: invalid gemalto keysecure keystore: no token specified",
    ),
    (
        "bad-gcp-no-project.yml",
        "kesconf: invalid GCP secretmanager keystore: no project ID specified",
    ),
    (
        "bad-gcp-partial-credentials.yml",
        "kesconf: invalid GCP secretmanager keystore: no client ID specified",
    ),
    (
        "bad-aws-no-endpoint.yml",
        "kesconf: invalid AWS secretsmanager keystore: no endpoint specified",
    ),
    (
        "bad-aws-no-region.yml",
        "kesconf: invalid AWS secretsmanager keystore: no region specified",
    ),
    (
        "bad-aws-partial-credentials.yml",
        "kesconf: invalid AWS secretsmanager keystore: no secret key specified",
    ),
    (
        "bad-azure-no-endpoint.yml",
        "kesconf: invalid Azure keyvault keystore: no endpoint specified",
    ),
    (
        "bad-azure-two-auth.yml",
        "kesconf: invalid Azure keyvault keystore: more than one authentication method specified",
    ),
    (
        "bad-azure-no-tenant-id.yml",
        "kesconf: invalid Azure keyvault keystore: no tenant ID specified",
    ),
    (
        "bad-azure-no-client-id.yml",
        "kesconf: invalid Azure keyvault keystore: no client ID specified",
    ),
    (
        "bad-azure-no-client-secret.yml",
        "kesconf: invalid Azure keyvault keystore: no client secret specified",
    ),
    (
        "bad-azure-managed-identity-no-client-id.yml",
        "kesconf: invalid Azure keyvault keystore: no client ID specified",
    ),
    (
        "bad-entrust-no-endpoint.yml",
        "kesconf: invalid Entrust KeyControl keystore: no endpoint specified",
    ),
    (
        "bad-entrust-no-vault-id.yml",
        "kesconf: invalid Entrust KeyControl keystore: no vault ID specified",
    ),
    (
        "bad-entrust-no-box-id.yml",
        "kesconf: invalid Entrust KeyControl keystore: no box ID specified",
    ),
    (
        "bad-entrust-no-username.yml",
        "kesconf: invalid Entrust KeyControl keystore: no username specified",
    ),
    (
        "bad-entrust-no-password.yml",
        "kesconf: invalid Entrust KeyControl keystore: no password specified",
    ),
];

#[test]
fn rejected_configs_have_exact_errors() {
    let mut failures = Vec::new();
    for (name, want) in REJECTED {
        match parse(&read(name)) {
            Ok(_) => failures.push(format!("{name}: accepted")),
            Err(got) if got != *want => {
                failures.push(format!("{name}:\n  got  {got}\n  want {want}"))
            }
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_bad_fixture_is_tested() {
    let mut files: Vec<String> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("bad-"))
        .collect();
    files.sort();
    let mut listed: Vec<String> = REJECTED
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    listed.sort();
    assert_eq!(files, listed);
}

#[test]
fn load_reports_unreadable_files() {
    let missing = fixture("does-not-exist.yml");
    let err = Config::load(&missing).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(
        err.to_string().starts_with(&format!(
            "kesconf: failed to read '{}': ",
            missing.display()
        )),
        "{err}"
    );
}

#[test]
fn load_uses_the_process_environment() {
    // Nothing sets this variable, so the reference is reported as missing.
    assert_eq!(
        Config::load(&fixture("bad-env-missing.yml"))
            .unwrap_err()
            .to_string(),
        "kesconf: referenced env. variable 'KES_FIXTURE_UNSET_TLS_KEY' in line '5' not found"
    );
}
