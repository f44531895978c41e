//! Checks every vector of `shared/vectors/kes.json` that concerns this crate, loaded at test
//! time. Each test asserts that its category is non-empty, so a missing or renamed category
//! fails instead of passing vacuously.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::aead::message_key;
use crate::ciphertext::Ciphertext;
use crate::{Error, HmacKey, KeyType, KeyVersion, SecretKey};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/kes.json");

fn vectors() -> &'static Value {
    static VECTORS_JSON: OnceLock<Value> = OnceLock::new();
    VECTORS_JSON.get_or_init(|| {
        let text = std::fs::read_to_string(VECTORS)
            .unwrap_or_else(|err| panic!("test vectors missing at {VECTORS}: {err}"));
        serde_json::from_str(&text).expect("test vectors are not valid JSON")
    })
}

fn category(name: &str, array: &str) -> &'static [Value] {
    let entries = vectors()[name][array]
        .as_array()
        .unwrap_or_else(|| panic!("no array {name}.{array} in {VECTORS}"));
    assert!(!entries.is_empty(), "{name}.{array} is empty");
    entries
}

fn id(v: &Value) -> &str {
    v["id"].as_str().expect("vector without id")
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{}: no string field {field}", id(v)))
}

fn b64(v: &Value, field: &str) -> Vec<u8> {
    STANDARD
        .decode(text(v, field))
        .unwrap_or_else(|err| panic!("{}: {field}: {err}", id(v)))
}

fn hex_field(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(text(v, field)).unwrap_or_else(|err| panic!("{}: {field}: {err}", id(v)))
}

fn key_type(v: &Value, field: &str) -> KeyType {
    KeyType::parse(text(v, field)).unwrap_or_else(|| panic!("{}: bad {field}", id(v)))
}

fn secret_key(v: &Value) -> SecretKey {
    SecretKey::new(key_type(v, "key_type"), &b64(v, "key_b64")).unwrap()
}

/// A legacy JSON key without `algorithm` holding the vector's key bytes (decision F1 applies).
fn untyped_key(v: &Value) -> KeyVersion {
    let stored = format!(r#"{{"bytes":"{}"}}"#, text(v, "key_b64"));
    let key = KeyVersion::parse(stored.as_bytes()).unwrap();
    assert!(key.is_untyped());
    key
}

/// The ciphertext bytes, given as UTF-8 text or as base64.
fn ciphertext(v: &Value) -> Vec<u8> {
    match v["ciphertext_text"].as_str() {
        Some(text) => text.as_bytes().to_vec(),
        None => b64(v, "ciphertext_b64"),
    }
}

/// The error text quoted in an `expect.error` description, if it quotes one.
fn quoted_error(v: &Value) -> Option<&str> {
    let description = v["expect"]["error"].as_str()?;
    let start = description.find('\'')? + 1;
    let len = description[start..].find('\'')?;
    Some(&description[start..start + len])
}

fn sha256_key_id(key: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key);
    hex::encode(&digest.as_ref()[..16])
}

