//! Internal object metadata keys (`internal/crypto/metadata.go`): their
//! spellings, classification, removal, and parsing with MinIO's checks.

use std::collections::BTreeMap;

use super::context::Context;
use super::error::CryptoError;
use super::object_key::{SealAlgorithm, SealedKey, SseKind};
use super::primitives::{b64_decode, b64_encode};

/// An object's user-defined metadata map.
pub type Metadata = BTreeMap<String, String>;

/// `DAREv2-HMAC-SHA256` or legacy `DARE-SHA256`.
pub const META_ALGORITHM: &str = "X-Minio-Internal-Server-Side-Encryption-Seal-Algorithm";
/// base64 of the 32-byte IV.
pub const META_IV: &str = "X-Minio-Internal-Server-Side-Encryption-Iv";
/// SSE-C sealed OEK.
pub const META_SEALED_KEY_SSEC: &str = "X-Minio-Internal-Server-Side-Encryption-Sealed-Key";
/// SSE-S3 sealed OEK.
pub const META_SEALED_KEY_S3: &str = "X-Minio-Internal-Server-Side-Encryption-S3-Sealed-Key";
/// SSE-KMS sealed OEK.
pub const META_SEALED_KEY_KMS: &str = "X-Minio-Internal-Server-Side-Encryption-Kms-Sealed-Key";
/// KMS key name (SSE-S3 and SSE-KMS).
pub const META_KEY_ID: &str = "X-Minio-Internal-Server-Side-Encryption-S3-Kms-Key-Id";
/// base64 of the DEK ciphertext (SSE-S3 and SSE-KMS).
pub const META_DATA_ENCRYPTION_KEY: &str =
    "X-Minio-Internal-Server-Side-Encryption-S3-Kms-Sealed-Key";
/// base64 of the canonical client context (SSE-KMS).
pub const META_CONTEXT: &str = "X-Minio-Internal-Server-Side-Encryption-Context";
/// Presence flag of an encrypted multipart upload.
pub const META_MULTIPART: &str = "X-Minio-Internal-Encrypted-Multipart";
/// base64 of the encrypted checksum for SSE-C replication.
pub const META_SSEC_CRC: &str = "X-Minio-Replication-Ssec-Crc";

const INTERNAL_KEYS: [&str; 10] = [
    META_MULTIPART,
    META_IV,
    META_ALGORITHM,
    META_SEALED_KEY_SSEC,
    META_SEALED_KEY_S3,
    META_SEALED_KEY_KMS,
    META_KEY_ID,
    META_DATA_ENCRYPTION_KEY,
    META_CONTEXT,
    META_SSEC_CRC,
];

/// What `crypto.IsEncrypted` finds in the metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encryption {
    /// No encryption entries.
    None,
    /// Encrypted with a known SSE type.
    Sse(SseKind),
    /// Some encryption entries, but no sealed key identifies the type.
    Unknown,
}

/// Classifies the metadata: Kms-Sealed-Key, then S3-Sealed-Key, then
/// Sealed-Key; any other encryption entry gives [`Encryption::Unknown`].
#[must_use]
pub fn encryption_of(metadata: &Metadata) -> Encryption {
    if metadata.contains_key(META_SEALED_KEY_KMS) {
        Encryption::Sse(SseKind::Kms)
    } else if metadata.contains_key(META_SEALED_KEY_S3) {
        Encryption::Sse(SseKind::S3)
    } else if metadata.contains_key(META_SEALED_KEY_SSEC) {
        Encryption::Sse(SseKind::C)
    } else if [
        META_MULTIPART,
        META_IV,
        META_ALGORITHM,
        META_KEY_ID,
        META_DATA_ENCRYPTION_KEY,
        META_CONTEXT,
    ]
    .iter()
    .any(|k| metadata.contains_key(*k))
    {
        Encryption::Unknown
    } else {
        Encryption::None
    }
}

