//! Checks every `names.api_name`, `names.api_pattern` and `policy_verify` vector of the shared
//! `vectors/kes.json`, read at test time.

use serde_json::Value;

use crate::{Identity, PolicyDef, PolicySet, is_valid_name, is_valid_pattern};

fn load() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/kes.json");
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read test vectors {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("invalid test vectors {path}: {e}"))
}

fn entries<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    let list = v
        .pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no {pointer} in kes.json"));
    assert!(!list.is_empty(), "{pointer} is empty");
    list
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

fn bool_at(v: &Value, key: &str) -> bool {
    v[key]
        .as_bool()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn api_names() {
    let v = load();
    for e in entries(&v, "/names/api_name") {
        assert_eq!(
            is_valid_name(str_at(e, "name")),
            bool_at(e, "valid"),
            "{}",
            e["id"]
        );
    }
}

#[test]
fn api_patterns() {
    let v = load();
    for e in entries(&v, "/names/api_pattern") {
        assert_eq!(
            is_valid_pattern(str_at(e, "pattern")),
            bool_at(e, "valid"),
            "{}",
            e["id"]
        );
    }
}

/// Each vector runs through a whole `PolicySet` for a non-admin identity, as on a request.
#[test]
fn policy_verify() {
    let v = load();
    let caller = Identity::from(
        "ea9826089311fe44d7590408ede9150f7c637b6cab0a91ee6fe1aa5d9fb366f6".to_owned(),
    );
    for e in entries(&v, "/policy_verify/vectors") {
        let def = PolicyDef {
            name: "vector".to_owned(),
            allow: strings(&e["policy"]["allow"]),
            deny: strings(&e["policy"]["deny"]),
            identities: vec![caller.clone()],
        };
        let set = PolicySet::new(Identity::from("disabled".to_owned()), vec![def]).unwrap();
        let path = str_at(e, "path");
        let allowed = bool_at(e, "allowed");
        assert_eq!(set.authorize(&caller, path), allowed, "{}", e["id"]);
        assert_eq!(
            set.policy("vector").unwrap().allows(path),
            allowed,
            "{}",
            e["id"]
        );
    }
}