#[test]
fn secret_key_decrypt() {
    for v in category("secret_key_decrypt", "vectors") {
        let key = secret_key(v);
        let ct = ciphertext(v);
        let ad = b64(v, "associated_data_b64");
        let result = key.decrypt(&ct, &ad);

        if v["expect"]["plaintext_b64"].is_string() {
            let plaintext = result.unwrap_or_else(|err| panic!("{}: {err}", id(v)));
            assert_eq!(*plaintext, b64(&v["expect"], "plaintext_b64"), "{}", id(v));
        } else {
            assert!(v["expect"]["error"].is_string(), "{}", id(v));
            let err = result.expect_err(id(v));
            assert_eq!(err, Error::NotAuthentic, "{}", id(v));
            assert_eq!(
                err.to_string(),
                "decryption failed: ciphertext is not authentic"
            );
        }

        // Each step: format detection, normalisation, per-message key.
        let parsed = Ciphertext::parse(&ct).unwrap();
        let structured = match text(v, "detected_format") {
            "json" | "msgp" => true,
            "raw" | "json-invalid" => false,
            other => panic!("{}: unknown detected_format {other}", id(v)),
        };
        assert_eq!(parsed.declared.is_some(), structured, "{}", id(v));
        let Some(steps) = v["intermediate"].as_object().map(|_| &v["intermediate"]) else {
            continue;
        };
        assert_eq!(parsed.iv.to_vec(), hex_field(steps, "iv_hex"), "{}", id(v));
        assert_eq!(
            parsed.nonce.to_vec(),
            hex_field(steps, "nonce_hex"),
            "{}",
            id(v)
        );
        assert_eq!(
            *parsed.sealed_and_tag,
            hex_field(steps, "sealed_ciphertext_and_tag_hex"),
            "{}",
            id(v)
        );
        let normalized = [&*parsed.sealed_and_tag, &parsed.iv, &parsed.nonce].concat();
        assert_eq!(normalized, b64(steps, "normalized_raw_b64"), "{}", id(v));
        let key_bytes: [u8; 32] = b64(v, "key_b64").try_into().unwrap();
        assert_eq!(
            message_key(key.key_type(), &key_bytes, &parsed.iv).to_vec(),
            hex_field(steps, "derived_aead_key_hex"),
            "{}",
            id(v)
        );
        if let Some(declared) = steps["declared_algorithm"].as_str() {
            let expected = match declared {
                "AES-256-GCM-HMAC-SHA-256" => KeyType::Aes256,
                "ChaCha20Poly1305" => KeyType::ChaCha20,
                name => KeyType::parse(name).unwrap(),
            };
            assert_eq!(parsed.declared, Some(expected), "{}", id(v));
        }
    }
}

#[test]
fn secret_key_encrypt_roundtrip() {
    for v in category("secret_key_encrypt_roundtrip", "vectors") {
        let key = secret_key(v);
        let plaintext = b64(v, "plaintext_b64");
        let ad = b64(v, "associated_data_b64");
        let ct = key.encrypt(&plaintext, &ad).unwrap();
        assert_eq!(
            Some(ct.len() as u64),
            v["expect_ciphertext_len"].as_u64(),
            "{}",
            id(v)
        );
        assert_eq!(*key.decrypt(&ct, &ad).unwrap(), plaintext, "{}", id(v));
        assert_ne!(ct, key.encrypt(&plaintext, &ad).unwrap(), "{}", id(v));
    }
}

#[test]
fn deterministic_encrypt() {
    for v in category("deterministic_encrypt", "vectors") {
        let key = secret_key(v);
        let iv: [u8; 16] = hex_field(v, "iv_hex").try_into().unwrap();
        let nonce: [u8; 12] = hex_field(v, "nonce_hex").try_into().unwrap();
        let plaintext = b64(v, "plaintext_b64");
        let ad = b64(v, "associated_data_b64");

        let ct = key.encrypt_with(&iv, &nonce, &plaintext, &ad).unwrap();
        assert_eq!(ct, b64(v, "expect_ciphertext_b64"), "{}", id(v));
        assert_eq!(ct.len(), plaintext.len() + 44, "{}", id(v));
        if let Some(len) = v["expect_ciphertext_len"].as_u64() {
            assert_eq!(ct.len() as u64, len, "{}", id(v));
        }
        if v["derived_aead_key_hex"].is_string() {
            let key_bytes: [u8; 32] = b64(v, "key_b64").try_into().unwrap();
            assert_eq!(
                message_key(key.key_type(), &key_bytes, &iv).to_vec(),
                hex_field(v, "derived_aead_key_hex"),
                "{}",
                id(v)
            );
        }
        assert_eq!(*key.decrypt(&ct, &ad).unwrap(), plaintext, "{}", id(v));
    }
}

#[test]
fn deterministic_encrypt_first_byte_0x95_falls_back_to_raw() {
    // The vector set holds a 0x7b case; find a nonce that makes the first byte 0x95 too.
    let v = &category("deterministic_encrypt", "vectors")[0];
    let key = secret_key(v);
    let plaintext = b64(v, "plaintext_b64");
    let iv = [0u8; 16];
    let ct = (0u32..)
        .map(|n| {
            let mut nonce = [0u8; 12];
            nonce[8..].copy_from_slice(&n.to_be_bytes());
            key.encrypt_with(&iv, &nonce, &plaintext, b"").unwrap()
        })
        .find(|ct| ct[0] == 0x95)
        .unwrap();
    assert_eq!(*key.decrypt(&ct, b"").unwrap(), plaintext);
}