/// Removes all internal encryption entries, including `…-Context` (which
/// MinIO keeps; spec §8 decision).
pub fn remove_internal_entries(metadata: &mut Metadata) {
    for k in INTERNAL_KEYS {
        metadata.remove(k);
    }
}

/// The parsed SSE-S3 or SSE-KMS metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KmsSealedMetadata {
    /// The KMS key name (empty for legacy K/V-era objects).
    pub key_id: String,
    /// The DEK ciphertext (empty for legacy K/V-era objects).
    pub kms_key: Vec<u8>,
    /// The sealed OEK.
    pub sealed_key: SealedKey,
    /// The stored client context (SSE-KMS only; `None` when absent or `null`).
    pub context: Option<Context>,
}

/// Parses SSE-S3 (`kind = S3`) or SSE-KMS (`kind = Kms`) metadata with
/// MinIO's checks in MinIO's order.
///
/// # Errors
/// The [`CryptoError`] of the first failed check (spec §6.1 table).
pub fn parse_kms_metadata(
    metadata: &Metadata,
    kind: SseKind,
) -> Result<KmsSealedMetadata, CryptoError> {
    let sealed_name = match kind {
        SseKind::Kms => META_SEALED_KEY_KMS,
        SseKind::S3 | SseKind::C => META_SEALED_KEY_S3,
    };
    let b64_iv = metadata
        .get(META_IV)
        .ok_or(CryptoError::MissingInternalIv)?;
    let algorithm = metadata
        .get(META_ALGORITHM)
        .ok_or(CryptoError::MissingInternalSealAlgorithm)?;
    let b64_sealed = metadata
        .get(sealed_name)
        .ok_or(CryptoError::MissingSealedKey(kind))?;
    let key_id = metadata.get(META_KEY_ID);
    let b64_kms_key = metadata.get(META_DATA_ENCRYPTION_KEY);
    let (key_id, b64_kms_key) = match (key_id, b64_kms_key) {
        (None, Some(_)) => return Err(CryptoError::MissingKmsKeyId),
        (Some(_), None) => return Err(CryptoError::MissingKmsDataKey),
        (id, key) => (id, key),
    };
    let iv = parse_iv(b64_iv)?;
    if SealAlgorithm::parse(algorithm) != Some(SealAlgorithm::DareV2HmacSha256) {
        return Err(CryptoError::InvalidInternalSealAlgorithm);
    }
    let key = parse_sealed_key(b64_sealed).ok_or(CryptoError::InvalidSealedKey(kind))?;
    let kms_key = match b64_kms_key {
        Some(b64) => b64_decode(b64).map_err(|_| CryptoError::InvalidKmsDataKey(kind))?,
        None => Vec::new(),
    };
    let context = match (kind, metadata.get(META_CONTEXT)) {
        (SseKind::Kms, Some(b64)) => {
            let json = b64_decode(b64).map_err(|_| CryptoError::InvalidContextEncoding)?;
            Context::from_json(&json).map_err(CryptoError::InvalidContext)?
        }
        _ => None,
    };
    Ok(KmsSealedMetadata {
        key_id: key_id.cloned().unwrap_or_default(),
        kms_key,
        sealed_key: SealedKey {
            iv,
            key,
            algorithm: SealAlgorithm::DareV2HmacSha256,
        },
        context,
    })
}

/// Parses SSE-C metadata; `DARE-SHA256` is accepted besides `DAREv2-HMAC-SHA256`.
///
/// # Errors
/// The [`CryptoError`] of the first failed check (spec §6.3).
pub fn parse_ssec_metadata(metadata: &Metadata) -> Result<SealedKey, CryptoError> {
    let b64_iv = metadata
        .get(META_IV)
        .ok_or(CryptoError::MissingInternalIv)?;
    let algorithm = metadata
        .get(META_ALGORITHM)
        .ok_or(CryptoError::MissingInternalSealAlgorithm)?;
    let b64_sealed = metadata
        .get(META_SEALED_KEY_SSEC)
        .ok_or(CryptoError::MissingSealedKey(SseKind::C))?;
    let iv = parse_iv(b64_iv)?;
    let algorithm =
        SealAlgorithm::parse(algorithm).ok_or(CryptoError::InvalidInternalSealAlgorithm)?;
    let key = parse_sealed_key(b64_sealed).ok_or(CryptoError::InvalidSealedKey(SseKind::C))?;
    Ok(SealedKey { iv, key, algorithm })
}

