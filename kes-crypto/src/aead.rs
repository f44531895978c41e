//! The per-message AEAD of a secret key (spec §3.1): a fresh AEAD key is derived from the secret
//! key and the 16-byte iv for every message, then used with an independent 12-byte nonce.

use aws_lc_rs::aead::{AES_256_GCM, Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use zeroize::Zeroizing;

use crate::hchacha::hchacha20;
use crate::{Error, KeyType};

/// Length of the key-derivation input carried in a ciphertext.
pub(crate) const IV_LEN: usize = 16;
/// Length of the AEAD nonce carried in a ciphertext.
pub(crate) const NONCE_LEN: usize = 12;
/// Length of the AEAD tag.
pub(crate) const TAG_LEN: usize = 16;
/// Bytes a ciphertext adds to its plaintext: tag, iv and nonce.
pub(crate) const OVERHEAD: usize = TAG_LEN + IV_LEN + NONCE_LEN;

/// Derives the per-message AEAD key: HMAC-SHA256(key, iv) for AES256, HChaCha20(key, iv) for
/// ChaCha20.
pub(crate) fn message_key(
    key_type: KeyType,
    key: &[u8; 32],
    iv: &[u8; IV_LEN],
) -> Zeroizing<[u8; 32]> {
    match key_type {
        KeyType::Aes256 => {
            let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), iv);
            let mut derived = Zeroizing::new([0u8; 32]);
            derived.copy_from_slice(tag.as_ref());
            derived
        }
        KeyType::ChaCha20 => hchacha20(key, iv),
    }
}

fn message_aead(key_type: KeyType, key: &[u8; 32], iv: &[u8; IV_LEN]) -> Option<LessSafeKey> {
    let derived = message_key(key_type, key, iv);
    let algorithm = match key_type {
        KeyType::Aes256 => &AES_256_GCM,
        KeyType::ChaCha20 => &CHACHA20_POLY1305,
    };
    UnboundKey::new(algorithm, derived.as_slice())
        .ok()
        .map(LessSafeKey::new)
}

/// Encrypts `plaintext` into `sealed ‖ tag ‖ iv ‖ nonce` (`plaintext.len() + OVERHEAD` bytes).
pub(crate) fn seal(
    key_type: KeyType,
    key: &[u8; 32],
    iv: &[u8; IV_LEN],
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
    associated_data: &[u8],
) -> Result<Vec<u8>, Error> {
    let aead = message_aead(key_type, key, iv).ok_or(Error::Encrypt)?;
    let len = plaintext
        .len()
        .checked_add(OVERHEAD)
        .ok_or(Error::Encrypt)?;
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(plaintext);
    let tag = aead
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(associated_data),
            &mut out,
        )
        .map_err(|_| Error::Encrypt)?;
    out.extend_from_slice(tag.as_ref());
    out.extend_from_slice(iv);
    out.extend_from_slice(nonce);
    Ok(out)
}

/// Decrypts `sealed ‖ tag` into a new buffer, leaving the input untouched so that a caller may
/// retry with another key type. Every failure is [`Error::NotAuthentic`].
pub(crate) fn open(
    key_type: KeyType,
    key: &[u8; 32],
    iv: &[u8; IV_LEN],
    nonce: &[u8; NONCE_LEN],
    sealed_and_tag: &[u8],
    associated_data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let len = sealed_and_tag
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(Error::NotAuthentic)?;
    let (sealed, tag) = sealed_and_tag.split_at(len);
    let aead = message_aead(key_type, key, iv).ok_or(Error::NotAuthentic)?;
    // Zeroizing: on failure the buffer may hold unauthenticated plaintext.
    let mut plaintext = Zeroizing::new(vec![0u8; len]);
    aead.open_separate_gather(
        Nonce::assume_unique_for_key(*nonce),
        Aad::from(associated_data),
        sealed,
        tag,
        &mut plaintext,
    )
    .map_err(|_| Error::NotAuthentic)?;
    Ok(plaintext)
}