/// The key id a structured ciphertext carries, if any (the test vectors use fixstr or str8).
fn embedded_key_id(bytes: &[u8]) -> Option<String> {
    match bytes.first()? {
        b'{' => {
            let framing: Value = serde_json::from_slice(bytes).ok()?;
            Some(framing["id"].as_str()?.to_owned())
        }
        0x95 => {
            let at = 2 + usize::from(bytes[1] & 0x1f);
            let (start, len) = match bytes[at] {
                0xd9 => (at + 2, usize::from(bytes[at + 1])),
                lead @ 0xa0..=0xbf => (at + 1, usize::from(lead & 0x1f)),
                _ => return None,
            };
            Some(String::from_utf8(bytes[start..start + len].to_vec()).unwrap())
        }
        _ => None,
    }
}

#[test]
fn legacy_key_id() {
    let ciphertexts: Vec<&Value> = category("secret_key_decrypt", "vectors")
        .iter()
        .chain(category("structured_decrypt", "vectors"))
        .collect();
    let mut embedded = 0;
    for v in category("legacy_key_id", "vectors") {
        let expected = text(v, "expect_key_id");
        assert_eq!(sha256_key_id(&b64(v, "key_b64")), expected, "{}", id(v));
        // Structured ciphertexts made with the same key carry this id (when they carry one).
        for c in ciphertexts.iter().filter(|c| c["key_b64"] == v["key_b64"]) {
            if let Some(key_id) = embedded_key_id(&ciphertext(c)) {
                embedded += 1;
                assert_eq!(key_id, expected, "{} vs {}", id(c), id(v));
            }
        }
    }
    assert!(embedded >= 4, "only {embedded} ciphertexts carry a key id");
}

#[test]
fn parse_key_version() {
    for v in category("parse_key_version", "vectors") {
        let result = KeyVersion::parse(text(v, "stored_value_text").as_bytes());
        let expect = &v["expect"];
        if expect["error"].is_string() {
            assert!(result.is_err(), "{} must fail", id(v));
            continue;
        }
        let key = result.unwrap_or_else(|err| panic!("{}: {err}", id(v)));
        assert_eq!(key.key().key_type(), key_type(expect, "type"), "{}", id(v));
        assert_eq!(
            key.key().as_bytes().to_vec(),
            b64(expect, "key_b64"),
            "{}",
            id(v)
        );
        assert_eq!(key.created_by(), text(expect, "created_by"), "{}", id(v));
        let has_hmac = expect["has_hmac_key"].as_bool().unwrap();
        assert_eq!(key.hmac_key().is_some(), has_hmac, "{}", id(v));
        if has_hmac {
            assert_eq!(
                key.hmac_key().unwrap().as_bytes().to_vec(),
                b64(expect, "hmac_key_b64"),
                "{}",
                id(v)
            );
            assert_eq!(text(expect, "hmac_hash"), "SHA256");
        } else {
            assert_eq!(key.hmac(b""), Err(Error::HmacNotSupported), "{}", id(v));
        }
        // "0001-01-01T00:00:00Z (Go zero time: field absent)" carries a note after the time.
        let created_at = text(expect, "created_at").split(' ').next().unwrap();
        let created_at = OffsetDateTime::parse(created_at, &Rfc3339).unwrap();
        assert_eq!(key.created_at(), created_at, "{}", id(v));
        assert_eq!(key.created_at().offset(), time::UtcOffset::UTC, "{}", id(v));
        if let Some(seconds) = expect["timestamp_seconds"].as_i64() {
            assert_eq!(key.created_at().unix_timestamp(), seconds, "{}", id(v));
            let nanos = expect["timestamp_nanos"].as_u64().unwrap();
            assert_eq!(u64::from(key.created_at().nanosecond()), nanos, "{}", id(v));
        }
        if expect["protobuf_hex"].is_string() {
            let stored = STANDARD.decode(text(v, "stored_value_text")).unwrap();
            assert_eq!(stored, hex_field(expect, "protobuf_hex"), "{}", id(v));
        }
    }
}

