use std::fmt;

use aws_lc_rs::{hmac, rand};
use zeroize::Zeroize;

use crate::Error;

/// Length of an HMAC key in bytes.
const KEY_LEN: usize = 32;

/// The separate 32-byte HMAC-SHA256 key of a protobuf-format key (spec §4). Zeroized on drop;
/// `Debug` never shows the bytes.
#[derive(Clone)]
pub struct HmacKey {
    bytes: [u8; KEY_LEN],
}

impl HmacKey {
    /// Draws a new key from the system CSPRNG.
    pub fn generate() -> Result<HmacKey, Error> {
        let mut key = HmacKey {
            bytes: [0; KEY_LEN],
        };
        rand::fill(&mut key.bytes).map_err(|_| Error::Random)?;
        Ok(key)
    }

    /// Wraps exactly 32 key bytes, or returns `None`.
    pub(crate) fn new(bytes: &[u8]) -> Option<HmacKey> {
        Some(HmacKey {
            bytes: bytes.try_into().ok()?,
        })
    }

    /// Returns HMAC-SHA256(key, message).
    pub fn sum(&self, message: &[u8]) -> [u8; 32] {
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &self.bytes), message);
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// The raw key bytes, for the stored-key encoder.
    pub(crate) fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }
}

impl Drop for HmacKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacKey")
            .field("bytes", &format_args!("[redacted]"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4231_case_2() {
        // Key "Jefe" is not 32 bytes; pad with zeros, which HMAC does internally anyway.
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let key = HmacKey::new(&key).unwrap();
        assert_eq!(
            hex::encode(key.sum(b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn generate_is_random_and_debug_redacted() {
        let a = HmacKey::generate().unwrap();
        let b = HmacKey::generate().unwrap();
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_eq!(format!("{a:?}"), "HmacKey { bytes: [redacted] }");
        assert!(HmacKey::new(&[0; 31]).is_none());
    }
}
