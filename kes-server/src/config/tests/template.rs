//! `full-template.yml`: every key of the reference's commented template. It configures every
//! keystore at once, so each test removes the other blocks from the parsed tree.

use std::time::Duration;

use super::super::yaml::{self, Node};
use super::accepted::{aws, vault};
use super::*;

/// Keys to remove: (path of a mapping below `keystore`, key).
type Drops<'a> = &'a [(&'a [&'a str], &'a str)];

/// The template with the `keystore` blocks not named in `keep` removed, and `drop` removed
/// below them.
fn template_variant(keep: &str, drop: Drops<'_>) -> Result<Config, ConfigError> {
    let mut tree = yaml::load(&read("full-template.yml")).unwrap();
    let keystore = child(&mut tree, &["keystore"]);
    let Node::Map { entries, .. } = keystore else {
        panic!("keystore")
    };
    entries.retain(|e| e.key == keep);
    for (at, key) in drop {
        let Node::Map { entries, .. } = child(keystore, at) else {
            panic!("{at:?}")
        };
        let before = entries.len();
        entries.retain(|e| e.key != *key);
        assert_eq!(entries.len(), before - 1, "{at:?}.{key}");
    }
    Config::from_tree(&tree, &no_env)
}

fn child<'n>(mut node: &'n mut Node, path: &[&str]) -> &'n mut Node {
    for key in path {
        let Node::Map { entries, .. } = node else {
            panic!("{key}")
        };
        node = &mut entries.iter_mut().find(|e| e.key == *key).unwrap().value;
    }
    node
}

#[test]
fn full_template_as_a_whole_configures_every_keystore() {
    assert_eq!(
        parse(&read("full-template.yml")).unwrap_err(),
        "kesconf: invalid keystore config: more than once keystore specified"
    );
}

#[test]
fn full_template_settings() {
    let config = template_variant("fs", &[]).unwrap();
    assert_eq!(config.address, Some("0.0.0.0:7373".parse().unwrap()));
    assert_eq!(config.admin, ADMIN);
    let tls = &config.tls;
    assert_eq!(tls.key, path("./server.key"));
    assert_eq!(tls.cert, path("./server.cert"));
    assert_eq!(
        tls.password.as_ref().map(Secret::expose),
        Some("fixture-key-password")
    );
    assert_eq!(tls.auth, ClientAuth::On);
    assert_eq!(tls.ca, Some(path("./ca-certificates")));
    assert_eq!(
        tls.proxy,
        ProxyConfig {
            identities: vec![PROXY.into()],
            cert_header: Some("X-Tls-Client-Cert".into()),
        }
    );
    assert_eq!(
        config.api["/v1/ready"],
        ApiOverride {
            skip_auth: false,
            timeout: Some(secs(15))
        }
    );
    assert_eq!(config.api.len(), 1);
    assert_eq!(
        config.policies,
        [
            PolicyConfig {
                name: "my-app".into(),
                allow: vec![
                    "/v1/key/create/my-app*".into(),
                    "/v1/key/generate/my-app*".into(),
                    "/v1/key/decrypt/my-app*".into(),
                ],
                deny: vec![
                    "/v1/key/generate/my-app-internal*".into(),
                    "/v1/key/decrypt/my-app-internal*".into(),
                ],
                identities: vec![APP_1.into(), APP_2.into()],
            },
            PolicyConfig {
                name: "my-app-ops".into(),
                allow: vec![
                    "/v1/key/delete/my-app*".into(),
                    "/v1/policy/show/my-app".into(),
                    "/v1/identity/assign/my-app/*".into(),
                ],
                deny: vec![],
                identities: vec![OPS.into()],
            },
        ]
    );
    assert_eq!(
        config.cache,
        CacheConfig {
            any: secs(300),
            unused: secs(20),
            offline: Duration::ZERO,
        }
    );
    assert_eq!(
        config.log,
        LogConfig {
            error: Level::INFO,
            audit: Level::OFF,
            audit_file: None,
        }
    );
    assert_eq!(config.keys, ["some-key-name", "another-key-name"]);
    let KeystoreConfig::Fs { path: dir } = &config.keystore else {
        panic!("{:?}", config.keystore)
    };
    assert_eq!(dir, &path("./keys"));
    assert!(config.warnings.is_empty());
}