fn parse_iv(b64: &str) -> Result<[u8; 32], CryptoError> {
    b64_decode(b64)
        .ok()
        .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
        .ok_or(CryptoError::InvalidInternalIv)
}

fn parse_sealed_key(b64: &str) -> Option<[u8; 64]> {
    b64_decode(b64)
        .ok()
        .and_then(|v| <[u8; 64]>::try_from(v.as_slice()).ok())
}

/// Writes the SSE-S3 or SSE-KMS entries (spec §6.1 step 3, §6.2 step 4).
/// `client_context` is stored only for SSE-KMS and only when non-empty; the
/// key id and DEK ciphertext only when the key id is non-empty.
pub fn write_kms_metadata(
    metadata: &mut Metadata,
    kind: SseKind,
    key_id: &str,
    kms_key: &[u8],
    sealed: &SealedKey,
    client_context: Option<&Context>,
) {
    let sealed_name = match kind {
        SseKind::Kms => META_SEALED_KEY_KMS,
        SseKind::S3 | SseKind::C => META_SEALED_KEY_S3,
    };
    write_common(metadata, sealed);
    metadata.insert(sealed_name.to_owned(), b64_encode(&sealed.key));
    if !key_id.is_empty() {
        metadata.insert(META_KEY_ID.to_owned(), key_id.to_owned());
        metadata.insert(META_DATA_ENCRYPTION_KEY.to_owned(), b64_encode(kms_key));
    }
    if kind == SseKind::Kms {
        match client_context {
            Some(ctx) if !ctx.is_empty() => {
                metadata.insert(
                    META_CONTEXT.to_owned(),
                    b64_encode(&ctx.to_canonical_json()),
                );
            }
            _ => {}
        }
    }
}

/// Writes the SSE-C entries: Seal-Algorithm, Iv and Sealed-Key.
pub fn write_ssec_metadata(metadata: &mut Metadata, sealed: &SealedKey) {
    write_common(metadata, sealed);
    metadata.insert(META_SEALED_KEY_SSEC.to_owned(), b64_encode(&sealed.key));
}

