//! The KMS abstraction MinIO's sealing code uses: data keys (DEKs), the
//! [`KeyManager`] trait and the KMS error values.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::context::Context;

/// The future returned by [`KeyManager`] methods.
pub type KmsFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, KmsError>> + Send + 'a>>;

/// A data encryption key from the KMS: a plaintext and an opaque ciphertext. The plaintext is
/// zeroized on drop, redacted in `Debug` and compared in constant time.
#[derive(Clone)]
pub struct Dek {
    /// The name of the master key the DEK was generated with (the requested
    /// name after default substitution).
    pub key_id: String,
    /// The key version; 0 for KES and the builtin KMS (MinKMS only).
    pub version: u32,
    /// The plaintext key, 32 bytes from KES and the builtin KMS.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// The ciphertext exactly as returned by the KMS.
    pub ciphertext: Vec<u8>,
}

impl PartialEq for Dek {
    fn eq(&self, other: &Self) -> bool {
        let plaintext_eq =
            aws_lc_rs::constant_time::verify_slices_are_equal(&self.plaintext, &other.plaintext)
                .is_ok();
        plaintext_eq
            && self.key_id == other.key_id
            && self.version == other.version
            && self.ciphertext == other.ciphertext
    }
}

impl Eq for Dek {}

impl fmt::Debug for Dek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dek")
            .field("key_id", &self.key_id)
            .field("version", &self.version)
            .field("plaintext", &"[redacted]")
            .field("ciphertext", &STANDARD.encode(&self.ciphertext))
            .finish()
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct DekText {
    keyid: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    version: u32,
    ciphertext: Option<String>,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

impl Dek {
    /// The text form `{"keyid":…,"version":N,"ciphertext":b64|null}`
    /// (`kms.DEK.MarshalText`): `version` is omitted when 0, an empty
    /// ciphertext is written as `null`, and the plaintext is never written.
    #[must_use]
    pub fn to_text(&self) -> String {
        let text = DekText {
            keyid: self.key_id.clone(),
            version: self.version,
            ciphertext: (!self.ciphertext.is_empty()).then(|| STANDARD.encode(&self.ciphertext)),
        };
        // Serialising a struct of strings and integers cannot fail.
        serde_json::to_string(&text).unwrap_or_default()
    }

    /// Parses the text form written by [`Dek::to_text`]; the plaintext is empty.
    ///
    /// # Errors
    /// [`KmsError::InvalidDekText`] for malformed JSON or base64.
    pub fn from_text(text: &str) -> Result<Self, KmsError> {
        let t: DekText =
            serde_json::from_str(text).map_err(|e| KmsError::InvalidDekText(e.to_string()))?;
        let ciphertext = match t.ciphertext {
            None => Vec::new(),
            Some(b64) => STANDARD
                .decode(b64)
                .map_err(|e| KmsError::InvalidDekText(e.to_string()))?,
        };
        Ok(Self {
            key_id: t.keyid,
            version: t.version,
            plaintext: Zeroizing::new(Vec::new()),
            ciphertext,
        })
    }
}

/// The KMS operations MinIO's server-side encryption needs.
///
/// Implemented by the builtin single-key KMS ([`super::BuiltinKms`]) and by the
/// KES client. Implementations classify backend errors into [`KmsError`] once.
pub trait KeyManager: Send + Sync {
    /// The default key name: used for SSE-S3, SSE-KMS without a key id and
    /// all config/IAM encryption.
    fn default_key_id(&self) -> &str;

    /// Generates a DEK under `key_id` (empty means the default key) bound to
    /// the canonical `context`. The returned DEK's `key_id` is the resolved name.
    ///
    /// Errors: [`KmsError::KeyNotFound`], [`KmsError::Permission`], or
    /// [`KmsError::KeyGenerationFailed`] for anything else.
    fn generate_key<'a>(&'a self, key_id: &'a str, context: &'a Context) -> KmsFuture<'a, Dek>;

    /// Decrypts a DEK ciphertext under `key_id` (not defaulted when empty)
    /// with the same `context` it was generated with.
    ///
    /// Errors: [`KmsError::KeyNotFound`], [`KmsError::Decrypt`],
    /// [`KmsError::Permission`], or [`KmsError::DecryptionFailed`].
    fn decrypt<'a>(
        &'a self,
        key_id: &'a str,
        ciphertext: &'a [u8],
        context: &'a Context,
    ) -> KmsFuture<'a, Zeroizing<Vec<u8>>>;
}

/// KMS error values with MinIO's messages (`internal/kms/errors.go`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KmsError {
    /// 403 `kms:NotAuthorized`.
    Permission,
    /// 409 `kms:KeyAlreadyExists`.
    KeyExists,
    /// 404 `kms:KeyNotFound`.
    KeyNotFound,
    /// 400 `kms:InvalidCiphertextException`.
    Decrypt,
    /// 501 `kms:NotSupported`.
    NotSupported,
    /// 500 `kms:KeyCreationFailed` with its cause.
    KeyCreationFailed(String),
    /// 500 `kms:KeyGenerationFailed` with its cause.
    KeyGenerationFailed(String),
    /// 500 `kms:DecryptionFailed` with its cause.
    DecryptionFailed(String),
    /// A DEK text form that does not parse (not a MinIO KMS error).
    InvalidDekText(String),
}

