use std::fmt;

/// The encryption algorithm of a secret key (protobuf numbers 1 and 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// Per-message key HMAC-SHA256(key, iv), then AES-256-GCM.
    Aes256,
    /// Per-message key HChaCha20(key, iv), then ChaCha20-Poly1305 (IETF).
    ChaCha20,
}

impl KeyType {
    /// The canonical name: `AES256` or `ChaCha20`.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Aes256 => "AES256",
            KeyType::ChaCha20 => "ChaCha20",
        }
    }

    /// Parses one of the accepted names (exact match): `AES256`, `AES256-GCM_SHA256`,
    /// `ChaCha20`, `XCHACHA20-POLY1305`. Anything else, including `""`, is `None`.
    pub fn parse(s: &str) -> Option<KeyType> {
        match s {
            "AES256" | "AES256-GCM_SHA256" => Some(KeyType::Aes256),
            "ChaCha20" | "XCHACHA20-POLY1305" => Some(KeyType::ChaCha20),
            _ => None,
        }
    }

    /// The type for new keys: AES256 if the CPU accelerates AES-GCM (x86-64: AES-NI and
    /// PCLMULQDQ; aarch64: AES and PMULL), otherwise ChaCha20.
    pub fn platform_default() -> KeyType {
        if has_aes_gcm_acceleration() {
            KeyType::Aes256
        } else {
            KeyType::ChaCha20
        }
    }

    /// The protobuf enum value.
    pub(crate) fn number(self) -> u8 {
        match self {
            KeyType::Aes256 => 1,
            KeyType::ChaCha20 => 2,
        }
    }

    /// The type for a protobuf enum value.
    pub(crate) fn from_number(n: u32) -> Option<KeyType> {
        match n {
            1 => Some(KeyType::Aes256),
            2 => Some(KeyType::ChaCha20),
            _ => None,
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(target_arch = "x86_64")]
fn has_aes_gcm_acceleration() -> bool {
    std::arch::is_x86_feature_detected!("aes") && std::arch::is_x86_feature_detected!("pclmulqdq")
}

#[cfg(target_arch = "aarch64")]
fn has_aes_gcm_acceleration() -> bool {
    std::arch::is_aarch64_feature_detected!("aes")
        && std::arch::is_aarch64_feature_detected!("pmull")
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn has_aes_gcm_acceleration() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in [KeyType::Aes256, KeyType::ChaCha20] {
            assert_eq!(KeyType::parse(t.name()), Some(t));
            assert_eq!(KeyType::from_number(u32::from(t.number())), Some(t));
            assert_eq!(t.to_string(), t.name());
        }
    }

    #[test]
    fn accepts_exactly_the_four_names() {
        assert_eq!(KeyType::parse("AES256-GCM_SHA256"), Some(KeyType::Aes256));
        assert_eq!(
            KeyType::parse("XCHACHA20-POLY1305"),
            Some(KeyType::ChaCha20)
        );
        for bad in [
            "",
            "undefined",
            "aes256",
            "CHACHA20",
            "AES256 ",
            "ChaCha20Poly1305",
            "AES-256-GCM-HMAC-SHA-256",
        ] {
            assert_eq!(KeyType::parse(bad), None, "{bad:?}");
        }
        assert_eq!(KeyType::from_number(0), None);
        assert_eq!(KeyType::from_number(3), None);
    }

    #[test]
    fn platform_default_follows_cpu() {
        let expected = if has_aes_gcm_acceleration() {
            KeyType::Aes256
        } else {
            KeyType::ChaCha20
        };
        assert_eq!(KeyType::platform_default(), expected);
    }
}
