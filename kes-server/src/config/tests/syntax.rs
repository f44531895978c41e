//! YAML details on inline documents: aliases, limits, nulls, quoting, flow style.

use super::*;

/// The admin, TLS and fs keystore settings, then `extra`.
fn with(extra: &str) -> String {
    format!(
        "admin:\n  identity: {ADMIN}\ntls:\n  key: k\n  cert: c\nkeystore:\n  fs:\n    path: keys\n{extra}"
    )
}

#[test]
fn anchors_and_aliases() {
    let config = parse(&with(
        "policy:\n  a:\n    allow: &patterns\n    - /v1/key/create/*\n    - /v1/key/list/*\n  b:\n    allow: *patterns\n    deny: [*patterns]\n",
    ));
    // An alias is a copy; `deny: [*patterns]` is a list inside a list, which is not a pattern.
    assert_eq!(
        config.unwrap_err(),
        "kesconf: invalid value for 'policy.b.deny[0]' in line 16: expected a single value"
    );
    let config = parse(&with(
        "policy:\n  a:\n    allow: &patterns\n    - /v1/key/create/*\n  b:\n    allow: *patterns\n",
    ))
    .unwrap();
    assert_eq!(config.policies[1].allow, ["/v1/key/create/*"]);
}

#[test]
fn alias_expansion_is_bounded() {
    let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..8 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        yaml.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let err = parse(&yaml).unwrap_err();
    assert!(err.ends_with("aliases expand to too many nodes"), "{err}");
}

#[test]
fn nesting_is_bounded() {
    let yaml = format!("admin: {}{}\n", "[".repeat(100), "]".repeat(100));
    assert_eq!(
        parse(&yaml).unwrap_err(),
        "kesconf: invalid YAML in line 1: nesting is too deep"
    );
}

#[test]
fn null_means_absent() {
    let yaml =
        format!("admin:\n  identity: {ADMIN}\ntls:\n  key: k\n  cert: c\nkeystore:\n  fs:\n");
    assert_eq!(parse(&yaml).unwrap_err(), "kesconf: no keystore specified");
    let yaml = format!("admin:\n  identity: {ADMIN}\ntls: ~\nkeystore:\n  fs:\n    path: keys\n");
    assert_eq!(
        parse(&yaml).unwrap_err(),
        "kesconf: invalid tls config: no private key"
    );
    let yaml = "admin: null\ntls:\n  key: k\n  cert: c\nkeystore:\n  fs:\n    path: keys\n";
    assert_eq!(
        parse(yaml).unwrap_err(),
        "kesconf: invalid admin identity: no admin identity"
    );
    // Empty values take the defaults.
    let config = parse(&with(
        "cache:\n  expiry:\n    any:\n    unused: ''\nlog:\n  error: ~\napi:\n  /v1/status:\n",
    ))
    .unwrap();
    assert_eq!(config.cache, CacheConfig::default());
    assert_eq!(config.log, LogConfig::default());
    assert_eq!(config.api["/v1/status"], ApiOverride::default());
}

#[test]
fn scalars_keep_their_text() {
    // Quoting, YAML number syntax and tags do not change the text a key receives.
    let config = parse(
        "admin:\n  identity: 1e10\ntls:\n  key: !!str 0755\n  cert: 'c'\n  password: 007\nkeystore:\n  fs:\n    path: \"true\"\nkeys:\n- name: 0x1F\n",
    )
    .unwrap();
    assert_eq!(config.admin, "1e10");
    assert_eq!(config.tls.key, path("0755"));
    assert_eq!(config.tls.cert, path("c"));
    assert_eq!(
        config.tls.password.as_ref().map(Secret::expose),
        Some("007")
    );
    assert_eq!(config.keys, ["0x1F"]);
    let KeystoreConfig::Fs { path: dir } = &config.keystore else {
        panic!()
    };
    assert_eq!(dir, &path("true"));
}

#[test]
fn flow_style_and_booleans() {
    let config = parse(&with(
        "api: {/v1/ready: {skip_auth: 'on'}, /v1/api: {skip_auth: False}, /v1/metrics: {skip_auth: Y}}\n",
    ))
    .unwrap();
    assert!(config.api["/v1/ready"].skip_auth);
    assert!(!config.api["/v1/api"].skip_auth);
    assert!(config.api["/v1/metrics"].skip_auth);
}

#[test]
fn tls_auth_is_case_insensitive() {
    for (auth, want) in [
        ("On", ClientAuth::On),
        ("OFF", ClientAuth::Off),
        ("''", ClientAuth::Off),
    ] {
        let yaml = format!(
            "admin:\n  identity: x\ntls:\n  key: k\n  cert: c\n  auth: {auth}\nkeystore:\n  fs:\n    path: p\n"
        );
        assert_eq!(parse(&yaml).unwrap().tls.auth, want, "{auth}");
    }
}

#[test]
fn address_forms() {
    let address = |a: &str| parse(&with(&format!("address: '{a}'\n"))).map(|c| c.address);
    assert_eq!(address(":7000"), Ok(Some("0.0.0.0:7000".parse().unwrap())));
    assert_eq!(
        address("[::1]:7373"),
        Ok(Some("[::1]:7373".parse().unwrap()))
    );
    assert_eq!(address(""), Ok(None));
    assert_eq!(
        address("0.0.0.0:99999"),
        Err("kesconf: invalid address '0.0.0.0:99999': invalid port in line 9".into())
    );
}
