use std::fmt;

use aws_lc_rs::rand;
use zeroize::{Zeroize, Zeroizing};

use crate::aead::{self, IV_LEN, NONCE_LEN};
use crate::ciphertext::Ciphertext;
use crate::{Error, KeyType};

/// Length of a secret key in bytes.
const KEY_LEN: usize = 32;

/// A 32-byte encryption key and its type. Zeroized on drop; `Debug` never shows the bytes.
#[derive(Clone)]
pub struct SecretKey {
    bytes: [u8; KEY_LEN],
    key_type: KeyType,
}

impl SecretKey {
    /// Draws a new key of type `t` from the system CSPRNG.
    pub fn generate(t: KeyType) -> Result<SecretKey, Error> {
        let mut key = SecretKey {
            bytes: [0; KEY_LEN],
            key_type: t,
        };
        rand::fill(&mut key.bytes).map_err(|_| Error::Random)?;
        Ok(key)
    }

    /// Wraps existing key bytes, which must be exactly 32 bytes long
    /// ([`Error::InvalidKeyLength`] otherwise).
    pub fn new(t: KeyType, bytes: &[u8]) -> Result<SecretKey, Error> {
        let bytes = bytes.try_into().map_err(|_| Error::InvalidKeyLength {
            len: bytes.len(),
            key_type: t,
        })?;
        Ok(SecretKey { bytes, key_type: t })
    }

    /// The key's type, which selects the algorithm for encryption and decryption.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// Encrypts `plaintext` bound to `associated_data` with 28 fresh random bytes (iv and
    /// nonce). The result is `sealed ‖ tag ‖ iv(16) ‖ nonce(12)`, 44 bytes longer than the
    /// plaintext.
    pub fn encrypt(&self, plaintext: &[u8], associated_data: &[u8]) -> Result<Vec<u8>, Error> {
        let mut random = [0u8; IV_LEN + NONCE_LEN];
        rand::fill(&mut random).map_err(|_| Error::Random)?;
        let iv: [u8; IV_LEN] = std::array::from_fn(|i| random[i]);
        let nonce: [u8; NONCE_LEN] = std::array::from_fn(|i| random[IV_LEN + i]);
        self.encrypt_with(&iv, &nonce, plaintext, associated_data)
    }

    /// [`SecretKey::encrypt`] with a given iv and nonce; tests use it to check fixed vectors.
    pub(crate) fn encrypt_with(
        &self,
        iv: &[u8; IV_LEN],
        nonce: &[u8; NONCE_LEN],
        plaintext: &[u8],
        associated_data: &[u8],
    ) -> Result<Vec<u8>, Error> {
        aead::seal(
            self.key_type,
            &self.bytes,
            iv,
            nonce,
            plaintext,
            associated_data,
        )
    }

    /// Decrypts a ciphertext in any framing KES ever returned (raw, msgpack or JSON; spec §3.2)
    /// with this key's type. Every failure is [`Error::NotAuthentic`].
    pub fn decrypt(
        &self,
        ciphertext: &[u8],
        associated_data: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let ciphertext = Ciphertext::parse(ciphertext)?;
        self.open(self.key_type, &ciphertext, associated_data)
    }

    /// Opens a parsed ciphertext as if this key had type `as_type`.
    pub(crate) fn open(
        &self,
        as_type: KeyType,
        ciphertext: &Ciphertext<'_>,
        associated_data: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        aead::open(
            as_type,
            &self.bytes,
            &ciphertext.iv,
            &ciphertext.nonce,
            &ciphertext.sealed_and_tag,
            associated_data,
        )
    }

    /// The raw key bytes, for the stored-key encoder.
    pub(crate) fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("key_type", &self.key_type)
            .field("bytes", &format_args!("[redacted]"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_requires_32_bytes() {
        assert!(SecretKey::new(KeyType::Aes256, &[0; 32]).is_ok());
        let err = SecretKey::new(KeyType::ChaCha20, &[0; 31]).unwrap_err();
        assert_eq!(
            err,
            Error::InvalidKeyLength {
                len: 31,
                key_type: KeyType::ChaCha20
            }
        );
        assert_eq!(
            err.to_string(),
            "crypto: invalid key length '31' for 'ChaCha20'"
        );
        assert!(SecretKey::new(KeyType::Aes256, &[0; 33]).is_err());
    }

    #[test]
    fn debug_is_redacted() {
        let key = SecretKey::new(KeyType::Aes256, &[0xab; 32]).unwrap();
        let text = format!("{key:?}");
        assert_eq!(text, "SecretKey { key_type: Aes256, bytes: [redacted] }");
    }

    #[test]
    fn generate_round_trips_and_randomizes() {
        for t in [KeyType::Aes256, KeyType::ChaCha20] {
            let key = SecretKey::generate(t).unwrap();
            assert_eq!(key.key_type(), t);
            assert_ne!(key.as_bytes(), SecretKey::generate(t).unwrap().as_bytes());
            let a = key.encrypt(b"message", b"context").unwrap();
            let b = key.encrypt(b"message", b"context").unwrap();
            assert_eq!(a.len(), 7 + 44);
            assert_ne!(a, b, "iv and nonce must be fresh");
            assert_eq!(&*key.decrypt(&a, b"context").unwrap(), b"message");
            assert_eq!(key.decrypt(&a, b"other"), Err(Error::NotAuthentic));
            assert_eq!(
                key.decrypt(&a[..a.len() - 1], b"context"),
                Err(Error::NotAuthentic)
            );
        }
    }

    #[test]
    fn a_key_of_the_other_type_fails() {
        let aes = SecretKey::new(KeyType::Aes256, &[7; 32]).unwrap();
        let chacha = SecretKey::new(KeyType::ChaCha20, &[7; 32]).unwrap();
        let ciphertext = aes.encrypt(b"x", b"").unwrap();
        assert_eq!(chacha.decrypt(&ciphertext, b""), Err(Error::NotAuthentic));
    }

    #[test]
    fn every_tampered_byte_is_detected() {
        let key = SecretKey::new(KeyType::ChaCha20, &[9; 32]).unwrap();
        let ciphertext = key.encrypt(b"plaintext", b"ad").unwrap();
        for i in 0..ciphertext.len() {
            let mut tampered = ciphertext.clone();
            tampered[i] ^= 0x01;
            assert_eq!(
                key.decrypt(&tampered, b"ad"),
                Err(Error::NotAuthentic),
                "byte {i}"
            );
        }
    }
}
