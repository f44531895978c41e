//! Object encryption keys (OEK): generation, sealing under a KEK, unsealing,
//! and the keys derived from an OEK (part keys, the ETag key, metadata keys).

use std::fmt;

use zeroize::Zeroizing;

use super::context::path_join;
use super::dare::{self, MinVersion};
use super::error::CryptoError;
use super::primitives::{Cipher, RandomnessError, hmac_sha256, random, sha256};

/// The SSE type an object key is sealed for; its name is the KEK domain string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SseKind {
    /// SSE-S3: the DEK comes from the default KMS key.
    S3,
    /// SSE-KMS: the DEK comes from a client-chosen KMS key.
    Kms,
    /// SSE-C: the client sends the key with every request.
    C,
}

impl SseKind {
    /// The domain string bound into the KEK: `SSE-S3`, `SSE-KMS` or `SSE-C`.
    #[must_use]
    pub fn domain(self) -> &'static str {
        match self {
            Self::S3 => "SSE-S3",
            Self::Kms => "SSE-KMS",
            Self::C => "SSE-C",
        }
    }
}

impl fmt::Display for SseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.domain())
    }
}

/// The algorithm that sealed an object key (the `…-Seal-Algorithm` value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SealAlgorithm {
    /// `DAREv2-HMAC-SHA256`, the only algorithm written.
    DareV2HmacSha256,
    /// `DARE-SHA256`, legacy SSE-C objects only (read only).
    DareSha256,
}

impl SealAlgorithm {
    /// The metadata spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DareV2HmacSha256 => "DAREv2-HMAC-SHA256",
            Self::DareSha256 => "DARE-SHA256",
        }
    }

    /// Parses the metadata spelling (exact match).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "DAREv2-HMAC-SHA256" => Some(Self::DareV2HmacSha256),
            "DARE-SHA256" => Some(Self::DareSha256),
            _ => None,
        }
    }
}

/// A sealed object key as stored in the object metadata: 64 bytes of DARE
/// plus the 32-byte IV and the seal algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedKey {
    /// The 32 random bytes bound into the KEK.
    pub iv: [u8; 32],
    /// One DARE package holding the 32-byte OEK.
    pub key: [u8; 64],
    /// How [`SealedKey::key`] was sealed.
    pub algorithm: SealAlgorithm,
}

/// A 32-byte secret derived from an OEK or an external key.
pub type Secret32 = Zeroizing<[u8; 32]>;

/// The 32-byte object encryption key. Zeroized on drop, redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct ObjectKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ObjectKey([redacted])")
    }
}

impl ObjectKey {
    /// Wraps existing key bytes (e.g. an unsealed OEK).
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The key bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A fresh OEK: HMAC-SHA256(external key, "object-encryption-key generation" ‖ random nonce32).
    ///
    /// # Errors
    /// [`RandomnessError`] when the CSPRNG fails.
    pub fn generate(external_key: &[u8]) -> Result<Self, RandomnessError> {
        Ok(Self::generate_with_nonce(external_key, &random::<32>()?))
    }

    /// The OEK for a given 32-byte nonce (deterministic form of [`ObjectKey::generate`]).
    #[must_use]
    pub fn generate_with_nonce(external_key: &[u8], nonce: &[u8; 32]) -> Self {
        Self(hmac_sha256(
            external_key,
            &[b"object-encryption-key generation", nonce],
        ))
    }

    /// Seals this OEK under KEK(external key, fresh random IV, kind, bucket,
    /// object) with a random DARE nonce and the preferred cipher.
    ///
    /// # Errors
    /// [`CryptoError::Randomness`] when the CSPRNG fails.
    pub fn seal(
        &self,
        external_key: &[u8],
        kind: SseKind,
        bucket: &str,
        object: &str,
    ) -> Result<SealedKey, CryptoError> {
        let iv = random::<32>()?;
        self.seal_with_iv(external_key, iv, kind, bucket, object)
    }

    /// Like [`ObjectKey::seal`] but with a given IV (SSE-C rotation reuses it).
    ///
    /// # Errors
    /// [`CryptoError::Randomness`] when the CSPRNG fails.
    pub fn seal_with_iv(
        &self,
        external_key: &[u8],
        iv: [u8; 32],
        kind: SseKind,
        bucket: &str,
        object: &str,
    ) -> Result<SealedKey, CryptoError> {
        let nonce = random::<12>()?;
        self.seal_deterministic(
            external_key,
            iv,
            kind,
            bucket,
            object,
            Cipher::preferred(),
            nonce,
        )
    }