#[test]
fn full_template_vault() {
    let approle = template_variant("vault", &[(&["vault"], "kubernetes")]).unwrap();
    let v = vault(&approle);
    assert_eq!(v.endpoint, "https://127.0.0.1:8200");
    assert_eq!(v.engine, "secrets");
    assert_eq!(v.version, VaultKvVersion::V2);
    assert_eq!(v.namespace.as_deref(), Some("team-a"));
    assert_eq!(v.prefix.as_deref(), Some("kes"));
    assert_eq!(
        v.transit,
        Some(VaultTransit {
            engine: "transit-kes".into(),
            key: "kes-wrapping-key".into()
        })
    );
    assert_eq!(
        v.tls,
        VaultTls {
            client: Some(ClientCertificate {
                key: path("./vault-client.key"),
                cert: path("./vault-client.cert"),
            }),
            ca: Some(path("./vault-ca.pem")),
        }
    );
    assert_eq!(v.status_ping, secs(10));
    let VaultAuth::AppRole(role) = &v.auth else {
        panic!("{:?}", v.auth)
    };
    assert_eq!(role.namespace.as_deref(), Some("/"));
    assert_eq!(role.engine, "approle-kes");
    assert_eq!(role.id, "2d4f6a8c-1e3b-4d5f-8a7c-9e0b1d2f3a4b");
    assert_eq!(role.secret.expose(), "7e9c1a3b-5d2f-4e6a-8b0c-2d4e6f8a0b1c");

    let k8s = template_variant("vault", &[(&["vault"], "approle")]).unwrap();
    let VaultAuth::Kubernetes(login) = &vault(&k8s).auth else {
        panic!("{k8s:?}")
    };
    assert_eq!(login.namespace.as_deref(), Some("/"));
    assert_eq!(login.engine, "kubernetes-kes");
    assert_eq!(login.role.as_deref(), Some("kes-server"));
    assert!(matches!(&login.jwt, VaultJwt::Token(t) if t.expose() == JWT));

    assert_eq!(
        template_variant("vault", &[]).unwrap_err().to_string(),
        "kesconf: invalid vault keystore: more than one authentication method specified"
    );
}

#[test]
fn full_template_fortanix() {
    let config = template_variant("fortanix", &[]).unwrap();
    assert_eq!(config.keystore.backend_name(), "fortanix.sdkms");
    let KeystoreConfig::Fortanix(f) = &config.keystore else {
        panic!("{:?}", config.keystore)
    };
    assert_eq!(f.endpoint, "https://sdkms.fortanix.com");
    assert_eq!(
        f.group_id.as_deref(),
        Some("0b6c4f2e-8d1a-4e3b-9c7d-5a2f1e0d3c4b")
    );
    assert_eq!(
        f.api_key.expose(),
        "Zml4dHVyZS1hcGkta2V5OmZpeHR1cmUtYXBpLXNlY3JldA=="
    );
    assert_eq!(f.ca, Some(path("./fortanix-ca.pem")));
}

#[test]
fn full_template_aws() {
    let config = template_variant("aws", &[]).unwrap();
    let a = aws(&config);
    assert_eq!(a.endpoint, "secretsmanager.us-east-2.amazonaws.com");
    assert_eq!(a.region, "us-east-2");
    assert_eq!(a.kms_key.as_deref(), Some("alias/kes"));
    let c = a.credentials.as_ref().unwrap();
    assert_eq!(c.access_key, "AKIAKESFIXTURE000002");
    assert_eq!(
        c.secret_key.expose(),
        "kes/fixture+secret+key/1111111111111111111"
    );
    assert_eq!(
        c.session_token.as_ref().map(Secret::expose),
        Some("fixture-session-token")
    );
}

#[test]
fn full_template_gemalto() {
    let config = template_variant("gemalto", &[]).unwrap();
    assert_eq!(config.keystore.backend_name(), "gemalto.keysecure");
    let KeystoreConfig::Gemalto(g) = &config.keystore else {
        panic!("{:?}", config.keystore)
    };
    assert_eq!(g.endpoint, "https://keysecure.example.net");
    assert_eq!(g.token.expose(), "fixture-refresh-token");
    assert_eq!(g.domain.as_deref(), Some("kes-domain"));
    assert_eq!(g.ca, Some(path("./keysecure-ca.pem")));
    assert_eq!(
        config.warnings,
        [
            "kesconf: field 'keystore.gemalto.keysecure.credentials.retry' in line 119 is no longer supported and is ignored"
        ]
    );
}

