//! Ciphertext format detection for decryption (spec §3.2).
//!
//! Current ciphertexts are raw `sealed ‖ tag ‖ iv ‖ nonce`. Older KES versions returned msgpack
//! (first byte `0x95`) or JSON (first byte `{`) framings, which callers such as MinIO still hold.
//! Only the first byte selects a structured parse, and a failed structured parse falls back to
//! raw, because a raw ciphertext may begin with either byte by chance.

mod json;
mod msgpack;

use std::borrow::Cow;

use crate::aead::{IV_LEN, NONCE_LEN};
use crate::{Error, KeyType};

/// msgpack fixarray header of five items.
const MSGPACK_ARRAY_5: u8 = 0x95;

/// A ciphertext split into its parts, whatever its framing.
#[derive(Debug)]
pub(crate) struct Ciphertext<'a> {
    /// The AEAD output: sealed plaintext followed by the 16-byte tag.
    pub(crate) sealed_and_tag: Cow<'a, [u8]>,
    /// The per-message key derivation input.
    pub(crate) iv: [u8; IV_LEN],
    /// The AEAD nonce.
    pub(crate) nonce: [u8; NONCE_LEN],
    /// The algorithm a structured framing names; `None` for raw ciphertexts.
    pub(crate) declared: Option<KeyType>,
}

impl<'a> Ciphertext<'a> {
    /// Splits `bytes` by the rules of spec §3.2. Fails only if the bytes, taken as raw, are
    /// too short to hold an iv and a nonce.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Ciphertext<'a>, Error> {
        let structured = match bytes.first() {
            Some(&MSGPACK_ARRAY_5) => msgpack::parse(bytes),
            Some(b'{') => json::parse(bytes),
            _ => None,
        };
        match structured {
            Some(ciphertext) => Ok(ciphertext),
            None => Self::raw(bytes),
        }
    }

    fn raw(bytes: &'a [u8]) -> Result<Ciphertext<'a>, Error> {
        let Some(sealed_len) = bytes.len().checked_sub(IV_LEN + NONCE_LEN) else {
            return Err(Error::NotAuthentic);
        };
        if sealed_len == 0 {
            return Err(Error::NotAuthentic);
        }
        let (sealed_and_tag, random) = bytes.split_at(sealed_len);
        let (iv, nonce) = random.split_at(IV_LEN);
        Ok(Ciphertext {
            sealed_and_tag: Cow::Borrowed(sealed_and_tag),
            iv: iv.try_into().map_err(|_| Error::NotAuthentic)?,
            nonce: nonce.try_into().map_err(|_| Error::NotAuthentic)?,
            declared: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_needs_more_than_28_bytes() {
        assert_eq!(Ciphertext::parse(&[]).unwrap_err(), Error::NotAuthentic);
        assert_eq!(
            Ciphertext::parse(&[7; 28]).unwrap_err(),
            Error::NotAuthentic
        );
        let mut bytes = vec![1u8];
        bytes.extend(0..28u8);
        let c = Ciphertext::parse(&bytes).unwrap();
        assert_eq!(&*c.sealed_and_tag, &[1]);
        assert_eq!(c.iv.to_vec(), (0..16u8).collect::<Vec<_>>());
        assert_eq!(c.nonce.to_vec(), (16..28u8).collect::<Vec<_>>());
        assert_eq!(c.declared, None);
    }

    #[test]
    fn failed_structured_parse_falls_back_to_raw() {
        let mut bytes = vec![MSGPACK_ARRAY_5, b'x'];
        bytes.extend([0u8; 28]);
        let c = Ciphertext::parse(&bytes).unwrap();
        assert_eq!(&*c.sealed_and_tag, &[MSGPACK_ARRAY_5, b'x']);
        assert_eq!(c.declared, None);

        let text = br#"{"aead":"AES-256-GCM","iv":"","nonce":"","bytes":""}"#;
        let c = Ciphertext::parse(text).unwrap();
        assert_eq!(&*c.sealed_and_tag, &text[..text.len() - 28]);
        assert_eq!(c.declared, None);
    }

    #[test]
    fn leading_whitespace_is_not_json() {
        let text = br#" {"aead":"ChaCha20Poly1305","iv":"AAECAwQFBgcICQoLDA0ODw==","nonce":"EBESExQVFhcYGRob","bytes":"AAAAAAAAAAAAAAAAAAAAAA=="}"#;
        assert_eq!(Ciphertext::parse(text).unwrap().declared, None);
        assert_eq!(
            Ciphertext::parse(&text[1..]).unwrap().declared,
            Some(KeyType::ChaCha20)
        );
    }
}
