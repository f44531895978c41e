//! The value a keystore holds for a key (spec §1.3 – §1.5).

mod legacy_json;
mod protobuf;

use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::ciphertext::Ciphertext;
use crate::{Error, HmacKey, KeyType, SecretKey};

/// A stored key: the secret key, its HMAC key (absent for legacy JSON keys), and who created
/// it when.
#[derive(Debug, Clone)]
pub struct KeyVersion {
    key: SecretKey,
    hmac_key: Option<HmacKey>,
    created_at: OffsetDateTime,
    created_by: String,
    /// A legacy JSON key without an `algorithm`: its type is AES256 by default, but versions up
    /// to 2023-09-28 may have encrypted with ChaCha20 on hosts without AES hardware (F1).
    untyped: bool,
}

impl KeyVersion {
    /// Creates a key of type `t` with an independent random HMAC key, created now (UTC) by
    /// `created_by`.
    pub fn generate(t: KeyType, created_by: &str) -> Result<KeyVersion, Error> {
        KeyVersion::import(SecretKey::generate(t)?, created_by)
    }

    /// Wraps imported key bytes with a fresh random HMAC key (never derived from `key`),
    /// created now (UTC) by `created_by`.
    pub fn import(key: SecretKey, created_by: &str) -> Result<KeyVersion, Error> {
        Ok(KeyVersion {
            key,
            hmac_key: Some(HmacKey::generate()?),
            created_at: OffsetDateTime::now_utc(),
            created_by: created_by.to_owned(),
            untyped: false,
        })
    }

    /// Parses a stored value: a value that is valid JSON as a whole is a legacy JSON key,
    /// anything else must be base64 of a protobuf `KeyVersion` (spec §1.4).
    pub fn parse(stored: &[u8]) -> Result<KeyVersion, Error> {
        if legacy_json::is_json(stored) {
            legacy_json::parse(stored)
        } else {
            protobuf::parse(stored)
        }
    }

    /// Encodes the key for storage as base64 of its protobuf form (spec §1.3). Fails with
    /// [`Error::HmacKeyNotInitialized`] for a key without an HMAC key, since legacy keys are
    /// never rewritten (decision F4).
    pub fn encode(&self) -> Result<Zeroizing<String>, Error> {
        let hmac_key = self.hmac_key.as_ref().ok_or(Error::HmacKeyNotInitialized)?;
        Ok(protobuf::encode(
            &self.key,
            hmac_key,
            self.created_at,
            &self.created_by,
        ))
    }

    /// Assembles a key from its parts, for encoder tests.
    #[cfg(test)]
    pub(crate) fn from_parts(
        key: SecretKey,
        hmac_key: Option<HmacKey>,
        created_at: OffsetDateTime,
        created_by: &str,
    ) -> KeyVersion {
        KeyVersion {
            key,
            hmac_key,
            created_at,
            created_by: created_by.to_owned(),
            untyped: false,
        }
    }

    /// Whether this is a legacy JSON key without an `algorithm` (decision F1 applies).
    #[cfg(test)]
    pub(crate) fn is_untyped(&self) -> bool {
        self.untyped
    }

    /// The secret key.
    pub fn key(&self) -> &SecretKey {
        &self.key
    }

    /// The HMAC key; `None` for legacy JSON keys.
    pub fn hmac_key(&self) -> Option<&HmacKey> {
        self.hmac_key.as_ref()
    }

    /// When the key was created, in UTC (`0001-01-01T00:00:00Z` for legacy keys without a date).
    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    /// The identity that created the key; may be empty.
    pub fn created_by(&self) -> &str {
        &self.created_by
    }

    /// Encrypts with the secret key; see [`SecretKey::encrypt`].
    pub fn encrypt(&self, plaintext: &[u8], associated_data: &[u8]) -> Result<Vec<u8>, Error> {
        self.key.encrypt(plaintext, associated_data)
    }

    /// Decrypts with the secret key; see [`SecretKey::decrypt`]. For an untyped legacy key and
    /// a structured ciphertext that names ChaCha20, ChaCha20 is tried before AES256 (decision
    /// F1); authentication rules out false positives.
    pub fn decrypt(
        &self,
        ciphertext: &[u8],
        associated_data: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let ciphertext = Ciphertext::parse(ciphertext)?;
        if self.untyped
            && ciphertext.declared == Some(KeyType::ChaCha20)
            && let Ok(plaintext) = self
                .key
                .open(KeyType::ChaCha20, &ciphertext, associated_data)
        {
            return Ok(plaintext);
        }
        self.key
            .open(self.key.key_type(), &ciphertext, associated_data)
    }

    /// Returns HMAC-SHA256(HMAC key, message), or [`Error::HmacNotSupported`] for a key without
    /// an HMAC key.
    pub fn hmac(&self, message: &[u8]) -> Result<[u8; 32], Error> {
        self.hmac_key
            .as_ref()
            .map(|key| key.sum(message))
            .ok_or(Error::HmacNotSupported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_encode_parse_round_trip() {
        for t in [KeyType::Aes256, KeyType::ChaCha20] {
            let key = KeyVersion::generate(t, "3ecfcdf3").unwrap();
            let parsed = KeyVersion::parse(key.encode().unwrap().as_bytes()).unwrap();
            assert_eq!(parsed.key().key_type(), t);
            assert_eq!(parsed.key().as_bytes(), key.key().as_bytes());
            assert_eq!(
                parsed.hmac_key().unwrap().as_bytes(),
                key.hmac_key().unwrap().as_bytes()
            );
            assert_eq!(parsed.created_at(), key.created_at());
            assert_eq!(parsed.created_by(), "3ecfcdf3");
            assert!(!parsed.untyped);

            let ciphertext = key.encrypt(b"pt", b"ad").unwrap();
            assert_eq!(&*parsed.decrypt(&ciphertext, b"ad").unwrap(), b"pt");
            assert_eq!(parsed.hmac(b"m").unwrap(), key.hmac(b"m").unwrap());
        }
    }

    #[test]
    fn import_draws_an_independent_hmac_key() {
        let bytes = [5u8; 32];
        let a = KeyVersion::import(SecretKey::new(KeyType::Aes256, &bytes).unwrap(), "").unwrap();
        let b = KeyVersion::import(SecretKey::new(KeyType::Aes256, &bytes).unwrap(), "").unwrap();
        assert_ne!(a.hmac(b"m").unwrap(), b.hmac(b"m").unwrap());
        assert_ne!(a.hmac_key().unwrap().as_bytes(), &bytes);
        assert_eq!(a.created_at().offset(), time::UtcOffset::UTC);
    }

    #[test]
    fn legacy_keys_have_no_hmac_and_cannot_be_encoded() {
        let key = KeyVersion::parse(br#"{"bytes":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}"#)
            .unwrap();
        assert!(key.hmac_key().is_none());
        assert_eq!(key.hmac(b"m"), Err(Error::HmacNotSupported));
        assert_eq!(
            Error::HmacNotSupported.to_string(),
            "key does not support HMAC"
        );
        let err = key.encode().unwrap_err();
        assert_eq!(err, Error::HmacKeyNotInitialized);
        assert_eq!(err.to_string(), "crypto: HMAC key is not initialized");
    }

    #[test]
    fn debug_redacts_both_keys() {
        let key = KeyVersion::generate(KeyType::Aes256, "me").unwrap();
        let text = format!("{key:?}");
        assert!(
            text.contains("SecretKey { key_type: Aes256, bytes: [redacted] }"),
            "{text}"
        );
        assert!(text.contains("HmacKey { bytes: [redacted] }"), "{text}");
    }
}
