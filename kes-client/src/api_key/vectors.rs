//! Checks every `api_keys` vector of the shared `vectors/kes.json`, read at test time.

use serde_json::Value;

use super::ApiKey;

fn load() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/kes.json");
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read test vectors {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("invalid test vectors {path}: {e}"))
}

#[test]
fn api_keys() {
    let v = load();
    let vectors = v
        .pointer("/api_keys/vectors")
        .and_then(Value::as_array)
        .expect("no api_keys.vectors in kes.json");
    assert!(!vectors.is_empty());
    for e in vectors {
        let id = &e["id"];
        let text = e["api_key"].as_str().expect("api_key");
        let parsed = ApiKey::parse(text);
        if !e["valid"].as_bool().expect("valid") {
            let err = parsed.expect_err(&format!("{id} must be rejected"));
            if let Some(message) = e.get("error").and_then(Value::as_str) {
                assert_eq!(err.to_string(), message, "{id}");
            }
            continue;
        }
        let key = parsed.unwrap_or_else(|err| panic!("{id}: {err}"));
        assert_eq!(
            hex::encode(key.public_key()),
            e["public_key_hex"].as_str().expect("public_key_hex"),
            "{id}"
        );
        assert_eq!(
            key.identity().as_str(),
            e["identity"].as_str().expect("identity"),
            "{id}"
        );
        let cert = key
            .certificate()
            .unwrap_or_else(|err| panic!("{id}: {err}"));
        assert_eq!(
            super::identity_of_certificate(&cert.cert_der).unwrap(),
            key.identity(),
            "{id}"
        );
        // The text form is canonical: re-encoding gives the prefixed input.
        let canonical = if text.starts_with("kes:v1:") {
            text.to_owned()
        } else {
            format!("kes:v1:{text}")
        };
        assert_eq!(key.to_text().as_str(), canonical, "{id}");
    }
}
