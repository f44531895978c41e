//! Crypto primitives shared by the SSE code: HMAC/SHA-256, AEAD helpers,
//! randomness, HChaCha20, Go-compatible base64 and the CPU cipher choice.

use aws_lc_rs::aead::{AES_256_GCM, Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::{digest, hmac, rand};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use zeroize::Zeroizing;

/// An AEAD cipher used by DARE, the config stream and the builtin KMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cipher {
    /// AES-256-GCM.
    Aes256Gcm,
    /// ChaCha20-Poly1305.
    ChaCha20Poly1305,
}

impl Cipher {
    /// The cipher MinIO writes on this CPU: AES-256-GCM with hardware AES,
    /// else ChaCha20-Poly1305 (spec §4.1, §7.5).
    #[must_use]
    pub fn preferred() -> Self {
        if has_aes_hardware() {
            Self::Aes256Gcm
        } else {
            Self::ChaCha20Poly1305
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn has_aes_hardware() -> bool {
    std::arch::is_x86_feature_detected!("aes") && std::arch::is_x86_feature_detected!("pclmulqdq")
}

#[cfg(target_arch = "aarch64")]
fn has_aes_hardware() -> bool {
    std::arch::is_aarch64_feature_detected!("aes")
        && std::arch::is_aarch64_feature_detected!("pmull")
}

#[cfg(target_arch = "s390x")]
fn has_aes_hardware() -> bool {
    true
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "s390x")))]
fn has_aes_hardware() -> bool {
    false
}

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

/// Standard base64 decoding as Go's `base64.StdEncoding`: padding required,
/// `\r` and `\n` ignored, non-zero trailing bits tolerated.
pub(crate) fn b64_decode(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    const GO_STD: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    if s.contains(['\r', '\n']) {
        let cleaned: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        GO_STD.decode(cleaned)
    } else {
        GO_STD.decode(s)
    }
}

/// Standard base64 encoding with padding.
pub(crate) fn b64_encode(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// HChaCha20(key, nonce16) (draft-irtf-cfrg-xchacha §2.2): the ChaCha20 block
/// function without the final addition, returning words 0..4 and 12..16.
pub(crate) fn hchacha20(key: &[u8; 32], nonce: &[u8; 16]) -> Zeroizing<[u8; 32]> {
    let mut s = Zeroizing::new([0u32; 16]);
    s[0] = 0x6170_7865;
    s[1] = 0x3320_646e;
    s[2] = 0x7962_2d32;
    s[3] = 0x6b20_6574;
    for i in 0..8 {
        s[4 + i] = u32::from_le_bytes([key[4 * i], key[4 * i + 1], key[4 * i + 2], key[4 * i + 3]]);
    }
    for i in 0..4 {
        s[12 + i] = u32::from_le_bytes([
            nonce[4 * i],
            nonce[4 * i + 1],
            nonce[4 * i + 2],
            nonce[4 * i + 3],
        ]);
    }
    for _ in 0..10 {
        quarter_round(&mut s, 0, 4, 8, 12);
        quarter_round(&mut s, 1, 5, 9, 13);
        quarter_round(&mut s, 2, 6, 10, 14);
        quarter_round(&mut s, 3, 7, 11, 15);
        quarter_round(&mut s, 0, 5, 10, 15);
        quarter_round(&mut s, 1, 6, 11, 12);
        quarter_round(&mut s, 2, 7, 8, 13);
        quarter_round(&mut s, 3, 4, 9, 14);
    }
    let mut out = Zeroizing::new([0u8; 32]);
    for (i, w) in s[0..4].iter().chain(s[12..16].iter()).enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    out
}

fn quarter_round(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(16);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(12);
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(8);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(7);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// draft-irtf-cfrg-xchacha-03 §2.2.1 test vector.
    #[test]
    fn hchacha20_published_vector() {
        let key: [u8; 32] =
            hex::decode("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
                .unwrap()
                .try_into()
                .unwrap();
        let nonce: [u8; 16] = hex::decode("000000090000004a0000000031415927")
            .unwrap()
            .try_into()
            .unwrap();
        assert_eq!(
            hex::encode(*hchacha20(&key, &nonce)),
            "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc"
        );
    }

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