impl KmsError {
    /// The HTTP status MinIO answers with.
    #[must_use]
    pub fn status_code(&self) -> u16 {
        match self {
            Self::Permission => 403,
            Self::KeyExists => 409,
            Self::KeyNotFound => 404,
            Self::Decrypt | Self::InvalidDekText(_) => 400,
            Self::NotSupported => 501,
            Self::KeyCreationFailed(_)
            | Self::KeyGenerationFailed(_)
            | Self::DecryptionFailed(_) => 500,
        }
    }

    /// The S3 API error code MinIO answers with.
    #[must_use]
    pub fn api_code(&self) -> &'static str {
        match self {
            Self::Permission => "kms:NotAuthorized",
            Self::KeyExists => "kms:KeyAlreadyExists",
            Self::KeyNotFound => "kms:KeyNotFound",
            Self::Decrypt | Self::InvalidDekText(_) => "kms:InvalidCiphertextException",
            Self::NotSupported => "kms:NotSupported",
            Self::KeyCreationFailed(_) => "kms:KeyCreationFailed",
            Self::KeyGenerationFailed(_) => "kms:KeyGenerationFailed",
            Self::DecryptionFailed(_) => "kms:DecryptionFailed",
        }
    }
}

impl fmt::Display for KmsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Permission => f.write_str("insufficient permissions to perform KMS operation"),
            // "exits" (sic) is MinIO's spelling.
            Self::KeyExists => f.write_str("key with given key ID already exits"),
            Self::KeyNotFound => f.write_str("key with given key ID does not exist"),
            Self::Decrypt => f.write_str("failed to decrypt ciphertext"),
            Self::NotSupported => f.write_str("requested functionality is not supported"),
            Self::KeyCreationFailed(c) => write!(f, "failed to create KMS key: {c}"),
            Self::KeyGenerationFailed(c) => {
                write!(f, "failed to generate data key with KMS key: {c}")
            }
            Self::DecryptionFailed(c) => {
                write!(f, "failed to decrypt ciphertext with KMS key: {c}")
            }
            Self::InvalidDekText(c) => write!(f, "kms: invalid DEK encoding: {c}"),
        }
    }
}

impl std::error::Error for KmsError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::test_vectors::vectors;

    #[test]
    fn dek_text_encoding_vectors() {
        let v = vectors();
        let cases = v["from_tests"]["dek_text_encoding"]["cases"]
            .as_array()
            .unwrap();
        assert_eq!(cases.len(), 4);
        for case in cases {
            let k = &case["key"];
            let dek = Dek {
                key_id: k["KeyID"].as_str().unwrap().to_owned(),
                version: u32::try_from(k["Version"].as_u64().unwrap()).unwrap(),
                plaintext: Zeroizing::new(
                    k["Plaintext_b64"]
                        .as_str()
                        .map(|s| STANDARD.decode(s).unwrap())
                        .unwrap_or_default(),
                ),
                ciphertext: k["Ciphertext_b64"]
                    .as_str()
                    .map(|s| STANDARD.decode(s).unwrap())
                    .unwrap_or_default(),
            };
            let text = dek.to_text();
            assert_eq!(text, case["marshal_text_derived"].as_str().unwrap());
            let back = Dek::from_text(&text).unwrap();
            assert_eq!(back.key_id, dek.key_id);
            assert_eq!(back.version, dek.version);
            assert_eq!(back.ciphertext, dek.ciphertext);
            assert!(back.plaintext.is_empty());
        }
        let decoded = v["from_tests"]["dek_text_encoding"]["ciphertext_decoded_derived"]
            .as_str()
            .unwrap();
        let ct = STANDARD
            .decode(cases[1]["key"]["Ciphertext_b64"].as_str().unwrap())
            .unwrap();
        assert_eq!(ct, decoded.as_bytes());
    }

    #[test]
    fn dek_equality_covers_every_field() {
        let dek = |id: &str, pt: &[u8], ct: &[u8]| Dek {
            key_id: id.to_owned(),
            version: 0,
            plaintext: Zeroizing::new(pt.to_vec()),
            ciphertext: ct.to_vec(),
        };
        let a = dek("k", &[1; 32], b"ct");
        assert_eq!(a, dek("k", &[1; 32], b"ct"));
        assert_ne!(a, dek("k", &[2; 32], b"ct"));
        assert_ne!(a, dek("k", &[1; 31], b"ct"));
        assert_ne!(a, dek("j", &[1; 32], b"ct"));
        assert_ne!(a, dek("k", &[1; 32], b"cu"));
    }

    #[test]
    fn dek_text_rejects_garbage() {
        assert!(matches!(
            Dek::from_text("{\"keyid\":1}"),
            Err(KmsError::InvalidDekText(_))
        ));
        assert!(matches!(
            Dek::from_text("{\"keyid\":\"\",\"ciphertext\":\"!!\"}"),
            Err(KmsError::InvalidDekText(_))
        ));
    }

    #[test]
    fn debug_is_redacted() {
        let dek = Dek {
            key_id: "k".into(),
            version: 0,
            plaintext: Zeroizing::new(vec![0xAB; 32]),
            ciphertext: vec![1],
        };
        let s = format!("{dek:?}");
        assert!(s.contains("[redacted]"));
        assert!(!s.contains("171"));
    }
}