    /// The fully deterministic seal: DARE 2.0 package of the OEK under the KEK
    /// with the given cipher and 12-byte nonce (sequence number 0).
    ///
    /// # Errors
    /// [`CryptoError::SecretKeyMismatch`] only if the AEAD rejects the key,
    /// which cannot happen for a 32-byte KEK.
    #[allow(clippy::too_many_arguments)]
    pub fn seal_deterministic(
        &self,
        external_key: &[u8],
        iv: [u8; 32],
        kind: SseKind,
        bucket: &str,
        object: &str,
        cipher: Cipher,
        nonce: [u8; 12],
    ) -> Result<SealedKey, CryptoError> {
        let kek = derive_kek(external_key, &iv, kind, bucket, object);
        let sealed = dare::seal_final_v2(&*kek, cipher, nonce, 0, &*self.0)
            .map_err(|_| CryptoError::SecretKeyMismatch)?;
        let key: [u8; 64] = sealed
            .try_into()
            .map_err(|_| CryptoError::SecretKeyMismatch)?;
        Ok(SealedKey {
            iv,
            key,
            algorithm: SealAlgorithm::DareV2HmacSha256,
        })
    }

    /// Unseals an OEK sealed for (`kind`, `bucket`, `object`) with `external_key`.
    ///
    /// # Errors
    /// [`CryptoError::SecretKeyMismatch`] for a wrong key, name, domain or any
    /// tampering; the result must be exactly 32 bytes.
    pub fn unseal(
        external_key: &[u8],
        sealed: &SealedKey,
        kind: SseKind,
        bucket: &str,
        object: &str,
    ) -> Result<Self, CryptoError> {
        let plain = match sealed.algorithm {
            SealAlgorithm::DareV2HmacSha256 => {
                let kek = derive_kek(external_key, &sealed.iv, kind, bucket, object);
                dare::open_single(&*kek, &sealed.key, 0, MinVersion::V20)
            }
            SealAlgorithm::DareSha256 => {
                let kek = Zeroizing::new(sha256(&[external_key, &sealed.iv]));
                dare::open_single(&*kek, &sealed.key, 0, MinVersion::V10)
            }
        }
        .map_err(|_| CryptoError::SecretKeyMismatch)?;
        let bytes: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::SecretKeyMismatch)?;
        Ok(Self::from_bytes(bytes))
    }

    /// The key of multipart part `part_number`: HMAC-SHA256(OEK, LE32(part)).
    #[must_use]
    pub fn derive_part_key(&self, part_number: u32) -> Secret32 {
        hmac_sha256(&*self.0, &[&part_number.to_le_bytes()])
    }

    /// The ETag sealing key: HMAC-SHA256(OEK, "SSE-etag").
    #[must_use]
    pub fn etag_key(&self) -> Secret32 {
        hmac_sha256(&*self.0, &[b"SSE-etag"])
    }

    /// The key for metadata sealed with the OEK: HMAC-SHA256(OEK, base_key),
    /// where base_key is e.g. `"object-checksum"`, `"compression-index"`, `"zip-enc"`.
    #[must_use]
    pub fn metadata_key(&self, base_key: &str) -> Secret32 {
        hmac_sha256(&*self.0, &[base_key.as_bytes()])
    }
}

