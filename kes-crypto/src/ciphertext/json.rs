//! The JSON framing written up to v0.19.1 (spec §3.4):
//! `{"aead":<alg>,"id":<hex>,"iv":<b64>,"nonce":<b64>,"bytes":<b64>}`.
//!
//! Field names match exactly and unknown fields are ignored (decision F3). The base64 values
//! follow Go's `StdEncoding`, which wrote them.

use std::borrow::Cow;

use serde::Deserialize;

use super::Ciphertext;
use crate::{KeyType, go_base64};

#[derive(Deserialize)]
struct Framing<'a> {
    #[serde(borrow)]
    aead: Option<Cow<'a, str>>,
    /// Must be a string if present; its value is ignored.
    #[serde(borrow, rename = "id")]
    _id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    iv: Option<Cow<'a, str>>,
    #[serde(borrow)]
    nonce: Option<Cow<'a, str>>,
    #[serde(borrow)]
    bytes: Option<Cow<'a, str>>,
}

/// Parses a JSON framing, or returns `None` for anything else, including the insecure
/// pre-v0.8 `"aead":"AES-256-GCM"` (decision F2).
pub(super) fn parse(text: &[u8]) -> Option<Ciphertext<'static>> {
    let framing: Framing<'_> = serde_json::from_slice(text).ok()?;
    let declared = match framing.aead.as_deref()? {
        "AES-256-GCM-HMAC-SHA-256" => KeyType::Aes256,
        "ChaCha20Poly1305" => KeyType::ChaCha20,
        _ => return None,
    };
    let iv = decode(framing.iv)?.try_into().ok()?;
    let nonce = decode(framing.nonce)?.try_into().ok()?;
    let sealed_and_tag = decode(framing.bytes)?;
    Some(Ciphertext {
        sealed_and_tag: Cow::Owned(sealed_and_tag),
        iv,
        nonce,
        declared: Some(declared),
    })
}

/// Decodes an optional base64 field; absent or `null` is empty, as in Go.
fn decode(field: Option<Cow<'_, str>>) -> Option<Vec<u8>> {
    match field {
        Some(text) => go_base64::decode(text.as_bytes()),
        None => Some(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IV: &str = "AAECAwQFBgcICQoLDA0ODw==";
    const NONCE: &str = "EBESExQVFhcYGRob";

    fn text(aead: &str, iv: &str, nonce: &str, extra: &str) -> String {
        format!(r#"{{"aead":"{aead}"{extra},"iv":"{iv}","nonce":"{nonce}","bytes":"AQID"}}"#)
    }

    #[test]
    fn parses_both_names_and_ignores_unknown_fields() {
        let c = parse(text("AES-256-GCM-HMAC-SHA-256", IV, NONCE, "").as_bytes()).unwrap();
        assert_eq!(c.declared, Some(KeyType::Aes256));
        assert_eq!(c.iv.to_vec(), (0..16u8).collect::<Vec<_>>());
        assert_eq!(c.nonce.to_vec(), (16..28u8).collect::<Vec<_>>());
        assert_eq!(&*c.sealed_and_tag, &[1, 2, 3]);

        let extra = r#","id":"c7aba5f54eadb3d61c08c58abd1dede2","other":[1,{"x":null}]"#;
        let c = parse(text("ChaCha20Poly1305", IV, NONCE, extra).as_bytes()).unwrap();
        assert_eq!(c.declared, Some(KeyType::ChaCha20));

        // Escaped line breaks inside base64 are ignored, as by Go.
        let iv = "AAECAwQFBgcI\\r\\nCQoLDA0ODw==";
        assert!(parse(text("ChaCha20Poly1305", iv, NONCE, "").as_bytes()).is_some());
        // Trailing whitespace after the object is valid JSON.
        let padded = text("ChaCha20Poly1305", IV, NONCE, "") + "\n ";
        assert!(parse(padded.as_bytes()).is_some());
    }

    #[test]
    fn rejects_deviations() {
        for (aead, iv, nonce, extra) in [
            ("AES-256-GCM", IV, NONCE, ""),
            ("AES256", IV, NONCE, ""),
            ("chacha20poly1305", IV, NONCE, ""),
            ("ChaCha20Poly1305", "AAECAwQFBgcICQoLDA0O", NONCE, ""),
            ("ChaCha20Poly1305", IV, "EBESExQVFhcYGRobHB0e", ""),
            ("ChaCha20Poly1305", "AAECAwQFBgcICQoLDA0ODw", NONCE, ""),
            ("ChaCha20Poly1305", IV, NONCE, r#","id":5"#),
        ] {
            let text = text(aead, iv, nonce, extra);
            assert!(parse(text.as_bytes()).is_none(), "{text}");
        }
        for text in [
            r#"{"iv":"AAECAwQFBgcICQoLDA0ODw==","nonce":"EBESExQVFhcYGRob","bytes":""}"#,
            r#"{"aead":"ChaCha20Poly1305","nonce":"EBESExQVFhcYGRob","bytes":""}"#,
            r#"{"aead":"ChaCha20Poly1305","iv":null,"nonce":"EBESExQVFhcYGRob"}"#,
            r#"{"AEAD":"ChaCha20Poly1305","iv":"AAECAwQFBgcICQoLDA0ODw==","nonce":"EBESExQVFhcYGRob"}"#,
            r#"{"aead":"ChaCha20Poly1305","iv":"AAECAwQFBgcICQoLDA0ODw==","nonce":"EBESExQVFhcYGRob"} x"#,
            r#"{"aead":"ChaCha20Poly1305""#,
        ] {
            assert!(parse(text.as_bytes()).is_none(), "{text}");
        }
    }

    #[test]
    fn absent_bytes_are_empty() {
        let text = r#"{"aead":"ChaCha20Poly1305","iv":"AAECAwQFBgcICQoLDA0ODw==","nonce":"EBESExQVFhcYGRob"}"#;
        assert!(parse(text.as_bytes()).unwrap().sealed_and_tag.is_empty());
    }
}
