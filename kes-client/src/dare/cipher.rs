//! Cipher suites and the AEAD keys built from a 32-byte DARE key.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};

use super::{DareError, TAG_SIZE};

/// The AEAD of a DARE package, stored in header byte 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CipherSuite {
    /// `0x00`: AES-256-GCM.
    Aes256Gcm,
    /// `0x01`: ChaCha20-Poly1305.
    ChaCha20Poly1305,
}

impl CipherSuite {
    /// The cipher this machine writes: AES-256-GCM when the CPU accelerates AES and carry-less
    /// multiplication (x86-64 AES-NI+PCLMULQDQ, aarch64 AES+PMULL), else ChaCha20-Poly1305.
    pub fn preferred() -> Self {
        if aes_is_accelerated() {
            Self::Aes256Gcm
        } else {
            Self::ChaCha20Poly1305
        }
    }

    /// The header byte of this cipher.
    pub fn id(self) -> u8 {
        match self {
            Self::Aes256Gcm => 0x00,
            Self::ChaCha20Poly1305 => 0x01,
        }
    }

    /// The cipher with header byte `id`, if DARE defines one.
    pub fn from_id(id: u8) -> Option<Self> {
        match id {
            0x00 => Some(Self::Aes256Gcm),
            0x01 => Some(Self::ChaCha20Poly1305),
            _ => None,
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn aes_is_accelerated() -> bool {
    std::arch::is_x86_feature_detected!("aes") && std::arch::is_x86_feature_detected!("pclmulqdq")
}

#[cfg(target_arch = "aarch64")]
fn aes_is_accelerated() -> bool {
    std::arch::is_aarch64_feature_detected!("aes")
        && std::arch::is_aarch64_feature_detected!("pmull")
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn aes_is_accelerated() -> bool {
    false
}

/// One DARE key prepared for both ciphers, since a reader accepts either.
pub(crate) struct Keys {
    aes: LessSafeKey,
    chacha: LessSafeKey,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keys([redacted])")
    }
}

impl Keys {
    pub(crate) fn new(key: &[u8; 32]) -> Result<Self, DareError> {
        let aes = UnboundKey::new(&AES_256_GCM, key).map_err(|_| DareError::KeySetup)?;
        let chacha = UnboundKey::new(&CHACHA20_POLY1305, key).map_err(|_| DareError::KeySetup)?;
        Ok(Self {
            aes: LessSafeKey::new(aes),
            chacha: LessSafeKey::new(chacha),
        })
    }

    fn get(&self, cipher: CipherSuite) -> &LessSafeKey {
        match cipher {
            CipherSuite::Aes256Gcm => &self.aes,
            CipherSuite::ChaCha20Poly1305 => &self.chacha,
        }
    }

    /// Encrypts `in_out[..len - TAG_SIZE]` in place and writes the tag into the last 16 bytes.
    pub(crate) fn seal(
        &self,
        cipher: CipherSuite,
        nonce: [u8; 12],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<(), DareError> {
        let split = in_out
            .len()
            .checked_sub(TAG_SIZE)
            .ok_or(DareError::InvalidPayloadSize)?;
        let (data, tag_out) = in_out.split_at_mut(split);
        let tag = self
            .get(cipher)
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), data)
            .map_err(|_| DareError::SizeTooLarge)?;
        tag_out.copy_from_slice(tag.as_ref());
        Ok(())
    }

    /// Decrypts `ciphertext ‖ tag` in place; on success the plaintext is the first
    /// `len - TAG_SIZE` bytes.
    pub(crate) fn open(
        &self,
        cipher: CipherSuite,
        nonce: [u8; 12],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<(), DareError> {
        self.get(cipher)
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), in_out)
            .map(|_| ())
            .map_err(|_| DareError::Authentication)
    }
}