fn write_common(metadata: &mut Metadata, sealed: &SealedKey) {
    metadata.insert(
        META_ALGORITHM.to_owned(),
        sealed.algorithm.as_str().to_owned(),
    );
    metadata.insert(META_IV.to_owned(), b64_encode(&sealed.iv));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::test_vectors::vectors;

    fn to_meta(v: &serde_json::Value) -> Metadata {
        v.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect()
    }

    #[test]
    fn sse_s3_parse_metadata_vectors() {
        let v = vectors();
        let cases = v["from_tests"]["sse_s3_parse_metadata"]["cases"]
            .as_array()
            .unwrap();
        assert!(cases.len() >= 8);
        for case in cases {
            let got = parse_kms_metadata(&to_meta(&case["metadata"]), SseKind::S3);
            if let Some(err) = case.get("error") {
                assert_eq!(
                    got.unwrap_err().to_string(),
                    err.as_str().unwrap(),
                    "{}",
                    case["id"]
                );
            } else {
                let ok = &case["ok"];
                let got = got.unwrap();
                assert_eq!(got.key_id, ok["key_id"].as_str().unwrap());
                assert_eq!(
                    hex::encode(&got.kms_key),
                    ok["kms_key_hex"].as_str().unwrap()
                );
                assert_eq!(
                    got.sealed_key.algorithm.as_str(),
                    ok["algorithm"].as_str().unwrap()
                );
                assert_eq!(
                    hex::encode(got.sealed_key.iv),
                    ok["iv_hex"].as_str().unwrap()
                );
                assert_eq!(
                    hex::encode(got.sealed_key.key),
                    ok["sealed_key_hex"].as_str().unwrap()
                );
            }
        }
    }

    #[test]
    fn sse_c_parse_metadata_vectors() {
        let v = vectors();
        for case in v["from_tests"]["sse_c_parse_metadata"]["cases"]
            .as_array()
            .unwrap()
        {
            let got = parse_ssec_metadata(&to_meta(&case["metadata"]));
            if let Some(err) = case.get("error") {
                assert_eq!(
                    got.unwrap_err().to_string(),
                    err.as_str().unwrap(),
                    "{}",
                    case["id"]
                );
            } else {
                let ok = &case["ok"];
                let got = got.unwrap();
                assert_eq!(got.algorithm.as_str(), ok["algorithm"].as_str().unwrap());
                assert_eq!(hex::encode(got.iv), ok["iv_hex"].as_str().unwrap());
                assert_eq!(hex::encode(got.key), ok["sealed_key_hex"].as_str().unwrap());
            }
        }
    }

    #[test]
    fn kms_metadata_errors() {
        let v = vectors();
        let mut meta = to_meta(&v["derived"]["sse_kms"]["metadata"]);
        assert!(parse_kms_metadata(&meta, SseKind::Kms).is_ok());
        // SSE-S3 parsing of an SSE-KMS object finds no S3 sealed key.
        assert_eq!(
            parse_kms_metadata(&meta, SseKind::S3)
                .unwrap_err()
                .to_string(),
            "The object metadata is missing the internal sealed key for SSE-S3"
        );
        meta.insert(META_CONTEXT.into(), "!!".into());
        assert_eq!(
            parse_kms_metadata(&meta, SseKind::Kms).unwrap_err(),
            CryptoError::InvalidContextEncoding
        );
        meta.insert(META_CONTEXT.into(), b64_encode(b"[1]"));
        assert!(matches!(
            parse_kms_metadata(&meta, SseKind::Kms).unwrap_err(),
            CryptoError::InvalidContext(_)
        ));
        meta.insert(META_CONTEXT.into(), b64_encode(b"null"));
        assert_eq!(
            parse_kms_metadata(&meta, SseKind::Kms).unwrap().context,
            None
        );
        meta.insert(META_SEALED_KEY_KMS.into(), "AAAA".into());
        assert_eq!(
            parse_kms_metadata(&meta, SseKind::Kms)
                .unwrap_err()
                .to_string(),
            "The internal sealed key for SSE-KMS is invalid"
        );
        meta.remove(META_SEALED_KEY_KMS);
        assert_eq!(
            parse_kms_metadata(&meta, SseKind::Kms)
                .unwrap_err()
                .to_string(),
            "The object metadata is missing the internal sealed key for SSE-S3"
        );
    }

    #[test]
    fn classification_and_removal() {
        let v = vectors();
        for (name, kind) in [
            ("sse_s3", SseKind::S3),
            ("sse_kms", SseKind::Kms),
            ("sse_c", SseKind::C),
        ] {
            let mut meta = to_meta(&v["derived"][name]["metadata"]);
            meta.insert("X-Amz-Meta-User".into(), "x".into());
            assert_eq!(encryption_of(&meta), Encryption::Sse(kind));
            remove_internal_entries(&mut meta);
            assert_eq!(meta.len(), 1);
            assert_eq!(encryption_of(&meta), Encryption::None);
        }
        let mut meta = Metadata::new();
        meta.insert(META_MULTIPART.into(), String::new());
        assert_eq!(encryption_of(&meta), Encryption::Unknown);
        meta.insert(META_CONTEXT.into(), String::new());
        remove_internal_entries(&mut meta);
        assert!(meta.is_empty());
    }
}
