//! Legacy JSON keys, written by every KES version before 2024-02-29 (spec §1.4, §1.5).
//!
//! Fields: `bytes` (base64), `algorithm`, `created_at` (RFC 3339) and `created_by`. Names match
//! exactly and unknown fields such as `version` are ignored (decision F3). A missing or empty
//! `algorithm` means AES256. Such keys have no HMAC key and are never rewritten (decision F4).

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;
use zeroize::{Zeroize, Zeroizing};

use super::KeyVersion;
use crate::{Error, FormatError, KeyType, SecretKey, go_base64};

/// Go's zero `time.Time`, the creation time of keys stored without one.
const GO_ZERO_TIME: OffsetDateTime = datetime!(0001-01-01 0:00 UTC);

#[derive(Deserialize, Default)]
struct JsonKey<'a> {
    #[serde(borrow)]
    bytes: Option<SecretText<'a>>,
    #[serde(borrow)]
    algorithm: Option<Cow<'a, str>>,
    #[serde(borrow)]
    created_at: Option<Cow<'a, str>>,
    #[serde(borrow)]
    created_by: Option<Cow<'a, str>>,
}

/// A JSON string holding key material; a copy made to unescape it is zeroized on drop.
#[derive(Deserialize)]
struct SecretText<'a>(#[serde(borrow)] Cow<'a, str>);

impl Drop for SecretText<'_> {
    fn drop(&mut self) {
        if let Cow::Owned(text) = &mut self.0 {
            text.zeroize();
        }
    }
}

/// Reports whether the whole value is valid JSON (surrounding whitespace allowed).
pub(super) fn is_json(stored: &[u8]) -> bool {
    serde_json::from_slice::<IgnoredAny>(stored).is_ok()
}

/// Parses a value that [`is_json`]. `null` parses as an object without fields and so fails the
/// key length check, as in Go.
pub(super) fn parse(stored: &[u8]) -> Result<KeyVersion, Error> {
    let value: Option<JsonKey<'_>> =
        serde_json::from_slice(stored).map_err(|_| FormatError::Json)?;
    let value = value.unwrap_or_default();

    let bytes = Zeroizing::new(match &value.bytes {
        Some(text) => go_base64::decode(text.0.as_bytes()).ok_or(FormatError::Base64)?,
        None => Vec::new(),
    });
    let created_at = match &value.created_at {
        Some(text) => OffsetDateTime::parse(text, &Rfc3339)
            .map_err(|_| FormatError::CreatedAt)?
            .to_offset(time::UtcOffset::UTC),
        None => GO_ZERO_TIME,
    };
    let algorithm = value.algorithm.as_deref().unwrap_or_default();
    let untyped = algorithm.is_empty();
    let key_type = if untyped {
        KeyType::Aes256
    } else {
        KeyType::parse(algorithm).ok_or_else(|| Error::UnsupportedKeyType(algorithm.to_owned()))?
    };
    Ok(KeyVersion {
        key: SecretKey::new(key_type, &bytes)?,
        hmac_key: None,
        created_at,
        created_by: value.created_by.map(Cow::into_owned).unwrap_or_default(),
        untyped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZERO_KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    fn parse_text(text: &str) -> Result<KeyVersion, Error> {
        assert!(is_json(text.as_bytes()), "{text}");
        parse(text.as_bytes())
    }

    #[test]
    fn missing_or_empty_algorithm_is_untyped_aes256() {
        for text in [
            format!(r#"{{"bytes":"{ZERO_KEY}"}}"#),
            format!(r#"{{"bytes":"{ZERO_KEY}","algorithm":""}}"#),
            format!(r#"{{"bytes":"{ZERO_KEY}","algorithm":null}}"#),
        ] {
            let key = parse_text(&text).unwrap();
            assert_eq!(key.key().key_type(), KeyType::Aes256);
            assert!(key.untyped, "{text}");
            assert_eq!(key.created_at(), GO_ZERO_TIME);
            assert_eq!(key.created_by(), "");
        }
        let typed = format!(r#"{{"bytes":"{ZERO_KEY}","algorithm":"AES256"}}"#);
        assert!(!parse_text(&typed).unwrap().untyped);
    }

    #[test]
    fn surrounding_whitespace_escapes_and_unknown_fields() {
        let text = " \r\n{\"version\":\"v1\",\"bytes\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\\nAAAAAAAAAAA=\",\
             \"extra\":{\"a\":[1,2]},\"created_by\":\"me\"}\n";
        let key = parse_text(text).unwrap();
        assert_eq!(key.key().as_bytes(), &[0; 32]);
        assert_eq!(key.created_by(), "me");
    }

    #[test]
    fn created_at_is_converted_to_utc() {
        let text =
            format!(r#"{{"bytes":"{ZERO_KEY}","created_at":"2024-01-12T11:39:20.886816+01:00"}}"#);
        let key = parse_text(&text).unwrap();
        assert_eq!(key.created_at(), datetime!(2024-01-12 10:39:20.886816 UTC));
        assert_eq!(key.created_at().offset(), time::UtcOffset::UTC);

        let text = format!(r#"{{"bytes":"{ZERO_KEY}","created_at":null}}"#);
        assert_eq!(parse_text(&text).unwrap().created_at(), GO_ZERO_TIME);
        let text = format!(r#"{{"bytes":"{ZERO_KEY}","created_at":"2024-01-12"}}"#);
        assert_eq!(
            parse_text(&text).unwrap_err(),
            Error::Format(FormatError::CreatedAt)
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_text("null").unwrap_err().to_string(),
            "crypto: invalid key length '0' for 'AES256'"
        );
        assert_eq!(
            parse_text("{}").unwrap_err().to_string(),
            "crypto: invalid key length '0' for 'AES256'"
        );
        assert_eq!(
            parse_text(r#"{"bytes":"AAAA","algorithm":"XCHACHA20-POLY1305"}"#)
                .unwrap_err()
                .to_string(),
            "crypto: invalid key length '3' for 'ChaCha20'"
        );
        assert_eq!(
            parse_text(r#"{"bytes":"AAAA","algorithm":"aes256"}"#)
                .unwrap_err()
                .to_string(),
            "crypto: secret key type 'aes256' is not supported"
        );
        for text in [
            r#"[1]"#,
            r#""text""#,
            "5",
            r#"{"bytes":5}"#,
            r#"{"created_by":1}"#,
        ] {
            assert_eq!(
                parse_text(text).unwrap_err(),
                Error::Format(FormatError::Json)
            );
        }
        assert_eq!(
            parse_text(r#"{"bytes":"AAA"}"#).unwrap_err(),
            Error::Format(FormatError::Base64)
        );
        // The v0.2 – v0.4 filesystem format has no "bytes" (spec §1.6).
        let text = format!(r#"{{"name":"my-key","secret":"{ZERO_KEY}"}}"#);
        assert!(parse_text(&text).is_err());
    }

    #[test]
    fn error_messages_hold_no_key_material() {
        let text = r#"{"bytes":"c2VjcmV0c2VjcmV0","algorithm":"ChaCha20"}"#;
        let message = parse_text(text).unwrap_err().to_string();
        assert!(!message.contains("c2VjcmV0"), "{message}");
    }
}