#[test]
fn full_template_gcp() {
    let config = template_variant("gcp", &[]).unwrap();
    assert_eq!(config.keystore.backend_name(), "gcp.secretmanager");
    let KeystoreConfig::Gcp(g) = &config.keystore else {
        panic!("{:?}", config.keystore)
    };
    assert_eq!(g.project_id, "kes-fixture-project");
    assert_eq!(g.endpoint, "secretmanager.googleapis.com:443");
    assert_eq!(g.scopes, ["https://www.googleapis.com/auth/cloud-platform"]);
    let c = g.credentials.as_ref().unwrap();
    assert_eq!(
        c.client_email,
        "kes@kes-fixture-project.iam.gserviceaccount.com"
    );
    assert_eq!(c.client_id, "104729384756102938475");
    assert_eq!(c.private_key_id, "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a");
    assert_eq!(
        c.private_key.expose(),
        "-----BEGIN PRIVATE KEY-----\nfixture\n-----END PRIVATE KEY-----\n"
    );
}

#[test]
fn full_template_azure() {
    let drop_managed: Drops<'_> = &[(&["azure", "keyvault"], "managed_identity")];
    let config = template_variant("azure", drop_managed).unwrap();
    assert_eq!(config.keystore.backend_name(), "azure.keyvault");
    let KeystoreConfig::Azure(a) = &config.keystore else {
        panic!("{:?}", config.keystore)
    };
    assert_eq!(a.endpoint, "https://kes-fixture.vault.azure.net");
    let AzureAuth::ClientSecret {
        tenant_id,
        client_id,
        client_secret,
    } = &a.auth
    else {
        panic!("{:?}", a.auth)
    };
    assert_eq!(tenant_id, "4c2e6a8b-0d1f-4e3a-9b5c-7d8e9f0a1b2c");
    assert_eq!(client_id, "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d");
    assert_eq!(client_secret.expose(), "fixture-client-secret");

    let config = template_variant("azure", &[(&["azure", "keyvault"], "credentials")]).unwrap();
    let KeystoreConfig::Azure(a) = &config.keystore else {
        panic!("{:?}", config.keystore)
    };
    assert!(
        matches!(&a.auth, AzureAuth::ManagedIdentity { client_id } if client_id == "1f2e3d4c-5b6a-4978-8f6e-5d4c3b2a1f0e")
    );
}

#[test]
fn full_template_entrust() {
    let config = template_variant("entrust", &[]).unwrap();
    assert_eq!(config.keystore.backend_name(), "entrust.keycontrol");
    let KeystoreConfig::Entrust(e) = &config.keystore else {
        panic!("{:?}", config.keystore)
    };
    assert_eq!(e.endpoint, "https://keycontrol.example.net");
    assert_eq!(e.vault_id, "e7a1c3b5-9d2f-4a6e-8c0b-1d3f5a7c9e2b");
    assert_eq!(e.box_id, "kes-box");
    assert_eq!(e.username, "kes-user");
    assert_eq!(e.password.expose(), "fixture-password");
    assert_eq!(e.ca, Some(path("./keycontrol-ca.pem")));
}

#[test]
fn debug_output_never_shows_secrets() {
    let variants: [(&str, Drops<'_>); 8] = [
        ("vault", &[(&["vault"], "approle")]),
        ("vault", &[(&["vault"], "kubernetes")]),
        ("fortanix", &[]),
        ("aws", &[]),
        ("gemalto", &[]),
        ("gcp", &[]),
        ("azure", &[(&["azure", "keyvault"], "managed_identity")]),
        ("entrust", &[]),
    ];
    for (keep, drop) in variants {
        let config = template_variant(keep, drop).unwrap();
        let debug = format!("{config:?}");
        for secret in [
            "fixture-key-password",
            "7e9c1a3b-5d2f-4e6a-8b0c-2d4e6f8a0b1c",
            JWT,
            "Zml4dHVyZS1hcGkta2V5",
            "kes/fixture+secret+key",
            "fixture-session-token",
            "fixture-refresh-token",
            "BEGIN PRIVATE KEY",
            "fixture-client-secret",
            "fixture-password",
        ] {
            assert!(!debug.contains(secret), "{keep}: {secret} in {debug}");
        }
        assert!(debug.contains("[redacted]"), "{keep}");
    }
}