#[test]
fn encode_key_version() {
    for v in category("encode_key_version", "vectors") {
        if let Some(message) = quoted_error(v) {
            // Our types always hold a secret key, so "no secret key" cannot be encoded at all;
            // the same error is what decoding a value without one reports.
            let err = if message.contains("HMAC") {
                let key = SecretKey::new(KeyType::Aes256, &[0; 32]).unwrap();
                let key = KeyVersion::from_parts(key, None, OffsetDateTime::UNIX_EPOCH, "");
                key.encode().expect_err(id(v))
            } else {
                let hmac_only = STANDARD
                    .encode([[0x12, 0x24, 0x0a, 0x20].as_slice(), &[0; 32], &[0x10, 1]].concat());
                KeyVersion::parse(hmac_only.as_bytes()).expect_err(id(v))
            };
            assert_eq!(err.to_string(), message, "{}", id(v));
            continue;
        }
        assert_eq!(text(v, "hmac_hash"), "SHA256", "{}", id(v));
        let key = KeyVersion::from_parts(
            secret_key(v),
            Some(HmacKey::new(&b64(v, "hmac_key_b64")).unwrap()),
            OffsetDateTime::parse(text(v, "created_at"), &Rfc3339).unwrap(),
            text(v, "created_by"),
        );
        let stored = key.encode().unwrap();
        assert_eq!(stored.as_str(), text(v, "expect_stored_value"), "{}", id(v));
        if v["expect_protobuf_hex"].is_string() {
            assert_eq!(
                STANDARD.decode(stored.as_bytes()).unwrap(),
                hex_field(v, "expect_protobuf_hex"),
                "{}",
                id(v)
            );
        }
        // Decoding gives back the same instant, in UTC.
        let parsed = KeyVersion::parse(stored.as_bytes()).unwrap();
        assert_eq!(parsed.created_at(), key.created_at(), "{}", id(v));
        assert_eq!(
            parsed.encode().unwrap().as_str(),
            stored.as_str(),
            "{}",
            id(v)
        );
    }
}

#[test]
fn hmac() {
    // The vectors use the HMAC key stored in parseKeyVersionTests[5].
    let stored = category("parse_key_version", "vectors")
        .iter()
        .find(|v| v["name"] == "parseKeyVersionTests[5]")
        .map(|v| text(v, "stored_value_text"))
        .unwrap();
    let key = KeyVersion::parse(stored.as_bytes()).unwrap();
    for v in category("hmac", "vectors") {
        let hmac_key = HmacKey::new(&b64(v, "hmac_key_b64")).unwrap();
        let message = b64(v, "message_b64");
        let expected = b64(v, "expect_hmac_b64");
        assert_eq!(hmac_key.sum(&message).to_vec(), expected, "{}", id(v));
        if hmac_key.as_bytes() == key.hmac_key().unwrap().as_bytes() {
            assert_eq!(key.hmac(&message).unwrap().to_vec(), expected, "{}", id(v));
        }
    }
}

/// Decision F2: the pre-v0.8 `"aead":"AES-256-GCM"` KDF is not supported, so its ciphertexts
/// must be rejected. The derive vectors test that unsupported KDF and are skipped.
#[test]
fn legacy_aes256gcm_insecure_kdf_is_rejected() {
    for v in category("legacy_aes256gcm_insecure_kdf", "decrypt_vectors") {
        let key_bytes = b64(v, "key_b64");
        let ct = ciphertext(v);
        let ad = b64(v, "associated_data_b64");
        for t in [KeyType::Aes256, KeyType::ChaCha20] {
            let key = SecretKey::new(t, &key_bytes).unwrap();
            assert_eq!(key.decrypt(&ct, &ad), Err(Error::NotAuthentic), "{}", id(v));
        }
        assert_eq!(
            untyped_key(v).decrypt(&ct, &ad),
            Err(Error::NotAuthentic),
            "{}",
            id(v)
        );
    }
}

#[test]
fn legacy_key_text() {
    for v in category("legacy_key_text", "vectors") {
        let key = KeyVersion::parse(text(v, "stored_value_text").as_bytes()).unwrap();
        assert_eq!(key.key().key_type(), KeyType::Aes256, "{}", id(v));
        assert_eq!(
            key.key().as_bytes().to_vec(),
            hex_field(v, "key_hex"),
            "{}",
            id(v)
        );
        assert!(key.hmac_key().is_none(), "{}", id(v));
        assert!(key.is_untyped(), "{}", id(v));
    }
}