/// KEK = HMAC-SHA256(external key, IV ‖ domain ‖ "DAREv2-HMAC-SHA256" ‖ path.Join(bucket, object)).
#[must_use]
pub fn derive_kek(
    external_key: &[u8],
    iv: &[u8; 32],
    kind: SseKind,
    bucket: &str,
    object: &str,
) -> Secret32 {
    let path = path_join(bucket, object);
    hmac_sha256(
        external_key,
        &[
            iv,
            kind.domain().as_bytes(),
            SealAlgorithm::DareV2HmacSha256.as_str().as_bytes(),
            path.as_bytes(),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::test_vectors::{hex_arr, vectors};

    fn kind(s: &str) -> SseKind {
        match s {
            "SSE-S3" => SseKind::S3,
            "SSE-KMS" => SseKind::Kms,
            "SSE-C" => SseKind::C,
            _ => unreachable!(),
        }
    }

    #[test]
    fn seal_unseal_matrix() {
        let v = vectors();
        let cases = v["from_tests"]["seal_unseal_matrix"]["cases"]
            .as_array()
            .unwrap();
        let mut checked = 0;
        for case in cases {
            let pass = case["should_pass"].as_bool().unwrap();
            let oek = ObjectKey::generate(&[0; 32]).unwrap();
            if case.get("seal").is_none() {
                // Legacy label on a DAREv2 sealed key must not unseal.
                let mut sealed = oek.seal(&[0; 32], SseKind::C, "bucket", "object").unwrap();
                sealed.algorithm = SealAlgorithm::DareSha256;
                assert_eq!(
                    ObjectKey::unseal(&[0; 32], &sealed, SseKind::C, "bucket", "object").is_ok(),
                    pass
                );
                checked += 1;
                continue;
            }
            let (s, u) = (&case["seal"], &case["unseal"]);
            let mut sk = [0u8; 32];
            sk[0] = u8::try_from(s["ext_key_first_byte"].as_u64().unwrap()).unwrap();
            let mut uk = [0u8; 32];
            uk[0] = u8::try_from(u["ext_key_first_byte"].as_u64().unwrap()).unwrap();
            assert_eq!(s["iv"], "zero");
            let sealed = oek
                .seal_with_iv(
                    &sk,
                    [0; 32],
                    kind(s["domain"].as_str().unwrap()),
                    s["bucket"].as_str().unwrap(),
                    s["object"].as_str().unwrap(),
                )
                .unwrap();
            let got = ObjectKey::unseal(
                &uk,
                &sealed,
                kind(u["domain"].as_str().unwrap()),
                u["bucket"].as_str().unwrap(),
                u["object"].as_str().unwrap(),
            );
            match got {
                Ok(k) => {
                    assert!(pass, "{}", case["id"]);
                    assert_eq!(k, oek);
                }
                Err(e) => {
                    assert!(!pass, "{}", case["id"]);
                    assert_eq!(e, CryptoError::SecretKeyMismatch);
                }
            }
            checked += 1;
        }
        assert_eq!(checked, cases.len());
    }

    #[test]
    fn part_key_vectors() {
        let v = vectors();
        let pk = &v["from_tests"]["part_key_derivation"];
        let oek = ObjectKey::from_bytes(hex_arr(pk["oek_hex"].as_str().unwrap()));
        for case in pk["cases"].as_array().unwrap() {
            let part = u32::try_from(case["part_id"].as_u64().unwrap()).unwrap();
            assert_eq!(
                hex::encode(*oek.derive_part_key(part)),
                case["part_key_hex"].as_str().unwrap()
            );
        }
    }

    #[test]
    fn legacy_dare_sha256_unseals() {
        // A DARE 1.0 package under SHA-256(key ‖ iv), as written by old MinIO.
        let (ext, iv, oek) = ([5u8; 32], [6u8; 32], [7u8; 32]);
        let kek = sha256(&[&ext, &iv]);
        let mut header = [0u8; 16];
        header[0] = 0x10;
        header[2] = 31;
        header[8..16].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&header[4..16]);
        let ct =
            crate::sse::primitives::aead_seal(Cipher::Aes256Gcm, &kek, nonce, &header[..4], &oek)
                .unwrap();
        let mut key = [0u8; 64];
        key[..16].copy_from_slice(&header);
        key[16..].copy_from_slice(&ct);
        let sealed = SealedKey {
            iv,
            key,
            algorithm: SealAlgorithm::DareSha256,
        };
        let got = ObjectKey::unseal(&ext, &sealed, SseKind::C, "b", "o").unwrap();
        assert_eq!(got.as_bytes(), &oek);
        assert!(ObjectKey::unseal(&[0; 32], &sealed, SseKind::C, "b", "o").is_err());
    }

    #[test]
    fn derived_bucket_targets() {
        let v = vectors();
        let d = &v["derived"]["bucket_targets"];
        let bucket = d["bucket"].as_str().unwrap();
        let ctx = crate::sse::Context::for_bucket_targets(bucket);
        assert_eq!(
            ctx.to_canonical_json(),
            d["kms_associated_data"].as_str().unwrap().as_bytes()
        );
        assert_eq!(
            crate::sse::path_join(bucket, ""),
            d["kek_path"].as_str().unwrap()
        );
        let dek = hex::decode(d["dek_plaintext_hex"].as_str().unwrap()).unwrap();
        let iv = hex_arr(d["iv_hex"].as_str().unwrap());
        assert_eq!(
            hex::encode(*derive_kek(&dek, &iv, SseKind::S3, bucket, "")),
            d["kek_hex"].as_str().unwrap()
        );
        let oek = ObjectKey::generate(&dek).unwrap();
        let sealed = oek.seal(&dek, SseKind::S3, bucket, "").unwrap();
        assert_eq!(
            ObjectKey::unseal(&dek, &sealed, SseKind::S3, bucket, "").unwrap(),
            oek
        );
    }

    #[test]
    fn debug_redacted() {
        assert_eq!(
            format!("{:?}", ObjectKey::from_bytes([1; 32])),
            "ObjectKey([redacted])"
        );
    }
}
