//! `kes:v1:` API keys (spec §2.2): an Ed25519 seed in text form, its identity and the
//! self-signed client certificate derived from it.
//!
//! - this file: [`ApiKey`], its text form and identity;
//! - `certificate`: the client certificate, and the identity of any certificate;
//! - `error`: [`ApiKeyError`].

mod certificate;
mod error;

#[cfg(test)]
mod vectors;

use std::fmt;

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use policies::Identity;
use zeroize::Zeroizing;

pub use certificate::{ClientCertificate, identity_of_certificate};
pub use error::ApiKeyError;

/// The prefix of the text form; parsing accepts keys without it.
const PREFIX: &str = "kes:v1:";

/// Byte 0 of the binary form: the key type. Ed25519 is the only one.
const TYPE_ED25519: u8 = 0;

/// Length of an Ed25519 seed and of an Ed25519 public key.
const KEY_LEN: usize = 32;

/// DER SubjectPublicKeyInfo of an Ed25519 public key (OID 1.3.101.112), up to the key bytes.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Standard base64 with padding, like Go's `base64.StdEncoding`, which also ignores non-zero
/// trailing bits.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// An Ed25519 API key. The seed is wiped on drop and never printed by `Debug`.
pub struct ApiKey {
    seed: Zeroizing<[u8; KEY_LEN]>,
    public_key: [u8; KEY_LEN],
}

impl ApiKey {
    /// A new API key from a random seed.
    pub fn generate() -> Result<ApiKey, ApiKeyError> {
        let mut seed = Zeroizing::new([0u8; KEY_LEN]);
        aws_lc_rs::rand::fill(&mut seed[..]).map_err(|_| ApiKeyError::Randomness)?;
        ApiKey::from_seed(seed)
    }

    /// Parses the text form: an optional `kes:v1:` prefix, then standard base64 of 33 bytes,
    /// the key type 0 followed by the Ed25519 seed.
    pub fn parse(s: &str) -> Result<ApiKey, ApiKeyError> {
        let b64 = s.strip_prefix(PREFIX).unwrap_or(s);
        // Go's decoder skips CR and LF anywhere in its input.
        let b64 = Zeroizing::new(b64.replace(['\r', '\n'], ""));
        let bytes = Zeroizing::new(
            BASE64
                .decode(b64.as_bytes())
                .map_err(|_| ApiKeyError::InvalidBase64)?,
        );
        let Ok(raw) = <&[u8; 1 + KEY_LEN]>::try_from(&bytes[..]) else {
            return Err(ApiKeyError::InvalidLength);
        };
        if raw[0] != TYPE_ED25519 {
            return Err(ApiKeyError::UnsupportedType);
        }
        let mut seed = Zeroizing::new([0u8; KEY_LEN]);
        seed.copy_from_slice(&raw[1..]);
        ApiKey::from_seed(seed)
    }

    fn from_seed(seed: Zeroizing<[u8; KEY_LEN]>) -> Result<ApiKey, ApiKeyError> {
        let public_key = key_pair(&seed)?
            .public_key()
            .as_ref()
            .try_into()
            .map_err(|_| ApiKeyError::KeyPair)?;
        Ok(ApiKey { seed, public_key })
    }

    /// The text form: `kes:v1:` followed by the standard base64 of `0x00 ‖ seed`.
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut bytes = Zeroizing::new([0u8; 1 + KEY_LEN]);
        bytes[0] = TYPE_ED25519;
        bytes[1..].copy_from_slice(&self.seed[..]);
        // Reserved up front so that no reallocation leaves a copy of the key behind.
        let mut text = Zeroizing::new(String::with_capacity(PREFIX.len() + 44));
        text.push_str(PREFIX);
        BASE64.encode_string(&bytes[..], &mut text);
        text
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> [u8; KEY_LEN] {
        self.public_key
    }

    /// The identity of this key: SHA-256 of the DER SubjectPublicKeyInfo of its public key,
    /// equal to the identity of [`ApiKey::certificate`].
    pub fn identity(&self) -> Identity {
        let mut spki = [0u8; ED25519_SPKI_PREFIX.len() + KEY_LEN];
        spki[..ED25519_SPKI_PREFIX.len()].copy_from_slice(&ED25519_SPKI_PREFIX);
        spki[ED25519_SPKI_PREFIX.len()..].copy_from_slice(&self.public_key);
        Identity::from_spki_der(&spki)
    }

    /// A new self-signed client certificate for this key, valid for 90 days from now.
    pub fn certificate(&self) -> Result<ClientCertificate, ApiKeyError> {
        certificate::self_signed(&key_pair(&self.seed)?, &self.identity())
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

fn key_pair(seed: &[u8; KEY_LEN]) -> Result<Ed25519KeyPair, ApiKeyError> {
    // "Unchecked" only means that no public key is given to compare with.
    Ed25519KeyPair::from_seed_unchecked(seed).map_err(|_| ApiKeyError::KeyPair)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAY: &str = "kes:v1:AD9E7FSYWrMD+VjhI6q545cYT9YOyFxZb7UnjEepYDRc";

    #[test]
    fn text_round_trip() {
        let key = ApiKey::parse(PLAY).unwrap();
        assert_eq!(key.to_text().as_str(), PLAY);
        let key = ApiKey::generate().unwrap();
        let text = key.to_text();
        assert!(text.starts_with(PREFIX));
        assert_eq!(text.len(), 51);
        let again = ApiKey::parse(&text).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        assert_eq!(again.identity(), key.identity());
    }

    #[test]
    fn generated_keys_differ() {
        let a = ApiKey::generate().unwrap();
        let b = ApiKey::generate().unwrap();
        assert_ne!(a.public_key(), b.public_key());
    }

    #[test]
    fn errors() {
        let err = |s: &str| ApiKey::parse(s).unwrap_err().to_string();
        assert_eq!(err("kes:v1:AAAA"), "kes: invalid API key: invalid length");
        assert_eq!(err(""), "kes: invalid API key: invalid length");
        // 33 bytes with type 1.
        assert_eq!(
            err("kes:v1:AT9E7FSYWrMD+VjhI6q545cYT9YOyFxZb7UnjEepYDRc"),
            "kes: invalid API key: unsupported type"
        );
        assert_eq!(
            err("kes:v1:AD9E7FSYWrMD+VjhI6q545cYT9YOyFxZb7UnjEepYDR"),
            "kes: invalid API key: invalid base64"
        );
        assert_eq!(
            err("kes:v1:AD9E7FSYWrMD-VjhI6q545cYT9YOyFxZb7UnjEepYDRc"),
            "kes: invalid API key: invalid base64"
        );
        assert_eq!(
            err("KES:v1:AD9E7FSYWrMD+VjhI6q545cYT9YOyFxZb7UnjEepYDRc"),
            "kes: invalid API key: invalid base64"
        );
    }

    #[test]
    fn line_breaks_are_ignored_like_go() {
        let key =
            ApiKey::parse("kes:v1:AD9E7FSYWrMD+VjhI6q545cY\r\nT9YOyFxZb7UnjEepYDRc\n").unwrap();
        assert_eq!(key.to_text().as_str(), PLAY);
    }

    #[test]
    fn debug_is_redacted() {
        let key = ApiKey::parse(PLAY).unwrap();
        assert_eq!(format!("{key:?}"), "[redacted]");
        assert_eq!(format!("{key:#?}"), "[redacted]");
    }
}