#[test]
fn key_text_eras() {
    for v in category("key_text_eras", "vectors") {
        let result = KeyVersion::parse(text(v, "stored_value_text").as_bytes());
        if let Some(message) = v["expect"]["error"].as_str() {
            let err = result.expect_err(id(v));
            assert_eq!(err.to_string(), message, "{}", id(v));
            continue;
        }
        let key = result.unwrap_or_else(|err| panic!("{}: {err}", id(v)));
        assert_eq!(
            key.key().key_type(),
            key_type(v, "expect_type"),
            "{}",
            id(v)
        );
        assert!(key.hmac_key().is_none(), "{}", id(v));
        assert!(!key.is_untyped(), "{} has an algorithm", id(v));
    }
}

#[test]
fn structured_decrypt() {
    for v in category("structured_decrypt", "vectors") {
        let ct = ciphertext(v);
        let ad = b64(v, "associated_data_b64");
        let plaintext = b64(v, "plaintext_b64");
        let key = secret_key(v);
        let decrypted = key
            .decrypt(&ct, &ad)
            .unwrap_or_else(|err| panic!("{}: {err}", id(v)));
        assert_eq!(*decrypted, plaintext, "{}", id(v));
        let format = text(v, "format");
        assert!(format == "msgpack" || format == "json", "{}", id(v));
        assert!(
            Ciphertext::parse(&ct).unwrap().declared.is_some(),
            "{}",
            id(v)
        );
    }
}

/// Decision F1: an untyped legacy key decrypts ChaCha20-framed ciphertexts with ChaCha20
/// first, then AES256; a typed key uses its own type only.
#[test]
fn superset_decrypt_for_untyped_legacy_keys() {
    let all = category("secret_key_decrypt", "vectors")
        .iter()
        .chain(category("structured_decrypt", "vectors"));
    let mut chacha_framed = 0;
    for v in all {
        let plaintext = match (&v["expect"]["plaintext_b64"], &v["plaintext_b64"]) {
            (Value::String(_), _) => b64(&v["expect"], "plaintext_b64"),
            (_, Value::String(_)) => b64(v, "plaintext_b64"),
            _ => continue,
        };
        let ct = ciphertext(v);
        let ad = b64(v, "associated_data_b64");
        let untyped = untyped_key(v);
        let declared = Ciphertext::parse(&ct).unwrap().declared;
        match (key_type(v, "key_type"), declared) {
            (KeyType::ChaCha20, Some(KeyType::ChaCha20)) => {
                chacha_framed += 1;
                assert_eq!(*untyped.decrypt(&ct, &ad).unwrap(), plaintext, "{}", id(v));
                let typed = format!(
                    r#"{{"bytes":"{}","algorithm":"AES256"}}"#,
                    text(v, "key_b64")
                );
                let typed = KeyVersion::parse(typed.as_bytes()).unwrap();
                assert_eq!(
                    typed.decrypt(&ct, &ad),
                    Err(Error::NotAuthentic),
                    "{}",
                    id(v)
                );
            }
            (KeyType::ChaCha20, _) => {
                assert_eq!(
                    untyped.decrypt(&ct, &ad),
                    Err(Error::NotAuthentic),
                    "{}",
                    id(v)
                );
            }
            (KeyType::Aes256, _) => {
                assert_eq!(*untyped.decrypt(&ct, &ad).unwrap(), plaintext, "{}", id(v));
            }
        }
    }
    assert!(chacha_framed >= 3, "too few ChaCha20-framed vectors");

    // An AES256 ciphertext in a frame that names ChaCha20 still decrypts: F1 falls back to AES.
    let v = category("secret_key_decrypt", "vectors")
        .iter()
        .find(|v| v["id"] == "secret_key_decrypt.vectors#0")
        .unwrap();
    let relabelled =
        text(v, "ciphertext_text").replace("AES-256-GCM-HMAC-SHA-256", "ChaCha20Poly1305");
    assert_eq!(
        *untyped_key(v).decrypt(relabelled.as_bytes(), b"").unwrap(),
        b64(&v["expect"], "plaintext_b64")
    );
}
