//! Crypto primitives shared by the SSE code: HMAC/SHA-256, AEAD helpers,
//! randomness, HChaCha20, Go-compatible base64 and the CPU cipher choice.

use aws_lc_rs::aead::{AES_256_GCM, Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::{digest, hmac, rand};
use base64::Engine as _;
use zeroize::Zeroizing;

/// An AEAD cipher used by DARE, the config stream and the builtin KMS.
pub use crate::dare::CipherSuite as Cipher;

/// An AEAD primitive failed (authentication, key length or internal error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AeadFailure;

fn aead_key(cipher: Cipher, key: &[u8]) -> Result<LessSafeKey, AeadFailure> {
    let alg = match cipher {
        Cipher::Aes256Gcm => &AES_256_GCM,
        Cipher::ChaCha20Poly1305 => &CHACHA20_POLY1305,
    };
    UnboundKey::new(alg, key)
        .map(LessSafeKey::new)
        .map_err(|_| AeadFailure)
}

/// Encrypts `plaintext` and returns `ciphertext ‖ tag`.
pub(crate) fn aead_seal(
    cipher: Cipher,
    key: &[u8],
    nonce: [u8; 12],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, AeadFailure> {
    let key = aead_key(cipher, key)?;
    let mut buf = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut buf,
    )
    .map_err(|_| AeadFailure)?;
    Ok(buf)
}

/// Decrypts `ciphertext ‖ tag`.
pub(crate) fn aead_open(
    cipher: Cipher,
    key: &[u8],
    nonce: [u8; 12],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, AeadFailure> {
    let key = aead_key(cipher, key)?;
    let mut buf = Zeroizing::new(sealed.to_vec());
    let len = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut buf,
        )
        .map_err(|_| AeadFailure)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

/// HMAC-SHA256(key, parts[0] ‖ parts[1] ‖ …).
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    for p in parts {
        ctx.update(p);
    }
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(ctx.sign().as_ref());
    out
}

/// SHA-256(parts[0] ‖ parts[1] ‖ …).
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The system CSPRNG could not produce bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RandomnessError;

impl std::fmt::Display for RandomnessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Unable to read enough randomness from the system")
    }
}

impl std::error::Error for RandomnessError {}

/// N random bytes from the system CSPRNG.
pub(crate) fn random<const N: usize>() -> Result<[u8; N], RandomnessError> {
    let mut out = [0u8; N];
    rand::fill(&mut out).map_err(|_| RandomnessError)?;
    Ok(out)
}

/// Base64 that is not valid under Go's `base64.StdEncoding` rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InvalidBase64;

impl std::fmt::Display for InvalidBase64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("illegal base64 data")
    }
}

/// Standard base64 decoding as Go's `base64.StdEncoding`: padding required,
/// `\r` and `\n` ignored, non-zero trailing bits tolerated.
pub(crate) fn b64_decode(s: &str) -> Result<Vec<u8>, InvalidBase64> {
    kes_crypto::go_base64::decode(s.as_bytes()).ok_or(InvalidBase64)
}

/// Standard base64 encoding with padding.
pub(crate) fn b64_encode(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// HChaCha20 as KES and MinIO use it (shared with `kes-crypto`).
pub(crate) use kes_crypto::hchacha20;

#[cfg(test)]
mod tests {
    use super::*;

    /// draft-irtf-cfrg-xchacha-03 §2.2.1 test vector.
    #[test]
    fn go_base64() {
        assert_eq!(b64_decode("AA==").unwrap(), [0]);
        assert_eq!(b64_decode("AB==").unwrap(), [0]);
        assert_eq!(b64_decode("AA\r\n==\n").unwrap(), [0]);
        assert!(b64_decode("AA").is_err());
        assert!(b64_decode(".AA=").is_err());
    }

    #[test]
    fn aead_roundtrip_and_tamper() {
        for c in [Cipher::Aes256Gcm, Cipher::ChaCha20Poly1305] {
            let ct = aead_seal(c, &[7; 32], [1; 12], b"ad", b"hello").unwrap();
            assert_eq!(
                &*aead_open(c, &[7; 32], [1; 12], b"ad", &ct).unwrap(),
                b"hello"
            );
            assert!(aead_open(c, &[7; 32], [1; 12], b"aD", &ct).is_err());
            assert!(aead_open(c, &[8; 32], [1; 12], b"ad", &ct).is_err());
        }
        assert!(aead_seal(Cipher::Aes256Gcm, &[7; 16], [1; 12], b"", b"").is_err());
    }
}
